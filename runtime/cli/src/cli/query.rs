//! `medchain query`: read a running node's answers (status, transactions, blocks, records,
//! audit logs, accesses, coins, the read log) as JSON.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use miette::miette;

use std::collections::BTreeMap;

use medchain_api::{
    AccessView, Audit, BlockList, BlockView, CoinList, ModuleView, ReadLogState, RecordList, RecordView,
    Status, TransactionView,
};
use medchain_client::{Client, ClientError};
use medchain_primitives::{Hash32, PubKey, Signer};
use medchain_wallet::deposit::open_justification;

use super::connect::NodeArgs;
use super::keys::KeyArgs;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    node: NodeArgs,
    #[command(subcommand)]
    what: Query,
}

#[derive(Debug, Subcommand)]
enum Query {
    /// Chain, height, tip and mempool.
    Status,
    /// A transaction: pending, or confirmed with its Merkle proof.
    Transaction { txid: String },
    /// The latest blocks.
    Blocks,
    /// One block, encoded.
    Block { height: String },
    /// A patient's stored records, as the patient (or a registered auditor) sees them.
    Records {
        /// The patient (the key file's own key if not given).
        patient: Option<String>,
        /// The viewer: the patient or a registered auditor.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// A patient's audit log, accesses and reads, as the patient (or a registered auditor)
    /// sees it, with the emergency justifications sealed to the viewer opened.
    Audit {
        /// The patient (the key file's own key if not given).
        patient: Option<String>,
        /// The viewer: the patient or a registered auditor.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// One record as the chain holds it: its patient, release, ciphertext hash, policy, shares.
    Record { record: String },
    /// A grant or emergency access, with its share releases.
    Access { txid: String },
    /// The coins a key can spend.
    Coins { key: String },
    /// The node's read log and its anchor.
    Reads,
    /// A deployed policy module's code, by its hash.
    Module { hash: String },
}

impl Query {
    fn path(&self) -> String {
        match self {
            Query::Status => "/v1/status".into(),
            Query::Transaction { txid } => format!("/v1/transactions/{txid}"),
            Query::Blocks => "/v1/blocks".into(),
            Query::Block { height } => format!("/v1/blocks/{height}"),
            Query::Records { .. } | Query::Audit { .. } => String::new(),
            Query::Record { record } => format!("/v1/records/{record}"),
            Query::Access { txid } => format!("/v1/accesses/{txid}"),
            Query::Coins { key } => format!("/v1/keys/{key}/coins"),
            Query::Reads => "/v1/reads".into(),
            Query::Module { hash } => format!("/v1/modules/{hash}"),
        }
    }
}

/// The chain id, the viewer and the patient of a signed view.
async fn viewing(
    client: &Client,
    key: &KeyArgs,
    patient: Option<&str>,
) -> miette::Result<Result<(Hash32, Signer, PubKey), ClientError>> {
    let viewer = key.signer()?;
    let patient = match patient {
        Some(text) => {
            PubKey::from_hex(text).ok_or_else(|| miette!("`{text}` is not a compressed public key"))?
        }
        None => viewer.key,
    };
    Ok(client.status().await.map(|status| (status.chain_id, viewer, patient)))
}

/// An audit log as its viewer reads it: the node's answer, and the justifications sealed to
/// the viewer, opened, by access.
#[derive(Serialize)]
struct AuditAsSeen {
    #[serde(flatten)]
    audit: Audit,
    justifications: BTreeMap<Hash32, String>,
}

impl AuditAsSeen {
    fn by(viewer: &Signer, audit: Audit) -> AuditAsSeen {
        let justifications = audit
            .accesses
            .iter()
            .filter_map(|a| {
                let copies = a.justification.iter().map(|c| c.0.as_slice());
                let opened = open_justification(
                    &viewer.secret,
                    (&a.grantee, &a.records),
                    &a.justification_commitment?,
                    copies,
                );
                match opened {
                    Ok(text) => text,
                    Err(e) => Some(format!("JUSTIFICATION_MISMATCH: {e}")),
                }
                .map(|text| (a.access, text))
            })
            .collect();
        AuditAsSeen { audit, justifications }
    }
}

/// Runs `future` on a fresh runtime.
pub fn block_on<T>(future: impl Future<Output = T>) -> miette::Result<T> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| miette!("cannot start the runtime: {e}"))?;
    Ok(runtime.block_on(future))
}

/// Prints a node's answer as JSON, or its refusal with exit code 1; other failures are errors
/// (exit code 2).
pub fn answer<T: Serialize>(result: Result<T, ClientError>) -> miette::Result<ExitCode> {
    match result {
        Ok(value) => {
            println!("{}", serde_json::to_string_pretty(&value).map_err(|e| miette!("{e}"))?);
            Ok(ExitCode::SUCCESS)
        }
        Err(ClientError::Refused { code, message, .. }) => {
            eprintln!("refused: {code}: {message}");
            Ok(ExitCode::from(1))
        }
        Err(other) => Err(miette!("{other}")),
    }
}

pub fn run(args: QueryArgs) -> miette::Result<ExitCode> {
    let client = Client::new(&args.node.node);
    let path = args.what.path();
    block_on(async {
        if args.node.pins() {
            match client.status().await {
                Ok(status) => args.node.check(&status)?,
                Err(e) => return answer::<Status>(Err(e)),
            }
        }
        match args.what {
            Query::Status => answer(client.get::<Status>(&path).await),
            Query::Transaction { .. } => answer(client.get::<TransactionView>(&path).await),
            Query::Blocks => answer(client.get::<BlockList>(&path).await),
            Query::Block { .. } => answer(client.get::<BlockView>(&path).await),
            Query::Records { patient, key } => {
                let (chain_id, viewer, patient) = match viewing(&client, &key, patient.as_deref()).await? {
                    Ok(view) => view,
                    Err(e) => return answer::<RecordList>(Err(e)),
                };
                answer(client.records(&chain_id, &viewer, &patient).await)
            }
            Query::Audit { patient, key } => {
                let (chain_id, viewer, patient) = match viewing(&client, &key, patient.as_deref()).await? {
                    Ok(view) => view,
                    Err(e) => return answer::<Audit>(Err(e)),
                };
                answer(
                    client
                        .audit(&chain_id, &viewer, &patient)
                        .await
                        .map(|audit| AuditAsSeen::by(&viewer, audit)),
                )
            }
            Query::Record { .. } => answer(client.get::<RecordView>(&path).await),
            Query::Access { .. } => answer(client.get::<AccessView>(&path).await),
            Query::Coins { .. } => answer(client.get::<CoinList>(&path).await),
            Query::Reads => answer(client.get::<ReadLogState>(&path).await),
            Query::Module { .. } => answer(client.get::<ModuleView>(&path).await),
        }
    })?
}
