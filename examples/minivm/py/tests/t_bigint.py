# Oracle test: arbitrary-precision ints. Small ints stay tagged (31 bits on minivm), everything
# beyond overflows into a boxed big int, transparently.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


# Built at run time so the same values also come from arithmetic, not only from constants.
def big(n):
    x = 1
    for _ in range(n):
        x *= 10
    return x


A = 123456789012345678901234567890
B = -98765432109876543210
M = 2**61 - 1

# --- crossing the small-int boundary -------------------------------------------------------
t("const", lambda: [A, B, 2**64, -(2**100), 0x123456789ABCDEF0123])
t("boundary add", lambda: [0x3FFFFFFF + 1, 0x7FFFFFFF + 1, -0x40000000 - 1, 2**30, 2**31, 2**32])
t("boundary mul", lambda: [65536 * 65536, 46341 * 46341, -(2**15) * 2**16, 1 << 40, 3 * 2**62])
t("boundary neg", lambda: [-(-(2**30)), -(2**62), abs(-(2**62)), 0 - 2**31])
t("back to small", lambda: [2**40 - 2**40 + 7, (2**64) // (2**60), 2**100 >> 98, big(20) // big(19)])
t("type", lambda: [type(2**100).__name__, type(2**100 - 2**100).__name__, isinstance(big(30), int)])
t("built", lambda: [big(25), big(25) + 1, big(25) - big(24), -big(22)])
def _fact(n):
    r = 1
    for i in range(2, n + 1):
        r *= i
    return r


t("factorial", lambda: _fact(30))


def _fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


t("fib", lambda: _fib(150))


# --- all operators ------------------------------------------------------------------------
t("+ -", lambda: [A + B, A - B, B - A, A + 1, -A + A, B + 2**70])
t("*", lambda: [A * B, A * -1, A * 0, B * B, 2**64 * 2**64])
t("// %", lambda: [A // 7, A % 7, B // 7, B % 7, A // B, A % B, B // -A, B % -A])
t("// % signs", lambda: [-(2**65) // 3, -(2**65) % 3, 2**65 // -3, 2**65 % -3, -(2**65) // -3])
t("divmod", lambda: [divmod(A, 12345), divmod(B, 2**33), divmod(-(2**70), 10**9)])
t("/", lambda: [A / 10**20, 2**64 / 2, 10**30 / 10**29, 1 / 2**64])
t("**", lambda: [3**100, (-3) ** 41, 2**0, (2**40) ** 3, 10**-2])
t("<< >>", lambda: [1 << 100, A << 3, A >> 50, B >> 10, -1 >> 100, (-(2**80)) >> 79, 5 << 0])
t("& | ^", lambda: [A & 0xFFFFFFFFFFFF, A | 1, A ^ B, B & 0xFF, B | 0xF, -(2**70) & (2**70 - 1), ~A, ~B])
t("& | ^ neg", lambda: [(-(2**64)) & -1, (-(2**64)) | 1, (-(2**64)) ^ (2**64), -A & -B, -A | -B, -A ^ -B])
t("compare", lambda: [A > B, B < 0, 2**64 == 2**64, 2**64 != 2**64 + 1, A >= A, -A < B, 2**100 > 2**99])
t("compare small", lambda: [2**64 > 5, 5 < 2**64, -(2**64) < -5, 2**31 == 2147483648, 0 < big(40)])
t("bool", lambda: [bool(2**64), bool(2**64 - 2**64), not (2**70)])
t("unary", lambda: [-A, +A, abs(B), abs(-(2**64)), ~(2**64)])
def _aug():
    x = 2**40
    x += 2**40
    x *= 3
    x -= 1
    x //= 7
    x %= 10**11
    x <<= 5
    x >>= 2
    x |= 1
    x &= 2**50 - 1
    x ^= 0xFF
    x **= 2
    return x


t("augmented", lambda: _aug())


t("sum min max", lambda: [sum([2**62, 2**62, 2**62]), max(2**64, 3, -(2**70)), min([B, A, 0]), sorted([A, B, 0, 2**40])])
t("in containers", lambda: [2**64 in [2**64], (2**64,) == (2**64,), {2**64: "x"}[2**64], [2**70, 1].index(1)])
t("as index", lambda: ["abc"[2**64 - 2**64], [1, 2, 3][-(2**0)], "xyz" * (2**64 - 2**64 + 2)])
t("huge index", lambda: [1, 2][2**64])
t("range small", lambda: [len(range(2**20)), range(2**29, 2**29 + 3)[1]])
t("range big", lambda: range(2**40, 2**40 + 3)[1])

# --- errors --------------------------------------------------------------------------------
t("div by zero", lambda: A // 0)
t("mod by zero", lambda: A % 0)
t("truediv by zero", lambda: A / 0)
t("neg shift", lambda: 1 << -1)
t("neg shift big", lambda: A >> -5)
t("big + str", lambda: A + "1")
t("big * list", lambda: len([0] * (2**0)))
t("0 ** -1", lambda: 0**-1)

# --- pow(a, b, m) ---------------------------------------------------------------------------
t("pow3 small", lambda: [pow(3, 4, 5), pow(2, 10, 1000), pow(7, 0, 13), pow(-2, 3, 5), pow(5, 3, -7)])
t("pow3 big", lambda: [pow(A, 65537, M), pow(2, 2**70, 10**9 + 7), pow(B, 3, 2**64), pow(3, 10**20, A)])
t("pow3 rsa", lambda: pow(pow(42, 65537, 3233), 2753, 3233))
t("pow3 mod 0", lambda: pow(2, 3, 0))
t("pow3 neg exp", lambda: pow(2, -1, 5))
t("pow3 float", lambda: pow(2.0, 3, 5))
t("pow2", lambda: [pow(2, 100), pow(-2, 63), pow(10, 0)])

# --- int.from_bytes / to_bytes ------------------------------------------------------------
t("from_bytes", lambda: [int.from_bytes(b"\x01\x00", "big"), int.from_bytes(b"\x01\x00", "little"), int.from_bytes(b"", "big")])
t("from_bytes big", lambda: [int.from_bytes(b"\xff" * 8, "big"), int.from_bytes(bytes(range(1, 17)), "little")])
t("from_bytes 9", lambda: int.from_bytes(b"\x80\x00\x00\x00\x00\x00\x00\x00\x01", "big"))
t("to_bytes", lambda: [(1024).to_bytes(2, "big"), (1024).to_bytes(4, "little"), (0).to_bytes(1, "big")])
t("to_bytes big", lambda: [(2**64 - 1).to_bytes(8, "big"), A.to_bytes(16, "little"), (2**64).to_bytes(9, "big")])
t("to_bytes pad", lambda: (255).to_bytes(10, "big"))
t("to_bytes overflow", lambda: (2**64).to_bytes(4, "big"))
t("round trip", lambda: int.from_bytes(A.to_bytes(13, "big"), "big") == A)

# --- hex / bin / oct / str / repr -------------------------------------------------------------
t("hex", lambda: [hex(255), hex(-255), hex(2**64), hex(A), hex(B), hex(0)])
t("bin oct", lambda: [bin(5), bin(-5), bin(2**40), oct(8), oct(-(8**20)), oct(2**64)])
t("% formats", lambda: ["%d" % A, "%x" % (2**64), "%X" % A, "%o" % (2**40), "%20d|" % B, "%-25d|" % (2**64)])
t("format spec", lambda: ["{:x}".format(2**64), "{:,}".format(big(12)), "{:>30}".format(A), "{:b}".format(2**33)])
t("str repr", lambda: [str(A), repr(B), str(-(2**64)), len(str(2**1000))])
t("2**1000 tail", lambda: str(2**1000)[-20:])

# --- parsing with a base -------------------------------------------------------------------
t("int str", lambda: [int("123456789012345678901234567890"), int("-99999999999999999999"), int("  42  ")])
t("int base", lambda: [int("ff", 16), int("FFFFFFFFFFFFFFFFFF", 16), int("777", 8), int("1" * 70, 2), int("zz", 36)])
t("int base 0", lambda: [int("0x10", 0), int("0o17", 0), int("0b101", 0), int("-0xFFFFFFFFFFFFFFFF", 0), int("99", 0)])
t("int prefix", lambda: [int("0x1f", 16), int("0b11", 2), int("0o7", 8), int("-0x8000000000000000", 16)])
t("int underscore", lambda: int("1_000_000_000_000"))
t("int bad", lambda: int("12a"))
t("int bad base", lambda: int("9", 8))
t("int bad big", lambda: int("123456789012345678901234567890x"))
t("int empty", lambda: int(""))
t("int base range", lambda: int("1", 99))
t("int of bytes", lambda: int(b"42"))
t("int(int)", lambda: [int(A), int(True), int(-(2**70))])

# --- int <-> float --------------------------------------------------------------------------
t("float(big)", lambda: [float(2**53 + 1), float(10**20), float(-(2**70)), float(A)])
t("float(huge)", lambda: float(10**400))
t("big + float", lambda: [2**64 + 0.5, 2**64 * 1.0, 10**20 / 10**10, A / 1e10])
t("big vs float", lambda: [2**53 + 1 > 2.0**53, 10**30 < 1e30, 10**400 > 1e308, 2**64 == 2.0**64])
t("int(float) big", lambda: [int(1e20), int(-1.5e19), int(2.0**100), int(1e10), int(2.0**62)])
t("int(float) exact", lambda: int(1.2345678901234567e25))
t("round big", lambda: [round(2**64 + 1, -2), round(A, -10), round(1e20)])
t("true div exact", lambda: [2**64 / 2**63, (10**20 + 1) / 1, -(2**60) / 3])
t("float // big", lambda: [1e20 // 3, 2**70 // 1.5, 2**70 % 1e10])

# --- == with an int on the left asks the other operand (MicroPython swaps a small int) -----


class Eq:
    def __eq__(self, other):
        return other == 5


t("int == obj", lambda: [5 == Eq(), 6 == Eq(), Eq() == 5, 2**64 == Eq(), 5 != Eq(), True == Eq()])
t("int == other types", lambda: [5 == 5.0, 5 == "5", 2**64 == 2.0**64, 2**64 == "x", None == 0, 0 == None])
t("hash consistent", lambda: [hash(2**64) == hash(2**64 + 0), hash(5) == hash(5.0), hash(2**62) == hash(2**61 * 2)])
