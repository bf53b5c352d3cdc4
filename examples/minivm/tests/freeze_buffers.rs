//! Freezing bytearray, array.array, memoryview and text (`py/tests/bufstate.py`): the same
//! results before freezing, after freezing and after a reboot; bytearrays and arrays in the
//! RAM section with their byte stores and writable there (also through a memoryview in
//! flash); the frozen sizes of each kind; and a buffer's raw bytes never taken for references
//! by the freezer's fix-up or the GC.

mod common;

use common::run;
use minivm::freeze::SimChip;
use minivm::memmap::{Region, region_of};
use minivm::obj::{Kind, STR_ASCII, is_compact};
use minivm::{Value, Vm};

fn boot(chip: SimChip) -> Vm<SimChip> {
    common::boot(chip, None)
}

/// The value of `tests.bufstate.<name>` (imported).
fn global(vm: &mut Vm<SimChip>, name: &str) -> Value {
    let m = vm.intern(b"tests.bufstate").expect("intern");
    let m = vm.dict_get_q(vm.modules, m).expect("module imported");
    let n = vm.intern(name.as_bytes()).expect("intern");
    vm.dict_get_q(vm.wv(m, 2), n).expect("global defined")
}

/// The byte size of object `v` as its header gives it (a frozen copy's size).
fn size_of(vm: &Vm<SimChip>, v: Value) -> u32 {
    vm.object_layout(vm.w(v, 0)).expect("a known object").0
}

/// The store of a bytearray or array (word 1).
fn store(vm: &Vm<SimChip>, v: Value) -> Value {
    vm.wv(v, 1)
}

/// Writes the address of `WORDS` (a heap object the batch will freeze and move) into the
/// bytes of `RAW`; returns the bytes written.
fn plant_heap_address(vm: &mut Vm<SimChip>) -> [u8; 8] {
    let words = global(vm, "WORDS");
    assert_eq!(region_of(words.0), Some(Region::Heap));
    let raw = global(vm, "RAW");
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&words.0.to_le_bytes());
    bytes[4..].copy_from_slice(&store(vm, words).0.to_le_bytes());
    vm.mem.write_bytes(store(vm, raw).0 + 8, &bytes).unwrap();
    bytes
}

fn raw_bytes(vm: &mut Vm<SimChip>) -> Vec<u8> {
    let raw = global(vm, "RAW");
    vm.mem.bytes(store(vm, raw).0 + 8, 8).unwrap().to_vec()
}

#[test]
fn buffers_and_text_behave_the_same_before_after_freezing_and_after_reboot() {
    // Reference: a VM that never froze.
    let mut plain = boot(SimChip::erased());
    run(&mut plain, "import tests.bufstate as b");
    let before = run(&mut plain, "b.report()");
    let written = run(&mut plain, "b.write()");
    let written_twice = run(&mut plain, "b.write()");
    let refused = run(&mut plain, "b.write_read_only()");
    assert!(before.contains("b'hello, world'"), "{before}");
    assert_ne!(written, before);
    assert_eq!(
        refused,
        "\"'memoryview' object doesn't support item assignment\"\n"
    );

    let mut vm = boot(SimChip::erased());
    vm.mem.poison = true;
    run(&mut vm, "import tests.bufstate as b");
    let planted = plant_heap_address(&mut vm);
    assert_eq!(run(&mut vm, "b.report()"), before);
    run(&mut vm, "import freeze");
    let out = run(&mut vm, "freeze.import_modules('tests.bufstate')");
    assert!(out.starts_with("froze "), "{out}");
    vm.collect();
    assert_eq!(run(&mut vm, "b.report()"), before, "frozen, same process");
    assert_eq!(raw_bytes(&mut vm), planted, "raw bytes kept as they were");

    // Writes land in the RAM section, through the memoryview in flash too.
    assert_eq!(run(&mut vm, "b.write()"), written);
    vm.collect();
    assert_eq!(run(&mut vm, "b.write()"), written_twice);
    assert_eq!(run(&mut vm, "b.write_read_only()"), refused);

    // A reboot restores the frozen contents; the same writes give the same results.
    let mut vm2 = common::reboot(&vm, None);
    run(&mut vm2, "import tests.bufstate as b");
    assert_eq!(run(&mut vm2, "b.report()"), before, "after a reboot");
    assert_eq!(raw_bytes(&mut vm2), planted);
    assert_eq!(run(&mut vm2, "b.write()"), written);
    vm2.collect();
    assert_eq!(run(&mut vm2, "b.write()"), written_twice);
}

