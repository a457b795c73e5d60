//! A real node process on loopback, driven over HTTP: a transaction is accepted, mined and
//! proven; a table of bad inputs each gets its error code, and the node stays up with its
//! state unchanged.

#![expect(clippy::unwrap_used, reason = "a failing test stops loudly; these are its assertions")]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::process::*;
use crate::common::*;
use medchain::demo::{self, Cast};
use medchain_chain::genesis::Genesis;
use medchain_chain::state::StateRead;
use medchain_chain::transaction::{EmergencyShares, Payload};
use medchain_chain::validate::Chain;
use medchain_client::ClientError;
use medchain_primitives::codec::Encode;
use medchain_primitives::merkle::{MerkleProof, ProofStep};
use medchain_primitives::{Hash32, Sig};
use medchain_wallet::builder::sign_inputs;
use medchain_wallet::deposit::{Binding, seal_to, split_among};
use medchain_wallet::record::RecordSecret;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_story_plays_against_a_node_process() {
    let mut cast = Cast::new();
    let genesis_json = cast.genesis_json();
    let chain = Chain::new(Genesis::from_json(&genesis_json).unwrap());
    let node = start(&genesis_json, Some(cast.producer_signer())).await;
    demo::play(&node.base, &chain, &mut cast).await.unwrap();
    let client = reqwest::Client::new();
    let status = status(&client, &node.base).await;
    assert!(status["height"].as_u64().unwrap() >= 8, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_flow_and_bad_inputs_are_refused() {
    let mut w = World::new();
    let node = start(&w.genesis_json, Some(&w.p.producer.clone())).await;
    let client = reqwest::Client::new();
    let base = node.base.clone();

    let patient = w.p.patient.clone();
    let tx = w.tx(&patient, Payload::Transfer, 0, None);
    let txid = tx.txid();
    let (accepted, _) = code(
        client.post(format!("{base}/v1/transactions")).json(&json!({ "tx": hex::encode(tx.to_bytes()) })),
    )
    .await;
    assert_eq!(accepted, 202);
    let deadline = Instant::now() + Duration::from_secs(30);
    let confirmed = loop {
        let body: Value =
            client.get(format!("{base}/v1/transactions/{txid}")).send().await.unwrap().json().await.unwrap();
        if body["status"] == "confirmed" {
            break body;
        }
        assert!(Instant::now() < deadline, "never confirmed: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let proof = MerkleProof {
        steps: confirmed["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| ProofStep {
                sibling: Hash32::from_hex(s["sibling"].as_str().unwrap()).unwrap(),
                sibling_on_left: s["left"].as_bool().unwrap(),
            })
            .collect(),
    };
    let root = Hash32::from_hex(confirmed["block"]["merkle_root"].as_str().unwrap()).unwrap();
    assert!(proof.verify(&txid, &root), "the Merkle proof checks out");

    // Bad inputs: each gets its code, and the node keeps serving with the same state.
    let before = status(&client, &base).await;
    let submit = || client.post(format!("{base}/v1/transactions"));
    // Paying what consensus asks for its size, not what this node relays.
    let (outpoint, value) = w.coins.get_mut(&patient.key).unwrap().pop().unwrap();
    let mut cheap = medchain_chain::transaction::Transaction::new(
        vec![medchain_chain::transaction::TxIn { prevout: outpoint, unlock: Vec::new(), sequence: u32::MAX }],
        vec![medchain_chain::transaction::TxOut {
            value: value - 30,
            lock: medchain_chain::standard::pay_to_key(&patient.key),
        }],
        Payload::Transfer,
    );
    sign_inputs(&mut cheap, &w.chain.chain_id, &[&patient]);
    let mut forged = w.tx(&patient, Payload::Transfer, 0, None);
    let outsider = w.p.outsider.clone();
    sign_inputs(&mut forged, &w.chain.chain_id, &[&outsider]);
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "malformed JSON",
            submit().header("content-type", "application/json").body("{not json"),
            400,
            "BAD_JSON",
        ),
        ("bad hex", submit().json(&json!({ "tx": "zz" })), 400, "BAD_HEX"),
        (
            "malformed binary",
            submit().header("content-type", "application/octet-stream").body(vec![1u8, 2, 3]),
            400,
            "TX_DECODE",
        ),
        ("oversized body", submit().json(&json!({ "tx": "00".repeat(300_000) })), 413, "TOO_LARGE"),
        (
            "bad signature",
            submit().json(&json!({ "tx": hex::encode(forged.to_bytes()) })),
            400,
            "SCRIPT_FAILED",
        ),
        ("double spend", submit().json(&json!({ "tx": hex::encode(tx.to_bytes()) })), 400, "MISSING_INPUT"),
        (
            "fee below relay",
            submit().json(&json!({ "tx": hex::encode(cheap.to_bytes()) })),
            400,
            "FEE_BELOW_RELAY",
        ),
        ("unknown endpoint", client.get(format!("{base}/v1/nothing")), 404, "NOT_FOUND"),
        (
            "unauthenticated read",
            client.get(format!("{base}/v1/records/{}/ciphertext", "ab".repeat(32))),
            401,
            "MISSING_PROOF",
        ),
        (
            "forged challenge",
            client
                .get(format!("{base}/v1/records/{}/ciphertext", "ab".repeat(32)))
                .header("x-medchain-reader", patient.key.to_hex())
                .header("x-medchain-challenge", "11".repeat(32))
                .header("x-medchain-signature", "22".repeat(64)),
            401,
            "BAD_CHALLENGE",
        ),
        (
            "unauthenticated audit log",
            client.get(format!("{base}/v1/patients/{}/audit", patient.key)),
            401,
            "MISSING_PROOF",
        ),
        (
            "unauthenticated record list",
            client.get(format!("{base}/v1/patients/{}/records", patient.key)),
            401,
            "MISSING_PROOF",
        ),
        (
            "audit log with a forged challenge",
            client
                .get(format!("{base}/v1/patients/{}/audit", patient.key))
                .header("x-medchain-reader", patient.key.to_hex())
                .header("x-medchain-challenge", "11".repeat(32))
                .header("x-medchain-signature", "22".repeat(64)),
            401,
            "BAD_CHALLENGE",
        ),
        ("unknown record", client.get(format!("{base}/v1/records/{}", "ab".repeat(32))), 404, "NOT_FOUND"),
        ("bad hash", client.get(format!("{base}/v1/transactions/xyz")), 400, "BAD_HASH"),
    ];
    for (name, request, expected_status, expected_code) in cases {
        let (got_status, got_code) = code(request).await;
        assert_eq!((got_status, got_code.as_str()), (expected_status, expected_code), "{name}");
    }
    let after = status(&client, &base).await;
    assert_eq!(after["mempool"], before["mempool"], "no bad input reached the mempool");
    assert_eq!(after["chain_id"], before["chain_id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_and_chain_rules_over_http() {
    let mut w = World::new();
    let node = start(&w.genesis_json, None).await;
    let client = reqwest::Client::new();
    let base = node.base.clone();
    let api = medchain_client::Client::new(&base);
    let mut sent = 0;

    // A block whose Merkle root does not match its transactions, signed by the real producer.
    let mut tampered = w.block(Vec::new());
    w.time -= 600;
    tampered.header.merkle_root = Hash32::sha256(b"not the root");
    tampered.header.sign(&w.p.producer.secret, &w.chain.chain_id);
    let post_block = |block: &medchain_chain::block::Block| {
        client.post(format!("{base}/v1/blocks")).json(&json!({ "block": hex::encode(block.to_bytes()) }))
    };
    assert_eq!(code(post_block(&tampered)).await, (400, "BAD_MERKLE_ROOT".to_owned()));
    // The header is judged before the transactions are decoded: a stranger's block is refused
    // as that, whatever garbage follows its header; and no body is taken past a block's size.
    let mut stranger = w.block(Vec::new());
    w.time -= 600;
    stranger.header.producer = w.p.outsider.key;
    stranger.header.sign(&w.p.outsider.secret, &w.chain.chain_id);
    let mut garbage = stranger.header.to_bytes();
    garbage.extend_from_slice(&[0xff; 64]);
    let raw = |bytes: Vec<u8>| {
        client
            .post(format!("{base}/v1/blocks"))
            .header("content-type", "application/octet-stream")
            .body(bytes)
    };
    assert_eq!(code(raw(garbage)).await, (400, "UNKNOWN_PRODUCER".to_owned()));
    let oversized = vec![0u8; medchain_chain::limits::MAX_BLOCK_SIZE + 1];
    assert_eq!(code(raw(oversized)).await, (413, "TOO_LARGE".to_owned()));
    // A block from the future waits: this node takes none more than two hours ahead of its clock.
    let mut future = w.block(Vec::new());
    w.time -= 600;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    future.header.time = now + medchain_node::MAX_FUTURE_BLOCK_TIME.as_secs() + 60;
    future.header.sign(&w.p.producer.secret, &w.chain.chain_id);
    assert_eq!(code(post_block(&future)).await, (400, "FUTURE_BLOCK".to_owned()));
    assert_eq!(status(&client, &base).await["height"], 0, "the tampered block changed nothing");

    // The record story, mined in the mirror world and fed to the node block by block.
    let (record, compiled, key) = stored_record(&mut w);
    sync(&client, &base, &w, &mut sent).await;
    assert_eq!(code(post_block(&w.blocks[0])).await, (400, "WRONG_PARENT".to_owned()), "a block replayed");
    let content = ciphertext_of(&w.store.record(&record).unwrap().unwrap().release);
    api.upload(content.clone()).await.unwrap();
    let researcher = w.p.researcher.clone();
    let grant_tx = grant(&mut w, record, &compiled, &key, true);
    let grant_id = grant_tx.txid();
    w.mine(vec![grant_tx.clone()]);
    sync(&client, &base, &w, &mut sent).await;
    assert_eq!(api.download(&w.chain.chain_id, &researcher, &record).await.unwrap(), content);

    // Chain rules met over HTTP: each refusal has its code and changes nothing.
    let before = status(&client, &base).await;
    let insurer = w.p.insurer.clone();
    let height = w.tip.height;
    let by_insurer = emergency(&mut w, record, &compiled, &insurer, height + 10, "no role, still tries");
    let mut replayed = w.tx(&w.p.patient.clone(), Payload::Transfer, 0, None);
    sign_inputs(&mut replayed, &Hash32::sha256(b"another chain"), &[&w.p.patient.clone()]);
    let submit = |tx: &medchain_chain::transaction::Transaction| {
        client.post(format!("{base}/v1/transactions")).json(&json!({ "tx": hex::encode(tx.to_bytes()) }))
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        ("emergency by a non-institution", submit(&by_insurer), 400, "NOT_INSTITUTION"),
        ("a transaction signed for another chain", submit(&replayed), 400, "SCRIPT_FAILED"),
        ("a confirmed transaction replayed", submit(&grant_tx), 400, "MISSING_INPUT"),
        ("bad page", client.get(format!("{base}/v1/blocks?limit=many")), 400, "BAD_QUERY"),
        ("bad height", client.get(format!("{base}/v1/blocks/tip")), 400, "BAD_HEIGHT"),
        ("wrong method", client.delete(format!("{base}/v1/status")), 405, "METHOD_NOT_ALLOWED"),
        (
            "block that is not hex",
            client.post(format!("{base}/v1/blocks")).json(&json!({ "block": "xyz" })),
            400,
            "BAD_HEX",
        ),
        (
            "block that does not decode",
            client
                .post(format!("{base}/v1/blocks"))
                .header("content-type", "application/octet-stream")
                .body(vec![0u8; 7]),
            400,
            "BLOCK_DECODE",
        ),
    ];
    for (name, request, expected_status, expected_code) in cases {
        let (got_status, got_code) = code(request).await;
        assert_eq!((got_status, got_code.as_str()), (expected_status, expected_code), "{name}");
    }
    assert_eq!(status(&client, &base).await, before, "no refused input changed the state");

    // Revoked: the next read fails.
    let patient = w.p.patient.clone();
    let revoke = w.tx(
        &patient,
        Payload::Revocation { grant: grant_id, owner: patient.key, signature: Sig::EMPTY },
        0,
        Some(&patient),
    );
    w.mine(vec![revoke]);
    sync(&client, &base, &w, &mut sent).await;
    let refused = api.download(&w.chain.chain_id, &researcher, &record).await;
    assert!(matches!(&refused, Err(ClientError::Refused { code, .. }) if code == "NO_ACCESS"), "{refused:?}");

    // Expired: a grant that ends two blocks on stops allowing reads once they are mined.
    let expiry = w.tip.height + 2;
    let expiring = grant_until(&mut w, record, &compiled, &key, true, expiry);
    w.mine(vec![expiring]);
    sync(&client, &base, &w, &mut sent).await;
    assert_eq!(api.download(&w.chain.chain_id, &researcher, &record).await.unwrap(), content);
    w.mine(Vec::new());
    w.mine(Vec::new());
    sync(&client, &base, &w, &mut sent).await;
    let refused = api.download(&w.chain.chain_id, &researcher, &record).await;
    assert!(matches!(&refused, Err(ClientError::Refused { code, .. }) if code == "NO_ACCESS"), "{refused:?}");

    // A read names its record: a live grant on another record of the same patient lends
    // nothing to this one.
    let other = store_record(&mut w, &compiled.script, None);
    let other_content = ciphertext_of(&w.store.record(&other).unwrap().unwrap().release);
    api.upload(other_content.clone()).await.unwrap();
    let on_other = grant(&mut w, other, &compiled, &key, true);
    w.mine(vec![on_other]);
    sync(&client, &base, &w, &mut sent).await;
    assert_eq!(api.download(&w.chain.chain_id, &researcher, &other).await.unwrap(), other_content);
    let refused = api.download(&w.chain.chain_id, &researcher, &record).await;
    assert!(matches!(&refused, Err(ClientError::Refused { code, .. }) if code == "NO_ACCESS"), "{refused:?}");

    // The patient's lists are the patient's: signed by the patient they are served, signed by
    // anyone else (the researcher with a live grant included) they are refused.
    let patient = w.p.patient.clone();
    let audit = api.audit(&w.chain.chain_id, &patient, &patient.key).await.unwrap();
    assert_eq!(audit.reads.len(), 3, "{audit:?}");
    let records = api.records(&w.chain.chain_id, &patient, &patient.key).await.unwrap();
    assert_eq!(records.records.len(), 2);
    for refused in [
        api.audit(&w.chain.chain_id, &researcher, &patient.key).await.map(|_| ()),
        api.records(&w.chain.chain_id, &researcher, &patient.key).await.map(|_| ()),
    ] {
        assert!(
            matches!(&refused, Err(ClientError::Refused { status: 403, code, .. }) if code == "NO_ACCESS"),
            "{refused:?}"
        );
    }
    // A key the governors register as an auditor is served them, and loses them with its role.
    let (governor, auditor) = (w.p.governor.clone(), w.p.outsider.clone());
    let register = w.tx(&governor, role_payload(&w, &auditor.key, 5, true), 0, Some(&governor));
    w.mine(vec![register]);
    sync(&client, &base, &w, &mut sent).await;
    let seen = api.audit(&w.chain.chain_id, &auditor, &patient.key).await.unwrap();
    assert_eq!(seen, api.audit(&w.chain.chain_id, &patient, &patient.key).await.unwrap());
    let withdraw = w.tx(&governor, role_payload(&w, &auditor.key, 5, false), 0, Some(&governor));
    w.mine(vec![withdraw]);
    sync(&client, &base, &w, &mut sent).await;
    let refused = api.records(&w.chain.chain_id, &auditor, &patient.key).await;
    assert!(matches!(&refused, Err(ClientError::Refused { code, .. }) if code == "NO_ACCESS"), "{refused:?}");
}

/// `secret` split 2 of `holders.len()`, each share sealed to its holder.
fn shares_for(holders: &[&medchain_primitives::Signer], release: &Hash32, secret: &[u8]) -> EmergencyShares {
    let keys: Vec<_> = holders.iter().map(|h| h.key).collect();
    let secret = RecordSecret::from_bytes(secret).unwrap();
    split_among(&secret, release, 2, &keys, &mut rand::rng()).unwrap()
}

/// A command's message as one line: the words of `text` without the box-drawing margin the
/// error report wraps lines with.
fn flat(text: &str) -> String {
    text.split_whitespace().filter(|word| *word != "│").collect::<Vec<_>>().join(" ")
}

/// Runs `medchain` with `args` and the test passphrase; returns (exit code, stdout, stderr).
fn medchain(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_medchain"))
        .args(args)
        .env("MEDCHAIN_PASSPHRASE", TEST_PASSPHRASE)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_builds_signs_and_submits_transactions() {
    let mut w = World::new();
    let node = start(&w.genesis_json, Some(&w.p.producer.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = key_file_for(dir.path(), "governor", &w.p.governor);
    let key = key_file.to_str().unwrap();
    let base = node.base.as_str();
    let insurer = w.p.insurer.key.to_hex();

    let (code, out, err) = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        key,
        "register-role",
        "--subject",
        &insurer,
        "--role",
        "3",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["status"], "confirmed", "{answer}");
    assert_eq!(answer["kind"], "register_role");

    let (code, out, err) =
        medchain(&["tx", "--node", base, "--key", key, "transfer", "--to", &insurer, "--amount", "777"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = medchain(&["query", "--node", base, "coins", &insurer]);
    assert_eq!(code, 0);
    let coins: Value = serde_json::from_str(&out).unwrap();
    assert!(coins["coins"].as_array().unwrap().iter().any(|c| c["value"] == 777), "{coins}");

    // The chain can be pinned: a node that runs another one is refused before anything is sent.
    let chain_id = w.chain.chain_id.to_hex();
    let pinned = medchain(&["query", "--node", base, "--chain-id", &chain_id, "status"]);
    assert_eq!(pinned.0, 0, "{pinned:?}");
    let elsewhere = "ab".repeat(32);
    let refused = medchain(&["query", "--node", base, "--chain-id", &elsewhere, "status"]);
    assert!(refused.0 == 2 && refused.2.contains("not the pinned chain"), "{refused:?}");
    let (_, before, _) = medchain(&["query", "--node", base, "coins", &insurer]);
    let refused = medchain(&[
        "tx",
        "--node",
        base,
        "--chain-id",
        &elsewhere,
        "--key",
        key,
        "transfer",
        "--to",
        &insurer,
        "--amount",
        "5",
    ]);
    assert!(refused.0 == 2 && refused.2.contains("not the pinned chain"), "{refused:?}");
    assert_eq!(medchain(&["query", "--node", base, "coins", &insurer]).1, before, "nothing was sent");

    // Refusals by the node exit 1 with its code; bad arguments and keys exit 2.
    let again = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        key,
        "register-role",
        "--subject",
        &insurer,
        "--role",
        "3",
    ]);
    assert!(again.0 == 1 && again.2.contains("ROLE_ALREADY_HELD"), "{again:?}");
    let unknown = medchain(&["tx", "--node", base, "--key", key, "revoke", "--grant", &"ab".repeat(32)]);
    assert!(unknown.0 == 1 && unknown.2.contains("UNKNOWN_ACCESS"), "{unknown:?}");
    // A policy module deployed from its file; one that admission refuses is never sent, and
    // fuel the fee does not pay for is caught before submitting.
    let module_file = |name: &str| {
        let path = dir.path().join(format!("{name}.wasm"));
        std::fs::write(&path, medchain_contracts::modules::module(name).unwrap().wasm().unwrap()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let deploy =
        |file: &str| medchain(&["tx", "--node", base, "--key", key, "deploy-module", "--wasm", file]);
    let (code, out, err) = deploy(&module_file("research_purpose"));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["kind"], "deploy_module");
    let research = medchain_contracts::modules::module("research_purpose").unwrap().wasm().unwrap();
    let hash = Hash32::sha256(&research).to_hex();
    let (code, out, _) = medchain(&["query", "--node", base, "module", &hash]);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["code"], hex::encode(&research));
    let refused = deploy(&module_file("forbidden_import"));
    assert!(refused.0 == 2 && refused.2.contains("MODULE_FORBIDDEN_IMPORT"), "{refused:?}");
    let unpaid = medchain(&[
        "tx", "--node", base, "--key", key, "--fuel", "5000000", "transfer", "--to", &insurer, "--amount",
        "1",
    ]);
    assert!(unpaid.0 == 2 && unpaid.2.contains("--fee"), "{unpaid:?}");

    let bad_key =
        medchain(&["tx", "--node", base, "--key", key, "transfer", "--to", "nope", "--amount", "1"]);
    assert!(bad_key.0 == 2 && bad_key.2.contains("not a compressed public key"), "{bad_key:?}");
    let poor = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        key,
        "transfer",
        "--to",
        &insurer,
        "--amount",
        "999999999999",
    ]);
    assert!(poor.0 == 2 && poor.2.contains("spendable coins"), "{poor:?}");
    let bad_query = medchain(&["query", "--node", base, "transaction", "xyz"]);
    assert!(bad_query.0 == 1 && bad_query.2.contains("BAD_HASH"), "{bad_query:?}");

    // A grant through the record's policy, with the record key sealed to the grantee.
    let api = medchain_client::Client::new(base);
    let (hospital, patient, researcher) = (w.p.hospital.clone(), w.p.patient.clone(), w.p.researcher.clone());
    // The record key is 0x11…, the release's salt 0x22…: the record secret a grantee gets.
    let (record_key_bytes, salt) = ([0x11; 32], [0x22; 32]);
    let secret = [record_key_bytes, salt].concat();
    let release =
        release_for(&mut w, &patient.key, medchain_wallet::record::commitment(&salt, b"lab results"));
    let release_id = api.submit(&release).await.unwrap();
    api.wait_confirmed(&release_id, Duration::from_secs(30), &mut |_| {}).await.unwrap();
    let sealed_record = medchain_wallet::record::encrypt(&record_key_bytes, b"lab results", &mut rand::rng());
    let ciphertext = api.upload(sealed_record.clone()).await.unwrap();
    let compiled = policy(&patient.key, &researcher.key);
    let storage = w.tx(
        &patient,
        Payload::Storage {
            release: release_id,
            patient: patient.key,
            ciphertext,
            policy: compiled.script.clone(),
            emergency: Some(shares_for(&[&hospital, &w.p.clinic.clone()], &release_id, &secret)),
            signature: Sig::EMPTY,
        },
        0,
        Some(&patient),
    );
    let record = api.submit(&storage).await.unwrap();
    api.wait_confirmed(&record, Duration::from_secs(30), &mut |_| {}).await.unwrap();
    let patient_file = key_file_for(dir.path(), "patient", &patient);
    let policy_file = dir.path().join("record.med");
    std::fs::write(&policy_file, POLICY).unwrap();
    let record_key = dir.path().join("record.key");
    std::fs::write(&record_key, hex::encode(&secret)).unwrap();
    let (record_hex, researcher_hex, patient_hex) =
        (record.to_hex(), researcher.key.to_hex(), patient.key.to_hex());
    let grant = |grantee_arg: &str| {
        medchain(&[
            "tx",
            "--node",
            base,
            "--key",
            patient_file.to_str().unwrap(),
            "grant",
            "--record",
            &record_hex,
            "--grantee",
            &researcher_hex,
            "--record-key",
            record_key.to_str().unwrap(),
            policy_file.to_str().unwrap(),
            "--arg",
            &format!("patient={patient_hex}"),
            "--arg",
            &format!("grantee={grantee_arg}"),
        ])
    };
    let mismatch = grant(&insurer);
    assert!(mismatch.0 == 2 && mismatch.2.contains("different script"), "{mismatch:?}");
    assert!(api.download(&w.chain.chain_id, &researcher, &record).await.is_err(), "no access yet");
    let (code, out, err) = grant(&researcher_hex);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(api.download(&w.chain.chain_id, &researcher, &record).await.unwrap(), sealed_record);

    // The grantee reads it: download, open the key deposit, decrypt.
    let granted: Value = serde_json::from_str(&out).unwrap();
    let researcher_file = key_file_for(dir.path(), "researcher", &researcher);
    let read = |access: &str| {
        medchain(&["read", "--node", base, "--key", researcher_file.to_str().unwrap(), "--access", access])
    };
    let (code, out, err) = read(granted["txid"].as_str().unwrap());
    assert_eq!((code, out.as_str()), (0, "lab results"), "{err}");
    let unknown = read(&"cd".repeat(32));
    assert!(unknown.0 == 1 && unknown.2.contains("NOT_FOUND"), "{unknown:?}");

    // A record that is not what its release committed to: the hospital released "lab results",
    // but what is stored and granted decrypts to something else. The reader refuses it.
    let release =
        release_for(&mut w, &patient.key, medchain_wallet::record::commitment(&salt, b"lab results"));
    let forged_release = api.submit(&release).await.unwrap();
    api.wait_confirmed(&forged_release, Duration::from_secs(30), &mut |_| {}).await.unwrap();
    let forged =
        medchain_wallet::record::encrypt(&record_key_bytes, b"lab results: all clear", &mut rand::rng());
    let storage = Payload::Storage {
        release: forged_release,
        patient: patient.key,
        ciphertext: api.upload(forged).await.unwrap(),
        policy: compiled.script.clone(),
        emergency: None,
        signature: Sig::EMPTY,
    };
    let storage = w.tx(&patient, storage, 0, Some(&patient));
    let forged_record = api.submit(&storage).await.unwrap();
    api.wait_confirmed(&forged_record, Duration::from_secs(30), &mut |_| {}).await.unwrap();
    let granted = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        patient_file.to_str().unwrap(),
        "grant",
        "--record",
        &forged_record.to_hex(),
        "--grantee",
        &researcher_hex,
        "--record-key",
        record_key.to_str().unwrap(),
        policy_file.to_str().unwrap(),
        "--arg",
        &format!("patient={patient_hex}"),
        "--arg",
        &format!("grantee={researcher_hex}"),
    ]);
    assert_eq!(granted.0, 0, "{granted:?}");
    let grant: Value = serde_json::from_str(&granted.1).unwrap();
    let refused = read(grant["txid"].as_str().unwrap());
    assert!(refused.0 == 3 && refused.2.contains("NOT_RELEASED") && refused.1.is_empty(), "{refused:?}");

    // A deposit made for another record does not open for this one; one that opens to a key
    // that is not the record's does not decrypt it. Each is refused with its code.
    let wrong_secret = [[0x33; 32], salt].concat();
    for (deposit, code) in [
        (
            seal_to(&researcher.key, &secret, Binding::Deposit(&forged_record), &mut rand::rng()).unwrap(),
            "BAD_DEPOSIT",
        ),
        (
            seal_to(&researcher.key, &wrong_secret, Binding::Deposit(&record), &mut rand::rng()).unwrap(),
            "WRONG_RECORD_KEY",
        ),
    ] {
        let bad = grant_with_deposit(&mut w, record, &compiled, deposit, (7, 0, 0));
        let bad_id = api.submit(&bad).await.unwrap();
        api.wait_confirmed(&bad_id, Duration::from_secs(30), &mut |_| {}).await.unwrap();
        let refused = read(&bad_id.to_hex());
        assert!(refused.0 == 3 && refused.2.contains(code) && refused.1.is_empty(), "{code}: {refused:?}");
    }

    // Break-glass by an institution, the two share holders release, the requester reads.
    let clinic = w.p.clinic.clone();
    let clinic_file = key_file_for(dir.path(), "clinic", &clinic);
    let hospital_file = key_file_for(dir.path(), "hospital", &hospital);
    let height = status(&reqwest::Client::new(), base).await["height"].as_u64().unwrap();
    let (code, out, err) = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        clinic_file.to_str().unwrap(),
        "emergency",
        "--record",
        &record_hex,
        "--patient",
        &patient_hex,
        "--justification",
        "unconscious in the emergency room",
        "--expiry",
        &(height + 50).to_string(),
        policy_file.to_str().unwrap(),
        "--arg",
        &format!("patient={patient_hex}"),
        "--arg",
        &format!("grantee={researcher_hex}"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let emergency: Value = serde_json::from_str(&out).unwrap();
    let emergency_id = emergency["txid"].as_str().unwrap().to_owned();
    let clinic_reads = || {
        medchain(&["read", "--node", base, "--key", clinic_file.to_str().unwrap(), "--access", &emergency_id])
    };
    let early = clinic_reads();
    assert!(early.0 == 2 && early.2.contains("do not recover the key"), "no shares yet: {early:?}");
    for holder in [&hospital_file, &clinic_file] {
        let (code, out, err) = medchain(&[
            "tx",
            "--node",
            base,
            "--key",
            holder.to_str().unwrap(),
            "share-release",
            "--emergency",
            &emergency_id,
            "--record",
            &record_hex,
            "--patient",
            &patient_hex,
        ]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, out, err) = clinic_reads();
    assert_eq!((code, out.as_str()), (0, "lab results"), "{err}");
    let stranger = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        patient_file.to_str().unwrap(),
        "share-release",
        "--emergency",
        &emergency_id,
        "--record",
        &record_hex,
        "--patient",
        &patient_hex,
    ]);
    assert!(
        stranger.0 == 2 && flat(&stranger.2).contains("holds no share of this record's key"),
        "{stranger:?}"
    );

    // The patient's audit log, through the command line: signed by the patient it is served,
    // with the justification sealed to them opened; signed by anyone else it is refused.
    let (code, out, err) =
        medchain(&["query", "--node", base, "audit", "--key", patient_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let audit: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(audit["justifications"][&emergency_id], "unconscious in the emergency room", "{audit}");
    assert!(!audit["accesses"].to_string().contains("unconscious"), "the node serves the text only sealed");
    let (code, _, err) =
        medchain(&["query", "--node", base, "audit", &patient_hex, "--key", clinic_file.to_str().unwrap()]);
    assert!(code == 1 && err.contains("NO_ACCESS"), "{err}");
    // This policy's emergency clause has no veto window: a veto comes too late.
    let (code, _, err) = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        patient_file.to_str().unwrap(),
        "veto",
        "--emergency",
        &emergency_id,
    ]);
    assert!(code == 1 && err.contains("VETO_WINDOW_CLOSED"), "{code}: {err}");

    // The whole record life through the command line: release, store, grant, read.
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(path("echo.txt"), "2026-11-28 echocardiogram: normal").unwrap();
    let clinic_hex = clinic.key.to_hex();
    let hospital_key = hospital_file.to_str().unwrap();
    let patient_key = patient_file.to_str().unwrap();
    let (code, out, err) = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        hospital_key,
        "release",
        "--patient",
        &patient_hex,
        "--record",
        &path("echo.txt"),
        "--handover",
        &path("handover.json"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        patient_key,
        "store",
        "--handover",
        &path("handover.json"),
        "--record-key-out",
        &path("echo.key"),
        "--share-holder",
        &hospital.key.to_hex(),
        "--share-holder",
        &clinic_hex,
        policy_file.to_str().unwrap(),
        "--arg",
        &format!("patient={patient_hex}"),
        "--arg",
        &format!("grantee={researcher_hex}"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let stored: Value = serde_json::from_str(&out).unwrap();
    // The handover and the record key are the owner's alone, and are never written over unasked.
    for secret in ["handover.json", "echo.key"] {
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path(secret)).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600, "{secret}");
    }
    let handover_before = std::fs::read(path("handover.json")).unwrap();
    let again = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        hospital_key,
        "release",
        "--patient",
        &patient_hex,
        "--record",
        &path("echo.txt"),
        "--handover",
        &path("handover.json"),
    ]);
    assert!(again.0 == 2 && again.2.contains("already exists"), "{again:?}");
    assert_eq!(std::fs::read(path("handover.json")).unwrap(), handover_before, "the handover is intact");
    let (code, out, err) = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        patient_key,
        "grant",
        "--record",
        stored["txid"].as_str().unwrap(),
        "--grantee",
        &researcher_hex,
        "--record-key",
        &path("echo.key"),
        policy_file.to_str().unwrap(),
        "--arg",
        &format!("patient={patient_hex}"),
        "--arg",
        &format!("grantee={researcher_hex}"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let granted: Value = serde_json::from_str(&out).unwrap();
    let (code, out, err) = read(granted["txid"].as_str().unwrap());
    assert_eq!((code, out.as_str()), (0, "2026-11-28 echocardiogram: normal"), "{err}");
    let forged = medchain(&[
        "tx",
        "--node",
        base,
        "--key",
        researcher_file.to_str().unwrap(),
        "store",
        "--handover",
        &path("handover.json"),
        "--record-key-out",
        &path("other.key"),
        policy_file.to_str().unwrap(),
        "--arg",
        &format!("patient={patient_hex}"),
        "--arg",
        &format!("grantee={researcher_hex}"),
    ]);
    assert!(forged.0 == 2 && forged.2.contains("opening the record key"), "{forged:?}");

    let wrong = Command::new(env!("CARGO_BIN_EXE_medchain"))
        .args(["tx", "--node", base, "--key", key, "transfer", "--to", &insurer, "--amount", "1"])
        .env("MEDCHAIN_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2), "a wrong passphrase is refused");
}

#[test]
fn no_node_accepts_a_genesis_holding_a_secret_key_and_a_producer_brings_its_own() {
    let w = World::new();
    let dir = tempfile::tempdir().unwrap();
    let mut with_secret: Value = serde_json::from_str(&w.genesis_json).unwrap();
    with_secret["dev_key"] = json!(hex::encode(w.p.producer.secret.secret_bytes()));
    let (genesis, leaky) = (dir.path().join("genesis.json"), dir.path().join("leaky.json"));
    std::fs::write(&genesis, &w.genesis_json).unwrap();
    std::fs::write(&leaky, with_secret.to_string()).unwrap();
    let producer = key_file_for(dir.path(), "producer", &w.p.producer);
    let stranger = key_file_for(dir.path(), "stranger", &w.p.outsider);
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let node = |genesis: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "node",
            "--genesis",
            genesis.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--listen",
            &listen,
        ];
        args.extend_from_slice(extra);
        medchain(&args)
    };
    let dev = ["--dev", "--producer-key", producer.to_str().unwrap()];
    for extra in [&[][..], &dev[..]] {
        let (code, _, err) = node(&leaky, extra);
        assert!(code == 2 && err.contains("secret key"), "{extra:?}: {code}: {err}");
    }
    let (code, _, err) = node(&genesis, &["--dev"]);
    assert!(code == 2 && err.contains("--producer-key"), "a dev node needs its key file: {err}");
    let (code, _, err) = node(&genesis, &["--dev", "--producer-key", stranger.to_str().unwrap()]);
    assert!(code == 2 && flat(&err).contains("not one of the genesis file's producers"), "{code}: {err}");
    assert!(!data.join("chain").exists(), "nothing was written");
}

