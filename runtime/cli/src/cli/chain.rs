//! `medchain chain …`: import blocks into a data directory and show its tip.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use miette::miette;

use medchain_chain::block::Block;
use medchain_chain::genesis::Genesis;
use medchain_chain::ledger::Ledger;
use medchain_chain::validate::Chain;
use medchain_primitives::codec::Decode;

#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Apply blocks from a file (each a little-endian u32 length and the block's encoding),
    /// skipping those already applied; safe to interrupt and run again.
    Import(ImportArgs),
    /// Show the tip of a data directory.
    Status(LedgerArgs),
}

#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// The data directory.
    #[arg(long)]
    data: PathBuf,
    /// The genesis file.
    #[arg(long)]
    genesis: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    ledger: LedgerArgs,
    /// The blocks file.
    blocks: PathBuf,
}

/// Largest block accepted from a blocks file.
const MAX_BLOCK_BYTES: usize = medchain_chain::limits::MAX_BLOCK_SIZE;

fn open(args: &LedgerArgs) -> miette::Result<Ledger> {
    let text = std::fs::read_to_string(&args.genesis)
        .map_err(|e| miette!("cannot read {}: {e}", args.genesis.display()))?;
    let genesis = Genesis::from_json(&text).map_err(|e| miette!("{}: {e}", args.genesis.display()))?;
    Ledger::open(&args.data, Chain::new(genesis)).map_err(|e| miette!("{e}"))
}

/// Reads a blocks file: each block a little-endian u32 length and its encoding.
pub fn read_blocks(path: &Path) -> miette::Result<Vec<Block>> {
    let bytes = std::fs::read(path).map_err(|e| miette!("cannot read {}: {e}", path.display()))?;
    let mut blocks = Vec::new();
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let (length, tail) =
            rest.split_at_checked(4).ok_or_else(|| miette!("block {}: truncated length", blocks.len()))?;
        let length =
            usize::try_from(u32::from_le_bytes(length.try_into().map_err(|_| miette!("bad length"))?))
                .ok()
                .filter(|&l| l <= MAX_BLOCK_BYTES)
                .ok_or_else(|| miette!("block {}: longer than {MAX_BLOCK_BYTES} bytes", blocks.len()))?;
        let (encoded, tail) =
            tail.split_at_checked(length).ok_or_else(|| miette!("block {}: truncated", blocks.len()))?;
        blocks.push(Block::from_bytes(encoded).map_err(|e| miette!("block {}: {e}", blocks.len()))?);
        rest = tail;
    }
    Ok(blocks)
}

pub fn run(command: ChainCommand) -> miette::Result<ExitCode> {
    match command {
        ChainCommand::Import(args) => {
            let ledger = open(&args.ledger)?;
            let blocks = read_blocks(&args.blocks)?;
            let start = ledger.tip().map_err(|e| miette!("{e}"))?.height;
            let mut applied = 0;
            for block in blocks.iter().filter(|b| b.header.height > start) {
                ledger.apply(block).map_err(|e| miette!("block {}: {e}", block.header.height))?;
                applied += 1;
            }
            let tip = ledger.tip().map_err(|e| miette!("{e}"))?;
            println!("applied {applied} blocks; tip {} at height {}", tip.hash, tip.height);
        }
        ChainCommand::Status(args) => {
            let ledger = open(&args)?;
            let tip = ledger.tip().map_err(|e| miette!("{e}"))?;
            println!("chain {}", ledger.chain().chain_id);
            println!("tip {} at height {}", tip.hash, tip.height);
        }
    }
    Ok(ExitCode::SUCCESS)
}
