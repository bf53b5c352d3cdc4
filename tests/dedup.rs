//! Dedup: content-equal objects of kinds the VM lets merge (`Kind::Constant` in the reference
//! model) frozen once, within a batch and across batches; never anything else.
//!
//! The property: for random graphs (constants drawn from a few payloads so that equal ones
//! occur, sharing, cycles through objects that do not merge, statics, two batches), the frozen
//! graph read back from the mounted image is the original graph **modulo merged equal
//! objects**: a map from every reachable object to its frozen copy that keeps kinds, payloads,
//! immediates and references; that is one-to-one except between constants; and that merges two
//! constants exactly when they are equal (same payload and slots, recursively). The VM's view
//! (a walk printing what it reads) is the same before and after.

mod image_support;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use flashfreeze::image::Image;
use flashfreeze::plan::{Dedup, MAX_DEPTH, plan_dedup};
use flashfreeze::sim::SimFlash;
use flashfreeze::store::{Store, StoreConfig};
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::{
    FrozenLayout, ObjectModel, Placement, Root, RootKind, SlotVisitor, Space, Target, plan,
};
use image_support::*;
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

const REGION_LEN: u32 = 128 * 1024;
/// Large enough that no cap is reached in these tests.
const UNBOUNDED: Dedup = Dedup::new(1 << 20, 1 << 20);

fn qc() -> QuickCheck {
    QuickCheck::new().tests(if cfg!(miri) { 4 } else { 200 })
}

fn target() -> Target {
    Target {
        flash_base: 0x1010_0000,
        flash_capacity: 1 << 20,
        ram_base: 0x2003_0000,
        ram_capacity: 16 * 1024,
    }
}

fn dedup_store(dedup: Dedup) -> Store<'static, SimFlash<1, 4, 4096>> {
    let flash = SimFlash::new((REGION_OFFSET + REGION_LEN) as usize);
    Store::open(flash, store_cfg(REGION_LEN, 4).with_dedup(dedup)).expect("open")
}

/// Every heap object reachable from `roots`.
fn reachable<const W: u32>(heap: &TestHeap<W>, roots: &[Obj]) -> Vec<Obj> {
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    let mut stack: Vec<Obj> = roots.to_vec();
    while let Some(o) = stack.pop() {
        if heap.space(o) != Space::Heap || !seen.insert(o) {
            continue;
        }
        order.push(o);
        for (_, v) in &heap.get(o).slots {
            if let Value::Ref(r) = v {
                stack.push(*r);
            }
        }
    }
    order
}

/// A constant's payload and its slots: (0, immediate), (1, class of a constant), (2, object).
type ClassKey = (Vec<u8>, Vec<(u8, u64)>);

/// The reference answer: a class id per constant, equal exactly for equal constants (payload,
/// immediates, and targets: the same non-constant object, or equal constants). Constants refer
/// only to earlier objects in these graphs, so the recursion ends.
struct Classes<'h, const W: u32> {
    heap: &'h TestHeap<W>,
    ids: HashMap<Obj, u32>,
    keys: HashMap<ClassKey, u32>,
}

impl<'h, const W: u32> Classes<'h, W> {
    fn new(heap: &'h TestHeap<W>) -> Self {
        Self {
            heap,
            ids: HashMap::new(),
            keys: HashMap::new(),
        }
    }

    fn of(&mut self, o: Obj) -> u32 {
        if let Some(&c) = self.ids.get(&o) {
            return c;
        }
        let obj = self.heap.get(o).clone();
        let slots = obj
            .slots
            .iter()
            .map(|(_, v)| match *v {
                Value::Int(i) => (0, i as u64),
                Value::Ref(r) if self.heap.get(r).kind == Kind::Constant => {
                    (1, u64::from(self.of(r)))
                }
                Value::Ref(r) => (2, u64::from(r.0)),
            })
            .collect();
        let next = self.keys.len() as u32;
        let c = *self.keys.entry((obj.payload, slots)).or_insert(next);
        self.ids.insert(o, c);
        c
    }
}

/// One object of a recipe: two choice bytes and its slots' choices.
type NodeSpec = (u8, u8, Vec<(u8, u16)>);

/// A recipe: two graphs (one per batch) over shared static objects and payload pools.
#[derive(Clone, Debug)]
struct Spec {
    graphs: [Vec<NodeSpec>; 2],
}

impl Arbitrary for Spec {
    fn arbitrary(g: &mut Gen) -> Self {
        let mut graph = || {
            let n = 1 + usize::arbitrary(g) % 40;
            (0..n)
                .map(|_| {
                    let slots = (0..u8::arbitrary(g) % 4)
                        .map(|_| (u8::arbitrary(g), u16::arbitrary(g)))
                        .collect();
                    (u8::arbitrary(g), u8::arbitrary(g), slots)
                })
                .collect()
        };
        Self {
            graphs: [graph(), graph()],
        }
    }
}

