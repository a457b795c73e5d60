//! Reviewed snapshots: listings of the standard locking scripts and step-by-step traces of
//! spends through the VM.

use medchain_compiler::{assemble, disassemble, listing};
use medchain_vm::bitcoin::{TransactionChecker, crediting_transaction, legacy_sighash, spending_transaction};
use medchain_vm::script::push_bytes;
use medchain_vm::{Flags, Step, verify_script_traced};
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};

fn key(index: u8) -> (SecretKey, Vec<u8>) {
    let secret = SecretKey::from_byte_array([index; 32]).unwrap();
    let public = PublicKey::from_secret_key(SECP256K1, &secret).serialize().to_vec();
    (secret, public)
}

fn hash160_hex(data: &[u8]) -> String {
    use ripemd::Ripemd160;
    use sha2::{Digest, Sha256};
    hex::encode(Ripemd160::digest(Sha256::digest(data)))
}

fn p2pkh() -> Vec<u8> {
    assemble(&format!("DUP HASH160 <{}> EQUALVERIFY CHECKSIG", hash160_hex(&key(1).1))).unwrap()
}

fn multisig_2_of_3() -> Vec<u8> {
    let keys: Vec<String> = (1..=3).map(|i| format!("<{}>", hex::encode(key(i).1))).collect();
    assemble(&format!("2 {} 3 CHECKMULTISIG", keys.join(" "))).unwrap()
}

fn p2sh(redeem: &[u8]) -> Vec<u8> {
    assemble(&format!("HASH160 <{}> EQUAL", hash160_hex(redeem))).unwrap()
}

fn cltv_lock() -> Vec<u8> {
    assemble(&format!(
        "650000 CHECKLOCKTIMEVERIFY DROP DUP HASH160 <{}> EQUALVERIFY CHECKSIG",
        hash160_hex(&key(1).1)
    ))
    .unwrap()
}

fn describe(script: &[u8]) -> String {
    format!("hex: {}\nasm: {}\n\n{}", hex::encode(script), disassemble(script), listing(script))
}

#[test]
fn standard_script_listings() {
    insta::assert_snapshot!("p2pkh", describe(&p2pkh()));
    insta::assert_snapshot!("p2sh_multisig_2_of_3", describe(&p2sh(&multisig_2_of_3())));
    insta::assert_snapshot!("multisig_2_of_3_redeem_script", describe(&multisig_2_of_3()));
    insta::assert_snapshot!("cltv_lock", describe(&cltv_lock()));
    insta::assert_snapshot!(
        "odd_bytes",
        describe(&[0x01, 0x05, 0x4c, 0x00, 0x51, 0xba, 0x4d, 0x09, 0x00, 0xaa])
    );
}

/// Signs input 0 of the harness spend of `script_pubkey` (code `script_code`) with `signer`.
fn sign(script_pubkey: &[u8], script_code: &[u8], signer: u8) -> Vec<u8> {
    let spending = spending_transaction(&crediting_transaction(script_pubkey, 0), &[], 0);
    let digest = legacy_sighash(&spending, 0, script_code, 1);
    let mut sig = SECP256K1.sign_ecdsa(Message::from_digest(digest), &key(signer).0).serialize_der().to_vec();
    sig.push(1);
    sig
}

/// Runs a spend in the harness transactions and renders every step and the result.
fn trace(script_sig: &[u8], script_pubkey: &[u8], flags: Flags) -> String {
    let spending = spending_transaction(&crediting_transaction(script_pubkey, 0), script_sig, 0);
    let checker = TransactionChecker::new(&spending, 0).unwrap();
    let mut lines = Vec::new();
    let mut observer = |step: &Step<'_>| lines.push(step.to_string());
    let result = verify_script_traced(script_sig, script_pubkey, flags, &checker, &mut observer);
    let verdict = match result {
        Ok(_) => "OK".to_owned(),
        Err(e) => format!("{} ({e})", e.name()),
    };
    format!("{}\nresult: {verdict}\n", lines.join("\n"))
}

#[test]
fn step_traces() {
    let spk = p2pkh();
    let sig = sign(&spk, &spk, 1);
    let script_sig = [push_bytes(&sig), push_bytes(&key(1).1)].concat();
    insta::assert_snapshot!("trace_p2pkh", trace(&script_sig, &spk, Flags::ALL_BITCOIN));

    let wrong_key = [push_bytes(&sig), push_bytes(&key(2).1)].concat();
    insta::assert_snapshot!("trace_p2pkh_wrong_key", trace(&wrong_key, &spk, Flags::ALL_BITCOIN));

    let redeem = multisig_2_of_3();
    let spk = p2sh(&redeem);
    let script_sig = [
        vec![0x00],
        push_bytes(&sign(&spk, &redeem, 1)),
        push_bytes(&sign(&spk, &redeem, 3)),
        push_bytes(&redeem),
    ]
    .concat();
    insta::assert_snapshot!("trace_p2sh_multisig", trace(&script_sig, &spk, Flags::ALL_BITCOIN));

    let branches = assemble("IF 2 ELSE 3 TOALTSTACK 4 FROMALTSTACK ENDIF ADD 7 EQUAL").unwrap();
    insta::assert_snapshot!("trace_branches_taken", trace(&assemble("4 0").unwrap(), &branches, Flags::NONE));
    insta::assert_snapshot!(
        "trace_branches_failing",
        trace(&assemble("4 1").unwrap(), &branches, Flags::NONE)
    );
}
