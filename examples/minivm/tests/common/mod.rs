//! Helpers shared by the integration tests: boot a VM on a simulated chip (its image mounted,
//! the freezer attached), reboot from its flash, run console lines, measure the heap.

// Each test crate uses only some of them.
#![allow(dead_code)]

use std::path::Path;

use flashfreeze::plan::Dedup;
use minivm::Vm;
use minivm::freeze::{FlashFreezer, SimChip};
use minivm::mem::FlashImage;
use minivm::memmap::HEAP_DEFAULT;
use minivm::sources::{Bundled, DirSource};

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
