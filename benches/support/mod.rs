//! Shared by the benches: a compact synthetic VM heap ([`Graph`]), the freeze paths being
//! measured (flashfreeze streaming, flashfreeze through the store, and a naive baseline), and a
//! counting allocator for peak-memory figures.
//!
//! The graph is built once per size, outside every timed region. Its heap looks like an
//! interpreter's after importing modules:
//!
//! ```text
//! module ─► globals dict ─► function ─► code ─► consts tuple ─► str / int / None(static)
//!   ▲            │   ▲          │  └──► qstrs (shared pool)
//!   │            │   └──────────┘ (function.globals: a cycle)
//!   │            ├─► class ─► locals dict ─► methods (functions)  ─► bases: Exception(static)
//!   │            ├─► str / tuple constants, a mutable list or dict (goes to the RAM section)
//!   └────────────┴─► an earlier module (import: sharing)
//! root "sys.modules" ─► table chunk ─► 63 table chunks ─► 63 modules   (a tree, 2–3 levels)
//! root "qstrs"       ─► pool chunk ─► 63 qstrs … ─► next pool chunk ─► … (a chain)
//! ```
//!
//! About 1 object in 200 is mutable (0.1 % of the bytes); every object is reachable.
//!
//! Frozen layout of every object (little-endian, 4-byte aligned, 32-bit references):
//!
//! ```text
//! 0         4         8               8+4n        8+4n+p
//! ┌─────────┬─────────┬───────────────┬───────────┐
//! │ tag u32 │ n u32   │ n slots, u32  │ p payload │   tag = kind | n << 8 | RAM bit 1 << 31
//! └─────────┴─────────┴───────────────┴───────────┘   slot = address, or (int << 1) | 1
//! ```
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flashfreeze::image::ReadConfig;
use flashfreeze::plan::ForwardingTable;
use flashfreeze::sim::SimFlash;
use flashfreeze::store::{Appended, Store, StoreConfig};
use flashfreeze::{
    Forwarding, FrozenLayout, InObjectForwarding, Mutability, ObjectModel, Placement, Plan, Root,
    RootKind, Slot, SlotVisitor, Space, Target,
};

/// A heap object of the synthetic VM: an index into [`Graph`]'s tables.
pub type Obj = u32;

/// Object kinds (the tag's low byte).
pub mod kind {
    /// Firmware static (None, True, builtin types): kept, never copied.
    pub const STATIC: u8 = 0;
    /// A module object.
    pub const MODULE: u8 = 1;
    /// A fixed dict (globals, class locals): key/value slot pairs.
    pub const DICT: u8 = 2;
    /// A function: name, code, globals, defaults.
    pub const FUN: u8 = 3;
    /// A code object: bytecode payload, consts tuple and qstr operands.
    pub const CODE: u8 = 4;
    /// An interned string.
    pub const QSTR: u8 = 5;
    /// A plain string constant.
    pub const STR: u8 = 6;
    /// A tuple.
    pub const TUPLE: u8 = 7;
    /// A class: name, bases, locals.
    pub const CLASS: u8 = 8;
    /// A mutable list or dict (the RAM section).
    pub const MUTABLE: u8 = 9;
    /// A chunk of the interned-string pool.
    pub const POOL: u8 = 10;
}

const NAMES: [&str; 11] = [
    "static", "module", "dict", "function", "code", "qstr", "str", "tuple", "class", "mutable",
    "pool",
];

/// Where the synthetic heap, statics and image live.
pub const HEAP_BASE: u64 = 0x2000_0000;
/// Base of the statics (firmware).
pub const STATIC_BASE: u64 = 0x0001_0000;
/// The statics' address range.
pub const STATIC_RANGE: std::ops::Range<u64> = STATIC_BASE..STATIC_BASE + 0x1_0000;
/// The static ranges a mounted image's pointers may point into (the firmware's).
pub const STATICS: &[std::ops::Range<u64>] = &[STATIC_RANGE];
/// MicroPython's allocation unit.
pub const BLOCK: u64 = 16;

