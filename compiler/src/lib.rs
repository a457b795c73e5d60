//! MedChain's compiler crate: script assembly (the notation of Bitcoin Core's test vectors,
//! plus `<hex>` pushes) and its inverse, the disassembler.

#![forbid(unsafe_code)]

pub mod asm;
pub mod medscript;

pub use asm::{AsmError, AsmErrorKind, assemble, disassemble, listing};
