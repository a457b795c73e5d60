//! Dev block production: the best-paying transactions of the mempool in a block signed with
//! the genesis dev key, with the read log's head anchored in the coinbase when it moved.

use medchain_api::Anchor;
use medchain_chain::block::Block;
use medchain_chain::limits::{MAX_BLOCK_SIZE, MAX_BLOCK_TXS, MAX_TIME_AFTER_MEDIAN};
use medchain_chain::standard::data_output;
use medchain_chain::transaction::Transaction;
use medchain_chain::validate::Tip;
use medchain_primitives::{Hash32, Signer};
use tracing::{info, warn};

use crate::node::{Node, READ_ANCHOR_TAG, unix_now};

impl Node {
    /// Produces one block from the mempool with the producer's key (dropping transactions that
    /// no longer validate, in one pass), applies it, and returns its height. A fault of this node
    /// keeps every transaction in the pool to be tried again.
    pub fn produce_block(&self) -> Result<u32, String> {
        let Some(producer) = &self.producer else { return Err("not a producing node".into()) };
        let _writing = self.writing().map_err(|e| e.message)?;
        let chain = self.ledger.chain();
        let tip = self.ledger.tip().map_err(|e| e.to_string())?;
        let median = chain.median_time(self.ledger.store(), tip.height).map_err(|e| e.to_string())?;
        // The clock's time, within the chain's window after the median: a dev chain whose
        // genesis is older than the window climbs to the present over a few blocks.
        let time = unix_now().max(median.saturating_add(1)).min(median.saturating_add(MAX_TIME_AFTER_MEDIAN));
        let candidates = self.mempool().map_err(|e| e.message)?.select(MAX_BLOCK_TXS - 1, MAX_BLOCK_SIZE / 2);
        // One pass: a transaction that no longer validates after those before it is dropped,
        // and the others are not validated again. A fault keeps every transaction.
        let selection = chain
            .select_transactions(self.ledger.store(), &tip, time, candidates, self.ledger.verifier())
            .map_err(|fault| fault.to_string())?;
        if !selection.dropped.is_empty() {
            let mut pool = self.mempool().map_err(|e| e.message)?;
            for (tx, error) in &selection.dropped {
                let txid = tx.txid();
                warn!(%txid, %error, "dropping transaction that no longer validates");
                pool.remove(&txid);
            }
        }
        let (count, head) = self.reads().map_err(|e| e.message)?.head();
        let anchored = *self.anchored().map_err(|e| e.message)?;
        let anchor = count > 0 && anchored.is_none_or(|a| a.head != head);
        let block = self.candidate(producer, &tip, time, selection.chosen, anchor.then_some(head));
        let applied = self.ledger.apply(&block).map_err(|e| e.to_string())?;
        if anchor {
            *self.anchored().map_err(|e| e.message)? =
                Some(Anchor { height: applied.tip.height, count, head });
        }
        self.mempool().map_err(|e| e.message)?.remove_included(&block.transactions);
        self.refused().map_err(|e| e.message)?.clear();
        info!(height = applied.tip.height, txs = block.transactions.len(), "block produced");
        Ok(applied.tip.height)
    }

    /// A block of `transactions` on `tip`, signed by `producer`, anchoring `read_head` if
    /// given.
    fn candidate(
        &self,
        producer: &Signer,
        tip: &Tip,
        time: u64,
        transactions: Vec<Transaction>,
        read_head: Option<Hash32>,
    ) -> Block {
        let chain = self.ledger.chain();
        let mut block =
            chain.build_block(self.ledger.store(), tip, time, producer, &producer.key, transactions);
        if let Some(head) = read_head {
            chain.add_coinbase_output(
                &mut block,
                data_output(&[READ_ANCHOR_TAG, &head.0].concat()),
                producer,
            );
        }
        block
    }
}
