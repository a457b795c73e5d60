//! The chain's rules, transaction type by transaction type: the full story of a record
//! succeeds, and each rule has a failing case that names its error.

use crate::common::*;
use medchain_chain::block::Block;
use medchain_chain::limits::{
    KEY_SHARE_SIZE, MAX_FUEL, MAX_JUSTIFICATION, MAX_TIME_AFTER_MEDIAN, MIN_FEE_PER_KB, SALT_SIZE, size_fee,
};
use medchain_chain::standard::pay_to_key;
use medchain_chain::state::StateRead;
use medchain_chain::transaction::{
    EmergencyShares, Justification, OutPoint, Payload, Sealed, ShareDeposit, Transaction, TxIn, TxOut,
};
use medchain_chain::validate::{AccessStatus, BlockError, TxError};
use medchain_compiler::medscript::types::Value;
use medchain_primitives::Signer;
use medchain_primitives::codec::Encode;
use medchain_primitives::ecies;
use medchain_primitives::{Hash32, PubKey, Sig};
use medchain_wallet::builder::sign_inputs;
use medchain_wallet::deposit::{open_record_secret, seal_justification, split_among};
use medchain_wallet::record::RecordSecret;

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
    assert!(w.chain.access_active(&w.store, &grant_id, w.tip.height).unwrap());
    let (proven, header, proof) = w.store.transaction_proof(&grant_id).unwrap().unwrap();
    assert_eq!(proven, grant_tx);
    assert!(proof.verify(&grant_id, &header.merkle_root), "a patient can check the grant is in a block");
    let deposit = &grant_tx.record_accesses()[0].deposit;
    assert_eq!(
        open_record_secret(&researcher.secret, deposit, &record).unwrap().to_bytes().to_vec(),
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
        !w.chain.access_active(&w.store, &grant_id, w.tip.height).unwrap(),
        "reads are refused after the revocation block"
    );

    let expiry = w.tip.height + 100;
    let breakglass = emergency(&mut w, record, &compiled, &clinic, expiry, "unconscious patient in the ER");
    let emergency_id = breakglass.txid();
    w.mine(vec![breakglass]);
    let access = w.store.grant(&emergency_id).unwrap().unwrap();
    assert!(access.emergency && access.patient == patient.key);

    // Both share holders release their shares to the clinic; the clinic checks and combines them.
    let releases = [&hospital, &clinic]
        .into_iter()
        .map(|holder| release_share(&mut w, holder, (record, emergency_id), &clinic.key))
        .collect();
    w.mine(releases);
    assert_eq!(
        recovered(&w, &clinic, (record, emergency_id)).unwrap().to_bytes().to_vec(),
        key,
        "the clinic decrypts with two released shares"
    );
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
        envelope: ecies::seal(&holder.key.key().unwrap(), &[1; KEY_SHARE_SIZE], b"", &mut rand::rng())
            .unwrap(),
        check: Hash32::default(),
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
    assert_eq!(w.refuse(tx), TxError::BadShares("threshold is not within 2..=shares"));
    // A threshold of 1 would let any single holder read alone.
    let alone = EmergencyShares { threshold: 1, shares: vec![share(&hospital), share(&w.p.clinic.clone())] };
    let tx = w.tx(
        &patient,
        storage(fresh_id, patient.key, compiled.script.clone(), Some(alone)),
        0,
        Some(&patient),
    );
    assert_eq!(w.refuse(tx), TxError::BadShares("threshold is not within 2..=shares"));
    let outsider_share = EmergencyShares { threshold: 2, shares: vec![share(&hospital), share(&outsider)] };
    let tx = w.tx(
        &patient,
        storage(fresh_id, patient.key, compiled.script.clone(), Some(outsider_share)),
        0,
        Some(&patient),
    );
    assert_eq!(w.refuse(tx), TxError::NotInstitution("share holder"));

    // A second record may not borrow the first one's ciphertext, even by a patient with a
    // release of their own: its readers would read the first record.
    let own = release_for(&mut w, &outsider.key, Hash32::sha256(b"the outsider's own record"));
    let own_id = own.txid();
    w.mine(vec![own]);
    let borrowing = Payload::Storage {
        release: own_id,
        patient: outsider.key,
        ciphertext: stored.ciphertext,
        policy: compiled.script.clone(),
        emergency: None,
        signature: Sig::EMPTY,
    };
    let tx = w.tx(&outsider, borrowing, 0, Some(&outsider));
    assert_eq!(w.refuse(tx), TxError::CiphertextTaken(stored.ciphertext));
    // Nor may two storages in one block share a ciphertext. (The governor pays: the patient
    // spent its coins on the refusals above.)
    let governor = w.p.governor.clone();
    let first =
        w.tx(&governor, storage(fresh_id, patient.key, compiled.script.clone(), None), 0, Some(&patient));
    let Payload::Storage { ciphertext, .. } = first.payload.clone() else { unreachable!() };
    let sharing = Payload::Storage {
        release: own_id,
        patient: outsider.key,
        ciphertext,
        policy: compiled.script.clone(),
        emergency: None,
        signature: Sig::EMPTY,
    };
    let second = w.tx(&outsider, sharing, 0, Some(&outsider));
    let block = w.block(vec![first, second]);
    w.time -= 600;
    assert!(matches!(
        verdict(w.chain.validate_block(&w.store, &block, &w.verifier)),
        Err(BlockError::Transaction { index: 2, error: TxError::CiphertextTaken(c), .. }) if c == ciphertext
    ));
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
    // A deposit is an envelope of a record key, exactly: not any blob of the envelope's size,
    // not an envelope of something else, not one whose ephemeral key is off the curve.
    let researcher = w.p.researcher.clone();
    let of_other_size =
        ecies::seal(&researcher.key.key().unwrap(), b"not a record key", b"", &mut rand::rng()).unwrap();
    let mut off_curve = ecies::seal(&researcher.key.key().unwrap(), &key, b"", &mut rand::rng()).unwrap();
    off_curve[1] = 0x05;
    let mut other_version = off_curve.clone();
    other_version[0] = 2;
    for deposit in [
        vec![0; ecies::ENVELOPE_OVERHEAD],
        vec![1; ecies::ENVELOPE_OVERHEAD + 32],
        of_other_size,
        off_curve,
        other_version,
    ] {
        let mut garbage = grant(&mut w, record, &compiled, &key, true);
        if let Payload::AccessGrant { records, .. } = &mut garbage.payload {
            records[0].deposit = deposit.clone();
        }
        sign_inputs(&mut garbage, &w.chain.chain_id, &[&w.p.patient.clone()]);
        assert_eq!(w.refuse(garbage), TxError::BadDeposit(record), "{}", hex::encode(&deposit));
    }
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
    let copies = |copies: Vec<Sealed>| Justification { commitment: Hash32::default(), copies };
    let tx = emergency_through(&mut w, (record, &compiled, 1), &clinic, expiry, copies(Vec::new()));
    assert_eq!(w.refuse(tx), TxError::EmptyJustification);
    // Justifications are health information: plain text on chain is refused, as is a copy too
    // long, or one holding a salt and no text.
    let plain = vec![Sealed(b"unconscious patient in the ER".to_vec())];
    let tx = emergency_through(&mut w, (record, &compiled, 1), &clinic, expiry, copies(plain));
    assert_eq!(w.refuse(tx), TxError::UnsealedJustification);
    let long = "x".repeat(SALT_SIZE + MAX_JUSTIFICATION + 1);
    let too_long = vec![Sealed(
        ecies::seal(&patient.key.key().unwrap(), long.as_bytes(), b"", &mut rand::rng()).unwrap(),
    )];
    let tx = emergency_through(&mut w, (record, &compiled, 1), &clinic, expiry, copies(too_long));
    assert_eq!(w.refuse(tx), TxError::UnsealedJustification);
    let salt_only = [0; SALT_SIZE];
    let empty =
        vec![Sealed(ecies::seal(&patient.key.key().unwrap(), &salt_only, b"", &mut rand::rng()).unwrap())];
    let tx = emergency_through(&mut w, (record, &compiled, 1), &clinic, expiry, copies(empty));
    assert_eq!(w.refuse(tx), TxError::UnsealedJustification);
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
        envelope: ecies::seal(&clinic.key.key().unwrap(), &[7; KEY_SHARE_SIZE], b"", &mut rand::rng())
            .unwrap(),
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

    let grant_tx = grant(&mut w, record, &compiled, &[0x6b; 64], true);
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
        verdict(w.chain.validate_block(&w.store, &block, &w.verifier)),
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
    let check = |w: &World, block: &Block| verdict(w.chain.validate_block(&w.store, block, &w.verifier));
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
    // A time far past the median (u64::MAX above all) is refused, never an overflow.
    let median = w.chain.median_time(&w.store, w.tip.height).unwrap();
    for time in [median + MAX_TIME_AFTER_MEDIAN + 1, u64::MAX] {
        let mut late = good.clone();
        late.header.time = time;
        resign(&w, &mut late);
        assert_eq!(
            check(&w, &late),
            Err(BlockError::TimeTooLate { time, latest: median + MAX_TIME_AFTER_MEDIAN })
        );
    }
    // A block's work is bounded: the fuel its transactions declare, and its script checks.
    let fake = |i: u32| TxIn {
        prevout: OutPoint { txid: Hash32::sha256(&i.to_le_bytes()), index: i },
        unlock: Vec::new(),
        sequence: 0,
    };
    let fueled: Vec<Transaction> = (0..21u32)
        .map(|i| Transaction {
            fuel: MAX_FUEL,
            ..Transaction::new(vec![fake(i)], Vec::new(), Payload::Transfer)
        })
        .collect();
    let mut heavy = w.block(fueled);
    w.time -= 600;
    resign(&w, &mut heavy);
    assert_eq!(check(&w, &heavy), Err(BlockError::TooMuchFuel(21 * MAX_FUEL)));
    let wide: Vec<Transaction> = (0..41u32)
        .map(|t| {
            Transaction::new((0..1_000).map(|i| fake(t * 1_000 + i)).collect(), Vec::new(), Payload::Transfer)
        })
        .collect();
    let mut busy = w.block(wide);
    w.time -= 600;
    resign(&w, &mut busy);
    assert_eq!(check(&w, &busy), Err(BlockError::TooManyChecks(41_000)));
    let mut latest = good.clone();
    latest.header.time = median + MAX_TIME_AFTER_MEDIAN;
    resign(&w, &mut latest);
    assert!(check(&w, &latest).is_ok(), "the last second of the window is allowed");
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