/// Build the two graphs; returns each one's roots. Kinds: constants (most), immutable and
/// mutable objects. Constants refer to earlier objects only (no cycle among constants; the
/// cycle tests are below); the others refer anywhere (cycles through them). Payloads come
/// from four short pools so equal constants are frequent.
fn build(heap: &mut TestHeap<4>, spec: &Spec) -> [Vec<Obj>; 2] {
    let statics: Vec<Obj> = (0..2)
        .map(|i| heap.alloc_with(Kind::Static, vec![], vec![0xA0 + i; 4]))
        .collect();
    let mut roots: [Vec<Obj>; 2] = [Vec::new(), Vec::new()];
    for (b, graph) in spec.graphs.iter().enumerate() {
        let objs: Vec<Obj> = graph
            .iter()
            .map(|(k, p, _)| {
                let kind = match k % 8 {
                    0 => Kind::Mutable,
                    1 => Kind::Immutable,
                    _ => Kind::Constant,
                };
                heap.alloc_with(kind, vec![], vec![b'p'; usize::from(p % 4)])
            })
            .collect();
        for (i, (_, _, slots)) in graph.iter().enumerate() {
            let constant = heap.get(objs[i]).kind == Kind::Constant;
            for &(what, n) in slots {
                let v = match what % 5 {
                    0 => Value::Int(i32::from(n % 3)),
                    1 => Value::Ref(statics[usize::from(n) % 2]),
                    _ if constant && i == 0 => Value::Int(7),
                    _ if constant => Value::Ref(objs[usize::from(n) % i]),
                    _ => Value::Ref(objs[usize::from(n) % objs.len()]),
                };
                heap.push_slot(objs[i], None, v);
            }
        }
        // Roots: the last object (it may reach many) and a module holding every object.
        let module = heap.alloc(Kind::Immutable, &[]);
        for &o in &objs {
            heap.push_slot(module, None, Value::Ref(o));
        }
        roots[b] = vec![module];
    }
    roots
}

/// What a VM reading the graph sees: a walk to a bounded depth printing kinds, payloads,
/// immediates and statics' addresses (frozen copies show the kind they were frozen from).
fn view<const W: u32>(heap: &TestHeap<W>, root: Obj) -> Vec<String> {
    fn go<const W: u32>(heap: &TestHeap<W>, o: Obj, depth: u32, out: &mut Vec<String>) {
        let obj = heap.get(o);
        if matches!(obj.kind, Kind::Static)
            || (obj.kind == Kind::Frozen && obj.frozen_from.is_none())
        {
            out.push(format!("kept@{:#x}", obj.address));
            return;
        }
        let kind = obj.frozen_from.unwrap_or(obj.kind);
        out.push(format!("{kind:?}{:?}", obj.payload));
        if depth == 0 || out.len() > 4000 {
            return;
        }
        for (_, v) in &obj.slots {
            match v {
                Value::Int(i) => out.push(format!("int {i}")),
                Value::Ref(r) => go(heap, *r, depth - 1, out),
            }
        }
    }
    let mut out = Vec::new();
    go(heap, root, 5, &mut out);
    out
}

