//! The node: chain state, mempool and record store behind a versioned HTTP JSON API, and, in
//! dev mode, a block every few seconds from the genesis file's dev key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tracing::{info, warn};

use medchain_api::read_message;

use super::api::ApiError;
use super::blobs::{BlobError, BlobStore, LocalBlobStore};
use super::mempool::{Mempool, MempoolError};
use super::reads::{ReadEntry, ReadLog};
use medchain_chain::block::Block;
use medchain_chain::ledger::{Ledger, LedgerError};
use medchain_chain::limits::{MAX_BLOCK_SIZE, MAX_BLOCK_TXS, MAX_TX_SIZE};
use medchain_chain::standard::{data_output, pay_to_key, pay_to_key_hash};
use medchain_chain::state::{Coin, StateRead};
use medchain_chain::store::{Store, Table};
use medchain_chain::transaction::{EmergencyShares, OutPoint, Transaction};
use medchain_chain::validate::{BlockError, Chain};
use medchain_primitives::Signer;
use medchain_primitives::codec::{Decode, Encode};
use medchain_primitives::{Hash32, PubKey, Sig};

/// Largest block submission body (hex in JSON doubles the size).
pub const MAX_BLOCK_BODY: usize = 2 * MAX_BLOCK_SIZE + 4096;

/// How much of an oversized body is read and dropped before the refusal is sent.
pub const MAX_DRAIN: usize = 8 * 1024 * 1024;

/// Largest transaction submission body (hex in JSON doubles the size).
pub const MAX_JSON_BODY: usize = 2 * MAX_TX_SIZE + 4096;

/// Most items one list response returns.
pub const MAX_PAGE: usize = 100;

/// Most fuel a transaction may declare across all its script checks for this node to validate
/// and relay it (a relay rule, not consensus): a transaction whose module calls fail is never
/// mined and pays nothing, so the work a refused one can cost is bounded here.
pub const MAX_RELAY_FUEL: u64 = 20_000_000;

/// How long a read challenge stays valid.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(120);

/// Most outstanding read challenges.
pub const MAX_CHALLENGES: usize = 10_000;

/// Node configuration.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Produce blocks with the genesis dev key.
    pub dev: bool,
    /// Seconds between dev blocks.
    pub block_interval: Duration,
    /// Address to listen on.
    pub listen: SocketAddr,
}

/// The read log's file in the data directory.
pub const READ_LOG_FILE: &str = "reads.jsonl";

/// What a read-log anchor's data output starts with; the log's head hash follows.
pub const READ_ANCHOR_TAG: &[u8] = b"medchain/reads";

/// Where the read log was last anchored on chain.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Anchor {
    /// The block whose coinbase carries it.
    pub height: u32,
    /// How many reads it covers.
    pub count: usize,
    /// The log's hash after them.
    #[serde(serialize_with = "hex_hash")]
    pub head: Hash32,
}

fn hex_hash<S: serde::Serializer>(hash: &Hash32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hash.to_hex())
}

/// Everything the handlers share.
pub struct Node {
    ledger: Ledger,
    /// Held for reading during mempool checks and queries, for writing while a block applies.
    apply: RwLock<()>,
    mempool: Mutex<Mempool>,
    blobs: LocalBlobStore,
    challenges: Mutex<BTreeMap<[u8; 32], SystemTime>>,
    reads: Mutex<ReadLog>,
    anchored: Mutex<Option<Anchor>>,
    producer: Option<Signer>,
    config: NodeConfig,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

type ApiResult<T> = Result<T, ApiError>;

fn hash_param(text: &str) -> ApiResult<Hash32> {
    Hash32::from_hex(text)
        .ok_or_else(|| ApiError::bad_request("BAD_HASH", format!("`{text}` is not 64 hex digits")))
}

fn key_param(text: &str) -> ApiResult<PubKey> {
    hex::decode(text)
        .ok()
        .and_then(|b| <[u8; 33]>::try_from(b).ok())
        .and_then(PubKey::parse)
        .ok_or_else(|| ApiError::bad_request("BAD_KEY", format!("`{text}` is not a compressed public key")))
}

fn state_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("state read failed: {e}"))
}

