//! Scripts decoded once into instructions; the interpreter runs from this form.

use std::ops::Range;

use crate::opcode::Opcode;

/// One decoded instruction: its opcode and, for pushes, where its data lies in the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The opcode byte.
    pub opcode: Opcode,
    /// Byte offset of the opcode in the script.
    pub offset: usize,
    /// Byte range of the pushed data (empty for non-push opcodes).
    pub data: Range<usize>,
}

impl Instruction {
    /// Byte offset just past this instruction.
    pub fn end(&self) -> usize {
        if self.opcode.0 <= Opcode::PUSHDATA4.0 { self.data.end } else { self.offset + 1 }
    }
}

/// A push whose length prefix or data runs past the end of the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TruncatedPush {
    /// Byte offset of the push opcode.
    pub offset: usize,
    /// Where Bitcoin Core's script reader stops after failing on it: past the opcode and any
    /// complete length prefix. The legacy signature hash reproduces this exactly.
    pub stop: usize,
}

/// A script decoded into instructions. A truncated push ends decoding; it fails only when
/// the interpreter reaches it, as in Bitcoin Core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script<'a> {
    bytes: &'a [u8],
    instructions: Vec<Instruction>,
    truncated: Option<TruncatedPush>,
}

impl<'a> Script<'a> {
    /// Decodes `bytes`; never fails (a truncated push is recorded, see [`Script::truncated`]).
    pub fn decode(bytes: &'a [u8]) -> Script<'a> {
        let mut instructions = Vec::with_capacity(bytes.len().min(64));
        let mut reader = Reader { bytes, pos: 0 };
        let truncated = loop {
            match reader.next() {
                None => break None,
                Some(Ok(instruction)) => instructions.push(instruction),
                Some(Err(truncated)) => break Some(truncated),
            }
        };
        Script { bytes, instructions, truncated }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The decoded instructions, up to any truncated push.
    pub fn instructions(&self) -> &[Instruction] {
        &self.instructions
    }

    /// The truncated push that ends the script, if any.
    pub fn truncated(&self) -> Option<TruncatedPush> {
        self.truncated
    }

    /// The data pushed by an instruction of this script.
    pub fn data(&self, instruction: &Instruction) -> &'a [u8] {
        self.bytes.get(instruction.data.clone()).unwrap_or_default()
    }

    /// Whether every instruction is a push or OP_RESERVED..OP_16 and nothing is truncated
    /// (Bitcoin Core's `IsPushOnly`).
    pub fn is_push_only(&self) -> bool {
        self.truncated.is_none() && self.instructions.iter().all(|i| !i.opcode.counts_as_op())
    }
}

/// [`Script::is_push_only`] on raw bytes, without decoding them into a list.
pub fn is_push_only(bytes: &[u8]) -> bool {
    instructions(bytes).all(|i| i.is_ok_and(|i| !i.opcode.counts_as_op()))
}

/// Whether `bytes` is a witness program: a version opcode (OP_0, OP_1..OP_16) and one direct
/// push of 2..40 bytes (BIP 141). This VM runs such scripts as plain scripts.
pub fn is_witness_program(bytes: &[u8]) -> bool {
    match bytes {
        [version, len, program @ ..] => {
            (*version == 0 || (0x51..=0x60).contains(version))
                && usize::from(*len) == program.len()
                && (2..=40).contains(&program.len())
        }
        _ => false,
    }
}

/// Iterates over the instructions of raw script bytes, stopping at a truncated push.
pub fn instructions(bytes: &[u8]) -> impl Iterator<Item = Result<Instruction, TruncatedPush>> + '_ {
    Reader { bytes, pos: 0 }
}