#[test]
fn script_verdicts_do_not_depend_on_threads_or_the_cache() {
    use medchain_chain::verifier::Verifier;
    let mut w = World::new();
    let (patient, outsider, hospital) = (w.p.patient.clone(), w.p.outsider.clone(), w.p.hospital.clone());
    // Twelve transfers; the 5th and the 9th have bad signatures: the 5th must be reported.
    let mut txs = Vec::new();
    for i in 0..12 {
        let payer = if i % 2 == 0 { &patient } else { &hospital };
        let mut tx = w.tx(payer, Payload::Transfer, 0, None);
        if i == 4 || i == 8 {
            sign_inputs(&mut tx, &w.chain.chain_id, &[&outsider]);
        }
        txs.push(tx);
    }
    let block = w.block(txs);
    let verdicts: Vec<_> = [1, 2, 4, 7]
        .into_iter()
        .map(|threads| verdict(w.chain.validate_block(&w.store, &block, &Verifier::new(threads))))
        .collect();
    assert!(
        matches!(&verdicts[0], Err(BlockError::Transaction { index: 5, error: TxError::Script { .. }, .. })),
        "{:?}",
        verdicts[0]
    );
    assert!(verdicts.iter().all(|v| v == &verdicts[0]));

    // A valid block: the same answer cold and with every signature cached.
    let mut w = World::new();
    let txs: Vec<_> = (0..6).map(|_| w.tx(&patient.clone(), Payload::Transfer, 0, None)).collect();
    let block = w.block(txs);
    let verifier = Verifier::new(3);
    let cold = verdict(w.chain.validate_block(&w.store, &block, &verifier)).unwrap();
    assert!(verifier.cache.is_empty(), "block validation does not fill the cache");
    for tx in &block.transactions[1..] {
        assert_eq!(
            verdict(w.chain.validate_transaction(&w.store, tx, w.time, &verifier)),
            Ok(FEE),
            "mempool acceptance"
        );
    }
    assert_eq!(verifier.cache.len(), 6);
    let warm = verdict(w.chain.validate_block(&w.store, &block, &verifier)).unwrap();
    assert_eq!(cold, warm);
}

