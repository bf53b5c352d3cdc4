//! `open()`, `os` and the importer on a filesystem (the host's [`HostDir`]): what works, and
//! the `OSError`s with MicroPython's errnos for what does not (missing files, a full
//! filesystem, names too long, paths that would leave it); modules imported from `/lib` and
//! from the current directory before the bundled ones; files dropped without `close()`
//! reclaimed; files refused by the freezer.

mod common;

use std::path::PathBuf;

use minivm::freeze::SimChip;
use minivm::repl::{self, Mode};
use minivm::vfs::{HostDir, Root};
use minivm::{Vm, memmap::HEAP_DEFAULT};

/// A fresh, empty directory under the target dir.
fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fs-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A VM whose filesystem is `dir` (capacity `cap` bytes), importing from `['', '/lib']` then
/// the bundled modules.
fn vm_on(dir: &PathBuf, cap: u64) -> Vm<SimChip> {
    let mut vm = Vm::new(SimChip::erased(), HEAP_DEFAULT);
    minivm::freeze::FlashFreezer::attach(&mut vm);
    let root = Root::new(Box::new(HostDir::new(dir, cap).unwrap()));
    vm.sources.push(Box::new(minivm::sources::Bundled));
    minivm::vfs::mount(&mut vm, root, &["", "/lib"]);
    vm
}

/// Runs `src` as a raw-REPL program: (output, error text).
fn exec(vm: &mut Vm<SimChip>, src: &str) -> (String, Option<String>) {
    vm.young.clear();
    let r = repl::run(vm, src, Mode::File);
    vm.young.clear();
    let out = vm.take_output();
    (out, r.err().map(|e| e.to_string()))
}

fn ok(vm: &mut Vm<SimChip>, src: &str) -> String {
    let (out, err) = exec(vm, src);
    assert_eq!(err, None, "{src}: {out}");
    out
}

fn oserror(vm: &mut Vm<SimChip>, src: &str) -> String {
    let (_, err) = exec(vm, src);
    err.unwrap_or_else(|| panic!("{src} did not raise"))
}

#[test]
fn files_and_directories_work_as_on_micropython() {
    let d = scratch("basic");
    let mut vm = vm_on(&d, 64 * 1024);
    ok(
        &mut vm,
        "import os\nf = open('hello.txt', 'w')\nf.write('hi\\nthere\\n')\nf.close()\nos.mkdir('lib')",
    );
    assert_eq!(
        std::fs::read_to_string(d.join("hello.txt")).unwrap(),
        "hi\nthere\n"
    );
    let out = ok(
        &mut vm,
        "print(os.listdir())\nfor e in os.ilistdir('/'):\n print(repr(e), end=',')\nprint()\n\
         print(os.stat('hello.txt')[0], os.stat('hello.txt')[6], os.stat('lib')[0])\n\
         with open('hello.txt') as f:\n print(repr(f.readline()), repr(f.read(3)), repr(f.read()), repr(f.read()))\n\
         with open('hello.txt', 'rb') as f:\n print(f.read(2), f.seek(1), f.tell(), f.read(1))\n\
         f = open('hello.txt', 'a')\nf.write(b'more')\nf.close()\nprint(open('hello.txt').read())",
    );
    assert_eq!(
        out,
        "['hello.txt', 'lib']\n('hello.txt', 32768, 0, 9),('lib', 16384, 0, 0),\n32768 9 16384\n\
         'hi\\n' 'the' 're\\n' ''\nb'hi' 1 1 b'i'\nhi\nthere\nmore\n"
    );
    let out = ok(
        &mut vm,
        "os.rename('hello.txt', 'lib/moved.txt')\nos.chdir('lib')\nprint(os.getcwd(), os.listdir(), os.listdir('..'))\n\
         os.remove('moved.txt')\nos.chdir('/')\nos.rmdir('lib')\nprint(os.listdir(''), os.statvfs('/'))",
    );
    assert_eq!(
        out,
        "/lib ['moved.txt'] ['lib']\n[] (4096, 4096, 16, 15, 15, 0, 0, 0, 0, 255)\n"
    );
}