impl Node {
    /// Opens the node's data directory (chain state and record store).
    pub fn open(data: &Path, chain: Chain, config: NodeConfig) -> Result<Node, String> {
        let producer = match (config.dev, chain.genesis.dev_key) {
            (true, Some(secret)) => Some(Signer::new(
                secp256k1::SecretKey::from_byte_array(secret).map_err(|e| format!("dev key: {e}"))?,
            )),
            (true, None) => return Err("--dev needs a `dev_key` in the genesis file".into()),
            (false, _) => None,
        };
        if let Some(p) = &producer
            && !chain.genesis.producers.contains(&p.key)
        {
            return Err("the genesis dev key is not one of its producers".into());
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

    /// Validates a transaction against the tip and admits it to the mempool.
    pub fn submit(&self, tx: Transaction) -> ApiResult<Hash32> {
        let checks = u64::try_from(tx.script_checks()).unwrap_or(u64::MAX);
        let total_fuel = tx.fuel.saturating_mul(checks);
        if total_fuel > MAX_RELAY_FUEL {
            return Err(ApiError::bad_request(
                "FUEL_OVER_RELAY_LIMIT",
                format!(
                    "the transaction declares {total_fuel} fuel in all, more than this node relays ({MAX_RELAY_FUEL})"
                ),
            ));
        }
        let _reading = self.apply.read().map_err(|_| ApiError::internal("lock poisoned"))?;
        let fee = self
            .ledger
            .chain()
            .validate_transaction(self.ledger.store(), &tx, unix_now(), self.ledger.verifier())
            .map_err(|e| ApiError::refused(&e))?;
        let mut pool = self.mempool.lock().map_err(|_| ApiError::internal("lock poisoned"))?;
        pool.insert(tx, fee).map_err(|e| match e {
            MempoolError::Duplicate(_) => ApiError::new(StatusCode::CONFLICT, "DUPLICATE", e.to_string()),
            MempoolError::Conflict(..) => ApiError::new(StatusCode::CONFLICT, "CONFLICT", e.to_string()),
            MempoolError::Full => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "MEMPOOL_FULL", e.to_string())
            }
        })
    }

    /// Validates and applies a block from elsewhere (another producer); returns its height.
    pub fn import_block(&self, block: &Block) -> ApiResult<u32> {
        let _writing = self.apply.write().map_err(|_| ApiError::internal("lock poisoned"))?;
        let applied = self.ledger.apply(block).map_err(|e| match e {
            LedgerError::Invalid(error) => ApiError::bad_request(error.code(), error.to_string()),
            fault => ApiError::internal(fault.to_string()),
        })?;
        self.mempool
            .lock()
            .map_err(|_| ApiError::internal("lock poisoned"))?
            .remove_included(&block.transactions);
        info!(height = applied.tip.height, txs = block.transactions.len(), "block imported");
        Ok(applied.tip.height)
    }

