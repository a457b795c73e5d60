//! Load test: a real dev node process on loopback takes N access grants submitted concurrently
//! over HTTP, next to N plain transfers submitted the same way in the same run (the baseline).
//! Reports accepted per second (validated into the mempool), confirmed per second (until every
//! one is in a block) and the node's peak resident memory. Bounded in count and time.
//!
//! Run: `cargo bench -p medchain --bench load` (`MEDCHAIN_LOAD_N` sets N, default
//! 10,000; `MEDCHAIN_LOAD_CONCURRENCY` the requests in flight, default 16).

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark's setup stops loudly when it fails"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use medchain_chain::genesis::Genesis;
use medchain_chain::standard::{pay_to_key, unlock_pay_to_key};
use medchain_chain::transaction::{OutPoint, Payload, RecordAccess, Transaction, TxIn, TxOut};
use medchain_chain::validate::Chain;
use medchain_client::Client;
use medchain_compiler::medscript::compile;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, satisfy};
use medchain_compiler::medscript::types::Value as PolicyValue;
use medchain_primitives::Signer;
use medchain_primitives::ecies;
use medchain_primitives::{Hash32, Sig};
use secp256k1::SecretKey;
use serde_json::json;

const COIN: u64 = 1_000_000;
const FEE: u64 = 1_000;
/// The whole run must finish within this.
const DEADLINE: Duration = Duration::from_secs(600);

