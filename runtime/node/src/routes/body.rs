//! Request bodies, read under explicit limits: an oversized one is drained (up to a bound)
//! before the refusal, so a client still sending gets the answer rather than a reset.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt;
use medchain_api::NodeCode;
use medchain_chain::limits::{MAX_BLOCK_SIZE, MAX_TX_SIZE};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// Largest block submission body (hex in JSON doubles the size).
pub const MAX_BLOCK_BODY: usize = 2 * MAX_BLOCK_SIZE + 4096;

/// How much of an oversized body is read and dropped before the refusal is sent.
pub const MAX_DRAIN: usize = 8 * 1024 * 1024;

/// Largest transaction submission body (hex in JSON doubles the size).
pub const MAX_JSON_BODY: usize = 2 * MAX_TX_SIZE + 4096;

/// An encoded object from a request body: raw bytes for `application/octet-stream`, otherwise
/// JSON `{"<field>": "<hex>"}`.
pub async fn encoded(headers: &HeaderMap, body: Body, limit: usize, field: &str) -> ApiResult<Vec<u8>> {
    let body = read(body, limit).await?;
    if headers.get("content-type").and_then(|v| v.to_str().ok()) == Some("application/octet-stream") {
        return Ok(body);
    }
    let expected = || format!("expected {{\"{field}\": \"<hex>\"}}");
    let request: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(NodeCode::BadJson, format!("{}: {e}", expected())))?;
    let text = request
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request(NodeCode::BadJson, expected()))?;
    hex::decode(text.trim())
        .map_err(|e| ApiError::bad_request(NodeCode::BadHex, format!("{field} is not hex: {e}")))
}

/// Reads a request body of at most `limit` bytes. A larger one is refused with `TOO_LARGE`
/// after reading (and dropping) up to [`MAX_DRAIN`] more bytes.
pub async fn read(body: Body, limit: usize) -> ApiResult<Vec<u8>> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(NodeCode::BadBody, format!("cannot read the body: {e}")))?;
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
            NodeCode::TooLarge,
            format!("the body is over {limit} bytes"),
        ));
    }
    Ok(bytes)
}
