# Oracle test: bytes, bytearray, memoryview and array.array, the buffer protocol between them,
# and their common methods.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
# Note the MicroPython behaviours CPython lacks: slices of bytes/bytearray/memoryview/array take
# step 1 only, bytearray and array refuse item deletion, values stored into a bytearray,
# memoryview or array are truncated to the item size (no ValueError), b"a" + "b" works,
# `x in array` is NotImplementedError.
try:
    import array
except ImportError as e:
    print("import array: !", type(e).__name__, e)


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


def _set(obj, i, v):
    obj[i] = v
    return obj


# --- bytes ------------------------------------------------------------------------------------
B = b"hello\x00\xff world"
t("bytes repr", lambda: [b"", b"a'b", b'a"b', b"\n\t\r\\", b"\x00\x7f\x80\xff", B])
t("bytes()", lambda: [bytes(), bytes(3), bytes([65, 66, 255]), bytes(b"xy"), bytes("é", "utf-8"), bytes(range(3))])
t("bytes(bad)", lambda: bytes([256]))
t("bytes(str)", lambda: bytes("abc"))
t("bytes(float)", lambda: bytes(3.5))
t("bytes index", lambda: [B[0], B[-1], B[5], B[6], type(B[0]).__name__])
t("bytes index out", lambda: b"ab"[2])
t("bytes slice", lambda: [B[:5], B[6:8], B[-5:], B[3:1], B[:99], B[-99:2]])
t("bytes slice step", lambda: B[::2])
t("bytes iter", lambda: list(b"\x01\x02\xff"))
t("bytes ops", lambda: [b"ab" + b"cd", b"ab" * 3, b"b" in b"abc", 98 in b"abc", b"ab" == b"ab", b"a" < b"b"])
t("bytes + str", lambda: b"a" + "b")
t("bytes == str", lambda: [b"a" == "a", b"a" != "a"])
t("bytes methods", lambda: [B.find(b"o"), B.rfind(b"o"), B.count(b"l"), B.index(b"\xff"), B.startswith(b"he"), B.endswith(b"ld")])
t("bytes index missing", lambda: B.index(b"q"))
t("bytes split", lambda: [b"a,b,,c".split(b","), b" a  b ".split(), b"k=v".partition(b"="), b"a.b.c".rsplit(b".", 1)])
t("bytes strip", lambda: [b"  x  ".strip(), b"xxaxx".strip(b"x"), b"\r\n".rstrip(), b"ab".lstrip(b"a")])
t("bytes replace", lambda: [b"aXbXc".replace(b"X", b"--"), b"aaa".replace(b"a", b"b", 2)])
t("bytes join", lambda: [b"-".join([b"a", b"b", b"c"]), b"".join([]), b",".join((b"x",))])
t("bytes join mixed", lambda: b"".join([b"x", bytearray(b"y")]))
t("bytes upper", lambda: [b"abc".upper(), b"ABC".lower(), b"12".isdigit(), b"ab".isalpha(), b" ".isspace()])
t("bytes decode", lambda: [b"caf\xc3\xa9".decode(), b"abc".decode("utf-8"), str(b"abc", "utf-8")])
t("bytes hex", lambda: [b"\x01\xab".hex(), bytes.fromhex("01ab ff"), bytes.fromhex("")])
t("bytes hex sep", lambda: b"\x01\x02\x03".hex(":"))
t("bytes fromhex bad", lambda: bytes.fromhex("0g"))
t("bytes % format", lambda: [b"%d-%s" % (5, b"x"), b"%02x" % 10])
t("bytes immutable", lambda: _set(bytes(b"abc"), 0, 1))

# --- bytearray --------------------------------------------------------------------------------
t("bytearray()", lambda: [bytearray(), bytearray(3), bytearray(b"ab"), bytearray([1, 2]), bytearray("é", "utf-8")])
t("bytearray set", lambda: _set(bytearray(b"abc"), 1, 0x42))
t("bytearray set neg", lambda: _set(bytearray(b"abc"), -1, 255))
t("bytearray set truncates", lambda: _set(bytearray(b"abc"), 0, 256 + 65))
t("bytearray set out", lambda: _set(bytearray(b"abc"), 3, 1))
t("bytearray set str", lambda: _set(bytearray(b"abc"), 0, "x"))


