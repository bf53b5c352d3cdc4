//! Evaluator: walks [`Stmt`]s against a [`ReplHost`].
//!
//! Order of evaluation follows Python: callee before arguments, arguments and items left to
//! right, dict key before value, an assignment's value before its targets (targets left to right),
//! `and`/`or` short-circuit. `with` calls `__exit__` with the exception (or three `None`s) and a
//! true result suppresses it; `finally` runs on every way out of its `try`, and an exception or
//! `break` in it replaces what was going on. Every loop iteration calls [`ReplHost::poll`], so
//! Ctrl-C stops `while 1: pass`.

use alloc::vec::Vec;

use super::ReplHost;
use super::ast::{BoolOp, Expr, Handler, Stmt, Target};

/// Whether expression statements print their value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The friendly prompt: `x` prints `repr(x)` unless it is `None` (Python's "single" input).
    Interactive,
    /// A program (the raw REPL, a pasted script): expression values are dropped ("file" input).
    File,
}

/// How a block ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// It ran to its end.
    Next,
    /// `break`.
    Break,
    /// `continue`.
    Continue,
}

/// State of one program run.
struct Cx<V> {
    mode: Mode,
    /// The exceptions being handled by enclosing `except` clauses (a bare `raise` re-raises the
    /// innermost).
    handling: Vec<V>,
}

/// Executes a parsed program. `break`/`continue` cannot escape it (the parser only allows them
/// inside loops).
pub fn exec_program<H: ReplHost + ?Sized>(
    host: &mut H,
    stmts: &[Stmt],
    mode: Mode,
) -> Result<(), H::Error> {
    let mut cx = Cx {
        mode,
        handling: Vec::new(),
    };
    exec_block(host, stmts, &mut cx).map(|_| ())
}

/// Executes one statement.
pub fn exec_stmt<H: ReplHost + ?Sized>(
    host: &mut H,
    stmt: &Stmt,
    mode: Mode,
) -> Result<(), H::Error> {
    exec_program(host, core::slice::from_ref(stmt), mode)
}

fn exec_block<H: ReplHost + ?Sized>(
    host: &mut H,
    stmts: &[Stmt],
    cx: &mut Cx<H::Value>,
) -> Result<Flow, H::Error> {
    for s in stmts {
        let flow = exec(host, s, cx)?;
        if flow != Flow::Next {
            return Ok(flow);
        }
    }
    Ok(Flow::Next)
}

