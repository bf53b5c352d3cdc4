# Module state made by the builtin modules, frozen by tests/freeze_modules.rs (and run on the
# oracle by tools/difftest --only modstate, so its results are MicroPython's): compiled
# regexes and a match (flash), a StringIO and a BytesIO, a hash in progress, a heap, a deque
# and an OrderedDict (RAM section, written after freezing).
import hashlib
import heapq
import io
import re
from collections import OrderedDict, deque

WORD = re.compile("[a-z]+")
PAIR = re.compile("(\\w+)=(\\d+)")
FIRST = WORD.search("123 abc 456")
LOG = io.StringIO()
LOG.write("boot\n")
RAW = io.BytesIO(b"\x00\x01")
DIGEST = hashlib.sha256(b"seed")
HEAP = [5, 1, 3]
heapq.heapify(HEAP)
QUEUE = deque((), 3)
ORDER = OrderedDict()
ORDER["a"] = 1
TICKS = [0]


def snapshot():
    return (
        WORD.match("hello world").group(0),
        PAIR.sub("\\2:\\1", "x=1 y=22"),
        FIRST.group(0),
        re.compile(",").split("a,b,c"),
        LOG.getvalue(),
        LOG.tell(),
        RAW.getvalue(),
        list(HEAP),
        list(QUEUE),
        list(ORDER.items()),
    )


def mutate():
    TICKS[0] += 1
    n = TICKS[0]
    LOG.write("tick %d\n" % n)
    RAW.seek(0, 2)
    RAW.write(bytes([n]))
    DIGEST.update(b"more")
    heapq.heappush(HEAP, -n)
    QUEUE.append(n)
    ORDER["k%d" % n] = n
    return snapshot(), heapq.heappop(HEAP)


def finish():
    # digest() ends the hash: called once, last.
    return DIGEST.digest(), LOG.getvalue().splitlines()