/// Whether `bytes` is exactly `HASH160 <20 bytes> EQUAL` (pay-to-script-hash, BIP 16).
pub fn is_p2sh(bytes: &[u8]) -> bool {
    matches!(bytes, [0xa9, 0x14, .., 0x87] if bytes.len() == 23)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn read_le(&self, at: usize, width: usize) -> Option<usize> {
        let slice = self.bytes.get(at..at.checked_add(width)?)?;
        Some(slice.iter().rev().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Instruction, TruncatedPush>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.pos;
        let &code = self.bytes.get(offset)?;
        let opcode = Opcode(code);
        let after_op = offset + 1;
        let (len_width, direct_len) = match code {
            0x00..=0x4b => (0, usize::from(code)),
            0x4c => (1, 0),
            0x4d => (2, 0),
            0x4e => (4, 0),
            _ => {
                self.pos = after_op;
                return Some(Ok(Instruction { opcode, offset, data: after_op..after_op }));
            }
        };
        let fail = |stop: usize, reader: &mut Self| {
            reader.pos = reader.bytes.len();
            Some(Err(TruncatedPush { offset, stop }))
        };
        let (len, data_start) = if len_width == 0 {
            (direct_len, after_op)
        } else {
            match self.read_le(after_op, len_width) {
                Some(len) => (len, after_op + len_width),
                None => return fail(after_op, self),
            }
        };
        match data_start.checked_add(len) {
            Some(end) if end <= self.bytes.len() => {
                self.pos = end;
                Some(Ok(Instruction { opcode, offset, data: data_start..end }))
            }
            _ => fail(data_start, self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pushes_and_opcodes() {
        let bytes = [0x76, 0xa9, 0x02, 0xaa, 0xbb, 0x4c, 0x01, 0xcc, 0x87];
        let script = Script::decode(&bytes);
        let ops: Vec<u8> = script.instructions().iter().map(|i| i.opcode.0).collect();
        assert_eq!(ops, vec![0x76, 0xa9, 0x02, 0x4c, 0x87]);
        assert_eq!(script.data(&script.instructions()[2]), &[0xaa, 0xbb]);
        assert_eq!(script.data(&script.instructions()[3]), &[0xcc]);
        assert_eq!(script.truncated(), None);
    }

    #[test]
    fn records_where_a_truncated_push_stops() {
        assert_eq!(
            Script::decode(&[0x51, 0x02, 0xaa]).truncated(),
            Some(TruncatedPush { offset: 1, stop: 2 })
        );
        assert_eq!(Script::decode(&[0x4c]).truncated(), Some(TruncatedPush { offset: 0, stop: 1 }));
        assert_eq!(Script::decode(&[0x4d, 0x01]).truncated(), Some(TruncatedPush { offset: 0, stop: 1 }));
        assert_eq!(
            Script::decode(&[0x4d, 0x05, 0x00, 1]).truncated(),
            Some(TruncatedPush { offset: 0, stop: 3 })
        );
        assert!(!Script::decode(&[0x4c]).is_push_only());
    }

    #[test]
    fn push_only_counts_reserved_as_push() {
        assert!(Script::decode(&[0x00, 0x50, 0x60]).is_push_only());
        assert!(!Script::decode(&[0x61]).is_push_only());
        assert!(is_push_only(&[0x00, 0x50, 0x01, 0x07]));
        assert!(!is_push_only(&[0x00, 0x4c]));
        assert!(is_witness_program(&[0x00, 0x02, 1, 2]));
        assert!(!is_witness_program(&[0x00, 0x01, 1]));
        assert!(!is_witness_program(&[0x61, 0x02, 1, 2]));
        assert!(is_p2sh(&[&[0xa9, 0x14][..], &[0; 20], &[0x87]].concat()));
    }
}

/// The bytes that push `data` with the shortest length prefix (never as OP_1..OP_16):
/// Bitcoin Core's `CScript() << data`. The empty item is the single byte OP_0.
pub fn push_bytes(data: &[u8]) -> Vec<u8> {
    let len = data.len();
    let mut out = Vec::with_capacity(len + 5);
    match u8::try_from(len) {
        Ok(small) if small < Opcode::PUSHDATA1.0 => out.push(small),
        Ok(byte) => out.extend_from_slice(&[Opcode::PUSHDATA1.0, byte]),
        Err(_) => match u16::try_from(len) {
            Ok(word) => {
                out.push(Opcode::PUSHDATA2.0);
                out.extend_from_slice(&word.to_le_bytes());
            }
            Err(_) => {
                out.push(Opcode::PUSHDATA4.0);
                out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
            }
        },
    }
    out.extend_from_slice(data);
    out
}

/// Removes every push of `sig` (as [`push_bytes`] writes it) that starts at an instruction
/// boundary, as Bitcoin Core's `FindAndDelete` does for legacy signature checks. Returns the
/// script and the number of matches; bytes after a truncated push are kept as they are.
pub fn find_and_delete<'s>(script: &'s [u8], sig: &[u8]) -> (std::borrow::Cow<'s, [u8]>, usize) {
    let pattern = push_bytes(sig);
    let mut result = Vec::new();
    let mut found = 0;
    let (mut pc, mut copied_to) = (0usize, 0usize);
    loop {
        result.extend_from_slice(script.get(copied_to..pc).unwrap_or_default());
        while script.get(pc..).is_some_and(|rest| rest.starts_with(&pattern)) {
            pc += pattern.len();
            found += 1;
        }
        copied_to = pc;
        match (Reader { bytes: script, pos: pc }).next() {
            Some(Ok(instruction)) => pc = instruction.end(),
            _ => break,
        }
    }
    if found == 0 {
        return (std::borrow::Cow::Borrowed(script), 0);
    }
    result.extend_from_slice(script.get(copied_to..).unwrap_or_default());
    (std::borrow::Cow::Owned(result), found)
}

#[cfg(test)]
mod find_and_delete_tests {
    use super::*;

    fn fad(script: &[u8], sig: &[u8]) -> (Vec<u8>, usize) {
        let (out, n) = find_and_delete(script, sig);
        (out.into_owned(), n)
    }

    #[test]
    fn matches_core_cases() {
        // Cases from Bitcoin Core's script_FindAndDelete unit test.
        assert_eq!(fad(&[0x02, 0x03, 0x02, 0x03], &[0x03]), (vec![0x02, 0x03, 0x02, 0x03], 0));
        assert_eq!(fad(&[0x01, 0x02, 0x00, 0x01, 0x02], &[0x02]), (vec![0x00], 2));
        assert_eq!(fad(&[0x00, 0x01, 0x02, 0x00, 0x01, 0x02, 0x00], &[0x02]), (vec![0x00, 0x00, 0x00], 2));
        // A match must start on an instruction boundary.
        assert_eq!(fad(&[0x02, 0x01, 0x02], &[0x02]), (vec![0x02, 0x01, 0x02], 0));
        // Repeated matches at one position, and matches spanning a boundary.
        assert_eq!(fad(&[0x01, 0x02, 0x01, 0x02, 0x51], &[0x02]), (vec![0x51], 2));
        assert_eq!(fad(&[0x4c, 0x01, 0x02, 0x01, 0x02], &[0x02]), (vec![0x4c, 0x01, 0x02], 1));
        // Bytes after a truncated push stay.
        assert_eq!(fad(&[0x01, 0x02, 0x05, 0x01, 0x02], &[0x02]), (vec![0x05, 0x01, 0x02], 1));
    }

    #[test]
    fn pushes_use_the_shortest_prefix() {
        assert_eq!(push_bytes(&[]), vec![0x00]);
        assert_eq!(push_bytes(&[7]), vec![0x01, 7]);
        assert_eq!(push_bytes(&[0; 76])[..2], [0x4c, 76]);
        assert_eq!(push_bytes(&[0; 256])[..3], [0x4d, 0x00, 0x01]);
        assert_eq!(push_bytes(&[0; 65536])[..5], [0x4e, 0x00, 0x00, 0x01, 0x00]);
    }
}
