//! Shared helpers of the image/store tests: a simulated device, configs, graph builders and an
//! isomorphism check between a heap graph and its frozen copy read back from flash.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ops::Range;

use flashfreeze::image::Layout;
use flashfreeze::image::{Image, ReadConfig};
use flashfreeze::model::Placement;
use flashfreeze::mount::{MountError, Mounted, mount};
use flashfreeze::sim::SimFlash;
use flashfreeze::store::{Store, StoreConfig};
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::{RefEncoding, Root, RootKind};

/// The firmware id every test image is made for.
pub const FW: &[u8] = b"flashfreeze-test-fw-1";
/// Where the simulated device is mapped (like the RP2040's XIP window).
pub const DEVICE_ADDRESS: u64 = 0x1000_0000;
/// Device offset of the image region (two sectors in, to catch offset mix-ups).
pub const REGION_OFFSET: u32 = 0x2000;
/// The frozen RAM area.
pub const RAM_ADDRESS: u64 = 0x2003_0000;
/// Its length.
pub const RAM_LEN: u64 = 16 * 1024;
/// The test heap's static objects live here (see `flashfreeze::testing`).
pub const STATICS: &[Range<u64>] = &[0x0001_0000..0x0100_0000, 0x5500_0000_0000..0x5600_0000_0000];

/// The layout of the test region.
pub fn layout() -> Layout<'static> {
    Layout::new(
        DEVICE_ADDRESS + u64::from(REGION_OFFSET),
        4096,
        RAM_ADDRESS,
        RAM_LEN,
        FW,
    )
}

/// Store configuration for a region of `region_len` bytes and `W`-byte references.
pub fn store_cfg(region_len: u32, ref_bytes: u32) -> StoreConfig<'static> {
    StoreConfig::new(
        REGION_OFFSET,
        region_len,
        layout(),
        RefEncoding::address(ref_bytes),
    )
    .with_statics(STATICS)
}

/// Reader configuration matching [`store_cfg`].
pub fn read_cfg(ref_bytes: u32) -> ReadConfig<'static> {
    ReadConfig::new(layout(), RefEncoding::address(ref_bytes)).with_statics(STATICS)
}

/// The region's bytes of a simulated device.
pub fn region<const R: usize, const W: usize, const E: usize>(
    flash: &SimFlash<R, W, E>,
    len: u32,
) -> &[u8] {
    &flash.as_bytes()[REGION_OFFSET as usize..(REGION_OFFSET + len) as usize]
}

/// Plan `roots` for the store's next batch and append it.
pub fn freeze<const W: u32, F: embedded_storage::nor_flash::NorFlash>(
    store: &mut Store<'_, F>,
    heap: &TestHeap<W>,
    roots: &[Root<'_, Obj>],
) -> Result<flashfreeze::store::Appended, flashfreeze::store::StoreError<F::Error>> {
    let target = store.target()?;
    let plan = flashfreeze::plan(heap, roots, target).expect("plan");
    store.append(&plan, heap)
}

/// A store on an erased simulated device with room for a region of `region_len` bytes.
pub fn new_store(region_len: u32, ref_bytes: u32) -> Store<'static, SimFlash<1, 4, 4096>> {
    let flash = SimFlash::new((REGION_OFFSET + region_len) as usize);
    Store::open(flash, store_cfg(region_len, ref_bytes)).expect("open store")
}

