//! `Node`: the ledger, the mempool, the record store, read challenges and the read log, and
//! the rules a node applies to what it is sent (relay limits, read authorization).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode};
use medchain_api::{
    Anchor, CHALLENGE_HEADER, NodeCode, READER_HEADER, ReadLogState, SIGNATURE_HEADER, read_message,
    view_message,
};
use medchain_chain::block::Block;
use medchain_chain::ledger::{Ledger, LedgerError};
use medchain_chain::state::StateRead;
use medchain_chain::transaction::Transaction;
use medchain_chain::validate::Chain;
use medchain_primitives::{Hash32, PubKey, Sig, Signer};
use tracing::info;

use crate::blobs::LocalBlobStore;
use crate::error::{ApiError, ApiResult};
use crate::mempool::{Mempool, MempoolError};
use crate::reads::ReadLog;

/// Most fuel a transaction may declare across all its script checks for this node to validate
/// and relay it (a relay rule, not consensus): a transaction whose module calls fail is never
/// mined and pays nothing, so the work a refused one can cost is bounded here.
pub const MAX_RELAY_FUEL: u64 = 20_000_000;

/// How long a read challenge stays valid.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(120);

/// Most outstanding read challenges.
pub const MAX_CHALLENGES: usize = 10_000;

/// How far ahead of this node's clock a block from elsewhere may be.
pub const MAX_FUTURE_BLOCK_TIME: Duration = Duration::from_secs(2 * 3600);

/// The read log's file in the data directory.
pub const READ_LOG_FILE: &str = "reads.jsonl";

/// What a read-log anchor's data output starts with; the log's head hash follows.
pub const READ_ANCHOR_TAG: &[u8] = b"medchain/reads";

/// Node configuration.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// A development node's producer: it produces a block every `block_interval` with this key,
    /// which must be one of the genesis file's producers. `None` for a node that only validates.
    pub producer: Option<Signer>,
    /// Seconds between dev blocks.
    pub block_interval: Duration,
    /// Address to listen on.
    pub listen: SocketAddr,
}

/// Everything the handlers share.
pub struct Node {
    pub(crate) ledger: Ledger,
    /// Held for reading during mempool checks and queries, for writing while a block applies.
    apply: RwLock<()>,
    mempool: Mutex<Mempool>,
    pub(crate) blobs: LocalBlobStore,
    challenges: Mutex<BTreeMap<[u8; 32], SystemTime>>,
    reads: Mutex<ReadLog>,
    anchored: Mutex<Option<Anchor>>,
    pub(crate) producer: Option<Signer>,
    pub(crate) config: NodeConfig,
}

/// Unix time by the node's clock (never read by validation).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Why a read is allowed: the record's owner, the record, and the access used (with whether it
/// is an emergency), or none when the owner reads.
pub(crate) struct Authorized {
    pub reader: PubKey,
    pub patient: PubKey,
    pub record: Hash32,
    pub access: Option<(Hash32, bool)>,
}

impl Node {
    /// Opens the node's data directory (chain state and record store).
    pub fn open(data: &Path, chain: Chain, config: NodeConfig) -> Result<Node, String> {
        let producer = config.producer.clone();
        if let Some(p) = &producer
            && !chain.genesis.producers.contains(&p.key)
        {
            return Err(format!("the producer key {} is not one of the genesis file's producers", p.key));
        }
        let ledger = Ledger::open(&data.join("chain"), chain).map_err(|e| e.to_string())?;
        let blobs = LocalBlobStore::open(&data.join("records")).map_err(|e| e.to_string())?;
        Ok(Node {
            ledger,
            apply: RwLock::new(()),
            mempool: Mutex::new(Mempool::new()),
            blobs,
            challenges: Mutex::new(BTreeMap::new()),
            reads: Mutex::new(ReadLog::open(&data.join(READ_LOG_FILE)).map_err(|e| e.to_string())?),
            anchored: Mutex::new(None),
            producer,
            config,
        })
    }

