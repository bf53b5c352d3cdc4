# Oracle test: language and runtime semantics real libraries rely on: slice assignment and
# deletion, dir(), Ellipsis, instance __dict__, iterator.__next__, module __getattr__ (PEP 562),
# gen.throw(type, value), the result of `await task`, type() with 3 arguments.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


# --- slice assignment and deletion ---------------------------------------------------------


class Subscr:
    def __getitem__(self, k):
        return k



def _slices():
    out = []
    lst = list(range(10))
    lst[2:5] = ["a", "b"]
    out.append(lst[:])
    lst[:0] = [-1]
    out.append(lst[:])
    lst[len(lst):] = [99, 100]
    out.append(lst[:])
    lst[1:3] = []
    out.append(lst[:])
    lst[-2:] = (7,)
    out.append(lst[:])
    lst[:] = [8, 9]
    out.append(lst[:])
    return out


t("list slice assign", _slices)


def _slice_del():
    out = []
    lst = list(range(10))
    del lst[2:4]
    out.append(lst[:])
    del lst[-2:]
    out.append(lst[:])
    del lst[5:1]
    out.append(lst[:])
    del lst[:]
    out.append(lst)
    return out


t("list slice del", _slice_del)


def _slice_step_del():
    lst = list(range(6))
    del lst[::2]
    return lst


t("list step del", _slice_step_del)


def _slice_str():
    lst = [1, 2]
    lst[:] = "xyz"
    return lst


t("list slice assign str", _slice_str)


def _slice_step_assign():
    lst = list(range(6))
    lst[::2] = ["a", "b", "c"]
    return lst


t("list step assign", _slice_step_assign)


def _slice_step_bad():
    lst = list(range(6))
    lst[::2] = [1]
    return lst


t("list step assign size", _slice_step_bad)


def _slice_alias():
    lst = [1, 2, 3]
    lst[1:2] = lst
    return lst


t("list slice self", _slice_alias)
def _assign_iter():
    lst = [0, 0, 0]
    lst[1:2] = (x * 10 for x in range(3))
    return lst


t("list slice from gen", _assign_iter)
def _tuple_assign():
    tp = (1, 2, 3)
    tp[0:1] = [5]
    return tp


t("tuple slice assign refused", _tuple_assign)
t("list slice read", lambda: [list(range(10))[::3], list(range(10))[::-2], list(range(10))[8:2:-2], [1, 2][5:]])
t("slice attributes", lambda: [Subscr()[1:5:2].start, Subscr()[:3].stop, Subscr()[::2].step, Subscr()[1:]])
t("slice()", lambda: slice(1, 5))
def _del_item():
    lst = [1, 2, 3]
    del lst[-1]
    del lst[0]
    return lst


t("del list items", _del_item)

# --- dir() ----------------------------------------------------------------------------------


class Point:
    dims = 2

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm1(self):
        return abs(self.x) + abs(self.y)


class Point3(Point):
    dims = 3

    def __init__(self, x, y, z):
        super().__init__(x, y)
        self.z = z


def public(names):
    return sorted(n for n in names if not n.startswith("__"))


t("dir instance", lambda: public(dir(Point(1, 2))))
t("dir subclass instance", lambda: public(dir(Point3(1, 2, 3))))
t("dir class", lambda: public(dir(Point3)))
t("dir list", lambda: "append" in dir([]) and "sort" in dir(list))
t("dir str", lambda: [n in dir("") for n in ("join", "split", "startswith")])


def _dir_locals():
    a = 1
    b = 2
    return "t" in dir() and "Point" in dir()


t("dir no args", _dir_locals)

# --- Ellipsis -------------------------------------------------------------------------------
t("Ellipsis", lambda: [..., Ellipsis, ... is Ellipsis, repr(...), str(...)])
t("Ellipsis in tuple", lambda: [(1, ...), [...] == [Ellipsis], bool(...)])


t("Ellipsis subscript", lambda: [Subscr()[...], Subscr()[1, ...], Subscr()[1:2, ...]])

# --- instance __dict__ -----------------------------------------------------------------------


