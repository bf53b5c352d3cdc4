//! The planner's behaviour on hand-made graphs: paths, limits, deep chains, contract checks,
//! stats and working memory.

mod common;

use std::cell::Cell;
use std::fmt;

use common::*;
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::{
    FreezeError, FrozenLayout, Mutability, ObjectModel, Placement, Root, RootKind, Slot,
    SlotVisitor, Space, Target, Violation, plan, plan_in_object,
};

fn named(heap: &mut TestHeap, kind: Kind, slots: &[(&str, Value)]) -> Obj {
    let slots = slots
        .iter()
        .map(|(n, v)| (Some(n.to_string()), *v))
        .collect();
    heap.alloc_with(kind, slots, Vec::new())
}

/// `mymod.MyClass.method.<defaults>[0]`-style paths, for a rejected and for a RAM object.
#[test]
fn paths_name_the_way_from_the_root() {
    let mut heap = TestHeap::<4>::new();
    let handle = heap.alloc(Kind::Unfreezable, &[]);
    let defaults = heap.alloc(Kind::Immutable, &[Some(handle)]);
    let method = named(
        &mut heap,
        Kind::Immutable,
        &[("<defaults>", Value::Ref(defaults))],
    );
    let class = named(
        &mut heap,
        Kind::Immutable,
        &[("method", Value::Ref(method))],
    );
    let module = named(
        &mut heap,
        Kind::Immutable,
        &[("MyClass", Value::Ref(class))],
    );
    let roots = [Root::new(RootKind::MODULE, "mymod", module)];

    let err = plan(&heap, &roots, target()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot freeze mymod.MyClass.method.<defaults>[0] (unfreezable): holds a native handle"
    );

    // The same shape with a mutable leaf: planned, and the path says why it stays in RAM.
    let mut heap = TestHeap::<4>::new();
    let counter = heap.alloc(Kind::Mutable, &[None]);
    let holder = named(
        &mut heap,
        Kind::Immutable,
        &[("_count", Value::Ref(counter))],
    );
    let module = named(
        &mut heap,
        Kind::Immutable,
        &[("_Counter", Value::Ref(holder))],
    );
    let roots = [Root::new(RootKind::MODULE, "counter", module)];
    let made = plan(&heap, &roots, target()).unwrap();
    let paths: Vec<String> = made
        .in_ram()
        .iter()
        .map(|p| made.render_path(&heap, p))
        .collect();
    assert_eq!(paths, ["counter._Counter._count"]);
}

/// A chain of 100,000 objects: no recursion, so no stack overflow; every link placed.
#[test]
fn deep_chain_needs_no_call_stack() {
    let n = if cfg!(miri) { 300 } else { 100_000 };
    let mut heap = TestHeap::<4>::new();
    let mut next = None;
    for _ in 0..n {
        next = Some(heap.alloc(Kind::Immutable, &[next]));
    }
    let roots = [Root::new(RootKind::MODULE, "chain", next.unwrap())];
    let made = plan(&heap, &roots, target()).unwrap();
    assert_eq!(made.stats().objects as usize, n);
    assert_eq!(made.stats().flash_bytes, 12 * n as u64);
    let made = plan_in_object(&heap, &roots, target()).unwrap();
    assert_eq!(made.stats().objects as usize, n);
    made.release(&heap);
}

#[test]
fn full_sections_are_typed_errors() {
    let mut heap = TestHeap::<4>::new();
    let list = heap.alloc(Kind::Mutable, &[None, None]);
    let module = heap.alloc(Kind::Immutable, &[Some(list)]);
    let roots = [Root::new(RootKind::MODULE, "m", module)];
    let small_flash = Target {
        flash_capacity: 8,
        ..target()
    };
    assert_eq!(
        plan(&heap, &roots, small_flash).unwrap_err(),
        FreezeError::FlashFull {
            needed: 12,
            capacity: 8
        }
    );
    let small_ram = Target {
        ram_capacity: 15,
        ..target()
    };
    assert_eq!(
        plan_in_object(&heap, &roots, small_ram).unwrap_err(),
        FreezeError::RamFull {
            needed: 16,
            capacity: 15
        }
    );
    // A failed in-object plan leaves no marks.
    for i in 0..heap.len() as u32 {
        assert_eq!(
            flashfreeze::InObjectForwarding::forwarding(&heap, Obj(i)),
            flashfreeze::Forwarding::Unmarked
        );
    }
}

