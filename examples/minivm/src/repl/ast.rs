//! The console's syntax tree, and its rendering back to Python source.
//!
//! `Display` prints valid console syntax (fully parenthesised where precedence matters, blocks
//! indented by four spaces), so `parse(tree.to_string()) == tree` holds; the property tests rely
//! on it.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// One console statement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stmt {
    /// `import a.b [as c]`: binds `a` (or `c` to the module `a.b`).
    Import {
        /// Dotted module name, e.g. `["a", "b"]`.
        module: Vec<String>,
        /// The `as` name.
        alias: Option<String>,
    },
    /// `from a.b import x [as y], z`.
    FromImport {
        /// Dotted module name.
        module: Vec<String>,
        /// Imported names with their optional `as` names.
        names: Vec<(String, Option<String>)>,
    },
    /// `from a.b import *`.
    FromImportStar {
        /// Dotted module name.
        module: Vec<String>,
    },
    /// `t1 = t2 = value`: evaluates `value` once, stores it into each target left to right.
    Assign {
        /// Assignment targets.
        targets: Vec<Target>,
        /// The assigned expression.
        value: Expr,
    },
    /// `target op= value` (`+=`, `-=`, `*=`): the in-place operator, then a store.
    AugAssign {
        /// Where the result goes (a name, attribute or subscript).
        target: Target,
        /// `Add`, `Sub` or `Mul`.
        op: BinOp,
        /// The right-hand side.
        value: Expr,
    },
    /// An expression; at the friendly prompt its value is printed unless it is `None`.
    Expr(Expr),
    /// `pass`.
    Pass,
    /// `break` (only inside a loop).
    Break,
    /// `continue` (only inside a loop).
    Continue,
    /// `raise [exc]`: a bare `raise` re-raises the exception being handled.
    Raise(Option<Expr>),
    /// `assert test[, msg]`.
    Assert {
        /// The condition.
        test: Expr,
        /// The `AssertionError` argument.
        msg: Option<Expr>,
    },
    /// `if a: … elif b: … else: …`.
    If {
        /// `(condition, body)` for the `if` and each `elif`, in order.
        branches: Vec<(Expr, Vec<Stmt>)>,
        /// The `else` body (empty if none).
        orelse: Vec<Stmt>,
    },
    /// `while test: … [else: …]`.
    While {
        /// The condition, evaluated before each iteration.
        test: Expr,
        /// The loop body.
        body: Vec<Stmt>,
        /// Runs when the loop ends without `break`.
        orelse: Vec<Stmt>,
    },
    /// `for target in iter: … [else: …]`.
    For {
        /// Where each item is stored.
        target: Target,
        /// The iterable.
        iter: Expr,
        /// The loop body.
        body: Vec<Stmt>,
        /// Runs when the loop ends without `break`.
        orelse: Vec<Stmt>,
    },
    /// `with a [as x], b [as y]: …`: `__enter__` in order, `__exit__` in reverse.
    With {
        /// Context managers and where their `__enter__` results go.
        items: Vec<(Expr, Option<Target>)>,
        /// The block.
        body: Vec<Stmt>,
    },
    /// `try: … except …: … else: … finally: …`.
    Try {
        /// The guarded block.
        body: Vec<Stmt>,
        /// The `except` clauses, tried in order.
        handlers: Vec<Handler>,
        /// Runs when the body raised nothing.
        orelse: Vec<Stmt>,
        /// Runs last, whatever happened.
        finalbody: Vec<Stmt>,
    },
}

/// One `except [class [as name]]:` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// The class (or tuple of classes) it catches; `None` catches everything.
    pub class: Option<Expr>,
    /// The name the exception is bound to.
    pub name: Option<String>,
    /// The clause's body.
    pub body: Vec<Stmt>,
}

/// Where an assignment (or a `for`/`with`) stores.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A global name.
    Name(String),
    /// `obj.attr`.
    Attr(Expr, String),
    /// `obj[index]`.
    Subscript(Expr, Expr),
    /// `a, b` or `(a, b)`: unpacks an iterable of exactly that many items.
    Tuple(Vec<Target>),
}

