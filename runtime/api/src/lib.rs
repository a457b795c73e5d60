//! The HTTP API's vocabulary, shared by the node that serves it and the clients that call it:
//! every request and response body as a typed struct, the error body and the node's own error
//! codes, the read headers and the message a reader signs. The JSON is documented in
//! `docs/api.md`.

#![forbid(unsafe_code)]

mod chain;
mod error;
mod hex;
mod read;
mod records;

pub use chain::{
    BlockImported, BlockList, BlockSummary, BlockView, CoinList, CoinView, ConfirmedIn, MempoolStatus,
    ModuleView, ProofStep, Status, Submitted, TransactionStatus, TransactionView, TxSummary,
};
pub use error::{ErrorBody, ErrorDetail, NodeCode};
pub use hex::HexBytes;
pub use read::{
    CHALLENGE_HEADER, READ_DOMAIN, READER_HEADER, SIGNATURE_HEADER, VIEW_DOMAIN, read_message, view_message,
};
pub use records::{
    AccessSummary, AccessView, Anchor, Audit, Challenge, EmergencySharesView, ReadEntry, ReadLogState,
    RecordList, RecordView, ShareRelease, ShareView, Uploaded,
};
