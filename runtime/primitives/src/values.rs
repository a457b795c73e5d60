//! The chain's primitive values: hashes, public keys and compact signatures, each with its
//! canonical encoding; hashes and keys travel in JSON as lowercase hex.

use std::fmt;

use secp256k1::ecdsa::Signature as EcdsaSignature;
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::codec::{CodecError, Decode, Encode, Reader, Writer};

/// A 32-byte hash (SHA-256 or double SHA-256), in internal byte order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// Double SHA-256 of `bytes`.
    pub fn double_sha256(bytes: &[u8]) -> Hash32 {
        Hash32(Sha256::digest(Sha256::digest(bytes)).into())
    }

    /// SHA-256 of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Hash32 {
        Hash32(Sha256::digest(bytes).into())
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// From 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Hash32> {
        hex::decode(text).ok()?.try_into().ok().map(Hash32)
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Encode for Hash32 {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.0);
    }
}

impl Decode for Hash32 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Hash32(r.array("hash")?))
    }
}

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Hash32::from_hex(&text).ok_or_else(|| D::Error::custom(format!("`{text}` is not 64 hex digits")))
    }
}

/// A compressed secp256k1 public key, valid by construction.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PubKey(pub [u8; 33]);

impl PubKey {
    /// The key of a secret key.
    pub fn from_secret(secret: &SecretKey) -> PubKey {
        PubKey(PublicKey::from_secret_key(SECP256K1, secret).serialize())
    }

    /// Parses and validates 33 bytes.
    pub fn parse(bytes: [u8; 33]) -> Option<PubKey> {
        PublicKey::from_slice(&bytes).ok().map(|_| PubKey(bytes))
    }

    /// The secp256k1 key.
    pub fn key(&self) -> Option<PublicKey> {
        PublicKey::from_slice(&self.0).ok()
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// From 66 hex digits of a valid compressed key.
    pub fn from_hex(text: &str) -> Option<PubKey> {
        hex::decode(text).ok()?.try_into().ok().and_then(PubKey::parse)
    }
}

impl fmt::Display for PubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Encode for PubKey {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.0);
    }
}

impl Decode for PubKey {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let bytes = r.array("public key")?;
        PubKey::parse(bytes)
            .ok_or(CodecError::NonCanonical { field: "public key", why: "not a valid compressed key" })
    }
}

impl Serialize for PubKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PubKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        PubKey::from_hex(&text)
            .ok_or_else(|| D::Error::custom(format!("`{text}` is not a compressed public key in hex")))
    }
}

/// A compact (64-byte, low-S) ECDSA signature over a 32-byte digest. Fixed size and low S
/// make it non-malleable. Written as zeros in signing mode.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sig(pub [u8; 64]);

impl Sig {
    /// Signs a digest.
    pub fn sign(secret: &SecretKey, digest: &Hash32) -> Sig {
        Sig(SECP256K1.sign_ecdsa(Message::from_digest(digest.0), secret).serialize_compact())
    }

    /// Whether this is `key`'s signature over `digest` (high S is refused).
    pub fn verify(&self, key: &PubKey, digest: &Hash32) -> bool {
        let (Ok(sig), Some(public)) = (EcdsaSignature::from_compact(&self.0), key.key()) else {
            return false;
        };
        let mut normalized = sig;
        normalized.normalize_s();
        normalized == sig && SECP256K1.verify_ecdsa(Message::from_digest(digest.0), &sig, &public).is_ok()
    }

    /// The all-zero placeholder written in signing mode.
    pub const EMPTY: Sig = Sig([0; 64]);
}

impl fmt::Debug for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", hex::encode(self.0.get(..8).unwrap_or_default()))
    }
}

impl Encode for Sig {
    fn encode(&self, w: &mut Writer) {
        if w.signing() { w.fixed(&Sig::EMPTY.0) } else { w.fixed(&self.0) }
    }
}

impl Decode for Sig {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Sig(r.array("signature")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_key_and_digest() {
        let secret = SecretKey::from_byte_array([3; 32]).unwrap();
        let key = PubKey::from_secret(&secret);
        let digest = Hash32::sha256(b"access");
        let sig = Sig::sign(&secret, &digest);
        assert!(sig.verify(&key, &digest));
        assert!(!sig.verify(&key, &Hash32::sha256(b"other")));
        assert!(!sig.verify(&PubKey::from_secret(&SecretKey::from_byte_array([4; 32]).unwrap()), &digest));
        assert!(!Sig::EMPTY.verify(&key, &digest));
    }

    #[test]
    fn keys_must_be_valid_points() {
        assert!(PubKey::decode(&mut Reader::new(&[5; 33])).is_err());
        let key = PubKey::from_secret(&SecretKey::from_byte_array([1; 32]).unwrap());
        assert_eq!(PubKey::parse(key.0), Some(key));
        assert_eq!(<PubKey as Decode>::from_bytes(&key.to_bytes()), Ok(key));
    }
}
