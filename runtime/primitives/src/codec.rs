//! The canonical binary encoding: one encoding per value, decoded strictly.
//!
//! Integers are fixed-width little-endian; byte strings and lists carry a `u32` length and have
//! a declared maximum; booleans are `00`/`01`; options are `00` or `01 value`; enums are a tag
//! byte. Decoding refuses anything else: an unknown tag or version, a length over its maximum,
//! a non-canonical boolean, a truncated value or bytes left over.

use thiserror::Error;

/// Why bytes are not a canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    /// The bytes end inside a value.
    #[error("input ends inside `{field}` at offset {offset}")]
    UnexpectedEnd {
        /// The value being read.
        field: &'static str,
        /// Where.
        offset: usize,
    },
    /// Bytes remain after the value.
    #[error("{0} bytes left over after the value")]
    TrailingBytes(usize),
    /// A length above the field's maximum.
    #[error("`{field}` has length {length}, more than its maximum {max}")]
    TooLong {
        /// The value being read.
        field: &'static str,
        /// The length found.
        length: u64,
        /// The maximum.
        max: usize,
    },
    /// A tag byte that names no variant.
    #[error("`{field}` has unknown tag {tag}")]
    UnknownTag {
        /// The value being read.
        field: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A value that has another, canonical encoding (a boolean other than 0 or 1, say).
    #[error("`{field}` is not canonically encoded: {why}")]
    NonCanonical {
        /// The value being read.
        field: &'static str,
        /// What is wrong.
        why: &'static str,
    },
}

/// Writes canonical encodings. In signing mode, signatures and unlocking scripts are written
/// as empty, so a digest over the encoding commits to everything else.
#[derive(Debug, Default)]
pub struct Writer {
    bytes: Vec<u8>,
    signing: bool,
}

impl Writer {
    /// A writer for full encodings.
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer for the signing digest's preimage.
    pub fn for_signing() -> Self {
        Self { bytes: Vec::new(), signing: true }
    }

    /// Whether this writer leaves signatures and unlocking scripts out.
    pub fn signing(&self) -> bool {
        self.signing
    }

    /// The bytes written.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }

    /// One byte.
    pub fn u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self, value: u32) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// `00` or `01`.
    pub fn bool(&mut self, value: bool) {
        self.u8(u8::from(value));
    }

    /// Fixed-size bytes, written as they are.
    pub fn fixed(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// A length-prefixed byte string.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.length(bytes.len());
        self.bytes.extend_from_slice(bytes);
    }

    /// A `u32` length (callers keep lengths within their maxima, all far below `u32::MAX`).
    pub fn length(&mut self, length: usize) {
        self.u32(u32::try_from(length).unwrap_or(u32::MAX));
    }

    /// A length-prefixed list.
    pub fn list<T: Encode>(&mut self, items: &[T]) {
        self.length(items.len());
        for item in items {
            item.encode(self);
        }
    }

    /// `00`, or `01` and the value.
    pub fn option<T: Encode>(&mut self, value: Option<&T>) {
        match value {
            None => self.u8(0),
            Some(value) => {
                self.u8(1);
                value.encode(self);
            }
        }
    }
}

/// Reads canonical encodings.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    /// Bytes not read yet (the position never passes the end).
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.position)
    }

    /// Succeeds only when every byte was read.
    pub fn finish(self) -> Result<(), CodecError> {
        match self.remaining() {
            0 => Ok(()),
            left => Err(CodecError::TrailingBytes(left)),
        }
    }

    /// `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CodecError> {
        let end =
            self.position.checked_add(n).ok_or(CodecError::UnexpectedEnd { field, offset: self.position })?;
        let slice = self
            .bytes
            .get(self.position..end)
            .ok_or(CodecError::UnexpectedEnd { field, offset: self.position })?;
        self.position = end;
        Ok(slice)
    }

    /// Exactly `N` bytes.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, CodecError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// `00` or `01`, nothing else.
    pub fn bool(&mut self, field: &'static str) -> Result<bool, CodecError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(CodecError::NonCanonical { field, why: "a boolean is 00 or 01" }),
        }
    }

    /// A length no larger than `max`.
    pub fn length(&mut self, field: &'static str, max: usize) -> Result<usize, CodecError> {
        let length = self.u32(field)?;
        usize::try_from(length).ok().filter(|&l| l <= max).ok_or(CodecError::TooLong {
            field,
            length: u64::from(length),
            max,
        })
    }

    /// A length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, field: &'static str, max: usize) -> Result<Vec<u8>, CodecError> {
        let length = self.length(field, max)?;
        Ok(self.take(length, field)?.to_vec())
    }

    /// A length-prefixed list of at most `max` items.
    pub fn list<T: Decode>(&mut self, field: &'static str, max: usize) -> Result<Vec<T>, CodecError> {
        let length = self.length(field, max)?;
        // Every item takes at least one byte: never reserve more than what is left.
        let mut items = Vec::with_capacity(length.min(self.remaining()));
        for _ in 0..length {
            items.push(T::decode(self)?);
        }
        Ok(items)
    }

    /// `00`, or `01` and a value.
    pub fn option<T: Decode>(&mut self, field: &'static str) -> Result<Option<T>, CodecError> {
        match self.u8(field)? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(self)?)),
            tag => Err(CodecError::UnknownTag { field, tag }),
        }
    }
}

/// A type with a canonical encoding.
pub trait Encode {
    /// Writes the value.
    fn encode(&self, w: &mut Writer);

    /// The full encoding.
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.finish()
    }
}

/// A type decoded strictly from its canonical encoding.
pub trait Decode: Sized {
    /// Reads the value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError>;

    /// Decodes exactly one value from `bytes`, refusing trailing bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes);
        let value = Self::decode(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

impl Encode for u8 {
    fn encode(&self, w: &mut Writer) {
        w.u8(*self);
    }
}

impl Decode for u8 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.u8("byte")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_canonical_and_truncated_input() {
        assert_eq!(
            Reader::new(&[2]).bool("flag"),
            Err(CodecError::NonCanonical { field: "flag", why: "a boolean is 00 or 01" })
        );
        assert_eq!(Reader::new(&[1, 0]).u32("n"), Err(CodecError::UnexpectedEnd { field: "n", offset: 0 }));
        assert!(matches!(
            Reader::new(&[9, 0, 0, 0]).bytes("data", 8),
            Err(CodecError::TooLong { length: 9, .. })
        ));
        assert!(matches!(
            Reader::new(&[2, 0, 0, 0, 1]).bytes("data", 8),
            Err(CodecError::UnexpectedEnd { .. })
        ));
        let mut r = Reader::new(&[0, 1]);
        assert_eq!(r.u8("a"), Ok(0));
        assert_eq!(r.finish(), Err(CodecError::TrailingBytes(1)));
        assert_eq!(
            Reader::new(&[2]).option::<u8>("opt"),
            Err(CodecError::UnknownTag { field: "opt", tag: 2 })
        );
    }
}
