//! The MedChain runtime: for now the `medchain` command line and its script tools; the chain,
//! its state and the node grow here.

pub mod chain;
pub mod cli;
pub mod client;
pub mod crypto;
pub mod demo;
pub mod modules;
pub mod node;
pub mod verify_batch;
