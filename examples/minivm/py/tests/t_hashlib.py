# Oracle test: hashlib.sha256 (the digest the oracle's build has; sha1 is rp2's, checked by
# tests/modules.rs): digests, incremental updates, MicroPython's final-after-digest rule.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
import hashlib


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


t("abc", lambda: hashlib.sha256(b"abc").digest())
t("empty", lambda: hashlib.sha256().digest())
t("str data", lambda: hashlib.sha256("abc").digest())
t("updates", lambda: (lambda h: (h.update(b"a"), h.update("bc"), h.digest()))(hashlib.sha256()))
t("update bytearray", lambda: (lambda h: (h.update(bytearray(b"ab")), h.update(memoryview(b"c")), h.digest()))(hashlib.sha256()))
for n in (55, 56, 63, 64, 65, 119, 120, 1000):
    t("length %d" % n, lambda n=n: hashlib.sha256(b"x" * n).digest())
t("split across blocks", lambda: (lambda h: ([h.update(b"y" * k) for k in (1, 62, 2, 70)], h.digest()))(hashlib.sha256()))
t("digest twice", lambda: (lambda h: (h.digest(), h.digest()))(hashlib.sha256(b"x")))
t("update after digest", lambda: (lambda h: (h.digest(), h.update(b"y")))(hashlib.sha256(b"x")))
t("no hexdigest", lambda: hashlib.sha256(b"x").hexdigest())
t("repr", lambda: repr(hashlib.sha256()))
t("int data", lambda: hashlib.sha256(1))
t("update int", lambda: hashlib.sha256().update(1))
t("type", lambda: type(hashlib.sha256()))
t("uhashlib", lambda: __import__("uhashlib").sha256 is hashlib.sha256)
