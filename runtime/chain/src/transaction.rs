//! Transactions: token inputs and outputs (as in Bitcoin) and a payload that says what the
//! transaction does for records: register a role, release, store, grant, break the glass,
//! release a key share, revoke, deploy a policy module.

use super::limits::{
    MAX_EMERGENCY_SHARES, MAX_ENVELOPE_SIZE, MAX_JUSTIFICATION, MAX_RECORDS_PER_ACCESS, MAX_SCRIPT_SIZE,
    MAX_TX_IO, MAX_TX_SIZE, SALT_SIZE,
};
use medchain_primitives::codec::{CodecError, Decode, Encode, Reader, Writer};
use medchain_primitives::ecies::ENVELOPE_OVERHEAD;
use medchain_primitives::{Hash32, PubKey, Sig};

/// The transaction format version.
pub const TX_VERSION: u8 = 1;

/// Domain separation for the signing digest.
const SIGNING_DOMAIN: &[u8] = b"medchain/tx-signing/v1";

/// A reference to a transaction output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutPoint {
    /// The transaction.
    pub txid: Hash32,
    /// The output's index.
    pub index: u32,
}

/// A token input: spends an output with an unlocking script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIn {
    /// The output spent.
    pub prevout: OutPoint,
    /// The unlocking script (left out of the signing digest).
    pub unlock: Vec<u8>,
    /// Relative lock (BIP 68 encoding), as in Bitcoin.
    pub sequence: u32,
}

/// A token output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOut {
    /// Tokens, in the smallest unit.
    pub value: u64,
    /// The locking script.
    pub lock: Vec<u8>,
}

/// One record an access asks for: the unlocking script for the record's policy, and the
/// record key encrypted to the grantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAccess {
    /// The storage transaction that stored the record.
    pub record: Hash32,
    /// The unlocking script for the record's policy (left out of the signing digest).
    pub unlock: Vec<u8>,
    /// Relative lock for the policy's `older` conditions (BIP 68 encoding).
    pub sequence: u32,
    /// The key deposit: the record key in an ECIES envelope to the grantee (may be empty for
    /// an emergency access, which decrypts through key shares).
    pub deposit: Vec<u8>,
}

/// A share of a record key deposited for one emergency institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareDeposit {
    /// The institution holding the share.
    pub holder: PubKey,
    /// The share in an ECIES envelope to the holder.
    pub envelope: Vec<u8>,
    /// SHA-256 of the share under a domain tag and the holder's key: whoever combines released
    /// shares checks each against it, so a bad share is named, never silently combined.
    pub check: Hash32,
}

/// A record key split among emergency institutions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyShares {
    /// How many shares recover the key.
    pub threshold: u8,
    /// One share per institution.
    pub shares: Vec<ShareDeposit>,
}

/// What a transaction does besides moving tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Moves tokens only.
    Transfer,
    /// Creates the block reward and collects fees; the block's first transaction.
    Coinbase {
        /// The block's height (makes every coinbase unique).
        height: u32,
    },
    /// A governance key gives `subject` a role.
    RegisterRole {
        /// The key that gets the role.
        subject: PubKey,
        /// The role's number.
        role: u32,
        /// The governance key deciding (named in the genesis file).
        governor: PubKey,
        /// The governor's signature.
        signature: Sig,
    },
    /// A governance key takes a role away.
    WithdrawRole {
        /// The key that loses the role.
        subject: PubKey,
        /// The role's number.
        role: u32,
        /// The governance key deciding.
        governor: PubKey,
        /// The governor's signature.
        signature: Sig,
    },
    /// An institution commits to a record it created for a patient.
    Release {
        /// The patient.
        patient: PubKey,
        /// The institution (must hold the medical-institution role).
        institution: PubKey,
        /// Salted hash of the record: SHA-256(salt ‖ record).
        commitment: Hash32,
        /// The institution's signature.
        signature: Sig,
    },
    /// The patient stores the record and attaches its access policy.
    Storage {
        /// The release transaction.
        release: Hash32,
        /// The patient (must be the release's patient).
        patient: PubKey,
        /// Hash of the ciphertext in the record store.
        ciphertext: Hash32,
        /// The access policy: a locking script, usually compiled MedScript.
        policy: Vec<u8>,
        /// The record key split among emergency institutions, if break-glass should decrypt.
        emergency: Option<EmergencyShares>,
        /// The patient's signature.
        signature: Sig,
    },
    /// Grants `grantee` access to records, each through its policy.
    AccessGrant {
        /// Who may read.
        grantee: PubKey,
        /// Why (a purpose-of-use code).
        purpose: u32,
        /// The records.
        records: Vec<RecordAccess>,
    },
    /// Break-glass: an institution's emergency access, recorded where the patient sees it.
    EmergencyAccess {
        /// The institution.
        requester: PubKey,
        /// Why, in words, sealed to the patient and to the records' share holders, with a
        /// commitment that makes every copy the same text. No text is public.
        justification: Justification,
        /// The records.
        records: Vec<RecordAccess>,
        /// The requester's signature.
        signature: Sig,
    },
    /// An emergency institution releases its share of a record key to the requester.
    ShareRelease {
        /// The emergency access.
        emergency: Hash32,
        /// The record.
        record: Hash32,
        /// The share holder.
        holder: PubKey,
        /// The share in an ECIES envelope to the requester.
        envelope: Vec<u8>,
        /// The holder's signature.
        signature: Sig,
    },
    /// Deploys a wasm policy module: its code is stored under its SHA-256 once it passes
    /// admission, and scripts may call it from the next block on.
    DeployModule {
        /// The module's wasm bytes.
        code: Vec<u8>,
    },
    /// The record owner ends a grant.
    Revocation {
        /// The grant.
        grant: Hash32,
        /// The owner of the granted records.
        owner: PubKey,
        /// The owner's signature.
        signature: Sig,
    },
    /// A vote to veto an emergency access within its veto window: the patient's vote vetoes
    /// it, and so do the votes of as many of a covered record's share holders as recover its
    /// key.
    Veto {
        /// The emergency access.
        access: Hash32,
        /// Who votes: the patient or a share holder.
        voter: PubKey,
        /// The voter's signature.
        signature: Sig,
    },
}

