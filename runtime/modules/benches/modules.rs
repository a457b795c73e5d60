//! Policy modules: one access rule ("the grantee holds the physician role and the access
//! carries a key deposit for them") evaluated natively by the VM and as a cached wasm module
//! called through CALLMODULEVERIFY; and a module's instantiate + call with and without the
//! compiled-module cache and the pooling allocator, next to a bare ECDSA verification.
//!
//! Run: `cargo bench -p medchain-modules --bench modules`

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark's setup stops loudly when it fails"
)]
// criterion_group! generates an undocumented function.
#![expect(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group};
use medchain_compiler::asm::assemble;
use medchain_modules::{AccessRequest, CompiledModule, EngineOptions, PolicyEngine};
use medchain_primitives::{Hash32, PubKey};
use medchain_vm::host::{Host, ModuleVerdict};
use medchain_vm::{Flags, verify_script};
use secp256k1::{Message, SECP256K1, SecretKey};

/// The physician role's number.
const PHYSICIAN: u32 = 2;

/// The rule as a module: deny 1 without a deposit, 2 if the grantee is no physician.
const RULE_MODULE: &str = r#"
(module
  (import "medchain" "has_deposit" (func $has_deposit (result i32)))
  (import "medchain" "grantee" (func $grantee (param i32) (result i32)))
  (import "medchain" "role_held" (func $role_held (param i32 i64) (result i32)))
  (memory (export "memory") 1)
  (global (export "medchain_abi_version") i32 (i32.const 1))
  (func (export "evaluate") (result i32)
    (if (i32.eqz (call $has_deposit)) (then (return (i32.const 1))))
    (drop (call $grantee (i32.const 0)))
    (if (i32.ne (call $role_held (i32.const 0) (i64.const 2)) (i32.const 1)) (then (return (i32.const 2))))
    (i32.const 0)))
"#;

/// The smallest module: allows.
const ALLOW_MODULE: &str = r#"
(module
  (global (export "medchain_abi_version") i32 (i32.const 1))
  (func (export "evaluate") (result i32) (i32.const 0)))
"#;

const FUEL: u64 = 100_000;

/// A host answering from memory, as chain state would: the grantee's roles and deposit, and
/// module calls through a cached module.
struct RuleHost<'a> {
    grantee: PubKey,
    engine: &'a PolicyEngine,
    module: &'a CompiledModule,
}

impl Host for RuleHost<'_> {
    fn check_signature(&self, _sig: &[u8], _pubkey: &[u8], _script_code: &[u8]) -> bool {
        false
    }
    fn check_lock_time(&self, _lock_time: i64) -> bool {
        false
    }
    fn check_sequence(&self, _sequence: i64) -> bool {
        false
    }
    fn check_role(&self, pubkey: &[u8], role: i64) -> bool {
        pubkey == self.grantee.0.as_slice() && role == i64::from(PHYSICIAN)
    }
    fn check_key_deposit(&self, pubkey: &[u8]) -> bool {
        pubkey == self.grantee.0.as_slice()
    }
    fn call_module(&self, _module_hash: &[u8], args: &[Vec<u8>]) -> ModuleVerdict {
        let request = AccessRequest {
            grantee: Some(self.grantee),
            deposit: true,
            args: args.to_vec(),
            key_roles: vec![(self.grantee, vec![PHYSICIAN])],
            ..AccessRequest::default()
        };
        self.engine.run(self.module, request, FUEL).map_or(ModuleVerdict::Unavailable, |e| e.verdict)
    }
}

fn engine(pooling: bool) -> PolicyEngine {
    PolicyEngine::new(EngineOptions { pooling }).unwrap()
}

