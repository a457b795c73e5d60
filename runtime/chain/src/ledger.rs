//! The ledger: chain state in redb, opened against its genesis, extended one block at a time.
//! Each block's changes are written in one ACID transaction, so killing the process at any
//! point leaves the state of the last fully applied block.

use std::path::Path;

use thiserror::Error;

use super::block::Block;
use super::state::{SCHEMA_VERSION, StateError};
use super::store::{MemoryStore, RedbStore, Store, StoreError};
use super::validate::{Applied, BlockError, Chain, Tip};
use super::verdict::{NodeFault, Rejection};
use super::verifier::Verifier;
use medchain_primitives::Hash32;

/// File name of the state database inside the data directory.
pub const STATE_FILE: &str = "state.redb";

/// Why the ledger could not be opened or extended.
#[derive(Debug, Error)]
pub enum LedgerError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the state failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The data directory holds another chain.
    #[error("the data directory holds chain {found}, not {expected}")]
    WrongChain {
        /// The stored chain id.
        found: Hash32,
        /// This genesis' chain id.
        expected: Hash32,
    },
    /// The data directory was written by another schema version.
    #[error("the state has schema version {found}; this node reads version {SCHEMA_VERSION}")]
    Schema {
        /// The stored version.
        found: u32,
    },
    /// A block is invalid: the verdict every honest node reaches.
    #[error(transparent)]
    Invalid(BlockError),
    /// This node could not decide whether a block is valid.
    #[error("this node could not validate the block: {0}")]
    Fault(NodeFault),
    /// The directory could not be created.
    #[error("cannot create {path}: {error}")]
    Directory {
        /// The directory.
        path: String,
        /// Why.
        error: String,
    },
}

impl From<Rejection<BlockError>> for LedgerError {
    fn from(rejection: Rejection<BlockError>) -> Self {
        match rejection {
            Rejection::Invalid(error) => LedgerError::Invalid(error),
            Rejection::Undecided(fault) => LedgerError::Fault(fault),
        }
    }
}

/// A chain's state on disk.
pub struct Ledger {
    chain: Chain,
    store: RedbStore,
    verifier: Verifier,
}

impl Ledger {
    /// Opens the state in `dir` for `chain`, initializing it from genesis when empty.
    pub fn open(dir: &Path, chain: Chain) -> Result<Ledger, LedgerError> {
        let io = |e: std::io::Error| LedgerError::Directory {
            path: dir.display().to_string(),
            error: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join(STATE_FILE);
        if !path.exists() {
            // Build the genesis state in a scratch file and rename it into place, so a kill
            // during creation never leaves a half-made database behind.
            let scratch = dir.join(format!("{STATE_FILE}.new"));
            if scratch.exists() {
                std::fs::remove_file(&scratch).map_err(io)?;
            }
            RedbStore::open(&scratch)?.write(&chain.genesis_changes(), &mut |_| {})?;
            std::fs::rename(&scratch, &path).map_err(io)?;
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        let store = RedbStore::open(&path)?;
        match Chain::stored_identity(&store)? {
            (None, _) => store.write(&chain.genesis_changes(), &mut |_| {})?,
            (Some(found), _) if found != chain.chain_id => {
                return Err(LedgerError::WrongChain { found, expected: chain.chain_id });
            }
            (_, Some(found)) if found != SCHEMA_VERSION => return Err(LedgerError::Schema { found }),
            _ => {}
        }
        // Compiled policy modules live beside the state they were deployed in.
        let verifier = Verifier::all_cores().with_module_cache(dir.join("modules"));
        Ok(Ledger { chain, store, verifier })
    }

    /// The chain's parameters.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The script verifier (its signature cache is shared with the mempool).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The state, for queries.
    pub fn store(&self) -> &RedbStore {
        &self.store
    }

    /// The tip.
    pub fn tip(&self) -> Result<Tip, LedgerError> {
        Ok(self.chain.tip(&self.store)?.unwrap_or(Tip { height: 0, hash: self.chain.chain_id }))
    }

    /// Validates `block` and applies it atomically.
    pub fn apply(&self, block: &Block) -> Result<Applied, LedgerError> {
        self.apply_with_hook(block, &mut |_| {})
    }

    /// As [`Ledger::apply`], calling `before_commit` after each written change and before the
    /// commit (crash tests inject kills there).
    pub fn apply_with_hook(
        &self,
        block: &Block,
        before_commit: &mut dyn FnMut(usize),
    ) -> Result<Applied, LedgerError> {
        let applied = self.chain.validate_block(&self.store, block, &self.verifier)?;
        self.store.write(&applied.changes, before_commit)?;
        Ok(applied)
    }
}

/// Replays blocks from genesis in memory: the reference a crashed ledger is compared with.
pub fn replay(chain: &Chain, blocks: &[Block]) -> Result<MemoryStore, Rejection<BlockError>> {
    let mut store = MemoryStore::default();
    store.apply(chain.genesis_changes());
    for block in blocks {
        let applied = chain.validate_block(&store, block, &Verifier::new(1))?;
        store.apply(applied.changes);
    }
    Ok(store)
}

impl Store for Ledger {
    fn get(&self, table: super::store::Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.get(table, key)
    }

    fn scan(
        &self,
        table: super::store::Table,
        prefix: &[u8],
    ) -> Result<Vec<super::store::Entry>, StoreError> {
        self.store.scan(table, prefix)
    }
}
