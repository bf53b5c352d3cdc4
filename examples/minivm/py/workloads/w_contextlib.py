# Workload for micropython-contextlib 3.4.2-4 (+ its ucontextlib): contextmanager (enter, exit,
# exceptions thrown into the generator), ContextDecorator, closing, suppress, ExitStack.
import contextlib

log = []


@contextlib.contextmanager
def tag(name):
    log.append("<" + name + ">")
    try:
        yield name.upper()
    except KeyError as e:
        log.append("handled " + repr(e.args))
    finally:
        log.append("</" + name + ">")


with tag("a") as v:
    log.append("body " + v)
with tag("b"):
    raise KeyError("k")
try:
    with tag("c"):
        raise ValueError("passes through")
except ValueError as e:
    log.append("outer caught " + str(e))
print("contextmanager:", log)

log.clear()


@tag("deco")
def decorated(x):
    log.append("call %d" % x)
    return x * 2


print("ContextDecorator:", decorated(21), log)


class Resource:
    def __init__(self, name):
        self.name = name
        self.closed = False

    def close(self):
        self.closed = True


r = Resource("file")
with contextlib.closing(r) as got:
    print("closing: inside", got.name, got.closed)
print("closing: after", r.closed)

with contextlib.suppress(ZeroDivisionError, KeyError):
    1 // 0
print("suppress: continued")
try:
    with contextlib.suppress(KeyError):
        raise IndexError("not suppressed")
except IndexError as e:
    print("suppress: let through", e)

order = []
try:
    contextlib.ExitStack()
except TypeError as e:
    # ExitStack() calls deque() without arguments; micropython-collections 0.1.3 re-exports the
    # builtin deque, which needs (iterable, maxlen): the library fails here on real MicroPython.
    print("ExitStack():", type(e).__name__, e)


class deque(list):
    """The unbounded deque ExitStack expects (the missing micropython-collections.deque)."""

    def __init__(self, items=()):
        super().__init__(items)


contextlib.deque = deque
with contextlib.ExitStack() as stack:
    for n in ("one", "two", "three"):
        stack.callback(order.append, "closed " + n)
    stack.enter_context(tag("in-stack"))
    order.append("body")
print("ExitStack:", order, log[-1])

order.clear()
try:
    with contextlib.ExitStack() as stack:
        stack.push(lambda *exc: order.append(("exit saw", exc[0].__name__)) or True)
        raise RuntimeError("swallowed")
    order.append("after suppressed error")
except RuntimeError:
    order.append("not suppressed")
print("ExitStack push:", order)
print("workload done")
