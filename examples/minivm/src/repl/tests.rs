//! Parser and evaluator tests against a tiny mock VM, plus random-input properties.

extern crate std;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::*;

// ---------------------------------------------------------------- parser: golden cases

/// Parses `line` and renders it back, statements joined by `; `.
fn render(line: &str) -> String {
    match parse_line(line) {
        Ok(stmts) => stmts
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => e.to_string(),
    }
}

#[test]
fn parses_float_literals() {
    let cases = [
        ("x = 1.5", "x = 1.5"),
        (
            "f(0.25, -2.5e-3, .5, 1., 1_000.5)",
            "f(0.25, (-0.0025), 0.5, 1.0, 1000.5)",
        ),
        ("1e22 + 2E-5", "(1e+22 + 2e-05)"),
        ("2e400", "1e999"),
        ("0e0", "0.0"),
        ("1.5x", "SyntaxError: invalid number at column 1"),
        ("1e", "SyntaxError: invalid number at column 1"),
        ("1e+", "SyntaxError: invalid number at column 1"),
        ("0x1f", "31"),
    ];
    for (line, want) in cases {
        assert_eq!(render(line), want, "{line}");
    }
    assert_eq!(
        parse_line("y = 0.1").unwrap(),
        vec![Stmt::Assign {
            targets: vec![Target::Name("y".into())],
            value: Expr::Float(0.1f64.to_bits()),
        }]
    );
}

#[test]
fn parses_the_seed_statements() {
    let cases = [
        ("import gc", "import gc"),
        (
            "import tinysched.core as core",
            "import tinysched.core as core",
        ),
        (
            "from counter import incr, value as v",
            "from counter import incr, value as v",
        ),
        ("from a.b import (x, y,)", "from a.b import x, y"),
        ("from uasyncio import *", "from uasyncio import *"),
        ("gc.collect()", "gc.collect()"),
        ("micropython.mem_info()", "micropython.mem_info()"),
        (
            "freeze.import_modules('tinysched', \"counter\")",
            "freeze.import_modules('tinysched', 'counter')",
        ),
        (
            "x = y = f(1, -2, k=None, z=[True, False])",
            "x = y = f(1, (-2), k=None, z=[True, False])",
        ),
        (
            "obj.attr = {1: 'a', 'b': (2,)}",
            "obj.attr = {1: 'a', 'b': (2,)}",
        ),
        ("t = 1, 2,", "t = (1, 2)"),
        ("()", "()"),
        ("(1)", "1"),
        ("1 + 2 * 3 - 4", "((1 + (2 * 3)) - 4)"),
        ("not a == b", "(not (a == b))"),
        ("-x.y", "(-x.y)"),
        ("- 5", "(-5)"),
        ("-5 .bit_length()", "(-5 .bit_length())"),
        ("d['k'][0]", "d['k'][0]"),
        ("'a' \"b\"", "'ab'"),
        ("'it\\'s\\n\\x41\\q'", "'it\\'s\\nA\\\\q'"),
        ("0x1F + 0b101 + 0o17 + 1_000", "(((31 + 5) + 15) + 1000)"),
        ("a; ; b  # comment", "a; b"),
        ("   # only a comment", ""),
        ("pass", "pass"),
        ("f(a,)(b)(c=1)", "f(a)(b)(c=1)"),
    ];
    for (line, want) in cases {
        assert_eq!(render(line), want, "line {line:?}");
    }
}