    /// Produces one block from the mempool with the dev key (dropping transactions that no
    /// longer fit), applies it, and returns its height.
    pub fn produce_block(&self) -> Result<u32, String> {
        let Some(producer) = &self.producer else { return Err("not a producing node".into()) };
        let _writing = self.apply.write().map_err(|_| "lock poisoned".to_owned())?;
        let chain = self.ledger.chain();
        let tip = self.ledger.tip().map_err(|e| e.to_string())?;
        let median = chain.median_time(self.ledger.store(), tip.height).map_err(|e| e.to_string())?;
        let time = unix_now().max(median + 1);
        let mut candidates = self
            .mempool
            .lock()
            .map_err(|_| "lock poisoned".to_owned())?
            .select(MAX_BLOCK_TXS - 1, MAX_BLOCK_SIZE / 2);
        let (count, head) = self.reads.lock().map_err(|_| "lock poisoned".to_owned())?.head();
        let anchored = *self.anchored.lock().map_err(|_| "lock poisoned".to_owned())?;
        let anchor = count > 0 && anchored.is_none_or(|a| a.head != head);
        loop {
            let mut block = chain.build_block(
                self.ledger.store(),
                &tip,
                time,
                producer,
                &producer.key,
                candidates.clone(),
            );
            if anchor {
                chain.add_coinbase_output(
                    &mut block,
                    data_output(&[READ_ANCHOR_TAG, &head.0].concat()),
                    producer,
                );
            }
            match self.ledger.apply(&block) {
                Ok(applied) => {
                    if anchor {
                        *self.anchored.lock().map_err(|_| "lock poisoned".to_owned())? =
                            Some(Anchor { height: applied.tip.height, count, head });
                    }
                    let mut pool = self.mempool.lock().map_err(|_| "lock poisoned".to_owned())?;
                    pool.remove_included(&block.transactions);
                    info!(height = applied.tip.height, txs = block.transactions.len(), "block produced");
                    return Ok(applied.tip.height);
                }
                Err(LedgerError::Invalid(BlockError::Transaction { index, txid, error })) => {
                    warn!(%txid, %error, "dropping transaction that no longer validates");
                    candidates.retain(|t| t.txid() != txid);
                    if let Ok(mut pool) = self.mempool.lock() {
                        pool.remove(&txid);
                    }
                    if index == 0 {
                        return Err(format!("coinbase refused: {error}"));
                    }
                }
                // Anything else, a fault of this node above all, keeps every transaction in
                // the pool to be tried again next time.
                Err(other) => return Err(other.to_string()),
            }
        }
    }

    /// The read log's size and head, and where it was last anchored.
    fn read_log_state(&self) -> ApiResult<Value> {
        let (count, head) = self.reads.lock().map_err(|_| ApiError::internal("lock poisoned"))?.head();
        let anchored = *self.anchored.lock().map_err(|_| ApiError::internal("lock poisoned"))?;
        Ok(json!({ "count": count, "head": head.to_hex(), "anchored": anchored }))
    }

    fn issue_challenge(&self) -> ApiResult<[u8; 32]> {
        let mut challenges = self.challenges.lock().map_err(|_| ApiError::internal("lock poisoned"))?;
        let now = SystemTime::now();
        challenges.retain(|_, issued| now.duration_since(*issued).is_ok_and(|age| age < CHALLENGE_LIFETIME));
        if challenges.len() >= MAX_CHALLENGES {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "BUSY",
                "too many outstanding challenges",
            ));
        }
        let mut challenge = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut challenge);
        challenges.insert(challenge, now);
        Ok(challenge)
    }

    /// Checks a reader's signed challenge and finds the access that allows reading the blob.
    fn authorize(&self, headers: &HeaderMap, blob: &Hash32) -> ApiResult<Authorized> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| ApiError::unauthorized("MISSING_PROOF", format!("header `{name}` is missing")))
        };
        let reader = key_param(header("x-medchain-reader")?)?;
        let challenge: [u8; 32] = hex::decode(header("x-medchain-challenge")?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ApiError::unauthorized("BAD_CHALLENGE", "the challenge is not 32 bytes of hex"))?;
        let signature: [u8; 64] = hex::decode(header("x-medchain-signature")?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ApiError::unauthorized("BAD_SIGNATURE", "the signature is not 64 bytes of hex"))?;
        let issued =
            self.challenges.lock().map_err(|_| ApiError::internal("lock poisoned"))?.remove(&challenge);
        let fresh = issued
            .is_some_and(|at| SystemTime::now().duration_since(at).is_ok_and(|age| age < CHALLENGE_LIFETIME));
        if !fresh {
            return Err(ApiError::unauthorized(
                "BAD_CHALLENGE",
                "the challenge was not issued by this node, was used, or expired",
            ));
        }
        let message = read_message(&self.ledger.chain().chain_id, &challenge, blob);
        if !Sig(signature).verify(&reader, &message) {
            return Err(ApiError::unauthorized(
                "BAD_SIGNATURE",
                "the signature over the challenge does not verify",
            ));
        }
        let _reading = self.apply.read().map_err(|_| ApiError::internal("lock poisoned"))?;
        let store = self.ledger.store();
        let height = self.ledger.tip().map_err(state_error)?.height;
        for record_id in store.records_by_ciphertext(blob).map_err(state_error)? {
            let Some(record) = store.record(&record_id).map_err(state_error)? else { continue };
            if record.patient == reader {
                return Ok(Authorized { patient: record.patient, record: record_id, access: None });
            }
            for access_id in store.patient_accesses(&record.patient).map_err(state_error)? {
                let Some(access) = store.grant(&access_id).map_err(state_error)? else { continue };
                if access.grantee == reader
                    && access.records.contains(&record_id)
                    && store.access_active(&access_id, height).map_err(state_error)?
                {
                    return Ok(Authorized {
                        patient: record.patient,
                        record: record_id,
                        access: Some((access_id, access.emergency)),
                    });
                }
            }
        }
        Err(ApiError::unauthorized(
            "NO_ACCESS",
            "no live grant, emergency access or ownership lets this key read this record",
        ))
    }
}

