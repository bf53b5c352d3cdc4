//! Lexer: console source (one line or a whole program) → tokens, each tagged with its 1-based
//! line and character column.
//!
//! Like Python's tokenizer it turns indentation into [`Tok::Indent`] / [`Tok::Dedent`] and ends
//! each logical line with [`Tok::Newline`]; newlines inside brackets and after a backslash join
//! lines, and blank or comment-only lines produce nothing. Only the tokens the console grammar
//! needs exist; anything else (a `$`, an unterminated string, a non-ASCII identifier) is
//! a [`SyntaxError`] naming the place, never a panic.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use super::{SyntaxError, SyntaxErrorKind};

/// A lexical token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// An identifier (ASCII letters, digits, `_`), not a keyword.
    Name(String),
    /// A keyword of Python (reserved; some are rejected by the parser).
    Keyword(&'static str),
    /// A non-negative integer literal.
    Int(i64),
    /// A non-negative float literal, as its IEEE bits (so tokens stay `Eq`).
    Float(u64),
    /// A string literal with its escapes already decoded.
    Str(String),
    /// A bytes literal with its escapes already decoded.
    Bytes(Vec<u8>),
    /// An operator or delimiter.
    Punct(&'static str),
    /// The end of a logical line.
    Newline,
    /// The next line is indented deeper than the current block.
    Indent,
    /// The next line closes one level of indentation.
    Dedent,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Name(n) => write!(f, "name '{n}'"),
            Tok::Keyword(k) => write!(f, "keyword '{k}'"),
            Tok::Int(i) => write!(f, "integer {i}"),
            Tok::Float(_) => f.write_str("float"),
            Tok::Str(_) => f.write_str("string"),
            Tok::Bytes(_) => f.write_str("bytes"),
            Tok::Punct(p) => write!(f, "'{p}'"),
            Tok::Newline => f.write_str("end of line"),
            Tok::Indent => f.write_str("indent"),
            Tok::Dedent => f.write_str("dedent"),
        }
    }
}

/// A token and where its first character is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// 1-based line.
    pub line: usize,
    /// 1-based character column.
    pub col: usize,
}

/// Python's reserved words; the parser accepts most and reports the rest as unsupported.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Keywords that open a compound statement (the friendly prompt keeps reading after them).
const COMPOUND: &[&str] = &["if", "for", "while", "with", "try", "def", "class", "async"];

/// Operators and delimiters, longest first so `==` wins over `=`.
const PUNCTS: &[&str] = &[
    "==", "!=", "<=", ">=", "+=", "-=", "*=", "(", ")", "[", "]", "{", "}", ",", ":", ".", "=",
    "+", "-", "*", "<", ">", ";",
];

/// Cursor over the source's characters, tracking line and column.
struct Cursor {
    chars: Vec<char>,
    i: usize,
    line: usize,
    /// Index of the first character of the current line.
    line_start: usize,
}

impl Cursor {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    fn col(&self) -> usize {
        self.i - self.line_start + 1
    }

    fn err(&self, kind: SyntaxErrorKind) -> SyntaxError {
        SyntaxError::new(kind, self.line, self.col())
    }

    /// Steps over a line end at the cursor (`\n`, `\r\n` or `\r`), if there is one.
    fn eat_newline(&mut self) -> bool {
        match self.peek(0) {
            Some('\r') => {
                self.i += if self.peek(1) == Some('\n') { 2 } else { 1 };
            }
            Some('\n') => self.i += 1,
            _ => return false,
        }
        self.line += 1;
        self.line_start = self.i;
        true
    }
}