/// Break-glass on a vault through the command line, as its users would: the patient stores a
/// record under `vault_emergency` with two guardians holding its key shares; one request is
/// vetoed and never unlocks; another waits out its window, then the guardians release their
/// shares and the requester reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_breaks_the_glass_on_a_vault_and_vetoes() {
    let w = World::new();
    let node = start(&w.genesis_json, Some(&w.p.producer.clone())).await;
    let base = node.base.as_str();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let file = |name: &str, signer: &medchain_primitives::Signer| {
        key_file_for(dir.path(), name, signer).to_str().unwrap().to_owned()
    };
    let (patient, hospital, clinic, outsider) = (
        file("patient", &w.p.patient),
        file("hospital", &w.p.hospital),
        file("clinic", &w.p.clinic),
        file("outsider", &w.p.outsider),
    );
    let hex = |signer: &medchain_primitives::Signer| signer.key.to_hex();
    let (patient_hex, hospital_hex, clinic_hex) = (hex(&w.p.patient), hex(&w.p.hospital), hex(&w.p.clinic));
    std::fs::write(path("vault.med"), medchain_contracts::standard("vault_emergency").unwrap().source)
        .unwrap();
    std::fs::write(path("panel.txt"), "2026-12-01 genetic panel: KCNH2 variant").unwrap();
    let policy_args = [path("vault.med"), "--arg".into(), format!("patient={patient_hex}")];
    let tx = |key: &str, command: &[&str], with_policy: bool| {
        let mut args = vec!["tx", "--node", base, "--key", key];
        args.extend_from_slice(command);
        if with_policy {
            args.extend(policy_args.iter().map(String::as_str));
        }
        medchain(&args)
    };
    let ok = |(code, out, err): (i32, String, String)| -> Value {
        assert_eq!(code, 0, "{out}{err}");
        serde_json::from_str(&out).unwrap()
    };
    let refused = |(code, out, err): (i32, String, String), expected: &str| {
        assert!(code == 1 && err.contains(expected), "expected {expected}: {code} {out}{err}");
    };

    ok(tx(
        &hospital,
        &[
            "release",
            "--patient",
            &patient_hex,
            "--record",
            &path("panel.txt"),
            "--handover",
            &path("handover.json"),
        ],
        false,
    ));
    let store = [
        "store",
        "--handover",
        &path("handover.json"),
        "--record-key-out",
        &path("panel.key"),
        "--share-holder",
        &hospital_hex,
        "--share-holder",
        &clinic_hex,
    ];
    let record = ok(tx(&patient, &store, true))["txid"].as_str().unwrap().to_owned();
    let height = || async { status(&reqwest::Client::new(), base).await["height"].as_u64().unwrap() };
    let emergency = |key: &str, why: &str, expiry: u64| {
        let expiry = expiry.to_string();
        let command = [
            "emergency",
            "--record",
            &record,
            "--patient",
            &patient_hex,
            "--justification",
            why,
            "--expiry",
            &expiry,
        ];
        tx(key, &command, true)
    };
    let release_share = |key: &str, access: &str| {
        tx(
            key,
            &["share-release", "--emergency", access, "--record", &record, "--patient", &patient_hex],
            false,
        )
    };
    let access_view = |access: &str| {
        let (code, out, err) = medchain(&["query", "--node", base, "access", access]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };

    // The clinic asks; its request waits out a window of the 6 blocks after its own; the patient
    // vetoes it.
    let asked = ok(emergency(&clinic, "second opinion", height().await + 50));
    let vetoed = asked["txid"].as_str().unwrap().to_owned();
    let at = asked["block"]["height"].as_u64().unwrap();
    assert_eq!(access_view(&vetoed)["unlocks"].as_u64().unwrap(), at + 7, "{asked}");
    refused(release_share(&hospital, &vetoed), "VETO_WINDOW_OPEN");
    refused(tx(&outsider, &["veto", "--emergency", &vetoed], false), "NOT_GUARDIAN");
    ok(tx(&patient, &["veto", "--emergency", &vetoed], false));
    refused(release_share(&hospital, &vetoed), "VETOED");
    assert_eq!(access_view(&vetoed)["vetoed"], true);

    // The hospital asks; nobody vetoes; after the window the guardians release and it reads.
    let asked = ok(emergency(&hospital, "cardiac arrest", height().await + 50));
    let access = asked["txid"].as_str().unwrap().to_owned();
    let unlocks = access_view(&access)["unlocks"].as_u64().unwrap();
    let reader = ["read", "--node", base, "--key", &hospital, "--access", &access];
    let early = medchain(&reader);
    assert!(
        early.0 == 2 && flat(&early.2).contains("do not recover the key"),
        "no shares in the window: {early:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while height().await < unlocks {
        assert!(Instant::now() < deadline, "the chain never reached block {unlocks}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    refused(tx(&patient, &["veto", "--emergency", &access], false), "VETO_WINDOW_CLOSED");
    ok(release_share(&clinic, &access));
    ok(release_share(&hospital, &access));
    let (code, out, err) = medchain(&reader);
    assert_eq!((code, out.as_str()), (0, "2026-12-01 genetic panel: KCNH2 variant"), "{err}");

    // The patient's audit log shows both, one vetoed, each with its justification.
    let audit = ok(medchain(&["query", "--node", base, "audit", "--key", &patient]));
    let vetoes: Vec<bool> =
        audit["accesses"].as_array().unwrap().iter().map(|a| a["vetoed"].as_bool().unwrap()).collect();
    assert_eq!(vetoes, [true, false], "{audit}");
    assert_eq!(audit["justifications"][&vetoed], "second opinion");
    assert_eq!(audit["justifications"][&access], "cardiac arrest");
}

/// The node's resident memory, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A validating node on loopback with a stored record, its ciphertext and a live grant of it to
/// the researcher: (the mirror world, the node, the record, its ciphertext).
async fn a_granted_record() -> (World, RunningNode, Hash32, Vec<u8>) {
    let mut w = World::new();
    let node = start(&w.genesis_json, None).await;
    let (client, api) = (reqwest::Client::new(), medchain_client::Client::new(&node.base));
    let (record, compiled, key) = stored_record(&mut w);
    let content = ciphertext_of(&w.store.record(&record).unwrap().unwrap().release);
    api.upload(content.clone()).await.unwrap();
    let grant_tx = grant(&mut w, record, &compiled, &key, true);
    w.mine(vec![grant_tx]);
    sync(&client, &node.base, &w, &mut 0).await;
    (w, node, record, content)
}

/// A flood of unauthenticated challenge requests, more than the old pool's 10,000, from many
/// connections at once: a legitimate reader's reads beside it all succeed, and the node keeps
/// no state for the flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_flood_holds_no_reader_up() {
    const FLOOD: usize = 12_000;
    const CONNECTIONS: usize = 32;
    const READS: usize = 20;
    let (w, node, record, content) = a_granted_record().await;
    let base = node.base.clone();
    let api = medchain_client::Client::new(&base);
    let researcher = w.p.researcher.clone();
    let before = resident_kib(node.child.id());

    let flooders: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, base) = (reqwest::Client::new(), base.clone());
            tokio::spawn(async move {
                let mut answered = 0;
                for _ in 0..FLOOD / CONNECTIONS {
                    let response = client.post(format!("{base}/v1/challenge")).send().await.unwrap();
                    assert_eq!(response.status().as_u16(), 200, "a challenge is never refused");
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    for _ in 0..READS {
        let read = api.download(&w.chain.chain_id, &researcher, &record).await;
        assert_eq!(read.unwrap(), content, "the reader is never held up by the flood");
    }
    let mut answered = 0;
    for flooder in flooders {
        answered += flooder.await.unwrap();
    }
    assert_eq!(answered, FLOOD / CONNECTIONS * CONNECTIONS);
    let after = resident_kib(node.child.id());
    assert!(after < before + 64 * 1024, "the flood grew the node from {before} KiB to {after} KiB");
}

/// Slow uploads, many more than the node writes at once, each sending a byte and then nothing:
/// reads and submissions beside them go through, the slow ones are cut off once idle, and an
/// upload after them is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_uploads_hold_no_reader_up() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SLOW: usize = 100;
    let (mut w, node, record, content) = a_granted_record().await;
    let base = node.base.clone();
    let api = medchain_client::Client::new(&base);
    let researcher = w.p.researcher.clone();

    let address = base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for i in 0..SLOW {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let hash = Hash32::sha256(&i.to_le_bytes());
        let head = format!(
            "PUT /v1/ciphertexts/{hash} HTTP/1.1\r\nhost: {address}\r\ncontent-length: 1000\r\n\r\nx"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        slow.push(stream);
    }
    for _ in 0..5 {
        let read = api.download(&w.chain.chain_id, &researcher, &record).await;
        assert_eq!(read.unwrap(), content, "a read beside slow uploads");
    }
    let patient = w.p.patient.clone();
    let transfer = w.tx(&patient, Payload::Transfer, 0, None);
    assert_eq!(api.submit(&transfer).await.unwrap(), transfer.txid(), "a submission beside slow uploads");

    // Idle past the limit, every slow upload is answered and closed: cut off, or never let in.
    let mut answers = std::collections::BTreeMap::new();
    for mut stream in slow {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "a slow upload was never cut off");
        let status = String::from_utf8_lossy(&answer).split_whitespace().nth(1).unwrap_or("none").to_owned();
        *answers.entry(status).or_insert(0) += 1;
    }
    assert!(answers.keys().all(|s| s == "408" || s == "503"), "{answers:?}");
    let after = b"uploaded once the slow ones are gone".to_vec();
    assert_eq!(api.upload(after.clone()).await.unwrap(), Hash32::sha256(&after));
}
