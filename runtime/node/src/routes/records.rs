//! Records and who reads them: a record, a patient's records and audit log (the patient's or
//! an auditor's only), accesses, the read log, challenges, uploads and authorized downloads.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use medchain_api::{
    AccessSummary, AccessView, Audit, Challenge, EmergencySharesView, NodeCode, ReadEntry, ReadLogState,
    RecordList, RecordView, ShareRelease, ShareView, Uploaded,
};
use medchain_chain::state::{RecordEntry, StateRead};
use medchain_chain::transaction::EmergencyShares;
use medchain_chain::validate::AccessStatus;
use medchain_primitives::{Hash32, PubKey};
use tracing::info;

use super::{Page, blocking, hash_param, key_param};
use crate::blobs::{BlobError, BlobStore};
use crate::challenges::CHALLENGE_LIFETIME;
use crate::error::{ApiError, ApiResult};
use crate::node::{Authorized, Node, unix_now};

/// Most uploads written at once.
pub const MAX_UPLOADS: usize = 16;

/// Longest an upload may send nothing.
pub const UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(10);

/// Longest an upload may take in all.
pub const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Bytes a download reads from disk at a time.
const DOWNLOAD_CHUNK: usize = 64 * 1024;

pub async fn records(
    State(node): State<Arc<Node>>,
    Path(patient): Path<String>,
    page: Result<Query<Page>, QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<RecordList>> {
    let Query(page) = page?;
    let patient = key_param(&patient)?;
    blocking(move || {
        let _reading = node.reading()?;
        node.authorize_view(&headers, &patient)?;
        let store = node.ledger.store();
        let (ids, next) = page.of(store.patient_records(&patient).map_err(ApiError::state)?);
        let mut records = Vec::new();
        for id in ids {
            if let Some(r) = store.record(&id).map_err(ApiError::state)? {
                records.push(record_view(id, r));
            }
        }
        Ok(Json(RecordList { records, next }))
    })
    .await
}

/// `GET /v1/records/{id}`: one record as the chain holds it (its storage is public on chain).
pub async fn record(State(node): State<Arc<Node>>, Path(id): Path<String>) -> ApiResult<Json<RecordView>> {
    let id = hash_param(&id)?;
    let stored = node.ledger.store().record(&id).map_err(ApiError::state)?;
    let stored = stored.ok_or_else(|| ApiError::not_found(format!("record {id} is not on chain")))?;
    Ok(Json(record_view(id, stored)))
}

fn record_view(id: Hash32, r: RecordEntry) -> RecordView {
    RecordView {
        record: id,
        patient: r.patient,
        release: r.release,
        ciphertext: r.ciphertext,
        policy: r.policy.into(),
        height: r.height,
        emergency: r.emergency.as_ref().map(share_deposits),
    }
}

/// A record's emergency key shares: the threshold and each holder's sealed share.
fn share_deposits(shares: &EmergencyShares) -> EmergencySharesView {
    EmergencySharesView {
        threshold: shares.threshold,
        shares: shares
            .shares
            .iter()
            .map(|d| ShareView { holder: d.holder, envelope: d.envelope.clone().into(), check: d.check })
            .collect(),
    }
}

pub async fn audit(
    State(node): State<Arc<Node>>,
    Path(patient): Path<String>,
    page: Result<Query<Page>, QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<Audit>> {
    let Query(page) = page?;
    let patient = key_param(&patient)?;
    blocking(move || audit_of(&node, &headers, &patient, &page)).await
}

fn audit_of(node: &Node, headers: &HeaderMap, patient: &PubKey, page: &Page) -> ApiResult<Json<Audit>> {
    // One state for the check, the accesses and their status.
    let _reading = node.reading()?;
    node.authorize_view(headers, patient)?;
    let patient = *patient;
    let store = node.ledger.store();
    let height = node.ledger.tip().map_err(ApiError::state)?.height;
    let (ids, next_access) = page.of(store.patient_accesses(&patient).map_err(ApiError::state)?);
    let mut accesses = Vec::new();
    for id in ids {
        if let Some(g) = store.grant(&id).map_err(ApiError::state)? {
            let status = node.ledger.chain().access_status(store, &id, height).map_err(ApiError::state)?;
            accesses.push(AccessSummary {
                access: id,
                grantee: g.grantee,
                emergency: g.emergency,
                justification_commitment: g.emergency.then_some(g.justification.commitment),
                justification: g.justification.copies.into_iter().map(|sealed| sealed.0.into()).collect(),
                purpose: g.purpose,
                height: g.height,
                unlocks: g.unlocks,
                vetoed: status == AccessStatus::Vetoed,
                expiry: g.expiry,
                revoked_at: store.revoked_at(&id).map_err(ApiError::state)?,
                active: status == AccessStatus::Usable,
                records: g.records,
            });
        }
    }
    let reads: Vec<ReadEntry> = node.reads()?.of_patient(&patient).cloned().collect();
    let (reads, next_read) = page.of(reads);
    let next = next_access.into_iter().chain(next_read).max();
    Ok(Json(Audit { patient, accesses, reads, next, read_log: node.read_log_state()? }))
}

pub async fn access(State(node): State<Arc<Node>>, Path(id): Path<String>) -> ApiResult<Json<AccessView>> {
    let id = hash_param(&id)?;
    let store = node.ledger.store();
    let g =
        store.grant(&id).map_err(ApiError::state)?.ok_or_else(|| ApiError::not_found("no such access"))?;
    let height = node.ledger.tip().map_err(ApiError::state)?.height;
    let share_releases = store
        .share_releases(&id)
        .map_err(ApiError::state)?
        .into_iter()
        .map(|(record, holder, envelope)| ShareRelease { record, holder, envelope: envelope.into() })
        .collect();
    let status = node.ledger.chain().access_status(store, &id, height).map_err(ApiError::state)?;
    Ok(Json(AccessView {
        access: id,
        grantee: g.grantee,
        patient: g.patient,
        emergency: g.emergency,
        expiry: g.expiry,
        unlocks: g.unlocks,
        vetoed: status == AccessStatus::Vetoed,
        active: status == AccessStatus::Usable,
        records: g.records,
        share_releases,
    }))
}

pub async fn read_log(State(node): State<Arc<Node>>) -> ApiResult<Json<ReadLogState>> {
    Ok(Json(node.read_log_state()?))
}

pub async fn challenge(State(node): State<Arc<Node>>) -> ApiResult<Json<Challenge>> {
    Ok(Json(Challenge {
        challenge: node.issue_challenge().to_vec().into(),
        expires_in: CHALLENGE_LIFETIME.as_secs(),
    }))
}

/// `PUT /v1/ciphertexts/{hash}`: a ciphertext into the record store. At most
/// [`MAX_UPLOADS`] are written at once, so uploads never take the threads reads, submissions
/// and blocks need; each chunk must come within [`UPLOAD_IDLE`], the whole within
/// [`UPLOAD_TIMEOUT`], so a slow client holds a writer only so long.
pub async fn upload(
    State(node): State<Arc<Node>>,
    Path(hash): Path<String>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Uploaded>)> {
    let hash = hash_param(&hash)?;
    let permit = tokio::time::timeout(UPLOAD_IDLE, Arc::clone(&node.uploads).acquire_owned())
        .await
        .map_err(|_| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, NodeCode::Busy, "too many uploads at once")
        })?
        .map_err(|_| ApiError::internal("the upload gate closed"))?;
    let deadline = tokio::time::Instant::now() + UPLOAD_TIMEOUT;
    let chunks = body.into_data_stream();
    let stream = futures_util::stream::unfold(chunks, move |mut chunks| async move {
        let until = deadline.min(tokio::time::Instant::now() + UPLOAD_IDLE);
        match tokio::time::timeout_at(until, futures_util::StreamExt::next(&mut chunks)).await {
            Ok(Some(Ok(bytes))) => Some((Ok(bytes), chunks)),
            Ok(Some(Err(error))) => Some((Err(std::io::Error::other(error)), chunks)),
            Ok(None) => None,
            Err(_) => Some((
                Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the upload is too slow")),
                chunks,
            )),
        }
    });
    let reader = tokio_util::io::StreamReader::new(Box::pin(stream));
    let size = blocking(move || {
        let _permit = permit;
        let mut sync = tokio_util::io::SyncIoBridge::new(reader);
        node.blobs.put(&hash, &mut sync).map_err(|e| match e {
            BlobError::HashMismatch { .. } => {
                ApiError::bad_request(NodeCode::HashMismatch, "the uploaded bytes do not hash to the name")
            }
            BlobError::TooLarge => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                NodeCode::TooLarge,
                "record ciphertext too large",
            ),
            BlobError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                NodeCode::Timeout,
                format!(
                    "the upload sent no data for {} s, or took over {} s",
                    UPLOAD_IDLE.as_secs(),
                    UPLOAD_TIMEOUT.as_secs()
                ),
            ),
            other => ApiError::internal(other.to_string()),
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Uploaded { hash, size })))
}