/// The region after appending each batch of `batches` in turn to a fresh store.
pub fn frozen_region<const W: u32>(
    heap: &TestHeap<W>,
    batches: &[&[Root<'_, Obj>]],
    region_len: u32,
) -> Vec<u8> {
    let mut store = new_store(region_len, W);
    for roots in batches {
        freeze(&mut store, heap, roots).expect("freeze");
    }
    region(store.flash(), region_len).to_vec()
}

/// Mount a region with `cfg` into a fresh RAM buffer of the configured length.
pub fn mount_with<'r>(
    region: &'r [u8],
    cfg: &ReadConfig<'_>,
) -> (Result<Mounted<'r>, MountError>, Vec<u8>) {
    let mut ram = vec![0u8; cfg.layout.ram_len as usize];
    let m = mount(region, cfg, &mut ram);
    (m, ram)
}

/// Mount a region into a fresh RAM buffer.
pub fn mount_region(region: &[u8], ref_bytes: u32) -> (Result<Mounted<'_>, MountError>, Vec<u8>) {
    mount_with(region, &read_cfg(ref_bytes))
}

/// The VM continuing on its frozen copies: mount `region`, load its objects into `heap`, and
/// return the frozen copy of the module root `name`.
pub fn load_frozen_root<const W: u32>(heap: &mut TestHeap<W>, region: &[u8], name: &str) -> Obj {
    let (mounted, ram) = mount_region(region, W);
    let at = mounted
        .expect("mount")
        .root(RootKind::MODULE, name)
        .expect("root in the image");
    load_image(heap, region, &ram);
    heap.at(at).expect("root loaded")
}

/// Decode every frozen object of a mounted image into `heap` (RAM objects from `ram`, the
/// restored RAM area); returns the frozen address → object map.
pub fn load_image<const W: u32>(
    heap: &mut TestHeap<W>,
    region: &[u8],
    ram: &[u8],
) -> HashMap<u64, Obj> {
    let image = Image::open(region, &read_cfg(W)).expect("valid image");
    let mut copies = Vec::new();
    for b in image.batches() {
        for o in b.objects() {
            let bytes = match o.placement {
                Placement::Flash => o.bytes.to_vec(),
                Placement::Ram => {
                    let at = (o.address - RAM_ADDRESS) as usize;
                    let restored = ram[at..at + o.bytes.len()].to_vec();
                    assert_eq!(
                        restored, o.bytes,
                        "RAM section restored at {:#x}",
                        o.address
                    );
                    restored
                }
            };
            // Objects already loaded (an earlier batch) are skipped.
            if heap.at(o.address).is_none() {
                copies.push((o.address, o.placement, bytes));
            }
        }
    }
    heap.load_frozen(&copies).expect("frozen copies decode");
    copies
        .iter()
        .map(|(a, _, _)| (*a, heap.at(*a).expect("loaded")))
        .collect()
}

/// Check that the graph from `orig` and the graph from `frozen` are isomorphic: same kinds,
/// payloads and immediates, references to the same static objects, and a bijection between
/// the heap objects and their frozen copies; immutable copies in flash, mutable ones in RAM.
pub fn assert_isomorphic<const W: u32>(
    heap: &TestHeap<W>,
    orig: Obj,
    frozen: Obj,
    mounted: &Mounted<'_>,
) {
    let mut map: HashMap<Obj, Obj> = HashMap::new();
    let mut back: HashMap<Obj, Obj> = HashMap::new();
    let mut stack = vec![(orig, frozen)];
    while let Some((o, f)) = stack.pop() {
        if let Some(&prev) = map.get(&o) {
            assert_eq!(prev, f, "object {o:?} has two frozen copies");
            continue;
        }
        if let Some(&prev) = back.get(&f) {
            panic!("frozen {f:?} is the copy of {prev:?} and {o:?}");
        }
        map.insert(o, f);
        back.insert(f, o);
        let (oo, fo) = (heap.get(o), heap.get(f));
        match oo.kind {
            Kind::Static | Kind::Frozen => {
                assert_eq!(
                    o, f,
                    "kept object {o:?} must be referenced at its own address"
                );
                continue;
            }
            Kind::Immutable | Kind::Mutable | Kind::Constant => {}
            Kind::Unfreezable => panic!("unfreezable object frozen"),
        }
        assert_eq!(fo.kind, Kind::Frozen);
        assert_eq!(fo.frozen_from, Some(oo.kind), "kind of {o:?}");
        let want = if oo.kind == Kind::Mutable {
            Placement::Ram
        } else {
            Placement::Flash
        };
        assert_eq!(
            mounted.placement_of(fo.address),
            Some(want),
            "placement of {o:?}"
        );
        assert_eq!(fo.payload, oo.payload, "payload of {o:?}");
        assert_eq!(fo.slots.len(), oo.slots.len(), "slots of {o:?}");
        for ((_, a), (_, b)) in oo.slots.iter().zip(&fo.slots) {
            match (a, b) {
                (Value::Int(x), Value::Int(y)) => assert_eq!(x, y),
                (Value::Ref(x), Value::Ref(y)) => stack.push((*x, *y)),
                _ => panic!("slot of {o:?} changed nature: {a:?} vs {b:?}"),
            }
        }
    }
}

/// Load the mounted image into a copy of `heap` and check that the frozen copy at `address` is
/// isomorphic to `orig` (see [`assert_isomorphic`]); returns the copy of the heap and the object.
pub fn assert_frozen_copy<const W: u32>(
    heap: &TestHeap<W>,
    region: &[u8],
    ram: &[u8],
    mounted: &Mounted<'_>,
    orig: Obj,
    address: u64,
) -> (TestHeap<W>, Obj) {
    let mut back = heap.clone();
    load_image(&mut back, region, ram);
    let frozen = back.at(address).expect("frozen copy loaded");
    assert_isomorphic(&back, orig, frozen, mounted);
    (back, frozen)
}

/// A small deterministic PRNG for graph generation (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A random graph of `n` heap objects (immutable and mutable, with payloads of varied length,
/// cycles, sharing and references to a few static objects); returns the roots.
pub fn random_graph<const W: u32>(heap: &mut TestHeap<W>, rng: &mut Rng, n: usize) -> Vec<Obj> {
    let statics: Vec<Obj> = (0..3)
        .map(|i| heap.alloc_with(Kind::Static, vec![], vec![i as u8; 4]))
        .collect();
    let mut objs = Vec::new();
    for _ in 0..n.max(1) {
        let kind = if rng.below(5) == 0 {
            Kind::Mutable
        } else {
            Kind::Immutable
        };
        let payload: Vec<u8> = (0..rng.below(24)).map(|_| rng.next() as u8).collect();
        objs.push(heap.alloc_with(kind, vec![], payload));
    }
    for i in 0..objs.len() {
        for _ in 0..rng.below(5) {
            let v = match rng.below(6) {
                0 => Value::Int(rng.next() as i32 >> 2),
                1 => Value::Ref(statics[rng.below(3) as usize]),
                // Mostly forward edges (a spanning structure) plus back edges (cycles).
                2 => Value::Ref(objs[rng.below(objs.len() as u64) as usize]),
                _ => Value::Ref(objs[(i + 1 + rng.below(3) as usize) % objs.len()]),
            };
            heap.push_slot(objs[i], None, v);
        }
    }
    let mut roots = vec![objs[0]];
    for _ in 0..rng.below(3) {
        roots.push(objs[rng.below(objs.len() as u64) as usize]);
    }
    roots
}

/// Roots named `m0`, `m1`… of kind MODULE.
pub fn module_roots(objs: &[Obj], names: &'static [&'static str]) -> Vec<Root<'static, Obj>> {
    objs.iter()
        .zip(names)
        .map(|(&o, &n)| Root::new(RootKind::MODULE, n, o))
        .collect()
}