fn exec<H: ReplHost + ?Sized>(
    host: &mut H,
    stmt: &Stmt,
    cx: &mut Cx<H::Value>,
) -> Result<Flow, H::Error> {
    match stmt {
        Stmt::Import { module, alias } => {
            let full = module.join(".");
            let leaf = host.import(&full)?;
            match (alias, module.first()) {
                // `import a.b as c` binds the submodule itself.
                (Some(a), _) => host.store_name(a, leaf)?,
                // `import a.b` binds the top-level package `a`.
                (None, Some(top)) if module.len() > 1 => {
                    let top_mod = host.import(top)?;
                    host.store_name(top, top_mod)?
                }
                (None, _) => host.store_name(&full, leaf)?,
            }
        }
        Stmt::FromImport { module, names } => {
            let full = module.join(".");
            let m = host.import(&full)?;
            for (name, alias) in names {
                let v = match host.getattr(&m, name) {
                    Ok(v) => v,
                    // Not an attribute (yet): it may be a submodule, as in Python's `from pkg import sub`.
                    Err(e) => {
                        let mut sub = full.clone();
                        sub.push('.');
                        sub.push_str(name);
                        host.import(&sub).map_err(|_| e)?
                    }
                };
                host.store_name(alias.as_deref().unwrap_or(name), v)?;
            }
        }
        Stmt::FromImportStar { module } => {
            let m = host.import(&module.join("."))?;
            host.import_star(&m)?;
        }
        Stmt::Assign { targets, value } => {
            let v = eval_expr(host, value)?;
            for t in targets {
                assign(host, t, v.clone())?;
            }
        }
        Stmt::AugAssign { target, op, value } => match target {
            Target::Name(n) => {
                let cur = host.load_name(n)?;
                let rhs = eval_expr(host, value)?;
                let v = host.inplace_op(*op, &cur, &rhs)?;
                host.store_name(n, v)?;
            }
            Target::Attr(obj, n) => {
                let o = eval_expr(host, obj)?;
                let cur = host.getattr(&o, n)?;
                let rhs = eval_expr(host, value)?;
                let v = host.inplace_op(*op, &cur, &rhs)?;
                host.setattr(&o, n, v)?;
            }
            Target::Subscript(obj, index) => {
                let o = eval_expr(host, obj)?;
                let i = eval_expr(host, index)?;
                let cur = host.subscript(&o, &i)?;
                let rhs = eval_expr(host, value)?;
                let v = host.inplace_op(*op, &cur, &rhs)?;
                host.store_subscript(&o, &i, v)?;
            }
            // The parser never builds it.
            Target::Tuple(_) => {
                return Err(
                    host.error("SyntaxError", "illegal expression for augmented assignment")
                );
            }
        },
        Stmt::Expr(e) => {
            let v = eval_expr(host, e)?;
            if cx.mode == Mode::Interactive && !host.is_none(&v) {
                host.print_repr(&v)?;
            }
        }
        Stmt::Pass => {}
        Stmt::Break => return Ok(Flow::Break),
        Stmt::Continue => return Ok(Flow::Continue),
        Stmt::Raise(None) => {
            return Err(match cx.handling.last() {
                Some(v) => {
                    let v = v.clone();
                    host.raise(&v)
                }
                None => host.error("RuntimeError", "no active exception to reraise"),
            });
        }
        Stmt::Raise(Some(e)) => {
            let v = eval_expr(host, e)?;
            return Err(host.raise(&v));
        }
        Stmt::Assert { test, msg } => {
            let t = eval_expr(host, test)?;
            if !host.truthy(&t)? {
                let class = host.load_name("AssertionError")?;
                let args = match msg {
                    Some(m) => Vec::from([eval_expr(host, m)?]),
                    None => Vec::new(),
                };
                let exc = host.call(&class, &args, &[])?;
                return Err(host.raise(&exc));
            }
        }
        Stmt::If { branches, orelse } => {
            for (test, body) in branches {
                let t = eval_expr(host, test)?;
                if host.truthy(&t)? {
                    return exec_block(host, body, cx);
                }
            }
            return exec_block(host, orelse, cx);
        }
        Stmt::While { test, body, orelse } => {
            let mark = host.mark_temporaries();
            loop {
                host.poll()?;
                let t = eval_expr(host, test)?;
                if !host.truthy(&t)? {
                    return exec_block(host, orelse, cx);
                }
                let flow = exec_block(host, body, cx)?;
                host.drop_temporaries(mark);
                if flow == Flow::Break {
                    break;
                }
            }
        }
        Stmt::For {
            target,
            iter,
            body,
            orelse,
        } => {
            let seq = eval_expr(host, iter)?;
            let it = host.iter(&seq)?;
            let mark = host.mark_temporaries();
            loop {
                host.poll()?;
                let Some(item) = host.next(&it)? else {
                    return exec_block(host, orelse, cx);
                };
                assign(host, target, item)?;
                let flow = exec_block(host, body, cx)?;
                host.drop_temporaries(mark);
                if flow == Flow::Break {
                    break;
                }
            }
        }
        Stmt::With { items, body } => return exec_with(host, items, body, cx),
        Stmt::Try {
            body,
            handlers,
            orelse,
            finalbody,
        } => {
            let outcome = match exec_block(host, body, cx) {
                Ok(Flow::Next) => exec_block(host, orelse, cx),
                Ok(flow) => Ok(flow),
                Err(e) => handle(host, e, handlers, cx),
            };
            if finalbody.is_empty() {
                return outcome;
            }
            // `finally` runs whatever happened; its own exception or `break` wins.
            return match exec_block(host, finalbody, cx)? {
                Flow::Next => outcome,
                flow => Ok(flow),
            };
        }
    }
    Ok(Flow::Next)
}

/// Finds the `except` clause for `err` and runs it, or passes `err` on.
fn handle<H: ReplHost + ?Sized>(
    host: &mut H,
    err: H::Error,
    handlers: &[Handler],
    cx: &mut Cx<H::Value>,
) -> Result<Flow, H::Error> {
    for h in handlers {
        let matched = match &h.class {
            None => true,
            Some(c) => {
                let class = eval_expr(host, c)?;
                host.error_matches(&err, &class)?
            }
        };
        if !matched {
            continue;
        }
        let exc = host.error_value(&err);
        if let Some(n) = &h.name {
            host.store_name(n, exc.clone())?;
        }
        cx.handling.push(exc);
        let r = exec_block(host, &h.body, cx);
        cx.handling.pop();
        return r;
    }
    Err(err)
}

/// `with`: enters each manager in order, runs the body, exits them in reverse.
fn exec_with<H: ReplHost + ?Sized>(
    host: &mut H,
    items: &[(Expr, Option<Target>)],
    body: &[Stmt],
    cx: &mut Cx<H::Value>,
) -> Result<Flow, H::Error> {
    let Some(((first, target), rest)) = items.split_first() else {
        return exec_block(host, body, cx);
    };
    let mgr = eval_expr(host, first)?;
    let exit = host.getattr(&mgr, "__exit__")?;
    let enter = host.getattr(&mgr, "__enter__")?;
    let entered = host.call(&enter, &[], &[])?;
    let inner = match target {
        Some(t) => assign(host, t, entered),
        None => Ok(()),
    }
    .and_then(|()| exec_with(host, rest, body, cx));
    match inner {
        Ok(flow) => {
            let none = host.none();
            host.call(&exit, &[none.clone(), none.clone(), none], &[])?;
            Ok(flow)
        }
        Err(e) => {
            let exc = host.error_value(&e);
            let class = host.getattr(&exc, "__class__")?;
            let none = host.none();
            let r = host.call(&exit, &[class, exc, none], &[])?;
            if host.truthy(&r)? {
                Ok(Flow::Next)
            } else {
                Err(e)
            }
        }
    }
}