def _inst_dict():
    p = Point(3, -4)
    r1 = sorted(p.__dict__.items())
    p.w = 5
    p.y = 0
    r2 = sorted(p.__dict__.items())
    del p.w
    return r1, r2, sorted(p.__dict__), "x" in p.__dict__, type(p.__dict__).__name__, len(p.__dict__)


t("instance __dict__", _inst_dict)


def _inst_dict_write():
    p = Point(3, -4)
    p.__dict__["x"] = 10
    return p.x


t("instance __dict__ is read-only", _inst_dict_write)
t("instance __dict__ empty", lambda: Subscr().__dict__)
t("__dict__ subclass", lambda: sorted(Point3(1, 2, 3).__dict__.items()))
t("class __dict__ has", lambda: ["norm1" in Point.__dict__, "dims" in Point3.__dict__, "norm1" in Point3.__dict__])
t("vars-free getattr", lambda: [getattr(Point(1, 2), "x"), getattr(Point(1, 2), "nope", "dflt"), hasattr(Point, "dims")])
def _setattr():
    p = Point(1, 2)
    setattr(p, "k", 7)
    delattr(p, "x")
    return sorted(p.__dict__.items()), hasattr(p, "x")


t("setattr and delattr", _setattr)
t("getattr missing", lambda: getattr(Point(1, 2), "nope"))
t("delattr missing", lambda: delattr(Point(1, 2), "nope"))

# --- iterator.__next__ ---------------------------------------------------------------------


def _next_methods():
    out = []
    it = iter([1, 2])
    out.append(it.__next__())
    out.append(next(it))
    g = (x * x for x in range(3))
    out.append(g.__next__())
    out.append(g.__next__())
    d = iter({"k": 1})
    out.append(d.__next__())
    s = iter("é!")
    out.append(s.__next__())
    r = iter(range(5, 7))
    out.append(r.__next__())
    return out


t("__next__", _next_methods)


def _next_end():
    it = iter([])
    return it.__next__()


t("__next__ exhausted", _next_end)
t("next default", lambda: [next(iter([]), "dflt"), next(iter([4]), "dflt")])


class Countdown:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        self.n -= 1
        return self.n


t("user iterator", lambda: [list(Countdown(3)), next(Countdown(2)), Countdown(1).__next__()])
t("iter callable", lambda: "__next__" in dir(iter([])))
def _bound_next():
    nxt = iter("ab").__next__
    return nxt(), nxt()


t("bound __next__ call", _bound_next)

# --- module __getattr__ (PEP 562) ------------------------------------------------------------


def _pep562():
    import t_lang_mod as m

    r = [m.present, m.dyn_hello, getattr(m, "dyn_x"), hasattr(m, "dyn_y"), hasattr(m, "other")]
    return r, m.calls


t("module __getattr__", _pep562)


def _pep562_err():
    import t_lang_mod as m

    return m.other


t("module __getattr__ raises", _pep562_err)


def _pep562_from():
    from t_lang_mod import dyn_from

    return dyn_from


t("from module import via __getattr__", _pep562_from)


def _dir_module():
    # After the __getattr__ checks: MicroPython's dir() probes attributes, which calls the
    # module's __getattr__.
    import t_lang_mod as m

    return [n in dir(m) for n in ("present", "calls", "missing", "__name__")]


t("dir module", _dir_module)

# --- gen.throw(type, value) ---------------------------------------------------------------


def catcher():
    while True:
        try:
            yield "ready"
        except ValueError as e:
            yield "caught %s %r" % (type(e).__name__, e.args)


# MicroPython's throw(type, value) raises `value` (an exception instance), as contextlib's
# `gen.throw(type, value, traceback)` passes it; a value that is not an exception is a TypeError.
def _throws():
    g = catcher()
    out = [next(g)]
    out.append(g.throw(ValueError("instance")))
    next(g)
    out.append(g.throw(ValueError))
    next(g)
    out.append(g.throw(ValueError, ValueError("v2")))
    next(g)
    out.append(g.throw(ValueError, ValueError("v3", 3), None))
    return out


t("gen.throw", _throws)


def _throw_str_value():
    g = catcher()
    next(g)
    return g.throw(ValueError, "the value")