/// `GET /v1/records/{id}/ciphertext`: the record's ciphertext, to a reader that record lets in.
pub async fn download(
    State(node): State<Arc<Node>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Body)> {
    let id = hash_param(&id)?;
    let authorizing = Arc::clone(&node);
    let (Authorized { reader, patient, record, access }, hash) = blocking(move || {
        let authorized = authorizing.authorize_read(&headers, &id)?;
        let stored = authorizing.ledger.store().record(&id).map_err(ApiError::state)?;
        let stored = stored.ok_or_else(|| ApiError::not_found(format!("record {id} is not on chain")))?;
        Ok((authorized, stored.ciphertext))
    })
    .await?;
    let entry = ReadEntry {
        time: unix_now(),
        patient,
        reader,
        record,
        access: access.map(|(id, _)| id),
        emergency: access.is_some_and(|(_, emergency)| emergency),
    };
    // The read is on disk in the log before a byte of the record goes out.
    let file = blocking(move || {
        let file = node.blobs.open(&hash).map_err(|e| match e {
            BlobError::NotFound(_) => ApiError::not_found("the record store has no such ciphertext"),
            other => ApiError::internal(other.to_string()),
        })?;
        info!(reader = %entry.reader, record = %entry.record, emergency = entry.emergency, "record read");
        node.reads()?.append(entry).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(file)
    })
    .await?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        let mut buffer = vec![0u8; DOWNLOAD_CHUNK];
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
