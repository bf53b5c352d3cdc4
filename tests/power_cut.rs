//! Power-cut sweep: a batch appended after an existing batch, power cut at every flash
//! operation and at several bytes inside each; after every cut the mount yields exactly the
//! old chain or the old chain plus the new batch, never another error and never a panic, and
//! the store appends again afterwards without programming any word twice.

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

/// Returns the number of cut points tried.
fn sweep<const W: usize>(with_old: bool) -> usize {
    let (s, base) = scenario::<W>(with_old);
    let mut dry = base.clone();
    dry.record_ops(true);
    let mut store = Store::open(dry, store_cfg(REGION_LEN, 4)).unwrap();
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
            let mut store = Store::open(flash, store_cfg(REGION_LEN, 4)).unwrap();
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
            let mut store = Store::open(flash, store_cfg(REGION_LEN, 4)).unwrap();
            freeze(&mut store, &s.heap, &s.roots)
                .unwrap_or_else(|e| panic!("append after cut at op {i} byte {byte}: {e}"));
            let (mounted, _) = mount_region(region(store.flash(), REGION_LEN), 4);
            assert_eq!(mounted.unwrap().batches().len(), n + 1);
        }
    }
    // The last operation is the commit: only cuts at its very end can mount the new batch.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
    println!(
        "WRITE_SIZE {W}, old batch {with_old}: {} operations, {points} cut points, old {} / old+new {}",
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
