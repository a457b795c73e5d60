//! A key pair that signs: compact signatures for payloads and headers, DER signatures for
//! scripts.

use medchain_vm::signature::SIGHASH_ALL;
use secp256k1::{Message, SECP256K1, SecretKey};

use crate::{Hash32, PubKey, Sig};

/// A key pair that signs.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The secret key.
    pub secret: SecretKey,
    /// Its public key.
    pub key: PubKey,
}

impl Signer {
    /// The signer of a secret key.
    pub fn new(secret: SecretKey) -> Signer {
        Signer { key: PubKey::from_secret(&secret), secret }
    }

    /// A compact signature over a digest (for payload signatures).
    pub fn sign(&self, digest: &Hash32) -> Sig {
        Sig::sign(&self.secret, digest)
    }

    /// A script signature: DER plus SIGHASH_ALL, as CHECKSIG reads it.
    pub fn script_signature(&self, digest: &Hash32) -> Vec<u8> {
        let mut sig =
            SECP256K1.sign_ecdsa(Message::from_digest(digest.0), &self.secret).serialize_der().to_vec();
        sig.push(SIGHASH_ALL);
        sig
    }
}
