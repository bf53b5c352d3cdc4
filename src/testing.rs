//! A reference object model for tests, fuzzing and benchmarks (feature `testing`).
//!
//! [`TestHeap`] is a plain value holding a graph of objects of every kind the freezer must
//! handle: immutable and mutable heap objects, unfreezable ones, static (firmware) objects and
//! objects frozen by an earlier batch. Slots hold references or immediate integers (which the
//! freezer must leave alone). `W` is the reference width: `TestHeap<4>` models a VM with 32-bit
//! addresses, `TestHeap<8>` one with native 64-bit pointers (its heap lives above 4 GiB).
//!
//! Frozen layout of every heap object (little-endian):
//!
//! ```text
//! 0        4        8             8+W*n          8+W*n+p
//! ┌────────┬────────┬─────────────┬──────────────┐
//! │ tag u32│ n  u32 │ n slot words│ p payload    │   slot word = address, or (int<<1)|1
//! └────────┴────────┴─────────────┴──────────────┘
//! tag = kind code | placement bit (0x100 = placed in the RAM section)
//! ```
//!
//! [`Kind::Constant`] objects may merge when the freeze deduplicates: two of them with equal
//! payloads and equal slots (after forwarding) become one frozen copy.
//!
//! ```text
//! ```
//!
//! [`TestHeap::load_frozen`] decodes frozen copies back into objects of [`Space::Frozen`], so
//! tests can check that the frozen graph is isomorphic to the original.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

use crate::model::{
    Forward, Forwarding, FrozenLayout, InObjectForwarding, LiveHeap, Mutability, ObjectModel,
    Placement, RefEncoding, Slot, SlotVisitor, Space,
};

/// An object of a [`TestHeap`]: an index into its object table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Obj(pub u32);

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// A reference.
    Ref(Obj),
    /// An immediate integer (tagged, not a reference).
    Int(i32),
}

/// The kinds of the reference model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Heap, immutable: goes to flash.
    Immutable,
    /// Heap, mutable: goes to the RAM section.
    Mutable,
    /// Heap, cannot be frozen.
    Unfreezable,
    /// Firmware static: kept.
    Static,
    /// Frozen by an earlier batch (or decoded by [`TestHeap::load_frozen`]): kept.
    Frozen,
    /// Heap, immutable, and without identity: goes to flash, and may share one frozen copy
    /// with equal objects when the freeze deduplicates ([`ObjectModel::may_merge`]).
    Constant,
}

impl Kind {
    fn code(self) -> u32 {
        match self {
            Self::Immutable => 1,
            Self::Mutable => 2,
            Self::Unfreezable => 3,
            Self::Static => 4,
            Self::Frozen => 5,
            Self::Constant => 6,
        }
    }

    fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            1 => Self::Immutable,
            2 => Self::Mutable,
            3 => Self::Unfreezable,
            4 => Self::Static,
            5 => Self::Frozen,
            6 => Self::Constant,
            _ => return None,
        })
    }
}

/// One object of a [`TestHeap`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// Its kind.
    pub kind: Kind,
    /// Its address (heap, static range, or frozen image).
    pub address: u64,
    /// Its slots, each with an optional label for paths (`.name`).
    pub slots: Vec<(Option<String>, Value)>,
    /// Opaque payload bytes.
    pub payload: Vec<u8>,
    /// Kind code of the object it was frozen from (for decoded frozen objects).
    pub frozen_from: Option<Kind>,
    forwarding: Cell<Forwarding>,
}

/// Base of the modelled heap, statics and earlier-batch ranges, per reference width.
const fn bases(w: u32) -> (u64, u64, u64) {
    if w == 8 {
        (0x7f00_0000_0000, 0x5500_0000_0000, 0x6000_0000_0000)
    } else {
        (0x2000_0000, 0x0001_0000, 0x1008_0000)
    }
}

/// Heap granule: every heap object gets its own 16-byte-aligned address.
pub const GRANULE: u64 = 16;

/// The reference object model; `W` is the reference width in bytes (4 or 8).
#[derive(Clone, Debug, Default)]
pub struct TestHeap<const W: u32 = 4> {
    objects: Vec<Object>,
    by_address: BTreeMap<u64, Obj>,
    heap_next: u64,
    static_next: u64,
    frozen_next: u64,
    /// Live roots of the VM (its module table and stack), rewritten by the live fix-up.
    pub live_roots: Vec<Value>,
    /// The frozen RAM area ([`LiveHeap::ram_area`]): empty until the VM is given one (a
    /// freeze needs at least the layout's `ram_len` bytes).
    pub ram_area: Vec<u8>,
    /// Addresses the live fix-up asked references for before the heap knew an object there.
    stand_ins: core::cell::RefCell<Vec<u64>>,
}

