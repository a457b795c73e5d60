//! Script bytes to assembly text that [`super::assemble`] reads back to the same bytes, for
//! any byte string: non-minimal pushes and truncated pushes come out as raw `0x…` bytes.

use medchain_vm::Opcode;
use medchain_vm::interpreter::is_minimal_push;
use medchain_vm::num::{decode_num, encode_num};
use medchain_vm::script::instructions;

/// Disassembles `bytes`. Minimal pushes read as numbers (up to 4 bytes) or `<hex>`, named
/// opcodes by their bare names, everything else as raw hex.
pub fn disassemble(bytes: &[u8]) -> String {
    let mut words: Vec<String> = Vec::new();
    for instruction in instructions(bytes) {
        let instruction = match instruction {
            Ok(instruction) => instruction,
            Err(truncated) => {
                words.push(raw(bytes.get(truncated.offset..).unwrap_or_default()));
                break;
            }
        };
        let opcode = instruction.opcode;
        let data = bytes.get(instruction.data.clone()).unwrap_or_default();
        if opcode.0 <= Opcode::PUSHDATA4.0 {
            if opcode == Opcode::OP_0 {
                words.push("0".into());
            } else if is_minimal_push(opcode, data) {
                words.push(minimal_push_word(data));
            } else {
                words.push(raw(bytes.get(instruction.offset..instruction.data.start).unwrap_or_default()));
                if !data.is_empty() {
                    words.push(raw(data));
                }
            }
        } else if let Some(n) = opcode.small_number() {
            words.push(n.to_string());
        } else if let Some(name) = opcode.name() {
            words.push(name.into());
        } else {
            words.push(raw(&[opcode.0]));
        }
    }
    words.join(" ")
}

/// One instruction per line: byte offset, raw bytes in hex, and the instruction as
/// [`disassemble`] writes it. A truncated push is marked as such.
pub fn listing(bytes: &[u8]) -> String {
    let mut out = String::new();
    for instruction in instructions(bytes) {
        let (offset, end, note) = match instruction {
            Ok(i) => (i.offset, i.end(), ""),
            Err(truncated) => (truncated.offset, bytes.len(), "  ; truncated push"),
        };
        let raw = bytes.get(offset..end).unwrap_or_default();
        let text = disassemble(raw);
        let hex = hex::encode(raw);
        let hex = if hex.len() > 24 { format!("{}…", &hex[..22]) } else { hex };
        out.push_str(&format!("{offset:04}  {hex:<24}  {text}{note}\n"));
    }
    out
}

/// A minimal data push: a decimal number when the data is a minimally encoded number of at
/// most 4 bytes (it assembles back to the same push), otherwise `<hex>`.
fn minimal_push_word(data: &[u8]) -> String {
    match decode_num(data, true, 4) {
        Ok(n) if encode_num(n) == data => n.to_string(),
        _ => format!("<{}>", hex::encode(data)),
    }
}

fn raw(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::super::assemble;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_standard_forms() {
        let script =
            assemble("DUP HASH160 <0011223344556677889900112233445566778899> EQUALVERIFY CHECKSIG").unwrap();
        assert_eq!(
            disassemble(&script),
            "DUP HASH160 <0011223344556677889900112233445566778899> EQUALVERIFY CHECKSIG"
        );
        assert_eq!(disassemble(&[0x03, 0x40, 0xe2, 0x01, 0xb1, 0x75]), "123456 CHECKLOCKTIMEVERIFY DROP");
        assert_eq!(disassemble(&[0x00, 0x4f, 0x51, 0x60, 0xba]), "0 -1 1 16 0xba");
    }

    #[test]
    fn keeps_non_minimal_and_truncated_pushes_raw() {
        assert_eq!(disassemble(&[0x01, 0x05]), "0x01 0x05");
        assert_eq!(disassemble(&[0x4c, 0x00]), "0x4c00");
        assert_eq!(disassemble(&[0x4d, 0x01, 0x00, 0xaa]), "0x4d0100 0xaa");
        assert_eq!(disassemble(&[0x51, 0x4c]), "1 0x4c");
        assert_eq!(disassemble(&[0x05, 0x01, 0x02]), "0x050102");
        assert_eq!(disassemble(&[0x02, 0x01, 0x00]), "<0100>");
    }

    /// Scripts built from real instructions, so pushes and opcodes are well represented.
    fn structured_script() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            any::<u8>().prop_map(|op| vec![op]),
            prop::collection::vec(any::<u8>(), 0..80).prop_map(|d| {
                let mut v = vec![d.len() as u8];
                v.extend(d);
                v
            }),
            prop::collection::vec(any::<u8>(), 0..300).prop_map(|d| medchain_vm::script::push_bytes(&d)),
            prop::collection::vec(any::<u8>(), 0..6).prop_map(|d| super::super::assemble::minimal_push(&d)),
            (-(1i64 << 33)..(1i64 << 33)).prop_map(|n| medchain_vm::script::push_bytes(&encode_num(n))),
        ];
        prop::collection::vec(piece, 0..20).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn assemble_inverts_disassemble_for_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(assemble(&disassemble(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn assemble_inverts_disassemble_for_structured_scripts(bytes in structured_script()) {
            prop_assert_eq!(assemble(&disassemble(&bytes)).unwrap(), bytes);
        }
    }
}