/// Text sealed to one reader: an ECIES envelope of a salt and at most [`MAX_JUSTIFICATION`]
/// bytes of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed(pub Vec<u8>);

/// An emergency's justification: copies sealed to each reader (the patient first, then the
/// share holders), each holding a salt and the text, and the salted commitment
/// SHA-256(domain ‖ salt ‖ text) every reader checks its copy against, so that all copies say
/// the same thing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Justification {
    /// The salted commitment to the text.
    pub commitment: Hash32,
    /// The sealed copies.
    pub copies: Vec<Sealed>,
}

impl Encode for Justification {
    fn encode(&self, w: &mut Writer) {
        self.commitment.encode(w);
        w.list(&self.copies);
    }
}

impl Decode for Justification {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Justification {
            commitment: Hash32::decode(r)?,
            copies: r.list("sealed justifications", MAX_JUSTIFICATION_COPIES)?,
        })
    }
}

/// Most sealed copies of a justification: the patient's and one per share holder.
pub const MAX_JUSTIFICATION_COPIES: usize = MAX_EMERGENCY_SHARES + 1;

/// The largest sealed text, in bytes: an envelope of a salt and the longest justification.
pub const MAX_SEALED_SIZE: usize = ENVELOPE_OVERHEAD + SALT_SIZE + MAX_JUSTIFICATION;

impl Encode for Sealed {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&self.0);
    }
}

impl Decode for Sealed {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Sealed(r.bytes("sealed text", MAX_SEALED_SIZE)?))
    }
}

/// A transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Format version ([`TX_VERSION`]).
    pub version: u8,
    /// Token inputs.
    pub inputs: Vec<TxIn>,
    /// Token outputs.
    pub outputs: Vec<TxOut>,
    /// Not valid before this height (or time, from 500,000,000 on); 0 for none.
    pub lock_time: u32,
    /// Not valid at or after this height; for accesses, when the access ends. 0 for never.
    pub expiry: u32,
    /// Most fuel each script check (an input's script or a record's policy) may burn in
    /// policy modules, paid for in the fee (see [`super::limits::fuel_fee`]). 0 for none.
    pub fuel: u64,
    /// What the transaction does.
    pub payload: Payload,
}

impl Encode for OutPoint {
    fn encode(&self, w: &mut Writer) {
        self.txid.encode(w);
        w.u32(self.index);
    }
}

impl Decode for OutPoint {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(OutPoint { txid: Hash32::decode(r)?, index: r.u32("output index")? })
    }
}

/// Writes an unlocking script, or nothing in signing mode.
fn unlock_script(w: &mut Writer, script: &[u8]) {
    w.bytes(if w.signing() { &[] } else { script });
}

impl Encode for TxIn {
    fn encode(&self, w: &mut Writer) {
        self.prevout.encode(w);
        unlock_script(w, &self.unlock);
        w.u32(self.sequence);
    }
}