/// A compact heap graph, immutable once built (about 55 bytes per object: tables + payload).
#[derive(Default)]
pub struct Graph {
    kind: Vec<u8>,
    /// Start of the object's slot words in `slots`; its slot count is `start[i+1] - start[i]`.
    start: Vec<u32>,
    slots: Vec<u32>,
    /// Start of the payload in `payload` (same scheme).
    pstart: Vec<u32>,
    payload: Vec<u8>,
    /// Heap block index (heap objects) or static address offset.
    block: Vec<u32>,
    /// The in-object forwarding word: 0 unmarked, 1 marked, else the frozen address.
    fwd: Vec<Cell<u32>>,
    heap_blocks: u32,
    /// Module objects, in import order.
    pub modules: Vec<Obj>,
    /// Top of the loaded-modules table (`sys.modules`: a tree of chunks of 63 modules).
    pub module_table: Obj,
    /// First chunk of the qstr pool.
    pub pool: Obj,
    /// Heap objects (all reachable from the roots).
    pub heap_objects: usize,
    /// Sum of the heap objects' frozen sizes (no padding).
    pub frozen_bytes: u64,
    /// Sum of the heap objects' heap footprint (whole 16-byte blocks).
    pub heap_bytes: u64,
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }
    /// True with probability `pct` %.
    pub fn pct(&mut self, pct: u32) -> bool {
        self.next() % 100 < u64::from(pct)
    }
}

/// A slot value.
#[derive(Clone, Copy)]
enum V {
    R(Obj),
    I(i32),
}

fn enc(v: V) -> u32 {
    match v {
        V::R(o) => o << 1,
        V::I(n) => ((n as u32) << 1) | 1,
    }
}

impl Graph {
    fn alloc(&mut self, k: u8, slots: &[V], payload_len: usize, rng: &mut Rng) -> Obj {
        let id = self.kind.len() as Obj;
        self.kind.push(k);
        self.start.push(self.slots.len() as u32);
        self.slots.extend(slots.iter().map(|v| enc(*v)));
        self.pstart.push(self.payload.len() as u32);
        let seed = rng.next();
        self.payload
            .extend((0..payload_len).map(|i| (seed >> (i % 8 * 8)) as u8 ^ i as u8));
        self.fwd.push(Cell::new(0));
        let size = 8 + 4 * slots.len() as u64 + payload_len as u64;
        if k == kind::STATIC {
            self.block.push(id);
        } else {
            self.block.push(self.heap_blocks);
            // Header word in the heap (the freezer drops it): MicroPython's GC block granularity.
            let blocks = (size + 4).div_ceil(BLOCK);
            self.heap_blocks += blocks as u32;
            self.heap_objects += 1;
            self.frozen_bytes += size;
            self.heap_bytes += blocks * BLOCK;
        }
        id
    }

    /// Set slot `i` of `obj` (used to close cycles after both ends exist).
    fn set(&mut self, obj: Obj, i: usize, v: V) {
        let s = self.start[obj as usize] as usize;
        self.slots[s + i] = enc(v);
    }

    fn finish(&mut self) {
        self.start.push(self.slots.len() as u32);
        self.pstart.push(self.payload.len() as u32);
    }

    fn slot_range(&self, obj: Obj) -> std::ops::Range<usize> {
        self.start[obj as usize] as usize..self.start[obj as usize + 1] as usize
    }

    fn payload_of(&self, obj: Obj) -> &[u8] {
        &self.payload[self.pstart[obj as usize] as usize..self.pstart[obj as usize + 1] as usize]
    }

    /// Number of slots of all objects (statics have none).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Number of objects, statics included.
    pub fn len(&self) -> usize {
        self.kind.len()
    }