#[test]
fn change_consolidation_and_joint_payments() {
    let mut w = World::new();
    let (patient, hospital) = (w.p.patient.clone(), w.p.hospital.clone());
    let take = |w: &mut World, who: &Signer| w.coins.get_mut(&who.key).unwrap().pop().unwrap();
    // Consolidation: three of the patient's coins into one, minus a fee.
    let coins: Vec<_> = (0..3).map(|_| take(&mut w, &patient)).collect();
    let mut consolidate = Transaction::new(
        coins
            .iter()
            .map(|(outpoint, _)| TxIn { prevout: *outpoint, unlock: Vec::new(), sequence: u32::MAX })
            .collect(),
        vec![TxOut { value: 3 * COIN - FEE, lock: pay_to_key(&patient.key) }],
        Payload::Transfer,
    );
    sign_inputs(&mut consolidate, &w.chain.chain_id, &[&patient, &patient, &patient]);
    // A joint payment: the patient and the hospital each put in a coin, pay the clinic, and
    // each take their change.
    let (mine, theirs) = (take(&mut w, &patient), take(&mut w, &hospital));
    let mut joint = Transaction::new(
        vec![
            TxIn { prevout: mine.0, unlock: Vec::new(), sequence: u32::MAX },
            TxIn { prevout: theirs.0, unlock: Vec::new(), sequence: u32::MAX },
        ],
        vec![
            TxOut { value: COIN, lock: pay_to_key(&w.p.clinic.key) },
            TxOut { value: COIN / 2 - FEE, lock: pay_to_key(&patient.key) },
            TxOut { value: COIN / 2, lock: pay_to_key(&hospital.key) },
        ],
        Payload::Transfer,
    );
    let mut half_signed = joint.clone();
    sign_inputs(&mut half_signed, &w.chain.chain_id, &[&patient, &patient]);
    assert!(
        matches!(w.refuse(half_signed), TxError::Script { index: 1, .. }),
        "each signer signs its own input"
    );
    sign_inputs(&mut joint, &w.chain.chain_id, &[&patient, &hospital]);
    let applied = w.mine(vec![consolidate.clone(), joint.clone()]);
    assert_eq!(applied.fees, 2 * FEE);
    let coinbase = w.store.block(w.tip.height).unwrap().unwrap().transactions[0].clone();
    assert_eq!(
        coinbase.outputs[0].value,
        w.chain.genesis.block_reward + 2 * FEE,
        "the coinbase pays reward and fees"
    );
    for (tx, outputs) in [(&consolidate, 1u32), (&joint, 3)] {
        for index in 0..outputs {
            assert!(w.store.coin(&OutPoint { txid: tx.txid(), index }).unwrap().is_some());
        }
    }
    assert!(w.store.coin(&mine.0).unwrap().is_none(), "spent outputs are gone");
}

