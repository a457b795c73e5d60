//! The chain's rules, transaction type by transaction type: the full story of a record
//! succeeds, and each rule has a failing case that names its error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, satisfy};
use medchain_compiler::medscript::types::Value;
use medchain_compiler::medscript::{Compiled, check, compile, parse};
use medchain_runtime::chain::block::Block;
use medchain_runtime::chain::builder::{Signer, pay_to_key, sign_inputs};
use medchain_runtime::chain::genesis::Genesis;
use medchain_runtime::chain::primitives::{Hash32, PubKey, Sig};
use medchain_runtime::chain::state::StateRead;
use medchain_runtime::chain::store::MemoryStore;
use medchain_runtime::chain::transaction::{
    EmergencyShares, OutPoint, Payload, RecordAccess, ShareDeposit, Transaction, TxIn, TxOut,
};
use medchain_runtime::chain::validate::{Applied, BlockError, Chain, Tip, TxError};
use medchain_runtime::crypto::{ecies, shamir};
use secp256k1::SecretKey;

const COIN: u64 = 1_000_000;
const FEE: u64 = 1_000;

fn signer(n: u8) -> Signer {
    Signer::new(SecretKey::from_byte_array([n; 32]).unwrap())
}

struct People {
    governor: Signer,
    producer: Signer,
    hospital: Signer,
    patient: Signer,
    researcher: Signer,
    insurer: Signer,
    clinic: Signer,
    outsider: Signer,
}

fn people() -> People {
    People {
        governor: signer(1),
        producer: signer(2),
        hospital: signer(3),
        patient: signer(4),
        researcher: signer(5),
        insurer: signer(6),
        clinic: signer(7),
        outsider: signer(8),
    }
}

struct World {
    chain: Chain,
    store: MemoryStore,
    tip: Tip,
    time: u64,
    p: People,
    coins: BTreeMap<PubKey, Vec<(OutPoint, u64)>>,
}

impl World {
    fn new() -> World {
        let p = people();
        let everyone =
            [&p.governor, &p.hospital, &p.patient, &p.researcher, &p.insurer, &p.clinic, &p.outsider];
        let allocations: Vec<serde_json::Value> = everyone
            .iter()
            .flat_map(|s| {
                std::iter::repeat_n(
                    serde_json::json!({"lock": hex::encode(pay_to_key(&s.key)), "value": COIN}),
                    8,
                )
            })
            .collect();
        let genesis = serde_json::json!({
            "chain_name": "medchain-test",
            "time": 1_767_225_600u64,
            "roles": {"medical_institution": 1, "research": 2, "insurer": 3},
            "governors": [p.governor.key.to_hex()],
            "producers": [p.producer.key.to_hex()],
            "block_reward": 50 * COIN,
            "allocations": allocations,
            "initial_roles": [
                {"key": p.hospital.key.to_hex(), "role": "medical_institution"},
                {"key": p.clinic.key.to_hex(), "role": "medical_institution"},
            ],
        });
        let chain = Chain::new(Genesis::from_json(&genesis.to_string()).unwrap());
        let mut store = MemoryStore::default();
        store.apply(chain.genesis_changes());
        let mut coins: BTreeMap<PubKey, Vec<(OutPoint, u64)>> = BTreeMap::new();
        for (i, s) in everyone.iter().enumerate() {
            for j in 0..8 {
                let outpoint = chain.genesis.allocation_outpoint(u32::try_from(i * 8 + j).unwrap());
                coins.entry(s.key).or_default().push((outpoint, COIN));
            }
        }
        let tip = Tip { height: 0, hash: chain.chain_id };
        World { chain, store, tip, time: 1_767_225_600, p, coins }
    }

    /// A transaction paying its fee from one of `payer`'s coins, change back to the payer;
    /// payload signatures made by `sign`, inputs signed by the payer.
    fn tx(&mut self, payer: &Signer, payload: Payload, expiry: u32, sign: Option<&Signer>) -> Transaction {
        let (outpoint, value) = self.coins.get_mut(&payer.key).unwrap().pop().unwrap();
        let mut tx = Transaction::new(
            vec![TxIn { prevout: outpoint, unlock: Vec::new(), sequence: u32::MAX }],
            vec![TxOut { value: value - FEE, lock: pay_to_key(&payer.key) }],
            payload,
        );
        tx.expiry = expiry;
        let digest = tx.signing_digest(&self.chain.chain_id);
        if let Some(signer) = sign {
            set_signature(&mut tx.payload, signer.sign(&digest));
        }
        sign_inputs(&mut tx, &self.chain.chain_id, &[payer]);
        tx
    }