    /// The roots: the loaded-modules table, then the qstr pool (a VM names a few roots).
    pub fn roots(&self) -> Vec<Root<'static, Obj>> {
        vec![
            Root::new(RootKind::OTHER, "sys.modules", self.module_table),
            Root::new(RootKind::QSTR_POOL, "qstrs", self.pool),
        ]
    }

    /// Clear every in-object forwarding word (a failed or dropped in-object plan leaves none,
    /// but a bench that does not release must reset).
    pub fn reset_forwarding(&self) {
        self.fwd.iter().for_each(|c| c.set(0));
    }

    /// Build a graph of about `n` heap objects (a little more: whole modules).
    pub fn build(n: usize) -> Self {
        let mut g = Graph::default();
        let mut rng = Rng::new(0x5EED ^ n as u64);
        // Firmware statics: None, True, False, Exception, object, …
        let statics: Vec<Obj> = (0..32)
            .map(|_| g.alloc(kind::STATIC, &[], 0, &mut rng))
            .collect();
        let none = statics[0];
        // The interned strings: one per ~12 objects, shared by every module.
        let nq = (n / 12).max(16);
        let qstrs: Vec<Obj> = (0..nq)
            .map(|_| {
                let len = rng.range(3, 16) as usize;
                g.alloc(kind::QSTR, &[], len, &mut rng)
            })
            .collect();
        g.pool = g.chain(&qstrs, none, &mut rng);
        let q = |rng: &mut Rng| V::R(qstrs[rng.range(0, nq as u32 - 1) as usize]);

        while g.heap_objects < n {
            let mut entries: Vec<V> = Vec::new();
            let mut funs_needing_globals = Vec::new();
            let entry_count = rng.range(6, 24);
            for _ in 0..entry_count {
                entries.push(q(&mut rng));
                let roll = rng.range(0, 99);
                let value = if roll < 55 {
                    let f = g.function(&mut rng, &qstrs, &statics);
                    funs_needing_globals.push(f);
                    V::R(f)
                } else if roll < 70 {
                    // A class with 2–8 methods.
                    let mut locals = Vec::new();
                    for _ in 0..rng.range(2, 8) {
                        locals.push(q(&mut rng));
                        let f = g.function(&mut rng, &qstrs, &statics);
                        funs_needing_globals.push(f);
                        locals.push(V::R(f));
                    }
                    let dict = g.alloc(kind::DICT, &locals, 0, &mut rng);
                    let base = if rng.pct(30) { statics[3] } else { statics[4] };
                    let bases = g.alloc(kind::TUPLE, &[V::R(base)], 0, &mut rng);
                    V::R(g.alloc(
                        kind::CLASS,
                        &[q(&mut rng), V::R(bases), V::R(dict)],
                        0,
                        &mut rng,
                    ))
                } else if roll < 80 {
                    let len = rng.range(4, 48) as usize;
                    V::R(g.alloc(kind::STR, &[], len, &mut rng))
                } else if roll < 88 {
                    V::I(rng.range(0, 1000) as i32)
                } else if roll < 93 {
                    let items: Vec<V> = (0..rng.range(1, 4)).map(|_| q(&mut rng)).collect();
                    V::R(g.alloc(kind::TUPLE, &items, 0, &mut rng))
                } else if roll < 96 && !g.modules.is_empty() {
                    // `import othermod`: share an earlier module.
                    let m = g.modules[rng.range(0, g.modules.len() as u32 - 1) as usize];
                    V::R(m)
                } else if roll < 98 {
                    // A mutable global (a cache dict or a counter list): goes to the RAM section.
                    let items: Vec<V> = (0..rng.range(0, 3)).map(|_| V::I(0)).collect();
                    V::R(g.alloc(kind::MUTABLE, &items, 0, &mut rng))
                } else {
                    V::R(none)
                };
                entries.push(value);
            }
            let globals = g.alloc(kind::DICT, &entries, 0, &mut rng);
            for f in funs_needing_globals {
                g.set(f, 2, V::R(globals));
            }
            let name = q(&mut rng);
            let module = g.alloc(kind::MODULE, &[name, V::R(globals)], 0, &mut rng);
            g.modules.push(module);
        }
        let modules = std::mem::take(&mut g.modules);
        g.module_table = g.table(&modules, &mut rng);
        g.modules = modules;
        g.finish();
        g
    }

    /// One module whose global `queue` is a linked list of `n` mutable nodes (a deque, a task
    /// queue): every node goes to the RAM section, each one level deeper than the last.
    pub fn mutable_chain(n: usize) -> Self {
        let mut g = Graph::default();
        let mut rng = Rng::new(0xC4A1 ^ n as u64);
        let none = g.alloc(kind::STATIC, &[], 0, &mut rng);
        let qstrs: Vec<Obj> = (0..2)
            .map(|_| g.alloc(kind::QSTR, &[], 5, &mut rng))
            .collect();
        g.pool = g.chain(&qstrs, none, &mut rng);
        let mut next = none;
        for i in 0..n {
            next = g.alloc(kind::MUTABLE, &[V::I(i as i32), V::R(next)], 0, &mut rng);
        }
        let globals = g.alloc(kind::DICT, &[V::R(qstrs[1]), V::R(next)], 0, &mut rng);
        let module = g.alloc(kind::MODULE, &[V::R(qstrs[0]), V::R(globals)], 0, &mut rng);
        g.modules.push(module);
        g.module_table = g.table(&[module], &mut rng);
        g.finish();
        g
    }

    /// A table of `items` as a tree of chunks of up to 63 refs (like a hash table's buckets:
    /// a few levels deep); returns the top chunk.
    fn table(&mut self, items: &[Obj], rng: &mut Rng) -> Obj {
        let mut level: Vec<Obj> = items.to_vec();
        loop {
            let up: Vec<Obj> = level
                .chunks(63)
                .map(|c| {
                    let s: Vec<V> = c.iter().map(|o| V::R(*o)).collect();
                    self.alloc(kind::POOL, &s, 0, rng)
                })
                .collect();
            if up.len() == 1 {
                return up[0];
            }
            level = up;
        }
    }

    /// A table of `items` as a chain of chunks of 63 refs and a link to the next chunk (the
    /// shape of MicroPython's qstr pools); returns the first chunk.
    fn chain(&mut self, items: &[Obj], none: Obj, rng: &mut Rng) -> Obj {
        let mut next = none;
        for chunk in items.chunks(63).rev() {
            let mut s: Vec<V> = chunk.iter().map(|o| V::R(*o)).collect();
            s.push(V::R(next));
            next = self.alloc(kind::POOL, &s, 0, rng);
        }
        next
    }

    /// A function with its code object, consts and qstr operands; slot 2 (globals) is filled
    /// in by the caller once the module's dict exists.
    fn function(&mut self, rng: &mut Rng, qstrs: &[Obj], statics: &[Obj]) -> Obj {
        let nq = qstrs.len() as u32;
        let mut consts = Vec::new();
        for _ in 0..rng.range(0, 4) {
            consts.push(match rng.range(0, 9) {
                0..=3 => {
                    let len = rng.range(4, 40) as usize;
                    V::R(self.alloc(kind::STR, &[], len, rng))
                }
                4..=6 => V::I(rng.range(0, 100_000) as i32),
                7 => V::R(statics[0]),
                _ => V::R(qstrs[rng.range(0, nq - 1) as usize]),
            });
        }
        let consts = if consts.is_empty() {
            V::R(statics[0])
        } else {
            V::R(self.alloc(kind::TUPLE, &consts, 0, rng))
        };
        let mut code_slots = vec![consts];
        for _ in 0..rng.range(1, 6) {
            code_slots.push(V::R(qstrs[rng.range(0, nq - 1) as usize]));
        }
        let bytecode = rng.range(12, 160) as usize;
        let code = self.alloc(kind::CODE, &code_slots, bytecode, rng);
        let defaults = if rng.pct(25) {
            let d: Vec<V> = (0..rng.range(1, 3)).map(|_| V::I(0)).collect();
            V::R(self.alloc(kind::TUPLE, &d, 0, rng))
        } else {
            V::R(statics[0])
        };
        let name = V::R(qstrs[rng.range(0, nq - 1) as usize]);
        self.alloc(kind::FUN, &[name, V::R(code), V::I(0), defaults], 0, rng)
    }
}

