//! A client of a running node, over HTTP: a hospital releases a record for a patient, the
//! patient stores it encrypted under a consent policy, then shares it with a research team by
//! an access grant carrying the record key sealed to the team; the team downloads the ciphertext
//! (proving its key by signing a challenge), decrypts it and checks it against the release.
//!
//! Run, from the repository root:
//!
//! ```sh
//! export MEDCHAIN_PASSPHRASE='a passphrase for the example'
//! cargo run -p medchain-examples --bin share_record -- setup /tmp/share
//! cargo run --release -- node --dev --data "$(mktemp -d)" --genesis /tmp/share/genesis.json \
//!     --producer-key /tmp/share/producer.key &
//! cargo run -p medchain-examples --bin share_record -- run http://127.0.0.1:7070 /tmp/share
//! ```
//!
//! `setup` makes fresh keys: the producer's key file (sealed under the passphrase), the
//! parties' keys (a file only its owner reads), and a genesis naming their public keys only.
//! Each run spends the parties' genesis coins, so start the node on a fresh data directory.

use std::path::Path;
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
use medchain_primitives::{PubKey, Sig, Signer};
use medchain_wallet::builder::{FINAL_SEQUENCE, PolicyUnlock, Spendable, TxBuilder};
use medchain_wallet::deposit::{Binding, open_record_secret, seal_to};
use medchain_wallet::files::write_private;
use medchain_wallet::keyfile::KeyFile;
use medchain_wallet::record::{self, RecordSecret};
use secp256k1::SecretKey;
use serde_json::json;

const COIN: u64 = 1_000_000;
const FEE: u64 = 1_000;

/// The example's parties.
struct Keys {
    hospital: Signer,
    patient: Signer,
    researcher: Signer,
}

/// Where `setup` keeps the parties' secret keys, the producer's key file and the genesis.
const PARTIES: &str = "parties.json";
const PRODUCER_KEY: &str = "producer.key";
const GENESIS: &str = "genesis.json";

/// Fresh keys for the parties and the producer, and the dev genesis naming them, in `dir`.
fn setup(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let fresh = || Signer::new(SecretKey::new(&mut rand::rng()));
    let (k, producer) = (Keys { hospital: fresh(), patient: fresh(), researcher: fresh() }, fresh());
    let passphrase = std::env::var("MEDCHAIN_PASSPHRASE")
        .context("set MEDCHAIN_PASSPHRASE: the producer's key file is sealed under it")?;
    let key_file = KeyFile::seal(&producer.secret, &passphrase, &mut rand::rng())?;
    write_private(&dir.join(PRODUCER_KEY), serde_json::to_string(&key_file)?.as_bytes(), true)?;
    let secret = |s: &Signer| hex::encode(s.secret.secret_bytes());
    let parties = json!({ "hospital": secret(&k.hospital), "patient": secret(&k.patient), "researcher": secret(&k.researcher) });
    write_private(&dir.join(PARTIES), parties.to_string().as_bytes(), true)?;
    std::fs::write(dir.join(GENESIS), genesis_json(&k, &producer.key))?;
    println!("wrote {GENESIS}, {PRODUCER_KEY} and {PARTIES} in {}", dir.display());
    Ok(())
}

/// The parties `setup` wrote in `dir`, and the chain of its genesis.
fn load(dir: &Path) -> anyhow::Result<(Keys, Chain)> {
    let text = std::fs::read_to_string(dir.join(PARTIES))
        .with_context(|| format!("run `setup {}` first", dir.display()))?;
    let parties: serde_json::Value = serde_json::from_str(&text)?;
    let party = |name: &str| -> anyhow::Result<Signer> {
        let bytes = hex::decode(parties.get(name).and_then(|v| v.as_str()).context("a party's key")?)?;
        Ok(Signer::new(SecretKey::from_byte_array(bytes.try_into().map_err(|_| anyhow!("a 32-byte key"))?)?))
    };
    let keys =
        Keys { hospital: party("hospital")?, patient: party("patient")?, researcher: party("researcher")? };
    let genesis = Genesis::from_json(&std::fs::read_to_string(dir.join(GENESIS))?)?;
    Ok((keys, Chain::new(genesis)))
}

/// A dev genesis: the hospital is a medical institution; the hospital and the patient each get
/// one coin (allocations 0 and 1); `producer` signs dev blocks.
fn genesis_json(k: &Keys, producer: &PubKey) -> String {
    json!({
        "chain_name": "share-record-example", "time": 1_767_225_600u64,
        "roles": { "medical_institution": 1 },
        "governors": [k.hospital.key.to_hex()], "producers": [producer.to_hex()],
        "block_reward": 0,
        "allocations": [
            { "lock": hex::encode(pay_to_key(&k.hospital.key)), "value": COIN },
            { "lock": hex::encode(pay_to_key(&k.patient.key)), "value": COIN },
        ],
        "initial_roles": [{ "key": k.hospital.key.to_hex(), "role": "medical_institution" }],
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

async fn run(url: &str, dir: &Path) -> anyhow::Result<()> {
    let (k, chain) = load(dir)?;
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
        bail!("the node runs another chain; start it with the genesis `share_record setup` wrote");
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
        ["setup", dir] => setup(Path::new(dir)),
        ["run", url, dir] => run(url, Path::new(dir)).await,
        _ => bail!("usage: share_record setup DIR | share_record run http://HOST:PORT DIR"),
    }
}
