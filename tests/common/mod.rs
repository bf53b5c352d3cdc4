//! Shared helpers for the integration tests: random graphs over the reference model and
//! independent checks of a plan (written without the library's traversal).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use flashfreeze::plan::ForwardingTable;
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::{ObjectModel, Placement, Plan, PlanRoot, Root, RootKind, Space, Target};
use quickcheck::{Arbitrary, Gen};

/// A recipe for a random graph: kinds and slot targets given as indices.
#[derive(Clone, Debug)]
pub struct GraphSpec {
    pub kinds: Vec<Kind>,
    /// Slots per object: `Ok(i)` a reference to object `i % n`, `Err(v)` an immediate.
    pub slots: Vec<Vec<Result<usize, i16>>>,
    pub payload: Vec<u8>,
    pub roots: Vec<usize>,
    /// Extra chain length appended below the first root (deep graphs).
    pub chain: usize,
}

impl Arbitrary for GraphSpec {
    fn arbitrary(g: &mut Gen) -> Self {
        let n = 1 + usize::arbitrary(g) % 60;
        let kinds = (0..n)
            .map(|_| match u8::arbitrary(g) % 10 {
                0 | 1 => Kind::Mutable,
                2 => Kind::Static,
                3 => Kind::Frozen,
                _ => Kind::Immutable,
            })
            .collect();
        let slots = (0..n)
            .map(|_| {
                let k = usize::arbitrary(g) % 6;
                (0..k)
                    .map(|_| {
                        if bool::arbitrary(g) || bool::arbitrary(g) {
                            Ok(usize::arbitrary(g))
                        } else {
                            Err(i16::arbitrary(g))
                        }
                    })
                    .collect()
            })
            .collect();
        let roots = (0..1 + usize::arbitrary(g) % 3)
            .map(|_| usize::arbitrary(g))
            .collect();
        let chain = if u8::arbitrary(g) % 8 == 0 {
            usize::arbitrary(g) % if cfg!(miri) { 40 } else { 500 }
        } else {
            0
        };
        let payload = Vec::<u8>::arbitrary(g).into_iter().take(13).collect();
        GraphSpec {
            kinds,
            slots,
            payload,
            roots,
            chain,
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let mut smaller = Vec::new();
        if self.chain > 0 {
            smaller.push(GraphSpec {
                chain: 0,
                ..self.clone()
            });
        }
        if self.kinds.len() > 1 {
            let n = self.kinds.len() - 1;
            smaller.push(GraphSpec {
                kinds: self.kinds[..n].to_vec(),
                slots: self.slots[..n].to_vec(),
                ..self.clone()
            });
        }
        Box::new(smaller.into_iter())
    }
}

/// A built graph: the heap and its roots.
pub struct Graph<const W: u32> {
    pub heap: TestHeap<W>,
    pub roots: Vec<Obj>,
    pub names: Vec<String>,
}

impl<const W: u32> Graph<W> {
    pub fn build(spec: &GraphSpec) -> Self {
        let mut heap = TestHeap::<W>::new();
        let n = spec.kinds.len();
        let ids: Vec<Obj> = spec
            .kinds
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let payload = spec
                    .payload
                    .iter()
                    .map(|b| b.wrapping_add(i as u8))
                    .take(i % 7)
                    .collect();
                heap.alloc_with(*k, Vec::new(), payload)
            })
            .collect();
        for (i, slots) in spec.slots.iter().enumerate() {
            for (j, s) in slots.iter().enumerate() {
                let value = match s {
                    Ok(t) => Value::Ref(ids[t % n]),
                    Err(v) => Value::Int(i32::from(*v)),
                };
                let label = format!("s{j}");
                heap.push_slot(ids[i], Some(&label), value);
            }
        }
        let mut roots: Vec<Obj> = spec.roots.iter().map(|r| ids[r % n]).collect();
        if spec.chain > 0 {
            let mut next = None;
            for _ in 0..spec.chain {
                next = Some(heap.alloc(Kind::Immutable, &[next]));
            }
            roots.push(next.unwrap());
        }
        let names = (0..roots.len()).map(|i| format!("mod{i}")).collect();
        Graph { heap, roots, names }
    }

    pub fn roots(&self) -> Vec<Root<'_, Obj>> {
        self.roots
            .iter()
            .zip(&self.names)
            .map(|(r, n)| Root::new(RootKind::MODULE, n, *r))
            .collect()
    }
}

