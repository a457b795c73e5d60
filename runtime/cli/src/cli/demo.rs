//! `medchain demo`: play the lecture's story against a dev node over HTTP.

use std::process::ExitCode;

use miette::miette;

pub fn run() -> miette::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| miette!("cannot start the runtime: {e}"))?;
    match runtime.block_on(crate::demo::run()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(message) => {
            eprintln!("\nthe demo did not go as the story says: {message}");
            Ok(ExitCode::from(1))
        }
    }
}