    fn block(&mut self, txs: Vec<Transaction>) -> Block {
        self.time += 600;
        self.chain.build_block(&self.store, &self.tip, self.time, &self.p.producer, &self.p.producer.key, txs)
    }

    fn apply(&mut self, block: &Block) -> Result<Applied, BlockError> {
        let applied = self.chain.validate_block(&self.store, block)?;
        self.store.apply(applied.changes.clone());
        self.tip = applied.tip;
        for tx in &block.transactions {
            let txid = tx.txid();
            if let Some(out) = tx.outputs.first() {
                if matches!(tx.payload, Payload::Coinbase { .. }) {
                    continue;
                }
                let owner = self.coin_owner(&out.lock);
                if let Some(owner) = owner {
                    self.coins.entry(owner).or_default().insert(0, (OutPoint { txid, index: 0 }, out.value));
                }
            }
        }
        Ok(applied)
    }

    fn coin_owner(&self, lock: &[u8]) -> Option<PubKey> {
        self.coins.keys().find(|k| pay_to_key(k) == lock).copied()
    }

    /// Mines a block with `txs`, expecting success.
    fn mine(&mut self, txs: Vec<Transaction>) -> Applied {
        let block = self.block(txs);
        self.apply(&block).unwrap_or_else(|e| panic!("block refused: {e}"))
    }

    /// Mines a block with `tx`, expecting this transaction error.
    fn refuse(&mut self, tx: Transaction) -> TxError {
        let block = self.block(vec![tx]);
        self.time -= 600;
        match self.chain.validate_block(&self.store, &block) {
            Err(BlockError::Transaction { error, .. }) => error,
            other => panic!("expected a transaction error, got {other:?}"),
        }
    }
}

fn set_signature(payload: &mut Payload, sig: Sig) {
    match payload {
        Payload::RegisterRole { signature, .. }
        | Payload::WithdrawRole { signature, .. }
        | Payload::Release { signature, .. }
        | Payload::Storage { signature, .. }
        | Payload::EmergencyAccess { signature, .. }
        | Payload::ShareRelease { signature, .. }
        | Payload::Revocation { signature, .. } => *signature = sig,
        _ => {}
    }
}

/// The record policy used in these tests: the patient consents (with a key deposit for the
/// grantee), or a registered institution breaks the glass for at most 144 blocks.
const POLICY: &str = r#"
policy record(patient: pubkey, grantee: pubkey) {
    clause "patient consents" {
        sig(patient) and deposit(grantee)
    }

    clause "emergency" {
        role_sig(medical_institution) and emergency(144 blocks)
    }
}
"#;

fn policy(patient: &PubKey, grantee: &PubKey) -> Compiled {
    let (checked, diagnostics) = check(&parse(POLICY).unwrap(), &RoleRegistry::standard());
    let checked = checked.unwrap_or_else(|| panic!("{diagnostics:?}"));
    let args = [("patient", patient), ("grantee", grantee)]
        .into_iter()
        .map(|(n, k)| (n.to_owned(), Value::PubKey(k.0)))
        .collect();
    compile(&checked, &args).unwrap()
}

fn role_payload(w: &World, subject: &PubKey, role: u32, register: bool) -> Payload {
    let (subject, governor, signature) = (*subject, w.p.governor.key, Sig::EMPTY);
    if register {
        Payload::RegisterRole { subject, role, governor, signature }
    } else {
        Payload::WithdrawRole { subject, role, governor, signature }
    }
}

