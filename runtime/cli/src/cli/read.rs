//! `medchain read`: download a record through a grant or an emergency access and decrypt it:
//! the record key comes from the grant's key deposit, or from the key shares released to the
//! emergency's requester.

#![allow(
    clippy::indexing_slicing,
    reason = "indexing a serde_json::Value by key gives Null when the key is missing; it never panics"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use miette::{IntoDiagnostic, miette};
use serde_json::Value;

use super::keys::KeyArgs;
use super::query::{DEFAULT_NODE, block_on};
use medchain_chain::transaction::Transaction;
use medchain_client::{Client, ClientError};
use medchain_primitives::Hash32;
use medchain_primitives::Signer;
use medchain_primitives::codec::Decode;
use medchain_primitives::ecies;
use medchain_wallet::record::{RECORD_KEY_SIZE, decrypt};
use medchain_wallet::shamir;

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The node's API.
    #[arg(long, default_value = DEFAULT_NODE)]
    node: String,
    /// The reader: the grantee of the grant or the emergency's requester.
    #[command(flatten)]
    key: KeyArgs,
    /// The grant or emergency access (its transaction id).
    #[arg(long)]
    access: String,
    /// Which of the access's records (needed when it covers more than one).
    #[arg(long)]
    record: Option<String>,
    /// Where to write the record (standard output if not given).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Why a read failed: the node refused, or what it served does not open.
enum ReadError {
    Node(ClientError),
    Other(String),
}

impl From<ClientError> for ReadError {
    fn from(e: ClientError) -> Self {
        ReadError::Node(e)
    }
}

fn other(message: impl Into<String>) -> ReadError {
    ReadError::Other(message.into())
}

/// The record key: from the grant's deposit, or combined from the released shares.
async fn record_key(
    client: &Client,
    reader: &Signer,
    access_id: &Hash32,
    access: &Value,
    record: &Hash32,
) -> Result<[u8; RECORD_KEY_SIZE], ReadError> {
    let key = if access["emergency"] == true {
        let mut shares = Vec::new();
        for release in access["share_releases"].as_array().into_iter().flatten() {
            if release["record"] != record.to_hex().as_str() {
                continue;
            }
            let envelope = hex::decode(release["envelope"].as_str().unwrap_or_default())
                .map_err(|e| other(e.to_string()))?;
            let bytes = ecies::open(&reader.secret, &envelope)
                .map_err(|e| other(format!("a released share: {e}")))?;
            shares.push(
                shamir::Share::from_bytes(&bytes).ok_or_else(|| other("a released share is too short"))?,
            );
        }
        shamir::combine(&shares)
            .map_err(|e| other(format!("{} released shares do not recover the key: {e}", shares.len())))?
    } else {
        let answer = client.transaction(access_id).await?;
        let bytes =
            hex::decode(answer["tx"].as_str().unwrap_or_default()).map_err(|e| other(e.to_string()))?;
        let tx = Transaction::from_bytes(&bytes).map_err(|e| other(e.to_string()))?;
        let deposit = tx
            .record_accesses()
            .iter()
            .find(|a| a.record == *record)
            .map(|a| a.deposit.clone())
            .filter(|d| !d.is_empty())
            .ok_or_else(|| other("the grant carries no key deposit for this record"))?;
        ecies::open(&reader.secret, &deposit).map_err(|e| other(format!("the key deposit: {e}")))?
    };
    key.try_into().map_err(|_| other("the recovered key is not a record key"))
}

async fn read(args: &ReadArgs, reader: &Signer) -> Result<Vec<u8>, ReadError> {
    let client = Client::new(&args.node);
    let access_id = Hash32::from_hex(&args.access).ok_or_else(|| other("--access is not 64 hex digits"))?;
    let chain_id = Hash32::from_hex(client.status().await?["chain_id"].as_str().unwrap_or_default())
        .ok_or_else(|| other("the node gave no chain id"))?;
    let access = client.access(&access_id).await?;
    let records: Vec<&str> =
        access["records"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let record = match (&args.record, records.as_slice()) {
        (Some(record), _) => record.clone(),
        (None, [only]) => (*only).to_owned(),
        (None, _) => return Err(other("the access covers several records; choose one with --record")),
    };
    let record_id = Hash32::from_hex(&record).ok_or_else(|| other("--record is not 64 hex digits"))?;
    let patient = access["patient"].as_str().unwrap_or_default();
    let listed = client.records(patient).await?;
    let ciphertext = listed["records"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["record"] == record.as_str())
        .and_then(|r| Hash32::from_hex(r["ciphertext"].as_str()?))
        .ok_or_else(|| other(format!("record {record} is not among the patient's records")))?;
    let key = record_key(&client, reader, &access_id, &access, &record_id).await?;
    let bytes = client.download(&chain_id, reader, &ciphertext).await?;
    decrypt(&key, &bytes)
        .map_err(|e| other(format!("the record does not decrypt with the recovered key: {e}")))
}

pub fn run(args: ReadArgs) -> miette::Result<ExitCode> {
    let reader = args.key.signer()?;
    match block_on(read(&args, &reader))? {
        Ok(plain) => {
            match &args.out {
                Some(path) => std::fs::write(path, plain)
                    .map_err(|e| miette!("cannot write {}: {e}", path.display()))?,
                None => std::io::stdout().write_all(&plain).into_diagnostic()?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ReadError::Node(ClientError::Refused { code, message, .. })) => {
            eprintln!("refused: {code}: {message}");
            Ok(ExitCode::from(1))
        }
        Err(ReadError::Node(e)) => Err(miette!("{e}")),
        Err(ReadError::Other(message)) => Err(miette!("{message}")),
    }
}
