# Oracle test: floats (double precision, as the reference MicroPython builds use).
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


def reprs(xs):
    return [repr(x) for x in xs]


# --- constants and repr / str --------------------------------------------------------------
t("const", lambda: [1.5, 0.1, 2.0, -0.0, 1e22, 1e-7, 123456789.125, 3.141592653589793])
t("repr small", lambda: reprs([0.5, 0.25, 1 / 3, 2 / 3, 0.1 + 0.2, 1.1, 100.0]))
t("repr big", lambda: reprs([1e15, 1e16, 1e17, 123456789012345678.0, 2.0**53, 2.0**64, 1.7976931348623157e308]))
t("repr tiny", lambda: reprs([1e-4, 1e-5, 0.000123, 5e-324, 2.2250738585072014e-308]))
t("repr neg", lambda: reprs([-1.5, -0.1, -1e100, -0.0]))


# Exact doubles built without parsing (hi * 2**26 + lo) * 2**e: values whose MicroPython repr
# is not the shortest round-trip string (CPython's repr differs for these; both oracle builds agree).
def exact(hi, lo, e):
    return (hi * 67108864.0 + lo) * 2.0**e


ODD = [
    exact(72735096, 18611194, 4),
    exact(82000632, 30833404, -46),
    exact(68281678, 31937574, -6),
    exact(67537423, 53556166, -6),
    exact(90957817, 32163193, -109),
    exact(72549529, 16507917, -23),
    exact(68096511, 66607286, -82),
    exact(117478452, 8321442, -43),
    exact(76585490, 7126974, 24),
]
t("repr 17 digits", lambda: reprs(ODD))
t("repr 17 digits round trip", lambda: [float(repr(x)) == x for x in ODD])
t("parse shortest", lambda: [float("78.2018971056495") == ODD[1], float("896.289460174554") == ODD[7]])
t("str", lambda: [str(1.0), str(0.1), str(1e100), str(-2.5), str(1 / 7)])
t("print", lambda: print(1.0, 2.5, 1e-10, -3.75, 10.0**20))
t("float()", lambda: [float(), float(3), float("1.25"), float("  -2.5e3  "), float("1_000.5"), float(True)])
t("float(str) forms", lambda: [float(".5"), float("5."), float("1e5"), float("1E-2"), float("+7")])
t("float inf nan", lambda: reprs([float("inf"), float("-inf"), float("nan"), float("Infinity"), float("-INF")]))
t("float bad str", lambda: float("1.2.3"))
t("float empty", lambda: float(""))
t("float bad type", lambda: float([1]))
t("float(None)", lambda: float(None))

# --- format ------------------------------------------------------------------------------
t("% f", lambda: ["%f" % 1.5, "%.2f" % 3.14159, "%8.3f" % -2.5, "%-8.1f|" % 2.25, "%+.1f" % 1])
t("% e g", lambda: ["%e" % 12345.678, "%.3e" % 0.00012, "%g" % 0.0001, "%g" % 1e20, "%G" % 1e-10])
t("% g more", lambda: ["%g" % 1.5, "%g" % 100000.0, "%g" % 1000000.0, "%.3g" % 3.14159, "%10.4g|" % 2.5])
t("str.format", lambda: ["{}".format(0.25), "{:.1f}".format(2.25), "{:>8.2f}".format(3.14159), "{:+e}".format(-1.5)])
t("format align", lambda: ["{:<7.2f}|".format(1.005), "{:^9.3f}|".format(-2.5), "{:08.3f}".format(-3.5)])
t("%d of float", lambda: ["%d" % 3.99, "%i" % -2.5, "%x" % 255])
t("%s %r", lambda: ["%s" % 1.5, "%r" % 0.1, "%s" % 1e100])

# --- arithmetic and int/float mixing ---------------------------------------------------------
t("add", lambda: [1.5 + 2, 2 + 1.5, 0.1 + 0.2, 1e308 + 1e308])
t("sub mul", lambda: [5 - 0.5, 0.5 - 5, 3 * 0.5, 0.1 * 3, -2.0 * 0])
t("truediv", lambda: [1 / 2, 7 / 2, -7 / 2, 1.0 / 3, 10 / 4.0, 6 / 3])
t("pow", lambda: [2.0**10, 2**-1, 4**0.5, (-8.0) ** 2, 2.0**0.5, 10**-2])
t("neg pos abs", lambda: [-1.5, +2.5, abs(-3.25), abs(-0.0), -(0.0)])
t("compare", lambda: [1.0 == 1, 1.5 < 2, 2 > 1.5, 0.1 + 0.2 == 0.3, 1.0 != 1, -0.0 == 0.0, 3 <= 3.0])
t("compare mixed", lambda: [1 < 1.5 < 2, max(1, 2.5, 2), min(3.5, 3), sorted([2.5, 1, -1.5, 2])])
t("sum floats", lambda: [sum([0.5, 0.25, 1]), sum([0.1] * 10), sum([], 0.0)])
t("bool", lambda: [bool(0.0), bool(-0.0), bool(0.1), not 0.0])
t("int/float eq hash-free", lambda: [1.0 in [1], 2 in (1.0, 2.0), {1.0: "a"}.get(1)])
t("hash of bools and numbers", lambda: [hash(True), hash(False), hash(1) == hash(1.0), hash(-2) == hash(-2.0), {True: "a"}.get(1), {1: "b"}[True]])
def _aug():
    x = 1
    x += 0.5
    x *= 4
    x -= 1
    x /= 2
    x **= 2
    return x


