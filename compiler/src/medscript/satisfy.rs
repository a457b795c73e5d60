//! The satisfier and planner: from a compiled policy and what a party holds, the cheapest
//! unlocking script for a clause that can be met now, or, clause by clause, exactly what is
//! missing. The signature digest comes from the caller, so the runtime uses the same code.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use medchain_vm::AccessHost;
use medchain_vm::signature::SIGHASH_ALL;
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};
use sha2::{Digest, Sha256};

use super::codegen::{Compiled, resolve};
use super::model::{Cond, Ref};
use super::types::{Duration, LOCKTIME_THRESHOLD, RELATIVE_TIME_UNIT, Value};
use crate::asm::assemble::minimal_push;

/// Size the planner assumes for a signature it cannot make yet: the longest DER signature
/// (72 bytes) and its hash type.
pub const MAX_SIGNATURE_SIZE: usize = 73;

/// What a party holds and knows about the access it is about to make.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    /// The digest signatures commit to (for MedChain: the access transaction's digest).
    pub digest: [u8; 32],
    /// The hash-type byte appended to signatures made here (default SIGHASH_ALL).
    pub hash_type: Option<u8>,
    /// Secret keys the party can sign with.
    pub secret_keys: Vec<SecretKey>,
    /// Signatures already made (DER plus hash type), by public key.
    pub signatures: BTreeMap<[u8; 33], Vec<u8>>,
    /// Known hash preimages.
    pub preimages: Vec<Vec<u8>>,
    /// The chain's current height.
    pub height: Option<u32>,
    /// The chain's current time (median time past).
    pub time: Option<u32>,
    /// How old the record is, in blocks, for relative locks.
    pub age_blocks: Option<u32>,
    /// How old the record is, in seconds, for relative locks.
    pub age_seconds: Option<u32>,
    /// Roles held by keys.
    pub roles: BTreeMap<[u8; 33], BTreeSet<u32>>,
    /// Keys the access carries a key deposit for.
    pub deposits: BTreeSet<[u8; 33]>,
    /// For an emergency access with a justification: blocks until it expires.
    pub emergency_expires_in: Option<u32>,
}

impl Holdings {
    fn public_keys(&self) -> BTreeMap<[u8; 33], Option<&SecretKey>> {
        let mut keys: BTreeMap<[u8; 33], Option<&SecretKey>> = self
            .secret_keys
            .iter()
            .map(|s| (PublicKey::from_secret_key(SECP256K1, s).serialize(), Some(s)))
            .collect();
        for key in self.signatures.keys() {
            keys.entry(*key).or_insert(None);
        }
        keys
    }

    fn signature(&self, key: &[u8; 33]) -> Option<Vec<u8>> {
        if let Some(sig) = self.signatures.get(key) {
            return Some(sig.clone());
        }
        let secret =
            self.secret_keys.iter().find(|s| PublicKey::from_secret_key(SECP256K1, s).serialize() == *key)?;
        let mut sig =
            SECP256K1.sign_ecdsa(Message::from_digest(self.digest), secret).serialize_der().to_vec();
        sig.push(self.hash_type.unwrap_or(SIGHASH_ALL));
        Some(sig)
    }
}

/// What the access transaction must carry for the unlocking script to verify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Lock time at least this (height or time), and a non-final sequence.
    pub lock_time: Option<u32>,
    /// Sequence (BIP 68 encoding) at least this relative lock.
    pub sequence: Option<u32>,
    /// Access expiry at or before this height or time.
    pub expiry_at_most: Option<u32>,
    /// Marked as an emergency with a justification, expiring within this many blocks.
    pub emergency_within: Option<u32>,
    /// Policy modules that will decide when the access is validated.
    pub modules: Vec<[u8; 32]>,
}

impl Requirements {
    fn merge(&mut self, other: Requirements) {
        self.lock_time = self.lock_time.max(other.lock_time);
        self.sequence = self.sequence.max(other.sequence);
        self.expiry_at_most = match (self.expiry_at_most, other.expiry_at_most) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.emergency_within = match (self.emergency_within, other.emergency_within) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.modules.extend(other.modules);
    }
}

/// What is missing to meet a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// One thing, as a phrase ("a signature from `guardian_2`").
    One(String),
    /// All of these.
    All(Vec<Need>),
    /// Any one of these.
    Any(Vec<Need>),
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Need::One(text) => f.write_str(text),
            Need::All(needs) => {
                let parts: Vec<String> = needs.iter().map(|n| n.to_string()).collect();
                f.write_str(&parts.join(", and "))
            }
            Need::Any(needs) => {
                let parts: Vec<String> = needs.iter().map(|n| n.to_string()).collect();
                f.write_str(&parts.join("; or "))
            }
        }
    }
}

