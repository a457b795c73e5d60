//! A client of a node's HTTP API: what wallets, the demo and the examples talk to a node with.

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use medchain_api::{
    AccessView, Audit, BlockList, BlockView, Challenge, CoinList, ErrorBody, ModuleView, ReadLogState,
    RecordList, RecordView, Status, Submitted, TransactionStatus, TransactionView, Uploaded,
};
use medchain_api::{CHALLENGE_HEADER, READER_HEADER, SIGNATURE_HEADER};
use serde::de::DeserializeOwned;
use serde_json::json;
use thiserror::Error;

use medchain_api::{read_message, view_message};
use medchain_chain::block::Block;
use medchain_chain::transaction::{Payload, Transaction};
use medchain_primitives::Signer;
use medchain_primitives::codec::{Decode, Encode};
use medchain_primitives::{Hash32, PubKey};

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

    /// The node's answer as `T`, or its refusal.
    async fn answer<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes)
                .map_err(|e| ClientError::Transport(format!("the node's answer does not parse: {e}")));
        }
        Err(Self::refusal(status, &bytes))
    }

    /// A refusal from its status and body (the error body when it parses).
    fn refusal(status: u16, bytes: &[u8]) -> ClientError {
        match serde_json::from_slice::<ErrorBody>(bytes) {
            Ok(body) => ClientError::Refused { status, code: body.error.code, message: body.error.message },
            Err(_) => ClientError::Refused {
                status,
                code: "UNKNOWN".into(),
                message: String::from_utf8_lossy(bytes).chars().take(200).collect(),
            },
        }
    }

    /// A GET of an API path (`/v1/...`), answered as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Self::answer(response).await
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<Status, ClientError> {
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
        Ok(Self::answer::<Submitted>(response).await?.txid)
    }

    /// A transaction's status, block and proof.
    pub async fn transaction(&self, txid: &Hash32) -> Result<TransactionView, ClientError> {
        self.get(&format!("/v1/transactions/{txid}")).await
    }

    /// Waits until a transaction is in a block, calling `progress` with the seconds waited.
    pub async fn wait_confirmed(
        &self,
        txid: &Hash32,
        timeout: Duration,
        progress: &mut dyn FnMut(u64),
    ) -> Result<TransactionView, ClientError> {
        let start = Instant::now();
        loop {
            let answer = self.transaction(txid).await?;
            if answer.status == TransactionStatus::Confirmed {
                return Ok(answer);
            }
            if start.elapsed() > timeout {
                return Err(ClientError::Timeout(timeout));
            }
            progress(start.elapsed().as_secs());
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The commitment a release made to its record, from the release transaction on chain.
    pub async fn release_commitment(&self, release: &Hash32) -> Result<Hash32, ClientError> {
        let answer = self.transaction(release).await?;
        let tx = Transaction::from_bytes(&answer.tx.0)
            .map_err(|e| ClientError::Transport(format!("transaction {release} does not decode: {e}")))?;
        match tx.payload {
            Payload::Release { commitment, .. } => Ok(commitment),
            other => Err(ClientError::Transport(format!(
                "transaction {release} is a {}, not a release",
                other.kind()
            ))),
        }
    }

    /// The node's read log: size, head hash, and where it was last anchored on chain.
    pub async fn read_log(&self) -> Result<ReadLogState, ClientError> {
        self.get("/v1/reads").await
    }

    /// One block, decoded.
    pub async fn block(&self, height: u32) -> Result<Block, ClientError> {
        let answer: BlockView = self.get(&format!("/v1/blocks/{height}")).await?;
        Block::from_bytes(&answer.block.0)
            .map_err(|e| ClientError::Transport(format!("block does not decode: {e}")))
    }

    /// The coins `key` can spend alone (the first page).
    pub async fn coins(&self, key: &PubKey) -> Result<CoinList, ClientError> {
        self.get(&format!("/v1/keys/{key}/coins")).await
    }

    /// A grant or emergency access, with its share releases.
    pub async fn access(&self, txid: &Hash32) -> Result<AccessView, ClientError> {
        self.get(&format!("/v1/accesses/{txid}")).await
    }

    /// The latest blocks.
    pub async fn blocks(&self, limit: usize) -> Result<BlockList, ClientError> {
        self.get(&format!("/v1/blocks?limit={limit}")).await
    }

    /// A deployed policy module.
    pub async fn module(&self, hash: &Hash32) -> Result<ModuleView, ClientError> {
        self.get(&format!("/v1/modules/{hash}")).await
    }

    /// Uploads a record ciphertext to the node's record store.
    pub async fn upload(&self, ciphertext: Vec<u8>) -> Result<Hash32, ClientError> {
        let hash = Hash32::sha256(&ciphertext);
        let response = self
            .http
            .put(format!("{}/v1/ciphertexts/{hash}", self.base))
            .body(ciphertext)
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Self::answer::<Uploaded>(response).await?.hash)
    }

    /// A fresh challenge from the node, for one signed request.
    async fn challenge(&self) -> Result<[u8; 32], ClientError> {
        let response = self
            .http
            .post(format!("{}/v1/challenge", self.base))
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let Challenge { challenge, .. } = Self::answer(response).await?;
        challenge.0.try_into().map_err(|_| ClientError::Transport("the challenge is not 32 bytes".into()))
    }

    /// A GET of `path` signed by `signer` over `message(challenge)` for a fresh challenge; the
    /// answer's bytes.
    async fn signed_get(
        &self,
        path: &str,
        signer: &Signer,
        message: impl FnOnce(&[u8; 32]) -> Hash32,
    ) -> Result<Vec<u8>, ClientError> {
        let challenge = self.challenge().await?;
        let signature = signer.sign(&message(&challenge));
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(READER_HEADER, signer.key.to_hex())
            .header(CHALLENGE_HEADER, hex::encode(challenge))
            .header(SIGNATURE_HEADER, hex::encode(signature.0))
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(Self::refusal(status, &bytes));
        }
        Ok(bytes.to_vec())
    }

    /// A private list of `patient`'s (`/v1/patients/{key}/...`), as `viewer` (the patient or a
    /// registered auditor) sees it.
    async fn view<T: DeserializeOwned>(
        &self,
        chain_id: &Hash32,
        viewer: &Signer,
        patient: &PubKey,
        list: &str,
    ) -> Result<T, ClientError> {
        let path = format!("/v1/patients/{patient}/{list}");
        let bytes = self.signed_get(&path, viewer, |c| view_message(chain_id, c, patient)).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Transport(format!("the node's answer does not parse: {e}")))
    }

    /// A patient's records, as `viewer` (the patient or a registered auditor) sees them.
    pub async fn records(
        &self,
        chain_id: &Hash32,
        viewer: &Signer,
        patient: &PubKey,
    ) -> Result<RecordList, ClientError> {
        self.view(chain_id, viewer, patient, "records").await
    }

    /// A patient's audit log, as `viewer` (the patient or a registered auditor) sees it.
    pub async fn audit(
        &self,
        chain_id: &Hash32,
        viewer: &Signer,
        patient: &PubKey,
    ) -> Result<Audit, ClientError> {
        self.view(chain_id, viewer, patient, "audit").await
    }

    /// One record as the chain holds it.
    pub async fn record(&self, record: &Hash32) -> Result<RecordView, ClientError> {
        self.get(&format!("/v1/records/{record}")).await
    }

    /// Downloads a record's ciphertext, proving with a signed fresh challenge naming the record
    /// that `reader` may read it.
    pub async fn download(
        &self,
        chain_id: &Hash32,
        reader: &Signer,
        record: &Hash32,
    ) -> Result<Vec<u8>, ClientError> {
        let path = format!("/v1/records/{record}/ciphertext");
        self.signed_get(&path, reader, |c| read_message(chain_id, c, record)).await
    }
}