#[test]
fn reports_errors_with_columns() {
    let cases = [
        (
            "x = (1, 2",
            "SyntaxError: expected ')', found end of line at column 10",
        ),
        ("x = $", "SyntaxError: invalid character '$' at column 5"),
        ("s = 'abc", "SyntaxError: unterminated string at column 5"),
        ("s = '\\x4'", "SyntaxError: invalid \\x escape at column 6"),
        ("12ab", "SyntaxError: invalid number at column 1"),
        ("0x", "SyntaxError: invalid number at column 1"),
        (
            "99999999999999999999",
            "SyntaxError: integer literal too large at column 1",
        ),
        (
            "f(1) = 2",
            "SyntaxError: can only assign to a name or an attribute at column 1",
        ),
        (
            "a = 1, 2 = 3",
            "SyntaxError: can only assign to a name or an attribute at column 5",
        ),
        (
            "f(a=1, 2)",
            "SyntaxError: positional argument follows keyword argument at column 8",
        ),
        (
            "f(a=1, a=2)",
            "SyntaxError: keyword argument 'a' repeated at column 8",
        ),
        (
            "f(*x)",
            "SyntaxError: 'argument unpacking' is not supported at the console at column 3",
        ),
        (
            "def f(): pass",
            "SyntaxError: 'def' is not supported at the console at column 1",
        ),
        (
            "x = lambda: 1",
            "SyntaxError: 'lambda' is not supported at the console at column 5",
        ),
        (
            "from . import x",
            "SyntaxError: 'relative import' is not supported at the console at column 6",
        ),
        (
            "import a, b",
            "SyntaxError: 'import of several modules' is not supported at the console at column 9",
        ),
        (
            "from a import",
            "SyntaxError: expected a name, found end of line at column 14",
        ),
        (
            "from a x",
            "SyntaxError: expected 'import', found name 'x' at column 8",
        ),
        (
            "a < b < c",
            "SyntaxError: 'chained comparison' is not supported at the console at column 7",
        ),
        (
            "a b",
            "SyntaxError: expected end of statement, found name 'b' at column 3",
        ),
        (
            "x.1",
            "SyntaxError: expected a name, found integer 1 at column 3",
        ),
        (
            "{1 2}",
            "SyntaxError: expected ':', found integer 2 at column 4",
        ),
        (
            "[1, 2",
            "SyntaxError: expected ']', found end of line at column 6",
        ),
        (
            "x =",
            "SyntaxError: expected an expression, found end of line at column 4",
        ),
        ("é = 1", "SyntaxError: invalid character 'é' at column 1"),
    ];
    for (line, want) in cases {
        assert_eq!(render(line), want, "line {line:?}");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let n = 10_000;
    let deep = [
        "(".repeat(n),
        "[".repeat(n),
        format!("x{}", "[0]".repeat(n)),
        format!("x{}", ".a".repeat(n)),
        format!("f{}", "()".repeat(n)),
        format!("1{}", " + 1".repeat(n)),
        format!("1{}", " * 1".repeat(n)),
        "-".repeat(n) + "x",
        "not ".repeat(n) + "x",
        "{1: ".repeat(n),
    ];
    for line in &deep {
        let err = parse_line(line).unwrap_err();
        assert_eq!(err.kind, SyntaxErrorKind::TooDeep, "{}", &line[..20]);
    }
    // Just inside the limit still parses.
    let ok = format!(
        "{}1{}",
        "(".repeat(MAX_DEPTH - 1),
        ")".repeat(MAX_DEPTH - 1)
    );
    assert_eq!(parse_line(&ok).unwrap(), vec![Stmt::Expr(Expr::Int(1))]);
}

// ---------------------------------------------------------------- random inputs

/// xorshift64*: deterministic, dependency-free randomness for the property tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const FRAGMENTS: &[&str] = &[
    "import",
    "from",
    "as",
    "not",
    "None",
    "True",
    "def",
    "x",
    "a.b",
    "f",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ".",
    "=",
    "==",
    "<",
    "+",
    "-",
    "*",
    ";",
    "#",
    "'s'",
    "\"q",
    "'\\x",
    "\\",
    "0x",
    "12",
    "-3",
    "99999999999999999999",
    " ",
    "\t",
    "é",
    "\u{0}",
    "$",
    "k=",
    "*",
];

#[test]
fn garbage_never_panics_and_columns_are_in_range() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for _ in 0..30_000 {
        let mut line = String::new();
        for _ in 0..rng.below(14) {
            if rng.below(8) == 0 {
                // Any char at all, including controls and astral ones.
                let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('?');
                line.push(c);
            } else {
                line.push_str(rng.pick(FRAGMENTS));
                if rng.below(2) == 0 {
                    line.push(' ');
                }
            }
        }
        match parse_line(&line) {
            Ok(stmts) => {
                parsed += 1;
                // Whatever parsed renders to a line that parses to the same tree.
                let again: Vec<String> = stmts.iter().map(|s| s.to_string()).collect();
                assert_eq!(
                    parse_line(&again.join("; ")).as_ref(),
                    Ok(&stmts),
                    "line {line:?}"
                );
                // And runs against the mock without panicking.
                let mut host = Mock::new();
                let _ = run_line(&mut host, &line);
            }
            Err(e) => {
                let width = line.chars().count();
                assert!(e.column >= 1 && e.column <= width + 1, "{e} for {line:?}");
            }
        }
    }
    assert!(
        parsed > 1000,
        "only {parsed} random lines parsed; the generator is too hostile"
    );
}

