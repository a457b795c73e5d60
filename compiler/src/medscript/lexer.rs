//! The MedScript lexer (logos). Comments are kept aside for the formatter; everything else
//! becomes a token for the parser.

use std::fmt;

use logos::Logos;

use super::ast::Span;

/// A MedScript token.
#[derive(Logos, Debug, Clone, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Token<'s> {
    /// `policy`
    #[token("policy")]
    Policy,
    /// `clause`
    #[token("clause")]
    Clause,
    /// `and`
    #[token("and")]
    And,
    /// `or`
    #[token("or")]
    Or,
    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `,`
    #[token(",")]
    Comma,
    /// `:`
    #[token(":")]
    Colon,
    /// A name: parameter, function, type, role or unit.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident(&'s str),
    /// A decimal number; `_` may separate digits (`650_000`).
    #[regex(r"[0-9][0-9_]*")]
    Number(&'s str),
    /// A double-quoted string (clause labels); no escapes, no line breaks.
    #[regex(r#""[^"\n]*""#)]
    Str(&'s str),
    /// A `//` comment to the end of the line.
    #[regex(r"//[^\n]*")]
    Comment(&'s str),
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Policy => f.write_str("keyword `policy`"),
            Self::Clause => f.write_str("keyword `clause`"),
            Self::And => f.write_str("`and`"),
            Self::Or => f.write_str("`or`"),
            Self::LParen => f.write_str("`(`"),
            Self::RParen => f.write_str("`)`"),
            Self::LBrace => f.write_str("`{`"),
            Self::RBrace => f.write_str("`}`"),
            Self::Comma => f.write_str("`,`"),
            Self::Colon => f.write_str("`:`"),
            Self::Ident(name) => write!(f, "name `{name}`"),
            Self::Number(n) => write!(f, "number `{n}`"),
            Self::Str(s) => write!(f, "string {s}"),
            Self::Comment(_) => f.write_str("comment"),
        }
    }
}

/// A comment and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The text after `//`, trimmed.
    pub text: String,
    /// Its span.
    pub span: Span,
    /// Whether code precedes it on its line (a trailing comment).
    pub trailing: bool,
}

/// A character sequence that is no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// Its span.
    pub span: Span,
}

/// The tokens (without comments), the comments, and any lexical errors of `source`.
pub struct Lexed<'s> {
    /// Tokens with spans, in order.
    pub tokens: Vec<(usize, Token<'s>, usize)>,
    /// Comments, in order.
    pub comments: Vec<Comment>,
    /// Unrecognized characters.
    pub errors: Vec<LexError>,
}

/// Splits `source` into tokens and comments.
pub fn lex(source: &str) -> Lexed<'_> {
    let mut lexed = Lexed { tokens: Vec::new(), comments: Vec::new(), errors: Vec::new() };
    for (token, range) in Token::lexer(source).spanned() {
        let span = Span::new(range.start, range.end);
        match token {
            Ok(Token::Comment(text)) => {
                let line_start = source.get(..range.start).and_then(|s| s.rfind('\n')).map_or(0, |i| i + 1);
                let trailing = source.get(line_start..range.start).is_some_and(|s| !s.trim().is_empty());
                let text = text.trim_start_matches('/').trim().to_owned();
                lexed.comments.push(Comment { text, span, trailing });
            }
            Ok(token) => lexed.tokens.push((range.start, token, range.end)),
            Err(()) => match lexed.errors.last_mut() {
                // Merge a run of bad characters into one error.
                Some(last) if last.span.end == range.start => last.span.end = range.end,
                _ => lexed.errors.push(LexError { span }),
            },
        }
    }
    lexed
}