t("gen.throw str value", _throw_str_value)


def _throw_uncaught():
    g = catcher()
    next(g)
    try:
        g.throw(KeyError, KeyError("k"))
    except KeyError as e:
        return "propagated", e.args, repr(e)


t("gen.throw propagates", _throw_uncaught)


def _throw_fresh():
    g = catcher()
    try:
        g.throw(TypeError, TypeError("before start"))
    except TypeError as e:
        return str(e), next(g, "exhausted")


t("gen.throw unstarted", _throw_fresh)


def _throw_then_close():
    def g():
        try:
            yield 1
        finally:
            log.append("finally")

    log = []
    it = g()
    next(it)
    it.close()
    return log


t("gen.close finally", _throw_then_close)


def _gen_return_value():
    def g():
        yield 1
        return "done"

    it = g()
    next(it)
    try:
        next(it)
    except StopIteration as e:
        return e.value, e.args


t("gen return value", _gen_return_value)

# --- await: the result of awaiting a task-like object ----------------------------------------


class Task:
    """Like asyncio's Task: awaiting it yields until done, then raises the stored
    StopIteration(result) out of __next__, which is the await's value."""

    def __init__(self, result):
        self.data = StopIteration(result)
        self.polls = 0

    def __iter__(self):
        return self

    def __next__(self):
        self.polls += 1
        if self.polls < 3:
            return None
        raise self.data


class Done:
    """Awaitable through a generator __iter__ (as asyncio's Event and Lock are)."""

    def __init__(self, v):
        self.v = v

    def __iter__(self):
        yield "tick"
        return self.v


async def child(v):
    return v * 2


async def main():
    r1 = await Task(42)
    r2 = await Task("text")
    r3 = await child(21)
    r4 = await Done("done")
    return r1, r2, r3, r4


def run(coro):
    yields = 0
    while True:
        try:
            coro.send(None)
            yields += 1
        except StopIteration as e:
            return e.value, yields


t("await task result", lambda: run(main()))


async def raises_in_task():
    class Failing:
        def __iter__(self):
            return self

        def __next__(self):
            raise ValueError("task failed")

    try:
        await Failing()
    except ValueError as e:
        return "caught " + str(e)


t("await task exception", lambda: run(raises_in_task()))
t("coroutine type", lambda: type(child(1)).__name__)

# --- type() with 3 arguments ----------------------------------------------------------------


def _type3():
    def init(self, v):
        self.v = v

    K = type("K", (), {"kind": "dyn", "__init__": init, "twice": lambda self: self.v * 2})
    k = K(5)
    return K.__name__, k.kind, k.v, k.twice(), isinstance(k, K), type(k) is K


t("type(name, bases, dict)", _type3)


def _type3_base():
    Sub = type("Sub", (Point,), {"dims": 9})
    s = Sub(1, -2)
    return Sub.__name__, s.dims, s.norm1(), isinstance(s, Point), issubclass(Sub, Point)


t("type() with a base", _type3_base)


def _type3_exc():
    E = type("MyErr", (ValueError,), {})
    try:
        raise E("boom")
    except ValueError as e:
        return type(e).__name__, str(e), isinstance(e, E)


t("type() exception subclass", _type3_exc)
t("type() bad args", lambda: type("X", 1, {}))
t("type() 2 args", lambda: type("X", ()))
t("type(obj)", lambda: [type(1).__name__, type("s") is str, type(Point(1, 2)).__name__, type(type).__name__])

# --- subclasses of builtin types ------------------------------------------------------------


class Stack(list):
    def __init__(self, items=()):
        super().__init__(items)

    def peek(self):
        return self[-1]


def _list_subclass():
    s = Stack([1, 2])
    s.append(3)
    r = [len(s), s.peek(), s.pop(), s[0], list(s), isinstance(s, list), bool(s)]
    s.extend([7, 8])
    r.append(sorted(s))
    return r


t("list subclass", _list_subclass)


class Registry(dict):
    def register(self, k, v):
        self[k] = v
        return self


def _dict_subclass():
    r = Registry()
    r.register("b", 2).register("a", 1)
    return sorted(r.items()), len(r), r.get("a"), "b" in r, isinstance(r, dict)


