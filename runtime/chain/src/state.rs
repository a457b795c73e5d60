//! The chain state's records, as stored: coins, releases, records, grants, roles. Each has a
//! canonical encoding and a typed accessor over a [`Store`].

use super::limits::{MAX_RECORDS_PER_ACCESS, MAX_SCRIPT_SIZE};
use super::store::{Store, StoreError, Table};
use super::transaction::{EmergencyShares, Justification, OutPoint, TxOut};
use medchain_primitives::codec::{CodecError, Decode, Encode, Reader, Writer};
use medchain_primitives::{Hash32, PubKey};

/// The schema version of the state this code writes and reads.
pub const SCHEMA_VERSION: u32 = 3;

/// An unspent output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coin {
    /// The output.
    pub output: TxOut,
    /// The height of the block that created it.
    pub height: u32,
    /// Whether a coinbase created it (it matures before it may be spent).
    pub coinbase: bool,
}

/// A release: an institution's commitment to a record it created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseEntry {
    /// The patient.
    pub patient: PubKey,
    /// The institution.
    pub institution: PubKey,
    /// The salted hash of the record.
    pub commitment: Hash32,
    /// Where it was released.
    pub height: u32,
}

/// A stored record and its access policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// The owner.
    pub patient: PubKey,
    /// The release it stores.
    pub release: Hash32,
    /// Hash of the ciphertext in the record store.
    pub ciphertext: Hash32,
    /// The access policy (a locking script).
    pub policy: Vec<u8>,
    /// The record key's emergency shares, if any.
    pub emergency: Option<EmergencyShares>,
    /// Where it was stored.
    pub height: u32,
    /// The time of that block.
    pub time: u64,
}

/// A grant or emergency access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantEntry {
    /// Who may read (for an emergency access, the institution).
    pub grantee: PubKey,
    /// The purpose code (0 for emergencies).
    pub purpose: u32,
    /// The records.
    pub records: Vec<Hash32>,
    /// The owner of the records.
    pub patient: PubKey,
    /// Reads are allowed below this height (0: no end).
    pub expiry: u32,
    /// Where it was granted.
    pub height: u32,
    /// The height from which it may be used: its own for a grant; for an emergency access,
    /// the end of its veto window, counted from its request.
    pub unlocks: u32,
    /// Whether this is a break-glass access.
    pub emergency: bool,
    /// The justification of an emergency access, sealed to the patient and the share holders
    /// (none for a grant).
    pub justification: Justification,
}

impl Encode for Coin {
    fn encode(&self, w: &mut Writer) {
        self.output.encode(w);
        w.u32(self.height);
        w.bool(self.coinbase);
    }
}

impl Decode for Coin {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Coin { output: TxOut::decode(r)?, height: r.u32("height")?, coinbase: r.bool("coinbase")? })
    }
}

impl Encode for ReleaseEntry {
    fn encode(&self, w: &mut Writer) {
        self.patient.encode(w);
        self.institution.encode(w);
        self.commitment.encode(w);
        w.u32(self.height);
    }
}

impl Decode for ReleaseEntry {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(ReleaseEntry {
            patient: PubKey::decode(r)?,
            institution: PubKey::decode(r)?,
            commitment: Hash32::decode(r)?,
            height: r.u32("height")?,
        })
    }
}

impl Encode for RecordEntry {
    fn encode(&self, w: &mut Writer) {
        self.patient.encode(w);
        self.release.encode(w);
        self.ciphertext.encode(w);
        w.bytes(&self.policy);
        w.option(self.emergency.as_ref());
        w.u32(self.height);
        w.u64(self.time);
    }
}

impl Decode for RecordEntry {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(RecordEntry {
            patient: PubKey::decode(r)?,
            release: Hash32::decode(r)?,
            ciphertext: Hash32::decode(r)?,
            policy: r.bytes("policy", MAX_SCRIPT_SIZE)?,
            emergency: r.option("emergency shares")?,
            height: r.u32("height")?,
            time: r.u64("time")?,
        })
    }
}