#[test]
fn remaining_rules() {
    let mut w = World::new();
    let (patient, insurer, hospital, clinic) =
        (w.p.patient.clone(), w.p.insurer.clone(), w.p.hospital.clone(), w.p.clinic.clone());

    let mut huge = w.tx(&patient, Payload::Transfer, 0, None);
    huge.outputs = (0..11).map(|_| TxOut { value: 1, lock: vec![0x51; 10_000] }).collect();
    assert!(matches!(w.refuse(huge), TxError::TooLarge(_)));
    let mut rich = w.tx(&patient, Payload::Transfer, 0, None);
    rich.outputs = vec![TxOut { value: u64::MAX, lock: Vec::new() }];
    assert_eq!(w.refuse(rich), TxError::ValueTooLarge);

    // A relative lock the spent output is too young for.
    let mut waiting = w.tx(&patient, Payload::Transfer, 0, None);
    waiting.inputs[0].sequence = 10;
    sign_inputs(&mut waiting, &w.chain.chain_id, &[&patient]);
    assert!(matches!(w.refuse(waiting), TxError::RelativeLock(_)));

    // A block whose coinbase names the wrong height, or spends an input.
    let mut block = w.block(vec![]);
    w.time -= 600;
    block.transactions[0].payload = Payload::Coinbase { height: 9 };
    block.header.merkle_root = block.compute_merkle_root();
    block.header.sign(&w.p.producer.secret, &w.chain.chain_id);
    assert!(matches!(
        verdict(w.chain.validate_block(&w.store, &block, &w.verifier)),
        Err(BlockError::Transaction { error: TxError::CoinbaseHeight { found: 9, expected: 1 }, .. })
    ));
    let mut block = w.block(vec![]);
    w.time -= 600;
    let (coin, _) = w.coins[&patient.key][0];
    block.transactions[0].inputs.push(TxIn { prevout: coin, unlock: Vec::new(), sequence: u32::MAX });
    block.header.merkle_root = block.compute_merkle_root();
    block.header.sign(&w.p.producer.secret, &w.chain.chain_id);
    assert!(matches!(
        verdict(w.chain.validate_block(&w.store, &block, &w.verifier)),
        Err(BlockError::Transaction { error: TxError::CoinbaseWithInputs, .. })
    ));

    // Accesses: none named, or records of two patients in one grant.
    let empty =
        w.tx(&patient, Payload::AccessGrant { grantee: insurer.key, purpose: 1, records: vec![] }, 0, None);
    assert_eq!(w.refuse(empty), TxError::NoRecords);
    let (first, compiled, key) = stored_record(&mut w);
    let release = release_for(&mut w, &insurer.key, Hash32::sha256(b"x"));
    let release_id = release.txid();
    w.mine(vec![release]);
    let storage = w.tx(
        &insurer,
        Payload::Storage {
            release: release_id,
            patient: insurer.key,
            ciphertext: Hash32::sha256(b"y"),
            policy: compiled.script.clone(),
            emergency: None,
            signature: Sig::EMPTY,
        },
        0,
        Some(&insurer),
    );
    let second = storage.txid();
    w.mine(vec![storage]);
    let mut mixed = grant(&mut w, first, &compiled, &key, true);
    if let Payload::AccessGrant { records, .. } = &mut mixed.payload {
        let mut other = records[0].clone();
        other.record = second;
        records.push(other);
    }
    sign_inputs(&mut mixed, &w.chain.chain_id, &[&patient]);
    assert_eq!(w.refuse(mixed), TxError::MixedOwners);

    // Share releases after the emergency expired, or with no envelope.
    let expiry = w.tip.height + 3;
    let breakglass = emergency(&mut w, first, &compiled, &clinic, expiry, "sepsis");
    let access = breakglass.txid();
    w.mine(vec![breakglass]);
    let share = |envelope: Vec<u8>| Payload::ShareRelease {
        emergency: access,
        record: first,
        holder: hospital.key,
        envelope,
        signature: Sig::EMPTY,
    };
    let tx = w.tx(&hospital, share(vec![1, 2]), 0, Some(&hospital));
    assert_eq!(w.refuse(tx), TxError::BadEnvelope);
    w.mine(vec![]);
    let tx = w.tx(&hospital, share(vec![9; ecies::ENVELOPE_OVERHEAD]), 0, Some(&hospital));
    assert_eq!(w.refuse(tx), TxError::EmergencyExpired);
}

