//! `medchain read`: download a record through a grant or an emergency access and decrypt it:
//! the record key comes from the grant's key deposit, or from the key shares released to the
//! emergency's requester (each checked). What decrypts is checked against the release's
//! commitment; a deposit, share or record that does not hold is refused with its own code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use medchain_api::{AccessView, RecordView};
use medchain_chain::transaction::Transaction;
use medchain_client::{Client, ClientError};
use medchain_primitives::codec::Decode;
use medchain_primitives::{Hash32, Signer};
use medchain_wallet::deposit::{KeyError, open_record_secret, recover_from_shares};
use medchain_wallet::files::{ensure_writable, write_private};
use medchain_wallet::record::{self, RecordSecret};
use miette::{IntoDiagnostic, miette};

use super::connect::NodeArgs;
use super::keys::KeyArgs;
use super::query::block_on;
use super::tx::chain_shares;

#[derive(Debug, Args)]
pub struct ReadArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// The reader: the grantee of the grant or the emergency's requester.
    #[command(flatten)]
    key: KeyArgs,
    /// The grant or emergency access (its transaction id).
    #[arg(long)]
    access: String,
    /// Which of the access's records (needed when it covers more than one).
    #[arg(long)]
    record: Option<String>,
    /// Where to write the record (standard output if not given); written with mode 0600.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace `--out` if it exists.
    #[arg(long)]
    force: bool,
}

/// Why a read failed: the node refused; what the reader was given does not hold (a deposit
/// that does not open for this record, a bad share, a record that is not its release's), with
/// its code; or something else.
enum ReadError {
    Node(ClientError),
    Refused(&'static str, String),
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

/// The record secret: from the grant's deposit, or combined from the released shares.
async fn record_secret(
    client: &Client,
    reader: &Signer,
    access: &AccessView,
    stored: &RecordView,
) -> Result<RecordSecret, ReadError> {
    let record = &stored.record;
    if access.emergency {
        let shares = stored.emergency.as_ref().ok_or_else(|| other("the record has no emergency shares"))?;
        let released = access
            .share_releases
            .iter()
            .filter(|r| r.record == *record)
            .map(|r| (r.holder, r.envelope.0.as_slice()));
        let recovered =
            recover_from_shares(&reader.secret, (&access.access, record), &chain_shares(shares), released)
                .map_err(|e| match e {
                    KeyError::BadShare { .. } | KeyError::NotAHolder(_) => {
                        ReadError::Refused("BAD_SHARE", e.to_string())
                    }
                    other_error => other(other_error.to_string()),
                })?;
        // The good shares sufficed; the bad ones are named for the requester to take up.
        for bad in &recovered.bad {
            eprintln!("warning: BAD_SHARE: {bad}");
        }
        return Ok(recovered.secret);
    }
    let answer = client.transaction(&access.access).await?;
    let tx = Transaction::from_bytes(&answer.tx.0).map_err(|e| other(e.to_string()))?;
    let deposit = tx
        .record_accesses()
        .iter()
        .find(|a| a.record == *record)
        .map(|a| a.deposit.clone())
        .filter(|d| !d.is_empty())
        .ok_or_else(|| other("the grant carries no key deposit for this record"))?;
    open_record_secret(&reader.secret, &deposit, record)
        .map_err(|e| ReadError::Refused("BAD_DEPOSIT", format!("the key deposit for this record: {e}")))
}

async fn read(args: &ReadArgs, reader: &Signer) -> Result<Vec<u8>, ReadError> {
    let client = Client::new(&args.node.node);
    let access_id = Hash32::from_hex(&args.access).ok_or_else(|| other("--access is not 64 hex digits"))?;
    let status = client.status().await?;
    args.node.check(&status).map_err(|e| other(e.to_string()))?;
    let chain_id = status.chain_id;
    let access = client.access(&access_id).await?;
    let record = match (&args.record, access.records.as_slice()) {
        (Some(record), _) => {
            Hash32::from_hex(record).ok_or_else(|| other("--record is not 64 hex digits"))?
        }
        (None, [only]) => *only,
        (None, _) => return Err(other("the access covers several records; choose one with --record")),
    };
    if !access.records.contains(&record) {
        return Err(other(format!("access {access_id} does not cover record {record}")));
    }
    let stored = client.record(&record).await?;
    let secret = record_secret(&client, reader, &access, &stored).await?;
    let commitment = client.release_commitment(&stored.release).await?;
    let bytes = client.download(&chain_id, reader, &record).await?;
    secret.read(&bytes, &commitment).map_err(|e| match e {
        record::ReadError::NotReleased(_) => ReadError::Refused("NOT_RELEASED", e.to_string()),
        // The deposit (or the shares) opened, but to a key that is not the record's.
        record::ReadError::Decrypt(_) => ReadError::Refused(
            "WRONG_RECORD_KEY",
            format!("the key this access gives does not decrypt the record: {e}"),
        ),
    })
}

pub fn run(args: ReadArgs) -> miette::Result<ExitCode> {
    if let Some(path) = &args.out {
        ensure_writable(path, args.force).map_err(|e| miette!("{e}"))?;
    }
    let reader = args.key.signer()?;
    match block_on(read(&args, &reader))? {
        Ok(plain) => {
            match &args.out {
                Some(path) => write_private(path, &plain, args.force).map_err(|e| miette!("{e}"))?,
                None => std::io::stdout().write_all(&plain).into_diagnostic()?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ReadError::Node(ClientError::Refused { code, message, .. })) => {
            eprintln!("refused: {code}: {message}");
            Ok(ExitCode::from(1))
        }
        Err(ReadError::Refused(code, message)) => {
            eprintln!("refused: {code}: {message}");
            Ok(ExitCode::from(3))
        }
        Err(ReadError::Node(e)) => Err(miette!("{e}")),
        Err(ReadError::Other(message)) => Err(miette!("{message}")),
    }
}
