# tinysched.calc: a small integer expression language.
#
# tokenize() turns text into (kind, value, pos) tuples, Parser builds a tree of tuples by
# precedence climbing, evaluate() walks it with variables and functions. Integers only:
# "/" is floor division. Statements: "let x = expr" binds x, anything else is an expression.

from .errors import ParseError, EvalError

NUM = 1
NAME = 2
OP = 3
END = 4

KIND_NAMES = ("?", "number", "name", "operator", "end")

DIGITS = "0123456789"
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
OPERATORS = "+-*/%()<>=,"
TWO_CHAR = ("==", "!=", "<=", ">=")

# Binding power of each binary operator; higher binds tighter.
PRECEDENCE = {
    "==": 1, "!=": 1, "<": 2, ">": 2, "<=": 2, ">=": 2,
    "+": 3, "-": 3,
    "*": 4, "/": 4, "%": 4,
}

MAX_DEPTH = 24


def tokenize(text):
    toks = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == " " or c == "\t":
            i += 1
        elif c in DIGITS:
            start = i
            v = 0
            while i < n and text[i] in DIGITS:
                v = v * 10 + DIGITS.index(text[i])
                i += 1
            if i < n and text[i] in LETTERS:
                raise ParseError("bad number", start)
            toks.append((NUM, v, start))
        elif c in LETTERS:
            start = i
            name = ""
            while i < n and (text[i] in LETTERS or text[i] in DIGITS):
                name = name + text[i]
                i += 1
            toks.append((NAME, name, start))
        elif i + 1 < n and (c + text[i + 1]) in TWO_CHAR:
            toks.append((OP, c + text[i + 1], i))
            i += 2
        elif c in OPERATORS:
            toks.append((OP, c, i))
            i += 1
        else:
            raise ParseError("unexpected character " + repr(c), i)
    toks.append((END, None, n))
    return toks


class Parser:
    """Precedence-climbing parser over the token list; trees are tuples."""

    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.toks[self.i]

    def next(self):
        tok = self.toks[self.i]
        if tok[0] != END:
            self.i += 1
        return tok

    def expect(self, kind, value=None):
        tok = self.next()
        if tok[0] != kind or (value is not None and tok[1] != value):
            want = KIND_NAMES[kind] if value is None else repr(value)
            raise ParseError("expected " + want + ", got " + KIND_NAMES[tok[0]], tok[2])
        return tok

    def statement(self):
        tok = self.peek()
        if tok[0] == NAME and tok[1] == "let":
            self.next()
            name = self.expect(NAME)[1]
            self.expect(OP, "=")
            tree = ("let", name, self.expression(0))
        else:
            tree = self.expression(0)
        end = self.peek()
        if end[0] != END:
            raise ParseError("unexpected " + KIND_NAMES[end[0]], end[2])
        return tree

    def expression(self, min_prec):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError("too deeply nested", self.peek()[2])
        left = self.unary()
        while True:
            tok = self.peek()
            if tok[0] != OP:
                break
            prec = PRECEDENCE.get(tok[1], 0)
            if prec == 0 or prec <= min_prec:
                break
            self.next()
            right = self.expression(prec)
            left = ("bin", tok[1], left, right)
        self.depth -= 1
        return left

    def unary(self):
        tok = self.peek()
        if tok[0] == OP and tok[1] == "-":
            self.next()
            return ("neg", self.unary())
        return self.primary()

    def primary(self):
        tok = self.next()
        kind = tok[0]
        if kind == NUM:
            return ("num", tok[1])
        if kind == NAME:
            nxt = self.peek()
            if nxt[0] == OP and nxt[1] == "(":
                self.next()
                return ("call", tok[1], self.arguments())
            return ("var", tok[1])
        if kind == OP and tok[1] == "(":
            inner = self.expression(0)
            self.expect(OP, ")")
            return inner
        raise ParseError("unexpected " + KIND_NAMES[kind], tok[2])

    def arguments(self):
        args = []
        tok = self.peek()
        if tok[0] == OP and tok[1] == ")":
            self.next()
            return args
        while True:
            args.append(self.expression(0))
            tok = self.next()
            if tok[0] == OP and tok[1] == ")":
                return args
            if not (tok[0] == OP and tok[1] == ","):
                raise ParseError("expected ',' or ')'", tok[2])


def parse(text):
    return Parser(text).statement()


def _arith(op):
    # One closure per operator, built at import time: frozen along with the module.
    def apply(a, b):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            raise EvalError("division by zero")
        if op == "/":
            return a // b
        return a % b

    return apply


