//! Break-glass: a registered clinic opens an emergency access through the policy's emergency
//! clause; two of the three share holders release their shares to it on chain, and it
//! decrypts with the key they recover.

use medchain_chain::transaction::{Payload, RecordAccess};
use medchain_compiler::medscript::satisfy::Holdings;
use medchain_primitives::Sig;
use medchain_primitives::ecies;
use medchain_wallet::builder::{FINAL_SEQUENCE, PolicyUnlock, TxBuilder};
use medchain_wallet::deposit::{recover_from_shares, seal_to};

use super::release::Stored;
use super::{Cast, Demo, FEE, step};

/// The clause of `emergency_override` break-glass goes through.
const EMERGENCY_CLAUSE: usize = 1;

/// How many blocks the emergency access lasts (the policy allows at most 144).
const EMERGENCY_BLOCKS: u32 = 100;

/// The role number of a medical institution in the demo's genesis.
const MEDICAL_INSTITUTION: u32 = 1;

/// The clinic breaks the glass; the hospital and the university release their shares to it; it
/// reads the record.
pub async fn break_the_glass(demo: &Demo, cast: &mut Cast, stored: &Stored) -> Result<(), String> {
    let Cast { clinic, hospital, university, patient, .. } = cast;
    let mut rng = rand::rng();
    step(&format!("{} breaks the glass", clinic.name));
    let height = demo.client.status().await.map_err(|e| e.to_string())?.height;
    let expiry = height.saturating_add(EMERGENCY_BLOCKS);
    let emergency = Payload::EmergencyAccess {
        requester: clinic.key(),
        justification: "unconscious patient in the emergency room; cardiac history needed".into(),
        records: vec![RecordAccess {
            record: stored.record,
            unlock: Vec::new(),
            sequence: FINAL_SEQUENCE,
            deposit: Vec::new(),
        }],
        signature: Sig::EMPTY,
    };
    let holdings = Holdings {
        secret_keys: vec![clinic.signer.secret],
        roles: [(clinic.key().0, [MEDICAL_INSTITUTION].into())].into(),
        emergency_expires_in: Some(EMERGENCY_BLOCKS),
        ..Holdings::default()
    };
    let unlock = PolicyUnlock { compiled: stored.compiled.clone(), holdings, clause: Some(EMERGENCY_CLAUSE) };
    let builder =
        TxBuilder::new(emergency, FEE).expiry(expiry).signed_by(&clinic.signer).unlock_records(unlock);
    let emergency_id = demo.send(clinic, builder).await?;

    let listed = demo.client.records(&patient.key()).await.map_err(|e| e.to_string())?;
    println!("   the patient's record list shows {} record(s)", listed.records.len());
    let shares = listed
        .records
        .into_iter()
        .find(|r| r.record == stored.record)
        .and_then(|r| r.emergency)
        .ok_or("the stored record lists no emergency shares")?
        .shares;
    for holder in [&mut *hospital, &mut *university] {
        let sealed = shares.iter().find(|s| s.holder == holder.key()).ok_or("no share for this holder")?;
        let share = ecies::open(&holder.signer.secret, &sealed.envelope.0).map_err(|e| e.to_string())?;
        let envelope = seal_to(&clinic.key(), &share, &mut rng).map_err(|e| e.to_string())?;
        let release = Payload::ShareRelease {
            emergency: emergency_id,
            record: stored.record,
            holder: holder.key(),
            envelope,
            signature: Sig::EMPTY,
        };
        let builder = TxBuilder::new(release, FEE).signed_by(&holder.signer);
        demo.send(holder, builder).await?;
        println!(
            "   {} released its share to {}",
            holder.name,
            clinic.key().to_hex().get(..12).unwrap_or_default()
        );
    }
    let access = demo.client.access(&emergency_id).await.map_err(|e| e.to_string())?;
    let envelopes = access.share_releases.iter().map(|r| r.envelope.0.as_slice());
    let secret = recover_from_shares(&clinic.signer.secret, envelopes).map_err(|e| e.to_string())?;
    let read = demo.read_record(&clinic.signer, (&stored.record, &stored.ciphertext), &secret).await?;
    println!(
        "   with 2 of 3 shares the clinic decrypts and checks the record against its release: \"{}\"",
        String::from_utf8_lossy(&read)
    );
    Ok(())
}
