//! Why a transaction or a block is invalid: one variant per rule, each with a stable code.

use medchain_modules::AdmissionError;
use medchain_primitives::Hash32;
use medchain_vm::ScriptError;
use thiserror::Error;

use crate::limits::{
    COINBASE_MATURITY, MAX_BLOCK_FUEL, MAX_BLOCK_SCRIPT_CHECKS, MAX_BLOCK_SIZE, MAX_BLOCK_TXS, MAX_FUEL,
    MAX_JUSTIFICATION, MAX_TIME_AFTER_MEDIAN, MAX_TX_SIZE, MEDIAN_TIME_SPAN, MIN_FEE_PER_KB,
};
use crate::verdict::Rejection;

/// Why a transaction is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// Encoded size over [`MAX_TX_SIZE`].
    #[error("transaction is {0} bytes, more than {MAX_TX_SIZE}")]
    TooLarge(usize),
    /// A non-coinbase transaction without inputs (it could pay no fee).
    #[error("transaction has no inputs")]
    NoInputs,
    /// A coinbase with inputs.
    #[error("a coinbase has no inputs")]
    CoinbaseWithInputs,
    /// A coinbase anywhere but first in its block.
    #[error("a coinbase must be the block's first transaction, and only it")]
    MisplacedCoinbase,
    /// A coinbase naming another height.
    #[error("coinbase says height {found}, the block is at {expected}")]
    CoinbaseHeight {
        /// The coinbase's height.
        found: u32,
        /// The block's.
        expected: u32,
    },
    /// Two inputs spend the same output.
    #[error("input {0} spends the same output as an earlier input")]
    DuplicateInput(usize),
    /// Output values over the money supply.
    #[error("output values exceed the money supply")]
    ValueTooLarge,
    /// An input spends an output that does not exist or is spent.
    #[error("input {index} spends {outpoint}, which does not exist or is already spent")]
    MissingInput {
        /// The input.
        index: usize,
        /// What it spends.
        outpoint: String,
    },
    /// An input spends a coinbase output before it matures.
    #[error("input {0} spends a coinbase output before it matures ({COINBASE_MATURITY} blocks)")]
    ImmatureCoinbase(usize),
    /// Outputs exceed inputs.
    #[error("outputs ({outputs}) exceed inputs ({inputs})")]
    Overspend {
        /// Sum of inputs.
        inputs: u64,
        /// Sum of outputs.
        outputs: u64,
    },
    /// The lock time is not reached.
    #[error("lock time {0} is not reached")]
    LockTime(u32),
    /// The transaction expired.
    #[error("the transaction expired at height {0}")]
    Expired(u32),
    /// A relative lock is not reached.
    #[error("relative lock of {0} is not reached")]
    RelativeLock(String),
    /// An input's script failed.
    #[error("input {index}: script failed with {} ({error})", error.name())]
    Script {
        /// The input.
        index: usize,
        /// Why.
        error: ScriptError,
    },
    /// A record's policy refused the access.
    #[error("record {record}: policy refused the access with {} ({error})", error.name())]
    Policy {
        /// The record.
        record: Hash32,
        /// Why.
        error: ScriptError,
    },
    /// A payload signature does not verify.
    #[error("the {0}'s signature is invalid")]
    BadSignature(&'static str),
    /// A role change by a key that is no governor.
    #[error("{0} is not a governance key of this chain")]
    NotGovernor(String),
    /// A role the genesis file does not define.
    #[error("role {0} is not defined at genesis")]
    UnknownRole(u32),
    /// Registering a role the key already holds.
    #[error("the key already holds this role")]
    RoleAlreadyHeld,
    /// Withdrawing a role the key does not hold.
    #[error("the key does not hold this role")]
    RoleNotHeld,
    /// A release, share or emergency by a key that is no registered medical institution.
    #[error("the {0} is not a registered medical institution")]
    NotInstitution(&'static str),
    /// A storage naming an unknown release.
    #[error("release {0} does not exist")]
    UnknownRelease(Hash32),
    /// A storage by someone other than the release's patient.
    #[error("only the release's patient may store it")]
    WrongPatient,
    /// A release stored twice.
    #[error("release {0} is already stored")]
    AlreadyStored(Hash32),
    /// The ciphertext is another record's: one ciphertext belongs to one record.
    #[error("ciphertext {0} already belongs to a stored record")]
    CiphertextTaken(Hash32),
    /// A storage without a policy.
    #[error("a stored record needs an access policy")]
    EmptyPolicy,
    /// Malformed emergency shares.
    #[error("emergency shares are malformed: {0}")]
    BadShares(&'static str),
    /// An access naming no records.
    #[error("an access names no records")]
    NoRecords,
    /// An access naming a record twice.
    #[error("record {0} is named twice")]
    DuplicateRecord(Hash32),
    /// An access naming an unknown record.
    #[error("record {0} does not exist")]
    UnknownRecord(Hash32),
    /// An access to records of different patients.
    #[error("an access covers the records of one patient")]
    MixedOwners,
    /// A key deposit that cannot be an envelope.
    #[error("the key deposit for record {0} is not an envelope of a record key")]
    BadDeposit(Hash32),
    /// An emergency without a justification.
    #[error("an emergency access needs a justification")]
    EmptyJustification,
    /// A justification that is not sealed: each copy must be an envelope of a salt and 1 to
    /// [`MAX_JUSTIFICATION`] bytes of text.
    #[error("the justification must be sealed: envelopes of a salt and 1 to {MAX_JUSTIFICATION} bytes each")]
    UnsealedJustification,
    /// A veto window that reaches the access's expiry (or the last height).
    #[error("the veto window must close before the emergency access expires")]
    VetoWindowTooLong,
    /// A veto window in time rather than blocks.
    #[error("an emergency access's veto window is counted in blocks, not time")]
    TimeBasedVetoWindow,
    /// A share release while the emergency's veto window is open.
    #[error("the emergency access is in its veto window; it unlocks at height {0}")]
    VetoWindowOpen(u32),
    /// A veto vote after the emergency's veto window closed.
    #[error("the emergency access's veto window closed at height {0}")]
    VetoWindowClosed(u32),
    /// A share release for a vetoed emergency.
    #[error("emergency access {0} was vetoed")]
    Vetoed(Hash32),
    /// A veto vote by a key that is neither the patient nor a covered record's share holder.
    #[error("only the patient or a covered record's share holder may veto")]
    NotGuardian,
    /// A veto vote cast twice.
    #[error("this key already voted to veto this emergency access")]
    DuplicateVeto,
    /// An access without an expiry after its height.
    #[error("an emergency access needs an expiry after its height")]
    MissingExpiry,
    /// A revocation or share release naming an unknown access.
    #[error("access {0} does not exist")]
    UnknownAccess(Hash32),
    /// A grant revoked twice.
    #[error("access {0} is already revoked")]
    AlreadyRevoked(Hash32),
    /// A revocation by someone other than the owner.
    #[error("only the records' owner may revoke")]
    NotOwner,
    /// The institution already holds a live emergency access on one of the records.
    #[error("emergency access {0} by this institution on this record is still live")]
    EmergencyStillLive(Hash32),
    /// A share release for an access that is no emergency.
    #[error("access {0} is not an emergency access")]
    NotEmergency(Hash32),
    /// A share release after the emergency expired.
    #[error("the emergency access has expired")]
    EmergencyExpired,
    /// A share release for a record the emergency does not cover.
    #[error("the emergency access does not cover record {0}")]
    RecordNotInAccess(Hash32),
    /// A share release by a key holding no share.
    #[error("the key holds no share of this record's key")]
    NotShareHolder,
    /// A share released twice.
    #[error("this share was already released for this emergency")]
    DuplicateShareRelease,
    /// An envelope too short to be one.
    #[error("the share envelope is not an envelope of a key share")]
    BadEnvelope,
    /// A policy module that admission refuses.
    #[error("policy module refused: {0}")]
    Module(AdmissionError),
    /// A policy module that is already deployed.
    #[error("policy module {0} is already deployed")]
    ModuleExists(Hash32),
    /// More fuel than [`MAX_FUEL`].
    #[error("transaction declares {0} fuel per script check, more than {MAX_FUEL}")]
    FuelTooLarge(u64),
    /// A fee under [`MIN_FEE_PER_KB`] for the transaction's size.
    #[error(
        "the fee {fee} is under {needed}, the least for this transaction's size ({MIN_FEE_PER_KB} per 1,000 bytes)"
    )]
    FeeTooLow {
        /// The fee paid.
        fee: u64,
        /// The least fee for the size.
        needed: u64,
    },
    /// A fee too small for the declared fuel (beside the size's fee).
    #[error("the fee {fee} does not pay for the declared fuel, which needs {needed}")]
    FuelUnpaid {
        /// The fee paid.
        fee: u64,
        /// The fee the fuel needs.
        needed: u64,
    },
}

