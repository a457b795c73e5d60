//! The chain: transactions, blocks, the genesis, validation (every script through the VM,
//! policy modules through their engine), state in redb, and the ledger that applies blocks
//! atomically. No network, no clock, no command line.

#![forbid(unsafe_code)]
// An overflow in consensus code is an error to handle, never a panic or a wrap.
#![deny(clippy::arithmetic_side_effects)]

pub mod block;
pub mod genesis;
pub mod host;
pub mod ledger;
pub mod limits;
pub mod scripts;
pub mod standard;
pub mod state;
pub mod store;
pub mod transaction;
pub mod validate;
pub mod verdict;
pub mod verifier;
