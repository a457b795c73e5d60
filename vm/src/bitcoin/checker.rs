//! A host that checks signatures and lock times against a Bitcoin transaction
//! (Core's `TransactionSignatureChecker`).

use thiserror::Error;

use super::sighash::legacy_sighash;
use super::transaction::Transaction;
use crate::host::Host;
use crate::limits::{
    LOCKTIME_THRESHOLD, SEQUENCE_FINAL, SEQUENCE_LOCKTIME_DISABLE_FLAG, SEQUENCE_LOCKTIME_MASK,
    SEQUENCE_LOCKTIME_TYPE_FLAG,
};
use crate::signature::{has_valid_key_length, verify_ecdsa};

/// The input index names no input of the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("input index {index} is out of range: the transaction has {count} inputs")]
pub struct InputIndexError {
    /// The index asked for.
    pub index: usize,
    /// How many inputs there are.
    pub count: usize,
}

/// Checks one input of a transaction.
#[derive(Debug, Clone, Copy)]
pub struct TransactionChecker<'a> {
    tx: &'a Transaction,
    input_index: usize,
}

impl<'a> TransactionChecker<'a> {
    /// A checker for input `input_index` of `tx`.
    pub fn new(tx: &'a Transaction, input_index: usize) -> Result<Self, InputIndexError> {
        if input_index >= tx.inputs.len() {
            return Err(InputIndexError { index: input_index, count: tx.inputs.len() });
        }
        Ok(Self { tx, input_index })
    }

    fn sequence(&self) -> i64 {
        self.tx.inputs.get(self.input_index).map_or(i64::from(SEQUENCE_FINAL), |i| i64::from(i.sequence))
    }
}

impl Host for TransactionChecker<'_> {
    fn check_signature(&self, sig: &[u8], pubkey: &[u8], script_code: &[u8]) -> bool {
        // Core refuses a key whose length does not match its prefix before hashing anything.
        let Some((&hash_type, der)) = sig.split_last().filter(|_| has_valid_key_length(pubkey)) else {
            return false;
        };
        let digest = legacy_sighash(self.tx, self.input_index, script_code, i32::from(hash_type));
        verify_ecdsa(der, pubkey, &digest)
    }

    fn check_lock_time(&self, lock_time: i64) -> bool {
        let tx_lock_time = i64::from(self.tx.lock_time);
        let same_kind = (tx_lock_time < LOCKTIME_THRESHOLD) == (lock_time < LOCKTIME_THRESHOLD);
        same_kind && lock_time <= tx_lock_time && self.sequence() != i64::from(SEQUENCE_FINAL)
    }

    fn check_sequence(&self, sequence: i64) -> bool {
        let tx_sequence = self.sequence();
        if (self.tx.version as u32) < 2 || tx_sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 {
            return false;
        }
        let mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
        let (tx_masked, masked) = (tx_sequence & mask, sequence & mask);
        let same_kind = (tx_masked < SEQUENCE_LOCKTIME_TYPE_FLAG) == (masked < SEQUENCE_LOCKTIME_TYPE_FLAG);
        same_kind && masked <= tx_masked
    }
}