fn bench_rule(c: &mut Criterion) {
    let grantee = PubKey::from_secret(&SecretKey::from_byte_array([3; 32]).unwrap());
    let code = wat::parse_str(RULE_MODULE).unwrap();
    let hash = Hash32::sha256(&code);
    let engine = engine(true);
    let module = engine.prepare(&hash, &code).unwrap();
    let host = RuleHost { grantee, engine: &engine, module: &module };
    let key = hex::encode(grantee.0);
    let native =
        assemble(&format!("<{key}> CHECKDEPOSITVERIFY DROP <{key}> {PHYSICIAN} CHECKROLEVERIFY 2DROP 1"))
            .unwrap();
    let wasm = assemble(&format!("0 <{}> CALLMODULEVERIFY 2DROP 1", hash.to_hex())).unwrap();
    for script in [&native, &wasm] {
        assert_eq!(verify_script(&[], script, Flags::MEDCHAIN, &host), Ok(()));
    }
    let mut group = c.benchmark_group("policy_rule");
    group.bench_function("native_vm", |b| {
        b.iter(|| verify_script(black_box(&[]), black_box(&native), Flags::MEDCHAIN, &host))
    });
    group.bench_function("wasm_module_cached", |b| {
        b.iter(|| verify_script(black_box(&[]), black_box(&wasm), Flags::MEDCHAIN, &host))
    });
    group.finish();
}

fn bench_instantiation(c: &mut Criterion) {
    let code = wat::parse_str(ALLOW_MODULE).unwrap();
    let hash = Hash32::sha256(&code);
    let (pooled, on_demand) = (engine(true), engine(false));
    let request = AccessRequest::default();
    let mut group = c.benchmark_group("module_instantiation");
    group.bench_function("cached_pooling", |b| {
        b.iter(|| {
            let module = pooled.prepare(&hash, &code).unwrap();
            pooled.run(&module, request.clone(), FUEL).unwrap()
        })
    });
    group.bench_function("cached_on_demand", |b| {
        b.iter(|| {
            let module = on_demand.prepare(&hash, &code).unwrap();
            on_demand.run(&module, request.clone(), FUEL).unwrap()
        })
    });
    let rule = wat::parse_str(RULE_MODULE).unwrap();
    let rule_hash = Hash32::sha256(&rule);
    let grantee = PubKey::from_secret(&SecretKey::from_byte_array([3; 32]).unwrap());
    let rule_request = AccessRequest {
        grantee: Some(grantee),
        deposit: true,
        key_roles: vec![(grantee, vec![PHYSICIAN])],
        ..AccessRequest::default()
    };
    group.bench_function("cached_pooling_with_memory", |b| {
        b.iter(|| {
            let module = pooled.prepare(&rule_hash, &rule).unwrap();
            pooled.run(&module, rule_request.clone(), FUEL).unwrap()
        })
    });
    group.bench_function("cached_on_demand_with_memory", |b| {
        b.iter(|| {
            let module = on_demand.prepare(&rule_hash, &rule).unwrap();
            on_demand.run(&module, rule_request.clone(), FUEL).unwrap()
        })
    });
    group.bench_function("uncached_pooling", |b| {
        b.iter(|| {
            let module = pooled.compile(black_box(&code)).unwrap();
            pooled.run(&module, request.clone(), FUEL).unwrap()
        })
    });
    group.bench_function("uncached_on_demand", |b| {
        b.iter(|| {
            let module = on_demand.compile(black_box(&code)).unwrap();
            on_demand.run(&module, request.clone(), FUEL).unwrap()
        })
    });
    let secret = SecretKey::from_byte_array([9; 32]).unwrap();
    let message = Message::from_digest([7; 32]);
    let signature = SECP256K1.sign_ecdsa(message, &secret);
    let public = secret.public_key(SECP256K1);
    group.bench_function("bare_ecdsa_verify", |b| {
        b.iter(|| SECP256K1.verify_ecdsa(black_box(message), &signature, &public).is_ok())
    });
    group.finish();
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
    if let (Some(native), Some(wasm)) =
        (mean_ns("policy_rule", "native_vm"), mean_ns("policy_rule", "wasm_module_cached"))
    {
        println!(
            "policy rule: native VM {:.2} µs, cached wasm module {:.2} µs, wasm/native {:.1}",
            native / 1e3,
            wasm / 1e3,
            wasm / native
        );
    }
    let base = mean_ns("module_instantiation", "cached_pooling");
    for name in [
        "cached_pooling",
        "cached_on_demand",
        "cached_pooling_with_memory",
        "cached_on_demand_with_memory",
        "uncached_pooling",
        "uncached_on_demand",
        "bare_ecdsa_verify",
    ] {
        if let (Some(base), Some(this)) = (base, mean_ns("module_instantiation", name)) {
            println!("instantiate + call, {name}: {:.2} µs, {:.1}x cached_pooling", this / 1e3, this / base);
        }
    }
}

criterion_group!(benches, bench_rule, bench_instantiation);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report_ratios();
}