impl Decode for TxIn {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(TxIn {
            prevout: OutPoint::decode(r)?,
            unlock: r.bytes("unlocking script", MAX_SCRIPT_SIZE)?,
            sequence: r.u32("sequence")?,
        })
    }
}

impl Encode for TxOut {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.value);
        w.bytes(&self.lock);
    }
}

impl Decode for TxOut {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(TxOut { value: r.u64("value")?, lock: r.bytes("locking script", MAX_SCRIPT_SIZE)? })
    }
}

impl Encode for RecordAccess {
    fn encode(&self, w: &mut Writer) {
        self.record.encode(w);
        unlock_script(w, &self.unlock);
        w.u32(self.sequence);
        w.bytes(&self.deposit);
    }
}

impl Decode for RecordAccess {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(RecordAccess {
            record: Hash32::decode(r)?,
            unlock: r.bytes("unlocking script", MAX_SCRIPT_SIZE)?,
            sequence: r.u32("sequence")?,
            deposit: r.bytes("key deposit", MAX_ENVELOPE_SIZE)?,
        })
    }
}

impl Encode for ShareDeposit {
    fn encode(&self, w: &mut Writer) {
        self.holder.encode(w);
        w.bytes(&self.envelope);
        self.check.encode(w);
    }
}

impl Decode for ShareDeposit {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(ShareDeposit {
            holder: PubKey::decode(r)?,
            envelope: r.bytes("share envelope", MAX_ENVELOPE_SIZE)?,
            check: Hash32::decode(r)?,
        })
    }
}

impl Encode for EmergencyShares {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.threshold);
        w.list(&self.shares);
    }
}

impl Decode for EmergencyShares {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(EmergencyShares {
            threshold: r.u8("share threshold")?,
            shares: r.list("shares", MAX_EMERGENCY_SHARES)?,
        })
    }
}

impl Payload {
    /// Sets the author's signature, for payloads that carry one (all but transfers, coinbases and
    /// grants, which the record policy authorizes).
    pub fn set_signature(&mut self, sig: Sig) {
        match self {
            Payload::RegisterRole { signature, .. }
            | Payload::WithdrawRole { signature, .. }
            | Payload::Release { signature, .. }
            | Payload::Storage { signature, .. }
            | Payload::EmergencyAccess { signature, .. }
            | Payload::ShareRelease { signature, .. }
            | Payload::Revocation { signature, .. }
            | Payload::Veto { signature, .. } => *signature = sig,
            Payload::Transfer
            | Payload::Coinbase { .. }
            | Payload::AccessGrant { .. }
            | Payload::DeployModule { .. } => {}
        }
    }

    /// The record accesses of a grant or emergency access.
    pub fn record_accesses(&self) -> &[RecordAccess] {
        match self {
            Payload::AccessGrant { records, .. } | Payload::EmergencyAccess { records, .. } => records,
            _ => &[],
        }
    }

    /// The record accesses of a grant or emergency access, to fill in their unlocking scripts.
    pub fn record_accesses_mut(&mut self) -> &mut [RecordAccess] {
        match self {
            Payload::AccessGrant { records, .. } | Payload::EmergencyAccess { records, .. } => records,
            _ => &mut [],
        }
    }

    /// Which kind of payload this is.
    pub fn kind(&self) -> PayloadKind {
        match self {
            Payload::Transfer => PayloadKind::Transfer,
            Payload::Coinbase { .. } => PayloadKind::Coinbase,
            Payload::RegisterRole { .. } => PayloadKind::RegisterRole,
            Payload::WithdrawRole { .. } => PayloadKind::WithdrawRole,
            Payload::Release { .. } => PayloadKind::Release,
            Payload::Storage { .. } => PayloadKind::Storage,
            Payload::AccessGrant { .. } => PayloadKind::AccessGrant,
            Payload::EmergencyAccess { .. } => PayloadKind::EmergencyAccess,
            Payload::ShareRelease { .. } => PayloadKind::ShareRelease,
            Payload::Revocation { .. } => PayloadKind::Revocation,
            Payload::DeployModule { .. } => PayloadKind::DeployModule,
            Payload::Veto { .. } => PayloadKind::Veto,
        }
    }

    /// The payload's tag byte.
    pub fn tag(&self) -> u8 {
        self.kind().tag()
    }
}

