//! Key-value storage under the chain state: the tables, an in-memory store, the redb store
//! (ACID, crash-safe), and the overlay a block is validated against before it is written in
//! one transaction.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};
use thiserror::Error;

/// The tables of the chain state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Schema version, chain id, tip.
    Meta,
    /// Unspent outputs by outpoint.
    Utxo,
    /// Blocks by height.
    Block,
    /// Block heights by hash.
    BlockHeight,
    /// Where each transaction is: (height, index) by txid.
    TxIndex,
    /// Roles: present for (key, role) while the key holds the role.
    Role,
    /// Releases by txid.
    Release,
    /// Stored records by storage txid.
    Record,
    /// Which release was stored, by release txid.
    StoredRelease,
    /// Records of a patient: present for (patient, record).
    PatientRecord,
    /// Grants and emergency accesses by txid.
    Grant,
    /// Accesses to a patient's records: present for (patient, height, access txid).
    PatientAccess,
    /// Revocations: the height a grant was revoked at, by grant txid.
    Revoked,
    /// Key-share releases by (emergency txid, record, holder).
    ShareRelease,
    /// Records by the hash of their ciphertext: present for (ciphertext, record).
    RecordByCiphertext,
    /// Deployed policy modules' code by its SHA-256.
    Module,
    /// Votes to veto an emergency access: present for (access txid, voter).
    VetoVote,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 17] = [
        Table::Meta,
        Table::Utxo,
        Table::Block,
        Table::BlockHeight,
        Table::TxIndex,
        Table::Role,
        Table::Release,
        Table::Record,
        Table::StoredRelease,
        Table::PatientRecord,
        Table::Grant,
        Table::PatientAccess,
        Table::Revoked,
        Table::ShareRelease,
        Table::RecordByCiphertext,
        Table::Module,
        Table::VetoVote,
    ];

    fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Utxo => "utxo",
            Table::Block => "block",
            Table::BlockHeight => "block_height",
            Table::TxIndex => "tx_index",
            Table::Role => "role",
            Table::Release => "release",
            Table::Record => "record",
            Table::StoredRelease => "stored_release",
            Table::PatientRecord => "patient_record",
            Table::Grant => "grant",
            Table::PatientAccess => "patient_access",
            Table::Revoked => "revoked",
            Table::ShareRelease => "share_release",
            Table::RecordByCiphertext => "record_by_ciphertext",
            Table::Module => "module",
            Table::VetoVote => "veto_vote",
        }
    }

    fn definition(self) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
        TableDefinition::new(self.name())
    }
}

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(Box<redb::Error>),
}

macro_rules! from_redb {
    ($($t:ty),*) => {
        $(impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Database(Box::new(e.into()))
            }
        })*
    };
}
from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Reads from the chain state.
pub trait Store {
    /// The value under `key`.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every (key, value) whose key starts with `prefix`, in key order.
    fn scan(&self, table: Table, prefix: &[u8]) -> Result<Vec<Entry>, StoreError>;
}

/// Writes a block's changes.
pub type Changes = BTreeMap<(Table, Vec<u8>), Option<Vec<u8>>>;

/// A change's key in [`Changes`], and what was there before it (`None`: no change yet).
type Undo = ((Table, Vec<u8>), Option<Option<Vec<u8>>>);

/// A store seen through pending changes.
pub struct Overlay<'a, S: ?Sized> {
    /// The store under the changes.
    pub base: &'a S,
    /// The pending changes: `None` deletes.
    pub changes: Changes,
    /// Since [`Overlay::begin`]: how to undo each change, newest last.
    journal: Option<Vec<Undo>>,
}

impl<'a, S: Store + ?Sized> Overlay<'a, S> {
    /// No changes yet.
    pub fn new(base: &'a S) -> Self {
        Self::with_changes(base, Changes::new())
    }

    /// `changes` over `base`.
    pub fn with_changes(base: &'a S, changes: Changes) -> Self {
        Self { base, changes, journal: None }
    }

    /// Sets a value.
    pub fn put(&mut self, table: Table, key: Vec<u8>, value: Vec<u8>) {
        self.change((table, key), Some(value));
    }

    /// Deletes a value.
    pub fn delete(&mut self, table: Table, key: Vec<u8>) {
        self.change((table, key), None);
    }

