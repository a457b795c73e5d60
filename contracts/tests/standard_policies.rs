//! Every standard policy compiled and run through the VM under MedChain's flags: each valid
//! unlocking passes, and each wrong one fails with the error that names what is wrong.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a failing test stops loudly; these are its assertions"
)]

use std::collections::BTreeMap;

use medchain_compiler::listing;
use medchain_compiler::medscript::codegen::placeholder_arguments;
use medchain_compiler::medscript::model::{Arguments, Cond};
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, Witness, max_unlocking_size, satisfy};
use medchain_compiler::medscript::types::{Duration, Value};
use medchain_compiler::medscript::{Compiled, compile, explain, format};
use medchain_contracts::{STANDARD_POLICIES, standard};
use medchain_vm::host::{Host, ModuleVerdict};
use medchain_vm::{AccessHost, Flags, verify_script};
use secp256k1::{PublicKey, SECP256K1, SecretKey};

const DIGEST: [u8; 32] = [0x5a; 32];
const MEDICAL_INSTITUTION: u32 = 1;
const RESEARCH: u32 = 2;
const INSURER: u32 = 3;

fn secret(n: u8) -> SecretKey {
    SecretKey::from_byte_array([n; 32]).unwrap()
}

fn key(n: u8) -> [u8; 33] {
    PublicKey::from_secret_key(SECP256K1, &secret(n)).serialize()
}

fn compile_standard(name: &str, args: &[(&str, Value)]) -> Compiled {
    let policy = standard(name).unwrap().checked(&RoleRegistry::standard()).unwrap();
    let args: Arguments = args.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    compile(&policy, &args).unwrap()
}

fn holder(keys: &[u8]) -> Holdings {
    Holdings { digest: DIGEST, secret_keys: keys.iter().map(|&n| secret(n)).collect(), ..Holdings::default() }
}

/// The witness for the clause with this label; panics with what is missing otherwise.
fn unlock(compiled: &Compiled, holdings: &Holdings, label: &str) -> Witness {
    let plan = satisfy(compiled, holdings);
    let clause = plan.clauses.iter().find(|c| c.label == label).unwrap();
    clause.result.clone().unwrap_or_else(|need| panic!("clause \"{label}\" needs {need}"))
}

/// The host a validator builds for an access meeting the witness's requirements, with the
/// party's roles, deposits and emergency marking as chain state.
/// The host for an access over `DIGEST`, whatever digest `holdings` signed.
fn host(holdings: &Holdings, witness: &Witness) -> AccessHost {
    witness.access_host(&Holdings { digest: DIGEST, ..holdings.clone() })
}

fn run(compiled: &Compiled, witness: &Witness, host: &AccessHost) -> Result<(), &'static str> {
    verify_script(&witness.script(), &compiled.script, Flags::MEDCHAIN, host).map_err(|e| e.name())
}

/// A witness whose signatures are made by `signer` instead.
fn signed_by(compiled: &Compiled, holdings: &Holdings, label: &str, signer: u8) -> Witness {
    let mut forged = holdings.clone();
    let honest = unlock(compiled, holdings, label);
    let impostor = holder(&[signer]);
    forged.signatures = holdings
        .secret_keys
        .iter()
        .map(|s| (PublicKey::from_secret_key(SECP256K1, s).serialize(), impostor_sig(&impostor)))
        .collect();
    forged.secret_keys.clear();
    let forged_witness = unlock(compiled, &forged, label);
    assert_eq!(forged_witness.items.len(), honest.items.len());
    forged_witness
}

fn impostor_sig(impostor: &Holdings) -> Vec<u8> {
    let mut sig = SECP256K1
        .sign_ecdsa(secp256k1::Message::from_digest(DIGEST), &impostor.secret_keys[0])
        .serialize_der()
        .to_vec();
    sig.push(1);
    sig
}