/// A way to unlock: the items, bottom first, and what the transaction must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// Stack items the unlocking script pushes, bottom first.
    pub items: Vec<Vec<u8>>,
    /// What the transaction must carry.
    pub requirements: Requirements,
}

impl Witness {
    /// The host a validator would build for an access that meets this witness's requirements,
    /// with the roles, deposits and emergency bound `holdings` claims.
    pub fn access_host(&self, holdings: &Holdings) -> AccessHost {
        let req = &self.requirements;
        let mut host = AccessHost::new(holdings.digest);
        if let Some(lock_time) = req.lock_time {
            host.lock_time = lock_time;
            host.sequence = 0xffff_fffe;
        }
        if let Some(sequence) = req.sequence {
            host.sequence = sequence;
        }
        host.expiry = req.expiry_at_most;
        host.emergency_expires_in = holdings.emergency_expires_in;
        host.roles = holdings
            .roles
            .iter()
            .map(|(k, r)| (k.to_vec(), r.iter().map(|&r| i64::from(r)).collect()))
            .collect();
        host.deposits = holdings.deposits.iter().map(|k| k.to_vec()).collect();
        host
    }

    /// The unlocking script: each item pushed minimally.
    pub fn script(&self) -> Vec<u8> {
        self.items.iter().flat_map(|item| minimal_push(item)).collect()
    }

    /// Size of the unlocking script in bytes.
    pub fn size(&self) -> usize {
        self.items.iter().map(|item| minimal_push(item).len()).sum()
    }

    fn empty() -> Self {
        Witness { items: Vec::new(), requirements: Requirements::default() }
    }

    /// `self`'s items below `top`'s.
    fn below(mut self, top: Witness) -> Witness {
        self.items.extend(top.items);
        self.requirements.merge(top.requirements);
        self
    }
}

/// The outcome for one clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClausePlan {
    /// The clause's label.
    pub label: String,
    /// Its position in the policy.
    pub index: usize,
    /// How to unlock through it, or what is missing.
    pub result: Result<Witness, Need>,
}

/// Every clause's outcome, and the cheapest that can be met now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// One entry per clause, in policy order.
    pub clauses: Vec<ClausePlan>,
}

impl Plan {
    /// The clause with the smallest unlocking script among those that can be met.
    pub fn best(&self) -> Option<(&ClausePlan, &Witness)> {
        self.clauses
            .iter()
            .filter_map(|c| c.result.as_ref().ok().map(|w| (c, w)))
            .min_by_key(|(c, w)| (w.size(), c.index))
    }
}

/// Plans every clause of a compiled policy for a party.
pub fn satisfy(compiled: &Compiled, holdings: &Holdings) -> Plan {
    let satisfier = Satisfier { compiled, holdings, keys: holdings.public_keys() };
    let conds: Vec<Cond> = compiled.policy.clauses.iter().map(|c| c.cond.normalized()).collect();
    let clauses = compiled
        .policy
        .clauses
        .iter()
        .enumerate()
        .map(|(index, clause)| ClausePlan {
            label: clause.label.clone(),
            index,
            result: satisfier.choose(&conds, index),
        })
        .collect();
    Plan { clauses }
}

/// An item that is empty: a false selector, or the empty signature that fails a check.
fn empty_item() -> Witness {
    Witness { items: vec![Vec::new()], requirements: Requirements::default() }
}

struct Satisfier<'a> {
    compiled: &'a Compiled,
    holdings: &'a Holdings,
    keys: BTreeMap<[u8; 33], Option<&'a SecretKey>>,
}

