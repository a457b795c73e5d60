//! Blocks: a header signed by its producer over transactions under a Merkle root.

use secp256k1::SecretKey;

use super::limits::MAX_BLOCK_TXS;
use super::transaction::Transaction;
use medchain_primitives::codec::{CodecError, Decode, Encode, Reader, Writer};
use medchain_primitives::merkle::merkle_root;
use medchain_primitives::{Hash32, PubKey, Sig};

/// The block format version.
pub const BLOCK_VERSION: u8 = 1;

/// Domain separation for the producer's signature.
const HEADER_DOMAIN: &[u8] = b"medchain/header-signing/v1";

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Format version ([`BLOCK_VERSION`]).
    pub version: u8,
    /// The previous block's hash (zeros for the first block after genesis' parent).
    pub previous: Hash32,
    /// Merkle root of the transaction ids.
    pub merkle_root: Hash32,
    /// Height: the previous block's plus one.
    pub height: u32,
    /// Unix time in seconds, after the median of the last 11 blocks.
    pub time: u64,
    /// The producing key.
    pub producer: PubKey,
    /// The producer's signature over the header (left out of its own digest).
    pub signature: Sig,
}

/// A block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions, coinbase first.
    pub transactions: Vec<Transaction>,
}

impl Encode for Header {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.version);
        self.previous.encode(w);
        self.merkle_root.encode(w);
        w.u32(self.height);
        w.u64(self.time);
        self.producer.encode(w);
        self.signature.encode(w);
    }
}

impl Decode for Header {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let version = r.u8("block version")?;
        if version != BLOCK_VERSION {
            return Err(CodecError::UnknownTag { field: "block version", tag: version });
        }
        Ok(Header {
            version,
            previous: Hash32::decode(r)?,
            merkle_root: Hash32::decode(r)?,
            height: r.u32("height")?,
            time: r.u64("time")?,
            producer: PubKey::decode(r)?,
            signature: Sig::decode(r)?,
        })
    }
}

impl Encode for Block {
    fn encode(&self, w: &mut Writer) {
        self.header.encode(w);
        w.list(&self.transactions);
    }
}

impl Decode for Block {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Block { header: Header::decode(r)?, transactions: r.list("transactions", MAX_BLOCK_TXS)? })
    }
}

impl Header {
    /// The block hash: double SHA-256 of the full header, signature included.
    pub fn hash(&self) -> Hash32 {
        Hash32::double_sha256(&self.to_bytes())
    }

    /// The digest the producer signs: the chain id and the header without its signature.
    pub fn signing_digest(&self, chain_id: &Hash32) -> Hash32 {
        let mut w = Writer::for_signing();
        w.fixed(HEADER_DOMAIN);
        chain_id.encode(&mut w);
        self.encode(&mut w);
        Hash32::double_sha256(&w.finish())
    }

    /// Signs the header as its producer.
    pub fn sign(&mut self, producer: &SecretKey, chain_id: &Hash32) {
        self.signature = Sig::sign(producer, &self.signing_digest(chain_id));
    }
}

impl Block {
    /// The Merkle root of this block's transactions.
    pub fn compute_merkle_root(&self) -> Hash32 {
        let txids: Vec<Hash32> = self.transactions.iter().map(Transaction::txid).collect();
        merkle_root(&txids)
    }
}