/// A random expression tree of the shapes the parser produces.
fn gen_expr(rng: &mut Rng, depth: usize) -> Expr {
    const NAMES: &[&str] = &["x", "counter", "tinysched", "_a1", "value"];
    let leaf = depth == 0 || rng.below(3) == 0;
    if leaf {
        return match rng.below(7) {
            0 => Expr::Name(rng.pick(NAMES).to_string()),
            // A non-negative finite float (its repr is the literal).
            6 => {
                let f = f64::from_bits(rng.next() >> 1);
                Expr::Float(if f.is_finite() { f } else { 0.5 }.to_bits())
            }
            1 => Expr::Int(rng.next() as i64 >> rng.below(64)),
            2 => Expr::Str(
                rng.pick(&["", "a'b", "q\"\\", "\n\t\u{1}", "é€"])
                    .to_string(),
            ),
            3 => Expr::None,
            4 => Expr::Bool(rng.below(2) == 0),
            _ => Expr::Tuple(Vec::new()),
        };
    }
    let d = depth - 1;
    let many = |rng: &mut Rng| {
        (0..rng.below(4))
            .map(|_| gen_expr(rng, d))
            .collect::<Vec<_>>()
    };
    match rng.below(9) {
        0 => Expr::Tuple(many(rng)),
        1 => Expr::List(many(rng)),
        2 => Expr::Dict(
            (0..rng.below(3))
                .map(|_| (gen_expr(rng, d), gen_expr(rng, d)))
                .collect(),
        ),
        3 => Expr::Attr(Box::new(gen_expr(rng, d)), rng.pick(NAMES).to_string()),
        4 => Expr::Subscript(Box::new(gen_expr(rng, d)), Box::new(gen_expr(rng, d))),
        5 => {
            let args = many(rng);
            let kwargs = ["k", "limit", "name"][..rng.below(4)]
                .iter()
                .map(|k| (k.to_string(), gen_expr(rng, d)))
                .collect();
            Expr::Call {
                func: Box::new(gen_expr(rng, d)),
                args,
                kwargs,
            }
        }
        6 => {
            let ops = [
                BinOp::Add,
                BinOp::Sub,
                BinOp::Mul,
                BinOp::Eq,
                BinOp::Ne,
                BinOp::Lt,
                BinOp::Le,
                BinOp::Gt,
                BinOp::Ge,
            ];
            Expr::Binary(
                ops[rng.below(ops.len())],
                Box::new(gen_expr(rng, d)),
                Box::new(gen_expr(rng, d)),
            )
        }
        7 => {
            // `-<int literal>` is folded by the parser, so the tree never holds it.
            let e = gen_expr(rng, d);
            if matches!(e, Expr::Int(_)) {
                Expr::Unary(UnaryOp::Not, Box::new(e))
            } else {
                Expr::Unary(UnaryOp::Neg, Box::new(e))
            }
        }
        _ => Expr::Unary(UnaryOp::Not, Box::new(gen_expr(rng, d))),
    }
}

#[test]
fn rendered_trees_parse_back_to_themselves() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for _ in 0..5_000 {
        let stmt = match rng.below(3) {
            0 => Stmt::Expr(gen_expr(&mut rng, 4)),
            1 => Stmt::Assign {
                targets: vec![
                    Target::Name("x".into()),
                    Target::Attr(gen_expr(&mut rng, 2), "y".into()),
                ],
                value: gen_expr(&mut rng, 4),
            },
            _ => Stmt::FromImport {
                module: vec!["a".into(), "b".into()],
                names: vec![("c".into(), None), ("d".into(), Some("e".into()))],
            },
        };
        // Attribute targets render as `obj.y`; an obj that renders as a bare int would lex as a
        // float-like token in Python, but our lexer reads `1.y` as `1 . y`, so it round-trips too.
        let text = stmt.to_string();
        assert_eq!(parse_line(&text), Ok(vec![stmt]), "text {text:?}");
    }
}

// ---------------------------------------------------------------- evaluator with a mock VM

