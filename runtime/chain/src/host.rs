//! The VM host for scripts a block runs: signatures over the transaction's signing digest,
//! its lock time, sequence and expiry, roles and policy modules from chain state as of the
//! previous block, key deposits and emergency marking from the transaction.

use std::cell::{Cell, RefCell};

use medchain_vm::host::{EmergencyCheck, Host, ModuleVerdict};
use medchain_vm::limits::{
    LOCKTIME_THRESHOLD, SEQUENCE_FINAL, SEQUENCE_LOCKTIME_DISABLE_FLAG, SEQUENCE_LOCKTIME_MASK,
    SEQUENCE_LOCKTIME_TYPE_FLAG,
};
use medchain_vm::signature::{SIGHASH_ALL, verify_ecdsa};

use super::state::{StateError, StateRead};
use super::verdict::NodeFault;
use super::verifier::Verifier;
use medchain_modules::AccessRequest;
use medchain_modules::abi::{MODULE_CALL_FUEL, module_call_fuel};
use medchain_primitives::{Hash32, PubKey};

/// The access a record's policy is checked for: what a policy module is told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessInfo {
    /// The grantee, or an emergency access's requester.
    pub grantee: PubKey,
    /// A grant's purpose-of-use code (0 for an emergency access).
    pub purpose: u32,
    /// Every record the access asks for.
    pub records: Vec<Hash32>,
}

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
    /// The block's time.
    pub time: u64,
    /// The access, when a record's policy is checked.
    pub access: Option<&'a AccessInfo>,
    /// The key a key deposit is addressed to, if the access carries one for this record.
    pub deposit_for: Option<PubKey>,
    /// Whether this is an emergency access.
    pub emergency: bool,
    /// Verified signatures and the policy-module engine.
    pub verifier: &'a Verifier,
    /// Fuel left for module calls in this check.
    pub fuel: Cell<u64>,
    /// Whether to remember signatures that verify (the mempool does; a block's signatures
    /// are never checked again, so block validation only looks).
    pub remember: bool,
    /// A failure of this node (a state read, the module engine), kept to report after the
    /// script: the VM sees "no", the caller reports the failure instead of a verdict.
    pub failure: RefCell<Option<NodeFault>>,
}

impl<S: StateRead + ?Sized> ChainHost<'_, S> {
    /// What a module called with `args` is told.
    fn request(&self, args: &[Vec<u8>]) -> Result<AccessRequest, StateError> {
        let mut request = AccessRequest {
            grantee: self.access.map(|a| a.grantee),
            records: self.access.map(|a| a.records.clone()).unwrap_or_default(),
            purpose: self.access.map_or(0, |a| a.purpose),
            height: self.height,
            time: self.time,
            deposit: self.deposit_for.is_some(),
            emergency: self.emergency,
            args: args.to_vec(),
            ..AccessRequest::default()
        };
        let mut keys: Vec<PubKey> = request.grantee.into_iter().chain(request.key_args()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            request.key_roles.push((key, self.state.roles_of(&key)?));
        }
        Ok(request)
    }

    /// Runs the module, charging the call and its fuel to this check.
    fn evaluate_module(&self, hash: &[u8], args: &[Vec<u8>]) -> Result<ModuleVerdict, NodeFault> {
        let Some(left) = self.fuel.get().checked_sub(MODULE_CALL_FUEL) else {
            self.fuel.set(0);
            return Ok(ModuleVerdict::OutOfFuel);
        };
        self.fuel.set(left);
        let Ok(hash) = <[u8; 32]>::try_from(hash).map(Hash32) else { return Ok(ModuleVerdict::NotFound) };
        let Some(code) = self.state.module(&hash)? else {
            return Ok(ModuleVerdict::NotFound);
        };
        // Its compilation, by its size, cached here or not.
        let compile = module_call_fuel(code.len()).saturating_sub(MODULE_CALL_FUEL);
        let Some(left) = self.fuel.get().checked_sub(compile) else {
            self.fuel.set(0);
            return Ok(ModuleVerdict::OutOfFuel);
        };
        self.fuel.set(left);
        let request = self.request(args)?;
        let engine = self.verifier.policy_engine()?;
        let evaluation = engine.evaluate(&hash, &code, request, self.fuel.get())?;
        self.fuel.set(self.fuel.get().saturating_sub(evaluation.fuel));
        Ok(evaluation.verdict)
    }

    fn fail(&self, fault: impl Into<NodeFault>) {
        self.failure.replace(Some(fault.into()));
    }
}

impl<S: StateRead + ?Sized> Host for ChainHost<'_, S> {
    fn check_signature(&self, sig: &[u8], pubkey: &[u8], _script_code: &[u8]) -> bool {
        // Only SIGHASH_ALL: the digest ignores the hash type, so any other could be rewritten.
        let Some((&SIGHASH_ALL, der)) = sig.split_last() else { return false };
        let cache = &self.verifier.cache;
        if cache.contains(&self.digest, pubkey, sig) {
            return true;
        }
        let valid = verify_ecdsa(der, pubkey, &self.digest.0);
        if valid && self.remember {
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
                self.fail(error);
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
        let lasts = i64::from(self.expiry).saturating_sub(i64::from(self.height));
        if self.expiry != 0 && lasts <= max_blocks {
            EmergencyCheck::Granted
        } else {
            EmergencyCheck::ExpiryTooFar
        }
    }

    fn check_expiry(&self, bound: i64) -> bool {
        self.expiry != 0 && bound < LOCKTIME_THRESHOLD && i64::from(self.expiry) <= bound
    }

    fn call_module(&self, module_hash: &[u8], args: &[Vec<u8>]) -> ModuleVerdict {
        self.evaluate_module(module_hash, args).unwrap_or_else(|error| {
            self.fail(error);
            ModuleVerdict::Unavailable
        })
    }
}
