//! The frozen modules' lifecycle on a store (format version 3): source records, re-freeze
//! supersedes, remove, info, compaction, and the power-cut sweeps of remove and compact.

mod image_support;

use flashfreeze::mount::{MountError, Mounted};
use flashfreeze::sim::{Op, SimError, SimFlash};
use flashfreeze::store::records::{self, source_name};
use flashfreeze::store::{Store, StoreError, staged_copy_present};
use flashfreeze::testing::{Obj, TestHeap, Value};
use flashfreeze::{Root, RootKind};
use image_support::*;

const LEN: u32 = 24 * 4096;
type Flash = SimFlash<1, 4, 4096>;
type Vm = TestHeap<4>;

/// The heap and its module graphs: `a` (version 1), `b` (refers to `a`'s first version's
/// frozen copy, as `from a import f` would), `a2` (version 2).
struct World {
    heap: Vm,
    a: Obj,
    b: Obj,
    a2: Obj,
}

fn world() -> World {
    let mut heap = Vm::new();
    let mut rng = Rng(0xA11CE);
    let a = module(&mut heap, &mut rng, 40, 20);
    let b = module(&mut heap, &mut rng, 30, 30);
    let a2 = module(&mut heap, &mut rng, 50, 25);
    World { heap, a, b, a2 }
}

/// A module object: a random graph and a chain of `n` objects (two sectors' worth for 30).
fn module(heap: &mut Vm, rng: &mut Rng, graph: usize, n: usize) -> Obj {
    let m = heap.alloc(flashfreeze::testing::Kind::Immutable, &[]);
    for r in random_graph(heap, rng, graph) {
        heap.push_slot(m, None, Value::Ref(r));
    }
    let tail = chain(heap, n, 60);
    heap.push_slot(m, Some("tail"), Value::Ref(tail));
    m
}

fn freeze_module(store: &mut Store<'_, Flash>, heap: &Vm, name: &str, obj: Obj, hash: &str) {
    let src = source_name(name, &format!("/lib/{name}.py"), hash).unwrap();
    let roots = [
        Root::new(RootKind::MODULE, name, obj),
        Root::new(RootKind::SOURCE, &src, obj),
    ];
    freeze(store, heap, &roots).expect("freeze");
}

/// a, b, then a again (new version): three batches.
fn three_batches(w: &World) -> Flash {
    let mut store = Store::open(
        Flash::new((REGION_OFFSET + LEN) as usize),
        store_cfg(LEN, 4),
    )
    .unwrap();
    freeze_module(&mut store, &w.heap, "a", w.a, "h-a1");
    freeze_module(&mut store, &w.heap, "b", w.b, "h-b1");
    freeze_module(&mut store, &w.heap, "a", w.a2, "h-a2");
    store.into_inner()
}

/// Check that `m` has module `name` as a frozen copy of `orig`.
fn assert_module(w: &World, region: &[u8], ram: &[u8], m: &Mounted<'_>, name: &str, orig: Obj) {
    let at = m
        .root(RootKind::MODULE, name)
        .unwrap_or_else(|| panic!("{name} mounted"));
    assert_frozen_copy(&w.heap, region, ram, m, orig, at);
}