impl Encode for GrantEntry {
    fn encode(&self, w: &mut Writer) {
        self.grantee.encode(w);
        w.u32(self.purpose);
        w.list(&self.records);
        self.patient.encode(w);
        w.u32(self.expiry);
        w.u32(self.height);
        w.u32(self.unlocks);
        w.bool(self.emergency);
        self.justification.encode(w);
    }
}

impl Decode for GrantEntry {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(GrantEntry {
            grantee: PubKey::decode(r)?,
            purpose: r.u32("purpose")?,
            records: r.list("records", MAX_RECORDS_PER_ACCESS)?,
            patient: PubKey::decode(r)?,
            expiry: r.u32("expiry")?,
            height: r.u32("height")?,
            unlocks: r.u32("unlocks")?,
            emergency: r.bool("emergency")?,
            justification: Justification::decode(r)?,
        })
    }
}

/// Why the state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored value does not decode: the database is corrupt or from another version.
    #[error("stored {what} is corrupt: {error}")]
    Corrupt {
        /// What was read.
        what: &'static str,
        /// Why it does not decode.
        error: CodecError,
    },
}

fn decode<T: Decode>(what: &'static str, bytes: Option<Vec<u8>>) -> Result<Option<T>, StateError> {
    bytes.map(|b| T::from_bytes(&b).map_err(|error| StateError::Corrupt { what, error })).transpose()
}

/// Key of a role entry.
pub fn role_key(key: &PubKey, role: u32) -> Vec<u8> {
    [&key.0[..], &role.to_be_bytes()].concat()
}

/// Typed reads over a store.
pub trait StateRead: Store {
    /// An unspent output.
    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StateError> {
        decode("coin", self.get(Table::Utxo, &outpoint.to_bytes())?)
    }

    /// A release.
    fn release(&self, txid: &Hash32) -> Result<Option<ReleaseEntry>, StateError> {
        decode("release", self.get(Table::Release, &txid.0)?)
    }

    /// A stored record.
    fn record(&self, txid: &Hash32) -> Result<Option<RecordEntry>, StateError> {
        decode("record", self.get(Table::Record, &txid.0)?)
    }

    /// A grant or emergency access.
    fn grant(&self, txid: &Hash32) -> Result<Option<GrantEntry>, StateError> {
        decode("grant", self.get(Table::Grant, &txid.0)?)
    }

