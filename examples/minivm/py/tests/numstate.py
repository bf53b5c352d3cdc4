# Floats and big ints in a module's state, for tests/freeze_numbers.rs: the immutable numbers
# freeze to flash, the list holding some goes to the RAM section, and every function below must
# give the same results before freezing, after freezing and after a reboot.
import time

PI = 3.141592653589793
TINY = 5e-324
NEG_ZERO = -0.0
INF = float("inf")
BIG = 1267650600228229401496703217721
NEG_BIG = -(10**40)
MASK64 = 0xFFFFFFFFFFFFFFFF
TABLE = (1.5, 2**70, -2.25, 10**20)
RATES = {"a": 0.25, "b": 18446744073709551616}
state = [0.5, 36893488147419103232]


def describe():
    return [
        repr(PI),
        repr(TINY),
        repr(NEG_ZERO),
        INF,
        BIG,
        NEG_BIG,
        hex(MASK64),
        TABLE,
        sorted(RATES.items()),
        type(BIG).__name__,
        type(PI).__name__,
    ]


def compute():
    return [
        PI * 2,
        BIG * BIG % 1000000007,
        BIG >> 33,
        NEG_BIG // 7,
        MASK64 & BIG,
        float(BIG),
        int(PI * 1e20),
        round(PI, 4),
        divmod(BIG, 10**9),
        pow(BIG, 65537, MASK64),
        "%.3f|%10.2e|%x" % (PI, TINY * 1e300, BIG),
        "{:>12.4f}|{:,}".format(PI, NEG_BIG),
        BIG.to_bytes(13, "big"),
        int.from_bytes(MASK64.to_bytes(8, "little"), "little") == MASK64,
        BIG == 1267650600228229401496703217721,
        PI == 3.141592653589793,
    ]


def bump():
    state[0] = state[0] * 3
    state[1] = state[1] + MASK64
    return state


def sleep_ms_taken(seconds):
    t = time.ticks_ms()
    time.sleep(seconds)
    return time.ticks_diff(time.ticks_ms(), t)


def sleep_error(x):
    try:
        time.sleep(x)
    except TypeError as e:
        return str(e)


def power(a, b):
    return a**b


def shift(a, b):
    return a << b
