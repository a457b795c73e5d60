//! What a party holds and does: building and signing transactions, record encryption, Shamir
//! shares of a record key for break-glass, and passphrase-encrypted key files.

#![forbid(unsafe_code)]

pub mod builder;
pub mod keyfile;
pub mod record;
pub mod shamir;
