//! Record keys on their way to a reader: sealed to a key (a key deposit, a share, a handover),
//! opened with the reader's secret, or recovered from emergency shares released to it.

use medchain_primitives::PubKey;
use medchain_primitives::ecies::{self, EciesError};
use rand::{CryptoRng, RngCore};
use secp256k1::SecretKey;
use thiserror::Error;

use crate::record::{RECORD_SECRET_SIZE, RecordSecret};
use crate::shamir::{self, ShamirError, Share};

/// Why a record key could not be sealed, opened or recovered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The recipient's key is not a valid public key.
    #[error("{0} is not a valid public key")]
    BadRecipient(String),
    /// An envelope did not open with this secret.
    #[error("the envelope does not open with this key: {0}")]
    Envelope(#[from] EciesError),
    /// What opened is not a record secret (key and salt).
    #[error("the envelope holds {0} bytes, not a {RECORD_SECRET_SIZE}-byte record key and salt")]
    NotARecordSecret(usize),
    /// A released share does not parse.
    #[error("a released share is too short")]
    BadShare,
    /// The shares do not recover a key.
    #[error("{count} released shares do not recover the key: {error}")]
    Shares {
        /// How many were released.
        count: usize,
        /// Why.
        error: ShamirError,
    },
}

/// `secret` sealed to `recipient` (ECIES).
pub fn seal_to<R: RngCore + CryptoRng>(
    recipient: &PubKey,
    secret: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>, KeyError> {
    let key = recipient.key().ok_or_else(|| KeyError::BadRecipient(recipient.to_hex()))?;
    Ok(ecies::seal(&key, secret, rng)?)
}

/// The record secret an envelope (a key deposit) seals to `reader`.
pub fn open_record_secret(reader: &SecretKey, envelope: &[u8]) -> Result<RecordSecret, KeyError> {
    let bytes = ecies::open(reader, envelope)?;
    RecordSecret::from_bytes(&bytes).ok_or(KeyError::NotARecordSecret(bytes.len()))
}

/// The bare record key an envelope seals to `reader` (the institution's handover to the
/// patient, which carries the salt beside it).
pub fn open_record_key(
    reader: &SecretKey,
    envelope: &[u8],
) -> Result<[u8; crate::record::RECORD_KEY_SIZE], KeyError> {
    let bytes = ecies::open(reader, envelope)?;
    let length = bytes.len();
    bytes.try_into().map_err(|_| KeyError::NotARecordSecret(length))
}

/// The record secret combined from the share envelopes released to `reader`.
pub fn recover_from_shares<'a>(
    reader: &SecretKey,
    envelopes: impl IntoIterator<Item = &'a [u8]>,
) -> Result<RecordSecret, KeyError> {
    let mut shares = Vec::new();
    for envelope in envelopes {
        shares.push(Share::from_bytes(&ecies::open(reader, envelope)?).ok_or(KeyError::BadShare)?);
    }
    let key = shamir::combine(&shares).map_err(|error| KeyError::Shares { count: shares.len(), error })?;
    RecordSecret::from_bytes(&key).ok_or(KeyError::NotARecordSecret(key.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_travels_sealed_and_comes_back_from_shares() {
        let mut rng = rand::rng();
        let reader = SecretKey::from_byte_array([9; 32]).unwrap();
        let reader_key = PubKey::from_secret(&reader);
        let secret = RecordSecret { key: [5; 32], salt: [6; 32] };
        let deposit = seal_to(&reader_key, &secret.to_bytes(), &mut rng).unwrap();
        assert_eq!(open_record_secret(&reader, &deposit).unwrap(), secret);
        let other = SecretKey::from_byte_array([8; 32]).unwrap();
        assert!(matches!(open_record_secret(&other, &deposit), Err(KeyError::Envelope(_))));
        let short = seal_to(&reader_key, b"not a key", &mut rng).unwrap();
        assert_eq!(open_record_secret(&reader, &short), Err(KeyError::NotARecordSecret(9)));
        let handover = seal_to(&reader_key, &secret.key, &mut rng).unwrap();
        assert_eq!(open_record_key(&reader, &handover).unwrap(), secret.key);

        let shares = shamir::split(&secret.to_bytes(), 2, 3, &mut rng).unwrap();
        let sealed: Vec<Vec<u8>> =
            shares.iter().map(|s| seal_to(&reader_key, &s.to_bytes(), &mut rng).unwrap()).collect();
        let two = sealed.iter().take(2).map(Vec::as_slice);
        assert_eq!(recover_from_shares(&reader, two).unwrap(), secret);
        assert!(matches!(
            recover_from_shares(&reader, sealed.iter().take(1).map(Vec::as_slice)),
            Err(KeyError::Shares { count: 1, .. })
        ));
    }
}
