//! Validation: every rule a transaction and a block must meet, each with its own error.
//! A block is checked against the state as of its parent and yields the changes it makes,
//! which the caller writes in one atomic transaction. Nothing here reads a clock, the
//! filesystem or a hash map's order, and nothing uses floats. The rules of each payload are in
//! a file of their own, reached through `payload::apply`.

mod access;
mod deploy;
mod error;
mod payload;
mod records;
mod revocation;
mod roles;
mod select;
mod share_release;
mod veto;

use std::collections::BTreeSet;

use medchain_primitives::Hash32;
use medchain_primitives::codec::Encode;
use medchain_primitives::merkle::merkle_root;

pub use error::{BlockError, TxError};
use payload::Step;
pub use select::Selection;

use crate::block::{BLOCK_VERSION, Block};
use crate::genesis::{AUDITOR, Genesis, MEDICAL_INSTITUTION};
use crate::limits::{
    COINBASE_MATURITY, MAX_BLOCK_FUEL, MAX_BLOCK_SCRIPT_CHECKS, MAX_BLOCK_SIZE, MAX_BLOCK_TXS, MAX_FUEL,
    MAX_MONEY, MAX_TIME_AFTER_MEDIAN, MAX_TX_SIZE, MEDIAN_TIME_SPAN, MIN_FEE_PER_KB, fuel_fee, size_fee,
};
use crate::scripts::{CheckFailure, ScriptCheck, Subject, parallel_map, run_with_checks};
use crate::state::{Coin, SCHEMA_VERSION, StateError, StateRead, role_key};
use crate::store::{Changes, Overlay, Store, Table};
use crate::transaction::{OutPoint, Payload, Transaction};
use crate::verdict::{NodeFault, Rejection};
use crate::verifier::Verifier;

/// Meta keys.
const META_SCHEMA: &[u8] = b"schema";
const META_CHAIN_ID: &[u8] = b"chain_id";
const META_TIP: &[u8] = b"tip";

/// The chain's parameters, from genesis.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The genesis configuration.
    pub genesis: Genesis,
    /// Its id.
    pub chain_id: Hash32,
    /// The medical-institution role's number.
    pub medical_institution: u32,
    /// The auditor role's number, if the genesis defines one: its holders may see every
    /// patient's records and audit log.
    pub auditor: Option<u32>,
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

/// Where an access stands at a height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessStatus {
    /// No access has that id.
    Unknown,
    /// An emergency access in its veto window: usable from `until` on, unless vetoed first.
    Waiting {
        /// The first height at which it may be used.
        until: u32,
    },
    /// It allows reads.
    Usable,
    /// Vetoed in its window: it never allows a read.
    Vetoed,
    /// Expired, revoked, or its institution's role withdrawn.
    Ended,
}

