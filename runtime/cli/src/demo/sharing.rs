//! Sharing by consent: the patient grants the research team access with a key deposit and the
//! team reads; an insurer without consent is refused at the record store and on chain; later
//! the patient revokes the grant and the team's next read is refused.

use medchain_chain::transaction::{Payload, RecordAccess};
use medchain_compiler::medscript::satisfy::Holdings;
use medchain_primitives::{Hash32, Sig};
use medchain_wallet::builder::{FINAL_SEQUENCE, PolicyUnlock, TxBuilder};
use medchain_wallet::deposit::{Binding, seal_to};

use super::release::Stored;
use super::{Cast, Demo, FEE, step};

/// The clause of `emergency_override` the patient's consent goes through.
const CONSENT_CLAUSE: usize = 0;

/// The purpose the research grant gives.
const RESEARCH_PURPOSE: u32 = 7;

/// The purpose the insurer's self-granted access claims.
const INSURER_PURPOSE: u32 = 9;

/// The patient grants the research team access, depositing the record key sealed to it; the
/// team downloads and decrypts. Returns the grant's id.
pub async fn share_with_research(demo: &Demo, cast: &mut Cast, stored: &Stored) -> Result<Hash32, String> {
    let Cast { patient, researcher, .. } = cast;
    step(&format!("{} asks; {} shares with a key deposit", researcher.name, patient.name));
    let binding = Binding::Deposit(&stored.record);
    let deposit = seal_to(&researcher.key(), &stored.secret.to_bytes(), binding, &mut rand::rng())
        .map_err(|e| e.to_string())?;
    let access = RecordAccess {
        record: stored.record,
        unlock: Vec::new(),
        sequence: FINAL_SEQUENCE,
        deposit: deposit.clone(),
    };
    let grant =
        Payload::AccessGrant { grantee: researcher.key(), purpose: RESEARCH_PURPOSE, records: vec![access] };
    let holdings = Holdings { secret_keys: vec![patient.signer.secret], ..Holdings::default() };
    let unlock = PolicyUnlock { compiled: stored.compiled.clone(), holdings, clause: Some(CONSENT_CLAUSE) };
    let grant_id = demo.send(patient, TxBuilder::new(grant, FEE).unlock_records(unlock)).await?;
    let read =
        demo.read_with_deposit(&researcher.signer, (&stored.record, &stored.release), &deposit).await?;
    println!(
        "   the team downloads, opens the key deposit, checks the record against its release and reads: \"{}\"",
        String::from_utf8_lossy(&read)
    );
    Ok(grant_id)
}

/// The insurer has no consent: the record store refuses its read, and the chain refuses the
/// access it tries to grant itself.
pub async fn refuse_the_insurer(demo: &Demo, cast: &mut Cast, stored: &Stored) -> Result<(), String> {
    let Cast { insurer, .. } = cast;
    step(&format!("{} tries without consent", insurer.name));
    let read = demo.client.download(&demo.chain_id, &insurer.signer, &stored.record).await;
    Demo::refused("read refused", read, "NO_ACCESS")?;
    // `0 1`: an unlocking that tries to pass for a satisfied policy.
    let forged = RecordAccess {
        record: stored.record,
        unlock: vec![0x00, 0x51],
        sequence: FINAL_SEQUENCE,
        deposit: Vec::new(),
    };
    let sneaky =
        Payload::AccessGrant { grantee: insurer.key(), purpose: INSURER_PURPOSE, records: vec![forged] };
    let sneaky_tx = demo.build(insurer, TxBuilder::new(sneaky, FEE))?;
    Demo::refused("self-granted access refused", demo.client.submit(&sneaky_tx).await, "POLICY_REFUSED")?;
    Ok(())
}

/// The patient revokes the research grant; the team's next read is refused.
pub async fn revoke(demo: &Demo, cast: &mut Cast, stored: &Stored, grant: Hash32) -> Result<(), String> {
    let Cast { patient, researcher, .. } = cast;
    step(&format!("{} revokes the research grant", patient.name));
    let revoke = Payload::Revocation { grant, owner: patient.key(), signature: Sig::EMPTY };
    let builder = TxBuilder::new(revoke, FEE).signed_by(&patient.signer);
    demo.send(patient, builder).await?;
    let read = demo.client.download(&demo.chain_id, &researcher.signer, &stored.record).await;
    Demo::refused("the team's next read is refused", read, "NO_ACCESS")?;
    Ok(())
}
