//! Building, paying for and signing transactions: one builder for every transaction kind.
//! It picks the payer's coins, returns change, checks that the fee pays for the declared fuel,
//! signs the payload, unlocks record accesses through the record's policy, and signs the inputs.

use medchain_api::CoinView;
use medchain_chain::limits::{COINBASE_MATURITY, MAX_TX_IO, MIN_RELAY_FEE_PER_KB, fuel_fee, size_fee};
use medchain_chain::standard::{pay_to_key, unlock_pay_to_key};
use medchain_chain::transaction::{OutPoint, Payload, Transaction, TxIn, TxOut};
use medchain_compiler::medscript::Compiled;
use medchain_compiler::medscript::satisfy::{Holdings, satisfy};
use medchain_primitives::codec::Encode;
use medchain_primitives::{Hash32, PubKey, Signer};
use thiserror::Error;

/// The sequence of every input the builder makes, and of each record access whose clause needs
/// no relative lock: final.
pub const FINAL_SEQUENCE: u32 = u32::MAX;

/// A coin its key can spend alone with a pay-to-key signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spendable {
    /// Where it is.
    pub outpoint: OutPoint,
    /// Its value.
    pub value: u64,
    /// The height of the block that made it.
    pub height: u32,
    /// Whether a coinbase made it (it must mature first).
    pub coinbase: bool,
}

impl Spendable {
    /// The coins of a node's coin list that `key` spends with a pay-to-key signature.
    pub fn of_key(key: &PubKey, coins: &[CoinView]) -> Vec<Spendable> {
        let lock = pay_to_key(key);
        coins
            .iter()
            .filter(|c| c.lock.0 == lock)
            .map(|c| Spendable {
                outpoint: OutPoint { txid: c.txid, index: c.index },
                value: c.value,
                height: c.height,
                coinbase: c.coinbase,
            })
            .collect()
    }

    /// Whether a transaction in the block at `height` may spend it.
    pub fn mature_at(&self, height: u32) -> bool {
        !self.coinbase
            || u64::from(height) >= u64::from(self.height).saturating_add(u64::from(COINBASE_MATURITY))
    }
}

/// How a transaction's record accesses are unlocked: the records' compiled policy, what the
/// signer holds, and the clause to go through (the cheapest that can be met if none).
#[derive(Debug, Clone)]
pub struct PolicyUnlock {
    /// The policy the records are stored under.
    pub compiled: Compiled,
    /// What the unlocking party holds (the digest is filled in by the builder).
    pub holdings: Holdings,
    /// A clause by its position, or the cheapest.
    pub clause: Option<usize>,
}

/// Why a transaction could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BuildError {
    /// The payer's spendable coins do not cover the outputs and the fee.
    #[error("the key's spendable coins hold {have}, and this needs {need}")]
    InsufficientFunds {
        /// What the mature coins hold.
        have: u64,
        /// Outputs plus fee.
        need: u64,
    },
    /// The outputs and the fee add up past the largest amount.
    #[error("the amounts and the fee overflow")]
    Overflow,
    /// The fee does not pay for the declared fuel.
    #[error(
        "the fee {fee} does not pay for fuel {fuel} in each of {checks} script checks; it needs {needed}"
    )]
    FuelUnpaid {
        /// The fee given.
        fee: u64,
        /// The fuel declared per check.
        fuel: u64,
        /// Script checks (inputs and records).
        checks: usize,
        /// The least fee that pays, with the coins that fee itself needs.
        needed: u64,
    },
    /// The fee is under what nodes relay for the transaction's size (and its fuel).
    #[error("the fee {fee} is under {needed}, what nodes relay for this transaction's size and fuel")]
    FeeTooLow {
        /// The fee given.
        fee: u64,
        /// The least fee nodes relay.
        needed: u64,
    },
    /// The signer cannot satisfy the records' policy.
    #[error("this key cannot satisfy the record's policy: {0}")]
    Unsatisfiable(String),
    /// The requested clause is not in the policy.
    #[error("the policy has no clause {0}")]
    NoSuchClause(usize),
}