/// Freeze each batch's roots with `dedup` through the store (plan, append), mount, and check
/// the frozen graph against the original. Returns the region and the total merge counts.
fn freeze_and_check(heap: &TestHeap<4>, batches: &[Vec<Obj>], dedup: Dedup) -> (Vec<u8>, u32) {
    let mut store = dedup_store(dedup);
    let mut address: BTreeMap<Obj, u64> = BTreeMap::new();
    let mut batch_of: BTreeMap<Obj, usize> = BTreeMap::new();
    let mut merged = 0;
    for (b, roots) in batches.iter().enumerate() {
        let named = module_roots(roots, &NAMES[b * 2..]);
        let plan = store.plan(heap, &named).expect("plan");
        merged += plan.stats().merged;
        for o in reachable(heap, roots) {
            address.insert(o, plan.frozen_address(heap, o).expect("placed"));
            batch_of.insert(o, b);
        }
        let merged_set: BTreeSet<Obj> = plan.merged_objects().collect();
        for o in &merged_set {
            assert_eq!(heap.get(*o).kind, Kind::Constant, "only constants merge");
        }
        store.append(&plan, heap).expect("append");
    }
    let region = region(store.flash(), REGION_LEN).to_vec();
    let (mounted, ram) = mount_region(&region, 4);
    let mounted = mounted.expect("the image mounts");
    let mut back = heap.clone();
    load_image(&mut back, &region, &ram);
    let frozen = |o: Obj| -> Obj {
        match heap.space(o) {
            Space::Heap => back.at(address[&o]).expect("copy loaded"),
            _ => o,
        }
    };
    // A homomorphism: kinds, placement, payloads, immediates and references are kept.
    for (&o, &at) in &address {
        let (orig, copy) = (heap.get(o), back.get(frozen(o)));
        assert_eq!(copy.frozen_from, Some(orig.kind), "kind of {o:?}");
        let want = if orig.kind == Kind::Mutable {
            Placement::Ram
        } else {
            Placement::Flash
        };
        assert_eq!(mounted.placement_of(at), Some(want), "placement of {o:?}");
        assert_eq!(copy.payload, orig.payload, "payload of {o:?}");
        assert_eq!(copy.slots.len(), orig.slots.len());
        for ((_, a), (_, b)) in orig.slots.iter().zip(&copy.slots) {
            match (a, b) {
                (Value::Int(x), Value::Int(y)) => assert_eq!(x, y),
                (Value::Ref(x), Value::Ref(y)) => assert_eq!(frozen(*x), *y, "slot of {o:?}"),
                _ => panic!("slot of {o:?} changed nature"),
            }
        }
    }
    // One-to-one but for constants, which share a copy exactly when they are equal.
    let mut classes = Classes::new(heap);
    let mut by_copy: BTreeMap<u64, Vec<Obj>> = BTreeMap::new();
    for (&o, &at) in &address {
        by_copy.entry(at).or_default().push(o);
    }
    for group in by_copy.values() {
        if group.len() > 1 {
            assert!(
                group.iter().all(|o| heap.get(*o).kind == Kind::Constant),
                "{group:?}"
            );
            let c = classes.of(group[0]);
            assert!(
                group.iter().all(|o| classes.of(*o) == c),
                "unequal objects merged: {group:?}"
            );
        }
    }
    if dedup.is_on() {
        let mut copy_of: HashMap<u32, u64> = HashMap::new();
        for (&o, &at) in &address {
            if heap.get(o).kind != Kind::Constant {
                continue;
            }
            let c = classes.of(o);
            let first = *copy_of.entry(c).or_insert(at);
            assert_eq!(first, at, "equal constants {o:?} not merged");
        }
    } else {
        assert_eq!(by_copy.len(), address.len(), "no dedup, no merge");
    }
    // The VM reads the same before and after.
    for (b, roots) in batches.iter().enumerate() {
        for &r in roots {
            assert_eq!(view(heap, r), view(&back, frozen(r)), "batch {b}");
        }
    }
    (region, merged)
}

fn prop_modulo_merges(spec: Spec) -> TestResult {
    let mut heap = TestHeap::<4>::new();
    let batches = build(&mut heap, &spec);
    let (with, merged) = freeze_and_check(&heap, &batches, UNBOUNDED);
    let (without, none) = freeze_and_check(&heap, &batches, Dedup::OFF);
    assert_eq!(none, 0);
    if merged == 0 {
        assert_eq!(with, without, "nothing merged: the same image");
    }
    TestResult::passed()
}

#[test]
fn the_frozen_graph_is_the_original_modulo_merged_equal_objects() {
    qc().quickcheck(prop_modulo_merges as fn(Spec) -> TestResult);
}

#[test]
fn dedup_is_deterministic() {
    fn prop(spec: Spec) -> bool {
        let image = || {
            let mut heap = TestHeap::<4>::new();
            let batches = build(&mut heap, &spec);
            let mut store = dedup_store(UNBOUNDED);
            for (b, roots) in batches.iter().enumerate() {
                let named = module_roots(roots, &NAMES[b * 2..]);
                let plan = store.plan(&heap, &named).expect("plan");
                store.append(&plan, &heap).expect("append");
            }
            region(store.flash(), REGION_LEN).to_vec()
        };
        image() == image()
    }
    qc().quickcheck(prop as fn(Spec) -> bool);
}