#[test]
fn pay_to_key_and_consent() {
    for name in ["pay_to_key", "consent"] {
        let param = if name == "consent" { "patient" } else { "owner" };
        let compiled = compile_standard(name, &[(param, Value::PubKey(key(1)))]);
        let label = &compiled.policy.clauses[0].label.clone();
        let owner = holder(&[1]);
        let witness = unlock(&compiled, &owner, label);
        assert_eq!(run(&compiled, &witness, &host(&owner, &witness)), Ok(()), "{name}");

        let forged = signed_by(&compiled, &owner, label, 9);
        assert_eq!(run(&compiled, &forged, &host(&owner, &forged)), Err("NULLFAIL"), "{name}: wrong key");
        let mut other_access = host(&owner, &witness);
        other_access.digest = [0x11; 32];
        assert_eq!(
            run(&compiled, &witness, &other_access),
            Err("NULLFAIL"),
            "{name}: signature for another access"
        );
        let missing = Witness { items: vec![Vec::new()], requirements: witness.requirements.clone() };
        assert_eq!(
            run(&compiled, &missing, &host(&owner, &missing)),
            Err("EVAL_FALSE"),
            "{name}: missing signature"
        );
        assert!(satisfy(&compiled, &holder(&[2])).best().is_none());
    }
}

#[test]
fn multisig_two_of_three() {
    let compiled = compile_standard(
        "multisig",
        &[
            ("key_1", Value::PubKey(key(1))),
            ("key_2", Value::PubKey(key(2))),
            ("key_3", Value::PubKey(key(3))),
        ],
    );
    let signers = holder(&[1, 3]);
    let witness = unlock(&compiled, &signers, "two of three sign");
    assert_eq!(run(&compiled, &witness, &host(&signers, &witness)), Ok(()));
    let forged = signed_by(&compiled, &signers, "two of three sign", 9);
    assert_eq!(run(&compiled, &forged, &host(&signers, &forged)), Err("NULLFAIL"));
    let plan = satisfy(&compiled, &holder(&[2]));
    assert_eq!(
        plan.clauses[0].result.clone().unwrap_err().to_string(),
        "1 more signature from `key_1` or `key_3`"
    );
    let mut dummy = witness.clone();
    dummy.items[0] = vec![1];
    assert_eq!(run(&compiled, &dummy, &host(&signers, &dummy)), Err("SIG_NULLDUMMY"));
}

#[test]
fn delegated_consent() {
    let compiled = compile_standard(
        "delegated_consent",
        &[
            ("patient", Value::PubKey(key(1))),
            ("guardian_1", Value::PubKey(key(2))),
            ("guardian_2", Value::PubKey(key(3))),
            ("guardian_3", Value::PubKey(key(4))),
        ],
    );
    let guardians = holder(&[2, 4]);
    let (clause, witness) = {
        let plan = satisfy(&compiled, &guardians);
        let (c, w) = plan.best().unwrap();
        (c.label.clone(), w.clone())
    };
    assert_eq!(clause, "two guardians agree");
    assert_eq!(run(&compiled, &witness, &host(&guardians, &witness)), Ok(()));
    let patient = holder(&[1]);
    let witness = unlock(&compiled, &patient, "patient consents");
    assert_eq!(run(&compiled, &witness, &host(&patient, &witness)), Ok(()));
    let outsider = signed_by(&compiled, &guardians, "two guardians agree", 8);
    assert_eq!(run(&compiled, &outsider, &host(&guardians, &outsider)), Err("NULLFAIL"));
    let mut selector = witness.clone();
    *selector.items.last_mut().unwrap() = vec![2];
    assert_eq!(
        run(&compiled, &selector, &host(&patient, &selector)),
        Err("MINIMALIF"),
        "clause selectors are strict"
    );
}

#[test]
fn time_limited_consent() {
    let compiled = compile_standard(
        "time_limited_consent",
        &[
            ("patient", Value::PubKey(key(1))),
            ("from", Value::Height(1_000)),
            ("until", Value::Height(2_000)),
        ],
    );
    let patient = Holdings { height: Some(1_500), ..holder(&[1]) };
    let witness = unlock(&compiled, &patient, "patient consents within the window");
    assert_eq!(witness.requirements.lock_time, Some(1_000));
    assert_eq!(witness.requirements.expiry_at_most, Some(2_000));
    let good = host(&patient, &witness);
    assert_eq!(run(&compiled, &witness, &good), Ok(()));

    let early = AccessHost { lock_time: 999, ..good.clone() };
    assert_eq!(run(&compiled, &witness, &early), Err("UNSATISFIED_LOCKTIME"));
    let expired = AccessHost { expiry: Some(2_001), ..good.clone() };
    assert_eq!(run(&compiled, &witness, &expired), Err("ACCESS_EXPIRY"), "consent expired");
    let open_ended = AccessHost { expiry: None, ..good };
    assert_eq!(run(&compiled, &witness, &open_ended), Err("ACCESS_EXPIRY"));

    let too_early = Holdings { height: Some(500), ..holder(&[1]) };
    let need = satisfy(&compiled, &too_early).clauses[0].result.clone().unwrap_err();
    assert_eq!(need.to_string(), "to wait until height 1,000");
    let too_late = Holdings { height: Some(2_500), ..holder(&[1]) };
    assert!(satisfy(&compiled, &too_late).best().is_none());
}