#[test]
fn refreeze_supersedes_remove_then_compact() {
    let w = world();
    let mut store = Store::open(three_batches(&w), store_cfg(LEN, 4)).unwrap();
    // Supersede: the latest a, with its own source record; b intact.
    let mods = store.modules().unwrap();
    let names: Vec<_> = mods.iter().map(|m| (m.name.as_str(), m.batch)).collect();
    assert_eq!(names, [("b", 1), ("a", 2)]);
    let a = mods.iter().find(|m| m.name == "a").unwrap();
    let src = a.source.as_ref().unwrap();
    assert_eq!(
        (src.path.as_str(), src.hash.as_str()),
        ("/lib/a.py", "h-a2")
    );
    assert!(a.flash_bytes > 0 && a.objects > 10);
    {
        let region_bytes = region(store.flash(), LEN);
        let (m, ram) = mount_region(region_bytes, 4);
        let m = m.unwrap();
        assert_module(&w, region_bytes, &ram, &m, "a", w.a2);
        assert_module(&w, region_bytes, &ram, &m, "b", w.b);
    }
    // Remove b: one more batch, one sector; then b does not mount.
    let before = store.info::<Vm>(4).unwrap();
    let rm = store.remove::<Vm>("b").unwrap();
    assert_eq!((rm.index, rm.span), (3, 4096));
    let region_bytes = region(store.flash(), LEN).to_vec();
    let (m, _) = mount_region(&region_bytes, 4);
    let m = m.unwrap();
    assert_eq!(m.root(RootKind::MODULE, "b"), None);
    assert!(m.root(RootKind::MODULE, "a").is_some());
    assert_eq!(m.resolve().dead.len(), 2);
    // Removing it again, or a module never frozen: a typed error, nothing written.
    assert_eq!(store.remove::<Vm>("b"), Err(StoreError::NotFrozen));
    assert_eq!(store.remove::<Vm>("zz"), Err(StoreError::NotFrozen));
    assert_eq!(region(store.flash(), LEN), &region_bytes[..]);
    // Info: the old a and b are dead, and a compaction would give them back.
    let info = store.info::<Vm>(4).unwrap();
    assert_eq!((info.batches, info.modules), (4, 1));
    assert_eq!(info.region_used, before.region_used + 4096);
    assert!(
        info.dead_bytes.0 > before.dead_bytes.0,
        "{info:?} {before:?}"
    );
    assert!(info.reclaimable > 0 && info.reclaimable_ram > 0, "{info:?}");
    assert_eq!(info.region_used - info.reclaimable, info.compacted_span);
    // Compact: one batch; each sector erased at most once; a (new) still mounts, b is gone.
    store.flash_mut().reset_counters();
    let c = store.compact::<Vm>(4).unwrap();
    assert_eq!(c.batches_before, 4);
    assert_eq!(c.region_used, (info.region_used, info.compacted_span));
    assert!(c.objects.1 > 0, "{c:?}");
    let erases = &store.flash().counters().erases_per_sector;
    assert!(erases.iter().all(|&n| n <= 1), "{erases:?}");
    assert_eq!(store.batches(), 1);
    assert_eq!(store.free_bytes(), u64::from(LEN) - info.compacted_span);
    let region_bytes = region(store.flash(), LEN);
    let (m, ram) = mount_region(region_bytes, 4);
    let m = m.unwrap();
    assert_eq!(m.batches().len(), 1);
    assert_module(&w, region_bytes, &ram, &m, "a", w.a2);
    assert_eq!(m.root(RootKind::MODULE, "b"), None);
    let r = m.resolve();
    assert_eq!(r.modules[0].source.as_ref().unwrap().hash, "h-a2");
    let after = store.info::<Vm>(4).unwrap();
    assert_eq!(after.reclaimable, 0, "{after:?}");
    assert_eq!(after.region_used, info.compacted_span);
    // The store reopens on it (the staged copy after the chain is its own) and appends.
    let flash = store.into_inner();
    let mut store = Store::open(flash, store_cfg(LEN, 4)).unwrap();
    assert!(!store.pending_compaction().unwrap());
    freeze_module(&mut store, &w.heap, "b", w.b, "h-b2");
    let region_bytes = region(store.flash(), LEN);
    let (m, ram) = mount_region(region_bytes, 4);
    let m = m.unwrap();
    assert_module(&w, region_bytes, &ram, &m, "b", w.b);
    assert_module(&w, region_bytes, &ram, &m, "a", w.a2);
}

#[test]
fn compaction_keeps_old_objects_a_live_module_still_reaches() {
    // b holds the first a's frozen root (`from a import f`): re-freezing a does not break b,
    // and compaction keeps what b reaches.
    let mut w = world();
    let mut store = Store::open(
        Flash::new((REGION_OFFSET + LEN) as usize),
        store_cfg(LEN, 4),
    )
    .unwrap();
    freeze_module(&mut store, &w.heap, "a", w.a, "h1");
    let fa = load_frozen_root(&mut w.heap, region(store.flash(), LEN), "a");
    let b = w.b;
    w.heap.push_slot(b, Some("a"), Value::Ref(fa));
    freeze_module(&mut store, &w.heap, "b", b, "h1");
    freeze_module(&mut store, &w.heap, "a", w.a2, "h2");
    let c = store.compact::<Vm>(4).unwrap();
    let region_bytes = region(store.flash(), LEN);
    let (m, ram) = mount_region(region_bytes, 4);
    let m = m.unwrap();
    assert_module(&w, region_bytes, &ram, &m, "a", w.a2);
    // Nothing was dead: the first a is reached through b, and every pointer of the copy
    // (b's to the first a included) validated at mount, onto an object start.
    assert_eq!(c.objects.1, 0, "{c:?}");
    assert!(m.root(RootKind::MODULE, "b").is_some());
}

