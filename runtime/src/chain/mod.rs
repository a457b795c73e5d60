//! The chain: canonical encoding, primitives, transactions, blocks, validation and state.

pub mod block;
pub mod builder;
pub mod codec;
pub mod genesis;
pub mod host;
pub mod ledger;
pub mod limits;
pub mod merkle;
pub mod primitives;
pub mod scripts;
pub mod state;
pub mod store;
pub mod transaction;
pub mod validate;
