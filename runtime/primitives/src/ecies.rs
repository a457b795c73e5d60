//! ECIES over secp256k1: ECDH with a fresh ephemeral key, HKDF-SHA256, ChaCha20-Poly1305, in a
//! versioned envelope. Used for key deposits (a record key encrypted to a grantee) and share
//! releases.
//!
//! Envelope, version 1: `01 | ephemeral public key (33) | nonce (12) | ciphertext + tag (16)`.
//! The key is HKDF-SHA256(salt = "medchain/ecies/v1", ikm = ECDH x-coordinate,
//! info = ephemeral key ‖ recipient key); the associated data is the version byte, the ephemeral
//! key and the recipient key, so an envelope cannot be re-addressed.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::{CryptoRng, RngCore};
use secp256k1::{PublicKey, SECP256K1, SecretKey, ecdh};
use sha2::Sha256;
use thiserror::Error;

/// The envelope format version this code writes and reads.
pub const ENVELOPE_VERSION: u8 = 1;

/// Bytes an envelope adds to its plaintext.
pub const ENVELOPE_OVERHEAD: usize = 1 + 33 + 12 + 16;

/// Largest plaintext sealed in one envelope (keys and shares are tiny).
pub const MAX_PLAINTEXT: usize = 4096;

const SALT: &[u8] = b"medchain/ecies/v1";

/// Why an envelope could not be sealed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EciesError {
    /// The envelope is shorter than its fixed parts.
    #[error("envelope is {0} bytes, shorter than the {ENVELOPE_OVERHEAD} its header and tag need")]
    Truncated(usize),
    /// The envelope's version is not one this code reads.
    #[error("envelope version {0} is not supported (expected {ENVELOPE_VERSION})")]
    UnsupportedVersion(u8),
    /// The ephemeral key is not a valid compressed key.
    #[error("envelope's ephemeral key is not a valid public key")]
    BadEphemeralKey,
    /// Authentication failed: wrong recipient key, sealed for another context, or altered.
    #[error("envelope does not open with this key (wrong recipient, sealed for something else, or altered)")]
    Authentication,
    /// The plaintext is larger than [`MAX_PLAINTEXT`].
    #[error("plaintext is {0} bytes, more than {MAX_PLAINTEXT}")]
    TooLarge(usize),
}

fn cipher(shared_x: &[u8], ephemeral: &[u8; 33], recipient: &[u8; 33]) -> ChaCha20Poly1305 {
    let info = [ephemeral.as_slice(), recipient.as_slice()].concat();
    let mut key = [0u8; 32];
    // A 32-byte output is always within HKDF-SHA256's limit.
    let _ = Hkdf::<Sha256>::new(Some(SALT), shared_x).expand(&info, &mut key);
    ChaCha20Poly1305::new(Key::from_slice(&key))
}

fn shared_x(secret: &SecretKey, public: &PublicKey) -> [u8; 32] {
    let point = ecdh::shared_secret_point(public, secret);
    let mut x = [0u8; 32];
    x.copy_from_slice(point.get(..32).unwrap_or(&[0; 32]));
    x
}

fn associated_data(ephemeral: &[u8; 33], recipient: &[u8; 33], context: &[u8]) -> Vec<u8> {
    [&[ENVELOPE_VERSION][..], ephemeral, recipient, context].concat()
}

/// Encrypts `plaintext` to `recipient`, bound to `context` (what the envelope is for: it opens
/// only with the same context), with randomness from `rng`.
pub fn seal<R: RngCore + CryptoRng>(
    recipient: &PublicKey,
    plaintext: &[u8],
    context: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>, EciesError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EciesError::TooLarge(plaintext.len()));
    }
    let ephemeral_secret = SecretKey::new(rng);
    let ephemeral = PublicKey::from_secret_key(SECP256K1, &ephemeral_secret).serialize();
    let recipient_bytes = recipient.serialize();
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let cipher = cipher(&shared_x(&ephemeral_secret, recipient), &ephemeral, &recipient_bytes);
    let aad = associated_data(&ephemeral, &recipient_bytes, context);
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .map_err(|_| EciesError::TooLarge(plaintext.len()))?;
    Ok([&[ENVELOPE_VERSION][..], &ephemeral, &nonce, &ciphertext].concat())
}

