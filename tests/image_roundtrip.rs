//! Plan → write → mount → the frozen graph reads back identical; multi-batch chains; rebase;
//! erase/program accounting; full regions; clear.

mod image_support;

use flashfreeze::image::{Image, rebase};
use flashfreeze::mount::MountError;
use flashfreeze::store::{Store, StoreError};
use flashfreeze::testing::{Kind, TestHeap, Value};
use flashfreeze::unstable::format::HEADER_LEN;
use flashfreeze::unstable::{BatchParams, write_batch_to_vec};
use flashfreeze::{Root, RootKind};
use image_support::*;
use quickcheck::{QuickCheck, TestResult};

const REGION_LEN: u32 = 64 * 1024;

fn round_trip<const W: u32>(seed: u64, n: usize) -> Result<(), String> {
    let mut heap = TestHeap::<W>::new();
    let mut rng = Rng(seed);
    let roots = random_graph(&mut heap, &mut rng, n);
    let roots = module_roots(&roots, NAMES);
    let mut store = new_store(REGION_LEN, W);
    let appended = freeze(&mut store, &heap, &roots).map_err(|e| e.to_string())?;
    let flash = store.into_inner();
    // Each sector of the batch erased exactly once, nothing else.
    let sectors = appended.span / 4096;
    let erased: Vec<u32> = flash.counters().erases_per_sector.clone();
    let first = (REGION_OFFSET / 4096) as usize;
    assert!(
        erased[first..first + sectors as usize]
            .iter()
            .all(|&e| e == 1),
        "{erased:?}"
    );
    assert_eq!(erased.iter().sum::<u32>(), sectors);
    let region = region(&flash, REGION_LEN);
    let (mounted, ram) = mount_region(region, W);
    let mounted = mounted.map_err(|e| e.to_string())?;
    assert_eq!(mounted.roots().count(), roots.len());
    let mut back = heap.clone();
    load_image(&mut back, region, &ram);
    for (root, frozen) in roots.iter().zip(mounted.roots()) {
        assert_eq!(frozen.name, root.name);
        assert_eq!(frozen.kind, RootKind::MODULE);
        let f = back.at(frozen.address).ok_or("root not an object")?;
        assert_isomorphic(&back, root.target, f, &mounted);
    }
    Ok(())
}

#[test]
fn round_trip_small_graph() {
    let mut heap = TestHeap::<4>::new();
    let name = heap.alloc_with(Kind::Immutable, vec![], b"mymod".to_vec());
    let stat = heap.alloc_with(Kind::Static, vec![], vec![1, 2, 3, 4]);
    let state = heap.alloc(Kind::Mutable, &[None]);
    let module = heap.alloc(Kind::Immutable, &[Some(name), Some(state), Some(stat)]);
    heap.set_slot(state, 0, Value::Ref(module)); // a cycle through the RAM section
    let roots = [Root::new(RootKind::MODULE, "mymod", module)];
    let mut store = new_store(REGION_LEN, 4);
    let a = freeze(&mut store, &heap, &roots).unwrap();
    assert_eq!((a.index, a.offset, a.span), (0, 0, 4096));
    assert_eq!(
        a.flash.start,
        DEVICE_ADDRESS + u64::from(REGION_OFFSET) + HEADER_LEN as u64
    );
    assert_eq!(a.ram, RAM_ADDRESS..RAM_ADDRESS + 12);
    let flash = store.into_inner();
    let region = region(&flash, REGION_LEN);
    let (mounted, ram) = mount_region(region, 4);
    let mounted = mounted.unwrap();
    assert_eq!(mounted.gc_root_range(), RAM_ADDRESS..RAM_ADDRESS + 12);
    let root = mounted.root(RootKind::MODULE, "mymod").unwrap();
    assert!(mounted.contains(root));
    assert!(!mounted.contains(0x2000_0000));
    assert_frozen_copy(&heap, region, &ram, &mounted, module, root);
}

#[test]
fn round_trip_random_graphs_property() {
    fn prop(seed: u64, n: u8) -> TestResult {
        match round_trip::<4>(seed, usize::from(n) % 120 + 1) {
            Ok(()) => TestResult::passed(),
            Err(e) => TestResult::error(e),
        }
    }
    QuickCheck::new()
        .tests(60)
        .quickcheck(prop as fn(u64, u8) -> TestResult);
}