/// Splits `src` into tokens. A `#` starts a comment that runs to the end of the line.
pub fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut c = Cursor {
        chars: src.chars().collect(),
        i: 0,
        line: 1,
        line_start: 0,
    };
    let mut out: Vec<Token> = Vec::new();
    let mut indents = vec![0usize];
    let mut depth = 0usize;
    let mut at_line_start = true;
    let mut line_has_tokens = false;
    loop {
        if at_line_start && depth == 0 {
            let mut width = 0;
            while let Some(ch) = c.peek(0) {
                match ch {
                    ' ' => width += 1,
                    '\t' => width = (width / 8 + 1) * 8,
                    '\x0c' => width = 0,
                    _ => break,
                }
                c.i += 1;
            }
            match c.peek(0) {
                None => break,
                Some('\n' | '\r') => {
                    c.eat_newline();
                    continue;
                }
                Some('#') => {
                    while c.peek(0).is_some_and(|ch| ch != '\n' && ch != '\r') {
                        c.i += 1;
                    }
                    continue;
                }
                _ => {}
            }
            at_line_start = false;
            let top = indents.last().copied().unwrap_or(0);
            if width > top {
                indents.push(width);
                out.push(Token {
                    tok: Tok::Indent,
                    line: c.line,
                    col: c.col(),
                });
            } else {
                while width < indents.last().copied().unwrap_or(0) {
                    indents.pop();
                    out.push(Token {
                        tok: Tok::Dedent,
                        line: c.line,
                        col: c.col(),
                    });
                }
                if width != indents.last().copied().unwrap_or(0) {
                    return Err(c.err(SyntaxErrorKind::Indentation(
                        "unindent does not match any outer indentation level",
                    )));
                }
            }
        }
        let Some(ch) = c.peek(0) else { break };
        let (line, col) = (c.line, c.col());
        let push = |out: &mut Vec<Token>, tok| out.push(Token { tok, line, col });
        match ch {
            '\n' | '\r' => {
                if depth == 0 {
                    if line_has_tokens {
                        push(&mut out, Tok::Newline);
                    }
                    line_has_tokens = false;
                    at_line_start = true;
                }
                c.eat_newline();
                continue;
            }
            ' ' | '\t' | '\x0c' => {
                c.i += 1;
                continue;
            }
            '#' => {
                while c.peek(0).is_some_and(|ch| ch != '\n' && ch != '\r') {
                    c.i += 1;
                }
                continue;
            }
            '\\' => {
                c.i += 1;
                if !c.eat_newline() {
                    return Err(SyntaxError::new(
                        SyntaxErrorKind::UnexpectedChar('\\'),
                        line,
                        col,
                    ));
                }
                continue;
            }
            _ => {}
        }
        line_has_tokens = true;
        if ch.is_ascii_alphabetic() || ch == '_' {
            let start = c.i;
            while c
                .peek(0)
                .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                c.i += 1;
            }
            let word: String = c.chars[start..c.i].iter().collect();
            if matches!(c.peek(0), Some('\'' | '"'))
                && let Some(prefix) = StrPrefix::parse(&word)
            {
                let tok = lex_string(&mut c, prefix, line, col)?;
                push(&mut out, tok);
                continue;
            }
            let tok = match KEYWORDS.iter().find(|k| **k == word) {
                Some(k) => Tok::Keyword(k),
                None => Tok::Name(word),
            };
            push(&mut out, tok);
        } else if ch.is_ascii_digit()
            || (ch == '.' && c.peek(1).is_some_and(|d| d.is_ascii_digit()) && !after_operand(&out))
        {
            let tok = match lex_float(&mut c)? {
                Some(bits) => Tok::Float(bits),
                None => Tok::Int(lex_int(&mut c)?),
            };
            push(&mut out, tok);
        } else if ch == '\'' || ch == '"' {
            let tok = lex_string(&mut c, StrPrefix::default(), line, col)?;
            push(&mut out, tok);
        } else {
            let p = PUNCTS
                .iter()
                .find(|p| p.chars().enumerate().all(|(k, pc)| c.peek(k) == Some(pc)));
            let Some(p) = p else {
                return Err(c.err(SyntaxErrorKind::UnexpectedChar(ch)));
            };
            c.i += p.len();
            match *p {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                _ => {}
            }
            push(&mut out, Tok::Punct(p));
        }
    }
    let (line, col) = (c.line, c.col());
    if line_has_tokens {
        out.push(Token {
            tok: Tok::Newline,
            line,
            col,
        });
    }
    for _ in 1..indents.len() {
        out.push(Token {
            tok: Tok::Dedent,
            line,
            col,
        });
    }
    Ok(out)
}

/// Whether the friendly prompt should read another line before running `src`: a bracket or a
/// triple-quoted string is still open, the last line ends with a backslash, or the input started
/// a compound statement (`if`, `for`, …) and the last line entered is not blank.
pub fn needs_more(src: &str) -> bool {
    let mut depth = 0usize;
    let mut chars = src.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '\'' | '"' => {
                let triple = chars.next_if_eq(&ch).is_some();
                if triple && chars.next_if_eq(&ch).is_none() {
                    continue; // an empty string `''`
                }
                let mut run = 0;
                let mut closed = false;
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        chars.next();
                        run = 0;
                    } else if c == ch {
                        run += 1;
                        if !triple || run == 3 {
                            closed = true;
                            break;
                        }
                    } else if c == '\n' && !triple {
                        closed = true; // an unterminated one-line string: let the lexer say so
                        break;
                    } else {
                        run = 0;
                    }
                }
                if !closed {
                    return triple;
                }
            }
            _ => {}
        }
    }
    if depth > 0 || src.trim_end_matches([' ', '\t']).ends_with('\\') {
        return true;
    }
    let first = src.trim_start();
    let word: String = first
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let compound = COMPOUND.contains(&word.as_str()) || first.starts_with('@');
    let last_blank = src.rsplit('\n').next().is_some_and(|l| l.trim().is_empty());
    compound && !last_blank
}