#[test]
fn stats_count_kinds_qstrs_and_kept_references() {
    let mut heap = TestHeap::<4>::new();
    let builtin = heap.alloc(Kind::Static, &[]);
    let earlier = heap.alloc(Kind::Frozen, &[]);
    let qstr = heap.alloc_with(Kind::Immutable, Vec::new(), b"qname".to_vec());
    let state = heap.alloc(Kind::Mutable, &[Some(qstr)]);
    let module = heap.alloc(
        Kind::Immutable,
        &[Some(builtin), Some(earlier), Some(qstr), Some(state)],
    );
    let roots = [Root::new(RootKind::MODULE, "m", module)];
    let made = plan(&heap, &roots, target()).unwrap();
    let s = made.stats();
    assert_eq!((s.objects, s.qstrs), (3, 1));
    // module: 8 + 4*4 = 24; qstr: 8 + 5 = 13 → aligned to 4 after the module.
    assert_eq!(s.flash_bytes, 24 + 13);
    assert_eq!(s.ram_bytes, 12);
    assert_eq!(
        s.to_string(),
        "froze 37 flash bytes, 12 ram bytes, 3 objects, 1 qstrs"
    );
    let kinds: Vec<_> = s
        .kinds
        .iter()
        .map(|k| (k.kind, k.placement, k.count, k.bytes))
        .collect();
    assert_eq!(
        kinds,
        [
            ("immutable", Placement::Flash, 2, 37),
            ("mutable", Placement::Ram, 1, 12)
        ]
    );
    // Kept objects keep their own addresses in the frozen module.
    let (copies, refs) = write_all(&heap, &made);
    let module_bytes = &copies[0].2;
    assert_eq!(refs[0].1, [8, 12, 16, 20]);
    let word = |i: usize| u32::from_le_bytes(module_bytes[i..i + 4].try_into().unwrap()) as u64;
    assert_eq!(word(8), heap.address(builtin));
    assert_eq!(word(12), heap.address(earlier));
    assert_eq!(word(16), made.frozen_address(&heap, qstr).unwrap());
    assert_eq!(word(20), target().ram_base);
}

/// With forwarding in the objects, the freezer's extra memory stays within 4 bytes per object
/// plus the worklist (and one partly filled chunk per section).
#[test]
fn in_object_working_memory_is_at_most_4_bytes_per_object_plus_worklist() {
    let n = if cfg!(miri) { 300 } else { 50_000 };
    let mut heap = TestHeap::<4>::new();
    // A wide, shallow graph: 100 modules of n/100 functions each.
    let mut modules = Vec::new();
    for _ in 0..100 {
        let funcs: Vec<Option<Obj>> = (0..n / 100)
            .map(|_| Some(heap.alloc(Kind::Immutable, &[])))
            .collect();
        modules.push(Some(heap.alloc(Kind::Immutable, &funcs)));
    }
    let package = heap.alloc(Kind::Immutable, &modules);
    let roots = [Root::new(RootKind::MODULE, "pkg", package)];
    let made = plan_in_object(&heap, &roots, target()).unwrap();
    let objects = made.stats().objects as usize;
    // Worklist: at most one entry per object of the widest module plus an exit per level; an
    // entry is 12 bytes (Enter(Step{obj,slot}) / Exit), an ancestry step 8.
    let worklist = (n / 100 + 100 + 4) * 12 * 2 + 8 * 8;
    let per_chunk = flashfreeze::unstable::ChunkList::<Obj>::CHUNK;
    // Slack: one partly filled chunk per section, and the chunk table (a Vec header per chunk,
    // at most doubled by growth).
    let chunk_overhead = 2 * per_chunk * 4 + (objects / per_chunk + 2) * 2 * 24;
    assert!(
        made.stats().working_bytes <= 4 * objects + worklist + chunk_overhead + 512,
        "{} bytes for {objects} objects, worklist allowance {worklist}",
        made.stats().working_bytes
    );
    made.release(&heap);
}