#[test]
fn round_trip_64_bit_references() {
    for seed in 1..20 {
        round_trip::<8>(seed, 40).unwrap();
    }
}

#[test]
fn round_trip_large_graph() {
    round_trip::<4>(7, 1500).unwrap();
}

#[test]
fn second_batch_refers_to_the_first() {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(42);
    let roots_a = random_graph(&mut heap, &mut rng, 30);
    let roots_a = module_roots(&roots_a[..1], &["a"]);
    let mut store = new_store(REGION_LEN, 4);
    freeze(&mut store, &heap, &roots_a).unwrap();
    // The VM continues on the frozen copies: load them, then build batch B on top.
    let frozen_a = load_frozen_root(&mut heap, region(store.flash(), REGION_LEN), "a");
    let b_roots = random_graph(&mut heap, &mut rng, 20);
    heap.push_slot(b_roots[0], Some("imports_a"), Value::Ref(frozen_a));
    let roots_b = module_roots(&b_roots[..1], &["b"]);
    let b = freeze(&mut store, &heap, &roots_b).unwrap();
    assert_eq!(b.index, 1);
    let flash = store.into_inner();
    let region = region(&flash, REGION_LEN);
    let (mounted, ram) = mount_region(region, 4);
    let mounted = mounted.unwrap();
    assert_eq!(mounted.batches().len(), 2);
    let b_root = mounted.root(RootKind::MODULE, "b").unwrap();
    let (back, fb) = assert_frozen_copy(&heap, region, &ram, &mounted, b_roots[0], b_root);
    // The reference to batch A is kept as A's frozen address.
    let last = back.get(fb).slots.last().unwrap().1;
    assert_eq!(last, Value::Ref(frozen_a));
}

#[test]
fn full_region_is_refused_and_earlier_batches_stay() {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(3);
    let small = random_graph(&mut heap, &mut rng, 10);
    // Its objects fit the planner's bound, but not with the maps and the commit record.
    let big = [chain(&mut heap, 71, 100)];
    let region_len = 3 * 4096;
    let mut store = new_store(region_len, 4);
    freeze(&mut store, &heap, &module_roots(&small[..1], &["small"])).unwrap();
    let before = store.flash().counters().clone();
    let target = store.target().unwrap();
    let roots = module_roots(&big[..1], &["big"]);
    let err = match flashfreeze::plan(&heap, &roots, target) {
        Ok(plan) => store.append(&plan, &heap).unwrap_err(),
        Err(e) => panic!("the planner already refused: {e}"),
    };
    assert!(matches!(err, StoreError::RegionFull { .. }), "{err}");
    // Nothing was erased or programmed for the refused batch.
    assert_eq!(store.flash().counters(), &before);
    let (mounted, _) = mount_region(region(store.flash(), region_len), 4);
    assert_eq!(mounted.unwrap().batches().len(), 1);
}

#[test]
fn clear_erases_only_sectors_in_use() {
    let mut heap = TestHeap::<4>::new();
    let g = [chain(&mut heap, 100, 100)];
    let mut store = new_store(REGION_LEN, 4);
    let a = freeze(&mut store, &heap, &module_roots(&g[..1], &["g"])).unwrap();
    let used = a.span / 4096;
    assert!(used >= 2);
    store.flash_mut().reset_counters();
    assert_eq!(store.clear().unwrap(), used);
    assert_eq!(store.flash().counters().sectors_erased, u64::from(used));
    assert_eq!(store.batches(), 0);
    let (mounted, _) = mount_region(region(store.flash(), REGION_LEN), 4);
    assert!(matches!(mounted, Err(MountError::NoCommittedBatch { .. })));
    // A cleared store takes a new chain from the start.
    let b = freeze(&mut store, &heap, &module_roots(&g[..1], &["g"])).unwrap();
    assert_eq!(b.offset, 0);
}