#[test]
fn equal_constants_merge_and_composites_merge_with_them() {
    let mut heap = TestHeap::<4>::new();
    let s1 = heap.alloc_with(Kind::Constant, vec![], b"hello".to_vec());
    let s2 = heap.alloc_with(Kind::Constant, vec![], b"hello".to_vec());
    let other = heap.alloc_with(Kind::Constant, vec![], b"world".to_vec());
    // Tuples of equal strings: equal once the strings are merged.
    let t1 = heap.alloc(Kind::Constant, &[Some(s1), Some(other)]);
    let t2 = heap.alloc(Kind::Constant, &[Some(s2), Some(other)]);
    // Equal bytes, but not a kind that merges.
    let i1 = heap.alloc_with(Kind::Immutable, vec![], b"hello".to_vec());
    let i2 = heap.alloc_with(Kind::Immutable, vec![], b"hello".to_vec());
    let module = heap.alloc(
        Kind::Immutable,
        &[Some(t1), Some(t2), Some(i1), Some(i2), Some(s1)],
    );
    let roots = [Root::new(RootKind::MODULE, "m", module)];
    let p = plan_dedup(&heap, &roots, target(), UNBOUNDED).expect("plan");
    let at = |o| p.frozen_address(&heap, o).expect("placed");
    assert_eq!(at(s1), at(s2));
    assert_eq!(at(t1), at(t2));
    assert_ne!(at(s1), at(other));
    assert_ne!(at(i1), at(i2), "immutable objects have identity");
    // One of each pair is frozen as the other's copy: the copy kept is the one of the pair
    // last in plan order (s1, which the module names last; t2).
    let merged: BTreeSet<Obj> = p.merged_objects().collect();
    assert_eq!(merged, BTreeSet::from([s2, t1]));
    let s = p.stats();
    assert_eq!((s.objects, s.merged, s.merged_earlier), (6, 2, 0));
    // "hello" is 8 + 5 bytes, a tuple of two 8 + 8.
    assert_eq!(s.merged_bytes, 13 + 16);
    let constant = s.kinds.iter().find(|k| k.kind == "constant").expect("kind");
    assert_eq!(
        (constant.count, constant.merged, constant.merged_bytes),
        (3, 2, 29)
    );
    // Without dedup the plan has every object.
    let full = plan(&heap, &roots, target()).expect("plan");
    assert_eq!(full.stats().objects, 8);
    // Each object starts on a 4-byte boundary: the 13-byte string takes 16.
    assert_eq!(full.stats().flash_bytes, s.flash_bytes + 16 + 16);
}

#[test]
fn a_tuple_merges_only_with_one_pointing_at_the_same_mutable_object() {
    let mut heap = TestHeap::<4>::new();
    let l1 = heap.alloc(Kind::Mutable, &[]);
    let l2 = heap.alloc(Kind::Mutable, &[]); // equal to l1, but mutable: never merged
    let t1 = heap.alloc(Kind::Constant, &[Some(l1)]);
    let t2 = heap.alloc(Kind::Constant, &[Some(l1)]);
    let t3 = heap.alloc(Kind::Constant, &[Some(l2)]);
    let module = heap.alloc(Kind::Immutable, &[Some(t1), Some(t2), Some(t3)]);
    let p = plan_dedup(
        &heap,
        &[Root::new(RootKind::MODULE, "m", module)],
        target(),
        UNBOUNDED,
    )
    .expect("plan");
    let at = |o| p.frozen_address(&heap, o).expect("placed");
    assert_eq!(at(t1), at(t2));
    assert_ne!(at(t1), at(t3));
    assert_ne!(at(l1), at(l2));
}

/// A model whose two mergeable kinds have equal frozen bytes: the freezer still tells them
/// apart by kind name (and never merges objects of different sizes).
struct TwoKinds(TestHeap<4>);

impl ObjectModel for TwoKinds {
    type Ref = Obj;
    const ENCODING: flashfreeze::RefEncoding = TestHeap::<4>::ENCODING;
    fn space(&self, o: Obj) -> Space {
        self.0.space(o)
    }
    fn address(&self, o: Obj) -> u64 {
        self.0.address(o)
    }
    fn mutability(&self, o: Obj) -> flashfreeze::Mutability {
        self.0.mutability(o)
    }
    fn frozen_layout(&self, o: Obj) -> FrozenLayout {
        self.0.frozen_layout(o)
    }
    fn scan(&self, o: Obj, v: &mut dyn SlotVisitor<Obj>) {
        self.0.scan(o, v)
    }
    fn write_frozen(&self, o: Obj, p: Placement, out: &mut [u8]) {
        self.0.write_frozen(o, p, out);
        out[..4].copy_from_slice(&[9, 0, 0, 0]); // one tag for both kinds
    }
    fn heap_index(&self, o: Obj) -> usize {
        self.0.heap_index(o)
    }
    fn heap_index_limit(&self) -> usize {
        self.0.heap_index_limit()
    }
    fn kind_name(&self, o: Obj) -> &'static str {
        match self.0.get(o).kind {
            Kind::Constant => "str",
            _ => "bytes",
        }
    }
    fn may_merge(&self, o: Obj) -> bool {
        self.0.get(o).kind != Kind::Mutable
    }
}

#[test]
fn objects_of_different_kinds_never_merge_even_with_equal_bytes() {
    let mut heap = TestHeap::<4>::new();
    let a = heap.alloc_with(Kind::Constant, vec![], b"ab".to_vec());
    let b = heap.alloc_with(Kind::Immutable, vec![], b"ab".to_vec());
    let c = heap.alloc_with(Kind::Immutable, vec![], b"ab".to_vec());
    let d = heap.alloc_with(Kind::Immutable, vec![], b"abc".to_vec());
    let module = heap.alloc(Kind::Mutable, &[Some(a), Some(b), Some(c), Some(d)]);
    let vm = TwoKinds(heap);
    let p = plan_dedup(
        &vm,
        &[Root::new(RootKind::MODULE, "m", module)],
        target(),
        UNBOUNDED,
    )
    .expect("plan");
    let at = |o| p.frozen_address(&vm, o).expect("placed");
    assert_ne!(at(a), at(b), "a str and a bytes object with equal bytes");
    assert_eq!(at(b), at(c));
    assert_ne!(at(b), at(d), "different sizes");
}

