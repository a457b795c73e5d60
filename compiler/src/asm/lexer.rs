//! The assembly lexer. Tokens are whitespace-separated words (space, tab, newline); a word
//! is a number, hex, quoted text or `<hex>` push only if the whole word has that form.

use std::ops::Range;

use logos::Logos;

/// One token of script assembly.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\n]+")]
pub enum Token<'s> {
    /// A decimal number, optionally negative: pushed as a script number.
    #[regex(r"-?[0-9]+", priority = 10)]
    Number(&'s str),
    /// `0x` and hex digits: raw bytes inserted as they are.
    #[regex(r"0x[0-9a-fA-F]+", priority = 10)]
    Hex(&'s str),
    /// `'text'`: the text's bytes, pushed.
    #[regex(r"'[^ \t\n]*'", priority = 10)]
    Quoted(&'s str),
    /// `<hex>`: the bytes, pushed in their minimal form.
    #[regex(r"<[0-9a-fA-F]*>", priority = 10)]
    Push(&'s str),
    /// Any other word: an opcode name, or an error.
    #[regex(r"[^ \t\n]+", priority = 1)]
    Word(&'s str),
}

/// Splits assembly into tokens with their byte spans. Every non-whitespace run is a token,
/// so lexing itself never fails.
pub fn tokenize(source: &str) -> Vec<(Token<'_>, Range<usize>)> {
    Token::lexer(source).spanned().filter_map(|(token, span)| token.ok().map(|token| (token, span))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<Token<'_>> {
        tokenize(source).into_iter().map(|(token, _)| token).collect()
    }

    #[test]
    fn whole_words_decide_the_kind() {
        assert_eq!(
            kinds("1ADD -5 0x4c 'a'b' <00ff> ' -"),
            vec![
                Token::Word("1ADD"),
                Token::Number("-5"),
                Token::Hex("0x4c"),
                Token::Quoted("'a'b'"),
                Token::Push("<00ff>"),
                Token::Word("'"),
                Token::Word("-"),
            ]
        );
        assert_eq!(kinds("0xZZ 12'"), vec![Token::Word("0xZZ"), Token::Word("12'")]);
    }

    #[test]
    fn spans_point_into_the_source() {
        let tokens = tokenize("DUP\n\t HASH160");
        assert_eq!(tokens[1].1, 6..13);
    }
}
