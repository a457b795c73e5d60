//! Policy modules without a chain: every admission rule, the standard modules' answers, each
//! hostile module's fault as its own verdict, determinism of floats and fuel, the exact fuel
//! each standard module spends, and the on-disk cache's refusal of artifacts it did not write.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a failing test stops loudly; these are its assertions"
)]

use crate::common::admission::*;
use medchain_modules::admission::admit;
use medchain_modules::{AccessRequest, EngineOptions, PolicyEngine};
use medchain_primitives::{Hash32, PubKey};
use medchain_vm::host::ModuleVerdict;
use medchain_vm::num::encode_num;

const FUEL: u64 = 1_000_000;

/// 2026-11-28 00:00 UTC.
const MIDNIGHT: u64 = 1_795_824_000;

fn rejection(code: &[u8]) -> &'static str {
    admit(code).err().map_or("ADMITTED", |e| e.code())
}

#[test]
fn every_admission_rule_refuses_with_its_own_code() {
    let engine = engine();
    for (name, code, expected) in admission_cases() {
        assert_eq!(rejection(&code), expected, "{name}");
        if expected == "ADMITTED" {
            assert!(engine.compile(&code).is_ok(), "{name}: admitted, so the engine compiles it");
        }
    }
}

fn engine() -> PolicyEngine {
    PolicyEngine::new(EngineOptions::default()).unwrap()
}

fn key(n: u8) -> PubKey {
    let secret = secp256k1::SecretKey::from_byte_array([n; 32]).unwrap();
    PubKey::from_secret(&secret)
}

/// A grant by `key(1)` for one record at height 100, 2026-11-28 09:30 UTC.
fn grant(purpose: u32, deposit: bool, args: &[i64]) -> AccessRequest {
    AccessRequest {
        grantee: Some(key(1)),
        records: vec![Hash32([7; 32])],
        purpose,
        height: 100,
        time: MIDNIGHT + 9 * 3600 + 1800,
        deposit,
        emergency: false,
        args: args.iter().map(|&n| encode_num(n)).collect(),
        key_roles: vec![(key(1), vec![2])],
    }
}

fn run(engine: &PolicyEngine, name: &str, request: AccessRequest, fuel: u64) -> (ModuleVerdict, u64) {
    let code = wasm(name);
    let evaluation = engine
        .evaluate(&Hash32::sha256(&code), &code, request, fuel)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (evaluation.verdict, evaluation.fuel)
}

#[test]
fn the_research_module_allows_listed_purposes_with_a_deposit() {
    let engine = engine();
    let verdict = |purpose, deposit, args: &[i64]| {
        run(&engine, "research_purpose", grant(purpose, deposit, args), FUEL).0
    };
    assert_eq!(verdict(21, true, &[21, 22]), ModuleVerdict::Allow);
    assert_eq!(verdict(22, true, &[21, 22]), ModuleVerdict::Allow);
    assert_eq!(verdict(23, true, &[21, 22]), ModuleVerdict::Deny(2));
    assert_eq!(verdict(21, false, &[21, 22]), ModuleVerdict::Deny(1));
    assert_eq!(verdict(21, true, &[]), ModuleVerdict::Deny(2));
}

#[test]
fn the_institution_hours_module_reads_the_hour_from_block_time() {
    let engine = engine();
    let at = |hour: u64, args: &[i64], emergency: bool| {
        let mut request = grant(0, false, args);
        request.time = MIDNIGHT + hour * 3600 + 59;
        request.emergency = emergency;
        run(&engine, "institution_hours", request, FUEL).0
    };
    assert_eq!(at(9, &[7, 19], true), ModuleVerdict::Allow);
    assert_eq!(at(7, &[7, 19], true), ModuleVerdict::Allow);
    assert_eq!(at(19, &[7, 19], true), ModuleVerdict::Deny(2));
    assert_eq!(at(3, &[7, 19], true), ModuleVerdict::Deny(2));
    assert_eq!(at(3, &[22, 6], true), ModuleVerdict::Allow, "night shift");
    assert_eq!(at(12, &[22, 6], true), ModuleVerdict::Deny(2), "night shift");
    assert_eq!(at(12, &[0, 0], true), ModuleVerdict::Allow, "around the clock");
    assert_eq!(at(9, &[7, 19], false), ModuleVerdict::Deny(1));
    assert_eq!(at(9, &[7], true), ModuleVerdict::Deny(3));
    assert_eq!(at(9, &[7, 24], true), ModuleVerdict::Deny(3));
}