/// Why a read is allowed: the record's owner, the record, and the access used (with whether it
/// is an emergency), or none when the owner reads.
struct Authorized {
    patient: PubKey,
    record: Hash32,
    access: Option<(Hash32, bool)>,
}

/// `?from=HEIGHT&limit=N` for blocks, newest first.
#[derive(Deserialize)]
struct BlockPage {
    from: Option<u32>,
    limit: Option<usize>,
}

/// `?offset=N&limit=N` for a patient's lists.
#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

impl Page {
    /// The page of `items`, and the offset of the next page if there is one.
    fn of<T>(&self, items: Vec<T>) -> (Vec<T>, Option<usize>) {
        let limit = self.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let total = items.len();
        let page: Vec<T> = items.into_iter().skip(self.offset).take(limit).collect();
        let end = self.offset.saturating_add(page.len());
        (page, (end < total).then_some(end))
    }
}

async fn status(State(node): State<Arc<Node>>) -> ApiResult<Json<Value>> {
    let tip = node.ledger.tip().map_err(state_error)?;
    let pool = node.mempool.lock().map_err(|_| ApiError::internal("lock poisoned"))?;
    Ok(Json(json!({
        "chain_id": node.ledger.chain().chain_id.to_hex(),
        "chain_name": node.ledger.chain().genesis.chain_name,
        "height": tip.height,
        "tip": tip.hash.to_hex(),
        "mempool": {"transactions": pool.len(), "bytes": pool.bytes()},
        "producing": node.producer.is_some(),
    })))
}

/// An encoded object from a request body: raw bytes for `application/octet-stream`, otherwise
/// JSON `{"<field>": "<hex>"}`.
async fn encoded_body(headers: &HeaderMap, body: Body, limit: usize, field: &str) -> ApiResult<Vec<u8>> {
    let body = read_body(body, limit).await?;
    if headers.get("content-type").and_then(|v| v.to_str().ok()) == Some("application/octet-stream") {
        return Ok(body.to_vec());
    }
    let expected = || format!("expected {{\"{field}\": \"<hex>\"}}");
    let request: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("BAD_JSON", format!("{}: {e}", expected())))?;
    let text = request
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("BAD_JSON", expected()))?;
    hex::decode(text.trim()).map_err(|e| ApiError::bad_request("BAD_HEX", format!("{field} is not hex: {e}")))
}

