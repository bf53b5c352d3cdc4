//! The console's syntax tree, and its rendering back to Python source.
//!
//! `Display` prints valid console syntax (fully parenthesised where precedence matters), so
//! `parse(tree.to_string()) == tree` holds; the property tests rely on it.

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
    /// An expression whose value the console prints unless it is `None`.
    Expr(Expr),
    /// `pass`.
    Pass,
}

/// Where an assignment stores.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A global name.
    Name(String),
    /// `obj.attr`.
    Attr(Expr, String),
}

/// A binary operator.
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
    /// `op operand`
    Unary(UnaryOp, Box<Expr>),
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

impl fmt::Display for Stmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
                    match t {
                        Target::Name(n) => write!(f, "{n} = ")?,
                        Target::Attr(obj, n) if matches!(obj, Expr::Int(_)) => {
                            write!(f, "{obj} .{n} = ")?
                        }
                        Target::Attr(obj, n) => write!(f, "{obj}.{n} = ")?,
                    }
                }
                write!(f, "{value}")
            }
            Stmt::Expr(e) => write!(f, "{e}"),
            Stmt::Pass => f.write_str("pass"),
        }
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
            Expr::Unary(UnaryOp::Neg, e) => write!(f, "(-{e})"),
            Expr::Unary(UnaryOp::Not, e) => write!(f, "(not {e})"),
        }
    }
}