#[test]
fn each_hostile_module_ends_in_its_own_verdict() {
    for options in [EngineOptions { pooling: true }, EngineOptions { pooling: false }] {
        let engine = PolicyEngine::new(options).unwrap();
        let request = grant(0, false, &[]);
        assert_eq!(
            run(&engine, "infinite_loop", request.clone(), FUEL),
            (ModuleVerdict::OutOfFuel, FUEL),
            "an infinite loop burns exactly its budget"
        );
        assert_eq!(run(&engine, "memory_bomb", request.clone(), 50_000_000).0, ModuleVerdict::MemoryLimit);
        assert_eq!(
            run(&engine, "deep_recursion", request.clone(), 50_000_000).0,
            ModuleVerdict::StackOverflow
        );
        assert_eq!(run(&engine, "deep_recursion", request, 1_000).0, ModuleVerdict::OutOfFuel);
    }
}

#[test]
fn floats_give_the_same_answer_and_fuel_on_every_run_and_engine() {
    let runs: Vec<(ModuleVerdict, u64)> = [EngineOptions { pooling: true }, EngineOptions { pooling: false }]
        .into_iter()
        .flat_map(|options| {
            let engine = PolicyEngine::new(options).unwrap();
            (0..3).map(move |_| run(&engine, "float_heavy", grant(0, false, &[]), FUEL)).collect::<Vec<_>>()
        })
        .collect();
    assert!(matches!(runs[0].0, ModuleVerdict::Deny(_)), "{runs:?}");
    assert!(runs.iter().all(|r| *r == runs[0]), "{runs:?}");
    insta::assert_snapshot!(format!("{:?}", runs[0]));
}

