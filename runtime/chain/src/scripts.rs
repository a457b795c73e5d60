//! Script checks of a block, run in parallel after the block's state rules passed: every
//! input's locking script and every accessed record's policy. The verdict is the first
//! failing check in block order, whatever the number of threads or their scheduling.
//! Signatures verified once (in the mempool, say) are remembered (`verifier.rs`).

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex, mpsc};

use medchain_vm::{ScriptError, verify_script};

use medchain_primitives::{Hash32, PubKey};
use medchain_vm::Flags;

use crate::host::{AccessInfo, ChainHost};
use crate::state::StateRead;
use crate::verdict::NodeFault;
use crate::verifier::Verifier;

/// The flags every script on the chain runs under.
pub const CHAIN_FLAGS: Flags = Flags::MEDCHAIN;

/// What a check is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A token input, by position.
    Input(usize),
    /// An accessed record, by storage id.
    Record(Hash32),
}

/// One script check: everything it needs, owned, so it can run on any thread.
#[derive(Debug, Clone)]
pub struct ScriptCheck {
    /// The transaction's position in the block.
    pub tx_index: usize,
    /// Its id.
    pub txid: Hash32,
    /// What is checked.
    pub subject: Subject,
    /// The unlocking script.
    pub unlock: Vec<u8>,
    /// The locking script or policy.
    pub lock: Vec<u8>,
    /// The signing digest.
    pub digest: Hash32,
    /// The transaction's lock time.
    pub lock_time: u32,
    /// The input's or access's sequence.
    pub sequence: u32,
    /// The transaction's expiry.
    pub expiry: u32,
    /// The block height.
    pub height: u32,
    /// The block's time.
    pub time: u64,
    /// Fuel this check may burn in policy modules.
    pub fuel: u64,
    /// The access, when a record's policy is checked.
    pub access: Option<Arc<AccessInfo>>,
    /// The grantee a key deposit is addressed to.
    pub deposit_for: Option<PubKey>,
    /// Whether the access is an emergency.
    pub emergency: bool,
    /// Whether signatures that verify are remembered in the cache.
    pub remember: bool,
}

/// The first failing check, in block order.
#[derive(Debug, Clone)]
pub enum CheckFailure {
    /// A script failed.
    Script(ScriptError),
    /// This node could not run the check.
    Fault(NodeFault),
}

impl ScriptCheck {
    /// A check of nothing, standing for a lost one in error reports.
    fn placeholder() -> ScriptCheck {
        ScriptCheck {
            tx_index: 0,
            txid: Hash32::default(),
            subject: Subject::Input(0),
            unlock: Vec::new(),
            lock: Vec::new(),
            digest: Hash32::default(),
            lock_time: 0,
            sequence: 0,
            expiry: 0,
            height: 0,
            time: 0,
            fuel: 0,
            access: None,
            deposit_for: None,
            emergency: false,
            remember: false,
        }
    }

    /// Runs the check.
    pub fn run<S: StateRead + Sync + ?Sized>(
        &self,
        state: &S,
        verifier: &Verifier,
    ) -> Result<(), CheckFailure> {
        let host = ChainHost {
            state,
            digest: self.digest,
            lock_time: self.lock_time,
            sequence: self.sequence,
            expiry: self.expiry,
            height: self.height,
            time: self.time,
            access: self.access.as_deref(),
            deposit_for: self.deposit_for,
            emergency: self.emergency,
            verifier,
            fuel: Cell::new(self.fuel),
            remember: self.remember,
            failure: RefCell::new(None),
        };
        let result = verify_script(&self.unlock, &self.lock, CHAIN_FLAGS, &host);
        if let Some(fault) = host.failure.into_inner() {
            return Err(CheckFailure::Fault(fault));
        }
        result.map_err(CheckFailure::Script)
    }
}

/// `f` of every item, computed on `threads` threads, in order.
pub fn parallel_map<T: Sync, R: Send + Default + Clone>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.min(items.len()).max(1);
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let parts: Vec<Vec<R>> = std::thread::scope(|scope| {
        let f = &f;
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_default()).collect()
    });
    parts.concat()
}

/// Where the state pass hands its script checks.
pub struct CheckQueue<'q> {
    sender: Option<mpsc::Sender<Vec<(usize, ScriptCheck)>>>,
    inline: Option<&'q mut Vec<(usize, ScriptCheck)>>,
    next: usize,
}

impl CheckQueue<'_> {
    /// Queues the checks of one transaction, numbered in block order.
    pub fn submit(&mut self, checks: Vec<ScriptCheck>) {
        let numbered: Vec<(usize, ScriptCheck)> =
            checks.into_iter().map(|c| (self.next_position(), c)).collect();
        if let Some(sender) = &self.sender {
            // A worker gone means a panic there; the join below reports it as a failure.
            let _ = sender.send(numbered);
        } else if let Some(inline) = self.inline.as_mut() {
            inline.extend(numbered);
        }
    }

    fn next_position(&mut self) -> usize {
        let position = self.next;
        self.next = self.next.saturating_add(1);
        position
    }
}

/// The first failing check of a block: the check and why.
pub type FirstFailure = Option<(ScriptCheck, CheckFailure)>;

/// Runs `pass`, which submits script checks, while `verifier.threads` workers run them.
/// Returns the pass's result and the first failing check in block order.
pub fn run_with_checks<S, T>(
    state: &S,
    verifier: &Verifier,
    pass: impl FnOnce(&mut CheckQueue<'_>) -> T,
) -> (T, FirstFailure)
where
    S: StateRead + Sync + ?Sized,
{
    let first = |a: Option<(usize, ScriptCheck, CheckFailure)>,
                 b: Option<(usize, ScriptCheck, CheckFailure)>| match (a, b) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    if verifier.threads <= 1 {
        let mut checks = Vec::new();
        let result = pass(&mut CheckQueue { sender: None, inline: Some(&mut checks), next: 0 });
        let failure = checks.into_iter().find_map(|(_, c)| c.run(state, verifier).err().map(|e| (c, e)));
        return (result, failure);
    }
    let (sender, receiver) = mpsc::channel::<Vec<(usize, ScriptCheck)>>();
    let receiver = Mutex::new(receiver);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..verifier.threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut failure = None;
                    loop {
                        let batch = match receiver.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => break,
                        };
                        let Ok(batch) = batch else { break };
                        for (position, check) in batch {
                            if failure.as_ref().is_some_and(|(p, _, _)| *p < position) {
                                continue;
                            }
                            if let Err(e) = check.run(state, verifier) {
                                failure = first(failure, Some((position, check, e)));
                            }
                        }
                    }
                    failure
                })
            })
            .collect();
        let result = pass(&mut CheckQueue { sender: Some(sender), inline: None, next: 0 });
        let mut failure = None;
        for worker in workers {
            let found = worker.join().unwrap_or_else(|_| {
                Some((usize::MAX, ScriptCheck::placeholder(), CheckFailure::Fault(NodeFault::WorkerPanicked)))
            });
            failure = first(failure, found);
        }
        (result, failure.map(|(_, check, e)| (check, e)))
    })
}
