//! Freezing tests on the simulated NOR chip: differential runs (before freezing, after
//! freezing in the same process, after a reboot from the image), heap given back, frozen
//! writes refused, unfreezable objects named by path, `freeze.clear()`, and the RAM-section
//! layouts (`py/tests/ramstate.py`): exact-size tables, whole generator frames, builtin
//! exception instances in flash, compact plain instances.

mod common;

use common::{run, used};
use minivm::freeze::SimChip;
use minivm::memmap::{Region, region_of};
use minivm::obj::{ARRAY_FIXED, ARRAY_LEN_MASK, Kind, is_compact, object_size};
use minivm::{Value, Vm};

fn boot(chip: SimChip) -> Vm<SimChip> {
    common::boot(chip, None)
}

fn reboot(vm: &Vm<SimChip>) -> Vm<SimChip> {
    common::reboot(vm, None)
}

/// The calls whose results must not change across freezing.
const CALLS: &[&str] = &[
    "counter.selftest()",
    "tinysched.selftest_basic()",
    "tinysched.selftest()",
    "tinysched.calculate('base * 2 + 1', base=20)",
    "tinysched.jobs.demo_pipeline()",
];

fn results(vm: &mut Vm<SimChip>) -> Vec<String> {
    CALLS.iter().map(|c| run(vm, c)).collect()
}

#[test]
fn bundled_modules_behave_the_same_before_after_freezing_and_after_reboot() {
    let mut vm = boot(SimChip::erased());
    let base = used(&mut vm);
    run(&mut vm, "import counter");
    run(&mut vm, "import tinysched");
    let before = results(&mut vm);
    let imported = used(&mut vm);
    assert!(imported > base + 15_000, "imports cost heap: {imported}");

    run(&mut vm, "import freeze");
    let out = run(&mut vm, "freeze.import_modules('tinysched', 'counter')");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "one batch per module: {out}");
    for l in &lines {
        assert!(l.starts_with("froze ") && l.ends_with(" qstrs"), "{l}");
    }
    let same_process = results(&mut vm);
    assert_eq!(same_process, before);
    let frozen = used(&mut vm);
    assert!(
        frozen <= base + 256,
        "heap back near baseline: {frozen} vs {base}"
    );

    let mut vm2 = reboot(&vm);
    let base2 = used(&mut vm2);
    run(&mut vm2, "import counter");
    run(&mut vm2, "import tinysched");
    assert_eq!(used(&mut vm2), base2, "frozen imports cost no heap");
    assert_eq!(results(&mut vm2), before);
}

#[test]
fn mutable_module_state_lives_in_the_ram_section_and_restarts_at_its_frozen_value() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import counter");
    run(&mut vm, "counter.incr()");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('counter')");
    // Same process: the state frozen was 1, and it keeps counting.
    assert_eq!(run(&mut vm, "counter.incr()"), "2\n");
    assert_eq!(run(&mut vm, "counter.incr(by=5)"), "7\n");
    vm.collect();
    assert_eq!(run(&mut vm, "counter.value()"), "7\n");
    // Reboot: back to the frozen initial state.
    let mut vm2 = reboot(&vm);
    run(&mut vm2, "import counter");
    assert_eq!(run(&mut vm2, "counter.value()"), "1\n");
    assert_eq!(run(&mut vm2, "counter.incr()"), "2\n");
}

#[test]
fn writes_to_frozen_classes_raise_and_module_attributes_go_to_the_overlay() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tinysched");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tinysched')");
    // A module attribute set from outside (a test patching a library) lasts until reboot.
    run(&mut vm, "tinysched.NAME = 'changed'");
    assert_eq!(run(&mut vm, "tinysched.NAME"), "'changed'\n");
    vm.collect();
    assert_eq!(run(&mut vm, "tinysched.NAME"), "'changed'\n");
    let mut vm2 = reboot(&vm);
    run(&mut vm2, "import tinysched");
    assert_eq!(run(&mut vm2, "tinysched.NAME"), "'tinysched'\n");
    let line = "tinysched.core.Scheduler.extra = 1";
    let r = vm.exec_line(line);
    let out = vm.take_output();
    let e = r.expect_err(line);
    assert!(
        e.starts_with("TypeError: can't modify frozen object at 0x101"),
        "{e}"
    );
    assert!(out.contains("TypeError"), "{out}");
    assert_eq!(run(&mut vm, "tinysched.NAME"), "'changed'\n");
    // The VM keeps working.
    assert_eq!(run(&mut vm, "tinysched.calculate('1 + 2')"), "3\n");
}

