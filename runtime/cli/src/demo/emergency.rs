//! Break-glass. On the consent record, a registered clinic opens an emergency access through the
//! policy's emergency clause; two of the three share holders release their shares to it on chain,
//! each checked, and it decrypts with the key they recover. On the vault record, break-glass is
//! two-phase: the patient vetoes one request, which never unlocks; another unlocks only after its
//! veto window.

use std::time::Instant;

use medchain_chain::transaction::{Payload, RecordAccess};
use medchain_compiler::medscript::satisfy::Holdings;
use medchain_primitives::{Hash32, Sig};
use medchain_wallet::builder::{FINAL_SEQUENCE, PolicyUnlock, TxBuilder};
use medchain_wallet::deposit::{recover_from_shares, reseal_share, seal_justification};

use super::cast::Party;
use super::release::Stored;
use super::{Cast, Demo, FEE, WAIT, step};

/// The clause of `emergency_override` break-glass goes through.
const EMERGENCY_CLAUSE: usize = 1;

/// The clause of `vault_emergency` break-glass goes through.
const VAULT_EMERGENCY_CLAUSE: usize = 1;

/// How many blocks an emergency access lasts (the policies allow at most 144).
const EMERGENCY_BLOCKS: u32 = 100;

/// The role number of a medical institution in the demo's genesis.
const MEDICAL_INSTITUTION: u32 = 1;

/// `requester` asks for emergency access to `stored` through `clause`, with `why` sealed to the
/// patient and the share holders. Returns the access's id.
async fn request(
    demo: &Demo,
    (requester, patient): (&mut Party, &Party),
    stored: &Stored,
    clause: usize,
    why: &str,
) -> Result<Hash32, String> {
    let height = demo.client.status().await.map_err(|e| e.to_string())?.height;
    let readers: Vec<_> =
        std::iter::once(patient.key()).chain(stored.shares.shares.iter().map(|s| s.holder)).collect();
    let request = (&requester.key(), &[stored.record][..]);
    let justification =
        seal_justification(why, request, &readers, &mut rand::rng()).map_err(|e| e.to_string())?;
    let emergency = Payload::EmergencyAccess {
        requester: requester.key(),
        justification,
        records: vec![RecordAccess {
            record: stored.record,
            unlock: Vec::new(),
            sequence: FINAL_SEQUENCE,
            deposit: Vec::new(),
        }],
        signature: Sig::EMPTY,
    };
    // An emergency's relative locks are its veto window, counted from the request.
    let holdings = Holdings {
        secret_keys: vec![requester.signer.secret],
        roles: [(requester.key().0, [MEDICAL_INSTITUTION].into())].into(),
        emergency_expires_in: Some(EMERGENCY_BLOCKS),
        age_blocks: Some(u32::from(u16::MAX)),
        ..Holdings::default()
    };
    let unlock = PolicyUnlock { compiled: stored.compiled.clone(), holdings, clause: Some(clause) };
    let builder = TxBuilder::new(emergency, FEE)
        .expiry(height.saturating_add(EMERGENCY_BLOCKS))
        .signed_by(&requester.signer)
        .unlock_records(unlock);
    println!("   justification, sealed to {} and the share holders: \"{why}\"", patient.name);
    demo.send(requester, builder).await
}

/// The share release `holder` builds for `access` on `stored`, whose requester is `requester`.
fn share_release(
    holder: &Party,
    stored: &Stored,
    access: &Hash32,
    requester: &Party,
) -> Result<TxBuilder, String> {
    let envelope = reseal_share(
        &holder.signer.secret,
        &stored.shares,
        (&stored.release, &stored.record, access),
        &requester.key(),
        &mut rand::rng(),
    )
    .map_err(|e| e.to_string())?;
    let release = Payload::ShareRelease {
        emergency: *access,
        record: stored.record,
        holder: holder.key(),
        envelope,
        signature: Sig::EMPTY,
    };
    Ok(TxBuilder::new(release, FEE).signed_by(&holder.signer))
}

