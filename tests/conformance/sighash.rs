//! `sighash.json`: every legacy signature digest must match.

use std::path::Path;

use medchain_tests::read_rows;
use medchain_vm::bitcoin::{Transaction, legacy_sighash};
use serde_json::Value;

use crate::Tally;

pub fn run(dir: &Path) -> Result<Tally, String> {
    let rows = read_rows(dir, "sighash.json")?;
    let mut failures = Vec::new();
    let mut ran = 0;
    for (row, value) in rows.iter().enumerate() {
        let Some(items) = value.as_array().filter(|items| items.len() == 5) else {
            continue;
        };
        let bad = |what: &str| format!("sighash.json row {row}: {what}");
        let text = |i: usize| items.get(i).and_then(Value::as_str).ok_or_else(|| bad("expected a string"));
        let number = |i: usize| items.get(i).and_then(Value::as_i64).ok_or_else(|| bad("expected a number"));
        let tx = hex::decode(text(0)?).map_err(|e| bad(&e.to_string()))?;
        let tx = Transaction::decode(&tx).map_err(|e| bad(&e.to_string()))?;
        let script_code = hex::decode(text(1)?).map_err(|e| bad(&e.to_string()))?;
        let input = usize::try_from(number(2)?).map_err(|e| bad(&e.to_string()))?;
        let hash_type = i32::try_from(number(3)?).map_err(|e| bad(&e.to_string()))?;
        let mut digest = legacy_sighash(&tx, input, &script_code, hash_type);
        digest.reverse();
        ran += 1;
        if hex::encode(digest) != text(4)? {
            failures.push(format!("row {row}: expected {} got {}", text(4)?, hex::encode(digest)));
        }
    }
    Ok(Tally { file: "sighash.json", ran, set_aside: 0, failures })
}
