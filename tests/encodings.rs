//! Reference encodings end to end: the freezer writes every reference in the VM's encoding,
//! the store and mount validate the words by decoding them, rebase keeps the encoding and the
//! tags; an address the encoding cannot express is refused before anything is written.

use std::fmt;

use flashfreeze::image::{Image, Layout, ReadConfig, rebase};
use flashfreeze::model::{FrozenLayout, Placement, SlotVisitor, Space};
use flashfreeze::mount::mount;
use flashfreeze::sim::SimFlash;
use flashfreeze::store::{Store, StoreConfig, StoreError};
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::{FreezeError, Mutability, ObjectModel, RefEncoding, Root, RootKind, Violation};

/// Where the region is mapped: above 4 GiB, as on a 64-bit host.
const HIGH: u64 = 0x6000_0000_0000;
const REGION_LEN: u32 = 4 * 4096;

const ENCODINGS: [RefEncoding; 5] = [
    RefEncoding::ADDRESS_64,
    RefEncoding::ADDRESS_32.compressed(HIGH, 3),
    RefEncoding::ADDRESS_64.with_tag(0b1, 0b1),
    RefEncoding::ADDRESS_64.interior(8),
    RefEncoding::nan_boxed(0xFFFC),
];

/// The 64-bit test heap (its slots are 8 bytes wide), frozen with encoding `E` of
/// [`ENCODINGS`] (width 4 for the compressed one: every other word of a slot stays zero).
struct Enc<const E: usize>(TestHeap<8>);

impl<const E: usize> ObjectModel for Enc<E> {
    type Ref = Obj;
    const ENCODING: RefEncoding = ENCODINGS[E];
    fn space(&self, o: Obj) -> Space {
        self.0.space(o)
    }
    fn address(&self, o: Obj) -> u64 {
        self.0.address(o)
    }
    fn mutability(&self, o: Obj) -> Mutability {
        self.0.mutability(o)
    }
    fn frozen_layout(&self, o: Obj) -> FrozenLayout {
        self.0.frozen_layout(o)
    }
    fn scan(&self, o: Obj, v: &mut dyn SlotVisitor<Obj>) {
        self.0.scan(o, v)
    }
    fn write_frozen(&self, o: Obj, p: Placement, out: &mut [u8]) {
        self.0.write_frozen(o, p, out)
    }
    fn heap_index(&self, o: Obj) -> usize {
        self.0.heap_index(o)
    }
    fn heap_index_limit(&self) -> usize {
        self.0.heap_index_limit()
    }
    fn edge_label(&self, o: Obj, slot: u32, out: &mut dyn fmt::Write) -> fmt::Result {
        self.0.edge_label(o, slot, out)
    }
}

fn layout(region: u64) -> Layout<'static> {
    Layout::new(region, 4096, HIGH + 0x1000_0000, 4096, b"encodings")
}

/// A module with a few immutable objects, a mutable one pointing back at it, an int.
fn graph() -> (TestHeap<8>, Obj) {
    let mut heap = TestHeap::<8>::new();
    let a = heap.alloc_with(Kind::Immutable, vec![], b"abc".to_vec());
    let b = heap.alloc(Kind::Immutable, &[Some(a), None]);
    let state = heap.alloc(Kind::Mutable, &[None, Some(b)]);
    let module = heap.alloc(Kind::Immutable, &[Some(a), Some(b), Some(state)]);
    heap.set_slot(state, 0, Value::Ref(module));
    (heap, module)
}

fn freeze_with<const E: usize>() -> (Vec<u8>, Store<'static, SimFlash<1, 4, 4096>>) {
    let (heap, module) = graph();
    let vm = Enc::<E>(heap);
    let cfg = StoreConfig::for_model::<Enc<E>>(0, REGION_LEN, layout(HIGH));
    let mut store = Store::open(SimFlash::new(REGION_LEN as usize), cfg).unwrap();
    let plan = store
        .plan(&vm, &[Root::new(RootKind::MODULE, "m", module)])
        .unwrap();
    store.append(&plan, &vm).unwrap();
    (store.flash().as_bytes().to_vec(), store)
}

