# Text and buffers under bad input and memory pressure (tests/buffers.rs): huge sizes raise
# MemoryError and the VM goes on; bad input raises MicroPython's exceptions; the buffer protocol
# lends every kind its bytes.
import array

BA = bytearray(b"xyz")
AR = array.array("H", [1, 0x102])
MV = memoryview(BA)[1:]
MVA = memoryview(AR)[1:]

HUGE = [
    ("bytearray(n)", lambda: bytearray(1 << 29)),
    ("bytearray(-1)", lambda: bytearray(-1)),
    ("bytes(n)", lambda: bytes(1 << 29)),
    ("str * n", lambda: "ab" * (1 << 29)),
    ("bytes * n", lambda: b"ab" * (1 << 29)),
    ("center", lambda: "\xe9".center(1 << 29)),
    ("array d", lambda: array.array("d", range(1 << 28))),
    ("array q", lambda: array.array("q", range(1 << 27))),
    ("extend", lambda: bytearray(1000).extend(range(1 << 20))),
    ("%*d", lambda: "%*d" % (1 << 29, 1)),
    ("format width", lambda: "{:>{}}".format("a", 1 << 29)),
    ("slice store", lambda: _store(bytearray(2))),
]

BAD = [
    lambda: bytes.fromhex("0"),
    lambda: b"\xc3".decode(),
    lambda: str(b"\xff", "utf-8"),
    lambda: array.array("x"),
    lambda: array.array("b", 5),
    lambda: memoryview(1),
    lambda: memoryview(b"ab")[::2],
    lambda: "abc"[1:2:3],
    lambda: bytearray(b"ab")[5],
    lambda: "\u20ac"[1],
    lambda: chr(-1),
    lambda: "{0}{}".format(1, 2),
    lambda: "%d" % "x",
    lambda: b"ab"[1:2:3],
    lambda: bytearray(b"ab").find(1),
]


def _store(b):
    b[0:1] = bytearray(1 << 29)


def huge():
    out = []
    for name, f in HUGE:
        try:
            f()
            out.append(name + ": no error")
        except MemoryError:
            out.append(name + ": MemoryError")
    for line in out:
        print(line)


def bad():
    out = []
    for f in BAD:
        try:
            out.append(repr(f()))
        except Exception as e:
            out.append(type(e).__name__ + ": " + str(e))
    for line in out:
        print(line)


def mixed():
    return (
        [c for c in "a\xe9\u20ac\U0001f600"],
        "-".join("x y  z".split()),
        "%s|%5s|%x" % ("\xe9", b"\x00", 255),
        "{:*^9}|{!r}".format("\xe9", b"\xff"),
        list(MVA),
        AR + AR,
        bytearray(AR),
        bytes(MV),
    )
