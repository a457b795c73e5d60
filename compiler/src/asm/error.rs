//! Assembly errors, pointing at the offending token.

use std::ops::Range;

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

/// What is wrong with a token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AsmErrorKind {
    /// The word is not a number, data or opcode name.
    #[error("unknown opcode `{0}`")]
    UnknownOpcode(String),
    /// A decimal number outside -0xFFFFFFFF..=0xFFFFFFFF.
    #[error("number `{0}` is outside -4294967295..=4294967295")]
    NumberOutOfRange(String),
    /// Hex with an odd number of digits.
    #[error("hex `{0}` has an odd number of digits")]
    OddHex(String),
}

impl AsmErrorKind {
    fn help(&self) -> &'static str {
        match self {
            Self::UnknownOpcode(_) => {
                "write numbers in decimal, raw bytes as 0x…, pushes as 'text' or <hex>, \
                 and opcodes by name (DUP or OP_DUP)"
            }
            Self::NumberOutOfRange(_) => "push larger values as data, e.g. <0100000001>",
            Self::OddHex(_) => "each byte takes two hex digits; add a leading 0",
        }
    }
}

/// An assembly error with the source and the span of the offending token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind} at line {line}, column {column}")]
pub struct AsmError {
    /// What is wrong.
    pub kind: AsmErrorKind,
    /// Byte span of the offending token in the source.
    pub span: Range<usize>,
    /// 1-based line of the token.
    pub line: usize,
    /// 1-based column (in characters) of the token.
    pub column: usize,
    source_code: String,
}

impl AsmError {
    pub(crate) fn new(kind: AsmErrorKind, span: Range<usize>, source: &str) -> Self {
        let before = source.get(..span.start).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
        Self { kind, span, line, column, source_code: source.to_owned() }
    }
}

impl Diagnostic for AsmError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("medchain::asm"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.kind.help()))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = SourceSpan::from(self.span.clone());
        Some(Box::new(std::iter::once(miette::LabeledSpan::new_with_span(Some("here".into()), span))))
    }
}