/// A store whose coin reads fail, as a disk would: a fault of this node, not of what it judges.
struct BrokenCoins<'a>(&'a medchain_chain::store::MemoryStore);

impl medchain_chain::store::Store for BrokenCoins<'_> {
    fn get(
        &self,
        table: medchain_chain::store::Table,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, medchain_chain::store::StoreError> {
        if table == medchain_chain::store::Table::Utxo {
            let error = redb::Error::Corrupted("the disk refused a read".into());
            return Err(medchain_chain::store::StoreError::Database(Box::new(error)));
        }
        self.0.get(table, key)
    }

    fn scan(
        &self,
        table: medchain_chain::store::Table,
        prefix: &[u8],
    ) -> Result<Vec<medchain_chain::store::Entry>, medchain_chain::store::StoreError> {
        self.0.scan(table, prefix)
    }
}

#[test]
fn a_fault_of_the_node_is_never_a_verdict() {
    use medchain_chain::store::{MemoryStore, Store as _};
    use medchain_chain::verdict::{NodeFault, Rejection};
    let mut w = World::new();
    let patient = w.p.patient.clone();
    let tx = w.tx(&patient, Payload::Transfer, 0, None);
    let block = w.block(vec![tx.clone()]);
    w.time -= 600;
    let broken = BrokenCoins(&w.store);
    assert!(broken.get(medchain_chain::store::Table::Meta, b"tip").is_ok(), "only coins are broken");
    let loose = w.chain.validate_transaction(&broken, &tx, w.time, &w.verifier);
    assert!(matches!(loose, Err(Rejection::Undecided(NodeFault::State(_)))), "{loose:?}");
    let whole = w.chain.validate_block(&broken, &block, &w.verifier);
    assert!(matches!(whole, Err(Rejection::Undecided(NodeFault::State(_)))), "{whole:?}");
    let empty = w.chain.validate_block(&MemoryStore::default(), &block, &w.verifier);
    assert!(matches!(empty, Err(Rejection::Undecided(NodeFault::Uninitialized))), "{empty:?}");
    // On a healthy store the same transaction and block are valid.
    assert_eq!(verdict(w.chain.validate_transaction(&w.store, &tx, w.time, &w.verifier)), Ok(FEE));
    assert!(verdict(w.chain.validate_block(&w.store, &block, &w.verifier)).is_ok());
}

