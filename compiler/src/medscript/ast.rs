//! The MedScript syntax tree: what the parser read, with a span on every node.

use std::fmt;

/// A byte range in the source.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A name with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A whole policy file: one named policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The policy's name.
    pub name: Ident,
    /// Its typed parameters.
    pub params: Vec<Param>,
    /// The parameter list, parentheses included.
    pub params_span: Span,
    /// Its clauses; any one grants access.
    pub clauses: Vec<Clause>,
    /// The whole policy.
    pub span: Span,
}

/// A typed parameter: `patient: pubkey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Its name.
    pub name: Ident,
    /// Its type's name, as written.
    pub ty: Ident,
    /// The whole parameter.
    pub span: Span,
}

/// A named clause: `clause "patient consents" { sig(patient) }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The label, without quotes.
    pub label: String,
    /// Where the label is.
    pub label_span: Span,
    /// The condition.
    pub body: Expr,
    /// The whole clause.
    pub span: Span,
}

/// An expression: a condition, or a value given to a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    /// `a or b or …`: any one holds.
    Or(Vec<Expr>),
    /// `a and b and …`: all hold.
    And(Vec<Expr>),
    /// `name(args…)`.
    Call {
        /// The function.
        name: Ident,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// A bare name: a parameter, a role or a keyword argument.
    Name(Ident),
    /// A number, as written (digits and `_`).
    Number(String),
    /// A number with a unit: `144 blocks`, `7 days`.
    Quantity {
        /// The number, as written.
        value: String,
        /// The unit.
        unit: Ident,
    },
}
