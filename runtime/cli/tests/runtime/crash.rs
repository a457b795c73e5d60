//! Crash safety: killing block application at any step of the write path leaves the state of
//! the last fully applied block, and the chain goes on from there; the state always equals a
//! replay from genesis.

#![expect(clippy::unwrap_used, reason = "a failing test stops loudly; these are its assertions")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::common::*;
use medchain_chain::genesis::Genesis;
use medchain_chain::ledger::{Ledger, replay};
use medchain_chain::transaction::Payload;
use medchain_chain::validate::Chain;
use medchain_primitives::Sig;

/// A few blocks of the record story: role, release, storage, grant, emergency.
fn story() -> World {
    let mut w = World::new();
    let governor = w.p.governor.clone();
    let researcher = w.p.researcher.key;
    let register = w.tx(&governor, role_payload(&w, &researcher, 2, true), 0, Some(&governor));
    w.mine(vec![register]);
    let (record, compiled, key) = stored_record(&mut w);
    let grant_tx = grant(&mut w, record, &compiled, &key, true);
    let grant_id = grant_tx.txid();
    w.mine(vec![grant_tx]);
    let patient = w.p.patient.clone();
    let revoke = w.tx(
        &patient,
        Payload::Revocation { grant: grant_id, owner: patient.key, signature: Sig::EMPTY },
        0,
        Some(&patient),
    );
    let clinic = w.p.clinic.clone();
    let expiry = w.tip.height + 50;
    let breakglass = emergency(&mut w, record, &compiled, &clinic, expiry, "cardiac arrest");
    w.mine(vec![revoke, breakglass]);
    w
}

fn open(dir: &Path, w: &World) -> Ledger {
    Ledger::open(dir, Chain::new(Genesis::from_json(&w.genesis_json).unwrap())).unwrap()
}

#[test]
fn a_kill_at_any_write_step_leaves_the_last_block() {
    let w = story();
    let (last, before) = w.blocks.split_last().unwrap();
    let expected_before = replay(&w.chain, before).unwrap();
    let expected_after = replay(&w.chain, &w.blocks).unwrap();
    let steps = verdict(w.chain.validate_block(&expected_before, last, &w.verifier)).unwrap().changes.len();
    assert!(steps > 10, "the last block writes {steps} changes");
    for kill_at in 0..=steps {
        let dir = tempfile::tempdir().unwrap();
        {
            let ledger = open(dir.path(), &w);
            for block in before {
                ledger.apply(block).unwrap();
            }
            let crashed = catch_unwind(AssertUnwindSafe(|| {
                ledger.apply_with_hook(last, &mut |step| {
                    if step == kill_at {
                        panic!("killed at write step {step}");
                    }
                })
            }));
            assert!(crashed.is_err(), "the kill at step {kill_at} happened");
        }
        let ledger = open(dir.path(), &w);
        assert_eq!(
            ledger.store().dump().unwrap(),
            expected_before,
            "kill at step {kill_at}: state is the last full block"
        );
        ledger.apply(last).unwrap();
        assert_eq!(
            ledger.store().dump().unwrap(),
            expected_after,
            "kill at step {kill_at}: the chain goes on"
        );
    }
}

#[test]
fn reopening_checks_the_chain_and_keeps_the_tip() {
    let w = story();
    let dir = tempfile::tempdir().unwrap();
    {
        let ledger = open(dir.path(), &w);
        for block in &w.blocks {
            ledger.apply(block).unwrap();
        }
    }
    let ledger = open(dir.path(), &w);
    assert_eq!(ledger.tip().unwrap(), w.tip);
    drop(ledger);
    let other = Genesis::from_json(&w.genesis_json.replace("medchain-test", "another-chain")).unwrap();
    assert!(matches!(
        Ledger::open(dir.path(), Chain::new(other)),
        Err(medchain_chain::ledger::LedgerError::WrongChain { .. })
    ));
}