impl Satisfier<'_> {
    fn value(&self, r: &Ref) -> Option<Value> {
        resolve(&self.compiled.args, r).ok()
    }

    /// How a value is named in messages: its parameter's name, or the value itself.
    fn name(&self, r: &Ref) -> String {
        match r {
            Ref::Param(name) => format!("`{name}`"),
            Ref::Literal(value) => format!("`{value}`"),
        }
    }

    fn key(&self, r: &Ref) -> Option<[u8; 33]> {
        match self.value(r)? {
            Value::PubKey(key) => Some(key),
            _ => None,
        }
    }

    fn number(&self, r: &Ref) -> Option<u32> {
        match self.value(r)? {
            Value::Height(n) | Value::Time(n) | Value::Role(n, _) => Some(n),
            _ => None,
        }
    }

    fn sign(&self, r: &Ref) -> Result<Vec<u8>, Need> {
        self.key(r)
            .and_then(|key| self.holdings.signature(&key))
            .ok_or_else(|| Need::One(format!("a signature from {}", self.name(r))))
    }

    /// All conditions, the first one's items on top.
    fn all(&self, subs: &[Cond], each: impl Fn(&Cond) -> Result<Witness, Need>) -> Result<Witness, Need> {
        let mut witness = Witness::empty();
        let mut missing = Vec::new();
        for sub in subs.iter().rev() {
            match each(sub) {
                Ok(w) => witness = witness.below(w),
                Err(need) => missing.push(need),
            }
        }
        match missing.len() {
            0 => Ok(witness),
            1 => Err(missing.remove(0)),
            _ => {
                missing.reverse();
                Err(Need::All(missing))
            }
        }
    }

    /// The cheapest of alternatives (the compiler's `alternatives`).
    fn any(&self, subs: &[Cond]) -> Result<Witness, Need> {
        let mut best: Option<Witness> = None;
        let mut missing = Vec::new();
        for index in 0..subs.len() {
            match self.choose(subs, index) {
                Ok(w) if best.as_ref().is_none_or(|b| w.size() < b.size()) => best = Some(w),
                Ok(_) => {}
                Err(need) => missing.push(need),
            }
        }
        best.ok_or(Need::Any(missing))
    }

    /// Alternative `index` of `subs`, as the compiler chooses it: by its leading signature (the
    /// others by an empty one), or by a `1` selector (the others by an empty one).
    fn choose(&self, subs: &[Cond], index: usize) -> Result<Witness, Need> {
        let Some((first, rest)) = subs.split_first() else { return Err(Need::One("a clause".into())) };
        if rest.is_empty() {
            return self.atom(first);
        }
        if index > 0 {
            return self.choose(rest, index - 1).map(|w| w.below(empty_item()));
        }
        let Some((key, rest)) = first.signature_and_rest() else {
            let selector = Witness { items: vec![vec![1]], requirements: Requirements::default() };
            return self.atom(first).map(|w| w.below(selector));
        };
        match (self.atom(&rest), self.sign(key)) {
            (Ok(w), Ok(sig)) => {
                Ok(w.below(Witness { items: vec![sig], requirements: Requirements::default() }))
            }
            (Err(need), Ok(_)) | (Ok(_), Err(need)) => Err(need),
            (Err(a), Err(b)) => Err(Need::All(vec![b, a])),
        }
    }

    fn atom(&self, cond: &Cond) -> Result<Witness, Need> {
        let req = |requirements: Requirements| Ok(Witness { items: Vec::new(), requirements });
        match cond {
            Cond::And(subs) => self.all(subs, |s| self.atom(s)),
            Cond::Or(subs) => self.any(subs),
            Cond::Sig(key) => {
                Ok(Witness { items: vec![self.sign(key)?], requirements: Requirements::default() })
            }
            Cond::Multi { k, keys } => self.multi(*k, keys),
            Cond::Thresh { k, subs } => self.thresh(*k, subs),
            Cond::Sha256(hash) => {
                let Some(Value::Hash(hash_value)) = self.value(hash) else {
                    return Err(Need::One("a hash".into()));
                };
                let preimage = self
                    .holdings
                    .preimages
                    .iter()
                    .find(|p| p.len() == 32 && Sha256::digest(p).as_slice() == hash_value);
                preimage
                    .map(|p| Witness { items: vec![p.clone()], requirements: Requirements::default() })
                    .ok_or_else(|| Need::One(format!("the 32-byte preimage of {}", self.name(hash))))
            }
            Cond::After(r) => {
                let Some(target) = self.number(r) else { return Err(Need::One("a lock time".into())) };
                let (now, what) = if target < LOCKTIME_THRESHOLD {
                    (self.holdings.height, "height")
                } else {
                    (self.holdings.time, "time")
                };
                match now {
                    Some(now) if now >= target => {
                        req(Requirements { lock_time: Some(target), ..Requirements::default() })
                    }
                    _ => Err(Need::One(format!("to wait until {what} {}", group(target)))),
                }
            }
            Cond::Before(r) => {
                let Some(end) = self.number(r) else { return Err(Need::One("an expiry".into())) };
                let now = if end < LOCKTIME_THRESHOLD { self.holdings.height } else { self.holdings.time };
                match now {
                    Some(now) if now >= end => Err(Need::One(format!(
                        "the window that closed at {} to be open (it cannot reopen)",
                        group(end)
                    ))),
                    _ => req(Requirements { expiry_at_most: Some(end), ..Requirements::default() }),
                }
            }
            Cond::Older(r) => {
                let Some(Value::Duration(d)) = self.value(r) else {
                    return Err(Need::One("a duration".into()));
                };
                let (age, needed, unit) = match d {
                    Duration::Blocks(n) => (self.holdings.age_blocks, n, "blocks"),
                    Duration::TimeUnits(n) => {
                        (self.holdings.age_seconds.map(|s| s / RELATIVE_TIME_UNIT), n, "units of 512 seconds")
                    }
                };
                match age {
                    Some(age) if age >= needed => req(Requirements {
                        sequence: u32::try_from(d.sequence()).ok(),
                        ..Requirements::default()
                    }),
                    Some(age) => Err(Need::One(format!("to wait {} more {unit} ({d} in all)", needed - age))),
                    None => Err(Need::One(format!("the record to be {d} old"))),
                }
            }
            Cond::Role { key, role } => {
                let (Some(k), Some(role_id)) = (self.key(key), self.number(role)) else {
                    return Err(Need::One("a role".into()));
                };
                if self.holdings.roles.get(&k).is_some_and(|roles| roles.contains(&role_id)) {
                    req(Requirements::default())
                } else {
                    Err(Need::One(format!("{} to hold the role {}", self.name(key), self.name(role))))
                }
            }
            Cond::RoleSig { role, deposit } => {
                let Some(role_id) = self.number(role) else { return Err(Need::One("a role".into())) };
                let holders: Vec<[u8; 33]> = self
                    .keys
                    .keys()
                    .filter(|k| self.holdings.roles.get(*k).is_some_and(|roles| roles.contains(&role_id)))
                    .copied()
                    .collect();
                let usable = holders.iter().find(|k| !deposit || self.holdings.deposits.contains(*k));
                match usable.and_then(|k| self.holdings.signature(k).map(|sig| (k, sig))) {
                    Some((key, sig)) => {
                        Ok(Witness { items: vec![sig, key.to_vec()], requirements: Requirements::default() })
                    }
                    None if !holders.is_empty() && *deposit => Err(Need::One(format!(
                        "a key deposit for the key holding the role {}",
                        self.name(role)
                    ))),
                    None => {
                        Err(Need::One(format!("a signature by a key holding the role {}", self.name(role))))
                    }
                }
            }
            Cond::Deposit(key) => match self.key(key) {
                Some(k) if self.holdings.deposits.contains(&k) => req(Requirements::default()),
                _ => Err(Need::One(format!("a key deposit for {}", self.name(key)))),
            },
            Cond::Emergency(r) => {
                let Some(Value::Duration(Duration::Blocks(bound))) = self.value(r) else {
                    return Err(Need::One("an emergency bound in blocks".into()));
                };
                match self.holdings.emergency_expires_in {
                    Some(expires) if expires <= bound => {
                        req(Requirements { emergency_within: Some(bound), ..Requirements::default() })
                    }
                    Some(expires) => Err(Need::One(format!(
                        "an emergency access expiring within {bound} blocks (this one lasts {expires})"
                    ))),
                    None => Err(Need::One("an emergency access with a justification".into())),
                }
            }
            Cond::Module { module, .. } => {
                let Some(Value::Module(hash)) = self.value(module) else {
                    return Err(Need::One("a module".into()));
                };
                req(Requirements { modules: vec![hash], ..Requirements::default() })
            }
        }
    }

    /// CHECKMULTISIG: an empty dummy, then `k` signatures in key order.
    fn multi(&self, k: usize, keys: &[Ref]) -> Result<Witness, Need> {
        let sigs: Vec<(usize, Vec<u8>)> = keys
            .iter()
            .enumerate()
            .filter_map(|(i, key)| self.sign(key).ok().map(|sig| (i, sig)))
            .take(k)
            .collect();
        if sigs.len() < k {
            let missing: Vec<String> =
                keys.iter().filter(|key| self.sign(key).is_err()).map(|key| self.name(key)).collect();
            let more = k - sigs.len();
            let noun = if more == 1 { "signature" } else { "signatures" };
            return Err(Need::One(format!("{more} more {noun} from {}", either(&missing))));
        }
        let mut items = vec![Vec::new()];
        items.extend(sigs.into_iter().map(|(_, sig)| sig));
        Ok(Witness { items, requirements: Requirements::default() })
    }

    /// The compiler's threshold: CHECKMULTISIG when every sub-condition is a signature,
    /// otherwise one counted item group per sub-condition, the first one's on top.
    fn thresh(&self, k: usize, subs: &[Cond]) -> Result<Witness, Need> {
        let keys: Option<Vec<Ref>> =
            subs.iter().map(|s| if let Cond::Sig(key) = s { Some(key.clone()) } else { None }).collect();
        if let Some(keys) = keys.filter(|keys| keys.len() <= medchain_vm::limits::MAX_PUBKEYS_PER_MULTISIG) {
            return self.multi(k, &keys);
        }
        // Each sub-condition: (met, unmet) item groups.
        let options: Vec<(Result<Witness, Need>, Witness)> = subs
            .iter()
            .map(|sub| match sub {
                Cond::Sig(_) => (
                    self.atom(sub),
                    Witness { items: vec![Vec::new()], requirements: Requirements::default() },
                ),
                other => (
                    self.atom(other).map(|w| {
                        w.below(Witness { items: vec![vec![1]], requirements: Requirements::default() })
                    }),
                    Witness { items: vec![Vec::new()], requirements: Requirements::default() },
                ),
            })
            .collect();
        let mut met: Vec<(usize, usize)> = options
            .iter()
            .enumerate()
            .filter_map(|(i, (m, u))| m.as_ref().ok().map(|m| (m.size().saturating_sub(u.size()), i)))
            .collect();
        if met.len() < k {
            let missing: Vec<Need> = options.iter().filter_map(|(m, _)| m.as_ref().err().cloned()).collect();
            return Err(Need::One(format!(
                "{} more of: {}",
                k - met.len(),
                Need::Any(missing).to_string().replace("; or", ",")
            )));
        }
        met.sort();
        let chosen: BTreeSet<usize> = met.iter().take(k).map(|(_, i)| *i).collect();
        let mut witness = Witness::empty();
        for (i, (m, u)) in options.into_iter().enumerate().rev() {
            let group = if chosen.contains(&i) { m.unwrap_or_else(|_| Witness::empty()) } else { u };
            witness = witness.below(group);
        }
        Ok(witness)
    }
}

