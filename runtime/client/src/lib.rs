//! A client of a node's HTTP API: what wallets, the demo and the examples talk to a node with.

#![forbid(unsafe_code)]
#![allow(
    clippy::indexing_slicing,
    reason = "indexing a serde_json::Value by key gives Null when the key is missing; it never panics"
)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thiserror::Error;

use medchain_api::read_message;
use medchain_chain::block::Block;
use medchain_chain::transaction::Transaction;
use medchain_primitives::Hash32;
use medchain_primitives::Signer;
use medchain_primitives::codec::{Decode, Encode};

/// Why a request failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The node could not be reached or answered garbage.
    #[error("cannot talk to the node: {0}")]
    Transport(String),
    /// The node refused the request.
    #[error("{code}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The node's error code.
        code: String,
        /// The node's message.
        message: String,
    },
    /// Waiting took too long.
    #[error("gave up waiting after {0:?}")]
    Timeout(Duration),
}

/// A node's API.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of the node at `base` (e.g. `http://127.0.0.1:7070`).
    pub fn new(base: &str) -> Self {
        Self { base: base.trim_end_matches('/').to_owned(), http: reqwest::Client::new() }
    }

    async fn answer(response: reqwest::Response) -> Result<Value, ClientError> {
        let status = response.status().as_u16();
        let body: Value = response.json().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(ClientError::Refused {
            status,
            code: body["error"]["code"].as_str().unwrap_or("UNKNOWN").to_owned(),
            message: body["error"]["message"].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// A GET of any API path (`/v1/...`), answered as JSON.
    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Self::answer(response).await
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<Value, ClientError> {
        self.get("/v1/status").await
    }

    /// Submits a transaction; returns its id.
    pub async fn submit(&self, tx: &Transaction) -> Result<Hash32, ClientError> {
        let response = self
            .http
            .post(format!("{}/v1/transactions", self.base))
            .json(&json!({ "tx": hex::encode(tx.to_bytes()) }))
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let body = Self::answer(response).await?;
        body["txid"]
            .as_str()
            .and_then(Hash32::from_hex)
            .ok_or_else(|| ClientError::Transport("no txid in the answer".into()))
    }

    /// A transaction's status, block and proof.
    pub async fn transaction(&self, txid: &Hash32) -> Result<Value, ClientError> {
        self.get(&format!("/v1/transactions/{txid}")).await
    }

    /// Waits until a transaction is in a block, calling `progress` with the seconds waited.
    pub async fn wait_confirmed(
        &self,
        txid: &Hash32,
        timeout: Duration,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Value, ClientError> {
        let start = Instant::now();
        loop {
            let answer = self.transaction(txid).await?;
            if answer["status"] == "confirmed" {
                return Ok(answer);
            }
            if start.elapsed() > timeout {
                return Err(ClientError::Timeout(timeout));
            }
            progress(start.elapsed().as_secs());
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A patient's records.
    pub async fn records(&self, patient: &str) -> Result<Value, ClientError> {
        self.get(&format!("/v1/patients/{patient}/records")).await
    }

    /// The node's read log: size, head hash, and where it was last anchored on chain.
    pub async fn read_log(&self) -> Result<Value, ClientError> {
        self.get("/v1/reads").await
    }

    /// One block, decoded.
    pub async fn block(&self, height: u64) -> Result<Block, ClientError> {
        let answer = self.get(&format!("/v1/blocks/{height}")).await?;
        let bytes = hex::decode(answer["block"].as_str().unwrap_or_default())
            .map_err(|e| ClientError::Transport(format!("block is not hex: {e}")))?;
        Block::from_bytes(&bytes).map_err(|e| ClientError::Transport(format!("block does not decode: {e}")))
    }

    /// The coins `key` can spend, as `{"coins": [{"txid", "index", "value", "height", "coinbase"}]}`.
    pub async fn coins(&self, key: &str) -> Result<Value, ClientError> {
        self.get(&format!("/v1/keys/{key}/coins")).await
    }

    /// A patient's audit log.
    pub async fn audit(&self, patient: &str) -> Result<Value, ClientError> {
        self.get(&format!("/v1/patients/{patient}/audit")).await
    }

    /// A grant or emergency access, with its share releases.
    pub async fn access(&self, txid: &Hash32) -> Result<Value, ClientError> {
        self.get(&format!("/v1/accesses/{txid}")).await
    }

    /// The latest blocks.
    pub async fn blocks(&self, limit: usize) -> Result<Value, ClientError> {
        self.get(&format!("/v1/blocks?limit={limit}")).await
    }

    /// Uploads a record ciphertext to the node's record store.
    pub async fn upload(&self, ciphertext: Vec<u8>) -> Result<Hash32, ClientError> {
        let hash = Hash32::sha256(&ciphertext);
        let response = self
            .http
            .put(format!("{}/v1/records/{hash}", self.base))
            .body(ciphertext)
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Self::answer(response).await?;
        Ok(hash)
    }

    /// Downloads a record ciphertext, proving with a signed fresh challenge that `reader`
    /// may read it.
    pub async fn download(
        &self,
        chain_id: &Hash32,
        reader: &Signer,
        ciphertext: &Hash32,
    ) -> Result<Vec<u8>, ClientError> {
        let response = self
            .http
            .post(format!("{}/v1/challenge", self.base))
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let challenge_hex =
            Self::answer(response).await?["challenge"].as_str().unwrap_or_default().to_owned();
        let challenge: [u8; 32] = hex::decode(&challenge_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ClientError::Transport("bad challenge".into()))?;
        let signature = reader.sign(&read_message(chain_id, &challenge, ciphertext));
        let response = self
            .http
            .get(format!("{}/v1/records/{ciphertext}", self.base))
            .header("x-medchain-reader", reader.key.to_hex())
            .header("x-medchain-challenge", challenge_hex)
            .header("x-medchain-signature", hex::encode(signature.0))
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Self::answer(response)
                .await
                .err()
                .unwrap_or(ClientError::Transport("refused".into())));
        }
        Ok(response.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?.to_vec())
    }
}
