//! Share releases: a holder of a record's emergency key share re-seals it to the requester of
//! a live emergency access on that record, once, after its veto window and while the
//! requester's institution still holds its role.

use medchain_primitives::ecies::is_envelope;
use medchain_primitives::{Hash32, PubKey, Sig};

use super::payload::Step;
use super::{AccessStatus, TxError};
use crate::limits::KEY_SHARE_SIZE;
use crate::state::StateRead;
use crate::store::{Store, Table};
use crate::verdict::Rejection;

/// `ShareRelease`: `holder` releases its share of `record`'s key for the access `emergency`.
pub(super) fn apply<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    (emergency, record): (&Hash32, &Hash32),
    holder: &PubKey,
    envelope: &[u8],
    signature: &Sig,
) -> Result<(), Rejection<TxError>> {
    let access = step.overlay.grant(emergency)?.ok_or(TxError::UnknownAccess(*emergency))?;
    if !access.emergency {
        return Err(TxError::NotEmergency(*emergency).into());
    }
    match step.chain.access_status(&*step.overlay, emergency, step.context.height)? {
        AccessStatus::Usable => {}
        AccessStatus::Waiting { until } => return Err(TxError::VetoWindowOpen(until).into()),
        AccessStatus::Vetoed => return Err(TxError::Vetoed(*emergency).into()),
        AccessStatus::Ended | AccessStatus::Unknown
            if access.expiry <= step.context.height || step.overlay.revoked_at(emergency)?.is_some() =>
        {
            return Err(TxError::EmergencyExpired.into());
        }
        // Its institution's role lapsed since the access.
        AccessStatus::Ended | AccessStatus::Unknown => {
            return Err(TxError::NotInstitution("emergency requester").into());
        }
    }
    if !access.records.contains(record) {
        return Err(TxError::RecordNotInAccess(*record).into());
    }
    let stored = step.overlay.record(record)?.ok_or(TxError::UnknownRecord(*record))?;
    let holds =
        stored.emergency.as_ref().is_some_and(|s| s.shares.iter().any(|share| share.holder == *holder));
    if !holds {
        return Err(TxError::NotShareHolder.into());
    }
    if step.overlay.share_released(emergency, record, holder)? {
        return Err(TxError::DuplicateShareRelease.into());
    }
    if !is_envelope(envelope, KEY_SHARE_SIZE) {
        return Err(TxError::BadEnvelope.into());
    }
    step.signed(signature, holder, "share holder")?;
    step.overlay.put(
        Table::ShareRelease,
        [&emergency.0[..], &record.0, &holder.0].concat(),
        envelope.to_vec(),
    );
    Ok(())
}