#[test]
fn failures_are_oserrors_with_the_right_errno() {
    let d = scratch("errors");
    let mut vm = vm_on(&d, 16 * 1024);
    ok(
        &mut vm,
        "import os\nos.mkdir('d')\nopen('d/x', 'w').close()",
    );
    let cases = [
        ("open('missing')", "OSError: [Errno 2] ENOENT"),
        ("open('nodir/x', 'w')", "OSError: [Errno 2] ENOENT"),
        ("os.stat('missing')", "OSError: [Errno 2] ENOENT"),
        ("os.remove('missing')", "OSError: [Errno 2] ENOENT"),
        ("os.mkdir('d')", "OSError: [Errno 17] EEXIST"),
        ("open('d/x', 'x')", "OSError: [Errno 17] EEXIST"),
        ("os.listdir('d/x')", "OSError: 20"),
        ("open('d')", "OSError: [Errno 21] EISDIR"),
        ("os.remove('d')", "OSError: [Errno 21] EISDIR"),
        ("os.rmdir('d')", "OSError: 39"),
        ("os.rename('d', 'd/sub')", "OSError: [Errno 22] EINVAL"),
        ("open('a' * 256, 'w')", "OSError: 36"),
        ("open('x', 'q')", "ValueError: invalid mode: 'q'"),
        (
            "f = open('d/x')\nf.close()\nf.read()",
            "ValueError: I/O operation on closed file",
        ),
        ("f = open('d/x')\nf.write('no')", "OSError: [Errno 9] EBADF"),
        // `..` stops at the top: this is /etc/passwd of the filesystem, which does not exist.
        ("open('/../../../etc/passwd')", "OSError: [Errno 2] ENOENT"),
    ];
    for (src, want) in cases {
        let err = oserror(&mut vm, src);
        assert!(err.ends_with(want), "{src}: {err}");
    }
    // The errno is the exception's errno (and args[0]), as mpremote and users read it.
    let out = ok(
        &mut vm,
        "import errno\ntry:\n open('missing')\nexcept OSError as e:\n print(e.errno == errno.ENOENT, e.args)",
    );
    assert_eq!(out, "True (2,)\n");
    // A symbolic link leading out of the directory is refused.
    std::os::unix::fs::symlink("/etc", d.join("etc")).unwrap();
    assert!(oserror(&mut vm, "open('etc/passwd')").ends_with("OSError: [Errno 13] EACCES"));
    assert!(!ok(&mut vm, "print(os.listdir())").contains("etc"));
    // A full filesystem: ENOSPC, and what was written before is still there.
    let err = oserror(
        &mut vm,
        "f = open('big', 'wb')\nfor i in range(100):\n f.write('x' * 1024)",
    );
    assert!(err.ends_with("OSError: 28"), "{err}");
    ok(&mut vm, "f.close()\nos.remove('big')");
    assert_eq!(ok(&mut vm, "print(os.listdir())"), "['d']\n");
}

#[test]
fn no_filesystem_is_enodev() {
    let mut vm = Vm::new(SimChip::erased(), HEAP_DEFAULT);
    let (_, err) = exec(&mut vm, "import os\nos.listdir()");
    assert!(err.unwrap().ends_with("OSError: [Errno 19] ENODEV"));
    let (_, err) = exec(&mut vm, "open('x')");
    assert!(err.unwrap().ends_with("OSError: [Errno 19] ENODEV"));
}

#[test]
fn modules_import_from_the_filesystem_before_the_bundled_ones() {
    let d = scratch("import");
    let py = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("py");
    // The tinysched package under /lib, and a counter in the current directory.
    std::fs::create_dir_all(d.join("lib/tinysched")).unwrap();
    for f in ["__init__", "calc", "core", "errors", "jobs"] {
        std::fs::copy(
            py.join(format!("tinysched/{f}.mpy")),
            d.join(format!("lib/tinysched/{f}.mpy")),
        )
        .unwrap();
    }
    std::fs::copy(py.join("counter.mpy"), d.join("counter.mpy")).unwrap();
    let mut vm = Vm::new(SimChip::erased(), HEAP_DEFAULT);
    let root = Root::new(Box::new(HostDir::new(&d, 1 << 20).unwrap()));
    minivm::vfs::mount(&mut vm, root, &["", "/lib"]);
    // No bundled source at all: whatever imports came from the directory.
    let out = ok(
        &mut vm,
        "import tinysched\nimport counter\nprint(tinysched.selftest_basic())\nprint(counter.selftest())",
    );
    assert!(!out.is_empty());
    let (_, err) = exec(&mut vm, "import nothere");
    assert!(err.unwrap().contains("no module named 'nothere'"));
    // A corrupted .mpy is a clean error, not a crash.
    std::fs::write(d.join("broken.mpy"), b"M\x06garbage").unwrap();
    let (_, err) = exec(&mut vm, "import broken");
    assert!(err.unwrap().starts_with("ValueError: broken:"));
}

