//! Freezing tests on the simulated NOR chip: differential runs (before freezing, after
//! freezing in the same process, after a reboot from the image), heap given back, frozen
//! writes refused, unfreezable objects named by path, `freeze.clear()`.

use minivm::freeze::{FlashFreezer, SimChip};
use minivm::memmap::HEAP_DEFAULT;
use minivm::{Vm, sources::Bundled};

fn boot(chip: SimChip) -> Vm<SimChip> {
    let mut vm = Vm::new(chip, HEAP_DEFAULT);
    let _ = vm.mount_frozen();
    FlashFreezer::attach(&mut vm);
    vm.sources.push(Box::new(Bundled));
    vm
}

fn reboot(vm: &Vm<SimChip>) -> Vm<SimChip> {
    boot(SimChip::from_bytes(vm.mem.flash.0.as_bytes()))
}

fn run(vm: &mut Vm<SimChip>, line: &str) -> String {
    let r = vm.exec_line(line);
    let out = vm.take_output();
    assert!(r.is_ok(), "{line}: {out}");
    out
}

fn used_after_collect(vm: &mut Vm<SimChip>) -> u32 {
    vm.collect();
    vm.heap_stats().used
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
    let base = used_after_collect(&mut vm);
    run(&mut vm, "import counter");
    run(&mut vm, "import tinysched");
    let before = results(&mut vm);
    let imported = used_after_collect(&mut vm);
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
    let frozen = used_after_collect(&mut vm);
    assert!(
        frozen <= base + 256,
        "heap back near baseline: {frozen} vs {base}"
    );

    let mut vm2 = reboot(&vm);
    let base2 = used_after_collect(&mut vm2);
    run(&mut vm2, "import counter");
    run(&mut vm2, "import tinysched");
    assert_eq!(
        used_after_collect(&mut vm2),
        base2,
        "frozen imports cost no heap"
    );
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
fn writes_to_frozen_modules_and_classes_raise() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tinysched");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tinysched')");
    for line in [
        "tinysched.NAME = 'changed'",
        "tinysched.core.Scheduler.extra = 1",
    ] {
        let r = vm.exec_line(line);
        let out = vm.take_output();
        let e = r.expect_err(line);
        assert!(
            e.starts_with("TypeError: can't modify frozen object at 0x101"),
            "{e}"
        );
        assert!(out.contains("TypeError"), "{out}");
    }
    assert_eq!(run(&mut vm, "tinysched.NAME"), "'tinysched'\n");
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
    assert!(out.contains("native handle"), "{out}");
    assert_eq!(
        vm.mem.flash.0.as_bytes(),
        chip_before.as_slice(),
        "flash untouched"
    );
    // The module still works from the heap.
    let sock = run(&mut vm, "import tests.unfreezable as u; u.SERVER.sock");
    assert!(sock.starts_with("<handle object at "), "{sock}");
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
    let base = used_after_collect(&mut vm3);
    run(&mut vm3, "import tinysched");
    assert!(
        used_after_collect(&mut vm3) > base + 10_000,
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
    // From outside, the frozen module stays read-only.
    assert!(vm.exec_line("g.hits = 10").is_err());
    vm.take_output();
    // Reboot: the frozen value is back.
    let mut vm2 = reboot(&vm);
    run(&mut vm2, "import tests.globalstate as g");
    assert_eq!(run(&mut vm2, "g.hits"), "1\n");
    assert_eq!(run(&mut vm2, "g.bump()"), "2\n");
}
