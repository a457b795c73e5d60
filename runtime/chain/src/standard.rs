//! The standard scripts (pay to key, pay to key hash, data outputs) and block building: what
//! producers and tests use.

use std::collections::BTreeMap;

use medchain_primitives::{Hash32, PubKey, Sig, Signer};
use medchain_vm::script::push_bytes;

use crate::block::{BLOCK_VERSION, Block, Header};
use crate::state::StateRead;
use crate::store::Store;
use crate::transaction::{OutPoint, Payload, Transaction, TxOut};
use crate::validate::{Chain, Tip};

/// The locking script of a key's tokens: `<key> CHECKSIG` (MedScript's `pay_to_key`).
pub fn pay_to_key(key: &PubKey) -> Vec<u8> {
    let mut script = push_bytes(&key.0);
    script.push(medchain_vm::Opcode::CHECKSIG.0);
    script
}

/// The locking script `DUP HASH160 <hash of key> EQUALVERIFY CHECKSIG` (pay to key hash).
pub fn pay_to_key_hash(key: &PubKey) -> Vec<u8> {
    use ripemd::Ripemd160;
    use sha2::{Digest, Sha256};
    let hash = Ripemd160::digest(Sha256::digest(key.0));
    let mut script = vec![medchain_vm::Opcode::DUP.0, medchain_vm::Opcode::HASH160.0];
    script.extend(push_bytes(&hash));
    script.extend([medchain_vm::Opcode::EQUALVERIFY.0, medchain_vm::Opcode::CHECKSIG.0]);
    script
}

/// The unlocking script for [`pay_to_key_hash`] of `signer`'s key.
pub fn unlock_pay_to_key_hash(signer: &Signer, digest: &Hash32) -> Vec<u8> {
    [push_bytes(&signer.script_signature(digest)), push_bytes(&signer.key.0)].concat()
}

/// The unlocking script for [`pay_to_key`] of `signer`'s key.
pub fn unlock_pay_to_key(signer: &Signer, digest: &Hash32) -> Vec<u8> {
    push_bytes(&signer.script_signature(digest))
}

/// The total fee `txs` pay, reading spent outputs from `state` or from earlier `txs`.
pub fn fees<S: Store + ?Sized>(state: &S, txs: &[Transaction]) -> u64 {
    let mut total: u64 = 0;
    let mut earlier: BTreeMap<Hash32, &Transaction> = BTreeMap::new();
    for tx in txs {
        let value_of = |outpoint: &OutPoint| -> u64 {
            if let Some(earlier) = earlier.get(&outpoint.txid) {
                return usize::try_from(outpoint.index)
                    .ok()
                    .and_then(|n| earlier.outputs.get(n))
                    .map_or(0, |o| o.value);
            }
            state.coin(outpoint).ok().flatten().map_or(0, |c| c.output.value)
        };
        let inputs: u64 = tx.inputs.iter().map(|input| value_of(&input.prevout)).sum();
        let outputs: u64 = tx.outputs.iter().map(|o| o.value).sum();
        total = total.saturating_add(inputs.saturating_sub(outputs));
        earlier.insert(tx.txid(), tx);
    }
    total
}

impl Chain {
    /// A block on `tip` with a coinbase paying reward and fees to `reward_to`, signed by
    /// `producer`.
    pub fn build_block<S: Store + ?Sized>(
        &self,
        state: &S,
        tip: &Tip,
        time: u64,
        producer: &Signer,
        reward_to: &PubKey,
        transactions: Vec<Transaction>,
    ) -> Block {
        let height = tip.height.saturating_add(1);
        let reward = self.genesis.block_reward.saturating_add(fees(state, &transactions));
        let coinbase = Transaction::new(
            Vec::new(),
            vec![TxOut { value: reward, lock: pay_to_key(reward_to) }],
            Payload::Coinbase { height },
        );
        let mut all = vec![coinbase];
        all.extend(transactions);
        let mut block = Block {
            header: Header {
                version: BLOCK_VERSION,
                previous: tip.hash,
                merkle_root: Hash32::default(),
                height,
                time,
                producer: producer.key,
                signature: Sig::EMPTY,
            },
            transactions: all,
        };
        block.header.merkle_root = block.compute_merkle_root();
        block.header.sign(&producer.secret, &self.chain_id);
        block
    }

    /// Adds an output to `block`'s coinbase (a zero-value data output, say) and signs the block
    /// again as `producer`.
    pub fn add_coinbase_output(&self, block: &mut Block, output: TxOut, producer: &Signer) {
        if let Some(coinbase) = block.transactions.first_mut() {
            coinbase.outputs.push(output);
        }
        block.header.merkle_root = block.compute_merkle_root();
        block.header.sign(&producer.secret, &self.chain_id);
    }
}

/// A zero-value output that only carries `data` (`RETURN <data>`): unspendable, for anchoring.
pub fn data_output(data: &[u8]) -> TxOut {
    TxOut { value: 0, lock: [&[medchain_vm::Opcode::RETURN.0][..], &push_bytes(data)].concat() }
}
