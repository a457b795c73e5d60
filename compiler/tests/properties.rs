//! Property tests of MedScript: for random policies, every clause the satisfier can meet
//! unlocks in the VM and any removed or changed item makes it fail; and no input, however
//! broken, makes the compiler panic.

#![expect(clippy::unwrap_used, reason = "a failing test stops loudly; these are its assertions")]

use medchain_compiler::medscript::codegen::placeholder_arguments;
use medchain_compiler::medscript::model::Arguments;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, Witness, satisfy};
use medchain_compiler::medscript::types::Value;
use medchain_compiler::medscript::{check, compile, explain, format, parse};
use medchain_vm::{AccessHost, Flags, verify_script};
use proptest::prelude::*;
use secp256k1::{PublicKey, SECP256K1, SecretKey};
use sha2::{Digest, Sha256};

/// A generated condition; keys and hashes are numbered when rendered, so no two leaves share one.
#[derive(Debug, Clone)]
enum Gen {
    Sig,
    Multi(usize, usize),
    HashAndSig,
    After(u32),
    Before(u32),
    Older(u32),
    RoleSig(bool),
    Deposit,
    Role,
    Emergency,
    And(Vec<Gen>),
    Or(Vec<Gen>),
    Thresh(usize, Vec<Gen>),
}

fn leaf() -> impl Strategy<Value = Gen> {
    prop_oneof![
        4 => Just(Gen::Sig),
        1 => (1usize..=3, 0usize..=2).prop_map(|(k, extra)| Gen::Multi(k, k + extra)),
        1 => Just(Gen::HashAndSig),
        1 => (100u32..1_000).prop_map(Gen::After),
        1 => (5_000u32..6_000).prop_map(Gen::Before),
        1 => (1u32..10).prop_map(Gen::Older),
        1 => any::<bool>().prop_map(Gen::RoleSig),
        1 => Just(Gen::Deposit),
        1 => Just(Gen::Role),
        1 => Just(Gen::Emergency),
    ]
}

fn condition() -> impl Strategy<Value = Gen> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Gen::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Gen::Or),
            (prop::collection::vec(inner, 2..4), 1usize..4)
                .prop_map(|(subs, k)| Gen::Thresh(k.min(subs.len()), subs)),
        ]
    })
}

/// Renders a condition, declaring each key and hash it uses.
struct Renderer {
    keys: usize,
    hashes: usize,
}

impl Renderer {
    fn key(&mut self) -> String {
        self.keys += 1;
        format!("k{}", self.keys)
    }

    fn render(&mut self, node: &Gen) -> String {
        match node {
            Gen::Sig => format!("sig({})", self.key()),
            Gen::Multi(k, n) => {
                let keys: Vec<String> = (0..*n).map(|_| self.key()).collect();
                format!("multi({k}, {})", keys.join(", "))
            }
            Gen::HashAndSig => {
                self.hashes += 1;
                let hash = self.hashes;
                format!("(sha256(h{hash}) and sig({}))", self.key())
            }
            Gen::After(h) => format!("after({h})"),
            Gen::Before(h) => format!("before({h})"),
            Gen::Older(n) => format!("older({n} blocks)"),
            Gen::RoleSig(true) => "role_sig(research, deposit)".into(),
            Gen::RoleSig(false) => "role_sig(medical_institution)".into(),
            Gen::Deposit => format!("deposit({})", self.key()),
            Gen::Role => format!("role({}, research)", self.key()),
            Gen::Emergency => "emergency(144 blocks)".into(),
            Gen::And(subs) => {
                format!("({})", subs.iter().map(|s| self.render(s)).collect::<Vec<_>>().join(" and "))
            }
            Gen::Or(subs) => {
                format!("({})", subs.iter().map(|s| self.render(s)).collect::<Vec<_>>().join(" or "))
            }
            Gen::Thresh(k, subs) => {
                format!("thresh({k}, {})", subs.iter().map(|s| self.render(s)).collect::<Vec<_>>().join(", "))
            }
        }
    }
}

/// A policy of 1..3 clauses, each guarded by its own signature.
fn policy() -> impl Strategy<Value = String> {
    prop::collection::vec(condition(), 1..4).prop_map(|clauses| {
        let mut r = Renderer { keys: 0, hashes: 0 };
        let bodies: Vec<String> =
            clauses.iter().map(|c| format!("{} and sig({})", r.render(c), r.key())).collect();
        let mut params: Vec<String> = (1..=r.keys).map(|i| format!("k{i}: pubkey")).collect();
        params.extend((1..=r.hashes).map(|i| format!("h{i}: hash")));
        let clauses: Vec<String> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| format!("    clause \"c{i}\" {{\n        {b}\n    }}\n"))
            .collect();
        format!("policy random({}) {{\n{}}}\n", params.join(", "), clauses.join("\n"))
    })
}

fn secret(i: usize) -> SecretKey {
    let mut bytes = [0x11u8; 32];
    bytes[0] = u8::try_from(i % 200).unwrap() + 1;
    SecretKey::from_byte_array(bytes).unwrap()
}

fn preimage(i: usize) -> Vec<u8> {
    vec![u8::try_from(i).unwrap(); 32]
}

