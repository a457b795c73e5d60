//! A client of a running node, over HTTP: a hospital releases a record for a patient, the
//! patient stores it encrypted under a consent policy, then shares it with a research team by
//! an access grant carrying the record key sealed to the team; the team downloads the ciphertext
//! (proving its key by signing a challenge), decrypts it and checks it against the release.
//!
//! Run, from the repository root:
//!
//! ```sh
//! cargo run -p medchain-examples --bin share_record -- genesis > /tmp/share-genesis.json
//! cargo run --release -- node --dev --data "$(mktemp -d)" --genesis /tmp/share-genesis.json &
//! cargo run -p medchain-examples --bin share_record -- run http://127.0.0.1:7070
//! ```
//!
//! The keys are fixed development keys; each run spends their genesis coins, so start the node
//! on a fresh data directory for each run.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use medchain_chain::genesis::Genesis;
use medchain_chain::standard::pay_to_key;
use medchain_chain::transaction::{Payload, RecordAccess, Transaction};
use medchain_chain::validate::Chain;
use medchain_client::Client;
use medchain_compiler::medscript::compile;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::Holdings;
use medchain_compiler::medscript::types::Value;
use medchain_primitives::{Sig, Signer};
use medchain_wallet::builder::{FINAL_SEQUENCE, PolicyUnlock, Spendable, TxBuilder};
use medchain_wallet::deposit::{Binding, open_record_secret, seal_to};
use medchain_wallet::record::{self, RecordSecret};
use secp256k1::SecretKey;
use serde_json::json;

const COIN: u64 = 1_000_000;
const FEE: u64 = 1_000;

struct Keys {
    hospital: Signer,
    patient: Signer,
    researcher: Signer,
    producer: Signer,
}

fn keys() -> anyhow::Result<Keys> {
    let signer = |byte| SecretKey::from_byte_array([byte; 32]).map(Signer::new);
    Ok(Keys {
        hospital: signer(0x41)?,
        patient: signer(0x42)?,
        researcher: signer(0x43)?,
        producer: signer(0x44)?,
    })
}

/// A dev genesis: the hospital is a medical institution; the hospital and the patient each get
/// one coin (allocations 0 and 1); the producer's key signs dev blocks.
fn genesis_json(k: &Keys) -> String {
    json!({
        "chain_name": "share-record-example", "time": 1_767_225_600u64,
        "roles": { "medical_institution": 1 },
        "governors": [k.hospital.key.to_hex()], "producers": [k.producer.key.to_hex()],
        "block_reward": 0,
        "allocations": [
            { "lock": hex::encode(pay_to_key(&k.hospital.key)), "value": COIN },
            { "lock": hex::encode(pay_to_key(&k.patient.key)), "value": COIN },
        ],
        "initial_roles": [{ "key": k.hospital.key.to_hex(), "role": "medical_institution" }],
        "dev_key": hex::encode(k.producer.secret.secret_bytes()),
    })
    .to_string()
}

/// `builder`'s transaction, paid from the coins the node lists for `payer`, submitted; waits
/// until it is in a block.
async fn send(
    client: &Client,
    chain: &Chain,
    what: &str,
    payer: &Signer,
    builder: TxBuilder,
) -> anyhow::Result<Transaction> {
    let coins = Spendable::of_key(&payer.key, &client.coins(&payer.key).await?.coins);
    let height = client.status().await?.height.saturating_add(1);
    let tx = builder.build(&chain.chain_id, payer, &coins, height)?;
    let txid = client.submit(&tx).await.with_context(|| format!("submitting the {what}"))?;
    let answer = client.wait_confirmed(&txid, Duration::from_secs(60), &mut |_| {}).await?;
    let block = answer.block.map(|b| b.height).context("a confirmed transaction is in a block")?;
    println!("{what}: {txid} in block {block}");
    Ok(tx)
}

