//! The `medchain` command line: argument parsing and dispatch to each command group.

mod chain;
mod connect;
mod demo;
mod keys;
mod node;
mod policy;
mod query;
mod read;
mod script;
mod tx;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// MedChain: programmable, auditable access to medical records.
#[derive(Debug, Parser)]
#[command(name = "medchain", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Assemble, disassemble, run and batch-verify scripts.
    #[command(subcommand)]
    Script(script::ScriptCommand),
    /// Check, compile, explain, format and satisfy MedScript policies.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Import blocks into a data directory and show its state.
    #[command(subcommand)]
    Chain(chain::ChainCommand),
    /// Create a key and write it encrypted under a passphrase (Argon2id, ChaCha20-Poly1305).
    Keygen(keys::KeygenArgs),
    /// Run a node: chain state, mempool, record store and the HTTP API.
    Node(node::NodeArgs),
    /// Build, sign and submit a transaction to a running node.
    Tx(tx::TxArgs),
    /// Download a record through a grant or emergency access and decrypt it.
    Read(read::ReadArgs),
    /// Read a running node's answers.
    Query(query::QueryArgs),
    /// Play the whole story (hospital, patient, research team, insurer, break-glass, revocation)
    /// as separate parties against a dev node over HTTP.
    Demo,
}

/// Parses the arguments and runs the command. Exit codes: 0 success, 1 a script or check
/// failed, 2 bad usage or input.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Script(command) => script::run(command),
        Command::Policy(command) => policy::run(command),
        Command::Chain(command) => chain::run(command),
        Command::Keygen(args) => keys::run(args),
        Command::Node(args) => node::run(args),
        Command::Demo => demo::run(),
        Command::Tx(args) => tx::run(args),
        Command::Query(args) => query::run(args),
        Command::Read(args) => read::run(args),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

/// Reads a command's main argument: the text itself, or standard input for `-`.
fn argument_or_stdin(argument: &str) -> miette::Result<String> {
    if argument != "-" {
        return Ok(argument.to_owned());
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|e| miette::miette!("cannot read standard input: {e}"))?;
    Ok(text)
}
