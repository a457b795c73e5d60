//! MedScript against rust-miniscript's policy compiler: for policies both languages express
//! (keys, and/or/thresh, after/older, sha256), compile both and compare script size, op count
//! and worst-case unlocking size. MedScript must never be worse on script + unlocking size.
//! Prints the table (it goes into docs/benchmarks.md).

use std::process::ExitCode;
use std::str::FromStr;

use medchain_compiler::medscript::model::Arguments;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::max_unlocking_size_with;
use medchain_compiler::medscript::types::Value;
use medchain_compiler::medscript::{check, compile, parse};
use miniscript::Legacy;
use miniscript::policy::Concrete;
use secp256k1::{PublicKey, SECP256K1, SecretKey};

/// Miniscript counts a signature as 73 bytes with its push opcode; so does this comparison.
const SIGNATURE_PUSH: usize = 73;

/// (name, miniscript policy, MedScript condition). Keys A..E, hash H.
const CASES: &[(&str, &str, &str)] = &[
    ("single key", "pk(A)", "sig(a)"),
    ("one of two keys", "or(pk(A),pk(B))", "sig(a) or sig(b)"),
    ("both keys", "and(pk(A),pk(B))", "sig(a) and sig(b)"),
    ("2 of 3 keys", "thresh(2,pk(A),pk(B),pk(C))", "thresh(2, sig(a), sig(b), sig(c))"),
    ("1 of 3 keys", "thresh(1,pk(A),pk(B),pk(C))", "thresh(1, sig(a), sig(b), sig(c))"),
    ("key after a height", "and(pk(A),after(650000))", "sig(a) and after(650000)"),
    ("key after a delay", "and(pk(A),older(144))", "sig(a) and older(144 blocks)"),
    (
        "key or delayed backup",
        "or(pk(A),and(pk(B),older(1000)))",
        "sig(a) or (sig(b) and older(1000 blocks))",
    ),
    ("key and preimage", "and(pk(A),sha256(H))", "sig(a) and sha256(h)"),
    (
        "preimage or timeout",
        "or(and(pk(A),sha256(H)),and(pk(B),after(700000)))",
        "(sig(a) and sha256(h)) or (sig(b) and after(700000))",
    ),
    (
        "guardians or late backup",
        "or(thresh(2,pk(A),pk(B),pk(C)),and(pk(D),older(4320)))",
        "thresh(2, sig(a), sig(b), sig(c)) or (sig(d) and older(4320 blocks))",
    ),
    (
        "one of three, later",
        "and(or(pk(A),or(pk(B),pk(C))),older(144))",
        "(sig(a) or sig(b) or sig(c)) and older(144 blocks)",
    ),
    (
        "2 of (key, key, delayed key)",
        "thresh(2,pk(A),pk(B),and(pk(C),older(10)))",
        "thresh(2, sig(a), sig(b), sig(c) and older(10 blocks))",
    ),
    (
        "two owners, or two of three heirs later",
        "or(and(pk(A),pk(B)),and(thresh(2,pk(C),pk(D),pk(E)),older(52560)))",
        "(sig(a) and sig(b)) or (thresh(2, sig(c), sig(d), sig(e)) and older(52560 blocks))",
    ),
];

fn key(n: u8) -> [u8; 33] {
    PublicKey::from_secret_key(
        SECP256K1,
        &SecretKey::from_byte_array([n; 32]).unwrap_or_else(|_| unreachable!()),
    )
    .serialize()
}

const HASH: [u8; 32] = [0x77; 32];

struct Row {
    name: &'static str,
    ours: (usize, usize, usize),
    theirs: (usize, usize, usize),
}

fn miniscript_sizes(policy: &str) -> Result<(usize, usize, usize), String> {
    let mut text = policy.to_owned();
    for (letter, n) in [("A", 1), ("B", 2), ("C", 3), ("D", 4), ("E", 5)] {
        text = text.replace(&format!("({letter})"), &format!("({})", hex::encode(key(n))));
    }
    text = text.replace("sha256(H)", &format!("sha256({})", hex::encode(HASH)));
    let policy = Concrete::<bitcoin::PublicKey>::from_str(&text).map_err(|e| e.to_string())?;
    let ms = policy.compile::<Legacy>().map_err(|e| e.to_string())?;
    let ops = ms.ext.ops.op_count().ok_or("no op count")?;
    Ok((ms.script_size(), ops, ms.max_satisfaction_size().map_err(|e| e.to_string())?))
}

fn medscript_sizes(condition: &str) -> Result<(usize, usize, usize), String> {
    let source = format!(
        "policy compare(a: pubkey, b: pubkey, c: pubkey, d: pubkey, e: pubkey, h: hash) {{ clause \"it\" {{ {condition} }} }}"
    );
    let ast = parse(&source).map_err(|d| format!("{d:?}"))?;
    let (checked, diagnostics) = check(&ast, &RoleRegistry::standard());
    let checked = checked.ok_or(format!("{diagnostics:?}"))?;
    let mut args: Arguments = [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)]
        .iter()
        .map(|(name, n)| ((*name).to_owned(), Value::PubKey(key(*n))))
        .collect();
    args.insert("h".into(), Value::Hash(HASH));
    let compiled = compile(&checked, &args).map_err(|e| e.to_string())?;
    Ok((compiled.script.len(), compiled.op_count, max_unlocking_size_with(&compiled, SIGNATURE_PUSH)))
}

fn main() -> ExitCode {
    let mut rows = Vec::new();
    for (name, miniscript, medscript) in CASES {
        let theirs = match miniscript_sizes(miniscript) {
            Ok(sizes) => sizes,
            Err(e) => {
                eprintln!("miniscript cannot compile {miniscript}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let ours = match medscript_sizes(medscript) {
            Ok(sizes) => sizes,
            Err(e) => {
                eprintln!("MedScript cannot compile {medscript}: {e}");
                return ExitCode::FAILURE;
            }
        };
        rows.push(Row { name, ours, theirs });
    }
    println!(
        "| policy | MedScript script / ops / unlock | miniscript script / ops / unlock | total (ours vs theirs) |"
    );
    println!("|---|---|---|---|");
    let mut worse = 0;
    for row in &rows {
        let (ours, theirs) = (row.ours.0 + row.ours.2, row.theirs.0 + row.theirs.2);
        let verdict = if ours <= theirs { "ok" } else { "WORSE" };
        if ours > theirs {
            worse += 1;
        }
        println!(
            "| {} | {} / {} / {} | {} / {} / {} | {ours} vs {theirs} {verdict} |",
            row.name, row.ours.0, row.ours.1, row.ours.2, row.theirs.0, row.theirs.1, row.theirs.2
        );
    }
    println!("miniscript comparison: {} passed, {worse} failed", rows.len() - worse);
    if worse == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