#[test]
fn compaction_errors_change_nothing() {
    let w = world();
    // Empty image.
    let mut store = new_store(LEN, 4);
    assert_eq!(store.compact::<Vm>(4), Err(StoreError::NothingToCompact));
    // Every module removed.
    freeze_module(&mut store, &w.heap, "a", w.a, "h");
    store.remove::<Vm>("a").unwrap();
    let before = region(store.flash(), LEN).to_vec();
    assert_eq!(store.compact::<Vm>(4), Err(StoreError::NothingToCompact));
    assert_eq!(region(store.flash(), LEN), &before[..]);
    // Too little free space after the chain for the staged copy.
    const SMALL: u32 = 6 * 4096;
    let mut store = new_store(SMALL, 4);
    let mut rng = Rng(7);
    let mut heap = Vm::new();
    let big: Vec<Obj> = (0..2).map(|_| chain(&mut heap, 60, 90)).collect();
    let _ = &mut rng;
    freeze(
        &mut store,
        &heap,
        &[Root::new(RootKind::MODULE, "x", big[0])],
    )
    .unwrap();
    freeze(
        &mut store,
        &heap,
        &[Root::new(RootKind::MODULE, "y", big[1])],
    )
    .unwrap();
    let before = region(store.flash(), SMALL).to_vec();
    let e = store.compact::<Vm>(4).unwrap_err();
    assert!(matches!(e, StoreError::RegionFull { .. }), "{e:?}");
    assert_eq!(region(store.flash(), SMALL), &before[..]);
}

#[test]
fn refused_images_still_name_their_modules() {
    let w = world();
    let flash = three_batches(&w);
    let bytes = region(&flash, LEN);
    // Another firmware refuses it...
    let mut other = read_cfg(4);
    other.layout.firmware_id = b"another-firmware";
    let (m, _) = mount_with(bytes, &other);
    assert!(matches!(m, Err(MountError::Invalid(_))));
    // ...but its module names and source paths are readable.
    let r = records::refused_modules(bytes);
    let list: Vec<_> = r
        .modules
        .iter()
        .map(|m| (m.name.as_str(), m.source.as_ref().map(|s| s.path.as_str())))
        .collect();
    assert_eq!(list, [("b", Some("/lib/b.py")), ("a", Some("/lib/a.py"))]);
}

/// Cut offsets inside `op`: its start, a byte in, the middle, the end.
fn offsets(op: &Op) -> Vec<u64> {
    let len = op.len();
    let mut v = vec![0, 1, len / 2, len];
    v.sort_unstable();
    v.dedup();
    v
}

/// Compaction cut at every flash operation: after the cut the store opens, and before
/// recovery the mount is the old image, the compacted one, or nothing with a pending
/// compaction; after recovery it is the old or the compacted image, never neither, with `a`
/// (new) intact.
#[test]
fn power_cut_sweep_compact() {
    let w = world();
    let mut base = Store::open(three_batches(&w), store_cfg(LEN, 4)).unwrap();
    base.remove::<Vm>("b").unwrap();
    let base = base.into_inner();
    let mut dry = base.clone();
    dry.record_ops(true);
    let mut store = Store::open(dry, store_cfg(LEN, 4)).unwrap();
    store.compact::<Vm>(4).unwrap();
    let ops = store.flash().ops().to_vec();
    let (mut points, mut old, mut new, mut pending) = (0, 0, 0, 0);
    for (i, op) in ops.iter().enumerate() {
        for byte in offsets(op) {
            points += 1;
            let mut flash = base.clone();
            flash.set_seed(i as u64 * 977 + byte);
            flash.arm_power_cut(i as u64, byte);
            let mut store = Store::open(flash, store_cfg(LEN, 4)).unwrap();
            let r = store.compact::<Vm>(4);
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
            {
                let bytes = region(&flash, LEN);
                let (m, _) = mount_region(bytes, 4);
                match m {
                    Ok(m) => assert!(
                        [1, 4].contains(&m.batches().len()),
                        "op {i}: {} batches",
                        m.batches().len()
                    ),
                    Err(_) => pending += 1,
                }
            }
            let mut store = Store::open(flash, store_cfg(LEN, 4))
                .unwrap_or_else(|e| panic!("open after cut at op {i} byte {byte}: {e}"));
            let was_pending = store.pending_compaction().unwrap();
            // A header per sector answers for the recovery when it finds no staged copy
            // (what minivm's boot checks before opening a store).
            let staged = staged_copy_present(region(store.flash(), LEN), 4096);
            assert!(
                staged || !was_pending,
                "op {i} byte {byte}: a compaction pending without a staged copy's header"
            );
            let recovered = store.recover().unwrap();
            assert!(staged || !recovered, "op {i} byte {byte}: recovered");
            let bytes = region(store.flash(), LEN);
            let (m, ram) = mount_region(bytes, 4);
            let m = m.unwrap_or_else(|e| {
                panic!(
                    "nothing mounts after cut at op {i} byte {byte} (pending {was_pending}): {e}"
                )
            });
            match m.batches().len() {
                4 => old += 1,
                1 => new += 1,
                n => panic!("op {i} byte {byte}: {n} batches"),
            }
            assert_module(&w, bytes, &ram, &m, "a", w.a2);
            assert_eq!(m.root(RootKind::MODULE, "b"), None);
            // The store carries on: a compaction (again, or of the compacted image) and an
            // append both succeed.
            store.compact::<Vm>(4).unwrap();
            freeze_module(&mut store, &w.heap, "b", w.b, "h");
        }
    }
    assert!(
        old > 0 && new > 0 && pending > 0,
        "old {old} new {new} pending {pending}"
    );
    println!(
        "compact: {} operations, {points} cut points: old {old}, compacted {new}, pending before recovery {pending}",
        ops.len()
    );
}