impl ObjectModel for Graph {
    type Ref = Obj;
    const ENCODING: flashfreeze::RefEncoding = flashfreeze::RefEncoding::ADDRESS_32;

    #[inline]
    fn space(&self, obj: Obj) -> Space {
        if self.kind[obj as usize] == kind::STATIC {
            Space::Static
        } else {
            Space::Heap
        }
    }

    #[inline]
    fn address(&self, obj: Obj) -> u64 {
        match self.kind[obj as usize] {
            kind::STATIC => STATIC_BASE + u64::from(self.block[obj as usize]) * BLOCK,
            _ => HEAP_BASE + u64::from(self.block[obj as usize]) * BLOCK,
        }
    }

    #[inline]
    fn mutability(&self, obj: Obj) -> Mutability {
        if self.kind[obj as usize] == kind::MUTABLE {
            Mutability::Mutable
        } else {
            Mutability::Immutable
        }
    }

    #[inline]
    fn frozen_layout(&self, obj: Obj) -> FrozenLayout {
        let i = obj as usize;
        let n = self.start[i + 1] - self.start[i];
        let p = self.pstart[i + 1] - self.pstart[i];
        FrozenLayout::new(8 + 4 * n + p, 4)
    }

    #[inline]
    fn scan(&self, obj: Obj, visitor: &mut dyn SlotVisitor<Obj>) {
        for (i, word) in self.slots[self.slot_range(obj)].iter().enumerate() {
            let target = (word & 1 == 0).then_some(word >> 1);
            visitor.visit(Slot::new(8 + 4 * i as u32, target));
        }
    }