/// Stores `value` into `target`, unpacking tuples of targets.
fn assign<H: ReplHost + ?Sized>(
    host: &mut H,
    target: &Target,
    value: H::Value,
) -> Result<(), H::Error> {
    match target {
        Target::Name(n) => host.store_name(n, value),
        Target::Attr(obj, n) => {
            let o = eval_expr(host, obj)?;
            host.setattr(&o, n, value)
        }
        Target::Subscript(obj, index) => {
            let o = eval_expr(host, obj)?;
            let i = eval_expr(host, index)?;
            host.store_subscript(&o, &i, value)
        }
        Target::Tuple(targets) => {
            let it = host.iter(&value)?;
            let mut items = Vec::with_capacity(targets.len());
            while items.len() <= targets.len() {
                match host.next(&it)? {
                    Some(v) => items.push(v),
                    None => break,
                }
            }
            if items.len() < targets.len() {
                let msg = alloc::format!("need more than {} values to unpack", items.len());
                return Err(host.error("ValueError", &msg));
            }
            if items.len() > targets.len() {
                let msg = alloc::format!("too many values to unpack (expected {})", targets.len());
                return Err(host.error("ValueError", &msg));
            }
            for (t, v) in targets.iter().zip(items) {
                assign(host, t, v)?;
            }
            Ok(())
        }
    }
}

/// Evaluates one expression. Recursion depth is bounded by the parser's nesting limit.
pub fn eval_expr<H: ReplHost + ?Sized>(host: &mut H, e: &Expr) -> Result<H::Value, H::Error> {
    match e {
        Expr::Name(n) => host.load_name(n),
        Expr::Int(i) => host.int(*i),
        Expr::Float(b) => host.float(f64::from_bits(*b)),
        Expr::Str(s) => host.str(s),
        Expr::Bytes(b) => host.bytes(b),
        Expr::None => Ok(host.none()),
        Expr::Bool(b) => Ok(host.bool(*b)),
        Expr::Tuple(items) => {
            let vs = eval_all(host, items)?;
            host.tuple(vs)
        }
        Expr::List(items) => {
            let vs = eval_all(host, items)?;
            host.list(vs)
        }
        Expr::Dict(pairs) => {
            let mut vs = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                let k = eval_expr(host, k)?;
                let v = eval_expr(host, v)?;
                vs.push((k, v));
            }
            host.dict(vs)
        }
        Expr::Attr(obj, name) => {
            let o = eval_expr(host, obj)?;
            host.getattr(&o, name)
        }
        Expr::Subscript(obj, index) => {
            let o = eval_expr(host, obj)?;
            let i = eval_expr(host, index)?;
            host.subscript(&o, &i)
        }
        Expr::Call { func, args, kwargs } => {
            let f = eval_expr(host, func)?;
            let a = eval_all(host, args)?;
            let mut kw = Vec::with_capacity(kwargs.len());
            for (k, v) in kwargs {
                kw.push((k.as_str(), eval_expr(host, v)?));
            }
            host.call(&f, &a, &kw)
        }
        Expr::Binary(op, l, r) => {
            let l = eval_expr(host, l)?;
            let r = eval_expr(host, r)?;
            host.binary_op(*op, &l, &r)
        }
        Expr::Test(op, l, r) => {
            let l = eval_expr(host, l)?;
            let r = eval_expr(host, r)?;
            host.test_op(*op, &l, &r)
        }
        Expr::Logic(op, l, r) => {
            let l = eval_expr(host, l)?;
            let short = host.truthy(&l)? == (*op == BoolOp::Or);
            if short { Ok(l) } else { eval_expr(host, r) }
        }
        Expr::Unary(op, x) => {
            let x = eval_expr(host, x)?;
            host.unary_op(*op, &x)
        }
        Expr::Slice(a, b, c) => {
            let mut part = |e: &Option<alloc::boxed::Box<Expr>>| match e {
                Some(e) => eval_expr(host, e),
                None => Ok(host.none()),
            };
            let (a, b, c) = (part(a)?, part(b)?, part(c)?);
            host.slice(a, b, c)
        }
        Expr::IfElse { cond, then, orelse } => {
            let c = eval_expr(host, cond)?;
            if host.truthy(&c)? {
                eval_expr(host, then)
            } else {
                eval_expr(host, orelse)
            }
        }
    }
}

fn eval_all<H: ReplHost + ?Sized>(host: &mut H, items: &[Expr]) -> Result<Vec<H::Value>, H::Error> {
    let mut out = Vec::with_capacity(items.len());
    for e in items {
        out.push(eval_expr(host, e)?);
    }
    Ok(out)
}
