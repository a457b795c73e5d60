//! Shared test world: a chain with named parties, coins and helpers that build, sign and mine
//! every kind of transaction.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a failing test stops loudly; these are its assertions"
)]

pub mod admission;
pub mod process;

use std::collections::BTreeMap;

use medchain_chain::block::Block;
use medchain_chain::genesis::Genesis;
use medchain_chain::standard::pay_to_key;
use medchain_chain::state::StateRead;
use medchain_chain::store::MemoryStore;
use medchain_chain::transaction::{
    EmergencyShares, Justification, OutPoint, Payload, RecordAccess, Transaction,
};
use medchain_chain::validate::{Applied, BlockError, Chain, Tip, TxError};
use medchain_chain::verdict::Rejection;
use medchain_chain::verifier::Verifier;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::Holdings;
use medchain_compiler::medscript::types::Value;
use medchain_compiler::medscript::{Compiled, check, compile, parse};
use medchain_primitives::Signer;
use medchain_primitives::{Hash32, PubKey, Sig};
use medchain_wallet::builder::{PolicyUnlock, Spendable, TxBuilder};
use medchain_wallet::deposit::{
    Binding, KeyError, recover_from_shares, reseal_share, seal_justification, seal_to, split_among,
};
use medchain_wallet::record::RecordSecret;
use secp256k1::SecretKey;

pub const COIN: u64 = 1_000_000;
pub const FEE: u64 = 1_000;

/// Genesis coins of each party (each transaction of the test world spends one).
pub const COINS_EACH: usize = 16;

pub fn signer(n: u8) -> Signer {
    Signer::new(SecretKey::from_byte_array([n; 32]).unwrap())
}

pub struct People {
    pub governor: Signer,
    pub producer: Signer,
    pub hospital: Signer,
    pub patient: Signer,
    pub researcher: Signer,
    pub insurer: Signer,
    pub clinic: Signer,
    pub outsider: Signer,
}

