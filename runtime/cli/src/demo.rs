//! `medchain demo`: the lecture's story, played by separate parties against a dev node over
//! HTTP. A hospital is registered and releases a record; the patient stores it under a consent
//! and emergency policy; a research team gets it through a grant with a key deposit; an insurer
//! without consent is refused; a second hospital breaks the glass and decrypts with released key
//! shares; the audit log shows it all; the patient revokes and the next read fails. Then a
//! study record under a research-purpose rule that runs as a wasm policy module: a grant for
//! another purpose is refused with the module's reason, one for the approved purpose works.

#![allow(
    clippy::indexing_slicing,
    reason = "indexing a serde_json::Value by key gives Null when the key is missing; it never panics"
)]

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use medchain_compiler::medscript::Compiled;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, satisfy};
use medchain_compiler::medscript::types::Value as PolicyValue;
use medchain_compiler::medscript::{clause_taken, compile};
use secp256k1::SecretKey;
use serde_json::{Value, json};

use medchain_chain::genesis::Genesis;
use medchain_chain::standard::{data_output, pay_to_key, unlock_pay_to_key};
use medchain_chain::transaction::{
    EmergencyShares, OutPoint, Payload, RecordAccess, ShareDeposit, Transaction, TxIn, TxOut,
};
use medchain_chain::validate::Chain;
use medchain_client::{Client, ClientError};
use medchain_node::server::{Node, NodeConfig, READ_ANCHOR_TAG, serve_on};
use medchain_primitives::Signer;
use medchain_primitives::codec::Decode;
use medchain_primitives::ecies;
use medchain_primitives::{Hash32, PubKey, Sig};
use medchain_wallet::{record, shamir};

const COIN: u64 = 1_000_000;
const FEE: u64 = 1_000;
const COINS_EACH: usize = 4;
const WAIT: Duration = Duration::from_secs(60);

/// Fuel an access through a policy that calls a module declares for each script check.
const MODULE_FUEL: u64 = 100_000;

/// The research purpose the study record approves (cardiology research).
const APPROVED_PURPOSE: u32 = 21;

/// A party: a name, a key, and its coins.
struct Party {
    name: &'static str,
    signer: Signer,
    coins: Vec<(OutPoint, u64)>,
}

impl Party {
    fn new(name: &'static str, seed: u8) -> Party {
        let mut secret = [seed; 32];
        secret[0] = 0x4d;
        Party {
            name,
            signer: Signer::new(SecretKey::from_byte_array(secret).unwrap_or_else(|_| unreachable!())),
            coins: Vec::new(),
        }
    }

    fn key(&self) -> PubKey {
        self.signer.key
    }
}

struct Demo {
    client: Client,
    chain_id: Hash32,
}

fn step(title: &str) {
    println!("\n== {title}");
}

/// Makes a record access's unlocking script from a transaction's signing digest.
type Unlocker<'a> = dyn Fn(&Hash32) -> Result<Vec<u8>, String> + 'a;

impl Demo {
    /// Pays the fee from one of `payer`'s coins, signs the payload with `author`, submits and
    /// waits for the block. Returns the txid.
    async fn send(&self, payer: &mut Party, payload: Payload, author: &Signer) -> Result<Hash32, String> {
        let tx = self.build(payer, payload, (0, 0), Some(author), None)?;
        self.submit(payer, tx).await.map_err(|e| e.to_string())
    }

    /// Builds and signs a transaction ending at `expiry` with `fuel` for policy modules;
    /// `unlock` makes the record accesses' unlocking script from the signing digest.
    fn build(
        &self,
        payer: &mut Party,
        payload: Payload,
        (expiry, fuel): (u32, u64),
        author: Option<&Signer>,
        unlock: Option<&Unlocker<'_>>,
    ) -> Result<Transaction, String> {
        let (outpoint, value) =
            payer.coins.pop().unwrap_or((OutPoint { txid: Hash32::default(), index: 0 }, 0));
        let mut tx = Transaction::new(
            vec![TxIn { prevout: outpoint, unlock: Vec::new(), sequence: u32::MAX }],
            vec![TxOut { value: value.saturating_sub(FEE), lock: pay_to_key(&payer.key()) }],
            payload,
        );
        tx.expiry = expiry;
        tx.fuel = fuel;
        let digest = tx.signing_digest(&self.chain_id);
        if let Some(author) = author {
            tx.payload.set_signature(author.sign(&digest));
        }
        if let Some(unlock) = unlock {
            let script = unlock(&digest)?;
            for access in tx.payload.record_accesses_mut() {
                access.unlock = script.clone();
            }
        }
        if let Some(input) = tx.inputs.first_mut() {
            input.unlock = unlock_pay_to_key(&payer.signer, &digest);
        }
        Ok(tx)
    }

