# Module state of the kinds issue 10's language work adds, frozen by tests/freeze_lang.rs
# (and run on the oracle by tools/difftest, so its results are MicroPython's):
# namedtuple classes and instances (flash), an OrderedDict, deques and a deque iterator (RAM
# section), instances of subclasses of list/dict/str and of a namedtuple class (RAM section,
# with their native objects), a class made by type(), and a module-level __getattr__.
from collections import OrderedDict, deque, namedtuple

Point = namedtuple("Point", "x y")
origin = Point(0, 0)
corner = Point(x=3, y=4)


class Pos(namedtuple("PosBase", ("row", "col"))):
    def flat(self, width):
        return self.row * width + self.col


cursor = Pos(2, 5)

order = OrderedDict()
order["zebra"] = 1
order["apple"] = 2

queue = deque((), 4)
queue.append("a")
queue.append("b")
strict = deque([1, 2], 3, 1)
walker = iter(queue)


class Stack(list):
    def peek(self):
        return self[-1]


stack = Stack([1, 2])


class Registry(dict):
    def register(self, k, v):
        self[k] = v
        return len(self)


registry = Registry()
registry.register("one", 1)


class Tag(str):
    def shout(self):
        return self.upper() + "!"


tag = Tag("hi")
Made = type("Made", (), {"kind": "dyn", "twice": lambda self, v: 2 * v})
made = Made()


def __getattr__(name):
    # A lazy attribute cached in the globals on first use, as asyncio's lazy loader does
    # (after freezing, the binding goes to the heap overlay until the next reboot).
    if name.startswith("lazy_"):
        v = name[5:]
        globals()[name] = v
        return v
    raise AttributeError(name)


def snapshot():
    # Reads only: the same before freezing, frozen, and after a reboot.
    me = __import__(__name__, None, None, ("snapshot",))  # this module, as an object
    return (
        origin,
        corner,
        corner.x + corner.y,
        corner == (3, 4),
        isinstance(corner, tuple),
        Point.__name__,
        cursor,
        cursor.flat(10),
        cursor.col,
        list(order.items()),
        repr(order),
        len(queue),
        list(queue),
        len(strict),
        stack.peek(),
        list(stack),
        len(stack),
        sorted(registry.items()),
        tag + "?",
        tag.shout(),
        len(tag),
        made.kind,
        made.twice(4),
        type(made).__name__,
        me.lazy_value,
        "lazy_value" in globals(),
        globals().get("lazy_value"),
        hasattr(me, "other"),
    )


def mutate():
    # Changes every mutable kind; called twice, the results show the state carried over.
    order["mango"] = len(order)
    popped = order.popitem()
    queue.append(len(queue))
    queue.appendleft("z")
    left = queue.popleft()
    nxt = next(walker, "end")
    stack.append(len(stack))
    registry.register("n%d" % len(registry), 0)
    try:
        strict.append(9)
        full = "room"
    except IndexError as e:
        full = str(e)
    try:
        corner.x = 1
        ro = "stored"
    except AttributeError as e:
        ro = str(e)
    return (popped, list(order), left, list(queue), nxt, list(stack), len(registry), full, ro, list(strict))
