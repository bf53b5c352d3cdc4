//! Power-cut sweep: a batch appended after an existing batch, power cut at every flash
//! operation and at several bytes inside each; after every cut the mount yields exactly the
//! old chain or the old chain plus the new batch, never another error and never a panic, and
//! the store appends again afterwards without programming any word twice. The sweep runs with
//! a store that reads the device through `NorFlash` and with one that reads the region in
//! place (`Store::open_mapped`), reopened from what it knew before the cut (`Store::reopen`).

mod image_support;

use flashfreeze::mount::{MountError, Mounted};
use flashfreeze::sim::{Op, SimError, SimFlash};
use flashfreeze::store::{Store, StoreError};
use flashfreeze::testing::{Obj, TestHeap, Value};
use flashfreeze::{Root, RootKind};
use image_support::*;

const REGION_LEN: u32 = 8 * 4096;

/// Byte offsets to cut at inside `op`: the edges of bytes and write units, the middle, the end.
fn cut_offsets(op: &Op, write_size: u64) -> Vec<u64> {
    let len = op.len();
    let mut v = match op {
        Op::Program { .. } => vec![
            0,
            1,
            2,
            3,
            write_size - 1,
            write_size,
            write_size + 1,
            len / 2,
            len - 1,
            len,
        ],
        Op::Erase { .. } => vec![0, len / 2, len - 1],
    };
    v.retain(|&b| b <= len);
    v.sort_unstable();
    v.dedup();
    v
}

struct Scenario {
    heap: TestHeap<4>,
    /// Roots of the batch under test.
    roots: Vec<Root<'static, Obj>>,
    /// Batches committed before it.
    old_batches: usize,
}

/// Batch A (when `with_old`), then a heap graph B that refers into A's frozen objects.
fn scenario<const W: usize>(with_old: bool) -> (Scenario, SimFlash<1, W, 4096>) {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(0xC0FFEE);
    let flash = SimFlash::<1, W, 4096>::new(0x2000 + REGION_LEN as usize);
    let mut store = Store::open(flash, store_cfg(REGION_LEN, 4)).unwrap();
    let frozen_a = with_old.then(|| {
        let a = random_graph(&mut heap, &mut rng, 40);
        freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "a", a[0])]).unwrap();
        load_frozen_root(&mut heap, region(store.flash(), REGION_LEN), "a")
    });
    let b = random_graph(&mut heap, &mut rng, 60);
    // Large enough to span two sectors and many program operations.
    let tail = chain(&mut heap, 40, 90);
    heap.push_slot(b[0], Some("tail"), Value::Ref(tail));
    if let Some(fa) = frozen_a {
        heap.push_slot(b[0], Some("a"), Value::Ref(fa));
    }
    let flash = store.into_inner();
    let roots = vec![Root::new(RootKind::MODULE, "b", b[0])];
    (
        Scenario {
            heap,
            roots,
            old_batches: usize::from(with_old),
        },
        flash,
    )
}

fn check_mount(
    s: &Scenario,
    mounted: Result<Mounted<'_>, MountError>,
    ram: &[u8],
    region: &[u8],
) -> usize {
    match mounted {
        Ok(m) => {
            let n = m.batches().len();
            assert!(
                n == s.old_batches || n == s.old_batches + 1,
                "{n} batches mounted"
            );
            if n > s.old_batches {
                let root = m.root(RootKind::MODULE, "b").unwrap();
                assert_frozen_copy(&s.heap, region, ram, &m, s.roots[0].target, root);
            } else {
                assert!(m.root(RootKind::MODULE, "a").is_some());
            }
            n
        }
        Err(MountError::NoCommittedBatch { .. }) if s.old_batches == 0 => 0,
        Err(e) => panic!("mount after a power cut: {e}"),
    }
}

/// How the sweep opens its stores.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Open {
    /// `Store::open`: every read through `NorFlash::read`.
    Device,
    /// `Store::open_mapped`, the cut store from the state a first handle left
    /// (`Store::reopen`): reads in place, no read of the region at open.
    MappedReopened,
}

/// The region of the scenario's device, as mapped.
fn view<const W: usize>(f: &SimFlash<1, W, 4096>) -> &[u8] {
    &f.as_bytes()[0x2000..]
}

fn open<const W: usize>(
    flash: SimFlash<1, W, 4096>,
    how: Open,
) -> Store<'static, SimFlash<1, W, 4096>> {
    let cfg = store_cfg(REGION_LEN, 4);
    match how {
        Open::Device => Store::open(flash, cfg).unwrap(),
        Open::MappedReopened => {
            let (flash, state) = Store::open_mapped(flash, cfg, view::<W>)
                .unwrap()
                .into_parts();
            Store::reopen(flash, cfg, Some(view::<W>), state.unwrap()).unwrap()
        }
    }
}

