//! The genesis file: the chain's name and start time, its roles, the governance keys that
//! decide who holds them, the block producers, the block reward and the first token outputs.
//! The chain id is the hash of its canonical encoding.

use std::collections::BTreeMap;

use serde::Deserialize;
use thiserror::Error;

use super::limits::MAX_MONEY;
use super::transaction::TxOut;
use medchain_primitives::codec::{Encode, Writer};
use medchain_primitives::{Hash32, PubKey};

/// The role that may release records and break the glass.
pub const MEDICAL_INSTITUTION: &str = "medical_institution";

/// The role whose holders may see any patient's records and audit log (optional).
pub const AUDITOR: &str = "auditor";

/// A validated genesis configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// The chain's name.
    pub chain_name: String,
    /// Unix time of the genesis block.
    pub time: u64,
    /// Role names and their numbers.
    pub roles: BTreeMap<String, u32>,
    /// Keys that register and withdraw roles.
    pub governors: Vec<PubKey>,
    /// Keys allowed to produce blocks.
    pub producers: Vec<PubKey>,
    /// Tokens a block's coinbase may create besides fees.
    pub block_reward: u64,
    /// The first token outputs.
    pub allocations: Vec<TxOut>,
    /// Roles held from the start.
    pub initial_roles: Vec<(PubKey, u32)>,
}