/// Releases and stores a record for the patient, with the record key split 2 of 2 between
/// the hospital and the clinic. Returns (storage txid, compiled policy, record key).
fn stored_record(w: &mut World) -> (Hash32, Compiled, Vec<u8>) {
    let (hospital, patient, clinic, researcher) =
        (w.p.hospital.clone(), w.p.patient.clone(), w.p.clinic.clone(), w.p.researcher.clone());
    let release = w.tx(
        &hospital,
        Payload::Release {
            patient: patient.key,
            institution: hospital.key,
            commitment: Hash32::sha256(b"salt|record"),
            signature: Sig::EMPTY,
        },
        0,
        Some(&hospital),
    );
    let release_id = release.txid();
    w.mine(vec![release]);
    let compiled = policy(&patient.key, &researcher.key);
    let record_key = b"an AES key of exactly 32 bytes!!".to_vec();
    let shares = shamir::split(&record_key, 2, 2, &mut rand::rng()).unwrap();
    let deposits = [&hospital, &clinic]
        .iter()
        .zip(&shares)
        .map(|(holder, share)| ShareDeposit {
            holder: holder.key,
            envelope: ecies::seal(
                &holder.key.key().unwrap(),
                &[&[share.threshold, share.index][..], &share.data].concat(),
                &mut rand::rng(),
            )
            .unwrap(),
        })
        .collect();
    let storage = w.tx(
        &patient,
        Payload::Storage {
            release: release_id,
            patient: patient.key,
            ciphertext: Hash32::sha256(b"ciphertext"),
            policy: compiled.script.clone(),
            emergency: Some(EmergencyShares { threshold: 2, shares: deposits }),
            signature: Sig::EMPTY,
        },
        0,
        Some(&patient),
    );
    let storage_id = storage.txid();
    w.mine(vec![storage]);
    (storage_id, compiled, record_key)
}

/// An access grant to the researcher, unlocked by the patient's consent clause.
fn grant(w: &mut World, record: Hash32, compiled: &Compiled, key: &[u8], with_deposit: bool) -> Transaction {
    let (patient, researcher) = (w.p.patient.clone(), w.p.researcher.clone());
    let deposit = if with_deposit {
        ecies::seal(&researcher.key.key().unwrap(), key, &mut rand::rng()).unwrap()
    } else {
        Vec::new()
    };
    let access = RecordAccess { record, unlock: Vec::new(), sequence: u32::MAX, deposit };
    let mut tx = w.tx(
        &patient,
        Payload::AccessGrant { grantee: researcher.key, purpose: 7, records: vec![access] },
        0,
        None,
    );
    let digest = tx.signing_digest(&w.chain.chain_id);
    let holdings = Holdings {
        digest: digest.0,
        secret_keys: vec![patient.secret],
        deposits: [researcher.key.0].into(),
        ..Holdings::default()
    };
    let witness = satisfy(compiled, &holdings).clauses[0].result.clone().unwrap();
    if let Payload::AccessGrant { records, .. } = &mut tx.payload {
        records[0].unlock = witness.script();
    }
    sign_inputs(&mut tx, &w.chain.chain_id, &[&patient]);
    tx
}

/// An emergency access by `requester`, unlocked by the emergency clause.
fn emergency(
    w: &mut World,
    record: Hash32,
    compiled: &Compiled,
    requester: &Signer,
    expiry: u32,
    justification: &str,
) -> Transaction {
    let access = RecordAccess { record, unlock: Vec::new(), sequence: u32::MAX, deposit: Vec::new() };
    let payload = Payload::EmergencyAccess {
        requester: requester.key,
        justification: justification.into(),
        records: vec![access],
        signature: Sig::EMPTY,
    };
    let mut tx = w.tx(requester, payload, expiry, Some(requester));
    let digest = tx.signing_digest(&w.chain.chain_id);
    let holdings = Holdings {
        digest: digest.0,
        secret_keys: vec![requester.secret],
        roles: [(requester.key.0, [1].into())].into(),
        // The requester's claim; the chain checks the transaction's real expiry.
        emergency_expires_in: Some(1),
        ..Holdings::default()
    };
    let witness = satisfy(compiled, &holdings).clauses[1].result.clone().unwrap_or_else(|n| panic!("{n}"));
    if let Payload::EmergencyAccess { records, .. } = &mut tx.payload {
        records[0].unlock = witness.script();
    }
    set_signature(&mut tx.payload, requester.sign(&digest));
    sign_inputs(&mut tx, &w.chain.chain_id, &[requester]);
    tx
}