#[test]
fn cycles_of_mergeable_objects_freeze_unmerged_and_valid() {
    let mut heap = TestHeap::<4>::new();
    // Two equal cycles a1 ⇄ b1, a2 ⇄ b2, and two equal objects pointing into the first.
    let a1 = heap.alloc_with(Kind::Constant, vec![], b"a".to_vec());
    let b1 = heap.alloc_with(Kind::Constant, vec![], b"b".to_vec());
    let a2 = heap.alloc_with(Kind::Constant, vec![], b"a".to_vec());
    let b2 = heap.alloc_with(Kind::Constant, vec![], b"b".to_vec());
    heap.push_slot(a1, None, Value::Ref(b1));
    heap.push_slot(b1, None, Value::Ref(a1));
    heap.push_slot(a2, None, Value::Ref(b2));
    heap.push_slot(b2, None, Value::Ref(a2));
    let p1 = heap.alloc(Kind::Constant, &[Some(b1)]);
    let p2 = heap.alloc(Kind::Constant, &[Some(b1)]);
    let self_loop = heap.alloc(Kind::Constant, &[]);
    heap.push_slot(self_loop, None, Value::Ref(self_loop));
    let module = heap.alloc(
        Kind::Immutable,
        &[Some(a1), Some(a2), Some(p1), Some(p2), Some(self_loop)],
    );
    let batches = [vec![module]];
    let mut store = dedup_store(UNBOUNDED);
    let named = module_roots(&batches[0], NAMES);
    let plan = store.plan(&heap, &named).expect("plan");
    let at = |o| plan.frozen_address(&heap, o).expect("placed");
    // The cycles stay apart (hash-consing merges what is settled children first) …
    let cycle1 = BTreeSet::from([at(a1), at(b1)]);
    let cycle2 = BTreeSet::from([at(a2), at(b2)]);
    assert_eq!(cycle1.len() + cycle2.len(), 4);
    assert!(cycle1.is_disjoint(&cycle2));
    // … and objects pointing into one merge.
    assert_eq!(at(p1), at(p2));
    store.append(&plan, &heap).expect("append");
    let region = region(store.flash(), REGION_LEN);
    let (mounted, ram) = mount_region(region, 4);
    mounted.expect("mounts");
    let mut back = heap.clone();
    load_image(&mut back, region, &ram);
    let copy = back.at(at(self_loop)).expect("loaded");
    assert_eq!(back.get(copy).slots[0].1, Value::Ref(copy));
}

#[test]
fn deep_chains_merge_whole() {
    let mut heap = TestHeap::<4>::new();
    let n = 3 * MAX_DEPTH + 5;
    let mut chain = || {
        let mut next: Option<Obj> = None;
        for i in 0..n {
            let o = heap.alloc_with(Kind::Constant, vec![], vec![i as u8]);
            if let Some(x) = next {
                heap.push_slot(o, None, Value::Ref(x));
            }
            next = Some(o);
        }
        next.expect("head")
    };
    let (h1, h2) = (chain(), chain());
    let module = heap.alloc(Kind::Immutable, &[Some(h1), Some(h2)]);
    let roots = [Root::new(RootKind::MODULE, "m", module)];
    // The plan lists each chain head first; walked from the end, every child is settled when
    // its parent is: the walk never goes deep, and the chains merge whole.
    let p = plan_dedup(&heap, &roots, target(), UNBOUNDED).expect("plan");
    assert_eq!(p.stats().merged as usize, n);
    assert_eq!(p.frozen_address(&heap, h1), p.frozen_address(&heap, h2));
}

