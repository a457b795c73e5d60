//! The MedChain node: chain state, mempool, record store and read log behind a versioned HTTP
//! JSON API (`docs/api.md`), with dev block production.

#![forbid(unsafe_code)]

pub mod blobs;
pub mod challenges;
pub mod error;
pub mod mempool;
mod node;
mod producer;
pub mod reads;
pub mod refused;
mod routes;
mod serve;

pub use challenges::{CHALLENGE_LIFETIME, MAX_SPENT_PER_KEY};
pub use node::{MAX_FUTURE_BLOCK_TIME, MAX_RELAY_FUEL, Node, NodeConfig, READ_ANCHOR_TAG, READ_LOG_FILE};
pub use routes::{
    MAX_BLOCK_BODY, MAX_DRAIN, MAX_JSON_BODY, MAX_PAGE, MAX_UPLOADS, REQUEST_TIMEOUT, UPLOAD_IDLE,
    UPLOAD_TIMEOUT, router,
};
pub use serve::{serve, serve_on};
