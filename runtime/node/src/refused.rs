//! Transactions refused since the last block, so the same work is not done twice: a
//! transaction refused is answered again from memory by its id, and one that declared fuel (it
//! may have run policy modules) also blocks its inputs until the next block, so a variant of it
//! spending the same coins cannot make the node run the same modules again. Bounded in count;
//! emptied by every block, which may make them valid.

use std::collections::{BTreeMap, VecDeque};

use medchain_chain::transaction::{OutPoint, Transaction};
use medchain_primitives::Hash32;

use crate::error::ApiError;

/// Most refused transactions remembered; the oldest is forgotten first.
pub const MAX_REFUSED: usize = 20_000;

/// Refused transactions and the inputs of those that declared fuel.
#[derive(Default)]
pub struct Refused {
    answers: BTreeMap<Hash32, (ApiError, Vec<OutPoint>)>,
    order: VecDeque<Hash32>,
    inputs: BTreeMap<OutPoint, Hash32>,
}

impl Refused {
    /// The answer given to `tx` if it, or a fueled transaction spending one of its inputs, was
    /// refused since the last block.
    pub fn answer(&self, txid: &Hash32, tx: &Transaction) -> Option<ApiError> {
        if let Some((answer, _)) = self.answers.get(txid) {
            return Some(answer.clone());
        }
        let earlier = tx.inputs.iter().find_map(|input| self.inputs.get(&input.prevout))?;
        let (answer, _) = self.answers.get(earlier)?;
        Some(ApiError {
            message: format!(
                "transaction {earlier}, spending the same coin after policy-module work, was refused since the last block: {}",
                answer.message
            ),
            ..answer.clone()
        })
    }

    /// Remembers that `tx` was refused with `answer`.
    pub fn remember(&mut self, txid: Hash32, tx: &Transaction, answer: ApiError) {
        if self.answers.contains_key(&txid) {
            return;
        }
        if self.order.len() >= MAX_REFUSED
            && let Some(oldest) = self.order.pop_front()
            && let Some((_, spent)) = self.answers.remove(&oldest)
        {
            for outpoint in spent {
                self.inputs.remove(&outpoint);
            }
        }
        let spent: Vec<OutPoint> =
            if tx.fuel > 0 { tx.inputs.iter().map(|input| input.prevout).collect() } else { Vec::new() };
        for outpoint in &spent {
            self.inputs.entry(*outpoint).or_insert(txid);
        }
        self.answers.insert(txid, (answer, spent));
        self.order.push_back(txid);
    }

    /// Forgets everything: a block changed the state.
    pub fn clear(&mut self) {
        *self = Refused::default();
    }

    /// How many refusals are remembered.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use medchain_api::NodeCode;
    use medchain_chain::transaction::{Payload, TxIn, TxOut};

    fn tx(coin: u8, fuel: u64, value: u64) -> Transaction {
        Transaction {
            fuel,
            ..Transaction::new(
                vec![TxIn {
                    prevout: OutPoint { txid: Hash32([coin; 32]), index: 0 },
                    unlock: Vec::new(),
                    sequence: 0,
                }],
                vec![TxOut { value, lock: vec![0x51] }],
                Payload::Transfer,
            )
        }
    }

    #[test]
    fn a_refusal_is_answered_again_until_the_next_block_and_memory_is_bounded() {
        let mut refused = Refused::default();
        let answer = ApiError::new(StatusCode::BAD_REQUEST, NodeCode::BadBody, "no");
        let (costly, cheap) = (tx(1, 1_000, 5), tx(2, 0, 5));
        refused.remember(costly.txid(), &costly, answer.clone());
        refused.remember(cheap.txid(), &cheap, answer.clone());
        assert_eq!(refused.answer(&costly.txid(), &costly), Some(answer.clone()));
        let variant = tx(1, 1_000, 4);
        assert!(
            refused.answer(&variant.txid(), &variant).is_some(),
            "the same fueled coins wait for a block"
        );
        let fixed = tx(2, 0, 4);
        assert_eq!(refused.answer(&fixed.txid(), &fixed), None, "a fuel-free fix is judged afresh");
        refused.clear();
        assert_eq!(refused.answer(&costly.txid(), &costly), None);
        for coin in 0..=u8::MAX {
            for value in 0..100 {
                let t = tx(coin, 1, value);
                refused.remember(t.txid(), &t, answer.clone());
            }
        }
        assert_eq!(refused.len(), MAX_REFUSED);
    }
}
