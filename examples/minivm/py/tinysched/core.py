# tinysched.core: a small cooperative scheduler on a simulated clock.
#
# A task is either a generator that yields commands (see sleep, put, get, spawn_cmd) or a
# plain "step" callable that returns the ticks until its next step, or None when it is done.
# The scheduler always resumes the runnable task with the earliest wake time (ties: the one
# queued first), advances the clock to it, and records what happened in a trace list.

from .errors import *

# Commands a generator task may yield.
CMD_SLEEP = "sleep"
CMD_PUT = "put"
CMD_GET = "get"
CMD_SPAWN = "spawn"

# Task states.
NEW = 0
READY = 1
WAITING = 2
DONE = 3
FAILED = 4
STATE_NAMES = ("new", "ready", "waiting", "done", "failed")

DEFAULT_LIMIT = 200


def sleep(ticks=0):
    return (CMD_SLEEP, ticks)


def put(chan, item):
    return (CMD_PUT, chan, item)


def get(chan):
    return (CMD_GET, chan)


def spawn_cmd(name, gen):
    return (CMD_SPAWN, name, gen)


class Channel:
    """A bounded FIFO between tasks, kept as a ring buffer in a preallocated list."""

    def __init__(self, name, size=2):
        self.name = name
        self.size = size
        self.buf = []
        for _ in range(size):
            self.buf.append(None)
        self.head = 0
        self.count = 0
        self.getters = []
        self.putters = []

    def full(self):
        return self.count == self.size

    def empty(self):
        return self.count == 0

    def push(self, item):
        self.buf[(self.head + self.count) % self.size] = item
        self.count += 1

    def pop(self):
        item = self.buf[self.head]
        self.buf[self.head] = None
        self.head = (self.head + 1) % self.size
        self.count -= 1
        return item


class Task:
    """One schedulable unit: a generator or a step function, with its state and result."""

    def __init__(self, name, body, is_gen=True):
        self.name = name
        self.body = body
        self.is_gen = is_gen
        self.state = NEW
        self.wake = 0
        self.seq = 0
        self.send_value = None
        self.pending = None
        self.result = None
        self.error = None
        self.steps = 0

    def status(self):
        return self.name + ":" + STATE_NAMES[self.state]


class Scheduler:
    def __init__(self, trace=True):
        self.now = 0
        self.queue = []
        self.tasks = []
        self.trace = [] if trace else None
        self.seq = 0
        self.switches = 0

    def log(self, who, event, detail=None):
        if self.trace is None:
            return
        line = str(self.now) + " " + who + " " + event
        if detail is not None:
            line = line + " " + str(detail)
        self.trace.append(line)

    def _enqueue(self, task, wake):
        task.state = READY
        task.wake = wake
        self.seq += 1
        task.seq = self.seq
        self.queue.append(task)

    def spawn(self, name, gen, delay=0):
        task = Task(name, gen, True)
        self.tasks.append(task)
        self._enqueue(task, self.now + delay)
        return task

    def spawn_steps(self, name, step, delay=0):
        task = Task(name, step, is_gen=False)
        self.tasks.append(task)
        self._enqueue(task, self.now + delay)
        return task

    def _pick(self):
        best = None
        for t in self.queue:
            if best is None or t.wake < best.wake or (t.wake == best.wake and t.seq < best.seq):
                best = t
        if best is not None:
            self.queue.remove(best)
        return best

    def _finish(self, task, result):
        task.state = DONE
        task.result = result
        self.log(task.name, "done", result)

    def _fail(self, task, exc):
        task.state = FAILED
        task.error = TaskError(task.name, exc)
        self.log(task.name, "failed", type(exc).__name__)

    def _step_fn(self, task):
        try:
            delay = task.body(self)
        except SchedError as e:
            self._fail(task, e)
            return
        if delay is None:
            self._finish(task, task.steps)
        else:
            self._enqueue(task, self.now + delay)

    def _step_gen(self, task):
        value = task.send_value
        task.send_value = None
        try:
            if task.pending is not None:
                exc = task.pending
                task.pending = None
                cmd = task.body.throw(exc)
            else:
                cmd = task.body.send(value)
        except StopIteration as e:
            self._finish(task, e.value)
            return
        except SchedError as e:
            self._fail(task, e)
            return
        except ValueError as e:
            self._fail(task, e)
            return
        self._dispatch(task, cmd)

    def _dispatch(self, task, cmd):
        kind = cmd[0]
        if kind == CMD_SLEEP:
            self._enqueue(task, self.now + cmd[1])
        elif kind == CMD_SPAWN:
            child = self.spawn(cmd[1], cmd[2])
            task.send_value = child
            self._enqueue(task, self.now)
        elif kind == CMD_PUT:
            chan = cmd[1]
            if chan.full():
                task.state = WAITING
                chan.putters.append((task, cmd[2]))
                self.log(task.name, "blocks on put", chan.name)
            else:
                chan.push(cmd[2])
                self._wake_getter(chan)
                self._enqueue(task, self.now)
        elif kind == CMD_GET:
            chan = cmd[1]
            if chan.empty():
                task.state = WAITING
                chan.getters.append(task)
                self.log(task.name, "blocks on get", chan.name)
            else:
                task.send_value = chan.pop()
                self._wake_putter(chan)
                self._enqueue(task, self.now)
        else:
            task.pending = SchedError("unknown command " + repr(kind))
            self._enqueue(task, self.now)

    def _wake_getter(self, chan):
        if len(chan.getters) > 0 and not chan.empty():
            getter = chan.getters.pop(0)
            getter.send_value = chan.pop()
            self._enqueue(getter, self.now)

    def _wake_putter(self, chan):
        if len(chan.putters) > 0 and not chan.full():
            entry = chan.putters.pop(0)
            chan.push(entry[1])
            self._enqueue(entry[0], self.now)
            self._wake_getter(chan)

    def cancel(self, task):
        if task.state == READY and task.is_gen:
            task.pending = Cancelled("cancelled " + task.name)
            return True
        return False

    def run(self, limit=DEFAULT_LIMIT):
        """Runs until no task is runnable or `limit` switches; returns the number of switches."""
        count = 0
        while count < limit:
            task = self._pick()
            if task is None:
                break
            if task.wake > self.now:
                self.now = task.wake
            task.steps += 1
            count += 1
            if task.is_gen:
                self._step_gen(task)
            else:
                self._step_fn(task)
        self.switches += count
        return count

    def results(self):
        out = []
        for t in self.tasks:
            if t.state == FAILED:
                out.append((t.name, "failed", t.error.describe()))
            else:
                out.append((t.name, STATE_NAMES[t.state], t.result))
        return out


def every(period, times, label="tick"):
    """A step function that runs `times` times, `period` ticks apart (a closure with nonlocal)."""
    count = 0

    def step(sched):
        nonlocal count
        count += 1
        sched.log(label, "step", count)
        if count >= times:
            return None
        return period

    return step
