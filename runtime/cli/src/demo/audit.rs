//! What the patient and everyone else can check: the patient's audit log (theirs alone, by a
//! signed request) with the clause each access went through and the justifications sealed to
//! them, the node's read log anchored on chain, and the blocks.

use std::time::{Duration, Instant};

use medchain_api::Audit;
use medchain_chain::standard::data_output;
use medchain_chain::transaction::Transaction;
use medchain_compiler::medscript::clause_taken;
use medchain_node::READ_ANCHOR_TAG;
use medchain_primitives::codec::Decode;
use medchain_wallet::deposit::open_justification;

use super::release::Stored;
use super::{Cast, Demo, WAIT, short, step};

/// How many blocks the closing list shows at most.
const BLOCKS_SHOWN: usize = 20;

/// The patient's audit log, which nobody else is served: a grant, three emergency accesses (one
/// vetoed) and three reads, each access with the clause it went through, read back from its
/// unlocking, and each justification opened with the patient's key.
pub async fn audit_log(demo: &Demo, cast: &Cast, stored: &[&Stored]) -> Result<(), String> {
    let patient = &cast.patient;
    step(&format!("{}'s audit log, for {} alone", patient.name, patient.name));
    let path = format!("/v1/patients/{}/audit", patient.key());
    Demo::refused("asked without a signature", demo.client.get::<Audit>(&path).await, "MISSING_PROOF")?;
    let insurer = demo.client.audit(&demo.chain_id, &cast.insurer.signer, &patient.key()).await;
    Demo::refused(&format!("asked by {}", cast.insurer.name), insurer, "NO_ACCESS")?;
    let audit = demo
        .client
        .audit(&demo.chain_id, &patient.signer, &patient.key())
        .await
        .map_err(|e| e.to_string())?;
    println!("   asked with {}'s signature over a fresh challenge:", patient.name);
    let emergencies = audit.accesses.iter().filter(|a| a.emergency).count();
    let vetoed = audit.accesses.iter().filter(|a| a.vetoed).count();
    let emergency_reads = audit.reads.iter().filter(|r| r.emergency).count();
    if (audit.accesses.len(), emergencies, vetoed, audit.reads.len(), emergency_reads) != (4, 3, 1, 3, 2) {
        return Err(format!(
            "the audit log should show a grant, three emergency accesses (one vetoed) and three reads: {audit:?}"
        ));
    }
    for a in &audit.accesses {
        let kind = if a.emergency { "EMERGENCY access" } else { "grant" };
        let state = match (a.revoked_at, a.active) {
            (Some(height), _) if a.vetoed => format!("vetoed at block {height}, never unlocked"),
            (Some(height), _) => format!("revoked at block {height}"),
            (None, true) if a.expiry == 0 => "live, no expiry".to_owned(),
            (None, true) if a.unlocks > a.height => {
                format!("usable from block {}, after its veto window, until block {}", a.unlocks, a.expiry)
            }
            (None, true) => format!("live until block {}", a.expiry),
            (None, false) => format!("ended (expiry block {})", a.expiry),
        };
        // The patient knows the policies, so reads the clause back from the access's unlocking.
        let answer = demo.client.transaction(&a.access).await.map_err(|e| e.to_string())?;
        let tx = Transaction::from_bytes(&answer.tx.0).map_err(|e| e.to_string())?;
        let clause = tx
            .record_accesses()
            .iter()
            .find_map(|r| {
                let policy = stored.iter().find(|s| s.record == r.record)?;
                clause_taken(&policy.compiled, &r.unlock)
            })
            .ok_or("no clause for an access")?;
        println!(
            "   block {}: {kind} to {}, under clause \"{clause}\", {state}",
            a.height,
            cast.name_of(&a.grantee)
        );
        if let Some(commitment) = &a.justification_commitment {
            let copies = a.justification.iter().map(|c| c.0.as_slice());
            let text =
                open_justification(&patient.signer.secret, (&a.grantee, &a.records), commitment, copies)
                    .map_err(|e| e.to_string())?
                    .ok_or("a justification not sealed to the patient")?;
            println!("            justification (sealed to {}): \"{text}\"", patient.name);
        }
    }
    for r in &audit.reads {
        let through = match r.access {
            None => "as the owner".to_owned(),
            Some(access) if r.emergency => format!("under emergency access {}", short(&access)),
            Some(access) => format!("under grant {}", short(&access)),
        };
        println!(
            "   unix time {}: {} downloaded record {} {through}",
            r.time,
            cast.name_of(&r.reader),
            short(&r.record)
        );
    }
    Ok(())
}

/// The node's read log: its head is anchored in a coinbase, where anyone can check it.
pub async fn anchored_read_log(demo: &Demo) -> Result<(), String> {
    step("The node's read log, anchored on chain");
    let start = Instant::now();
    let (log, anchor) = loop {
        let log = demo.client.read_log().await.map_err(|e| e.to_string())?;
        if let Some(anchor) = log.anchored.filter(|a| a.count == log.count) {
            break (log, anchor);
        }
        if start.elapsed() > WAIT {
            return Err(format!("the read log was never anchored: {log:?}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let output = data_output(&[READ_ANCHOR_TAG, &log.head.0].concat());
    let block = demo.client.block(anchor.height).await.map_err(|e| e.to_string())?;
    if !block.transactions.first().is_some_and(|coinbase| coinbase.outputs.contains(&output)) {
        return Err(format!("block {}'s coinbase does not carry the read log's head", anchor.height));
    }
    println!(
        "   {} reads, head {}, carried by block {}'s coinbase as a data output",
        log.count,
        short(&log.head),
        anchor.height
    );
    Ok(())
}

/// The blocks, oldest first, with what they carry.
pub async fn blocks(demo: &Demo) -> Result<(), String> {
    step("Blocks");
    let list = demo.client.blocks(BLOCKS_SHOWN).await.map_err(|e| e.to_string())?;
    for b in list.blocks.iter().rev() {
        let kinds: Vec<&str> =
            b.transactions.iter().map(|t| t.kind.as_str()).filter(|k| *k != "coinbase").collect();
        if !kinds.is_empty() {
            println!("   block {:>3} {} {}", b.height, short(&b.hash), kinds.join(", "));
        }
    }
    Ok(())
}
