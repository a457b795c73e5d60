//! Record encryption: a record under a fresh 32-byte key with ChaCha20-Poly1305; the
//! ciphertext carries its nonce. A reader gets the key with the salt of the record's release
//! (a [`RecordSecret`], in ECIES envelopes and Shamir shares) and checks that what decrypts is
//! what the institution committed to.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::{CryptoRng, RngCore};
use thiserror::Error;

use medchain_primitives::Hash32;

pub use medchain_chain::limits::{RECORD_KEY_SIZE, RECORD_SECRET_SIZE, SALT_SIZE};

/// The record does not decrypt: wrong key, or altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the record does not decrypt with this key (wrong key, or altered)")]
pub struct RecordDecryptError;

/// Why a record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ReadError {
    /// It does not decrypt with the key.
    #[error(transparent)]
    Decrypt(#[from] RecordDecryptError),
    /// It decrypts, but is not the record its release committed to.
    #[error(
        "the record does not match its release's commitment {0}: it is not what the institution released"
    )]
    NotReleased(Hash32),
}

/// The commitment a release makes to a record: `SHA-256(salt ‖ record)`.
pub fn commitment(salt: &[u8; SALT_SIZE], record: &[u8]) -> Hash32 {
    Hash32::sha256(&[&salt[..], record].concat())
}

/// A record's key and its release's salt: what a reader needs.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordSecret {
    /// The key the stored ciphertext is encrypted under.
    pub key: [u8; RECORD_KEY_SIZE],
    /// The salt of the release's commitment.
    pub salt: [u8; SALT_SIZE],
}

impl std::fmt::Debug for RecordSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSecret(…)")
    }
}

impl RecordSecret {
    /// `key ‖ salt`.
    pub fn to_bytes(&self) -> [u8; RECORD_SECRET_SIZE] {
        let mut bytes = [0u8; RECORD_SECRET_SIZE];
        let (key, salt) = bytes.split_at_mut(RECORD_KEY_SIZE);
        key.copy_from_slice(&self.key);
        salt.copy_from_slice(&self.salt);
        bytes
    }

    /// From `key ‖ salt`; `None` unless exactly [`RECORD_SECRET_SIZE`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<RecordSecret> {
        let bytes: &[u8; RECORD_SECRET_SIZE] = bytes.try_into().ok()?;
        let (key, salt) = bytes.split_at(RECORD_KEY_SIZE);
        Some(RecordSecret { key: key.try_into().ok()?, salt: salt.try_into().ok()? })
    }

    /// Decrypts `ciphertext` and checks the record against its release's `commitment`.
    pub fn read(&self, ciphertext: &[u8], commitment_of_release: &Hash32) -> Result<Vec<u8>, ReadError> {
        let record = decrypt(&self.key, ciphertext)?;
        if commitment(&self.salt, &record) != *commitment_of_release {
            return Err(ReadError::NotReleased(*commitment_of_release));
        }
        Ok(record)
    }
}

/// A fresh record key (or salt).
pub fn new_key<R: RngCore + CryptoRng>(rng: &mut R) -> [u8; RECORD_KEY_SIZE] {
    let mut key = [0u8; RECORD_KEY_SIZE];
    rng.fill_bytes(&mut key);
    key
}

/// Encrypts a record: `nonce (12) ‖ ciphertext ‖ tag (16)`.
pub fn encrypt<R: RngCore + CryptoRng>(key: &[u8; RECORD_KEY_SIZE], record: &[u8], rng: &mut R) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let sealed = cipher.encrypt(Nonce::from_slice(&nonce), record).unwrap_or_default();
    [&nonce[..], &sealed].concat()
}

/// Decrypts a record.
pub fn decrypt(key: &[u8; RECORD_KEY_SIZE], ciphertext: &[u8]) -> Result<Vec<u8>, RecordDecryptError> {
    let (nonce, sealed) = ciphertext.split_at_checked(12).ok_or(RecordDecryptError)?;
    ChaCha20Poly1305::new(Key::from_slice(key))
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map_err(|_| RecordDecryptError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_wrong_keys() {
        let key = new_key(&mut rand::rng());
        let sealed = encrypt(&key, b"blood type: 0+", &mut rand::rng());
        assert_eq!(decrypt(&key, &sealed).unwrap(), b"blood type: 0+");
        assert_eq!(decrypt(&new_key(&mut rand::rng()), &sealed), Err(RecordDecryptError));
        assert_eq!(decrypt(&key, &sealed[..5]), Err(RecordDecryptError));
    }

    #[test]
    fn a_reader_checks_the_record_against_its_release() {
        let mut rng = rand::rng();
        let secret = RecordSecret { key: new_key(&mut rng), salt: new_key(&mut rng) };
        let released = b"2026-11-28 ECG: sinus rhythm";
        let promised = commitment(&secret.salt, released);
        let ciphertext = encrypt(&secret.key, released, &mut rng);
        assert_eq!(secret.read(&ciphertext, &promised).unwrap(), released);
        let forged = encrypt(&secret.key, b"2026-11-28 ECG: all clear", &mut rng);
        assert_eq!(secret.read(&forged, &promised), Err(ReadError::NotReleased(promised)));
        let wrong_key = RecordSecret { key: new_key(&mut rng), ..secret.clone() };
        assert_eq!(wrong_key.read(&ciphertext, &promised), Err(ReadError::Decrypt(RecordDecryptError)));
        assert_eq!(RecordSecret::from_bytes(&secret.to_bytes()), Some(secret));
        assert_eq!(RecordSecret::from_bytes(&[0; 63]), None);
    }
}