#[test]
fn emergency_override() {
    let compiled = compile_standard("emergency_override", &[("patient", Value::PubKey(key(1)))]);
    let hospital = Holdings {
        roles: [(key(5), [MEDICAL_INSTITUTION].into())].into(),
        emergency_expires_in: Some(100),
        ..holder(&[5])
    };
    let label = "emergency by a registered institution";
    let witness = unlock(&compiled, &hospital, label);
    let good = host(&hospital, &witness);
    assert_eq!(run(&compiled, &witness, &good), Ok(()));

    let not_registered = AccessHost { roles: BTreeMap::new(), ..good.clone() };
    assert_eq!(run(&compiled, &witness, &not_registered), Err("MISSING_ROLE"), "non-institution");
    let insurer =
        AccessHost { roles: [(key(5).to_vec(), [i64::from(INSURER)].into())].into(), ..good.clone() };
    assert_eq!(run(&compiled, &witness, &insurer), Err("MISSING_ROLE"));
    let routine = AccessHost { emergency_expires_in: None, ..good.clone() };
    assert_eq!(run(&compiled, &witness, &routine), Err("NOT_EMERGENCY"));
    let too_long = AccessHost { emergency_expires_in: Some(500), ..good };
    assert_eq!(run(&compiled, &witness, &too_long), Err("EMERGENCY_EXPIRY"));

    let need = satisfy(&compiled, &holder(&[5])).clauses[1].result.clone().unwrap_err();
    assert_eq!(
        need.to_string(),
        "a signature by a key holding the role `medical_institution`, and an emergency access with a justification"
    );
}

#[test]
fn key_deposit() {
    let compiled = compile_standard(
        "key_deposit",
        &[("patient", Value::PubKey(key(1))), ("grantee", Value::PubKey(key(6)))],
    );
    let patient = Holdings { deposits: [key(6)].into(), ..holder(&[1]) };
    let witness = unlock(&compiled, &patient, "patient consents with a key deposit");
    let good = host(&patient, &witness);
    assert_eq!(run(&compiled, &witness, &good), Ok(()));
    let no_deposit = AccessHost { deposits: Default::default(), ..good.clone() };
    assert_eq!(run(&compiled, &witness, &no_deposit), Err("MISSING_KEY_DEPOSIT"));
    let wrong_grantee = AccessHost { deposits: [key(7).to_vec()].into(), ..good };
    assert_eq!(run(&compiled, &witness, &wrong_grantee), Err("MISSING_KEY_DEPOSIT"));
    let need = satisfy(&compiled, &holder(&[1])).clauses[0].result.clone().unwrap_err();
    assert_eq!(need.to_string(), "a key deposit for `grantee`");
}

#[test]
fn research_consent() {
    let compiled = compile_standard(
        "research_consent",
        &[
            ("patient", Value::PubKey(key(1))),
            ("study_start", Value::Height(100)),
            ("study_end", Value::Height(300)),
        ],
    );
    let label = "registered research team the patient approves, during the study";
    // A research key alone can meet no clause: it cannot grant itself access.
    let team_alone = Holdings {
        height: Some(200),
        roles: [(key(7), [RESEARCH].into())].into(),
        deposits: [key(7)].into(),
        ..holder(&[7])
    };
    let plan = satisfy(&compiled, &team_alone);
    assert!(plan.best().is_none(), "{plan:?}");
    let need = plan.clauses[1].result.clone().unwrap_err();
    assert!(need.to_string().contains("`patient`"), "{need}");
    let team = Holdings { secret_keys: holder(&[1, 7]).secret_keys, ..team_alone };
    let witness = unlock(&compiled, &team, label);
    let good = host(&team, &witness);
    assert_eq!(run(&compiled, &witness, &good), Ok(()));
    let no_deposit = AccessHost { deposits: Default::default(), ..good.clone() };
    assert_eq!(run(&compiled, &witness, &no_deposit), Err("MISSING_KEY_DEPOSIT"));
    let insurer =
        AccessHost { roles: [(key(7).to_vec(), [i64::from(INSURER)].into())].into(), ..good.clone() };
    assert_eq!(run(&compiled, &witness, &insurer), Err("MISSING_ROLE"), "an insurer is no research team");
    let after_study = AccessHost { expiry: Some(400), ..good };
    assert_eq!(run(&compiled, &witness, &after_study), Err("ACCESS_EXPIRY"));

    let without_deposit = Holdings { deposits: Default::default(), ..team };
    let need = satisfy(&compiled, &without_deposit).clauses[1].result.clone().unwrap_err();
    assert_eq!(need.to_string(), "a key deposit for the key holding the role `research`");
}

