//! Roles: a governor named in the genesis gives or takes a role the genesis defines.

use medchain_primitives::{PubKey, Sig};

use super::TxError;
use super::payload::Step;
use crate::state::{StateRead, role_key};
use crate::store::{Store, Table};
use crate::verdict::Rejection;

/// `RegisterRole` (`register`) or `WithdrawRole`: `governor` gives `subject` the role, or takes it.
pub(super) fn apply<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    (subject, role): (&PubKey, u32),
    governor: &PubKey,
    signature: &Sig,
    register: bool,
) -> Result<(), Rejection<TxError>> {
    if !step.chain.genesis.governors.contains(governor) {
        return Err(TxError::NotGovernor(governor.to_hex()).into());
    }
    step.signed(signature, governor, "governor")?;
    if !step.chain.genesis.roles.values().any(|r| *r == role) {
        return Err(TxError::UnknownRole(role).into());
    }
    let held = step.overlay.has_role(subject, role)?;
    if register {
        if held {
            return Err(TxError::RoleAlreadyHeld.into());
        }
        step.overlay.put(Table::Role, role_key(subject, role), step.context.height.to_be_bytes().to_vec());
    } else {
        if !held {
            return Err(TxError::RoleNotHeld.into());
        }
        step.overlay.delete(Table::Role, role_key(subject, role));
    }
    Ok(())
}