/// Two holders release their shares of `stored`'s key for `access`; `requester` checks each,
/// recovers the key and reads the record.
async fn release_and_read(
    demo: &Demo,
    holders: [&mut Party; 2],
    requester: &Party,
    stored: &Stored,
    access: &Hash32,
) -> Result<(), String> {
    for holder in holders {
        let builder = share_release(holder, stored, access, requester)?;
        demo.send(holder, builder).await?;
        println!("   {} released its share to {}", holder.name, requester.name);
    }
    let view = demo.client.access(access).await.map_err(|e| e.to_string())?;
    let released = view.share_releases.iter().map(|r| (r.holder, r.envelope.0.as_slice()));
    let secret =
        recover_from_shares(&requester.signer.secret, (access, &stored.record), &stored.shares, released)
            .map_err(|e| e.to_string())?
            .secret;
    let read = demo.read_record(&requester.signer, (&stored.record, &stored.release), &secret).await?;
    println!(
        "   with 2 of 3 shares, each matching its check, {} decrypts and checks the record against its release: \"{}\"",
        requester.name,
        String::from_utf8_lossy(&read)
    );
    Ok(())
}

/// The clinic breaks the glass; the hospital and the university release their shares to it; it
/// reads the record.
pub async fn break_the_glass(demo: &Demo, cast: &mut Cast, stored: &Stored) -> Result<(), String> {
    let Cast { clinic, hospital, university, patient, .. } = cast;
    step(&format!("{} breaks the glass", clinic.name));
    let why = "unconscious patient in the emergency room; cardiac history needed";
    let access = request(demo, (&mut *clinic, &*patient), stored, EMERGENCY_CLAUSE, why).await?;
    release_and_read(demo, [&mut *hospital, &mut *university], clinic, stored, &access).await
}

/// On the vault record: the university's request is vetoed by the patient and never unlocks;
/// the clinic's unlocks only once its veto window has passed.
pub async fn veto_and_wait(demo: &Demo, cast: &mut Cast, vault: &Stored) -> Result<(), String> {
    let Cast { clinic, hospital, university, patient, .. } = cast;
    step(&format!(
        "{} asks to break the glass on the vault record; {} vetoes",
        university.name, patient.name
    ));
    let why = "second opinion requested by phone; patient reachable";
    let vetoed = request(demo, (&mut *university, &*patient), vault, VAULT_EMERGENCY_CLAUSE, why).await?;
    let view = demo.client.access(&vetoed).await.map_err(|e| e.to_string())?;
    println!("   the request is in its veto window: usable from block {} unless vetoed", view.unlocks);
    let veto = Payload::Veto { access: vetoed, voter: patient.key(), signature: Sig::EMPTY };
    demo.send(patient, TxBuilder::new(veto, FEE).signed_by(&patient.signer)).await?;
    let builder = share_release(hospital, vault, &vetoed, university)?;
    let refused = demo.build(hospital, builder)?;
    Demo::refused("a share release for it is refused", demo.client.submit(&refused).await, "VETOED")?;

    step(&format!("{} asks to break the glass on the vault record; nobody vetoes", clinic.name));
    let why = "patient in cardiac arrest; genetic panel needed for treatment";
    let access = request(demo, (&mut *clinic, &*patient), vault, VAULT_EMERGENCY_CLAUSE, why).await?;
    let unlocks = demo.client.access(&access).await.map_err(|e| e.to_string())?.unlocks;
    let builder = share_release(hospital, vault, &access, clinic)?;
    let early = demo.build(hospital, builder)?;
    Demo::refused(
        "a share release before the window ends",
        demo.client.submit(&early).await,
        "VETO_WINDOW_OPEN",
    )?;
    let read = demo.client.download(&demo.chain_id, &clinic.signer, &vault.record).await;
    Demo::refused("a read before the window ends", read, "NO_ACCESS")?;
    let start = Instant::now();
    while demo.client.status().await.map_err(|e| e.to_string())?.height < unlocks {
        if start.elapsed() > WAIT {
            return Err(format!("the chain never reached block {unlocks}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    println!("   block {unlocks}: the veto window has closed");
    release_and_read(demo, [&mut *hospital, &mut *university], clinic, vault, &access).await
}
