//! Validation: every rule a transaction and a block must meet, each with its own error.
//! A block is checked against the state as of its parent and yields the changes it makes,
//! which the caller writes in one atomic transaction. Nothing here reads a clock, the
//! filesystem or a hash map's order, and nothing uses floats.

use std::collections::BTreeSet;

use medchain_vm::{Flags, ScriptError};
use thiserror::Error;

use super::block::{BLOCK_VERSION, Block};
use super::genesis::{Genesis, MEDICAL_INSTITUTION};
use super::host::AccessInfo;
use super::limits::{
    COINBASE_MATURITY, MAX_BLOCK_SIZE, MAX_BLOCK_TXS, MAX_FUEL, MAX_MONEY, MAX_TX_SIZE, MEDIAN_TIME_SPAN,
    fuel_fee,
};
use super::scripts::{ScriptCheck, Subject, Verifier, parallel_map, run_with_checks};
use super::state::{
    Coin, GrantEntry, RecordEntry, ReleaseEntry, SCHEMA_VERSION, StateError, StateRead, role_key,
};
use super::store::{Changes, Overlay, Store, Table};
use super::transaction::{OutPoint, Payload, RecordAccess, Transaction};
use super::verdict::{NodeFault, Rejection};
use medchain_modules::{AdmissionError, admit};
use medchain_primitives::codec::Encode;
use medchain_primitives::merkle::merkle_root;
use medchain_primitives::{Hash32, PubKey, Sig};

/// The flags every script on the chain runs under.
pub const CHAIN_FLAGS: Flags = Flags::MEDCHAIN;

/// Meta keys.
const META_SCHEMA: &[u8] = b"schema";
const META_CHAIN_ID: &[u8] = b"chain_id";
const META_TIP: &[u8] = b"tip";

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
    #[error("the key deposit for record {0} is not an envelope")]
    BadDeposit(Hash32),
    /// An emergency without a justification.
    #[error("an emergency access needs a justification")]
    EmptyJustification,
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
    #[error("the share envelope is not an envelope")]
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
    /// A fee too small for the declared fuel.
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
            TxError::EmptyPolicy => "EMPTY_POLICY",
            TxError::BadShares(_) => "BAD_SHARES",
            TxError::NoRecords => "NO_RECORDS",
            TxError::DuplicateRecord(_) => "DUPLICATE_RECORD",
            TxError::UnknownRecord(_) => "UNKNOWN_RECORD",
            TxError::MixedOwners => "MIXED_OWNERS",
            TxError::BadDeposit(_) => "BAD_DEPOSIT",
            TxError::EmptyJustification => "EMPTY_JUSTIFICATION",
            TxError::MissingExpiry => "MISSING_EXPIRY",
            TxError::UnknownAccess(_) => "UNKNOWN_ACCESS",
            TxError::AlreadyRevoked(_) => "ALREADY_REVOKED",
            TxError::NotOwner => "NOT_OWNER",
            TxError::NotEmergency(_) => "NOT_EMERGENCY",
            TxError::EmergencyExpired => "EMERGENCY_EXPIRED",
            TxError::RecordNotInAccess(_) => "RECORD_NOT_IN_ACCESS",
            TxError::NotShareHolder => "NOT_SHARE_HOLDER",
            TxError::DuplicateShareRelease => "DUPLICATE_SHARE_RELEASE",
            TxError::BadEnvelope => "BAD_ENVELOPE",
            TxError::Module(error) => error.code(),
            TxError::ModuleExists(_) => "MODULE_EXISTS",
            TxError::FuelTooLarge(_) => "FUEL_TOO_LARGE",
            TxError::FuelUnpaid { .. } => "FUEL_UNPAID",
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
            BlockError::WrongParent { .. } => "WRONG_PARENT",
            BlockError::WrongHeight { .. } => "WRONG_HEIGHT",
            BlockError::LastHeight => "LAST_HEIGHT",
            BlockError::BadMerkleRoot => "BAD_MERKLE_ROOT",
            BlockError::TimeTooEarly { .. } => "TIME_TOO_EARLY",
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

