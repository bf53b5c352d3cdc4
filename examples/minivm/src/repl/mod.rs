//! The console: a one-line Python statement parser and an evaluator generic over the VM.
//!
//! The same code serves the host binary (stdin or a script) and the Pico (UART). A line is
//! tokenized ([`lex`]), parsed into [`Stmt`]s ([`parse`]), then executed ([`eval`]) by calling back
//! into a [`ReplHost`], which owns every value: the console never looks inside one, so it stays
//! VM-agnostic and allocation-light.
//!
//! The grammar is the seed's: `import a.b [as c]`, `from a import b [as c], d`, `from a import *`,
//! `name = expr`, `obj.attr = expr`, and expression statements; expressions are names, attributes,
//! subscripts, calls with positional and keyword arguments, literals (ints, floats, strings, `None`,
//! `True`, `False`, tuples, lists, dicts), `+ - *`, one comparison, and `not`. The full grammar is
//! in [`parse`]. Bad input gives a [`SyntaxError`] naming the column; no input panics.
//!
//! ```
//! use minivm::repl::{parse_line, Stmt};
//! let stmts = parse_line("import tinysched.core as core; x = core.run(limit=3)").unwrap();
//! assert_eq!(stmts.len(), 2);
//! assert!(matches!(stmts[0], Stmt::Import { .. }));
//! let err = parse_line("x = (1, 2").unwrap_err();
//! assert_eq!(err.to_string(), "SyntaxError: expected ')', found end of line at column 10");
//! ```

pub mod ast;
pub mod eval;
pub mod lex;
pub mod parse;

#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use core::fmt;

pub use ast::{BinOp, Expr, Stmt, Target, UnaryOp};
pub use eval::{eval_expr, exec_stmt};
pub use parse::{MAX_DEPTH, parse_line};

/// What the console needs from a VM. Every method may raise the VM's exception (`Self::Error`),
/// which the console passes straight back to the caller of [`run_line`].
///
/// Names are looked up and stored in the console's globals (`__main__`). A wrong answer from the
/// host can only produce wrong output: the console has no memory of its own to corrupt.
pub trait ReplHost {
    /// A VM value (typically a copyable 32-bit object reference).
    type Value: Clone;
    /// A raised exception.
    type Error;

    /// Imports the module with the dotted `name` (parents first) and returns the leaf module.
    fn import(&mut self, name: &str) -> Result<Self::Value, Self::Error>;
    /// Binds the public names of `module` in the globals (`from m import *`).
    fn import_star(&mut self, module: &Self::Value) -> Result<(), Self::Error>;
    /// Looks `name` up in the globals, then the builtins (`NameError` if absent).
    fn load_name(&mut self, name: &str) -> Result<Self::Value, Self::Error>;
    /// Binds `name` in the globals.
    fn store_name(&mut self, name: &str, value: Self::Value) -> Result<(), Self::Error>;
    /// `obj.name`
    fn getattr(&mut self, obj: &Self::Value, name: &str) -> Result<Self::Value, Self::Error>;
    /// `obj.name = value` (frozen objects refuse it with an exception).
    fn setattr(
        &mut self,
        obj: &Self::Value,
        name: &str,
        value: Self::Value,
    ) -> Result<(), Self::Error>;
    /// `obj[index]`
    fn subscript(
        &mut self,
        obj: &Self::Value,
        index: &Self::Value,
    ) -> Result<Self::Value, Self::Error>;
    /// `callee(*args, **kwargs)`; keyword arguments in source order, names unique.
    fn call(
        &mut self,
        callee: &Self::Value,
        args: &[Self::Value],
        kwargs: &[(&str, Self::Value)],
    ) -> Result<Self::Value, Self::Error>;
    /// `lhs op rhs`
    fn binary_op(
        &mut self,
        op: BinOp,
        lhs: &Self::Value,
        rhs: &Self::Value,
    ) -> Result<Self::Value, Self::Error>;
    /// `op operand`
    fn unary_op(&mut self, op: UnaryOp, operand: &Self::Value) -> Result<Self::Value, Self::Error>;

