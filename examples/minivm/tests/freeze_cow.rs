//! Copy-on-write frozen containers (`py/tests/cowstate.py`; `src/mem.rs`'s module docs): lists,
//! sets, data dicts and instances freeze to flash, take no RAM section and no heap until they
//! are written; the first write copies the object into the heap at the same address, so every
//! holder of a reference sees it; a reboot starts again from the frozen values.

mod common;

use common::{run, used};
use minivm::Vm;
use minivm::freeze::SimChip;
use minivm::memmap::{Region, region_of};

fn boot(chip: SimChip) -> Vm<SimChip> {
    common::boot(chip, None)
}

/// The address of module global `name` of `tests.cowstate`.
fn id(vm: &mut Vm<SimChip>, name: &str) -> u32 {
    let m = vm.intern(b"tests.cowstate").expect("intern");
    let m = vm.dict_get_q(vm.modules, m).expect("module imported");
    let n = vm.intern(name.as_bytes()).expect("intern");
    vm.dict_get_q(vm.wv(m, 2), n).expect("global defined").0
}

/// `state()` and `mutate()` on a VM that never froze: the reference.
fn plain() -> (String, String) {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tests.cowstate as c");
    (run(&mut vm, "c.state()"), run(&mut vm, "c.mutate()"))
}

#[test]
fn frozen_containers_take_no_ram_section_and_no_heap_until_written() {
    let (initial, mutated) = plain();
    let mut vm = boot(SimChip::erased());
    vm.mem.poison = true;
    run(&mut vm, "import freeze");
    let base = used(&mut vm);
    let out = run(&mut vm, "freeze.import_modules('tests.cowstate')");
    assert!(out.contains(" 0 ram bytes"), "{out}");
    run(&mut vm, "import tests.cowstate as c");
    for name in ["table", "alias", "flags", "queue", "shared", "nested"] {
        let a = id(&mut vm, name);
        assert_eq!(region_of(a), Some(Region::Image), "{name} in flash");
    }
    let (registered, copied) = vm.mem.cow_counts();
    assert!(
        registered >= 8,
        "copy-on-write objects registered: {registered}"
    );
    assert_eq!(copied, 0);
    // Reading costs nothing: the heap stays at its level after the freeze.
    let frozen = used(&mut vm);
    assert_eq!(run(&mut vm, "c.state()"), initial);
    assert_eq!(used(&mut vm), frozen, "reads copy nothing");
    assert!(
        frozen <= base + 512,
        "heap back near baseline: {frozen} vs {base}"
    );

    // Writes: through an alias, a class attribute, a set, an instance reached through a list.
    let table = id(&mut vm, "table");
    assert_eq!(id(&mut vm, "alias"), table, "one object");
    assert_eq!(run(&mut vm, "c.mutate()"), mutated);
    assert_eq!(id(&mut vm, "table"), table, "identity kept");
    assert_eq!(
        region_of(table),
        Some(Region::Image),
        "still at its flash address"
    );
    assert_eq!(run(&mut vm, "print(c.alias is c.table)"), "True\n");
    assert_eq!(run(&mut vm, "print(c.table['png'])"), "image/png\n");
    assert_eq!(
        run(&mut vm, "print(c.shared[0].count, c.queue.items)"),
        "1 ['job']\n"
    );
    let (_, copied) = vm.mem.cow_counts();
    assert!(copied >= 5, "written objects copied: {copied}");
    assert!(used(&mut vm) > frozen, "a written object costs its copy");
    // The copies are roots: a collection keeps them and what they hold.
    vm.collect();
    assert_eq!(run(&mut vm, "c.state()"), mutated);
    // A frozen class's namespace is still read-only (not a copy-on-write dict).
    let e = vm
        .exec_line("c.Config.extra = 1")
        .expect_err("frozen class");
    vm.take_output();
    assert!(
        e.starts_with("TypeError: can't modify frozen object"),
        "{e}"
    );

    // After a reboot: the frozen values, nothing copied, the same writes give the same state.
    let mut vm2 = common::reboot(&vm, None);
    run(&mut vm2, "import tests.cowstate as c");
    // The mount registers no object one by one: each is found at its first write.
    assert_eq!(vm2.mem.cow_counts(), (0, 0));
    assert_eq!(run(&mut vm2, "c.state()"), initial);
    assert_eq!(run(&mut vm2, "c.mutate()"), mutated);
    let (found, copied) = vm2.mem.cow_counts();
    assert!(
        copied >= 5 && found == copied,
        "{found} found, {copied} copied"
    );
    assert!(found <= registered);
}

#[test]
fn copy_on_write_survives_collection_at_every_allocation() {
    let (_, mutated) = plain();
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.cowstate')");
    run(&mut vm, "import tests.cowstate as c");
    vm.gc_stress = true;
    assert_eq!(run(&mut vm, "c.mutate()"), mutated);
    vm.gc_stress = false;
    vm.collect();
    assert_eq!(run(&mut vm, "c.state()"), mutated);
}

#[test]
fn a_later_batch_freezes_what_a_copied_container_holds() {
    let mut vm = boot(SimChip::erased());
    vm.mem.poison = true;
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.cowstate')");
    run(&mut vm, "import tests.cowstate as c");
    // The write copies `nested` into the heap; the new list lives in the heap.
    run(&mut vm, "c.nested['fresh'] = [7, 8]");
    run(&mut vm, "freeze.import_modules('tests.cowuser')");
    vm.collect();
    // The copy's reference was redirected to the frozen list (poisoned if it dangled).
    assert_eq!(
        run(
            &mut vm,
            "import tests.cowuser as u; print(u.held is c.nested['fresh'], u.held)"
        ),
        "True [7, 8]\n"
    );
    run(&mut vm, "u.held.append(9)");
    vm.collect();
    assert_eq!(run(&mut vm, "print(c.nested['fresh'])"), "[7, 8, 9]\n");
}