pub fn people() -> People {
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

pub struct World {
    pub chain: Chain,
    pub store: MemoryStore,
    pub tip: Tip,
    pub time: u64,
    pub p: People,
    pub coins: BTreeMap<PubKey, Vec<(OutPoint, u64)>>,
    pub verifier: Verifier,
    pub genesis_json: String,
    pub blocks: Vec<Block>,
}

impl World {
    pub fn new() -> World {
        let p = people();
        let everyone =
            [&p.governor, &p.hospital, &p.patient, &p.researcher, &p.insurer, &p.clinic, &p.outsider];
        let allocations: Vec<serde_json::Value> = everyone
            .iter()
            .flat_map(|s| {
                std::iter::repeat_n(
                    serde_json::json!({"lock": hex::encode(pay_to_key(&s.key)), "value": COIN}),
                    COINS_EACH,
                )
            })
            .collect();
        let genesis = serde_json::json!({
            "chain_name": "medchain-test",
            "time": 1_767_225_600u64,
            "roles": {"medical_institution": 1, "research": 2, "insurer": 3, "auditor": 5},
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
            for j in 0..COINS_EACH {
                let outpoint = chain.allocation_outpoint(u32::try_from(i * COINS_EACH + j).unwrap());
                coins.entry(s.key).or_default().push((outpoint, COIN));
            }
        }
        let tip = Tip { height: 0, hash: chain.chain_id };
        World {
            chain,
            store,
            tip,
            time: 1_767_225_600,
            p,
            coins,
            verifier: Verifier::new(2),
            genesis_json: genesis.to_string(),
            blocks: Vec::new(),
        }
    }

    /// A transaction paying its fee from one of `payer`'s coins, change back to the payer;
    /// payload signatures made by `sign`, inputs signed by the payer.
    pub fn tx(
        &mut self,
        payer: &Signer,
        payload: Payload,
        expiry: u32,
        sign: Option<&Signer>,
    ) -> Transaction {
        let mut builder = TxBuilder::new(payload, FEE).expiry(expiry);
        if let Some(author) = sign {
            builder = builder.signed_by(author);
        }
        self.pay(payer, builder)
    }

    /// `builder`'s transaction, paid from one of `payer`'s coins (the last it received). The
    /// fee is not checked against the fuel: the chain's rules judge that here.
    pub fn pay(&mut self, payer: &Signer, builder: TxBuilder) -> Transaction {
        let (outpoint, value) = self.coins.get_mut(&payer.key).unwrap().pop().unwrap();
        let coin = Spendable { outpoint, value, height: 0, coinbase: false };
        let builder = builder.without_fee_check();
        builder.build(&self.chain.chain_id, payer, &[coin], self.tip.height + 1).unwrap()
    }

    pub fn block(&mut self, txs: Vec<Transaction>) -> Block {
        self.time += 600;
        self.chain.build_block(&self.store, &self.tip, self.time, &self.p.producer, &self.p.producer.key, txs)
    }

    pub fn apply(&mut self, block: &Block) -> Result<Applied, BlockError> {
        let applied = verdict(self.chain.validate_block(&self.store, block, &self.verifier))?;
        self.store.apply(applied.changes.clone());
        self.tip = applied.tip;
        self.blocks.push(block.clone());
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

    pub fn coin_owner(&self, lock: &[u8]) -> Option<PubKey> {
        self.coins.keys().find(|k| pay_to_key(k) == lock).copied()
    }

    /// Mines a block with `txs`, expecting success.
    pub fn mine(&mut self, txs: Vec<Transaction>) -> Applied {
        let block = self.block(txs);
        self.apply(&block).unwrap_or_else(|e| panic!("block refused: {e}"))
    }

    /// Mines a block with `tx`, expecting this transaction error.
    pub fn refuse(&mut self, tx: Transaction) -> TxError {
        let block = self.block(vec![tx]);
        self.time -= 600;
        match verdict(self.chain.validate_block(&self.store, &block, &self.verifier)) {
            Err(BlockError::Transaction { error, .. }) => error,
            other => panic!("expected a transaction error, got {other:?}"),
        }
    }
}

/// A validation result as a verdict: a fault of the node fails the test, since these tests
/// judge only what a healthy node decides.
pub fn verdict<T, E: std::fmt::Debug>(result: Result<T, Rejection<E>>) -> Result<T, E> {
    result.map_err(|rejection| match rejection {
        Rejection::Invalid(error) => error,
        Rejection::Undecided(fault) => panic!("the node could not decide: {fault}"),
    })
}

/// The record policy used in these tests: the patient consents (with a key deposit for the
/// grantee), or a registered institution breaks the glass for at most 144 blocks.
pub const POLICY: &str = r#"
policy record(patient: pubkey, grantee: pubkey) {
    clause "patient consents" {
        sig(patient) and deposit(grantee)
    }

    clause "emergency" {
        role_sig(medical_institution) and emergency(144 blocks)
    }
}
"#;

pub fn policy(patient: &PubKey, grantee: &PubKey) -> Compiled {
    let (checked, diagnostics) = check(&parse(POLICY).unwrap(), &RoleRegistry::standard());
    let checked = checked.unwrap_or_else(|| panic!("{diagnostics:?}"));
    let args = [("patient", patient), ("grantee", grantee)]
        .into_iter()
        .map(|(n, k)| (n.to_owned(), Value::PubKey(k.0)))
        .collect();
    compile(&checked, &args).unwrap()
}

pub fn role_payload(w: &World, subject: &PubKey, role: u32, register: bool) -> Payload {
    let (subject, governor, signature) = (*subject, w.p.governor.key, Sig::EMPTY);
    if register {
        Payload::RegisterRole { subject, role, governor, signature }
    } else {
        Payload::WithdrawRole { subject, role, governor, signature }
    }
}

/// Releases and stores a record for the patient, with its record secret (key and salt) split 2
/// of 2 between the hospital and the clinic. Returns (storage txid, compiled policy, record
/// secret).
pub fn stored_record(w: &mut World) -> (Hash32, Compiled, Vec<u8>) {
    let (hospital, patient, clinic, researcher) =
        (w.p.hospital.clone(), w.p.patient.clone(), w.p.clinic.clone(), w.p.researcher.clone());
    let compiled = policy(&patient.key, &researcher.key);
    let record_key = b"an AES key of exactly 32 bytes!!and the salt of its release, 32!".to_vec();
    let secret = RecordSecret::from_bytes(&record_key).unwrap();
    let storage_id = store_record_with(w, &compiled.script, |release| {
        Some(split_among(&secret, release, 2, &[hospital.key, clinic.key], &mut rand::rng()).unwrap())
    });
    (storage_id, compiled, record_key)
}

/// `holder`'s share release of `record`'s key for the emergency access `access`, re-sealed to
/// `requester`.
pub fn release_share(
    w: &mut World,
    holder: &Signer,
    (record, access): (Hash32, Hash32),
    requester: &PubKey,
) -> Transaction {
    let stored = w.store.record(&record).unwrap().unwrap();
    let shares = stored.emergency.unwrap();
    let envelope = reseal_share(
        &holder.secret,
        &shares,
        (&stored.release, &record, &access),
        requester,
        &mut rand::rng(),
    )
    .unwrap();
    let payload = Payload::ShareRelease {
        emergency: access,
        record,
        holder: holder.key,
        envelope,
        signature: Sig::EMPTY,
    };
    w.tx(holder, payload, 0, Some(holder))
}

/// The record secret of `record`, recovered by `requester` from the shares released for
/// `access`.
pub fn recovered(
    w: &World,
    requester: &Signer,
    (record, access): (Hash32, Hash32),
) -> Result<RecordSecret, KeyError> {
    let shares = w.store.record(&record).unwrap().unwrap().emergency.unwrap();
    let released = w.store.share_releases(&access).unwrap();
    let released = released
        .iter()
        .filter(|(r, _, _)| *r == record)
        .map(|(_, holder, envelope)| (*holder, envelope.as_slice()));
    recover_from_shares(&requester.secret, (&access, &record), &shares, released).map(|r| r.secret)
}

/// A release by the hospital of a record for `patient`, committing to `commitment`.
pub fn release_for(w: &mut World, patient: &PubKey, commitment: Hash32) -> Transaction {
    let hospital = w.p.hospital.clone();
    let payload =
        Payload::Release { patient: *patient, institution: hospital.key, commitment, signature: Sig::EMPTY };
    w.tx(&hospital, payload, 0, Some(&hospital))
}

/// The ciphertext the test world stores for the record of `release`: one ciphertext per record.
pub fn ciphertext_of(release: &Hash32) -> Vec<u8> {
    [b"ciphertext of ".as_slice(), &release.0].concat()
}

/// Releases (by the hospital) and stores (by the patient) a record under `policy`, mining a
/// block for each. Returns the storage txid.
pub fn store_record(w: &mut World, policy: &[u8], emergency: Option<EmergencyShares>) -> Hash32 {
    store_record_with(w, policy, |_| emergency)
}

/// As [`store_record`], with the emergency shares made for the release's id.
pub fn store_record_with(
    w: &mut World,
    policy: &[u8],
    emergency: impl FnOnce(&Hash32) -> Option<EmergencyShares>,
) -> Hash32 {
    let patient = w.p.patient.clone();
    let release = release_for(w, &patient.key, Hash32::sha256(b"salt|record"));
    let release_id = release.txid();
    w.mine(vec![release]);
    let emergency = emergency(&release_id);
    let storage = w.tx(
        &patient,
        Payload::Storage {
            release: release_id,
            patient: patient.key,
            ciphertext: Hash32::sha256(&ciphertext_of(&release_id)),
            policy: policy.to_vec(),
            emergency,
            signature: Sig::EMPTY,
        },
        0,
        Some(&patient),
    );
    let storage_id = storage.txid();
    w.mine(vec![storage]);
    storage_id
}

/// Compiles MedScript `source` with `args`.
pub fn compile_policy(source: &str, args: Vec<(&str, Value)>) -> Compiled {
    let (checked, diagnostics) = check(&parse(source).unwrap(), &RoleRegistry::standard());
    let checked = checked.unwrap_or_else(|| panic!("{diagnostics:?}"));
    let args = args.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
    compile(&checked, &args).unwrap()
}

/// A transaction deploying a policy module, paid for by the hospital.
pub fn deploy(w: &mut World, code: Vec<u8>) -> Transaction {
    let hospital = w.p.hospital.clone();
    w.tx(&hospital, Payload::DeployModule { code }, 0, None)
}

/// A grant of `record` to the researcher for `purpose`, declaring `fuel` per script check,
/// with a key deposit if `deposit`, unlocked by the policy's first clause with the patient's key.
pub fn fueled_grant(
    w: &mut World,
    record: Hash32,
    compiled: &Compiled,
    (purpose, fuel, deposit): (u32, u64, bool),
) -> Transaction {
    consented_grant(w, record, compiled, deposit.then_some([0x52; 64].as_slice()), (purpose, 0, fuel))
}

/// A grant of `record` to the researcher with `key` deposited for them (if given), for
/// `purpose`, ending at `expiry`, declaring `fuel`; unlocked by the policy's first clause with
/// the patient's key and paid by the patient.
fn consented_grant(
    w: &mut World,
    record: Hash32,
    compiled: &Compiled,
    key: Option<&[u8]>,
    (purpose, expiry, fuel): (u32, u32, u64),
) -> Transaction {
    let researcher = w.p.researcher.clone();
    let deposit = key
        .map(|key| seal_to(&researcher.key, key, Binding::Deposit(&record), &mut rand::rng()).unwrap())
        .unwrap_or_default();
    grant_with_deposit(w, record, compiled, deposit, (purpose, expiry, fuel))
}

/// A grant of `record` to the researcher carrying `deposit` as given, for `purpose`, ending at
/// `expiry`, declaring `fuel`; unlocked by the policy's first clause with the patient's key and
/// paid by the patient.
pub fn grant_with_deposit(
    w: &mut World,
    record: Hash32,
    compiled: &Compiled,
    deposit: Vec<u8>,
    (purpose, expiry, fuel): (u32, u32, u64),
) -> Transaction {
    let (patient, researcher) = (w.p.patient.clone(), w.p.researcher.clone());
    let access = RecordAccess { record, unlock: Vec::new(), sequence: u32::MAX, deposit };
    let payload = Payload::AccessGrant { grantee: researcher.key, purpose, records: vec![access] };
    let holdings = Holdings {
        secret_keys: vec![patient.secret],
        deposits: [researcher.key.0].into(),
        ..Holdings::default()
    };
    let unlock = PolicyUnlock { compiled: compiled.clone(), holdings, clause: Some(0) };
    w.pay(&patient, TxBuilder::new(payload, FEE).expiry(expiry).fuel(fuel).unlock_records(unlock))
}

/// An access grant to the researcher, unlocked by the patient's consent clause.
pub fn grant(
    w: &mut World,
    record: Hash32,
    compiled: &Compiled,
    key: &[u8],
    with_deposit: bool,
) -> Transaction {
    grant_until(w, record, compiled, key, with_deposit, 0)
}

/// As [`grant`], ending at block `expiry` (0: never).
pub fn grant_until(
    w: &mut World,
    record: Hash32,
    compiled: &Compiled,
    key: &[u8],
    with_deposit: bool,
    expiry: u32,
) -> Transaction {
    consented_grant(w, record, compiled, with_deposit.then_some(key), (7, expiry, 0))
}

/// An emergency access by `requester`, unlocked by the emergency clause, with `justification`
/// sealed to the patient.
pub fn emergency(
    w: &mut World,
    record: Hash32,
    compiled: &Compiled,
    requester: &Signer,
    expiry: u32,
    justification: &str,
) -> Transaction {
    let request = (&requester.key, &[record][..]);
    let sealed = seal_justification(justification, request, &[w.p.patient.key], &mut rand::rng()).unwrap();
    emergency_through(w, (record, compiled, 1), requester, expiry, sealed)
}

/// An emergency access by `requester` to `record` through `clause` of its policy, carrying
/// `justification` as given.
pub fn emergency_through(
    w: &mut World,
    (record, compiled, clause): (Hash32, &Compiled, usize),
    requester: &Signer,
    expiry: u32,
    justification: Justification,
) -> Transaction {
    let access = RecordAccess { record, unlock: Vec::new(), sequence: u32::MAX, deposit: Vec::new() };
    let payload = Payload::EmergencyAccess {
        requester: requester.key,
        justification,
        records: vec![access],
        signature: Sig::EMPTY,
    };
    let holdings = Holdings {
        secret_keys: vec![requester.secret],
        roles: [(requester.key.0, [1].into())].into(),
        // The requester's claim; the chain checks the transaction's real expiry.
        emergency_expires_in: Some(1),
        // An emergency's relative locks are its veto window, counted from the request.
        age_blocks: Some(u32::from(u16::MAX)),
        age_seconds: Some(u32::MAX / 2),
        ..Holdings::default()
    };
    let unlock = PolicyUnlock { compiled: compiled.clone(), holdings, clause: Some(clause) };
    w.pay(requester, TxBuilder::new(payload, FEE).expiry(expiry).signed_by(requester).unlock_records(unlock))
}