#[test]
fn rebase_gives_the_same_bytes_as_building_there() {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(77);
    let g = random_graph(&mut heap, &mut rng, 80);
    let roots = module_roots(&g, NAMES);
    // Built on a host for one address, as one batch in a buffer.
    let build = |region_address: u64, ram_base: u64| {
        let params = BatchParams {
            batch_index: 0,
            batch_offset: 0,
            prev_header_crc: 0,
            batch_address: region_address,
            ram_base,
            firmware_id: FW,
            write_size: 4,
            erase_size: 4096,
        };
        let plan = flashfreeze::plan(&heap, &roots, params.target(1 << 20, RAM_LEN)).unwrap();
        write_batch_to_vec(&plan, &heap, &params).unwrap().1
    };
    let host = build(0x0800_0000, 0x3000_0000);
    let device = build(layout().region_address, RAM_ADDRESS);
    assert_ne!(host, device);
    let mut moved = host.clone();
    let mut host_cfg = read_cfg(4);
    host_cfg.layout.region_address = 0x0800_0000;
    host_cfg.layout.ram_address = 0x3000_0000;
    rebase(&mut moved, &host_cfg, layout().region_address, RAM_ADDRESS).unwrap();
    assert_eq!(moved, device, "rebased image equals the one built in place");
    let (mounted, _) = mount_region(&moved, 4);
    assert_eq!(mounted.unwrap().roots().count(), roots.len());
    // A shift that would misalign objects is refused, the bytes untouched.
    let mut odd = host.clone();
    assert!(rebase(&mut odd, &host_cfg, 0x0800_0010, RAM_ADDRESS).is_err());
    assert_eq!(odd, host);
}

/// Measures the pointer map and object map against the image size on a graph shaped like a
/// MicroPython module (bytecode blobs, strings, tuples, dicts, functions) and prints it.
#[test]
fn pointer_map_overhead_is_at_most_3_percent() {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(2024);
    let ty = heap.alloc_with(Kind::Static, vec![], vec![0; 8]);
    let mut module_slots = Vec::new();
    let mut qstrs = Vec::new();
    for i in 0..300 {
        let len = 4 + rng.below(12) as usize;
        let s = heap.alloc_with(
            Kind::Immutable,
            vec![(None, Value::Ref(ty))],
            vec![b'a' + (i % 26) as u8; len],
        );
        qstrs.push(s);
    }
    for _ in 0..150 {
        // A function: type, name, a bytecode blob, a constants tuple.
        let code_len = 20 + rng.below(180) as usize;
        let code = heap.alloc_with(
            Kind::Immutable,
            vec![(None, Value::Ref(ty))],
            vec![0x42; code_len],
        );
        let consts: Vec<_> = (0..rng.below(5))
            .map(|_| (None, Value::Ref(qstrs[rng.below(300) as usize])))
            .collect();
        let tuple = heap.alloc_with(Kind::Immutable, consts, vec![]);
        let name = qstrs[rng.below(300) as usize];
        let f = heap.alloc_with(
            Kind::Immutable,
            vec![
                (None, Value::Ref(ty)),
                (None, Value::Ref(name)),
                (None, Value::Ref(code)),
                (None, Value::Ref(tuple)),
            ],
            vec![],
        );
        module_slots.push((None, Value::Ref(name)));
        module_slots.push((None, Value::Ref(f)));
    }
    let globals = heap.alloc_with(Kind::Mutable, module_slots, vec![]);
    let module = heap.alloc(Kind::Immutable, &[Some(ty), Some(globals)]);
    let mut store = new_store(REGION_LEN, 4);
    let a = freeze(
        &mut store,
        &heap,
        &[Root::new(RootKind::MODULE, "casyncio", module)],
    )
    .unwrap();
    let image_bytes = a.flash.end - a.flash.start + (a.ram.end - a.ram.start);
    let region = region(store.flash(), REGION_LEN);
    let image = Image::open(region, &read_cfg(4)).unwrap();
    let h = image.batches()[0].header();
    let total = u64::from(h.commit_offset.get()) + 16;
    let (ptr, obj) = a.map_bytes;
    let pct = |x: u32| 100.0 * f64::from(x) / total as f64;
    let bitmap = h.start_bitmap().unwrap().len.get();
    println!(
        "image {total} bytes ({image_bytes} of objects, {} objects): pointer map {ptr} B = {:.2} %, object map {obj} B = {:.2} %, start bitmap {bitmap} B = {:.2} %, header {HEADER_LEN} B",
        h.flash_objects.get() + h.ram_objects.get(),
        pct(ptr),
        pct(obj),
        pct(bitmap),
    );
    // One bit per 4 bytes of each section, in whole words: 1/32 of the objects' bytes and at
    // most a word more per section.
    assert!(
        u64::from(bitmap) <= image_bytes / 32 + 8,
        "start bitmap {bitmap} B"
    );
    assert!(
        pct(ptr) <= 3.0,
        "pointer map {:.2} % of the image",
        pct(ptr)
    );
}