/// Why a genesis file is not usable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenesisError {
    /// Not valid JSON of the expected shape.
    #[error("genesis file is not valid: {0}")]
    Json(String),
    /// A key that is not a compressed public key.
    #[error("`{0}` is not a compressed public key")]
    BadKey(String),
    /// A script that is not hex.
    #[error("allocation script `{0}` is not hex")]
    BadScript(String),
    /// A role named that the file does not define.
    #[error("role `{0}` is not defined in `roles`")]
    UnknownRole(String),
    /// No producer, no governor, or no medical institution role.
    #[error("genesis needs at least one producer, one governor and the `medical_institution` role")]
    Incomplete,
    /// Tokens over the money supply.
    #[error("allocations and reward exceed the money supply")]
    TooMuchMoney,
    /// Two roles with one number: a holder of one would hold the other.
    #[error("roles `{0}` and `{1}` have the same number")]
    DuplicateRole(String, String),
    /// A secret key in the file: a genesis is shared, and whoever holds it could sign blocks.
    #[error(
        "the genesis file carries a secret key (`dev_key`); a genesis names public keys only: give a producer its key file"
    )]
    CarriesSecret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenesisFile {
    chain_name: String,
    time: u64,
    roles: BTreeMap<String, u32>,
    governors: Vec<String>,
    producers: Vec<String>,
    block_reward: u64,
    #[serde(default)]
    allocations: Vec<AllocationFile>,
    #[serde(default)]
    initial_roles: Vec<RoleFile>,
    /// Read only to refuse it by name: older dev genesis files carried the producer's secret.
    #[serde(default)]
    dev_key: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllocationFile {
    lock: String,
    value: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    key: String,
    role: String,
}

fn key(text: &str) -> Result<PubKey, GenesisError> {
    hex::decode(text)
        .ok()
        .and_then(|b| <[u8; 33]>::try_from(b).ok())
        .and_then(PubKey::parse)
        .ok_or_else(|| GenesisError::BadKey(text.to_owned()))
}

impl Genesis {
    /// Reads and validates a genesis file.
    pub fn from_json(text: &str) -> Result<Genesis, GenesisError> {
        let file: GenesisFile = serde_json::from_str(text).map_err(|e| GenesisError::Json(e.to_string()))?;
        if file.dev_key.is_some() {
            return Err(GenesisError::CarriesSecret);
        }
        let mut numbers: BTreeMap<u32, &String> = BTreeMap::new();
        for (name, number) in &file.roles {
            if let Some(first) = numbers.insert(*number, name) {
                return Err(GenesisError::DuplicateRole(first.clone(), name.clone()));
            }
        }
        let genesis = Genesis {
            chain_name: file.chain_name,
            time: file.time,
            governors: file.governors.iter().map(|k| key(k)).collect::<Result<_, _>>()?,
            producers: file.producers.iter().map(|k| key(k)).collect::<Result<_, _>>()?,
            block_reward: file.block_reward,
            allocations: file
                .allocations
                .iter()
                .map(|a| {
                    let lock = hex::decode(&a.lock).map_err(|_| GenesisError::BadScript(a.lock.clone()))?;
                    Ok(TxOut { value: a.value, lock })
                })
                .collect::<Result<_, GenesisError>>()?,
            initial_roles: file
                .initial_roles
                .iter()
                .map(|r| {
                    let role =
                        *file.roles.get(&r.role).ok_or_else(|| GenesisError::UnknownRole(r.role.clone()))?;
                    Ok((key(&r.key)?, role))
                })
                .collect::<Result<_, GenesisError>>()?,
            roles: file.roles,
        };
        if genesis.producers.is_empty()
            || genesis.governors.is_empty()
            || genesis.role(MEDICAL_INSTITUTION).is_none()
        {
            return Err(GenesisError::Incomplete);
        }
        let total =
            genesis.allocations.iter().try_fold(genesis.block_reward, |sum, a| sum.checked_add(a.value));
        if total.is_none_or(|t| t > MAX_MONEY) {
            return Err(GenesisError::TooMuchMoney);
        }
        Ok(genesis)
    }

    /// A role's number.
    pub fn role(&self, name: &str) -> Option<u32> {
        self.roles.get(name).copied()
    }

    /// The chain id: SHA-256 of the canonical encoding of this configuration.
    pub fn chain_id(&self) -> Hash32 {
        let mut w = Writer::new();
        w.fixed(b"medchain/genesis/v1");
        w.bytes(self.chain_name.as_bytes());
        w.u64(self.time);
        w.length(self.roles.len());
        for (name, id) in &self.roles {
            w.bytes(name.as_bytes());
            w.u32(*id);
        }
        w.list(&self.governors);
        w.list(&self.producers);
        w.u64(self.block_reward);
        w.list(&self.allocations);
        w.length(self.initial_roles.len());
        for (key, role) in &self.initial_roles {
            key.encode(&mut w);
            w.u32(*role);
        }
        Hash32::sha256(&w.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

    fn file(extra: &[(&str, serde_json::Value)]) -> String {
        let mut json = serde_json::json!({
            "chain_name": "test", "time": 1_767_225_600u64,
            "roles": { "medical_institution": 1, "auditor": 5 },
            "governors": [KEY], "producers": [KEY], "block_reward": 50,
            "allocations": [{ "lock": "51", "value": 1 }],
            "initial_roles": [{ "key": KEY, "role": "auditor" }],
        });
        for (field, value) in extra {
            json[*field] = value.clone();
        }
        json.to_string()
    }

    #[test]
    fn a_genesis_names_public_keys_only_and_each_mistake_has_its_error() {
        let genesis = Genesis::from_json(&file(&[])).unwrap();
        assert_eq!((genesis.role(AUDITOR), genesis.initial_roles.len()), (Some(5), 1));
        let secret = serde_json::json!("11".repeat(32));
        let cases = [
            (file(&[("dev_key", secret)]), GenesisError::CarriesSecret),
            (
                file(&[("roles", serde_json::json!({ "medical_institution": 1, "auditor": 1 }))]),
                GenesisError::DuplicateRole("auditor".into(), "medical_institution".into()),
            ),
            (file(&[("producers", serde_json::json!(["02zz"]))]), GenesisError::BadKey("02zz".into())),
            (
                file(&[("allocations", serde_json::json!([{ "lock": "xyz", "value": 1 }]))]),
                GenesisError::BadScript("xyz".into()),
            ),
            (
                file(&[("initial_roles", serde_json::json!([{ "key": KEY, "role": "nurse" }]))]),
                GenesisError::UnknownRole("nurse".into()),
            ),
            (file(&[("roles", serde_json::json!({ "auditor": 5 }))]), GenesisError::Incomplete),
            (file(&[("governors", serde_json::json!([]))]), GenesisError::Incomplete),
            (file(&[("block_reward", serde_json::json!(MAX_MONEY))]), GenesisError::TooMuchMoney),
        ];
        for (text, error) in cases {
            assert_eq!(Genesis::from_json(&text), Err(error), "{text}");
        }
        for bad in ["", "{", "[]", &file(&[("surprise", serde_json::json!(1))])] {
            assert!(matches!(Genesis::from_json(bad), Err(GenesisError::Json(_))), "{bad}");
        }
    }
}