#[test]
fn unfreezable_object_is_named_by_path_and_nothing_is_written() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import freeze");
    let chip_before = vm.mem.flash.0.as_bytes().to_vec();
    let r = vm.exec_line("freeze.import_modules('tests.unfreezable')");
    let out = vm.take_output();
    let e = r.expect_err("a socket can't be frozen");
    assert!(e.starts_with("TypeError: cannot freeze"), "{e}");
    assert!(
        e.contains("tests.unfreezable.SERVER"),
        "path in message: {e}"
    );
    assert!(e.contains("sock"), "path reaches the handle: {e}");
    assert!(out.contains("a socket"), "{out}");
    assert_eq!(
        vm.mem.flash.0.as_bytes(),
        chip_before.as_slice(),
        "flash untouched"
    );
    // The module still works from the heap.
    let sock = run(&mut vm, "import tests.unfreezable as u; u.SERVER.sock");
    assert!(sock.starts_with("<socket object at "), "{sock}");
}

#[test]
fn qstr_ids_are_stable_across_reboot_and_clear_erases_the_image() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tinysched");
    let id = vm
        .find_qstr(b"selftest_basic")
        .expect("interned by the import");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tinysched')");
    assert_eq!(vm.find_qstr(b"selftest_basic"), Some(id));
    let mut vm2 = reboot(&vm);
    assert_eq!(
        vm2.find_qstr(b"selftest_basic"),
        Some(id),
        "same id after reboot"
    );
    // New strings get new ids after the frozen ones.
    let fresh = vm2.intern(b"a brand new string").expect("intern");
    assert!(fresh.as_qstr() > id);
    run(&mut vm2, "import freeze");
    run(&mut vm2, "freeze.clear()");
    let mut vm3 = reboot(&vm2);
    assert!(vm3.mount_frozen().is_err() || vm3.find_qstr(b"selftest_basic").is_none());
    let base = used(&mut vm3);
    run(&mut vm3, "import tinysched");
    assert!(
        used(&mut vm3) > base + 10_000,
        "imports from .mpy again after clear"
    );
}

#[test]
fn freezing_survives_collection_at_every_allocation() {
    let mut vm = boot(SimChip::erased());
    vm.gc_stress = true;
    vm.mem.poison = true;
    run(&mut vm, "import counter");
    let before = run(&mut vm, "counter.selftest()");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('counter')");
    assert_eq!(run(&mut vm, "counter.selftest()"), before);
}

#[test]
fn frozen_module_code_can_rebind_its_globals_until_reboot() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tests.globalstate as g");
    assert_eq!(run(&mut vm, "g.bump()"), "1\n");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.globalstate')");
    assert_eq!(run(&mut vm, "g.bump()"), "2\n");
    vm.collect();
    assert_eq!(run(&mut vm, "g.bump()"), "3\n");
    assert_eq!(run(&mut vm, "g.hits"), "3\n");
    assert_eq!(run(&mut vm, "g.cache()"), "[3]\n");
    // From outside, a store goes to the same overlay.
    run(&mut vm, "g.hits = 10");
    assert_eq!(run(&mut vm, "g.bump()"), "11\n");
    // Reboot: the frozen value is back.
    let mut vm2 = reboot(&vm);
    run(&mut vm2, "import tests.globalstate as g");
    assert_eq!(run(&mut vm2, "g.hits"), "1\n");
    assert_eq!(run(&mut vm2, "g.bump()"), "2\n");
}

/// The value of `module.name` (both already imported).
fn global(vm: &mut Vm<SimChip>, module: &str, name: &str) -> Value {
    let m = vm.intern(module.as_bytes()).expect("intern");
    let m = vm.dict_get_q(vm.modules, m).expect("module imported");
    let n = vm.intern(name.as_bytes()).expect("intern");
    vm.dict_get_q(vm.wv(m, 2), n).expect("global defined")
}

/// (backing array, words the owner uses) of a list, dict or set.
fn table_of(vm: &Vm<SimChip>, v: Value) -> (Value, u32) {
    let used = match vm.kind(v) {
        Some(Kind::LIST) => vm.wv(v, 1).as_int() as u32,
        _ => 2 * vm.dict_len(v),
    };
    (vm.wv(v, 2), used)
}

fn capacity(vm: &Vm<SimChip>, arr: Value) -> u32 {
    vm.aux(arr) & ARRAY_LEN_MASK
}

const TABLES: &[&str] = &["table", "items", "tags", "empty"];

