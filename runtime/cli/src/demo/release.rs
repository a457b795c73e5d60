//! A record's beginning: the governor registers the hospital, the hospital releases a record
//! for the patient, and the patient stores it under a policy with its key split among three
//! institutions.

use medchain_chain::transaction::{EmergencyShares, Payload};
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::types::Value as PolicyValue;
use medchain_compiler::medscript::{Compiled, compile};
use medchain_primitives::{Hash32, Sig};
use medchain_wallet::builder::TxBuilder;
use medchain_wallet::deposit::{Binding, open_record_key, seal_to, split_among};
use medchain_wallet::record::{self, RecordSecret};

use super::{Cast, Demo, FEE, short, step};

/// The stored record the later chapters read, share and audit.
pub struct Stored {
    /// Its storage transaction.
    pub record: Hash32,
    /// The release it stores.
    pub release: Hash32,
    /// Its key's emergency shares.
    pub shares: EmergencyShares,
    /// Its policy, compiled.
    pub compiled: Compiled,
    /// Its key and its release's salt, which the patient holds.
    pub secret: RecordSecret,
}

/// The record the consent and break-glass chapters share.
pub const ECG: Story = Story {
    text: b"2026-11-28 ECG: sinus rhythm, QTc 412 ms. Diagnosis: long QT ruled out.",
    policy: "emergency_override",
    called: "a consent + emergency policy",
};

/// The record kept in a vault: break-glass waits out a veto window.
pub const VAULT: Story = Story {
    text: b"2026-12-01 Genetic panel: KCNH2 variant of uncertain significance.",
    policy: "vault_emergency",
    called: "a vault policy, the three institutions its guardians (the key-share holders)",
};

/// The governor registers the hospital as a medical institution.
pub async fn register_hospital(demo: &Demo, cast: &mut Cast) -> Result<(), String> {
    let Cast { governor, hospital, .. } = cast;
    step(&format!("{} registers {} as a medical institution", governor.name, hospital.name));
    let register = Payload::RegisterRole {
        subject: hospital.key(),
        role: 1,
        governor: governor.key(),
        signature: Sig::EMPTY,
    };
    let builder = TxBuilder::new(register, FEE).signed_by(&governor.signer);
    demo.send(governor, builder).await?;
    Ok(())
}

/// A record the hospital releases and the patient stores: its text, the standard policy it is
/// stored under, and how the chapter's heading calls that policy.
pub struct Story {
    /// The record.
    pub text: &'static [u8],
    /// A standard policy's name.
    pub policy: &'static str,
    /// What the policy is, in the heading.
    pub called: &'static str,
}

/// The hospital releases a record for the patient; the patient re-encrypts it, uploads it and
/// stores it under the story's policy (whose one parameter is the patient), its key split 2 of
/// 3 among the hospital, the clinic and the university for break-glass.
pub async fn release_and_store(demo: &Demo, cast: &mut Cast, story: &Story) -> Result<Stored, String> {
    let Cast { hospital, patient, clinic, university, .. } = cast;
    let mut rng = rand::rng();
    step(&format!("{} releases a record for {}", hospital.name, patient.name));
    let record_text = story.text.to_vec();
    let salt = record::new_key(&mut rng);
    let commitment = record::commitment(&salt, &record_text);
    let hospital_key = record::new_key(&mut rng);
    let for_patient = record::encrypt(&hospital_key, &record_text, &mut rng);
    let for_patient_hash = Hash32::sha256(&for_patient);
    let key_to_patient =
        seal_to(&patient.key(), &hospital_key, Binding::Handover(&for_patient_hash), &mut rng)
            .map_err(|e| e.to_string())?;
    let release = Payload::Release {
        patient: patient.key(),
        institution: hospital.key(),
        commitment,
        signature: Sig::EMPTY,
    };
    let builder = TxBuilder::new(release, FEE).signed_by(&hospital.signer);
    let release_id = demo.send(hospital, builder).await?;
    println!(
        "   on chain: a salted commitment {}; off chain the patient receives the record encrypted, and its key",
        short(&commitment)
    );

    step(&format!("{} stores the record under {}", patient.name, story.called));
    let key = open_record_key(&patient.signer.secret, &key_to_patient, &for_patient_hash)
        .map_err(|e| e.to_string())?;
    let plain = record::decrypt(&key, &for_patient).map_err(|e| e.to_string())?;
    let record_key = record::new_key(&mut rng);
    let ciphertext = demo
        .client
        .upload(record::encrypt(&record_key, &plain, &mut rng))
        .await
        .map_err(|e| e.to_string())?;
    println!("   ciphertext {} uploaded to the record store", short(&ciphertext));
    let policy = medchain_contracts::standard(story.policy).ok_or("no standard policy")?;
    let checked = policy.checked(&RoleRegistry::standard()).map_err(|d| format!("{d:?}"))?;
    let args = [("patient".to_owned(), PolicyValue::PubKey(patient.key().0))].into_iter().collect();
    let compiled = compile(&checked, &args).map_err(|e| e.to_string())?;
    for line in medchain_compiler::medscript::explain(&checked).lines() {
        println!("   {line}");
    }
    let secret = RecordSecret { key: record_key, salt };
    let holders = [hospital.key(), clinic.key(), university.key()];
    let shares = split_among(&secret, &release_id, 2, &holders, &mut rng).map_err(|e| e.to_string())?;
    println!(
        "   the record key is split 2 of 3 among {}, {} and {}, each share with its check on chain",
        hospital.name, clinic.name, university.name
    );
    let storage = Payload::Storage {
        release: release_id,
        patient: patient.key(),
        ciphertext,
        policy: compiled.script.clone(),
        emergency: Some(shares.clone()),
        signature: Sig::EMPTY,
    };
    let builder = TxBuilder::new(storage, FEE).signed_by(&patient.signer);
    let record = demo.send(patient, builder).await?;
    Ok(Stored { record, release: release_id, shares, compiled, secret })
}