#[derive(Debug, Clone, PartialEq)]
enum Val {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Tuple(Vec<Val>),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    Module(String),
    /// A builtin function of the mock, by name.
    Func(String),
}

impl Val {
    fn repr(&self) -> String {
        let seq = |xs: &[Val]| xs.iter().map(Val::repr).collect::<Vec<_>>().join(", ");
        match self {
            Val::None => "None".into(),
            Val::Bool(b) => if *b { "True" } else { "False" }.into(),
            Val::Int(i) => i.to_string(),
            Val::Str(s) => format!("'{s}'"),
            Val::Tuple(xs) if xs.len() == 1 => format!("({},)", seq(xs)),
            Val::Tuple(xs) => format!("({})", seq(xs)),
            Val::List(xs) => format!("[{}]", seq(xs)),
            Val::Dict(kv) => {
                let items: Vec<String> = kv
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.repr(), v.repr()))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            Val::Module(m) => format!("<module '{m}'>"),
            Val::Func(f) => format!("<function {f}>"),
        }
    }
}

/// A mock VM: modules `pkg`, `pkg.sub`, `counter`; records imports; prints into `out`.
struct Mock {
    globals: BTreeMap<String, Val>,
    modules: BTreeMap<String, BTreeMap<String, Val>>,
    loaded: Vec<String>,
    counter: i64,
    out: String,
}

impl Mock {
    fn new() -> Self {
        let mut modules = BTreeMap::new();
        let attrs =
            |xs: &[(&str, Val)]| xs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        modules.insert(
            "pkg".into(),
            attrs(&[("VERSION", Val::Int(3)), ("_private", Val::Int(0))]),
        );
        modules.insert(
            "pkg.sub".into(),
            attrs(&[("show", Val::Func("show".into()))]),
        );
        modules.insert(
            "counter".into(),
            attrs(&[
                ("incr", Val::Func("incr".into())),
                ("value", Val::Func("value".into())),
            ]),
        );
        Mock {
            globals: BTreeMap::new(),
            modules,
            loaded: Vec::new(),
            counter: 0,
            out: String::new(),
        }
    }
}

impl ReplHost for Mock {
    type Value = Val;
    type Error = String;

