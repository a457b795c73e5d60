//! The `medchain` command line: script tools, policies, the chain, keys, the node,
//! transactions, queries, reads, the batch verifier and the demo.

#![forbid(unsafe_code)]

pub mod cli;
pub mod demo;
pub mod verify_batch;
