//! Which node the command line talks to, and which chain it must run: a node that reports
//! another chain than the one pinned (by id or by genesis file) is refused before anything is
//! read from it or sent to it.

use std::path::PathBuf;

use clap::Args;
use medchain_api::Status;
use medchain_chain::genesis::Genesis;
use medchain_primitives::Hash32;
use miette::miette;

/// The default node address.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:7070";

/// The node to talk to and the chain it must run.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// The node's API.
    #[arg(long, default_value = DEFAULT_NODE)]
    pub node: String,
    /// The chain the node must run, by its id (64 hex digits).
    #[arg(long, env = "MEDCHAIN_CHAIN_ID", conflicts_with = "chain_genesis")]
    chain_id: Option<String>,
    /// The chain the node must run, by its genesis file.
    #[arg(long = "chain-genesis")]
    chain_genesis: Option<PathBuf>,
}

impl NodeArgs {
    /// The pinned chain, if one is.
    fn pinned(&self) -> miette::Result<Option<Hash32>> {
        if let Some(text) = &self.chain_id {
            let id =
                Hash32::from_hex(text).ok_or_else(|| miette!("--chain-id: `{text}` is not 64 hex digits"))?;
            return Ok(Some(id));
        }
        let Some(path) = &self.chain_genesis else { return Ok(None) };
        let text =
            std::fs::read_to_string(path).map_err(|e| miette!("cannot read {}: {e}", path.display()))?;
        let genesis = Genesis::from_json(&text).map_err(|e| miette!("{}: {e}", path.display()))?;
        Ok(Some(genesis.chain_id()))
    }

    /// Refuses a node whose status names another chain than the pinned one.
    pub fn check(&self, status: &Status) -> miette::Result<()> {
        match self.pinned()? {
            Some(pinned) if pinned != status.chain_id => Err(miette!(
                help = "check --node, --chain-id and --chain-genesis",
                "the node at {} runs chain {} ({}), not the pinned chain {pinned}",
                self.node,
                status.chain_id,
                status.chain_name
            )),
            _ => Ok(()),
        }
    }

    /// Whether a chain is pinned (then the node's status is read first, to check it).
    pub fn pins(&self) -> bool {
        self.chain_id.is_some() || self.chain_genesis.is_some()
    }
}
