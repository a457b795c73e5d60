//! The legacy (pre-segwit) signature hash, Bitcoin Core's `SignatureHash` for `SigVersion::BASE`.

use sha2::{Digest, Sha256};

use super::transaction::{Transaction, write_compact_size};
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

    let mut buf = Vec::with_capacity(128 + script_code.len() + 48 * tx.inputs.len() + 40 * tx.outputs.len());
    buf.extend_from_slice(&tx.version.to_le_bytes());
    let signed_inputs: Vec<usize> =
        if anyone_can_pay { vec![input_index] } else { (0..tx.inputs.len()).collect() };
    write_compact_size(&mut buf, signed_inputs.len() as u64);
    for (i, input) in signed_inputs.iter().filter_map(|&i| tx.inputs.get(i).map(|input| (i, input))) {
        buf.extend_from_slice(&input.prevout.txid);
        buf.extend_from_slice(&input.prevout.vout.to_le_bytes());
        if i == input_index {
            write_script_code(&mut buf, script_code);
        } else {
            buf.push(0);
        }
        let sequence = if i != input_index && (none || single) { 0 } else { input.sequence };
        buf.extend_from_slice(&sequence.to_le_bytes());
    }
    let output_count = if none {
        0
    } else if single {
        input_index + 1
    } else {
        tx.outputs.len()
    };
    write_compact_size(&mut buf, output_count as u64);
    for (i, output) in tx.outputs.iter().take(output_count).enumerate() {
        if single && i != input_index {
            buf.extend_from_slice(&(-1i64).to_le_bytes());
            buf.push(0);
        } else {
            buf.extend_from_slice(&output.value.to_le_bytes());
            write_compact_size(&mut buf, output.script_pubkey.len() as u64);
            buf.extend_from_slice(&output.script_pubkey);
        }
    }
    buf.extend_from_slice(&tx.lock_time.to_le_bytes());
    buf.extend_from_slice(&hash_type.to_le_bytes());
    Sha256::digest(Sha256::digest(&buf)).into()
}

/// Writes the script code without its CODESEPARATORs, exactly as Core's serializer does:
/// the length prefix counts every byte but the separators, and the bytes written stop where
/// Core's script reader stops on a truncated push.
fn write_script_code(buf: &mut Vec<u8>, script: &[u8]) {
    let mut separators = Vec::new();
    let mut reader_stop = script.len();
    for instruction in instructions(script) {
        match instruction {
            Ok(i) if i.opcode == Opcode::CODESEPARATOR => separators.push(i.offset),
            Ok(_) => {}
            Err(truncated) => reader_stop = truncated.stop,
        }
    }
    write_compact_size(buf, (script.len() - separators.len()) as u64);
    let mut from = 0;
    for offset in separators {
        buf.extend_from_slice(script.get(from..offset).unwrap_or_default());
        from = offset + 1;
    }
    if from != script.len() {
        buf.extend_from_slice(script.get(from..reader_stop).unwrap_or_default());
    }
}
