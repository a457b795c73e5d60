//! Wasm policy modules: the rules a stack script cannot express, deployed on chain by hash and
//! called from scripts with CALLMODULEVERIFY. Admission checks code before deployment; the
//! engine runs it metered and sandboxed, with the host ABI as its only window on the world.

pub mod abi;
pub mod admission;
pub mod cache;
mod call;
pub mod engine;
mod host;
pub mod request;

pub use admission::{AdmissionError, admit};
pub use engine::{CompiledModule, EngineError, EngineOptions, Evaluation, PolicyEngine};
pub use request::AccessRequest;
