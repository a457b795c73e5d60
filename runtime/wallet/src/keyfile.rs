//! Key files: a secret key encrypted under a passphrase, never a raw secret on disk.
//!
//! The passphrase is stretched with Argon2id (memory-hard, so guessing is slow on any
//! hardware) into a ChaCha20-Poly1305 key; the file is JSON with its format version, the public
//! key, the KDF parameters, salt, nonce and ciphertext. The public key is authenticated data,
//! so a file cannot be relabelled.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::{CryptoRng, RngCore};
use secp256k1::SecretKey;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use medchain_primitives::PubKey;

/// The key file format version.
pub const KEYFILE_VERSION: u32 = 1;

/// Argon2id memory cost, in KiB (64 MiB).
pub const KDF_MEMORY_KIB: u32 = 64 * 1024;

/// Argon2id passes.
pub const KDF_ITERATIONS: u32 = 3;

/// Shortest passphrase accepted.
pub const MIN_PASSPHRASE: usize = 8;

/// Largest KDF memory a file may ask for (a hostile file must not exhaust memory).
pub const MAX_KDF_MEMORY_KIB: u32 = 1024 * 1024;

/// Why a key file could not be written or opened.
#[derive(Debug, Error)]
pub enum KeyFileError {
    /// The passphrase is too short.
    #[error("the passphrase needs at least {MIN_PASSPHRASE} characters")]
    WeakPassphrase,
    /// Wrong passphrase, or the file was altered.
    #[error("wrong passphrase, or the key file was altered")]
    Decryption,
    /// Not a key file of a version this node reads.
    #[error("not a MedChain key file: {0}")]
    Format(String),
    /// KDF parameters out of bounds.
    #[error("the key file's KDF parameters are out of bounds")]
    Parameters,
}

/// The stored form of a key file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// Format version ([`KEYFILE_VERSION`]).
    pub version: u32,
    /// The public key, hex.
    pub public_key: String,
    /// `argon2id`.
    pub kdf: String,
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Salt, hex.
    pub salt: String,
    /// Nonce, hex.
    pub nonce: String,
    /// Encrypted secret key with its tag, hex.
    pub ciphertext: String,
}

fn cipher(
    passphrase: &str,
    salt: &[u8],
    memory_kib: u32,
    iterations: u32,
) -> Result<ChaCha20Poly1305, KeyFileError> {
    let params = Params::new(memory_kib, iterations, 1, Some(32)).map_err(|_| KeyFileError::Parameters)?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|_| KeyFileError::Parameters)?;
    Ok(ChaCha20Poly1305::new(Key::from_slice(&key)))
}

impl KeyFile {
    /// Encrypts `secret` under `passphrase` with the standard KDF cost.
    pub fn seal<R: RngCore + CryptoRng>(
        secret: &SecretKey,
        passphrase: &str,
        rng: &mut R,
    ) -> Result<KeyFile, KeyFileError> {
        Self::seal_with_cost(secret, passphrase, KDF_MEMORY_KIB, KDF_ITERATIONS, rng)
    }

    /// As [`KeyFile::seal`] with a chosen KDF cost (tests use a small one).
    pub fn seal_with_cost<R: RngCore + CryptoRng>(
        secret: &SecretKey,
        passphrase: &str,
        memory_kib: u32,
        iterations: u32,
        rng: &mut R,
    ) -> Result<KeyFile, KeyFileError> {
        if passphrase.chars().count() < MIN_PASSPHRASE {
            return Err(KeyFileError::WeakPassphrase);
        }
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut salt);
        rng.fill_bytes(&mut nonce);
        let public = PubKey::from_secret(secret);
        let ciphertext = cipher(passphrase, &salt, memory_kib, iterations)?
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: &secret.secret_bytes(), aad: &public.0 })
            .map_err(|_| KeyFileError::Decryption)?;
        Ok(KeyFile {
            version: KEYFILE_VERSION,
            public_key: public.to_hex(),
            kdf: "argon2id".into(),
            memory_kib,
            iterations,
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        })
    }

    /// Decrypts the secret key.
    pub fn open(&self, passphrase: &str) -> Result<SecretKey, KeyFileError> {
        let format = |what: &str| KeyFileError::Format(what.to_owned());
        if self.version != KEYFILE_VERSION || self.kdf != "argon2id" {
            return Err(format("unknown version or KDF"));
        }
        if self.memory_kib > MAX_KDF_MEMORY_KIB || self.iterations == 0 || self.iterations > 64 {
            return Err(KeyFileError::Parameters);
        }
        let public: [u8; 33] = hex::decode(&self.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format("bad public key"))?;
        let salt = hex::decode(&self.salt).map_err(|_| format("bad salt"))?;
        let nonce: [u8; 12] = hex::decode(&self.nonce)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format("bad nonce"))?;
        let ciphertext = hex::decode(&self.ciphertext).map_err(|_| format("bad ciphertext"))?;
        let plain = cipher(passphrase, &salt, self.memory_kib, self.iterations)?
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: &public })
            .map_err(|_| KeyFileError::Decryption)?;
        let bytes: [u8; 32] = plain.try_into().map_err(|_| KeyFileError::Decryption)?;
        let secret = SecretKey::from_byte_array(bytes).map_err(|_| KeyFileError::Decryption)?;
        if PubKey::from_secret(&secret).0 != public {
            return Err(KeyFileError::Decryption);
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_wrong_passphrases_and_tampering() {
        let secret = SecretKey::from_byte_array([9; 32]).unwrap();
        let file = KeyFile::seal_with_cost(&secret, "correct horse", 64, 1, &mut rand::rng()).unwrap();
        assert!(!serde_json::to_string(&file).unwrap().contains(&hex::encode(secret.secret_bytes())));
        assert_eq!(file.open("correct horse").unwrap(), secret);
        assert!(matches!(file.open("wrong horse!"), Err(KeyFileError::Decryption)));
        let mut relabelled = file.clone();
        relabelled.public_key = PubKey::from_secret(&SecretKey::from_byte_array([8; 32]).unwrap()).to_hex();
        assert!(matches!(relabelled.open("correct horse"), Err(KeyFileError::Decryption)));
        let mut greedy = file.clone();
        greedy.memory_kib = u32::MAX;
        assert!(matches!(greedy.open("correct horse"), Err(KeyFileError::Parameters)));
        assert!(matches!(
            KeyFile::seal(&secret, "short", &mut rand::rng()),
            Err(KeyFileError::WeakPassphrase)
        ));
    }
}