    /// Downloads a ciphertext as `reader` and decrypts it with the record key the deposit
    /// seals to them.
    async fn read_with_deposit(
        &self,
        reader: &Signer,
        ciphertext: &Hash32,
        deposit: &[u8],
    ) -> Result<Vec<u8>, String> {
        let downloaded =
            self.client.download(&self.chain_id, reader, ciphertext).await.map_err(|e| e.to_string())?;
        let key: [u8; 32] = ecies::open(&reader.secret, deposit)
            .map_err(|e| e.to_string())?
            .try_into()
            .map_err(|_| "bad key")?;
        record::decrypt(&key, &downloaded).map_err(|e| e.to_string())
    }

    async fn submit(&self, payer: &mut Party, tx: Transaction) -> Result<Hash32, ClientError> {
        let txid = self.client.submit(&tx).await?;
        let interactive = std::io::stdout().is_terminal();
        let mut last = u64::MAX;
        let confirmed = self
            .client
            .wait_confirmed(&txid, WAIT, &mut |seconds| {
                if interactive && seconds != last {
                    print!("\r   … waiting for {} to enter a block ({seconds}s)", short(&txid));
                    let _ = std::io::stdout().flush();
                    last = seconds;
                }
            })
            .await?;
        if interactive && last != u64::MAX {
            print!("\r\x1b[2K");
        }
        println!("   {} ({}) in block {}", tx.payload.kind(), short(&txid), confirmed["block"]["height"]);
        if let Some(out) = tx.outputs.first() {
            payer.coins.insert(0, (OutPoint { txid, index: 0 }, out.value));
        }
        Ok(txid)
    }
}

fn short(hash: &Hash32) -> String {
    hash.to_hex().get(..12).unwrap_or_default().to_owned() + "…"
}

fn unlock_record(compiled: &Compiled, clause: usize, holdings: &Holdings) -> Result<Vec<u8>, String> {
    satisfy(compiled, holdings)
        .clauses
        .get(clause)
        .ok_or("no such clause")?
        .result
        .clone()
        .map(|w| w.script())
        .map_err(|need| format!("the policy needs {need}"))
}

/// The parties of the story, with the coins the genesis gives them.
pub struct Cast {
    governor: Party,
    producer: Party,
    hospital: Party,
    patient: Party,
    researcher: Party,
    insurer: Party,
    clinic: Party,
    university: Party,
}

impl Default for Cast {
    fn default() -> Self {
        Self::new()
    }
}

impl Cast {
    /// The parties, each with a fixed key so the story is the same on every run.
    pub fn new() -> Cast {
        Cast {
            governor: Party::new("the Health Ministry", 1),
            producer: Party::new("the block producer", 2),
            hospital: Party::new("St. Mary's Hospital", 3),
            patient: Party::new("Alice", 4),
            researcher: Party::new("the cardiology research team", 5),
            insurer: Party::new("an insurer", 6),
            clinic: Party::new("City Clinic", 7),
            university: Party::new("University Hospital", 8),
        }
    }

    fn spenders(&mut self) -> [&mut Party; 7] {
        [
            &mut self.governor,
            &mut self.hospital,
            &mut self.patient,
            &mut self.researcher,
            &mut self.insurer,
            &mut self.clinic,
            &mut self.university,
        ]
    }

    /// The dev genesis file the story runs on: the governor, the dev producer key, coins for
    /// every party, and two institutions registered from the start.
    pub fn genesis_json(&mut self) -> String {
        let allocations: Vec<Value> = self
            .spenders()
            .iter()
            .flat_map(|p| {
                std::iter::repeat_n(
                    json!({ "lock": hex::encode(pay_to_key(&p.key())), "value": COIN }),
                    COINS_EACH,
                )
            })
            .collect();
        json!({
            "chain_name": "medchain-demo", "time": 1_767_225_600u64,
            "roles": { "medical_institution": 1, "research": 2, "insurer": 3 },
            "governors": [self.governor.key().to_hex()], "producers": [self.producer.key().to_hex()],
            "block_reward": 50 * COIN, "allocations": allocations,
            "initial_roles": [
                { "key": self.clinic.key().to_hex(), "role": "medical_institution" },
                { "key": self.university.key().to_hex(), "role": "medical_institution" },
            ],
            "dev_key": hex::encode(self.producer.signer.secret.secret_bytes()),
        })
        .to_string()
    }

