//! The node's parts around the chain: the record store, key files and the mempool.

pub mod api;
pub mod blobs;
pub mod keyfile;
pub mod mempool;
pub mod reads;
pub mod server;
