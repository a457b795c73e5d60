//! The crediting and spending transactions of Bitcoin Core's script test harness.

use super::transaction::{OutPoint, Transaction, TxIn, TxOut};
use crate::limits::SEQUENCE_FINAL;

/// The transaction that creates the output under test: one null input with scriptSig
/// `0 0`, one output of `amount` locked by `script_pubkey`.
pub fn crediting_transaction(script_pubkey: &[u8], amount: i64) -> Transaction {
    Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint { txid: [0; 32], vout: u32::MAX },
            script_sig: vec![0x00, 0x00],
            sequence: SEQUENCE_FINAL,
        }],
        outputs: vec![TxOut { value: amount, script_pubkey: script_pubkey.to_vec() }],
        lock_time: 0,
    }
}

/// The transaction that spends output 0 of `crediting` with `script_sig`, paying `amount` to
/// an empty script. Signatures in Core's vectors were made over exactly this transaction.
pub fn spending_transaction(crediting: &Transaction, script_sig: &[u8], amount: i64) -> Transaction {
    Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint { txid: crediting.txid(), vout: 0 },
            script_sig: script_sig.to_vec(),
            sequence: SEQUENCE_FINAL,
        }],
        outputs: vec![TxOut { value: amount, script_pubkey: Vec::new() }],
        lock_time: 0,
    }
}
