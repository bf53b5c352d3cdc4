//! Recursive-descent parser: tokens → [`Stmt`]s.
//!
//! Grammar (`;` separates statements on one line):
//!
//! ```text
//! stmt     := 'import' dotted ['as' NAME] (',' dotted ['as' NAME])*
//!           | 'from' dotted 'import' ('*' | names | '(' names [','] ')')
//!           | 'pass'
//!           | exprlist ('=' exprlist)*          -- all but the last are targets
//! names    := NAME ['as' NAME] (',' NAME ['as' NAME])*
//! exprlist := expr (',' expr)* [',']           -- more than one, or a trailing comma: a tuple
//! expr     := ['not'] sum [cmpop sum]          -- comparisons do not chain
//! sum      := term (('+' | '-') term)*
//! term     := unary ('*' unary)*
//! unary    := '-' unary | '+' unary | postfix  -- '-' INT folds into a negative literal
//! postfix  := atom ('.' NAME | '(' args ')' | '[' expr ']')*
//! args     := [arg (',' arg)* [',']]           -- arg := expr | NAME '=' expr, keywords last
//! atom     := NAME | INT | FLOAT | STR+ | 'None' | 'True' | 'False'
//!           | '(' [exprlist] ')' | '[' [expr (',' expr)* [',']] ']'
//!           | '{' [expr ':' expr (',' expr ':' expr)* [',']] '}'
//! ```
//!
//! Nesting is bounded by [`MAX_DEPTH`] so hostile input cannot overflow the (small, on the Pico)
//! stack, neither here nor in the evaluator or in `Drop` of the tree.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::ast::{BinOp, Expr, Stmt, Target, UnaryOp};
use super::lex::{Tok, Token, tokenize};
use super::{SyntaxError, SyntaxErrorKind};

/// Deepest allowed nesting of expressions (brackets, operators, postfix chains, unary signs).
///
/// A level costs a handful of parser frames plus one evaluator frame; 20 keeps the worst line
/// well inside a small device stack while no hand-typed console line comes close.
pub const MAX_DEPTH: usize = 20;

/// Parses one console line into its statements (none for a blank or comment line).
pub fn parse_line(line: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let toks = tokenize(line)?;
    let end_col = line.chars().count() + 1;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        end_col,
    };
    let mut out = Vec::new();
    loop {
        while p.eat_punct(";") {}
        if p.at_end() {
            return Ok(out);
        }
        out.push(p.stmt()?);
        if !p.at_end() && !p.eat_punct(";") {
            return Err(p.unexpected("end of statement"));
        }
    }
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Current expression nesting, checked against [`MAX_DEPTH`].
    depth: usize,
    /// Column reported for errors at the end of the line.
    end_col: usize,
}

type PResult<T> = Result<T, SyntaxError>;

