//! The parties of the story, their keys (fresh on every run: no secret key of the story is
//! known anywhere else), and the dev genesis that gives them coins.

use medchain_chain::standard::pay_to_key;
use medchain_chain::validate::Chain;
use medchain_primitives::{PubKey, Signer};
use medchain_wallet::builder::Spendable;
use secp256k1::SecretKey;
use serde_json::{Value, json};

/// What each party starts with, in coins of [`COIN`].
const COINS_EACH: usize = 4;

/// One coin, in the smallest unit.
const COIN: u64 = 1_000_000;

/// A party: a name, a key, and the coins it knows it can spend.
pub struct Party {
    /// How the story calls it.
    pub name: &'static str,
    /// Its key.
    pub signer: Signer,
    /// Its coins.
    pub coins: Vec<Spendable>,
}

impl Party {
    fn new(name: &'static str) -> Party {
        Party { name, signer: Signer::new(SecretKey::new(&mut rand::rng())), coins: Vec::new() }
    }

    /// Its public key.
    pub fn key(&self) -> PubKey {
        self.signer.key
    }
}

/// The parties of the story, with the coins the genesis gives them.
pub struct Cast {
    pub(super) governor: Party,
    producer: Party,
    pub(super) hospital: Party,
    pub(super) patient: Party,
    pub(super) researcher: Party,
    pub(super) insurer: Party,
    pub(super) clinic: Party,
    pub(super) university: Party,
}

impl Default for Cast {
    fn default() -> Self {
        Self::new()
    }
}

impl Cast {
    /// The parties, each with a key of its own made for this run.
    pub fn new() -> Cast {
        Cast {
            governor: Party::new("the Health Ministry"),
            producer: Party::new("the block producer"),
            hospital: Party::new("St. Mary's Hospital"),
            patient: Party::new("Alice"),
            researcher: Party::new("the cardiology research team"),
            insurer: Party::new("an insurer"),
            clinic: Party::new("City Clinic"),
            university: Party::new("University Hospital"),
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

    /// The patient's key.
    pub fn patient_key(&self) -> PubKey {
        self.patient.key()
    }

    /// The producer's signer: the key a dev node of the story signs its blocks with.
    pub fn producer_signer(&self) -> &Signer {
        &self.producer.signer
    }

    /// The patient's signer, for requests only the patient may make.
    pub fn patient_signer(&self) -> &Signer {
        &self.patient.signer
    }

    /// The name the story gives `key`, or the key itself.
    pub(super) fn name_of(&self, key: &PubKey) -> String {
        [&self.researcher, &self.clinic, &self.insurer, &self.patient, &self.hospital, &self.university]
            .iter()
            .find(|p| p.key() == *key)
            .map_or_else(|| key.to_hex(), |p| p.name.to_owned())
    }

    /// The dev genesis file the story runs on: the governor, the producer's public key, coins
    /// for every party, and two institutions registered from the start. It holds no secret.
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
        })
        .to_string()
    }

    /// Gives each party its genesis coins.
    pub(super) fn fund(&mut self, chain: &Chain) {
        let mut index = 0u32;
        for party in self.spenders() {
            party.coins.clear();
            for _ in 0..COINS_EACH {
                let outpoint = chain.allocation_outpoint(index);
                party.coins.push(Spendable { outpoint, value: COIN, height: 0, coinbase: false });
                index += 1;
            }
        }
    }
}