/// Ids at and above this are stand-ins handed out by `frozen_ref` during a fix-up.
const STAND_IN: u32 = 0x8000_0000;

impl<const W: u32> TestHeap<W> {
    /// An empty heap.
    pub fn new() -> Self {
        let (heap, stat, frozen) = bases(W);
        Self {
            objects: Vec::new(),
            by_address: BTreeMap::new(),
            heap_next: heap,
            static_next: stat,
            frozen_next: frozen,
            live_roots: Vec::new(),
            ram_area: Vec::new(),
            stand_ins: core::cell::RefCell::new(Vec::new()),
        }
    }

    /// Allocate an object with unlabelled reference slots (`None` = the immediate 0).
    pub fn alloc(&mut self, kind: Kind, refs: &[Option<Obj>]) -> Obj {
        let slots = refs
            .iter()
            .map(|r| (None, r.map_or(Value::Int(0), Value::Ref)))
            .collect();
        self.alloc_with(kind, slots, Vec::new())
    }

    /// Allocate an object with the given slots and payload.
    pub fn alloc_with(
        &mut self,
        kind: Kind,
        slots: Vec<(Option<String>, Value)>,
        payload: Vec<u8>,
    ) -> Obj {
        let id = Obj(self.objects.len() as u32);
        let size = 8 + u64::from(W) * slots.len() as u64 + payload.len() as u64;
        let address = match kind {
            Kind::Static => bump(&mut self.static_next, size),
            Kind::Frozen => bump(&mut self.frozen_next, size),
            _ => bump(&mut self.heap_next, size),
        };
        self.by_address.insert(address, id);
        self.objects.push(Object {
            kind,
            address,
            slots,
            payload,
            frozen_from: None,
            forwarding: Cell::new(Forwarding::Unmarked),
        });
        id
    }

    /// Replace slot `index` of `obj`.
    pub fn set_slot(&mut self, obj: Obj, index: usize, value: Value) {
        self.objects[obj.0 as usize].slots[index].1 = value;
    }

    /// Append a slot to `obj`.
    pub fn push_slot(&mut self, obj: Obj, label: Option<&str>, value: Value) {
        self.objects[obj.0 as usize]
            .slots
            .push((label.map(String::from), value));
    }

    /// The object `obj`.
    pub fn get(&self, obj: Obj) -> &Object {
        &self.objects[obj.0 as usize]
    }

    /// Number of objects (all spaces).
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the heap has no objects.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The object at `address`, if any.
    pub fn at(&self, address: u64) -> Option<Obj> {
        self.by_address.get(&address).copied()
    }

    /// Decode frozen copies (address, placement, bytes) into [`Kind::Frozen`] objects; slot
    /// words that hold addresses are resolved against every object known after the decode.
    /// Returns the new objects in the order given, or a description of the first bad copy.
    pub fn load_frozen(
        &mut self,
        copies: &[(u64, Placement, Vec<u8>)],
    ) -> Result<Vec<Obj>, String> {
        let w = W as usize;
        let mut raw = Vec::new();
        for (address, _placement, bytes) in copies {
            let word = |at: usize| -> Result<u64, String> {
                let b = bytes
                    .get(at..at + 4)
                    .ok_or_else(|| alloc::format!("{address:#x}: truncated"))?;
                Ok(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            };
            let tag = word(0)?;
            let n = word(4)? as usize;
            let kind = Kind::from_code((tag & 0xff) as u32)
                .ok_or_else(|| alloc::format!("{address:#x}: bad tag {tag:#x}"))?;
            let mut words = Vec::with_capacity(n);
            for i in 0..n {
                let at = 8 + i * w;
                let b = bytes
                    .get(at..at + w)
                    .ok_or_else(|| alloc::format!("{address:#x}: slot {i} truncated"))?;
                let mut v = [0u8; 8];
                v[..w].copy_from_slice(b);
                words.push(u64::from_le_bytes(v));
            }
            let payload = bytes.get(8 + n * w..).unwrap_or(&[]).to_vec();
            let id = Obj(self.objects.len() as u32);
            self.by_address.insert(*address, id);
            self.objects.push(Object {
                kind: Kind::Frozen,
                address: *address,
                slots: Vec::new(),
                payload,
                frozen_from: Some(kind),
                forwarding: Cell::new(Forwarding::Unmarked),
            });
            raw.push((id, words));
        }
        let mut out = Vec::new();
        for (id, words) in raw {
            let mut slots = Vec::new();
            for word in words {
                let value = if word & 1 == 1 {
                    // Immediates are (int << 1) | 1 in the low 32 bits.
                    Value::Int(((word as u32) as i32) >> 1)
                } else {
                    Value::Ref(
                        self.at(word)
                            .ok_or_else(|| alloc::format!("dangling {word:#x}"))?,
                    )
                };
                slots.push((None, value));
            }
            self.objects[id.0 as usize].slots = slots;
            out.push(id);
        }
        Ok(out)
    }
}

fn bump(next: &mut u64, size: u64) -> u64 {
    let at = *next;
    *next += size.div_ceil(GRANULE) * GRANULE;
    at
}

impl<const W: u32> ObjectModel for TestHeap<W> {
    type Ref = Obj;
    const ENCODING: RefEncoding = RefEncoding::address(W);