/// A model wrapper that breaks one promise at a time.
struct Liar {
    heap: TestHeap,
    lie: Lie,
    writing: Cell<bool>,
}

#[derive(Clone, Copy, PartialEq)]
enum Lie {
    ZeroSize,
    Align,
    SlotOutside,
    SlotMisaligned,
    HeapIndex,
    LayoutChangesAtWrite,
    NewSlotAtWrite,
}

impl ObjectModel for Liar {
    type Ref = Obj;
    const ENCODING: flashfreeze::RefEncoding = flashfreeze::RefEncoding::ADDRESS_32;
    fn space(&self, obj: Obj) -> Space {
        self.heap.space(obj)
    }
    fn address(&self, obj: Obj) -> u64 {
        self.heap.address(obj)
    }
    fn mutability(&self, obj: Obj) -> Mutability {
        self.heap.mutability(obj)
    }
    fn frozen_layout(&self, obj: Obj) -> FrozenLayout {
        let mut l = self.heap.frozen_layout(obj);
        match self.lie {
            Lie::ZeroSize => l.size = 0,
            Lie::Align => l.align = 3,
            Lie::LayoutChangesAtWrite if self.writing.get() => l.size += 4,
            _ => {}
        }
        l
    }
    fn scan(&self, obj: Obj, visitor: &mut dyn SlotVisitor<Obj>) {
        self.heap.scan(obj, visitor);
        let size = self.heap.frozen_layout(obj).size;
        match self.lie {
            Lie::SlotOutside => visitor.visit(Slot::new(size, None)),
            Lie::SlotMisaligned => visitor.visit(Slot::new(2, None)),
            // A reference the plan never saw (the module itself is a heap object, but a new
            // one is made up here: object 0 of a fresh index beyond the plan).
            Lie::NewSlotAtWrite if self.writing.get() => {
                visitor.visit(Slot::new(8, Some(Obj(self.heap.len() as u32 - 1))))
            }
            _ => {}
        }
    }
    fn write_frozen(&self, obj: Obj, placement: Placement, out: &mut [u8]) {
        self.heap.write_frozen(obj, placement, out)
    }
    fn heap_index(&self, obj: Obj) -> usize {
        if self.lie == Lie::HeapIndex {
            usize::MAX / 2
        } else {
            self.heap.heap_index(obj)
        }
    }
    fn heap_index_limit(&self) -> usize {
        self.heap.heap_index_limit()
    }
    fn edge_label(&self, obj: Obj, slot: u32, out: &mut dyn fmt::Write) -> fmt::Result {
        self.heap.edge_label(obj, slot, out)
    }
}

