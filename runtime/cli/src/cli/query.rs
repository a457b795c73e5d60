//! `medchain query`: read a running node's answers (status, transactions, blocks, records,
//! audit logs, accesses, coins, the read log) as JSON.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use miette::miette;

use medchain_api::{
    AccessView, Audit, BlockList, BlockView, CoinList, ModuleView, ReadLogState, RecordList, Status,
    TransactionView,
};
use medchain_client::{Client, ClientError};

use super::connect::NodeArgs;
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
    /// A patient's stored records.
    Records { patient: String },
    /// A patient's audit log: accesses and reads.
    Audit { patient: String },
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
            Query::Records { patient } => format!("/v1/patients/{patient}/records"),
            Query::Audit { patient } => format!("/v1/patients/{patient}/audit"),
            Query::Access { txid } => format!("/v1/accesses/{txid}"),
            Query::Coins { key } => format!("/v1/keys/{key}/coins"),
            Query::Reads => "/v1/reads".into(),
            Query::Module { hash } => format!("/v1/modules/{hash}"),
        }
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
            Query::Records { .. } => answer(client.get::<RecordList>(&path).await),
            Query::Audit { .. } => answer(client.get::<Audit>(&path).await),
            Query::Access { .. } => answer(client.get::<AccessView>(&path).await),
            Query::Coins { .. } => answer(client.get::<CoinList>(&path).await),
            Query::Reads => answer(client.get::<ReadLogState>(&path).await),
            Query::Module { .. } => answer(client.get::<ModuleView>(&path).await),
        }
    })?
}