/// A transaction being built.
#[derive(Debug, Clone)]
pub struct TxBuilder {
    payload: Payload,
    outputs: Vec<TxOut>,
    fee: u64,
    expiry: u32,
    fuel: u64,
    author: Option<Signer>,
    unlock: Option<PolicyUnlock>,
    check_fuel_fee: bool,
}

impl TxBuilder {
    /// A transaction carrying `payload`, paying `fee`.
    pub fn new(payload: Payload, fee: u64) -> TxBuilder {
        TxBuilder {
            payload,
            outputs: Vec::new(),
            fee,
            expiry: 0,
            fuel: 0,
            author: None,
            unlock: None,
            check_fuel_fee: true,
        }
    }

    /// Also pays `amount` to `to`.
    pub fn pay(mut self, to: &PubKey, amount: u64) -> TxBuilder {
        self.outputs.push(TxOut { value: amount, lock: pay_to_key(to) });
        self
    }

    /// Valid only below block `expiry` (0: no end); an access ends there.
    pub fn expiry(mut self, expiry: u32) -> TxBuilder {
        self.expiry = expiry;
        self
    }

    /// Declares `fuel` for policy modules in each script check.
    pub fn fuel(mut self, fuel: u64) -> TxBuilder {
        self.fuel = fuel;
        self
    }

    /// The payload's signature is `author`'s (governor, institution, patient, requester, …).
    pub fn signed_by(mut self, author: &Signer) -> TxBuilder {
        self.author = Some(author.clone());
        self
    }

    /// Record accesses are unlocked through their policy.
    pub fn unlock_records(mut self, unlock: PolicyUnlock) -> TxBuilder {
        self.unlock = Some(unlock);
        self
    }

    /// Builds even when the fee does not pay for the declared fuel or the size: a transaction
    /// the chain refuses with `FUEL_UNPAID` or `FEE_TOO_LOW`, for tests of those rules.
    pub fn without_fee_check(mut self) -> TxBuilder {
        self.check_fuel_fee = false;
        self
    }

    /// The transaction, paid from `payer`'s `coins` mature at `height` (largest first), with
    /// change back to `payer`, signed for the chain `chain_id`.
    pub fn build(
        self,
        chain_id: &Hash32,
        payer: &Signer,
        coins: &[Spendable],
        height: u32,
    ) -> Result<Transaction, BuildError> {
        let paid = self
            .outputs
            .iter()
            .try_fold(0u64, |sum, o| sum.checked_add(o.value))
            .ok_or(BuildError::Overflow)?;
        let need = paid.checked_add(self.fee).ok_or(BuildError::Overflow)?;
        let chosen = select(coins, height, need)?;
        let records = self.payload.record_accesses().len();
        let checks = |inputs: usize| inputs.saturating_add(records);
        if self.check_fuel_fee && self.fee < fuel_fee(self.fuel, checks(chosen.len())) {
            return Err(BuildError::FuelUnpaid {
                fee: self.fee,
                fuel: self.fuel,
                checks: checks(chosen.len()),
                needed: fee_for_fuel(coins, height, paid, self.fuel, records),
            });
        }
        let total = chosen.iter().fold(0u64, |sum, c| sum.saturating_add(c.value));
        let mut outputs = self.outputs;
        if total > need {
            outputs.push(TxOut { value: total.saturating_sub(need), lock: pay_to_key(&payer.key) });
        }
        let inputs = chosen
            .iter()
            .map(|c| TxIn { prevout: c.outpoint, unlock: Vec::new(), sequence: FINAL_SEQUENCE })
            .collect();
        let mut tx = Transaction::new(inputs, outputs, self.payload);
        tx.expiry = self.expiry;
        tx.fuel = self.fuel;
        if let Some(unlock) = &self.unlock {
            // The sequence is signed: the clause chosen says which relative lock it needs.
            let (_, sequence) = unlock_script(unlock, &Hash32::default())?;
            for access in tx.payload.record_accesses_mut() {
                access.sequence = sequence.unwrap_or(FINAL_SEQUENCE);
            }
        }
        let digest = tx.signing_digest(chain_id);
        if let Some(author) = &self.author {
            tx.payload.set_signature(author.sign(&digest));
        }
        if let Some(unlock) = &self.unlock {
            let (script, _) = unlock_script(unlock, &digest)?;
            for access in tx.payload.record_accesses_mut() {
                access.unlock = script.clone();
            }
        }
        for input in &mut tx.inputs {
            input.unlock = unlock_pay_to_key(payer, &digest);
        }
        let needed = size_fee(tx.to_bytes().len(), MIN_RELAY_FEE_PER_KB)
            .saturating_add(fuel_fee(self.fuel, tx.script_checks()));
        if self.check_fuel_fee && self.fee < needed {
            return Err(BuildError::FeeTooLow { fee: self.fee, needed });
        }
        Ok(tx)
    }
}