pub fn target() -> Target {
    Target {
        flash_base: 0x1010_0040,
        flash_capacity: 1 << 24,
        ram_base: 0x2003_0000,
        ram_capacity: 1 << 20,
    }
}

pub fn target64() -> Target {
    Target {
        flash_base: 0x6100_0000_0040,
        flash_capacity: 1 << 24,
        ram_base: 0x6200_0000_0000,
        ram_capacity: 1 << 20,
    }
}

pub fn target_for<const W: u32>() -> Target {
    if W == 8 { target64() } else { target() }
}

/// Heap objects reachable from `roots`, found by a plain BFS over the model's own data.
pub fn reachable<const W: u32>(heap: &TestHeap<W>, roots: &[Obj]) -> BTreeSet<Obj> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<Obj> = roots.iter().copied().collect();
    while let Some(o) = queue.pop_front() {
        if heap.space(o) != Space::Heap || !seen.insert(o) {
            continue;
        }
        for (_, v) in &heap.get(o).slots {
            if let Value::Ref(t) = v {
                queue.push_back(*t);
            }
        }
    }
    seen
}

/// A frozen copy: address, placement, bytes.
pub type FrozenCopy = (u64, Placement, Vec<u8>);

/// Every planned object's frozen copy: (address, placement, bytes), plus the reference offsets.
pub fn write_all<const W: u32, T>(
    heap: &TestHeap<W>,
    plan: &Plan<Obj, T>,
) -> (Vec<FrozenCopy>, Vec<(u64, Vec<u32>)>)
where
    T: ForwardingTable<TestHeap<W>>,
{
    let mut copies = Vec::new();
    let mut refs = Vec::new();
    for planned in plan.objects(heap) {
        let planned = planned.expect("planned object");
        let mut bytes = vec![0; planned.layout.size as usize];
        let mut offsets = Vec::new();
        plan.write_object(heap, &planned, &mut bytes, &mut |o| offsets.push(o))
            .expect("write");
        copies.push((planned.address, planned.placement, bytes));
        refs.push((planned.address, offsets));
    }
    (copies, refs)
}

/// Check that the frozen copies decoded at `frozen` form a graph isomorphic to the original
/// reachable graph (kinds, payloads, immediates, sharing, kept references).
pub fn assert_isomorphic<const W: u32>(
    heap: &TestHeap<W>,
    roots: &[PlanRoot<Obj>],
    map: &BTreeMap<Obj, Obj>,
) {
    for (orig, copy) in map {
        let o = heap.get(*orig);
        let c = heap.get(*copy);
        assert_eq!(c.kind, Kind::Frozen);
        assert_eq!(c.frozen_from, Some(o.kind), "kind of {orig:?}");
        assert_eq!(c.payload, o.payload, "payload of {orig:?}");
        assert_eq!(c.slots.len(), o.slots.len());
        for ((_, ov), (_, cv)) in o.slots.iter().zip(&c.slots) {
            match (ov, cv) {
                (Value::Int(a), Value::Int(b)) => assert_eq!((a << 1) >> 1, *b),
                (Value::Ref(a), Value::Ref(b)) => {
                    let expect = if heap.space(*a) == Space::Heap {
                        map[a]
                    } else {
                        *a
                    };
                    assert_eq!(expect, *b, "slot of {orig:?}");
                }
                other => panic!("slot mismatch {other:?}"),
            }
        }
    }
    for r in roots {
        if heap.space(r.target) == Space::Heap {
            assert!(map.contains_key(&r.target));
        }
    }
}
