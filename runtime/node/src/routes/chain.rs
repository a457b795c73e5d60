//! The chain's resources: status, transactions, blocks, a key's coins, policy modules.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use medchain_api::{
    BlockImported, BlockList, BlockSummary, BlockView, CoinList, CoinView, ConfirmedIn, MempoolStatus,
    ModuleView, NodeCode, ProofStep, Status, Submitted, TransactionStatus, TransactionView, TxSummary,
};
use medchain_chain::block::{Block, Header};
use medchain_chain::limits::MAX_BLOCK_SIZE;
use medchain_chain::standard::{pay_to_key, pay_to_key_hash};
use medchain_chain::state::{Coin, StateRead};
use medchain_chain::store::{Store, Table};
use medchain_chain::transaction::{OutPoint, Transaction};
use medchain_primitives::codec::{Decode, Encode, Reader};
use serde::Deserialize;

use super::{MAX_BLOCK_BODY, MAX_JSON_BODY, MAX_PAGE, Page, blocking, body, hash_param, key_param};
use crate::error::{ApiError, ApiResult};
use crate::node::Node;

pub async fn status(State(node): State<Arc<Node>>) -> ApiResult<Json<Status>> {
    let tip = node.ledger.tip().map_err(ApiError::state)?;
    let pool = node.mempool()?;
    let chain = node.ledger.chain();
    Ok(Json(Status {
        chain_id: chain.chain_id,
        chain_name: chain.genesis.chain_name.clone(),
        height: tip.height,
        tip: tip.hash,
        mempool: MempoolStatus { transactions: pool.len(), bytes: pool.bytes() },
        producing: node.producer.is_some(),
    }))
}

pub async fn submit(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    let bytes = body::encoded(&headers, body, MAX_JSON_BODY, "tx").await?;
    let tx = Transaction::from_bytes(&bytes)
        .map_err(|e| ApiError::bad_request(NodeCode::TxDecode, e.to_string()))?;
    let txid = blocking(move || node.submit(tx)).await?;
    Ok((StatusCode::ACCEPTED, Json(Submitted { txid })))
}

pub async fn transaction(
    State(node): State<Arc<Node>>,
    Path(id): Path<String>,
) -> ApiResult<Json<TransactionView>> {
    let txid = hash_param(&id)?;
    if let Some(tx) = node.mempool()?.get(&txid) {
        return Ok(Json(TransactionView {
            txid,
            status: TransactionStatus::Pending,
            kind: tx.payload.kind().name().to_owned(),
            tx: tx.to_bytes().into(),
            block: None,
            proof: None,
        }));
    }
    let (tx, header, proof) = node
        .ledger
        .store()
        .transaction_proof(&txid)
        .map_err(ApiError::state)?
        .ok_or_else(|| ApiError::not_found(format!("no transaction {id}")))?;
    Ok(Json(TransactionView {
        txid,
        status: TransactionStatus::Confirmed,
        kind: tx.payload.kind().name().to_owned(),
        tx: tx.to_bytes().into(),
        block: Some(ConfirmedIn {
            height: header.height,
            hash: header.hash(),
            merkle_root: header.merkle_root,
            time: header.time,
        }),
        proof: Some(
            proof.steps.iter().map(|s| ProofStep { sibling: s.sibling, left: s.sibling_on_left }).collect(),
        ),
    }))
}

/// `?from=HEIGHT&limit=N` for blocks, newest first.
#[derive(Deserialize)]
pub struct BlockPage {
    from: Option<u32>,
    limit: Option<usize>,
}

/// How many blocks a list holds when the client does not say.
const DEFAULT_BLOCKS: usize = 20;

pub async fn blocks(
    State(node): State<Arc<Node>>,
    page: Result<Query<BlockPage>, QueryRejection>,
) -> ApiResult<Json<BlockList>> {
    let Query(page) = page?;
    // Up to a page of blocks read and hashed: off the async threads.
    blocking(move || block_list(&node, &page)).await
}

