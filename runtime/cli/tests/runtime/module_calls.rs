//! Policy modules on the chain and on a running node: deployment and its admission rules, an
//! access granted or refused by a module's answer, fuel paid for in the fee, and hostile
//! modules that end in a deny with their own reason while the node keeps serving.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a failing test stops loudly; these are its assertions"
)]

use crate::common::admission::*;
use crate::common::process::*;
use crate::common::*;
use medchain_chain::limits::{MAX_FUEL, MIN_FEE_PER_KB, MIN_RELAY_FEE_PER_KB, fuel_fee, size_fee};
use medchain_chain::standard::pay_to_key;
use medchain_chain::state::StateRead;
use medchain_chain::transaction::{Payload, RecordAccess, Transaction, TxIn, TxOut};
use medchain_chain::validate::TxError;
use medchain_compiler::medscript::Compiled;
use medchain_compiler::medscript::satisfy::{Holdings, satisfy};
use medchain_compiler::medscript::types::Value;
use medchain_modules::abi::{MODULE_CALL_FUEL, MODULE_CODE_FUEL_PER_BYTE, module_call_fuel};
use medchain_modules::{AccessRequest, EngineOptions, PolicyEngine};
use medchain_node::MAX_RELAY_FUEL;
use medchain_primitives::Signer;
use medchain_primitives::codec::Encode;
use medchain_primitives::{Hash32, Sig};
use medchain_vm::ScriptError;
use medchain_vm::num::encode_num;
use medchain_wallet::builder::sign_inputs;
use medchain_wallet::deposit::seal_justification;
use serde_json::{Value as Json, json};

/// The purpose the records here approve for research.
const APPROVED_PURPOSE: u32 = 21;

/// Break-glass by a registered institution, only while the module says it is staffed.
const STAFFED_EMERGENCY: &str = r#"
policy staffed(patient: pubkey, hours: module) {
    clause "patient" {
        sig(patient)
    }
    clause "staffed emergency" {
        role_sig(medical_institution) and emergency(144 blocks) and module(hours, 7, 19)
    }
}
"#;

/// The standard `approved_research` policy for the patient, calling `module` for purpose 21.
fn approved_research(w: &World, module: Hash32) -> Compiled {
    compile_policy(
        medchain_contracts::standard("approved_research").unwrap().source,
        vec![
            ("patient", Value::PubKey(w.p.patient.key.0)),
            ("rule", Value::Module(module.0)),
            ("purpose", Value::Number(i64::from(APPROVED_PURPOSE))),
        ],
    )
}

/// The staffed-emergency policy for the patient, calling `module` for hours 7 to 19.
fn staffed_emergency_policy(w: &World, module: Hash32) -> Compiled {
    compile_policy(
        STAFFED_EMERGENCY,
        vec![("patient", Value::PubKey(w.p.patient.key.0)), ("hours", Value::Module(module.0))],
    )
}

/// Fuel every grant here declares: enough for any standard module, paid by the test fee.
const FUEL: u64 = 200_000;

/// Fuel for calls to hostile modules: about the most the test fee pays for (one input, one
/// record), beside the relay fee for a grant's size (under 1 KB: 200).
const HOSTILE_FUEL: u64 = (FEE - 200) * 1_000 / 2;

/// A deployment of `code` whose fee coin stays the hospital's: for one the node refuses.
fn unsent_deployment(w: &mut World, code: Vec<u8>) -> Transaction {
    let tx = deploy(w, code);
    let coin = (tx.inputs[0].prevout, tx.outputs[0].value + FEE);
    w.coins.get_mut(&w.p.hospital.key).unwrap().push(coin);
    tx
}

/// Deploys `code` (mined), then stores a record under the policy `policy` makes for its hash.
/// Returns the record and its compiled policy.
fn record_calling(
    w: &mut World,
    policy: fn(&World, Hash32) -> Compiled,
    code: Vec<u8>,
) -> (Hash32, Compiled) {
    let hash = Hash32::sha256(&code);
    let tx = deploy(w, code);
    w.mine(vec![tx]);
    let compiled = policy(w, hash);
    let record = store_record(w, &compiled.script, None);
    (record, compiled)
}