/// Reads a request body of at most `limit` bytes. A larger one is refused with `TOO_LARGE`
/// after reading (and dropping) up to [`MAX_DRAIN`] more bytes, so that the client, still
/// sending, gets the answer rather than a reset connection.
async fn read_body(body: Body, limit: usize) -> ApiResult<Vec<u8>> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request("BAD_BODY", format!("cannot read the body: {e}")))?;
        total = total.saturating_add(chunk.len());
        if total <= limit {
            bytes.extend_from_slice(&chunk);
        } else if total > limit.saturating_add(MAX_DRAIN) {
            break;
        }
    }
    if total > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "TOO_LARGE",
            format!("the body is over {limit} bytes"),
        ));
    }
    Ok(bytes)
}

async fn submit_block(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let bytes = encoded_body(&headers, body, MAX_BLOCK_BODY, "block").await?;
    let block =
        Block::from_bytes(&bytes).map_err(|e| ApiError::bad_request("BLOCK_DECODE", e.to_string()))?;
    let node2 = Arc::clone(&node);
    let height = tokio::task::spawn_blocking(move || node2.import_block(&block))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(Json(json!({ "height": height })))
}

async fn submit(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let bytes = encoded_body(&headers, body, MAX_JSON_BODY, "tx").await?;
    let tx =
        Transaction::from_bytes(&bytes).map_err(|e| ApiError::bad_request("TX_DECODE", e.to_string()))?;
    let node2 = Arc::clone(&node);
    let txid = tokio::task::spawn_blocking(move || node2.submit(tx))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok((StatusCode::ACCEPTED, Json(json!({ "txid": txid.to_hex() }))))
}

async fn transaction(State(node): State<Arc<Node>>, UrlPath(id): UrlPath<String>) -> ApiResult<Json<Value>> {
    let txid = hash_param(&id)?;
    if let Some(tx) = node.mempool.lock().map_err(|_| ApiError::internal("lock poisoned"))?.get(&txid) {
        return Ok(Json(
            json!({ "txid": id, "status": "pending", "tx": hex::encode(tx.to_bytes()), "kind": tx.payload.kind() }),
        ));
    }
    let store = node.ledger.store();
    let (tx, header, proof) = store
        .transaction_proof(&txid)
        .map_err(state_error)?
        .ok_or_else(|| ApiError::not_found(format!("no transaction {id}")))?;
    let steps: Vec<Value> = proof
        .steps
        .iter()
        .map(|s| json!({ "sibling": s.sibling.to_hex(), "left": s.sibling_on_left }))
        .collect();
    Ok(Json(json!({
        "txid": id, "status": "confirmed", "kind": tx.payload.kind(), "tx": hex::encode(tx.to_bytes()),
        "block": { "height": header.height, "hash": header.hash().to_hex(), "merkle_root": header.merkle_root.to_hex(), "time": header.time },
        "proof": steps,
    })))
}

async fn blocks(
    State(node): State<Arc<Node>>,
    page: Result<Query<BlockPage>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(page) = page?;
    let tip = node.ledger.tip().map_err(state_error)?.height;
    let limit = page.limit.unwrap_or(20).clamp(1, MAX_PAGE);
    let from = page.from.unwrap_or(tip).min(tip);
    let mut out = Vec::new();
    for height in (1..=from).rev().take(limit) {
        let Some(block) = node.ledger.store().block(height).map_err(state_error)? else { continue };
        let txs: Vec<Value> = block
            .transactions
            .iter()
            .map(|t| json!({ "txid": t.txid().to_hex(), "kind": t.payload.kind() }))
            .collect();
        out.push(json!({ "height": height, "hash": block.header.hash().to_hex(), "time": block.header.time, "transactions": txs }));
    }
    let next = from.saturating_sub(u32::try_from(limit).unwrap_or(u32::MAX));
    Ok(Json(json!({ "blocks": out, "next": if next == 0 { Value::Null } else { json!(next) } })))
}