    /// An int; a VM with bounded ints raises `OverflowError` for values it cannot hold.
    fn int(&mut self, value: i64) -> Result<Self::Value, Self::Error>;
    /// A float.
    fn float(&mut self, value: f64) -> Result<Self::Value, Self::Error>;
    /// A str (interned or not, the host decides).
    fn str(&mut self, value: &str) -> Result<Self::Value, Self::Error>;
    /// `None`
    fn none(&mut self) -> Self::Value;
    /// `True` / `False`
    fn bool(&mut self, value: bool) -> Self::Value;
    /// A tuple of `items`.
    fn tuple(&mut self, items: Vec<Self::Value>) -> Result<Self::Value, Self::Error>;
    /// A list of `items`.
    fn list(&mut self, items: Vec<Self::Value>) -> Result<Self::Value, Self::Error>;
    /// A dict of `pairs`, later keys overwriting earlier ones.
    fn dict(&mut self, pairs: Vec<(Self::Value, Self::Value)>) -> Result<Self::Value, Self::Error>;

    /// Whether `value` is `None` (the console prints no result for it).
    fn is_none(&self, value: &Self::Value) -> bool;
    /// Prints `repr(value)` and a newline, as the REPL does for an expression statement.
    fn print_repr(&mut self, value: &Self::Value) -> Result<(), Self::Error>;
}

/// A line the console could not parse: what went wrong and the 1-based column where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What went wrong.
    pub kind: SyntaxErrorKind,
    /// 1-based character column; one past the last character for errors at the end of the line.
    pub column: usize,
}

impl SyntaxError {
    /// A syntax error of `kind` at 1-based `column`.
    pub fn new(kind: SyntaxErrorKind, column: usize) -> Self {
        Self { kind, column }
    }
}

/// The kinds of [`SyntaxError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// A character no token starts with.
    UnexpectedChar(char),
    /// A string literal without its closing quote.
    UnterminatedString,
    /// `\x` not followed by two hex digits.
    BadEscape,
    /// A malformed number such as `12ab` or `0x`.
    InvalidNumber,
    /// An integer literal beyond 64 bits.
    IntegerTooLarge,
    /// A token where something else was expected.
    Unexpected {
        /// The token found.
        found: lex::Tok,
        /// What the grammar wanted.
        expected: &'static str,
    },
    /// The line ended where something was expected.
    UnexpectedEnd {
        /// What the grammar wanted.
        expected: &'static str,
    },
    /// Assignment to something other than a name or attribute.
    InvalidTarget,
    /// A positional argument after a keyword argument.
    PositionalAfterKeyword,
    /// The same keyword argument twice.
    RepeatedKeyword(alloc::string::String),
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Valid Python the console does not support (`def`, `while`, relative imports, ...).
    Unsupported(&'static str),
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyntaxError: ")?;
        match &self.kind {
            SyntaxErrorKind::UnexpectedChar(c) => write!(f, "invalid character {c:?}")?,
            SyntaxErrorKind::UnterminatedString => f.write_str("unterminated string")?,
            SyntaxErrorKind::BadEscape => f.write_str("invalid \\x escape")?,
            SyntaxErrorKind::InvalidNumber => f.write_str("invalid number")?,
            SyntaxErrorKind::IntegerTooLarge => f.write_str("integer literal too large")?,
            SyntaxErrorKind::Unexpected { found, expected } => {
                write!(f, "expected {expected}, found {found}")?
            }
            SyntaxErrorKind::UnexpectedEnd { expected } => {
                write!(f, "expected {expected}, found end of line")?
            }
            SyntaxErrorKind::InvalidTarget => {
                f.write_str("can only assign to a name or an attribute")?
            }
            SyntaxErrorKind::PositionalAfterKeyword => {
                f.write_str("positional argument follows keyword argument")?
            }
            SyntaxErrorKind::RepeatedKeyword(k) => write!(f, "keyword argument '{k}' repeated")?,
            SyntaxErrorKind::TooDeep => write!(f, "nesting deeper than {MAX_DEPTH}")?,
            SyntaxErrorKind::Unsupported(what) => {
                write!(f, "'{what}' is not supported at the console")?
            }
        }
        write!(f, " at column {}", self.column)
    }
}

impl core::error::Error for SyntaxError {}

/// Why [`run_line`] stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineError<E> {
    /// The line did not parse; nothing was executed.
    Syntax(SyntaxError),
    /// A statement raised; the statements before it on the line took effect.
    Raised(E),
}

impl<E: fmt::Display> fmt::Display for LineError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Syntax(e) => write!(f, "{e}"),
            LineError::Raised(e) => write!(f, "{e}"),
        }
    }
}

/// Parses `line` and executes its statements in order against `host`.
pub fn run_line<H: ReplHost + ?Sized>(host: &mut H, line: &str) -> Result<(), LineError<H::Error>> {
    let stmts = parse_line(line).map_err(LineError::Syntax)?;
    for s in &stmts {
        exec_stmt(host, s).map_err(LineError::Raised)?;
    }
    Ok(())
}