#[test]
fn the_story_of_a_record() {
    let mut w = World::new();
    let (researcher, patient, hospital, clinic) =
        (w.p.researcher.clone(), w.p.patient.clone(), w.p.hospital.clone(), w.p.clinic.clone());
    let governor = w.p.governor.clone();
    let register = w.tx(&governor, role_payload(&w, &researcher.key, 2, true), 0, Some(&governor));
    w.mine(vec![register]);
    assert!(w.store.has_role(&researcher.key, 2).unwrap());

    let (record, compiled, key) = stored_record(&mut w);
    assert_eq!(w.store.record(&record).unwrap().unwrap().patient, patient.key);

    let grant_tx = grant(&mut w, record, &compiled, &key, true);
    let grant_id = grant_tx.txid();
    w.mine(vec![grant_tx.clone()]);
    assert!(w.store.access_active(&grant_id, w.tip.height).unwrap());
    let deposit = &grant_tx.record_accesses()[0].deposit;
    assert_eq!(
        ecies::open(&researcher.secret, deposit).unwrap(),
        key,
        "the researcher decrypts the record key"
    );

    let revoke = w.tx(
        &patient,
        Payload::Revocation { grant: grant_id, owner: patient.key, signature: Sig::EMPTY },
        0,
        Some(&patient),
    );
    w.mine(vec![revoke]);
    assert!(
        !w.store.access_active(&grant_id, w.tip.height).unwrap(),
        "reads are refused after the revocation block"
    );

    let expiry = w.tip.height + 100;
    let breakglass = emergency(&mut w, record, &compiled, &clinic, expiry, "unconscious patient in the ER");
    let emergency_id = breakglass.txid();
    w.mine(vec![breakglass]);
    let access = w.store.grant(&emergency_id).unwrap().unwrap();
    assert!(access.emergency && access.patient == patient.key);

    // Both share holders release their shares to the clinic; the clinic combines them.
    let stored = w.store.record(&record).unwrap().unwrap();
    let mut releases = Vec::new();
    let mut shares = Vec::new();
    for holder in [&hospital, &clinic] {
        let deposit =
            stored.emergency.as_ref().unwrap().shares.iter().find(|s| s.holder == holder.key).unwrap();
        let share = ecies::open(&holder.secret, &deposit.envelope).unwrap();
        let envelope = ecies::seal(&clinic.key.key().unwrap(), &share, &mut rand::rng()).unwrap();
        let payload = Payload::ShareRelease {
            emergency: emergency_id,
            record,
            holder: holder.key,
            envelope,
            signature: Sig::EMPTY,
        };
        let tx = w.tx(holder, payload, 0, Some(holder));
        if let Payload::ShareRelease { envelope, .. } = &tx.payload {
            let share = ecies::open(&clinic.secret, envelope).unwrap();
            shares.push(shamir::Share { threshold: share[0], index: share[1], data: share[2..].to_vec() });
        }
        releases.push(tx);
    }
    w.mine(releases);
    assert_eq!(shamir::combine(&shares).unwrap(), key, "the clinic decrypts with two released shares");
}

#[test]
fn role_rules() {
    let mut w = World::new();
    let (governor, outsider, researcher) =
        (w.p.governor.clone(), w.p.outsider.clone(), w.p.researcher.clone());
    let payload = Payload::RegisterRole {
        subject: researcher.key,
        role: 2,
        governor: outsider.key,
        signature: Sig::EMPTY,
    };
    let tx = w.tx(&outsider, payload, 0, Some(&outsider));
    assert!(matches!(w.refuse(tx), TxError::NotGovernor(_)));
    let tx = w.tx(&governor, role_payload(&w, &researcher.key, 2, true), 0, Some(&outsider));
    assert_eq!(w.refuse(tx), TxError::BadSignature("governor"));
    let tx = w.tx(&governor, role_payload(&w, &researcher.key, 99, true), 0, Some(&governor));
    assert_eq!(w.refuse(tx), TxError::UnknownRole(99));
    let hospital = w.p.hospital.key;
    let tx = w.tx(&governor, role_payload(&w, &hospital, 1, true), 0, Some(&governor));
    assert_eq!(w.refuse(tx), TxError::RoleAlreadyHeld);
    let tx = w.tx(&governor, role_payload(&w, &researcher.key, 2, false), 0, Some(&governor));
    assert_eq!(w.refuse(tx), TxError::RoleNotHeld);
    let tx = w.tx(&governor, role_payload(&w, &hospital, 1, false), 0, Some(&governor));
    w.mine(vec![tx]);
    assert!(!w.store.has_role(&hospital, 1).unwrap(), "roles can be withdrawn");
}

