//! The console: a Python statement parser and an evaluator generic over the VM, plus the
//! byte-level console protocol (friendly prompt, raw REPL, raw paste) that MicroPython tools speak.
//!
//! The same code serves the host binary (stdin, a script or a pty) and the Pico (UART and USB).
//! Source is tokenized ([`lex`]), parsed into [`Stmt`]s ([`mod@parse`]), then executed ([`eval`]) by
//! calling back into a [`ReplHost`] (names, values, calls, truth, iteration,
//! exceptions, Ctrl-C), which owns every value: the console never looks inside one, so it stays
//! VM-agnostic and allocation-light. [`console`] turns a byte stream into those programs and frames
//! their output the way `mpremote` expects.
//!
//! The grammar covers what a user types at a prompt and what `mpremote` sends: imports,
//! assignments (also to subscripts, tuples and with `+=`), expression statements, `if`/`elif`/
//! `else`, `while`, `for`, `with`, `try`/`except`/`else`/`finally`, `break`, `continue`, `raise`,
//! `assert`; expressions are names, attributes, subscripts, calls with positional and keyword
//! arguments, literals (ints, floats, strings, bytes, `None`, `True`, `False`, tuples, lists, dicts),
//! `+ - *`, one comparison (`== != < <= > >= in not in is is not`), `not`, `and`, `or`. The full
//! grammar is in [`mod@parse`]. Bad input gives a [`SyntaxError`] naming the line and column; no
//! input panics. `def`, `class`, `lambda` and the like are refused with a clear message: code
//! that needs them belongs in a module (`.mpy`).
//!
//! ```
//! use minivm::repl::{parse, Stmt};
//! let stmts = parse("import tinysched.core as core; x = core.run(limit=3)").unwrap();
//! assert_eq!(stmts.len(), 2);
//! assert!(matches!(stmts[0], Stmt::Import { .. }));
//! let err = parse("x = (1, 2").unwrap_err();
//! assert_eq!(err.to_string(), "SyntaxError: expected ')', found end of line at column 10");
//! let prog = parse("for f in files:\n    if f:\n        print(f, end=',')").unwrap();
//! assert!(matches!(prog[0], Stmt::For { .. }));
//! ```

pub mod ast;
pub mod console;
pub mod eval;
pub mod lex;
pub mod parse;

#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use core::fmt;

pub use ast::{BinOp, BoolOp, Expr, Handler, Stmt, Target, TestOp, UnaryOp};
pub use eval::{Mode, eval_expr, exec_stmt};
pub use lex::needs_more;
pub use parse::{MAX_DEPTH, parse};

/// What the console needs from a VM. Every method may raise the VM's exception (`Self::Error`),
/// which the console passes straight back to the caller of [`run`] (or to an enclosing `try`).
///
/// Names are looked up and stored in the console's globals (`__main__`). The exceptions a method
/// raises are the ones `try` catches: the host tells their class ([`ReplHost::error_matches`])
/// and hands out the exception object ([`ReplHost::error_value`]). A wrong answer from the host
/// can only produce wrong output: the console has no memory of its own to corrupt.
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
    /// The slice `start:stop:step` of a subscript (each `None` when left out).
    fn slice(
        &mut self,
        start: Self::Value,
        stop: Self::Value,
        step: Self::Value,
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

    // ---- compound statements: truth, iteration, bytes, membership, stores into subscripts,
    // exceptions as values, Ctrl-C

    /// `bool(value)` as Python decides it (`__bool__`, `__len__`, …).
    fn truthy(&mut self, value: &Self::Value) -> Result<bool, Self::Error>;
    /// `iter(value)`.
    fn iter(&mut self, value: &Self::Value) -> Result<Self::Value, Self::Error>;
    /// The next item of iterator `it`, or `None` when it is exhausted.
    fn next(&mut self, it: &Self::Value) -> Result<Option<Self::Value>, Self::Error>;
    /// A bytes object.
    fn bytes(&mut self, value: &[u8]) -> Result<Self::Value, Self::Error>;
    /// `lhs in rhs`, `lhs is rhs` and their negations.
    fn test_op(
        &mut self,
        op: TestOp,
        lhs: &Self::Value,
        rhs: &Self::Value,
    ) -> Result<Self::Value, Self::Error>;
    /// `lhs op= rhs`: the in-place form of `Add`, `Sub` or `Mul` (a list grows in place).
    fn inplace_op(
        &mut self,
        op: BinOp,
        lhs: &Self::Value,
        rhs: &Self::Value,
    ) -> Result<Self::Value, Self::Error>;
    /// `obj[index] = value`.
    fn store_subscript(
        &mut self,
        obj: &Self::Value,
        index: &Self::Value,
        value: Self::Value,
    ) -> Result<(), Self::Error>;
    /// The exception `raise value` raises: `value` is an exception instance, or a class to
    /// instantiate without arguments (anything else raises `TypeError`).
    fn raise(&mut self, value: &Self::Value) -> Self::Error;
    /// A new exception of the builtin class `class` (e.g. `"ValueError"`) with message `msg`.
    fn error(&mut self, class: &str, msg: &str) -> Self::Error;
    /// Whether `err` is an instance of `class` (a class or a tuple of classes), as `except`
    /// decides; a `class` that is not a class raises `TypeError`.
    fn error_matches(
        &mut self,
        err: &Self::Error,
        class: &Self::Value,
    ) -> Result<bool, Self::Error>;
    /// The exception object of `err` (bound by `except … as name`, passed to `__exit__`).
    fn error_value(&mut self, err: &Self::Error) -> Self::Value;
    /// Called once per loop iteration: raise `KeyboardInterrupt` if the user typed Ctrl-C.
    fn poll(&mut self) -> Result<(), Self::Error>;
    /// A mark for [`ReplHost::drop_temporaries`] (a loop takes one before its first iteration).
    fn mark_temporaries(&mut self) -> usize;
    /// The values handed out since `mark` are no longer held by the console (it calls this at
    /// the end of each loop iteration): a host that keeps the console's values alive for the
    /// collector may let them go, so a long loop does not fill the heap with temporaries.
    fn drop_temporaries(&mut self, mark: usize);
}