    #[inline]
    fn write_frozen(&self, obj: Obj, placement: Placement, out: &mut [u8]) {
        let range = self.slot_range(obj);
        let n = range.len();
        let ram = if placement == Placement::Ram {
            1 << 31
        } else {
            0
        };
        let tag = u32::from(self.kind[obj as usize]) | ((n as u32) << 8) | ram;
        if out.len() < 8 + 4 * n {
            return;
        }
        out[0..4].copy_from_slice(&tag.to_le_bytes());
        out[4..8].copy_from_slice(&(n as u32).to_le_bytes());
        for (i, word) in self.slots[range].iter().enumerate() {
            if word & 1 == 1 {
                out[8 + 4 * i..12 + 4 * i].copy_from_slice(&word.to_le_bytes());
            }
        }
        let p = self.payload_of(obj);
        if let Some(dst) = out.get_mut(8 + 4 * n..8 + 4 * n + p.len()) {
            dst.copy_from_slice(p);
        }
    }

    #[inline]
    fn heap_index(&self, obj: Obj) -> usize {
        self.block[obj as usize] as usize
    }

    #[inline]
    fn heap_index_limit(&self) -> usize {
        self.heap_blocks as usize
    }

    fn kind_name(&self, obj: Obj) -> &'static str {
        NAMES[self.kind[obj as usize] as usize]
    }

    fn interned_strs(&self, obj: Obj) -> u32 {
        u32::from(self.kind[obj as usize] == kind::QSTR)
    }
}

impl InObjectForwarding for Graph {
    #[inline]
    fn forwarding(&self, obj: Obj) -> Forwarding {
        match self.fwd[obj as usize].get() {
            0 => Forwarding::Unmarked,
            1 => Forwarding::Marked,
            a => Forwarding::Forwarded(u64::from(a)),
        }
    }

    #[inline]
    fn set_forwarding(&self, obj: Obj, state: Forwarding) {
        let word = match state {
            Forwarding::Unmarked => 0,
            Forwarding::Marked => 1,
            // Image addresses are far above 1 and below 4 GiB (32-bit VM).
            Forwarding::Forwarded(a) => a as u32,
        };
        self.fwd[obj as usize].set(word);
    }
}