fn block_list(node: &Node, page: &BlockPage) -> ApiResult<Json<BlockList>> {
    let tip = node.ledger.tip().map_err(ApiError::state)?.height;
    let limit = page.limit.unwrap_or(DEFAULT_BLOCKS).clamp(1, MAX_PAGE);
    let from = page.from.unwrap_or(tip).min(tip);
    let mut blocks = Vec::new();
    for height in (1..=from).rev().take(limit) {
        let Some(block) = node.ledger.store().block(height).map_err(ApiError::state)? else { continue };
        let transactions = block
            .transactions
            .iter()
            .map(|t| TxSummary { txid: t.txid(), kind: t.payload.kind().name().to_owned() })
            .collect();
        blocks.push(BlockSummary {
            height,
            hash: block.header.hash(),
            time: block.header.time,
            transactions,
        });
    }
    let next = from.saturating_sub(u32::try_from(limit).unwrap_or(u32::MAX));
    Ok(Json(BlockList { blocks, next: (next != 0).then_some(next) }))
}

pub async fn block(State(node): State<Arc<Node>>, Path(height): Path<String>) -> ApiResult<Json<BlockView>> {
    let height: u32 = height.parse().map_err(|_| {
        ApiError::bad_request(NodeCode::BadHeight, format!("`{height}` is not a block height"))
    })?;
    let block = node
        .ledger
        .store()
        .block(height)
        .map_err(ApiError::state)?
        .ok_or_else(|| ApiError::not_found(format!("no block at {height}")))?;
    Ok(Json(BlockView { height, hash: block.header.hash(), block: block.to_bytes().into() }))
}

pub async fn submit_block(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<BlockImported>> {
    let bytes = body::encoded(&headers, body, MAX_BLOCK_BODY, "block").await?;
    if bytes.len() > MAX_BLOCK_SIZE {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            NodeCode::TooLarge,
            format!("a block is at most {MAX_BLOCK_SIZE} bytes"),
        ));
    }
    let height = blocking(move || {
        // The header first: a block from no producer of this chain, or not on the tip, is
        // refused before its transactions are decoded.
        let header = Header::decode(&mut Reader::new(&bytes))
            .map_err(|e| ApiError::bad_request(NodeCode::BlockDecode, e.to_string()))?;
        node.check_header(&header)?;
        let block = Block::from_bytes(&bytes)
            .map_err(|e| ApiError::bad_request(NodeCode::BlockDecode, e.to_string()))?;
        node.import_block(&block)
    })
    .await?;
    Ok(Json(BlockImported { height }))
}

/// The unspent coins a key can spend alone (pay-to-key and pay-to-key-hash), less those a
/// waiting transaction already spends. A scan of the coin set: fine for a node's own keys.
pub async fn coins(
    State(node): State<Arc<Node>>,
    Path(key): Path<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> ApiResult<Json<CoinList>> {
    let Query(page) = page?;
    let key = key_param(&key)?;
    // A scan of the coin set, off the async threads; the mempool is locked only to drop the
    // key's coins a waiting transaction spends.
    blocking(move || {
        let locks = [pay_to_key(&key), pay_to_key_hash(&key)];
        let entries = node.ledger.store().scan(Table::Utxo, &[]).map_err(ApiError::state)?;
        let mine: Vec<(OutPoint, Coin)> = entries
            .into_iter()
            .filter_map(|(k, v)| Some((OutPoint::from_bytes(&k).ok()?, Coin::from_bytes(&v).ok()?)))
            .filter(|(_, coin)| locks.contains(&coin.output.lock))
            .collect();
        let pool = node.mempool()?;
        let coins: Vec<CoinView> = mine
            .into_iter()
            .filter(|(outpoint, _)| !pool.spends(outpoint))
            .map(|(outpoint, coin)| CoinView {
                txid: outpoint.txid,
                index: outpoint.index,
                value: coin.output.value,
                lock: coin.output.lock.into(),
                height: coin.height,
                coinbase: coin.coinbase,
            })
            .collect();
        drop(pool);
        let (coins, next) = page.of(coins);
        Ok(Json(CoinList { coins, next }))
    })
    .await
}

pub async fn module(State(node): State<Arc<Node>>, Path(hash): Path<String>) -> ApiResult<Json<ModuleView>> {
    let hash = hash_param(&hash)?;
    let code = node
        .ledger
        .store()
        .module(&hash)
        .map_err(ApiError::state)?
        .ok_or_else(|| ApiError::not_found("no such policy module"))?;
    Ok(Json(ModuleView { module: hash, size: code.len(), code: code.into() }))
}
