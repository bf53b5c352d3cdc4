//! Properties of the planner over random graphs (cycles, sharing, deep chains, mutable islands,
//! references to static and earlier-frozen objects), for 32- and 64-bit references and for
//! both forwarding stores.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use flashfreeze::plan::ForwardingTable;
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::{
    Forwarding, FreezeError, InObjectForwarding, ObjectModel, Placement, Plan, Space, plan,
    plan_in_object,
};
use quickcheck::{QuickCheck, TestResult};

fn qc() -> QuickCheck {
    // Miri runs every test ~1000x slower: a handful of cases still exercises every path.
    QuickCheck::new().tests(if cfg!(miri) { 4 } else { 300 })
}

/// Placement, no dangling pointers, isomorphism and live fix-up for one built graph.
fn check_plan<const W: u32, T>(mut g: Graph<W>, made: Plan<Obj, T>) -> TestResult
where
    T: ForwardingTable<TestHeap<W>>,
{
    let heap = &g.heap;
    let expect = reachable(heap, &g.roots);

    // Every reachable heap object placed exactly once, in the section its mutability says.
    let mut placed = BTreeSet::new();
    for o in made.flash_objects() {
        assert!(placed.insert(o), "{o:?} placed twice");
        assert_ne!(heap.get(o).kind, Kind::Mutable);
    }
    for o in made.ram_objects() {
        assert!(placed.insert(o), "{o:?} placed twice");
        assert_eq!(heap.get(o).kind, Kind::Mutable);
    }
    assert_eq!(placed, expect);
    assert_eq!(made.stats().objects as usize, expect.len());
    assert_eq!(made.in_ram().len(), made.ram_objects().count());

    // Every reference word points at a frozen copy's start or at a kept object.
    let (copies, refs) = write_all(heap, &made);
    let starts: BTreeSet<u64> = copies.iter().map(|c| c.0).collect();
    let kept: BTreeSet<u64> = (0..heap.len() as u32)
        .map(Obj)
        .filter(|o| heap.space(*o) != Space::Heap)
        .map(|o| heap.address(o))
        .collect();
    for ((addr, _, bytes), (_, offsets)) in copies.iter().zip(&refs) {
        for off in offsets {
            let at = *off as usize;
            let mut word = [0u8; 8];
            word[..W as usize].copy_from_slice(&bytes[at..at + W as usize]);
            let to = u64::from_le_bytes(word);
            assert!(
                starts.contains(&to) || kept.contains(&to),
                "object at {addr:#x} refers to {to:#x}, outside the image and kept objects"
            );
        }
    }
    let flash_end = made.target().flash_base + made.stats().flash_bytes;
    let ram_end = made.target().ram_base + made.stats().ram_bytes;
    for (addr, placement, bytes) in &copies {
        let end = addr + bytes.len() as u64;
        match placement {
            Placement::Flash => assert!(*addr >= made.target().flash_base && end <= flash_end),
            Placement::Ram => assert!(*addr >= made.target().ram_base && end <= ram_end),
        }
    }

    // Reading the frozen copies back yields an isomorphic graph.
    let decoded = g.heap.load_frozen(&copies).expect("decodes");
    let mut map = BTreeMap::new();
    for (planned, copy) in made.objects(&g.heap).zip(&decoded) {
        map.insert(planned.expect("planned").obj, *copy);
    }
    assert_isomorphic(&g.heap, made.roots(), &map);

    // After live fix-up no live reference points to an original.
    g.heap.live_roots = g.roots.iter().map(|r| Value::Ref(*r)).collect();
    made.fix_up_live(&mut g.heap);
    for v in &g.heap.live_roots {
        if let Value::Ref(r) = v {
            assert!(!placed.contains(r), "live root still at original {r:?}");
        }
    }
    let live = reachable(&g.heap, &[]);
    assert!(live.is_empty());
    for copy in decoded {
        for (_, v) in &g.heap.get(copy).slots {
            if let Value::Ref(r) = v {
                assert!(!placed.contains(r), "frozen copy refers to original {r:?}");
            }
        }
    }
    TestResult::passed()
}

fn side_table<const W: u32>(spec: GraphSpec) -> TestResult {
    let g = Graph::<W>::build(&spec);
    let made = plan(&g.heap, &g.roots(), target_for::<W>()).expect("plan");
    check_plan(g, made)
}

fn in_object<const W: u32>(spec: GraphSpec) -> TestResult {
    let g = Graph::<W>::build(&spec);
    let made = plan_in_object(&g.heap, &g.roots(), target_for::<W>()).expect("plan");
    check_plan(g, made)
}

