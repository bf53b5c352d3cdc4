//! Helpers shared by the integration tests: boot a VM on a simulated chip (its image mounted,
//! the freezer attached), reboot from its flash, run console lines, measure the heap.

// Each test crate uses only some of them.
#![allow(dead_code)]

use std::path::Path;

use flashfreeze::plan::Dedup;
use minivm::freeze::{FlashFreezer, SimChip};
use minivm::mem::FlashImage;
use minivm::memmap::HEAP_DEFAULT;
use minivm::sources::{Bundled, DirSource};
use minivm::{Value, Vm};

/// A VM booted on `chip`: mounts its image, attaches the freezer, and finds modules in `dir`
/// (if any), then in the bundled ones.
pub fn boot(chip: SimChip, dir: Option<&Path>) -> Vm<SimChip> {
    boot_with(chip, dir, Dedup::OFF)
}

/// [`boot`], with a freezer that deduplicates as `dedup` says.
pub fn boot_with(chip: SimChip, dir: Option<&Path>, dedup: Dedup) -> Vm<SimChip> {
    let mut vm = Vm::new(chip, HEAP_DEFAULT);
    let _ = vm.mount_frozen();
    FlashFreezer::attach_with(&mut vm, dedup);
    if let Some(d) = dir {
        vm.sources.push(Box::new(DirSource(d.to_path_buf())));
    }
    vm.sources.push(Box::new(Bundled));
    vm
}

/// A new VM booted on a copy of `vm`'s flash.
pub fn reboot(vm: &Vm<SimChip>, dir: Option<&Path>) -> Vm<SimChip> {
    boot(SimChip::from_bytes(vm.mem.flash.0.as_bytes()), dir)
}

/// Runs a console line that must succeed; returns its output.
pub fn run<F: FlashImage>(vm: &mut Vm<F>, line: &str) -> String {
    let r = vm.exec_line(line);
    let out = vm.take_output();
    assert!(r.is_ok(), "{line}: {out}");
    out
}

/// Heap bytes in use after a full collection.
pub fn used<F: FlashImage>(vm: &mut Vm<F>) -> u32 {
    vm.collect();
    vm.heap_stats().used
}

/// The value of global `name` of `module` (already imported).
pub fn global(vm: &mut Vm<SimChip>, module: &str, name: &str) -> Value {
    let m = vm.intern(module.as_bytes()).expect("intern");
    let m = vm.dict_get_q(vm.modules, m).expect("module imported");
    let n = vm.intern(name.as_bytes()).expect("intern");
    vm.dict_get_q(vm.wv(m, 2), n).expect("global defined")
}

/// Bytes of object `v` (header included), from its type's layout.
pub fn size(vm: &Vm<SimChip>, v: Value) -> u32 {
    vm.object_layout(vm.w(v, 0)).expect("a known object").0
}

/// Runs `session` on `module` (imported as `s`) three ways: in a VM that never froze, frozen by
/// `freeze.import_modules` in the same process (the heap given back), and after a reboot from
/// that image (imported at no heap cost). Asserts the three outputs equal; returns them.
pub fn same_frozen_and_rebooted(
    module: &str,
    session: fn(&mut Vm<SimChip>) -> Vec<String>,
) -> Vec<String> {
    let import = format!("import {module} as s");
    let mut plain = boot(SimChip::erased(), None);
    run(&mut plain, &import);
    let expected = session(&mut plain);

    let mut vm = boot(SimChip::erased(), None);
    vm.mem.poison = true;
    let base = used(&mut vm);
    run(&mut vm, &import);
    run(&mut vm, "import freeze");
    let out = run(&mut vm, &format!("freeze.import_modules('{module}')"));
    assert!(out.starts_with("froze "), "{out}");
    println!("{module}: {}", out.trim());
    assert!(
        used(&mut vm) <= base + 256,
        "the heap is given back after freezing"
    );
    assert_eq!(session(&mut vm), expected, "frozen, same process");

    // After a reboot the RAM section is back at its frozen state: the same results again.
    let mut vm2 = reboot(&vm, None);
    let base2 = used(&mut vm2);
    run(&mut vm2, &import);
    assert_eq!(used(&mut vm2), base2, "imported from flash");
    assert_eq!(session(&mut vm2), expected, "after a reboot");
    expected
}
