//! Differential tests against libbitcoinconsensus (Bitcoin Core 26's consensus library): on
//! the consensus flags it accepts, the VM and Core must give the same verdict.

use medchain_vm::bitcoin::{Transaction, TransactionChecker, crediting_transaction, spending_transaction};
use medchain_vm::{Flags, verify_script};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use crate::strategies::{consensus_flags, script, signed_spend};

fn core_verdict(script_pubkey: &[u8], tx: &Transaction, flags: Flags) -> bool {
    bitcoinconsensus::verify_with_flags(script_pubkey, 0, &tx.encode(), None, 0, flags.bits()).is_ok()
}

fn our_verdict(script_pubkey: &[u8], tx: &Transaction, flags: Flags) -> Result<(), &'static str> {
    let checker = TransactionChecker::new(tx, 0).unwrap();
    let script_sig = &tx.inputs[0].script_sig;
    verify_script(script_sig, script_pubkey, flags, &checker).map_err(|e| e.name())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn structured_scripts_agree(sig in script(10), pubkey in script(14), flags in consensus_flags()) {
        let crediting = crediting_transaction(&pubkey, 0);
        let spending = spending_transaction(&crediting, &sig, 0);
        let ours = our_verdict(&pubkey, &spending, flags);
        prop_assert_eq!(ours.is_ok(), core_verdict(&pubkey, &spending, flags), "ours: {:?}", ours);
    }

    #[test]
    fn signed_spends_agree(spend in signed_spend(), flags in consensus_flags()) {
        let ours = our_verdict(&spend.script_pubkey, &spend.tx, flags);
        prop_assert_eq!(ours.is_ok(), core_verdict(&spend.script_pubkey, &spend.tx, flags), "ours: {:?}", ours);
    }
}

#[test]
fn signed_spends_often_succeed() {
    // Guards the generator: a differential test over spends that all fail proves little.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = signed_spend();
    let mut ok = 0;
    for _ in 0..200 {
        let spend = strategy.new_tree(&mut runner).unwrap().current();
        if our_verdict(&spend.script_pubkey, &spend.tx, Flags::CONSENSUS).is_ok() {
            ok += 1;
        }
    }
    assert!(ok > 40, "only {ok} of 200 signed spends verify");
}

#[test]
fn structured_scripts_reach_many_outcomes() {
    // Guards the generator: most scripts must get past the first instruction, some must
    // succeed, and failures must be varied.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (script(10), script(14));
    let mut outcomes = std::collections::BTreeMap::new();
    for _ in 0..1000 {
        let (sig, pubkey) = strategy.new_tree(&mut runner).unwrap().current();
        let crediting = crediting_transaction(&pubkey, 0);
        let spending = spending_transaction(&crediting, &sig, 0);
        let outcome = our_verdict(&pubkey, &spending, Flags::CONSENSUS).err().unwrap_or("OK");
        *outcomes.entry(outcome).or_insert(0) += 1;
    }
    assert!(outcomes.get("OK").copied().unwrap_or(0) > 150, "{outcomes:?}");
    assert!(outcomes.len() >= 12, "{outcomes:?}");
}
