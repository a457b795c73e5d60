//! Accesses: a grant and a break-glass emergency access. Each record's policy runs against the
//! access as an input's lock runs against a spend, without consuming the record; the access is
//! then recorded where the patient's audit log finds it. An institution holds at most one live
//! emergency access on a record.
//!
//! A grant's relative locks (`older`) count from the record's storage, as a spend's count from
//! its coin. An emergency access's count from its own request: they are its veto window, the N
//! blocks after the request's block, in which the patient or the record's share holders may
//! veto it; its shares and reads unlock in the block after.

use std::sync::Arc;

use medchain_primitives::codec::Encode;
use medchain_primitives::ecies::{ENVELOPE_OVERHEAD, is_envelope};
use medchain_primitives::{PubKey, Sig};

use super::AccessStatus;
use super::TxError;
use super::payload::Step;
use crate::host::AccessInfo;
use crate::limits::{MAX_JUSTIFICATION, RECORD_SECRET_SIZE, SALT_SIZE};
use crate::scripts::{ScriptCheck, Subject};
use crate::state::{GrantEntry, StateRead};
use crate::store::{Store, Table};
use crate::transaction::{Justification, RecordAccess, Sealed};
use crate::verdict::Rejection;

/// `AccessGrant`: `grantee` may read `records` for `purpose`, as each record's policy allows.
pub(super) fn grant<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    grantee: &PubKey,
    purpose: u32,
    records: &[RecordAccess],
) -> Result<(), Rejection<TxError>> {
    let (patient, _) = check_records(step, records, (*grantee, purpose, false))?;
    let entry = GrantEntry {
        grantee: *grantee,
        purpose,
        records: records.iter().map(|r| r.record).collect(),
        patient,
        expiry: step.tx.expiry,
        height: step.context.height,
        unlocks: step.context.height,
        emergency: false,
        justification: Justification::default(),
    };
    put_access(step, &entry);
    Ok(())
}

/// `EmergencyAccess`: a registered institution breaks the glass, with a sealed justification
/// and an expiry, as each record's policy allows; usable once its veto window closes.
pub(super) fn emergency<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    requester: &PubKey,
    justification: &Justification,
    records: &[RecordAccess],
    signature: &Sig,
) -> Result<(), Rejection<TxError>> {
    // The text is the patient's health information: on chain only sealed, each copy an
    // envelope of a salt and 1 to MAX_JUSTIFICATION bytes of text.
    let least = ENVELOPE_OVERHEAD.saturating_add(SALT_SIZE);
    let sealed_text = |copy: &Sealed| {
        copy.0.len() > least
            && copy.0.len() <= least.saturating_add(MAX_JUSTIFICATION)
            && is_envelope(&copy.0, copy.0.len().saturating_sub(ENVELOPE_OVERHEAD))
    };
    if justification.copies.is_empty() {
        return Err(TxError::EmptyJustification.into());
    }
    if !justification.copies.iter().all(sealed_text) {
        return Err(TxError::UnsealedJustification.into());
    }
    if step.tx.expiry <= step.context.height {
        return Err(TxError::MissingExpiry.into());
    }
    step.require_institution(requester, "requester")?;
    step.signed(signature, requester, "requester")?;
    let (patient, window) = check_records(step, records, (*requester, 0, true))?;
    // One live emergency access per institution and record (waiting or usable): no renewal
    // without a new request, which needs the old one to end and lands in the audit log on its
    // own.
    for earlier in step.overlay.patient_accesses(&patient)? {
        let Some(access) = step.overlay.grant(&earlier)? else { continue };
        if access.emergency
            && access.grantee == *requester
            && records.iter().any(|r| access.records.contains(&r.record))
            && matches!(
                step.chain.access_status(&*step.overlay, &earlier, step.context.height)?,
                AccessStatus::Usable | AccessStatus::Waiting { .. }
            )
        {
            return Err(TxError::EmergencyStillLive(earlier).into());
        }
    }
    // A window of N blocks gives the vetoing parties the N blocks after the request's; the
    // access unlocks in the block after those. Without a window it is usable at once.
    let unlocks = match window {
        0 => Some(step.context.height),
        blocks => step.context.height.checked_add(blocks).and_then(|h| h.checked_add(1)),
    };
    let unlocks = unlocks.ok_or(TxError::VetoWindowTooLong)?;
    if unlocks >= step.tx.expiry {
        return Err(TxError::VetoWindowTooLong.into());
    }
    let entry = GrantEntry {
        grantee: *requester,
        purpose: 0,
        records: records.iter().map(|r| r.record).collect(),
        patient,
        expiry: step.tx.expiry,
        height: step.context.height,
        unlocks,
        emergency: true,
        justification: justification.clone(),
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
/// owner and, for an emergency, its veto window in blocks (the longest relative lock its
/// records' sequences declare).
fn check_records<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    records: &[RecordAccess],
    (grantee, purpose, emergency): (PubKey, u32, bool),
) -> Result<(PubKey, u32), Rejection<TxError>> {
    let mut window = 0u32;
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
        if emergency {
            window = window.max(veto_window(access.sequence)?);
        } else {
            let what = format!("record {}", access.record);
            step.chain.check_relative_lock(
                step.parent,
                access.sequence,
                record.height,
                step.context,
                &what,
            )?;
        }
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
    Ok((owner.ok_or(TxError::NoRecords)?, window))
}

/// The veto window, in blocks, that an emergency access's sequence declares (BIP 68 encoding):
/// none when relative locks are disabled; a time-based lock is refused, as a window is counted
/// in blocks.
fn veto_window(sequence: u32) -> Result<u32, TxError> {
    if sequence & (1 << 31) != 0 {
        Ok(0)
    } else if sequence & (1 << 22) != 0 {
        Err(TxError::TimeBasedVetoWindow)
    } else {
        Ok(sequence & 0xffff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_veto_window_is_the_blocks_a_sequence_declares() {
        assert_eq!(veto_window(6), Ok(6));
        assert_eq!(veto_window(0), Ok(0));
        // BIP 68: only the low 16 bits count, the other bits but the flags are ignored.
        assert_eq!(veto_window(0x0001_0006), Ok(6));
        assert_eq!(veto_window(1 << 31), Ok(0), "relative locks disabled: no window");
        assert_eq!(veto_window(u32::MAX), Ok(0));
        assert_eq!(veto_window((1 << 22) | 6), Err(TxError::TimeBasedVetoWindow));
    }
}