/// Whether the binary runs as a benchmark (`cargo bench` passes `--bench`), not as a test.
pub fn is_bench() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Values made once per size on first use and kept for the run; sizes are capped at 10,000
/// when run as a test (`cargo test --benches` only checks that every benchmark runs).
pub struct PerSize<T>(RefCell<HashMap<usize, Rc<T>>>);

impl<T> Default for PerSize<T> {
    fn default() -> Self {
        Self(RefCell::new(HashMap::new()))
    }
}

impl<T> PerSize<T> {
    /// The value for about `n` objects, made by `make` (given the capped size) on first use.
    pub fn get(&self, n: usize, make: impl FnOnce(usize) -> T) -> Rc<T> {
        let n = if is_bench() { n } else { n.min(10_000) };
        self.0
            .borrow_mut()
            .entry(n)
            .or_insert_with(|| Rc::new(make(n)))
            .clone()
    }
}

/// Push everything out of the host's data caches: write one byte per 64-byte line of a buffer
/// larger than any last-level cache we run on (64 MiB; 1 MiB when run as a test). Then a freeze
/// starts cold, as one does in use: a module is imported long before it is frozen, and a
/// benchmark that repeats a small freeze back to back otherwise measures it with the whole
/// heap in L1/L2.
pub fn evict_caches() {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let len = if is_bench() { 64 << 20 } else { 1 << 20 };
    BUF.with(|b| {
        let mut b = b.borrow_mut();
        b.resize(len, 0);
        for line in b.chunks_mut(64) {
            line[0] = line[0].wrapping_add(1);
        }
        std::hint::black_box(&mut *b);
    });
}

/// Section addresses for a graph (capacities large enough for any bench size).
pub fn target() -> Target {
    Target {
        flash_base: 0x1010_0000,
        flash_capacity: 1 << 30,
        ram_base: 0x2003_0000,
        ram_capacity: 1 << 28,
    }
}

/// Firmware id of the bench images.
pub const FW: &[u8] = b"flashfreeze-bench";
/// Length of the frozen RAM area.
pub const RAM_LEN: u64 = 1 << 20;
/// The simulated device of the store and mount benches.
pub type Flash = SimFlash<1, 4, 4096>;

/// Where the image region and the frozen RAM area are mapped.
pub fn layout() -> flashfreeze::image::Layout<'static> {
    flashfreeze::image::Layout::new(0x1010_0000, 4096, 0x2003_0000, RAM_LEN, FW)
}

/// Reader configuration matching [`layout`].
pub fn read_cfg() -> ReadConfig<'static> {
    ReadConfig::for_model::<Graph>(layout()).with_statics(STATICS)
}

/// An erased device large enough for `g`'s image: room for the sections, the maps (a few bits
/// per word) and the header.
pub fn erased(g: &Graph) -> Flash {
    Flash::new(((g.frozen_bytes * 2 + 64 * 1024) as usize).next_multiple_of(4096))
}