async fn block(State(node): State<Arc<Node>>, UrlPath(height): UrlPath<String>) -> ApiResult<Json<Value>> {
    let height: u32 = height
        .parse()
        .map_err(|_| ApiError::bad_request("BAD_HEIGHT", format!("`{height}` is not a block height")))?;
    let block = node
        .ledger
        .store()
        .block(height)
        .map_err(state_error)?
        .ok_or_else(|| ApiError::not_found(format!("no block at {height}")))?;
    Ok(Json(
        json!({ "height": height, "hash": block.header.hash().to_hex(), "block": hex::encode(block.to_bytes()) }),
    ))
}

async fn records(
    State(node): State<Arc<Node>>,
    UrlPath(patient): UrlPath<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(page) = page?;
    let patient = key_param(&patient)?;
    let store = node.ledger.store();
    let (ids, next) = page.of(store.patient_records(&patient).map_err(state_error)?);
    let mut out = Vec::new();
    for id in ids {
        if let Some(r) = store.record(&id).map_err(state_error)? {
            out.push(json!({ "record": id.to_hex(), "release": r.release.to_hex(), "ciphertext": r.ciphertext.to_hex(),
                "policy": hex::encode(&r.policy), "height": r.height, "emergency": r.emergency.as_ref().map(share_deposits) }));
        }
    }
    Ok(Json(json!({ "records": out, "next": next })))
}

/// A record's emergency key shares: the threshold and each holder's sealed share.
fn share_deposits(shares: &EmergencyShares) -> Value {
    let deposits: Vec<Value> = shares
        .shares
        .iter()
        .map(|d| json!({ "holder": d.holder.to_hex(), "envelope": hex::encode(&d.envelope) }))
        .collect();
    json!({ "threshold": shares.threshold, "shares": deposits })
}

async fn audit(
    State(node): State<Arc<Node>>,
    UrlPath(patient): UrlPath<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(page) = page?;
    let patient = key_param(&patient)?;
    let store = node.ledger.store();
    let height = node.ledger.tip().map_err(state_error)?.height;
    let (ids, next_access) = page.of(store.patient_accesses(&patient).map_err(state_error)?);
    let mut accesses = Vec::new();
    for id in ids {
        if let Some(g) = store.grant(&id).map_err(state_error)? {
            accesses.push(json!({ "access": id.to_hex(), "grantee": g.grantee.to_hex(), "emergency": g.emergency,
                "justification": g.justification, "purpose": g.purpose, "height": g.height, "expiry": g.expiry,
                "revoked_at": store.revoked_at(&id).map_err(state_error)?, "active": store.access_active(&id, height).map_err(state_error)?,
                "records": g.records.iter().map(Hash32::to_hex).collect::<Vec<_>>() }));
        }
    }
    let patient_hex = patient.to_hex();
    let reads: Vec<ReadEntry> = node
        .reads
        .lock()
        .map_err(|_| ApiError::internal("lock poisoned"))?
        .of_patient(&patient_hex)
        .cloned()
        .collect();
    let (reads, next_read) = page.of(reads);
    let next = next_access.into_iter().chain(next_read).max();
    Ok(Json(json!({ "patient": patient_hex, "accesses": accesses, "reads": reads, "next": next,
        "read_log": node.read_log_state()? })))
}