def _ba_grow():
    b = bytearray()
    for i in range(5):
        b.append(65 + i)
    b.extend(b"xyz")
    b.extend(bytearray(b"!"))
    b += b"+"
    return b, len(b)


t("bytearray grow", _ba_grow)


def _ba_slice():
    b = bytearray(b"0123456789")
    b[2:4] = b"ab"
    r1 = bytes(b)
    b[0:1] = b"XYZ"
    r2 = bytes(b)
    b[5:] = b""
    r3 = bytes(b)
    b[1:1] = bytearray(b"++")
    r4 = bytes(b)
    b[-1:] = memoryview(b"!")
    return r1, r2, r3, r4, b


t("bytearray slice assign", _ba_slice)


def _ba_del():
    b = bytearray(b"abc")
    del b[0]
    return b


t("bytearray del item", _ba_del)
t("bytearray methods", lambda: [bytearray(b"a,b").split(b","), bytearray(b"ab").find(b"b"), bytearray(b"xy").decode(), bytearray(b" q ").strip()])
t("bytearray ops", lambda: [bytearray(b"ab") + b"c", b"c" + bytearray(b"ab"), bytearray(b"ab") == b"ab", b"b" in bytearray(b"ab")])
t("bytearray *", lambda: bytearray(b"ab") * 2)
t("bytearray hex", lambda: bytearray(b"\x10\x20").hex())
t("bytearray reversed", lambda: list(reversed(bytearray(b"abc"))))
t("bytearray from mv", lambda: bytearray(memoryview(b"xyz")[1:]))
t("bytearray iter", lambda: [x + 1 for x in bytearray(b"\x00\x01")])

# --- memoryview ---------------------------------------------------------------------------------


def _mv_bytes():
    m = memoryview(b"abcdef")
    return len(m), m[0], m[-1], bytes(m[1:3]), bytes(m[4:]), bytes(m), list(m[:2])


t("memoryview of bytes", _mv_bytes)


def _mv_write():
    b = bytearray(b"0123456789")
    m = memoryview(b)
    m[0] = 65
    s = m[2:5]
    s[0] = 66
    s[1:3] = b"CD"
    m[-1] = 90
    return b, len(s), bytes(s)


t("memoryview write through", _mv_write)
t("memoryview readonly", lambda: _set(memoryview(b"abc"), 0, 1))
t("memoryview slice of slice", lambda: bytes(memoryview(b"0123456789")[2:8][1:3]))
t("memoryview len", lambda: [len(memoryview(bytearray(7))), len(memoryview(b"ab")[5:])])
t("memoryview compare", lambda: [memoryview(b"ab") == b"ab", bytes(memoryview(b"ab")) == b"ab"])
t("memoryview set truncates", lambda: bytes(_set(memoryview(bytearray(2)), 0, 300)))
t("memoryview slice step", lambda: memoryview(b"abcd")[::2])
t("memoryview int", lambda: memoryview(5))
t("memoryview index out", lambda: memoryview(b"ab")[2])
t("memoryview repr", lambda: repr(memoryview(b"x")))


def _mv_array():
    a = array.array("h", [1, -2, 300])
    m = memoryview(a)
    m[1] = 7
    return len(m), m[0], m[2], list(a), bytes(m), m[1:][0]


t("memoryview over array", _mv_array)


def _mv_resize():
    b = bytearray(b"ab")
    m = memoryview(b)
    b.extend(b"cd")
    return len(m), len(b)


t("memoryview after extend", _mv_resize)

# --- array.array ---------------------------------------------------------------------------------
t("array typecodes", lambda: [array.array(c, [1, 2]) for c in "bBhHiIlL"])
t("array float", lambda: [array.array("f", [1.5, -2.0]), array.array("d", [0.1])])
t("array empty", lambda: [array.array("i"), array.array("B", b"\x01\x02"), array.array("b", bytearray(b"\xff"))])


