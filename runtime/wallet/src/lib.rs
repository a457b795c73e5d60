//! What a party holds and does: building, paying for and signing every transaction kind,
//! record encryption, record keys sealed, opened and recovered from shares, Shamir shares of a
//! record key for break-glass, the handover file, and passphrase-encrypted key files.

#![forbid(unsafe_code)]

pub mod builder;
pub mod deposit;
pub mod handover;
pub mod keyfile;
pub mod record;
pub mod shamir;
