# minivm's own interpreter checks: every function returns a value the tests compare.
X = 10


def add(a, b=2, *args, scale=1, **kw):
    return (a + b + sum(args)) * scale + len(kw)


def make_counter(start):
    n = start

    def inc(step=1):
        nonlocal n
        n += step
        return n

    return inc


class Base:
    kind = "base"

    def __init__(self, v):
        self.v = v

    def get(self):
        return self.v

    @staticmethod
    def twice(x):
        return 2 * x

    @classmethod
    def name(cls):
        return cls.kind


class Child(Base):
    kind = "child"

    def __init__(self, v, w):
        super().__init__(v)
        self.w = w

    def get(self):
        return super().get() + self.w


class MyError(Exception):
    pass


def raises(n):
    try:
        if n > 0:
            raise MyError("boom", n)
        return "no"
    except MyError as e:
        return e.args[1]
    finally:
        pass


def loops(n):
    out = []
    i = 0
    while i < n:
        i += 1
        if i % 2:
            continue
        out.append(i)
    for j in range(3):
        out.append(j * 10)
    d = {"a": 1, "b": 2}
    for k in d:
        out.append(k)
    for k, v in d.items():
        out.append(v)
    return out


def gen(n):
    for i in range(n):
        x = yield i
        if x:
            yield x


def use_gen():
    return list(gen(4)) + [y for y in gen(2)]


def strings(s):
    return s.upper() + "-" + "-".join(["a", "b"]) + str(len(s)) + s[1:3] + "%d/%s" % (5, "x")


def compare():
    return [1 < 2, "a" < "b", (1, 2) == (1, 2), 3 in [1, 2, 3], "x" not in "abc", None is None]


def unpack():
    a, b, *c = [1, 2, 3, 4]
    (d, e) = (5, 6)
    return a + b + sum(c) + d + e


def with_finally():
    log = []
    for i in range(3):
        try:
            if i == 1:
                break
            log.append(i)
        finally:
            log.append("f")
    return log


def nested_exc():
    try:
        try:
            {}["missing"]
        except KeyError:
            raise ValueError("v")
    except ValueError as e:
        return str(e)


def dict_ops():
    d = {}
    d["x"] = 1
    d.setdefault("y", []).append(2)
    d.update(z=3)
    return sorted(d.keys()), d.get("q", 9), d.pop("x"), len(d)


def lambdas():
    f = lambda x, y=3: x * y
    return list(map(f, [1, 2])) + sorted([3, 1, 2], key=lambda v: -v)


def yield_from():
    def inner():
        yield 1
        yield 2
        return 3

    def outer():
        r = yield from inner()
        yield r

    return list(outer())


class Ctx:
    def __init__(self):
        self.log = []

    def __enter__(self):
        self.log.append("enter")
        return self

    def __exit__(self, a, b, c):
        self.log.append("exit")


def with_stmt():
    c = Ctx()
    with c as x:
        x.log.append("body")
    return c.log


def break_finally():
    out = []
    for i in range(3):
        try:
            if i == 1:
                break
        finally:
            out.append(i)
    out.append("end")
    n = len(out)
    while True:
        try:
            n += 10
            break
        finally:
            n += 1
    return out, n


def deletes():
    d = {"a": 1, "b": 2}
    del d["a"]
    lst = [1, 2, 3]
    del lst[0]
    c = Ctx()
    c.tmp = 5
    del c.tmp
    return d, lst, hasattr(c, "tmp")


class Version:
    def __init__(self, n):
        self.n = n

    def __lt__(self, other):
        return self.n < other.n

    def __le__(self, other):
        return self.n <= other.n

    def __gt__(self, other):
        return self.n > other.n

    def __ge__(self, other):
        return self.n >= other.n


class Celsius:
    def __init__(self, t):
        self.t = t

    def __eq__(self, other):
        return self.t == other


def rich_compare():
    a, b = Version(1), Version(2)
    return [a < b, a <= b, a > b, a >= b, b >= a, a <= a, Celsius(5) == 5, Celsius(5) != 6]


def all_checks():
    return [
        deletes(),
        break_finally(),
        add(1),
        add(1, 2, 3, 4, scale=2, extra=1),
        make_counter(5)(),
        Child(1, 2).get(),
        Base.twice(4),
        Child.name(),
        raises(7),
        raises(0),
        loops(6),
        use_gen(),
        strings("hello"),
        compare(),
        unpack(),
        with_finally(),
        nested_exc(),
        dict_ops(),
        lambdas(),
        yield_from(),
        with_stmt(),
        isinstance(MyError(), Exception),
        rich_compare(),
    ]


def recurse(n):
    return recurse(n + 1)


def frozen_write(obj):
    try:
        obj.attr = 1
        return "written"
    except TypeError as e:
        return "refused"
