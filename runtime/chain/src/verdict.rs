//! Verdicts and faults kept apart: "what you gave me is invalid" (a verdict, with its code) is
//! never confused with "this node could not decide" (its storage, its policy-module engine, a
//! worker thread). A node must never refuse, or vote against, a block because of its own fault.

use std::sync::Arc;

use medchain_modules::EngineError;
use thiserror::Error;

use crate::state::StateError;
use crate::store::StoreError;

/// Why this node could not decide whether a transaction or block is valid: a failure of its
/// own, never a verdict on what it was given.
#[derive(Debug, Clone, Error)]
pub enum NodeFault {
    /// Reading the state failed, or a stored value does not decode.
    #[error("state read failed: {0}")]
    State(Arc<StateError>),
    /// The policy-module engine could not run a module (the operating system refused memory,
    /// wasmtime failed, the engine could not be built).
    #[error(transparent)]
    Engine(EngineError),
    /// The state has no tip: it was never initialized.
    #[error("the state is not initialized")]
    Uninitialized,
    /// A script worker thread died.
    #[error("a script worker thread panicked")]
    WorkerPanicked,
}

impl From<StateError> for NodeFault {
    fn from(error: StateError) -> Self {
        NodeFault::State(Arc::new(error))
    }
}

impl From<StoreError> for NodeFault {
    fn from(error: StoreError) -> Self {
        NodeFault::State(Arc::new(StateError::Store(error)))
    }
}

impl From<EngineError> for NodeFault {
    fn from(error: EngineError) -> Self {
        NodeFault::Engine(error)
    }
}

/// Validation that did not accept: the thing judged is invalid (`E`, a verdict every honest
/// node reaches), or this node could not judge it.
#[derive(Debug, Clone, Error)]
pub enum Rejection<E> {
    /// Invalid: the verdict, with its rule's code.
    #[error(transparent)]
    Invalid(E),
    /// Undecided: this node's own failure; the same input may be valid.
    #[error("this node could not decide: {0}")]
    Undecided(NodeFault),
}

impl<E> Rejection<E> {
    /// The verdict, if this is one.
    pub fn invalid(&self) -> Option<&E> {
        match self {
            Rejection::Invalid(error) => Some(error),
            Rejection::Undecided(_) => None,
        }
    }

    /// The verdict mapped by `f`; a fault stays a fault.
    pub fn map_invalid<F>(self, f: impl FnOnce(E) -> F) -> Rejection<F> {
        match self {
            Rejection::Invalid(error) => Rejection::Invalid(f(error)),
            Rejection::Undecided(fault) => Rejection::Undecided(fault),
        }
    }
}

impl<E> From<NodeFault> for Rejection<E> {
    fn from(fault: NodeFault) -> Self {
        Rejection::Undecided(fault)
    }
}

impl<E> From<StateError> for Rejection<E> {
    fn from(error: StateError) -> Self {
        Rejection::Undecided(error.into())
    }
}

impl<E> From<StoreError> for Rejection<E> {
    fn from(error: StoreError) -> Self {
        Rejection::Undecided(error.into())
    }
}
