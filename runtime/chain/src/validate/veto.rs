//! Vetoes: within an emergency access's veto window, the patient's vote vetoes it, and so do
//! the votes of as many of a covered record's share holders as recover that record's key. A
//! vetoed access never unlocks: no share release for it, no read through it.

use medchain_primitives::{Hash32, PubKey, Sig};

use super::payload::Step;
use super::{AccessStatus, TxError};
use crate::state::StateRead;
use crate::store::{Store, Table};
use crate::verdict::Rejection;

/// `Veto`: `voter` votes to veto the emergency access `access`.
pub(super) fn apply<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    access_id: &Hash32,
    voter: &PubKey,
    signature: &Sig,
) -> Result<(), Rejection<TxError>> {
    let access = step.overlay.grant(access_id)?.ok_or(TxError::UnknownAccess(*access_id))?;
    if !access.emergency {
        return Err(TxError::NotEmergency(*access_id).into());
    }
    match step.chain.access_status(&*step.overlay, access_id, step.context.height)? {
        AccessStatus::Waiting { .. } => {}
        AccessStatus::Vetoed => return Err(TxError::Vetoed(*access_id).into()),
        AccessStatus::Usable => return Err(TxError::VetoWindowClosed(access.unlocks).into()),
        AccessStatus::Ended | AccessStatus::Unknown => return Err(TxError::EmergencyExpired.into()),
    }
    let mut records = Vec::with_capacity(access.records.len());
    for record in &access.records {
        records.push(step.overlay.record(record)?.ok_or(TxError::UnknownRecord(*record))?);
    }
    let holds = |shares: &Option<crate::transaction::EmergencyShares>| {
        shares.as_ref().is_some_and(|s| s.shares.iter().any(|share| share.holder == *voter))
    };
    if *voter != access.patient && !records.iter().any(|r| holds(&r.emergency)) {
        return Err(TxError::NotGuardian.into());
    }
    if step.overlay.veto_voted(access_id, voter)? {
        return Err(TxError::DuplicateVeto.into());
    }
    step.signed(signature, voter, "vetoing key")?;
    step.overlay.put(
        Table::VetoVote,
        [&access_id.0[..], &voter.0].concat(),
        step.context.height.to_be_bytes().to_vec(),
    );
    let mut vetoed = *voter == access.patient;
    for shares in records.iter().filter_map(|r| r.emergency.as_ref()) {
        let mut votes = 0usize;
        for share in &shares.shares {
            if step.overlay.veto_voted(access_id, &share.holder)? {
                votes = votes.saturating_add(1);
            }
        }
        vetoed |= votes >= usize::from(shares.threshold);
    }
    if vetoed {
        step.overlay.put(Table::Revoked, access_id.0.to_vec(), step.context.height.to_be_bytes().to_vec());
    }
    Ok(())
}
