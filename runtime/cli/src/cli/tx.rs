//! `medchain tx`: build, sign and submit a transaction to a running node with a key file's
//! key, pay the fee from that key's coins, and wait for the block.

#![allow(
    clippy::indexing_slicing,
    reason = "indexing a serde_json::Value by key gives Null when the key is missing; it never panics"
)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use miette::miette;
use serde_json::{Value, json};

use medchain_compiler::medscript::Compiled;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, satisfy};

use super::keys::KeyArgs;
use super::policy::{CompileArgs, compile_with};
use super::query::{DEFAULT_NODE, answer, block_on};
use medchain_chain::limits::{COINBASE_MATURITY, MAX_TX_IO, fuel_fee};
use medchain_chain::standard::{pay_to_key, unlock_pay_to_key};
use medchain_chain::transaction::{
    EmergencyShares, OutPoint, Payload, RecordAccess, ShareDeposit, Transaction, TxIn, TxOut,
};
use medchain_client::{Client, ClientError};
use medchain_modules::admit;
use medchain_primitives::Signer;
use medchain_primitives::ecies;
use medchain_primitives::{Hash32, PubKey, Sig};
use medchain_wallet::record::{self, RECORD_KEY_SIZE};
use medchain_wallet::shamir;

/// How long to wait for the transaction's block.
const CONFIRMATION_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Args)]
pub struct TxArgs {
    /// The node's API.
    #[arg(long, default_value = DEFAULT_NODE)]
    node: String,
    /// The signer, who also pays the fee.
    #[command(flatten)]
    key: KeyArgs,
    /// The fee.
    #[arg(long, default_value_t = 1_000)]
    fee: u64,
    /// Fuel each script check may burn in policy modules (the fee pays 1 per 1,000 fuel per
    /// check: each input and each record).
    #[arg(long, default_value_t = 0)]
    fuel: u64,
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
    /// As a medical institution, release a record for a patient: a salted commitment on chain,
    /// the record encrypted into the node's record store, and a handover file for the patient
    /// (the release, the ciphertext's hash, the salt, and the record key sealed to the patient).
    Release {
        /// The patient.
        #[arg(long)]
        patient: String,
        /// The record's file.
        #[arg(long)]
        record: PathBuf,
        /// Where to write the handover for the patient.
        #[arg(long)]
        handover: PathBuf,
    },
    /// As the patient, store a released record under a policy, optionally with its key split
    /// among emergency share holders; writes the record key for later grants.
    Store {
        /// The handover file from the release.
        #[arg(long)]
        handover: PathBuf,
        /// Where to write the record key (64 hex digits).
        #[arg(long)]
        record_key_out: PathBuf,
        /// An emergency share holder (repeatable); the key is split among them.
        #[arg(long = "share-holder")]
        share_holders: Vec<String>,
        /// How many shares recover the key.
        #[arg(long, default_value_t = 2)]
        threshold: u8,
        /// The policy file and its arguments.
        #[command(flatten)]
        policy: CompileArgs,
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
    /// As a registered institution, break the glass on a record through its policy's emergency
    /// clause.
    Emergency {
        /// The record: its storage transaction's id.
        #[arg(long)]
        record: String,
        /// The record's patient.
        #[arg(long)]
        patient: String,
        /// Why, in words; the patient's audit log shows it.
        #[arg(long)]
        justification: String,
        /// The block at which the access ends (the policy bounds how far ahead).
        #[arg(long)]
        expiry: u32,
        /// The record's policy file and arguments, as it was stored.
        #[command(flatten)]
        policy: CompileArgs,
    },
    /// As a holder of a record's emergency key share, release it to the emergency's requester.
    ShareRelease {
        /// The emergency access.
        #[arg(long)]
        emergency: String,
        /// The record.
        #[arg(long)]
        record: String,
        /// The record's patient.
        #[arg(long)]
        patient: String,
    },
    /// As the owner of the records, revoke a grant.
    Revoke {
        /// The grant's transaction id.
        #[arg(long)]
        grant: String,
    },
    /// Deploy a wasm policy module; policies call it by its SHA-256 from the next block on.
    DeployModule {
        /// The module's wasm file.
        #[arg(long)]
        wasm: PathBuf,
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

/// How a draft's record accesses get unlocked: the record's policy and what the signer holds
/// (the digest is filled in once the transaction is built).
struct Unlock {
    compiled: Compiled,
    holdings: Holdings,
}

/// A transaction's parts before inputs and signatures.
struct Draft {
    payload: Payload,
    /// Outputs paying others.
    outputs: Vec<TxOut>,
    expiry: u32,
    unlock: Option<Unlock>,
    /// A file to write once the transaction is accepted, with its id under `"release"`.
    handover: Option<(PathBuf, Value)>,
}

impl Draft {
    fn plain(payload: Payload) -> Draft {
        Draft { payload, outputs: Vec::new(), expiry: 0, unlock: None, handover: None }
    }
}

fn write_new(path: &Path, text: &str) -> miette::Result<()> {
    std::fs::write(path, text).map_err(|e| miette!("cannot write {}: {e}", path.display()))
}

/// A record as the node lists it among its patient's records.
async fn stored_record(client: &Client, patient: &PubKey, record: &Hash32) -> miette::Result<Value> {
    let records = client.records(&patient.to_hex()).await.map_err(|e| miette!("{e}"))?;
    records["records"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["record"] == record.to_hex().as_str())
        .cloned()
        .ok_or_else(|| miette!("record {record} is not among the records of {}", patient.to_hex()))
}

/// The record's policy compiled from the given source and arguments, checked against the chain.
fn record_policy(policy: &CompileArgs, stored: &Value) -> miette::Result<Compiled> {
    let compiled = compile_with(policy)?.ok_or_else(|| miette!("the policy does not check"))?;
    if stored["policy"] != hex::encode(&compiled.script).as_str() {
        return Err(miette!(
            help = "give the policy file and --arg values the record was stored with",
            "the policy compiles to a different script than record {} stores",
            stored["record"].as_str().unwrap_or_default()
        ));
    }
    Ok(compiled)
}

/// The record key in a file, as 64 hex digits.
fn read_record_key(path: &Path) -> miette::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).map_err(|e| miette!("cannot read {}: {e}", path.display()))?;
    hex::decode(text.trim())
        .ok()
        .filter(|k| k.len() == RECORD_KEY_SIZE)
        .ok_or_else(|| miette!("{} does not hold 64 hex digits", path.display()))
}

fn seal_to(key: &PubKey, secret: &[u8]) -> miette::Result<Vec<u8>> {
    let key = key.key().ok_or_else(|| miette!("{} is not a valid key", key.to_hex()))?;
    ecies::seal(&key, secret, &mut rand::rng()).map_err(|e| miette!("{e}"))
}

impl TxCommand {
    /// The transaction this command makes, at chain height `height`.
    async fn draft(&self, client: &Client, signer: &Signer, height: u32) -> miette::Result<Draft> {
        Ok(match self {
            TxCommand::Transfer { to, amount } => {
                let to = key_arg("to", to)?;
                Draft {
                    outputs: vec![TxOut { value: *amount, lock: pay_to_key(&to) }],
                    ..Draft::plain(Payload::Transfer)
                }
            }
            TxCommand::RegisterRole { subject, role } => Draft::plain(Payload::RegisterRole {
                subject: key_arg("subject", subject)?,
                role: *role,
                governor: signer.key,
                signature: Sig::EMPTY,
            }),
            TxCommand::WithdrawRole { subject, role } => Draft::plain(Payload::WithdrawRole {
                subject: key_arg("subject", subject)?,
                role: *role,
                governor: signer.key,
                signature: Sig::EMPTY,
            }),
            TxCommand::Release { patient, record, handover } => {
                let patient = key_arg("patient", patient)?;
                let text =
                    std::fs::read(record).map_err(|e| miette!("cannot read {}: {e}", record.display()))?;
                let mut rng = rand::rng();
                let salt = record::new_key(&mut rng);
                let record_key = record::new_key(&mut rng);
                let ciphertext = client
                    .upload(record::encrypt(&record_key, &text, &mut rng))
                    .await
                    .map_err(|e| miette!("uploading the record: {e}"))?;
                let note = json!({
                    "ciphertext": ciphertext.to_hex(),
                    "salt": hex::encode(salt),
                    "key": hex::encode(seal_to(&patient, &record_key)?),
                });
                let commitment = Hash32::sha256(&[&salt[..], &text].concat());
                Draft {
                    handover: Some((handover.clone(), note)),
                    ..Draft::plain(Payload::Release {
                        patient,
                        institution: signer.key,
                        commitment,
                        signature: Sig::EMPTY,
                    })
                }
            }
            TxCommand::Store { handover, record_key_out, share_holders, threshold, policy } => {
                let text = std::fs::read_to_string(handover)
                    .map_err(|e| miette!("cannot read {}: {e}", handover.display()))?;
                let note: Value = serde_json::from_str(&text)
                    .map_err(|e| miette!("{} is not a handover file: {e}", handover.display()))?;
                let field = |name: &str| {
                    note[name].as_str().ok_or_else(|| miette!("{} has no `{name}`", handover.display()))
                };
                let release = hash_arg("release in the handover", field("release")?)?;
                let ciphertext = hash_arg("ciphertext in the handover", field("ciphertext")?)?;
                let sealed = hex::decode(field("key")?).map_err(|e| miette!("the handover's key: {e}"))?;
                let record_key = ecies::open(&signer.secret, &sealed)
                    .map_err(|e| miette!("opening the record key: {e}"))?;
                let compiled = compile_with(policy)?.ok_or_else(|| miette!("the policy does not check"))?;
                let emergency = if share_holders.is_empty() {
                    None
                } else {
                    let count =
                        u8::try_from(share_holders.len()).map_err(|_| miette!("too many share holders"))?;
                    let shares = shamir::split(&record_key, *threshold, count, &mut rand::rng())
                        .map_err(|e| miette!("{e}"))?;
                    let mut deposits = Vec::new();
                    for (holder, share) in share_holders.iter().zip(&shares) {
                        let holder = key_arg("share-holder", holder)?;
                        deposits
                            .push(ShareDeposit { holder, envelope: seal_to(&holder, &share.to_bytes())? });
                    }
                    Some(EmergencyShares { threshold: *threshold, shares: deposits })
                };
                write_new(record_key_out, &hex::encode(&record_key))?;
                Draft::plain(Payload::Storage {
                    release,
                    patient: signer.key,
                    ciphertext,
                    policy: compiled.script,
                    emergency,
                    signature: Sig::EMPTY,
                })
            }
            TxCommand::Grant { record, grantee, purpose, expiry, record_key, policy } => {
                let record = hash_arg("record", record)?;
                let grantee = key_arg("grantee", grantee)?;
                let compiled = record_policy(policy, &stored_record(client, &signer.key, &record).await?)?;
                let deposit = match record_key {
                    Some(path) => seal_to(&grantee, &read_record_key(path)?)?,
                    None => Vec::new(),
                };
                let deposits = (!deposit.is_empty()).then_some(grantee.0).into_iter().collect();
                let access = RecordAccess { record, unlock: Vec::new(), sequence: u32::MAX, deposit };
                Draft {
                    expiry: *expiry,
                    unlock: Some(Unlock {
                        compiled,
                        holdings: Holdings {
                            secret_keys: vec![signer.secret],
                            deposits,
                            ..Holdings::default()
                        },
                    }),
                    ..Draft::plain(Payload::AccessGrant { grantee, purpose: *purpose, records: vec![access] })
                }
            }
            TxCommand::Emergency { record, patient, justification, expiry, policy } => {
                let record = hash_arg("record", record)?;
                let patient = key_arg("patient", patient)?;
                let compiled = record_policy(policy, &stored_record(client, &patient, &record).await?)?;
                // What the signer claims to hold; the chain checks the roles and the expiry.
                let roles = RoleRegistry::standard();
                let holdings = Holdings {
                    secret_keys: vec![signer.secret],
                    roles: [(signer.key.0, roles.names().filter_map(|n| roles.id(n)).collect())].into(),
                    emergency_expires_in: Some(expiry.saturating_sub(height)),
                    ..Holdings::default()
                };
                let access =
                    RecordAccess { record, unlock: Vec::new(), sequence: u32::MAX, deposit: Vec::new() };
                let payload = Payload::EmergencyAccess {
                    requester: signer.key,
                    justification: justification.clone(),
                    records: vec![access],
                    signature: Sig::EMPTY,
                };
                Draft {
                    expiry: *expiry,
                    unlock: Some(Unlock { compiled, holdings }),
                    ..Draft::plain(payload)
                }
            }
            TxCommand::ShareRelease { emergency, record, patient } => {
                let emergency = hash_arg("emergency", emergency)?;
                let record = hash_arg("record", record)?;
                let stored = stored_record(client, &key_arg("patient", patient)?, &record).await?;
                let sealed = stored["emergency"]["shares"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|s| s["holder"] == signer.key.to_hex().as_str())
                    .and_then(|s| hex::decode(s["envelope"].as_str()?).ok())
                    .ok_or_else(|| miette!("this key holds no share of record {record}"))?;
                let share =
                    ecies::open(&signer.secret, &sealed).map_err(|e| miette!("opening the share: {e}"))?;
                let access = client.access(&emergency).await.map_err(|e| miette!("{e}"))?;
                let requester = access["grantee"].as_str().unwrap_or_default();
                let requester = key_arg("emergency's requester", requester)?;
                Draft::plain(Payload::ShareRelease {
                    emergency,
                    record,
                    holder: signer.key,
                    envelope: seal_to(&requester, &share)?,
                    signature: Sig::EMPTY,
                })
            }
            TxCommand::Revoke { grant } => Draft::plain(Payload::Revocation {
                grant: hash_arg("grant", grant)?,
                owner: signer.key,
                signature: Sig::EMPTY,
            }),
            TxCommand::DeployModule { wasm } => {
                let code = std::fs::read(wasm).map_err(|e| miette!("cannot read {}: {e}", wasm.display()))?;
                admit(&code).map_err(|e| miette!("{}: {e} ({})", wasm.display(), e.code()))?;
                Draft::plain(Payload::DeployModule { code })
            }
        })
    }
}

/// Sets every record access's unlocking script through the policy, for the transaction's digest.
fn unlock_accesses(payload: &mut Payload, unlock: &Unlock, digest: &Hash32) -> miette::Result<()> {
    let holdings = Holdings { digest: digest.0, ..unlock.holdings.clone() };
    let plan = satisfy(&unlock.compiled, &holdings);
    let Some((_, witness)) = plan.best() else {
        let needs: Vec<String> = plan
            .clauses
            .iter()
            .filter_map(|c| c.result.as_ref().err().map(|need| format!("\"{}\" needs {need}", c.label)))
            .collect();
        return Err(miette!("this key cannot satisfy the record's policy: {}", needs.join("; ")));
    };
    for access in payload.record_accesses_mut() {
        access.unlock = witness.script();
    }
    Ok(())
}

/// Coins of `signer` (pay-to-key, mature) covering `needed`, largest first.
fn select_coins(
    coins: &Value,
    signer: &Signer,
    height: u32,
    needed: u64,
) -> miette::Result<Vec<(OutPoint, u64)>> {
    let own_lock = hex::encode(pay_to_key(&signer.key));
    let mut spendable: Vec<(OutPoint, u64)> = coins["coins"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["lock"] == own_lock.as_str())
        .filter(|c| {
            let created = c["height"].as_u64().unwrap_or(u64::MAX);
            c["coinbase"] != true || u64::from(height) >= created.saturating_add(u64::from(COINBASE_MATURITY))
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
    let height = status["height"].as_u64().and_then(|h| u32::try_from(h).ok()).unwrap_or_default();
    let Draft { payload, mut outputs, expiry, unlock, handover } =
        args.command.draft(&client, signer, height).await?;
    let paid: u64 = outputs.iter().map(|o| o.value).sum();
    let needed = paid.checked_add(args.fee).ok_or_else(|| miette!("the amount and fee overflow"))?;
    let coins = match client.coins(&signer.key.to_hex()).await {
        Ok(coins) => coins,
        Err(e) => return Ok(Err(e)),
    };
    let chosen = select_coins(&coins, signer, height, needed)?;
    let checks = |inputs: usize| inputs + payload.record_accesses().len();
    if args.fee < fuel_fee(args.fuel, checks(chosen.len())) {
        // The fee that pays for the fuel with the coins that fee itself needs.
        let mut fee = fuel_fee(args.fuel, checks(chosen.len()));
        for _ in 0..MAX_TX_IO {
            let inputs = select_coins(&coins, signer, height, paid.saturating_add(fee))?.len();
            if fuel_fee(args.fuel, checks(inputs)) <= fee {
                break;
            }
            fee = fuel_fee(args.fuel, checks(inputs));
        }
        return Err(miette!(
            help = format!("pass --fee {fee} or more"),
            "--fee {} does not pay for --fuel {} in each of {} script checks",
            args.fee,
            args.fuel,
            checks(chosen.len())
        ));
    }
    let total: u64 = chosen.iter().map(|c| c.1).sum();
    if total > needed {
        outputs.push(TxOut { value: total - needed, lock: pay_to_key(&signer.key) });
    }
    let inputs =
        chosen.iter().map(|(prevout, _)| TxIn { prevout: *prevout, unlock: Vec::new(), sequence: u32::MAX });
    let mut tx = Transaction::new(inputs.collect(), outputs, payload);
    tx.expiry = expiry;
    tx.fuel = args.fuel;
    let digest = tx.signing_digest(&chain_id);
    tx.payload.set_signature(signer.sign(&digest));
    if let Some(unlock) = &unlock {
        unlock_accesses(&mut tx.payload, unlock, &digest)?;
    }
    for input in &mut tx.inputs {
        input.unlock = unlock_pay_to_key(signer, &digest);
    }
    let txid = match client.submit(&tx).await {
        Ok(txid) => txid,
        Err(e) => return Ok(Err(e)),
    };
    if let Some((path, mut note)) = handover {
        note["release"] = json!(txid.to_hex());
        write_new(&path, &serde_json::to_string_pretty(&note).map_err(|e| miette!("{e}"))?)?;
    }
    if args.no_wait {
        return Ok(Ok(json!({ "txid": txid.to_hex(), "status": "pending" })));
    }
    Ok(client.wait_confirmed(&txid, CONFIRMATION_TIMEOUT, &mut |_| {}).await)
}

pub fn run(args: TxArgs) -> miette::Result<ExitCode> {
    let signer = args.key.signer()?;
    answer(block_on(build_and_submit(&args, &signer))??)
}
