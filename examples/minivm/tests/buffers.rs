//! Text and buffers under bad input and memory pressure: huge sizes are a `MemoryError` (never
//! a panic or a wrapped size) and the VM keeps working; every kind survives a collection at
//! every allocation; the buffer protocol lends the bytes of every kind.

mod common;

use common::run;
use minivm::memmap::HEAP_DEFAULT;
use minivm::{RamFlash, Vm};

fn vm() -> Vm<RamFlash> {
    let mut vm = Vm::new(RamFlash::erased(), HEAP_DEFAULT);
    vm.sources.push(Box::new(minivm::sources::Bundled));
    vm
}

/// The lines `tests.bufcheck.<f>()` prints, one per case.
fn cases(vm: &mut Vm<RamFlash>, f: &str) -> Vec<String> {
    let out = run(vm, &format!("tests.bufcheck.{f}()"));
    out.lines().map(String::from).collect()
}

#[test]
fn huge_sizes_raise_memory_error_and_the_vm_recovers() {
    let mut vm = vm();
    run(&mut vm, "import tests.bufcheck");
    let got = cases(&mut vm, "huge");
    assert_eq!(got.len(), 12, "{got:?}");
    for line in &got {
        assert!(line.ends_with(": MemoryError"), "{line}");
    }
    assert_eq!(run(&mut vm, "len(tests.bufcheck.BA)"), "3\n");
}

#[test]
fn bad_input_is_a_python_exception() {
    let mut vm = vm();
    run(&mut vm, "import tests.bufcheck");
    let want = [
        "ValueError: non-hex digit",
        "UnicodeError: ",
        "UnicodeError: ",
        "ValueError: bad typecode",
        "TypeError: 'int' object isn't iterable",
        "TypeError: object with buffer protocol required",
        "NotImplementedError: only slices with step=1 (aka None) are supported",
        "NotImplementedError: only slices with step=1 (aka None) are supported",
        "IndexError: bytearray index out of range",
        "IndexError: string index out of range",
        "ValueError: chr() arg not in range(0x110000)",
        "ValueError: can't switch from manual field specification to automatic field numbering",
        "TypeError: can't convert str to int",
        "NotImplementedError: only slices with step=1 (aka None) are supported",
        "TypeError: can't convert 'int' object to str implicitly",
    ];
    assert_eq!(cases(&mut vm, "bad"), want);
}

#[test]
fn every_kind_survives_a_collection_at_every_allocation() {
    let lines = [
        "import tests.bufstate as b",
        "import tests.bufcheck as c",
        "b.report()",
        "b.write()",
        "b.write()",
        "c.mixed()",
        "c.bad()",
    ];
    let mut plain = vm();
    let want: Vec<String> = lines.iter().map(|l| run(&mut plain, l)).collect();
    let mut vm = vm();
    vm.gc_stress = true;
    vm.mem.poison = true;
    let got: Vec<String> = lines.iter().map(|l| run(&mut vm, l)).collect();
    assert_eq!(got, want);
}

#[test]
fn the_buffer_protocol_lends_every_kind_its_bytes() {
    let mut vm = vm();
    run(&mut vm, "import tests.bufcheck");
    for (name, bytes, typecode) in [
        ("BA", &b"xyz"[..], b'B'),
        ("AR", &b"\x01\x00\x02\x01"[..], b'H'),
        ("MV", &b"yz"[..], b'B'),
        ("MVA", &b"\x02\x01"[..], b'H'),
    ] {
        let m = vm.intern(b"tests.bufcheck").unwrap();
        let m = vm.dict_get_q(vm.modules, m).expect("imported");
        let q = vm.intern(name.as_bytes()).unwrap();
        let v = vm.dict_get_q(vm.wv(m, 2), q).expect("bound");
        let b = vm.buffer(v).expect("a buffer");
        assert_eq!(vm.mem.bytes(b.addr, b.len), Some(bytes), "{name}");
        assert_eq!((b.typecode, b.writable), (typecode, true), "{name}");
    }
}