#[test]
fn release_and_storage_rules() {
    let mut w = World::new();
    let (hospital, patient, outsider, insurer) =
        (w.p.hospital.clone(), w.p.patient.clone(), w.p.outsider.clone(), w.p.insurer.clone());
    let release = |w: &World, institution: &Signer| Payload::Release {
        patient: w.p.patient.key,
        institution: institution.key,
        commitment: Hash32::sha256(b"r"),
        signature: Sig::EMPTY,
    };
    let p = release(&w, &outsider);
    let tx = w.tx(&outsider, p, 0, Some(&outsider));
    assert_eq!(w.refuse(tx), TxError::NotInstitution("releasing institution"));
    let p = release(&w, &hospital);
    let tx = w.tx(&hospital, p, 0, Some(&outsider));
    assert_eq!(w.refuse(tx), TxError::BadSignature("institution"));

    let (record, compiled, _) = stored_record(&mut w);
    let stored = w.store.record(&record).unwrap().unwrap();
    let storage = |release: Hash32, patient: PubKey, policy: Vec<u8>, emergency: Option<EmergencyShares>| {
        Payload::Storage {
            release,
            patient,
            ciphertext: Hash32::sha256(b"c"),
            policy,
            emergency,
            signature: Sig::EMPTY,
        }
    };
    let unknown = Hash32::sha256(b"no such release");
    let tx = w.tx(&patient, storage(unknown, patient.key, compiled.script.clone(), None), 0, Some(&patient));
    assert_eq!(w.refuse(tx), TxError::UnknownRelease(unknown));
    let tx = w.tx(
        &insurer,
        storage(stored.release, insurer.key, compiled.script.clone(), None),
        0,
        Some(&insurer),
    );
    assert_eq!(w.refuse(tx), TxError::WrongPatient);
    let tx = w.tx(
        &patient,
        storage(stored.release, patient.key, compiled.script.clone(), None),
        0,
        Some(&patient),
    );
    assert_eq!(w.refuse(tx), TxError::AlreadyStored(stored.release));

    let p = release(&w, &hospital);
    let fresh = w.tx(&hospital, p, 0, Some(&hospital));
    let fresh_id = fresh.txid();
    w.mine(vec![fresh]);
    let tx = w.tx(&patient, storage(fresh_id, patient.key, Vec::new(), None), 0, Some(&patient));
    assert_eq!(w.refuse(tx), TxError::EmptyPolicy);
    let tx =
        w.tx(&patient, storage(fresh_id, patient.key, compiled.script.clone(), None), 0, Some(&outsider));
    assert_eq!(w.refuse(tx), TxError::BadSignature("patient"));
    let share = |holder: &Signer| ShareDeposit {
        holder: holder.key,
        envelope: vec![1; ecies::ENVELOPE_OVERHEAD + 4],
    };
    let twice = EmergencyShares { threshold: 1, shares: vec![share(&hospital), share(&hospital)] };
    let tx = w.tx(
        &patient,
        storage(fresh_id, patient.key, compiled.script.clone(), Some(twice)),
        0,
        Some(&patient),
    );
    assert_eq!(w.refuse(tx), TxError::BadShares("a holder appears twice"));
    let too_many = EmergencyShares { threshold: 2, shares: vec![share(&hospital)] };
    let tx = w.tx(
        &patient,
        storage(fresh_id, patient.key, compiled.script.clone(), Some(too_many)),
        0,
        Some(&patient),
    );
    assert_eq!(w.refuse(tx), TxError::BadShares("threshold is not within 1..=shares"));
    let outsider_share = EmergencyShares { threshold: 1, shares: vec![share(&outsider)] };
    let tx = w.tx(
        &patient,
        storage(fresh_id, patient.key, compiled.script.clone(), Some(outsider_share)),
        0,
        Some(&patient),
    );
    assert_eq!(w.refuse(tx), TxError::NotInstitution("share holder"));
}

