//! The legacy (pre-segwit) signature hash, Bitcoin Core's `SignatureHash` for `SigVersion::BASE`.

use sha2::{Digest, Sha256};

use super::transaction::{Sink, Transaction, write_compact_size};
use crate::opcode::Opcode;
use crate::script::instructions;
use crate::signature::{SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE};

/// The digest returned, unhashed, when SIGHASH_SINGLE has no matching output (or the input
/// index is out of range): the number one, little-endian.
pub const SIGHASH_ONE: [u8; 32] = {
    let mut one = [0u8; 32];
    one[0] = 1;
    one
};

/// The legacy signature digest of input `input_index` of `tx`, committing to `script_code`
/// (with its CODESEPARATORs removed) under the 32-bit `hash_type`. Internal byte order.
pub fn legacy_sighash(tx: &Transaction, input_index: usize, script_code: &[u8], hash_type: i32) -> [u8; 32] {
    let base = (hash_type & 0x1f) as u8;
    let anyone_can_pay = hash_type & i32::from(SIGHASH_ANYONECANPAY) != 0;
    let (none, single) = (base == SIGHASH_NONE, base == SIGHASH_SINGLE);
    if input_index >= tx.inputs.len() || (single && input_index >= tx.outputs.len()) {
        return SIGHASH_ONE;
    }

    let mut hasher = Sha256::new();
    hasher.put(&tx.version.to_le_bytes());
    let signed_inputs: Vec<usize> =
        if anyone_can_pay { vec![input_index] } else { (0..tx.inputs.len()).collect() };
    write_compact_size(&mut hasher, signed_inputs.len() as u64);
    for (i, input) in signed_inputs.iter().filter_map(|&i| tx.inputs.get(i).map(|input| (i, input))) {
        hasher.put(&input.prevout.txid);
        hasher.put(&input.prevout.vout.to_le_bytes());
        if i == input_index {
            write_script_code(&mut hasher, script_code);
        } else {
            hasher.put(&[0]);
        }
        let sequence = if i != input_index && (none || single) { 0 } else { input.sequence };
        hasher.put(&sequence.to_le_bytes());
    }
    let output_count = if none {
        0
    } else if single {
        input_index + 1
    } else {
        tx.outputs.len()
    };
    write_compact_size(&mut hasher, output_count as u64);
    for (i, output) in tx.outputs.iter().take(output_count).enumerate() {
        if single && i != input_index {
            hasher.put(&(-1i64).to_le_bytes());
            hasher.put(&[0]);
        } else {
            hasher.put(&output.value.to_le_bytes());
            write_compact_size(&mut hasher, output.script_pubkey.len() as u64);
            hasher.put(&output.script_pubkey);
        }
    }
    hasher.put(&tx.lock_time.to_le_bytes());
    hasher.put(&hash_type.to_le_bytes());
    Sha256::digest(hasher.finalize()).into()
}

/// Writes the script code without its CODESEPARATORs, exactly as Core's serializer does:
/// the length prefix counts every byte but the separators, and the bytes written stop where
/// Core's script reader stops on a truncated push.
fn write_script_code(out: &mut impl Sink, script: &[u8]) {
    let mut separators = Vec::new();
    let mut reader_stop = script.len();
    for instruction in instructions(script) {
        match instruction {
            Ok(i) if i.opcode == Opcode::CODESEPARATOR => separators.push(i.offset),
            Ok(_) => {}
            Err(truncated) => reader_stop = truncated.stop,
        }
    }
    write_compact_size(out, (script.len() - separators.len()) as u64);
    let mut from = 0;
    for offset in separators {
        out.put(script.get(from..offset).unwrap_or_default());
        from = offset + 1;
    }
    if from != script.len() {
        out.put(script.get(from..reader_stop).unwrap_or_default());
    }
}
