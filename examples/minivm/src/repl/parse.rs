//! Recursive-descent parser: tokens → [`Stmt`]s.
//!
//! Grammar (a program is `stmt*`; `;` separates simple statements on one line):
//!
//! ```text
//! stmt      := compound | simple (';' simple)* [';'] NEWLINE
//! compound  := 'if' expr ':' suite ('elif' expr ':' suite)* ['else' ':' suite]
//!            | 'while' expr ':' suite ['else' ':' suite]
//!            | 'for' targets 'in' exprlist ':' suite ['else' ':' suite]
//!            | 'with' expr ['as' target] (',' expr ['as' target])* ':' suite
//!            | 'try' ':' suite (('except' [expr ['as' NAME]] ':' suite)+
//!                               ['else' ':' suite] ['finally' ':' suite]
//!                              | 'finally' ':' suite)
//! suite     := simple (';' simple)* [';'] NEWLINE | NEWLINE INDENT stmt+ DEDENT
//! simple    := 'import' dotted ['as' NAME]
//!            | 'from' dotted 'import' ('*' | names | '(' names [','] ')')
//!            | 'pass' | 'break' | 'continue' | 'raise' [expr] | 'assert' expr [',' expr]
//!            | exprlist ('=' exprlist)*          -- all but the last are targets
//!            | target ('+=' | '-=' | '*=') exprlist
//! names     := NAME ['as' NAME] (',' NAME ['as' NAME])*
//! exprlist  := expr (',' expr)* [',']           -- more than one, or a trailing comma: a tuple
//! expr      := or_test
//! or_test   := and_test ('or' and_test)*
//! and_test  := not_test ('and' not_test)*
//! not_test  := 'not' not_test | comparison
//! comparison:= sum [cmpop sum]                  -- comparisons do not chain
//! cmpop     := '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not' 'in' | 'is' ['not']
//! sum       := term (('+' | '-') term)*
//! term      := unary ('*' unary)*
//! unary     := '-' unary | '+' unary | postfix  -- '-' INT folds into a negative literal
//! postfix   := atom ('.' NAME | '(' args ')' | '[' expr ']')*
//! args      := [arg (',' arg)* [',']]           -- arg := expr | NAME '=' expr, keywords last
//! atom      := NAME | INT | FLOAT | STR+ | BYTES+ | 'None' | 'True' | 'False'
//!            | '(' [exprlist] ')' | '[' [expr (',' expr)* [',']] ']'
//!            | '{' [expr ':' expr (',' expr ':' expr)* [',']] '}'
//! target    := NAME | postfix '.' NAME | postfix '[' expr ']' | '(' targets ')' | '[' targets ']'
//! ```
//!
//! Nesting is bounded by [`MAX_DEPTH`] (expressions and blocks alike) so hostile input cannot
//! overflow the (small, on the Pico) stack, neither here nor in the evaluator or in `Drop` of the
//! tree.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::ast::{BinOp, BoolOp, Expr, Handler, Stmt, Target, TestOp, UnaryOp};
use super::lex::{Tok, Token, tokenize};
use super::{SyntaxError, SyntaxErrorKind};

/// Deepest allowed nesting of expressions (brackets, operators, postfix chains, unary signs) and
/// of blocks.
///
/// A level costs a handful of parser frames plus one evaluator frame; 20 keeps the worst input
/// well inside a small device stack while no hand-typed console line comes close.
pub const MAX_DEPTH: usize = 20;