#[test]
fn an_emergency_access_ends_with_its_institutions_role() {
    let mut w = World::new();
    let (governor, hospital, clinic) = (w.p.governor.clone(), w.p.hospital.clone(), w.p.clinic.clone());
    let (record, compiled, _) = stored_record(&mut w);
    let expiry = w.tip.height + 100;
    let breakglass = emergency(&mut w, record, &compiled, &clinic, expiry, "unconscious patient in the ER");
    let access = breakglass.txid();
    w.mine(vec![breakglass]);
    assert!(w.chain.access_active(&w.store, &access, w.tip.height).unwrap());

    let share_release = |w: &mut World| release_share(w, &hospital, (record, access), &clinic.key);
    let withdraw = role_payload(&w, &clinic.key, 1, false);
    let withdraw = w.tx(&governor, withdraw, 0, Some(&governor));
    w.mine(vec![withdraw]);
    assert!(!w.chain.access_active(&w.store, &access, w.tip.height).unwrap(), "no role, no emergency access");
    let tx = share_release(&mut w);
    assert_eq!(w.refuse(tx), TxError::NotInstitution("emergency requester"));

    // Registered again, the clinic's old access stays ended; a new one needs a new request.
    let register = role_payload(&w, &clinic.key, 1, true);
    let register = w.tx(&governor, register, 0, Some(&governor));
    w.mine(vec![register]);
    assert!(
        !w.chain.access_active(&w.store, &access, w.tip.height).unwrap(),
        "a withdrawal ends it for good"
    );
    let tx = share_release(&mut w);
    assert_eq!(w.refuse(tx), TxError::NotInstitution("emergency requester"));
    let expiry = w.tip.height + 100;
    let again = emergency(&mut w, record, &compiled, &clinic, expiry, "the patient is back in the ER");
    let again_id = again.txid();
    w.mine(vec![again]);
    assert!(w.chain.access_active(&w.store, &again_id, w.tip.height).unwrap());
}

#[test]
fn an_institution_holds_one_live_emergency_access_per_record() {
    let mut w = World::new();
    let (hospital, clinic) = (w.p.hospital.clone(), w.p.clinic.clone());
    let (record, compiled, _) = stored_record(&mut w);
    let expiry = w.tip.height + 3;
    let first = emergency(&mut w, record, &compiled, &clinic, expiry, "cardiac arrest");
    let first_id = first.txid();
    w.mine(vec![first]);
    // No renewal while it is live, not even with another justification, and not in the same
    // block as the first either.
    let renewal = emergency(&mut w, record, &compiled, &clinic, expiry + 50, "still in the ICU");
    assert_eq!(w.refuse(renewal), TxError::EmergencyStillLive(first_id));
    let (a, b) = (
        emergency(&mut w, record, &compiled, &hospital, expiry, "transfer from the clinic"),
        emergency(&mut w, record, &compiled, &hospital, expiry, "transfer, again"),
    );
    let block = w.block(vec![a.clone(), b]);
    w.time -= 600;
    assert!(matches!(
        verdict(w.chain.validate_block(&w.store, &block, &w.verifier)),
        Err(BlockError::Transaction { index: 2, error: TxError::EmergencyStillLive(id), .. }) if id == a.txid()
    ));
    // Another institution may; and once the first ended, the clinic may ask again.
    w.mine(vec![a]);
    while w.tip.height < expiry {
        w.mine(vec![]);
    }
    let later = w.tip.height + 10;
    let again = emergency(&mut w, record, &compiled, &clinic, later, "readmitted");
    w.mine(vec![again]);
}

/// A vault policy: the patient consents, or an institution breaks the glass after a veto
/// window of three blocks counted from its request.
const VAULT: &str = r#"
policy vault(patient: pubkey) {
    clause "patient consents" {
        sig(patient)
    }

    clause "emergency after the veto window" {
        role_sig(medical_institution) and emergency(144 blocks) and older(3 blocks)
    }
}
"#;

