//! Accesses: a grant and a break-glass emergency access. Each record's policy runs against the
//! access as an input's lock runs against a spend, without consuming the record; the access is
//! then recorded where the patient's audit log finds it. An institution holds at most one live
//! emergency access on a record.

use std::sync::Arc;

use medchain_primitives::codec::Encode;
use medchain_primitives::ecies::is_envelope;
use medchain_primitives::{PubKey, Sig};

use super::TxError;
use super::payload::Step;
use crate::host::AccessInfo;
use crate::limits::RECORD_SECRET_SIZE;
use crate::scripts::{ScriptCheck, Subject};
use crate::state::{GrantEntry, StateRead};
use crate::store::{Store, Table};
use crate::transaction::RecordAccess;
use crate::verdict::Rejection;

/// `AccessGrant`: `grantee` may read `records` for `purpose`, as each record's policy allows.
pub(super) fn grant<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    grantee: &PubKey,
    purpose: u32,
    records: &[RecordAccess],
) -> Result<(), Rejection<TxError>> {
    let patient = check_records(step, records, (*grantee, purpose, false))?;
    let entry = GrantEntry {
        grantee: *grantee,
        purpose,
        records: records.iter().map(|r| r.record).collect(),
        patient,
        expiry: step.tx.expiry,
        height: step.context.height,
        emergency: false,
        justification: String::new(),
    };
    put_access(step, &entry);
    Ok(())
}

/// `EmergencyAccess`: a registered institution breaks the glass, with a justification and an
/// expiry, as each record's policy allows.
pub(super) fn emergency<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    requester: &PubKey,
    justification: &str,
    records: &[RecordAccess],
    signature: &Sig,
) -> Result<(), Rejection<TxError>> {
    if justification.trim().is_empty() {
        return Err(TxError::EmptyJustification.into());
    }
    if step.tx.expiry <= step.context.height {
        return Err(TxError::MissingExpiry.into());
    }
    step.require_institution(requester, "requester")?;
    step.signed(signature, requester, "requester")?;
    let patient = check_records(step, records, (*requester, 0, true))?;
    // One live emergency access per institution and record: no renewal without a new
    // request, which needs the old one to end and lands in the audit log on its own.
    for earlier in step.overlay.patient_accesses(&patient)? {
        let Some(access) = step.overlay.grant(&earlier)? else { continue };
        if access.emergency
            && access.grantee == *requester
            && records.iter().any(|r| access.records.contains(&r.record))
            && step.chain.access_active(&*step.overlay, &earlier, step.context.height)?
        {
            return Err(TxError::EmergencyStillLive(earlier).into());
        }
    }
    let entry = GrantEntry {
        grantee: *requester,
        purpose: 0,
        records: records.iter().map(|r| r.record).collect(),
        patient,
        expiry: step.tx.expiry,
        height: step.context.height,
        emergency: true,
        justification: justification.to_owned(),
    };
    put_access(step, &entry);
    Ok(())
}

/// Records the access and indexes it under its patient.
fn put_access<S: Store + ?Sized>(step: &mut Step<'_, '_, S>, entry: &GrantEntry) {
    let txid = step.txid();
    step.overlay.put(Table::Grant, txid.0.to_vec(), entry.to_bytes());
    let key = [&entry.patient.0[..], &step.context.height.to_be_bytes(), &txid.0].concat();
    step.overlay.put(Table::PatientAccess, key, Vec::new());
}

/// Queues each record's policy as a script check against the access (for `grantee`, with
/// `purpose`, an emergency or not), after the rules that need no script. Returns the records'
/// owner.
fn check_records<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    records: &[RecordAccess],
    (grantee, purpose, emergency): (PubKey, u32, bool),
) -> Result<PubKey, Rejection<TxError>> {
    let info = Arc::new(AccessInfo {
        grantee,
        purpose,
        records: records.iter().map(|access| access.record).collect(),
    });
    let mut owner: Option<PubKey> = None;
    for access in records {
        let record = step.overlay.record(&access.record)?.ok_or(TxError::UnknownRecord(access.record))?;
        if owner.is_some_and(|o| o != record.patient) {
            return Err(TxError::MixedOwners.into());
        }
        owner = Some(record.patient);
        // A deposit is an envelope of a record secret, exactly; only its grantee can open it.
        let deposit_for = match access.deposit.as_slice() {
            [] => None,
            deposit if is_envelope(deposit, RECORD_SECRET_SIZE) => Some(grantee),
            _ => return Err(TxError::BadDeposit(access.record).into()),
        };
        let what = format!("record {}", access.record);
        step.chain.check_relative_lock(step.parent, access.sequence, record.height, step.context, &what)?;
        step.checks.push(ScriptCheck {
            subject: Subject::Record(access.record),
            unlock: access.unlock.clone(),
            lock: record.policy.clone(),
            sequence: access.sequence,
            deposit_for,
            emergency,
            access: Some(info.clone()),
            ..step.scope.check(step.tx, step.context)
        });
    }
    Ok(owner.ok_or(TxError::NoRecords)?)
}