/// Returns the number of cut points tried.
fn sweep<const W: usize>(with_old: bool) -> usize {
    sweep_with::<W>(with_old, Open::Device)
}

fn sweep_with<const W: usize>(with_old: bool, how: Open) -> usize {
    let (s, base) = scenario::<W>(with_old);
    let mut dry = base.clone();
    dry.record_ops(true);
    let mut store = open(dry, how);
    let appended = freeze(&mut store, &s.heap, &s.roots).unwrap();
    assert!(appended.span >= 2 * 4096, "the batch spans several sectors");
    let ops = store.flash().ops().to_vec();
    let mut points = 0;
    let mut outcomes = [0usize; 2];
    for (i, op) in ops.iter().enumerate() {
        for byte in cut_offsets(op, W as u64) {
            points += 1;
            let mut flash = base.clone();
            flash.set_seed(i as u64 * 1000 + byte);
            flash.arm_power_cut(i as u64, byte);
            let mut store = open(flash, how);
            let r = freeze(&mut store, &s.heap, &s.roots);
            assert!(
                matches!(
                    r,
                    Err(StoreError::Flash {
                        error: SimError::PowerLost,
                        ..
                    })
                ),
                "op {i} byte {byte}: {r:?}"
            );
            let mut flash = store.into_inner();
            flash.reboot();
            let region_bytes = region(&flash, REGION_LEN);
            let (mounted, ram) = mount_region(region_bytes, 4);
            let n = check_mount(&s, mounted, &ram, region_bytes);
            outcomes[n - s.old_batches] += 1;
            // Recovery: the next freeze succeeds on the flash as the cut left it.
            let mut store = open(flash, how);
            freeze(&mut store, &s.heap, &s.roots)
                .unwrap_or_else(|e| panic!("append after cut at op {i} byte {byte}: {e}"));
            let (mounted, _) = mount_region(region(store.flash(), REGION_LEN), 4);
            assert_eq!(mounted.unwrap().batches().len(), n + 1);
        }
    }
    // The last operation is the commit: only cuts at its very end can mount the new batch.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
    println!(
        "WRITE_SIZE {W}, old batch {with_old}, {how:?}: {} operations, {points} cut points, old {} / old+new {}",
        ops.len(),
        outcomes[0],
        outcomes[1]
    );
    points
}

#[test]
fn power_cut_sweep_after_existing_batch_write_size_4() {
    assert!(sweep::<4>(true) > 50);
}

#[test]
fn power_cut_sweep_after_existing_batch_write_size_1() {
    assert!(sweep::<1>(true) > 50);
}

#[test]
fn power_cut_sweep_after_existing_batch_rp2040_pages() {
    assert!(sweep::<256>(true) > 50);
}

#[test]
fn power_cut_sweep_first_batch() {
    assert!(sweep::<16>(false) > 50);
}

#[test]
fn power_cut_sweep_mapped_reopened_rp2040_pages() {
    assert!(sweep_with::<256>(true, Open::MappedReopened) > 50);
}

#[test]
fn power_cut_sweep_mapped_reopened_first_batch() {
    assert!(sweep_with::<4>(false, Open::MappedReopened) > 50);
}

/// Cut offsets inside `op` for the nested sweep (fewer: its start, middle and end).
fn few_offsets(op: &Op) -> Vec<u64> {
    let len = op.len();
    let mut v = vec![0, len / 2, len];
    v.dedup();
    v
}

