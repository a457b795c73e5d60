//! The HTTP API's error type: a stable code, a message, and the HTTP status that goes with it;
//! for a script that failed, the VM's error name and a policy module's reason code.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use medchain_api::{ErrorBody, ErrorDetail, NodeCode};
use medchain_chain::validate::TxError;
use medchain_chain::verdict::{NodeFault, Rejection};

/// An API error: `{"error": {"code": "...", "message": "...", "script_error": "...",
/// "module_reason": 7}}`, the last two only when a script failed (and a module denied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code clients match on: a [`NodeCode`] or a chain rule's code.
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// The VM's error name, when a script or policy failed.
    pub script_error: Option<&'static str>,
    /// A policy module's reason code, when one denied.
    pub module_reason: Option<u32>,
}

/// What a handler answers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a status, one of the node's codes and a message.
    pub fn new(status: StatusCode, code: NodeCode, message: impl Into<String>) -> Self {
        Self::with_code(status, code.as_str(), message)
    }

    fn with_code(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), script_error: None, module_reason: None }
    }

    /// 400 for a transaction the chain's rules refuse; 500 when this node failed to judge it
    /// (its state or its policy-module engine).
    pub fn refused(rejection: &Rejection<TxError>) -> Self {
        let error = match rejection {
            Rejection::Invalid(error) => error,
            Rejection::Undecided(fault) => return Self::fault(fault),
        };
        let script = match error {
            TxError::Script { error, .. } | TxError::Policy { error, .. } => Some(error),
            _ => None,
        };
        Self {
            script_error: script.map(|e| e.name()),
            module_reason: match script {
                Some(medchain_vm::ScriptError::ModuleDenied(reason)) => Some(*reason),
                _ => None,
            },
            ..Self::rule(error.code(), error.to_string())
        }
    }

    /// 400 for a broken chain rule, with the rule's code.
    pub fn rule(code: &'static str, message: impl Into<String>) -> Self {
        Self::with_code(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 with one of the node's codes.
    pub fn bad_request(code: NodeCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, NodeCode::NotFound, message)
    }

    /// 401 for a request that must be signed and is not (or not validly).
    pub fn unauthorized(code: NodeCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403 for reads that are not allowed.
    pub fn forbidden(code: NodeCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 500: this node failed; nothing was changed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, NodeCode::Internal, message)
    }

    /// 500 for a fault of this node while it judged something.
    pub fn fault(fault: &NodeFault) -> Self {
        Self::internal(fault.to_string())
    }

    /// 500 for a lock another thread poisoned by panicking.
    pub fn poisoned() -> Self {
        Self::internal("lock poisoned")
    }

    /// 500 for a state read that failed.
    pub fn state(error: impl std::fmt::Display) -> Self {
        Self::internal(format!("state read failed: {error}"))
    }

    /// The body this error is answered with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                script_error: self.script_error.map(str::to_owned),
                module_reason: self.module_reason,
            },
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(NodeCode::BadQuery, rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}
