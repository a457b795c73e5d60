//! VM benchmarks, each beside its baseline in the same run:
//! - P2PKH verification through the VM vs a bare secp256k1 parse + verify of the same
//!   signature (the VM's overhead ratio);
//! - the signature-free legacy cases of Core's `script_tests.json` through the VM vs through
//!   libbitcoinconsensus, same transactions, flags reduced to the consensus ones.
//!
//! Run: `cargo bench -p medchain-tests --bench vm`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group};
use medchain_tests::{read_rows, script_tests, vectors_dir};
use medchain_vm::bitcoin::{
    Transaction, TransactionChecker, crediting_transaction, legacy_sighash, spending_transaction,
};
use medchain_vm::script::{instructions, push_bytes};
use medchain_vm::{Flags, Opcode, verify_script};
use secp256k1::ecdsa::Signature;
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};

struct P2pkh {
    script_sig: Vec<u8>,
    script_pubkey: Vec<u8>,
    tx: Transaction,
    der: Vec<u8>,
    pubkey: Vec<u8>,
    digest: [u8; 32],
}

fn p2pkh() -> P2pkh {
    use ripemd::Ripemd160;
    use sha2::{Digest, Sha256};
    let secret = SecretKey::from_byte_array([7; 32]).unwrap();
    let pubkey = PublicKey::from_secret_key(SECP256K1, &secret).serialize().to_vec();
    let hash = Ripemd160::digest(Sha256::digest(&pubkey));
    let script_pubkey = [vec![0x76, 0xa9], push_bytes(&hash), vec![0x88, 0xac]].concat();
    let unsigned = spending_transaction(&crediting_transaction(&script_pubkey, 0), &[], 0);
    let digest = legacy_sighash(&unsigned, 0, &script_pubkey, 1);
    let der = SECP256K1.sign_ecdsa(Message::from_digest(digest), &secret).serialize_der().to_vec();
    let script_sig = [push_bytes(&[der.clone(), vec![1]].concat()), push_bytes(&pubkey)].concat();
    let tx = spending_transaction(&crediting_transaction(&script_pubkey, 0), &script_sig, 0);
    P2pkh { script_sig, script_pubkey, tx, der, pubkey, digest }
}

fn bench_p2pkh(c: &mut Criterion) {
    let spend = p2pkh();
    let checker = TransactionChecker::new(&spend.tx, 0).unwrap();
    let mut group = c.benchmark_group("p2pkh");
    group.bench_function("bare_secp256k1", |b| {
        b.iter(|| {
            let key = PublicKey::from_slice(black_box(&spend.pubkey)).unwrap();
            let sig = Signature::from_der(black_box(&spend.der)).unwrap();
            let message = Message::from_digest(black_box(spend.digest));
            SECP256K1.verify_ecdsa(message, &sig, &key).unwrap();
        })
    });
    group.bench_function("vm_verify", |b| {
        b.iter(|| {
            verify_script(
                black_box(&spend.script_sig),
                black_box(&spend.script_pubkey),
                Flags::ALL_BITCOIN,
                &checker,
            )
            .unwrap()
        })
    });
    group.finish();
}

/// A signature-free legacy case: the spending transaction's bytes, the locking script and
/// the flags reduced to the consensus ones libbitcoinconsensus accepts.
struct Case {
    tx: Vec<u8>,
    script_pubkey: Vec<u8>,
    flags: Flags,
}

fn checks_signatures(script: &[u8]) -> bool {
    instructions(script).filter_map(Result::ok).any(|i| {
        matches!(
            i.opcode,
            Opcode::CHECKSIG | Opcode::CHECKSIGVERIFY | Opcode::CHECKMULTISIG | Opcode::CHECKMULTISIGVERIFY
        )
    })
}

fn signature_free_cases(dir: &Path) -> Vec<Case> {
    let rows = read_rows(dir, "script_tests.json").unwrap();
    let (tests, _) = script_tests(&rows).unwrap();
    tests
        .into_iter()
        .filter(|t| !checks_signatures(&t.script_sig) && !checks_signatures(&t.script_pubkey))
        .map(|t| {
            let crediting = crediting_transaction(&t.script_pubkey, 0);
            let tx = spending_transaction(&crediting, &t.script_sig, 0).encode();
            let flags = t.flags.intersection(Flags::CONSENSUS);
            Case { tx, script_pubkey: t.script_pubkey, flags }
        })
        .collect()
}

fn ours(case: &Case) -> bool {
    let Ok(tx) = Transaction::decode(&case.tx) else { return false };
    let Ok(checker) = TransactionChecker::new(&tx, 0) else { return false };
    let script_sig = tx.inputs.first().map(|i| i.script_sig.as_slice()).unwrap_or_default();
    verify_script(script_sig, &case.script_pubkey, case.flags, &checker).is_ok()
}

fn core(case: &Case) -> bool {
    bitcoinconsensus::verify_with_flags(&case.script_pubkey, 0, &case.tx, None, 0, case.flags.bits()).is_ok()
}

fn bench_signature_free(c: &mut Criterion) {
    let dir = match vectors_dir() {
        Ok(dir) => dir,
        Err(message) => panic!("signature_free_legacy: {message}"),
    };
    let cases = signature_free_cases(&dir);
    let disagreements = cases.iter().filter(|case| ours(case) != core(case)).count();
    assert_eq!(disagreements, 0, "the VM and libbitcoinconsensus disagree on {disagreements} cases");
    println!("signature_free_legacy: {} cases, all verdicts agree with libbitcoinconsensus", cases.len());
    let mut group = c.benchmark_group("signature_free_legacy");
    group.bench_function("medchain_vm", |b| {
        b.iter(|| cases.iter().filter(|case| ours(black_box(case))).count())
    });
    group.bench_function("libbitcoinconsensus", |b| {
        b.iter(|| cases.iter().filter(|case| core(black_box(case))).count())
    });
    group.finish();
    CASES.with(|n| n.set(cases.len()));
}

thread_local! {
    static CASES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Mean time in nanoseconds of one benchmark, from criterion's estimates of this run.
fn mean_ns(group: &str, function: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"), Into::into);
    let path = target.join("criterion").join(group).join(function).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn report_ratios() {
    println!("\n== ratios (this run) ==");
    if let (Some(vm), Some(bare)) = (mean_ns("p2pkh", "vm_verify"), mean_ns("p2pkh", "bare_secp256k1")) {
        println!(
            "p2pkh: vm {:.2} µs, bare secp256k1 {:.2} µs, overhead ratio {:.3}",
            vm / 1e3,
            bare / 1e3,
            vm / bare
        );
    }
    let cases = CASES.with(std::cell::Cell::get);
    if let (Some(ours), Some(core)) = (
        mean_ns("signature_free_legacy", "medchain_vm"),
        mean_ns("signature_free_legacy", "libbitcoinconsensus"),
    ) {
        let per = |ns: f64| ns / cases.max(1) as f64;
        println!(
            "signature-free legacy ({cases} cases): vm {:.0} ns/case, libbitcoinconsensus {:.0} ns/case, speedup {:.2}x",
            per(ours),
            per(core),
            core / ours
        );
    }
}

criterion_group!(benches, bench_p2pkh, bench_signature_free);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report_ratios();
}
