//! The API routes under `/v1`, one file per resource, and what they share: path parameters,
//! pages and the answers for unknown endpoints and methods.

mod body;
mod chain;
mod records;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use medchain_api::NodeCode;
use medchain_primitives::{Hash32, PubKey};
use serde::Deserialize;

pub use body::{MAX_BLOCK_BODY, MAX_DRAIN, MAX_JSON_BODY};
pub use records::{MAX_UPLOADS, UPLOAD_IDLE, UPLOAD_TIMEOUT};

/// Longest a request may take, its body included, but for uploads (which have their own
/// limits) and the streaming of a download's body.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

use crate::error::{ApiError, ApiResult};
use crate::node::Node;

/// Most items one list response returns.
pub const MAX_PAGE: usize = 100;

/// The API routes.
pub fn router(node: Arc<Node>) -> Router {
    // Handlers read bodies themselves, each under its own limit (`body::read`, the blob store).
    Router::new()
        .route("/v1/status", get(chain::status))
        .route("/v1/transactions", post(chain::submit))
        .route("/v1/transactions/{txid}", get(chain::transaction))
        .route("/v1/blocks", get(chain::blocks).post(chain::submit_block))
        .route("/v1/blocks/{height}", get(chain::block))
        .route("/v1/keys/{key}/coins", get(chain::coins))
        .route("/v1/modules/{hash}", get(chain::module))
        .route("/v1/patients/{key}/records", get(records::records))
        .route("/v1/patients/{key}/audit", get(records::audit))
        .route("/v1/accesses/{txid}", get(records::access))
        .route("/v1/challenge", post(records::challenge))
        .route("/v1/reads", get(records::read_log))
        .route("/v1/records/{id}", get(records::record))
        .route("/v1/records/{id}/ciphertext", get(records::download))
        .layer(axum::middleware::from_fn(within_time))
        .route("/v1/ciphertexts/{hash}", put(records::upload))
        .layer(DefaultBodyLimit::disable())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(node)
}

fn hash_param(text: &str) -> ApiResult<Hash32> {
    Hash32::from_hex(text)
        .ok_or_else(|| ApiError::bad_request(NodeCode::BadHash, format!("`{text}` is not 64 hex digits")))
}

fn key_param(text: &str) -> ApiResult<PubKey> {
    PubKey::from_hex(text).ok_or_else(|| {
        ApiError::bad_request(NodeCode::BadKey, format!("`{text}` is not a compressed public key"))
    })
}

/// `?offset=N&limit=N` for a list.
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

/// Runs blocking work (state reads, validation, disk) off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::internal(e.to_string()))?
}

/// Answers `408 TIMEOUT` for a request not answered within [`REQUEST_TIMEOUT`].
async fn within_time(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => axum::response::IntoResponse::into_response(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            NodeCode::Timeout,
            format!("the request was not answered within {} s", REQUEST_TIMEOUT.as_secs()),
        )),
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; the API lives under /v1/")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        NodeCode::MethodNotAllowed,
        "this endpoint does not take that method",
    )
}