#[test]
fn a_vault_emergency_waits_out_its_veto_window_and_a_veto_is_final() {
    let mut w = World::new();
    let (patient, hospital, clinic, outsider) =
        (w.p.patient.clone(), w.p.hospital.clone(), w.p.clinic.clone(), w.p.outsider.clone());
    let compiled = compile_policy(VAULT, vec![("patient", Value::PubKey(patient.key.0))]);
    let secret = RecordSecret { key: [3; 32], salt: [4; 32] };
    let record = store_record_with(&mut w, &compiled.script, |release| {
        Some(split_among(&secret, release, 2, &[hospital.key, clinic.key], &mut rand::rng()).unwrap())
    });
    // A request that lasts `blocks` from the tip.
    let request = |w: &mut World, requester: &Signer, blocks: u32| {
        let expiry = w.tip.height + blocks;
        let request = (&requester.key, &[record][..]);
        let why =
            seal_justification("cardiac arrest", request, &[w.p.patient.key], &mut rand::rng()).unwrap();
        emergency_through(w, (record, &compiled, 1), requester, expiry, why)
    };
    let vote = |w: &mut World, voter: &Signer, access: Hash32| {
        w.tx(voter, Payload::Veto { access, voter: voter.key, signature: Sig::EMPTY }, 0, Some(voter))
    };

    // The window must close before the access ends.
    let tx = request(&mut w, &clinic, 5);
    assert_eq!(w.refuse(tx), TxError::VetoWindowTooLong);

    // A request waits out its window: no share release, no read.
    let tx = request(&mut w, &clinic, 50);
    assert_eq!(tx.record_accesses()[0].sequence, 3, "the clause's window is in the request");
    let first = tx.txid();
    w.mine(vec![tx]);
    // Three blocks after the request's to veto in; usable in the one after.
    let until = w.tip.height + 4;
    assert_eq!(
        w.chain.access_status(&w.store, &first, w.tip.height).unwrap(),
        AccessStatus::Waiting { until }
    );
    assert!(!w.chain.access_active(&w.store, &first, w.tip.height).unwrap());
    // A waiting request is live: the clinic may not ask again beside it.
    let tx = request(&mut w, &clinic, 50);
    assert_eq!(w.refuse(tx), TxError::EmergencyStillLive(first));
    let tx = release_share(&mut w, &hospital, (record, first), &clinic.key);
    assert_eq!(w.refuse(tx), TxError::VetoWindowOpen(until));

    // The share holders veto it: one vote is not enough, two (the threshold) are.
    let tx = vote(&mut w, &outsider, first);
    assert_eq!(w.refuse(tx), TxError::NotGuardian);
    let mut forged = vote(&mut w, &hospital, first);
    if let Payload::Veto { voter, .. } = &mut forged.payload {
        *voter = clinic.key;
    }
    sign_inputs(&mut forged, &w.chain.chain_id, &[&hospital]);
    assert_eq!(w.refuse(forged), TxError::BadSignature("vetoing key"));
    let tx = vote(&mut w, &hospital, first);
    w.mine(vec![tx]);
    assert_eq!(
        w.chain.access_status(&w.store, &first, w.tip.height).unwrap(),
        AccessStatus::Waiting { until }
    );
    let tx = vote(&mut w, &hospital, first);
    assert_eq!(w.refuse(tx), TxError::DuplicateVeto);
    let tx = vote(&mut w, &clinic, first);
    w.mine(vec![tx]);
    // Vetoed, it never unlocks, however long one waits.
    while w.tip.height <= until + 2 {
        w.mine(vec![]);
        assert_eq!(w.chain.access_status(&w.store, &first, w.tip.height).unwrap(), AccessStatus::Vetoed);
    }
    let tx = release_share(&mut w, &hospital, (record, first), &clinic.key);
    assert_eq!(w.refuse(tx), TxError::Vetoed(first));
    let tx = vote(&mut w, &patient, first);
    assert_eq!(w.refuse(tx), TxError::Vetoed(first));

    // The patient's vote alone vetoes.
    let tx = request(&mut w, &clinic, 50);
    let second = tx.txid();
    w.mine(vec![tx]);
    let tx = vote(&mut w, &patient, second);
    w.mine(vec![tx]);
    assert_eq!(w.chain.access_status(&w.store, &second, w.tip.height).unwrap(), AccessStatus::Vetoed);

    // Unvetoed, a request unlocks exactly when its window ends, and no veto comes after.
    let tx = request(&mut w, &hospital, 50);
    let third = tx.txid();
    w.mine(vec![tx]);
    let until = w.tip.height + 4;
    while w.tip.height + 1 < until {
        let tx = release_share(&mut w, &clinic, (record, third), &hospital.key);
        assert_eq!(w.refuse(tx), TxError::VetoWindowOpen(until));
        w.mine(vec![]);
    }
    // The next block is at `until`: the window has closed for vetoes and opened for shares.
    let tx = vote(&mut w, &patient, third);
    assert_eq!(w.refuse(tx), TxError::VetoWindowClosed(until));
    let releases = [&clinic, &hospital]
        .into_iter()
        .map(|h| release_share(&mut w, h, (record, third), &hospital.key))
        .collect();
    w.mine(releases);
    assert_eq!(w.tip.height, until);
    assert!(w.chain.access_active(&w.store, &third, w.tip.height).unwrap());
    assert_eq!(recovered(&w, &hospital, (record, third)).unwrap(), secret);

    // A veto is for emergency accesses only.
    let grant = grant_with_deposit(&mut w, record, &compiled, Vec::new(), (1, 0, 0));
    let grant_id = grant.txid();
    w.mine(vec![grant]);
    let tx = vote(&mut w, &patient, grant_id);
    assert_eq!(w.refuse(tx), TxError::NotEmergency(grant_id));
    let nowhere = Hash32::sha256(b"no access");
    let tx = vote(&mut w, &patient, nowhere);
    assert_eq!(w.refuse(tx), TxError::UnknownAccess(nowhere));
}

