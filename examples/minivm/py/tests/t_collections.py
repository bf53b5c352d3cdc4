# Oracle test: the collections types libraries build on: namedtuple, OrderedDict, deque.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
try:
    from collections import OrderedDict, deque, namedtuple
except ImportError as e:
    print("import collections: !", type(e).__name__, e)


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


# --- namedtuple ---------------------------------------------------------------------------


def _nt():
    P = namedtuple("P", ("x", "y"))
    p = P(1, y=2)
    a, b = p
    return p, p.x, p.y, p[0], p[-1], a + b, len(p), p == (1, 2), isinstance(p, tuple), P.__name__


t("namedtuple", _nt)


def _nt_str_fields():
    Q = namedtuple("Q", "a b c")
    q = Q(1, 2, 3)
    return q, q.c, Q(*[7, 8, 9])


t("namedtuple fields string", _nt_str_fields)


t("namedtuple kw", lambda: namedtuple("R", ["u", "v"])(v=1, u=2))
t("namedtuple too few", lambda: namedtuple("P", "x y")(1))
def _nt_set():
    p = namedtuple("P", "x")(1)
    p.x = 2


t("namedtuple set attr", _nt_set)
t("namedtuple slice", lambda: namedtuple("P", "x y z")(1, 2, 3)[1:])


def _nt_subclass():
    class Pt(namedtuple("PtBase", "x y")):
        def norm1(self):
            return abs(self.x) + abs(self.y)

    return Pt(3, -4).norm1(), Pt(1, 2).x, Pt(5, 6)


t("namedtuple subclass", _nt_subclass)

# --- OrderedDict --------------------------------------------------------------------------


def _od():
    d = OrderedDict()
    for k in ("zebra", "apple", "mango", "kiwi"):
        d[k] = len(k)
    d["apple"] = 0
    out = [list(d.keys()), list(d.values()), list(d.items())]
    del d["mango"]
    out.append(list(d))
    d["mango"] = 9
    out.append(list(d))
    out.append(d.pop("zebra"))
    out.append(d.popitem())
    out.append(list(d.items()))
    return out


t("OrderedDict order", _od)
t("OrderedDict init", lambda: list(OrderedDict([("b", 1), ("a", 2)]).items()))
t("OrderedDict repr", lambda: repr(OrderedDict([("b", 1), ("a", 2)])))
t("OrderedDict eq dict", lambda: OrderedDict([("a", 1)]) == {"a": 1})
t("OrderedDict missing", lambda: OrderedDict()["x"])
def _od_get():
    d = OrderedDict()
    d.setdefault("q", []).append(1)
    return d.get("q"), d.get("nope", "dflt"), len(d), "q" in d


t("OrderedDict get and setdefault", _od_get)

# --- deque -------------------------------------------------------------------------------


def _dq():
    q = deque((), 5)
    for i in range(3):
        q.append(i)
    q.appendleft(-1)
    out = [len(q), q.popleft(), q.pop(), len(q), bool(q)]
    q.extend([7, 8])
    out.append([q.popleft(), q.popleft(), q.popleft()])
    return out


t("deque", _dq)


def _dq_bounded():
    q = deque((), 3)
    for i in range(6):
        q.append(i)
    return [q.popleft() for _ in range(len(q))]


t("deque bounded drops oldest", _dq_bounded)


def _dq_overflow():
    q = deque((), 2, 1)
    q.append(1)
    q.append(2)
    q.append(3)
    return "no error"


t("deque overflow flag", _dq_overflow)
t("deque pop empty", lambda: deque((), 2).popleft())
t("deque pop right empty", lambda: deque((), 2).pop())
t("deque init items", lambda: [deque([1, 2], 4).popleft(), len(deque([1, 2, 3], 4))])
t("deque no maxlen", lambda: len(deque()))
t("deque index", lambda: deque([1, 2], 3)[0])

# --- more of each ----------------------------------------------------------------------------


def _nt_more():
    P = namedtuple("P", "x y")
    p = P(1, 2)
    return [(1, 2) == p, p + (3,), hash(p) == hash((1, 2)), {p: "v"}[(1, 2)], type(p).__name__, isinstance(p, P), sorted([P(2, 1), P(1, 5)]), p < (1, 3)]


t("namedtuple as a tuple", _nt_more)
t("namedtuple has no tuple methods", lambda: namedtuple("P", "x y")(1, 2).count(1))
t("namedtuple has no _asdict here", lambda: namedtuple("P", "x y")(1, 2)._asdict())


def _nt_sub_methods():
    class Q(namedtuple("QBase", "a b")):
        pass

    q = Q(1, 1)
    return q.count(1), q.index(1), q.a, len(q)


t("namedtuple subclass has tuple methods", _nt_sub_methods)
t("namedtuple bad fields", lambda: namedtuple("P", 5))
t("namedtuple unknown kw", lambda: namedtuple("P", "x")(y=1))
t("namedtuple kw twice", lambda: namedtuple("P", "x y")(1, x=2))
t("namedtuple in format", lambda: "%s %r" % (namedtuple("P", "x")(1), namedtuple("Q", "y")("a")))


def _od_more():
    a = OrderedDict([("x", 1), ("y", 2)])
    b = OrderedDict([("y", 2), ("x", 1)])
    c = a.copy()
    c["z"] = 3
    return [a == b, a == OrderedDict([("x", 1), ("y", 2)]), {"x": 1} == a, type(c).__name__, list(c), isinstance(a, dict), repr(OrderedDict()), len(a)]


t("OrderedDict more", _od_more)


def _dq_more():
    q = deque([1, 2, 3], 3)
    q.appendleft(0)
    r = [list(q), q[0], q[-1]]
    q[1] = "m"
    r.append(list(q))
    q.append(9)
    r.append([x for x in q])
    return r


t("deque iteration and subscripts", _dq_more)
t("deque index range", lambda: deque([1], 2)[3])
t("deque del item", lambda: deque([1], 2).__delitem__(0))
t("deque bad maxlen", lambda: deque((), -1))
t("deque appendleft full", lambda: deque([1, 2], 2, 1).appendleft(0))