fn signer(i: usize, tag: u8) -> Signer {
    let mut bytes = [tag; 32];
    bytes[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    Signer::new(SecretKey::from_byte_array(bytes).unwrap())
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A transaction spending `coin` (locked to `payer`) back to `payer` less the fee.
fn spend(
    chain: &Chain,
    payer: &Signer,
    coin: OutPoint,
    payload: Payload,
    author: Option<&Signer>,
) -> Transaction {
    let mut tx = Transaction::new(
        vec![TxIn { prevout: coin, unlock: Vec::new(), sequence: u32::MAX }],
        vec![TxOut { value: COIN - FEE, lock: pay_to_key(&payer.key) }],
        payload,
    );
    let digest = tx.signing_digest(&chain.chain_id);
    if let Some(author) = author {
        let sig = author.sign(&digest);
        match &mut tx.payload {
            Payload::Release { signature, .. } | Payload::Storage { signature, .. } => *signature = sig,
            _ => {}
        }
    }
    tx.inputs[0].unlock = unlock_pay_to_key(payer, &digest);
    tx
}

struct NodeProcess(Child);

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The node's peak resident set (VmHWM) in KiB, from /proc.
fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Submits `txs` with `concurrency` requests in flight; returns seconds until all were accepted.
async fn submit_all(client: &Client, txs: &[Transaction], concurrency: usize) -> f64 {
    let start = Instant::now();
    let results: Vec<_> =
        stream::iter(txs).map(|tx| client.submit(tx)).buffer_unordered(concurrency).collect().await;
    let elapsed = start.elapsed().as_secs_f64();
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(refused.is_empty(), "{} refused, first: {:?}", refused.len(), refused.first());
    elapsed
}

/// Waits until the mempool is empty; returns seconds since `since`. Then checks that every
/// 50th of `txids` (and the last) is confirmed.
async fn confirmed(client: &Client, txids: &[Hash32], since: Instant) -> f64 {
    while client.status().await.unwrap().mempool.transactions != 0 {
        assert!(since.elapsed() < DEADLINE, "the mempool never drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = since.elapsed().as_secs_f64();
    for txid in txids.iter().step_by(50).chain(txids.last()) {
        let answer = client.transaction(txid).await.unwrap();
        assert_eq!(answer.status, medchain_api::TransactionStatus::Confirmed, "{txid}");
    }
    elapsed
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env_or("MEDCHAIN_LOAD_N", 10_000).max(1);
    let concurrency = env_or("MEDCHAIN_LOAD_CONCURRENCY", 16).max(1);
    let started = Instant::now();

    let patient = signer(0, 1);
    let hospital = signer(0, 2);
    let producer = signer(0, 3);
    let grant_payers: Vec<Signer> = (0..n).map(|i| signer(i, 4)).collect();
    // The first tenth of the transfers warms the node and the connections up, untimed.
    let warm_up = n / 10;
    let transfer_payers: Vec<Signer> = (0..n + warm_up).map(|i| signer(i, 5)).collect();
    let grantees: Vec<Signer> = (0..n).map(|i| signer(i, 6)).collect();
    let mut allocations = vec![
        json!({ "lock": hex::encode(pay_to_key(&hospital.key)), "value": COIN }),
        json!({ "lock": hex::encode(pay_to_key(&patient.key)), "value": COIN }),
    ];
    for payer in grant_payers.iter().chain(&transfer_payers) {
        allocations.push(json!({ "lock": hex::encode(pay_to_key(&payer.key)), "value": COIN }));
    }
    let genesis_json = json!({
        "chain_name": "medchain-load", "time": 1_767_225_600u64,
        "roles": { "medical_institution": 1 },
        "governors": [patient.key.to_hex()], "producers": [producer.key.to_hex()],
        "block_reward": 50 * COIN, "allocations": allocations,
        "initial_roles": [{ "key": hospital.key.to_hex(), "role": "medical_institution" }],
    })
    .to_string();
    let chain = Chain::new(Genesis::from_json(&genesis_json).unwrap());
    let coin = |i: usize| chain.allocation_outpoint(u32::try_from(i).unwrap());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("genesis.json"), &genesis_json).unwrap();
    // The producer's key file, under a passphrase the node reads from its environment.
    let passphrase = "load-benchmark producer";
    let key_file = medchain_wallet::keyfile::KeyFile::seal_with_cost(
        &producer.secret,
        passphrase,
        256,
        1,
        &mut rand::rng(),
    )
    .unwrap();
    std::fs::write(dir.path().join("producer.key"), serde_json::to_string(&key_file).unwrap()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_medchain"))
        .args(["node", "--dev", "--block-interval", "1", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--producer-key")
        .arg(dir.path().join("producer.key"))
        .env("MEDCHAIN_PASSPHRASE", passphrase)
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--genesis")
        .arg(dir.path().join("genesis.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _node = NodeProcess(child);
    let client = Client::new(&format!("http://127.0.0.1:{port}"));
    while client.status().await.is_err() {
        assert!(started.elapsed() < DEADLINE, "the node did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let memory_at_start = peak_memory_kib(pid);

    // A stored record under the patient's consent policy.
    let release = Payload::Release {
        patient: patient.key,
        institution: hospital.key,
        commitment: Hash32::sha256(b"salted record"),
        signature: Sig::EMPTY,
    };
    let release = spend(&chain, &hospital, coin(0), release, Some(&hospital));
    let release_id = client.submit(&release).await.unwrap();
    client.wait_confirmed(&release_id, DEADLINE, &mut |_| {}).await.unwrap();
    let policy = medchain_contracts::standard("consent").unwrap().checked(&RoleRegistry::standard()).unwrap();
    let args = [("patient".to_owned(), PolicyValue::PubKey(patient.key.0))].into_iter().collect();
    let compiled = compile(&policy, &args).unwrap();
    let storage = Payload::Storage {
        release: release_id,
        patient: patient.key,
        ciphertext: Hash32::sha256(b"ciphertext"),
        policy: compiled.script.clone(),
        emergency: None,
        signature: Sig::EMPTY,
    };
    let storage = spend(&chain, &patient, coin(1), storage, Some(&patient));
    let record = client.submit(&storage).await.unwrap();
    client.wait_confirmed(&record, DEADLINE, &mut |_| {}).await.unwrap();

    // Build and sign everything before the clock starts.
    let mut rng = rand::rng();
    let grants: Vec<Transaction> = (0..n)
        .map(|i| {
            let deposit = ecies::seal(&grantees[i].key.key().unwrap(), &[7; 32], b"", &mut rng).unwrap();
            let access = RecordAccess { record, unlock: Vec::new(), sequence: u32::MAX, deposit };
            let payload =
                Payload::AccessGrant { grantee: grantees[i].key, purpose: 1, records: vec![access] };
            let mut tx = spend(&chain, &grant_payers[i], coin(2 + i), payload, None);
            let digest = tx.signing_digest(&chain.chain_id);
            let holdings =
                Holdings { digest: digest.0, secret_keys: vec![patient.secret], ..Holdings::default() };
            let unlock = satisfy(&compiled, &holdings).clauses[0].result.clone().unwrap().script();
            if let Payload::AccessGrant { records, .. } = &mut tx.payload {
                records[0].unlock = unlock;
            }
            tx
        })
        .collect();
    let mut transfers: Vec<Transaction> = (0..n + warm_up)
        .map(|i| spend(&chain, &transfer_payers[i], coin(2 + n + i), Payload::Transfer, None))
        .collect();
    let warm: Vec<Transaction> = transfers.drain(..warm_up).collect();
    submit_all(&client, &warm, concurrency).await;
    confirmed(&client, &warm.iter().map(Transaction::txid).collect::<Vec<_>>(), Instant::now()).await;

    let mut rows = Vec::new();
    for (name, txs) in [("transfers (baseline)", &transfers), ("access grants", &grants)] {
        let start = Instant::now();
        let accepting = submit_all(&client, txs, concurrency).await;
        let txids: Vec<Hash32> = txs.iter().map(Transaction::txid).collect();
        let confirming = confirmed(&client, &txids, start).await;
        assert!(started.elapsed() < DEADLINE, "the load test ran past its deadline");
        rows.push((name, n as f64 / accepting, n as f64 / confirming));
    }
    let peak = peak_memory_kib(pid);
    println!(
        "load: {n} transactions of each kind, {concurrency} requests in flight, dev blocks every second"
    );
    println!("| kind | accepted/s | confirmed/s |");
    println!("|---|---|---|");
    for (name, accepted, confirmed) in &rows {
        println!("| {name} | {accepted:.0} | {confirmed:.0} |");
    }
    println!("grants/transfers accepted ratio: {:.2}", rows[1].1 / rows[0].1);
    let mib =
        |kib: Option<u64>| kib.map_or("unknown".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    println!("node peak resident memory: {} (after start: {})", mib(peak), mib(memory_at_start));
}