/// The unspent coins a key can spend alone (pay-to-key and pay-to-key-hash), less those a
/// waiting transaction already spends. A scan of the coin set: fine for a node's own keys.
async fn coins(
    State(node): State<Arc<Node>>,
    UrlPath(key): UrlPath<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(page) = page?;
    let key = key_param(&key)?;
    let locks = [pay_to_key(&key), pay_to_key_hash(&key)];
    let entries = node.ledger.store().scan(Table::Utxo, &[]).map_err(state_error)?;
    let pool = node.mempool.lock().map_err(|_| ApiError::internal("lock poisoned"))?;
    let coins: Vec<Value> = entries
        .into_iter()
        .filter_map(|(k, v)| Some((OutPoint::from_bytes(&k).ok()?, Coin::from_bytes(&v).ok()?)))
        .filter(|(outpoint, coin)| locks.contains(&coin.output.lock) && !pool.spends(outpoint))
        .map(|(outpoint, coin)| {
            json!({ "txid": outpoint.txid.to_hex(), "index": outpoint.index, "value": coin.output.value,
                "lock": hex::encode(&coin.output.lock), "height": coin.height, "coinbase": coin.coinbase })
        })
        .collect();
    let (coins, next) = page.of(coins);
    Ok(Json(json!({ "coins": coins, "next": next })))
}

async fn read_log(State(node): State<Arc<Node>>) -> ApiResult<Json<Value>> {
    Ok(Json(node.read_log_state()?))
}

async fn module(State(node): State<Arc<Node>>, UrlPath(hash): UrlPath<String>) -> ApiResult<Json<Value>> {
    let hash = hash_param(&hash)?;
    let code = node
        .ledger
        .store()
        .module(&hash)
        .map_err(state_error)?
        .ok_or_else(|| ApiError::not_found("no such policy module"))?;
    Ok(Json(json!({ "module": hash.to_hex(), "size": code.len(), "code": hex::encode(code) })))
}

async fn grant(State(node): State<Arc<Node>>, UrlPath(id): UrlPath<String>) -> ApiResult<Json<Value>> {
    let id = hash_param(&id)?;
    let store = node.ledger.store();
    let g = store.grant(&id).map_err(state_error)?.ok_or_else(|| ApiError::not_found("no such access"))?;
    let height = node.ledger.tip().map_err(state_error)?.height;
    let shares: Vec<Value> = store
        .share_releases(&id)
        .map_err(state_error)?
        .into_iter()
        .map(|(record, holder, envelope)| json!({ "record": record.to_hex(), "holder": holder.to_hex(), "envelope": hex::encode(envelope) }))
        .collect();
    Ok(Json(
        json!({ "access": id.to_hex(), "grantee": g.grantee.to_hex(), "patient": g.patient.to_hex(), "emergency": g.emergency,
        "expiry": g.expiry, "active": store.access_active(&id, height).map_err(state_error)?,
        "records": g.records.iter().map(Hash32::to_hex).collect::<Vec<_>>(), "share_releases": shares }),
    ))
}

async fn challenge(State(node): State<Arc<Node>>) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "challenge": hex::encode(node.issue_challenge()?), "expires_in": CHALLENGE_LIFETIME.as_secs() }),
    ))
}

async fn upload(
    State(node): State<Arc<Node>>,
    UrlPath(hash): UrlPath<String>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let hash = hash_param(&hash)?;
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let store = node.blobs.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let mut sync = tokio_util::io::SyncIoBridge::new(reader);
        store.put(&hash, &mut sync)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    match stored {
        Ok(size) => Ok((StatusCode::CREATED, Json(json!({ "hash": hash.to_hex(), "size": size })))),
        Err(BlobError::HashMismatch { .. }) => {
            Err(ApiError::bad_request("HASH_MISMATCH", "the uploaded bytes do not hash to the name"))
        }
        Err(BlobError::TooLarge) => {
            Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", "record ciphertext too large"))
        }
        Err(e) => Err(ApiError::internal(e.to_string())),
    }
}