/// `r`, `b`, `rb`/`br` (any case) before a quote.
#[derive(Clone, Copy, Default)]
struct StrPrefix {
    raw: bool,
    bytes: bool,
}

impl StrPrefix {
    fn parse(word: &str) -> Option<StrPrefix> {
        let lower: String = word.chars().map(|c| c.to_ascii_lowercase()).collect();
        match lower.as_str() {
            "r" => Some(StrPrefix {
                raw: true,
                bytes: false,
            }),
            "b" => Some(StrPrefix {
                raw: false,
                bytes: true,
            }),
            "rb" | "br" => Some(StrPrefix {
                raw: true,
                bytes: true,
            }),
            "u" => Some(StrPrefix::default()),
            _ => None,
        }
    }
}

/// Does the last token end an operand (so a `.` after it is an attribute, not a float's `.5`)?
fn after_operand(out: &[Token]) -> bool {
    match out.last().map(|t| &t.tok) {
        Some(Tok::Name(_) | Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Bytes(_)) => true,
        Some(Tok::Punct(p)) => matches!(*p, ")" | "]" | "}"),
        _ => false,
    }
}

/// Lexes a float literal at the cursor (`1.5`, `1.`, `.5`, `1e-3`, `2.5E+4`, with `_` between
/// digits) and answers its IEEE bits, or `None` (the cursor unmoved) when the number there is
/// an integer. The value is read as MicroPython's lexer reads it (`formatfloat::parse_float`).
fn lex_float(c: &mut Cursor) -> Result<Option<u64>, SyntaxError> {
    let start = c.i;
    let bad = c.err(SyntaxErrorKind::InvalidNumber);
    if c.peek(0) == Some('0')
        && c.peek(1)
            .is_some_and(|ch| ch.is_ascii_alphabetic() && !matches!(ch, 'e' | 'E'))
    {
        return Ok(None); // 0x.., 0o.., 0b..
    }
    let digits = |c: &mut Cursor| {
        while c.peek(0).is_some_and(|ch| ch.is_ascii_digit() || ch == '_') {
            c.i += 1;
        }
    };
    digits(c);
    let mut float = false;
    if c.peek(0) == Some('.') {
        float = true;
        c.i += 1;
        digits(c);
    }
    if matches!(c.peek(0), Some('e' | 'E')) {
        float = true;
        c.i += 1;
        if matches!(c.peek(0), Some('+' | '-')) {
            c.i += 1;
        }
        let d = c.i;
        digits(c);
        if c.i == d {
            return Err(bad);
        }
    }
    if !float {
        c.i = start;
        return Ok(None);
    }
    let glued = c
        .peek(0)
        .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    let text: String = c.chars[start..c.i].iter().collect();
    match crate::formatfloat::parse_float(text.as_bytes()) {
        Some(v) if !glued => Ok(Some(v.to_bits())),
        _ => Err(bad),
    }
}

/// Lexes a decimal, `0x`, `0o` or `0b` integer at the cursor.
fn lex_int(c: &mut Cursor) -> Result<i64, SyntaxError> {
    let (line, col) = (c.line, c.col());
    let bad = |kind| SyntaxError::new(kind, line, col);
    let radix = match (c.peek(0), c.peek(1)) {
        (Some('0'), Some('x' | 'X')) => 16,
        (Some('0'), Some('o' | 'O')) => 8,
        (Some('0'), Some('b' | 'B')) => 2,
        _ => 10,
    };
    if radix != 10 {
        c.i += 2;
    }
    let digits_start = c.i;
    let mut value: i64 = 0;
    while let Some(ch) = c.peek(0) {
        if ch == '_' {
            c.i += 1;
            continue;
        }
        let Some(d) = ch.to_digit(radix) else { break };
        value = value
            .checked_mul(i64::from(radix))
            .and_then(|v| v.checked_add(i64::from(d)))
            .ok_or(bad(SyntaxErrorKind::IntegerTooLarge))?;
        c.i += 1;
    }
    // A letter or digit glued to the number (`12ab`, `0x`, `0b2`) is malformed, as in Python.
    let glued = c
        .peek(0)
        .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    if c.i == digits_start || glued {
        return Err(bad(SyntaxErrorKind::InvalidNumber));
    }
    Ok(value)
}

