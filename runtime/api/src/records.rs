//! Records and who reads them: a patient's records and audit log, accesses with their share
//! releases, the read log, read challenges and uploads.

use medchain_primitives::{Hash32, PubKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::HexBytes;

/// `GET /v1/patients/{key}/records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordList {
    /// The page.
    pub records: Vec<RecordView>,
    /// The offset of the next page, if any.
    pub next: Option<usize>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    /// The storage transaction's id.
    pub record: Hash32,
    /// The patient who owns it.
    pub patient: PubKey,
    /// The release it stores.
    pub release: Hash32,
    /// The ciphertext's hash in the record store.
    pub ciphertext: Hash32,
    /// The access policy (a locking script).
    pub policy: HexBytes,
    /// Where it was stored.
    pub height: u32,
    /// The record key's emergency shares, if any.
    pub emergency: Option<EmergencySharesView>,
}

/// A record key split for break-glass: the threshold and each holder's sealed share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencySharesView {
    /// Shares needed.
    pub threshold: u8,
    /// The shares.
    pub shares: Vec<ShareView>,
}

/// One holder's sealed share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareView {
    /// The holder.
    pub holder: PubKey,
    /// The share, sealed to the holder.
    pub envelope: HexBytes,
    /// The check a released share must match.
    pub check: Hash32,
}

/// `GET /v1/patients/{key}/audit`: every access to the patient's records and every read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// The patient.
    pub patient: PubKey,
    /// The page of accesses.
    pub accesses: Vec<AccessSummary>,
    /// The page of reads, oldest first.
    pub reads: Vec<ReadEntry>,
    /// The offset of the next page of either, if any.
    pub next: Option<usize>,
    /// The node's read log.
    pub read_log: ReadLogState,
}

/// A grant or emergency access in an audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSummary {
    /// The access transaction's id.
    pub access: Hash32,
    /// Who may read.
    pub grantee: PubKey,
    /// Whether it is a break-glass access.
    pub emergency: bool,
    /// The justification of an emergency access, sealed: the patient's copy first, then one per
    /// share holder (none for a grant).
    pub justification: Vec<HexBytes>,
    /// The salted commitment every copy of the justification is checked against (none for a
    /// grant).
    pub justification_commitment: Option<Hash32>,
    /// The purpose code (0 for emergencies).
    pub purpose: u32,
    /// Where it was granted.
    pub height: u32,
    /// From which height it may be used (an emergency's veto window ends there).
    pub unlocks: u32,
    /// Whether it was vetoed (revoked within its veto window): it never allows a read.
    pub vetoed: bool,
    /// Reads are allowed below this height (0: no end).
    pub expiry: u32,
    /// Where it was revoked, if it was.
    pub revoked_at: Option<u32>,
    /// Whether it lets its grantee read at the tip.
    pub active: bool,
    /// The records.
    pub records: Vec<Hash32>,
}

/// `GET /v1/accesses/{txid}`: one access with the key shares released for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessView {
    /// The access transaction's id.
    pub access: Hash32,
    /// Who may read.
    pub grantee: PubKey,
    /// The records' owner.
    pub patient: PubKey,
    /// Whether it is a break-glass access.
    pub emergency: bool,
    /// Reads are allowed below this height (0: no end).
    pub expiry: u32,
    /// From which height it may be used (an emergency's veto window ends there).
    pub unlocks: u32,
    /// Whether it was vetoed (revoked within its veto window): it never allows a read.
    pub vetoed: bool,
    /// Whether it lets its grantee read at the tip.
    pub active: bool,
    /// The records.
    pub records: Vec<Hash32>,
    /// The shares released for it.
    pub share_releases: Vec<ShareRelease>,
}

/// A key share re-sealed to an emergency's requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRelease {
    /// The record.
    pub record: Hash32,
    /// The holder who released it.
    pub holder: PubKey,
    /// The share, sealed to the requester.
    pub envelope: HexBytes,
}

/// One read the node served: a line of its read log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadEntry {
    /// Unix time of the read (the node's clock; the log is not consensus).
    pub time: u64,
    /// The record's patient.
    pub patient: PubKey,
    /// Who read.
    pub reader: PubKey,
    /// The record.
    pub record: Hash32,
    /// The access it went through; none (`""`) for the patient's own read.
    #[serde(serialize_with = "access_out", deserialize_with = "access_in")]
    pub access: Option<Hash32>,
    /// Whether that access was an emergency.
    pub emergency: bool,
}

fn access_out<S: Serializer>(access: &Option<Hash32>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&access.map(|a| a.to_hex()).unwrap_or_default())
}

fn access_in<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Hash32>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    if text.is_empty() {
        return Ok(None);
    }
    Hash32::from_hex(&text)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not an access id")))
}

/// `GET /v1/reads`: the read log's size, head and last anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadLogState {
    /// Reads logged.
    pub count: usize,
    /// The hash committing to all of them.
    pub head: Hash32,
    /// Where the log was last anchored on chain.
    pub anchored: Option<Anchor>,
}

/// Where the read log was anchored on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The block whose coinbase carries it.
    pub height: u32,
    /// How many reads it covers.
    pub count: usize,
    /// The log's hash after them.
    pub head: Hash32,
}

/// `POST /v1/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// 32 bytes to sign.
    pub challenge: HexBytes,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

/// `201` to `PUT /v1/ciphertexts/{hash}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    /// The ciphertext's hash.
    pub hash: Hash32,
    /// Its size in bytes.
    pub size: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owners_read_has_an_empty_access() {
        let key =
            PubKey::from_hex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap();
        let entry = ReadEntry {
            time: 1,
            patient: key,
            reader: key,
            record: Hash32([7; 32]),
            access: None,
            emergency: false,
        };
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["access"], "");
        assert_eq!(serde_json::from_value::<ReadEntry>(json).ok(), Some(entry));
        let garbled = serde_json::json!({"time": 1, "patient": key, "reader": key, "record": Hash32([7; 32]),
            "access": "zz", "emergency": false});
        assert!(serde_json::from_value::<ReadEntry>(garbled).is_err());
    }
}
