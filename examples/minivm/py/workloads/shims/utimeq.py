# utimeq for the oracles (ours): the real MicroPython builds we compare against no longer have
# this C module, which uasyncio v2 (micropython-uasyncio.core 2.3) is written on. tools/corpus
# puts this directory last on the oracles' sys.path only; minivm has utimeq built in.
#
# A queue of (time, callback, args) entries ordered by ticks time (wrapping arithmetic, as
# time.ticks_diff compares), ties in push order. push() returns an id that remove() takes.
import time


class utimeq:
    def __init__(self, maxsize):
        self._max = maxsize
        self._q = []
        self._id = 0

    def push(self, t, callback, args):
        if len(self._q) >= self._max:
            raise IndexError("queue overflow")
        self._id += 1
        i = len(self._q)
        while i > 0 and time.ticks_diff(self._q[i - 1][0], t) > 0:
            i -= 1
        self._q.insert(i, (t, self._id, callback, args))
        return self._id

    def pop(self, out):
        if not self._q:
            raise IndexError("empty heap")
        t, _, callback, args = self._q.pop(0)
        out[0] = t
        out[1] = callback
        out[2] = args

    def peektime(self):
        if not self._q:
            raise IndexError("empty heap")
        return self._q[0][0]

    def remove(self, id):
        for i, e in enumerate(self._q):
            if e[1] == id:
                del self._q[i]
                return

    def __len__(self):
        return len(self._q)
