//! Building and signing transactions with a party's keys.

use medchain_chain::standard::unlock_pay_to_key;
use medchain_chain::transaction::Transaction;
use medchain_primitives::{Hash32, Signer};

/// Signs every input as spending [`pay_to_key`](medchain_chain::standard::pay_to_key) of
/// `signers[i]`.
pub fn sign_inputs(tx: &mut Transaction, chain_id: &Hash32, signers: &[&Signer]) {
    let digest = tx.signing_digest(chain_id);
    for (input, signer) in tx.inputs.iter_mut().zip(signers) {
        input.unlock = unlock_pay_to_key(signer, &digest);
    }
}
