//! Lexer: one console line → tokens, each tagged with its 1-based character column.
//!
//! Only the tokens the console grammar needs exist; anything else (a `$`, an unterminated string,
//! a non-ASCII identifier) is a [`SyntaxError`] naming the column, never a panic.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{SyntaxError, SyntaxErrorKind};

/// A lexical token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// An identifier (ASCII letters, digits, `_`), not a keyword.
    Name(String),
    /// A keyword of Python (reserved; most are rejected by the parser).
    Keyword(&'static str),
    /// A non-negative integer literal.
    Int(i64),
    /// A non-negative float literal, as its IEEE bits (so tokens stay `Eq`).
    Float(u64),
    /// A string literal with its escapes already decoded.
    Str(String),
    /// An operator or delimiter.
    Punct(&'static str),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Name(n) => write!(f, "name '{n}'"),
            Tok::Keyword(k) => write!(f, "keyword '{k}'"),
            Tok::Int(i) => write!(f, "integer {i}"),
            Tok::Float(_) => f.write_str("float"),
            Tok::Str(_) => f.write_str("string"),
            Tok::Punct(p) => write!(f, "'{p}'"),
        }
    }
}

/// A token and the 1-based column of its first character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// 1-based character column.
    pub col: usize,
}

/// Python's reserved words; the parser accepts a few and reports the rest as unsupported.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Operators and delimiters, longest first so `==` wins over `=`.
const PUNCTS: &[&str] = &[
    "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ":", ".", "=", "+", "-", "*", "<",
    ">", ";",
];

/// Splits `line` into tokens. A `#` starts a comment that runs to the end of the line.
pub fn tokenize(line: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let col = i + 1;
        if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
            i += 1;
        } else if c == '#' {
            break;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let tok = match KEYWORDS.iter().find(|k| **k == word) {
                Some(k) => Tok::Keyword(k),
                None => Tok::Name(word),
            };
            out.push(Token { tok, col });
        } else if c.is_ascii_digit()
            || (c == '.'
                && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())
                && !after_operand(&out))
        {
            let (tok, next) = match lex_float(&chars, i)? {
                Some(r) => r,
                None => {
                    let (value, next) = lex_int(&chars, i)?;
                    (Tok::Int(value), next)
                }
            };
            i = next;
            out.push(Token { tok, col });
        } else if c == '\'' || c == '"' {
            let (text, next) = lex_str(&chars, i)?;
            i = next;
            out.push(Token {
                tok: Tok::Str(text),
                col,
            });
        } else {
            let p = PUNCTS.iter().find(|p| {
                p.chars()
                    .enumerate()
                    .all(|(k, pc)| chars.get(i + k) == Some(&pc))
            });
            match p {
                Some(p) => {
                    i += p.len();
                    out.push(Token {
                        tok: Tok::Punct(p),
                        col,
                    });
                }
                None => return Err(SyntaxError::new(SyntaxErrorKind::UnexpectedChar(c), col)),
            }
        }
    }
    Ok(out)
}

/// Does the last token end an operand (so a `.` after it is an attribute, not a float's `.5`)?
fn after_operand(out: &[Token]) -> bool {
    match out.last().map(|t| &t.tok) {
        Some(Tok::Name(_) | Tok::Int(_) | Tok::Float(_) | Tok::Str(_)) => true,
        Some(Tok::Punct(p)) => matches!(*p, ")" | "]" | "}"),
        _ => false,
    }
}

