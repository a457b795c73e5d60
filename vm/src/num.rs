//! Script numbers: little-endian sign-magnitude integers with Bitcoin's minimal-encoding rules.

use thiserror::Error;

/// Why a stack item could not be read as a number. Bitcoin Core reports both as `UNKNOWN_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum NumError {
    /// The item is longer than the operand may be.
    #[error("number is {len} bytes, at most {max} allowed")]
    Overflow {
        /// Length of the item.
        len: usize,
        /// Longest allowed operand.
        max: usize,
    },
    /// MINIMALDATA is set and the item has a needless trailing byte (or is negative zero).
    #[error("number is not minimally encoded")]
    NonMinimal,
}

/// Reads a stack item as a number of at most `max_len` bytes; with `require_minimal`, rejects
/// non-minimal encodings as MINIMALDATA demands.
pub fn decode_num(bytes: &[u8], require_minimal: bool, max_len: usize) -> Result<i64, NumError> {
    if bytes.len() > max_len {
        return Err(NumError::Overflow { len: bytes.len(), max: max_len });
    }
    let Some((&last, rest)) = bytes.split_last() else {
        return Ok(0);
    };
    if require_minimal && last & 0x7f == 0 {
        // The top byte carries only the sign: allowed only when the byte below needs its top bit.
        match rest.last() {
            Some(&below) if below & 0x80 != 0 => {}
            _ => return Err(NumError::NonMinimal),
        }
    }
    let mut magnitude: i64 = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let byte = if i + 1 == bytes.len() { byte & 0x7f } else { byte };
        magnitude |= i64::from(byte) << (8 * i);
    }
    Ok(if last & 0x80 != 0 { -magnitude } else { magnitude })
}

/// Encodes a number in its minimal script form (zero is the empty vector).
pub fn encode_num(value: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    let negative = value < 0;
    let mut magnitude = value.unsigned_abs();
    while magnitude != 0 {
        out.push((magnitude & 0xff) as u8);
        magnitude >>= 8;
    }
    match out.last_mut() {
        None => {}
        Some(top) if *top & 0x80 != 0 => out.push(if negative { 0x80 } else { 0x00 }),
        Some(top) if negative => *top |= 0x80,
        Some(_) => {}
    }
    out
}

/// Whether a stack item counts as true: any non-zero byte, except a lone sign bit at the end.
pub fn cast_to_bool(bytes: &[u8]) -> bool {
    match bytes.split_last() {
        None => false,
        Some((&last, rest)) => rest.iter().any(|&b| b != 0) || (last != 0 && last != 0x80),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_edges_minimally() {
        assert_eq!(encode_num(0), Vec::<u8>::new());
        assert_eq!(encode_num(-1), vec![0x81]);
        assert_eq!(encode_num(127), vec![0x7f]);
        assert_eq!(encode_num(128), vec![0x80, 0x00]);
        assert_eq!(encode_num(-128), vec![0x80, 0x80]);
        assert_eq!(encode_num(255), vec![0xff, 0x00]);
        assert_eq!(encode_num(2_147_483_648), vec![0, 0, 0, 0x80, 0]);
        assert_eq!(encode_num(i64::MIN + 1).len(), 8);
    }

    #[test]
    fn decodes_and_checks_minimality() {
        assert_eq!(decode_num(&[0x80, 0x80], true, 4), Ok(-128));
        assert_eq!(decode_num(&[0xff, 0x00], true, 4), Ok(255));
        assert_eq!(decode_num(&[0x80], true, 4), Err(NumError::NonMinimal));
        assert_eq!(decode_num(&[0x00], true, 4), Err(NumError::NonMinimal));
        assert_eq!(decode_num(&[0x01, 0x00], true, 4), Err(NumError::NonMinimal));
        assert_eq!(decode_num(&[0x01, 0x00], false, 4), Ok(1));
        assert_eq!(decode_num(&[0x80], false, 4), Ok(0));
        assert_eq!(decode_num(&[1, 2, 3, 4, 5], false, 4), Err(NumError::Overflow { len: 5, max: 4 }));
        assert_eq!(decode_num(&[0xff, 0xff, 0xff, 0xff, 0x80], false, 5), Ok(-0xffff_ffff));
    }

    #[test]
    fn booleans_follow_negative_zero_rule() {
        assert!(!cast_to_bool(&[]));
        assert!(!cast_to_bool(&[0, 0, 0x80]));
        assert!(cast_to_bool(&[0, 0x80, 0]));
        assert!(cast_to_bool(&[0x80, 0]));
        assert!(cast_to_bool(&[1]));
    }

    proptest::proptest! {
        #[test]
        fn round_trips_every_i64_in_range(value in -(1i64 << 39)..(1i64 << 39)) {
            let bytes = encode_num(value);
            proptest::prop_assert_eq!(decode_num(&bytes, true, 8), Ok(value));
        }
    }
}