/// A module that calls every host function and checks each answer, denying with the number
/// of the first wrong one.
const EVERY_HOST_FUNCTION: &str = r#"
(module
  (import "medchain" "height" (func $height (result i64)))
  (import "medchain" "block_time" (func $block_time (result i64)))
  (import "medchain" "purpose" (func $purpose (result i64)))
  (import "medchain" "has_deposit" (func $has_deposit (result i32)))
  (import "medchain" "is_emergency" (func $is_emergency (result i32)))
  (import "medchain" "record_count" (func $record_count (result i32)))
  (import "medchain" "role_count" (func $role_count (result i32)))
  (import "medchain" "arg_count" (func $arg_count (result i32)))
  (import "medchain" "grantee" (func $grantee (param i32) (result i32)))
  (import "medchain" "record" (func $record (param i32 i32) (result i32)))
  (import "medchain" "role" (func $role (param i32) (result i64)))
  (import "medchain" "arg_len" (func $arg_len (param i32) (result i32)))
  (import "medchain" "arg_read" (func $arg_read (param i32 i32) (result i32)))
  (import "medchain" "arg_number" (func $arg_number (param i32) (result i64)))
  (import "medchain" "sha256" (func $sha256 (param i32 i32 i32)))
  (import "medchain" "verify_signature" (func $verify (param i32 i32 i32 i32) (result i32)))
  (import "medchain" "role_held" (func $role_held (param i32 i64) (result i32)))
  (memory (export "memory") 1)
  (global (export "medchain_abi_version") i32 (i32.const 1))
  (data (i32.const 0) "abc")
  (func (export "evaluate") (result i32)
    (if (i64.ne (call $height) (i64.const 100)) (then (return (i32.const 1))))
    (if (i64.le_s (call $block_time) (i64.const 0)) (then (return (i32.const 2))))
    (if (i64.ne (call $purpose) (i64.const 21)) (then (return (i32.const 3))))
    (if (i32.ne (call $has_deposit) (i32.const 1)) (then (return (i32.const 4))))
    (if (i32.ne (call $is_emergency) (i32.const 0)) (then (return (i32.const 5))))
    (if (i32.ne (call $record_count) (i32.const 1)) (then (return (i32.const 6))))
    (if (i32.ne (call $role_count) (i32.const 1)) (then (return (i32.const 7))))
    (if (i32.ne (call $arg_count) (i32.const 2)) (then (return (i32.const 8))))
    ;; grantee at 100 (33 bytes); its first byte is 02 or 03
    (if (i32.ne (call $grantee (i32.const 100)) (i32.const 0)) (then (return (i32.const 9))))
    (if (i32.lt_u (i32.load8_u (i32.const 100)) (i32.const 2)) (then (return (i32.const 10))))
    ;; record 0 at 200 is 32 bytes of 07; record 1 does not exist
    (if (i32.ne (call $record (i32.const 0) (i32.const 200)) (i32.const 0)) (then (return (i32.const 11))))
    (if (i32.ne (i32.load8_u (i32.const 231)) (i32.const 7)) (then (return (i32.const 12))))
    (if (i32.ne (call $record (i32.const 1) (i32.const 200)) (i32.const -1)) (then (return (i32.const 13))))
    (if (i64.ne (call $role (i32.const 0)) (i64.const 2)) (then (return (i32.const 14))))
    (if (i64.ne (call $role (i32.const 1)) (i64.const -1)) (then (return (i32.const 15))))
    ;; argument 0 is the number 21, argument 1 the grantee's key (33 bytes)
    (if (i32.ne (call $arg_len (i32.const 1)) (i32.const 33)) (then (return (i32.const 16))))
    (if (i32.ne (call $arg_read (i32.const 1) (i32.const 300)) (i32.const 33)) (then (return (i32.const 17))))
    (if (i64.ne (call $arg_number (i32.const 0)) (i64.const 21)) (then (return (i32.const 18))))
    (if (i64.ne (call $arg_number (i32.const 1)) (i64.const -9223372036854775808)) (then (return (i32.const 19))))
    ;; SHA-256("abc") starts with ba 78 16 bf
    (call $sha256 (i32.const 0) (i32.const 3) (i32.const 400))
    (if (i32.ne (i32.load (i32.const 400)) (i32.const 0xbf1678ba)) (then (return (i32.const 20))))
    ;; a signature that does not verify
    (if (i32.ne (call $verify (i32.const 400) (i32.const 300) (i32.const 0) (i32.const 8)) (i32.const 0))
      (then (return (i32.const 21))))
    ;; the grantee holds role 2, not role 3; an unknown key is -1
    (if (i32.ne (call $role_held (i32.const 300) (i64.const 2)) (i32.const 1)) (then (return (i32.const 22))))
    (if (i32.ne (call $role_held (i32.const 300) (i64.const 3)) (i32.const 0)) (then (return (i32.const 23))))
    (if (i32.ne (call $role_held (i32.const 200) (i64.const 2)) (i32.const -1)) (then (return (i32.const 24))))
    (i32.const 0)))
"#;

#[test]
fn every_host_function_answers_from_the_request() {
    let code = wat(EVERY_HOST_FUNCTION);
    assert_eq!(rejection(&code), "ADMITTED");
    let mut request = grant(21, true, &[21]);
    request.args.push(key(1).0.to_vec());
    let engine = engine();
    let evaluation = engine.evaluate(&Hash32::sha256(&code), &code, request, FUEL).unwrap();
    assert_eq!(evaluation.verdict, ModuleVerdict::Allow);
    assert!(evaluation.fuel > abi_price("verify_signature"), "host calls are charged: {}", evaluation.fuel);
}

fn abi_price(name: &str) -> u64 {
    medchain_modules::abi::host_function(name).map_or(0, |f| f.fuel)
}

