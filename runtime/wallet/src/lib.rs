//! What a party holds and does: building, paying for and signing every transaction kind,
//! record encryption, record keys sealed, opened and recovered from shares, Shamir shares of a
//! record key for break-glass, the handover file, passphrase-encrypted key files, and files
//! that hold secrets (mode 0600, never replaced unasked).

#![forbid(unsafe_code)]

pub mod builder;
pub mod deposit;
pub mod files;
pub mod handover;
pub mod keyfile;
pub mod record;
pub mod shamir;
