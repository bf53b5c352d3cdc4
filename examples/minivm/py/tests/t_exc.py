# Oracle test: exception types and messages, as MicroPython words them, for the errors real
# code hits and catches (the messages appear in logs and are matched by tests).
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


class C:
    attr = 1

    def method(self, a, b=2):
        return a + b


def f2(a, b):
    return a


def kwonly(a, *, k):
    return k


# --- names and attributes -----------------------------------------------------------------
t("NameError", lambda: undefined_name)  # noqa: F821


def _unbound():
    if False:
        x = 1
    return x


t("unbound local", _unbound)
t("attr of instance", lambda: C().nope)
t("attr of class", lambda: C.nope)
t("attr of int", lambda: (1).nope)
t("attr of None", lambda: None.nope)
t("attr of list", lambda: [].nope)


def _sys():
    import sys

    return sys


t("attr of module", lambda: _sys().nope)

t("setattr on int", lambda: setattr(1, "x", 2))
t("setattr on object()", lambda: setattr(object(), "x", 2))
t("del missing attr", lambda: delattr(C(), "zz"))

# --- calls ----------------------------------------------------------------------------------
t("too few args", lambda: f2(1))
t("too many args", lambda: f2(1, 2, 3))
t("unexpected kw", lambda: f2(1, c=3))
t("multiple values", lambda: f2(1, a=2))
t("missing kwonly", lambda: kwonly(1))
t("method args", lambda: C().method())
t("method too many", lambda: C().method(1, 2, 3))
t("builtin args", lambda: len())
t("builtin too many", lambda: len([], []))
t("not callable int", lambda: 5())
t("not callable str", lambda: "s"())
t("not callable None", lambda: None())
t("* non-iterable", lambda: f2(*5))
t("** non-mapping", lambda: f2(**5))

