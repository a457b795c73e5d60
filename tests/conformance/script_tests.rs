//! `script_tests.json`: each legacy row must give exactly the expected result and error name.

use std::path::Path;

use medchain_tests::{read_rows, script_tests};
use medchain_vm::bitcoin::{TransactionChecker, crediting_transaction, spending_transaction};
use medchain_vm::verify_script;

use crate::Tally;

pub fn run(dir: &Path) -> Result<Tally, String> {
    let rows = read_rows(dir, "script_tests.json")?;
    let (tests, set_aside) = script_tests(&rows)?;
    let mut failures = Vec::new();
    for test in &tests {
        let crediting = crediting_transaction(&test.script_pubkey, 0);
        let spending = spending_transaction(&crediting, &test.script_sig, 0);
        let checker = TransactionChecker::new(&spending, 0).map_err(|e| e.to_string())?;
        let result = verify_script(&test.script_sig, &test.script_pubkey, test.flags, &checker);
        let got = result.err().map_or("OK", |e| e.name());
        if got != test.expected {
            failures.push(format!(
                "row {} [{}] expected {} got {got} ({})",
                test.row, test.flags_text, test.expected, test.comment
            ));
        }
    }
    Ok(Tally { file: "script_tests.json", ran: tests.len(), set_aside, failures })
}