/// Positional and keyword arguments of a call.
type CallArgs = (Vec<Expr>, Vec<(String, Expr)>);

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k).map(|t| &t.tok)
    }

    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end_col, |t| t.col)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.tok.clone());
        self.pos += 1;
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }

    fn is_keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Keyword(q)) if *q == k)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        let hit = self.is_punct(p);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_keyword(&mut self, k: &str) -> bool {
        let hit = self.is_keyword(k);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// The error for the current token when `expected` was wanted.
    fn unexpected(&self, expected: &'static str) -> SyntaxError {
        let kind = match self.toks.get(self.pos) {
            Some(t) => SyntaxErrorKind::Unexpected {
                found: t.tok.clone(),
                expected,
            },
            None => SyntaxErrorKind::UnexpectedEnd { expected },
        };
        SyntaxError::new(kind, self.col())
    }

    fn expect_punct(&mut self, p: &'static str) -> PResult<()> {
        if self.eat_punct(p) {
            return Ok(());
        }
        let quoted = match p {
            ")" => "')'",
            "]" => "']'",
            "}" => "'}'",
            ":" => "':'",
            _ => "a delimiter",
        };
        Err(self.unexpected(quoted))
    }

    fn name(&mut self) -> PResult<String> {
        match self.peek() {
            Some(Tok::Name(n)) => {
                let n = n.clone();
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.unexpected("a name")),
        }
    }

    /// Enters one nesting level; pair with `self.depth -= 1` (or [`Parser::leave`]).
    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH {
            return Err(SyntaxError::new(SyntaxErrorKind::TooDeep, self.col()));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self, levels: usize) {
        self.depth = self.depth.saturating_sub(levels);
    }

    fn stmt(&mut self) -> PResult<Stmt> {
        let col = self.col();
        match self.peek() {
            Some(Tok::Keyword("import")) => {
                self.pos += 1;
                self.import()
            }
            Some(Tok::Keyword("from")) => {
                self.pos += 1;
                self.import_from()
            }
            Some(Tok::Keyword("pass")) => {
                self.pos += 1;
                Ok(Stmt::Pass)
            }
            Some(Tok::Keyword(k)) if !matches!(*k, "None" | "True" | "False" | "not") => {
                Err(SyntaxError::new(SyntaxErrorKind::Unsupported(k), col))
            }
            _ => self.assign_or_expr(),
        }
    }

    fn dotted(&mut self) -> PResult<Vec<String>> {
        if self.is_punct(".") {
            return Err(SyntaxError::new(
                SyntaxErrorKind::Unsupported("relative import"),
                self.col(),
            ));
        }
        let mut parts = Vec::from([self.name()?]);
        while self.eat_punct(".") {
            parts.push(self.name()?);
        }
        Ok(parts)
    }

    fn alias(&mut self) -> PResult<Option<String>> {
        if self.eat_keyword("as") {
            self.name().map(Some)
        } else {
            Ok(None)
        }
    }

    fn import(&mut self) -> PResult<Stmt> {
        let module = self.dotted()?;
        let alias = self.alias()?;
        if self.is_punct(",") {
            // `import a, b` is legal Python, but one module per statement keeps errors clear.
            return Err(SyntaxError::new(
                SyntaxErrorKind::Unsupported("import of several modules"),
                self.col(),
            ));
        }
        Ok(Stmt::Import { module, alias })
    }

    fn import_from(&mut self) -> PResult<Stmt> {
        let module = self.dotted()?;
        if !self.eat_keyword("import") {
            return Err(self.unexpected("'import'"));
        }
        if self.eat_punct("*") {
            return Ok(Stmt::FromImportStar { module });
        }
        let paren = self.eat_punct("(");
        let mut names = Vec::new();
        loop {
            let n = self.name()?;
            names.push((n, self.alias()?));
            if !self.eat_punct(",") {
                break;
            }
            // A trailing comma is only legal inside parentheses.
            if paren && self.is_punct(")") {
                break;
            }
        }
        if paren {
            self.expect_punct(")")?;
        }
        Ok(Stmt::FromImport { module, names })
    }

    fn assign_or_expr(&mut self) -> PResult<Stmt> {
        let mut parts = Vec::from([(self.col(), self.exprlist()?)]);
        while self.eat_punct("=") {
            parts.push((self.col(), self.exprlist()?));
        }
        let Some((_, value)) = parts.pop() else {
            return Err(self.unexpected("an expression"));
        };
        if parts.is_empty() {
            return Ok(Stmt::Expr(value));
        }
        let mut targets = Vec::with_capacity(parts.len());
        for (col, e) in parts {
            targets.push(match e {
                Expr::Name(n) => Target::Name(n),
                Expr::Attr(obj, n) => Target::Attr(*obj, n),
                _ => return Err(SyntaxError::new(SyntaxErrorKind::InvalidTarget, col)),
            });
        }
        Ok(Stmt::Assign { targets, value })
    }

    /// `a, b` → a tuple; a single expression without a trailing comma → itself.
    fn exprlist(&mut self) -> PResult<Expr> {
        let first = self.expr()?;
        if !self.is_punct(",") {
            return Ok(first);
        }
        let mut items = Vec::from([first]);
        while self.eat_punct(",") {
            if self.at_end() || self.is_punct("=") || self.is_punct(")") || self.is_punct(";") {
                break;
            }
            items.push(self.expr()?);
        }
        Ok(Expr::Tuple(items))
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.expr_inner();
        self.leave(1);
        e
    }

    fn expr_inner(&mut self) -> PResult<Expr> {
        if self.eat_keyword("not") {
            let e = self.expr()?;
            return Ok(Expr::Unary(UnaryOp::Not, Box::new(e)));
        }
        let lhs = self.sum()?;
        let Some(op) = self.cmp_op() else {
            return Ok(lhs);
        };
        self.pos += 1;
        let rhs = self.sum()?;
        if self.cmp_op().is_some() {
            return Err(SyntaxError::new(
                SyntaxErrorKind::Unsupported("chained comparison"),
                self.col(),
            ));
        }
        Ok(Expr::Binary(op, Box::new(lhs), Box::new(rhs)))
    }

    fn cmp_op(&self) -> Option<BinOp> {
        match self.peek() {
            Some(Tok::Punct("==")) => Some(BinOp::Eq),
            Some(Tok::Punct("!=")) => Some(BinOp::Ne),
            Some(Tok::Punct("<")) => Some(BinOp::Lt),
            Some(Tok::Punct("<=")) => Some(BinOp::Le),
            Some(Tok::Punct(">")) => Some(BinOp::Gt),
            Some(Tok::Punct(">=")) => Some(BinOp::Ge),
            _ => None,
        }
    }

    /// Left-associative chain; each operator nests the tree one level, so each counts as depth.
    fn sum(&mut self) -> PResult<Expr> {
        let mut lhs = self.term()?;
        let mut levels = 0;
        let r = loop {
            let op = if self.is_punct("+") {
                BinOp::Add
            } else if self.is_punct("-") {
                BinOp::Sub
            } else {
                break Ok(lhs);
            };
            self.pos += 1;
            if let Err(e) = self.enter() {
                break Err(e);
            }
            levels += 1;
            match self.term() {
                Ok(rhs) => lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs)),
                Err(e) => break Err(e),
            }
        };
        self.leave(levels);
        r
    }

    fn term(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        let mut levels = 0;
        let r = loop {
            if !self.eat_punct("*") {
                break Ok(lhs);
            }
            if let Err(e) = self.enter() {
                break Err(e);
            }
            levels += 1;
            match self.unary() {
                Ok(rhs) => lhs = Expr::Binary(BinOp::Mul, Box::new(lhs), Box::new(rhs)),
                Err(e) => break Err(e),
            }
        };
        self.leave(levels);
        r
    }

    fn unary(&mut self) -> PResult<Expr> {
        let neg = if self.is_punct("-") {
            true
        } else if self.is_punct("+") {
            false
        } else {
            return self.postfix();
        };
        self.pos += 1;
        // `-5` is one literal, so the host sees `int(-5)`; but `-5 .x` is `-(5 .x)` in Python.
        if let (true, Some(Tok::Int(v))) = (neg, self.peek()) {
            let v = -*v;
            let postfix_follows = matches!(self.peek_at(1), Some(Tok::Punct("." | "(" | "[")));
            if !postfix_follows {
                self.pos += 1;
                return Ok(Expr::Int(v));
            }
        }
        self.enter()?;
        let e = self.unary();
        self.leave(1);
        let e = e?;
        Ok(if neg {
            Expr::Unary(UnaryOp::Neg, Box::new(e))
        } else {
            e
        })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.atom()?;
        let mut levels = 0;
        let r = loop {
            if !(self.is_punct(".") || self.is_punct("(") || self.is_punct("[")) {
                break Ok(e);
            }
            if let Err(err) = self.enter() {
                break Err(err);
            }
            levels += 1;
            let step = if self.eat_punct(".") {
                self.name().map(|n| Expr::Attr(Box::new(e), n))
            } else if self.eat_punct("(") {
                self.call_args().map(|(args, kwargs)| Expr::Call {
                    func: Box::new(e),
                    args,
                    kwargs,
                })
            } else {
                self.pos += 1;
                self.expr().and_then(|i| {
                    self.expect_punct("]")?;
                    Ok(Expr::Subscript(Box::new(e), Box::new(i)))
                })
            };
            match step {
                Ok(next) => e = next,
                Err(err) => break Err(err),
            }
        };
        self.leave(levels);
        r
    }

    /// Arguments after `(`, through the closing `)`.
    fn call_args(&mut self) -> PResult<CallArgs> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(String, Expr)> = Vec::new();
        while !self.eat_punct(")") {
            let col = self.col();
            let keyword = match (self.peek(), self.peek_at(1)) {
                (Some(Tok::Name(n)), Some(Tok::Punct("="))) => Some(n.clone()),
                _ => None,
            };
            if let Some(k) = keyword {
                self.pos += 2;
                if kwargs.iter().any(|(n, _)| *n == k) {
                    return Err(SyntaxError::new(SyntaxErrorKind::RepeatedKeyword(k), col));
                }
                let v = self.expr()?;
                kwargs.push((k, v));
            } else {
                if self.is_punct("*") {
                    return Err(SyntaxError::new(
                        SyntaxErrorKind::Unsupported("argument unpacking"),
                        col,
                    ));
                }
                let v = self.expr()?;
                if !kwargs.is_empty() {
                    return Err(SyntaxError::new(
                        SyntaxErrorKind::PositionalAfterKeyword,
                        col,
                    ));
                }
                args.push(v);
            }
            if !self.eat_punct(",") {
                self.expect_punct(")")?;
                break;
            }
        }
        Ok((args, kwargs))
    }

    fn atom(&mut self) -> PResult<Expr> {
        let col = self.col();
        let Some(tok) = self.bump() else {
            return Err(SyntaxError::new(
                SyntaxErrorKind::UnexpectedEnd {
                    expected: "an expression",
                },
                col,
            ));
        };
        match tok {
            Tok::Name(n) => Ok(Expr::Name(n)),
            Tok::Int(v) => Ok(Expr::Int(v)),
            Tok::Float(b) => Ok(Expr::Float(b)),
            Tok::Str(mut s) => {
                // Adjacent literals concatenate, as in Python.
                while let Some(Tok::Str(more)) = self.peek() {
                    s.push_str(more);
                    self.pos += 1;
                }
                Ok(Expr::Str(s))
            }
            Tok::Keyword("None") => Ok(Expr::None),
            Tok::Keyword("True") => Ok(Expr::Bool(true)),
            Tok::Keyword("False") => Ok(Expr::Bool(false)),
            // Bracket depth is counted by the `expr` each level goes through.
            Tok::Punct("(") => self.paren(),
            Tok::Punct("[") => self.list(),
            Tok::Punct("{") => self.dict(),
            other => {
                self.pos -= 1;
                let kind = match other {
                    Tok::Keyword(k) => SyntaxErrorKind::Unsupported(k),
                    found => SyntaxErrorKind::Unexpected {
                        found,
                        expected: "an expression",
                    },
                };
                Err(SyntaxError::new(kind, col))
            }
        }
    }

    /// After `(`: `()`, a parenthesised expression, or a tuple.
    fn paren(&mut self) -> PResult<Expr> {
        if self.eat_punct(")") {
            return Ok(Expr::Tuple(Vec::new()));
        }
        let e = self.exprlist()?;
        self.expect_punct(")")?;
        Ok(e)
    }

    /// After `[`: list items through `]`.
    fn list(&mut self) -> PResult<Expr> {
        let mut items = Vec::new();
        while !self.eat_punct("]") {
            items.push(self.expr()?);
            if !self.eat_punct(",") {
                self.expect_punct("]")?;
                break;
            }
        }
        Ok(Expr::List(items))
    }

    /// After `{`: `key: value` pairs through `}`.
    fn dict(&mut self) -> PResult<Expr> {
        let mut pairs = Vec::new();
        while !self.eat_punct("}") {
            let k = self.expr()?;
            self.expect_punct(":")?;
            let v = self.expr()?;
            pairs.push((k, v));
            if !self.eat_punct(",") {
                self.expect_punct("}")?;
                break;
            }
        }
        Ok(Expr::Dict(pairs))
    }
}