/// Root names for [`module_roots`].
pub const NAMES: &[&str] = &["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"];

/// A chain of `n` immutable objects, each with `payload` bytes; returns its head.
pub fn chain<const W: u32>(heap: &mut TestHeap<W>, n: usize, payload: usize) -> Obj {
    let mut next = None;
    for i in 0..n {
        let o = heap.alloc_with(Kind::Immutable, vec![], vec![i as u8; payload]);
        if let Some(n) = next {
            heap.push_slot(o, None, Value::Ref(n));
        }
        next = Some(o);
    }
    next.expect("n > 0")
}

/// Sets a start bit at a grain inside an object (the second grain of the first flash object of
/// 8 bytes or more: no object start) of the batch at region offset `b`, moves the batch's first
/// pointer word (its flash section's first, if it has one) to it, and re-seals the batch: CRC-valid, its start bitmap no
/// longer its object map's starts. Returns the region offset of the bitmap word changed.
pub fn reseal_fake_start(region: &mut [u8], b: usize) -> usize {
    use flashfreeze::unstable::format::{
        BatchHeader, ObjectMapDecoder, PointerMapDecoder, START_GRAIN,
    };
    use zerocopy::FromBytes;
    let base = region.to_vec();
    let h = BatchHeader::read_from_prefix(&base[b..]).unwrap().0;
    let map = &base[b + h.object_map.offset.get() as usize..][..h.object_map.len.get() as usize];
    let (start, _) =
        ObjectMapDecoder::new(map, 0, h.flash_objects.get(), u64::from(h.flash.len.get()))
            .map(Result::unwrap)
            .find(|&(s, size)| size >= 8 && s % 4 == 0)
            .expect("an object of 8 bytes or more");
    let fake = start as u32 + 4;
    let bit = fake / START_GRAIN;
    let word = b + h.start_bitmap().unwrap().offset.get() as usize + 4 * (bit / 32) as usize;
    region[word + (bit % 32 / 8) as usize] |= 1 << (bit % 8);
    let (fw, rw) = h.pointer_words();
    let ptrs = &base[b + h.pointer_map.offset.get() as usize..][..h.pointer_map.len.get() as usize];
    // Words are numbered over the flash section first: this is its first one if it has any.
    let w = PointerMapDecoder::new(ptrs, fw + rw)
        .map(Result::unwrap)
        .next()
        .expect("a pointer word");
    let at = match w < fw {
        true => b + h.flash.offset.get() as usize + 4 * w as usize,
        false => b + h.ram.offset.get() as usize + 4 * (w - fw) as usize,
    };
    region[at..at + 4].copy_from_slice(&(h.flash_base.get() as u32 + fake).to_le_bytes());
    flashfreeze::unstable::reseal_batch(&mut region[b..]).unwrap();
    word
}