/// Each RAM table is frozen without its spare capacity: exactly the words its owner uses.
fn assert_exact_ram_tables(vm: &mut Vm<SimChip>, when: &str) {
    for name in TABLES {
        let v = global(vm, "tests.ramstate", name);
        let (arr, used) = table_of(vm, v);
        // In flash, copy-on-write (`src/mem.rs`): the RAM section holds none of it.
        assert_eq!(region_of(arr.0), Some(Region::Image), "{when}: {name}");
        assert_eq!(vm.kind(arr), Some(Kind::ARRAY), "{when}: {name}");
        assert_eq!(capacity(vm, arr), used, "{when}: {name} exact size");
        assert_eq!(
            object_size(vm.w(arr, 0)),
            Some(4 + 4 * used),
            "{when}: {name}"
        );
    }
}

#[test]
fn ram_tables_freeze_at_their_exact_size_and_grow_again() {
    // Reference: the same calls on a VM that never froze.
    let mut plain = boot(SimChip::erased());
    run(&mut plain, "import tests.ramstate as r");
    let grown = run(&mut plain, "r.grow()");
    let grown_twice = run(&mut plain, "r.grow()");

    let mut vm = boot(SimChip::erased());
    vm.mem.poison = true;
    run(&mut vm, "import tests.ramstate as r");
    for name in TABLES {
        let v = global(&mut vm, "tests.ramstate", name);
        let (arr, used) = table_of(&vm, v);
        assert!(capacity(&vm, arr) > used, "{name} has spare capacity");
    }
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.ramstate')");
    assert_exact_ram_tables(&mut vm, "frozen");
    // The next insert regrows each table in the heap.
    assert_eq!(run(&mut vm, "r.grow()"), grown);
    for name in TABLES {
        let v = global(&mut vm, "tests.ramstate", name);
        let (arr, used) = table_of(&vm, v);
        assert_eq!(region_of(arr.0), Some(Region::Heap), "{name} regrew");
        assert!(capacity(&vm, arr) >= used);
    }
    vm.collect();
    assert_eq!(run(&mut vm, "r.grow()"), grown_twice);

    // After a reboot the RAM section is back at its frozen, exact-size state, and grows the
    // same way.
    let mut vm2 = reboot(&vm);
    run(&mut vm2, "import tests.ramstate as r");
    assert_exact_ram_tables(&mut vm2, "rebooted");
    assert_eq!(run(&mut vm2, "r.grow()"), grown);
    vm2.collect();
    assert_eq!(run(&mut vm2, "r.grow()"), grown_twice);
}

#[test]
fn generator_frames_keep_every_word_when_frozen() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tests.ramstate as r");
    // A suspended generator and one not started yet (its frame beyond the argument is null).
    let frames = |vm: &mut Vm<SimChip>| {
        ["gen", "fresh"].map(|name| {
            let g = global(vm, "tests.ramstate", name);
            vm.wv(g, 2)
        })
    };
    let words = frames(&mut vm).map(|f| {
        assert_ne!(vm.aux(f) & ARRAY_FIXED, 0);
        capacity(&vm, f)
    });
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.ramstate')");
    for (f, n) in frames(&mut vm).into_iter().zip(words) {
        assert_eq!(region_of(f.0), Some(Region::RamSection));
        assert_eq!(capacity(&vm, f), n, "no word of the frame dropped");
    }
    let mut vm2 = reboot(&vm);
    assert_eq!(run(&mut vm, "next(r.gen), list(r.fresh)"), "(2, [2, 1])\n");
    assert_eq!(run(&mut vm, "list(r.gen)"), "[1]\n");
    run(&mut vm2, "import tests.ramstate as r");
    assert_eq!(
        run(&mut vm2, "r.first, list(r.gen), list(r.fresh)"),
        "(3, [2, 1], [2, 1])\n"
    );
}