/// The chain's parameters, from genesis.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The genesis configuration.
    pub genesis: Genesis,
    /// Its id.
    pub chain_id: Hash32,
    /// The medical-institution role's number.
    pub medical_institution: u32,
}

/// The tip of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tip {
    /// Its height (0 for genesis).
    pub height: u32,
    /// Its hash (the chain id for genesis).
    pub hash: Hash32,
}

/// What a block did, for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The new tip.
    pub tip: Tip,
    /// Fees collected.
    pub fees: u64,
    /// The changes written.
    pub changes: Changes,
}

fn time_key(height: u32) -> Vec<u8> {
    [b"time".as_slice(), &height.to_be_bytes()].concat()
}

fn record_key(patient: &PubKey, record: &Hash32) -> Vec<u8> {
    [&patient.0[..], &record.0].concat()
}

impl Chain {
    /// The chain of a genesis configuration.
    pub fn new(genesis: Genesis) -> Chain {
        let chain_id = genesis.chain_id();
        let medical_institution = genesis.role(MEDICAL_INSTITUTION).unwrap_or(u32::MAX);
        Chain { genesis, chain_id, medical_institution }
    }

    /// The outpoint of genesis allocation `index`: the chain id stands in for a transaction id.
    pub fn allocation_outpoint(&self, index: u32) -> OutPoint {
        OutPoint { txid: self.chain_id, index }
    }

    /// The state a fresh chain starts from: schema version, chain id, allocations, roles.
    pub fn genesis_changes(&self) -> Changes {
        let mut changes = Changes::new();
        let mut put = |table, key: Vec<u8>, value: Vec<u8>| {
            changes.insert((table, key), Some(value));
        };
        put(Table::Meta, META_SCHEMA.to_vec(), SCHEMA_VERSION.to_be_bytes().to_vec());
        put(Table::Meta, META_CHAIN_ID.to_vec(), self.chain_id.0.to_vec());
        put(Table::Meta, META_TIP.to_vec(), tip_bytes(&Tip { height: 0, hash: self.chain_id }));
        put(Table::Meta, time_key(0), self.genesis.time.to_be_bytes().to_vec());
        for (index, output) in self.genesis.allocations.iter().enumerate() {
            let outpoint = self.allocation_outpoint(u32::try_from(index).unwrap_or(u32::MAX));
            put(
                Table::Utxo,
                outpoint.to_bytes(),
                Coin { output: output.clone(), height: 0, coinbase: false }.to_bytes(),
            );
        }
        for (key, role) in &self.genesis.initial_roles {
            put(Table::Role, role_key(key, *role), 0u32.to_be_bytes().to_vec());
        }
        changes
    }

    /// The tip recorded in `state`, if the state is initialized.
    pub fn tip<S: Store + ?Sized>(&self, state: &S) -> Result<Option<Tip>, StateError> {
        Ok(state.get(Table::Meta, META_TIP)?.and_then(|b| parse_tip(&b)))
    }