def _compare(op):
    def apply(a, b):
        if op == "==":
            r = a == b
        elif op == "!=":
            r = a != b
        elif op == "<":
            r = a < b
        elif op == ">":
            r = a > b
        elif op == "<=":
            r = a <= b
        else:
            r = a >= b
        return 1 if r else 0

    return apply


BINOPS = {}
for _op in ("+", "-", "*", "/", "%"):
    BINOPS[_op] = _arith(_op)
for _op in ("==", "!=", "<", ">", "<=", ">="):
    BINOPS[_op] = _compare(_op)


def _fn_max(a, b):
    return a if a > b else b


def _fn_min(a, b):
    return a if a < b else b


def _fn_abs(a):
    return -a if a < 0 else a


def _fn_clamp(x, lo=0, hi=100):
    return _fn_min(_fn_max(x, lo), hi)


FUNCTIONS = {"max": (_fn_max, 2), "min": (_fn_min, 2), "abs": (_fn_abs, 1), "clamp": (_fn_clamp, 3)}


def gcd(a, b):
    a = _fn_abs(a)
    b = _fn_abs(b)
    while b != 0:
        a, b = b, a % b
    return a


class Env:
    """Variables of one calculator session, with an optional parent scope."""

    def __init__(self, parent=None):
        self.vars = {}
        self.parent = parent

    def lookup(self, name):
        env = self
        while env is not None:
            if name in env.vars:
                return env.vars[name]
            env = env.parent
        raise EvalError("unknown variable " + name)

    def bind(self, name, value):
        self.vars[name] = value
        return value


def evaluate(tree, env):
    tag = tree[0]
    if tag == "num":
        return tree[1]
    if tag == "var":
        return env.lookup(tree[1])
    if tag == "neg":
        return -evaluate(tree[1], env)
    if tag == "bin":
        return BINOPS[tree[1]](evaluate(tree[2], env), evaluate(tree[3], env))
    if tag == "let":
        return env.bind(tree[1], evaluate(tree[2], env))
    if tag == "call":
        entry = FUNCTIONS.get(tree[1])
        if entry is None:
            raise EvalError("unknown function " + tree[1])
        fn = entry[0]
        args = []
        for a in tree[2]:
            args.append(evaluate(a, env))
        if len(args) == 1 and entry[1] >= 1:
            return fn(args[0])
        if len(args) == 2 and entry[1] >= 2:
            return fn(args[0], args[1])
        if len(args) == 3 and entry[1] == 3:
            return fn(args[0], lo=args[1], hi=args[2])
        raise EvalError(tree[1] + "() takes " + str(entry[1]) + " arguments")
    raise EvalError("bad tree " + repr(tag))


def show(tree):
    """Renders a tree back to fully parenthesised text."""
    tag = tree[0]
    if tag == "num":
        return str(tree[1])
    if tag == "var":
        return tree[1]
    if tag == "neg":
        return "(-" + show(tree[1]) + ")"
    if tag == "bin":
        return "(" + show(tree[2]) + " " + tree[1] + " " + show(tree[3]) + ")"
    if tag == "let":
        return "let " + tree[1] + " = " + show(tree[2])
    parts = []
    for a in tree[2]:
        parts.append(show(a))
    return tree[1] + "(" + ", ".join(parts) + ")"


def run(text, env=None):
    """Evaluates one line; returns its value or a describe() string for errors."""
    if env is None:
        env = Env()
    try:
        return evaluate(parse(text), env)
    except ParseError as e:
        return e.describe()
    except EvalError as e:
        return "error: " + e.describe()


def session(lines, env=None):
    """Runs several lines in one scope; returns the list of results."""
    if env is None:
        env = Env()
    out = []
    for line in lines:
        out.append(run(line, env))
    return out


def selftest():
    env = Env(parent=Env())
    env.parent.bind("base", 40)
    results = session(
        (
            "1 + 2 * 3",
            "(1 + 2) * 3",
            "let x = base + 2",
            "x / 5 + x % 5",
            "-x + 50 == 8",
            "max(3, min(10, x)) - abs(-4)",
            "clamp(250, 0, 200)",
            "7 / 0",
            "y + 1",
            "1 +",
            "2 $ 3",
            "nope(1)",
        ),
        env,
    )
    results.append(show(parse("let z = -(a + b) * f(1, 2)")))
    results.append(gcd(84, -36))
    return tuple(results)