#[test]
fn access_rules() {
    let mut w = World::new();
    let (record, compiled, key) = stored_record(&mut w);
    let no_deposit = grant(&mut w, record, &compiled, &key, false);
    assert!(
        matches!(w.refuse(no_deposit), TxError::Policy { error, .. } if error.name() == "MISSING_KEY_DEPOSIT")
    );

    let mut forged = grant(&mut w, record, &compiled, &key, true);
    if let Payload::AccessGrant { grantee, .. } = &mut forged.payload {
        *grantee = w.p.insurer.key; // the patient signed a grant to the researcher, not this
    }
    sign_inputs(&mut forged, &w.chain.chain_id, &[&w.p.patient.clone()]);
    assert!(matches!(w.refuse(forged), TxError::Policy { error, .. } if error.name() == "NULLFAIL"));

    let mut unknown = grant(&mut w, record, &compiled, &key, true);
    let missing = Hash32::sha256(b"no such record");
    if let Payload::AccessGrant { records, .. } = &mut unknown.payload {
        records[0].record = missing;
    }
    sign_inputs(&mut unknown, &w.chain.chain_id, &[&w.p.patient.clone()]);
    assert_eq!(w.refuse(unknown), TxError::UnknownRecord(missing));

    let mut twice = grant(&mut w, record, &compiled, &key, true);
    if let Payload::AccessGrant { records, .. } = &mut twice.payload {
        let copy = records[0].clone();
        records.push(copy);
    }
    assert_eq!(w.refuse(twice), TxError::DuplicateRecord(record));

    let mut short = grant(&mut w, record, &compiled, &key, true);
    if let Payload::AccessGrant { records, .. } = &mut short.payload {
        records[0].deposit = vec![1, 2, 3];
    }
    sign_inputs(&mut short, &w.chain.chain_id, &[&w.p.patient.clone()]);
    assert_eq!(w.refuse(short), TxError::BadDeposit(record));
}