/// Remove cut at every flash operation: b is present or removed, a always intact.
#[test]
fn power_cut_sweep_remove() {
    let w = world();
    let base = three_batches(&w);
    let mut dry = base.clone();
    dry.record_ops(true);
    let mut store = Store::open(dry, store_cfg(LEN, 4)).unwrap();
    store.remove::<Vm>("b").unwrap();
    let ops = store.flash().ops().to_vec();
    let (mut kept, mut removed) = (0, 0);
    for (i, op) in ops.iter().enumerate() {
        for byte in offsets(op) {
            let mut flash = base.clone();
            flash.set_seed(i as u64 * 31 + byte);
            flash.arm_power_cut(i as u64, byte);
            let mut store = Store::open(flash, store_cfg(LEN, 4)).unwrap();
            assert!(store.remove::<Vm>("b").is_err());
            let mut flash = store.into_inner();
            flash.reboot();
            let bytes = region(&flash, LEN);
            let (m, ram) = mount_region(bytes, 4);
            let m = m.unwrap();
            assert_module(&w, bytes, &ram, &m, "a", w.a2);
            match m.root(RootKind::MODULE, "b") {
                Some(_) => {
                    kept += 1;
                    assert_module(&w, bytes, &ram, &m, "b", w.b);
                }
                None => removed += 1,
            }
            let mut store = Store::open(flash, store_cfg(LEN, 4)).unwrap();
            let again = store.remove::<Vm>("b");
            assert!(
                again.is_ok() || again == Err(StoreError::NotFrozen),
                "{again:?}"
            );
        }
    }
    assert!(kept > 0 && removed > 0, "kept {kept} removed {removed}");
}

fn view(f: &Flash) -> &[u8] {
    &f.as_bytes()[REGION_OFFSET as usize..]
}

#[test]
fn modules_and_info_read_a_mapped_region_in_place() {
    // A mapped store lists and measures without copying the chain: the same answers as a
    // store reading it into RAM, and one module's reach is all that is live.
    let w = world();
    let mut store = Store::open(three_batches(&w), store_cfg(LEN, 4)).unwrap();
    store.remove::<Vm>("b").unwrap();
    let (mods, info) = (store.modules().unwrap(), store.info::<Vm>(4).unwrap());
    let mut mapped = Store::open_mapped(store.into_inner(), store_cfg(LEN, 4), view).unwrap();
    assert_eq!(mapped.modules().unwrap(), mods);
    assert_eq!(mapped.info::<Vm>(4).unwrap(), info);
    assert!(info.measured, "{info:?}");
    let [a] = &mods[..] else { panic!("{mods:?}") };
    assert_eq!(a.name, "a");
    assert_eq!((a.flash_bytes, a.ram_bytes), info.live_bytes, "{info:?}");
    // What the object-table walk of format v3's first lifecycle code counted for this world.
    assert_eq!((a.objects, a.flash_bytes), (27, 1840), "{a:?}");
    assert_eq!(info.dead_bytes, (4177, 213), "{info:?}");
}