/// Plan `roots` of `g` and append them through a store whose region is the whole of `flash`.
pub fn freeze_to_store(
    g: &Graph,
    roots: &[Root<'_, Obj>],
    flash: Flash,
    layout: flashfreeze::image::Layout<'static>,
) -> (Appended, Flash) {
    let cfg = StoreConfig::for_model::<Graph>(0, flash.as_bytes().len() as u32, layout)
        .with_statics(STATICS);
    let mut store = Store::open(flash, cfg).expect("open");
    let target = store.target().expect("target");
    let plan = flashfreeze::plan(g, roots, target).expect("plan");
    let appended = store.append(&plan, g).expect("append");
    (appended, store.into_inner())
}

/// A sink that stands in for a flash page: bytes are buffered into 256-byte pages and each full
/// page is folded into a checksum (so the work cannot be optimised away).
pub struct PageSink {
    page: [u8; 256],
    fill: usize,
    /// Bytes pushed.
    pub len: u64,
    /// FNV-1a over the pages, 8 bytes at a time.
    pub sum: u64,
}

impl PageSink {
    pub fn new() -> Self {
        Self {
            page: [0; 256],
            fill: 0,
            len: 0,
            sum: 0xcbf2_9ce4_8422_2325,
        }
    }

    #[inline]
    pub fn push(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        while !bytes.is_empty() {
            let n = (self.page.len() - self.fill).min(bytes.len());
            self.page[self.fill..self.fill + n].copy_from_slice(&bytes[..n]);
            self.fill += n;
            bytes = &bytes[n..];
            if self.fill == self.page.len() {
                self.flush();
            }
        }
    }

    pub fn zeros(&mut self, mut n: u64) {
        const Z: [u8; 64] = [0; 64];
        while n > 0 {
            let k = n.min(64) as usize;
            self.push(&Z[..k]);
            n -= k as u64;
        }
    }

    fn flush(&mut self) {
        for chunk in self.page[..self.fill].chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.sum = (self.sum ^ u64::from_le_bytes(w)).wrapping_mul(0x0100_0000_01b3);
        }
        self.fill = 0;
    }

    /// Flush the last partial page and return the checksum.
    pub fn finish(mut self) -> (u64, u64) {
        self.flush();
        (self.len, self.sum)
    }
}

/// Stream a plan's sections (flash then RAM, padding as zeros) object by object into `sink`,
/// through one scratch buffer into a [`PageSink`]: what the image writer does, minus headers and
/// maps. Returns the sink's (bytes, sum).
pub fn stream_plan<T: ForwardingTable<Graph>>(g: &Graph, plan: &Plan<Obj, T>) -> (u64, u64) {
    let mut sink = PageSink::new();
    let mut scratch = Vec::with_capacity(256);
    let t = *plan.target();
    let mut end = t.flash_base;
    for obj in plan.objects(g) {
        let obj = obj.expect("planned");
        if obj.placement == Placement::Ram && end < t.ram_base {
            end = t.ram_base;
        }
        sink.zeros(obj.address - end);
        scratch.clear();
        scratch.resize(obj.layout.size as usize, 0);
        plan.write_object(g, &obj, &mut scratch, &mut |_| {})
            .expect("write");
        sink.push(&scratch);
        end = obj.address + u64::from(obj.layout.size);
    }
    sink.finish()
}

/// The control: the VM's own per-object work without a freezer. Every heap object, in
/// allocation order: its layout, its frozen bytes into the page sink, and each slot target's
/// space (what any freezer must ask). The gap between this and a freeze is the freezer's cost.
pub fn model_walk(g: &Graph) -> (u64, u64) {
    let mut sink = PageSink::new();
    let mut scratch = Vec::with_capacity(256);
    let mut heap_refs = 0u64;
    for obj in 0..g.len() as Obj {
        if g.space(obj) != Space::Heap {
            continue;
        }
        let l = g.frozen_layout(obj);
        scratch.clear();
        scratch.resize(l.size as usize, 0);
        g.write_frozen(obj, Placement::Flash, &mut scratch);
        g.scan(obj, &mut |slot: Slot<Obj>| {
            if let Some(t) = slot.target {
                heap_refs += u64::from(g.space(t) == Space::Heap);
            }
        });
        sink.push(&scratch);
    }
    let (len, sum) = sink.finish();
    (len, sum ^ heap_refs)
}

/// Freeze with the library's side table: plan, then write every object. Returns (bytes, sum).
pub fn freeze_side_table(g: &Graph) -> (u64, u64) {
    let plan = flashfreeze::plan(g, &g.roots(), target()).expect("plan");
    stream_plan(g, &plan)
}

/// Freeze with forwarding in the objects: plan, write every object, release the marks.
pub fn freeze_in_object(g: &Graph) -> (u64, u64) {
    let plan = flashfreeze::plan_in_object(g, &g.roots(), target()).expect("plan");
    let sum = stream_plan(g, &plan);
    plan.release(g);
    sum
}

/// The naive freezer: recursive traversal, a general-purpose `HashMap` for seen-marks and
/// forwarding, and the whole image built in one `Vec<u8>`. Same object order and bytes as
/// flashfreeze (children are marked when discovered and entered in slot order).
pub mod naive {
    use super::*;

