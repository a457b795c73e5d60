//! The MedChain node: chain state, mempool, record store and read log behind a versioned HTTP
//! JSON API, with dev block production.

#![forbid(unsafe_code)]

pub mod api;
pub mod blobs;
pub mod mempool;
pub mod reads;
pub mod server;