#[test]
fn files_dropped_without_close_are_reclaimed() {
    let d = scratch("reclaim");
    let mut vm = vm_on(&d, 64 * 1024);
    ok(&mut vm, "f = open('a', 'w')\nf.write('x')\nf.close()");
    // Four slots; twenty opens never closed still work, and keeping one open keeps it open.
    let out = ok(
        &mut vm,
        "keep = open('a')\nfor i in range(20):\n s = open('a').read()\nprint(s, keep.read())",
    );
    assert_eq!(out, "x x\n");
    // All four held by live objects: the fifth open is EMFILE.
    let err = oserror(
        &mut vm,
        "b = open('a'); c = open('a'); d = open('a')\ne = open('a')",
    );
    assert!(err.ends_with("OSError: 24"), "{err}");
}

#[test]
fn a_module_holding_an_open_file_is_not_frozen() {
    let d = scratch("freeze");
    std::fs::write(d.join("holder.mpy"), []).unwrap();
    let mut vm = vm_on(&d, 64 * 1024);
    ok(&mut vm, "import counter\ncounter.log = open('f', 'w')");
    let (_, err) = exec(&mut vm, "import freeze\nfreeze.import_modules('counter')");
    // Refused with its path in the graph and its type, and nothing written.
    assert_eq!(
        err.unwrap(),
        "TypeError: cannot freeze counter.log (TextIOWrapper): an open file (its descriptor does \
         not survive a reboot)"
    );
    assert_eq!(ok(&mut vm, "print(freeze.info()['objects'])"), "0\n");
    // A binary file says FileIO; a closed one is refused too.
    ok(
        &mut vm,
        "counter.log.close()\ncounter.log = open('g', 'wb')\ncounter.log.close()",
    );
    let (_, err) = exec(&mut vm, "freeze.import_modules('counter')");
    assert!(
        err.unwrap()
            .starts_with("TypeError: cannot freeze counter.log (FileIO): an open file"),
    );
}

#[test]
fn a_file_is_its_own_type() {
    // The file methods are a file's only; a socket or a poll has none of them, and a file has no
    // len (the generic handle's `len` counted its list).
    let d = scratch("type");
    let mut vm = vm_on(&d, 64 * 1024);
    let out = ok(
        &mut vm,
        "import io, socket, select\nf = open('t', 'w')\nb = open('b', 'wb')\n\
         print(type(f) is io.TextIOWrapper, type(b) is io.FileIO, type(f) is type(b), bool(f))\n\
         print(hasattr(f, 'read'), hasattr(socket.socket(), 'tell'), hasattr(select.poll(), 'write'))\n\
         print(repr(f).startswith('<io.TextIOWrapper '), repr(b).startswith('<io.FileIO '))\n\
         f.write('one\\ntwo\\nthree')\nf.close()\nb.close()\nb.close()",
    );
    assert_eq!(out, "True True False True\nTrue False False\nTrue True\n");
    let err = oserror(&mut vm, "len(open('t'))");
    assert!(
        err.ends_with("TypeError: object of type 'TextIOWrapper' has no len()"),
        "{err}"
    );
    // Iteration gives lines; io.open is open.
    let out = ok(
        &mut vm,
        "for line in io.open('t'):\n print(repr(line), end=' ')\nprint()\n\
         print(list(open('t', 'rb')))",
    );
    assert_eq!(
        out,
        "'one\\n' 'two\\n' 'three' \n[b'one\\n', b'two\\n', b'three']\n"
    );
    let err = oserror(&mut vm, "f = open('t')\nf.close()\nfor x in f:\n pass");
    assert!(
        err.ends_with("ValueError: I/O operation on closed file"),
        "{err}"
    );
    let err = oserror(&mut vm, "import os\nos.remove()");
    assert!(
        err.ends_with("TypeError: remove() takes at least 1 arguments"),
        "{err}"
    );
}

#[test]
fn bytes_read_back_repr_as_python_does() {
    // mpremote reads files back with `print(repr(f.read(256)))` and parses the bytes literal.
    let d = scratch("repr");
    let all: Vec<u8> = (0..=255u8).collect();
    std::fs::write(d.join("all.bin"), &all).unwrap();
    let mut vm = vm_on(&d, 64 * 1024);
    let out = ok(&mut vm, "print(repr(open('all.bin', 'rb').read()))");
    let mut want = String::from("b'");
    for &c in &all {
        match c {
            b'\n' => want.push_str("\\n"),
            b'\r' => want.push_str("\\r"),
            b'\t' => want.push_str("\\t"),
            b'\\' => want.push_str("\\\\"),
            b'\'' => want.push_str("\\'"),
            0x20..=0x7e => want.push(c as char),
            _ => want.push_str(&format!("\\x{c:02x}")),
        }
    }
    want.push_str("'\n");
    assert_eq!(out, want);
    assert_eq!(
        ok(&mut vm, "print(repr(b'say \"hi\"'), repr(b\"it's\"))"),
        "b'say \"hi\"' b\"it's\"\n"
    );
}