#[test]
fn firmware_update_refuses_the_old_image_until_cleared() {
    let mut heap = TestHeap::<4>::new();
    let g = random_graph(&mut heap, &mut Rng(11), 20);
    let roots = module_roots(&g[..1], &["m"]);
    let mut store = new_store(REGION_LEN, 4);
    freeze(&mut store, &heap, &roots).unwrap();
    // The new firmware opens the same flash with its own id.
    let mut cfg = store_cfg(REGION_LEN, 4);
    cfg.layout.firmware_id = b"flashfreeze-test-fw-2";
    let mut store = Store::open(store.into_inner(), cfg).unwrap();
    assert!(store.tail().and_then(|t| t.error().copied()).is_some());
    let err = freeze(&mut store, &heap, &roots).unwrap_err();
    assert!(matches!(err, StoreError::Incompatible(_)), "{err}");
    assert!(err.to_string().contains("clear it"), "{err}");
    assert_eq!(store.clear().unwrap(), 1);
    freeze(&mut store, &heap, &roots).unwrap();
    let mut read = read_cfg(4);
    read.layout.firmware_id = cfg.layout.firmware_id;
    let (m, _) = mount_with(region(store.flash(), REGION_LEN), &read);
    assert_eq!(m.unwrap().batches().len(), 1);
}

#[test]
fn batches_with_empty_sections() {
    let mut heap = TestHeap::<4>::new();
    let stat = heap.alloc_with(Kind::Static, vec![], vec![1; 4]);
    let only_ram = heap.alloc(Kind::Mutable, &[Some(stat)]);
    let mut store = new_store(REGION_LEN, 4);
    // A root that is already static: nothing to copy, the root is kept.
    let a = freeze(
        &mut store,
        &heap,
        &[Root::new(RootKind::OTHER, "static", stat)],
    )
    .unwrap();
    assert!(a.flash.is_empty() && a.ram.is_empty());
    // Only a mutable object: an empty flash section.
    let b = freeze(
        &mut store,
        &heap,
        &[Root::new(RootKind::OTHER, "ram", only_ram)],
    )
    .unwrap();
    assert!(b.flash.is_empty() && !b.ram.is_empty());
    let (mounted, ram) = mount_region(region(store.flash(), REGION_LEN), 4);
    let mounted = mounted.unwrap();
    assert_eq!(
        mounted.root(RootKind::OTHER, "static"),
        Some(heap.get(stat).address)
    );
    let r = mounted.root(RootKind::OTHER, "ram").unwrap();
    assert_eq!(
        mounted.placement_of(r),
        Some(flashfreeze::model::Placement::Ram)
    );
    let region = region(store.flash(), REGION_LEN);
    assert_frozen_copy(&heap, region, &ram, &mounted, only_ram, r);
}

#[test]
fn stale_batch_of_an_earlier_chain_is_ignored() {
    use embedded_storage::nor_flash::NorFlash;
    use flashfreeze::image::Tail;
    let mut heap = TestHeap::<4>::new();
    let a0 = chain(&mut heap, 5, 10);
    let a1 = chain(&mut heap, 5, 11);
    let b0 = chain(&mut heap, 5, 12);
    let mut store = new_store(REGION_LEN, 4);
    freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "a0", a0)]).unwrap();
    let a1_batch = freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "a1", a1)]).unwrap();
    assert_eq!(a1_batch.offset, 4096);
    // A clear interrupted after its first sector: batch 0 is gone, batch 1 still in flash.
    let mut flash = store.into_inner();
    flash.erase(REGION_OFFSET, REGION_OFFSET + 4096).unwrap();
    let mut store = Store::open(flash, store_cfg(REGION_LEN, 4)).unwrap();
    assert_eq!(store.batches(), 0);
    freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "b0", b0)]).unwrap();
    // The append erased the old batch 1 before writing the new batch 0: nothing follows it.
    let (mounted, _) = mount_region(region(store.flash(), REGION_LEN), 4);
    let mounted = mounted.unwrap();
    assert_eq!(mounted.batches().len(), 1);
    assert!(mounted.root(RootKind::MODULE, "a1").is_none());
    assert_eq!(mounted.tail(), Tail::Erased { offset: 4096 });
    assert!(
        region(store.flash(), REGION_LEN)[4096..]
            .iter()
            .all(|&b| b == 0xFF)
    );
}