async fn run(url: &str) -> anyhow::Result<()> {
    let k = keys()?;
    let chain = Chain::new(Genesis::from_json(&genesis_json(&k))?);
    let client = Client::new(url);
    // Give a node that is just starting a moment.
    let mut status = client.status().await;
    for _ in 0..60 {
        if status.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        status = client.status().await;
    }
    let status = status.context("is the node running?")?;
    if status.chain_id != chain.chain_id {
        bail!("the node runs another chain; start it with the genesis `share_record genesis` prints");
    }
    let mut rng = rand::rng();

    // The hospital releases the record: on chain only a salted commitment to it.
    let text = b"2026-11-28 lipid panel: LDL 96 mg/dL, HDL 61 mg/dL.".to_vec();
    let salt = record::new_key(&mut rng);
    let commitment = record::commitment(&salt, &text);
    let release = Payload::Release {
        patient: k.patient.key,
        institution: k.hospital.key,
        commitment,
        signature: Sig::EMPTY,
    };
    let release = TxBuilder::new(release, FEE).signed_by(&k.hospital);
    let release_id = send(&client, &chain, "release", &k.hospital, release).await?.txid();

    // The patient encrypts the record under a fresh key, uploads the ciphertext and stores it
    // under the standard consent policy.
    let record_key = record::new_key(&mut rng);
    let ciphertext_hash = client.upload(record::encrypt(&record_key, &text, &mut rng)).await?;
    let policy = medchain_contracts::standard("consent").context("the consent policy")?;
    let checked = policy.checked(&RoleRegistry::standard()).map_err(|d| anyhow!("{d:?}"))?;
    let args = [("patient".to_owned(), Value::PubKey(k.patient.key.0))].into_iter().collect();
    let compiled = compile(&checked, &args)?;
    let storage = Payload::Storage {
        release: release_id,
        patient: k.patient.key,
        ciphertext: ciphertext_hash,
        policy: compiled.script.clone(),
        emergency: None,
        signature: Sig::EMPTY,
    };
    let storage = TxBuilder::new(storage, FEE).signed_by(&k.patient);
    let record_id = send(&client, &chain, "storage", &k.patient, storage).await?.txid();

    // The sharing transaction: an access grant to the research team, unlocked by the patient's
    // signature through the policy, with the record key sealed to the team's public key.
    // The deposit carries the record key and the release's salt: what the team needs to read the
    // record and check it is the one the hospital released.
    let secret = RecordSecret { key: record_key, salt };
    let deposit = seal_to(&k.researcher.key, &secret.to_bytes(), Binding::Deposit(&record_id), &mut rng)?;
    let access = RecordAccess { record: record_id, unlock: Vec::new(), sequence: FINAL_SEQUENCE, deposit };
    let grant = Payload::AccessGrant { grantee: k.researcher.key, purpose: 7, records: vec![access] };
    let holdings = Holdings { secret_keys: vec![k.patient.secret], ..Holdings::default() };
    let grant = TxBuilder::new(grant, FEE).unlock_records(PolicyUnlock { compiled, holdings, clause: None });
    let grant = send(&client, &chain, "access grant", &k.patient, grant).await?;

    // The research team proves its key to the node, downloads, opens the deposit, decrypts and
    // checks the record against the commitment its release made on chain.
    let ciphertext = client.download(&chain.chain_id, &k.researcher, &record_id).await?;
    let deposit = &grant.record_accesses().first().context("the grant's access")?.deposit;
    let secret = open_record_secret(&k.researcher.secret, deposit, &record_id)?;
    let plain = secret.read(&ciphertext, &client.release_commitment(&release_id).await?)?;
    println!("the research team reads: {}", String::from_utf8_lossy(&plain));
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["genesis"] => {
            println!("{}", genesis_json(&keys()?));
            Ok(())
        }
        ["run", url] => run(url).await,
        _ => bail!("usage: share_record genesis | share_record run http://HOST:PORT"),
    }
}