    /// The chain's state for a query: no block applies while the guard lives.
    pub(crate) fn reading(&self) -> ApiResult<RwLockReadGuard<'_, ()>> {
        self.apply.read().map_err(|_| ApiError::poisoned())
    }

    /// The chain's state for applying a block.
    pub(crate) fn writing(&self) -> Result<RwLockWriteGuard<'_, ()>, ApiError> {
        self.apply.write().map_err(|_| ApiError::poisoned())
    }

    /// The mempool.
    pub(crate) fn mempool(&self) -> ApiResult<MutexGuard<'_, Mempool>> {
        self.mempool.lock().map_err(|_| ApiError::poisoned())
    }

    /// The read log.
    pub(crate) fn reads(&self) -> ApiResult<MutexGuard<'_, ReadLog>> {
        self.reads.lock().map_err(|_| ApiError::poisoned())
    }

    /// Where the read log was last anchored.
    pub(crate) fn anchored(&self) -> ApiResult<MutexGuard<'_, Option<Anchor>>> {
        self.anchored.lock().map_err(|_| ApiError::poisoned())
    }

    /// Validates a transaction against the tip and admits it to the mempool.
    pub fn submit(&self, tx: Transaction) -> ApiResult<Hash32> {
        let checks = u64::try_from(tx.script_checks()).unwrap_or(u64::MAX);
        let total_fuel = tx.fuel.saturating_mul(checks);
        if total_fuel > MAX_RELAY_FUEL {
            return Err(ApiError::bad_request(
                NodeCode::FuelOverRelayLimit,
                format!(
                    "the transaction declares {total_fuel} fuel in all, more than this node relays ({MAX_RELAY_FUEL})"
                ),
            ));
        }
        let _reading = self.reading()?;
        let fee = self
            .ledger
            .chain()
            .validate_transaction(self.ledger.store(), &tx, unix_now(), self.ledger.verifier())
            .map_err(|e| ApiError::refused(&e))?;
        self.mempool()?.insert(tx, fee).map_err(|e| match e {
            MempoolError::Duplicate(_) => {
                ApiError::new(StatusCode::CONFLICT, NodeCode::Duplicate, e.to_string())
            }
            MempoolError::Conflict(..) => {
                ApiError::new(StatusCode::CONFLICT, NodeCode::Conflict, e.to_string())
            }
            MempoolError::Full => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, NodeCode::MempoolFull, e.to_string())
            }
        })
    }

    /// Validates and applies a block from elsewhere (another producer); returns its height. A
    /// block whose time is more than [`MAX_FUTURE_BLOCK_TIME`] ahead of this node's clock waits
    /// (a relay rule: consensus never reads a clock).
    pub fn import_block(&self, block: &Block) -> ApiResult<u32> {
        let latest = unix_now().saturating_add(MAX_FUTURE_BLOCK_TIME.as_secs());
        if block.header.time > latest {
            return Err(ApiError::bad_request(
                NodeCode::FutureBlock,
                format!(
                    "block time {} is more than {} s ahead of this node's clock",
                    block.header.time,
                    MAX_FUTURE_BLOCK_TIME.as_secs()
                ),
            ));
        }
        let _writing = self.writing()?;
        let applied = self.ledger.apply(block).map_err(|e| match e {
            LedgerError::Invalid(error) => ApiError::rule(error.code(), error.to_string()),
            fault => ApiError::internal(fault.to_string()),
        })?;
        self.mempool()?.remove_included(&block.transactions);
        info!(height = applied.tip.height, txs = block.transactions.len(), "block imported");
        Ok(applied.tip.height)
    }

    /// The read log's size and head, and where it was last anchored.
    pub(crate) fn read_log_state(&self) -> ApiResult<ReadLogState> {
        let (count, head) = self.reads()?.head();
        let anchored = *self.anchored()?;
        Ok(ReadLogState { count, head, anchored })
    }

    /// A fresh read challenge, remembered until it is used or expires.
    pub(crate) fn issue_challenge(&self) -> ApiResult<[u8; 32]> {
        let mut challenges = self.challenges.lock().map_err(|_| ApiError::poisoned())?;
        let now = SystemTime::now();
        challenges.retain(|_, issued| now.duration_since(*issued).is_ok_and(|age| age < CHALLENGE_LIFETIME));
        if challenges.len() >= MAX_CHALLENGES {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                NodeCode::Busy,
                "too many outstanding challenges",
            ));
        }
        let mut challenge = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut challenge);
        challenges.insert(challenge, now);
        Ok(challenge)
    }

    /// The key that signed this request: its headers name the key, a challenge this node issued
    /// (used once, here) and a signature over `message(challenge)`. Without them, or with a stale
    /// challenge or a bad signature, the request is unauthenticated: 401 with the reason's code.
    fn signed_request(
        &self,
        headers: &HeaderMap,
        message: impl FnOnce(&[u8; 32]) -> Hash32,
    ) -> ApiResult<PubKey> {
        let header = |name: &str| {
            headers.get(name).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                ApiError::unauthorized(NodeCode::MissingProof, format!("header `{name}` is missing"))
            })
        };
        let signer = PubKey::from_hex(header(READER_HEADER)?).ok_or_else(|| {
            ApiError::bad_request(
                NodeCode::BadKey,
                format!("`{READER_HEADER}` is not a compressed public key"),
            )
        })?;
        let challenge: [u8; 32] =
            hex::decode(header(CHALLENGE_HEADER)?).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
                ApiError::unauthorized(NodeCode::BadChallenge, "the challenge is not 32 bytes of hex")
            })?;
        let signature: [u8; 64] =
            hex::decode(header(SIGNATURE_HEADER)?).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
                ApiError::unauthorized(NodeCode::BadSignature, "the signature is not 64 bytes of hex")
            })?;
        let issued = self.challenges.lock().map_err(|_| ApiError::poisoned())?.remove(&challenge);
        let fresh = issued
            .is_some_and(|at| SystemTime::now().duration_since(at).is_ok_and(|age| age < CHALLENGE_LIFETIME));
        if !fresh {
            return Err(ApiError::unauthorized(
                NodeCode::BadChallenge,
                "the challenge was not issued by this node, was used, or expired",
            ));
        }
        if !Sig(signature).verify(&signer, &message(&challenge)) {
            return Err(ApiError::unauthorized(
                NodeCode::BadSignature,
                "the signature over the challenge does not verify",
            ));
        }
        Ok(signer)
    }

    /// Checks a reader's signed request for `record` and finds what lets it read that record:
    /// its ownership, or a live grant or emergency access on that very record. No other record
    /// lends its readers anything.
    pub(crate) fn authorize_read(&self, headers: &HeaderMap, record_id: &Hash32) -> ApiResult<Authorized> {
        let chain_id = self.ledger.chain().chain_id;
        let reader =
            self.signed_request(headers, |challenge| read_message(&chain_id, challenge, record_id))?;
        let _reading = self.reading()?;
        let store = self.ledger.store();
        let height = self.ledger.tip().map_err(ApiError::state)?.height;
        let record = store
            .record(record_id)
            .map_err(ApiError::state)?
            .ok_or_else(|| ApiError::not_found(format!("record {record_id} is not on chain")))?;
        if record.patient == reader {
            return Ok(Authorized { reader, patient: record.patient, record: *record_id, access: None });
        }
        for access_id in store.patient_accesses(&record.patient).map_err(ApiError::state)? {
            let Some(access) = store.grant(&access_id).map_err(ApiError::state)? else { continue };
            if access.grantee == reader
                && access.records.contains(record_id)
                && self.ledger.chain().access_active(store, &access_id, height).map_err(ApiError::state)?
            {
                return Ok(Authorized {
                    reader,
                    patient: record.patient,
                    record: *record_id,
                    access: Some((access_id, access.emergency)),
                });
            }
        }
        Err(ApiError::forbidden(
            NodeCode::NoAccess,
            "no live grant, emergency access or ownership lets this key read this record",
        ))
    }

    /// Checks a viewer's signed request for `patient`'s private lists (records, audit log): the
    /// patient itself, or a key holding the chain's auditor role at the tip. The caller holds
    /// [`Node::reading`], so the check and the lists it guards see one state.
    pub(crate) fn authorize_view(&self, headers: &HeaderMap, patient: &PubKey) -> ApiResult<PubKey> {
        let chain = self.ledger.chain();
        let viewer =
            self.signed_request(headers, |challenge| view_message(&chain.chain_id, challenge, patient))?;
        if viewer == *patient {
            return Ok(viewer);
        }
        let auditor = match chain.auditor {
            Some(role) => self.ledger.store().has_role(&viewer, role).map_err(ApiError::state)?,
            None => false,
        };
        if auditor {
            Ok(viewer)
        } else {
            Err(ApiError::forbidden(
                NodeCode::NoAccess,
                "only the patient or a registered auditor may see a patient's records and audit log",
            ))
        }
    }
}
