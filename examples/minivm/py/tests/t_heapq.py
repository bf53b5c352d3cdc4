# Oracle test: heapq, MicroPython's C heap functions (the builtin module; micropython-lib's
# heapq.py, in the corpus, shadows it when it is on the path).
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
import heapq


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


def _push_pop():
    h = []
    for x in (5, 1, 4, 2, 3, 1, 9, 0):
        heapq.heappush(h, x)
    layout = list(h)
    return layout, [heapq.heappop(h) for _ in range(8)], h


t("push pop", _push_pop)
t("heapify", lambda: (lambda h: (heapq.heapify(h), h))([5, 4, 3, 2, 1, 0]))
t("heapify big", lambda: (lambda h: (heapq.heapify(h), h))([(i * 37) % 23 for i in range(23)]))
t("heapify empty", lambda: (lambda h: (heapq.heapify(h), h))([]))
t("pop empty", lambda: heapq.heappop([]))
t("pop last", lambda: (lambda h: (heapq.heappop(h), h))([7]))
t("tuples", lambda: (lambda h: (heapq.heappush(h, (2, "b")), heapq.heappush(h, (1, "a")), heapq.heappush(h, (1, "0")), heapq.heappop(h), h))([]))
t("strings", lambda: (lambda h: (heapq.heapify(h), [heapq.heappop(h) for _ in range(3)]))(["pear", "apple", "fig"]))
t("push tuple heap", lambda: heapq.heappush((), 1))
t("heapify tuple", lambda: heapq.heapify((1,)))
t("pop dict", lambda: heapq.heappop({}))
t("mixed pop", lambda: heapq.heappop([1, "a"]))
t("mixed push", lambda: heapq.heappush(["a"], 1))


class Task:
    def __init__(self, when, name):
        self.when = when
        self.name = name

    def __lt__(self, other):
        return self.when < other.when


def _scheduler():
    # How schedulers use it: objects ordered by __lt__.
    h = []
    for when, name in ((30, "c"), (10, "a"), (20, "b"), (10, "a2")):
        heapq.heappush(h, Task(when, name))
    return [heapq.heappop(h).name for _ in range(4)]


t("objects", _scheduler)
t("uheapq", lambda: __import__("uheapq").heappush is heapq.heappush)