    /// The height a grant was revoked at.
    fn revoked_at(&self, txid: &Hash32) -> Result<Option<u32>, StateError> {
        Ok(self
            .get(Table::Revoked, &txid.0)?
            .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok())
            .map(u32::from_be_bytes))
    }

    /// A deployed policy module's code, by its SHA-256.
    fn module(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.get(Table::Module, &hash.0)?)
    }

    /// The roles `key` holds, ascending.
    fn roles_of(&self, key: &PubKey) -> Result<Vec<u32>, StateError> {
        Ok(self
            .scan(Table::Role, &key.0)?
            .iter()
            .filter_map(|(k, _)| {
                k.get(33..).and_then(|r| <[u8; 4]>::try_from(r).ok()).map(u32::from_be_bytes)
            })
            .collect())
    }

    /// Whether `key` holds `role`.
    fn has_role(&self, key: &PubKey, role: u32) -> Result<bool, StateError> {
        Ok(self.get(Table::Role, &role_key(key, role))?.is_some())
    }

    /// The height since which `key` holds `role` without a break (0 for a genesis role), if it
    /// holds it.
    fn role_since(&self, key: &PubKey, role: u32) -> Result<Option<u32>, StateError> {
        let Some(since) = self.get(Table::Role, &role_key(key, role))? else { return Ok(None) };
        let since = <[u8; 4]>::try_from(since.as_slice()).map_err(|_| StateError::Corrupt {
            what: "role",
            error: CodecError::UnexpectedEnd { field: "role height", offset: since.len() },
        })?;
        Ok(Some(u32::from_be_bytes(since)))
    }

    /// Whether a holder released its share for an emergency access and record.
    fn share_released(
        &self,
        emergency: &Hash32,
        record: &Hash32,
        holder: &PubKey,
    ) -> Result<bool, StateError> {
        Ok(self.get(Table::ShareRelease, &[&emergency.0[..], &record.0, &holder.0].concat())?.is_some())
    }

    /// Whether `voter` voted to veto an emergency access.
    fn veto_voted(&self, access: &Hash32, voter: &PubKey) -> Result<bool, StateError> {
        Ok(self.get(Table::VetoVote, &[&access.0[..], &voter.0].concat())?.is_some())
    }

    /// The records whose ciphertext has this hash.
    fn records_by_ciphertext(&self, ciphertext: &Hash32) -> Result<Vec<Hash32>, StateError> {
        Ok(self
            .scan(Table::RecordByCiphertext, &ciphertext.0)?
            .into_iter()
            .filter_map(|(key, _)| key.get(32..64).and_then(|b| <[u8; 32]>::try_from(b).ok()).map(Hash32))
            .collect())
    }

    /// The records a patient stored.
    fn patient_records(&self, patient: &PubKey) -> Result<Vec<Hash32>, StateError> {
        Ok(self
            .scan(Table::PatientRecord, &patient.0)?
            .into_iter()
            .filter_map(|(key, _)| key.get(33..65).and_then(|b| <[u8; 32]>::try_from(b).ok()).map(Hash32))
            .collect())
    }

    /// The accesses (grants and emergencies) to a patient's records, oldest first.
    fn patient_accesses(&self, patient: &PubKey) -> Result<Vec<Hash32>, StateError> {
        Ok(self
            .scan(Table::PatientAccess, &patient.0)?
            .into_iter()
            .filter_map(|(key, _)| key.get(37..69).and_then(|b| <[u8; 32]>::try_from(b).ok()).map(Hash32))
            .collect())
    }

    /// The share releases for an emergency access: (record, holder, envelope).
    fn share_releases(&self, emergency: &Hash32) -> Result<Vec<(Hash32, PubKey, Vec<u8>)>, StateError> {
        Ok(self
            .scan(Table::ShareRelease, &emergency.0)?
            .into_iter()
            .filter_map(|(key, envelope)| {
                let record = Hash32(key.get(32..64)?.try_into().ok()?);
                let holder = PubKey::parse(key.get(64..97)?.try_into().ok()?)?;
                Some((record, holder, envelope))
            })
            .collect())
    }

    /// The block at a height.
    fn block(&self, height: u32) -> Result<Option<super::block::Block>, StateError> {
        decode("block", self.get(Table::Block, &height.to_be_bytes())?)
    }

    /// A transaction with its block header and the proof that it is in that block.
    fn transaction_proof(
        &self,
        txid: &Hash32,
    ) -> Result<
        Option<(
            super::transaction::Transaction,
            super::block::Header,
            medchain_primitives::merkle::MerkleProof,
        )>,
        StateError,
    > {
        let Some((height, index)) = self.tx_location(txid)? else { return Ok(None) };
        let Some(block) = self.block(height)? else { return Ok(None) };
        let txids: Vec<Hash32> =
            block.transactions.iter().map(super::transaction::Transaction::txid).collect();
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        let (Some(tx), Some(proof)) =
            (block.transactions.get(index), medchain_primitives::merkle::MerkleProof::build(&txids, index))
        else {
            return Ok(None);
        };
        Ok(Some((tx.clone(), block.header, proof)))
    }

    /// Where a transaction is: (height, index in block).
    fn tx_location(&self, txid: &Hash32) -> Result<Option<(u32, u32)>, StateError> {
        Ok(self.get(Table::TxIndex, &txid.0)?.and_then(|b| {
            let height = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
            let index = u32::from_be_bytes(b.get(4..8)?.try_into().ok()?);
            Some((height, index))
        }))
    }
}

impl<S: Store + ?Sized> StateRead for S {}
