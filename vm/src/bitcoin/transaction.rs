//! Bitcoin transactions in their legacy (non-witness) serialization, decoded strictly.

use sha2::{Digest, Sha256};
use thiserror::Error;

/// Largest length any serialized vector may claim (Bitcoin Core's `MAX_SIZE`).
pub const MAX_VECTOR_SIZE: u64 = 0x0200_0000;

/// A reference to an output of an earlier transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutPoint {
    /// The earlier transaction's id, in internal (not display) byte order.
    pub txid: [u8; 32],
    /// The output's index in that transaction.
    pub vout: u32,
}

/// A transaction input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIn {
    /// The output it spends.
    pub prevout: OutPoint,
    /// The unlocking script.
    pub script_sig: Vec<u8>,
    /// The sequence number (relative lock time, finality).
    pub sequence: u32,
}

/// A transaction output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOut {
    /// The value in satoshis.
    pub value: i64,
    /// The locking script.
    pub script_pubkey: Vec<u8>,
}

/// A Bitcoin transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The version (signed, as Core stores it).
    pub version: i32,
    /// The inputs.
    pub inputs: Vec<TxIn>,
    /// The outputs.
    pub outputs: Vec<TxOut>,
    /// The absolute lock time.
    pub lock_time: u32,
}

/// Why bytes are not a legacy-serialized transaction.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The bytes end in the middle of a field.
    #[error("transaction ends early: {field} needs {needed} more bytes at offset {offset}")]
    UnexpectedEnd {
        /// The field being read.
        field: &'static str,
        /// Bytes the field still needs.
        needed: usize,
        /// Where it starts.
        offset: usize,
    },
    /// A length or count is not in its shortest CompactSize form.
    #[error("non-canonical CompactSize at offset {offset}")]
    NonCanonicalCompactSize {
        /// Where it starts.
        offset: usize,
    },
    /// A length or count is larger than [`MAX_VECTOR_SIZE`].
    #[error("length {length} at offset {offset} exceeds the limit of {MAX_VECTOR_SIZE}")]
    TooLarge {
        /// The claimed length.
        length: u64,
        /// Where it starts.
        offset: usize,
    },
    /// The transaction uses the BIP 144 witness serialization, which this VM does not run.
    #[error("witness-serialized transactions are not supported")]
    WitnessSerialization,
    /// Bytes remain after the transaction.
    #[error("{count} trailing bytes after the transaction")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.bytes.len());
        match end.and_then(|end| self.bytes.get(self.pos..end)) {
            Some(slice) => {
                self.pos += n;
                Ok(slice)
            }
            None => Err(DecodeError::UnexpectedEnd {
                field,
                needed: n - (self.bytes.len() - self.pos).min(n),
                offset: self.pos,
            }),
        }
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn compact_size(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let offset = self.pos;
        let [first] = self.array::<1>(field)?;
        let (value, min) = match first {
            0xfd => (u64::from(u16::from_le_bytes(self.array(field)?)), 0xfd),
            0xfe => (u64::from(u32::from_le_bytes(self.array(field)?)), 0x1_0000),
            0xff => (u64::from_le_bytes(self.array(field)?), 0x1_0000_0000),
            small => (u64::from(small), 0),
        };
        if value < min {
            return Err(DecodeError::NonCanonicalCompactSize { offset });
        }
        if value > MAX_VECTOR_SIZE {
            return Err(DecodeError::TooLarge { length: value, offset });
        }
        Ok(value)
    }

    fn bytes(&mut self, field: &'static str) -> Result<Vec<u8>, DecodeError> {
        let len = self.compact_size(field)?;
        Ok(self.take(usize::try_from(len).unwrap_or(usize::MAX), field)?.to_vec())
    }

    /// A count of items, each at least `min_item` bytes: capacity is bounded by what remains.
    fn count(&mut self, field: &'static str, min_item: usize) -> Result<(usize, usize), DecodeError> {
        let count = usize::try_from(self.compact_size(field)?).unwrap_or(usize::MAX);
        let remaining = self.bytes.len() - self.pos;
        Ok((count, count.min(remaining / min_item)))
    }
}

