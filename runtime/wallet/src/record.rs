//! Record encryption: a record under a fresh 32-byte key with ChaCha20-Poly1305; the
//! ciphertext carries its nonce. The key travels in ECIES envelopes and Shamir shares.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::{CryptoRng, RngCore};
use thiserror::Error;

pub use medchain_chain::limits::RECORD_KEY_SIZE;

/// The record does not decrypt: wrong key, or altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the record does not decrypt with this key (wrong key, or altered)")]
pub struct RecordDecryptError;

/// A fresh record key.
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
}