fn policy_error(error: TxError) -> ScriptError {
    match error {
        TxError::Policy { error, .. } => error,
        other => panic!("expected a policy refusal, got {other:?}"),
    }
}

#[test]
fn a_grant_passes_or_fails_by_the_module_answer() {
    let mut w = World::new();
    let (record, compiled) = record_calling(&mut w, approved_research, wasm("research_purpose"));

    let wrong_purpose = fueled_grant(&mut w, record, &compiled, (7, FUEL, true));
    assert_eq!(policy_error(w.refuse(wrong_purpose)), ScriptError::ModuleDenied(2));
    let no_deposit = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, FUEL, false));
    assert_eq!(policy_error(w.refuse(no_deposit)), ScriptError::ModuleDenied(1));
    let no_fuel = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, 0, true));
    assert_eq!(policy_error(w.refuse(no_fuel)), ScriptError::ModuleOutOfFuel);

    let allowed = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, FUEL, true));
    let id = allowed.txid();
    w.mine(vec![allowed]);
    assert!(w.store.grant(&id).unwrap().is_some(), "the grant is on chain");
}

#[test]
fn a_call_costs_its_fixed_price_and_the_fuel_the_module_burns() {
    let mut w = World::new();
    let code = wasm("research_purpose");
    let (record, compiled) = record_calling(&mut w, approved_research, code.clone());
    // What the module itself burns on this grant, measured on a bare engine.
    let engine = PolicyEngine::new(EngineOptions::default()).unwrap();
    let request = AccessRequest {
        purpose: APPROVED_PURPOSE,
        deposit: true,
        args: vec![encode_num(i64::from(APPROVED_PURPOSE))],
        ..AccessRequest::default()
    };
    let burned = engine.evaluate(&Hash32::sha256(&code), &code, request, FUEL).unwrap().fuel;
    // The call's price: the fixed part and the code's size, charged on every call.
    let price = module_call_fuel(code.len());
    assert_eq!(price, MODULE_CALL_FUEL + MODULE_CODE_FUEL_PER_BYTE * code.len() as u64);
    // Fuel covering the call but leaving the module none (wasmtime checks fuel at function
    // entries and loop heads, so the boundary inside a module is not per instruction).
    for short in [MODULE_CALL_FUEL - 1, MODULE_CALL_FUEL, price - 1, price] {
        let tx = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, short, true));
        assert_eq!(policy_error(w.refuse(tx)), ScriptError::ModuleOutOfFuel, "{short} fuel");
    }
    let enough = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, price + burned, true));
    w.mine(vec![enough]);
}

#[test]
fn fuel_is_declared_bounded_and_paid_for() {
    let mut w = World::new();
    let (record, compiled) = record_calling(&mut w, approved_research, wasm("research_purpose"));
    // One input and one record: two checks, each may burn the whole budget. The fee pays for
    // the fuel besides the size (a grant this size is under 1 KB).
    let for_size = size_fee(1_000, MIN_FEE_PER_KB);
    let affordable = (FEE - for_size) * 1_000 / 2;
    assert_eq!(fuel_fee(affordable, 2), FEE - for_size);
    let unpaid = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, FEE * 1_000 / 2, true));
    let size = size_fee(unpaid.to_bytes().len(), MIN_FEE_PER_KB);
    assert_eq!(w.refuse(unpaid), TxError::FuelUnpaid { fee: FEE, needed: size + FEE });
    let too_much = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, MAX_FUEL + 1, true));
    assert_eq!(w.refuse(too_much), TxError::FuelTooLarge(MAX_FUEL + 1));
    let paid = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, affordable, true));
    w.mine(vec![paid]);
}