impl Transaction {
    /// Decodes a legacy-serialized transaction, refusing witness serialization, non-canonical
    /// lengths and trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Transaction, DecodeError> {
        let mut d = Decoder { bytes, pos: 0 };
        let version = i32::from_le_bytes(d.array("version")?);
        let (input_count, capacity) = d.count("input count", 41)?;
        if input_count == 0 && d.bytes.get(d.pos).is_some_and(|&flag| flag != 0) {
            return Err(DecodeError::WitnessSerialization);
        }
        let mut inputs = Vec::with_capacity(capacity);
        for _ in 0..input_count {
            let txid = d.array("previous txid")?;
            let vout = u32::from_le_bytes(d.array("previous index")?);
            let script_sig = d.bytes("scriptSig")?;
            let sequence = u32::from_le_bytes(d.array("sequence")?);
            inputs.push(TxIn { prevout: OutPoint { txid, vout }, script_sig, sequence });
        }
        let (output_count, capacity) = d.count("output count", 9)?;
        let mut outputs = Vec::with_capacity(capacity);
        for _ in 0..output_count {
            let value = i64::from_le_bytes(d.array("value")?);
            let script_pubkey = d.bytes("scriptPubKey")?;
            outputs.push(TxOut { value, script_pubkey });
        }
        let lock_time = u32::from_le_bytes(d.array("lock time")?);
        if d.pos != bytes.len() {
            return Err(DecodeError::TrailingBytes { count: bytes.len() - d.pos });
        }
        Ok(Transaction { version, inputs, outputs, lock_time })
    }

    /// The legacy serialization.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 64 * self.inputs.len() + 40 * self.outputs.len());
        out.extend_from_slice(&self.version.to_le_bytes());
        write_compact_size(&mut out, self.inputs.len() as u64);
        for input in &self.inputs {
            out.extend_from_slice(&input.prevout.txid);
            out.extend_from_slice(&input.prevout.vout.to_le_bytes());
            write_bytes(&mut out, &input.script_sig);
            out.extend_from_slice(&input.sequence.to_le_bytes());
        }
        write_compact_size(&mut out, self.outputs.len() as u64);
        for output in &self.outputs {
            out.extend_from_slice(&output.value.to_le_bytes());
            write_bytes(&mut out, &output.script_pubkey);
        }
        out.extend_from_slice(&self.lock_time.to_le_bytes());
        out
    }

    /// The transaction id: double SHA-256 of the legacy serialization, internal byte order.
    pub fn txid(&self) -> [u8; 32] {
        double_sha256(&self.encode())
    }
}

/// Most satoshis that can ever exist (Bitcoin Core's `MAX_MONEY`).
pub const MAX_MONEY: i64 = 21_000_000 * 100_000_000;

/// Largest legacy serialization a transaction may have: Core's block weight limit divided by
/// the witness scale factor.
pub const MAX_TX_SIZE: usize = 1_000_000;

/// Why a transaction fails Bitcoin Core's context-free `CheckTransaction`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckError {
    /// No inputs.
    #[error("transaction has no inputs")]
    NoInputs,
    /// No outputs.
    #[error("transaction has no outputs")]
    NoOutputs,
    /// Serialization larger than [`MAX_TX_SIZE`].
    #[error("transaction is larger than {MAX_TX_SIZE} bytes")]
    Oversize,
    /// An output value below zero.
    #[error("output {0} has a negative value")]
    NegativeOutput(usize),
    /// An output value, or the sum of outputs, above [`MAX_MONEY`].
    #[error("output value or total above the money supply")]
    OutputTooLarge,
    /// Two inputs spend the same output.
    #[error("two inputs spend the same output")]
    DuplicateInput,
    /// A coinbase scriptSig outside 2..=100 bytes.
    #[error("coinbase scriptSig must be 2 to 100 bytes")]
    CoinbaseLength,
    /// A non-coinbase input spends the null outpoint.
    #[error("input {0} spends the null outpoint")]
    NullPrevout(usize),
}

