# Frozen RAM-section state (tests/freeze.rs): growable tables frozen at their exact size, a
# suspended generator's frame kept whole, a builtin exception instance frozen to flash, plain
# instances frozen without a native word.


class Holder:
    def __init__(self, v):
        self.v = v
        self.arg = None


class Bare:
    pass


class MyError(Exception):
    pass


def countdown(n):
    while n > 0:
        yield n
        n -= 1


def pair():
    i = 2
    while i > 0:
        yield i
        i -= 1


holder = Holder(1)
bare = Bare()  # no members dict yet
stop = StopIteration()
err = MyError("boom")
table = {"a": 1}
table["b"] = 2
table["c"] = 3
items = [1, 2, 3]
items.append(4)
items.append(5)
tags = {"x", "y", "z"}
empty = []
gen = countdown(3)
first = next(gen)
fresh = pair()  # not started, no arguments: its frame is all null


def raise_stop():
    # What uasyncio's sleep_ms.__next__ does with its module-level StopIteration.
    stop.__traceback__ = None
    raise stop


def catch_stop():
    try:
        raise_stop()
    except StopIteration as e:
        return e is stop
    return False


def set_x(obj):
    try:
        obj.x = 1
    except AttributeError as e:
        return str(e)
    return "stored"


def grow():
    table["d"] = 4
    items.append(6)
    tags.add("w")
    empty.append(0)
    holder.v += 1
    holder.w = len(items)
    return ([table[k] for k in "abcd"], items, len(tags), "w" in tags, empty, holder.v, holder.w)