    fn space(&self, obj: Obj) -> Space {
        match self.get(obj).kind {
            Kind::Static => Space::Static,
            Kind::Frozen => Space::Frozen,
            _ => Space::Heap,
        }
    }

    fn address(&self, obj: Obj) -> u64 {
        self.get(obj).address
    }

    fn mutability(&self, obj: Obj) -> Mutability {
        match self.get(obj).kind {
            Kind::Mutable => Mutability::Mutable,
            Kind::Unfreezable => Mutability::Unfreezable("holds a native handle"),
            _ => Mutability::Immutable,
        }
    }

    fn frozen_layout(&self, obj: Obj) -> FrozenLayout {
        let o = self.get(obj);
        FrozenLayout {
            size: 8 + W * o.slots.len() as u32 + o.payload.len() as u32,
            align: W,
        }
    }

    fn scan(&self, obj: Obj, visitor: &mut dyn SlotVisitor<Obj>) {
        for (i, (_, value)) in self.get(obj).slots.iter().enumerate() {
            let target = match value {
                Value::Ref(r) => Some(*r),
                Value::Int(_) => None,
            };
            visitor.visit(Slot::new(8 + W * i as u32, target));
        }
    }

    fn write_frozen(&self, obj: Obj, placement: Placement, out: &mut [u8]) {
        let o = self.get(obj);
        let ram = if placement == Placement::Ram {
            0x100
        } else {
            0
        };
        let Some(header) = out.get_mut(..8) else {
            return;
        };
        header[0..4].copy_from_slice(&(o.kind.code() | ram).to_le_bytes());
        header[4..8].copy_from_slice(&(o.slots.len() as u32).to_le_bytes());
        let w = W as usize;
        for (i, (_, value)) in o.slots.iter().enumerate() {
            if let (Value::Int(n), Some(word)) = (value, out.get_mut(8 + i * w..8 + i * w + 4)) {
                let tagged = ((*n as u32) << 1) | 1;
                word.copy_from_slice(&tagged.to_le_bytes());
            }
        }
        let p = 8 + w * o.slots.len();
        // `out` is exactly the frozen size; copy defensively all the same (a model wrapper in
        // the tests lies about sizes on purpose).
        for (dst, src) in out.iter_mut().skip(p).zip(&o.payload) {
            *dst = *src;
        }
    }

    fn heap_index(&self, obj: Obj) -> usize {
        ((self.get(obj).address - bases(W).0) / GRANULE) as usize
    }

    fn heap_index_limit(&self) -> usize {
        ((self.heap_next - bases(W).0) / GRANULE) as usize
    }

    fn kind_name(&self, obj: Obj) -> &'static str {
        match self.get(obj).kind {
            Kind::Immutable => "immutable",
            Kind::Mutable => "mutable",
            Kind::Unfreezable => "unfreezable",
            Kind::Static => "static",
            Kind::Frozen => "frozen",
            Kind::Constant => "constant",
        }
    }

    fn may_merge(&self, obj: Obj) -> bool {
        self.get(obj).kind == Kind::Constant
    }