    /// The chain id and schema recorded in `state`.
    pub fn stored_identity<S: Store + ?Sized>(
        state: &S,
    ) -> Result<(Option<Hash32>, Option<u32>), StateError> {
        let chain = state
            .get(Table::Meta, META_CHAIN_ID)?
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok().map(Hash32));
        let schema = state
            .get(Table::Meta, META_SCHEMA)?
            .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok().map(u32::from_be_bytes));
        Ok((chain, schema))
    }

    fn block_time<S: Store + ?Sized>(&self, state: &S, height: u32) -> Result<u64, StateError> {
        Ok(state
            .get(Table::Meta, &time_key(height))?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok().map(u64::from_be_bytes))
            .unwrap_or(self.genesis.time))
    }

    /// Median time of the last [`MEDIAN_TIME_SPAN`] blocks up to `height`.
    pub fn median_time<S: Store + ?Sized>(&self, state: &S, height: u32) -> Result<u64, StateError> {
        let first = height.saturating_sub(u32::try_from(MEDIAN_TIME_SPAN).unwrap_or(11).saturating_sub(1));
        let mut times: Vec<u64> =
            (first..=height).map(|h| self.block_time(state, h)).collect::<Result<_, _>>()?;
        times.sort_unstable();
        Ok(times.get(times.len() / 2).copied().unwrap_or(self.genesis.time))
    }

    /// Checks `block` against `state` (the state as of its parent) and returns what it changes.
    pub fn validate_block<S: Store + Sync + ?Sized>(
        &self,
        state: &S,
        block: &Block,
        verifier: &Verifier,
    ) -> Result<Applied, Rejection<BlockError>> {
        let encoded = block.to_bytes();
        if encoded.len() > MAX_BLOCK_SIZE {
            return Err(BlockError::TooLarge(encoded.len()).into());
        }
        let header = &block.header;
        if header.version != BLOCK_VERSION {
            return Err(BlockError::Version(header.version).into());
        }
        if block.transactions.is_empty() || block.transactions.len() > MAX_BLOCK_TXS {
            return Err(BlockError::TransactionCount(block.transactions.len()).into());
        }
        let tip = self.tip(state)?.ok_or(NodeFault::Uninitialized)?;
        if header.previous != tip.hash {
            return Err(BlockError::WrongParent { found: header.previous, expected: tip.hash }.into());
        }
        let expected = tip.height.checked_add(1).ok_or(BlockError::LastHeight)?;
        if header.height != expected {
            return Err(BlockError::WrongHeight { found: header.height, expected }.into());
        }
        let median = self.median_time(state, tip.height)?;
        if header.time <= median {
            return Err(BlockError::TimeTooEarly { time: header.time, median }.into());
        }
        if !self.genesis.producers.contains(&header.producer) {
            return Err(BlockError::UnknownProducer(header.producer.to_hex()).into());
        }
        if !header.signature.verify(&header.producer, &header.signing_digest(&self.chain_id)) {
            return Err(BlockError::BadProducerSignature.into());
        }
        // Every transaction's id and signing digest, hashed in parallel.
        let hashes = parallel_map(&block.transactions, verifier.threads, |tx| {
            let bytes = tx.to_bytes();
            (Hash32::double_sha256(&bytes), tx.signing_digest(&self.chain_id), bytes.len())
        });
        let txids: Vec<Hash32> = hashes.iter().map(|(txid, _, _)| *txid).collect();
        if merkle_root(&txids) != header.merkle_root {
            return Err(BlockError::BadMerkleRoot.into());
        }

        let context = Context { height: header.height, time: header.time, median_time: median };
        // The state pass runs here while the script checks it produces run on the workers;
        // script failures are looked at only once the state pass succeeded, so which error a
        // block gets does not depend on threads or timing.
        let (pass, failure) =
            run_with_checks(state, verifier, |checks| -> Result<_, Rejection<BlockError>> {
                let mut overlay = Overlay::new(state);
                let mut fees: u64 = 0;
                let mut coinbase_value = 0;
                let mut batch = Vec::new();
                for (index, tx) in block.transactions.iter().enumerate() {
                    let (txid, digest, size) = hashes.get(index).copied().unwrap_or_default();
                    let fail = |error: TxError| BlockError::Transaction { index, txid, error };
                    let is_coinbase = matches!(tx.payload, Payload::Coinbase { .. });
                    if is_coinbase != (index == 0) {
                        return Err(fail(TxError::MisplacedCoinbase).into());
                    }
                    let scope = Scope { txid, index, digest, size };
                    let fee = self
                        .apply_transaction(state, &mut overlay, tx, scope, &context, &mut batch)
                        .map_err(|rejection| rejection.map_invalid(fail))?;
                    checks.submit(std::mem::take(&mut batch));
                    if is_coinbase {
                        coinbase_value = tx.outputs.iter().map(|o| o.value).sum();
                    }
                    fees = fees.checked_add(fee).ok_or_else(|| fail(TxError::ValueTooLarge))?;
                }
                let allowed = self.genesis.block_reward.saturating_add(fees);
                if coinbase_value > allowed {
                    return Err(BlockError::CoinbaseTooLarge { claimed: coinbase_value, allowed }.into());
                }
                Ok((overlay.changes, fees))
            });
        let (changes, fees) = pass?;
        let mut overlay = Overlay { base: state, changes };
        if let Some((check, failure)) = failure {
            let (index, txid) = (check.tx_index, check.txid);
            return Err(failure.judge(check.subject).map_invalid(|error| BlockError::Transaction {
                index,
                txid,
                error,
            }));
        }
        let new_tip = Tip { height: header.height, hash: header.hash() };
        overlay.put(Table::Block, header.height.to_be_bytes().to_vec(), encoded);
        overlay.put(Table::BlockHeight, new_tip.hash.0.to_vec(), header.height.to_be_bytes().to_vec());
        overlay.put(Table::Meta, META_TIP.to_vec(), tip_bytes(&new_tip));
        overlay.put(Table::Meta, time_key(header.height), header.time.to_be_bytes().to_vec());
        Ok(Applied { tip: new_tip, fees, changes: overlay.changes })
    }

    /// Checks a loose transaction (for the mempool) as if it were the only one in the next
    /// block at `time`, remembering the signatures that verify so the block that includes it
    /// need not verify them again. Returns its fee.
    pub fn validate_transaction<S: Store + Sync + ?Sized>(
        &self,
        state: &S,
        tx: &Transaction,
        time: u64,
        verifier: &Verifier,
    ) -> Result<u64, Rejection<TxError>> {
        if matches!(tx.payload, Payload::Coinbase { .. }) {
            return Err(TxError::MisplacedCoinbase.into());
        }
        let tip = self.tip(state)?.ok_or(NodeFault::Uninitialized)?;
        let context = Context {
            height: tip.height.saturating_add(1),
            time,
            median_time: self.median_time(state, tip.height)?,
        };
        let bytes = tx.to_bytes();
        let scope = Scope {
            txid: Hash32::double_sha256(&bytes),
            index: 1,
            digest: tx.signing_digest(&self.chain_id),
            size: bytes.len(),
        };
        let mut overlay = Overlay::new(state);
        let mut checks = Vec::new();
        let fee = self.apply_transaction(state, &mut overlay, tx, scope, &context, &mut checks)?;
        for check in checks {
            let check = ScriptCheck { remember: true, ..check };
            if let Err(failure) = check.run(state, verifier) {
                return Err(failure.judge(check.subject));
            }
        }
        Ok(fee)
    }

    /// Checks one transaction against the state so far (`overlay`; roles are read from the
    /// parent's state) and records what it changes. Returns its fee.
    fn apply_transaction<S: Store + ?Sized>(
        &self,
        parent: &S,
        overlay: &mut Overlay<'_, S>,
        tx: &Transaction,
        scope: Scope,
        context: &Context,
        checks: &mut Vec<ScriptCheck>,
    ) -> Result<u64, Rejection<TxError>> {
        let (txid, index) = (&scope.txid, scope.index);
        check_transaction_sized(tx, scope.size)?;
        let digest = scope.digest;
        if let Payload::Coinbase { height } = tx.payload {
            if height != context.height {
                return Err(TxError::CoinbaseHeight { found: height, expected: context.height }.into());
            }
        } else {
            self.check_times(tx, context)?;
        }

        let mut input_value: u64 = 0;
        for (i, input) in tx.inputs.iter().enumerate() {
            let coin = overlay.coin(&input.prevout)?.ok_or_else(|| TxError::MissingInput {
                index: i,
                outpoint: format!("{}:{}", input.prevout.txid, input.prevout.index),
            })?;
            if coin.coinbase && context.height.saturating_sub(coin.height) < COINBASE_MATURITY {
                return Err(TxError::ImmatureCoinbase(i).into());
            }
            self.check_relative_lock(parent, input.sequence, coin.height, context, &format!("input {i}"))?;
            checks.push(ScriptCheck {
                subject: Subject::Input(i),
                unlock: input.unlock.clone(),
                lock: coin.output.lock.clone(),
                sequence: input.sequence,
                ..scope.check(tx, digest, context)
            });
            input_value = input_value.checked_add(coin.output.value).ok_or(TxError::ValueTooLarge)?;
            overlay.delete(Table::Utxo, input.prevout.to_bytes());
        }
        let output_value: u64 = tx.outputs.iter().map(|o| o.value).sum();
        let is_coinbase = matches!(tx.payload, Payload::Coinbase { .. });
        if !is_coinbase && output_value > input_value {
            return Err(TxError::Overspend { inputs: input_value, outputs: output_value }.into());
        }
        self.apply_payload(parent, overlay, tx, scope, digest, context, checks)?;
        for (i, output) in tx.outputs.iter().enumerate() {
            let outpoint = OutPoint { txid: *txid, index: u32::try_from(i).unwrap_or(u32::MAX) };
            let coin = Coin { output: output.clone(), height: context.height, coinbase: is_coinbase };
            overlay.put(Table::Utxo, outpoint.to_bytes(), coin.to_bytes());
        }
        let location =
            [context.height.to_be_bytes(), u32::try_from(index).unwrap_or(u32::MAX).to_be_bytes()].concat();
        overlay.put(Table::TxIndex, txid.0.to_vec(), location);
        if is_coinbase {
            return Ok(0);
        }
        // Outputs never exceed inputs here: that was refused above as an overspend.
        let fee = input_value.saturating_sub(output_value);
        let needed = fuel_fee(tx.fuel, tx.script_checks());
        if fee < needed {
            return Err(TxError::FuelUnpaid { fee, needed }.into());
        }
        Ok(fee)
    }

    fn check_times(&self, tx: &Transaction, context: &Context) -> Result<(), TxError> {
        let lock_time = u64::from(tx.lock_time);
        let reached = if tx.lock_time < medchain_vm::limits::LOCKTIME_THRESHOLD as u32 {
            lock_time <= u64::from(context.height)
        } else {
            lock_time <= context.median_time
        };
        if tx.lock_time != 0 && !reached {
            return Err(TxError::LockTime(tx.lock_time));
        }
        if tx.expiry != 0 && tx.expiry <= context.height {
            return Err(TxError::Expired(tx.expiry));
        }
        Ok(())
    }

    /// BIP 68: a sequence without its disable bit requires the spent output (or record) to be
    /// that many blocks, or 512-second units, old.
    fn check_relative_lock<S: Store + ?Sized>(
        &self,
        parent: &S,
        sequence: u32,
        since_height: u32,
        context: &Context,
        what: &str,
    ) -> Result<(), Rejection<TxError>> {
        if sequence & (1 << 31) != 0 {
            return Ok(());
        }
        let value = sequence & 0xffff;
        let reached = if sequence & (1 << 22) != 0 {
            let since = self.block_time(parent, since_height)?;
            context.median_time.saturating_sub(since) >= u64::from(value) * 512
        } else {
            context.height.saturating_sub(since_height) >= value
        };
        if reached { Ok(()) } else { Err(TxError::RelativeLock(what.to_owned()).into()) }
    }

    fn require_institution<S: Store + ?Sized>(
        &self,
        parent: &S,
        key: &PubKey,
        who: &'static str,
    ) -> Result<(), Rejection<TxError>> {
        if parent.has_role(key, self.medical_institution)? {
            Ok(())
        } else {
            Err(TxError::NotInstitution(who).into())
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_payload<S: Store + ?Sized>(
        &self,
        parent: &S,
        overlay: &mut Overlay<'_, S>,
        tx: &Transaction,
        scope: Scope,
        digest: Hash32,
        context: &Context,
        checks: &mut Vec<ScriptCheck>,
    ) -> Result<(), Rejection<TxError>> {
        let txid = &scope.txid;
        let signed = |sig: &Sig, key: &PubKey, who: &'static str| {
            if sig.verify(key, &digest) { Ok(()) } else { Err(TxError::BadSignature(who)) }
        };
        match &tx.payload {
            Payload::Transfer | Payload::Coinbase { .. } => {}
            Payload::RegisterRole { subject, role, governor, signature }
            | Payload::WithdrawRole { subject, role, governor, signature } => {
                if !self.genesis.governors.contains(governor) {
                    return Err(TxError::NotGovernor(governor.to_hex()).into());
                }
                signed(signature, governor, "governor")?;
                if !self.genesis.roles.values().any(|r| r == role) {
                    return Err(TxError::UnknownRole(*role).into());
                }
                let held = overlay.has_role(subject, *role)?;
                if matches!(tx.payload, Payload::RegisterRole { .. }) {
                    if held {
                        return Err(TxError::RoleAlreadyHeld.into());
                    }
                    overlay.put(Table::Role, role_key(subject, *role), context.height.to_be_bytes().to_vec());
                } else {
                    if !held {
                        return Err(TxError::RoleNotHeld.into());
                    }
                    overlay.delete(Table::Role, role_key(subject, *role));
                }
            }
            Payload::Release { patient, institution, commitment, signature } => {
                self.require_institution(parent, institution, "releasing institution")?;
                signed(signature, institution, "institution")?;
                let entry = ReleaseEntry {
                    patient: *patient,
                    institution: *institution,
                    commitment: *commitment,
                    height: context.height,
                };
                overlay.put(Table::Release, txid.0.to_vec(), entry.to_bytes());
            }
            Payload::Storage { release, patient, ciphertext, policy, emergency, signature } => {
                let released = overlay.release(release)?.ok_or(TxError::UnknownRelease(*release))?;
                if released.patient != *patient {
                    return Err(TxError::WrongPatient.into());
                }
                if overlay.get(Table::StoredRelease, &release.0).map_err(StateError::from)?.is_some() {
                    return Err(TxError::AlreadyStored(*release).into());
                }
                signed(signature, patient, "patient")?;
                if policy.is_empty() {
                    return Err(TxError::EmptyPolicy.into());
                }
                if let Some(shares) = emergency {
                    let holders: BTreeSet<&PubKey> = shares.shares.iter().map(|s| &s.holder).collect();
                    if holders.len() != shares.shares.len() {
                        return Err(TxError::BadShares("a holder appears twice").into());
                    }
                    if shares.threshold == 0 || usize::from(shares.threshold) > shares.shares.len() {
                        return Err(TxError::BadShares("threshold is not within 1..=shares").into());
                    }
                    if shares
                        .shares
                        .iter()
                        .any(|s| s.envelope.len() < medchain_primitives::ecies::ENVELOPE_OVERHEAD)
                    {
                        return Err(TxError::BadShares("a share is not an envelope").into());
                    }
                    for share in &shares.shares {
                        self.require_institution(parent, &share.holder, "share holder")?;
                    }
                }
                let entry = RecordEntry {
                    patient: *patient,
                    release: *release,
                    ciphertext: *ciphertext,
                    policy: policy.clone(),
                    emergency: emergency.clone(),
                    height: context.height,
                    time: context.time,
                };
                overlay.put(Table::Record, txid.0.to_vec(), entry.to_bytes());
                overlay.put(Table::StoredRelease, release.0.to_vec(), txid.0.to_vec());
                overlay.put(Table::PatientRecord, record_key(patient, txid), Vec::new());
                overlay.put(Table::RecordByCiphertext, [&ciphertext.0[..], &txid.0].concat(), Vec::new());
            }
            Payload::AccessGrant { grantee, purpose, records } => {
                let patient = self.check_records(
                    parent,
                    overlay,
                    tx,
                    (scope, digest),
                    records,
                    (*grantee, false),
                    context,
                    checks,
                )?;
                let entry = GrantEntry {
                    grantee: *grantee,
                    purpose: *purpose,
                    records: records.iter().map(|r| r.record).collect(),
                    patient,
                    expiry: tx.expiry,
                    height: context.height,
                    emergency: false,
                    justification: String::new(),
                };
                self.put_access(overlay, txid, &entry, context);
            }
            Payload::EmergencyAccess { requester, justification, records, signature } => {
                if justification.trim().is_empty() {
                    return Err(TxError::EmptyJustification.into());
                }
                if tx.expiry <= context.height {
                    return Err(TxError::MissingExpiry.into());
                }
                self.require_institution(parent, requester, "requester")?;
                signed(signature, requester, "requester")?;
                let patient = self.check_records(
                    parent,
                    overlay,
                    tx,
                    (scope, digest),
                    records,
                    (*requester, true),
                    context,
                    checks,
                )?;
                let entry = GrantEntry {
                    grantee: *requester,
                    purpose: 0,
                    records: records.iter().map(|r| r.record).collect(),
                    patient,
                    expiry: tx.expiry,
                    height: context.height,
                    emergency: true,
                    justification: justification.clone(),
                };
                self.put_access(overlay, txid, &entry, context);
            }
            Payload::ShareRelease { emergency, record, holder, envelope, signature } => {
                let access = overlay.grant(emergency)?.ok_or(TxError::UnknownAccess(*emergency))?;
                if !access.emergency {
                    return Err(TxError::NotEmergency(*emergency).into());
                }
                if access.expiry <= context.height || overlay.revoked_at(emergency)?.is_some() {
                    return Err(TxError::EmergencyExpired.into());
                }
                if !access.records.contains(record) {
                    return Err(TxError::RecordNotInAccess(*record).into());
                }
                let stored = overlay.record(record)?.ok_or(TxError::UnknownRecord(*record))?;
                let holds = stored
                    .emergency
                    .as_ref()
                    .is_some_and(|s| s.shares.iter().any(|share| share.holder == *holder));
                if !holds {
                    return Err(TxError::NotShareHolder.into());
                }
                if overlay.share_released(emergency, record, holder)? {
                    return Err(TxError::DuplicateShareRelease.into());
                }
                if envelope.len() < medchain_primitives::ecies::ENVELOPE_OVERHEAD {
                    return Err(TxError::BadEnvelope.into());
                }
                signed(signature, holder, "share holder")?;
                overlay.put(
                    Table::ShareRelease,
                    [&emergency.0[..], &record.0, &holder.0].concat(),
                    envelope.clone(),
                );
            }
            Payload::DeployModule { code } => {
                admit(code).map_err(TxError::Module)?;
                let hash = Hash32::sha256(code);
                if overlay.module(&hash)?.is_some() {
                    return Err(TxError::ModuleExists(hash).into());
                }
                overlay.put(Table::Module, hash.0.to_vec(), code.clone());
            }
            Payload::Revocation { grant, owner, signature } => {
                let access = overlay.grant(grant)?.ok_or(TxError::UnknownAccess(*grant))?;
                if overlay.revoked_at(grant)?.is_some() {
                    return Err(TxError::AlreadyRevoked(*grant).into());
                }
                if access.patient != *owner {
                    return Err(TxError::NotOwner.into());
                }
                signed(signature, owner, "owner")?;
                overlay.put(Table::Revoked, grant.0.to_vec(), context.height.to_be_bytes().to_vec());
            }
        }
        Ok(())
    }

    fn put_access<S: Store + ?Sized>(
        &self,
        overlay: &mut Overlay<'_, S>,
        txid: &Hash32,
        entry: &GrantEntry,
        context: &Context,
    ) {
        overlay.put(Table::Grant, txid.0.to_vec(), entry.to_bytes());
        let key = [&entry.patient.0[..], &context.height.to_be_bytes(), &txid.0].concat();
        overlay.put(Table::PatientAccess, key, Vec::new());
    }

    /// Runs each record's policy against the access, as an input spends an output, without
    /// consuming the record. Returns the records' owner.
    #[allow(clippy::too_many_arguments)]
    fn check_records<S: Store + ?Sized>(
        &self,
        parent: &S,
        overlay: &Overlay<'_, S>,
        tx: &Transaction,
        (scope, digest): (Scope, Hash32),
        records: &[RecordAccess],
        (grantee, emergency): (PubKey, bool),
        context: &Context,
        checks: &mut Vec<ScriptCheck>,
    ) -> Result<PubKey, Rejection<TxError>> {
        let purpose = match tx.payload {
            Payload::AccessGrant { purpose, .. } => purpose,
            _ => 0,
        };
        let info = std::sync::Arc::new(AccessInfo {
            grantee,
            purpose,
            records: records.iter().map(|access| access.record).collect(),
        });
        let mut owner: Option<PubKey> = None;
        for access in records {
            let record = overlay.record(&access.record)?.ok_or(TxError::UnknownRecord(access.record))?;
            if owner.is_some_and(|o| o != record.patient) {
                return Err(TxError::MixedOwners.into());
            }
            owner = Some(record.patient);
            let deposit_for = match access.deposit.len() {
                0 => None,
                n if n < medchain_primitives::ecies::ENVELOPE_OVERHEAD => {
                    return Err(TxError::BadDeposit(access.record).into());
                }
                _ => Some(grantee),
            };
            self.check_relative_lock(
                parent,
                access.sequence,
                record.height,
                context,
                &format!("record {}", access.record),
            )?;
            checks.push(ScriptCheck {
                subject: Subject::Record(access.record),
                unlock: access.unlock.clone(),
                lock: record.policy.clone(),
                sequence: access.sequence,
                deposit_for,
                emergency,
                access: Some(info.clone()),
                ..scope.check(tx, digest, context)
            });
        }
        Ok(owner.ok_or(TxError::NoRecords)?)
    }
}