/// Whether `bytes` have the form of an envelope sealing exactly `plaintext_len` bytes: this
/// version, that size, and an ephemeral key on the curve. Only the recipient can tell whether it
/// opens; this is what everyone else (a validating node) can check.
pub fn is_envelope(bytes: &[u8], plaintext_len: usize) -> bool {
    bytes.len() == ENVELOPE_OVERHEAD.saturating_add(plaintext_len)
        && bytes.first() == Some(&ENVELOPE_VERSION)
        && bytes.get(1..34).is_some_and(|ephemeral| PublicKey::from_slice(ephemeral).is_ok())
}

/// Decrypts an envelope with the recipient's secret key and the context it was sealed for.
pub fn open(recipient: &SecretKey, envelope: &[u8], context: &[u8]) -> Result<Vec<u8>, EciesError> {
    if envelope.len() < ENVELOPE_OVERHEAD {
        return Err(EciesError::Truncated(envelope.len()));
    }
    let (&version, rest) = envelope.split_first().ok_or(EciesError::Truncated(0))?;
    if version != ENVELOPE_VERSION {
        return Err(EciesError::UnsupportedVersion(version));
    }
    let truncated = EciesError::Truncated(envelope.len());
    let (ephemeral, rest) = rest.split_at_checked(33).ok_or(truncated)?;
    let (nonce, ciphertext) = rest.split_at_checked(12).ok_or(truncated)?;
    let ephemeral: [u8; 33] = ephemeral.try_into().map_err(|_| EciesError::Truncated(envelope.len()))?;
    let ephemeral_key = PublicKey::from_slice(&ephemeral).map_err(|_| EciesError::BadEphemeralKey)?;
    let recipient_bytes = PublicKey::from_secret_key(SECP256K1, recipient).serialize();
    let cipher = cipher(&shared_x(recipient, &ephemeral_key), &ephemeral, &recipient_bytes);
    let aad = associated_data(&ephemeral, &recipient_bytes, context);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
        .map_err(|_| EciesError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u8) -> (SecretKey, PublicKey) {
        let secret = SecretKey::from_byte_array([n; 32]).unwrap();
        (secret, PublicKey::from_secret_key(SECP256K1, &secret))
    }

    #[test]
    fn round_trips_and_is_fresh_each_time() {
        let (secret, public) = keys(1);
        let mut rng = rand::rng();
        let a = seal(&public, b"record key", b"ctx", &mut rng).unwrap();
        let b = seal(&public, b"record key", b"ctx", &mut rng).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), ENVELOPE_OVERHEAD + 10);
        assert_eq!(open(&secret, &a, b"ctx").unwrap(), b"record key");
        assert_eq!(open(&secret, &b, b"ctx").unwrap(), b"record key");
    }

    #[test]
    fn refuses_wrong_keys_and_tampering() {
        let (_, public) = keys(1);
        let (other, _) = keys(2);
        let (secret, _) = keys(1);
        let envelope = seal(&public, b"k", b"ctx", &mut rand::rng()).unwrap();
        assert_eq!(open(&other, &envelope, b"ctx"), Err(EciesError::Authentication));
        assert_eq!(
            open(&secret, &envelope, b"another"),
            Err(EciesError::Authentication),
            "bound to its context"
        );
        for i in 0..envelope.len() {
            let mut altered = envelope.clone();
            altered[i] ^= 1;
            assert!(open(&secret, &altered, b"ctx").is_err(), "altering byte {i} went unnoticed");
        }
        assert_eq!(open(&secret, &envelope[..10], b"ctx"), Err(EciesError::Truncated(10)));
        let mut future = envelope.clone();
        future[0] = 2;
        assert_eq!(open(&secret, &future, b"ctx"), Err(EciesError::UnsupportedVersion(2)));
        assert_eq!(
            seal(&public, &[0; MAX_PLAINTEXT + 1], b"", &mut rand::rng()),
            Err(EciesError::TooLarge(MAX_PLAINTEXT + 1))
        );
    }
}