/// Mature coins covering `need`, largest first.
fn select(coins: &[Spendable], height: u32, need: u64) -> Result<Vec<Spendable>, BuildError> {
    let mut spendable: Vec<Spendable> = coins.iter().filter(|c| c.mature_at(height)).copied().collect();
    spendable.sort_by_key(|c| std::cmp::Reverse(c.value));
    let mut chosen = Vec::new();
    let mut have = 0u64;
    for coin in spendable {
        if have >= need && !chosen.is_empty() {
            break;
        }
        have = have.saturating_add(coin.value);
        chosen.push(coin);
    }
    if have < need || chosen.is_empty() {
        return Err(BuildError::InsufficientFunds { have, need });
    }
    Ok(chosen)
}

/// The least fee that pays for `fuel` in every check, with the coins that fee itself needs.
fn fee_for_fuel(coins: &[Spendable], height: u32, paid: u64, fuel: u64, records: usize) -> u64 {
    let mut fee = fuel_fee(fuel, records.saturating_add(1));
    for _ in 0..MAX_TX_IO {
        let inputs = select(coins, height, paid.saturating_add(fee)).map_or(1, |c| c.len());
        let needed = fuel_fee(fuel, inputs.saturating_add(records));
        if needed <= fee {
            break;
        }
        fee = needed;
    }
    fee
}

/// The unlocking script of the records' policy for the transaction's digest, and the relative
/// lock (sequence) its clause needs, if any.
fn unlock_script(unlock: &PolicyUnlock, digest: &Hash32) -> Result<(Vec<u8>, Option<u32>), BuildError> {
    let holdings = Holdings { digest: digest.0, ..unlock.holdings.clone() };
    let plan = satisfy(&unlock.compiled, &holdings);
    let witness = match unlock.clause {
        Some(index) => {
            let clause = plan.clauses.get(index).ok_or(BuildError::NoSuchClause(index))?;
            clause
                .result
                .as_ref()
                .map_err(|need| BuildError::Unsatisfiable(format!("\"{}\" needs {need}", clause.label)))?
        }
        None => match plan.best() {
            Some((_, witness)) => witness,
            None => {
                let needs: Vec<String> = plan
                    .clauses
                    .iter()
                    .filter_map(|c| {
                        c.result.as_ref().err().map(|need| format!("\"{}\" needs {need}", c.label))
                    })
                    .collect();
                return Err(BuildError::Unsatisfiable(needs.join("; ")));
            }
        },
    };
    Ok((witness.script(), witness.requirements.sequence))
}

/// Signs every input as spending [`pay_to_key`] of `signers[i]`.
pub fn sign_inputs(tx: &mut Transaction, chain_id: &Hash32, signers: &[&Signer]) {
    let digest = tx.signing_digest(chain_id);
    for (input, signer) in tx.inputs.iter_mut().zip(signers) {
        input.unlock = unlock_pay_to_key(signer, &digest);
    }
}