t("dict subclass", _dict_subclass)


class Tagged(str):
    pass


t("str subclass", lambda: [Tagged("ab") + "c", len(Tagged("xyz")), Tagged("q").upper()])

# --- protocol details real code relies on ---------------------------------------------------


class Eq:
    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return other == self.v


class Truth:
    def __bool__(self):
        return False

    def __len__(self):
        return 3


class Calls:
    def __call__(self, x):
        return x + 1


t("int == instance asks __eq__", lambda: [5 == Eq(5), Eq(5) == 5, 4 == Eq(5), "a" == Eq("a")])
t("callable", lambda: [callable(Calls()), callable(Point(1, 2)), callable(len), callable(Point), callable(Calls()(1))])
t("__bool__ before __len__", lambda: [bool(Truth()), len(Truth()), not Truth()])
t("empty range is false", lambda: [bool(range(0)), bool(range(3)), bool(range(5, 5))])
t("set and dict equality", lambda: [{1} == {1}, {1, 2} == {2, 1}, {1} == {2}, {1: 2} == {1: 2}, {1: 2} == {1: 3}, {} == {}, {1: 2} == {2: 1}])
t("tuple < list", lambda: (1, 2) < [1, 3])
t("list < tuple", lambda: [1] < (2,))
t("sequence comparisons", lambda: [(1, 2) < (1, 3), [2] > [1, 5], (1,) <= (1,), [] < [0]])


class Vec:
    def __init__(self, x):
        self.x = x

    def __add__(self, o):
        return Vec(self.x + (o.x if isinstance(o, Vec) else o))

    def __radd__(self, o):
        return Vec(o * 100 + self.x)

    def __neg__(self):
        return Vec(-self.x)

    def __iadd__(self, o):
        self.x += o
        return self


def _vec():
    v = Vec(1)
    w = v + 2
    r = 3 + v
    n = -v
    v += 10
    return w.x, r.x, n.x, v.x


t("__radd__ __neg__ __iadd__", _vec)
t("no __radd__", lambda: 3 + Point(1, 2))


class Num:
    def __abs__(self):
        return "abs"

    def __divmod__(self, o):
        return ("divmod", o)


t("__abs__ __divmod__", lambda: (abs(Num()), divmod(Num(), 7)))
t("no __abs__", lambda: abs(Point(1, 2)))
t("unhashable instance with __eq__", lambda: {Eq(1): 1})
t("hashable instance", lambda: len({Point(1, 2): 1, Point(1, 2): 2}))


class BadInit:
    def __init__(self):
        return 5


t("__init__ returns a value", lambda: BadInit())


class Holder:
    f = len


t("builtin in a class is static", lambda: Holder().f([1, 2, 3]))


class Doubler(list):
    def append(self, x):
        super().append(x * 2)


def _doubler():
    d = Doubler()
    d.append(4)
    d.extend([1])
    return list(d), len(d), d[0], d == [8, 1], repr(d)


t("list subclass overriding a method", _doubler)


class Prefilled(list):
    def __init__(self):
        super().__init__([1, 2, 3])


t("list subclass built by super().__init__", lambda: [list(Prefilled()), sum(Prefilled()), 2 in Prefilled()])


class Early(list):
    def __init__(self):
        self.append(1)


t("native method before super().__init__", lambda: Early())


class Counts(dict):
    def __getitem__(self, k):
        return self.get(k, 0)


def _counts():
    c = Counts()
    c["a"] = 2
    return c["a"], c["zz"], len(c), sorted(c.keys()), "a" in c


t("dict subclass overriding __getitem__", _counts)
t("type() with a native base", lambda: [list(type("L", (list,), {})([1, 2])), type("S", (str,), {})("ab").upper()])
t("type() bad base", lambda: type("G", (type(len),), {}))


class Lazy:
    @property
    def boom(self):
        raise ValueError("prop")

    def __getattr__(self, name):
        if name == "soft":
            return "soft!"
        raise AttributeError(name)