#[test]
fn a_chain_walked_deeper_than_the_limit_merges_below_its_stop_only() {
    // Each object refers to the one discovered just before it (the module lists them in
    // order): walking from the last, every child is unsettled, and the walk is as deep as the
    // chain. It stops at MAX_DEPTH; what lies above a stop merges with nothing.
    let mut heap = TestHeap::<4>::new();
    let n = 2 * MAX_DEPTH + 10;
    let mut chain = || {
        let mut objs: Vec<Obj> = Vec::new();
        for i in 0..n {
            let o = heap.alloc_with(Kind::Constant, vec![], vec![i as u8]);
            if let Some(&prev) = objs.last() {
                heap.push_slot(o, None, Value::Ref(prev));
            }
            objs.push(o);
        }
        objs
    };
    let (c1, c2) = (chain(), chain());
    let slots: Vec<Option<Obj>> = c1.iter().chain(&c2).map(|o| Some(*o)).collect();
    let module = heap.alloc(Kind::Immutable, &slots);
    let roots = [Root::new(RootKind::MODULE, "m", module)];
    let p = plan_dedup(&heap, &roots, target(), UNBOUNDED).expect("plan");
    let merged = p.stats().merged as usize;
    // The walks from each chain's last object stop every MAX_DEPTH objects; the object at a
    // stop is settled alone, so everything above the lowest stop (object n - 2·MAX_DEPTH)
    // differs between the chains. Below it, they merge.
    assert_eq!(merged, n - 2 * MAX_DEPTH, "{merged} of {n}");
    let at = |o| p.frozen_address(&heap, o).expect("placed");
    assert_eq!(at(c1[0]), at(c2[0]));
    assert_ne!(at(c1[n - 1]), at(c2[n - 1]));
    let mut store = dedup_store(UNBOUNDED);
    let plan = store.plan(&heap, &roots).expect("plan");
    store.append(&plan, &heap).expect("append");
    mount_region(region(store.flash(), REGION_LEN), 4)
        .0
        .expect("mounts");
}

#[test]
fn a_later_batch_reuses_equal_objects_of_earlier_batches() {
    let mut heap = TestHeap::<4>::new();
    let st = heap.alloc_with(Kind::Static, vec![], vec![1; 4]);
    let s1 = heap.alloc_with(Kind::Constant, vec![], b"shared".to_vec());
    let t1 = heap.alloc_with(
        Kind::Constant,
        vec![(None, Value::Ref(s1)), (None, Value::Ref(st))],
        vec![],
    );
    let m1 = heap.alloc(Kind::Immutable, &[Some(t1)]);
    // Batch 2: its own copies of the same string and tuple, and one that differs.
    let s2 = heap.alloc_with(Kind::Constant, vec![], b"shared".to_vec());
    let t2 = heap.alloc_with(
        Kind::Constant,
        vec![(None, Value::Ref(s2)), (None, Value::Ref(st))],
        vec![],
    );
    let u2 = heap.alloc_with(Kind::Constant, vec![], b"unique".to_vec());
    let m2 = heap.alloc(Kind::Immutable, &[Some(t2), Some(u2)]);
    let mut store = dedup_store(UNBOUNDED);
    let p1 = store
        .plan(&heap, &[Root::new(RootKind::MODULE, "a", m1)])
        .expect("plan");
    let (s1_at, t1_at) = (
        p1.frozen_address(&heap, s1).expect("s1"),
        p1.frozen_address(&heap, t1).expect("t1"),
    );
    store.append(&p1, &heap).expect("append");
    let p2 = store
        .plan(&heap, &[Root::new(RootKind::MODULE, "b", m2)])
        .expect("plan");
    assert_eq!(p2.frozen_address(&heap, s2), Some(s1_at));
    assert_eq!(p2.frozen_address(&heap, t2), Some(t1_at));
    let s = p2.stats();
    assert_eq!((s.objects, s.merged, s.merged_earlier), (2, 2, 2));
    assert!(s.working_bytes > 0);
    store.append(&p2, &heap).expect("append");
    // The earlier batch is read, never written: it mounts with the new one, which points into it.
    let region = region(store.flash(), REGION_LEN);
    let (mounted, ram) = mount_region(region, 4);
    let mounted = mounted.expect("mounts");
    assert_eq!(mounted.batches().len(), 2);
    let mut back = heap.clone();
    load_image(&mut back, region, &ram);
    let m2_copy = back
        .at(mounted.root(RootKind::MODULE, "b").expect("root"))
        .expect("loaded");
    assert_eq!(
        back.get(m2_copy).slots[0].1,
        Value::Ref(back.at(t1_at).expect("t1"))
    );
    assert_eq!(view(&heap, m2), view(&back, m2_copy));
    // Without an earlier index, the second batch keeps its own copies.
    let mut store = dedup_store(Dedup::new(1 << 20, 0));
    let p1 = store
        .plan(&heap, &[Root::new(RootKind::MODULE, "a", m1)])
        .expect("plan");
    store.append(&p1, &heap).expect("append");
    let p2 = store
        .plan(&heap, &[Root::new(RootKind::MODULE, "b", m2)])
        .expect("plan");
    assert_eq!(p2.stats().merged, 0);
}

