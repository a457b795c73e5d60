//! `Node`: the ledger, the mempool, the record store, read challenges and the read log, and
//! the rules a node applies to what it is sent (relay limits, read authorization).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode};
use medchain_api::{
    Anchor, CHALLENGE_HEADER, NodeCode, READER_HEADER, ReadLogState, SIGNATURE_HEADER, read_message,
    view_message,
};
use medchain_chain::block::Block;
use medchain_chain::ledger::{Ledger, LedgerError};
use medchain_chain::limits::{MIN_RELAY_FEE_PER_KB, fuel_fee, size_fee};
use medchain_chain::state::StateRead;
use medchain_chain::transaction::Transaction;
use medchain_chain::validate::Chain;
use medchain_chain::verdict::Rejection;
use medchain_primitives::codec::Encode;
use medchain_primitives::{Hash32, PubKey, Sig, Signer};
use tracing::info;

use crate::blobs::LocalBlobStore;
use crate::challenges::{Challenge, ChallengeError, Challenges};
use crate::error::{ApiError, ApiResult};
use crate::mempool::{Mempool, MempoolError};
use crate::reads::ReadLog;
use crate::refused::Refused;

/// Most fuel a transaction may declare across all its script checks for this node to validate
/// and relay it (a relay rule, not consensus): a transaction whose module calls fail is never
/// mined and pays nothing, so the work a refused one can cost is bounded here.
pub const MAX_RELAY_FUEL: u64 = 20_000_000;

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
    /// Transactions refused since the last block.
    refused: Mutex<Refused>,
    pub(crate) blobs: LocalBlobStore,
    /// One permit per upload being written.
    pub(crate) uploads: Arc<tokio::sync::Semaphore>,
    challenges: Challenges,
    reads: Mutex<ReadLog>,
    anchored: Mutex<Option<Anchor>>,
    pub(crate) producer: Option<Signer>,
    pub(crate) config: NodeConfig,
}

