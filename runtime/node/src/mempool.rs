//! The mempool: valid transactions waiting for a block, ordered by fee rate, bounded in count
//! and bytes, without two transactions spending the same output, and without two doing what the
//! chain takes only once (a vote, a revocation, a module's deployment, a release's storage, a
//! role change, a share's release, an institution's emergency on a record): such a pair could
//! never share a block, and each would cost the producer a block's validation to drop. A stop
//! (a veto vote or a revocation) goes first and is never evicted, so that no one outbids a
//! patient's or a guardian's stop until a veto window closes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use medchain_chain::transaction::{OutPoint, Payload, Transaction};
use medchain_primitives::codec::Encode;
use medchain_primitives::{Hash32, PubKey};

/// Most transactions held.
pub const MAX_MEMPOOL_TXS: usize = 50_000;

/// Most bytes of transactions held.
pub const MAX_MEMPOOL_BYTES: usize = 64 * 1024 * 1024;

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MempoolError {
    /// Already waiting.
    #[error("transaction {0} is already in the mempool")]
    Duplicate(Hash32),
    /// Spends an output another waiting transaction spends.
    #[error("transaction spends {0}, which waiting transaction {1} already spends")]
    Conflict(String, Hash32),
    /// The mempool is full of transactions paying at least as much per byte.
    #[error("the mempool is full; pay a higher fee rate")]
    Full,
}

#[derive(Debug, Clone)]
struct Entry {
    tx: Transaction,
    size: usize,
    rate: u64,
    order: u64,
}

/// Waiting transactions.
#[derive(Debug)]
pub struct Mempool {
    /// Most transactions held.
    max_txs: usize,
    /// Most encoded bytes held.
    max_bytes: usize,
    entries: BTreeMap<Hash32, Entry>,
    /// (fee rate, arrival) → txid: best first.
    ranking: BTreeSet<(Reverse<u64>, u64, Hash32)>,
    spent: BTreeMap<OutPoint, Hash32>,
    /// What waiting transactions do that the chain takes once, and which does it.
    once: BTreeMap<Once, Hash32>,
    bytes: usize,
    arrivals: u64,
}

/// Something the chain lets happen once: two waiting transactions doing it conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Once {
    /// A vote on an access by a voter.
    Vote(Hash32, PubKey),
    /// A grant's revocation.
    Revocation(Hash32),
    /// A module's deployment, by its code's hash.
    Deployment(Hash32),
    /// A release's storage.
    Storage(Hash32),
    /// A role given to or taken from a key.
    Role(PubKey, u32),
    /// A holder's share released for an access on a record.
    ShareRelease(Hash32, Hash32, PubKey),
    /// An institution's emergency access on a record.
    Emergency(PubKey, Hash32),
}

/// What `tx` does that the chain takes once.
fn once_of(tx: &Transaction) -> Vec<Once> {
    match &tx.payload {
        Payload::Veto { access, voter, .. } => vec![Once::Vote(*access, *voter)],
        Payload::Revocation { grant, .. } => vec![Once::Revocation(*grant)],
        Payload::DeployModule { code } => vec![Once::Deployment(Hash32::sha256(code))],
        Payload::Storage { release, .. } => vec![Once::Storage(*release)],
        Payload::RegisterRole { subject, role, .. } | Payload::WithdrawRole { subject, role, .. } => {
            vec![Once::Role(*subject, *role)]
        }
        Payload::ShareRelease { emergency, record, holder, .. } => {
            vec![Once::ShareRelease(*emergency, *record, *holder)]
        }
        Payload::EmergencyAccess { requester, records, .. } => {
            records.iter().map(|r| Once::Emergency(*requester, r.record)).collect()
        }
        Payload::Transfer
        | Payload::Coinbase { .. }
        | Payload::Release { .. }
        | Payload::AccessGrant { .. } => Vec::new(),
    }
}

/// Whether `tx` is a stop: a veto vote or a revocation.
fn is_stop(tx: &Transaction) -> bool {
    matches!(tx.payload, Payload::Veto { .. } | Payload::Revocation { .. })
}

/// Fee per 1,000 bytes, in whole units.
fn fee_rate(fee: u64, size: usize) -> u64 {
    fee.saturating_mul(1_000) / u64::try_from(size.max(1)).unwrap_or(u64::MAX)
}

impl Default for Mempool {
    fn default() -> Self {
        Self::new()
    }
}

impl Mempool {
    /// An empty mempool with the standard limits.
    pub fn new() -> Self {
        Self::with_limits(MAX_MEMPOOL_TXS, MAX_MEMPOOL_BYTES)
    }