    struct State<'g> {
        g: &'g Graph,
        fwd: HashMap<Obj, u64>,
        flash: Vec<Obj>,
        ram: Vec<Obj>,
    }

    fn visit(s: &mut State<'_>, obj: Obj) {
        match s.g.mutability(obj) {
            Mutability::Immutable => s.flash.push(obj),
            Mutability::Mutable => s.ram.push(obj),
            Mutability::Unfreezable(why) => panic!("unfreezable: {why}"),
            other => panic!("{other:?}"),
        }
        let mut children = Vec::new();
        s.g.scan(obj, &mut |slot: Slot<Obj>| {
            if let Some(t) = slot.target {
                if s.g.space(t) == Space::Heap && !s.fwd.contains_key(&t) {
                    s.fwd.insert(t, 0);
                    children.push(t);
                }
            }
        });
        for c in children {
            visit(s, c);
        }
    }

    fn lay_out(s: &mut State<'_>, list: &[Obj], base: u64) -> u64 {
        let mut end = base;
        for &o in list {
            let l = s.g.frozen_layout(o);
            let at = end.next_multiple_of(u64::from(l.align));
            s.fwd.insert(o, at);
            end = at + u64::from(l.size);
        }
        end
    }

    fn emit(s: &State<'_>, image: &mut Vec<u8>, list: &[Obj], base: u64, placement: Placement) {
        for &o in list {
            let at = s.fwd[&o];
            let l = s.g.frozen_layout(o);
            image.resize((at - base) as usize, 0);
            let from = image.len();
            image.resize(from + l.size as usize, 0);
            let out = &mut image[from..];
            s.g.write_frozen(o, placement, out);
            s.g.scan(o, &mut |slot: Slot<Obj>| {
                if let Some(t) = slot.target {
                    let addr = match s.g.space(t) {
                        Space::Heap => s.fwd[&t],
                        _ => s.g.address(t),
                    };
                    let w = slot.offset as usize;
                    out[w..w + 4].copy_from_slice(&(addr as u32).to_le_bytes());
                }
            });
        }
    }

    /// The whole image: the flash section's bytes, then the RAM section's.
    pub fn freeze(g: &Graph) -> Vec<u8> {
        let t = target();
        let mut s = State {
            g,
            fwd: HashMap::new(),
            flash: Vec::new(),
            ram: Vec::new(),
        };
        for r in g.roots() {
            if g.space(r.target) == Space::Heap && !s.fwd.contains_key(&r.target) {
                s.fwd.insert(r.target, 0);
                visit(&mut s, r.target);
            }
        }
        let (flash, ram) = (std::mem::take(&mut s.flash), std::mem::take(&mut s.ram));
        let flash_end = lay_out(&mut s, &flash, t.flash_base);
        lay_out(&mut s, &ram, t.ram_base);
        let mut image = Vec::new();
        emit(&s, &mut image, &flash, t.flash_base, Placement::Flash);
        debug_assert_eq!(image.len() as u64, flash_end - t.flash_base);
        let mut ram_image = Vec::new();
        emit(&s, &mut ram_image, &ram, t.ram_base, Placement::Ram);
        image.extend_from_slice(&ram_image);
        image
    }

    /// Checksum of an image as [`PageSink`] computes it.
    pub fn checksum(image: &[u8]) -> (u64, u64) {
        let mut sink = PageSink::new();
        sink.push(image);
        sink.finish()
    }
}

/// A global allocator that counts live bytes and keeps their peak, wrapping another one.
pub struct Counting<A> {
    pub inner: A,
}

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `inner`; only counters are added.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { self.inner.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Realloc may copy: old and new coexist for a moment.
            grow(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

fn grow(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

/// Peak extra heap (bytes above the live bytes at the start) while `f` runs, and its result.
pub fn peak_during<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    (PEAK.load(Ordering::Relaxed) - base, r)
}
