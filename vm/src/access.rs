//! A host for a MedChain access: signatures over one digest the caller computed, the access's
//! lock time, sequence and expiry, and the roles, key deposits and emergency marking it was
//! validated with. The runtime fills it from chain state; tests and tools fill it by hand.

use std::collections::{BTreeMap, BTreeSet};

use crate::host::{EmergencyCheck, Host};
use crate::limits::{
    LOCKTIME_THRESHOLD, SEQUENCE_FINAL, SEQUENCE_LOCKTIME_DISABLE_FLAG, SEQUENCE_LOCKTIME_MASK,
    SEQUENCE_LOCKTIME_TYPE_FLAG,
};
use crate::signature::{SIGHASH_ALL, verify_ecdsa};

/// Everything the medical opcodes and signature checks of one access ask about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessHost {
    /// The digest every signature must sign.
    pub digest: [u8; 32],
    /// The access's lock time (a height, or a time from 500,000,000 on).
    pub lock_time: u32,
    /// The access's sequence (relative lock, BIP 68 encoding).
    pub sequence: u32,
    /// When the access expires (a height or a time), if it does.
    pub expiry: Option<u32>,
    /// Roles held by keys at the access's height.
    pub roles: BTreeMap<Vec<u8>, BTreeSet<i64>>,
    /// Keys the access carries a key deposit for.
    pub deposits: BTreeSet<Vec<u8>>,
    /// For an emergency access with a justification: blocks until it expires.
    pub emergency_expires_in: Option<u32>,
}

impl AccessHost {
    /// An access signed over `digest`, with no lock time, sequence final, and nothing else.
    pub fn new(digest: [u8; 32]) -> Self {
        Self {
            digest,
            lock_time: 0,
            sequence: SEQUENCE_FINAL,
            expiry: None,
            roles: BTreeMap::new(),
            deposits: BTreeSet::new(),
            emergency_expires_in: None,
        }
    }
}

fn same_kind(a: i64, b: i64) -> bool {
    (a < LOCKTIME_THRESHOLD) == (b < LOCKTIME_THRESHOLD)
}

impl Host for AccessHost {
    fn check_signature(&self, sig: &[u8], pubkey: &[u8], _script_code: &[u8]) -> bool {
        // The digest already commits to the policy, so the script code is not hashed again.
        // Only SIGHASH_ALL is accepted: a hash type the digest ignored could be rewritten by
        // anyone, changing the unlocking script without invalidating it.
        sig.split_last().is_some_and(|(&hash_type, der)| {
            hash_type == SIGHASH_ALL && verify_ecdsa(der, pubkey, &self.digest)
        })
    }

    fn check_lock_time(&self, lock_time: i64) -> bool {
        let own = i64::from(self.lock_time);
        same_kind(own, lock_time) && lock_time <= own && self.sequence != SEQUENCE_FINAL
    }

    fn check_sequence(&self, sequence: i64) -> bool {
        let own = i64::from(self.sequence);
        if own & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 {
            return false;
        }
        let mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
        let (own, wanted) = (own & mask, sequence & mask);
        (own < SEQUENCE_LOCKTIME_TYPE_FLAG) == (wanted < SEQUENCE_LOCKTIME_TYPE_FLAG) && wanted <= own
    }

    fn check_role(&self, pubkey: &[u8], role: i64) -> bool {
        self.roles.get(pubkey).is_some_and(|roles| roles.contains(&role))
    }

    fn check_key_deposit(&self, pubkey: &[u8]) -> bool {
        self.deposits.contains(pubkey)
    }

    fn check_emergency(&self, max_blocks: i64) -> EmergencyCheck {
        match self.emergency_expires_in {
            None => EmergencyCheck::NotEmergency,
            Some(blocks) if i64::from(blocks) <= max_blocks => EmergencyCheck::Granted,
            Some(_) => EmergencyCheck::ExpiryTooFar,
        }
    }

    fn check_expiry(&self, bound: i64) -> bool {
        self.expiry.is_some_and(|expiry| same_kind(i64::from(expiry), bound) && i64::from(expiry) <= bound)
    }
}
