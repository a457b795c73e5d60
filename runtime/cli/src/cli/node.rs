//! `medchain node`: run a node.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use miette::miette;

use medchain_chain::genesis::Genesis;
use medchain_chain::validate::Chain;
use medchain_node::{Node, NodeConfig, serve};

use super::keys::{PASSPHRASE_ENV, open_key_file};

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Produce blocks, one every `--block-interval` seconds, with the `--producer-key`.
    #[arg(long, requires = "producer_key")]
    dev: bool,
    /// The key file of one of the genesis file's producers (from `medchain keygen`), with which
    /// a `--dev` node signs its blocks. A genesis file never holds a secret key.
    #[arg(long, requires = "dev")]
    producer_key: Option<PathBuf>,
    /// The environment variable holding the producer key file's passphrase (read from standard
    /// input if unset).
    #[arg(long, default_value = PASSPHRASE_ENV)]
    passphrase_env: String,
    /// The data directory (chain state and record store).
    #[arg(long, default_value = "medchain-data")]
    data: PathBuf,
    /// The genesis file.
    #[arg(long)]
    genesis: PathBuf,
    /// Address for the HTTP API.
    #[arg(long, default_value = "127.0.0.1:7070")]
    listen: SocketAddr,
    /// Seconds between dev blocks.
    #[arg(long, default_value_t = 2)]
    block_interval: u64,
}

pub fn run(args: NodeArgs) -> miette::Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let text = std::fs::read_to_string(&args.genesis)
        .map_err(|e| miette!("cannot read {}: {e}", args.genesis.display()))?;
    let genesis = Genesis::from_json(&text).map_err(|e| miette!("{}: {e}", args.genesis.display()))?;
    let producer = match &args.producer_key {
        Some(path) => Some(open_key_file(path, &args.passphrase_env)?),
        None => None,
    };
    let config = NodeConfig {
        producer,
        block_interval: Duration::from_secs(args.block_interval.max(1)),
        listen: args.listen,
    };
    let node = Arc::new(Node::open(&args.data, Chain::new(genesis), config).map_err(|e| miette!("{e}"))?);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| miette!("cannot start the runtime: {e}"))?;
    runtime
        .block_on(serve(node, async {
            let _ = tokio::signal::ctrl_c().await;
        }))
        .map_err(|e| miette!("{e}"))?;
    Ok(ExitCode::SUCCESS)
}