    fn import(&mut self, name: &str) -> Result<Val, String> {
        if !self.modules.contains_key(name) {
            return Err(format!("ImportError: no module named '{name}'"));
        }
        // Parents first, once each, as a VM's import machinery does.
        let mut prefix = String::new();
        for part in name.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(part);
            if !self.loaded.contains(&prefix) {
                self.loaded.push(prefix.clone());
            }
        }
        Ok(Val::Module(name.into()))
    }
    fn import_star(&mut self, module: &Val) -> Result<(), String> {
        let Val::Module(m) = module else {
            return Err("TypeError".into());
        };
        let attrs = self.modules.get(m).cloned().unwrap_or_default();
        for (k, v) in attrs.into_iter().filter(|(k, _)| !k.starts_with('_')) {
            self.globals.insert(k, v);
        }
        Ok(())
    }
    fn load_name(&mut self, name: &str) -> Result<Val, String> {
        match name {
            "repr_of" => Ok(Val::Func("repr_of".into())),
            _ => self
                .globals
                .get(name)
                .cloned()
                .ok_or(format!("NameError: name '{name}' isn't defined")),
        }
    }
    fn store_name(&mut self, name: &str, value: Val) -> Result<(), String> {
        self.globals.insert(name.into(), value);
        Ok(())
    }
    fn getattr(&mut self, obj: &Val, name: &str) -> Result<Val, String> {
        let missing = || format!("AttributeError: {} has no attribute '{name}'", obj.repr());
        let Val::Module(m) = obj else {
            return Err(missing());
        };
        self.modules
            .get(m)
            .and_then(|a| a.get(name))
            .cloned()
            .ok_or_else(missing)
    }
    fn setattr(&mut self, obj: &Val, name: &str, value: Val) -> Result<(), String> {
        match obj {
            Val::Module(m) if m == "pkg" => {
                self.modules
                    .entry(m.clone())
                    .or_default()
                    .insert(name.into(), value);
                Ok(())
            }
            _ => Err(format!("AttributeError: can't set attribute '{name}'")),
        }
    }
    fn subscript(&mut self, obj: &Val, index: &Val) -> Result<Val, String> {
        match (obj, index) {
            (Val::List(xs) | Val::Tuple(xs), Val::Int(i)) => usize::try_from(*i)
                .ok()
                .and_then(|i| xs.get(i))
                .cloned()
                .ok_or("IndexError".into()),
            (Val::Dict(kv), k) => kv
                .iter()
                .rev()
                .find(|(kk, _)| kk == k)
                .map(|(_, v)| v.clone())
                .ok_or("KeyError".into()),
            _ => Err("TypeError: not subscriptable".into()),
        }
    }
    fn call(&mut self, callee: &Val, args: &[Val], kwargs: &[(&str, Val)]) -> Result<Val, String> {
        let Val::Func(f) = callee else {
            return Err(format!("TypeError: {} isn't callable", callee.repr()));
        };
        match f.as_str() {
            "incr" => {
                let by = match kwargs.first() {
                    Some((_, Val::Int(n))) => *n,
                    _ => 1,
                };
                self.counter += by;
                Ok(Val::None)
            }
            "value" => Ok(Val::Int(self.counter)),
            _ => {
                let mut parts: Vec<String> = args.iter().map(Val::repr).collect();
                parts.extend(kwargs.iter().map(|(k, v)| format!("{k}={}", v.repr())));
                Ok(Val::Str(format!("{f}({})", parts.join(", "))))
            }
        }
    }
    fn binary_op(&mut self, op: BinOp, lhs: &Val, rhs: &Val) -> Result<Val, String> {
        match (lhs, rhs) {
            (Val::Int(a), Val::Int(b)) => Ok(match op {
                BinOp::Add => Val::Int(a.checked_add(*b).ok_or("OverflowError")?),
                BinOp::Sub => Val::Int(a.checked_sub(*b).ok_or("OverflowError")?),
                BinOp::Mul => Val::Int(a.checked_mul(*b).ok_or("OverflowError")?),
                BinOp::Eq => Val::Bool(a == b),
                BinOp::Ne => Val::Bool(a != b),
                BinOp::Lt => Val::Bool(a < b),
                BinOp::Le => Val::Bool(a <= b),
                BinOp::Gt => Val::Bool(a > b),
                BinOp::Ge => Val::Bool(a >= b),
            }),
            (Val::Str(a), Val::Str(b)) if op == BinOp::Add => Ok(Val::Str(format!("{a}{b}"))),
            _ => Err(format!("TypeError: unsupported types for {}", op.symbol())),
        }
    }
    fn unary_op(&mut self, op: UnaryOp, operand: &Val) -> Result<Val, String> {
        match (op, operand) {
            (UnaryOp::Neg, Val::Int(i)) => Ok(Val::Int(i.checked_neg().ok_or("OverflowError")?)),
            (UnaryOp::Not, Val::Bool(b)) => Ok(Val::Bool(!b)),
            (UnaryOp::Not, Val::None) => Ok(Val::Bool(true)),
            _ => Err("TypeError: bad operand".into()),
        }
    }
    fn int(&mut self, value: i64) -> Result<Val, String> {
        // Like minivm's 31-bit small ints.
        if (-(1 << 30)..(1 << 30)).contains(&value) {
            Ok(Val::Int(value))
        } else {
            Err("OverflowError: small int overflow".into())
        }
    }
    fn float(&mut self, value: f64) -> Result<Val, String> {
        Err(format!("the mock has no floats ({value})"))
    }
    fn str(&mut self, value: &str) -> Result<Val, String> {
        Ok(Val::Str(value.into()))
    }
    fn none(&mut self) -> Val {
        Val::None
    }
    fn bool(&mut self, value: bool) -> Val {
        Val::Bool(value)
    }
    fn tuple(&mut self, items: Vec<Val>) -> Result<Val, String> {
        Ok(Val::Tuple(items))
    }
    fn list(&mut self, items: Vec<Val>) -> Result<Val, String> {
        Ok(Val::List(items))
    }
    fn dict(&mut self, pairs: Vec<(Val, Val)>) -> Result<Val, String> {
        Ok(Val::Dict(pairs))
    }
    fn is_none(&self, value: &Val) -> bool {
        *value == Val::None
    }
    fn print_repr(&mut self, value: &Val) -> Result<(), String> {
        self.out.push_str(&value.repr());
        self.out.push('\n');
        Ok(())
    }
}

