//! The HTTP API's JSON, pinned: every endpoint's answer (and the error body) reduced to its
//! shape — field names, and for each value its kind (hash, key, hex, string, number, bool,
//! null) — and compared with a reviewed snapshot, so a change to what `docs/api.md` documents
//! cannot pass unnoticed.

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a failing test stops loudly; these are its assertions"
)]

use std::collections::BTreeMap;

use crate::common::process::*;
use crate::common::*;
use medchain::demo::{self, Cast};
use medchain_chain::genesis::Genesis;
use medchain_chain::transaction::{Payload, RecordAccess};
use medchain_chain::validate::Chain;
use medchain_primitives::Hash32;
use medchain_primitives::codec::Encode;
use serde_json::{Value, json};

/// The kind of a JSON value, with objects and arrays taken apart.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(text) => {
            let hex = !text.is_empty() && text.len() % 2 == 0 && text.bytes().all(|b| b.is_ascii_hexdigit());
            json!(match (hex, text.len()) {
                (true, 64) => "hash",
                (true, 66) => "key",
                (true, _) => "hex",
                (false, _) => "string",
            })
        }
        Value::Array(items) => match items.iter().map(shape).reduce(merge) {
            Some(item) => json!([item]),
            None => json!("empty list"),
        },
        Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

/// One shape covering both: fields of either object, a value's kinds joined with `|`.
fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (a, b) if a == b => a,
        // An empty list fits any list's shape.
        (Value::String(empty), Value::Array(list)) | (Value::Array(list), Value::String(empty))
            if empty == "empty list" =>
        {
            Value::Array(list)
        }
        // A value that may be a kind or a shape ({"or", "shape"}) takes the other in.
        (Value::Object(either), other) | (other, Value::Object(either)) if is_either(&either) => {
            let (kind, shape) = (either["or"].clone(), either["shape"].clone());
            match other {
                Value::String(_) => json!({ "or": merge(kind, other), "shape": shape }),
                other => json!({ "or": kind, "shape": merge(shape, other) }),
            }
        }
        (Value::Object(mut a), Value::Object(b)) => {
            for (key, value) in b {
                let merged = match a.remove(&key) {
                    Some(old) => merge(old, value),
                    None => value,
                };
                a.insert(key, merged);
            }
            Value::Object(a)
        }
        (Value::Array(a), Value::Array(b)) => json!([merge(a[0].clone(), b[0].clone())]),
        (Value::String(a), Value::String(b)) => {
            let mut kinds: Vec<&str> = a.split(" | ").chain(b.split(" | ")).collect();
            kinds.sort_unstable();
            kinds.dedup();
            json!(kinds.join(" | "))
        }
        (Value::String(kind), other) | (other, Value::String(kind)) => json!({ "or": kind, "shape": other }),
        (a, b) => json!({ "either": a, "or": b }),
    }
}

