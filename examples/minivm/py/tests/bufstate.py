# Frozen buffers and text (tests/freeze_buffers.rs): a bytearray, arrays and memoryviews in module
# globals freeze with their data (bytearray and array with their byte stores to the RAM section,
# writable there; bytes, str and memoryviews to flash), work the same after freezing and after a
# reboot, and restart from their frozen contents.
import array

BUF = bytearray(b"hello, world")
EMPTY = bytearray()
WORDS = array.array("h", [1, -2, 300])
UNSIGNED = array.array("I", [1, 2, 3, 4])
VIEW = memoryview(BUF)[7:]  # a window on BUF: writes through it land in BUF's store
RO = memoryview(b"read-only")
SHORTS = memoryview(WORDS)
DATA = b"\x00\x01\xfe\xff"
TEXT = "caf\xe9 \u20ac and more text than a qstr"
ASCII = "an ascii str long enough to be an object, not a qstr"
RAW = bytearray(8)  # the test writes a heap address into it: raw bytes are no reference
GROWN = bytearray()
for i in range(20):
    GROWN.append(i)  # capacity 32: frozen trimmed to its 20 bytes


def report():
    return (
        bytes(BUF),
        len(BUF),
        list(WORDS),
        list(UNSIGNED),
        bytes(VIEW),
        len(VIEW),
        VIEW[0],
        bytes(RO),
        list(SHORTS),
        DATA,
        TEXT,
        len(TEXT),
        TEXT[3],
        TEXT[-1],
        TEXT.find("\u20ac"),
        ASCII[3:8],
        len(EMPTY),
        bytes(EMPTY),
        bytes(GROWN),
    )


def write():
    BUF[0] = ord("H")  # an item store into the frozen store
    VIEW[0:5] = b"WORLD"  # a slice store through the (flash) memoryview into BUF's store
    SHORTS[2] = -1  # through a view of an array
    WORDS[1] = 7
    UNSIGNED[1:3] = array.array("I", [20, 30, 40])  # grows: the store moves to the heap
    EMPTY.extend(b"abc")  # from no store at all
    BUF.append(33)  # grows BUF; VIEW keeps its window
    GROWN.append(20)  # past the trimmed capacity: a new store in the heap
    return report()


def write_read_only():
    try:
        RO[0] = 1
    except TypeError as e:
        return str(e)
    return "stored"