/// Arguments: key `kN` is secret N's key, hash `hN` commits to preimage N.
fn arguments(source: &str) -> (Arguments, Vec<usize>, Vec<usize>) {
    let ast = parse(source).unwrap();
    let mut args = Arguments::new();
    let (mut keys, mut hashes) = (Vec::new(), Vec::new());
    for p in &ast.params {
        let n: usize = p.name.name[1..].parse().unwrap();
        if p.name.name.starts_with('k') {
            keys.push(n);
            args.insert(
                p.name.name.clone(),
                Value::PubKey(PublicKey::from_secret_key(SECP256K1, &secret(n)).serialize()),
            );
        } else {
            hashes.push(n);
            args.insert(p.name.name.clone(), Value::Hash(Sha256::digest(preimage(n)).into()));
        }
    }
    (args, keys, hashes)
}

const ROLE_HOLDER: usize = 250;

/// A party that holds everything: every key, preimage, role and deposit, in a long emergency-ready
/// access well inside every window.
fn everything(keys: &[usize], hashes: &[usize]) -> Holdings {
    let role_key = PublicKey::from_secret_key(SECP256K1, &secret(ROLE_HOLDER)).serialize();
    let mut all_keys: Vec<SecretKey> = keys.iter().map(|&n| secret(n)).collect();
    all_keys.push(secret(ROLE_HOLDER));
    let public: Vec<[u8; 33]> =
        all_keys.iter().map(|s| PublicKey::from_secret_key(SECP256K1, s).serialize()).collect();
    Holdings {
        digest: [0x42; 32],
        secret_keys: all_keys,
        preimages: hashes.iter().map(|&n| preimage(n)).collect(),
        height: Some(2_000),
        age_blocks: Some(100),
        roles: public.iter().map(|k| (*k, [1, 2].into())).chain([(role_key, [1, 2].into())]).collect(),
        deposits: public.into_iter().collect(),
        emergency_expires_in: Some(10),
        ..Holdings::default()
    }
}

fn host(holdings: &Holdings, witness: &Witness) -> AccessHost {
    witness.access_host(holdings)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn satisfactions_verify_and_every_item_matters(source in policy()) {
        let ast = parse(&source).unwrap();
        let (checked, diagnostics) = check(&ast, &RoleRegistry::standard());
        // Random combinations can be rejected for good reasons (say, too large); skip those.
        prop_assume!(checked.is_some(), "{:?}", diagnostics);
        let checked = checked.unwrap();
        let (args, keys, hashes) = arguments(&source);
        let compiled = compile(&checked, &args).unwrap();
        let holdings = everything(&keys, &hashes);
        let plan = satisfy(&compiled, &holdings);
        for clause in &plan.clauses {
            let witness = clause.result.clone().unwrap_or_else(|need| panic!("{source}\nclause {} needs {need}", clause.label));
            let host = host(&holdings, &witness);
            let run = |w: &Witness| verify_script(&w.script(), &compiled.script, Flags::MEDCHAIN, &host);
            prop_assert_eq!(run(&witness), Ok(()), "{}\nclause {}", source, clause.label);
            for i in 0..witness.items.len() {
                let mut removed = witness.clone();
                removed.items.remove(i);
                prop_assert!(run(&removed).is_err(), "{}\nclause {}: removing item {} still verifies", source, clause.label, i);
                let mut changed = witness.clone();
                let item = &mut changed.items[i];
                if item.is_empty() { item.push(1) } else { item[0] ^= 0x01 }
                prop_assert!(run(&changed).is_err(), "{}\nclause {}: changing item {} still verifies", source, clause.label, i);
            }
        }
    }

    #[test]
    fn random_policies_format_idempotently(source in policy()) {
        let once = format(&source).unwrap();
        prop_assert_eq!(format(&once).unwrap(), once.clone());
        prop_assert_eq!(parse(&once).unwrap().clauses.len(), parse(&source).unwrap().clauses.len());
    }
}

/// Words the lexer knows, for grammar-aware noise.
const VOCABULARY: &[&str] = &[
    "policy",
    "clause",
    "and",
    "or",
    "(",
    ")",
    "{",
    "}",
    ",",
    ":",
    "\"label\"",
    "sig",
    "multi",
    "thresh",
    "after",
    "before",
    "older",
    "sha256",
    "role",
    "role_sig",
    "deposit",
    "emergency",
    "module",
    "pubkey",
    "hash",
    "height",
    "time",
    "duration",
    "role",
    "research",
    "blocks",
    "days",
    "0",
    "1",
    "2",
    "21",
    "650000",
    "99999999999999999999",
    "4294967296",
    "k1",
    "k2",
    "// note\n",
    "\n",
    "@",
    "\"open",
];

fn noise() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(VOCABULARY), 0..60).prop_map(|words| words.join(" ")),
        (policy(), any::<usize>(), prop::collection::vec(any::<char>(), 0..4)).prop_map(|(src, at, junk)| {
            let mut chars: Vec<char> = src.chars().collect();
            let at = at % (chars.len() + 1);
            if at < chars.len() && junk.is_empty() {
                chars.remove(at);
            } else {
                for (i, c) in junk.into_iter().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            chars.into_iter().collect()
        }),
        ".{0,200}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn nothing_panics(source in noise()) {
        let _ = format(&source);
        if let Ok(ast) = parse(&source) {
            let (checked, _) = check(&ast, &RoleRegistry::standard());
            if let Some(checked) = checked {
                let _ = explain(&checked);
                let compiled = compile(&checked, &placeholder_arguments(&checked));
                if let Ok(compiled) = compiled {
                    let _ = satisfy(&compiled, &Holdings::default());
                }
            }
        }
    }
}
