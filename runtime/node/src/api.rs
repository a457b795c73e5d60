//! The HTTP API's error type: a stable code, a message, and the HTTP status that goes with it;
//! for a script that failed, the VM's error name and a policy module's reason code.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use medchain_chain::validate::TxError;
use medchain_chain::verdict::Rejection;

/// An API error: `{"error": {"code": "...", "message": "...", "script_error": "...",
/// "module_reason": 7}}`, the last two only when a script failed (and a module denied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code clients match on.
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// The VM's error name, when a script or policy failed.
    pub script_error: Option<&'static str>,
    /// A policy module's reason code, when one denied.
    pub module_reason: Option<u32>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    module_reason: Option<u32>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), script_error: None, module_reason: None }
    }

    /// 400 for a transaction the chain's rules refuse; 500 when this node failed to judge it
    /// (its state or its policy-module engine).
    pub fn refused(rejection: &Rejection<TxError>) -> Self {
        let error = match rejection {
            Rejection::Invalid(error) => error,
            Rejection::Undecided(fault) => return Self::internal(fault.to_string()),
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
            ..Self::bad_request(error.code(), error.to_string())
        }
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// 401/403 for reads that are not allowed.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request("BAD_QUERY", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                script_error: self.script_error,
                module_reason: self.module_reason,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
