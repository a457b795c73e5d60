//! Reading a record: the headers a reader sends and the message it signs.

use medchain_primitives::Hash32;

/// Domain of the message a reader signs to download a record.
pub const READ_DOMAIN: &[u8] = b"medchain/read/v1";

/// The reader's public key.
pub const READER_HEADER: &str = "x-medchain-reader";

/// The challenge the node issued.
pub const CHALLENGE_HEADER: &str = "x-medchain-challenge";

/// The reader's compact signature over [`read_message`].
pub const SIGNATURE_HEADER: &str = "x-medchain-signature";

/// What a reader signs to download a blob: SHA-256 of the domain, chain id, challenge and hash.
pub fn read_message(chain_id: &Hash32, challenge: &[u8; 32], blob: &Hash32) -> Hash32 {
    Hash32::sha256(&[READ_DOMAIN, &chain_id.0, challenge, &blob.0].concat())
}