#[test]
fn store_freeze_points_the_vm_at_one_copy_for_equal_objects() {
    let mut vm = TestHeap::<4>::new();
    let a = vm.alloc_with(Kind::Constant, vec![], b"x".to_vec());
    let b = vm.alloc_with(Kind::Constant, vec![], b"x".to_vec());
    let module = vm.alloc(Kind::Immutable, &[Some(a), Some(b)]);
    vm.live_roots = vec![Value::Ref(module), Value::Ref(a), Value::Ref(b)];
    vm.ram_area = vec![0; RAM_LEN as usize];
    let mut store = dedup_store(Dedup::ON);
    let frozen = store
        .freeze(&mut vm, &[Root::new(RootKind::MODULE, "m", module)])
        .expect("freeze");
    assert_eq!(frozen.stats.merged, 1);
    assert!(
        frozen.stats.to_string().ends_with(", 1 merged (9 bytes)"),
        "{}",
        frozen.stats
    );
    assert_eq!(
        vm.live_roots[1], vm.live_roots[2],
        "both names now read the one copy"
    );
    assert_ne!(vm.live_roots[1], Value::Ref(a));
}

/// A model that says its immutable objects may merge while its frozen bytes leave out what
/// tells them apart (here: the payload). The documented consequence: they become one object.
struct Lying(TestHeap<4>);

impl ObjectModel for Lying {
    type Ref = Obj;
    const ENCODING: flashfreeze::RefEncoding = TestHeap::<4>::ENCODING;
    fn space(&self, o: Obj) -> Space {
        self.0.space(o)
    }
    fn address(&self, o: Obj) -> u64 {
        self.0.address(o)
    }
    fn mutability(&self, o: Obj) -> flashfreeze::Mutability {
        self.0.mutability(o)
    }
    fn frozen_layout(&self, o: Obj) -> FrozenLayout {
        self.0.frozen_layout(o)
    }
    fn scan(&self, o: Obj, v: &mut dyn SlotVisitor<Obj>) {
        self.0.scan(o, v)
    }
    fn write_frozen(&self, o: Obj, p: Placement, out: &mut [u8]) {
        self.0.write_frozen(o, p, out);
        // The payload is "state kept outside the frozen copy": not written.
        let payload = self.0.get(o).payload.len();
        let n = out.len();
        out[n - payload..].fill(0);
    }
    fn heap_index(&self, o: Obj) -> usize {
        self.0.heap_index(o)
    }
    fn heap_index_limit(&self) -> usize {
        self.0.heap_index_limit()
    }
    fn may_merge(&self, o: Obj) -> bool {
        self.0.get(o).kind == Kind::Immutable
    }
}

#[test]
fn a_vm_that_says_may_merge_for_objects_it_tells_apart_gets_one_object() {
    let mut heap = TestHeap::<4>::new();
    let x = heap.alloc_with(Kind::Immutable, vec![], b"one".to_vec());
    let y = heap.alloc_with(Kind::Immutable, vec![], b"two".to_vec());
    let module = heap.alloc(Kind::Mutable, &[Some(x), Some(y)]);
    let vm = Lying(heap);
    let roots = [Root::new(RootKind::MODULE, "m", module)];
    let p = plan_dedup(&vm, &roots, target(), UNBOUNDED).expect("plan");
    // Equal frozen bytes: one copy, which both references now read; the VM that told them
    // apart by state outside the copy cannot any more.
    assert_eq!(p.frozen_address(&vm, x), p.frozen_address(&vm, y));
    // The image is still valid: the store checks it as mount will before committing.
    let flash = SimFlash::<1, 4, 4096>::new((REGION_OFFSET + REGION_LEN) as usize);
    let cfg = StoreConfig::for_model::<Lying>(REGION_OFFSET, REGION_LEN, layout())
        .with_statics(STATICS)
        .with_dedup(UNBOUNDED);
    let mut store = Store::open(flash, cfg).expect("open");
    let plan = store.plan(&vm, &roots).expect("plan");
    store.append(&plan, &vm).expect("a valid batch");
    assert_eq!(plan.stats().merged, 1);
}

#[test]
fn a_vm_without_mergeable_kinds_gets_the_same_image_with_dedup_on() {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(7);
    let roots = random_graph(&mut heap, &mut rng, 300);
    let named = module_roots(&roots, NAMES);
    let image = |dedup| {
        let mut store = dedup_store(dedup);
        let plan = store.plan(&heap, &named).expect("plan");
        assert_eq!(plan.stats().merged, 0);
        store.append(&plan, &heap).expect("append");
        let plan = store.plan(&heap, &named).expect("plan");
        store.append(&plan, &heap).expect("append");
        region(store.flash(), REGION_LEN).to_vec()
    };
    assert_eq!(image(Dedup::ON), image(Dedup::OFF));
}