/// Runs `lines` on a fresh mock, collecting printed output and raised errors.
fn session(lines: &[&str]) -> (Mock, String) {
    let mut m = Mock::new();
    for line in lines {
        if let Err(e) = run_line(&mut m, line) {
            m.out.push_str(&e.to_string());
            m.out.push('\n');
        }
    }
    let out = core::mem::take(&mut m.out);
    (m, out)
}

#[test]
fn import_binds_like_python() {
    let (m, out) = session(&[
        "import pkg.sub",
        "pkg",
        "import pkg.sub as s",
        "s",
        "import nope",
    ]);
    assert_eq!(
        out,
        "<module 'pkg'>\n<module 'pkg.sub'>\nImportError: no module named 'nope'\n"
    );
    assert_eq!(m.loaded, ["pkg", "pkg.sub"]);
    assert!(!m.globals.contains_key("pkg.sub"));
}

#[test]
fn from_import_falls_back_to_submodules_and_star_skips_private() {
    let (m, out) = session(&[
        "from pkg import VERSION as V, sub",
        "V; sub",
        "from pkg import missing",
        "from pkg import *",
        "VERSION",
        "_private",
    ]);
    assert_eq!(
        out,
        "3\n<module 'pkg.sub'>\nAttributeError: <module 'pkg'> has no attribute 'missing'\n3\n\
         NameError: name '_private' isn't defined\n"
    );
    assert_eq!(m.globals.get("V"), Some(&Val::Int(3)));
}

#[test]
fn calls_pass_positional_then_keyword_args_in_order() {
    let (_, out) = session(&[
        "from pkg.sub import show",
        "show(1, 'two', [3, (4,)], {5: None}, b=True, a=-6)",
        "show()",
        "show(show(k=0))",
    ]);
    assert_eq!(
        out,
        "'show(1, \\'two\\', [3, (4,)], {5: None}, b=True, a=-6)'\n'show()'\n'show(\\'show(k=0)\\')'\n"
            .replace("\\'", "'")
    );
}

#[test]
fn expression_results_print_except_none_and_state_persists() {
    let (m, out) = session(&[
        "import counter",
        "counter.incr()",
        "counter.incr(by=41)",
        "counter.value()",
    ]);
    assert_eq!(out, "42\n");
    assert_eq!(m.counter, 42);
}

#[test]
fn assignment_evaluates_once_and_stores_left_to_right() {
    let (m, out) = session(&[
        "import pkg",
        "a = b = pkg.VERSION * 2 + 1",
        "a, b, a == b, a != 7, not a == 7",
        "pkg.extra = a - 10",
        "pkg.extra",
        "counter = 1; counter.x = 2",
    ]);
    assert_eq!(
        out,
        "(7, 7, True, False, False)\n-3\nAttributeError: can't set attribute 'x'\n"
    );
    assert_eq!(m.globals.get("counter"), Some(&Val::Int(1)));
}

#[test]
fn host_errors_stop_the_line_but_keep_earlier_statements() {
    let (m, out) = session(&[
        "x = 1; y = nope; z = 3",
        "x",
        "[1][5]",
        "{'a': 1}['a']",
        "2000000000",
    ]);
    assert_eq!(
        out,
        "NameError: name 'nope' isn't defined\n1\nIndexError\n1\nOverflowError: small int overflow\n"
    );
    assert!(m.globals.contains_key("x"));
    assert!(!m.globals.contains_key("z"));
}

#[test]
fn syntax_errors_execute_nothing() {
    let (m, out) = session(&["x = 1; y = ("]);
    assert_eq!(
        out,
        "SyntaxError: expected an expression, found end of line at column 13\n"
    );
    assert!(m.globals.is_empty());
}

#[test]
fn the_seed_scripts_parse() {
    let scripts = [
        include_str!("../../demo/seed-1.txt"),
        include_str!("../../demo/seed-2.txt"),
        include_str!("../../demo/seed-3.txt"),
    ];
    let mut statements = 0;
    for script in scripts {
        for (n, line) in script.lines().enumerate() {
            match parse_line(line) {
                Ok(stmts) => statements += stmts.len(),
                Err(e) => panic!("line {}: {line:?}: {e}", n + 1),
            }
        }
    }
    assert!(statements > 30, "{statements}");
}
