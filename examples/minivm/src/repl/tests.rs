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
    match parse(line) {
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
        parse("y = 0.1").unwrap(),
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
            "import os, gc as g, a.b",
            "import os; import gc as g; import a.b",
        ),
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
        ("a if b else c", "(a if b else c)"),
        ("b[:n]", "b[:n]"),
        (
            "b[1:] + b[::2] + b[a:b:c] + b[:]",
            "(((b[1:] + b[::2]) + b[a:b:c]) + b[:])",
        ),
        (
            "x = 1 if a or b else 2 if c else 3",
            "x = (1 if (a or b) else (2 if c else 3))",
        ),
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
            "SyntaxError: can only assign to a name, an attribute, a subscript or a tuple of them at column 1",
        ),
        (
            "a = 1, 2 = 3",
            "SyntaxError: can only assign to a name, an attribute, a subscript or a tuple of them at column 5",
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
        let err = parse(line).unwrap_err();
        assert_eq!(err.kind, SyntaxErrorKind::TooDeep, "{}", &line[..20]);
    }
    // Just inside the limit still parses.
    let ok = format!(
        "{}1{}",
        "(".repeat(MAX_DEPTH - 1),
        ")".repeat(MAX_DEPTH - 1)
    );
    assert_eq!(parse(&ok).unwrap(), vec![Stmt::Expr(Expr::Int(1))]);
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
    "if",
    "elif",
    "else",
    "for",
    "in",
    "while",
    "with",
    "try",
    "except",
    "finally",
    "break",
    "raise",
    "and",
    "or",
    "is",
    "+=",
    "b'x'",
    "'''",
    "\n",
    "\n    ",
    "\r\n  ",
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
        match parse(&line) {
            Ok(stmts) => {
                parsed += 1;
                // Whatever parsed renders to a line that parses to the same tree.
                let again: Vec<String> = stmts.iter().map(|s| s.to_string()).collect();
                assert_eq!(
                    parse(&again.join("\n")).as_ref(),
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

/// A random statement, compound ones included (`depth` bounds the nesting of blocks).
fn gen_stmt(rng: &mut Rng, depth: usize, in_loop: bool) -> Stmt {
    let block = |rng: &mut Rng, in_loop: bool| -> Vec<Stmt> {
        (0..1 + rng.below(3))
            .map(|_| gen_stmt(rng, depth.saturating_sub(1), in_loop))
            .collect()
    };
    let simple = depth == 0 || rng.below(2) == 0;
    if simple {
        return match rng.below(8) {
            0 => Stmt::Expr(gen_expr(rng, 3)),
            1 => Stmt::Assign {
                targets: vec![Target::Tuple(vec![
                    Target::Name("a".into()),
                    Target::Subscript(gen_expr(rng, 1), gen_expr(rng, 1)),
                ])],
                value: gen_expr(rng, 3),
            },
            2 => Stmt::AugAssign {
                target: Target::Name("n".into()),
                op: [BinOp::Add, BinOp::Sub, BinOp::Mul][rng.below(3)],
                value: gen_expr(rng, 2),
            },
            3 if in_loop => [Stmt::Break, Stmt::Continue][rng.below(2)].clone(),
            4 => Stmt::Raise(rng.below(2).eq(&0).then(|| gen_expr(rng, 2))),
            5 => Stmt::Assert {
                test: gen_expr(rng, 2),
                msg: rng.below(2).eq(&0).then(|| gen_expr(rng, 1)),
            },
            6 => Stmt::Expr(Expr::Logic(
                [BoolOp::And, BoolOp::Or][rng.below(2)],
                Box::new(gen_expr(rng, 2)),
                Box::new(Expr::Test(
                    [TestOp::In, TestOp::NotIn, TestOp::Is, TestOp::IsNot][rng.below(4)],
                    Box::new(gen_expr(rng, 1)),
                    Box::new(Expr::Bytes(vec![0, b'\'', 0x80, b'a'])),
                )),
            )),
            _ => Stmt::Pass,
        };
    }
    match rng.below(5) {
        0 => Stmt::If {
            branches: (0..1 + rng.below(3))
                .map(|_| (gen_expr(rng, 2), block(rng, in_loop)))
                .collect(),
            orelse: if rng.below(2) == 0 {
                block(rng, in_loop)
            } else {
                Vec::new()
            },
        },
        1 => Stmt::While {
            test: gen_expr(rng, 2),
            body: block(rng, true),
            orelse: if rng.below(2) == 0 {
                block(rng, in_loop)
            } else {
                Vec::new()
            },
        },
        2 => Stmt::For {
            target: Target::Tuple(vec![Target::Name("k".into()), Target::Name("v".into())]),
            iter: gen_expr(rng, 2),
            body: block(rng, true),
            orelse: Vec::new(),
        },
        3 => Stmt::With {
            items: vec![
                (gen_expr(rng, 2), Some(Target::Name("f".into()))),
                (gen_expr(rng, 1), None),
            ],
            body: block(rng, in_loop),
        },
        _ => Stmt::Try {
            body: block(rng, in_loop),
            handlers: vec![
                Handler {
                    class: Some(Expr::Name("ValueError".into())),
                    name: Some("e".into()),
                    body: block(rng, in_loop),
                },
                Handler {
                    class: None,
                    name: None,
                    body: block(rng, in_loop),
                },
            ],
            orelse: if rng.below(2) == 0 {
                block(rng, in_loop)
            } else {
                Vec::new()
            },
            finalbody: if rng.below(2) == 0 {
                block(rng, in_loop)
            } else {
                Vec::new()
            },
        },
    }
}

#[test]
fn rendered_programs_parse_back_to_themselves() {
    let mut rng = Rng(0x5151_2020_dead_beef);
    for _ in 0..1_000 {
        let prog: Vec<Stmt> = (0..1 + rng.below(4))
            .map(|_| gen_stmt(&mut rng, 3, false))
            .collect();
        let text = prog
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(parse(&text), Ok(prog), "text:\n{text}");
        // Running it against the mock never panics either.
        let mut host = Mock::new();
        host.interrupt_after = Some(8);
        let _ = run(&mut host, &text, Mode::File);
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
        assert_eq!(parse(&text), Ok(vec![stmt]), "text {text:?}");
    }
}

// ---------------------------------------------------------------- evaluator with a mock VM

#[derive(Debug, Clone, PartialEq)]
enum Val {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Val>),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    Module(String),
    /// A builtin function of the mock, by name.
    Func(String),
    /// An exception class of the mock, by name.
    Class(String),
    /// A raised exception: its class and message.
    Exc(String, String),
    /// An iterator: index into `Mock::iters`.
    Iter(usize),
    /// A context manager that logs its calls; `suppress` ones swallow exceptions.
    Ctx(String),
}

impl Val {
    fn repr(&self) -> String {
        let seq = |xs: &[Val]| xs.iter().map(Val::repr).collect::<Vec<_>>().join(", ");
        match self {
            Val::None => "None".into(),
            Val::Bool(b) => if *b { "True" } else { "False" }.into(),
            Val::Int(i) => i.to_string(),
            Val::Str(s) => format!("'{s}'"),
            Val::Bytes(b) => format!("b{:?}", String::from_utf8_lossy(b)),
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
            Val::Class(c) => format!("<class '{c}'>"),
            Val::Exc(c, m) => format!("{c}('{m}')"),
            Val::Iter(i) => format!("<iterator {i}>"),
            Val::Ctx(n) => format!("<ctx {n}>"),
        }
    }

    fn str(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            other => other.repr(),
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
    iters: Vec<Vec<Val>>,
    /// Calls of context managers, in order.
    log: Vec<String>,
    /// `poll` raises KeyboardInterrupt once this reaches 0 (counting down per poll), then always.
    interrupt_after: Option<usize>,
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
        modules.insert(
            "os".into(),
            attrs(&[("ilistdir", Val::Func("ilistdir".into()))]),
        );
        Mock {
            globals: BTreeMap::new(),
            modules,
            loaded: Vec::new(),
            counter: 0,
            out: String::new(),
            iters: Vec::new(),
            log: Vec::new(),
            interrupt_after: None,
        }
    }

    fn items(&self, v: &Val) -> Option<Vec<Val>> {
        match v {
            Val::Tuple(xs) | Val::List(xs) => Some(xs.clone()),
            Val::Dict(kv) => Some(kv.iter().map(|(k, _)| k.clone()).collect()),
            Val::Str(s) => Some(s.chars().map(|c| Val::Str(c.to_string())).collect()),
            _ => None,
        }
    }

    fn class_of(err: &str) -> &str {
        err.split(':').next().unwrap_or(err)
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
            "repr_of" | "print" | "repr" | "ctx" | "fail" => Ok(Val::Func(name.into())),
            "ValueError" | "KeyError" | "Exception" | "BaseException" | "AssertionError"
            | "KeyboardInterrupt" | "OSError" => Ok(Val::Class(name.into())),
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
        match obj {
            Val::Module(m) => self
                .modules
                .get(m)
                .and_then(|a| a.get(name))
                .cloned()
                .ok_or_else(missing),
            Val::Ctx(n) if name == "__enter__" || name == "__exit__" => {
                Ok(Val::Func(format!("{name}:{n}")))
            }
            Val::Exc(c, _) if name == "__class__" => Ok(Val::Class(c.clone())),
            _ => Err(missing()),
        }
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
    fn slice(&mut self, start: Val, stop: Val, step: Val) -> Result<Val, String> {
        Ok(Val::Tuple(vec![start, stop, step]))
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
        if let Val::Class(c) = callee {
            let msg = args.first().map(Val::str).unwrap_or_default();
            return Ok(Val::Exc(c.clone(), msg));
        }
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
            "print" => {
                let text: Vec<String> = args.iter().map(Val::str).collect();
                let end = kwargs
                    .iter()
                    .find(|(k, _)| *k == "end")
                    .map_or("\n".into(), |(_, v)| v.str());
                self.out.push_str(&text.join(" "));
                self.out.push_str(&end);
                Ok(Val::None)
            }
            "repr" => Ok(Val::Str(args.first().map(Val::repr).unwrap_or_default())),
            "ilistdir" => Ok(Val::List(vec![
                Val::Tuple(vec![Val::Str("a.mpy".into()), Val::Int(0x8000)]),
                Val::Tuple(vec![Val::Str("lib".into()), Val::Int(0x4000)]),
            ])),
            "ctx" => Ok(Val::Ctx(args.first().map(Val::str).unwrap_or_default())),
            "fail" => Err(format!(
                "ValueError: {}",
                args.first().map(Val::str).unwrap_or_default()
            )),
            _ if f.starts_with("__enter__:") || f.starts_with("__exit__:") => {
                let shown: Vec<String> = args.iter().map(Val::repr).collect();
                self.log.push(format!("{f}({})", shown.join(", ")));
                let suppress = f.ends_with(":suppress") && args.first() != Some(&Val::None);
                Ok(if f.starts_with("__enter__:") {
                    Val::Int(self.log.len() as i64)
                } else {
                    Val::Bool(suppress)
                })
            }
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
            (Val::List(a), Val::List(b)) if op == BinOp::Add => {
                Ok(Val::List(a.iter().chain(b).cloned().collect()))
            }
            (a, b) if op == BinOp::Eq => Ok(Val::Bool(a == b)),
            _ => Err(format!("TypeError: unsupported types for {}", op.symbol())),
        }
    }
    fn unary_op(&mut self, op: UnaryOp, operand: &Val) -> Result<Val, String> {
        match (op, operand) {
            (UnaryOp::Neg, Val::Int(i)) => Ok(Val::Int(i.checked_neg().ok_or("OverflowError")?)),
            (UnaryOp::Not, v) => {
                let t = self.truthy(v)?;
                Ok(Val::Bool(!t))
            }
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
    fn truthy(&mut self, value: &Val) -> Result<bool, String> {
        Ok(match value {
            Val::None => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::Str(s) => !s.is_empty(),
            Val::Bytes(b) => !b.is_empty(),
            Val::Tuple(xs) | Val::List(xs) => !xs.is_empty(),
            Val::Dict(kv) => !kv.is_empty(),
            _ => true,
        })
    }
    fn iter(&mut self, value: &Val) -> Result<Val, String> {
        if let Val::Iter(_) = value {
            return Ok(value.clone());
        }
        let Some(mut items) = self.items(value) else {
            return Err(format!("TypeError: {} object isn't iterable", value.repr()));
        };
        items.reverse();
        self.iters.push(items);
        Ok(Val::Iter(self.iters.len() - 1))
    }
    fn next(&mut self, it: &Val) -> Result<Option<Val>, String> {
        let Val::Iter(i) = it else {
            return Err("TypeError: not an iterator".into());
        };
        Ok(self.iters[*i].pop())
    }
    fn bytes(&mut self, value: &[u8]) -> Result<Val, String> {
        Ok(Val::Bytes(value.to_vec()))
    }
    fn test_op(&mut self, op: TestOp, lhs: &Val, rhs: &Val) -> Result<Val, String> {
        let r = match op {
            TestOp::In | TestOp::NotIn => {
                let Some(items) = self.items(rhs) else {
                    return Err("TypeError: argument of type isn't iterable".into());
                };
                items.contains(lhs) == (op == TestOp::In)
            }
            TestOp::Is => lhs == rhs,
            TestOp::IsNot => lhs != rhs,
        };
        Ok(Val::Bool(r))
    }
    fn inplace_op(&mut self, op: BinOp, lhs: &Val, rhs: &Val) -> Result<Val, String> {
        self.binary_op(op, lhs, rhs)
    }
    fn store_subscript(&mut self, obj: &Val, index: &Val, value: Val) -> Result<(), String> {
        // The mock's containers are values: record the store instead.
        self.out.push_str(&format!(
            "{}[{}] = {}\n",
            obj.repr(),
            index.repr(),
            value.repr()
        ));
        Ok(())
    }
    fn raise(&mut self, value: &Val) -> String {
        match value {
            Val::Exc(c, m) if m.is_empty() => c.clone(),
            Val::Exc(c, m) => format!("{c}: {m}"),
            Val::Class(c) => c.clone(),
            _ => "TypeError: exceptions must derive from BaseException".into(),
        }
    }
    fn error(&mut self, class: &str, msg: &str) -> String {
        format!("{class}: {msg}")
    }
    fn error_matches(&mut self, err: &String, class: &Val) -> Result<bool, String> {
        let got = Mock::class_of(err);
        let one = |c: &Val| match c {
            Val::Class(c) => Ok(c == got
                || c == "BaseException"
                || (c == "Exception" && got != "KeyboardInterrupt")),
            _ => Err(String::from("TypeError: catching non-class")),
        };
        match class {
            Val::Tuple(cs) => {
                for c in cs {
                    if one(c)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            c => one(c),
        }
    }
    fn error_value(&mut self, err: &String) -> Val {
        let (c, m) = err.split_once(": ").unwrap_or((err, ""));
        Val::Exc(c.into(), m.into())
    }
    fn mark_temporaries(&mut self) -> usize {
        self.iters.len()
    }
    fn drop_temporaries(&mut self, _mark: usize) {}
    fn poll(&mut self) -> Result<(), String> {
        match self.interrupt_after.as_mut() {
            // Once it fires it keeps firing, so every loop ends at its next iteration.
            Some(0) => Err("KeyboardInterrupt".into()),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
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
        include_str!("../../demo/app-1.txt"),
        include_str!("../../demo/app-2.txt"),
        include_str!("../../demo/app-3.txt"),
        include_str!("../../demo/app-4.txt"),
        include_str!("../../demo/heap-1.txt"),
        include_str!("../../demo/heap-2.txt"),
    ];
    let mut statements = 0;
    for script in scripts {
        for (n, line) in script.lines().enumerate() {
            match parse(line) {
                Ok(stmts) => statements += stmts.len(),
                Err(e) => panic!("line {}: {line:?}: {e}", n + 1),
            }
        }
    }
    assert!(statements > 30, "{statements}");
}

// ---------------------------------------------------------------- programs: blocks and more

/// Runs `src` as a program (raw REPL mode) on a fresh mock: (mock, output, error).
fn program(src: &str) -> (Mock, String, Option<String>) {
    program_on(Mock::new(), src)
}

fn program_on(mut m: Mock, src: &str) -> (Mock, String, Option<String>) {
    let err = run(&mut m, src, Mode::File).err().map(|e| e.to_string());
    let out = core::mem::take(&mut m.out);
    (m, out, err)
}

#[test]
fn parses_compound_statements_and_renders_them_back() {
    let cases = [
        ("if x: y", "if x:\n    y"),
        (
            "if a:\n  b\nelif c:\n  d\nelse:\n  e",
            "if a:\n    b\nelif c:\n    d\nelse:\n    e",
        ),
        (
            "for k, v in d.items():\n\tprint(k)\n\tbreak\nelse: pass",
            "for (k, v) in d.items():\n    print(k)\n    break\nelse:\n    pass",
        ),
        (
            "while 1:\n pass\n continue",
            "while 1:\n    pass\n    continue",
        ),
        (
            "with open('a') as f, g:\n x = f.read(256)",
            "with open('a') as f, g:\n    x = f.read(256)",
        ),
        (
            "try:\n x\nexcept (A, B) as e:\n raise\nexcept C:\n pass\nexcept:\n y\nelse:\n z\nfinally:\n w",
            "try:\n    x\nexcept (A, B) as e:\n    raise\nexcept C:\n    pass\nexcept:\n    y\nelse:\n    z\nfinally:\n    w",
        ),
        ("try: x\nfinally: y", "try:\n    x\nfinally:\n    y"),
        ("x += 1; a.b -= 2; d[k] *= 3", "x += 1; a.b -= 2; d[k] *= 3"),
        ("a, b = b, a", "(a, b) = (b, a)"),
        ("d['k'] = [1]", "d['k'] = [1]"),
        ("x = a and b or not c", "x = ((a and b) or (not c))"),
        (
            "a in b; a not in b; a is None; a is not b",
            "(a in b); (a not in b); (a is None); (a is not b)",
        ),
        (
            "assert x, 'msg'; raise ValueError('v')",
            "assert x, 'msg'; raise ValueError('v')",
        ),
        ("w(b'\\x00\\n' b\"'q\")", "w(b'\\x00\\x0a\\'q')"),
        ("r'\\d' + R\"\\\"\"", "('\\\\d' + '\\\\\"')"),
        ("'''a\nb''' + \"\"\"c\"\"\"", "('a\\nb' + 'c')"),
        ("x = (1,\n     2)", "x = (1, 2)"),
        ("x = 1 + \\\n    2", "x = (1 + 2)"),
        ("\n\n# c\nx\n\n   # indented comment\ny\n", "x; y"),
        ("'\\u00e9\\U0001F600\\101'", "'é😀A'"),
    ];
    for (src, want) in cases {
        assert_eq!(render(src), want, "source {src:?}");
        // And the rendering is itself valid console source.
        let tree = parse(src).unwrap();
        let again = tree
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(parse(&again).unwrap(), tree, "rendered {again:?}");
    }
}

#[test]
fn reports_block_errors_with_lines() {
    let cases = [
        (
            "if x:",
            "SyntaxError: expected an indented block at column 6",
        ),
        (
            "if x:\ny",
            "SyntaxError: expected an indented block at line 2, column 1",
        ),
        (
            "x\n  y",
            "SyntaxError: unexpected indent at line 2, column 3",
        ),
        (
            "if a:\n    b\n  c",
            "SyntaxError: unindent does not match any outer indentation level at line 3, column 3",
        ),
        ("break", "SyntaxError: 'break' outside loop at column 1"),
        (
            "if x: continue",
            "SyntaxError: 'continue' not properly in loop at column 7",
        ),
        (
            "else: x",
            "SyntaxError: 'else' is not supported at the console at column 1",
        ),
        (
            "try:\n x\ny",
            "SyntaxError: expected 'except' or 'finally', found name 'y' at line 3, column 1",
        ),
        (
            "try: x\nexcept: y\nexcept E: z",
            "SyntaxError: ''except' after a bare 'except'' is not supported at the console at line 3, column 1",
        ),
        (
            "for 1 in x: pass",
            "SyntaxError: can only assign to a name, an attribute, a subscript or a tuple of them at column 5",
        ),
        (
            "for x of y: pass",
            "SyntaxError: expected 'in', found name 'of' at column 7",
        ),
        (
            "if x: ;",
            "SyntaxError: expected a statement, found end of line at column 7",
        ),
        (
            "b'é'",
            "SyntaxError: bytes can only contain ASCII literal characters at column 3",
        ),
        (
            "'a' b'b'",
            "SyntaxError: cannot mix bytes and nonbytes literals at column 5",
        ),
        ("x = 1.5x", "SyntaxError: invalid number at column 5"),
        ("'\\u12'", "SyntaxError: invalid \\x escape at column 2"),
        (
            "x = '''open",
            "SyntaxError: unterminated string at column 5",
        ),
        (
            "(a, b) += 1",
            "SyntaxError: can only assign to a name, an attribute, a subscript or a tuple of them at column 1",
        ),
        (
            "def f():\n  pass",
            "SyntaxError: 'def' is not supported at the console at column 1",
        ),
        (
            "x = 1 \\ 2",
            "SyntaxError: invalid character '\\\\' at column 7",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(render(src), want, "source {src:?}");
    }
}

#[test]
fn deep_blocks_are_refused_not_overflowed() {
    let mut src = String::new();
    for i in 0..200 {
        src.push_str(&" ".repeat(i));
        src.push_str("if x:\n");
    }
    src.push_str(&" ".repeat(200));
    src.push_str("pass\n");
    assert_eq!(parse(&src).unwrap_err().kind, SyntaxErrorKind::TooDeep);
}

#[test]
fn knows_when_the_friendly_prompt_needs_another_line() {
    let more = [
        "if x:",
        "for f in y:\n    print(f)",
        "x = (1,",
        "d = {'a':\n 1",
        "s = '''abc",
        "x = 1 + \\",
        "try:\n  x\nexcept:\n  y",
        "with a:",
    ];
    let done = [
        "x = 1",
        "if x: y\n",
        "for f in y:\n    print(f)\n",
        "x = (1,\n 2)",
        "s = '''a\nb'''",
        "s = 'if x:'",
        "print('(')",
        "# for x in y:",
        "",
        "x = 'abc",
    ];
    for src in more {
        assert!(needs_more(src), "{src:?} needs more");
    }
    for src in done {
        assert!(!needs_more(src), "{src:?} is complete");
    }
}

#[test]
fn loops_run_break_continue_and_else() {
    let (_, out, err) = program(
        "for x in [1, 2, 3, 4]:\n    if x == 2:\n        continue\n    if x == 4:\n        break\n    print(x)\nelse:\n    print('no')\n\
         for x in ():\n    pass\nelse:\n    print('empty else')\n\
         n = 3\nwhile n:\n    n -= 1\n    print('n', n)\nelse:\n    print('done')",
    );
    assert_eq!(err, None);
    assert_eq!(out, "1\n3\nempty else\nn 2\nn 1\nn 0\ndone\n");
}

#[test]
fn file_mode_drops_expression_values_and_interactive_prints_them() {
    let (_, out, _) = program("1 + 1\nprint('x')");
    assert_eq!(out, "x\n");
    let mut m = Mock::new();
    run_line(&mut m, "for x in [1, None, 'a']: x").unwrap();
    assert_eq!(m.out, "1\n'a'\n");
}

#[test]
fn try_except_else_finally_follow_python() {
    let (m, out, err) = program(
        "try:\n fail('a')\nexcept KeyError:\n print('no')\nexcept (OSError, ValueError) as e:\n print('caught', e)\nelse:\n print('no else')\nfinally:\n print('fin')\n\
         try:\n x = 1\nexcept:\n pass\nelse:\n print('else', x)\n\
         for i in [1, 2]:\n try:\n  break\n finally:\n  print('fin in loop', i)\n\
         try:\n try:\n  fail('inner')\n finally:\n  print('cleanup')\nexcept Exception as e:\n print('outer', e)\n\
         try:\n fail('keep')\nexcept ValueError:\n raise",
    );
    assert_eq!(
        out,
        "caught ValueError('a')\nfin\nelse 1\nfin in loop 1\ncleanup\nouter ValueError('inner')\n"
    );
    assert_eq!(err.as_deref(), Some("ValueError: keep"));
    assert_eq!(
        m.globals.get("e"),
        Some(&Val::Exc("ValueError".into(), "inner".into()))
    );
    // Nothing to re-raise, a raise of a non-exception, an exception in `finally` replaces one.
    let (_, _, err) = program("raise");
    assert_eq!(
        err.as_deref(),
        Some("RuntimeError: no active exception to reraise")
    );
    let (_, _, err) = program("raise 5");
    assert_eq!(
        err.as_deref(),
        Some("TypeError: exceptions must derive from BaseException")
    );
    let (_, _, err) = program("try:\n fail('a')\nfinally:\n fail('b')");
    assert_eq!(err.as_deref(), Some("ValueError: b"));
    let (_, _, err) = program("try:\n fail('a')\nexcept 5:\n pass");
    assert_eq!(err.as_deref(), Some("TypeError: catching non-class"));
}

#[test]
fn with_enters_in_order_and_exits_in_reverse() {
    let (m, _, err) = program("with ctx('a') as x, ctx('b') as y:\n pass");
    assert_eq!(err, None);
    assert_eq!(
        m.log,
        [
            "__enter__:a()",
            "__enter__:b()",
            "__exit__:b(None, None, None)",
            "__exit__:a(None, None, None)"
        ]
    );
    assert_eq!(m.globals.get("x"), Some(&Val::Int(1)));
    assert_eq!(m.globals.get("y"), Some(&Val::Int(2)));
    // An exception reaches `__exit__`; a true result swallows it, a false one lets it go on.
    let (m, out, err) =
        program("with ctx('suppress'):\n fail('x')\nprint('after')\nwith ctx('b'):\n fail('y')");
    assert_eq!(out, "after\n");
    assert_eq!(err.as_deref(), Some("ValueError: y"));
    assert_eq!(
        m.log,
        [
            "__enter__:suppress()",
            "__exit__:suppress(<class 'ValueError'>, ValueError('x'), None)",
            "__enter__:b()",
            "__exit__:b(<class 'ValueError'>, ValueError('y'), None)"
        ]
    );
    // `break` inside `with` still exits.
    let (m, _, _) = program("for i in [1, 2]:\n with ctx('c'):\n  break");
    assert_eq!(m.log, ["__enter__:c()", "__exit__:c(None, None, None)"]);
}

#[test]
fn assignments_unpack_and_augment() {
    let (m, out, err) =
        program("a, (b, c) = 1, [2, 3]\nn = 5\nn += a\nn *= 2\nd = {}\nd['k'] = n\nt, = (9,)");
    assert_eq!(err, None);
    assert_eq!(out, "{}['k'] = 12\n");
    for (k, v) in [("a", 1), ("b", 2), ("c", 3), ("n", 12), ("t", 9)] {
        assert_eq!(m.globals.get(k), Some(&Val::Int(v)), "{k}");
    }
    let (_, _, err) = program("a, b = [1]");
    assert_eq!(
        err.as_deref(),
        Some("ValueError: need more than 1 values to unpack")
    );
    let (_, _, err) = program("a, b = 1, 2, 3");
    assert_eq!(
        err.as_deref(),
        Some("ValueError: too many values to unpack (expected 2)")
    );
}

#[test]
fn and_or_short_circuit_and_tests_ask_the_host() {
    let (_, out, err) = program(
        "print(0 and fail('no'), 1 or fail('no'), 0 or 'x', 2 and 3)\nprint(1 in [1, 2], 3 not in [1], None is None, 1 is not None)\nassert 1 in (1,)\nassert 0, 'bad'",
    );
    assert_eq!(out, "0 1 x 3\nTrue True True True\n");
    assert_eq!(err.as_deref(), Some("AssertionError: bad"));
}

#[test]
fn ctrl_c_stops_loops_between_iterations() {
    let mut m = Mock::new();
    m.interrupt_after = Some(3);
    let (m, _, err) = program_on(m, "n = 0\nwhile 1:\n n += 1");
    assert_eq!(err.as_deref(), Some("KeyboardInterrupt"));
    assert_eq!(m.globals.get("n"), Some(&Val::Int(3)));
    // A handler may catch it, as in Python.
    let mut m = Mock::new();
    m.interrupt_after = Some(0);
    let (_, out, err) = program_on(
        m,
        "try:\n for x in [1]: pass\nexcept KeyboardInterrupt:\n print('stopped')",
    );
    assert_eq!((out.as_str(), err), ("stopped\n", None));
}

#[test]
fn what_mpremote_sends_runs() {
    // fs ls: `os.ilistdir` entries as reprs separated by commas.
    let (_, out, err) = program("import os\nfor f in os.ilistdir():\n print(repr(f), end=',')");
    assert_eq!(err, None);
    assert_eq!(out, "('a.mpy', 32768),('lib', 16384),");
    // fs cp (to the device): open once, then one exec per chunk.
    for src in [
        "f=open('mymod.mpy','wb')\nw=f.write",
        "w(b'M\\x06\\x00\\x1f\\n\\x00\\x07\\x10mymod.py')",
        "f.close()",
        "with open('x') as f:\n while 1:\n  b=f.read(256)\n  if not b:break\n  print(b,end='')",
        "import hashlib\nh = hashlib.sha256()",
        "buf = memoryview(bytearray(256))\nwith open('x', 'rb') as f:\n while True:\n  n = f.readinto(buf)\n  if n == 0:\n   break\n  h.update(buf if n == 256 else buf[:n])\n",
        "print(repr(tuple(os.stat('lib'))))",
        "import os\nos.mkdir('lib')",
        "import os\nos.remove('mymod.mpy')",
    ] {
        // `buf if n == 256 else …` is a conditional expression, which the console lacks; every
        // other command mpremote's fs and exec send must parse.
        match parse(src) {
            Ok(_) => {}
            Err(e) => assert!(src.contains(" else buf"), "{src:?}: {e}"),
        }
    }
}

// ---------------------------------------------------------------- the console protocol

use console::{Console, Event};

/// Feeds `input` to `con`, running programs on `m` (their output cooked, errors framed by
/// `finish`); returns what the console sent and the non-program events.
fn drive(con: &mut Console, m: &mut Mock, input: &[u8]) -> (Vec<u8>, Vec<Event>) {
    let mut out = Vec::new();
    let mut events = Vec::new();
    for &b in input {
        match con.feed(b, &mut out) {
            Some(Event::Run { source, mode }) => {
                let err = run(m, &source, mode).err().map(|e| format!("{e}\n"));
                let printed = core::mem::take(&mut m.out);
                console::write_cooked(&mut out, printed.as_bytes());
                con.finish(err.as_deref(), &mut out);
            }
            Some(Event::Command(c)) => {
                out.extend_from_slice(format!("[command {c}]\r\n").as_bytes());
                con.prompt(&mut out);
                events.push(Event::Command(c));
            }
            Some(e) => events.push(e),
            None => {}
        }
    }
    (out, events)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn friendly_prompt_edits_lines_continues_blocks_and_runs_commands() {
    let mut con = Console::new("minivm test\nType %help", 4096);
    let mut m = Mock::new();
    let mut out = Vec::new();
    con.ready(&mut out);
    assert_eq!(text(&out), "minivm test\r\nType %help\r\n>>> ");
    let (out, ev) = drive(&mut con, &mut m, b"x = 12\x7f3\r\nx\r");
    assert_eq!(text(&out), "x = 12\x08 \x083\r\n>>> x\r\n13\r\n>>> ");
    assert!(ev.is_empty());
    // A block: continuation prompts until a blank line; CRLF is one line end.
    let (out, _) = drive(
        &mut con,
        &mut m,
        b"for i in [1, 2]:\r\n    print(i)\r\n\r\n",
    );
    assert_eq!(
        text(&out),
        "for i in [1, 2]:\r\n...     print(i)\r\n... \r\n1\r\n2\r\n>>> "
    );
    // Errors print and the prompt comes back; arrow keys are swallowed; % is a board command.
    let (out, ev) = drive(&mut con, &mut m, b"nope\r\x1b[Aok = 1\r%info \r");
    assert_eq!(
        text(&out),
        "nope\r\nNameError: name 'nope' isn't defined\r\n>>> ok = 1\r\n>>> %info \r\n[command info]\r\n>>> "
    );
    assert_eq!(ev, [Event::Command("info".into())]);
    // Ctrl-D in a block runs what there is, the line being typed included.
    let (out, _) = drive(&mut con, &mut m, b"for i in [7]:\r    print(i)\x04");
    assert_eq!(text(&out), "for i in [7]:\r\n...     print(i)\r\n7\r\n>>> ");
    // Ctrl-C drops the line (and any block); Ctrl-D on an empty line asks for a soft reboot.
    let (out, ev) = drive(&mut con, &mut m, b"if 1:\r  garbage\x03\x04");
    assert_eq!(text(&out), "if 1:\r\n...   garbage\r\n>>> \r\n");
    assert_eq!(ev, [Event::SoftReboot]);
    let mut out = Vec::new();
    con.rebooted(&mut out);
    con.ready(&mut out);
    assert_eq!(
        text(&out),
        "MPY: soft reboot\r\nminivm test\r\nType %help\r\n>>> "
    );
}

#[test]
fn friendly_paste_mode_runs_a_program() {
    let mut con = Console::new("b", 4096);
    let mut m = Mock::new();
    let (out, _) = drive(&mut con, &mut m, b"\x05x = 1\rif x:\r    print('p')\r\x04");
    assert_eq!(
        text(&out),
        "\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== x = 1\r\n=== if x:\r\n===     print('p')\r\n=== \r\np\r\n>>> "
    );
    let (out, _) = drive(&mut con, &mut m, b"\x05print('no')\x03");
    assert!(
        text(&out).ends_with("print('no')\r\n>>> "),
        "{}",
        text(&out)
    );
}

#[test]
fn raw_repl_frames_output_and_errors_as_mpremote_expects() {
    let mut con = Console::new("b", 4096);
    let mut m = Mock::new();
    let (out, _) = drive(&mut con, &mut m, b"\r\x03\r\x01");
    assert_eq!(
        text(&out),
        "\r\n>>> \r\n>>> \r\n>>> \r\nraw REPL; CTRL-B to exit\r\n>"
    );
    assert!(con.is_raw());
    let (out, _) = drive(&mut con, &mut m, b"print('a')\nprint('b', end='')\x04");
    assert_eq!(text(&out), "OKa\r\nb\x04\x04>");
    let (out, _) = drive(&mut con, &mut m, b"fail('x')\x04");
    assert_eq!(text(&out), "OK\x04ValueError: x\r\n\x04>");
    let (out, _) = drive(&mut con, &mut m, b"x = (\x04");
    assert_eq!(
        text(&out),
        "OK\x04SyntaxError: expected an expression, found end of line at column 6\r\n\x04>"
    );
    // Ctrl-C drops a half-typed command; Ctrl-A starts over; an empty command soft-reboots.
    let (out, ev) = drive(&mut con, &mut m, b"garbage\x03print(1)\x04junk\x01\x04");
    assert_eq!(
        text(&out),
        "OK1\r\n\x04\x04>raw REPL; CTRL-B to exit\r\n>OK\r\n"
    );
    assert_eq!(ev, [Event::SoftReboot]);
    let mut out = Vec::new();
    con.rebooted(&mut out);
    con.ready(&mut out);
    assert_eq!(
        text(&out),
        "MPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>"
    );
    // Ctrl-B goes back to the friendly prompt.
    let (out, _) = drive(&mut con, &mut m, b"\x02");
    assert_eq!(text(&out), "\r\nb\r\n>>> ");
    assert!(!con.is_raw());
}

#[test]
fn raw_paste_grants_windows_and_survives_cancellation() {
    let mut con = Console::new("b", 4096);
    let mut m = Mock::new();
    drive(&mut con, &mut m, b"\x01");
    let (out, _) = drive(&mut con, &mut m, b"\x05A\x01");
    let mut want = b"R\x01".to_vec();
    want.extend_from_slice(&console::PASTE_WINDOW.to_le_bytes());
    want.push(0x01);
    assert_eq!(out, want);
    // 300 bytes of program: one `\x01` per 128 taken, then the acknowledgement and the result.
    let prog = format!("x = '{}'\nprint(x)", "a".repeat(300 - 15));
    assert_eq!(prog.len(), 300);
    let (out, _) = drive(&mut con, &mut m, prog.as_bytes());
    assert_eq!(out, b"\x01\x01");
    let (out, _) = drive(&mut con, &mut m, b"\x04");
    assert_eq!(text(&out), format!("\x04{}\r\n\x04\x04>", "a".repeat(285)));
    // Ctrl-C in the middle of a paste ends it with KeyboardInterrupt, and raw REPL goes on.
    drive(&mut con, &mut m, b"\x05A\x01");
    let (out, _) = drive(&mut con, &mut m, b"print('half\x03");
    assert_eq!(text(&out), "\x04\x04KeyboardInterrupt\r\n\x04>");
    let (out, _) = drive(&mut con, &mut m, b"print('ok')\x04");
    assert_eq!(text(&out), "OKok\r\n\x04\x04>");
    // An unknown raw-paste variant is refused, the raw REPL stays usable.
    let (out, _) = drive(&mut con, &mut m, b"\x05B\x01print(2)\x04");
    assert_eq!(text(&out), "R\x00>OK2\r\n\x04\x04>");
}

#[test]
fn programs_over_the_limit_get_a_memory_error_not_a_crash() {
    let mut con = Console::new("b", 64);
    let mut m = Mock::new();
    drive(&mut con, &mut m, b"\x01");
    let (out, _) = drive(
        &mut con,
        &mut m,
        format!("{}\x04", "x".repeat(100)).as_bytes(),
    );
    assert_eq!(
        text(&out),
        "OK\x04MemoryError: program longer than 64 bytes\r\n\x04>"
    );
    // Raw paste: the device asks the host to stop ("\x04"), then reports once the host ends.
    drive(&mut con, &mut m, b"\x05A\x01");
    let (out, _) = drive(&mut con, &mut m, "y".repeat(100).as_bytes());
    assert_eq!(out.iter().filter(|&&b| b == 0x04).count(), 1);
    assert_eq!(*out.last().unwrap(), 0x04);
    let (out, _) = drive(&mut con, &mut m, b"\x04");
    assert_eq!(
        text(&out),
        "\x04MemoryError: program longer than 64 bytes\r\n\x04>"
    );
    let (out, _) = drive(&mut con, &mut m, b"print(3)\x04");
    assert_eq!(text(&out), "OK3\r\n\x04\x04>");
}

#[test]
fn any_byte_soup_leaves_a_console_that_still_answers() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for round in 0..300 {
        let mut con = Console::new("b", 512);
        let mut m = Mock::new();
        let mut soup = Vec::new();
        for _ in 0..rng.below(400) {
            // Biased toward the control bytes the protocol cares about.
            let b = match rng.below(4) {
                0 => [0x01, 0x02, 0x03, 0x04, 0x05, b'A', b'\r', b'\n', 0x1b][rng.below(9)],
                _ => rng.next() as u8,
            };
            soup.push(b);
        }
        drive(&mut con, &mut m, &soup);
        // What mpremote does to take over: interrupt, enter raw REPL, run a command.
        let (out, _) = drive(
            &mut con,
            &mut m,
            b"\r\x03\x03\x04\r\x03\r\x01print('alive')\x04",
        );
        let t = text(&out);
        assert!(t.ends_with("OKalive\r\n\x04\x04>"), "round {round}: {t:?}");
    }
}
