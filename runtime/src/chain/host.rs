//! The VM host for scripts a block runs: signatures over the transaction's signing digest,
//! its lock time, sequence and expiry, roles from chain state as of the previous block, key
//! deposits and emergency marking from the transaction.

use std::cell::RefCell;

use medchain_vm::host::{EmergencyCheck, Host, ModuleVerdict};
use medchain_vm::limits::{
    LOCKTIME_THRESHOLD, SEQUENCE_FINAL, SEQUENCE_LOCKTIME_DISABLE_FLAG, SEQUENCE_LOCKTIME_MASK,
    SEQUENCE_LOCKTIME_TYPE_FLAG,
};
use medchain_vm::signature::{SIGHASH_ALL, verify_ecdsa};

use super::primitives::{Hash32, PubKey};
use super::scripts::SignatureCache;
use super::state::{StateError, StateRead};

/// What one script check may ask about.
pub struct ChainHost<'a, S: ?Sized> {
    /// State as of the previous block (roles).
    pub state: &'a S,
    /// The transaction's signing digest.
    pub digest: Hash32,
    /// The transaction's lock time.
    pub lock_time: u32,
    /// The input's or record access's sequence.
    pub sequence: u32,
    /// The transaction's expiry (0: none).
    pub expiry: u32,
    /// The height the transaction is validated at.
    pub height: u32,
    /// The key a key deposit is addressed to, if the access carries one for this record.
    pub deposit_for: Option<PubKey>,
    /// Whether this is an emergency access.
    pub emergency: bool,
    /// Signatures already verified.
    pub cache: Option<&'a SignatureCache>,
    /// Whether to remember signatures that verify (the mempool does; a block's signatures
    /// are never checked again, so block validation only looks).
    pub remember: bool,
    /// A state read failure, kept to report after the script (the VM sees "no").
    pub failure: RefCell<Option<StateError>>,
}

impl<S: StateRead + ?Sized> Host for ChainHost<'_, S> {
    fn check_signature(&self, sig: &[u8], pubkey: &[u8], _script_code: &[u8]) -> bool {
        // Only SIGHASH_ALL: the digest ignores the hash type, so any other could be rewritten.
        let Some((&SIGHASH_ALL, der)) = sig.split_last() else { return false };
        if self.cache.is_some_and(|cache| cache.contains(&self.digest, pubkey, sig)) {
            return true;
        }
        let valid = verify_ecdsa(der, pubkey, &self.digest.0);
        if valid
            && self.remember
            && let Some(cache) = self.cache
        {
            cache.insert(&self.digest, pubkey, sig);
        }
        valid
    }

    fn check_lock_time(&self, lock_time: i64) -> bool {
        let own = i64::from(self.lock_time);
        let threshold = LOCKTIME_THRESHOLD;
        (own < threshold) == (lock_time < threshold) && lock_time <= own && self.sequence != SEQUENCE_FINAL
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
        let (Ok(bytes), Ok(role)) = (<[u8; 33]>::try_from(pubkey), u32::try_from(role)) else { return false };
        let Some(key) = PubKey::parse(bytes) else { return false };
        match self.state.has_role(&key, role) {
            Ok(held) => held,
            Err(error) => {
                self.failure.replace(Some(error));
                false
            }
        }
    }

    fn check_key_deposit(&self, pubkey: &[u8]) -> bool {
        self.deposit_for.is_some_and(|key| key.0.as_slice() == pubkey)
    }

    fn check_emergency(&self, max_blocks: i64) -> EmergencyCheck {
        if !self.emergency {
            return EmergencyCheck::NotEmergency;
        }
        let lasts = i64::from(self.expiry) - i64::from(self.height);
        if self.expiry != 0 && lasts <= max_blocks {
            EmergencyCheck::Granted
        } else {
            EmergencyCheck::ExpiryTooFar
        }
    }

    fn check_expiry(&self, bound: i64) -> bool {
        self.expiry != 0 && bound < LOCKTIME_THRESHOLD && i64::from(self.expiry) <= bound
    }

    fn call_module(&self, _module_hash: &[u8], _args: &[Vec<u8>]) -> ModuleVerdict {
        ModuleVerdict::Unavailable
    }
}
