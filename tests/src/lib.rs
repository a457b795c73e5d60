//! Bitcoin Core's test vectors, located and parsed for MedChain's conformance suite and
//! benchmarks. Rows that need witness or taproot (out of scope for the VM) are set aside.

use std::path::PathBuf;

use medchain_compiler::assemble;
use medchain_vm::Flags;
use medchain_vm::bitcoin::{OutPoint, Transaction};
use medchain_vm::script::is_witness_program;
use serde_json::Value;

/// The environment variable that overrides where Core's vectors are read from.
pub const VECTORS_ENV: &str = "MEDCHAIN_BITCOIN_VECTORS";

/// The vector files the suites read.
pub const VECTOR_FILES: [&str; 4] = ["script_tests.json", "tx_valid.json", "tx_invalid.json", "sighash.json"];

/// The copy of Core's vectors vendored in this repository (`tests/vectors/bitcoin/`).
pub fn vendored_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors").join("bitcoin")
}

/// Where the vectors are: the folder [`VECTORS_ENV`] names when it is set, else the vendored
/// copy. A folder without every file of [`VECTOR_FILES`] is an error, never a skip.
pub fn vectors_dir() -> Result<PathBuf, String> {
    let (dir, origin) = match std::env::var_os(VECTORS_ENV) {
        Some(dir) => (PathBuf::from(dir), VECTORS_ENV),
        None => (vendored_dir(), "the vendored copy"),
    };
    for file in VECTOR_FILES {
        if !dir.join(file).is_file() {
            return Err(format!("{file} is missing from {} ({origin})", dir.display()));
        }
    }
    Ok(dir)
}

/// Reads one vector file as a JSON array of rows.
pub fn read_rows(dir: &std::path::Path, file: &str) -> Result<Vec<Value>, String> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(Value::Array(rows)) => Ok(rows),
        Ok(_) => Err(format!("{} is not a JSON array", path.display())),
        Err(e) => Err(format!("{} is not JSON: {e}", path.display())),
    }
}

/// Whether a flag string names a witness or taproot flag (Core's names; unknown names are not).
pub fn has_witness_flag(flags: &str) -> bool {
    matches!(Flags::parse(flags), Err(medchain_vm::FlagsError::Unsupported(_)))
}

/// One legacy row of `script_tests.json`.
#[derive(Debug, Clone)]
pub struct ScriptTest {
    /// Position in the file (0-based row index).
    pub row: usize,
    /// The unlocking script.
    pub script_sig: Vec<u8>,
    /// The locking script.
    pub script_pubkey: Vec<u8>,
    /// The flags, as written.
    pub flags_text: String,
    /// The flags.
    pub flags: Flags,
    /// `OK` or Core's error name.
    pub expected: String,
    /// The row's comment, if any.
    pub comment: String,
}

/// The rows of `script_tests.json`: the legacy tests, and how many rows were set aside as
/// witness or taproot tests.
pub fn script_tests(rows: &[Value]) -> Result<(Vec<ScriptTest>, usize), String> {
    let mut tests = Vec::new();
    let mut set_aside = 0;
    for (row, value) in rows.iter().enumerate() {
        let Some(items) = value.as_array().filter(|items| items.len() > 1) else {
            continue;
        };
        if items.first().is_some_and(Value::is_array) {
            set_aside += 1;
            continue;
        }
        let text = |i: usize| {
            items.get(i).and_then(Value::as_str).ok_or(format!("row {row}: field {i} is not a string"))
        };
        let flags_text = text(2)?.to_owned();
        if has_witness_flag(&flags_text) {
            set_aside += 1;
            continue;
        }
        let asm = |i: usize| -> Result<Vec<u8>, String> {
            assemble(text(i)?).map_err(|e| format!("row {row}: cannot assemble {:?}: {e}", text(i)))
        };
        tests.push(ScriptTest {
            row,
            script_sig: asm(0)?,
            script_pubkey: asm(1)?,
            flags: Flags::parse(&flags_text).map_err(|e| format!("row {row}: {e}"))?,
            flags_text,
            expected: text(3)?.to_owned(),
            comment: items.get(4).and_then(Value::as_str).unwrap_or_default().to_owned(),
        });
    }
    Ok((tests, set_aside))
}

