# Oracle test: sys, what libraries use of it: the console streams and print(file=),
# print_exception, exit, path, modules, argv, implementation, version_info, byteorder.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
# (What goes to sys.stderr is not compared: the oracles print it to their stderr.)
import sys


def t(name, f):
    try:
        r = f()
    except BaseException as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


t("stdout", lambda: repr(sys.stdout))
t("stderr", lambda: repr(sys.stderr))
t("stdin", lambda: repr(sys.stdin))
t("stream types", lambda: (type(sys.stdout), type(sys.stderr), type(sys.stdin)))
t("write", lambda: sys.stdout.write("written\n"))
t("write bytes", lambda: sys.stdout.write(b"bytes\n"))
t("write int", lambda: sys.stdout.write(1))
t("buffer", lambda: repr(sys.stdout.buffer))
t("buffer write", lambda: sys.stdout.buffer.write(b"binary\n"))
t("buffer write str", lambda: sys.stdout.buffer.write("text to binary\n"))
t("stderr write", lambda: sys.stderr.write("to stderr\n"))
t("print stderr", lambda: print("to stderr", 2, file=sys.stderr))
t("print stdout", lambda: print("to stdout", file=sys.stdout))
t("print sep end", lambda: print("a", "b", sep="+", end="!\n", file=sys.stdout))
t("flush", lambda: sys.stdout.flush())
t("argv", lambda: type(sys.argv))
t("path", lambda: type(sys.path))
t("modules", lambda: type(sys.modules))
t("sys not in modules", lambda: "sys" in sys.modules)


def _modules_after_import():
    import t_sys_mod
    return "t_sys_mod" in sys.modules, sys.modules["t_sys_mod"].VALUE


t("module in modules", _modules_after_import)


def _reimport():
    import t_sys_mod
    t_sys_mod.VALUE += 1
    del sys.modules["t_sys_mod"]
    import t_sys_mod as again
    return again.VALUE, again is t_sys_mod


t("reimport after del", _reimport)


def _path_rebind():
    old = sys.path
    sys.path = ["nowhere"]
    try:
        return sys.path, sys.path is not old
    finally:
        sys.path = old


t("path rebind", _path_rebind)
t("path restored", lambda: sys.path is not None)
t("setattr", lambda: setattr(sys, "xyz", 1))
t("delattr", lambda: delattr(sys, "platform"))
t("impl name", lambda: sys.implementation.name)
t("impl version", lambda: type(sys.implementation.version))
t("impl index", lambda: sys.implementation[0])
t("version_info", lambda: (sys.version_info, type(sys.version_info), sys.version_info[0]))
t("version", lambda: sys.version[:6])
t("byteorder", lambda: sys.byteorder)
t("exit", lambda: sys.exit())
t("exit code", lambda: sys.exit(3))
t("exit message", lambda: sys.exit("bye"))
t("exit args", lambda: sys.exit(1, 2))
t("SystemExit code", lambda: (lambda e: e.args)(SystemExit(4)))


def _print_exception():
    import io
    try:
        raise ValueError("boom", 2)
    except Exception as e:
        s = io.StringIO()
        sys.print_exception(e, s)
        return s.getvalue().splitlines()[-1]


t("print_exception to stream", _print_exception)


def _print_exception_stdout():
    try:
        {}["k"]
    except KeyError as e:
        sys.print_exception(e)


t("print_exception", _print_exception_stdout)
t("print_exception value", lambda: sys.print_exception(123))
t("usys", lambda: __import__("usys") is sys)
t("ps1", lambda: (sys.ps1, sys.ps2))
