//! `medchain tx`: build, sign and submit a transaction to a running node with a key file's
//! key, pay the fee from that key's coins, and wait for the block.

#![allow(
    clippy::indexing_slicing,
    reason = "indexing a serde_json::Value by key gives Null when the key is missing; it never panics"
)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use miette::{IntoDiagnostic, miette};
use serde_json::{Value, json};

use super::keys::{PASSPHRASE_ENV, passphrase};
use super::query::{DEFAULT_NODE, answer, block_on};
use crate::chain::builder::{Signer, pay_to_key};
use crate::chain::limits::COINBASE_MATURITY;
use crate::chain::primitives::{Hash32, PubKey, Sig};
use crate::chain::transaction::{OutPoint, Payload, Transaction, TxIn, TxOut};
use crate::client::{Client, ClientError};
use crate::node::keyfile::KeyFile;

/// How long to wait for the transaction's block.
const CONFIRMATION_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Args)]
pub struct TxArgs {
    /// The node's API.
    #[arg(long, default_value = DEFAULT_NODE)]
    node: String,
    /// The signer's key file (from `medchain keygen`); it also pays the fee.
    #[arg(long)]
    key: PathBuf,
    /// The environment variable holding the key file's passphrase (read from standard input if
    /// unset).
    #[arg(long, default_value = PASSPHRASE_ENV)]
    passphrase_env: String,
    /// The fee.
    #[arg(long, default_value_t = 1_000)]
    fee: u64,
    /// Return once the node accepts the transaction, without waiting for its block.
    #[arg(long)]
    no_wait: bool,
    #[command(subcommand)]
    command: TxCommand,
}

#[derive(Debug, Subcommand)]
enum TxCommand {
    /// Pay an amount to a key.
    Transfer {
        /// The recipient's public key.
        #[arg(long)]
        to: String,
        /// The amount.
        #[arg(long)]
        amount: u64,
    },
    /// As a governor, give a key a role (by its number in the genesis file).
    RegisterRole {
        /// The key that gets the role.
        #[arg(long)]
        subject: String,
        /// The role's number.
        #[arg(long)]
        role: u32,
    },
    /// As a governor, take a role away.
    WithdrawRole {
        /// The key that loses the role.
        #[arg(long)]
        subject: String,
        /// The role's number.
        #[arg(long)]
        role: u32,
    },
    /// As the owner of the records, revoke a grant.
    Revoke {
        /// The grant's transaction id.
        #[arg(long)]
        grant: String,
    },
}

fn key_arg(name: &str, text: &str) -> miette::Result<PubKey> {
    hex::decode(text)
        .ok()
        .and_then(|b| <[u8; 33]>::try_from(b).ok())
        .and_then(PubKey::parse)
        .ok_or_else(|| miette!("--{name}: `{text}` is not a compressed public key"))
}

impl TxCommand {
    /// The payload, and what it pays to others.
    fn payload(&self, signer: &Signer) -> miette::Result<(Payload, Vec<TxOut>)> {
        Ok(match self {
            TxCommand::Transfer { to, amount } => {
                let to = key_arg("to", to)?;
                (Payload::Transfer, vec![TxOut { value: *amount, lock: pay_to_key(&to) }])
            }
            TxCommand::RegisterRole { subject, role } => {
                let subject = key_arg("subject", subject)?;
                (
                    Payload::RegisterRole {
                        subject,
                        role: *role,
                        governor: signer.key,
                        signature: Sig::EMPTY,
                    },
                    vec![],
                )
            }
            TxCommand::WithdrawRole { subject, role } => {
                let subject = key_arg("subject", subject)?;
                (
                    Payload::WithdrawRole {
                        subject,
                        role: *role,
                        governor: signer.key,
                        signature: Sig::EMPTY,
                    },
                    vec![],
                )
            }
            TxCommand::Revoke { grant } => {
                let grant = Hash32::from_hex(grant)
                    .ok_or_else(|| miette!("--grant: `{grant}` is not 64 hex digits"))?;
                (Payload::Revocation { grant, owner: signer.key, signature: Sig::EMPTY }, vec![])
            }
        })
    }
}