    /// An empty mempool holding at most `max_txs` transactions and `max_bytes` bytes.
    pub fn with_limits(max_txs: usize, max_bytes: usize) -> Self {
        Mempool {
            max_txs,
            max_bytes,
            entries: BTreeMap::new(),
            ranking: BTreeSet::new(),
            spent: BTreeMap::new(),
            once: BTreeMap::new(),
            bytes: 0,
            arrivals: 0,
        }
    }

    /// Admits a transaction already validated against the chain, with its fee.
    pub fn insert(&mut self, tx: Transaction, fee: u64) -> Result<Hash32, MempoolError> {
        let txid = tx.txid();
        if self.entries.contains_key(&txid) {
            return Err(MempoolError::Duplicate(txid));
        }
        for input in &tx.inputs {
            if let Some(other) = self.spent.get(&input.prevout) {
                return Err(MempoolError::Conflict(
                    format!("{}:{}", input.prevout.txid, input.prevout.index),
                    *other,
                ));
            }
        }
        let once = once_of(&tx);
        if let Some((what, other)) = once.iter().find_map(|key| self.once.get(key).map(|other| (key, other)))
        {
            return Err(MempoolError::Conflict(format!("{what:?}"), *other));
        }
        let size = tx.to_bytes().len();
        // A stop ranks above every fee rate: it goes first and nothing evicts it.
        let rate = if is_stop(&tx) { u64::MAX } else { fee_rate(fee, size) };
        // Choose the cheaper transactions to evict first, so a refusal leaves the pool as it was.
        let (mut count, mut bytes) = (self.entries.len(), self.bytes);
        let mut victims = Vec::new();
        let mut cheapest = self.ranking.iter().rev();
        while count >= self.max_txs || bytes + size > self.max_bytes {
            match cheapest.next() {
                Some(&(Reverse(worst), _, worst_id)) if worst < rate => {
                    count -= 1;
                    bytes -= self.entries.get(&worst_id).map_or(0, |e| e.size);
                    victims.push(worst_id);
                }
                _ => return Err(MempoolError::Full),
            }
        }
        for victim in &victims {
            self.remove(victim);
        }
        for input in &tx.inputs {
            self.spent.insert(input.prevout, txid);
        }
        for key in once {
            self.once.insert(key, txid);
        }
        self.arrivals += 1;
        self.ranking.insert((Reverse(rate), self.arrivals, txid));
        self.bytes += size;
        self.entries.insert(txid, Entry { tx, size, rate, order: self.arrivals });
        Ok(txid)
    }

    /// Removes a transaction.
    pub fn remove(&mut self, txid: &Hash32) -> Option<Transaction> {
        let entry = self.entries.remove(txid)?;
        self.ranking.remove(&(Reverse(entry.rate), entry.order, *txid));
        for input in &entry.tx.inputs {
            self.spent.remove(&input.prevout);
        }
        for key in once_of(&entry.tx) {
            self.once.remove(&key);
        }
        self.bytes -= entry.size;
        Some(entry.tx)
    }

    /// Drops the transactions a block included, and any that spend what it spent.
    pub fn remove_included(&mut self, included: &[Transaction]) {
        for tx in included {
            self.remove(&tx.txid());
            for input in &tx.inputs {
                if let Some(conflict) = self.spent.get(&input.prevout).copied() {
                    self.remove(&conflict);
                }
            }
        }
    }

    /// The best transactions by fee rate, at most `max_count` and `max_bytes`.
    pub fn select(&self, max_count: usize, max_bytes: usize) -> Vec<Transaction> {
        let mut bytes = 0;
        let mut out = Vec::new();
        for (_, _, txid) in &self.ranking {
            let Some(entry) = self.entries.get(txid) else { continue };
            if out.len() >= max_count {
                break;
            }
            if bytes + entry.size > max_bytes {
                continue;
            }
            bytes += entry.size;
            out.push(entry.tx.clone());
        }
        out
    }

    /// Whether a waiting transaction spends `outpoint`.
    pub fn spends(&self, outpoint: &OutPoint) -> bool {
        self.spent.contains_key(outpoint)
    }

    /// A waiting transaction.
    pub fn get(&self, txid: &Hash32) -> Option<&Transaction> {
        self.entries.get(txid).map(|e| &e.tx)
    }

    /// How many transactions wait.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of waiting transactions.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use medchain_chain::transaction::{TxIn, TxOut};
    use medchain_primitives::Sig;

    fn tx(spend: u8, value: u64) -> Transaction {
        paying(spend, value, Payload::Transfer)
    }

