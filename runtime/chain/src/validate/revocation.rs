//! Revocation: the records' owner ends a grant, from the next block on.

use medchain_primitives::{Hash32, PubKey, Sig};

use super::TxError;
use super::payload::Step;
use crate::state::StateRead;
use crate::store::{Store, Table};
use crate::verdict::Rejection;

/// `Revocation`: `owner` ends `grant`, once.
pub(super) fn apply<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    grant: &Hash32,
    owner: &PubKey,
    signature: &Sig,
) -> Result<(), Rejection<TxError>> {
    let access = step.overlay.grant(grant)?.ok_or(TxError::UnknownAccess(*grant))?;
    if step.overlay.revoked_at(grant)?.is_some() {
        return Err(TxError::AlreadyRevoked(*grant).into());
    }
    if access.patient != *owner {
        return Err(TxError::NotOwner.into());
    }
    step.signed(signature, owner, "owner")?;
    step.overlay.put(Table::Revoked, grant.0.to_vec(), step.context.height.to_be_bytes().to_vec());
    Ok(())
}
