//! MedScript: the policy language. `parse` reads a source into a syntax tree, `check` resolves
//! and checks it, `compile` turns a checked policy with its arguments into script bytes, and
//! the satisfier, explainer and formatter work from the same checked policy.

pub mod ast;
pub mod audit;
pub mod check;
pub mod codegen;
pub mod diagnostics;
pub mod explain;
pub mod fmt;
pub mod ir;
pub mod lexer;
pub mod model;
mod parse;
pub mod paths;
pub mod roles;
pub mod satisfy;
pub mod types;

#[expect(
    clippy::all,
    clippy::allow_attributes,
    clippy::allow_attributes_without_reason,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "lalrpop generates this module"
)]
#[expect(unused_qualifications, unreachable_pub, reason = "lalrpop generates this module")]
mod grammar {
    lalrpop_util::lalrpop_mod!(pub grammar, "/medscript/grammar.rs");
    pub use grammar::*;
}

pub use audit::clause_taken;
pub use check::check;
pub use codegen::{CompileError, Compiled, compile};
pub use diagnostics::{Diagnostic, Severity, render, to_json};
pub use explain::explain;
pub use fmt::format;
pub use parse::{MAX_SOURCE_BYTES, parse};
