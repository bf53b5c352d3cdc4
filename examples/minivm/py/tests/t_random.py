# Oracle test: random, MicroPython's generator (Yasmarang): seeded sequences must be MicroPython's
# exactly, and the errors its functions raise.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
import random


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


def seeded(n, f):
    random.seed(n)
    return f()


t("getrandbits", lambda: seeded(42, lambda: [random.getrandbits(8) for _ in range(8)]))
t("getrandbits widths", lambda: seeded(3, lambda: [random.getrandbits(k) for k in (0, 1, 5, 16, 30)]))
t("randrange", lambda: seeded(1, lambda: [random.randrange(10) for _ in range(10)]))
t("randrange start stop", lambda: seeded(2, lambda: [random.randrange(5, 10) for _ in range(6)]))
t("randrange step", lambda: seeded(2, lambda: [random.randrange(0, 100, 7) for _ in range(6)]))
t("randrange negative step", lambda: seeded(2, lambda: [random.randrange(10, 0, -3) for _ in range(6)]))
t("randint", lambda: seeded(5, lambda: [random.randint(1, 6) for _ in range(12)]))
t("randint negative", lambda: seeded(5, lambda: [random.randint(-3, -1) for _ in range(6)]))
t("choice", lambda: seeded(6, lambda: [random.choice("abcdef") for _ in range(8)]))
t("choice list", lambda: seeded(6, lambda: [random.choice([None, 1, "x"]) for _ in range(5)]))
t("choice tuple", lambda: seeded(6, lambda: random.choice((7,))))
t("same seed same run", lambda: seeded(9, lambda: random.getrandbits(16)) == seeded(9, lambda: random.getrandbits(16)))
t("bits 33", lambda: random.getrandbits(33))
t("bits negative", lambda: random.getrandbits(-1))
t("randrange 0", lambda: random.randrange(0))
t("randrange empty", lambda: random.randrange(5, 5))
t("randrange step 0", lambda: random.randrange(0, 10, 0))
t("randrange wrong way", lambda: random.randrange(0, 10, -1))
t("randint reversed", lambda: random.randint(5, 1))
t("choice empty", lambda: random.choice([]))
t("seed str", lambda: random.seed("x"))
t("randrange str", lambda: random.randrange("3"))
t("urandom", lambda: __import__("urandom").randint is random.randint)
