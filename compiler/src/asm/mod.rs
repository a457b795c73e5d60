//! Script assembly: text to bytes and back.
//!
//! The notation is that of Bitcoin Core's test vectors: decimal numbers (pushed as script
//! numbers), `0x…` raw bytes (inserted, not pushed), `'text'` pushes and opcode names with or
//! without `OP_`. MedChain adds `<hex>`, which pushes the bytes in their minimal form.

pub(crate) mod assemble;
mod disassemble;
mod error;
mod lexer;

pub use assemble::assemble;
pub use disassemble::{disassemble, listing};
pub use error::{AsmError, AsmErrorKind};
pub use lexer::{Token, tokenize};
