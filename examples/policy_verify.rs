//! Compiles a MedScript policy with the library API, builds unlocking scripts for what a party
//! holds, and verifies them with the VM: the patient's consent passes, a stranger's signature
//! fails, and a party that holds nothing useful is told what is missing.
//!
//! Run: `cargo run -p medchain-examples --bin policy_verify`

use anyhow::{Context, anyhow, bail};
use medchain_compiler::disassemble;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, satisfy};
use medchain_compiler::medscript::types::Value;
use medchain_compiler::medscript::{check, compile, explain, parse, render};
use medchain_vm::signature::SIGHASH_ALL;
use medchain_vm::{AccessHost, Flags, verify_script};
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};

const POLICY: &str = r#"
// A patient's record: the patient consents, or the family doctor reads it until block 50,000.
policy family_care(patient: pubkey, doctor: pubkey) {
    clause "patient consents" {
        sig(patient)
    }
    clause "family doctor, for a while" {
        sig(doctor) and before(50000)
    }
}
"#;

fn main() -> anyhow::Result<()> {
    let patient = SecretKey::from_byte_array([0x11; 32])?;
    let doctor = SecretKey::from_byte_array([0x22; 32])?;
    let stranger = SecretKey::from_byte_array([0x33; 32])?;
    let public = |s: &SecretKey| PublicKey::from_secret_key(SECP256K1, s).serialize();

    // Parse and check: diagnostics come back rendered like a compiler's.
    let ast = parse(POLICY).map_err(|d| anyhow!(render("family_care.med", POLICY, &d)))?;
    let (checked, diagnostics) = check(&ast, &RoleRegistry::standard());
    let checked = checked.ok_or_else(|| anyhow!(render("family_care.med", POLICY, &diagnostics)))?;
    println!("{}", explain(&checked));

    // Compile with the parties' keys.
    let args = [
        ("patient".to_owned(), Value::PubKey(public(&patient))),
        ("doctor".to_owned(), Value::PubKey(public(&doctor))),
    ]
    .into_iter()
    .collect();
    let compiled = compile(&checked, &args)?;
    println!("locking script ({} bytes): {}\n", compiled.script.len(), disassemble(&compiled.script));

    // What the signatures commit to: on chain, the access transaction's signing digest.
    let digest = [0x5a; 32];
    let host = AccessHost::new(digest);

    // The patient signs: the cheapest clause it can satisfy, checked by the VM.
    let holdings = Holdings { digest, secret_keys: vec![patient], ..Holdings::default() };
    let plan = satisfy(&compiled, &holdings);
    let (clause, witness) = plan.best().context("the patient should satisfy the policy")?;
    verify_script(&witness.script(), &compiled.script, Flags::MEDCHAIN, &host)
        .map_err(|e| anyhow!("the patient's unlocking failed: {}", e.name()))?;
    println!("patient: clause \"{}\" verifies ({} bytes)", clause.label, witness.size());

    // A stranger's signature offered as the patient's fails.
    let mut stranger_sig =
        SECP256K1.sign_ecdsa(Message::from_digest(digest), &stranger).serialize_der().to_vec();
    stranger_sig.push(SIGHASH_ALL);
    let impostor =
        Holdings { digest, signatures: [(public(&patient), stranger_sig)].into(), ..Holdings::default() };
    let forged = satisfy(&compiled, &impostor).best().map(|(_, w)| w.clone()).context("a witness")?;
    match verify_script(&forged.script(), &compiled.script, Flags::MEDCHAIN, &host) {
        Err(e) => println!("a stranger signing as the patient: refused with {}", e.name()),
        Ok(()) => bail!("a stranger's signature must not verify"),
    }

    // Someone holding only the stranger's key is told what each clause still needs.
    let stranger_holdings = Holdings { digest, secret_keys: vec![stranger], ..Holdings::default() };
    for c in satisfy(&compiled, &stranger_holdings).clauses {
        if let Err(need) = c.result {
            println!("stranger, clause \"{}\": needs {need}", c.label);
        }
    }
    Ok(())
}
