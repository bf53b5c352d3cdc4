# Oracle test: binascii (hex, base64, crc32), as network and storage libraries use it.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
# (The oracle's build replaces a2b_base64 by a Python version that takes bytes only and raises
# a plain Exception for bad padding, so str input and padding errors are not checked here:
# tests/modules.rs checks them against the C module's behaviour.)
import binascii


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


t("hexlify", lambda: binascii.hexlify(b"\x01\xffA"))
t("hexlify sep", lambda: binascii.hexlify(b"\x01\xffA", "-"))
t("hexlify bytes sep", lambda: binascii.hexlify(b"\x01\xffA", b":"))
t("hexlify str", lambda: binascii.hexlify("ab"))
t("hexlify bytearray", lambda: binascii.hexlify(bytearray(b"\x00\x10")))
t("hexlify empty", lambda: binascii.hexlify(b""))
t("hexlify int", lambda: binascii.hexlify(1))
t("unhexlify", lambda: binascii.unhexlify("01ff41"))
t("unhexlify bytes", lambda: binascii.unhexlify(b"01FF"))
t("unhexlify odd", lambda: binascii.unhexlify("0"))
t("unhexlify bad digit", lambda: binascii.unhexlify("zz"))
t("unhexlify space", lambda: binascii.unhexlify("01 ff"))
t("b2a_base64", lambda: [binascii.b2a_base64(x) for x in (b"", b"h", b"he", b"hel", b"hello world")])
t("b2a_base64 no newline", lambda: binascii.b2a_base64(b"hello", newline=False))
t("b2a_base64 all bytes", lambda: binascii.b2a_base64(bytes(range(256)))[-20:])
t("a2b_base64", lambda: [binascii.a2b_base64(x) for x in (b"", b"aA==", b"aGU=", b"aGVs", b"aGVsbG8gd29ybGQ=\n")])
t("a2b_base64 skips junk", lambda: binascii.a2b_base64(b"a!G@V#s"))
t("a2b_base64 stops at padding", lambda: binascii.a2b_base64(b"aA====aA=="))
t("a2b_base64 memoryview", lambda: binascii.a2b_base64(memoryview(b"aGk=")))
t("round trip", lambda: binascii.a2b_base64(binascii.b2a_base64(bytes(range(100)))) == bytes(range(100)))
t("crc32 small", lambda: binascii.crc32(b""))
t("ubinascii", lambda: __import__("ubinascii").hexlify is binascii.hexlify)
