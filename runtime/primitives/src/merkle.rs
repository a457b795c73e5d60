//! Merkle trees over transaction ids, with inclusion proofs a patient can check.
//!
//! Leaves and inner nodes are hashed under different prefixes (`00`, `01`), and an odd node is
//! carried up unchanged rather than paired with itself, so no two transaction lists share a
//! root (unlike Bitcoin's tree, where duplicating the last transaction does).

use crate::Hash32;
use crate::codec::{CodecError, Decode, Encode, Reader, Writer};

fn leaf(txid: &Hash32) -> Hash32 {
    Hash32::sha256(&[&[0u8][..], &txid.0].concat())
}

fn node(left: &Hash32, right: &Hash32) -> Hash32 {
    Hash32::sha256(&[&[1u8][..], &left.0, &right.0].concat())
}

/// The root of the tree over `txids` (all zeros for none).
pub fn merkle_root(txids: &[Hash32]) -> Hash32 {
    let mut level: Vec<Hash32> = txids.iter().map(leaf).collect();
    if level.is_empty() {
        return Hash32::default();
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => node(left, right),
                [single] => *single,
                _ => Hash32::default(),
            })
            .collect();
    }
    level.pop().unwrap_or_default()
}

/// One step of a proof: the sibling's hash and whether it sits on the left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofStep {
    /// The sibling hash.
    pub sibling: Hash32,
    /// Whether the sibling is the left child.
    pub sibling_on_left: bool,
}

/// Proof that a transaction is in a block: the path from its leaf to the root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MerkleProof {
    /// The steps, leaf first.
    pub steps: Vec<ProofStep>,
}

/// Most steps a proof may have (enough for 2^32 transactions).
pub const MAX_PROOF_STEPS: usize = 32;

impl MerkleProof {
    /// The proof for the transaction at `index` in `txids`.
    pub fn build(txids: &[Hash32], index: usize) -> Option<MerkleProof> {
        if index >= txids.len() {
            return None;
        }
        let mut level: Vec<Hash32> = txids.iter().map(leaf).collect();
        let mut position = index;
        let mut steps = Vec::new();
        while level.len() > 1 {
            let sibling = position ^ 1;
            if let Some(hash) = level.get(sibling) {
                steps.push(ProofStep { sibling: *hash, sibling_on_left: sibling < position });
            }
            level = level
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node(left, right),
                    [single] => *single,
                    _ => Hash32::default(),
                })
                .collect();
            position /= 2;
        }
        Some(MerkleProof { steps })
    }

    /// Whether this proof puts `txid` under `root`.
    pub fn verify(&self, txid: &Hash32, root: &Hash32) -> bool {
        let computed = self.steps.iter().fold(leaf(txid), |acc, step| {
            if step.sibling_on_left { node(&step.sibling, &acc) } else { node(&acc, &step.sibling) }
        });
        &computed == root
    }
}

impl Encode for MerkleProof {
    fn encode(&self, w: &mut Writer) {
        w.length(self.steps.len());
        for step in &self.steps {
            step.sibling.encode(w);
            w.bool(step.sibling_on_left);
        }
    }
}

impl Decode for MerkleProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let count = r.length("proof steps", MAX_PROOF_STEPS)?;
        let mut steps = Vec::with_capacity(count);
        for _ in 0..count {
            steps.push(ProofStep { sibling: Hash32::decode(r)?, sibling_on_left: r.bool("side")? });
        }
        Ok(MerkleProof { steps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u8) -> Vec<Hash32> {
        (0..n).map(|i| Hash32::sha256(&[i])).collect()
    }

    #[test]
    fn every_transaction_proves_its_inclusion() {
        for n in 1..=17u8 {
            let txids = ids(n);
            let root = merkle_root(&txids);
            for (i, txid) in txids.iter().enumerate() {
                let proof = MerkleProof::build(&txids, i).unwrap();
                assert!(proof.verify(txid, &root), "n={n} i={i}");
                assert!(!proof.verify(&Hash32::sha256(b"other"), &root));
                assert_eq!(MerkleProof::from_bytes(&proof.to_bytes()), Ok(proof));
            }
            assert!(MerkleProof::build(&txids, usize::from(n)).is_none());
        }
    }

    #[test]
    fn duplicating_the_last_transaction_changes_the_root() {
        let three = ids(3);
        let mut four = three.clone();
        four.push(three[2]);
        assert_ne!(merkle_root(&three), merkle_root(&four));
        assert_ne!(merkle_root(&ids(1)), ids(1)[0], "a leaf is hashed, not used as the root");
    }
}