#[test]
fn placed_once_isomorphic_fixed_up_32_side_table() {
    qc().quickcheck(side_table::<4> as fn(GraphSpec) -> TestResult);
}

#[test]
fn placed_once_isomorphic_fixed_up_64_side_table() {
    qc().quickcheck(side_table::<8> as fn(GraphSpec) -> TestResult);
}

#[test]
fn placed_once_isomorphic_fixed_up_32_in_object() {
    qc().quickcheck(in_object::<4> as fn(GraphSpec) -> TestResult);
}

#[test]
fn placed_once_isomorphic_fixed_up_64_in_object() {
    qc().quickcheck(in_object::<8> as fn(GraphSpec) -> TestResult);
}

fn frozen_bytes<const W: u32>(spec: &GraphSpec) -> (Vec<Obj>, Vec<FrozenCopy>) {
    let g = Graph::<W>::build(spec);
    let made = plan(&g.heap, &g.roots(), target_for::<W>()).expect("plan");
    let order = made.flash_objects().chain(made.ram_objects()).collect();
    (order, write_all(&g.heap, &made).0)
}

#[test]
fn plan_is_deterministic() {
    fn prop(spec: GraphSpec) -> bool {
        frozen_bytes::<4>(&spec) == frozen_bytes::<4>(&spec)
            && frozen_bytes::<8>(&spec) == frozen_bytes::<8>(&spec)
    }
    qc().quickcheck(prop as fn(GraphSpec) -> bool);
}

#[test]
fn both_forwarding_stores_give_the_same_image() {
    fn prop(spec: GraphSpec) -> bool {
        let g = Graph::<4>::build(&spec);
        let a = plan(&g.heap, &g.roots(), target()).expect("plan");
        let b = plan_in_object(&g.heap, &g.roots(), target()).expect("plan");
        write_all(&g.heap, &a).0 == write_all(&g.heap, &b).0
    }
    qc().quickcheck(prop as fn(GraphSpec) -> bool);
}

/// Make one reachable heap object unfreezable; planning must fail with its path and leave the
/// heap exactly as it was (no in-object marks left behind).
fn rejected(spec: GraphSpec, pick: usize) -> TestResult {
    let mut g = Graph::<4>::build(&spec);
    let reach: Vec<Obj> = reachable(&g.heap, &g.roots).into_iter().collect();
    if reach.is_empty() {
        return TestResult::discard();
    }
    let victim = reach[pick % reach.len()];
    // Rebuild the victim as unfreezable: same slots and payload, new kind.
    let o = g.heap.get(victim).clone();
    let replacement = g
        .heap
        .alloc_with(Kind::Unfreezable, o.slots.clone(), o.payload.clone());
    for i in 0..g.heap.len() as u32 {
        let slots = g.heap.get(Obj(i)).slots.clone();
        for (s, (_, v)) in slots.iter().enumerate() {
            if *v == Value::Ref(victim) {
                g.heap.set_slot(Obj(i), s, Value::Ref(replacement));
            }
        }
    }
    for r in &mut g.roots {
        if *r == victim {
            *r = replacement;
        }
    }
    let before: Vec<_> = (0..g.heap.len() as u32)
        .map(|i| g.heap.get(Obj(i)).clone())
        .collect();
    for result in [
        plan(&g.heap, &g.roots(), target()).map(|_| ()),
        plan_in_object(&g.heap, &g.roots(), target()).map(|_| ()),
    ] {
        match result {
            Err(FreezeError::Unfreezable { path, reason, .. }) => {
                assert!(path.starts_with("mod"), "path {path}");
                assert_eq!(reason, "holds a native handle");
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        for i in 0..g.heap.len() as u32 {
            assert_eq!(
                g.heap.forwarding(Obj(i)),
                Forwarding::Unmarked,
                "mark left on {i}"
            );
            assert_eq!(*g.heap.get(Obj(i)), before[i as usize]);
        }
    }
    TestResult::passed()
}

#[test]
fn rejected_object_fails_whole_plan_and_changes_nothing() {
    qc().quickcheck(rejected as fn(GraphSpec, usize) -> TestResult);
}

#[test]
fn in_object_release_unmarks_everything() {
    fn prop(spec: GraphSpec) -> bool {
        let g = Graph::<4>::build(&spec);
        let made = plan_in_object(&g.heap, &g.roots(), target()).expect("plan");
        made.release(&g.heap);
        (0..g.heap.len() as u32).all(|i| g.heap.forwarding(Obj(i)) == Forwarding::Unmarked)
    }
    qc().quickcheck(prop as fn(GraphSpec) -> bool);
}