/// Console input that could not be parsed: what went wrong and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What went wrong.
    pub kind: SyntaxErrorKind,
    /// 1-based line of the input.
    pub line: usize,
    /// 1-based character column; one past the last character for errors at the end of a line.
    pub column: usize,
}

impl SyntaxError {
    /// A syntax error of `kind` at 1-based `line` and `column`.
    pub fn new(kind: SyntaxErrorKind, line: usize, column: usize) -> Self {
        Self { kind, line, column }
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
    /// `\x`, `\u` or `\U` not followed by enough hex digits (or not a code point).
    BadEscape,
    /// A bytes literal with a non-ASCII character.
    NonAsciiBytes,
    /// A str literal next to a bytes literal (`'a' b'b'`).
    MixedLiterals,
    /// A malformed number such as `12ab` or `0x`.
    InvalidNumber,
    /// An integer literal beyond 64 bits.
    IntegerTooLarge,
    /// Indentation that does not fit the blocks (`unexpected indent`, …).
    Indentation(&'static str),
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
    /// Assignment to something other than a name, attribute, subscript or tuple of them.
    InvalidTarget,
    /// `break` or `continue` outside a loop.
    OutsideLoop(&'static str),
    /// A positional argument after a keyword argument.
    PositionalAfterKeyword,
    /// The same keyword argument twice.
    RepeatedKeyword(alloc::string::String),
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Valid Python the console does not support (`def`, `lambda`, relative imports, ...).
    Unsupported(&'static str),
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyntaxError: ")?;
        match &self.kind {
            SyntaxErrorKind::UnexpectedChar(c) => write!(f, "invalid character {c:?}")?,
            SyntaxErrorKind::UnterminatedString => f.write_str("unterminated string")?,
            SyntaxErrorKind::BadEscape => f.write_str("invalid \\x escape")?,
            SyntaxErrorKind::NonAsciiBytes => {
                f.write_str("bytes can only contain ASCII literal characters")?
            }
            SyntaxErrorKind::MixedLiterals => {
                f.write_str("cannot mix bytes and nonbytes literals")?
            }
            SyntaxErrorKind::InvalidNumber => f.write_str("invalid number")?,
            SyntaxErrorKind::IntegerTooLarge => f.write_str("integer literal too large")?,
            SyntaxErrorKind::Indentation(what) => f.write_str(what)?,
            SyntaxErrorKind::Unexpected { found, expected } => {
                write!(f, "expected {expected}, found {found}")?
            }
            SyntaxErrorKind::UnexpectedEnd { expected } => {
                write!(f, "expected {expected}, found end of line")?
            }
            SyntaxErrorKind::InvalidTarget => f.write_str(
                "can only assign to a name, an attribute, a subscript or a tuple of them",
            )?,
            SyntaxErrorKind::OutsideLoop(what) => f.write_str(what)?,
            SyntaxErrorKind::PositionalAfterKeyword => {
                f.write_str("positional argument follows keyword argument")?
            }
            SyntaxErrorKind::RepeatedKeyword(k) => write!(f, "keyword argument '{k}' repeated")?,
            SyntaxErrorKind::TooDeep => write!(f, "nesting deeper than {MAX_DEPTH}")?,
            SyntaxErrorKind::Unsupported(what) => {
                write!(f, "'{what}' is not supported at the console")?
            }
        }
        if self.line > 1 {
            write!(f, " at line {}, column {}", self.line, self.column)
        } else {
            write!(f, " at column {}", self.column)
        }
    }
}

impl core::error::Error for SyntaxError {}

/// Why [`run`] stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineError<E> {
    /// The input did not parse; nothing was executed.
    Syntax(SyntaxError),
    /// A statement raised; the statements before it took effect.
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

/// Parses `src` and executes its statements in order against `host`, printing the values of
/// expression statements if `mode` says so.
pub fn run<H: ReplHost + ?Sized>(
    host: &mut H,
    src: &str,
    mode: Mode,
) -> Result<(), LineError<H::Error>> {
    let stmts = parse(src).map_err(LineError::Syntax)?;
    eval::exec_program(host, &stmts, mode).map_err(LineError::Raised)
}

/// Runs what was typed at the friendly prompt (one line, or a compound statement and its block):
/// expression statements print their value.
pub fn run_line<H: ReplHost + ?Sized>(host: &mut H, line: &str) -> Result<(), LineError<H::Error>> {
    run(host, line, Mode::Interactive)
}
