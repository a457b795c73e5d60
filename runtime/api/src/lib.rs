//! The HTTP API's shared vocabulary, for the node that serves it and the clients that call it:
//! the message a reader signs to download a record.

#![forbid(unsafe_code)]

use medchain_primitives::Hash32;

/// Domain of the message a reader signs to download a record.
pub const READ_DOMAIN: &[u8] = b"medchain/read/v1";

/// What a reader signs to download a blob: SHA-256 of the domain, chain id, challenge and hash.
pub fn read_message(chain_id: &Hash32, challenge: &[u8; 32], blob: &Hash32) -> Hash32 {
    Hash32::sha256(&[READ_DOMAIN, &chain_id.0, challenge, &blob.0].concat())
}
