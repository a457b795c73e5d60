//! The satisfier against the VM: each clause's unlocking script verifies under MedChain's
//! flags, a party missing something is told what, and every removed or changed item fails.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a failing test stops loudly; these are its assertions"
)]

use std::collections::BTreeMap;

use medchain_compiler::medscript::model::Arguments;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, Witness, satisfy};
use medchain_compiler::medscript::types::Value;
use medchain_compiler::medscript::{Compiled, check, compile, parse};
use medchain_vm::{AccessHost, Flags, verify_script};
use secp256k1::{PublicKey, SECP256K1, SecretKey};

fn secret(n: u8) -> SecretKey {
    SecretKey::from_byte_array([n; 32]).expect("valid key")
}

fn public(n: u8) -> [u8; 33] {
    PublicKey::from_secret_key(SECP256K1, &secret(n)).serialize()
}

fn compile_source(source: &str, args: Arguments) -> Compiled {
    let ast = parse(source).expect("parses");
    let (checked, diagnostics) = check(&ast, &RoleRegistry::standard());
    let checked = checked.unwrap_or_else(|| panic!("checks: {diagnostics:?}"));
    compile(&checked, &args).expect("compiles")
}

/// The host a validator would build for an access that meets `witness`'s requirements.
fn host_for(holdings: &Holdings, witness: &Witness) -> AccessHost {
    witness.access_host(holdings)
}

const POLICY: &str = r#"
policy record(patient: pubkey, g1: pubkey, g2: pubkey, g3: pubkey, start: height, end: height) {
    clause "patient consents" { sig(patient) }
    clause "guardians agree" { multi(2, g1, g2, g3) and after(start) and before(end) }
    clause "emergency" { role_sig(medical_institution) and emergency(144 blocks) }
}
"#;

fn args() -> Arguments {
    let mut args = BTreeMap::new();
    for (name, n) in [("patient", 1), ("g1", 2), ("g2", 3), ("g3", 4)] {
        args.insert(name.to_owned(), Value::PubKey(public(n)));
    }
    args.insert("start".into(), Value::Height(100));
    args.insert("end".into(), Value::Height(200));
    args
}

fn verifies(compiled: &Compiled, holdings: &Holdings, witness: &Witness) -> Result<(), &'static str> {
    verify_script(&witness.script(), &compiled.script, Flags::MEDCHAIN, &host_for(holdings, witness))
        .map_err(|e| e.name())
}

#[test]
fn each_clause_unlocks_for_the_right_party() {
    let compiled = compile_source(POLICY, args());
    let patient = Holdings { digest: [9; 32], secret_keys: vec![secret(1)], ..Holdings::default() };
    let plan = satisfy(&compiled, &patient);
    let (clause, witness) = plan.best().expect("the patient can sign");
    assert_eq!(clause.label, "patient consents");
    assert_eq!(verifies(&compiled, &patient, witness), Ok(()));

    let guardians = Holdings {
        digest: [9; 32],
        secret_keys: vec![secret(2), secret(4)],
        height: Some(150),
        ..Holdings::default()
    };
    let plan = satisfy(&compiled, &guardians);
    let (clause, witness) = plan.best().expect("two guardians in the window");
    assert_eq!(clause.label, "guardians agree");
    assert_eq!(verifies(&compiled, &guardians, witness), Ok(()));

    let hospital = Holdings {
        digest: [9; 32],
        secret_keys: vec![secret(7)],
        roles: [(public(7), [1].into())].into(),
        emergency_expires_in: Some(100),
        ..Holdings::default()
    };
    let plan = satisfy(&compiled, &hospital);
    let (clause, witness) = plan.best().expect("a hospital in an emergency");
    assert_eq!(clause.label, "emergency");
    assert_eq!(verifies(&compiled, &hospital, witness), Ok(()));
}

#[test]
fn says_what_is_missing() {
    let compiled = compile_source(POLICY, args());
    let one_guardian =
        Holdings { digest: [9; 32], secret_keys: vec![secret(3)], height: Some(50), ..Holdings::default() };
    let plan = satisfy(&compiled, &one_guardian);
    assert!(plan.best().is_none());
    let reasons: Vec<String> =
        plan.clauses.iter().map(|c| c.result.clone().unwrap_err().to_string()).collect();
    assert_eq!(reasons[0], "a signature from `patient`");
    assert_eq!(reasons[1], "1 more signature from `g1` or `g3`, and to wait until height 100");
    assert_eq!(
        reasons[2],
        "a signature by a key holding the role `medical_institution`, and an emergency access with a justification"
    );
}

#[test]
fn every_removed_or_changed_item_fails() {
    let compiled = compile_source(POLICY, args());
    let holders = [
        Holdings { digest: [9; 32], secret_keys: vec![secret(1)], ..Holdings::default() },
        Holdings {
            digest: [9; 32],
            secret_keys: vec![secret(2), secret(3)],
            height: Some(150),
            ..Holdings::default()
        },
        Holdings {
            digest: [9; 32],
            secret_keys: vec![secret(7)],
            roles: [(public(7), [1].into())].into(),
            emergency_expires_in: Some(100),
            ..Holdings::default()
        },
    ];
    for holdings in &holders {
        let plan = satisfy(&compiled, holdings);
        let (_, witness) = plan.best().expect("satisfiable");
        for i in 0..witness.items.len() {
            let mut removed = witness.clone();
            removed.items.remove(i);
            assert!(verifies(&compiled, holdings, &removed).is_err(), "removing item {i} still verifies");
            let mut changed = witness.clone();
            changed.items[i] = if changed.items[i].is_empty() {
                vec![1]
            } else {
                changed.items[i].iter().map(|b| b ^ 1).collect()
            };
            assert!(verifies(&compiled, holdings, &changed).is_err(), "changing item {i} still verifies");
        }
    }
}