impl TxError {
    /// A stable, machine-readable code for this rule (API clients match on it).
    pub fn code(&self) -> &'static str {
        match self {
            TxError::TooLarge(_) => "TX_TOO_LARGE",
            TxError::NoInputs => "NO_INPUTS",
            TxError::CoinbaseWithInputs | TxError::MisplacedCoinbase | TxError::CoinbaseHeight { .. } => {
                "BAD_COINBASE"
            }
            TxError::DuplicateInput(_) => "DUPLICATE_INPUT",
            TxError::ValueTooLarge => "VALUE_TOO_LARGE",
            TxError::MissingInput { .. } => "MISSING_INPUT",
            TxError::ImmatureCoinbase(_) => "IMMATURE_COINBASE",
            TxError::Overspend { .. } => "OVERSPEND",
            TxError::LockTime(_) => "LOCK_TIME",
            TxError::Expired(_) => "EXPIRED",
            TxError::RelativeLock(_) => "RELATIVE_LOCK",
            TxError::Script { .. } => "SCRIPT_FAILED",
            TxError::Policy { .. } => "POLICY_REFUSED",
            TxError::BadSignature(_) => "BAD_SIGNATURE",
            TxError::NotGovernor(_) => "NOT_GOVERNOR",
            TxError::UnknownRole(_) => "UNKNOWN_ROLE",
            TxError::RoleAlreadyHeld => "ROLE_ALREADY_HELD",
            TxError::RoleNotHeld => "ROLE_NOT_HELD",
            TxError::NotInstitution(_) => "NOT_INSTITUTION",
            TxError::UnknownRelease(_) => "UNKNOWN_RELEASE",
            TxError::WrongPatient => "WRONG_PATIENT",
            TxError::AlreadyStored(_) => "ALREADY_STORED",
            TxError::CiphertextTaken(_) => "CIPHERTEXT_TAKEN",
            TxError::EmptyPolicy => "EMPTY_POLICY",
            TxError::BadShares(_) => "BAD_SHARES",
            TxError::NoRecords => "NO_RECORDS",
            TxError::DuplicateRecord(_) => "DUPLICATE_RECORD",
            TxError::UnknownRecord(_) => "UNKNOWN_RECORD",
            TxError::MixedOwners => "MIXED_OWNERS",
            TxError::BadDeposit(_) => "BAD_DEPOSIT",
            TxError::EmptyJustification => "EMPTY_JUSTIFICATION",
            TxError::MissingExpiry => "MISSING_EXPIRY",
            TxError::UnsealedJustification => "UNSEALED_JUSTIFICATION",
            TxError::VetoWindowTooLong => "VETO_WINDOW_TOO_LONG",
            TxError::TimeBasedVetoWindow => "TIME_BASED_VETO_WINDOW",
            TxError::VetoWindowOpen(_) => "VETO_WINDOW_OPEN",
            TxError::VetoWindowClosed(_) => "VETO_WINDOW_CLOSED",
            TxError::Vetoed(_) => "VETOED",
            TxError::NotGuardian => "NOT_GUARDIAN",
            TxError::DuplicateVeto => "DUPLICATE_VETO",
            TxError::UnknownAccess(_) => "UNKNOWN_ACCESS",
            TxError::AlreadyRevoked(_) => "ALREADY_REVOKED",
            TxError::NotOwner => "NOT_OWNER",
            TxError::NotEmergency(_) => "NOT_EMERGENCY",
            TxError::EmergencyStillLive(_) => "EMERGENCY_STILL_LIVE",
            TxError::EmergencyExpired => "EMERGENCY_EXPIRED",
            TxError::RecordNotInAccess(_) => "RECORD_NOT_IN_ACCESS",
            TxError::NotShareHolder => "NOT_SHARE_HOLDER",
            TxError::DuplicateShareRelease => "DUPLICATE_SHARE_RELEASE",
            TxError::BadEnvelope => "BAD_ENVELOPE",
            TxError::Module(error) => error.code(),
            TxError::ModuleExists(_) => "MODULE_EXISTS",
            TxError::FuelTooLarge(_) => "FUEL_TOO_LARGE",
            TxError::FuelUnpaid { .. } => "FUEL_UNPAID",
            TxError::FeeTooLow { .. } => "FEE_TOO_LOW",
        }
    }
}