/// Declares [`PayloadKind`] from one table: each kind's variant, tag byte and name.
macro_rules! payload_kinds {
    ($($(#[$doc:meta])* $kind:ident = $tag:literal, $name:literal;)*) => {
        /// Every kind of payload, with its tag byte and its name: the one table a new payload is
        /// added to. The codec and validation match on it exhaustively, so the compiler names
        /// every place a new kind must be handled.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum PayloadKind {
            $($(#[$doc])* $kind,)*
        }

        impl PayloadKind {
            /// Every kind, in tag order.
            pub const ALL: &'static [PayloadKind] = &[$(PayloadKind::$kind,)*];

            /// The tag byte that starts the payload's encoding.
            pub const fn tag(self) -> u8 {
                match self {
                    $(PayloadKind::$kind => $tag,)*
                }
            }

            /// A short lowercase name, as the API reports it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(PayloadKind::$kind => $name,)*
                }
            }

            /// The kind a tag byte stands for.
            pub const fn from_tag(tag: u8) -> Option<PayloadKind> {
                match tag {
                    $($tag => Some(PayloadKind::$kind),)*
                    _ => None,
                }
            }
        }
    };
}

payload_kinds! {
    /// Tokens moving.
    Transfer = 0, "transfer";
    /// A block's reward.
    Coinbase = 1, "coinbase";
    /// A governor gives a role.
    RegisterRole = 2, "register_role";
    /// A governor takes a role.
    WithdrawRole = 3, "withdraw_role";
    /// An institution commits to a record.
    Release = 4, "release";
    /// A patient stores a record under a policy.
    Storage = 5, "storage";
    /// A grant of access through records' policies.
    AccessGrant = 6, "access_grant";
    /// Break-glass access.
    EmergencyAccess = 7, "emergency_access";
    /// A share of a record key released to an emergency's requester.
    ShareRelease = 8, "share_release";
    /// The owner ends a grant.
    Revocation = 9, "revocation";
    /// A wasm policy module deployed.
    DeployModule = 10, "deploy_module";
    /// A vote to veto an emergency access.
    Veto = 11, "veto";
}

impl std::fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Encode for Payload {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.tag());
        match self {
            Payload::Transfer => {}
            Payload::Coinbase { height } => w.u32(*height),
            Payload::RegisterRole { subject, role, governor, signature }
            | Payload::WithdrawRole { subject, role, governor, signature } => {
                subject.encode(w);
                w.u32(*role);
                governor.encode(w);
                signature.encode(w);
            }
            Payload::Release { patient, institution, commitment, signature } => {
                patient.encode(w);
                institution.encode(w);
                commitment.encode(w);
                signature.encode(w);
            }
            Payload::Storage { release, patient, ciphertext, policy, emergency, signature } => {
                release.encode(w);
                patient.encode(w);
                ciphertext.encode(w);
                w.bytes(policy);
                w.option(emergency.as_ref());
                signature.encode(w);
            }
            Payload::AccessGrant { grantee, purpose, records } => {
                grantee.encode(w);
                w.u32(*purpose);
                w.list(records);
            }
            Payload::EmergencyAccess { requester, justification, records, signature } => {
                requester.encode(w);
                justification.encode(w);
                w.list(records);
                signature.encode(w);
            }
            Payload::ShareRelease { emergency, record, holder, envelope, signature } => {
                emergency.encode(w);
                record.encode(w);
                holder.encode(w);
                w.bytes(envelope);
                signature.encode(w);
            }
            Payload::Revocation { grant: access, owner: voter, signature }
            | Payload::Veto { access, voter, signature } => {
                access.encode(w);
                voter.encode(w);
                signature.encode(w);
            }
            Payload::DeployModule { code } => w.bytes(code),
        }
    }
}

