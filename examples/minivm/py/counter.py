# counter: the seed's example of mutable module state.
#
# After freeze.import_modules('counter') the functions, the class and the constants live in
# flash, while the holder instance, the history list and the totals dict must stay writable
# (frozen RAM section): incr() keeps counting after freezing and after a soft reboot, where it
# starts again from the initial state captured at freeze time.

NAME = "counter"
START = 0
LIMIT = 1000


class _Counter:
    """Holds the count; one instance lives at module level."""

    def __init__(self, start=START):
        self.n = start
        self.calls = 0

    def incr(self, by=1):
        self.n = self.n + by
        self.calls = self.calls + 1
        return self.n

    def set(self, n):
        self.n = n


class LimitError(Exception):
    pass


_counter = _Counter()
history = []
totals = {"incr": 0, "reset": 0}


def incr(by=1):
    if _counter.n + by > LIMIT:
        raise LimitError("counter over " + str(LIMIT))
    totals["incr"] = totals["incr"] + 1
    v = _counter.incr(by)
    history.append(v)
    return v


def value():
    return _counter.n


def calls():
    return _counter.calls


def reset(to=START):
    totals["reset"] = totals["reset"] + 1
    _counter.set(to)
    while len(history) > 0:
        history.pop()
    return to


def state():
    return (_counter.n, len(history), totals["incr"], totals["reset"])


def selftest():
    # Restores everything it touches, so it gives the same answer before freezing, after
    # freezing and after a reboot, however often it runs.
    saved = _counter.n
    saved_calls = _counter.calls
    saved_history = []
    for v in history:
        saved_history.append(v)
    saved_totals = (totals["incr"], totals["reset"])
    a = incr()
    b = incr(by=5)
    c = incr(2)
    over = "no error"
    try:
        incr(LIMIT)
    except LimitError as e:
        over = "LimitError: " + str(e)
    n = len(history)
    seen = (history[n - 3] - saved, history[n - 2] - saved, history[n - 1] - saved)
    counted = totals["incr"] - saved_totals[0]
    reset(saved)
    for v in saved_history:
        history.append(v)
    _counter.calls = saved_calls
    totals["incr"] = saved_totals[0]
    totals["reset"] = saved_totals[1]
    return (a - saved, b - saved, c - saved, seen, over, counted, value() == saved)