#[test]
fn each_kind_freezes_where_the_table_says_at_its_size() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tests.bufstate as b");
    let grown = global(&mut vm, "GROWN");
    assert_eq!(
        size_of(&vm, store(&vm, grown)),
        8 + 32,
        "spare capacity in the heap"
    );
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.bufstate')");
    let kind = |vm: &Vm<SimChip>, v: Value| vm.slots(v).map(|t| t.name).unwrap();

    // bytearray: an 8-byte object + its store (8 + 12 bytes), both in the RAM section.
    let buf = global(&mut vm, "BUF");
    assert_eq!(kind(&vm, buf), "bytearray");
    assert_eq!(region_of(buf.0), Some(Region::RamSection));
    assert_eq!(region_of(store(&vm, buf).0), Some(Region::RamSection));
    assert_eq!(size_of(&vm, buf), 8);
    assert_eq!(size_of(&vm, store(&vm, buf)), 8 + 12);
    // An empty bytearray has no store at all.
    let empty = global(&mut vm, "EMPTY");
    assert_eq!(region_of(empty.0), Some(Region::RamSection));
    assert!(store(&vm, empty).is_null());
    // array('h', [1, -2, 300]): an 8-byte object + a store of 8 + 6 bytes (trimmed to 8 + 8).
    let words = global(&mut vm, "WORDS");
    assert_eq!(kind(&vm, words), "array");
    assert_eq!(region_of(words.0), Some(Region::RamSection));
    assert_eq!(region_of(store(&vm, words).0), Some(Region::RamSection));
    assert_eq!(size_of(&vm, words), 8);
    assert_eq!(size_of(&vm, store(&vm, words)), 8 + 8);
    // A store grown by appends (capacity 32) freezes trimmed to the 20 bytes it uses.
    let grown = global(&mut vm, "GROWN");
    assert_eq!(size_of(&vm, store(&vm, grown)), 8 + 20);
    // memoryview: 16 bytes in flash, its object where its own kind froze.
    let view = global(&mut vm, "VIEW");
    assert_eq!(kind(&vm, view), "memoryview");
    assert_eq!(region_of(view.0), Some(Region::Image));
    assert_eq!(size_of(&vm, view), 16);
    assert_eq!(
        vm.wv(view, 1),
        buf,
        "the view's object is the frozen bytearray"
    );
    let ro = global(&mut vm, "RO");
    assert_eq!(region_of(ro.0), Some(Region::Image));
    assert_eq!(
        region_of(vm.wv(ro, 1).0),
        Some(Region::Image),
        "bytes in flash"
    );
    // Text: compact str objects in flash, the ASCII flag kept in the header.
    let text = global(&mut vm, "TEXT");
    let ascii = global(&mut vm, "ASCII");
    for (v, is_ascii) in [(text, false), (ascii, true)] {
        assert_eq!(region_of(v.0), Some(Region::Image));
        assert_eq!(vm.kind(v), Some(Kind::STR));
        assert!(is_compact(vm.w(v, 0)));
        assert_eq!(vm.aux(v) & STR_ASCII != 0, is_ascii);
        assert!(vm.str_is_ascii(v) == is_ascii);
    }
    assert_eq!(size_of(&vm, ascii), 4 + 52);
    // The buffer protocol reads the frozen bytes in place.
    let b = vm.buffer(buf).unwrap();
    assert_eq!(vm.mem.bytes(b.addr, b.len), Some(&b"hello, world"[..]));
    assert!(b.writable && b.typecode == b'B');
    let v = vm.buffer(view).unwrap();
    assert_eq!(vm.mem.bytes(v.addr, v.len), Some(&b"world"[..]));
    let w = vm.buffer(words).unwrap();
    assert_eq!((w.len, w.typecode), (6, b'h'));
}

#[test]
fn the_ram_section_is_walked_object_by_object() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tests.bufstate as b");
    plant_heap_address(&mut vm);
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.bufstate')");
    let raw = global(&mut vm, "RAW");
    let raw_store = store(&vm, raw);
    let words = vm.ram_value_words();
    assert!(!words.is_empty());
    // No word of a store is a value word; the bytearray's own word is.
    assert!(
        words
            .iter()
            .all(|&a| a < raw_store.0 || a >= raw_store.0 + 16)
    );
    assert!(words.contains(&(raw.0 + 4)));
    // The planted address keeps no heap object alive: the old WORDS goes back to the heap.
    let used = {
        vm.collect();
        vm.heap_stats().used
    };
    let mut again = boot(SimChip::erased());
    run(&mut again, "import tests.bufstate as b");
    run(&mut again, "import freeze");
    run(&mut again, "freeze.import_modules('tests.bufstate')");
    again.collect();
    assert_eq!(
        used,
        again.heap_stats().used,
        "planted bytes retain nothing"
    );
}
