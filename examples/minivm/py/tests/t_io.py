# Oracle test: io.StringIO and io.BytesIO, the in-memory streams libraries log and parse
# with, and print(..., file=stream).
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
import io


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


def _rw():
    s = io.StringIO()
    a = s.write("hello\n")
    b = s.write("w\u00f6rld\nlast")
    return (a, b, s.tell(), s.getvalue(), s.seek(0), s.read(3), s.tell(), s.readline(),
            s.readline(), s.readline(), s.readline(), s.read())


t("write read", _rw)
t("initial", lambda: (lambda s: (s.tell(), s.read(), s.write("X"), s.getvalue()))(io.StringIO("abc")))
t("initial overwritten", lambda: (lambda s: (s.write("X"), s.getvalue()))(io.StringIO("abc")))
t("bytes initial", lambda: (lambda s: (s.tell(), s.read(2), s.getvalue()))(io.BytesIO(b"xyz")))
t("bytes capacity", lambda: (lambda s: (s.tell(), s.getvalue(), s.write(b"ab"), s.getvalue()))(io.BytesIO(5)))
t("str capacity", lambda: io.StringIO(5).getvalue())
t("read counts chars", lambda: (lambda s: (s.read(2), s.tell(), s.read(1)))(io.StringIO("\u00e9a\u00e9")))
t("write counts bytes", lambda: io.StringIO().write("\u00e9"))
t("seek end", lambda: (lambda s: (s.seek(0, 2), s.seek(-1, 2), s.read(), s.seek(2, 1)))(io.StringIO("abc")))
t("seek negative", lambda: io.StringIO("abc").seek(-5))
t("seek before start", lambda: (lambda s: (s.seek(1), s.seek(-5, 1), s.tell()))(io.StringIO("abc")))
t("seek past end", lambda: (lambda s: (s.seek(5), s.write("x"), s.getvalue()))(io.StringIO("abc")))
t("bytes seek past end", lambda: (lambda s: (s.seek(5), s.write(b"x"), s.getvalue()))(io.BytesIO(b"abc")))
t("seek constants", lambda: (io.SEEK_SET, io.SEEK_CUR, io.SEEK_END))
t("write mid", lambda: (lambda s: (s.seek(1), s.write("XYZW"), s.getvalue(), s.tell()))(io.StringIO("abc")))
t("write bytes to StringIO", lambda: io.StringIO().write(b"x"))
t("write str to BytesIO", lambda: io.BytesIO().write("x"))
t("write int", lambda: io.StringIO().write(1))
t("write buffers", lambda: (lambda s: (s.write(bytearray(b"ab")), s.write(memoryview(b"cd")), s.getvalue()))(io.BytesIO()))
t("iterate", lambda: list(io.StringIO("a\nb\n\nc")))
t("iterate bytes", lambda: list(io.BytesIO(b"a\nb")))
t("readline n", lambda: io.StringIO("abcdef\nx").readline(3))
t("readline empty", lambda: io.StringIO("").readline())
t("read negative", lambda: io.StringIO("abc").read(-1))
t("read None", lambda: io.StringIO("abc").read(None))
t("readinto", lambda: (lambda s, b: (s.readinto(b), b, s.tell()))(io.BytesIO(b"abcd"), bytearray(3)))
t("getvalue after read", lambda: (lambda s: (s.read(1), s.getvalue()))(io.StringIO("ab")))
t("closed read", lambda: (lambda s: (s.close(), s.read()))(io.StringIO("abc")))
t("closed getvalue", lambda: (lambda s: (s.close(), s.getvalue()))(io.StringIO("abc")))
t("closed write", lambda: (lambda s: (s.close(), s.write("x")))(io.StringIO("abc")))
t("close twice", lambda: (lambda s: (s.close(), s.close()))(io.StringIO("abc")))


def _with():
    with io.StringIO() as s:
        s.write("in with")
        v = s.getvalue()
    try:
        s.write("after")
    except ValueError as e:
        return v, str(e)


t("with", _with)
t("flush", lambda: io.StringIO().flush())
t("repr", lambda: (repr(io.StringIO())[:12], repr(io.BytesIO())[:11]))
t("types", lambda: (type(io.StringIO()), type(io.BytesIO())))
t("truth", lambda: bool(io.StringIO()))
t("len", lambda: len(io.StringIO("ab")))
t("no readlines", lambda: io.StringIO("a\nb").readlines())
t("uio", lambda: __import__("uio").StringIO is io.StringIO)


def _print_file():
    s = io.StringIO()
    print("a", 1, file=s)
    print("b", "c", sep="-", end="", file=s)
    return s.getvalue()


t("print file", _print_file)
t("print file bytes", lambda: (lambda s: (print("a", file=s), s.getvalue()))(io.BytesIO()))
t("print file None", lambda: print("x", file=None))


class Log:
    # How libraries collect output: a StringIO kept across calls.
    buf = io.StringIO()

    @classmethod
    def log(cls, *args):
        print(*args, file=cls.buf)
        return cls.buf.tell()


t("kept stream", lambda: (Log.log("one", 1), Log.log("two"), Log.buf.getvalue()))
