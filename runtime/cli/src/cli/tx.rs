//! `medchain tx`: build, sign and submit a transaction to a running node with a key file's
//! key, pay the fee from that key's coins, and wait for the block.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use miette::miette;

use medchain_api::EmergencySharesView;
use medchain_api::{RecordView, TransactionStatus, TransactionView};
use medchain_chain::transaction::{EmergencyShares, Payload, RecordAccess, ShareDeposit, Transaction};
use medchain_client::{Client, ClientError};
use medchain_compiler::medscript::Compiled;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::Holdings;
use medchain_modules::admit;
use medchain_primitives::codec::Decode;
use medchain_primitives::{Hash32, PubKey, Sig, Signer};
use medchain_wallet::builder::{BuildError, FINAL_SEQUENCE, PolicyUnlock, Spendable, TxBuilder};
use medchain_wallet::deposit::{
    Binding, open_justification, open_record_key, reseal_share, seal_justification, seal_to, split_among,
};
use medchain_wallet::files::{ensure_writable, write_private};
use medchain_wallet::handover::Handover;
use medchain_wallet::record::{self, RecordSecret};

use super::connect::NodeArgs;
use super::keys::KeyArgs;
use super::policy::{CompileArgs, compile_with};
use super::query::{answer, block_on};

/// How long to wait for the transaction's block.
const CONFIRMATION_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Args)]
pub struct TxArgs {
    #[command(flatten)]
    node: NodeArgs,
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
    /// Replace files the command writes (handover, record key) if they exist.
    #[arg(long)]
    force: bool,
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
    /// among emergency share holders; writes the record key and its release's salt (the record
    /// secret) for later grants.
    Store {
        /// The handover file from the release.
        #[arg(long)]
        handover: PathBuf,
        /// Where to write the record secret: the record key and its release's salt (128 hex
        /// digits).
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
        /// A file holding the record secret (key and salt, 128 hex digits) that `store` wrote;
        /// it is sealed to the grantee, who checks the record against its release with it.
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
        /// Why, in words; sealed to the patient (whose audit log shows it) and to the record's
        /// share holders, never public.
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
    /// As the patient or a holder of a covered record's key share, vote to veto an emergency
    /// access in its veto window: the patient's vote vetoes it, and so do as many holders' votes
    /// as recover the record's key.
    Veto {
        /// The emergency access.
        #[arg(long)]
        emergency: String,
    },
    /// Deploy a wasm policy module; policies call it by its SHA-256 from the next block on.
    DeployModule {
        /// The module's wasm file.
        #[arg(long)]
        wasm: PathBuf,
    },
}

fn key_arg(name: &str, text: &str) -> miette::Result<PubKey> {
    PubKey::from_hex(text).ok_or_else(|| miette!("--{name}: `{text}` is not a compressed public key"))
}

fn hash_arg(name: &str, text: &str) -> miette::Result<Hash32> {
    Hash32::from_hex(text).ok_or_else(|| miette!("--{name}: `{text}` is not 64 hex digits"))
}

/// What a command makes, before it is paid for and signed: the builder, and for a release the
/// handover to write once the node accepts it.
struct Draft {
    builder: TxBuilder,
    /// The handover file and its contents but for the release's id.
    handover: Option<(PathBuf, Handover)>,
}

impl From<TxBuilder> for Draft {
    fn from(builder: TxBuilder) -> Self {
        Draft { builder, handover: None }
    }
}

/// Writes a file holding a secret (mode 0600), replacing one only with `--force`.
fn write_secret(path: &Path, text: &str, force: bool) -> miette::Result<()> {
    write_private(path, text.as_bytes(), force).map_err(|e| miette!("{e}"))
}

/// A record as the chain holds it, checked to be `patient`'s.
async fn stored_record(client: &Client, patient: &PubKey, record: &Hash32) -> miette::Result<RecordView> {
    let stored = client.record(record).await.map_err(|e| miette!("{e}"))?;
    if stored.patient != *patient {
        return Err(miette!("record {record} is not {patient}'s"));
    }
    Ok(stored)
}

/// The record's policy compiled from the given source and arguments, checked against the chain.
fn record_policy(policy: &CompileArgs, stored: &RecordView) -> miette::Result<Compiled> {
    let compiled = compile_with(policy)?.ok_or_else(|| miette!("the policy does not check"))?;
    if stored.policy.0 != compiled.script {
        return Err(miette!(
            help = "give the policy file and --arg values the record was stored with",
            "the policy compiles to a different script than record {} stores",
            stored.record
        ));
    }
    Ok(compiled)
}

/// The record secret in a file, as 128 hex digits.
fn read_record_secret(path: &Path) -> miette::Result<RecordSecret> {
    let text = std::fs::read_to_string(path).map_err(|e| miette!("cannot read {}: {e}", path.display()))?;
    hex::decode(text.trim())
        .ok()
        .and_then(|bytes| RecordSecret::from_bytes(&bytes))
        .ok_or_else(|| miette!("{} does not hold a record secret (128 hex digits)", path.display()))
}

fn sealed(key: &PubKey, secret: &[u8], binding: Binding<'_>) -> miette::Result<Vec<u8>> {
    seal_to(key, secret, binding, &mut rand::rng()).map_err(|e| miette!("{e}"))
}

/// The shares a record lists, as the chain holds them.
pub(super) fn chain_shares(view: &EmergencySharesView) -> EmergencyShares {
    EmergencyShares {
        threshold: view.threshold,
        shares: view
            .shares
            .iter()
            .map(|s| ShareDeposit { holder: s.holder, envelope: s.envelope.0.clone(), check: s.check })
            .collect(),
    }
}

/// The requester of the emergency access `id`, read from the transaction itself (checked to hash
/// to `id`), never from what a node says about it: a share is sealed to that key for good. The
/// justification sealed to `holder` is shown first.
async fn emergency_requester(client: &Client, holder: &Signer, id: &Hash32) -> miette::Result<PubKey> {
    let answer = client.transaction(id).await.map_err(|e| miette!("{e}"))?;
    let tx = Transaction::from_bytes(&answer.tx.0)
        .map_err(|e| miette!("the emergency access does not decode: {e}"))?;
    if tx.txid() != *id {
        return Err(miette!("the node answered a transaction that is not {id}"));
    }
    let Payload::EmergencyAccess { requester, justification, records, .. } = tx.payload else {
        return Err(miette!("{id} is not an emergency access"));
    };
    let records: Vec<Hash32> = records.iter().map(|r| r.record).collect();
    let copies = justification.copies.iter().map(|c| c.0.as_slice());
    match open_justification(&holder.secret, (&requester, &records), &justification.commitment, copies) {
        Ok(Some(text)) => eprintln!("the requester's justification: \"{text}\""),
        Ok(None) => eprintln!("warning: the request carries no justification sealed to this key"),
        Err(e) => eprintln!("warning: JUSTIFICATION_MISMATCH: {e}"),
    }
    Ok(requester)
}

/// One record access, to be unlocked through the record's policy.
fn access(record: Hash32, deposit: Vec<u8>) -> RecordAccess {
    RecordAccess { record, unlock: Vec::new(), sequence: FINAL_SEQUENCE, deposit }
}

impl TxCommand {
    /// The transaction this command makes, at chain height `height`, paying `fee`.
    async fn draft(
        &self,
        client: &Client,
        signer: &Signer,
        height: u32,
        (fee, force): (u64, bool),
    ) -> miette::Result<Draft> {
        let signed = |payload: Payload| TxBuilder::new(payload, fee).signed_by(signer);
        Ok(match self {
            TxCommand::Transfer { to, amount } => {
                TxBuilder::new(Payload::Transfer, fee).pay(&key_arg("to", to)?, *amount).into()
            }
            TxCommand::RegisterRole { subject, role } => signed(Payload::RegisterRole {
                subject: key_arg("subject", subject)?,
                role: *role,
                governor: signer.key,
                signature: Sig::EMPTY,
            })
            .into(),
            TxCommand::WithdrawRole { subject, role } => signed(Payload::WithdrawRole {
                subject: key_arg("subject", subject)?,
                role: *role,
                governor: signer.key,
                signature: Sig::EMPTY,
            })
            .into(),
            TxCommand::Release { patient, record, handover } => {
                // The handover is written once the node accepts the release: fail before.
                ensure_writable(handover, force).map_err(|e| miette!("{e}"))?;
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
                let note = Handover {
                    release: Hash32::default(),
                    ciphertext,
                    salt: salt.to_vec().into(),
                    key: sealed(&patient, &record_key, Binding::Handover(&ciphertext))?.into(),
                };
                let commitment = record::commitment(&salt, &text);
                Draft {
                    builder: signed(Payload::Release {
                        patient,
                        institution: signer.key,
                        commitment,
                        signature: Sig::EMPTY,
                    }),
                    handover: Some((handover.clone(), note)),
                }
            }
            TxCommand::Store { handover, record_key_out, share_holders, threshold, policy } => {
                let text = std::fs::read_to_string(handover)
                    .map_err(|e| miette!("cannot read {}: {e}", handover.display()))?;
                let note = Handover::from_json(&text).map_err(|e| miette!("{}: {e}", handover.display()))?;
                let key = open_record_key(&signer.secret, &note.key.0, &note.ciphertext)
                    .map_err(|e| miette!("opening the record key: {e}"))?;
                let salt = note
                    .salt
                    .0
                    .as_slice()
                    .try_into()
                    .map_err(|_| miette!("the handover's salt is not 32 bytes"))?;
                let secret = RecordSecret { key, salt };
                let compiled = compile_with(policy)?.ok_or_else(|| miette!("the policy does not check"))?;
                let emergency = if share_holders.is_empty() {
                    None
                } else {
                    let holders = share_holders
                        .iter()
                        .map(|h| key_arg("share-holder", h))
                        .collect::<miette::Result<Vec<PubKey>>>()?;
                    Some(
                        split_among(&secret, &note.release, *threshold, &holders, &mut rand::rng())
                            .map_err(|e| miette!("{e}"))?,
                    )
                };
                write_secret(record_key_out, &hex::encode(secret.to_bytes()), force)?;
                signed(Payload::Storage {
                    release: note.release,
                    patient: signer.key,
                    ciphertext: note.ciphertext,
                    policy: compiled.script,
                    emergency,
                    signature: Sig::EMPTY,
                })
                .into()
            }
            TxCommand::Grant { record, grantee, purpose, expiry, record_key, policy } => {
                let record = hash_arg("record", record)?;
                let grantee = key_arg("grantee", grantee)?;
                let compiled = record_policy(policy, &stored_record(client, &signer.key, &record).await?)?;
                let deposit = match record_key {
                    Some(path) => {
                        sealed(&grantee, &read_record_secret(path)?.to_bytes(), Binding::Deposit(&record))?
                    }
                    None => Vec::new(),
                };
                let deposits = (!deposit.is_empty()).then_some(grantee.0).into_iter().collect();
                let holdings = Holdings { secret_keys: vec![signer.secret], deposits, ..Holdings::default() };
                let payload = Payload::AccessGrant {
                    grantee,
                    purpose: *purpose,
                    records: vec![access(record, deposit)],
                };
                TxBuilder::new(payload, fee)
                    .expiry(*expiry)
                    .unlock_records(PolicyUnlock { compiled, holdings, clause: None })
                    .into()
            }
            TxCommand::Emergency { record, patient, justification, expiry, policy } => {
                let record = hash_arg("record", record)?;
                let patient = key_arg("patient", patient)?;
                let stored = stored_record(client, &patient, &record).await?;
                let compiled = record_policy(policy, &stored)?;
                // What the signer claims to hold; the chain checks the roles and the expiry. An
                // emergency's relative locks are its veto window, counted from the request.
                let roles = RoleRegistry::standard();
                let holdings = Holdings {
                    secret_keys: vec![signer.secret],
                    roles: [(signer.key.0, roles.names().filter_map(|n| roles.id(n)).collect())].into(),
                    emergency_expires_in: Some(expiry.saturating_sub(height)),
                    age_blocks: Some(u32::from(u16::MAX)),
                    ..Holdings::default()
                };
                let readers: Vec<PubKey> = std::iter::once(patient)
                    .chain(stored.emergency.iter().flat_map(|e| e.shares.iter().map(|s| s.holder)))
                    .collect();
                let justification =
                    seal_justification(justification, (&signer.key, &[record]), &readers, &mut rand::rng())
                        .map_err(|e| miette!("sealing the justification: {e}"))?;
                signed(Payload::EmergencyAccess {
                    requester: signer.key,
                    justification,
                    records: vec![access(record, Vec::new())],
                    signature: Sig::EMPTY,
                })
                .expiry(*expiry)
                .unlock_records(PolicyUnlock { compiled, holdings, clause: None })
                .into()
            }
            TxCommand::ShareRelease { emergency, record, patient } => {
                let emergency = hash_arg("emergency", emergency)?;
                let record = hash_arg("record", record)?;
                let stored = stored_record(client, &key_arg("patient", patient)?, &record).await?;
                let shares = stored
                    .emergency
                    .as_ref()
                    .map(chain_shares)
                    .ok_or_else(|| miette!("record {record} has no emergency shares"))?;
                let requester = emergency_requester(client, signer, &emergency).await?;
                let envelope = reseal_share(
                    &signer.secret,
                    &shares,
                    (&stored.release, &record, &emergency),
                    &requester,
                    &mut rand::rng(),
                )
                .map_err(|e| miette!("releasing the share: {e}"))?;
                signed(Payload::ShareRelease {
                    emergency,
                    record,
                    holder: signer.key,
                    envelope,
                    signature: Sig::EMPTY,
                })
                .into()
            }
            TxCommand::Revoke { grant } => signed(Payload::Revocation {
                grant: hash_arg("grant", grant)?,
                owner: signer.key,
                signature: Sig::EMPTY,
            })
            .into(),
            TxCommand::Veto { emergency } => signed(Payload::Veto {
                access: hash_arg("emergency", emergency)?,
                voter: signer.key,
                signature: Sig::EMPTY,
            })
            .into(),
            TxCommand::DeployModule { wasm } => {
                let code = std::fs::read(wasm).map_err(|e| miette!("cannot read {}: {e}", wasm.display()))?;
                admit(&code).map_err(|e| miette!("{}: {e} ({})", wasm.display(), e.code()))?;
                TxBuilder::new(Payload::DeployModule { code }, fee).into()
            }
        })
    }
}

/// A builder's refusal as the command line says it.
fn build_error(error: BuildError) -> miette::Report {
    match error {
        BuildError::FuelUnpaid { fee, fuel, checks, needed } => miette!(
            help = format!("pass --fee {needed} or more"),
            "--fee {fee} does not pay for --fuel {fuel} in each of {checks} script checks"
        ),
        other => miette!("{other}"),
    }
}

async fn build_and_submit(
    args: &TxArgs,
    signer: &Signer,
) -> miette::Result<Result<TransactionView, ClientError>> {
    let client = Client::new(&args.node.node);
    let status = match client.status().await {
        Ok(status) => status,
        Err(e) => return Ok(Err(e)),
    };
    args.node.check(&status)?;
    let Draft { builder, handover } =
        args.command.draft(&client, signer, status.height, (args.fee, args.force)).await?;
    let coins = match client.coins(&signer.key).await {
        Ok(list) => Spendable::of_key(&signer.key, &list.coins),
        Err(e) => return Ok(Err(e)),
    };
    // The transaction goes into the next block.
    let height = status.height.saturating_add(1);
    let tx = builder.fuel(args.fuel).build(&status.chain_id, signer, &coins, height).map_err(build_error)?;
    let txid = match client.submit(&tx).await {
        Ok(txid) => txid,
        Err(e) => return Ok(Err(e)),
    };
    if let Some((path, note)) = handover {
        write_secret(&path, &Handover { release: txid, ..note }.to_json(), args.force)?;
    }
    if args.no_wait {
        return Ok(Ok(TransactionView {
            txid,
            status: TransactionStatus::Pending,
            kind: tx.payload.kind().name().to_owned(),
            tx: medchain_primitives::codec::Encode::to_bytes(&tx).into(),
            block: None,
            proof: None,
        }));
    }
    Ok(client.wait_confirmed(&txid, CONFIRMATION_TIMEOUT, &mut |_| {}).await)
}

pub fn run(args: TxArgs) -> miette::Result<ExitCode> {
    let signer = args.key.signer()?;
    answer(block_on(build_and_submit(&args, &signer))??)
}