/// A challenge's refusal as the API gives it: 401, or 429 for a key over its request budget.
fn challenge_error(error: ChallengeError) -> ApiError {
    match error {
        ChallengeError::TooMany => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, NodeCode::RateLimited, error.to_string())
        }
        ChallengeError::Forged | ChallengeError::Expired | ChallengeError::Spent => {
            ApiError::unauthorized(NodeCode::BadChallenge, error.to_string())
        }
    }
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
            refused: Mutex::new(Refused::default()),
            blobs,
            uploads: Arc::new(tokio::sync::Semaphore::new(crate::routes::MAX_UPLOADS)),
            challenges: Challenges::new(),
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

    /// Transactions refused since the last block.
    pub(crate) fn refused(&self) -> ApiResult<MutexGuard<'_, Refused>> {
        self.refused.lock().map_err(|_| ApiError::poisoned())
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
        let txid = tx.txid();
        if let Some(answer) = self.refused()?.answer(&txid, &tx) {
            return Err(answer);
        }
        let verdict = self.ledger.chain().validate_transaction(
            self.ledger.store(),
            &tx,
            unix_now(),
            self.ledger.verifier(),
        );
        let fee = match verdict {
            Ok(fee) => fee,
            Err(rejection) => {
                let answer = ApiError::refused(&rejection);
                // A verdict is remembered; a fault of this node is not one.
                if matches!(rejection, Rejection::Invalid(_)) {
                    self.refused()?.remember(txid, &tx, answer.clone());
                }
                return Err(answer);
            }
        };
        let relayed = size_fee(tx.to_bytes().len(), MIN_RELAY_FEE_PER_KB)
            .saturating_add(fuel_fee(tx.fuel, tx.script_checks()));
        if fee < relayed {
            return Err(ApiError::bad_request(
                NodeCode::FeeBelowRelay,
                format!(
                    "the fee {fee} is under {relayed}, what this node relays for the transaction's size and fuel"
                ),
            ));
        }
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

    /// Refuses a block whose time is more than [`MAX_FUTURE_BLOCK_TIME`] ahead of this node's
    /// clock (a relay rule: consensus never reads a clock).
    fn not_from_the_future(&self, header: &medchain_chain::block::Header) -> ApiResult<()> {
        let latest = unix_now().saturating_add(MAX_FUTURE_BLOCK_TIME.as_secs());
        if header.time > latest {
            return Err(ApiError::bad_request(
                NodeCode::FutureBlock,
                format!(
                    "block time {} is more than {} s ahead of this node's clock",
                    header.time,
                    MAX_FUTURE_BLOCK_TIME.as_secs()
                ),
            ));
        }
        Ok(())
    }

    /// Checks a block's header from elsewhere against the tip, before its transactions are
    /// decoded.
    pub(crate) fn check_header(&self, header: &medchain_chain::block::Header) -> ApiResult<()> {
        self.not_from_the_future(header)?;
        let _reading = self.reading()?;
        self.ledger.chain().check_header(self.ledger.store(), header).map(|_| ()).map_err(|rejection| {
            match rejection {
                Rejection::Invalid(error) => ApiError::rule(error.code(), error.to_string()),
                Rejection::Undecided(fault) => ApiError::internal(fault.to_string()),
            }
        })
    }

    /// Validates and applies a block from elsewhere (another producer); returns its height. A
    /// block whose time is more than [`MAX_FUTURE_BLOCK_TIME`] ahead of this node's clock waits
    /// (a relay rule: consensus never reads a clock).
    pub fn import_block(&self, block: &Block) -> ApiResult<u32> {
        self.not_from_the_future(&block.header)?;
        let _writing = self.writing()?;
        let applied = self.ledger.apply(block).map_err(|e| match e {
            LedgerError::Invalid(error) => ApiError::rule(error.code(), error.to_string()),
            fault => ApiError::internal(fault.to_string()),
        })?;
        self.mempool()?.remove_included(&block.transactions);
        self.refused()?.clear();
        info!(height = applied.tip.height, txs = block.transactions.len(), "block imported");
        Ok(applied.tip.height)
    }

    /// The read log's size and head, and where it was last anchored.
    pub(crate) fn read_log_state(&self) -> ApiResult<ReadLogState> {
        let (count, head) = self.reads()?.head();
        let anchored = *self.anchored()?;
        Ok(ReadLogState { count, head, anchored })
    }

    /// A fresh challenge for one signed request; issuing keeps nothing.
    pub(crate) fn issue_challenge(&self) -> [u8; 32] {
        self.challenges.issue(unix_now())
    }

    /// The key that signed this request and the challenge it carries: its headers name the
    /// key, a fresh challenge this node issued and a signature over `message(challenge)`.
    /// Without them, or with a stale, spent or forged challenge or a bad signature, the request
    /// is unauthenticated: 401 with the reason's code. The challenge is spent only once the
    /// request is authorized ([`Node::spend`]).
    fn signed_request(
        &self,
        headers: &HeaderMap,
        message: impl FnOnce(&[u8; 32]) -> Hash32,
    ) -> ApiResult<(PubKey, Challenge)> {
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
        let challenge: Challenge =
            hex::decode(header(CHALLENGE_HEADER)?).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
                ApiError::unauthorized(NodeCode::BadChallenge, "the challenge is not 32 bytes of hex")
            })?;
        let signature: [u8; 64] =
            hex::decode(header(SIGNATURE_HEADER)?).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
                ApiError::unauthorized(NodeCode::BadSignature, "the signature is not 64 bytes of hex")
            })?;
        self.challenges.check(&challenge, unix_now()).map_err(challenge_error)?;
        if !Sig(signature).verify(&signer, &message(&challenge)) {
            return Err(ApiError::unauthorized(
                NodeCode::BadSignature,
                "the signature over the challenge does not verify",
            ));
        }
        Ok((signer, challenge))
    }

    /// Spends the challenge of an authorized request: it serves no other.
    fn spend(&self, (signer, challenge): (PubKey, Challenge)) -> ApiResult<PubKey> {
        self.challenges.spend(challenge, signer, unix_now()).map_err(challenge_error)?;
        Ok(signer)
    }

    /// Checks a reader's signed request for `record` and finds what lets it read that record:
    /// its ownership, or a live grant or emergency access on that very record. No other record
    /// lends its readers anything.
    pub(crate) fn authorize_read(&self, headers: &HeaderMap, record_id: &Hash32) -> ApiResult<Authorized> {
        let chain_id = self.ledger.chain().chain_id;
        let proof =
            self.signed_request(headers, |challenge| read_message(&chain_id, challenge, record_id))?;
        let reader = proof.0;
        let _reading = self.reading()?;
        let store = self.ledger.store();
        let height = self.ledger.tip().map_err(ApiError::state)?.height;
        let record = store
            .record(record_id)
            .map_err(ApiError::state)?
            .ok_or_else(|| ApiError::not_found(format!("record {record_id} is not on chain")))?;
        if record.patient == reader {
            self.spend(proof)?;
            return Ok(Authorized { reader, patient: record.patient, record: *record_id, access: None });
        }
        for access_id in store.patient_accesses(&record.patient).map_err(ApiError::state)? {
            let Some(access) = store.grant(&access_id).map_err(ApiError::state)? else { continue };
            if access.grantee == reader
                && access.records.contains(record_id)
                && self.ledger.chain().access_active(store, &access_id, height).map_err(ApiError::state)?
            {
                self.spend(proof)?;
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
        let proof =
            self.signed_request(headers, |challenge| view_message(&chain.chain_id, challenge, patient))?;
        let viewer = proof.0;
        if viewer == *patient {
            return self.spend(proof);
        }
        let auditor = match chain.auditor {
            Some(role) => self.ledger.store().has_role(&viewer, role).map_err(ApiError::state)?,
            None => false,
        };
        if auditor {
            self.spend(proof)
        } else {
            Err(ApiError::forbidden(
                NodeCode::NoAccess,
                "only the patient or a registered auditor may see a patient's records and audit log",
            ))
        }
    }
}
