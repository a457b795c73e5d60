//! MedChain's primitives: hashes, public keys, compact signatures and the key pair that makes
//! them, the canonical binary codec, Merkle trees, and ECIES envelopes to a public key. Every
//! other runtime crate builds on these; they depend on nothing of the chain.

#![forbid(unsafe_code)]
// An overflow in consensus code is an error to handle, never a panic or a wrap.
#![deny(clippy::arithmetic_side_effects)]

pub mod codec;
pub mod ecies;
pub mod merkle;
mod signer;
mod values;

pub use signer::Signer;
pub use values::{Hash32, PubKey, Sig};