impl From<TxError> for Rejection<TxError> {
    fn from(error: TxError) -> Self {
        Rejection::Invalid(error)
    }
}

/// Why a block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    /// Encoded size over [`MAX_BLOCK_SIZE`].
    #[error("block is {0} bytes, more than {MAX_BLOCK_SIZE}")]
    TooLarge(usize),
    /// An unknown block version.
    #[error("block version {0} is not supported")]
    Version(u8),
    /// No transactions, or more than [`MAX_BLOCK_TXS`].
    #[error("block has {0} transactions; it needs a coinbase and at most {MAX_BLOCK_TXS}")]
    TransactionCount(usize),
    /// More script checks than [`MAX_BLOCK_SCRIPT_CHECKS`].
    #[error("block has {0} script checks, more than {MAX_BLOCK_SCRIPT_CHECKS}")]
    TooManyChecks(usize),
    /// More declared fuel than [`MAX_BLOCK_FUEL`].
    #[error("block declares {0} fuel in all, more than {MAX_BLOCK_FUEL}")]
    TooMuchFuel(u64),
    /// The parent is not the tip.
    #[error("block builds on {found}, the tip is {expected}")]
    WrongParent {
        /// The block's parent.
        found: Hash32,
        /// The tip.
        expected: Hash32,
    },
    /// A height other than the tip's plus one.
    #[error("block height {found}, expected {expected}")]
    WrongHeight {
        /// The block's.
        found: u32,
        /// The expected.
        expected: u32,
    },
    /// The tip is at the last height a block can have.
    #[error("the chain is at its last height ({})", u32::MAX)]
    LastHeight,
    /// The Merkle root does not match the transactions.
    #[error("Merkle root does not match the transactions")]
    BadMerkleRoot,
    /// The time is not after the median of the last blocks.
    #[error("block time {time} is not after the median {median} of the last {MEDIAN_TIME_SPAN} blocks")]
    TimeTooEarly {
        /// The block's time.
        time: u64,
        /// The median.
        median: u64,
    },
    /// The time is too far past the median of the last blocks.
    #[error(
        "block time {time} is past {latest}, the median of the last blocks plus {MAX_TIME_AFTER_MEDIAN} s"
    )]
    TimeTooLate {
        /// The block's time.
        time: u64,
        /// The latest time allowed.
        latest: u64,
    },
    /// A producer the chain does not know.
    #[error("{0} is not a block producer of this chain")]
    UnknownProducer(String),
    /// The producer's signature does not verify.
    #[error("the producer's signature is invalid")]
    BadProducerSignature,
    /// The coinbase claims more than reward and fees.
    #[error("coinbase pays {claimed}, more than reward and fees {allowed}")]
    CoinbaseTooLarge {
        /// What the coinbase pays.
        claimed: u64,
        /// Reward plus fees.
        allowed: u64,
    },
    /// A transaction is invalid.
    #[error("transaction {index} ({txid}): {error}")]
    Transaction {
        /// Its position.
        index: usize,
        /// Its id.
        txid: Hash32,
        /// Why.
        error: TxError,
    },
}

