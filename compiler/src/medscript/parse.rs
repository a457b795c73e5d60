//! `parse`: MedScript source to a syntax tree, or readable diagnostics. The lalrpop parser
//! sits behind this one function.

use lalrpop_util::{ErrorRecovery, ParseError};

use super::ast::{Policy, Span};
use super::diagnostics::Diagnostic;
use super::grammar::PolicyParser;
use super::lexer::{Token, lex};

/// Largest source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;

/// Deepest nesting of parentheses and braces accepted (deeper trees would exhaust the stack
/// of the passes that walk them).
pub const MAX_NESTING: usize = 64;

/// Parses a policy. On failure returns every lexical error and every syntax error the parser
/// could recover from, in source order.
pub fn parse(source: &str) -> Result<Policy, Vec<Diagnostic>> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(vec![
            Diagnostic::error(
                "source-too-large",
                Span::new(0, 0),
                format!("source is larger than {MAX_SOURCE_BYTES} bytes"),
            )
            .help("split the policy, or move large rules into a policy module"),
        ]);
    }
    let lexed = lex(source);
    let mut depth = 0usize;
    for (start, token, end) in &lexed.tokens {
        match token {
            Token::LParen | Token::LBrace => depth += 1,
            Token::RParen | Token::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(vec![
                Diagnostic::error(
                    "nesting-too-deep",
                    Span::new(*start, *end),
                    format!("nesting deeper than {MAX_NESTING} levels"),
                )
                .help("flatten the condition: `and`/`or` chains need no parentheses"),
            ]);
        }
    }
    let mut diagnostics: Vec<Diagnostic> = lexed
        .errors
        .iter()
        .map(|e| {
            let text = source.get(e.span.start..e.span.end).unwrap_or_default();
            let help = match text {
                "&&" | "&" => "write `and`".to_owned(),
                "||" | "|" => "write `or`".to_owned(),
                _ => "MedScript has names, numbers, \"labels\", `//` comments and the symbols ( ) { } , :"
                    .to_owned(),
            };
            Diagnostic::error("unknown-character", e.span, format!("unexpected `{text}`"))
                .label("not part of MedScript")
                .help(help)
        })
        .collect();
    let mut recovered = Vec::new();
    let result = PolicyParser::new().parse(&mut recovered, lexed.tokens.iter().cloned());
    diagnostics.extend(recovered.into_iter().map(|ErrorRecovery { error, .. }| syntax_error(source, error)));
    match result {
        Ok(policy) if diagnostics.is_empty() => Ok(policy),
        Ok(_) => Err(diagnostics),
        Err(error) => {
            diagnostics.push(syntax_error(source, error));
            diagnostics.sort_by_key(|d| d.span.start);
            Err(diagnostics)
        }
    }
}

fn syntax_error(source: &str, error: ParseError<usize, Token<'_>, ()>) -> Diagnostic {
    match error {
        ParseError::UnrecognizedEof { location, expected } => {
            let end = source.len();
            Diagnostic::error(
                "unexpected-end",
                Span::new(location.min(end), end),
                "the policy ends too early",
            )
            .label(format!("expected {}", expected_sentence(&expected)))
            .help("check that every `(` and `{` is closed")
        }
        ParseError::UnrecognizedToken { token: (start, token, end), expected } => {
            Diagnostic::error("unexpected-token", Span::new(start, end), format!("unexpected {token}"))
                .label(format!("expected {}", expected_sentence(&expected)))
                .help(hint(&token, &expected))
        }
        ParseError::ExtraToken { token: (start, token, end) } => Diagnostic::error(
            "extra-token",
            Span::new(start, end),
            format!("unexpected {token} after the policy"),
        )
        .label("the policy ended before this")
        .help("a file holds one policy; remove what follows its closing `}`"),
        ParseError::InvalidToken { location } => {
            Diagnostic::error("unknown-character", Span::new(location, location + 1), "unexpected character")
        }
        ParseError::User { .. } => Diagnostic::error("syntax", Span::new(0, 0), "syntax error"),
    }
}

/// lalrpop's "expected one of" list as a sentence: "`)` or `,`".
fn expected_sentence(expected: &[String]) -> String {
    let mut names: Vec<String> = expected.iter().map(|e| friendly(e)).collect();
    names.sort();
    names.dedup();
    match names.as_slice() {
        [] => "something else".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn friendly(terminal: &str) -> String {
    match terminal.trim_matches('"') {
        "name" => "a name".into(),
        "number" => "a number".into(),
        "string" => "a quoted clause label".into(),
        "policy" | "clause" | "and" | "or" => format!("`{}`", terminal.trim_matches('"')),
        symbol => format!("`{}`", symbol.trim_matches('\\').trim_matches('"')),
    }
}

/// A help line for the common mistakes.
fn hint(found: &Token<'_>, expected: &[String]) -> String {
    let expects = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
    match found {
        Token::Ident(_) if expects("clause") => "each clause starts with `clause \"label\" {`".into(),
        Token::Ident(_) if expects("and") || expects("or") => "combine conditions with `and` or `or`".into(),
        Token::Ident(_) if expects(":") => "write each parameter as `name: type`".into(),
        Token::Str(_) => "labels belong right after `clause`".into(),
        Token::RBrace | Token::RParen if expects("name") => {
            "something is missing before this: a condition after `and`/`or`, or an argument".into()
        }
        _ if expects(")") => "check the arguments: they are separated by `,` and closed by `)`".into(),
        _ => "see docs/medscript.md for the grammar".into(),
    }
}