/// Text or bytes being decoded from a literal.
enum Lit {
    Text(String),
    Bytes(Vec<u8>),
}

impl Lit {
    fn push_char(&mut self, ch: char) {
        match self {
            Lit::Text(s) => s.push(ch),
            // Only ASCII reaches here for bytes (checked by the caller).
            Lit::Bytes(b) => b.push(ch as u8),
        }
    }

    /// A `\x`/octal escape's value: a byte in bytes, the code point in text.
    fn push_code(&mut self, v: u32) {
        match self {
            Lit::Text(s) => s.push(char::from_u32(v).unwrap_or('\u{fffd}')),
            Lit::Bytes(b) => b.push(v as u8),
        }
    }
}

/// Lexes a string or bytes literal whose opening quote is at the cursor (after any prefix);
/// `line`/`col` is where the literal (with its prefix) starts.
fn lex_string(
    c: &mut Cursor,
    prefix: StrPrefix,
    line: usize,
    col: usize,
) -> Result<Tok, SyntaxError> {
    let unterminated = SyntaxError::new(SyntaxErrorKind::UnterminatedString, line, col);
    let Some(quote) = c.peek(0) else {
        return Err(unterminated);
    };
    let triple = c.peek(1) == Some(quote) && c.peek(2) == Some(quote);
    c.i += if triple { 3 } else { 1 };
    let mut lit = if prefix.bytes {
        Lit::Bytes(Vec::new())
    } else {
        Lit::Text(String::new())
    };
    loop {
        let Some(ch) = c.peek(0) else {
            return Err(unterminated);
        };
        if ch == quote {
            if !triple {
                c.i += 1;
                break;
            }
            if c.peek(1) == Some(quote) && c.peek(2) == Some(quote) {
                c.i += 3;
                break;
            }
        }
        if ch == '\n' || ch == '\r' {
            if !triple {
                return Err(unterminated);
            }
            c.eat_newline();
            lit.push_char('\n');
            continue;
        }
        if prefix.bytes && !ch.is_ascii() {
            return Err(c.err(SyntaxErrorKind::NonAsciiBytes));
        }
        if ch != '\\' {
            lit.push_char(ch);
            c.i += 1;
            continue;
        }
        let Some(e) = c.peek(1) else {
            return Err(unterminated);
        };
        if prefix.raw {
            // A raw literal keeps the backslash; it only stops the next quote ending the literal.
            lit.push_char('\\');
            c.i += 1;
            if e == quote || e == '\\' {
                lit.push_char(e);
                c.i += 1;
            }
            continue;
        }
        let esc_at = c.err(SyntaxErrorKind::BadEscape);
        c.i += 2;
        match e {
            '\n' | '\r' => {
                // Backslash-newline continues the literal on the next line.
                c.i -= 1;
                c.eat_newline();
            }
            '\\' | '\'' | '"' => lit.push_char(e),
            'n' => lit.push_char('\n'),
            'r' => lit.push_char('\r'),
            't' => lit.push_char('\t'),
            'a' => lit.push_char('\x07'),
            'b' => lit.push_char('\x08'),
            'f' => lit.push_char('\x0c'),
            'v' => lit.push_char('\x0b'),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match c.peek(0).and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            c.i += 1;
                        }
                        None => break,
                    }
                }
                lit.push_code(v & 0xff);
            }
            'x' => lit.push_code(hex_digits(c, 2).ok_or(esc_at)?),
            'u' | 'U' if !prefix.bytes => {
                let n = if e == 'u' { 4 } else { 8 };
                let v = hex_digits(c, n).ok_or(esc_at.clone())?;
                let ch = char::from_u32(v).ok_or(esc_at)?;
                lit.push_char(ch);
            }
            other => {
                // Unknown escapes keep their backslash, as in Python.
                lit.push_char('\\');
                if prefix.bytes && !other.is_ascii() {
                    return Err(c.err(SyntaxErrorKind::NonAsciiBytes));
                }
                lit.push_char(other);
            }
        }
    }
    Ok(match lit {
        Lit::Text(s) => Tok::Str(s),
        Lit::Bytes(b) => Tok::Bytes(b),
    })
}

/// Reads exactly `n` hex digits at the cursor as a number.
fn hex_digits(c: &mut Cursor, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for k in 0..n {
        v = v * 16 + c.peek(k)?.to_digit(16)?;
    }
    c.i += n;
    Some(v)
}
