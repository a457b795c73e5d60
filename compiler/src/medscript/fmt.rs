//! `fmt`: the one canonical layout of a policy. Comments on their own lines stay before the
//! parameter or clause they precede; a comment inside a clause moves to the top of its body.
//! Formatting a formatted source changes nothing.

use super::ast::{Expr, ExprKind, Policy};
use super::diagnostics::Diagnostic;
use super::lexer::{Comment, lex};
use super::parse;

/// Lines longer than this are broken.
pub const MAX_WIDTH: usize = 100;

const INDENT: &str = "    ";

/// Formats a policy source, or returns why it does not parse.
pub fn format(source: &str) -> Result<String, Vec<Diagnostic>> {
    let policy = parse(source)?;
    let comments = lex(source).comments;
    Ok(Printer { comments, next: 0 }.policy(&policy))
}

struct Printer {
    comments: Vec<Comment>,
    next: usize,
}

impl Printer {
    /// Comments that start before `offset` and were not printed yet, one per line.
    fn comments_before(&mut self, offset: usize, indent: &str) -> String {
        let mut out = String::new();
        while let Some(comment) = self.comments.get(self.next).filter(|c| c.span.start < offset) {
            out.push_str(&format!("{indent}// {}\n", comment.text).replace(" \n", "\n"));
            self.next += 1;
        }
        out
    }

    fn policy(mut self, policy: &Policy) -> String {
        let mut out = self.comments_before(policy.span.start, "");
        let params: Vec<String> =
            policy.params.iter().map(|p| format!("{}: {}", p.name.name, p.ty.name)).collect();
        let params_end = policy.params_span.end;
        let has_param_comments =
            self.comments.iter().any(|c| c.span.start > policy.name.span.end && c.span.start < params_end);
        let one_line = format!("policy {}({}) {{", policy.name.name, params.join(", "));
        if one_line.len() <= MAX_WIDTH && !has_param_comments {
            out.push_str(&one_line);
            out.push('\n');
        } else {
            out.push_str(&format!("policy {}(\n", policy.name.name));
            for (param, text) in policy.params.iter().zip(&params) {
                out.push_str(&self.comments_before(param.span.start, INDENT));
                out.push_str(&format!("{INDENT}{text},\n"));
            }
            out.push_str(&self.comments_before(params_end, INDENT));
            out.push_str(") {\n");
        }
        for (i, clause) in policy.clauses.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&self.comments_before(clause.span.start, INDENT));
            out.push_str(&format!("{INDENT}clause \"{}\" {{\n", clause.label));
            out.push_str(&self.comments_before(clause.span.end, &INDENT.repeat(2)));
            out.push_str(&expression_block(&clause.body, 2));
            out.push_str(&format!("{INDENT}}}\n"));
        }
        out.push_str(&self.comments_before(policy.span.end, INDENT));
        out.push_str("}\n");
        let rest = self.comments_before(usize::MAX, "");
        if !rest.is_empty() {
            out.push('\n');
            out.push_str(&rest);
        }
        out
    }
}

/// An expression at `depth` indents: on one line if it fits, otherwise its top-level `and`
/// or `or` chain one operand per line.
fn expression_block(expr: &Expr, depth: usize) -> String {
    let indent = INDENT.repeat(depth);
    let inline = expression(expr);
    if indent.len() + inline.len() <= MAX_WIDTH {
        return format!("{indent}{inline}\n");
    }
    let (parts, word) = match &expr.kind {
        ExprKind::And(parts) => (parts, "and"),
        ExprKind::Or(parts) => (parts, "or"),
        _ => return format!("{indent}{inline}\n"),
    };
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        let text = operand(part, word);
        if i == 0 {
            out.push_str(&format!("{indent}{text}\n"));
        } else {
            out.push_str(&format!("{indent}{INDENT}{word} {text}\n"));
        }
    }
    out
}

/// An expression on one line.
pub fn expression(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Or(parts) => parts.iter().map(|p| operand(p, "or")).collect::<Vec<_>>().join(" or "),
        ExprKind::And(parts) => parts.iter().map(|p| operand(p, "and")).collect::<Vec<_>>().join(" and "),
        ExprKind::Call { name, args } => {
            format!("{}({})", name.name, args.iter().map(expression).collect::<Vec<_>>().join(", "))
        }
        ExprKind::Name(ident) => ident.name.clone(),
        ExprKind::Number(n) => n.clone(),
        ExprKind::Quantity { value, unit } => format!("{value} {}", unit.name),
    }
}

/// An operand of `and`/`or`: an `or` inside an `and` keeps its parentheses; so does any
/// chain of the same operator that was parenthesized in the source (so meaning never shifts).
fn operand(expr: &Expr, parent: &str) -> String {
    match (&expr.kind, parent) {
        (ExprKind::Or(_), _) | (ExprKind::And(_), "and") => format!("({})", expression(expr)),
        _ => expression(expr),
    }
}