/// Every reference word the pointer map names decodes to an object start, and encodes back to
/// the word that is there.
fn check<const E: usize>() {
    let (region, _) = freeze_with::<E>();
    let enc = ENCODINGS[E];
    let cfg = ReadConfig::for_model::<Enc<E>>(layout(HIGH));
    let mut ram = vec![0; 4096];
    let mounted = mount(&region, &cfg, &mut ram).unwrap_or_else(|e| panic!("{enc}: {e}"));
    let image = Image::open(&region, &cfg).unwrap();
    let batch = &image.batches()[0];
    let objects = batch.objects();
    let starts: Vec<u64> = objects.iter().map(|o| o.address).collect();
    let mut refs = 0;
    for o in &objects {
        for &(off, to) in &o.refs {
            assert!(starts.contains(&to), "{enc}: {to:#x} is an object start");
            let at = off as usize;
            let w = enc.width() as usize;
            let mut word = [0u8; 8];
            word[..w].copy_from_slice(&o.bytes[at..at + w]);
            let word = u64::from_le_bytes(word);
            assert_eq!(enc.decode(word), Some(to), "{enc}");
            assert_eq!(
                enc.encode_tagged(to, word & enc.tag_mask()),
                Some(word),
                "{enc}"
            );
            refs += 1;
        }
    }
    assert_eq!(
        refs, 6,
        "{enc}: b's one reference, the state's two, the module's three"
    );

    assert!(mounted.root(RootKind::MODULE, "m").is_some());
    // Rebase by 64 KiB: still valid, every word in the same encoding.
    let mut moved = region.clone();
    rebase(&mut moved, &cfg, HIGH + 0x1_0000, HIGH + 0x1000_0000).unwrap();
    let cfg2 = ReadConfig::for_model::<Enc<E>>(layout(HIGH + 0x1_0000));
    let image = Image::open(&moved, &cfg2).unwrap_or_else(|e| panic!("{enc}: {e}"));
    let starts: Vec<u64> = image.batches()[0]
        .objects()
        .iter()
        .map(|o| o.address)
        .collect();
    assert!(starts.iter().all(|&a| a >= HIGH + 0x1_0000));
}

#[test]
fn native_64_bit_addresses() {
    check::<0>();
}

#[test]
fn compressed_32_bit_references_above_4_gib() {
    check::<1>();
}

#[test]
fn pointers_with_a_low_tag_bit() {
    check::<2>();
}

#[test]
fn references_into_the_object() {
    check::<3>();
}

#[test]
fn nan_boxed_references() {
    check::<4>();
}

/// The same graph as bare 32-bit addresses above 4 GiB: refused with the address, before
/// anything is erased.
struct Plain32(TestHeap<8>);

impl ObjectModel for Plain32 {
    type Ref = Obj;
    const ENCODING: RefEncoding = RefEncoding::ADDRESS_32;
    fn space(&self, o: Obj) -> Space {
        self.0.space(o)
    }
    fn address(&self, o: Obj) -> u64 {
        self.0.address(o)
    }
    fn mutability(&self, o: Obj) -> Mutability {
        self.0.mutability(o)
    }
    fn frozen_layout(&self, o: Obj) -> FrozenLayout {
        self.0.frozen_layout(o)
    }
    fn scan(&self, o: Obj, v: &mut dyn SlotVisitor<Obj>) {
        self.0.scan(o, v)
    }
    fn write_frozen(&self, o: Obj, p: Placement, out: &mut [u8]) {
        self.0.write_frozen(o, p, out)
    }
    fn heap_index(&self, o: Obj) -> usize {
        self.0.heap_index(o)
    }
    fn heap_index_limit(&self) -> usize {
        self.0.heap_index_limit()
    }
}

#[test]
fn an_address_the_encoding_cannot_express_is_refused_before_anything_is_written() {
    let (heap, module) = graph();
    let vm = Plain32(heap);
    let cfg = StoreConfig::for_model::<Plain32>(0, REGION_LEN, layout(HIGH));
    let mut store = Store::open(SimFlash::<1, 4, 4096>::new(REGION_LEN as usize), cfg).unwrap();
    let e = store
        .plan(&vm, &[Root::new(RootKind::MODULE, "m", module)])
        .unwrap_err();
    let StoreError::Freeze(FreezeError::Contract { violation, .. }) = e else {
        panic!("{e:?}")
    };
    assert_eq!(
        violation,
        Violation::Unencodable {
            address: HIGH + 0x90
        }
    );
    assert!(store.flash().as_bytes().iter().all(|&b| b == 0xFF));
}

#[test]
fn a_compressed_encoding_aligns_every_object_to_its_granule() {
    let (region, _) = freeze_with::<1>();
    let cfg = ReadConfig::for_model::<Enc<1>>(layout(HIGH));
    let image = Image::open(&region, &cfg).unwrap();
    for o in image.batches()[0].objects() {
        assert_eq!(o.address % 8, 0, "{:#x}", o.address);
    }
}
