//! Choosing a block's transactions: each candidate is applied, in order, to the state so far;
//! one that fails is undone and dropped, and those before it are not validated again. The work
//! is linear in the candidates, and the block they make passes `validate_block`.

use medchain_primitives::Hash32;
use medchain_primitives::codec::Encode;

use super::{Chain, Context, Scope, Tip, TxError, block_work, judge};
use crate::limits::{MAX_BLOCK_FUEL, MAX_BLOCK_SCRIPT_CHECKS};
use crate::scripts::ScriptCheck;
use crate::store::{Overlay, Store};
use crate::transaction::{Payload, Transaction};
use crate::verdict::{NodeFault, Rejection};
use crate::verifier::Verifier;

/// The candidates a block can take, in order, and those it cannot, with why.
#[derive(Debug, Default)]
pub struct Selection {
    /// The transactions for the block, in order.
    pub chosen: Vec<Transaction>,
    /// The transactions left out, each with the rule it breaks after those before it.
    pub dropped: Vec<(Transaction, TxError)>,
}

impl Chain {
    /// Of `candidates`, in order, those that make a valid block on `tip` at `time` together
    /// with the ones chosen before them. A fault of this node stops the choice: no transaction
    /// is dropped for it.
    pub fn select_transactions<S: Store + Sync + ?Sized>(
        &self,
        state: &S,
        tip: &Tip,
        time: u64,
        candidates: Vec<Transaction>,
        verifier: &Verifier,
    ) -> Result<Selection, NodeFault> {
        let Some(height) = tip.height.checked_add(1) else { return Ok(Selection::default()) };
        let context = Context { height, time, median_time: self.median_time(state, tip.height)? };
        let mut overlay = Overlay::new(state);
        let mut selection = Selection::default();
        let (mut checks_left, mut fuel_left) = (MAX_BLOCK_SCRIPT_CHECKS, MAX_BLOCK_FUEL);
        for tx in candidates {
            // The block's work is bounded: what does not fit waits for the next block.
            let (work, fuel) = block_work(std::slice::from_ref(&tx));
            if work > checks_left || fuel > fuel_left {
                continue;
            }
            if matches!(tx.payload, Payload::Coinbase { .. }) {
                selection.dropped.push((tx, TxError::MisplacedCoinbase));
                continue;
            }
            let bytes = tx.to_bytes();
            let scope = Scope {
                txid: Hash32::double_sha256(&bytes),
                // After the coinbase and the transactions chosen so far.
                index: selection.chosen.len().saturating_add(1),
                digest: tx.signing_digest(&self.chain_id),
                size: bytes.len(),
            };
            overlay.begin();
            let mut checks = Vec::new();
            let verdict = self
                .apply_transaction(state, &mut overlay, &tx, scope, &context, &mut checks)
                .and_then(|_| {
                    // The signatures verified stay remembered for the block's own validation.
                    for check in checks {
                        let check = ScriptCheck { remember: true, ..check };
                        check.run(state, verifier).map_err(|failure| judge(failure, check.subject))?;
                    }
                    Ok(())
                });
            match verdict {
                Ok(()) => {
                    overlay.commit();
                    checks_left = checks_left.saturating_sub(work);
                    fuel_left = fuel_left.saturating_sub(fuel);
                    selection.chosen.push(tx);
                }
                Err(Rejection::Invalid(error)) => {
                    overlay.rollback();
                    selection.dropped.push((tx, error));
                }
                Err(Rejection::Undecided(fault)) => return Err(fault),
            }
        }
        Ok(selection)
    }
}