/// The transaction being checked.
#[derive(Debug, Clone, Copy)]
struct Scope {
    txid: Hash32,
    index: usize,
    digest: Hash32,
    size: usize,
}

impl Scope {
    /// A script check of this transaction with the fields every check shares.
    fn check(&self, tx: &Transaction, digest: Hash32, context: &Context) -> ScriptCheck {
        ScriptCheck {
            tx_index: self.index,
            txid: self.txid,
            subject: Subject::Input(0),
            unlock: Vec::new(),
            lock: Vec::new(),
            digest,
            lock_time: tx.lock_time,
            sequence: u32::MAX,
            expiry: tx.expiry,
            height: context.height,
            time: context.time,
            fuel: tx.fuel,
            access: None,
            deposit_for: None,
            emergency: false,
            // A block's signatures are not checked again: look them up, do not remember them.
            remember: false,
        }
    }
}

/// Where a block is being applied.
#[derive(Debug, Clone, Copy)]
struct Context {
    height: u32,
    time: u64,
    median_time: u64,
}

fn tip_bytes(tip: &Tip) -> Vec<u8> {
    [&tip.height.to_be_bytes()[..], &tip.hash.0].concat()
}

fn parse_tip(bytes: &[u8]) -> Option<Tip> {
    let height = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?);
    let hash = Hash32(bytes.get(4..36)?.try_into().ok()?);
    Some(Tip { height, hash })
}