t("augmented", _aug)



# --- floor division, modulo, divmod ----------------------------------------------------------
t("// floats", lambda: [7.5 // 2, -7.5 // 2, 7.5 // -2, -7.5 // -2, 7 // 2.0, 1.0 // 0.3])
t("% floats", lambda: [7.5 % 2, -7.5 % 2, 7.5 % -2, -7.5 % -2, 5 % 2.5, -0.5 % 1])
t("% sign", lambda: reprs([-1e-20 % 1.0, 3.0 % -1.5, -3.0 % 1.5, 0.0 % -1.0]))
t("divmod floats", lambda: [divmod(7.5, 2), divmod(-7.5, 2), divmod(7, -2.5), divmod(-1.0, 3)])
t("divmod ints", lambda: [divmod(7, 2), divmod(-7, 2), divmod(7, -2), divmod(-7, -2), divmod(0, 5)])
t("int // %", lambda: [-7 // 2, 7 // -2, -7 % 2, 7 % -2, -7 % -2])
t("1/0", lambda: 1 / 0)
t("1.0/0", lambda: 1.0 / 0)
t("1/0.0", lambda: 1 / 0.0)
t("1.0//0", lambda: 1.0 // 0)
t("1.0%0", lambda: 1.0 % 0.0)
t("divmod(1.0,0)", lambda: divmod(1.0, 0))
t("0.0**-1", lambda: 0.0 ** -1)

# --- int(), round(), conversions (big ints: t_bigint.py) -------------------------------------------------------------
t("int(f)", lambda: [int(3.7), int(-3.7), int(0.5), int(-0.0), int(1e9), int(-1073741823.9)])
t("int(inf)", lambda: int(float("inf")))
t("int(-inf)", lambda: int(float("-inf")))
t("int(nan)", lambda: int(float("nan")))
t("int('1.5')", lambda: int("1.5"))
t("round half even", lambda: [round(0.5), round(1.5), round(2.5), round(-0.5), round(-1.5)])
t("round digits", lambda: [round(3.14159, 2), round(2.675, 2), round(1234.5, -2), round(-2.5, 0)])
t("round types", lambda: [type(round(2.5)).__name__, type(round(2.5, 1)).__name__, round(7), round(15, -1)])
t("round inf", lambda: round(float("inf")))
t("round nan", lambda: round(float("nan")))
t("is_integer-free", lambda: [3.0 == int(3.0), 2.5 - int(2.5)])

# --- inf and nan -----------------------------------------------------------------------------
inf = float("inf")
nan = float("nan")
t("inf arith", lambda: reprs([inf + 1, inf * -1, inf - inf, inf * 0, 1 / inf, -inf]))
t("inf cmp", lambda: [inf > 1e308, -inf < -1e308, inf == inf, inf == float("inf")])
t("nan cmp", lambda: [nan == nan, nan != nan, nan < 1, nan > 1, nan is nan])
t("nan arith", lambda: reprs([nan + 1, nan * 0, -nan]))
t("inf str fmt", lambda: [str(inf), "%f" % inf, "%.2f" % -inf, "{}".format(nan), "%g" % nan])
t("inf in list", lambda: [inf in [inf], nan in [nan], [nan] == [nan]])
t("max inf", lambda: [max(1, inf), min(-inf, 0), sorted([inf, -inf, 0.0])])

# --- misc ------------------------------------------------------------------------------------
t("type", lambda: [type(1.5).__name__, type(1 / 1).__name__, isinstance(1.0, float), isinstance(1, float)])
t("float methods", lambda: [(2.5).__class__.__name__, float.__name__])
t("float in containers", lambda: [[1.5, 2.5][1], (0.5,) * 2, {"k": 1.25}["k"], sorted({0.5, 0.5, 1.0})])
t("range of float", lambda: range(1.5))
t("index by float", lambda: [1, 2][1.0])
t("str * float", lambda: "ab" * 1.5)
t("float + str", lambda: 1.5 + "a")
t("bit op float", lambda: 1.5 | 1)
t("float(' ')", lambda: float(" "))
t("float('inf') rt", lambda: float(repr(float("inf"))))
t("roundtrip", lambda: [float(repr(x)) == x for x in (0.1, 1 / 3, 1e22, 5e-324, 123.456)])
t("hash-free dict float key", lambda: sorted({2.5: "b", 0.5: "a"}.items()))

# --- time.sleep takes a float; the other sleeps an int --------------------------------------
import time

t("sleep float", lambda: time.sleep(0.001))
t("sleep str", lambda: time.sleep("x"))
t("sleep_ms float", lambda: time.sleep_ms(1.5))
t("after sleep errors", lambda: [time.sleep_ms(1), 1.5 * 2])