    fn mergeable_frozen_kind(&self, frozen: &[u8]) -> Option<&'static str> {
        // The tag word of a flash copy: the kind code (placement bit clear).
        let tag = frozen.get(..4)?;
        (u32::from_le_bytes([tag[0], tag[1], tag[2], tag[3]]) == Kind::Constant.code())
            .then_some("constant")
    }

    fn interned_strs(&self, obj: Obj) -> u32 {
        u32::from(self.get(obj).payload.first() == Some(&b'q'))
    }

    fn edge_label(&self, obj: Obj, slot_index: u32, out: &mut dyn fmt::Write) -> fmt::Result {
        match self.get(obj).slots.get(slot_index as usize) {
            Some((Some(label), _)) => write!(out, ".{label}"),
            _ => write!(out, "[{slot_index}]"),
        }
    }
}

impl<const W: u32> InObjectForwarding for TestHeap<W> {
    fn forwarding(&self, obj: Obj) -> Forwarding {
        self.get(obj).forwarding.get()
    }

    fn set_forwarding(&self, obj: Obj, state: Forwarding) {
        self.get(obj).forwarding.set(state);
    }
}

impl<const W: u32> TestHeap<W> {
    /// Turn the stand-ins `frozen_ref` handed out into frozen objects, and every reference to
    /// one into a reference to its object.
    fn materialize_stand_ins(&mut self) {
        let addresses = core::mem::take(&mut *self.stand_ins.borrow_mut());
        if addresses.is_empty() {
            return;
        }
        let ids: Vec<Obj> = addresses
            .iter()
            .map(|&address| {
                let id = Obj(self.objects.len() as u32);
                self.by_address.insert(address, id);
                self.objects.push(Object {
                    kind: Kind::Frozen,
                    address,
                    slots: Vec::new(),
                    payload: Vec::new(),
                    frozen_from: None,
                    forwarding: Cell::new(Forwarding::Unmarked),
                });
                id
            })
            .collect();
        let real = |v: &mut Value| {
            if let Value::Ref(Obj(i)) = v {
                if *i >= STAND_IN {
                    *v = Value::Ref(ids[(*i - STAND_IN) as usize]);
                }
            }
        };
        self.live_roots.iter_mut().for_each(real);
        for o in &mut self.objects {
            o.slots.iter_mut().for_each(|(_, v)| real(v));
        }
    }
}

impl<const W: u32> LiveHeap for TestHeap<W> {
    fn rewrite_live_refs(&mut self, forward: &mut Forward<'_, Self>) {
        self.visit_live_refs(forward);
        self.materialize_stand_ins();
    }

    fn frozen_ref(&self, address: u64) -> Obj {
        LiveRefs::frozen_ref(self, address)
    }

    fn ram_area(&mut self) -> &mut [u8] {
        &mut self.ram_area
    }
}

/// The fix-up's visits and `frozen_ref`, apart from the stand-ins' bookkeeping.
trait LiveRefs: ObjectModel {
    fn visit_live_refs(&mut self, forward: &mut Forward<'_, Self>);
    fn frozen_ref(&self, address: u64) -> Self::Ref;
}

impl<const W: u32> LiveRefs for TestHeap<W> {
    fn visit_live_refs(&mut self, forward: &mut Forward<'_, Self>) {
        for i in 0..self.live_roots.len() {
            if let Value::Ref(r) = self.live_roots[i] {
                if let Some(new) = forward(self, r) {
                    self.live_roots[i] = Value::Ref(new);
                }
            }
        }
        for o in 0..self.objects.len() {
            // Kept objects' slots are outside the heap: the VM could not write them either.
            if matches!(self.objects[o].kind, Kind::Static | Kind::Frozen) {
                continue;
            }
            for s in 0..self.objects[o].slots.len() {
                if let Value::Ref(r) = self.objects[o].slots[s].1 {
                    if let Some(new) = forward(self, r) {
                        self.objects[o].slots[s].1 = Value::Ref(new);
                    }
                }
            }
        }
    }

    fn frozen_ref(&self, address: u64) -> Obj {
        // The frozen copies this heap was given ([`TestHeap::load_frozen`]); else a stand-in,
        // made a `Kind::Frozen` object without slots at the end of the fix-up (as a VM whose
        // references are addresses needs nothing more).
        if let Some(obj) = self.at(address) {
            return obj;
        }
        let mut s = self.stand_ins.borrow_mut();
        let i = s.iter().position(|&a| a == address).unwrap_or_else(|| {
            s.push(address);
            s.len() - 1
        });
        Obj(STAND_IN + i as u32)
    }
}