/// Parses console source (a line, or a program of several lines) into its statements (none for
/// blank or comment-only input).
pub fn parse(src: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let toks = tokenize(src)?;
    let last_line = src.lines().count().max(1);
    let end_col = src.lines().last().map_or(0, |l| l.chars().count()) + 1;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        loops: 0,
        end: (last_line, end_col),
    };
    let mut out = Vec::new();
    while !p.at_end() {
        if matches!(p.peek(), Some(Tok::Indent)) {
            return Err(SyntaxError::new(
                SyntaxErrorKind::Indentation("unexpected indent"),
                p.line(),
                p.col(),
            ));
        }
        p.stmt(&mut out)?;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Current nesting of expressions and blocks, checked against [`MAX_DEPTH`].
    depth: usize,
    /// Loops enclosing the statement being parsed (`break`/`continue` need one).
    loops: usize,
    /// Line and column reported for errors at the end of the input.
    end: (usize, usize),
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

    fn line(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end.0, |t| t.line)
    }

    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end.1, |t| t.col)
    }

    fn err(&self, kind: SyntaxErrorKind) -> SyntaxError {
        SyntaxError::new(kind, self.line(), self.col())
    }

    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// At the end of a simple statement: its line's end, or a `;`.
    fn at_stmt_end(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(Tok::Newline) | Some(Tok::Punct(";"))
        )
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
            Some(Token {
                tok: Tok::Newline, ..
            })
            | None => SyntaxErrorKind::UnexpectedEnd { expected },
            Some(t) => SyntaxErrorKind::Unexpected {
                found: t.tok.clone(),
                expected,
            },
        };
        self.err(kind)
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
            return Err(self.err(SyntaxErrorKind::TooDeep));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self, levels: usize) {
        self.depth = self.depth.saturating_sub(levels);
    }

    // ------------------------------------------------------------ statements

    /// One statement: a compound one, or a line of simple ones (all pushed onto `out`).
    fn stmt(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        match self.peek() {
            Some(Tok::Keyword(k @ ("if" | "while" | "for" | "with" | "try"))) => {
                let k = *k;
                self.pos += 1;
                self.enter()?;
                let s = match k {
                    "if" => self.if_stmt(),
                    "while" => self.while_stmt(),
                    "for" => self.for_stmt(),
                    "with" => self.with_stmt(),
                    _ => self.try_stmt(),
                };
                self.leave(1);
                out.push(s?);
                Ok(())
            }
            Some(Tok::Newline) => {
                // A line holding only `;`s ends here.
                self.pos += 1;
                Ok(())
            }
            _ => self.simple_line(out),
        }
    }

    /// Simple statements separated by `;` up to the end of the line.
    fn simple_line(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        loop {
            while self.eat_punct(";") {}
            if matches!(self.peek(), None | Some(Tok::Newline)) {
                self.pos += 1;
                return Ok(());
            }
            if self.eat_keyword("import") {
                // `import a, b as c` is one statement per module.
                loop {
                    out.push(self.import()?);
                    if !self.eat_punct(",") {
                        break;
                    }
                }
            } else {
                out.push(self.simple()?);
            }
            if !self.at_stmt_end() {
                return Err(self.unexpected("end of statement"));
            }
        }
    }

    /// A block after `:`: simple statements on the same line, or an indented block.
    fn suite(&mut self) -> PResult<Vec<Stmt>> {
        self.expect_punct(":")?;
        let mut body = Vec::new();
        if !matches!(self.peek(), Some(Tok::Newline)) {
            let at = self.err(SyntaxErrorKind::UnexpectedEnd {
                expected: "a statement",
            });
            self.simple_line(&mut body)?;
            if body.is_empty() {
                return Err(at);
            }
            return Ok(body);
        }
        self.pos += 1;
        if !matches!(self.peek(), Some(Tok::Indent)) {
            return Err(self.err(SyntaxErrorKind::Indentation("expected an indented block")));
        }
        self.pos += 1;
        while !matches!(self.peek(), None | Some(Tok::Dedent)) {
            if matches!(self.peek(), Some(Tok::Indent)) {
                return Err(self.err(SyntaxErrorKind::Indentation("unexpected indent")));
            }
            self.stmt(&mut body)?;
        }
        self.pos += 1;
        Ok(body)
    }

    /// A loop body: `break`/`continue` are allowed inside.
    fn loop_suite(&mut self) -> PResult<Vec<Stmt>> {
        self.loops += 1;
        let body = self.suite();
        self.loops -= 1;
        body
    }

    /// `else:` and its block, if present.
    fn else_suite(&mut self) -> PResult<Vec<Stmt>> {
        if self.eat_keyword("else") {
            self.suite()
        } else {
            Ok(Vec::new())
        }
    }

    fn if_stmt(&mut self) -> PResult<Stmt> {
        let mut branches = Vec::new();
        loop {
            let test = self.expr()?;
            let body = self.suite()?;
            branches.push((test, body));
            if !self.eat_keyword("elif") {
                break;
            }
        }
        let orelse = self.else_suite()?;
        Ok(Stmt::If { branches, orelse })
    }

    fn while_stmt(&mut self) -> PResult<Stmt> {
        let test = self.expr()?;
        let body = self.loop_suite()?;
        let orelse = self.else_suite()?;
        Ok(Stmt::While { test, body, orelse })
    }

    fn for_stmt(&mut self) -> PResult<Stmt> {
        let target = self.target_list()?;
        if !self.eat_keyword("in") {
            return Err(self.unexpected("'in'"));
        }
        let iter = self.exprlist()?;
        let body = self.loop_suite()?;
        let orelse = self.else_suite()?;
        Ok(Stmt::For {
            target,
            iter,
            body,
            orelse,
        })
    }

    fn with_stmt(&mut self) -> PResult<Stmt> {
        let mut items = Vec::new();
        loop {
            let e = self.expr()?;
            let t = if self.eat_keyword("as") {
                Some(self.target()?)
            } else {
                None
            };
            items.push((e, t));
            if !self.eat_punct(",") {
                break;
            }
        }
        let body = self.suite()?;
        Ok(Stmt::With { items, body })
    }

    fn try_stmt(&mut self) -> PResult<Stmt> {
        let body = self.suite()?;
        let mut handlers = Vec::new();
        while self.is_keyword("except") {
            let col = self.col();
            let line = self.line();
            self.pos += 1;
            if handlers.last().is_some_and(|h: &Handler| h.class.is_none()) {
                return Err(SyntaxError::new(
                    SyntaxErrorKind::Unsupported("'except' after a bare 'except'"),
                    line,
                    col,
                ));
            }
            let (class, name) = if self.is_punct(":") {
                (None, None)
            } else {
                let c = self.expr()?;
                let n = if self.eat_keyword("as") {
                    Some(self.name()?)
                } else {
                    None
                };
                (Some(c), n)
            };
            let body = self.suite()?;
            handlers.push(Handler { class, name, body });
        }
        let orelse = if handlers.is_empty() {
            Vec::new()
        } else {
            self.else_suite()?
        };
        let finalbody = if self.eat_keyword("finally") {
            self.suite()?
        } else {
            Vec::new()
        };
        if handlers.is_empty() && finalbody.is_empty() {
            return Err(self.unexpected("'except' or 'finally'"));
        }
        Ok(Stmt::Try {
            body,
            handlers,
            orelse,
            finalbody,
        })
    }

    fn simple(&mut self) -> PResult<Stmt> {
        let (line, col) = (self.line(), self.col());
        match self.peek() {
            Some(Tok::Keyword("from")) => {
                self.pos += 1;
                self.import_from()
            }
            Some(Tok::Keyword("pass")) => {
                self.pos += 1;
                Ok(Stmt::Pass)
            }
            Some(Tok::Keyword(k @ ("break" | "continue"))) => {
                let k = *k;
                if self.loops == 0 {
                    let what = if k == "break" {
                        "'break' outside loop"
                    } else {
                        "'continue' not properly in loop"
                    };
                    return Err(SyntaxError::new(
                        SyntaxErrorKind::OutsideLoop(what),
                        line,
                        col,
                    ));
                }
                self.pos += 1;
                Ok(if k == "break" {
                    Stmt::Break
                } else {
                    Stmt::Continue
                })
            }
            Some(Tok::Keyword("raise")) => {
                self.pos += 1;
                if self.at_stmt_end() {
                    return Ok(Stmt::Raise(None));
                }
                if self.is_keyword("from") {
                    return Err(self.err(SyntaxErrorKind::Unsupported("raise ... from")));
                }
                Ok(Stmt::Raise(Some(self.expr()?)))
            }
            Some(Tok::Keyword("assert")) => {
                self.pos += 1;
                let test = self.expr()?;
                let msg = if self.eat_punct(",") {
                    Some(self.expr()?)
                } else {
                    None
                };
                Ok(Stmt::Assert { test, msg })
            }
            Some(Tok::Keyword(k)) if !matches!(*k, "None" | "True" | "False" | "not") => {
                Err(SyntaxError::new(SyntaxErrorKind::Unsupported(k), line, col))
            }
            _ => self.assign_or_expr(),
        }
    }

    fn dotted(&mut self) -> PResult<Vec<String>> {
        if self.is_punct(".") {
            return Err(self.err(SyntaxErrorKind::Unsupported("relative import")));
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

    /// One `dotted ['as' NAME]` after `import`.
    fn import(&mut self) -> PResult<Stmt> {
        let module = self.dotted()?;
        let alias = self.alias()?;
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
        let first = (self.line(), self.col(), self.exprlist()?);
        for (p, op) in [("+=", BinOp::Add), ("-=", BinOp::Sub), ("*=", BinOp::Mul)] {
            if self.eat_punct(p) {
                let (line, col, e) = first;
                let target = match to_target(e) {
                    Some(t @ (Target::Name(_) | Target::Attr(..) | Target::Subscript(..))) => t,
                    _ => {
                        return Err(SyntaxError::new(SyntaxErrorKind::InvalidTarget, line, col));
                    }
                };
                let value = self.exprlist()?;
                return Ok(Stmt::AugAssign { target, op, value });
            }
        }
        let mut parts = Vec::from([first]);
        while self.eat_punct("=") {
            parts.push((self.line(), self.col(), self.exprlist()?));
        }
        let Some((_, _, value)) = parts.pop() else {
            return Err(self.unexpected("an expression"));
        };
        if parts.is_empty() {
            return Ok(Stmt::Expr(value));
        }
        let mut targets = Vec::with_capacity(parts.len());
        for (line, col, e) in parts {
            match to_target(e) {
                Some(t) => targets.push(t),
                None => {
                    return Err(SyntaxError::new(SyntaxErrorKind::InvalidTarget, line, col));
                }
            }
        }
        Ok(Stmt::Assign { targets, value })
    }

    /// One assignment target (`with … as t`).
    fn target(&mut self) -> PResult<Target> {
        let (line, col) = (self.line(), self.col());
        let e = self.postfix()?;
        to_target(e).ok_or(SyntaxError::new(SyntaxErrorKind::InvalidTarget, line, col))
    }

    /// `a` or `a, b` (a `for` target).
    fn target_list(&mut self) -> PResult<Target> {
        let first = self.target()?;
        if !self.is_punct(",") {
            return Ok(first);
        }
        let mut items = Vec::from([first]);
        while self.eat_punct(",") {
            if self.is_keyword("in") {
                break;
            }
            items.push(self.target()?);
        }
        Ok(Target::Tuple(items))
    }

    /// `a, b` → a tuple; a single expression without a trailing comma → itself.
    fn exprlist(&mut self) -> PResult<Expr> {
        let first = self.expr()?;
        if !self.is_punct(",") {
            return Ok(first);
        }
        let mut items = Vec::from([first]);
        while self.eat_punct(",") {
            if self.at_stmt_end()
                || self.is_punct("=")
                || self.is_punct(")")
                || self.is_punct(":")
                || ["+=", "-=", "*="].iter().any(|p| self.is_punct(p))
            {
                break;
            }
            items.push(self.expr()?);
        }
        Ok(Expr::Tuple(items))
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.conditional();
        self.leave(1);
        e
    }

    /// `or_test`, or `then if cond else orelse` (the `else` part is an expression again).
    fn conditional(&mut self) -> PResult<Expr> {
        let then = self.or_test()?;
        if !self.eat_keyword("if") {
            return Ok(then);
        }
        let cond = self.or_test()?;
        if !self.eat_keyword("else") {
            return Err(self.unexpected("'else'"));
        }
        let orelse = self.expr()?;
        Ok(Expr::IfElse {
            cond: Box::new(cond),
            then: Box::new(then),
            orelse: Box::new(orelse),
        })
    }

    /// A left-associative chain of `and` or of `or`; each operator counts as a level.
    fn logic_chain(
        &mut self,
        kw: &str,
        op: BoolOp,
        next: fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let mut lhs = next(self)?;
        let mut levels = 0;
        let r = loop {
            if !self.eat_keyword(kw) {
                break Ok(lhs);
            }
            if let Err(e) = self.enter() {
                break Err(e);
            }
            levels += 1;
            match next(self) {
                Ok(rhs) => lhs = Expr::Logic(op, Box::new(lhs), Box::new(rhs)),
                Err(e) => break Err(e),
            }
        };
        self.leave(levels);
        r
    }

    fn or_test(&mut self) -> PResult<Expr> {
        self.logic_chain("or", BoolOp::Or, Self::and_test)
    }

    fn and_test(&mut self) -> PResult<Expr> {
        self.logic_chain("and", BoolOp::And, Self::not_test)
    }

    fn not_test(&mut self) -> PResult<Expr> {
        if self.eat_keyword("not") {
            self.enter()?;
            let e = self.not_test();
            self.leave(1);
            return Ok(Expr::Unary(UnaryOp::Not, Box::new(e?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let lhs = self.sum()?;
        let Some(op) = self.cmp_op() else {
            return Ok(lhs);
        };
        let rhs = self.sum()?;
        if self.cmp_op_ahead() {
            return Err(self.err(SyntaxErrorKind::Unsupported("chained comparison")));
        }
        Ok(match op {
            Ok(b) => Expr::Binary(b, Box::new(lhs), Box::new(rhs)),
            Err(t) => Expr::Test(t, Box::new(lhs), Box::new(rhs)),
        })
    }

    /// Whether a comparison operator is next (without consuming it).
    fn cmp_op_ahead(&self) -> bool {
        matches!(
            self.peek(),
            Some(Tok::Punct("==" | "!=" | "<" | "<=" | ">" | ">="))
                | Some(Tok::Keyword("in" | "is"))
        ) || (self.is_keyword("not") && matches!(self.peek_at(1), Some(Tok::Keyword("in"))))
    }

    /// Consumes a comparison operator: an ordering/equality [`BinOp`] or a [`TestOp`].
    fn cmp_op(&mut self) -> Option<Result<BinOp, TestOp>> {
        let op = match self.peek() {
            Some(Tok::Punct("==")) => Ok(BinOp::Eq),
            Some(Tok::Punct("!=")) => Ok(BinOp::Ne),
            Some(Tok::Punct("<")) => Ok(BinOp::Lt),
            Some(Tok::Punct("<=")) => Ok(BinOp::Le),
            Some(Tok::Punct(">")) => Ok(BinOp::Gt),
            Some(Tok::Punct(">=")) => Ok(BinOp::Ge),
            Some(Tok::Keyword("in")) => Err(TestOp::In),
            Some(Tok::Keyword("is")) => {
                self.pos += 1;
                return Some(Err(if self.eat_keyword("not") {
                    TestOp::IsNot
                } else {
                    TestOp::Is
                }));
            }
            Some(Tok::Keyword("not")) if matches!(self.peek_at(1), Some(Tok::Keyword("in"))) => {
                self.pos += 2;
                return Some(Err(TestOp::NotIn));
            }
            _ => return None,
        };
        self.pos += 1;
        Some(op)
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
                self.index().and_then(|i| {
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

    /// A subscript's index: an expression, or a slice `start:stop:step` (parts optional).
    fn index(&mut self) -> PResult<Expr> {
        let part = |p: &mut Self| -> PResult<Option<Box<Expr>>> {
            if p.is_punct(":") || p.is_punct("]") {
                Ok(None)
            } else {
                p.expr().map(|e| Some(Box::new(e)))
            }
        };
        let start = part(self)?;
        if !self.eat_punct(":") {
            return start
                .map(|e| *e)
                .ok_or_else(|| self.unexpected("an expression"));
        }
        let stop = part(self)?;
        let step = if self.eat_punct(":") {
            part(self)?
        } else {
            None
        };
        Ok(Expr::Slice(start, stop, step))
    }

    /// Arguments after `(`, through the closing `)`.
    fn call_args(&mut self) -> PResult<CallArgs> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(String, Expr)> = Vec::new();
        while !self.eat_punct(")") {
            let (line, col) = (self.line(), self.col());
            let keyword = match (self.peek(), self.peek_at(1)) {
                (Some(Tok::Name(n)), Some(Tok::Punct("="))) => Some(n.clone()),
                _ => None,
            };
            if let Some(k) = keyword {
                self.pos += 2;
                if kwargs.iter().any(|(n, _)| *n == k) {
                    return Err(SyntaxError::new(
                        SyntaxErrorKind::RepeatedKeyword(k),
                        line,
                        col,
                    ));
                }
                let v = self.expr()?;
                kwargs.push((k, v));
            } else {
                if self.is_punct("*") {
                    return Err(SyntaxError::new(
                        SyntaxErrorKind::Unsupported("argument unpacking"),
                        line,
                        col,
                    ));
                }
                let v = self.expr()?;
                if !kwargs.is_empty() {
                    return Err(SyntaxError::new(
                        SyntaxErrorKind::PositionalAfterKeyword,
                        line,
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
        let (line, col) = (self.line(), self.col());
        let tok = match self.peek() {
            None | Some(Tok::Newline) => return Err(self.unexpected("an expression")),
            _ => self.bump(),
        };
        let Some(tok) = tok else {
            return Err(self.unexpected("an expression"));
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
                if matches!(self.peek(), Some(Tok::Bytes(_))) {
                    return Err(self.err(SyntaxErrorKind::MixedLiterals));
                }
                Ok(Expr::Str(s))
            }
            Tok::Bytes(mut b) => {
                while let Some(Tok::Bytes(more)) = self.peek() {
                    b.extend_from_slice(more);
                    self.pos += 1;
                }
                if matches!(self.peek(), Some(Tok::Str(_))) {
                    return Err(self.err(SyntaxErrorKind::MixedLiterals));
                }
                Ok(Expr::Bytes(b))
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
                    Tok::Indent | Tok::Dedent => {
                        SyntaxErrorKind::Indentation("unexpected indentation")
                    }
                    found => SyntaxErrorKind::Unexpected {
                        found,
                        expected: "an expression",
                    },
                };
                Err(SyntaxError::new(kind, line, col))
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

/// The assignment target an expression denotes, if it is one.
fn to_target(e: Expr) -> Option<Target> {
    Some(match e {
        Expr::Name(n) => Target::Name(n),
        Expr::Attr(obj, n) => Target::Attr(*obj, n),
        Expr::Subscript(obj, i) => Target::Subscript(*obj, *i),
        Expr::Tuple(items) | Expr::List(items) if !items.is_empty() => {
            Target::Tuple(items.into_iter().map(to_target).collect::<Option<_>>()?)
        }
        _ => return None,
    })
}
