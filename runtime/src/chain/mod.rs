//! The chain: canonical encoding, primitives, transactions, blocks, validation and state.

pub mod codec;
pub mod limits;
pub mod primitives;
pub mod transaction;