/// Whether an object is a merged "a kind or a shape".
fn is_either(object: &serde_json::Map<String, Value>) -> bool {
    object.len() == 2 && object.contains_key("or") && object.contains_key("shape")
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_shape_is_pinned() {
    let mut shapes = BTreeMap::new();
    let client = reqwest::Client::new();
    let mut record = |name: &str, (status, body): (u16, Value)| {
        shapes.insert(name.to_owned(), json!({ "status": status, "body": shape(&body) }));
    };

    // A dev node after the whole demo story: records with shares, grants, an emergency access,
    // share releases, a revocation, reads, a read-log anchor and a policy module.
    let mut cast = Cast::new();
    let genesis_json = cast.genesis_json();
    let chain = Chain::new(Genesis::from_json(&genesis_json).unwrap());
    let node = start(&genesis_json, Some(cast.producer_signer())).await;
    demo::play(&node.base, &chain, &mut cast).await.unwrap();
    let base = node.base.clone();
    let get = |path: &str| client.get(format!("{base}{path}"));
    let alice = cast.patient_key();
    // The patient's lists answer only a signed request: the client signs, and its typed answer
    // is the node's JSON read back.
    let api = medchain_client::Client::new(&base);
    let signed = |value: serde_json::Result<Value>| (200, value.unwrap());
    let audit = api.audit(&chain.chain_id, cast.patient_signer(), &alice).await.unwrap();
    let records = api.records(&chain.chain_id, cast.patient_signer(), &alice).await.unwrap();
    let access = audit.accesses[1].access;
    let stored = records.records.iter().find(|r| r.emergency.is_some()).unwrap().record;
    record("GET /v1/status", answer(get("/v1/status")).await);
    record("GET /v1/blocks", answer(get("/v1/blocks")).await);
    record("GET /v1/blocks/{height}", answer(get("/v1/blocks/1")).await);
    record("GET /v1/patients/{key}/records (signed)", signed(serde_json::to_value(&records)));
    record("GET /v1/patients/{key}/audit (signed)", signed(serde_json::to_value(&audit)));
    record(
        "error: GET /v1/patients/{key}/audit unsigned",
        answer(get(&format!("/v1/patients/{alice}/audit"))).await,
    );
    record("GET /v1/records/{id}", answer(get(&format!("/v1/records/{stored}"))).await);
    record("GET /v1/accesses/{txid}", answer(get(&format!("/v1/accesses/{access}"))).await);
    record(
        "GET /v1/transactions/{txid} (confirmed)",
        answer(get(&format!("/v1/transactions/{access}"))).await,
    );
    record("GET /v1/keys/{key}/coins", answer(get(&format!("/v1/keys/{alice}/coins"))).await);
    let module = Hash32::sha256(&crate::common::admission::wasm("research_purpose"));
    record("GET /v1/modules/{hash}", answer(get(&format!("/v1/modules/{module}"))).await);
    record("GET /v1/reads", answer(get("/v1/reads")).await);
    record("POST /v1/challenge", answer(client.post(format!("{base}/v1/challenge"))).await);
    record("error: unknown endpoint", answer(get("/v1/nothing")).await);
    drop(node);

    // A node that does not produce: a transaction stays pending; blocks come from a mirror
    // world; a refused access names the VM's error.
    let mut w = World::new();
    let node = start(&w.genesis_json, None).await;
    let base = node.base.clone();
    let (storage, _, _) = stored_record(&mut w);
    let mut sent = 0;
    sync(&client, &base, &w, &mut sent).await;
    let mined = w.block(vec![]);
    w.time -= 600;
    let patient = w.p.patient.clone();
    let tx = w.tx(&patient, Payload::Transfer, 0, None);
    let submitted = answer(
        client.post(format!("{base}/v1/transactions")).json(&json!({ "tx": hex::encode(tx.to_bytes()) })),
    )
    .await;
    record("POST /v1/transactions", submitted);
    record(
        "GET /v1/transactions/{txid} (pending)",
        answer(client.get(format!("{base}/v1/transactions/{}", tx.txid()))).await,
    );
    let imported = answer(
        client.post(format!("{base}/v1/blocks")).json(&json!({ "block": hex::encode(mined.to_bytes()) })),
    )
    .await;
    record("POST /v1/blocks", imported);
    let ciphertext = b"an encrypted record".to_vec();
    let hash = Hash32::sha256(&ciphertext);
    record(
        "PUT /v1/ciphertexts/{hash}",
        answer(client.put(format!("{base}/v1/ciphertexts/{hash}")).body(ciphertext)).await,
    );
    let researcher = w.p.researcher.clone();
    let forged =
        RecordAccess { record: storage, unlock: vec![0x00], sequence: u32::MAX, deposit: Vec::new() };
    let grant = w.tx(
        &researcher,
        Payload::AccessGrant { grantee: researcher.key, purpose: 1, records: vec![forged] },
        0,
        None,
    );
    let refused = answer(
        client.post(format!("{base}/v1/transactions")).json(&json!({ "tx": hex::encode(grant.to_bytes()) })),
    )
    .await;
    record("error: a policy refused", refused);

    insta::assert_snapshot!(serde_json::to_string_pretty(&shapes).unwrap());
}