#[test]
fn emergency_rules() {
    let mut w = World::new();
    let (record, compiled, _) = stored_record(&mut w);
    let (outsider, clinic, hospital, patient) =
        (w.p.outsider.clone(), w.p.clinic.clone(), w.p.hospital.clone(), w.p.patient.clone());
    let expiry = w.tip.height + 100;
    let tx = emergency(&mut w, record, &compiled, &outsider, expiry, "claims an emergency");
    assert_eq!(w.refuse(tx), TxError::NotInstitution("requester"));
    let tx = emergency(&mut w, record, &compiled, &clinic, expiry, "  ");
    assert_eq!(w.refuse(tx), TxError::EmptyJustification);
    let tx = emergency(&mut w, record, &compiled, &clinic, 0, "stroke");
    assert_eq!(w.refuse(tx), TxError::MissingExpiry);
    let too_long = w.tip.height + 1_000;
    let tx = emergency(&mut w, record, &compiled, &clinic, too_long, "stroke");
    assert!(matches!(w.refuse(tx), TxError::Policy { error, .. } if error.name() == "EMERGENCY_EXPIRY"));

    let tx = emergency(&mut w, record, &compiled, &clinic, expiry, "stroke");
    let access = tx.txid();
    w.mine(vec![tx]);
    let release = |_: &World, holder: &Signer, record: Hash32, emergency: Hash32| Payload::ShareRelease {
        emergency,
        record,
        holder: holder.key,
        envelope: vec![7; ecies::ENVELOPE_OVERHEAD + 3],
        signature: Sig::EMPTY,
    };
    let nowhere = Hash32::sha256(b"none");
    let p = release(&w, &hospital, record, nowhere);
    let tx = w.tx(&hospital, p, 0, Some(&hospital));
    assert_eq!(w.refuse(tx), TxError::UnknownAccess(nowhere));
    let p = release(&w, &hospital, nowhere, access);
    let tx = w.tx(&hospital, p, 0, Some(&hospital));
    assert_eq!(w.refuse(tx), TxError::RecordNotInAccess(nowhere));
    let p = release(&w, &outsider, record, access);
    let tx = w.tx(&outsider, p, 0, Some(&outsider));
    assert_eq!(w.refuse(tx), TxError::NotShareHolder);
    let p = release(&w, &hospital, record, access);
    let tx = w.tx(&hospital, p, 0, Some(&outsider));
    assert_eq!(w.refuse(tx), TxError::BadSignature("share holder"));
    let p = release(&w, &hospital, record, access);
    let tx = w.tx(&hospital, p, 0, Some(&hospital));
    w.mine(vec![tx]);
    let p = release(&w, &hospital, record, access);
    let tx = w.tx(&hospital, p, 0, Some(&hospital));
    assert_eq!(w.refuse(tx), TxError::DuplicateShareRelease);

    let grant_tx = grant(&mut w, record, &compiled, b"k", true);
    let grant_id = grant_tx.txid();
    w.mine(vec![grant_tx]);
    let p = release(&w, &hospital, record, grant_id);
    let tx = w.tx(&hospital, p, 0, Some(&hospital));
    assert_eq!(w.refuse(tx), TxError::NotEmergency(grant_id));

    let revoke = |owner: &Signer, grant: Hash32| Payload::Revocation {
        grant,
        owner: owner.key,
        signature: Sig::EMPTY,
    };
    let tx = w.tx(&outsider, revoke(&outsider, grant_id), 0, Some(&outsider));
    assert_eq!(w.refuse(tx), TxError::NotOwner);
    let tx = w.tx(&patient, revoke(&patient, nowhere), 0, Some(&patient));
    assert_eq!(w.refuse(tx), TxError::UnknownAccess(nowhere));
    let tx = w.tx(&patient, revoke(&patient, grant_id), 0, Some(&patient));
    w.mine(vec![tx]);
    let tx = w.tx(&patient, revoke(&patient, grant_id), 0, Some(&patient));
    assert_eq!(w.refuse(tx), TxError::AlreadyRevoked(grant_id));
}

#[test]
fn token_rules() {
    let mut w = World::new();
    let (patient, outsider) = (w.p.patient.clone(), w.p.outsider.clone());
    let spent = w.coins[&patient.key].last().unwrap().0;
    let tx = w.tx(&patient, Payload::Transfer, 0, None);
    w.mine(vec![tx]);
    let mut again = Transaction::new(
        vec![TxIn { prevout: spent, unlock: Vec::new(), sequence: u32::MAX }],
        vec![TxOut { value: 1, lock: pay_to_key(&patient.key) }],
        Payload::Transfer,
    );
    sign_inputs(&mut again, &w.chain.chain_id, &[&patient]);
    assert!(matches!(w.refuse(again), TxError::MissingInput { index: 0, .. }), "double spend across blocks");

    let mut overspend = w.tx(&patient, Payload::Transfer, 0, None);
    overspend.outputs[0].value = COIN + 1;
    sign_inputs(&mut overspend, &w.chain.chain_id, &[&patient]);
    assert_eq!(w.refuse(overspend), TxError::Overspend { inputs: COIN, outputs: COIN + 1 });

    let mut stolen = w.tx(&patient, Payload::Transfer, 0, None);
    sign_inputs(&mut stolen, &w.chain.chain_id, &[&outsider]);
    assert!(matches!(w.refuse(stolen), TxError::Script { index: 0, error } if error.name() == "NULLFAIL"));

    let mut duplicate = w.tx(&patient, Payload::Transfer, 0, None);
    let input = duplicate.inputs[0].clone();
    duplicate.inputs.push(input);
    sign_inputs(&mut duplicate, &w.chain.chain_id, &[&patient, &patient]);
    assert_eq!(w.refuse(duplicate), TxError::DuplicateInput(1));

    let mut locked = w.tx(&patient, Payload::Transfer, 0, None);
    locked.lock_time = 1_000;
    sign_inputs(&mut locked, &w.chain.chain_id, &[&patient]);
    assert_eq!(w.refuse(locked), TxError::LockTime(1_000));
    let expired = w.tx(&patient, Payload::Transfer, 1, None);
    assert_eq!(w.refuse(expired), TxError::Expired(1));
    let empty = Transaction::new(vec![], vec![], Payload::Transfer);
    assert_eq!(w.refuse(empty), TxError::NoInputs);

    // Two transactions in one block spending the same coin: the second finds it spent.
    let first = w.tx(&patient, Payload::Transfer, 0, None);
    let mut second = first.clone();
    second.outputs[0].value -= 1;
    sign_inputs(&mut second, &w.chain.chain_id, &[&patient]);
    let block = w.block(vec![first, second]);
    assert!(matches!(
        w.chain.validate_block(&w.store, &block),
        Err(BlockError::Transaction { index: 2, error: TxError::MissingInput { .. }, .. })
    ));
}