impl Chain {
    /// The chain of a genesis configuration.
    pub fn new(genesis: Genesis) -> Chain {
        let chain_id = genesis.chain_id();
        let medical_institution = genesis.role(MEDICAL_INSTITUTION).unwrap_or(u32::MAX);
        let auditor = genesis.role(AUDITOR);
        Chain { genesis, chain_id, medical_institution, auditor }
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

    /// Whether a grant or emergency access allows reads at chain height `height`.
    pub fn access_active<S: Store + ?Sized>(
        &self,
        state: &S,
        txid: &Hash32,
        height: u32,
    ) -> Result<bool, StateError> {
        Ok(self.access_status(state, txid, height)? == AccessStatus::Usable)
    }

    /// Where a grant or emergency access stands at chain height `height`. It ends when it
    /// expires, is revoked (or vetoed) in any block up to `height`, or, for an emergency access,
    /// when its institution's medical-institution role breaks after the request (a withdrawal
    /// ends it for good, whatever a later registration says). Until its veto window closes, an
    /// emergency access waits.
    pub fn access_status<S: Store + ?Sized>(
        &self,
        state: &S,
        txid: &Hash32,
        height: u32,
    ) -> Result<AccessStatus, StateError> {
        let Some(access) = state.grant(txid)? else { return Ok(AccessStatus::Unknown) };
        let revoked = state.revoked_at(txid)?.filter(|at| *at <= height);
        if let Some(at) = revoked {
            return Ok(if at < access.unlocks { AccessStatus::Vetoed } else { AccessStatus::Ended });
        }
        let expired = access.expiry != 0 && height >= access.expiry;
        let lapsed = access.emergency
            && state
                .role_since(&access.grantee, self.medical_institution)?
                .is_none_or(|since| since > access.height);
        Ok(if expired || lapsed {
            AccessStatus::Ended
        } else if height < access.unlocks {
            AccessStatus::Waiting { until: access.unlocks }
        } else {
            AccessStatus::Usable
        })
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

    /// Checks a block's header alone against `state` (the state as of its parent): version,
    /// parent, height, time window, producer and signature; cheap, so a node checks it before
    /// decoding a block's transactions. Returns the median time the block's time follows.
    pub fn check_header<S: Store + ?Sized>(
        &self,
        state: &S,
        header: &crate::block::Header,
    ) -> Result<u64, Rejection<BlockError>> {
        if header.version != BLOCK_VERSION {
            return Err(BlockError::Version(header.version).into());
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
        let latest = median.saturating_add(MAX_TIME_AFTER_MEDIAN);
        if header.time > latest {
            return Err(BlockError::TimeTooLate { time: header.time, latest }.into());
        }
        if !self.genesis.producers.contains(&header.producer) {
            return Err(BlockError::UnknownProducer(header.producer.to_hex()).into());
        }
        if !header.signature.verify(&header.producer, &header.signing_digest(&self.chain_id)) {
            return Err(BlockError::BadProducerSignature.into());
        }
        Ok(median)
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
        let median = self.check_header(state, header)?;
        if block.transactions.is_empty() || block.transactions.len() > MAX_BLOCK_TXS {
            return Err(BlockError::TransactionCount(block.transactions.len()).into());
        }
        let (checks, fuel) = block_work(&block.transactions);
        if checks > MAX_BLOCK_SCRIPT_CHECKS {
            return Err(BlockError::TooManyChecks(checks).into());
        }
        if fuel > MAX_BLOCK_FUEL {
            return Err(BlockError::TooMuchFuel(fuel).into());
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
        let mut overlay = Overlay::with_changes(state, changes);
        if let Some((check, failure)) = failure {
            let (index, txid) = (check.tx_index, check.txid);
            return Err(judge(failure, check.subject).map_invalid(|error| BlockError::Transaction {
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
                return Err(judge(failure, check.subject));
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
                ..scope.check(tx, context)
            });
            input_value = input_value.checked_add(coin.output.value).ok_or(TxError::ValueTooLarge)?;
            overlay.delete(Table::Utxo, input.prevout.to_bytes());
        }
        let output_value: u64 = tx.outputs.iter().map(|o| o.value).sum();
        let is_coinbase = matches!(tx.payload, Payload::Coinbase { .. });
        if !is_coinbase && output_value > input_value {
            return Err(TxError::Overspend { inputs: input_value, outputs: output_value }.into());
        }
        payload::apply(&mut Step { chain: self, parent, overlay, tx, scope, context, checks })?;
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
        let for_size = size_fee(scope.size, MIN_FEE_PER_KB);
        if fee < for_size {
            return Err(TxError::FeeTooLow { fee, needed: for_size }.into());
        }
        let needed = for_size.saturating_add(fuel_fee(tx.fuel, tx.script_checks()));
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
    fn check(&self, tx: &Transaction, context: &Context) -> ScriptCheck {
        ScriptCheck {
            tx_index: self.index,
            txid: self.txid,
            subject: Subject::Input(0),
            unlock: Vec::new(),
            lock: Vec::new(),
            digest: self.digest,
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

/// The script checks a block's transactions ask for, and the fuel they declare in all.
pub fn block_work(transactions: &[Transaction]) -> (usize, u64) {
    transactions.iter().fold((0usize, 0u64), |(checks, fuel), tx| {
        let count = tx.script_checks();
        let declared = tx.fuel.saturating_mul(u64::try_from(count).unwrap_or(u64::MAX));
        (checks.saturating_add(count), fuel.saturating_add(declared))
    })
}

/// Where a block is being applied.
#[derive(Debug, Clone, Copy)]
struct Context {
    height: u32,
    time: u64,
    median_time: u64,
}

/// The transaction's verdict for a failed check of `subject`, or the fault that stopped it.
fn judge(failure: CheckFailure, subject: Subject) -> Rejection<TxError> {
    match (failure, subject) {
        (CheckFailure::Fault(fault), _) => Rejection::Undecided(fault),
        (CheckFailure::Script(error), Subject::Input(index)) => {
            Rejection::Invalid(TxError::Script { index, error })
        }
        (CheckFailure::Script(error), Subject::Record(record)) => {
            Rejection::Invalid(TxError::Policy { record, error })
        }
    }
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
