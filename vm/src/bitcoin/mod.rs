//! Bitcoin itself: the transaction codec, the legacy signature hash and a host built on them,
//! so the VM can be checked against Bitcoin Core's own test vectors.

pub mod checker;
pub mod harness;
pub mod sighash;
pub mod transaction;

pub use checker::{InputIndexError, TransactionChecker};
pub use harness::{crediting_transaction, spending_transaction};
pub use sighash::legacy_sighash;
pub use transaction::{CheckError, DecodeError, OutPoint, Transaction, TxIn, TxOut, double_sha256};