#[test]
fn deployment_stores_code_once_and_calls_see_it_from_the_next_block() {
    let mut w = World::new();
    let code = wasm("research_purpose");
    let hash = Hash32::sha256(&code);
    let compiled = approved_research(&w, hash);
    let record = store_record(&mut w, &compiled.script, None);

    let before_deployment = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, FUEL, true));
    assert_eq!(policy_error(w.refuse(before_deployment)), ScriptError::ModuleNotFound);
    let deployment = deploy(&mut w, code.clone());
    let same_block = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, FUEL, true));
    let block = w.block(vec![deployment, same_block]);
    w.time -= 600;
    let refused = verdict(w.chain.validate_block(&w.store, &block, &w.verifier));
    assert!(
        matches!(
            &refused,
            Err(medchain_chain::validate::BlockError::Transaction {
                index: 2,
                error: TxError::Policy { error: ScriptError::ModuleNotFound, .. },
                ..
            })
        ),
        "{refused:?}"
    );
    let deployment = deploy(&mut w, code.clone());
    w.mine(vec![deployment]);
    assert_eq!(w.store.module(&hash).unwrap(), Some(code.clone()));
    let again = deploy(&mut w, code);
    assert_eq!(w.refuse(again), TxError::ModuleExists(hash));
    let allowed = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, FUEL, true));
    w.mine(vec![allowed]);
}

/// An emergency access by the hospital (a registered institution) through the policy's
/// second clause, declaring `FUEL`.
fn staffed_emergency(w: &mut World, record: Hash32, compiled: &Compiled) -> Transaction {
    let hospital: Signer = w.p.hospital.clone();
    let access = RecordAccess { record, unlock: Vec::new(), sequence: u32::MAX, deposit: Vec::new() };
    let payload = Payload::EmergencyAccess {
        requester: hospital.key,
        justification: seal_justification(
            "unconscious patient in the emergency room",
            (&hospital.key, &[record]),
            &[w.p.patient.key],
            &mut rand::rng(),
        )
        .unwrap(),
        records: vec![access],
        signature: Sig::EMPTY,
    };
    let expiry = w.tip.height + 10;
    let mut tx = w.tx(&hospital, payload, expiry, None);
    tx.fuel = FUEL;
    let digest = tx.signing_digest(&w.chain.chain_id);
    let holdings = Holdings {
        digest: digest.0,
        secret_keys: vec![hospital.secret],
        roles: [(hospital.key.0, [1].into())].into(),
        emergency_expires_in: Some(1),
        ..Holdings::default()
    };
    let witness = satisfy(compiled, &holdings).clauses[1].result.clone().unwrap_or_else(|n| panic!("{n}"));
    tx.payload.record_accesses_mut()[0].unlock = witness.script();
    tx.payload.set_signature(hospital.sign(&digest));
    sign_inputs(&mut tx, &w.chain.chain_id, &[&hospital]);
    tx
}

#[test]
fn break_glass_follows_the_institution_hours_read_from_block_time() {
    let mut w = World::new();
    let (record, compiled) = record_calling(&mut w, staffed_emergency_policy, wasm("institution_hours"));
    let day = w.time - w.time % 86_400 + 86_400;
    // Blocks are 600 s apart: the next block's time is `w.time + 600`.
    w.time = day + 3 * 3600 - 600;
    let at_night = staffed_emergency(&mut w, record, &compiled);
    assert_eq!(policy_error(w.refuse(at_night)), ScriptError::ModuleDenied(2));
    w.time = day + 9 * 3600 - 600;
    let in_the_morning = staffed_emergency(&mut w, record, &compiled);
    w.mine(vec![in_the_morning]);
}

