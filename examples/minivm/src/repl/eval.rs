//! Evaluator: walks a [`Stmt`] against a [`ReplHost`].
//!
//! Order of evaluation follows Python: callee before arguments, arguments and items left to
//! right, dict key before value, an assignment's value before its targets (targets left to right).

use alloc::vec::Vec;

use super::ReplHost;
use super::ast::{Expr, Stmt, Target};

/// Executes one statement. Expression statements print their value's repr unless it is `None`.
pub fn exec_stmt<H: ReplHost + ?Sized>(host: &mut H, stmt: &Stmt) -> Result<(), H::Error> {
    match stmt {
        Stmt::Import { module, alias } => {
            let full = module.join(".");
            let leaf = host.import(&full)?;
            match (alias, module.first()) {
                // `import a.b as c` binds the submodule itself.
                (Some(a), _) => host.store_name(a, leaf),
                // `import a.b` binds the top-level package `a`.
                (None, Some(top)) if module.len() > 1 => {
                    let top_mod = host.import(top)?;
                    host.store_name(top, top_mod)
                }
                (None, _) => host.store_name(&full, leaf),
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
            Ok(())
        }
        Stmt::FromImportStar { module } => {
            let m = host.import(&module.join("."))?;
            host.import_star(&m)
        }
        Stmt::Assign { targets, value } => {
            let v = eval_expr(host, value)?;
            for t in targets {
                match t {
                    Target::Name(n) => host.store_name(n, v.clone())?,
                    Target::Attr(obj, n) => {
                        let o = eval_expr(host, obj)?;
                        host.setattr(&o, n, v.clone())?;
                    }
                }
            }
            Ok(())
        }
        Stmt::Expr(e) => {
            let v = eval_expr(host, e)?;
            if host.is_none(&v) {
                Ok(())
            } else {
                host.print_repr(&v)
            }
        }
        Stmt::Pass => Ok(()),
    }
}

/// Evaluates one expression. Recursion depth is bounded by the parser's nesting limit.
pub fn eval_expr<H: ReplHost + ?Sized>(host: &mut H, e: &Expr) -> Result<H::Value, H::Error> {
    match e {
        Expr::Name(n) => host.load_name(n),
        Expr::Int(i) => host.int(*i),
        Expr::Float(b) => host.float(f64::from_bits(*b)),
        Expr::Str(s) => host.str(s),
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
        Expr::Unary(op, x) => {
            let x = eval_expr(host, x)?;
            host.unary_op(*op, &x)
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