def _arr_ops():
    a = array.array("i", [1, 2, 3])
    a.append(4)
    a.extend([5, 6])
    a.extend(array.array("i", [7]))
    a[0] = -1
    return a, len(a), a[-1], list(a[2:4]), sum(a), a[1:3]


t("array mutate", _arr_ops)


def _arr_slice_set():
    a = array.array("i", [1, 2, 3, 4])
    a[1:3] = array.array("i", [20, 30])
    return a


t("array slice assign", _arr_slice_set)


def _arr_del():
    a = array.array("i", range(6))
    del a[1:3]
    return a


t("array del slice", _arr_del)
t("array store truncates B", lambda: array.array("B", [256 + 7]))
t("array store wraps b", lambda: _set(array.array("b", [0]), 0, 200))
t("array store wraps H", lambda: array.array("H", [-1]))
t("array index out", lambda: array.array("i", [1])[1])
t("array bytes", lambda: [bytes(array.array("H", [1, 258])), bytes(array.array("i", [-1])), bytes(array.array("b", [-1, 1]))])
t("array f d bytes", lambda: [bytes(array.array("f", [1.0])), bytes(array.array("d", [-2.0]))])
t("array from bytes", lambda: list(array.array("H", b"\x01\x00\x02\x01")))
t("array from odd bytes", lambda: array.array("H", b"\x01\x00\x02"))
t("array bad code", lambda: array.array("z"))
t("array bad item", lambda: array.array("i", ["x"]))
t("array in", lambda: 1 in array.array("i", [1]))
t("array iter", lambda: [x * 2 for x in array.array("h", [1, 2, 3])])
t("array eq", lambda: [array.array("i", [1]) == array.array("i", [1]), array.array("B", [1, 2]) == b"\x01\x02"])
t("array +", lambda: [array.array("i", [1]) + array.array("i", [2]), array.array("B", [1]) + b"\x02"])
t("array q", lambda: array.array("q", [int("1099511627776"), -1]))
t("array setitem float", lambda: _set(array.array("f", [0.0]), 0, 0.25))
t("array I big", lambda: array.array("I", [int("4294967295")]))
t("array len", lambda: [len(array.array("d", [1.0, 2.0])), len(array.array("b"))])

# --- the buffer protocol between them --------------------------------------------------------
t("bytes(x)", lambda: [bytes(bytearray(b"ab")), bytes(memoryview(b"cd")), bytes(array.array("B", [101, 102]))])
t("bytearray(x)", lambda: [bytearray(array.array("B", [1])), bytearray(memoryview(bytearray(b"q")))])
t("+ mixes", lambda: [b"a" + bytearray(b"b"), b"a" + memoryview(b"c"), bytearray(b"a") + memoryview(b"z")])
t("in mixes", lambda: [b"b" in bytearray(b"abc"), bytearray(b"b") in b"abc"])
t("find mixes", lambda: [b"abc".find(bytearray(b"c")), bytearray(b"abc").find(b"b")])
t("find memoryview", lambda: bytearray(b"abc").find(memoryview(b"b")))
t("compare mixes", lambda: [b"ab" == bytearray(b"ab"), bytearray(b"a") < b"b", b"ab" == memoryview(b"ab")])
t("decode views", lambda: [bytearray(b"\xc3\xa9").decode(), bytes(memoryview(b"ok")).decode(), str(bytearray(b"ab"), "utf-8")])
t("int.from_bytes mixes", lambda: [int.from_bytes(bytearray(b"\x01\x02"), "big"), int.from_bytes(memoryview(b"\x03"), "little")])


def _shared():
    b = bytearray(4)
    m1 = memoryview(b)
    m2 = memoryview(b)[2:]
    m1[3] = 9
    m2[0] = 7
    return b, m2[1]


t("two views one buffer", _shared)
t("join views", lambda: bytearray(b",").join([b"a", bytearray(b"b")]))
t("str of buffer", lambda: [str(bytearray(b"x")), str(array.array("b", [1]))])
t("len all", lambda: [len(b"abc"), len(bytearray(5)), len(memoryview(b"ab")), len(array.array("d", [1.0, 2.0]))])