#[test]
fn coinbase_matures_before_it_is_spent() {
    let mut w = World::new();
    w.mine(vec![]);
    let coinbase_id = w.store.block(1).unwrap().unwrap().transactions[0].txid();
    let producer = w.p.producer.clone();
    let mut spend = Transaction::new(
        vec![TxIn {
            prevout: OutPoint { txid: coinbase_id, index: 0 },
            unlock: Vec::new(),
            sequence: u32::MAX,
        }],
        vec![TxOut { value: 1, lock: pay_to_key(&producer.key) }],
        Payload::Transfer,
    );
    sign_inputs(&mut spend, &w.chain.chain_id, &[&producer]);
    assert_eq!(w.refuse(spend), TxError::ImmatureCoinbase(0));
}

#[test]
fn block_rules() {
    let mut w = World::new();
    let good = w.block(vec![]);
    w.time -= 600;
    let check = |w: &World, block: &Block| w.chain.validate_block(&w.store, block);
    let resign = |w: &World, block: &mut Block| {
        block.header.merkle_root = block.compute_merkle_root();
        block.header.sign(&w.p.producer.secret, &w.chain.chain_id);
    };

    let mut orphan = good.clone();
    orphan.header.previous = Hash32::sha256(b"elsewhere");
    resign(&w, &mut orphan);
    assert!(matches!(check(&w, &orphan), Err(BlockError::WrongParent { .. })));
    let mut skipping = good.clone();
    skipping.header.height = 5;
    resign(&w, &mut skipping);
    assert!(matches!(check(&w, &skipping), Err(BlockError::WrongHeight { found: 5, expected: 1 })));
    let mut tampered = good.clone();
    tampered.transactions[0].outputs[0].value -= 1;
    assert_eq!(check(&w, &tampered), Err(BlockError::BadMerkleRoot));
    let mut early = good.clone();
    early.header.time = w.chain.genesis.time;
    resign(&w, &mut early);
    assert!(matches!(check(&w, &early), Err(BlockError::TimeTooEarly { .. })));
    let mut foreign = good.clone();
    foreign.header.producer = w.p.outsider.key;
    foreign.header.sign(&w.p.outsider.secret, &w.chain.chain_id);
    assert!(matches!(check(&w, &foreign), Err(BlockError::UnknownProducer(_))));
    let mut forged = good.clone();
    forged.header.sign(&w.p.outsider.secret, &w.chain.chain_id);
    assert_eq!(check(&w, &forged), Err(BlockError::BadProducerSignature));
    let mut greedy = good.clone();
    greedy.transactions[0].outputs[0].value += 1;
    resign(&w, &mut greedy);
    assert!(matches!(check(&w, &greedy), Err(BlockError::CoinbaseTooLarge { .. })));
    let mut headless = good.clone();
    headless.transactions.clear();
    resign(&w, &mut headless);
    assert_eq!(check(&w, &headless), Err(BlockError::TransactionCount(0)));
    let mut second_coinbase = good.clone();
    let extra = second_coinbase.transactions[0].clone();
    second_coinbase.transactions.push(extra);
    resign(&w, &mut second_coinbase);
    assert!(matches!(
        check(&w, &second_coinbase),
        Err(BlockError::Transaction { index: 1, error: TxError::MisplacedCoinbase, .. })
    ));
    assert!(check(&w, &good).is_ok());
}