/// The error a node gives a submitted transaction: (HTTP status, code, script error, reason).
async fn submit(
    client: &reqwest::Client,
    base: &str,
    tx: &Transaction,
) -> (u16, String, String, Option<u64>) {
    let response = client
        .post(format!("{base}/v1/transactions"))
        .json(&json!({ "tx": hex::encode(tx.to_bytes()) }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Json = response.json().await.unwrap_or(Json::Null);
    let error = &body["error"];
    let text = |field: &str| error[field].as_str().unwrap_or_default().to_owned();
    (status, text("code"), text("script_error"), error["module_reason"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_bad_modules_and_survives_hostile_ones() {
    let mut w = World::new();
    let node = start(&w.genesis_json, None).await;
    let client = reqwest::Client::new();
    let base = node.base.clone();
    let mut sent = 0;

    // Admission: each refused deployment gets its reason; the node's state does not move.
    let before = status(&client, &base).await;
    for (name, code, expected) in admission_cases() {
        if expected == "ADMITTED" {
            continue;
        }
        let tx = unsent_deployment(&mut w, code);
        let (got, refusal, ..) = submit(&client, &base, &tx).await;
        assert_eq!((got, refusal.as_str()), (400, expected), "{name}");
    }
    assert_eq!(status(&client, &base).await, before, "no refused deployment changed the state");
    // A paid, valid transfer from three coins declaring fuel past the relay limit in all.
    let researcher = w.p.researcher.clone();
    let coins: Vec<_> = (0..3).map(|_| w.coins.get_mut(&researcher.key).unwrap().pop().unwrap()).collect();
    let fuel = MAX_RELAY_FUEL / 3 + 1;
    // The fuel's fee, and the relay fee for the size besides (a transfer this size is under 1 KB).
    let fee = fuel_fee(fuel, 3) + size_fee(1_000, MIN_RELAY_FEE_PER_KB);
    let total: u64 = coins.iter().map(|c| c.1).sum();
    let mut greedy = Transaction::new(
        coins.iter().map(|c| TxIn { prevout: c.0, unlock: Vec::new(), sequence: u32::MAX }).collect(),
        vec![TxOut { value: total - fee, lock: pay_to_key(&researcher.key) }],
        Payload::Transfer,
    );
    greedy.fuel = fuel;
    sign_inputs(&mut greedy, &w.chain.chain_id, &[&researcher, &researcher, &researcher]);
    let (got, refusal, ..) = submit(&client, &base, &greedy).await;
    assert_eq!((got, refusal.as_str()), (400, "FUEL_OVER_RELAY_LIMIT"), "paid and valid, but not relayed");
    w.mine(vec![greedy]);

    // Hostile modules deploy (they are valid wasm) and each call ends in its own deny.
    let hostile = [
        ("infinite_loop", "MODULE_OUT_OF_FUEL"),
        ("memory_bomb", "MODULE_MEMORY_LIMIT"),
        ("deep_recursion", "MODULE_STACK_OVERFLOW"),
        ("float_heavy", "MODULE_DENIED"),
    ];
    let mut calls = Vec::new();
    for (name, expected) in hostile {
        let (record, compiled) = record_calling(&mut w, approved_research, wasm(name));
        calls.push((name, record, compiled, expected));
    }
    sync(&client, &base, &w, &mut sent).await;
    let before = status(&client, &base).await;
    let mut float_reasons = Vec::new();
    for (name, record, compiled, expected) in &calls {
        // Each call twice: the verdict does not depend on the run (or on a warm cache).
        let tx = fueled_grant(&mut w, *record, compiled, (APPROVED_PURPOSE, HOSTILE_FUEL, true));
        for _ in 0..2 {
            let (got, code, script_error, reason) = submit(&client, &base, &tx).await;
            assert_eq!(
                (got, code.as_str(), script_error.as_str()),
                (400, "POLICY_REFUSED", *expected),
                "{name}"
            );
            if *name == "float_heavy" {
                float_reasons.push(reason.unwrap());
            }
        }
    }
    assert_eq!(float_reasons.len(), 2);
    assert_eq!(float_reasons[0], float_reasons[1], "the float module answers the same every time");
    assert_eq!(status(&client, &base).await, before, "no hostile call changed the state");

    // The node still serves, and a well-behaved module's grant goes through it.
    let (record, compiled) = record_calling(&mut w, approved_research, wasm("research_purpose"));
    sync(&client, &base, &w, &mut sent).await;
    let refused = fueled_grant(&mut w, record, &compiled, (7, FUEL, true));
    assert_eq!(
        submit(&client, &base, &refused).await,
        (400, "POLICY_REFUSED".into(), "MODULE_DENIED".into(), Some(2)),
        "the node reports the module's reason"
    );
    let allowed = fueled_grant(&mut w, record, &compiled, (APPROVED_PURPOSE, FUEL, true));
    let (got, ..) = submit(&client, &base, &allowed).await;
    assert_eq!(got, 202, "a grant the module allows is accepted");

    // Deployed code is served by its hash; an unknown hash is not found.
    let research = wasm("research_purpose");
    let hash = Hash32::sha256(&research).to_hex();
    let served: Json =
        client.get(format!("{base}/v1/modules/{hash}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(served["code"], hex::encode(&research));
    let unknown = client.get(format!("{base}/v1/modules/{}", "00".repeat(32)));
    assert_eq!(code(unknown).await, (404, "NOT_FOUND".to_owned()));
}