# --- operators ---------------------------------------------------------------------------
t("int + str", lambda: 1 + "a")
t("str + int", lambda: "a" + 1)
t("list + tuple", lambda: [1] + (2,))
t("None + 1", lambda: None + 1)
t("- str", lambda: -"a")
t("~ list", lambda: ~[])
t("< mixed", lambda: 1 < "a")
t("< None", lambda: None < None)
t("int // 0", lambda: 1 // 0)
t("int % 0", lambda: 1 % 0)
t("int / 0", lambda: 1 / 0)
t("divmod 0", lambda: divmod(1, 0))
t("in int", lambda: 1 in 5)
t("unhashable list", lambda: {[1]: 2})
t("unhashable in set", lambda: {[]})
t("unhashable dict key lookup", lambda: {}[[1]])
t("str * -1", lambda: "ab" * -1)
t("list * list", lambda: [1] * [2])

# --- containers --------------------------------------------------------------------------
t("list index", lambda: [1, 2][5])
t("list index neg", lambda: [1, 2][-3])
t("tuple index", lambda: (1,)[1])
t("list index type", lambda: [1]["a"])
def _list_set():
    lst = [1]
    lst[3] = 0


t("list assignment out of range", _list_set)
t("dict key", lambda: {"a": 1}["b"])
t("dict key int", lambda: {}[42])
t("dict key tuple", lambda: {}[(1, "x")])
t("list.remove", lambda: [1, 2].remove(3))
t("list.index", lambda: [1, 2].index(3))
t("list.pop empty", lambda: [].pop())
t("list.pop out", lambda: [1].pop(5))
t("dict.pop", lambda: {}.pop("k"))
t("dict.popitem", lambda: {}.popitem())
t("set.remove", lambda: {1}.remove(2))
t("set.pop", lambda: set().pop())
def _tuple_set():
    tp = (1,)
    tp[0] = 2


t("tuple item assignment", _tuple_set)
t("str.index", lambda: "abc".index("z"))
t("min empty", lambda: min([]))
t("max empty", lambda: max([]))
t("next exhausted", lambda: next(iter([])))
t("iter int", lambda: iter(5))
t("len int", lambda: len(5))
t("sorted mixed", lambda: sorted([1, "a"]))

# --- unpacking --------------------------------------------------------------------------


def _unpack(v):
    a, b = v
    return a, b


t("unpack too many", lambda: _unpack([1, 2, 3]))
t("unpack too few", lambda: _unpack([1]))
t("unpack non-iterable", lambda: _unpack(5))

# --- conversions -------------------------------------------------------------------------
t("int('x')", lambda: int("x"))
t("int(None)", lambda: int(None))
t("int([])", lambda: int([]))
t("int base", lambda: int("z", 10))
t("chr bad", lambda: chr(-1))
t("ord empty", lambda: ord(""))
t("str.join non-str", lambda: ",".join([1, 2]))
t("bytes.decode bad", lambda: b"\x80".decode())
t("bool of object", lambda: bool(object()))

# --- raising, exception objects ------------------------------------------------------------


class AppError(Exception):
    pass


class CodeError(AppError):
    def __init__(self, code):
        super().__init__("code", code)
        self.code = code


def _raise(e):
    raise e


t("raise class", lambda: _raise(ValueError))
t("raise instance", lambda: _raise(ValueError("bad", 2)))
t("raise no args", lambda: _raise(KeyError()))
t("raise custom", lambda: _raise(AppError("app")))
t("raise custom init", lambda: _raise(CodeError(7)))
t("raise non-exception", lambda: _raise(5))
t("raise str", lambda: _raise("text"))
def _exc_objects():
    out = []
    for e in (ValueError(), ValueError("x"), ValueError("x", 1), KeyError("k"), OSError(2), OSError(2, "ENOENT"), CodeError(3), StopIteration(5)):
        out.append((type(e).__name__, str(e), repr(e), e.args))
    return out


t("exception str repr args", _exc_objects)


def _hierarchy():
    pairs = [
        (KeyError, LookupError),
        (IndexError, LookupError),
        (ZeroDivisionError, ArithmeticError),
        (OverflowError, ArithmeticError),
        (StopIteration, Exception),
        (GeneratorExit, Exception),
        (KeyboardInterrupt, Exception),
        (SystemExit, BaseException),
        (NotImplementedError, RuntimeError),
        (CodeError, Exception),
        (OSError, Exception),
    ]
    return [issubclass(a, b) for a, b in pairs]


t("hierarchy", _hierarchy)


def _chain():
    try:
        try:
            {}["k"]
        except KeyError as e:
            raise ValueError("wrapped") from e
    except ValueError as e:
        return str(e), type(e.__cause__).__name__ if hasattr(e, "__cause__") else "no __cause__"


t("raise from", _chain)


def _reraise():
    try:
        try:
            raise AppError("inner")
        except AppError:
            raise
    except AppError as e:
        return "re-raised " + str(e)


t("bare raise", _reraise)


def _finally_order():
    log = []
    try:
        try:
            log.append("try")
            raise ValueError("v")
        finally:
            log.append("finally")
    except ValueError:
        log.append("except")
    return log


t("finally order", _finally_order)


def _except_tuple():
    out = []
    for exc in (KeyError("a"), IndexError("b"), TypeError("c")):
        try:
            raise exc
        except (KeyError, IndexError) as e:
            out.append("lookup " + type(e).__name__)
        except Exception as e:
            out.append("other " + type(e).__name__)
    return out


t("except tuple", _except_tuple)
def _assert(v):
    assert v, "assertion message"
    return "ok"


t("assert message", lambda: _assert(0))
def _assert_plain():
    assert 1 == 2


t("assert plain", _assert_plain)
def _from_import_missing():
    from sys import no_such_name  # noqa: F401


t("from-import missing", _from_import_missing)
t("import missing", lambda: __import__("no_such_module_xyz"))
def _exc_attr():
    e = CodeError(9)
    e.extra = "x"
    return e.code, e.extra, e.args


t("exception attributes", _exc_attr)
t("exception in genexpr", lambda: list(1 // x for x in (1, 0)))
def _stop():
    try:
        raise StopIteration("val")
    except StopIteration as e:
        return e.value, e.args


t("StopIteration.value", _stop)
def _recurse(n):
    return _recurse(n + 1)


t("recursion depth", lambda: _recurse(0))

# --- argument checks of natives and functions (MicroPython's mp_arg_check_num wording) -------
t("builtin keyword", lambda: len([], x=1))
t("builtin at most", lambda: next(iter([]), 1, 2))
t("builtin missing", lambda: getattr(1))
t("missing kw-only with kw given", lambda: kwonly(1, j=2))
t("kw-only given", lambda: kwonly(1, k=2))
t("f(**dict) extra", lambda: f2(1, **{"b": 2, "c": 3}))
t("method via class no self", lambda: C.method())
t("del attr of class", lambda: delattr(C, "nope"))
t("setattr on list", lambda: setattr([], "x", 1))
t("subscript int", lambda: 5[0])
t("store subscript str", lambda: "abc".__setitem__(0, "x"))
t("del subscript tuple", lambda: (1,).__delitem__(0))
t("hash list", lambda: hash([1]))
t("hash dict", lambda: hash({}))
t("set of list", lambda: set([[1]]))
t("dict key list in non-empty", lambda: {1: 2}[[1]])
t("sorted key error", lambda: sorted([3, 1], key=lambda x: x.nope))
t("range index", lambda: range(3)[7])
t("exception repr nested", lambda: repr(ValueError(ValueError("x"))))
t("StopIteration from send", lambda: (lambda g: (next(g), g.send(1)))(x for x in [1]))
