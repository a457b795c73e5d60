//! The handover file an institution gives a patient with a release: the release, where the
//! ciphertext is, the salt of the release's commitment, and the record key sealed to the
//! patient.

use medchain_api::HexBytes;
use medchain_primitives::Hash32;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The handover, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    /// The release transaction.
    pub release: Hash32,
    /// The ciphertext's hash in the record store.
    pub ciphertext: Hash32,
    /// The salt of the release's commitment, `SHA-256(salt ‖ record)`.
    pub salt: HexBytes,
    /// The record key, sealed to the patient.
    pub key: HexBytes,
}

/// Why a handover file does not read.
#[derive(Debug, Error)]
#[error("not a handover file: {0}")]
pub struct HandoverError(#[from] serde_json::Error);

impl Handover {
    /// Parses a handover file's text.
    pub fn from_json(text: &str) -> Result<Handover, HandoverError> {
        Ok(serde_json::from_str(text)?)
    }

    /// The file's text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_and_refuses_what_is_not_one() {
        let handover = Handover {
            release: Hash32([1; 32]),
            ciphertext: Hash32([2; 32]),
            salt: HexBytes(vec![3; 32]),
            key: HexBytes(vec![4; 94]),
        };
        assert_eq!(Handover::from_json(&handover.to_json()).unwrap(), handover);
        assert!(Handover::from_json("{}").is_err());
        assert!(
            Handover::from_json(r#"{"release": "zz", "ciphertext": "", "salt": "", "key": ""}"#).is_err()
        );
        let extra = handover.to_json().replacen('{', r#"{"extra": 1,"#, 1);
        assert!(Handover::from_json(&extra).is_err());
    }
}
