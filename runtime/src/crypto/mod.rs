//! Cryptography for records and keys: ECIES envelopes that encrypt a key to a public key, and
//! Shamir secret sharing that splits a record key among emergency institutions.

pub mod ecies;
pub mod record;
pub mod shamir;