t("getattr default and __getattr__", lambda: [getattr(Lazy(), "soft"), getattr(Lazy(), "nope", "dflt"), hasattr(Lazy(), "nope"), hasattr(Lazy(), "soft")])
t("hasattr propagates other errors", lambda: hasattr(Lazy(), "boom"))
t("bound method attributes", lambda: [Point(1, 2).norm1.__name__, hasattr(Point(1, 2).norm1, "__self__")])


class Mapping:
    def keys(self):
        return ["b", "a"]

    def __getitem__(self, k):
        return k.upper()


def kwf(a=0, b=0):
    return a, b


def f2(a, b):
    return a


t("** of a mapping", lambda: kwf(**Mapping()))
t("missing positional by keyword", lambda: f2(b=1))
t("kw defaults", lambda: [kwf(b=2), kwf(1), kwf()])
t("sorted is MicroPython's", lambda: [sorted([(1, "b"), (0, "z"), (1, "a"), (1, "c")], key=lambda p: p[0]), sorted([3, 1, 2], reverse=True), sorted("bca")])
t("min max default", lambda: [min([], default=5), max([3, 9, 2]), min("bca"), max([1, 5], key=lambda x: -x)])


def _sets():
    s = {1, 2, 3}
    out = [sorted(s | {4}), sorted(s & {2, 3, 9}), sorted(s - {1}), sorted(s ^ {3, 4}), s <= {1, 2, 3, 4}, s < s, s >= {1}]
    s |= {7}
    s -= {1}
    out.append(sorted(s))
    out.append([sorted(s.union([8])), sorted(s.intersection([2, 7])), sorted(s.difference((2,))), s.isdisjoint([9]), s.issubset(range(10))])
    p = s.pop()
    out.append((p in s, len(s)))
    s.clear()
    out.append(len(s))
    return out


t("set operators and methods", _sets)
t("set | list refused", lambda: {1} | [2])
t("dict.fromkeys", lambda: sorted(dict.fromkeys(["a", "b"], 0).items()))


class WithStr(Exception):
    def __str__(self):
        return "custom text"


t("exception __str__", lambda: [str(WithStr("x")), repr(WithStr("x")), str(OSError(2)), str(OSError(99999))])


class DirBody:
    a = 1
    seen = sorted(n for n in dir() if not n.startswith("__"))


def _class_meta():
    class Plain:
        pass

    d = Point.__dict__
    try:
        d["extra"] = 1
        stored = "stored"
    except TypeError:
        stored = "TypeError"
    return [Plain.__bases__ == (object,), object.__bases__, Point3.__bases__ == (Point,), "norm1" in d, stored, hasattr(Point, "extra"), DirBody.seen]


t("class __bases__ __dict__ dir()", _class_meta)


def _module_dict():
    import t_lang_mod as m

    return [m.__dict__["present"], "calls" in m.__dict__, "t" in globals(), globals() is globals()]


t("module __dict__ and globals()", _module_dict)


class Pair(tuple):
    def swapped(self):
        return Pair((self[1], self[0]))


def _tuple_subclass():
    p = Pair((1, 2))
    return [p, p.swapped(), p[0], len(p), p == (1, 2), (1, 2) == p, hash(p) == hash((1, 2)), isinstance(p, tuple), p.count(1), list(p), p + (3,), type(p.swapped()).__name__]


t("tuple subclass", _tuple_subclass)


class MultiDict(dict):
    # microdot's shape: the dict's own item methods through super(), and a __getitem__ that
    # does not make the dict iterate by index.
    def __setitem__(self, key, value):
        if key not in self:
            super().__setitem__(key, [])
        super().__getitem__(key).append(value)

    def __getitem__(self, key):
        return super().__getitem__(key)[0]

    def __delitem__(self, key):
        super().__delitem__(key)


def _dict_subclass_items():
    d = MultiDict()
    d["a"] = 1
    d["a"] = 2
    d["b"] = 3
    keys = sorted(k for k in d)
    firsts = [d[k] for k in keys]
    del d["b"]
    return [keys, firsts, list(d.items()), len(d), list(d.keys()), {}.__getitem__ is not None]


t("dict subclass items via super()", _dict_subclass_items)