/// A binary operator the [`ReplHost`](super::ReplHost) evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl BinOp {
    /// The operator as written in Python.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
        }
    }

    /// Whether this is a comparison (they do not chain in the console grammar).
    pub fn is_comparison(self) -> bool {
        !matches!(self, BinOp::Add | BinOp::Sub | BinOp::Mul)
    }
}

/// Membership and identity tests, which the [`ReplHost`](super::ReplHost) evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TestOp {
    /// `a in b`
    In,
    /// `a not in b`
    NotIn,
    /// `a is b`
    Is,
    /// `a is not b`
    IsNot,
}

impl TestOp {
    /// The operator as written in Python.
    pub fn symbol(self) -> &'static str {
        match self {
            TestOp::In => "in",
            TestOp::NotIn => "not in",
            TestOp::Is => "is",
            TestOp::IsNot => "is not",
        }
    }
}

/// `and` / `or`, which short-circuit in the evaluator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolOp {
    /// `a and b`: `a` if it is false, else `b`.
    And,
    /// `a or b`: `a` if it is true, else `b`.
    Or,
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnaryOp {
    /// `-x` on a non-literal (negative literals fold into [`Expr::Int`]).
    Neg,
    /// `not x`
    Not,
}

/// An expression.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expr {
    /// A name looked up in the console's globals, then builtins.
    Name(String),
    /// An integer literal (negative ones included).
    Int(i64),
    /// A float literal, as its IEEE bits (so the tree stays `Eq`).
    Float(u64),
    /// A string literal.
    Str(String),
    /// A bytes literal (`b'...'`).
    Bytes(Vec<u8>),
    /// `None`
    None,
    /// `True` / `False`
    Bool(bool),
    /// `(a, b)`
    Tuple(Vec<Expr>),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{k: v}`
    Dict(Vec<(Expr, Expr)>),
    /// `obj.name`
    Attr(Box<Expr>, String),
    /// `obj[index]`
    Subscript(Box<Expr>, Box<Expr>),
    /// `func(args, name=value)`
    Call {
        /// The callee.
        func: Box<Expr>,
        /// Positional arguments.
        args: Vec<Expr>,
        /// Keyword arguments in source order.
        kwargs: Vec<(String, Expr)>,
    },
    /// `lhs op rhs`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `lhs in rhs`, `lhs is not rhs`, …
    Test(TestOp, Box<Expr>, Box<Expr>),
    /// `lhs and rhs`, `lhs or rhs`
    Logic(BoolOp, Box<Expr>, Box<Expr>),
    /// `op operand`
    Unary(UnaryOp, Box<Expr>),
    /// `start:stop:step` in a subscript, each part optional (mpremote's `fs_hashfile` sends
    /// `buf[:n]`)
    Slice(Option<Box<Expr>>, Option<Box<Expr>>, Option<Box<Expr>>),
    /// `then if cond else orelse` (mpremote's `fs_hashfile` sends one)
    IfElse {
        /// The condition.
        cond: Box<Expr>,
        /// Its value when the condition is true.
        then: Box<Expr>,
        /// Its value otherwise.
        orelse: Box<Expr>,
    },
}

fn write_dotted(f: &mut fmt::Formatter<'_>, parts: &[String]) -> fmt::Result {
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            f.write_str(".")?;
        }
        f.write_str(p)?;
    }
    Ok(())
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Name(n) => f.write_str(n),
            Target::Attr(obj, n) if matches!(obj, Expr::Int(_)) => write!(f, "{obj} .{n}"),
            Target::Attr(obj, n) => write!(f, "{obj}.{n}"),
            Target::Subscript(obj, i) => write!(f, "{obj}[{i}]"),
            Target::Tuple(ts) => {
                f.write_str("(")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                if ts.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Writes `level` levels of four-space indentation.
fn indent(f: &mut fmt::Formatter<'_>, level: usize) -> fmt::Result {
    for _ in 0..level {
        f.write_str("    ")?;
    }
    Ok(())
}

/// Writes a block: a newline, then each statement on its own line one level deeper.
fn write_block(f: &mut fmt::Formatter<'_>, body: &[Stmt], level: usize) -> fmt::Result {
    for s in body {
        f.write_str("\n")?;
        write_stmt(f, s, level + 1)?;
    }
    Ok(())
}

/// Writes `stmt` at indentation `level` (its first line already indented by the caller when
/// `level` is 0, otherwise indented here).
fn write_stmt(f: &mut fmt::Formatter<'_>, stmt: &Stmt, level: usize) -> fmt::Result {
    indent(f, level)?;
    match stmt {
        Stmt::Import { module, alias } => {
            f.write_str("import ")?;
            write_dotted(f, module)?;
            if let Some(a) = alias {
                write!(f, " as {a}")?;
            }
            Ok(())
        }
        Stmt::FromImport { module, names } => {
            f.write_str("from ")?;
            write_dotted(f, module)?;
            f.write_str(" import ")?;
            for (i, (n, a)) in names.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(n)?;
                if let Some(a) = a {
                    write!(f, " as {a}")?;
                }
            }
            Ok(())
        }
        Stmt::FromImportStar { module } => {
            f.write_str("from ")?;
            write_dotted(f, module)?;
            f.write_str(" import *")
        }
        Stmt::Assign { targets, value } => {
            for t in targets {
                write!(f, "{t} = ")?;
            }
            write!(f, "{value}")
        }
        Stmt::AugAssign { target, op, value } => write!(f, "{target} {}= {value}", op.symbol()),
        Stmt::Expr(e) => write!(f, "{e}"),
        Stmt::Pass => f.write_str("pass"),
        Stmt::Break => f.write_str("break"),
        Stmt::Continue => f.write_str("continue"),
        Stmt::Raise(None) => f.write_str("raise"),
        Stmt::Raise(Some(e)) => write!(f, "raise {e}"),
        Stmt::Assert { test, msg } => {
            write!(f, "assert {test}")?;
            if let Some(m) = msg {
                write!(f, ", {m}")?;
            }
            Ok(())
        }
        Stmt::If { branches, orelse } => {
            for (i, (test, body)) in branches.iter().enumerate() {
                if i > 0 {
                    f.write_str("\n")?;
                    indent(f, level)?;
                    f.write_str("el")?;
                }
                write!(f, "if {test}:")?;
                write_block(f, body, level)?;
            }
            write_else(f, orelse, level)
        }
        Stmt::While { test, body, orelse } => {
            write!(f, "while {test}:")?;
            write_block(f, body, level)?;
            write_else(f, orelse, level)
        }
        Stmt::For {
            target,
            iter,
            body,
            orelse,
        } => {
            write!(f, "for {target} in {iter}:")?;
            write_block(f, body, level)?;
            write_else(f, orelse, level)
        }
        Stmt::With { items, body } => {
            f.write_str("with ")?;
            for (i, (e, t)) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{e}")?;
                if let Some(t) = t {
                    write!(f, " as {t}")?;
                }
            }
            f.write_str(":")?;
            write_block(f, body, level)
        }
        Stmt::Try {
            body,
            handlers,
            orelse,
            finalbody,
        } => {
            f.write_str("try:")?;
            write_block(f, body, level)?;
            for h in handlers {
                f.write_str("\n")?;
                indent(f, level)?;
                f.write_str("except")?;
                if let Some(c) = &h.class {
                    write!(f, " {c}")?;
                }
                if let Some(n) = &h.name {
                    write!(f, " as {n}")?;
                }
                f.write_str(":")?;
                write_block(f, &h.body, level)?;
            }
            write_else(f, orelse, level)?;
            if !finalbody.is_empty() {
                f.write_str("\n")?;
                indent(f, level)?;
                f.write_str("finally:")?;
                write_block(f, finalbody, level)?;
            }
            Ok(())
        }
    }
}

fn write_else(f: &mut fmt::Formatter<'_>, orelse: &[Stmt], level: usize) -> fmt::Result {
    if orelse.is_empty() {
        return Ok(());
    }
    f.write_str("\n")?;
    indent(f, level)?;
    f.write_str("else:")?;
    write_block(f, orelse, level)
}

impl fmt::Display for Stmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_stmt(f, self, 0)
    }
}

/// Writes `items` separated by `", "`, with a trailing comma when `one_tuple` and there is one item.
fn write_seq(f: &mut fmt::Formatter<'_>, items: &[Expr], one_tuple: bool) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    if one_tuple && items.len() == 1 {
        f.write_str(",")?;
    }
    Ok(())
}

/// Writes a Python string literal that lexes back to `s`.
fn write_str_lit(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\'' => f.write_str("\\'")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("'")
}

/// Writes a Python bytes literal that lexes back to `b` (printable ASCII as is, the rest `\xHH`).
fn write_bytes_lit(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    f.write_str("b'")?;
    for &c in b {
        match c {
            b'\\' => f.write_str("\\\\")?,
            b'\'' => f.write_str("\\'")?,
            0x20..=0x7e => write!(f, "{}", c as char)?,
            _ => write!(f, "\\x{c:02x}")?,
        }
    }
    f.write_str("'")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Name(n) => f.write_str(n),
            // Parenthesised so `(-1).x` and `x - -1` stay what they were.
            Expr::Int(i) if *i < 0 => write!(f, "({i})"),
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Float(b) => {
                let v = f64::from_bits(*b);
                if v.is_finite() {
                    let text = crate::formatfloat::repr_float(v);
                    f.write_str(core::str::from_utf8(&text).unwrap_or("0.0"))
                } else {
                    f.write_str("1e999")
                }
            }
            Expr::Str(s) => write_str_lit(f, s),
            Expr::Bytes(b) => write_bytes_lit(f, b),
            Expr::None => f.write_str("None"),
            Expr::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Expr::Tuple(items) => {
                f.write_str("(")?;
                write_seq(f, items, true)?;
                f.write_str(")")
            }
            Expr::List(items) => {
                f.write_str("[")?;
                write_seq(f, items, false)?;
                f.write_str("]")
            }
            Expr::Dict(pairs) => {
                f.write_str("{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            // `1 .x`: `1.x` would read as the float `1.` and a name.
            Expr::Attr(obj, name) if matches!(**obj, Expr::Int(_)) => write!(f, "{obj} .{name}"),
            Expr::Attr(obj, name) => write!(f, "{obj}.{name}"),
            Expr::Subscript(obj, index) => write!(f, "{obj}[{index}]"),
            Expr::Call { func, args, kwargs } => {
                write!(f, "{func}(")?;
                write_seq(f, args, false)?;
                for (i, (k, v)) in kwargs.iter().enumerate() {
                    if i > 0 || !args.is_empty() {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str(")")
            }
            Expr::Binary(op, l, r) => write!(f, "({l} {} {r})", op.symbol()),
            Expr::Test(op, l, r) => write!(f, "({l} {} {r})", op.symbol()),
            Expr::Logic(BoolOp::And, l, r) => write!(f, "({l} and {r})"),
            Expr::Logic(BoolOp::Or, l, r) => write!(f, "({l} or {r})"),
            Expr::Unary(UnaryOp::Neg, e) => write!(f, "(-{e})"),
            Expr::Unary(UnaryOp::Not, e) => write!(f, "(not {e})"),
            Expr::Slice(a, b, c) => {
                if let Some(a) = a {
                    write!(f, "{a}")?;
                }
                f.write_str(":")?;
                if let Some(b) = b {
                    write!(f, "{b}")?;
                }
                if let Some(c) = c {
                    write!(f, ":{c}")?;
                }
                Ok(())
            }
            Expr::IfElse { cond, then, orelse } => write!(f, "({then} if {cond} else {orelse})"),
        }
    }
}