#[test]
fn the_caps_bound_the_table_and_still_give_a_valid_image() {
    let mut heap = TestHeap::<4>::new();
    let objs: Vec<Obj> = (0..200)
        .map(|i| heap.alloc_with(Kind::Constant, vec![], vec![(i % 20) as u8; 3]))
        .collect();
    let module = heap.alloc(
        Kind::Immutable,
        &objs.iter().map(|o| Some(*o)).collect::<Vec<_>>(),
    );
    let roots = [Root::new(RootKind::MODULE, "m", module)];
    let merged = |entries| {
        plan_dedup(&heap, &roots, target(), Dedup::new(entries, 0))
            .expect("plan")
            .stats()
            .clone()
    };
    let all = merged(1000);
    assert_eq!(all.merged, 180);
    // A table of 5 entries holds the first 5 payloads: only their equals merge.
    let five = merged(5);
    assert_eq!(five.merged, 5 * 9);
    assert!(five.working_bytes < all.working_bytes);
    let mut store = dedup_store(Dedup::new(5, 0));
    let plan = store.plan(&heap, &roots).expect("plan");
    store.append(&plan, &heap).expect("append");
    mount_region(region(store.flash(), REGION_LEN), 4)
        .0
        .expect("mounts");
    let image = Image::open(region(store.flash(), REGION_LEN), &read_cfg(4)).expect("valid");
    assert_eq!(image.batches()[0].objects().len(), 201 - 45);
}

#[test]
fn dedup_reports_its_working_memory() {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(11);
    let objs: Vec<Obj> = (0..2000)
        .map(|_| heap.alloc_with(Kind::Constant, vec![], vec![rng.below(200) as u8; 4]))
        .collect();
    let module = heap.alloc(
        Kind::Immutable,
        &objs.iter().map(|o| Some(*o)).collect::<Vec<_>>(),
    );
    let roots = [Root::new(RootKind::MODULE, "m", module)];
    let off = plan(&heap, &roots, target())
        .expect("plan")
        .stats()
        .working_bytes;
    let on = plan_dedup(&heap, &roots, target(), UNBOUNDED)
        .expect("plan")
        .stats()
        .working_bytes;
    let per_object = (on - off) as f64 / objs.len() as f64;
    eprintln!(
        "dedup adds {} B for {} objects: {per_object:.2} B/object",
        on - off,
        objs.len()
    );
    // The table (≤ 11.4 B per mergeable object), a bit per object, the walk and two copies.
    assert!(on > off && per_object < 12.0, "{per_object}");
}

/// The golden layout of a deduplicated two-batch image (`tests/snapshots/`): equal strings and
/// tuples once per image, batch 2 pointing into batch 1 for the ones batch 1 holds. Updated
/// deliberately (`cargo insta review`) when the merge rules or the layout change.
#[test]
fn a_deduplicated_image_has_a_golden_layout() {
    let mut heap = TestHeap::<4>::new();
    let st = heap.alloc_with(Kind::Static, vec![], vec![1; 4]);
    let batch = |heap: &mut TestHeap<4>, extra: &[u8]| {
        let s = heap.alloc_with(Kind::Constant, vec![], b"shared".to_vec());
        let s_again = heap.alloc_with(Kind::Constant, vec![], b"shared".to_vec());
        let t = heap.alloc_with(
            Kind::Constant,
            vec![(None, Value::Ref(s)), (None, Value::Ref(st))],
            vec![],
        );
        let t_again = heap.alloc_with(
            Kind::Constant,
            vec![(None, Value::Ref(s_again)), (None, Value::Ref(st))],
            vec![],
        );
        let own = heap.alloc_with(Kind::Constant, vec![], extra.to_vec());
        let state = heap.alloc(Kind::Mutable, &[Some(t)]);
        heap.alloc(
            Kind::Immutable,
            &[Some(t), Some(t_again), Some(own), Some(state)],
        )
    };
    let m1 = batch(&mut heap, b"first");
    let m2 = batch(&mut heap, b"second");
    let mut store = dedup_store(Dedup::ON);
    let mut merged = Vec::new();
    for (name, m) in [("a", m1), ("b", m2)] {
        let plan = store
            .plan(&heap, &[Root::new(RootKind::MODULE, name, m)])
            .expect("plan");
        merged.push(plan.stats().to_string());
        store.append(&plan, &heap).expect("append");
    }
    assert_eq!(
        merged,
        [
            "froze 69 flash bytes, 12 ram bytes, 5 objects, 0 qstrs, 2 merged (30 bytes)",
            "froze 38 flash bytes, 12 ram bytes, 3 objects, 0 qstrs, 4 merged (60 bytes)",
        ]
    );
    let region = region(store.flash(), REGION_LEN);
    let image = Image::open(region, &read_cfg(4)).expect("opens");
    let kind = |o: &flashfreeze::image::ImageObject<'_>| match o.bytes.first() {
        Some(6) => "constant",
        Some(1) => "immutable",
        Some(2) => "mutable",
        _ => "?",
    };
    insta::assert_snapshot!(
        "deduplicated_two_batches_layout",
        flashfreeze::image::dump::layout(&image, &kind)
    );
}
