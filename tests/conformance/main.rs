//! Conformance with Bitcoin Core: every legacy row of its script, transaction and sighash
//! vectors, run through MedChain's VM. Prints the counts it ran; fails on any mismatch.

mod script_tests;
mod sighash;
mod tx_tests;

use std::process::ExitCode;

use medchain_tests::vectors_dir;

/// The tally of one vector file.
pub struct Tally {
    /// The file.
    pub file: &'static str,
    /// Tests run.
    pub ran: usize,
    /// Rows set aside as witness or taproot tests.
    pub set_aside: usize,
    /// One line per failed test.
    pub failures: Vec<String>,
}

fn main() -> ExitCode {
    let dir = match vectors_dir() {
        Ok(dir) => dir,
        Err(message) => {
            eprintln!("conformance: {message}");
            return ExitCode::FAILURE;
        }
    };
    println!("conformance: Bitcoin Core's vectors from {}", dir.display());
    let runs =
        [script_tests::run(&dir), tx_tests::run_valid(&dir), tx_tests::run_invalid(&dir), sighash::run(&dir)];
    let (mut passed, mut failed) = (0, 0);
    for run in runs {
        let tally = match run {
            Ok(tally) => tally,
            Err(message) => {
                eprintln!("conformance: {message}");
                return ExitCode::FAILURE;
            }
        };
        for failure in &tally.failures {
            println!("  FAIL {}: {failure}", tally.file);
        }
        let ok = tally.ran - tally.failures.len();
        println!(
            "conformance {:<16} {ok:>4}/{:<4} passed ({} rows set aside: witness/taproot)",
            tally.file, tally.ran, tally.set_aside
        );
        passed += ok;
        failed += tally.failures.len();
    }
    println!("conformance: {passed} passed, {failed} failed");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
