//! Block validation with cold caches (every signature distinct): a block of 1,000 P2PKH
//! transfers and a block of 1,000 access grants, as transactions per second, next to a
//! ceiling measured in the same run: the same signatures verified bare on the same threads.
//!
//! Run: `cargo bench -p medchain-chain --bench block_validation`

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark's setup stops loudly when it fails"
)]
// criterion_group! generates an undocumented function.
#![expect(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use medchain_chain::block::Block;
use medchain_chain::genesis::Genesis;
use medchain_chain::standard::{pay_to_key, pay_to_key_hash, unlock_pay_to_key, unlock_pay_to_key_hash};
use medchain_chain::store::MemoryStore;
use medchain_chain::transaction::{OutPoint, Payload, RecordAccess, Transaction, TxIn, TxOut};
use medchain_chain::validate::{Chain, Tip};
use medchain_chain::verifier::Verifier;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, satisfy};
use medchain_compiler::medscript::types::Value;
use medchain_compiler::medscript::{check, compile, parse};
use medchain_primitives::Signer;
use medchain_primitives::ecies;
use medchain_primitives::{Hash32, Sig};
use secp256k1::ecdsa::Signature;
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};

const N: usize = 1_000;
const COIN: u64 = 1_000_000;

fn signer(i: usize, tag: u8) -> Signer {
    let mut bytes = [tag; 32];
    bytes[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    Signer::new(SecretKey::from_byte_array(bytes).unwrap())
}

/// A signature to verify: DER, key, digest.
type Triple = (Vec<u8>, Vec<u8>, [u8; 32]);

struct Setup {
    chain: Chain,
    store: MemoryStore,
    transfers: Block,
    grants: Block,
    transfer_sigs: Vec<Triple>,
    grant_sigs: Vec<Triple>,
}

fn setup() -> Setup {
    let patients: Vec<Signer> = (0..N).map(|i| signer(i, 1)).collect();
    // Fees for grants come from separate wallets, so no signature repeats within a block.
    let wallets: Vec<Signer> = (0..N).map(|i| signer(i, 5)).collect();
    let hospital = signer(0, 2);
    let producer = signer(0, 3);
    let researcher = signer(0, 4);
    let mut allocations = Vec::new();
    for (p, wallet) in patients.iter().zip(&wallets) {
        allocations.push(serde_json::json!({"lock": hex::encode(pay_to_key_hash(&p.key)), "value": COIN}));
        allocations.push(serde_json::json!({"lock": hex::encode(pay_to_key(&p.key)), "value": COIN}));
        allocations.push(serde_json::json!({"lock": hex::encode(pay_to_key(&wallet.key)), "value": COIN}));
    }
    for _ in 0..N {
        allocations.push(serde_json::json!({"lock": hex::encode(pay_to_key(&hospital.key)), "value": COIN}));
    }
    let genesis = serde_json::json!({
        "chain_name": "bench", "time": 1_767_225_600u64,
        "roles": {"medical_institution": 1, "research": 2},
        "governors": [producer.key.to_hex()], "producers": [producer.key.to_hex()],
        "block_reward": 0, "allocations": allocations,
        "initial_roles": [{"key": hospital.key.to_hex(), "role": "medical_institution"}],
    });
    let chain = Chain::new(Genesis::from_json(&genesis.to_string()).unwrap());
    let mut store = MemoryStore::default();
    store.apply(chain.genesis_changes());
    let verifier = Verifier::all_cores();
    let coin = |i: usize| OutPoint { txid: chain.chain_id, index: i as u32 };
    let input = |outpoint| TxIn { prevout: outpoint, unlock: Vec::new(), sequence: u32::MAX };
    let mut tip = Tip { height: 0, hash: chain.chain_id };
    let mut time = 1_767_225_600;
    let mut mine = |store: &mut MemoryStore, txs: Vec<Transaction>| -> Block {
        time += 600;
        let block = chain.build_block(store, &tip, time, &producer, &producer.key, txs);
        let applied = chain.validate_block(store, &block, &verifier).unwrap();
        store.apply(applied.changes);
        tip = applied.tip;
        block
    };

    // Releases by the hospital, then storages by each patient.
    let mut releases = Vec::new();
    for (i, p) in patients.iter().enumerate() {
        let mut tx = Transaction::new(
            vec![input(coin(3 * N + i))],
            vec![TxOut { value: COIN - 10, lock: pay_to_key(&hospital.key) }],
            Payload::Release {
                patient: p.key,
                institution: hospital.key,
                commitment: Hash32::sha256(&i.to_le_bytes()),
                signature: Sig::EMPTY,
            },
        );
        sign(&mut tx, &chain, &hospital, &hospital);
        releases.push(tx);
    }
    let release_ids: Vec<Hash32> = releases.iter().map(Transaction::txid).collect();
    mine(&mut store, releases);
    let (checked, _) = check(&parse("policy p(patient: pubkey, grantee: pubkey) { clause \"consent\" { sig(patient) and deposit(grantee) } }").unwrap(), &RoleRegistry::standard());
    let checked = checked.unwrap();
    let mut storages = Vec::new();
    let mut policies = Vec::new();
    for (i, p) in patients.iter().enumerate() {
        let args = [("patient", p.key), ("grantee", researcher.key)]
            .into_iter()
            .map(|(n, k)| (n.to_owned(), Value::PubKey(k.0)))
            .collect();
        let compiled = compile(&checked, &args).unwrap();
        let mut tx = Transaction::new(
            vec![input(coin(3 * i + 1))],
            vec![TxOut { value: COIN - 10, lock: pay_to_key(&p.key) }],
            Payload::Storage {
                release: release_ids[i],
                patient: p.key,
                ciphertext: Hash32::sha256(&release_ids[i].0),
                policy: compiled.script.clone(),
                emergency: None,
                signature: Sig::EMPTY,
            },
        );
        sign(&mut tx, &chain, p, p);
        storages.push(tx);
        policies.push(compiled);
    }
    let record_ids: Vec<Hash32> = storages.iter().map(Transaction::txid).collect();
    mine(&mut store, storages);

    // The measured blocks: transfers, and grants, each on this state.
    let mut transfers = Vec::new();
    let mut transfer_sigs = Vec::new();
    for (i, p) in patients.iter().enumerate() {
        let mut tx = Transaction::new(
            vec![input(coin(3 * i))],
            vec![TxOut { value: COIN - 10, lock: pay_to_key_hash(&p.key) }],
            Payload::Transfer,
        );
        let digest = tx.signing_digest(&chain.chain_id);
        tx.inputs[0].unlock = unlock_pay_to_key_hash(p, &digest);
        transfer_sigs.push(triple(p, &digest));
        transfers.push(tx);
    }
    let mut grants = Vec::new();
    let mut grant_sigs = Vec::new();
    let mut rng = rand::rng();
    for (i, p) in patients.iter().enumerate() {
        let deposit = ecies::seal(&researcher.key.key().unwrap(), &[7; 32], b"", &mut rng).unwrap();
        let access = RecordAccess { record: record_ids[i], unlock: Vec::new(), sequence: u32::MAX, deposit };
        let mut tx = Transaction::new(
            vec![input(coin(3 * i + 2))],
            vec![TxOut { value: COIN - 10, lock: pay_to_key(&p.key) }],
            Payload::AccessGrant { grantee: researcher.key, purpose: 7, records: vec![access] },
        );
        let digest = tx.signing_digest(&chain.chain_id);
        let holdings = Holdings {
            digest: digest.0,
            secret_keys: vec![p.secret],
            deposits: [researcher.key.0].into(),
            ..Holdings::default()
        };
        let witness = satisfy(&policies[i], &holdings).clauses[0].result.clone().unwrap();
        if let Payload::AccessGrant { records, .. } = &mut tx.payload {
            records[0].unlock = witness.script();
        }
        tx.inputs[0].unlock = unlock_pay_to_key(&wallets[i], &digest);
        grant_sigs.push(triple(&wallets[i], &digest));
        grant_sigs.push(triple(p, &digest));
        grants.push(tx);
    }
    let transfers = chain.build_block(&store, &tip, time + 600, &producer, &producer.key, transfers);
    let grants = chain.build_block(&store, &tip, time + 600, &producer, &producer.key, grants);
    Setup { chain, store, transfers, grants, transfer_sigs, grant_sigs }
}

fn sign(tx: &mut Transaction, chain: &Chain, payer: &Signer, author: &Signer) {
    let digest = tx.signing_digest(&chain.chain_id);
    match &mut tx.payload {
        Payload::Release { signature, .. } | Payload::Storage { signature, .. } => {
            *signature = author.sign(&digest)
        }
        _ => {}
    }
    tx.inputs[0].unlock = unlock_pay_to_key(payer, &digest);
}

fn triple(signer: &Signer, digest: &Hash32) -> Triple {
    let sig = SECP256K1.sign_ecdsa(Message::from_digest(digest.0), &signer.secret).serialize_der().to_vec();
    (sig, signer.key.0.to_vec(), digest.0)
}

/// Parses and verifies every signature on `threads` threads, statically partitioned as the
/// block's script checks are.
fn verify_bare(sigs: &[Triple], threads: usize) {
    std::thread::scope(|scope| {
        for worker in 0..threads {
            scope.spawn(move || {
                for (der, key, digest) in sigs.iter().skip(worker).step_by(threads) {
                    let key = PublicKey::from_slice(key).unwrap();
                    let sig = Signature::from_der(der).unwrap();
                    assert!(SECP256K1.verify_ecdsa(Message::from_digest(*digest), &sig, &key).is_ok());
                }
            });
        }
    });
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let threads = Verifier::all_cores().threads;
    let mut group = c.benchmark_group("block_validation");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for (name, block, sigs) in
        [("transfers", &s.transfers, &s.transfer_sigs), ("grants", &s.grants, &s.grant_sigs)]
    {
        group.bench_function(format!("{name}_validate"), |b| {
            b.iter(|| {
                let verifier = Verifier::new(threads);
                black_box(s.chain.validate_block(&s.store, block, &verifier).unwrap())
            })
        });
        group.bench_function(format!("{name}_ceiling"), |b| b.iter(|| verify_bare(black_box(sigs), threads)));
    }
    group.finish();
}

criterion_group!(benches, bench);

fn mean_ns(function: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"), Into::into);
    let path = target.join("criterion/block_validation").join(function).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    println!("\n== block validation, {} threads ==", Verifier::all_cores().threads);
    for name in ["transfers", "grants"] {
        if let (Some(validate), Some(ceiling)) =
            (mean_ns(&format!("{name}_validate")), mean_ns(&format!("{name}_ceiling")))
        {
            let tps = |ns: f64| N as f64 / (ns / 1e9);
            println!(
                "{name}: {:.0} tx/s validated, ceiling {:.0} tx/s (bare signature checks), ratio {:.2}",
                tps(validate),
                tps(ceiling),
                ceiling / validate
            );
        }
    }
}