    /// Gives each party its genesis coins.
    fn fund(&mut self, chain: &Chain) {
        let mut index = 0u32;
        for party in self.spenders() {
            party.coins.clear();
            for _ in 0..COINS_EACH {
                party.coins.push((chain.allocation_outpoint(index), COIN));
                index += 1;
            }
        }
    }
}

/// Runs the demo on a dev node of its own (a temporary directory, a loopback port); returns an
/// error message if a step did not go as the story says.
pub async fn run() -> Result<(), String> {
    let mut cast = Cast::new();
    let genesis = Genesis::from_json(&cast.genesis_json()).map_err(|e| e.to_string())?;
    let chain = Chain::new(genesis);

    step("Starting a dev node on a temporary directory");
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let config = NodeConfig { dev: true, block_interval: Duration::from_secs(1), listen: address };
    let node = Arc::new(Node::open(dir.path(), chain.clone(), config)?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_on(node, listener, async move {
        let _ = stopped.await;
    }));
    let outcome = play(&format!("http://{address}"), &chain, &mut cast).await;
    let _ = stop.send(());
    let _ = server.await;
    outcome
}

/// Plays the story against the node at `url`, which runs `chain` from the cast's genesis.
pub async fn play(url: &str, chain: &Chain, cast: &mut Cast) -> Result<(), String> {
    cast.fund(chain);
    let demo = Demo { client: Client::new(url), chain_id: chain.chain_id };
    let status = demo.client.status().await.map_err(|e| e.to_string())?;
    println!("   node at {url}, chain {} ({})", status["chain_name"], short(&chain.chain_id));
    let Cast { governor, hospital, patient, researcher, insurer, clinic, university, .. } = cast;
    story(&demo, governor, hospital, patient, researcher, insurer, clinic, university).await
}