/// A spent output named by a transaction test.
#[derive(Debug, Clone)]
pub struct Prevout {
    /// Which output.
    pub outpoint: OutPoint,
    /// Its locking script.
    pub script_pubkey: Vec<u8>,
    /// Its value in satoshis.
    pub amount: i64,
}

/// One legacy row of `tx_valid.json` or `tx_invalid.json`.
#[derive(Debug, Clone)]
pub struct TxTest {
    /// Position in the file.
    pub row: usize,
    /// The outputs the transaction spends.
    pub prevouts: Vec<Prevout>,
    /// The transaction.
    pub tx: Transaction,
    /// The flag names, as written (excluded flags in tx_valid, enabled in tx_invalid).
    pub flags_text: String,
}

impl TxTest {
    /// The spent output an input names, if the test lists it.
    pub fn prevout(&self, outpoint: &OutPoint) -> Option<&Prevout> {
        self.prevouts.iter().find(|p| &p.outpoint == outpoint)
    }
}

/// The rows of a transaction vector file: the legacy tests, and how many were set aside
/// (witness serialization, witness flags or witness programs).
pub fn tx_tests(rows: &[Value]) -> Result<(Vec<TxTest>, usize), String> {
    let mut tests = Vec::new();
    let mut set_aside = 0;
    for (row, value) in rows.iter().enumerate() {
        let Some(items) = value.as_array().filter(|items| items.first().is_some_and(Value::is_array)) else {
            continue;
        };
        let bad = |what: &str| format!("row {row}: {what}");
        let tx_hex = items.get(1).and_then(Value::as_str).ok_or_else(|| bad("no transaction hex"))?;
        let flags_text = items.get(2).and_then(Value::as_str).ok_or_else(|| bad("no flags"))?.to_owned();
        let tx_bytes = hex::decode(tx_hex).map_err(|e| bad(&format!("bad hex: {e}")))?;
        let tx = match Transaction::decode(&tx_bytes) {
            Ok(tx) => tx,
            Err(medchain_vm::bitcoin::DecodeError::WitnessSerialization) => {
                set_aside += 1;
                continue;
            }
            Err(e) => return Err(bad(&format!("cannot decode transaction: {e}"))),
        };
        let mut prevouts = Vec::new();
        for prevout in items.first().and_then(Value::as_array).into_iter().flatten() {
            let fields = prevout.as_array().ok_or_else(|| bad("prevout is not an array"))?;
            let txid_hex = fields.first().and_then(Value::as_str).ok_or_else(|| bad("prevout txid"))?;
            let mut txid: [u8; 32] = hex::decode(txid_hex)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad("prevout txid is not 32 bytes of hex"))?;
            txid.reverse();
            let index = fields.get(1).and_then(Value::as_i64).ok_or_else(|| bad("prevout index"))?;
            let asm = fields.get(2).and_then(Value::as_str).ok_or_else(|| bad("prevout script"))?;
            let script_pubkey = assemble(asm).map_err(|e| bad(&format!("prevout script: {e}")))?;
            let amount = fields.get(3).and_then(Value::as_i64).unwrap_or(0);
            let vout = if index == -1 {
                u32::MAX
            } else {
                u32::try_from(index).map_err(|_| bad("prevout index"))?
            };
            prevouts.push(Prevout { outpoint: OutPoint { txid, vout }, script_pubkey, amount });
        }
        let witness_program = prevouts.iter().any(|p| is_witness_program(&p.script_pubkey));
        if has_witness_flag(&flags_text.replace("BADTX", "")) || witness_program {
            set_aside += 1;
            continue;
        }
        tests.push(TxTest { row, prevouts, tx, flags_text });
    }
    Ok((tests, set_aside))
}
