// Runs Python source on the real MicroPython, the 32-bit WebAssembly build pinned in package.json
// (`@micropython/micropython-webassembly-pyscript`, doubles, 32-bit words), under Node.
//
//   node mp-wasm.mjs [--heapsize BYTES] [--mount DIR]... FILE.py
//
// Each run is one fresh MicroPython instance (its heap never gives memory back, so heap costs are
// only meaningful as the first import of a fresh instance). Every `--mount DIR` is copied into the
// instance's in-memory filesystem at the same absolute path, so the driver can put the host path
// on `sys.path` unchanged; FILE.py (the driver, written by tools/oracle.py) then runs as
// `__main__`. MicroPython's stdout goes to our stdout, byte for byte; an exception that escapes the
// driver is printed as MicroPython prints it (`Traceback ...`) and the exit status is 1.
// Node-side failures (bad arguments, unreadable files, a wasm abort) exit with status 2.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.join(here, "node_modules", "@micropython", "micropython-webassembly-pyscript", "micropython.mjs");

function usage(msg) {
    process.stderr.write(`mp-wasm: ${msg}\nusage: node mp-wasm.mjs [--heapsize BYTES] [--mount DIR]... FILE.py\n`);
    process.exit(2);
}

let heapsize = 4 * 1024 * 1024;
const mounts = [];
let file = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--heapsize") {
        heapsize = Number.parseInt(argv[++i] ?? "", 10);
        if (!Number.isFinite(heapsize) || heapsize <= 0) usage("--heapsize needs a positive number");
    } else if (a === "--mount") {
        const d = argv[++i];
        if (!d) usage("--mount needs a directory");
        mounts.push(path.resolve(d));
    } else if (a.startsWith("-")) {
        usage(`unknown option ${a}`);
    } else if (file === null) {
        file = a;
    } else {
        usage("only one FILE.py");
    }
}
if (file === null) usage("no FILE.py");
if (!fs.existsSync(pkg)) {
    process.stderr.write(`mp-wasm: ${pkg} is missing: run examples/minivm/oracle/install\n`);
    process.exit(2);
}

const { loadMicroPython } = await import(pkg);
const source = fs.readFileSync(file, "utf8");
const out = (bytes) => process.stdout.write(Buffer.from(bytes));
const err = (bytes) => process.stderr.write(Buffer.from(bytes));
const mp = await loadMicroPython({ heapsize, linebuffer: false, stdout: out, stderr: err });

// Copies a host tree into the instance's filesystem (MEMFS) at the same absolute path.
function mount(dir) {
    mp.FS.mkdirTree(dir);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) mount(p);
        else if (entry.isFile()) mp.FS.writeFile(p, fs.readFileSync(p));
    }
}
for (const d of mounts) mount(d);

try {
    mp.runPython(source);
} catch (e) {
    if (e && e.name === "PythonError") {
        // The driver lets nothing escape; if something does, say what, as MicroPython would.
        process.stdout.write(`Traceback (most recent call last):\n${e.type}: ${e.message}\n`);
        process.exitCode = 1;
    } else {
        process.stderr.write(`mp-wasm: ${e && e.stack ? e.stack : e}\n`);
        process.exitCode = 2;
    }
}
