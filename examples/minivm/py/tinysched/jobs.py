# tinysched.jobs: example workloads for the scheduler, and the demos selftest() runs.
#
# The generator demos need a VM with generators; demo_steps() runs on step functions only.

from . import core
from .core import Scheduler, Channel, sleep, put, get, spawn_cmd, every
from .errors import SchedError, Cancelled
from . import calc

WORDS = ("alpha", "beta", "gamma", "delta")


def producer(chan, items, pause=1):
    sent = 0
    for item in items:
        yield put(chan, item)
        sent += 1
        yield sleep(pause)
    yield put(chan, None)
    return sent


def consumer(chan, out):
    total = 0
    while True:
        item = yield get(chan)
        if item is None:
            break
        out.append(item)
        total += len(item)
    return total


def evaluator(chan, env):
    # Consumes calculator lines and returns the list of their results.
    results = []
    while True:
        line = yield get(chan)
        if line is None:
            return results
        results.append(calc.run(line, env))
        yield sleep(0)


def failing(after):
    yield sleep(after)
    raise ValueError("bad value " + str(after))


def sleeper(ticks):
    try:
        yield sleep(ticks)
    except Cancelled as e:
        return "cancelled: " + e.describe()
    return "woke"


def parent(sched_log):
    child = yield spawn_cmd("child", sleeper(1))
    sched_log.append(child.name)
    yield sleep(2)
    return child.status()


def demo_pipeline():
    sched = Scheduler()
    chan = Channel("words", size=2)
    received = []
    p = sched.spawn("producer", producer(chan, WORDS))
    c = sched.spawn("consumer", consumer(chan, received), delay=3)
    switches = sched.run()
    return (p.result, c.result, tuple(received), sched.now, switches, len(sched.trace))


def demo_calc_tasks():
    sched = Scheduler(trace=False)
    lines = Channel("lines", size=1)
    env = calc.Env()
    feed = ("let a = 6", "let b = a * 7", "b - a", "b / (a - 6)", "max(a, b) % 5")
    sched.spawn("feeder", producer(lines, feed, pause=0))
    ev = sched.spawn("eval", evaluator(lines, env))
    sched.run(limit=100)
    return tuple(ev.result)


def demo_errors():
    sched = Scheduler()
    seen = []
    sched.spawn("bad", failing(2))
    s = sched.spawn("sleepy", sleeper(10))
    sched.spawn("parent", parent(seen))
    sched.run(limit=3)
    cancelled = sched.cancel(s)
    sched.run()
    out = []
    for r in sched.results():
        out.append(r[0] + "=" + str(r[2]))
    return (cancelled, tuple(seen), tuple(out))


def demo_steps():
    # Step functions and closures only: no generators needed.
    sched = Scheduler()
    sched.spawn_steps("fast", every(1, 3, label="fast"))
    sched.spawn_steps("slow", every(2, 2, label="slow"), delay=1)
    sched.spawn_steps("bad", _raise_once)
    sched.run()
    trace = []
    for line in sched.trace:
        trace.append(line)
    return (sched.now, tuple(trace))


def _raise_once(sched):
    raise SchedError("step failed at " + str(sched.now))
