//! Assembly text to script bytes, exactly as Bitcoin Core's `ParseScript` reads its vectors.

use medchain_vm::Opcode;
use medchain_vm::interpreter::is_minimal_push;
use medchain_vm::num::encode_num;
use medchain_vm::script::push_bytes;

use super::error::{AsmError, AsmErrorKind};
use super::lexer::{Token, tokenize};

/// Largest magnitude a decimal token may have, as in Core's test assembler.
pub const MAX_DECIMAL: i64 = 0xffff_ffff;

/// Assembles `source` into script bytes.
pub fn assemble(source: &str) -> Result<Vec<u8>, AsmError> {
    let mut out = Vec::new();
    for (token, span) in tokenize(source) {
        let fail = |kind: AsmErrorKind| AsmError::new(kind, span.clone(), source);
        match token {
            Token::Number(text) => {
                let value = text
                    .parse::<i64>()
                    .ok()
                    .filter(|v| (-MAX_DECIMAL..=MAX_DECIMAL).contains(v))
                    .ok_or_else(|| fail(AsmErrorKind::NumberOutOfRange(text.to_owned())))?;
                push_number(&mut out, value);
            }
            Token::Hex(text) => {
                let digits = text.get(2..).unwrap_or_default();
                let bytes = hex::decode(digits).map_err(|_| fail(AsmErrorKind::OddHex(text.to_owned())))?;
                out.extend_from_slice(&bytes);
            }
            Token::Quoted(text) => {
                let inner = text.get(1..text.len() - 1).unwrap_or_default();
                out.extend_from_slice(&push_bytes(inner.as_bytes()));
            }
            Token::Push(text) => {
                let digits = text.get(1..text.len() - 1).unwrap_or_default();
                let bytes = hex::decode(digits).map_err(|_| fail(AsmErrorKind::OddHex(text.to_owned())))?;
                out.extend_from_slice(&minimal_push(&bytes));
            }
            Token::Word(word) => {
                let opcode = Opcode::from_name(word)
                    .ok_or_else(|| fail(AsmErrorKind::UnknownOpcode(word.to_owned())))?;
                out.push(opcode.0);
            }
        }
    }
    Ok(out)
}

/// Pushes a number the way Core's `CScript << int64` does: OP_0, OP_1NEGATE, OP_1..OP_16,
/// or the minimal script-number bytes with the shortest prefix.
pub(crate) fn push_number(out: &mut Vec<u8>, value: i64) {
    match value {
        0 => out.push(Opcode::OP_0.0),
        -1 => out.push(Opcode::OP_1NEGATE.0),
        1..=16 => out.push(Opcode::OP_1.0 + value as u8 - 1),
        _ => out.extend_from_slice(&push_bytes(&encode_num(value))),
    }
}

/// The push MINIMALDATA accepts for `data`: OP_0, OP_1NEGATE and OP_1..OP_16 where they
/// apply, otherwise the shortest length prefix.
pub fn minimal_push(data: &[u8]) -> Vec<u8> {
    match data {
        [] => vec![Opcode::OP_0.0],
        [n @ 1..=16] => vec![Opcode::OP_1.0 + n - 1],
        [0x81] => vec![Opcode::OP_1NEGATE.0],
        _ => {
            let bytes = push_bytes(data);
            debug_assert!(bytes.first().is_some_and(|&op| is_minimal_push(Opcode(op), data)));
            bytes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(source: &str) -> String {
        hex::encode(assemble(source).unwrap())
    }

    #[test]
    fn follows_core_number_rules() {
        assert_eq!(hex("0 -1 1 16 17 -2 128"), "004f516001110182028000");
        assert_eq!(hex("2147483648"), "050000008000");
        assert_eq!(hex("-0"), "00");
        assert_eq!(hex("4294967295 -4294967295"), "05ffffffff0005ffffffff80");
    }

    #[test]
    fn inserts_hex_raw_and_pushes_text() {
        assert_eq!(hex("0x4c 0x01 0x07"), "4c0107");
        assert_eq!(hex("'' 'a' 0xFF7F"), "000161ff7f");
        assert_eq!(hex("DUP OP_HASH160 NOP10 RESERVED"), "76a9b950");
    }

    #[test]
    fn minimal_pushes() {
        assert_eq!(hex("<> <05> <81> <80> <0102>"), "00554f0180020102");
        assert_eq!(hex(&format!("<{}>", "ab".repeat(76)))[..4], *"4c4c");
    }

    #[test]
    fn errors_point_at_the_token() {
        let error = assemble("DUP\n  FOO").unwrap_err();
        assert_eq!(error.kind, AsmErrorKind::UnknownOpcode("FOO".into()));
        assert_eq!((error.span.clone(), error.line, error.column), (6..9, 2, 3));
        assert_eq!(error.to_string(), "unknown opcode `FOO` at line 2, column 3");
        assert!(matches!(assemble("4294967296").unwrap_err().kind, AsmErrorKind::NumberOutOfRange(_)));
        assert!(matches!(
            assemble("99999999999999999999").unwrap_err().kind,
            AsmErrorKind::NumberOutOfRange(_)
        ));
        assert!(matches!(assemble("0xabc").unwrap_err().kind, AsmErrorKind::OddHex(_)));
        assert!(matches!(assemble("<abc>").unwrap_err().kind, AsmErrorKind::OddHex(_)));
        for name in ["OP_0", "TRUE", "FALSE", "NOP2", "PUSHDATA1", "CHECKSIGADD", "OP_1NEGATE", "0X01"] {
            assert!(assemble(name).is_err(), "{name} must not assemble");
        }
    }
}
