//! What the store and mount promise when things go wrong: a commit record that did not
//! program, a batch that would not mount, a bad batch after good ones, a region that holds
//! someone else's data, a flash that changed under a handle, and an error path through a
//! million objects.

mod image_support;

use flashfreeze::image::Section;
use flashfreeze::image::Tail;
use flashfreeze::image::{DecodeError, Image, PointerFault};
use flashfreeze::mount::MountError;
use flashfreeze::sim::{SimError, SimFlash};
use flashfreeze::store::{Store, StoreError};
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::unstable::format::COMMIT_LEN;
use flashfreeze::unstable::reseal_batch;
use flashfreeze::{FreezeError, Placement, Root, RootKind};
use image_support::*;

fn target() -> flashfreeze::Target {
    flashfreeze::Target {
        flash_base: 0x1010_0040,
        flash_capacity: 1 << 30,
        ram_base: 0x2003_0000,
        ram_capacity: 1 << 28,
    }
}

const REGION_LEN: u32 = 16 * 4096;

fn roots(obj: Obj, name: &'static str) -> Vec<Root<'static, Obj>> {
    vec![Root::new(RootKind::MODULE, name, obj)]
}

/// A store holding batches "a", "b", "c" (each refers to the one before), and the heap.
fn three_batches() -> (TestHeap<4>, Store<'static, SimFlash<1, 4, 4096>>, [Obj; 3]) {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(42);
    let mut store = new_store(REGION_LEN, 4);
    let mut objs = Vec::new();
    let mut prev = None;
    for name in ["a", "b", "c"] {
        let g = random_graph(&mut heap, &mut rng, 30);
        let head = chain(&mut heap, 20, 16);
        heap.push_slot(head, Some("graph"), Value::Ref(g[0]));
        if let Some(p) = prev {
            heap.push_slot(head, Some("prev"), Value::Ref(p));
        }
        freeze(&mut store, &heap, &roots(head, name)).unwrap();
        objs.push(head);
        prev = Some(load_frozen_root(
            &mut heap,
            region(store.flash(), REGION_LEN),
            name,
        ));
    }
    (heap, store, [objs[0], objs[1], objs[2]])
}

#[test]
fn a_commit_record_that_did_not_program_is_an_error_and_the_next_append_replaces_it() {
    let mut heap = TestHeap::<4>::new();
    let a = chain(&mut heap, 20, 30);
    let b = chain(&mut heap, 20, 31);
    let mut store = new_store(REGION_LEN, 4);
    freeze(&mut store, &heap, &roots(a, "a")).unwrap();
    // Which mutation is the commit: the last of a dry run.
    let mut dry = Store::open(store.flash().clone(), store_cfg(REGION_LEN, 4)).unwrap();
    dry.flash_mut().record_ops(true);
    let before = dry.flash().counters().mutations();
    freeze(&mut dry, &heap, &roots(b, "b")).unwrap();
    let ops = dry.flash().counters().mutations() - before;
    assert_eq!(
        dry.flash().ops().last().map(|o| o.len()),
        Some(COMMIT_LEN as u64)
    );
    // A bit of the commit's magic does not program ('F' = 0x46: bit 7 stays 1), and the chip
    // says the program succeeded.
    store.flash_mut().fail_bits(ops - 1, 0, 0x80);
    let err = freeze(&mut store, &heap, &roots(b, "b")).unwrap_err();
    assert!(matches!(err, StoreError::Commit { .. }), "{err}");
    assert!(err.to_string().contains("not committed"), "{err}");
    // Not committed: a reboot mounts "a" only.
    let (m, _) = mount_region(region(store.flash(), REGION_LEN), 4);
    let m = m.unwrap();
    assert_eq!(m.batches().len(), 1);
    assert_eq!(
        m.tail(),
        Tail::Interrupted {
            offset: 4096,
            why: "batch not committed"
        }
    );
    // The next append does not build on it: it goes in its place, as batch 1.
    let again = freeze(&mut store, &heap, &roots(b, "b")).unwrap();
    assert_eq!((again.index, again.offset), (1, 4096));
    let (m, _) = mount_region(region(store.flash(), REGION_LEN), 4);
    let m = m.unwrap();
    assert_eq!(m.batches().len(), 2);
    assert!(m.root(RootKind::MODULE, "b").is_some());
}

#[test]
fn a_bad_batch_after_good_ones_ends_the_mount_with_its_reason() {
    let (heap, store, objs) = three_batches();
    let mut region = region(store.flash(), REGION_LEN).to_vec();
    // Batch 1: a pointer word set to an address outside everything, CRCs re-sealed (a batch
    // that passes every CRC but would hand the VM a wild pointer).
    let image = Image::open(&region, &read_cfg(4)).unwrap();
    let b1 = &image.batches()[1];
    let (at, span) = {
        let h = b1.header();
        let o = b1
            .objects()
            .into_iter()
            .find(|o| o.placement == Placement::Flash && !o.refs.is_empty())
            .unwrap();
        let at = b1.offset() as usize
            + h.flash.offset.get() as usize
            + (o.address - h.flash_base.get()) as usize
            + o.refs[0].0 as usize;
        (at, (b1.offset() as usize, h.span.get() as usize))
    };
    drop(image);
    region[at..at + 4].copy_from_slice(&0x0900_0000u32.to_le_bytes());
    reseal_batch(&mut region[span.0..span.0 + span.1]).unwrap();
    // Batch 2 points at batch 1's header CRC, which the reseal kept: it still chains.
    let (m, ram) = mount_region(&region, 4);
    let m = m.expect("the good batch mounts");
    assert_eq!(m.batches().len(), 1);
    let want = DecodeError::Pointer {
        batch: 1,
        section: Section::Flash,
        offset: at as u64,
        value: 0x0900_0000,
        address: 0x0900_0000,
        fault: PointerFault::OutOfRange,
    };
    assert_eq!(
        m.tail(),
        Tail::Invalid {
            batch: 1,
            offset: span.0 as u32,
            error: want,
            following: 1
        }
    );
    let msg = m.tail().to_string();
    assert!(
        msg.contains("points outside the image") && msg.contains("1 later batches ignored"),
        "{msg}"
    );
    // The good batch is the real frozen graph.
    let root = m.root(RootKind::MODULE, "a").unwrap();
    assert_frozen_copy(&heap, &region, &ram, &m, objs[0], root);
    assert!(m.root(RootKind::MODULE, "b").is_none());

    // The store sees the same, and appends after the last valid batch (replacing batch 1).
    let mut device = store.flash().as_bytes().to_vec();
    device[REGION_OFFSET as usize..][..REGION_LEN as usize].copy_from_slice(&region);
    let mut store = Store::open(SimFlash::from_bytes(&device), store_cfg(REGION_LEN, 4)).unwrap();
    assert_eq!(store.batches(), 1);
    assert_eq!(store.tail().and_then(|t| t.error().copied()), Some(want));
    let mut heap2 = TestHeap::<4>::new();
    let d = chain(&mut heap2, 10, 12);
    let again = freeze(&mut store, &heap2, &roots(d, "d")).unwrap();
    assert_eq!(again.offset, span.0 as u32);
    let (m, _) = mount_region(region_of(store.flash()), 4);
    let m = m.unwrap();
    assert_eq!(m.batches().len(), 2);
    assert_eq!(
        m.tail(),
        Tail::Erased {
            offset: again.offset + again.span
        }
    );
}

fn region_of(f: &SimFlash<1, 4, 4096>) -> &[u8] {
    region(f, REGION_LEN)
}

/// A VM that lies about where one static object lives: its pointer goes outside the image and
/// the static ranges.
struct Liar {
    heap: TestHeap<4>,
    lie_about: Obj,
}

impl flashfreeze::ObjectModel for Liar {
    type Ref = Obj;
    const ENCODING: flashfreeze::RefEncoding = flashfreeze::RefEncoding::ADDRESS_32;
    fn space(&self, obj: Obj) -> flashfreeze::Space {
        self.heap.space(obj)
    }
    fn address(&self, obj: Obj) -> u64 {
        if obj == self.lie_about {
            0x2000_1000 // the VM's heap, say
        } else {
            self.heap.address(obj)
        }
    }
    fn mutability(&self, obj: Obj) -> flashfreeze::Mutability {
        self.heap.mutability(obj)
    }
    fn frozen_layout(&self, obj: Obj) -> flashfreeze::FrozenLayout {
        self.heap.frozen_layout(obj)
    }
    fn scan(&self, obj: Obj, visitor: &mut dyn flashfreeze::SlotVisitor<Obj>) {
        self.heap.scan(obj, visitor)
    }
    fn write_frozen(&self, obj: Obj, placement: Placement, out: &mut [u8]) {
        self.heap.write_frozen(obj, placement, out)
    }
    fn heap_index(&self, obj: Obj) -> usize {
        self.heap.heap_index(obj)
    }
    fn heap_index_limit(&self) -> usize {
        self.heap.heap_index_limit()
    }
}

#[test]
fn a_batch_that_would_not_mount_is_never_committed() {
    let mut heap = TestHeap::<4>::new();
    let good = chain(&mut heap, 10, 20);
    let stat = heap.alloc_with(Kind::Static, vec![], vec![1; 4]);
    let bad = heap.alloc(Kind::Immutable, &[Some(stat)]);
    let mut store = new_store(REGION_LEN, 4);
    freeze(&mut store, &heap, &roots(good, "good")).unwrap();
    let vm = Liar {
        heap: heap.clone(),
        lie_about: stat,
    };
    let target = store.target().unwrap();
    let plan = flashfreeze::plan(&vm, &roots(bad, "bad"), target).unwrap();
    let err = store.append(&plan, &vm).unwrap_err();
    match &err {
        StoreError::Invalid(DecodeError::Pointer {
            batch: 1,
            value: 0x2000_1000,
            fault: PointerFault::OutOfRange,
            ..
        }) => {}
        e => panic!("{e}"),
    }
    assert!(err.to_string().contains("would not mount"), "{err}");
    let (m, _) = mount_region(region_of(store.flash()), 4);
    let m = m.unwrap();
    assert_eq!(m.batches().len(), 1);
    assert!(matches!(
        m.tail(),
        Tail::Interrupted {
            why: "batch not committed",
            ..
        }
    ));
    // An honest append goes where the refused batch was.
    let ok = freeze(&mut store, &heap, &roots(bad, "bad")).unwrap();
    assert_eq!((ok.index, ok.offset), (1, 4096));
    let (m, _) = mount_region(region_of(store.flash()), 4);
    assert_eq!(m.unwrap().batches().len(), 2);
}

#[test]
fn a_region_of_foreign_data_is_refused_and_left_as_it_is_until_formatted() {
    let mut device = vec![0xFFu8; (REGION_OFFSET + REGION_LEN) as usize];
    let mut rng = Rng(9);
    // A filesystem, say: every sector of the region written.
    for b in &mut device[REGION_OFFSET as usize..] {
        *b = rng.next() as u8;
    }
    let flash = SimFlash::<1, 4, 4096>::from_bytes(&device);
    let err = Store::open(flash.clone(), store_cfg(REGION_LEN, 4)).unwrap_err();
    match err {
        StoreError::Foreign { offset, .. } => {
            assert!((REGION_OFFSET..REGION_OFFSET + REGION_LEN).contains(&offset))
        }
        e => panic!("{e}"),
    }
    assert!(err_text(&flash).contains("format the region"));
    assert_eq!(flash.as_bytes(), &device[..], "nothing erased");
    // Two foreign sectors in an otherwise erased region are refused too.
    let mut two = vec![0xFFu8; device.len()];
    two[REGION_OFFSET as usize + 3 * 4096] = 0;
    two[REGION_OFFSET as usize + 7 * 4096 + 100] = 0x5A;
    assert!(matches!(
        Store::open(
            SimFlash::<1, 4, 4096>::from_bytes(&two),
            store_cfg(REGION_LEN, 4)
        ),
        Err(StoreError::Foreign { .. })
    ));
    // Asked to, the store formats the region and works.
    let mut store = Store::format(flash, store_cfg(REGION_LEN, 4)).unwrap();
    assert!(region_of(store.flash()).iter().all(|&b| b == 0xFF));
    let mut heap = TestHeap::<4>::new();
    let a = chain(&mut heap, 5, 5);
    freeze(&mut store, &heap, &roots(a, "a")).unwrap();
    let (m, _) = mount_region(region_of(store.flash()), 4);
    assert_eq!(m.unwrap().batches().len(), 1);
}

fn err_text(flash: &SimFlash<1, 4, 4096>) -> String {
    Store::open(flash.clone(), store_cfg(REGION_LEN, 4))
        .unwrap_err()
        .to_string()
}

#[test]
fn a_region_overlapping_another_stores_batches_is_refused() {
    let mut heap = TestHeap::<4>::new();
    let mut store = new_store(REGION_LEN, 4);
    for name in ["m0", "m1", "m2", "m3", "m4", "m5"] {
        let c = chain(&mut heap, 5, 8);
        freeze(&mut store, &heap, &roots(c, name)).unwrap();
    }
    let flash = store.into_inner();
    let before = flash.as_bytes().to_vec();
    // Starts inside the first store's chain: its offset 0 is that store's batch 4.
    let mut inside = store_cfg(REGION_LEN - 4 * 4096, 4);
    inside.region_offset = REGION_OFFSET + 4 * 4096;
    inside.layout.region_address += 4 * 4096;
    let err = Store::open(flash.clone(), inside).unwrap_err();
    assert!(
        matches!(err, StoreError::Foreign { offset, what } if offset == inside.region_offset && what.contains("another region")),
        "{err}"
    );
    // Starts before it: the first store's batch 0 sits at its offset 0x2000.
    let mut before_it = store_cfg(REGION_LEN, 4);
    before_it.region_offset = REGION_OFFSET - 2 * 4096;
    before_it.layout.region_address -= 2 * 4096;
    assert!(matches!(
        Store::open(flash.clone(), before_it),
        Err(StoreError::Foreign { .. })
    ));
    assert_eq!(flash.as_bytes(), &before[..]);
    let (m, _) = mount_region(region(&flash, REGION_LEN), 4);
    assert_eq!(m.unwrap().batches().len(), 6);
}

#[test]
fn a_handle_that_finds_the_flash_changed_refuses_to_append() {
    let mut heap = TestHeap::<4>::new();
    let a = chain(&mut heap, 5, 8);
    let b = chain(&mut heap, 5, 9);
    let c = chain(&mut heap, 5, 10);
    let mut first = new_store(REGION_LEN, 4);
    freeze(&mut first, &heap, &roots(a, "a")).unwrap();
    // Another handle on the same device appends "b" after `first` read the region.
    {
        let mut second = Store::open(first.flash_mut(), store_cfg(REGION_LEN, 4)).unwrap();
        freeze(&mut second, &heap, &roots(b, "b")).unwrap();
    }
    let before = first.flash().as_bytes().to_vec();
    let err = freeze(&mut first, &heap, &roots(c, "c")).unwrap_err();
    assert!(
        matches!(err, StoreError::Changed { offset } if offset == REGION_OFFSET + 4096),
        "{err}"
    );
    assert_eq!(
        first.flash().as_bytes(),
        &before[..],
        "the other handle's batch is intact"
    );
    let (m, _) = mount_region(region_of(first.flash()), 4);
    assert!(m.unwrap().root(RootKind::MODULE, "b").is_some());
    // Cleared under it: refused as well.
    {
        let mut second = Store::open(first.flash_mut(), store_cfg(REGION_LEN, 4)).unwrap();
        second.clear().unwrap();
    }
    let mut reopened = Store::open(first.into_inner(), store_cfg(REGION_LEN, 4)).unwrap();
    assert_eq!(reopened.batches(), 0);
    freeze(&mut reopened, &heap, &roots(c, "c")).unwrap();
}

#[test]
fn an_error_path_through_a_million_objects_stays_small() {
    let n = if cfg!(miri) { 2_000 } else { 1_000_000 };
    let mut heap = TestHeap::<4>::new();
    let bad = heap.alloc(Kind::Unfreezable, &[]);
    let mut next = bad;
    for _ in 0..n {
        let o = heap.alloc(Kind::Immutable, &[]);
        heap.push_slot(o, Some("next"), Value::Ref(next));
        next = o;
    }
    let err = flashfreeze::plan(&heap, &roots(next, "deep"), target()).unwrap_err();
    let FreezeError::Unfreezable { path, .. } = &err else {
        panic!("{err}");
    };
    assert!(
        path.len() <= flashfreeze::plan::ERROR_PATH_MAX,
        "{} bytes",
        path.len()
    );
    assert!(path.starts_with("deep.next.next"), "{path}");
    assert!(path.ends_with(".next.next"), "{path}");
    assert!(path.contains(&format!("[{n} steps]")), "{path}");
    assert!(err.to_string().len() < 400, "{err}");
    // A short path is whole.
    let mut heap = TestHeap::<4>::new();
    let bad = heap.alloc(Kind::Unfreezable, &[]);
    let m = heap.alloc(Kind::Immutable, &[]);
    heap.push_slot(m, Some("sock"), Value::Ref(bad));
    let err = flashfreeze::plan(&heap, &roots(m, "m"), target()).unwrap_err();
    assert!(
        matches!(err, FreezeError::Unfreezable { ref path, .. } if path == "m.sock"),
        "{err}"
    );
}

#[test]
fn a_batch_smaller_than_an_erase_sector_is_refused() {
    let mut heap = TestHeap::<4>::new();
    let a = chain(&mut heap, 5, 8);
    let mut region = frozen_region(&heap, &[&roots(a, "a")], REGION_LEN);
    // Claim a span of 160 bytes (the commit record still inside it) and re-seal the header.
    let commit = u32::from_le_bytes(region[96..100].try_into().unwrap());
    assert!(commit + COMMIT_LEN as u32 <= 4096);
    let mut cfg = read_cfg(4);
    cfg.layout.erase_size = 8192; // a reader whose sectors are larger than the batch
    let e = mount_with(&region, &cfg).0.unwrap_err();
    assert!(
        matches!(e, MountError::Invalid(DecodeError::Layout { what, .. }) if what.contains("erase sectors")),
        "{e}"
    );
    region[36..40].copy_from_slice(&2048u32.to_le_bytes());
    reseal_batch(&mut region[..4096]).unwrap();
    let e = mount_region(&region, 4).0.unwrap_err();
    assert!(
        matches!(e, MountError::Invalid(DecodeError::Layout { what, .. }) if what.contains("erase sectors")),
        "{e}"
    );
}

#[test]
fn the_simulated_power_loss_is_still_reported_as_such() {
    // A regression guard for the error plumbing through the validator's reader.
    let mut heap = TestHeap::<4>::new();
    let a = chain(&mut heap, 50, 80);
    let mut store = new_store(REGION_LEN, 4);
    store.flash_mut().arm_power_cut(3, 10);
    let err = freeze(&mut store, &heap, &roots(a, "a")).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Flash {
                error: SimError::PowerLost,
                ..
            }
        ),
        "{err}"
    );
}