/// Coins of `signer` (pay-to-key, mature) covering `needed`, largest first.
fn select_coins(
    coins: &Value,
    signer: &Signer,
    height: u64,
    needed: u64,
) -> miette::Result<Vec<(OutPoint, u64)>> {
    let own_lock = hex::encode(pay_to_key(&signer.key));
    let mut spendable: Vec<(OutPoint, u64)> = coins["coins"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["lock"] == own_lock.as_str())
        .filter(|c| {
            c["coinbase"] != true
                || height >= c["height"].as_u64().unwrap_or(u64::MAX) + u64::from(COINBASE_MATURITY)
        })
        .filter_map(|c| {
            let txid = Hash32::from_hex(c["txid"].as_str()?)?;
            let index = u32::try_from(c["index"].as_u64()?).ok()?;
            Some((OutPoint { txid, index }, c["value"].as_u64()?))
        })
        .collect();
    spendable.sort_by_key(|coin| std::cmp::Reverse(coin.1));
    let mut chosen = Vec::new();
    let mut total = 0u64;
    for coin in spendable {
        if total >= needed {
            break;
        }
        total = total.saturating_add(coin.1);
        chosen.push(coin);
    }
    if total < needed {
        return Err(miette!("the key's spendable coins hold {total}, and this needs {needed}"));
    }
    Ok(chosen)
}

async fn build_and_submit(args: &TxArgs, signer: &Signer) -> miette::Result<Result<Value, ClientError>> {
    let client = Client::new(&args.node);
    let status = match client.status().await {
        Ok(status) => status,
        Err(e) => return Ok(Err(e)),
    };
    let chain_id = Hash32::from_hex(status["chain_id"].as_str().unwrap_or_default())
        .ok_or_else(|| miette!("the node gave no chain id"))?;
    let height = status["height"].as_u64().unwrap_or_default();
    let (payload, mut outputs) = args.command.payload(signer)?;
    let paid: u64 = outputs.iter().map(|o| o.value).sum();
    let needed = paid.checked_add(args.fee).ok_or_else(|| miette!("the amount and fee overflow"))?;
    let coins = match client.coins(&signer.key.to_hex()).await {
        Ok(coins) => coins,
        Err(e) => return Ok(Err(e)),
    };
    let chosen = select_coins(&coins, signer, height, needed)?;
    let total: u64 = chosen.iter().map(|c| c.1).sum();
    if total > needed {
        outputs.push(TxOut { value: total - needed, lock: pay_to_key(&signer.key) });
    }
    let inputs =
        chosen.iter().map(|(prevout, _)| TxIn { prevout: *prevout, unlock: Vec::new(), sequence: u32::MAX });
    let mut tx = Transaction::new(inputs.collect(), outputs, payload);
    let digest = tx.signing_digest(&chain_id);
    tx.payload.set_signature(signer.sign(&digest));
    for input in &mut tx.inputs {
        input.unlock = signer.unlock_pay_to_key(&digest);
    }
    let txid = match client.submit(&tx).await {
        Ok(txid) => txid,
        Err(e) => return Ok(Err(e)),
    };
    if args.no_wait {
        return Ok(Ok(json!({ "txid": txid.to_hex(), "status": "pending" })));
    }
    Ok(client.wait_confirmed(&txid, CONFIRMATION_TIMEOUT, &mut |_| {}).await)
}

pub fn run(args: TxArgs) -> miette::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.key)
        .map_err(|e| miette!("cannot read the key file {}: {e}", args.key.display()))?;
    let file: KeyFile = serde_json::from_str(&text).into_diagnostic()?;
    let secret = file.open(&passphrase(&args.passphrase_env)?).map_err(|e| miette!("{e}"))?;
    let signer = Signer::new(secret);
    answer(block_on(build_and_submit(&args, &signer))??)
}
