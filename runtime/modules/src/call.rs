//! One call's store: the request the module reads, how its memory and tables may grow, and the
//! fault a module's misuse of the host ends in.

use wasmtime::ResourceLimiter;

use super::admission::{MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS};
use super::request::AccessRequest;

/// A module's misuse of a host function (a pointer out of bounds, a negative length, no
/// memory): the call ends as a trap, a verdict on the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(super) struct ModuleFault(&'static str);

pub(super) fn module_fault(what: &'static str) -> wasmtime::Error {
    wasmtime::Error::new(ModuleFault(what))
}

/// What one call's store holds.
pub struct CallState {
    pub(super) request: AccessRequest,
    /// The module grew its memory past the cap (a verdict).
    pub(super) memory_refused: bool,
    /// The operating system could not give memory under the cap (this node's failure).
    pub(super) node_failure: Option<String>,
}

impl CallState {
    /// The state of a call answering `request`.
    pub(super) fn new(request: AccessRequest) -> CallState {
        CallState { request, memory_refused: false, node_failure: None }
    }
}

impl ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if u64::try_from(desired).unwrap_or(u64::MAX) > MAX_MEMORY_BYTES {
            self.memory_refused = true;
            return Err(module_fault("memory past the cap"));
        }
        // Past the module's own declared maximum: `memory.grow` answers -1, as wasm says.
        Ok(maximum.is_none_or(|maximum| desired <= maximum))
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.node_failure = Some(format!("memory could not grow: {error}"));
        Err(error)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let within = u64::try_from(desired).unwrap_or(u64::MAX) <= MAX_TABLE_ELEMENTS;
        Ok(within && maximum.is_none_or(|maximum| desired <= maximum))
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.node_failure = Some(format!("a table could not grow: {error}"));
        Err(error)
    }
}