#[test]
fn vault_emergency() {
    let compiled = compile_standard("vault_emergency", &[("patient", Value::PubKey(key(1)))]);
    let hospital = Holdings {
        age_blocks: Some(6),
        roles: [(key(5), [MEDICAL_INSTITUTION].into())].into(),
        emergency_expires_in: Some(144),
        ..holder(&[5])
    };
    let witness = unlock(&compiled, &hospital, "emergency after the veto window");
    assert_eq!(witness.requirements.sequence, Some(6));
    let good = host(&hospital, &witness);
    assert_eq!(run(&compiled, &witness, &good), Ok(()));
    let during_veto_window = AccessHost { sequence: 3, ..good };
    assert_eq!(run(&compiled, &witness, &during_veto_window), Err("UNSATISFIED_LOCKTIME"));
    let early = Holdings { age_blocks: Some(2), ..hospital };
    let need = satisfy(&compiled, &early).clauses[1].result.clone().unwrap_err();
    assert_eq!(need.to_string(), "to wait 4 more blocks (6 blocks in all)");

    let patient = holder(&[1]);
    let consent = unlock(&compiled, &patient, "patient consents");
    assert_eq!(run(&compiled, &consent, &host(&patient, &consent)), Ok(()));
    // In a vault only the patient grants: the guardians act through vetoes and shares, never
    // by a grant that would skip the window. Any set of other keys meets no clause without an
    // emergency.
    let others = Holdings { age_blocks: Some(u32::from(u16::MAX)), ..holder(&[2, 3, 4, 5]) };
    assert!(satisfy(&compiled, &others).clauses.iter().all(|c| c.result.is_err()));
}

/// A module call: the module's hash and its arguments.
type ModuleCall = (Vec<u8>, Vec<Vec<u8>>);

/// A host whose policy modules answer `verdict`, recording the calls.
struct ModuleHost {
    access: AccessHost,
    verdict: ModuleVerdict,
    calls: std::cell::RefCell<Vec<ModuleCall>>,
}

impl Host for ModuleHost {
    fn check_signature(&self, sig: &[u8], pubkey: &[u8], script_code: &[u8]) -> bool {
        self.access.check_signature(sig, pubkey, script_code)
    }
    fn check_lock_time(&self, lock_time: i64) -> bool {
        self.access.check_lock_time(lock_time)
    }
    fn check_sequence(&self, sequence: i64) -> bool {
        self.access.check_sequence(sequence)
    }
    fn call_module(&self, module_hash: &[u8], args: &[Vec<u8>]) -> ModuleVerdict {
        self.calls.borrow_mut().push((module_hash.to_vec(), args.to_vec()));
        self.verdict
    }
}

#[test]
fn approved_research() {
    let rule = [0x42; 32];
    let compiled = compile_standard(
        "approved_research",
        &[("patient", Value::PubKey(key(1))), ("rule", Value::Module(rule)), ("purpose", Value::Number(21))],
    );
    let label = "patient consents to approved research";
    let patient = holder(&[1]);
    let witness = unlock(&compiled, &patient, label);
    assert_eq!(witness.requirements.modules, vec![rule], "the planner names the module that decides");
    let with = |verdict| ModuleHost { access: host(&patient, &witness), verdict, calls: Default::default() };
    let run_with = |witness: &Witness, host: &ModuleHost| {
        verify_script(&witness.script(), &compiled.script, Flags::MEDCHAIN, host).map_err(|e| e.name())
    };
    let allowing = with(ModuleVerdict::Allow);
    assert_eq!(run_with(&witness, &allowing), Ok(()));
    assert_eq!(
        allowing.calls.borrow().as_slice(),
        [(rule.to_vec(), vec![vec![21]])],
        "hash and purpose passed"
    );
    assert_eq!(run_with(&witness, &with(ModuleVerdict::Deny(2))), Err("MODULE_DENIED"));
    assert_eq!(run_with(&witness, &with(ModuleVerdict::OutOfFuel)), Err("MODULE_OUT_OF_FUEL"));
    let forged = signed_by(&compiled, &patient, label, 9);
    assert_eq!(
        run_with(&forged, &with(ModuleVerdict::Allow)),
        Err("NULLFAIL"),
        "the module cannot stand in for consent"
    );
}