impl OutPoint {
    /// Whether this is the null outpoint a coinbase input names.
    pub fn is_null(&self) -> bool {
        self.txid == [0; 32] && self.vout == u32::MAX
    }
}

impl Transaction {
    /// Bitcoin Core's context-free checks (`CheckTransaction`).
    pub fn check(&self) -> Result<(), CheckError> {
        if self.inputs.is_empty() {
            return Err(CheckError::NoInputs);
        }
        if self.outputs.is_empty() {
            return Err(CheckError::NoOutputs);
        }
        if self.encode().len() > MAX_TX_SIZE {
            return Err(CheckError::Oversize);
        }
        let mut total: i64 = 0;
        for (i, output) in self.outputs.iter().enumerate() {
            if output.value < 0 {
                return Err(CheckError::NegativeOutput(i));
            }
            total = total.checked_add(output.value).ok_or(CheckError::OutputTooLarge)?;
            if output.value > MAX_MONEY || total > MAX_MONEY {
                return Err(CheckError::OutputTooLarge);
            }
        }
        let mut prevouts: Vec<&OutPoint> = self.inputs.iter().map(|input| &input.prevout).collect();
        prevouts.sort_by_key(|p| (p.txid, p.vout));
        if prevouts.windows(2).any(|pair| pair.first() == pair.get(1)) {
            return Err(CheckError::DuplicateInput);
        }
        match self.inputs.as_slice() {
            [only] if only.prevout.is_null() => {
                if !(2..=100).contains(&only.script_sig.len()) {
                    return Err(CheckError::CoinbaseLength);
                }
            }
            inputs => {
                if let Some(i) = inputs.iter().position(|input| input.prevout.is_null()) {
                    return Err(CheckError::NullPrevout(i));
                }
            }
        }
        Ok(())
    }
}

/// Where serialized bytes go: a buffer, or straight into a running hash.
pub trait Sink {
    /// Appends bytes.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        Digest::update(self, bytes);
    }
}

/// Appends a CompactSize length.
pub fn write_compact_size(out: &mut impl Sink, n: u64) {
    match n {
        0..=0xfc => out.put(&[n as u8]),
        0xfd..=0xffff => {
            out.put(&[0xfd]);
            out.put(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.put(&[0xfe]);
            out.put(&(n as u32).to_le_bytes());
        }
        _ => {
            out.put(&[0xff]);
            out.put(&n.to_le_bytes());
        }
    }
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_compact_size(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// SHA-256 applied twice.
pub fn double_sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(bytes)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Transaction {
        Transaction {
            version: 1,
            inputs: vec![TxIn {
                prevout: OutPoint { txid: [7; 32], vout: 3 },
                script_sig: vec![0x51; 300],
                sequence: 0xffff_fffe,
            }],
            outputs: vec![TxOut { value: 5_000, script_pubkey: vec![0x76, 0xa9] }],
            lock_time: 99,
        }
    }

    #[test]
    fn round_trips() {
        let tx = sample();
        assert_eq!(Transaction::decode(&tx.encode()), Ok(tx));
    }

    #[test]
    fn refuses_malformed_encodings() {
        let bytes = sample().encode();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(Transaction::decode(&trailing), Err(DecodeError::TrailingBytes { count: 1 }));
        assert!(matches!(
            Transaction::decode(&bytes[..bytes.len() - 1]),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
        // The 300-byte scriptSig length written as 0xfe + 4 bytes instead of 0xfd + 2.
        let mut long_form = bytes[..41].to_vec();
        long_form.extend_from_slice(&[0xfe, 0x2c, 0x01, 0x00, 0x00]);
        long_form.extend_from_slice(&bytes[44..]);
        assert_eq!(Transaction::decode(&long_form), Err(DecodeError::NonCanonicalCompactSize { offset: 41 }));
        let witness = [1, 0, 0, 0, 0x00, 0x01];
        assert_eq!(Transaction::decode(&witness), Err(DecodeError::WitnessSerialization));
        let huge = [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(Transaction::decode(&huge), Err(DecodeError::TooLarge { .. })));
    }
}