#[test]
fn builtin_exception_instances_refuse_attributes_and_freeze_to_flash() {
    let no_x = "'StopIteration' object has no attribute 'x'\n";
    // What must hold before freezing, after freezing and after a reboot.
    let check = |vm: &mut Vm<SimChip>, when: &str| {
        assert_eq!(run(vm, "print(r.set_x(r.stop))"), no_x, "{when}");
        assert_eq!(run(vm, "print(r.set_x(StopIteration(1)))"), no_x, "{when}");
        let e = vm.exec_line("r.stop.x = 1").expect_err(when);
        vm.take_output();
        assert!(e.starts_with("AttributeError"), "{when}: {e}");
        // `__traceback__ = None` is accepted (MicroPython clears the traceback; minivm keeps
        // none in the object), then the instance raises and is caught as usual.
        assert_eq!(run(vm, "r.catch_stop()"), "True\n", "{when}");
        assert_eq!(run(vm, "r.catch_stop()"), "True\n", "{when}, again");
        run(vm, "r.stop.__traceback__ = None");
        assert_eq!(
            run(vm, "r.stop.args, r.err.args"),
            "((), ('boom',))\n",
            "{when}"
        );
        // A user subclass is an ordinary instance: it takes attributes.
        assert_eq!(run(vm, "print(r.set_x(r.MyError()))"), "stored\n", "{when}");
    };
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tests.ramstate as r");
    check(&mut vm, "heap");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.ramstate')");
    let stop = global(&mut vm, "tests.ramstate", "stop");
    let err = global(&mut vm, "tests.ramstate", "err");
    assert_eq!(
        region_of(stop.0),
        Some(Region::Image),
        "a builtin exception: flash"
    );
    assert!(
        matches!(
            region_of(vm.wv(stop, 3).0),
            Some(Region::Image | Region::Statics)
        ),
        "its args: flash (or the firmware's empty tuple)"
    );
    assert_eq!(
        region_of(err.0),
        Some(Region::Image),
        "a user subclass: flash, copy-on-write"
    );
    check(&mut vm, "frozen");
    let mut vm2 = reboot(&vm);
    run(&mut vm2, "import tests.ramstate as r");
    check(&mut vm2, "rebooted");
}

#[test]
fn plain_instances_freeze_compact_and_keep_working() {
    let mut vm = boot(SimChip::erased());
    vm.mem.poison = true;
    run(&mut vm, "import tests.ramstate as r");
    let h = global(&mut vm, "tests.ramstate", "holder");
    let heap_size = object_size(vm.w(h, 0));
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.ramstate')");
    let h = global(&mut vm, "tests.ramstate", "holder");
    assert_eq!(region_of(h.0), Some(Region::Image), "copy-on-write");
    assert!(is_compact(vm.w(h, 0)));
    assert_eq!(vm.kind(h), Some(Kind::INSTANCE));
    assert_eq!(
        object_size(vm.w(h, 0)),
        heap_size.map(|s| s - 4),
        "no args word"
    );
    assert!(vm.inst_native(h).is_null());
    // Reads, writes (rebinding and a new attribute: the members dict regrows in the heap),
    // methods, and a collection in between.
    assert_eq!(run(&mut vm, "r.holder.v, r.holder.arg"), "(1, None)\n");
    run(&mut vm, "r.holder.v = 5; r.holder.z = [7]");
    vm.collect();
    assert_eq!(
        run(&mut vm, "r.holder.v, r.holder.z, r.holder.arg"),
        "(5, [7], None)\n"
    );
    assert_eq!(
        run(
            &mut vm,
            "isinstance(r.holder, r.Holder), type(r.holder) == r.Holder"
        ),
        "(True, True)\n"
    );
    // One without a members dict gets one (word 2) on its first attribute.
    let b = global(&mut vm, "tests.ramstate", "bare");
    assert!(region_of(b.0) == Some(Region::Image) && is_compact(vm.w(b, 0)));
    assert!(vm.wv(b, 2).is_null());
    run(&mut vm, "r.bare.x = 1");
    assert_eq!(run(&mut vm, "r.bare.x"), "1\n");
    let e = vm
        .exec_line("r.holder.nope")
        .expect_err("missing attribute");
    vm.take_output();
    assert!(e.starts_with("AttributeError"), "{e}");

    // A second batch refers to it (and to a RAM list): both stay where they are.
    run(&mut vm, "import tests.ramuser as u");
    run(&mut vm, "freeze.import_modules('tests.ramuser')");
    assert_eq!(run(&mut vm, "u.same(), u.refs[0].v"), "(True, 5)\n");
    vm.collect();
    assert_eq!(
        run(&mut vm, "r.holder.v"),
        "5\n",
        "batch 2 left batch 1's RAM section alone"
    );

    // Reboot: both batches mount, the instance is compact again at its frozen state.
    let mut vm2 = reboot(&vm);
    run(&mut vm2, "import tests.ramstate as r");
    run(&mut vm2, "import tests.ramuser as u");
    let h2 = global(&mut vm2, "tests.ramstate", "holder");
    assert!(region_of(h2.0) == Some(Region::Image) && is_compact(vm2.w(h2, 0)));
    assert_eq!(run(&mut vm2, "u.same(), r.holder.v"), "(True, 1)\n");
    run(&mut vm2, "r.holder.v = 9");
    vm2.collect();
    assert_eq!(run(&mut vm2, "u.refs[0].v, r.grow()[5]"), "(9, 10)\n");
}
