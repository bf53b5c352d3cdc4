//! Floats and big ints frozen (`py/tests/numstate.py`): immutable, so every number in a frozen
//! module's graph goes to flash byte for byte (a float in 12 bytes, a big int in 4 + 4 per
//! limb), a list holding numbers stays in the RAM section and stays writable, and the module
//! gives the same results before freezing, after freezing and after a reboot.

mod common;

use common::{run, used};
use minivm::freeze::SimChip;
use minivm::memmap::{Region, region_of};
use minivm::obj::Kind;
use minivm::{Value, Vm};

/// The calls whose results must not change across freezing.
const CALLS: &[&str] = &[
    "n.describe()",
    "n.compute()",
    "n.power(3, 200)",
    "n.shift(-5, 100)",
    "n.sleep_error('x')",
    "n.sleep_ms_taken(n.TABLE[2] + 3)",
    "n.state",
];

fn results(vm: &mut Vm<SimChip>) -> Vec<String> {
    CALLS.iter().map(|c| run(vm, c)).collect()
}

/// The value of `tests.numstate.name`.
fn global(vm: &mut Vm<SimChip>, name: &str) -> Value {
    let m = vm.intern(b"tests.numstate").expect("intern");
    let m = vm.dict_get_q(vm.modules, m).expect("module imported");
    let n = vm.intern(name.as_bytes()).expect("intern");
    vm.dict_get_q(vm.wv(m, 2), n).expect("global defined")
}

/// Where a number lives and its object's size in bytes.
fn placed(vm: &Vm<SimChip>, v: Value) -> (Option<Region>, Option<Kind>, u32) {
    let hdr = vm.w(v, 0);
    let size = vm.object_layout(hdr).map_or(0, |(n, _)| n);
    (region_of(v.0), vm.kind(v), size)
}

/// Each global number: (name, kind, bytes).
const NUMBERS: &[(&str, Kind, u32)] = &[
    ("PI", Kind::FLOAT, 12),
    ("TINY", Kind::FLOAT, 12),
    ("NEG_ZERO", Kind::FLOAT, 12),
    ("INF", Kind::FLOAT, 12),
    ("BIG", Kind::BIGINT, 4 + 4 * 4),
    ("NEG_BIG", Kind::BIGINT, 4 + 4 * 5),
    ("MASK64", Kind::BIGINT, 4 + 4 * 2),
];

fn assert_placement(vm: &mut Vm<SimChip>, region: Region, when: &str) {
    for &(name, kind, size) in NUMBERS {
        let v = global(vm, name);
        assert_eq!(
            placed(vm, v),
            (Some(region), Some(kind), size),
            "{when}: {name}"
        );
    }
    // The tuple of numbers and its items: all immutable.
    let t = global(vm, "TABLE");
    assert_eq!(region_of(t.0), Some(region), "{when}: TABLE");
    for i in 0..4 {
        let item = vm.wv(t, 1 + i);
        assert_eq!(region_of(item.0), Some(region), "{when}: TABLE[{i}]");
    }
}

#[test]
fn numbers_behave_the_same_before_after_freezing_and_after_reboot() {
    let mut vm = common::boot(SimChip::erased(), None);
    let base = used(&mut vm);
    run(&mut vm, "import tests.numstate as n");
    let before = results(&mut vm);
    assert_placement(&mut vm, Region::Heap, "heap");

    run(&mut vm, "import freeze");
    let out = run(&mut vm, "freeze.import_modules('tests.numstate')");
    assert!(
        out.starts_with("froze ") && out.trim_end().ends_with(" qstrs"),
        "{out}"
    );
    assert_placement(&mut vm, Region::Image, "frozen");
    assert_eq!(results(&mut vm), before, "same process, frozen");
    let frozen = used(&mut vm);
    assert!(frozen <= base + 256, "heap given back: {frozen} vs {base}");

    // The list of numbers is mutable: flash, copy-on-write, as its items array; the numbers
    // in flash until replaced.
    let state = global(&mut vm, "state");
    assert_eq!(region_of(state.0), Some(Region::Image));
    let items = vm.wv(state, 2);
    assert_eq!(region_of(items.0), Some(Region::Image));
    for i in 0..2 {
        assert_eq!(
            region_of(vm.wv(items, 1 + i).0),
            Some(Region::Image),
            "state[{i}]"
        );
    }
    assert_eq!(run(&mut vm, "n.bump()"), "[1.5, 55340232221128654847]\n");
    vm.collect();
    assert_eq!(run(&mut vm, "n.bump()"), "[4.5, 73786976294838206462]\n");
    assert_eq!(
        run(&mut vm, "n.state[1] - n.MASK64 * 2"),
        "36893488147419103232\n"
    );

    // Reboot: the numbers come from flash, the list restarts at its frozen value.
    let mut vm2 = common::reboot(&vm, None);
    let base2 = used(&mut vm2);
    run(&mut vm2, "import tests.numstate as n");
    assert_eq!(used(&mut vm2), base2, "a frozen import costs no heap");
    assert_placement(&mut vm2, Region::Image, "rebooted");
    assert_eq!(results(&mut vm2), before, "after reboot");
    assert_eq!(run(&mut vm2, "n.bump()"), "[1.5, 55340232221128654847]\n");
}

#[test]
fn number_arithmetic_survives_collection_at_every_allocation() {
    let mut plain = common::boot(SimChip::erased(), None);
    run(&mut plain, "import tests.numstate as n");
    let expect = results(&mut plain);
    let mut vm = common::boot(SimChip::erased(), None);
    vm.gc_stress = true;
    run(&mut vm, "import tests.numstate as n");
    assert_eq!(results(&mut vm), expect);
}

/// With dedup on, numbers may merge and nothing a program sees changes. Within one module there
/// is nothing to merge: an .mpy v6 module has one constant table for all its functions, and
/// mpy-cross already stores an equal constant once (`BIG` is written in the module's body and
/// in `compute`, one object in the table) — so dedup finds repeats only across modules and in
/// objects the import builds.
#[test]
fn equal_numbers_share_a_copy_with_dedup_and_behave_the_same() {
    let mut vm = common::boot_with(SimChip::erased(), None, flashfreeze::plan::Dedup::ON);
    run(&mut vm, "import tests.numstate as n");
    let before = results(&mut vm);
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.numstate')");
    let merged = |name: &str| {
        vm.freeze_log
            .iter()
            .flat_map(|b| &b.stats.kinds)
            .filter(|k| k.kind == name)
            .map(|k| k.merged)
            .sum::<u32>()
    };
    assert_eq!(
        (merged("bigint"), merged("float")),
        (0, 0),
        "one constant table per module, deduplicated by mpy-cross"
    );
    assert_placement(&mut vm, Region::Image, "frozen");
    assert_eq!(results(&mut vm), before, "same process, frozen");
    let mut vm2 = common::reboot(&vm, None);
    run(&mut vm2, "import tests.numstate as n");
    assert_placement(&mut vm2, Region::Image, "rebooted");
    assert_eq!(results(&mut vm2), before, "after reboot");
}
