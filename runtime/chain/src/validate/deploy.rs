//! Policy-module deployment: code that passes admission is stored under its SHA-256, once.

use medchain_modules::admit;
use medchain_primitives::Hash32;

use super::TxError;
use super::payload::Step;
use crate::state::StateRead;
use crate::store::{Store, Table};
use crate::verdict::Rejection;

/// `DeployModule`: admits `code` and stores it; scripts may call it from the next block on.
pub(super) fn apply<S: Store + ?Sized>(
    step: &mut Step<'_, '_, S>,
    code: &[u8],
) -> Result<(), Rejection<TxError>> {
    admit(code).map_err(TxError::Module)?;
    let hash = Hash32::sha256(code);
    if step.overlay.module(&hash)?.is_some() {
        return Err(TxError::ModuleExists(hash).into());
    }
    step.overlay.put(Table::Module, hash.0.to_vec(), code.to_vec());
    Ok(())
}