    fn paying(spend: u8, value: u64, payload: Payload) -> Transaction {
        Transaction::new(
            vec![TxIn {
                prevout: OutPoint { txid: Hash32([spend; 32]), index: 0 },
                unlock: vec![0; 72],
                sequence: u32::MAX,
            }],
            vec![TxOut { value, lock: vec![0x51] }],
            payload,
        )
    }

    #[test]
    fn orders_by_fee_rate_and_refuses_conflicts() {
        let mut pool = Mempool::new();
        let (cheap, rich) = (tx(1, 10), tx(2, 10));
        pool.insert(cheap.clone(), 100).unwrap();
        pool.insert(rich.clone(), 5_000).unwrap();
        assert_eq!(pool.select(10, usize::MAX), vec![rich.clone(), cheap.clone()]);
        assert_eq!(pool.insert(rich.clone(), 5_000), Err(MempoolError::Duplicate(rich.txid())));
        assert!(
            matches!(pool.insert(tx(1, 9), 1_000), Err(MempoolError::Conflict(_, id)) if id == cheap.txid())
        );
        pool.remove_included(&[tx(1, 8)]);
        assert_eq!(pool.len(), 1, "a block spending the same output evicts the conflict");
        assert_eq!(pool.select(10, usize::MAX), vec![rich]);
        assert_eq!(pool.select(0, usize::MAX), vec![]);
    }

    #[test]
    fn when_full_evicts_cheaper_or_refuses_without_change() {
        let size = tx(1, 10).to_bytes().len();
        let mut pool = Mempool::with_limits(3, 3 * size);
        for (spend, fee) in [(1, 100), (2, 200), (3, 300)] {
            pool.insert(tx(spend, 10), fee).unwrap();
        }
        assert_eq!(pool.insert(tx(4, 10), 100), Err(MempoolError::Full), "no cheaper transaction to evict");
        assert_eq!((pool.len(), pool.bytes()), (3, 3 * size), "a refusal changes nothing");
        pool.insert(tx(4, 10), 250).unwrap();
        assert_eq!(pool.select(10, usize::MAX), vec![tx(3, 10), tx(4, 10), tx(2, 10)], "the cheapest went");
    }

    #[test]
    fn a_stop_goes_first_is_never_evicted_and_is_held_once() {
        let size = tx(1, 10).to_bytes().len();
        let mut pool = Mempool::with_limits(2, 10 * size);
        let voter = PubKey::from_secret(&secp256k1::SecretKey::from_byte_array([7; 32]).unwrap());
        let vote = |spend| {
            paying(spend, 10, Payload::Veto { access: Hash32([9; 32]), voter, signature: Sig::EMPTY })
        };
        pool.insert(tx(1, 10), 1_000_000).unwrap();
        pool.insert(vote(2), 1).unwrap();
        assert_eq!(pool.select(10, usize::MAX)[0], vote(2), "the stop goes first, whatever it pays");
        assert!(
            matches!(pool.insert(vote(3), 1), Err(MempoolError::Conflict(_, id)) if id == vote(2).txid()),
            "one vote per access and voter"
        );
        // Full: a richer transaction evicts the transfer, never the stop.
        pool.insert(tx(4, 10), 2_000_000).unwrap();
        assert_eq!(pool.select(10, usize::MAX), vec![vote(2), tx(4, 10)]);
        pool.insert(tx(5, 10), 3_000_000).unwrap();
        assert_eq!(pool.select(10, usize::MAX), vec![vote(2), tx(5, 10)], "again the transfer went");
        // Once it is gone (in a block), the same voter may send it again.
        pool.remove(&vote(2).txid());
        pool.insert(vote(3), 1).unwrap();
    }

    #[test]
    fn what_the_chain_takes_once_waits_once() {
        let mut pool = Mempool::new();
        let deploy = |spend| paying(spend, 10, Payload::DeployModule { code: vec![0, 97, 115, 109] });
        pool.insert(deploy(1), 1_000).unwrap();
        for spend in 2..10 {
            assert!(
                matches!(pool.insert(deploy(spend), 5_000), Err(MempoolError::Conflict(_, id)) if id == deploy(1).txid()),
                "the same module again, whatever it pays"
            );
        }
        let other = paying(11, 10, Payload::DeployModule { code: vec![1] });
        pool.insert(other, 1_000).unwrap();
        assert_eq!(pool.len(), 2);
        pool.remove_included(&[deploy(1)]);
        pool.insert(deploy(12), 1_000).unwrap();
    }
}