impl BlockError {
    /// A stable code for APIs: the rule the block broke, or for a transaction, its rule's code.
    pub fn code(&self) -> &'static str {
        match self {
            BlockError::TooLarge(_) => "BLOCK_TOO_LARGE",
            BlockError::Version(_) => "BLOCK_VERSION",
            BlockError::TransactionCount(_) => "BLOCK_TX_COUNT",
            BlockError::TooManyChecks(_) => "BLOCK_TOO_MANY_CHECKS",
            BlockError::TooMuchFuel(_) => "BLOCK_TOO_MUCH_FUEL",
            BlockError::WrongParent { .. } => "WRONG_PARENT",
            BlockError::WrongHeight { .. } => "WRONG_HEIGHT",
            BlockError::LastHeight => "LAST_HEIGHT",
            BlockError::BadMerkleRoot => "BAD_MERKLE_ROOT",
            BlockError::TimeTooEarly { .. } => "TIME_TOO_EARLY",
            BlockError::TimeTooLate { .. } => "TIME_TOO_LATE",
            BlockError::UnknownProducer(_) => "UNKNOWN_PRODUCER",
            BlockError::BadProducerSignature => "BAD_PRODUCER_SIGNATURE",
            BlockError::CoinbaseTooLarge { .. } => "COINBASE_TOO_LARGE",
            BlockError::Transaction { error, .. } => error.code(),
        }
    }
}

impl From<BlockError> for Rejection<BlockError> {
    fn from(error: BlockError) -> Self {
        Rejection::Invalid(error)
    }
}
