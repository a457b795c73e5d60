//! `tx_valid.json` and `tx_invalid.json`: each legacy transaction gets the right verdict, and
//! the flags of each row are as tight as Core's harness demands (soft-fork property).

use std::path::Path;

use medchain_tests::{TxTest, read_rows, tx_tests};
use medchain_vm::bitcoin::TransactionChecker;
use medchain_vm::{Flags, verify_script};

use crate::Tally;

/// Whether every input of the transaction verifies under `flags` (Core's `CheckTxScripts`);
/// an input whose spent output the test does not list fails.
fn scripts_pass(test: &TxTest, flags: Flags) -> bool {
    test.tx.inputs.iter().enumerate().all(|(index, input)| {
        let Some(prevout) = test.prevout(&input.prevout) else {
            return false;
        };
        let Ok(checker) = TransactionChecker::new(&test.tx, index) else {
            return false;
        };
        verify_script(&input.script_sig, &prevout.script_pubkey, flags, &checker).is_ok()
    })
}

/// Each supported flag on its own.
fn single_flags() -> impl Iterator<Item = Flags> {
    Flags::ALL_BITCOIN.iter()
}

pub fn run_valid(dir: &Path) -> Result<Tally, String> {
    let rows = read_rows(dir, "tx_valid.json")?;
    let (tests, set_aside) = tx_tests(&rows)?;
    let mut failures = Vec::new();
    for test in &tests {
        let excluded = Flags::parse(&test.flags_text).map_err(|e| format!("row {}: {e}", test.row))?;
        let flags = Flags::ALL_BITCOIN.difference(excluded);
        let fail = |why: String| format!("row {} [excluded {}]: {why}", test.row, test.flags_text);
        if let Err(e) = test.tx.check() {
            failures.push(fail(format!("CheckTransaction failed: {e}")));
        } else if !scripts_pass(test, flags) {
            failures.push(fail("scripts fail".into()));
        } else if let Some(flag) = single_flags().find(|&f| !scripts_pass(test, flags.difference(f))) {
            failures.push(fail(format!("removing {flag} makes it invalid")));
        } else if let Some(flag) =
            single_flags().filter(|&f| excluded.contains(f)).find(|&f| scripts_pass(test, flags.union(f)))
        {
            failures.push(fail(format!("re-enabling excluded {flag} keeps it valid")));
        }
    }
    Ok(Tally { file: "tx_valid.json", ran: tests.len(), set_aside, failures })
}

pub fn run_invalid(dir: &Path) -> Result<Tally, String> {
    let rows = read_rows(dir, "tx_invalid.json")?;
    let (tests, set_aside) = tx_tests(&rows)?;
    let mut failures = Vec::new();
    for test in &tests {
        let fail = |why: String| format!("row {} [{}]: {why}", test.row, test.flags_text);
        if test.flags_text == "BADTX" {
            if test.tx.check().is_ok() {
                failures.push(fail("CheckTransaction passed".into()));
            }
            continue;
        }
        if let Err(e) = test.tx.check() {
            failures.push(fail(format!("CheckTransaction failed: {e}")));
            continue;
        }
        let flags = Flags::parse(&test.flags_text).map_err(|e| format!("row {}: {e}", test.row))?;
        if scripts_pass(test, flags) {
            failures.push(fail("scripts pass".into()));
        } else if let Some(flag) = single_flags().find(|&f| scripts_pass(test, flags.union(f))) {
            failures.push(fail(format!("adding {flag} makes it valid")));
        } else if let Some(flag) =
            single_flags().filter(|&f| flags.contains(f)).find(|&f| !scripts_pass(test, flags.difference(f)))
        {
            failures.push(fail(format!("removing {flag} keeps it invalid")));
        }
    }
    Ok(Tally { file: "tx_invalid.json", ran: tests.len(), set_aside, failures })
}