#[allow(clippy::too_many_arguments)]
async fn story(
    demo: &Demo,
    governor: &mut Party,
    hospital: &mut Party,
    patient: &mut Party,
    researcher: &mut Party,
    insurer: &mut Party,
    clinic: &mut Party,
    university: &mut Party,
) -> Result<(), String> {
    let fail = |e: ClientError| e.to_string();
    let mut rng = rand::rng();

    step(&format!("{} registers {} as a medical institution", governor.name, hospital.name));
    let register = Payload::RegisterRole {
        subject: hospital.key(),
        role: 1,
        governor: governor.key(),
        signature: Sig::EMPTY,
    };
    let gov_signer = governor.signer.clone();
    demo.send(governor, register, &gov_signer).await?;

    step(&format!("{} releases a record for {}", hospital.name, patient.name));
    let record_text = b"2026-11-28 ECG: sinus rhythm, QTc 412 ms. Diagnosis: long QT ruled out.".to_vec();
    let salt = record::new_key(&mut rng);
    let commitment = Hash32::sha256(&[&salt[..], &record_text].concat());
    let hospital_key = record::new_key(&mut rng);
    let for_patient = record::encrypt(&hospital_key, &record_text, &mut rng);
    let key_to_patient = ecies::seal(&patient.key().key().ok_or("bad key")?, &hospital_key, &mut rng)
        .map_err(|e| e.to_string())?;
    let release = Payload::Release {
        patient: patient.key(),
        institution: hospital.key(),
        commitment,
        signature: Sig::EMPTY,
    };
    let hospital_signer = hospital.signer.clone();
    let release_id = demo.send(hospital, release, &hospital_signer).await?;
    println!(
        "   on chain: a salted commitment {}; off chain the patient receives the record encrypted, and its key",
        short(&commitment)
    );

    step(&format!("{} stores the record under a consent + emergency policy", patient.name));
    let key = ecies::open(&patient.signer.secret, &key_to_patient).map_err(|e| e.to_string())?;
    let key: [u8; 32] = key.try_into().map_err(|_| "bad record key")?;
    let plain = record::decrypt(&key, &for_patient).map_err(|e| e.to_string())?;
    let record_key = record::new_key(&mut rng);
    let ciphertext = record::encrypt(&record_key, &plain, &mut rng);
    let ciphertext_hash = demo.client.upload(ciphertext).await.map_err(fail)?;
    println!("   ciphertext {} uploaded to the record store", short(&ciphertext_hash));
    let policy = medchain_contracts::standard("emergency_override").ok_or("no standard policy")?;
    let checked = policy.checked(&RoleRegistry::standard()).map_err(|d| format!("{d:?}"))?;
    let args = [("patient".to_owned(), PolicyValue::PubKey(patient.key().0))].into_iter().collect();
    let compiled = compile(&checked, &args).map_err(|e| e.to_string())?;
    println!(
        "{}",
        medchain_compiler::medscript::explain(&checked)
            .lines()
            .map(|l| format!("   {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let shares = shamir::split(&record_key, 2, 3, &mut rng).map_err(|e| e.to_string())?;
    let mut deposits = Vec::new();
    for (holder, share) in [&*hospital, &*clinic, &*university].iter().zip(&shares) {
        let envelope = ecies::seal(&holder.key().key().ok_or("bad key")?, &share.to_bytes(), &mut rng)
            .map_err(|e| e.to_string())?;
        deposits.push(ShareDeposit { holder: holder.key(), envelope });
    }
    println!(
        "   the record key is split 2 of 3 among {}, {} and {}",
        hospital.name, clinic.name, university.name
    );
    let storage = Payload::Storage {
        release: release_id,
        patient: patient.key(),
        ciphertext: ciphertext_hash,
        policy: compiled.script.clone(),
        emergency: Some(EmergencyShares { threshold: 2, shares: deposits }),
        signature: Sig::EMPTY,
    };
    let patient_signer = patient.signer.clone();
    let record_id = demo.send(patient, storage, &patient_signer).await?;

    step(&format!("{} asks; {} shares with a key deposit", researcher.name, patient.name));
    let deposit = ecies::seal(&researcher.key().key().ok_or("bad key")?, &record_key, &mut rng)
        .map_err(|e| e.to_string())?;
    let access = RecordAccess { record: record_id, unlock: Vec::new(), sequence: u32::MAX, deposit };
    let grant = Payload::AccessGrant { grantee: researcher.key(), purpose: 7, records: vec![access] };
    let consent = |digest: &Hash32| {
        let holdings =
            Holdings { digest: digest.0, secret_keys: vec![patient_signer.secret], ..Holdings::default() };
        unlock_record(&compiled, 0, &holdings)
    };
    let tx = demo.build(patient, grant, (0, 0), None, Some(&consent))?;
    let grant_tx = tx.clone();
    let grant_id = demo.submit(patient, tx).await.map_err(fail)?;
    let deposit = grant_tx.record_accesses().first().map(|a| a.deposit.clone()).unwrap_or_default();
    let read = demo.read_with_deposit(&researcher.signer, &ciphertext_hash, &deposit).await?;
    println!(
        "   the team downloads, opens the key deposit and reads: \"{}\"",
        String::from_utf8_lossy(&read)
    );

    step(&format!("{} tries without consent", insurer.name));
    match demo.client.download(&demo.chain_id, &insurer.signer, &ciphertext_hash).await {
        Err(ClientError::Refused { code, message, .. }) if code == "NO_ACCESS" => {
            println!("   read refused: {code}: {message}")
        }
        other => return Err(format!("the insurer's read should be refused, got {other:?}")),
    }
    let sneaky = Payload::AccessGrant {
        grantee: insurer.key(),
        purpose: 9,
        records: vec![RecordAccess {
            record: record_id,
            unlock: vec![0x00, 0x51],
            sequence: u32::MAX,
            deposit: Vec::new(),
        }],
    };
    let sneaky_tx = demo.build(insurer, sneaky, (0, 0), None, None)?;
    match demo.client.submit(&sneaky_tx).await {
        Err(ClientError::Refused { code, message, .. }) if code == "POLICY_REFUSED" => {
            println!("   self-granted access refused: {code}: {message}")
        }
        other => return Err(format!("the insurer's grant should be refused, got {other:?}")),
    }

    step(&format!("{} breaks the glass", clinic.name));
    let height = demo.client.status().await.map_err(fail)?["height"].as_u64().unwrap_or(0);
    let expiry = u32::try_from(height + 100).unwrap_or(u32::MAX);
    let emergency = Payload::EmergencyAccess {
        requester: clinic.key(),
        justification: "unconscious patient in the emergency room; cardiac history needed".into(),
        records: vec![RecordAccess {
            record: record_id,
            unlock: Vec::new(),
            sequence: u32::MAX,
            deposit: Vec::new(),
        }],
        signature: Sig::EMPTY,
    };
    let clinic_signer = clinic.signer.clone();
    let break_glass = |digest: &Hash32| {
        let holdings = Holdings {
            digest: digest.0,
            secret_keys: vec![clinic_signer.secret],
            roles: [(clinic_signer.key.0, [1].into())].into(),
            emergency_expires_in: Some(100),
            ..Holdings::default()
        };
        unlock_record(&compiled, 1, &holdings)
    };
    let tx = demo.build(clinic, emergency, (expiry, 0), Some(&clinic_signer), Some(&break_glass))?;
    let emergency_id = demo.submit(clinic, tx).await.map_err(fail)?;
    let stored = demo.client.records(&patient.key().to_hex()).await.map_err(fail)?;
    println!(
        "   the patient's record list shows {} record(s)",
        stored["records"].as_array().map_or(0, Vec::len)
    );
    let mut collected = Vec::new();
    for holder in [&mut *hospital, &mut *university] {
        let envelope = {
            let sealed = sealed_share(&stored, &record_id, &holder.key())?;
            let share = ecies::open(&holder.signer.secret, &sealed).map_err(|e| e.to_string())?;
            ecies::seal(&clinic_signer.key.key().ok_or("bad key")?, &share, &mut rng)
                .map_err(|e| e.to_string())?
        };
        let release = Payload::ShareRelease {
            emergency: emergency_id,
            record: record_id,
            holder: holder.key(),
            envelope,
            signature: Sig::EMPTY,
        };
        let signer = holder.signer.clone();
        demo.send(holder, release, &signer).await?;
        println!(
            "   {} released its share to {}",
            holder.name,
            clinic_signer.key.to_hex().get(..12).unwrap_or_default()
        );
    }
    let access = demo.client.access(&emergency_id).await.map_err(fail)?;
    for release in access["share_releases"].as_array().into_iter().flatten() {
        let envelope =
            hex::decode(release["envelope"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
        let share = ecies::open(&clinic_signer.secret, &envelope).map_err(|e| e.to_string())?;
        collected.push(shamir::Share::from_bytes(&share).ok_or("short share")?);
    }
    let key: [u8; 32] =
        shamir::combine(&collected).map_err(|e| e.to_string())?.try_into().map_err(|_| "bad key")?;
    let downloaded =
        demo.client.download(&demo.chain_id, &clinic.signer, &ciphertext_hash).await.map_err(fail)?;
    let read = record::decrypt(&key, &downloaded).map_err(|e| e.to_string())?;
    println!("   with 2 of 3 shares the clinic decrypts: \"{}\"", String::from_utf8_lossy(&read));

    step(&format!("{} revokes the research grant", patient.name));
    let revoke = Payload::Revocation { grant: grant_id, owner: patient.key(), signature: Sig::EMPTY };
    demo.send(patient, revoke, &patient_signer).await?;
    match demo.client.download(&demo.chain_id, &researcher.signer, &ciphertext_hash).await {
        Err(ClientError::Refused { code, message, .. }) if code == "NO_ACCESS" => {
            println!("   the team's next read is refused: {code}: {message}")
        }
        other => return Err(format!("the revoked read should be refused, got {other:?}")),
    }

    step(&format!("{}'s audit log", patient.name));
    let audit = demo.client.audit(&patient.key().to_hex()).await.map_err(fail)?;
    let emergencies = |list: &str| {
        let all = audit[list].as_array().map_or(&[][..], Vec::as_slice);
        (all.len(), all.iter().filter(|e| e["emergency"] == true).count())
    };
    if emergencies("accesses") != (2, 1) || emergencies("reads") != (2, 1) {
        return Err(format!(
            "the audit log should show a grant, an emergency access and their two reads: {audit}"
        ));
    }
    let names: Vec<(String, &str)> =
        [&*researcher, &*clinic, &*insurer, &*patient].iter().map(|p| (p.key().to_hex(), p.name)).collect();
    let who = |key: &Value| {
        let key = key.as_str().unwrap_or_default();
        names.iter().find(|(k, _)| k == key).map_or_else(|| key.to_owned(), |(_, name)| (*name).to_owned())
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    for a in audit["accesses"].as_array().into_iter().flatten() {
        let kind = if a["emergency"] == true { "EMERGENCY access" } else { "grant" };
        let state = match (&a["revoked_at"], a["active"] == true) {
            (Value::Number(height), _) => format!("revoked at block {height}"),
            (_, true) if a["expiry"] == 0 => "live, no expiry".to_owned(),
            (_, true) => format!("live until block {}", a["expiry"]),
            (_, false) => format!("expired at block {}", a["expiry"]),
        };
        // The patient knows the policy, so reads the clause back from the access's unlocking.
        let access_id = Hash32::from_hex(&text(&a["access"])).ok_or("bad access id")?;
        let answer = demo.client.transaction(&access_id).await.map_err(fail)?;
        let tx = Transaction::from_bytes(&hex::decode(text(&answer["tx"])).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let unlock = tx.record_accesses().iter().find(|r| r.record == record_id).map(|r| r.unlock.clone());
        let clause = unlock.and_then(|u| clause_taken(&compiled, &u)).ok_or("no clause for an access")?;
        println!(
            "   block {}: {kind} to {}, under clause \"{clause}\", {state}",
            a["height"],
            who(&a["grantee"])
        );
        if let Some(j) = a["justification"].as_str().filter(|j| !j.is_empty()) {
            println!("            justification: \"{j}\"");
        }
    }
    for r in audit["reads"].as_array().into_iter().flatten() {
        let through = match text(&r["access"]) {
            access if access.is_empty() => "as the owner".to_owned(),
            access if r["emergency"] == true => {
                format!("under emergency access {}…", access.get(..12).unwrap_or_default())
            }
            access => format!("under grant {}…", access.get(..12).unwrap_or_default()),
        };
        println!(
            "   unix time {}: {} downloaded record {}… {through}",
            r["time"],
            who(&r["reader"]),
            text(&r["record"]).get(..12).unwrap_or_default()
        );
    }

    step("The node's read log, anchored on chain");
    let start = std::time::Instant::now();
    let log = loop {
        let log = demo.client.read_log().await.map_err(fail)?;
        if log["anchored"]["count"] == log["count"] {
            break log;
        }
        if start.elapsed() > WAIT {
            return Err(format!("the read log was never anchored: {log}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let height = log["anchored"]["height"].as_u64().unwrap_or_default();
    let head = Hash32::from_hex(log["head"].as_str().unwrap_or_default()).ok_or("bad read log head")?;
    let anchor = data_output(&[READ_ANCHOR_TAG, &head.0].concat());
    let block = demo.client.block(height).await.map_err(fail)?;
    if !block.transactions.first().is_some_and(|coinbase| coinbase.outputs.contains(&anchor)) {
        return Err(format!("block {height}'s coinbase does not carry the read log's head"));
    }
    println!(
        "   {} reads, head {}, carried by block {height}'s coinbase as a data output",
        log["count"],
        short(&head)
    );

    research_under_a_module(demo, hospital, patient, researcher).await?;

    step("Blocks");
    let blocks = demo.client.blocks(20).await.map_err(fail)?;
    for b in blocks["blocks"].as_array().into_iter().flatten().rev() {
        let kinds: Vec<&str> = b["transactions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["kind"].as_str())
            .filter(|k| *k != "coinbase")
            .collect();
        if !kinds.is_empty() {
            println!(
                "   block {:>3} {}… {}",
                b["height"].as_u64().unwrap_or_default(),
                b["hash"].as_str().unwrap_or_default().get(..12).unwrap_or_default(),
                kinds.join(", ")
            );
        }
    }
    println!("\nThe story played out as it should.");
    let _ = insurer;
    Ok(())
}

/// A study record under `approved_research`: the research-purpose rule runs as a wasm policy
/// module the hospital deploys; a grant for another purpose is refused with the module's reason,
/// one for the approved purpose goes through and the team decrypts.
async fn research_under_a_module(
    demo: &Demo,
    hospital: &mut Party,
    patient: &mut Party,
    researcher: &Party,
) -> Result<(), String> {
    let fail = |e: ClientError| e.to_string();
    let mut rng = rand::rng();
    step(&format!("{} deploys a research-purpose rule as a wasm policy module", hospital.name));
    let rule = medchain_contracts::modules::module("research_purpose")
        .ok_or("no research_purpose module")?
        .wasm()
        .map_err(|e| e.to_string())?;
    let rule_hash = Hash32::sha256(&rule);
    let hospital_signer = hospital.signer.clone();
    demo.send(hospital, Payload::DeployModule { code: rule }, &hospital_signer).await?;
    println!("   module {} passed admission; policies call it by its hash", short(&rule_hash));

    step(&format!("{} stores a study record under the `approved_research` policy", patient.name));
    let text = b"Cohort 7, anonymised: 412 ECGs, 9 long-QT findings.".to_vec();
    let salt = record::new_key(&mut rng);
    let release = Payload::Release {
        patient: patient.key(),
        institution: hospital.key(),
        commitment: Hash32::sha256(&[&salt[..], &text].concat()),
        signature: Sig::EMPTY,
    };
    let release_id = demo.send(hospital, release, &hospital_signer).await?;
    let record_key = record::new_key(&mut rng);
    let ciphertext_hash =
        demo.client.upload(record::encrypt(&record_key, &text, &mut rng)).await.map_err(fail)?;
    let policy = medchain_contracts::standard("approved_research").ok_or("no standard policy")?;
    let checked = policy.checked(&RoleRegistry::standard()).map_err(|d| format!("{d:?}"))?;
    let args = [
        ("patient".to_owned(), PolicyValue::PubKey(patient.key().0)),
        ("rule".to_owned(), PolicyValue::Module(rule_hash.0)),
        ("purpose".to_owned(), PolicyValue::Number(i64::from(APPROVED_PURPOSE))),
    ]
    .into_iter()
    .collect();
    let compiled = compile(&checked, &args).map_err(|e| e.to_string())?;
    println!("   {}", medchain_compiler::medscript::explain(&checked).lines().nth(1).unwrap_or_default());
    let storage = Payload::Storage {
        release: release_id,
        patient: patient.key(),
        ciphertext: ciphertext_hash,
        policy: compiled.script.clone(),
        emergency: None,
        signature: Sig::EMPTY,
    };
    let patient_signer = patient.signer.clone();
    let record_id = demo.send(patient, storage, &patient_signer).await?;

    let deposit = ecies::seal(&researcher.key().key().ok_or("bad key")?, &record_key, &mut rng)
        .map_err(|e| e.to_string())?;
    let grant = |purpose| Payload::AccessGrant {
        grantee: researcher.key(),
        purpose,
        records: vec![RecordAccess {
            record: record_id,
            unlock: Vec::new(),
            sequence: u32::MAX,
            deposit: deposit.clone(),
        }],
    };
    let consent = |digest: &Hash32| {
        let holdings =
            Holdings { digest: digest.0, secret_keys: vec![patient_signer.secret], ..Holdings::default() };
        unlock_record(&compiled, 0, &holdings)
    };

    step(&format!("{} signs a grant for marketing (purpose 9): the module refuses it", patient.name));
    let tx = demo.build(patient, grant(9), (0, MODULE_FUEL), None, Some(&consent))?;
    match demo.client.submit(&tx).await {
        Err(ClientError::Refused { code, message, .. }) if code == "POLICY_REFUSED" => {
            println!("   refused: {code}: {message}");
            println!("   (research_purpose's reason 2: the grant's purpose is not the approved one)");
        }
        other => return Err(format!("a grant for another purpose should be refused, got {other:?}")),
    }

    step(&format!("{} grants cardiology research (purpose {APPROVED_PURPOSE})", patient.name));
    let tx = demo.build(patient, grant(APPROVED_PURPOSE), (0, MODULE_FUEL), None, Some(&consent))?;
    demo.submit(patient, tx).await.map_err(fail)?;
    let read = demo.read_with_deposit(&researcher.signer, &ciphertext_hash, &deposit).await?;
    println!(
        "   the module allowed it; the team opens its key deposit and reads: \"{}\"",
        String::from_utf8_lossy(&read)
    );
    Ok(())
}

/// The share of `record`'s key sealed to `holder`, from a patient's record list.
fn sealed_share(records: &Value, record: &Hash32, holder: &PubKey) -> Result<Vec<u8>, String> {
    let entry = records["records"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["record"] == record.to_hex().as_str())
        .ok_or("the stored record is not listed")?;
    let share = entry["emergency"]["shares"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["holder"] == holder.to_hex().as_str())
        .ok_or("no share for this holder")?;
    hex::decode(share["envelope"].as_str().unwrap_or_default()).map_err(|e| e.to_string())
}