#[test]
fn contract_violations_are_errors_not_panics() {
    let cases = [
        (Lie::ZeroSize, Violation::ZeroSize),
        (Lie::Align, Violation::AlignNotPowerOfTwo(3)),
        (
            Lie::SlotOutside,
            Violation::SlotOutOfBounds {
                offset: 12,
                size: 12,
            },
        ),
        (
            Lie::SlotMisaligned,
            Violation::SlotMisaligned {
                offset: 2,
                width: 4,
            },
        ),
        (
            Lie::HeapIndex,
            Violation::HeapIndex {
                index: usize::MAX / 2,
                limit: 3,
            },
        ),
        (Lie::LayoutChangesAtWrite, Violation::LayoutChanged),
        (Lie::NewSlotAtWrite, Violation::NotPlanned),
    ];
    for (lie, expected) in cases {
        let mut heap = TestHeap::<4>::new();
        let leaf = heap.alloc(Kind::Immutable, &[]);
        let module = heap.alloc(Kind::Immutable, &[Some(leaf)]);
        let unplanned = heap.alloc(Kind::Immutable, &[]);
        let _ = unplanned;
        let vm = Liar {
            heap,
            lie,
            writing: Cell::new(false),
        };
        let roots = [Root::new(RootKind::MODULE, "m", module)];
        let result = plan(&vm, &roots, target()).and_then(|made| {
            vm.writing.set(true);
            for planned in made.objects(&vm) {
                let planned = planned?;
                let mut out = vec![0; planned.layout.size as usize];
                made.write_object(&vm, &planned, &mut out, &mut |_| {})?;
            }
            Ok(())
        });
        match result {
            Err(FreezeError::Contract { violation, .. }) => assert_eq!(violation, expected),
            other => panic!("{:?}: expected {expected:?}, got {other:?}", expected),
        }
    }
}

#[test]
fn write_object_checks_the_buffer() {
    let mut heap = TestHeap::<4>::new();
    let module = heap.alloc(Kind::Immutable, &[None]);
    let made = plan(&heap, &[Root::new(RootKind::MODULE, "m", module)], target()).unwrap();
    let planned = made.objects(&heap).next().unwrap().unwrap();
    let err = made
        .write_object(&heap, &planned, &mut [0; 4], &mut |_| {})
        .unwrap_err();
    assert!(matches!(
        err,
        FreezeError::Contract {
            violation: Violation::BufferSize {
                expected: 12,
                given: 4
            },
            ..
        }
    ));
}

/// Alignment is respected on absolute addresses, whatever the section base.
#[test]
fn alignment_is_absolute() {
    let mut heap = TestHeap::<8>::new();
    let a = heap.alloc_with(Kind::Immutable, Vec::new(), vec![1, 2, 3]);
    let b = heap.alloc(Kind::Immutable, &[Some(a)]);
    let t = Target {
        flash_base: target64().flash_base + 4,
        ..target64()
    };
    let made = plan(&heap, &[Root::new(RootKind::MODULE, "m", b)], t).unwrap();
    for planned in made.objects(&heap) {
        assert_eq!(planned.unwrap().address % 8, 0);
    }
}

/// A linked list of mutable objects: every node's path shares its ancestors' nodes, so keeping
/// the paths costs memory linear in the list's length (a path copied per object would be
/// quadratic: ~257 MB for 8,000 nodes).
#[test]
fn paths_of_a_mutable_chain_cost_linear_memory() {
    let n = if cfg!(miri) { 100 } else { 8_000 };
    let mut heap = TestHeap::<4>::new();
    let mut next = None;
    for _ in 0..n {
        let node = named(
            &mut heap,
            Kind::Mutable,
            &[("next", next.map_or(Value::Int(0), Value::Ref))],
        );
        next = Some(node);
    }
    let head = next.unwrap();
    let module = named(&mut heap, Kind::Immutable, &[("queue", Value::Ref(head))]);
    let made =
        plan_in_object(&heap, &[Root::new(RootKind::MODULE, "m", module)], target()).unwrap();
    let per_node = made.stats().working_bytes / n;
    assert!(per_node <= 64, "{per_node} bytes per node");
    let paths = made.in_ram();
    assert_eq!(paths.len(), n);
    assert_eq!(made.render_path(&heap, &paths[0]), "m.queue");
    assert_eq!(made.render_path(&heap, &paths[2]), "m.queue.next.next");
    assert_eq!(paths[n - 1].steps.len(), n + 1);
    made.release(&heap);
}
