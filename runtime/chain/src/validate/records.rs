//! A record's beginning: an institution's release (a salted commitment), and the patient's
//! storage of it under a policy, with its key optionally split among emergency institutions.
//! A release is stored once, by its patient; a ciphertext belongs to one record.

use std::collections::BTreeSet;

use medchain_primitives::codec::Encode;
use medchain_primitives::ecies::is_envelope;
use medchain_primitives::{Hash32, PubKey, Sig};

use super::TxError;
use super::payload::Step;
use crate::limits::{KEY_SHARE_SIZE, MIN_EMERGENCY_THRESHOLD};
use crate::state::{RecordEntry, ReleaseEntry, StateError, StateRead};
use crate::store::{Store, Table};
use crate::transaction::EmergencyShares;
use crate::verdict::Rejection;

/// Key of a patient's record in the patient's index.
fn patient_record_key(patient: &PubKey, record: &Hash32) -> Vec<u8> {
    [&patient.0[..], &record.0].concat()
}

/// `Release`: a registered institution commits to a record it made for `patient`.
pub(super) fn release<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    patient: &PubKey,
    institution: &PubKey,
    commitment: &Hash32,
    signature: &Sig,
) -> Result<(), Rejection<TxError>> {
    step.require_institution(institution, "releasing institution")?;
    step.signed(signature, institution, "institution")?;
    let entry = ReleaseEntry {
        patient: *patient,
        institution: *institution,
        commitment: *commitment,
        height: step.context.height,
    };
    step.overlay.put(Table::Release, step.txid().0.to_vec(), entry.to_bytes());
    Ok(())
}

/// `Storage`: the release's patient stores the record once, under a policy, with emergency
/// shares held by distinct registered institutions.
pub(super) fn storage<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    (release, patient): (&Hash32, &PubKey),
    ciphertext: &Hash32,
    policy: &[u8],
    emergency: Option<&EmergencyShares>,
    signature: &Sig,
) -> Result<(), Rejection<TxError>> {
    let released = step.overlay.release(release)?.ok_or(TxError::UnknownRelease(*release))?;
    if released.patient != *patient {
        return Err(TxError::WrongPatient.into());
    }
    if step.overlay.get(Table::StoredRelease, &release.0).map_err(StateError::from)?.is_some() {
        return Err(TxError::AlreadyStored(*release).into());
    }
    step.signed(signature, patient, "patient")?;
    if !step.overlay.records_by_ciphertext(ciphertext)?.is_empty() {
        return Err(TxError::CiphertextTaken(*ciphertext).into());
    }
    if policy.is_empty() {
        return Err(TxError::EmptyPolicy.into());
    }
    if let Some(shares) = emergency {
        let holders: BTreeSet<&PubKey> = shares.shares.iter().map(|s| &s.holder).collect();
        if holders.len() != shares.shares.len() {
            return Err(TxError::BadShares("a holder appears twice").into());
        }
        if shares.threshold < MIN_EMERGENCY_THRESHOLD || usize::from(shares.threshold) > shares.shares.len() {
            return Err(TxError::BadShares("threshold is not within 2..=shares").into());
        }
        if shares.shares.iter().any(|s| !is_envelope(&s.envelope, KEY_SHARE_SIZE)) {
            return Err(TxError::BadShares("a share is not an envelope of a key share").into());
        }
        for share in &shares.shares {
            step.require_institution(&share.holder, "share holder")?;
        }
    }
    let txid = step.txid();
    let entry = RecordEntry {
        patient: *patient,
        release: *release,
        ciphertext: *ciphertext,
        policy: policy.to_vec(),
        emergency: emergency.cloned(),
        height: step.context.height,
        time: step.context.time,
    };
    step.overlay.put(Table::Record, txid.0.to_vec(), entry.to_bytes());
    step.overlay.put(Table::StoredRelease, release.0.to_vec(), txid.0.to_vec());
    step.overlay.put(Table::PatientRecord, patient_record_key(patient, &txid), Vec::new());
    step.overlay.put(Table::RecordByCiphertext, [&ciphertext.0[..], &txid.0].concat(), Vec::new());
    Ok(())
}