async fn download(
    State(node): State<Arc<Node>>,
    UrlPath(hash): UrlPath<String>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Body)> {
    let hash = hash_param(&hash)?;
    let node2 = Arc::clone(&node);
    let headers2 = headers.clone();
    let Authorized { patient, record, access } =
        tokio::task::spawn_blocking(move || node2.authorize(&headers2, &hash))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
    let reader =
        key_param(headers.get("x-medchain-reader").and_then(|v| v.to_str().ok()).unwrap_or_default())?;
    let entry = ReadEntry {
        time: unix_now(),
        patient: patient.to_hex(),
        reader: reader.to_hex(),
        record: record.to_hex(),
        access: access.map(|(id, _)| id.to_hex()).unwrap_or_default(),
        emergency: access.is_some_and(|(_, emergency)| emergency),
    };
    // The read is on disk in the log before a byte of the record goes out.
    let node2 = Arc::clone(&node);
    let file = tokio::task::spawn_blocking(move || {
        let file = node2.blobs.open(&hash).map_err(|e| match e {
            BlobError::NotFound(_) => ApiError::not_found("the record store has no such ciphertext"),
            other => ApiError::internal(other.to_string()),
        })?;
        info!(reader = %entry.reader, record = %entry.record, emergency = entry.emergency, "record read");
        node2
            .reads
            .lock()
            .map_err(|_| ApiError::internal("lock poisoned"))?
            .append(entry)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok::<_, ApiError>(file)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let chunk = std::io::Read::read(&mut file, &mut buffer)
                .map(|n| Bytes::copy_from_slice(buffer.get(..n).unwrap_or_default()));
            let done = matches!(&chunk, Ok(b) if b.is_empty()) || chunk.is_err();
            if sender.blocking_send(chunk).is_err() || done {
                break;
            }
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut rx| async move {
        match rx.recv().await {
            Some(Ok(bytes)) if bytes.is_empty() => None,
            Some(item) => Some((item, rx)),
            None => None,
        }
    });
    Ok((StatusCode::OK, Body::from_stream(stream)))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; the API lives under /v1/")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "this endpoint does not take that method",
    )
}

/// The API routes.
pub fn router(node: Arc<Node>) -> Router {
    // Handlers read bodies themselves, each under its own limit (`read_body`, the blob store).
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/transactions", post(submit))
        .route("/v1/transactions/{txid}", get(transaction))
        .route("/v1/blocks", get(blocks).post(submit_block))
        .route("/v1/blocks/{height}", get(block))
        .route("/v1/patients/{key}/records", get(records))
        .route("/v1/patients/{key}/audit", get(audit))
        .route("/v1/accesses/{txid}", get(grant))
        .route("/v1/modules/{hash}", get(module))
        .route("/v1/challenge", post(challenge))
        .route("/v1/reads", get(read_log))
        .route("/v1/keys/{key}/coins", get(coins))
        .route("/v1/records/{hash}", get(download).put(upload))
        .layer(DefaultBodyLimit::disable())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(node)
}

/// Runs the node until `shutdown` resolves: the API and, in dev mode, the block producer.
pub async fn serve(
    node: Arc<Node>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let listener = TcpListener::bind(node.config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", node.config.listen))?;
    serve_on(node, listener, shutdown).await
}

/// As [`serve`], on a listener already bound.
pub async fn serve_on(
    node: Arc<Node>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    info!(%address, "node listening");
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let producer = node.producer.is_some().then(|| {
        let node = Arc::clone(&node);
        let mut stopped = stop.subscribe();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(node.config.block_interval);
            ticker.tick().await;
            loop {
                tokio::select! {
                    _ = ticker.tick() => {
                        let node = Arc::clone(&node);
                        match tokio::task::spawn_blocking(move || node.produce_block()).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => warn!(error = %e, "block production failed"),
                            Err(e) => warn!(error = %e, "block production panicked"),
                        }
                    }
                    _ = stopped.changed() => break,
                }
            }
        })
    });
    let app = router(Arc::clone(&node)).layer(tower_http::trace::TraceLayer::new_for_http());
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown => {}
                _ = stopped.changed() => {}
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    let _ = stop.send(true);
    if let Some(handle) = producer {
        let _ = handle.await;
    }
    info!("node stopped");
    Ok(())
}
