# Oracle test: time's calendar functions (gmtime, localtime, mktime) on MicroPython's
# bare-metal conventions (8-tuples, weekday 0 = Monday, 1970 epoch), and the tick arithmetic.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
import time


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


t("gmtime 0", lambda: time.gmtime(0))
t("gmtime", lambda: [time.gmtime(s) for s in (1, 59, 3600, 86399, 86400, 951782400, 1000000000)])
t("localtime", lambda: time.localtime(1000000000))
t("gmtime negative", lambda: time.gmtime(-1))
t("gmtime leap days", lambda: [time.gmtime(s)[:3] for s in (68169600, 68256000, 951868800, 983404800)])
t("mktime", lambda: time.mktime((2001, 9, 9, 1, 46, 40, 0, 0)))
t("mktime 2000", lambda: time.mktime((2000, 1, 1, 0, 0, 0, 0, 0)))
t("mktime 1970", lambda: time.mktime((1970, 1, 1, 0, 0, 0, 0, 0)))
t("mktime 9", lambda: time.mktime((2001, 1, 1, 0, 0, 0, 0, 0, 0)))
t("mktime list", lambda: time.mktime([2001, 1, 1, 0, 0, 0, 0, 0]))
t("mktime normalises", lambda: time.mktime((2001, 13, 40, 25, 61, 61, 0, 0)))
t("mktime tomorrow", lambda: time.mktime((2000, 2, 29 + 1, 0, 0, 0, 0, 0)) - time.mktime((2000, 3, 1, 0, 0, 0, 0, 0)))
t("mktime negative fields", lambda: time.mktime((2001, 1, 1, 0, 0, -1, 0, 0)))
t("mktime month 0", lambda: time.gmtime(time.mktime((2001, 0, 1, 0, 0, 0, 0, 0))))
t("round trip", lambda: all(time.mktime(time.gmtime(s)) == s for s in range(946684800, 1000000000, 8640001)))
t("mktime short", lambda: time.mktime((2001, 1, 1, 0, 0, 0)))
t("mktime int", lambda: time.mktime(5))
t("ticks_add", lambda: (time.ticks_add(5, 3), time.ticks_add(0, -1), time.ticks_add(2**30 - 1, 1)))
t("ticks_diff", lambda: (time.ticks_diff(5, 3), time.ticks_diff(3, 5), time.ticks_diff(0, 2**30 - 1)))
t("ticks types", lambda: (type(time.ticks_ms()), type(time.ticks_us())))
t("sleep_ms", lambda: time.sleep_ms(1))
t("utime", lambda: __import__("utime").gmtime is time.gmtime)