#[test]
fn listings_and_explanations() {
    let roles = RoleRegistry::standard();
    for policy in STANDARD_POLICIES {
        let checked = policy.checked(&roles).unwrap();
        let args: Arguments = checked
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let n = u8::try_from(i + 1).unwrap();
                let value = match p.ty.name() {
                    "pubkey" => Value::PubKey(key(n)),
                    "height" => Value::Height(700_000 + 10_000 * u32::from(n)),
                    "duration" => Value::Duration(Duration::Blocks(144)),
                    "module" => Value::Module([n; 32]),
                    "number" => Value::Number(20 + i64::from(n)),
                    other => panic!("no test value for {other}"),
                };
                (p.name.clone(), value)
            })
            .collect();
        let compiled = compile(&checked, &args).unwrap();
        insta::assert_snapshot!(
            format!("{}__listing", policy.name),
            format!(
                "size: {} bytes\nop count: {}\nworst-case unlocking size: {} bytes\n\n{}",
                compiled.script.len(),
                compiled.op_count,
                max_unlocking_size(&compiled),
                listing(&compiled.script)
            )
        );
        insta::assert_snapshot!(format!("{}__explain", policy.name), explain(&checked));
        assert_eq!(
            format(policy.source).unwrap(),
            policy.source,
            "{} is kept in canonical format",
            policy.name
        );
    }
}

fn mentions_emergency(cond: &Cond) -> bool {
    match cond {
        Cond::Emergency(_) => true,
        Cond::And(subs) | Cond::Or(subs) | Cond::Thresh { subs, .. } => subs.iter().any(mentions_emergency),
        _ => false,
    }
}

/// The general rule behind every standard policy: a key the policy does not name can meet no
/// clause, whatever roles it holds and whatever it deposits, at any height and age, unless it
/// breaks the glass (an emergency access, sealed and in the patient's audit log). So no party
/// grants itself access without the patient or the keys the patient named.
#[test]
fn no_outsider_grants_itself_access_under_any_standard_policy() {
    let outsider = 99;
    let every_role = RoleRegistry::standard();
    let roles: std::collections::BTreeSet<u32> =
        every_role.names().filter_map(|n| every_role.id(n)).collect();
    for policy in STANDARD_POLICIES {
        let checked = policy.checked(&every_role).unwrap();
        // Keys the outsider does not hold; heights 1,000 apart, so that a window between them
        // is open at some height the outsider tries.
        let mut args = placeholder_arguments(&checked);
        for (i, param) in (0u8..).zip(&checked.params) {
            match args.get_mut(&param.name) {
                Some(Value::PubKey(k)) => *k = key(10 + i),
                Some(Value::Height(h)) => *h = 1_000 * (u32::from(i) + 1),
                _ => {}
            }
        }
        let compiled = compile(&checked, &args).unwrap();
        let attacker = Holdings {
            roles: [(key(outsider), roles.clone())].into(),
            deposits: [key(outsider)].into(),
            time: Some(u32::MAX / 2),
            age_blocks: Some(u32::from(u16::MAX)),
            age_seconds: Some(u32::MAX / 2),
            ..holder(&[outsider])
        };
        for height in (0..=20_000).step_by(250) {
            let at = Holdings { height: Some(height), ..attacker.clone() };
            for clause in satisfy(&compiled, &at).clauses {
                assert!(
                    clause.result.is_err(),
                    "{}: an outsider meets \"{}\" at height {height}",
                    policy.name,
                    clause.label
                );
            }
        }
        let attacker = Holdings { height: Some(1_500), ..attacker };
        // Breaking the glass is the one way, and only where a clause says so.
        let breaking = Holdings { emergency_expires_in: Some(1), ..attacker };
        let plan = satisfy(&compiled, &breaking);
        for (clause, planned) in checked.clauses.iter().zip(&plan.clauses) {
            assert!(
                planned.result.is_err() || mentions_emergency(&clause.cond),
                "{}: \"{}\" lets an outsider in without an emergency",
                policy.name,
                clause.label
            );
        }
    }
}