impl Decode for Payload {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let tag = r.u8("payload")?;
        let kind = PayloadKind::from_tag(tag).ok_or(CodecError::UnknownTag { field: "payload", tag })?;
        Ok(match kind {
            PayloadKind::Transfer => Payload::Transfer,
            PayloadKind::Coinbase => Payload::Coinbase { height: r.u32("height")? },
            PayloadKind::RegisterRole | PayloadKind::WithdrawRole => {
                let (subject, role, governor, signature) =
                    (PubKey::decode(r)?, r.u32("role")?, PubKey::decode(r)?, Sig::decode(r)?);
                if kind == PayloadKind::RegisterRole {
                    Payload::RegisterRole { subject, role, governor, signature }
                } else {
                    Payload::WithdrawRole { subject, role, governor, signature }
                }
            }
            PayloadKind::Release => Payload::Release {
                patient: PubKey::decode(r)?,
                institution: PubKey::decode(r)?,
                commitment: Hash32::decode(r)?,
                signature: Sig::decode(r)?,
            },
            PayloadKind::Storage => Payload::Storage {
                release: Hash32::decode(r)?,
                patient: PubKey::decode(r)?,
                ciphertext: Hash32::decode(r)?,
                policy: r.bytes("policy", MAX_SCRIPT_SIZE)?,
                emergency: r.option("emergency shares")?,
                signature: Sig::decode(r)?,
            },
            PayloadKind::AccessGrant => Payload::AccessGrant {
                grantee: PubKey::decode(r)?,
                purpose: r.u32("purpose")?,
                records: r.list("records", MAX_RECORDS_PER_ACCESS)?,
            },
            PayloadKind::EmergencyAccess => Payload::EmergencyAccess {
                requester: PubKey::decode(r)?,
                justification: Justification::decode(r)?,
                records: r.list("records", MAX_RECORDS_PER_ACCESS)?,
                signature: Sig::decode(r)?,
            },
            PayloadKind::ShareRelease => Payload::ShareRelease {
                emergency: Hash32::decode(r)?,
                record: Hash32::decode(r)?,
                holder: PubKey::decode(r)?,
                envelope: r.bytes("share envelope", MAX_ENVELOPE_SIZE)?,
                signature: Sig::decode(r)?,
            },
            PayloadKind::Revocation => Payload::Revocation {
                grant: Hash32::decode(r)?,
                owner: PubKey::decode(r)?,
                signature: Sig::decode(r)?,
            },
            PayloadKind::Veto => Payload::Veto {
                access: Hash32::decode(r)?,
                voter: PubKey::decode(r)?,
                signature: Sig::decode(r)?,
            },
            // Bounded by the transaction's size only: admission names a module that is too large.
            PayloadKind::DeployModule => Payload::DeployModule { code: r.bytes("module code", MAX_TX_SIZE)? },
        })
    }
}

impl Encode for Transaction {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.version);
        w.list(&self.inputs);
        w.list(&self.outputs);
        w.u32(self.lock_time);
        w.u32(self.expiry);
        w.u64(self.fuel);
        self.payload.encode(w);
    }
}

impl Decode for Transaction {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let version = r.u8("version")?;
        if version != TX_VERSION {
            return Err(CodecError::UnknownTag { field: "transaction version", tag: version });
        }
        Ok(Transaction {
            version,
            inputs: r.list("inputs", MAX_TX_IO)?,
            outputs: r.list("outputs", MAX_TX_IO)?,
            lock_time: r.u32("lock time")?,
            expiry: r.u32("expiry")?,
            fuel: r.u64("fuel")?,
            payload: Payload::decode(r)?,
        })
    }
}

impl Transaction {
    /// A transaction with the current version.
    pub fn new(inputs: Vec<TxIn>, outputs: Vec<TxOut>, payload: Payload) -> Self {
        Transaction { version: TX_VERSION, inputs, outputs, lock_time: 0, expiry: 0, fuel: 0, payload }
    }

    /// The transaction id: double SHA-256 of the full encoding.
    pub fn txid(&self) -> Hash32 {
        Hash32::double_sha256(&self.to_bytes())
    }

    /// The digest every signature in the transaction signs: double SHA-256 of a domain tag,
    /// the chain id and the encoding without unlocking scripts and signatures. It commits to
    /// the chain and to everything else, so no signature replays across chains or transactions.
    pub fn signing_digest(&self, chain_id: &Hash32) -> Hash32 {
        let mut w = Writer::for_signing();
        w.fixed(SIGNING_DOMAIN);
        chain_id.encode(&mut w);
        self.encode(&mut w);
        Hash32::double_sha256(&w.finish())
    }

    /// The records an access asks for, if this is an access.
    pub fn record_accesses(&self) -> &[RecordAccess] {
        self.payload.record_accesses()
    }

    /// How many script checks validation runs: one per input, one per record accessed. Each
    /// may burn the declared fuel.
    pub fn script_checks(&self) -> usize {
        self.inputs.len().saturating_add(self.record_accesses().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_table_is_one_to_one() {
        for (position, kind) in PayloadKind::ALL.iter().enumerate() {
            assert_eq!(usize::from(kind.tag()), position, "tags are dense and in order");
            assert_eq!(PayloadKind::from_tag(kind.tag()), Some(*kind));
        }
        let mut names: Vec<&str> = PayloadKind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PayloadKind::ALL.len(), "names are unique");
        let next = u8::try_from(PayloadKind::ALL.len()).unwrap();
        assert_eq!(PayloadKind::from_tag(next), None);
        let unknown = Reader::new(&[next]).u8("payload").map(PayloadKind::from_tag);
        assert_eq!(unknown, Ok(None));
        assert!(matches!(
            Payload::from_bytes(&[next]),
            Err(CodecError::UnknownTag { field: "payload", tag }) if tag == next
        ));
    }
}
