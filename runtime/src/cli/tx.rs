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
use miette::miette;
use serde_json::{Value, json};

use medchain_compiler::medscript::Compiled;
use medchain_compiler::medscript::satisfy::{Holdings, satisfy};

use super::keys::{PASSPHRASE_ENV, load_signer};
use super::policy::{CompileArgs, compile_with};
use super::query::{DEFAULT_NODE, answer, block_on};
use crate::chain::builder::{Signer, pay_to_key};
use crate::chain::limits::COINBASE_MATURITY;
use crate::chain::primitives::{Hash32, PubKey, Sig};
use crate::chain::transaction::{OutPoint, Payload, RecordAccess, Transaction, TxIn, TxOut};
use crate::client::{Client, ClientError};
use crate::crypto::ecies;

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
    /// As a record's patient, grant a key access to it through the record's policy, with the
    /// record key sealed to the grantee.
    Grant {
        /// The record: its storage transaction's id.
        #[arg(long)]
        record: String,
        /// Who gets access.
        #[arg(long)]
        grantee: String,
        /// A purpose code, for the audit log.
        #[arg(long, default_value_t = 0)]
        purpose: u32,
        /// The block at which the grant ends (0: until revoked).
        #[arg(long, default_value_t = 0)]
        expiry: u32,
        /// A file holding the record key as 64 hex digits; it is sealed to the grantee.
        #[arg(long)]
        record_key: Option<PathBuf>,
        /// The record's policy file and arguments, as it was stored.
        #[command(flatten)]
        policy: CompileArgs,
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

fn hash_arg(name: &str, text: &str) -> miette::Result<Hash32> {
    Hash32::from_hex(text).ok_or_else(|| miette!("--{name}: `{text}` is not 64 hex digits"))
}

impl TxCommand {
    /// The block the transaction stops being valid at (0: never).
    fn expiry(&self) -> u32 {
        match self {
            TxCommand::Grant { expiry, .. } => *expiry,
            _ => 0,
        }
    }

    /// For a grant: the record's policy, compiled from the given source and arguments and
    /// checked against what the record stores on chain.
    async fn record_policy(&self, client: &Client, signer: &Signer) -> miette::Result<Option<Compiled>> {
        let TxCommand::Grant { record, policy, .. } = self else { return Ok(None) };
        let compiled = compile_with(policy)?.ok_or_else(|| miette!("the policy does not check"))?;
        let records = client.records(&signer.key.to_hex()).await.map_err(|e| miette!("{e}"))?;
        let stored = records["records"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["record"] == record.as_str())
            .ok_or_else(|| miette!("record {record} is not one of this key's records"))?;
        if stored["policy"] != hex::encode(&compiled.script).as_str() {
            return Err(miette!(
                help = "give the policy file and --arg values the record was stored with",
                "the policy compiles to a different script than record {record} stores"
            ));
        }
        Ok(Some(compiled))
    }

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
            TxCommand::Grant { record, grantee, purpose, record_key, .. } => {
                let record = hash_arg("record", record)?;
                let grantee = key_arg("grantee", grantee)?;
                let deposit = match record_key {
                    Some(path) => {
                        let text = std::fs::read_to_string(path)
                            .map_err(|e| miette!("cannot read {}: {e}", path.display()))?;
                        let key = hex::decode(text.trim())
                            .ok()
                            .filter(|k| k.len() == 32)
                            .ok_or_else(|| miette!("{} does not hold 64 hex digits", path.display()))?;
                        let grantee_key =
                            grantee.key().ok_or_else(|| miette!("--grantee is not a valid key"))?;
                        ecies::seal(&grantee_key, &key, &mut rand::rng()).map_err(|e| miette!("{e}"))?
                    }
                    None => Vec::new(),
                };
                let access = RecordAccess { record, unlock: Vec::new(), sequence: u32::MAX, deposit };
                (Payload::AccessGrant { grantee, purpose: *purpose, records: vec![access] }, vec![])
            }
            TxCommand::Revoke { grant } => {
                let grant = hash_arg("grant", grant)?;
                (Payload::Revocation { grant, owner: signer.key, signature: Sig::EMPTY }, vec![])
            }
        })
    }
}

/// Unlocks each record access of a grant through `compiled` with the signer's key.
fn unlock_accesses(
    payload: &mut Payload,
    compiled: &Compiled,
    signer: &Signer,
    digest: &Hash32,
) -> miette::Result<()> {
    let Payload::AccessGrant { grantee, records, .. } = payload else { return Ok(()) };
    let deposits = records.iter().any(|a| !a.deposit.is_empty()).then_some(grantee.0).into_iter().collect();
    let holdings =
        Holdings { digest: digest.0, secret_keys: vec![signer.secret], deposits, ..Holdings::default() };
    let plan = satisfy(compiled, &holdings);
    let Some((_, witness)) = plan.best() else {
        let needs: Vec<String> = plan
            .clauses
            .iter()
            .filter_map(|c| c.result.as_ref().err().map(|need| format!("\"{}\" needs {need}", c.label)))
            .collect();
        return Err(miette!("this key cannot satisfy the record's policy: {}", needs.join("; ")));
    };
    for access in records {
        access.unlock = witness.script();
    }
    Ok(())
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
    let record_policy = args.command.record_policy(&client, signer).await?;
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
    tx.expiry = args.command.expiry();
    let digest = tx.signing_digest(&chain_id);
    tx.payload.set_signature(signer.sign(&digest));
    if let Some(compiled) = &record_policy {
        unlock_accesses(&mut tx.payload, compiled, signer, &digest)?;
    }
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
    let signer = load_signer(&args.key, &args.passphrase_env)?;
    answer(block_on(build_and_submit(&args, &signer))??)
}
