# Oracle test: errno, MicroPython's whole list and errorcode, and how OSError prints with them.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
import errno


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


t("names", lambda: sorted(n for n in dir(errno) if n.startswith("E")))
t("values", lambda: sorted((getattr(errno, n), n) for n in dir(errno) if n.startswith("E")))
t("errorcode", lambda: sorted(errno.errorcode.items()))
t("errorcode agrees", lambda: all(errno.errorcode[getattr(errno, n)] == n for n in dir(errno) if n.startswith("E")))
t("OSError str", lambda: str(OSError(errno.ENOENT)))
t("OSError args", lambda: OSError(errno.EAGAIN).args)
t("OSError errno", lambda: OSError(errno.EIO).errno)
t("OSError unknown", lambda: str(OSError(12345)))
t("uerrno", lambda: __import__("uerrno").ENOENT)