/// The rules a transaction meets on its own, without state.
pub fn check_transaction(tx: &Transaction) -> Result<(), TxError> {
    check_transaction_sized(tx, tx.to_bytes().len())
}

/// [`check_transaction`] for a transaction whose encoded size is known.
fn check_transaction_sized(tx: &Transaction, size: usize) -> Result<(), TxError> {
    if size > MAX_TX_SIZE {
        return Err(TxError::TooLarge(size));
    }
    if tx.fuel > MAX_FUEL {
        return Err(TxError::FuelTooLarge(tx.fuel));
    }
    let coinbase = matches!(tx.payload, Payload::Coinbase { .. });
    if coinbase && !tx.inputs.is_empty() {
        return Err(TxError::CoinbaseWithInputs);
    }
    if !coinbase && tx.inputs.is_empty() {
        return Err(TxError::NoInputs);
    }
    let mut spent = BTreeSet::new();
    for (i, input) in tx.inputs.iter().enumerate() {
        if !spent.insert(input.prevout) {
            return Err(TxError::DuplicateInput(i));
        }
    }
    let total =
        tx.outputs.iter().try_fold(0u64, |sum, o| sum.checked_add(o.value).filter(|s| *s <= MAX_MONEY));
    if total.is_none() {
        return Err(TxError::ValueTooLarge);
    }
    let records = tx.record_accesses();
    if matches!(tx.payload, Payload::AccessGrant { .. } | Payload::EmergencyAccess { .. })
        && records.is_empty()
    {
        return Err(TxError::NoRecords);
    }
    let mut named = BTreeSet::new();
    for access in records {
        if !named.insert(access.record) {
            return Err(TxError::DuplicateRecord(access.record));
        }
    }
    Ok(())
}