/// `a`, `a or b`, `a, b or c`.
fn either(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A number with thousands separators: 120,000.
fn group(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The largest unlocking script any clause can need: signatures at their longest, every
/// selector and every item a clause may push.
pub fn max_unlocking_size(compiled: &Compiled) -> usize {
    max_unlocking_size_with(compiled, 1 + MAX_SIGNATURE_SIZE)
}

/// [`max_unlocking_size`] with each signature push counted as `signature_push` bytes (push
/// opcode, DER and hash type), to compare with tools that assume other signature sizes.
pub fn max_unlocking_size_with(compiled: &Compiled, signature_push: usize) -> usize {
    let conds: Vec<Cond> = compiled.policy.clauses.iter().map(|c| c.cond.normalized()).collect();
    alternatives_size(&conds, signature_push)
}

/// Largest satisfaction of any one of several alternatives, chosen as the compiler does.
fn alternatives_size(subs: &[Cond], signature_push: usize) -> usize {
    (0..subs.len()).map(|index| choice_size(subs, index, signature_push)).max().unwrap_or(0)
}

fn choice_size(subs: &[Cond], index: usize, signature_push: usize) -> usize {
    let Some((first, rest)) = subs.split_first() else { return 0 };
    if rest.is_empty() {
        return sat_size(first, signature_push);
    }
    if index > 0 {
        return choice_size(rest, index - 1, signature_push) + 1;
    }
    match first.signature_and_rest() {
        Some((_, rest)) => signature_push + sat_size(&rest, signature_push),
        None => sat_size(first, signature_push) + 1,
    }
}

/// Largest satisfaction of one condition.
fn sat_size(cond: &Cond, signature_push: usize) -> usize {
    let sat = |c: &Cond| sat_size(c, signature_push);
    match cond {
        Cond::Sig(_) => signature_push,
        Cond::Multi { k, .. } => 1 + k * signature_push,
        Cond::Sha256(_) => 33,
        Cond::RoleSig { .. } => signature_push + 34,
        Cond::And(subs) => subs.iter().map(sat).sum(),
        Cond::Or(subs) => alternatives_size(subs, signature_push),
        Cond::Thresh { k, subs } => {
            if subs.iter().all(|s| matches!(s, Cond::Sig(_)))
                && subs.len() <= medchain_vm::limits::MAX_PUBKEYS_PER_MULTISIG
            {
                return 1 + k * signature_push;
            }
            let mut gains: Vec<usize> = subs
                .iter()
                .map(|s| sat(s) + usize::from(!matches!(s, Cond::Sig(_))))
                .map(|v| v.saturating_sub(1))
                .collect();
            gains.sort_unstable_by(|a, b| b.cmp(a));
            subs.len() + gains.iter().take(*k).sum::<usize>()
        }
        _ => 0,
    }
}