#[test]
fn a_veto_window_is_counted_in_blocks() {
    let mut w = World::new();
    let (patient, clinic) = (w.p.patient.clone(), w.p.clinic.clone());
    let in_time = VAULT.replace("older(3 blocks)", "older(1 days)");
    let compiled = compile_policy(&in_time, vec![("patient", Value::PubKey(patient.key.0))]);
    let record = store_record(&mut w, &compiled.script, None);
    let why =
        seal_justification("stroke", (&clinic.key, &[record]), &[patient.key], &mut rand::rng()).unwrap();
    let expiry = w.tip.height + 100;
    let tx = emergency_through(&mut w, (record, &compiled, 1), &clinic, expiry, why);
    assert_ne!(tx.record_accesses()[0].sequence & (1 << 22), 0, "the clause asks for a time-based lock");
    assert_eq!(w.refuse(tx), TxError::TimeBasedVetoWindow);
}

#[test]
fn every_transaction_pays_for_its_size() {
    let mut w = World::new();
    let patient = w.p.patient.clone();
    let paying = |w: &mut World, fee: u64| {
        let (outpoint, value) = *w.coins.get(&patient.key).unwrap().last().unwrap();
        let mut tx = Transaction::new(
            vec![TxIn { prevout: outpoint, unlock: Vec::new(), sequence: u32::MAX }],
            vec![TxOut { value: value - fee, lock: pay_to_key(&patient.key) }],
            Payload::Transfer,
        );
        sign_inputs(&mut tx, &w.chain.chain_id, &[&patient]);
        tx
    };
    let needed = size_fee(paying(&mut w, 0).to_bytes().len(), MIN_FEE_PER_KB);
    assert!(needed > 0);
    // A signature's length varies by a byte, and the fee with it by at most one.
    for fee in [0, needed - 2] {
        let tx = paying(&mut w, fee);
        let needed = size_fee(tx.to_bytes().len(), MIN_FEE_PER_KB);
        assert_eq!(w.refuse(tx), TxError::FeeTooLow { fee, needed }, "a fee of {fee}");
    }
    let tx = paying(&mut w, needed + 1);
    w.mine(vec![tx]);
}

#[test]
fn a_block_is_chosen_in_one_pass_and_what_fails_is_undone() {
    let mut w = World::new();
    let (patient, insurer) = (w.p.patient.clone(), w.p.insurer.clone());
    // Two transfers spending one coin: the second cannot follow the first.
    let (outpoint, value) = w.coins.get_mut(&patient.key).unwrap().pop().unwrap();
    let spend = |to: &PubKey| {
        let mut tx = Transaction::new(
            vec![TxIn { prevout: outpoint, unlock: Vec::new(), sequence: u32::MAX }],
            vec![TxOut { value: value - FEE, lock: pay_to_key(to) }],
            Payload::Transfer,
        );
        sign_inputs(&mut tx, &w.chain.chain_id, &[&patient]);
        tx
    };
    let (first, second) = (spend(&patient.key), spend(&insurer.key));
    // One that fails late (its fee does not pay its fuel), after it spent its input: undone,
    // the coin it spent stays for the next.
    let mut unpaid = w.tx(&insurer, Payload::Transfer, 0, None);
    unpaid.fuel = 10_000_000;
    sign_inputs(&mut unpaid, &w.chain.chain_id, &[&insurer]);
    let mut reuse = Transaction { fuel: 0, ..unpaid.clone() };
    sign_inputs(&mut reuse, &w.chain.chain_id, &[&insurer]);
    let candidates = vec![first.clone(), second, unpaid, reuse.clone()];
    let selection =
        w.chain.select_transactions(&w.store, &w.tip, w.time + 600, candidates, &w.verifier).unwrap();
    assert_eq!(selection.chosen, vec![first, reuse]);
    let dropped: Vec<&str> = selection.dropped.iter().map(|(_, error)| error.code()).collect();
    assert_eq!(dropped, ["MISSING_INPUT", "FUEL_UNPAID"]);
    w.mine(selection.chosen);
}
