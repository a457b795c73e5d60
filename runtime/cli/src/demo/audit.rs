//! What the patient and everyone else can check: the patient's audit log with the clause each
//! access went through, the node's read log anchored on chain, and the blocks.

use std::time::{Duration, Instant};

use medchain_chain::standard::data_output;
use medchain_chain::transaction::Transaction;
use medchain_compiler::medscript::clause_taken;
use medchain_node::READ_ANCHOR_TAG;
use medchain_primitives::codec::Decode;

use super::release::Stored;
use super::{Cast, Demo, WAIT, short, step};

/// How many blocks the closing list shows at most.
const BLOCKS_SHOWN: usize = 20;

/// The patient's audit log: a grant, an emergency access and their two reads, each access
/// with the clause it went through, read back from its unlocking.
pub async fn audit_log(demo: &Demo, cast: &Cast, stored: &Stored) -> Result<(), String> {
    step(&format!("{}'s audit log", cast.patient.name));
    let audit = demo.client.audit(&cast.patient.key()).await.map_err(|e| e.to_string())?;
    let emergencies = audit.accesses.iter().filter(|a| a.emergency).count();
    let emergency_reads = audit.reads.iter().filter(|r| r.emergency).count();
    if (audit.accesses.len(), emergencies, audit.reads.len(), emergency_reads) != (2, 1, 2, 1) {
        return Err(format!(
            "the audit log should show a grant, an emergency access and their two reads: {audit:?}"
        ));
    }
    for a in &audit.accesses {
        let kind = if a.emergency { "EMERGENCY access" } else { "grant" };
        let state = match (a.revoked_at, a.active) {
            (Some(height), _) => format!("revoked at block {height}"),
            (None, true) if a.expiry == 0 => "live, no expiry".to_owned(),
            (None, true) => format!("live until block {}", a.expiry),
            (None, false) => format!("expired at block {}", a.expiry),
        };
        // The patient knows the policy, so reads the clause back from the access's unlocking.
        let answer = demo.client.transaction(&a.access).await.map_err(|e| e.to_string())?;
        let tx = Transaction::from_bytes(&answer.tx.0).map_err(|e| e.to_string())?;
        let unlock =
            tx.record_accesses().iter().find(|r| r.record == stored.record).map(|r| r.unlock.clone());
        let clause =
            unlock.and_then(|u| clause_taken(&stored.compiled, &u)).ok_or("no clause for an access")?;
        println!(
            "   block {}: {kind} to {}, under clause \"{clause}\", {state}",
            a.height,
            cast.name_of(&a.grantee)
        );
        if !a.justification.is_empty() {
            println!("            justification: \"{}\"", a.justification);
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