/// Batches "a", "b", "c" (each spanning two sectors, each referring to the one before), then a
/// clear cut at every operation and byte offset, then "a" appended again with the same content
/// (so the same bytes and header CRC as the old batch 0), itself cut at every operation of the
/// first clear cuts. After every cut: the store opens without a word about foreign data, the
/// mount shows exactly what the store reports, and a cleared batch never comes back.
/// Returns (cut points, resurrections).
fn clear_sweep() -> (usize, usize) {
    const LEN: u32 = 16 * 4096;
    let mut heap = TestHeap::<4>::new();
    let mut store = Store::open(
        SimFlash::<1, 4, 4096>::new((REGION_OFFSET + LEN) as usize),
        store_cfg(LEN, 4),
    )
    .unwrap();
    let mut prev = None;
    let mut heads = Vec::new();
    let mut old0 = 0;
    for name in ["a", "b", "c"] {
        let head = chain(&mut heap, 40, 90);
        if let Some(p) = prev {
            heap.push_slot(head, Some("prev"), Value::Ref(p));
        }
        let appended = freeze(
            &mut store,
            &heap,
            &[Root::new(RootKind::MODULE, name, head)],
        )
        .unwrap();
        assert!(appended.span >= 2 * 4096);
        if name == "a" {
            old0 = header_crc_at(region(store.flash(), LEN), 0);
        }
        heads.push(head);
        prev = Some(load_frozen_root(
            &mut heap,
            region(store.flash(), LEN),
            name,
        ));
    }
    let base = store.into_inner();
    let a = [Root::new(RootKind::MODULE, "a", heads[0])];
    let mut dry = Store::open(base.clone(), store_cfg(LEN, 4)).unwrap();
    dry.flash_mut().record_ops(true);
    dry.clear().unwrap();
    let ops = dry.flash().ops().to_vec();
    let (mut points, mut resurrections) = (0, 0);
    let mut same_bytes = 0;
    for (i, op) in ops.iter().enumerate() {
        for byte in cut_offsets(op, 4) {
            points += 1;
            let mut flash = base.clone();
            flash.set_seed(i as u64 * 7919 + byte);
            flash.arm_power_cut(i as u64, byte);
            let mut store = Store::open(flash, store_cfg(LEN, 4)).unwrap();
            assert!(
                store.clear().is_err(),
                "op {i} byte {byte}: the cut stops the clear"
            );
            let mut flash = store.into_inner();
            flash.reboot();
            let mounted_after_cut = mounted_batches(region(&flash, LEN));
            let store = Store::open(flash.clone(), store_cfg(LEN, 4))
                .unwrap_or_else(|e| panic!("open after a cut clear at op {i} byte {byte}: {e}"));
            // The clear is atomic: from its first erase on, nothing mounts.
            assert_eq!(mounted_after_cut, 0, "op {i} byte {byte}");
            assert_eq!(store.batches(), 0);
            // Append "a" again, uninterrupted.
            let mut store = store;
            freeze(&mut store, &heap, &a).unwrap();
            if header_crc_at(region(store.flash(), LEN), 0) == old0 {
                same_bytes += 1;
            }
            let reported = store.batches() as usize;
            let mounted = mounted_batches(region(store.flash(), LEN));
            if mounted != reported {
                resurrections += 1;
            }
            assert_eq!((reported, mounted), (1, 1), "op {i} byte {byte}");
            // The same append, cut at each of its operations (for the first operations of the
            // clear: the leftovers differ most there), then recovered.
            if i < 2 {
                let mut rec = Store::open(flash.clone(), store_cfg(LEN, 4)).unwrap();
                rec.flash_mut().record_ops(true);
                freeze(&mut rec, &heap, &a).unwrap();
                let append_ops = rec.flash().ops().to_vec();
                for (j, op2) in append_ops.iter().enumerate() {
                    for byte2 in few_offsets(op2) {
                        points += 1;
                        let mut f2 = flash.clone();
                        f2.set_seed(j as u64 * 104_729 + byte2);
                        f2.arm_power_cut(j as u64, byte2);
                        let mut s2 = Store::open(f2, store_cfg(LEN, 4)).unwrap();
                        assert!(freeze(&mut s2, &heap, &a).is_err());
                        let mut f2 = s2.into_inner();
                        f2.reboot();
                        let s2 = Store::open(f2, store_cfg(LEN, 4)).unwrap_or_else(|e| {
                            panic!("open after clear cut {i}/{byte}, append cut {j}/{byte2}: {e}")
                        });
                        let reported = s2.batches() as usize;
                        let mounted = mounted_batches(region(s2.flash(), LEN));
                        if mounted != reported || reported > 1 {
                            resurrections += 1;
                        }
                        let mut s2 = s2;
                        freeze(&mut s2, &heap, &a).unwrap();
                        let mounted = mounted_batches(region(s2.flash(), LEN));
                        if mounted != reported + 1 {
                            resurrections += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(
        same_bytes > 0,
        "the re-appended batch 0 has the old batch 0's bytes"
    );
    (points, resurrections)
}

fn mounted_batches(region: &[u8]) -> usize {
    match mount_region(region, 4).0 {
        Ok(m) => m.batches().len(),
        Err(MountError::NoCommittedBatch { .. }) => 0,
        Err(e) => panic!("mount: {e}"),
    }
}

fn header_crc_at(region: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(region[at + 140..at + 144].try_into().unwrap())
}

#[test]
fn power_cut_sweep_append_three_clear_reappend() {
    let (points, resurrections) = clear_sweep();
    println!(
        "append x3 -> clear (cut) -> re-append: {points} cut points, {resurrections} resurrections"
    );
    assert!(points > 100, "{points}");
    assert_eq!(resurrections, 0);
}
