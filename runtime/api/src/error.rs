//! The error body every refusal has, and the codes the node itself gives (the chain's rules
//! have their own codes, `TxError::code` and `BlockError::code`).

use serde::{Deserialize, Serialize};

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The refusal.
    pub error: ErrorDetail,
}

/// One refusal: a stable code clients match on, a message for people, and for a failed script
/// the VM's error name and a policy module's reason code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A [`NodeCode`] or a chain rule's code.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The VM's error name, when a script or policy failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_error: Option<String>,
    /// A policy module's reason code, when one denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_reason: Option<u32>,
}

/// The codes the node gives for what is not a chain rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodeCode {
    /// The body is not the expected JSON.
    BadJson,
    /// A hex field is not hex.
    BadHex,
    /// The body could not be read.
    BadBody,
    /// The bytes are not a canonical transaction.
    TxDecode,
    /// The bytes are not a canonical block.
    BlockDecode,
    /// The body is over its limit.
    TooLarge,
    /// A hash in the path does not parse.
    BadHash,
    /// A key in the path does not parse.
    BadKey,
    /// A height in the path does not parse.
    BadHeight,
    /// The query string does not parse.
    BadQuery,
    /// No such object or endpoint.
    NotFound,
    /// The endpoint does not take that method.
    MethodNotAllowed,
    /// Already in the mempool.
    Duplicate,
    /// Spends an input another pending transaction spends.
    Conflict,
    /// Declares more fuel than the node validates for relay.
    FuelOverRelayLimit,
    /// The fee is under the node's relay minimum for the size and fuel.
    FeeBelowRelay,
    /// The mempool is full and the transaction pays too little to displace one.
    MempoolFull,
    /// A key over its budget of signed requests.
    RateLimited,
    /// Too many requests of this kind at once (uploads).
    Busy,
    /// The request or its body took too long.
    Timeout,
    /// A read without its headers.
    MissingProof,
    /// A read with an unknown, used or expired challenge.
    BadChallenge,
    /// A read whose signature does not verify.
    BadSignature,
    /// The reader has no live access to the record.
    NoAccess,
    /// An upload that does not hash to its name.
    HashMismatch,
    /// A block from elsewhere whose time is too far ahead of this node's clock.
    FutureBlock,
    /// The node failed (its storage, its engine); nothing was changed.
    Internal,
}

impl NodeCode {
    /// Every code.
    pub const ALL: [NodeCode; 27] = [
        NodeCode::BadJson,
        NodeCode::BadHex,
        NodeCode::BadBody,
        NodeCode::TxDecode,
        NodeCode::BlockDecode,
        NodeCode::TooLarge,
        NodeCode::BadHash,
        NodeCode::BadKey,
        NodeCode::BadHeight,
        NodeCode::BadQuery,
        NodeCode::NotFound,
        NodeCode::MethodNotAllowed,
        NodeCode::Duplicate,
        NodeCode::Conflict,
        NodeCode::FuelOverRelayLimit,
        NodeCode::FeeBelowRelay,
        NodeCode::MempoolFull,
        NodeCode::RateLimited,
        NodeCode::Busy,
        NodeCode::Timeout,
        NodeCode::MissingProof,
        NodeCode::BadChallenge,
        NodeCode::BadSignature,
        NodeCode::NoAccess,
        NodeCode::HashMismatch,
        NodeCode::FutureBlock,
        NodeCode::Internal,
    ];

    /// The code as it travels.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeCode::BadJson => "BAD_JSON",
            NodeCode::BadHex => "BAD_HEX",
            NodeCode::BadBody => "BAD_BODY",
            NodeCode::TxDecode => "TX_DECODE",
            NodeCode::BlockDecode => "BLOCK_DECODE",
            NodeCode::TooLarge => "TOO_LARGE",
            NodeCode::BadHash => "BAD_HASH",
            NodeCode::BadKey => "BAD_KEY",
            NodeCode::BadHeight => "BAD_HEIGHT",
            NodeCode::BadQuery => "BAD_QUERY",
            NodeCode::NotFound => "NOT_FOUND",
            NodeCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            NodeCode::Duplicate => "DUPLICATE",
            NodeCode::Conflict => "CONFLICT",
            NodeCode::FuelOverRelayLimit => "FUEL_OVER_RELAY_LIMIT",
            NodeCode::FeeBelowRelay => "FEE_BELOW_RELAY",
            NodeCode::MempoolFull => "MEMPOOL_FULL",
            NodeCode::RateLimited => "RATE_LIMITED",
            NodeCode::Busy => "BUSY",
            NodeCode::Timeout => "TIMEOUT",
            NodeCode::MissingProof => "MISSING_PROOF",
            NodeCode::BadChallenge => "BAD_CHALLENGE",
            NodeCode::BadSignature => "BAD_SIGNATURE",
            NodeCode::NoAccess => "NO_ACCESS",
            NodeCode::HashMismatch => "HASH_MISMATCH",
            NodeCode::FutureBlock => "FUTURE_BLOCK",
            NodeCode::Internal => "INTERNAL",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_travel_as_their_names() {
        for code in NodeCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(code.as_str()));
            assert_eq!(serde_json::from_value::<NodeCode>(serde_json::json!(code.as_str())).unwrap(), code);
        }
    }
}
