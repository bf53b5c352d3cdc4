//! Freezing the kinds the language work adds (`py/tests/langstate.py`, whose output is also
//! compared with real MicroPython by `tools/difftest --only langstate`): the same results
//! before freezing, frozen, and after a reboot from the image, and each kind where the minivm
//! README's placement table puts it, at the size it reports.
//!
//! | kind | placement |
//! |---|---|
//! | namedtuple class (its namespace, its `_fields`) | flash |
//! | namedtuple instance (its fields' tuple) | flash |
//! | `OrderedDict` | RAM section, writable |
//! | `deque` (its whole ring) and its iterator | RAM section, writable |
//! | instance of a subclass of list/dict/str (its native object) | RAM section |

mod common;

use common::{global, run, size};
use minivm::freeze::SimChip;
use minivm::memmap::{Region, region_of};
use minivm::obj::{ARRAY_FIXED, ARRAY_LEN_MASK, Kind, is_compact};
use minivm::{Value, Vm};

fn boot(chip: SimChip) -> Vm<SimChip> {
    common::boot(chip, None)
}

/// The outputs of one run: the snapshot, then two rounds of changes to every mutable kind.
fn session(vm: &mut Vm<SimChip>) -> Vec<String> {
    let mut out = vec![run(vm, "s.snapshot()"), run(vm, "s.mutate()")];
    vm.collect();
    out.push(run(vm, "s.mutate()"));
    out
}

#[test]
fn new_kinds_behave_the_same_before_after_freezing_and_after_reboot() {
    let expected = common::same_frozen_and_rebooted("tests.langstate", session);
    assert!(expected[0].contains("Point(x=3, y=4)"), "{}", expected[0]);
    assert!(expected[2].contains("'full'"), "{}", expected[2]);
}

#[test]
fn new_kinds_are_placed_as_the_readme_says() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tests.langstate as s");
    // Sizes as they are frozen (the heap layouts, tables cut to their used words).
    let point = global(&mut vm, "tests.langstate", "Point");
    let ns = vm.wv(point, 3);
    let fields = vm.dict_get_q(ns, vm.find_qstr(b"_fields").map(Value::qstr).unwrap());
    let fields = fields.expect("a namedtuple class has _fields");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.langstate')");

    let image = Some(Region::Image);
    let ram = Some(Region::RamSection);

    // A namedtuple class: a class, frozen to flash with its namespace and field names.
    let point = global(&mut vm, "tests.langstate", "Point");
    assert_eq!(vm.kind(point), Some(Kind::CLASS));
    let ns = vm.wv(point, 3);
    let bases = vm.wv(point, 2);
    assert_eq!(region_of(point.0), image);
    assert_eq!(region_of(ns.0), image);
    assert_eq!(region_of(vm.wv(ns, 2).0), image);
    let fields_now = vm
        .dict_get_q(ns, vm.find_qstr(b"_fields").map(Value::qstr).unwrap())
        .unwrap();
    assert_eq!(region_of(fields_now.0), image);
    assert_eq!(
        vm.seq_vec(fields_now).map(|f| f.len()),
        vm.seq_vec(fields).map(|f| f.len())
    );
    let class_bytes = size(&vm, point)
        + size(&vm, bases)
        + size(&vm, ns)
        + size(&vm, vm.wv(ns, 2))
        + size(&vm, fields_now);
    // A namedtuple: it takes no attributes, so it is frozen to flash with its fields' tuple.
    let corner = global(&mut vm, "tests.langstate", "corner");
    assert_eq!(vm.kind(corner), Some(Kind::INSTANCE));
    assert_eq!(region_of(corner.0), image);
    let tuple = vm.inst_native(corner);
    assert_eq!(region_of(tuple.0), image);
    let nt_bytes = size(&vm, corner) + size(&vm, tuple);
    // An instance of a subclass of a namedtuple class is an ordinary instance (flash,
    // copy-on-write) holding a namedtuple (flash).
    let cursor = global(&mut vm, "tests.langstate", "cursor");
    assert_eq!(region_of(cursor.0), image);
    assert_eq!(region_of(vm.inst_native(cursor).0), image);

    // An OrderedDict is a dict: flash, copy-on-write, its table at its exact size.
    let order = global(&mut vm, "tests.langstate", "order");
    assert_eq!(vm.kind(order), Some(Kind::DICT));
    assert_eq!(region_of(order.0), image);
    let table = vm.wv(order, 2);
    assert_eq!(region_of(table.0), image);
    assert_eq!(vm.aux(table) & ARRAY_LEN_MASK, 2 * vm.dict_len(order));
    let od_bytes = size(&vm, order) + size(&vm, table);

    // A deque: RAM section, with every slot of its ring (nulls included).
    let queue = global(&mut vm, "tests.langstate", "queue");
    assert_eq!(region_of(queue.0), ram);
    let ring = vm.wv(queue, 4);
    assert_eq!(region_of(ring.0), ram);
    assert_ne!(vm.aux(ring) & ARRAY_FIXED, 0);
    assert_eq!(vm.aux(ring) & ARRAY_LEN_MASK, 5, "maxlen 4 + 1 slots");
    let deque_bytes = size(&vm, queue) + size(&vm, ring);
    let walker = global(&mut vm, "tests.langstate", "walker");
    assert_eq!(region_of(walker.0), ram);
    let iter_bytes = size(&vm, walker);

    // Subclasses of native types: the instance (not compact: it has a native object) and its
    // list or dict in flash, copy-on-write, its str in flash.
    let stack = global(&mut vm, "tests.langstate", "stack");
    assert_eq!(region_of(stack.0), image);
    assert!(!is_compact(vm.w(stack, 0)));
    let list = vm.inst_native(stack);
    assert_eq!(vm.kind(list), Some(Kind::LIST));
    assert_eq!(region_of(list.0), image);
    let registry = global(&mut vm, "tests.langstate", "registry");
    assert_eq!(vm.kind(vm.inst_native(registry)), Some(Kind::DICT));
    assert_eq!(region_of(vm.inst_native(registry).0), image);
    let tag = global(&mut vm, "tests.langstate", "tag");
    let s = vm.inst_native(tag);
    assert!(s.is_qstr() || region_of(s.0) == image, "a str: flash");
    let stack_bytes = size(&vm, stack) + size(&vm, list) + size(&vm, vm.wv(list, 2));

    println!(
        "frozen sizes: namedtuple class (2 fields) {class_bytes} B flash, namedtuple (2 fields) \
         {nt_bytes} B flash, OrderedDict (2 entries) {od_bytes} B flash (copy-on-write), deque \
         (maxlen 4) {deque_bytes} B RAM, deque iterator {iter_bytes} B RAM, list subclass \
         instance (2 items) {stack_bytes} B flash (copy-on-write)"
    );

    // The frozen deque, OrderedDict and list stay writable where Python allows it; the
    // namedtuple does not.
    assert_eq!(
        run(
            &mut vm,
            "s.queue.append(7); s.order.setdefault('k', 0); s.stack.append(1); list(s.queue)"
        ),
        "0\n['a', 'b', 7]\n"
    );
    assert_eq!(
        run(&mut vm, "list(s.order.items())[-1], s.stack.peek()"),
        "(('k', 0), 1)\n"
    );
    let e = vm.exec_line("s.corner.x = 9").expect_err("read-only");
    vm.take_output();
    assert_eq!(e, "AttributeError: can't set attribute");
}
