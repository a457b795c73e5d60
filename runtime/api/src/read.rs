//! Signed requests: reading a record, and viewing a patient's private lists (records, audit
//! log). A request carries the signer's key, a challenge the node issued, and a signature over
//! a message naming what it asks for; each challenge serves one request.

use medchain_primitives::{Hash32, PubKey};

/// Domain of the message a reader signs to download a record.
pub const READ_DOMAIN: &[u8] = b"medchain/read/v1";

/// Domain of the message a viewer signs to see a patient's records and audit log.
pub const VIEW_DOMAIN: &[u8] = b"medchain/view/v1";

/// The signer's public key.
pub const READER_HEADER: &str = "x-medchain-reader";

/// The challenge the node issued.
pub const CHALLENGE_HEADER: &str = "x-medchain-challenge";

/// The signer's compact signature over [`read_message`] or [`view_message`].
pub const SIGNATURE_HEADER: &str = "x-medchain-signature";

/// What a reader signs to download a record's ciphertext: SHA-256 of the domain, chain id,
/// challenge and the record (its storage id).
pub fn read_message(chain_id: &Hash32, challenge: &[u8; 32], record: &Hash32) -> Hash32 {
    Hash32::sha256(&[READ_DOMAIN, &chain_id.0, challenge, &record.0].concat())
}

/// What a viewer signs to see a patient's records or audit log: SHA-256 of the domain, chain
/// id, challenge and the patient's key.
pub fn view_message(chain_id: &Hash32, challenge: &[u8; 32], patient: &PubKey) -> Hash32 {
    Hash32::sha256(&[VIEW_DOMAIN, &chain_id.0, challenge, &patient.0].concat())
}