    fn change(&mut self, key: (Table, Vec<u8>), value: Option<Vec<u8>>) {
        let before = self.changes.insert(key.clone(), value);
        if let Some(journal) = &mut self.journal {
            journal.push((key, before));
        }
    }

    /// Starts recording changes, to keep them ([`Overlay::commit`]) or undo them
    /// ([`Overlay::rollback`]) together: one transaction's, while a block is built.
    pub fn begin(&mut self) {
        self.journal = Some(Vec::new());
    }

    /// Keeps the changes since [`Overlay::begin`].
    pub fn commit(&mut self) {
        self.journal = None;
    }

    /// Undoes the changes since [`Overlay::begin`], newest first.
    pub fn rollback(&mut self) {
        for (key, before) in self.journal.take().unwrap_or_default().into_iter().rev() {
            match before {
                Some(value) => self.changes.insert(key, value),
                None => self.changes.remove(&key),
            };
        }
    }
}

impl<S: Store + ?Sized> Store for Overlay<'_, S> {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.changes.get(&(table, key.to_vec())) {
            Some(change) => Ok(change.clone()),
            None => self.base.get(table, key),
        }
    }

    fn scan(&self, table: Table, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = self.base.scan(table, prefix)?.into_iter().collect();
        for ((t, key), change) in self.changes.range((table, prefix.to_vec())..) {
            if *t != table || !key.starts_with(prefix) {
                break;
            }
            match change {
                Some(value) => merged.insert(key.clone(), value.clone()),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().collect())
    }
}

/// The state in memory, for tests and replays.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemoryStore {
    /// Every value.
    pub data: BTreeMap<(Table, Vec<u8>), Vec<u8>>,
}

impl MemoryStore {
    /// Applies changes.
    pub fn apply(&mut self, changes: Changes) {
        for (key, change) in changes {
            match change {
                Some(value) => self.data.insert(key, value),
                None => self.data.remove(&key),
            };
        }
    }
}

impl Store for MemoryStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.data.get(&(table, key.to_vec())).cloned())
    }

    fn scan(&self, table: Table, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        Ok(self
            .data
            .range((table, prefix.to_vec())..)
            .take_while(|((t, k), _)| *t == table && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}

/// The state in redb: every block's changes are one ACID write transaction, so a crash at any
/// point leaves the last fully applied block.
pub struct RedbStore {
    db: Database,
}

impl RedbStore {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path)?;
        let write = db.begin_write()?;
        for table in Table::ALL {
            write.open_table(table.definition())?;
        }
        write.commit()?;
        Ok(Self { db })
    }

    /// Writes changes atomically. `before_commit` runs inside the transaction after every
    /// change is written and before the commit (a hook for crash tests).
    pub fn write(&self, changes: &Changes, before_commit: &mut dyn FnMut(usize)) -> Result<(), StoreError> {
        let write = self.db.begin_write()?;
        for (step, ((table, key), change)) in changes.iter().enumerate() {
            let mut t = write.open_table(table.definition())?;
            match change {
                Some(value) => {
                    t.insert(key.as_slice(), value.as_slice())?;
                }
                None => {
                    t.remove(key.as_slice())?;
                }
            }
            before_commit(step);
        }
        before_commit(changes.len());
        write.commit()?;
        Ok(())
    }

    /// Every value of every table, for comparing states.
    pub fn dump(&self) -> Result<MemoryStore, StoreError> {
        let mut store = MemoryStore::default();
        let read = self.db.begin_read()?;
        for table in Table::ALL {
            let t = read.open_table(table.definition())?;
            for entry in t.iter()? {
                let (k, v) = entry?;
                store.data.insert((table, k.value().to_vec()), v.value().to_vec());
            }
        }
        Ok(store)
    }
}

impl Store for RedbStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.db.begin_read()?;
        let t = read.open_table(table.definition())?;
        Ok(t.get(key)?.map(|v| v.value().to_vec()))
    }

    fn scan(&self, table: Table, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        let read = self.db.begin_read()?;
        let t = read.open_table(table.definition())?;
        let mut out = Vec::new();
        for entry in t.range(prefix..)? {
            let (k, v) = entry?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }
}
