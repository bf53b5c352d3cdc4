//! Numbers: the `.mpy` float and big-int constants (malformed ones are typed `LoadError`s),
//! `MemoryError` for a big int the heap cannot hold (raised before any work, the VM keeps
//! working), and the simulated clock of `time.sleep` with a float.
//!
//! What numbers print and compute is specified against the real MicroPython by
//! `py/tests/t_float.py` and `t_bigint.py` (tools/difftest).

mod common;

use common::run;
use minivm::freeze::SimChip;
use minivm::mpy::{Const, LoadError, parse};
use minivm::mpz::Mpz;

const NUMSTATE: &[u8] = include_bytes!("../py/tests/numstate.mpy");

/// Offset of constant text `text` in the file, and the offset of its entry (type byte, then a
/// one-byte length, then the text).
fn const_at(text: &[u8]) -> (usize, usize) {
    let at = NUMSTATE
        .windows(text.len())
        .position(|w| w == text)
        .expect("constant in the .mpy");
    assert_eq!(NUMSTATE[at - 1] as usize, text.len(), "one-byte length");
    (at, at - 2)
}

/// The file with the constant entry at `entry` (of text `old`) replaced by `new_entry`.
fn splice(entry: usize, old: &[u8], new_entry: &[u8]) -> Vec<u8> {
    let mut b = NUMSTATE[..entry].to_vec();
    b.extend_from_slice(new_entry);
    b.extend_from_slice(&NUMSTATE[entry + 2 + old.len()..]);
    b
}

#[test]
fn float_and_big_int_constants_load_as_numbers() {
    let f = parse(NUMSTATE).expect("valid .mpy");
    assert!(f.consts.contains(&Const::Float(std::f64::consts::PI)));
    let big = Mpz::from_digits(b"1267650600228229401496703217721", 10).unwrap();
    assert!(f.consts.contains(&Const::BigInt(big)));
    assert!(
        f.consts.contains(&Const::Float(5e-324)),
        "the smallest subnormal"
    );
}

#[test]
fn malformed_number_constants_are_load_errors() {
    // A float constant that is not a float.
    let text = b"3.141592653589793";
    let (at, entry) = const_at(text);
    let mut b = NUMSTATE.to_vec();
    b[at + 4] = b'x';
    assert_eq!(parse(&b), Err(LoadError::BadFloat(entry)));
    b[at + 4] = b'.';
    assert_eq!(parse(&b), Err(LoadError::BadFloat(entry)), "1.2.3");
    // The same text as a complex constant: minivm has none.
    let mut e = vec![9, text.len() as u8];
    e.extend_from_slice(text);
    assert_eq!(
        parse(&splice(entry, text, &e)),
        Err(LoadError::Complex(entry))
    );

    // A big-int constant with a letter in it, or empty, or longer than the bound.
    let text = b"1267650600228229401496703217721";
    let (at, entry) = const_at(text);
    let mut b = NUMSTATE.to_vec();
    b[at + 7] = b'z';
    assert_eq!(parse(&b), Err(LoadError::BadInt(entry)));
    assert_eq!(
        parse(&splice(entry, text, &[7, 0])),
        Err(LoadError::BadInt(entry))
    );
    assert_eq!(
        parse(&splice(entry, text, &[7, 1, b'-'])),
        Err(LoadError::BadInt(entry))
    );
    // 20001 digits: length 0x81 0x9c 0x21 in 7-bit groups.
    let mut e = vec![7, 0x81, 0x9c, 0x21];
    e.extend(std::iter::repeat_n(b'9', 20_001));
    assert_eq!(
        parse(&splice(entry, text, &e)),
        Err(LoadError::BadInt(entry))
    );
    // 20000 digits are fine.
    let mut e = vec![7, 0x81, 0x9c, 0x20];
    e.extend(std::iter::repeat_n(b'9', 20_000));
    assert!(parse(&splice(entry, text, &e)).is_ok());
    assert!(
        LoadError::BadFloat(7)
            .to_string()
            .contains("malformed float constant at byte 7")
    );
}

#[test]
fn huge_big_ints_are_memory_errors_and_the_vm_keeps_working() {
    let mut vm = common::boot(SimChip::erased(), None);
    run(&mut vm, "import tests.numstate as n");
    for line in [
        "n.power(2, 1048576)",
        "n.shift(1, 2147483647)",
        "n.power(n.BIG, 100000)",
        "n.BIG.to_bytes(1000000000, 'big')",
    ] {
        let e = vm.exec_line(line).expect_err(line);
        vm.take_output();
        assert!(e.starts_with("MemoryError"), "{line}: {e}");
        vm.collect();
    }
    let e = vm
        .exec_line("n.shift(1, n.power(2, 40))")
        .expect_err("shift count");
    vm.take_output();
    assert!(
        e.starts_with("OverflowError: overflow converting long int to machine word"),
        "{e}"
    );
    assert_eq!(
        run(&mut vm, "n.power(2, 100)"),
        "1267650600228229401496703205376\n"
    );
    assert_eq!(run(&mut vm, "n.power(2, -2)"), "0.25\n");
}

#[test]
fn sleep_takes_float_seconds_on_the_simulated_clock() {
    let mut vm = common::boot(SimChip::erased(), None);
    run(&mut vm, "import tests.numstate as n");
    assert_eq!(run(&mut vm, "n.sleep_ms_taken(n.TABLE[0])"), "1500\n");
    assert_eq!(run(&mut vm, "n.sleep_ms_taken(2)"), "2000\n");
    assert_eq!(run(&mut vm, "n.sleep_ms_taken(n.NEG_BIG)"), "0\n");
    assert_eq!(
        run(&mut vm, "n.sleep_error('x')"),
        "\"can't convert str to float\"\n"
    );
    // The TypeError is raised, not left behind: the next statement runs clean.
    let e = vm
        .exec_line("import utime; utime.sleep_ms(n.PI)")
        .expect_err("sleep_ms(float)");
    vm.take_output();
    assert_eq!(e, "TypeError: can't convert float to int");
    assert_eq!(run(&mut vm, "utime.sleep_ms(3)"), "");
    assert_eq!(run(&mut vm, "n.sleep_ms_taken(0)"), "0\n");
}

#[test]
fn the_console_reads_float_literals() {
    let mut vm = common::boot(SimChip::erased(), None);
    run(&mut vm, "x = 0.1 + 0.2");
    assert_eq!(run(&mut vm, "x"), "0.30000000000000004\n");
    assert_eq!(
        run(&mut vm, "[1e22, -2.5e-3, .5, 1., 2e400]"),
        "[1e+22, -0.0025, 0.5, 1.0, inf]\n"
    );
    run(
        &mut vm,
        "import utime; t = utime.ticks_ms(); utime.sleep(0.25)",
    );
    assert_eq!(
        run(&mut vm, "utime.ticks_diff(utime.ticks_ms(), t)"),
        "250\n"
    );
    let e = vm.exec_line("y = 1.5x").expect_err("glued");
    assert!(e.contains("invalid number"), "{e}");
}