/// Lexes a float literal starting at `start` (`1.5`, `1.`, `.5`, `1e-3`, `2.5E+4`, with `_`
/// between digits), or `None` if the number there is an integer. The value is parsed as
/// MicroPython's lexer does (`formatfloat::parse_float`).
fn lex_float(chars: &[char], start: usize) -> Result<Option<(Tok, usize)>, SyntaxError> {
    let col = start + 1;
    let digits = |mut i: usize| {
        while chars
            .get(i)
            .is_some_and(|c| c.is_ascii_digit() || *c == '_')
        {
            i += 1;
        }
        i
    };
    if chars.get(start) == Some(&'0')
        && chars
            .get(start + 1)
            .is_some_and(|c| c.is_ascii_alphabetic() && !matches!(c, 'e' | 'E'))
    {
        return Ok(None); // 0x.., 0o.., 0b..
    }
    let mut i = digits(start);
    let mut float = false;
    if chars.get(i) == Some(&'.') {
        float = true;
        i = digits(i + 1);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        float = true;
        i += 1;
        if matches!(chars.get(i), Some('+' | '-')) {
            i += 1;
        }
        let d = i;
        i = digits(i);
        if i == d {
            return Err(SyntaxError::new(SyntaxErrorKind::InvalidNumber, col));
        }
    }
    if !float {
        return Ok(None);
    }
    let glued = chars
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_');
    let text: String = chars[start..i].iter().collect();
    match crate::formatfloat::parse_float(text.as_bytes()) {
        Some(v) if !glued => Ok(Some((Tok::Float(v.to_bits()), i))),
        _ => Err(SyntaxError::new(SyntaxErrorKind::InvalidNumber, col)),
    }
}

/// Lexes a decimal, `0x`, `0o` or `0b` integer starting at `start`; returns it and the next index.
fn lex_int(chars: &[char], start: usize) -> Result<(i64, usize), SyntaxError> {
    let col = start + 1;
    let prefix = match (chars.get(start), chars.get(start + 1)) {
        (Some('0'), Some('x' | 'X')) => Some(16),
        (Some('0'), Some('o' | 'O')) => Some(8),
        (Some('0'), Some('b' | 'B')) => Some(2),
        _ => None,
    };
    let (radix, mut i) = match prefix {
        Some(r) => (r, start + 2),
        None => (10, start),
    };
    let digits_start = i;
    let mut value: i64 = 0;
    while let Some(&c) = chars.get(i) {
        if c == '_' {
            i += 1;
            continue;
        }
        let Some(d) = c.to_digit(radix) else { break };
        value = value
            .checked_mul(i64::from(radix))
            .and_then(|v| v.checked_add(i64::from(d)))
            .ok_or(SyntaxError::new(SyntaxErrorKind::IntegerTooLarge, col))?;
        i += 1;
    }
    // A letter or digit glued to the number (`12ab`, `0x`, `0b2`) is malformed, as in Python.
    let glued = chars
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_');
    if i == digits_start || glued {
        return Err(SyntaxError::new(SyntaxErrorKind::InvalidNumber, col));
    }
    Ok((value, i))
}

/// Lexes a single-line string literal quoted with `'` or `"` starting at `start`.
///
/// Escapes: `\\ \' \" \n \r \t \0 \xHH`; any other backslash pair is kept verbatim, as Python does.
fn lex_str(chars: &[char], start: usize) -> Result<(String, usize), SyntaxError> {
    let quote = chars[start];
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(SyntaxError::new(
                SyntaxErrorKind::UnterminatedString,
                start + 1,
            ));
        };
        if c == quote {
            return Ok((out, i + 1));
        }
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = chars.get(i + 1) else {
            return Err(SyntaxError::new(
                SyntaxErrorKind::UnterminatedString,
                start + 1,
            ));
        };
        match e {
            '\\' | '\'' | '"' => out.push(e),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '0' => out.push('\0'),
            'x' => {
                let hex = |k: usize| chars.get(i + k).and_then(|c| c.to_digit(16));
                let (Some(hi), Some(lo)) = (hex(2), hex(3)) else {
                    return Err(SyntaxError::new(SyntaxErrorKind::BadEscape, i + 1));
                };
                // Two hex digits are at most 0xff, always a valid char.
                out.push(char::from_u32(hi * 16 + lo).unwrap_or('\u{fffd}'));
                i += 2;
            }
            _ => {
                out.push('\\');
                out.push(e);
            }
        }
        i += 2;
    }
}
