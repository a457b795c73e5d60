//! The chain's resources: status, transactions, blocks, coins and policy modules.

use medchain_primitives::Hash32;
use serde::{Deserialize, Serialize};

use crate::HexBytes;

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The chain id (the genesis hash).
    pub chain_id: Hash32,
    /// The genesis file's name for the chain.
    pub chain_name: String,
    /// The tip's height.
    pub height: u32,
    /// The tip's hash (the chain id before the first block).
    pub tip: Hash32,
    /// The mempool's size.
    pub mempool: MempoolStatus,
    /// Whether this node produces blocks.
    pub producing: bool,
}

/// How much waits in the mempool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MempoolStatus {
    /// Transactions.
    pub transactions: usize,
    /// Their encoded bytes.
    pub bytes: usize,
}

/// `202` to `POST /v1/transactions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// The transaction's id.
    pub txid: Hash32,
}

/// `POST /v1/blocks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockImported {
    /// The new tip's height.
    pub height: u32,
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    /// In the mempool.
    Pending,
    /// In a block.
    Confirmed,
}

/// `GET /v1/transactions/{txid}`: pending, or confirmed with its block and a Merkle proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionView {
    /// The id.
    pub txid: Hash32,
    /// Pending or confirmed.
    pub status: TransactionStatus,
    /// The payload's kind (`transfer`, `access_grant`, …).
    pub kind: String,
    /// The canonical encoding.
    pub tx: HexBytes,
    /// The block it is in, once confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<ConfirmedIn>,
    /// The Merkle proof from the leaf up, once confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Vec<ProofStep>>,
}

/// The block a confirmed transaction is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmedIn {
    /// Its height.
    pub height: u32,
    /// Its hash.
    pub hash: Hash32,
    /// Its Merkle root.
    pub merkle_root: Hash32,
    /// Its time.
    pub time: u64,
}

/// One step of a Merkle proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofStep {
    /// The sibling's hash.
    pub sibling: Hash32,
    /// Whether the sibling is on the left.
    pub left: bool,
}

/// `GET /v1/blocks?from=&limit=`: blocks newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockList {
    /// The page.
    pub blocks: Vec<BlockSummary>,
    /// The height to ask for next, if any.
    pub next: Option<u32>,
}

/// A block in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSummary {
    /// Its height.
    pub height: u32,
    /// Its hash.
    pub hash: Hash32,
    /// Its time.
    pub time: u64,
    /// Its transactions.
    pub transactions: Vec<TxSummary>,
}

/// A transaction in a block list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxSummary {
    /// Its id.
    pub txid: Hash32,
    /// Its payload's kind.
    pub kind: String,
}

/// `GET /v1/blocks/{height}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    /// The height.
    pub height: u32,
    /// The hash.
    pub hash: Hash32,
    /// The canonical encoding.
    pub block: HexBytes,
}

/// `GET /v1/keys/{key}/coins`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoinList {
    /// The page.
    pub coins: Vec<CoinView>,
    /// The offset of the next page, if any.
    pub next: Option<usize>,
}

/// A coin a key can spend alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoinView {
    /// The transaction that made it.
    pub txid: Hash32,
    /// Its output index there.
    pub index: u32,
    /// Its value.
    pub value: u64,
    /// Its locking script.
    pub lock: HexBytes,
    /// The height of the block that made it.
    pub height: u32,
    /// Whether a coinbase made it.
    pub coinbase: bool,
}

/// `GET /v1/modules/{hash}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleView {
    /// The code's SHA-256.
    pub module: Hash32,
    /// The code's size in bytes.
    pub size: usize,
    /// The wasm code.
    pub code: HexBytes,
}