#[test]
fn a_host_call_past_the_memory_or_the_fuel_is_a_deny() {
    let engine = engine();
    let out_of_bounds = wat(r#"(module (import "medchain" "grantee" (func $g (param i32) (result i32)))
        (memory (export "memory") 1) (global (export "medchain_abi_version") i32 (i32.const 1))
        (func (export "evaluate") (result i32) (call $g (i32.const 65520))))"#);
    let hash = Hash32::sha256(&out_of_bounds);
    let verdict = engine.evaluate(&hash, &out_of_bounds, grant(0, false, &[]), FUEL).map(|e| e.verdict);
    assert_eq!(verdict, Ok(ModuleVerdict::Trap));
    let expensive = wat(
        r#"(module (import "medchain" "verify_signature" (func $v (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1) (global (export "medchain_abi_version") i32 (i32.const 1))
        (func (export "evaluate") (result i32) (call $v (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8))))"#,
    );
    let evaluation =
        engine.evaluate(&Hash32::sha256(&expensive), &expensive, grant(0, false, &[]), 10_000).unwrap();
    assert_eq!(evaluation.verdict, ModuleVerdict::OutOfFuel);
    assert_eq!(evaluation.fuel, 10_000);
}

#[test]
fn the_fuel_each_standard_module_spends_is_pinned() {
    let engine = engine();
    let mut lines = Vec::new();
    let cases: [(&str, AccessRequest); 6] = [
        ("research_purpose", grant(21, true, &[21, 22])),
        ("research_purpose", grant(22, true, &[21, 22, 23, 24])),
        ("research_purpose", grant(99, true, &[21, 22, 23, 24])),
        ("research_purpose", grant(21, false, &[21])),
        ("institution_hours", AccessRequest { emergency: true, ..grant(0, false, &[7, 19]) }),
        ("institution_hours", AccessRequest { emergency: true, ..grant(0, false, &[22, 6]) }),
    ];
    for (name, request) in cases {
        let args: Vec<String> = request.args.iter().map(hex::encode).collect();
        let (verdict, fuel) = run(&engine, name, request.clone(), FUEL);
        lines.push(format!(
            "{name} purpose={} deposit={} args=[{}] -> {verdict:?}, fuel {fuel}",
            request.purpose,
            request.deposit,
            args.join(" ")
        ));
    }
    insta::assert_snapshot!(lines.join("\n"));
}

fn cached_engine(dir: &std::path::Path) -> PolicyEngine {
    let mut engine = engine();
    engine.set_disk_cache(dir).unwrap();
    engine
}

#[test]
fn the_disk_cache_loads_back_only_what_this_node_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let code = wasm("research_purpose");
    let hash = Hash32::sha256(&code);
    let first = cached_engine(dir.path());
    let expected = first.evaluate(&hash, &code, grant(21, true, &[21]), FUEL);
    let artifacts: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 1);
    assert_eq!(first.compilations(), 1);
    // A second engine loads the artifact instead of compiling.
    let second = cached_engine(dir.path());
    assert_eq!(second.evaluate(&hash, &code, grant(21, true, &[21]), FUEL), expected);
    assert_eq!(second.compilations(), 0, "loaded from disk");
    // A tampered artifact is not loaded: the module is compiled again and still answers.
    let mut bytes = std::fs::read(&artifacts[0]).unwrap_or_default();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&artifacts[0], &bytes).unwrap();
    let third = cached_engine(dir.path());
    assert_eq!(third.evaluate(&hash, &code, grant(21, true, &[21]), FUEL), expected);
    assert_eq!(third.compilations(), 1, "a tampered artifact is compiled again");
    assert_ne!(std::fs::read(&artifacts[0]).unwrap_or_default(), bytes, "the artifact was rewritten");
    // Another node's artifact (tagged under another key) is not loaded either.
    let other_node = tempfile::tempdir().unwrap();
    let fourth = cached_engine(other_node.path());
    std::fs::copy(&artifacts[0], other_node.path().join(artifacts[0].file_name().unwrap())).unwrap();
    assert_eq!(fourth.evaluate(&hash, &code, grant(21, true, &[21]), FUEL), expected);
    assert_eq!(fourth.compilations(), 1, "another node's artifact is compiled again");
    // Code that does not match its hash is refused, never run.
    let other = wasm("institution_hours");
    assert!(engine().evaluate(&hash, &other, grant(21, true, &[21]), FUEL).is_err());
}
