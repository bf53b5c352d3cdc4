//! The store's fast paths give the same results as its plain ones: a region read in place
//! (`Store::open_mapped`), a store reopened from what it knew (`Store::into_parts`,
//! `Store::reopen`, `Mounted::store_state`), and a CRC engine other than the table
//! (`StoreConfig::with_crc`, `ReadConfig::with_crc`). Where they cannot be trusted (a stale
//! state, a state of another region, a mapped view that is not the region, an engine that
//! computes wrong) they refuse with a typed error and write nothing.

mod image_support;

use std::cell::Cell;

use flashfreeze::image::crc::{CrcEngine, SoftwareCrc};
use flashfreeze::image::{DecodeError, Section};
use flashfreeze::mount::{MountError, mount};
use flashfreeze::sim::SimFlash;
use flashfreeze::store::{Store, StoreError};
use flashfreeze::testing::{Obj, TestHeap, Value};
use flashfreeze::{Root, RootKind};
use image_support::*;

const REGION_LEN: u32 = 8 * 4096;
type Flash = SimFlash<1, 4, 4096>;

/// The test region of the device, as the CPU would map it.
fn view(f: &Flash) -> &[u8] {
    &f.as_bytes()[REGION_OFFSET as usize..]
}

fn device() -> Flash {
    SimFlash::new((REGION_OFFSET + REGION_LEN) as usize)
}

/// Three modules, each pointing into the one frozen before it.
struct Modules {
    heap: TestHeap<4>,
    heads: Vec<Obj>,
}

fn modules() -> Modules {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(0xFA57);
    let heads = (0..3)
        .map(|_| random_graph(&mut heap, &mut rng, 50)[0])
        .collect();
    Modules { heap, heads }
}

const NAMES: [&str; 3] = ["a", "b", "c"];

/// Freeze module `i` into `store`, after pointing it at module `i - 1`'s frozen copy.
fn freeze_module(
    m: &mut Modules,
    store: &mut Store<'_, Flash>,
    i: usize,
) -> flashfreeze::store::Appended {
    if i > 0 {
        let prev = load_frozen_root(&mut m.heap, region(store.flash(), REGION_LEN), NAMES[i - 1]);
        m.heap.push_slot(m.heads[i], Some("prev"), Value::Ref(prev));
    }
    freeze(
        store,
        &m.heap,
        &[Root::new(RootKind::MODULE, NAMES[i], m.heads[i])],
    )
    .unwrap()
}

/// The bytes and batch summaries of the three appends through `open` (called before each).
fn three_appends(
    mut open: impl FnMut(Flash, Option<flashfreeze::store::StoreState>) -> Store<'static, Flash>,
) -> (Vec<u8>, Vec<flashfreeze::store::Appended>) {
    let mut m = modules();
    let (mut flash, mut state) = (device(), None);
    let mut appended = Vec::new();
    for i in 0..3 {
        let mut store = open(flash, state);
        appended.push(freeze_module(&mut m, &mut store, i));
        let parts = store.into_parts();
        flash = parts.0;
        state = parts.1;
    }
    (region(&flash, REGION_LEN).to_vec(), appended)
}

#[test]
fn a_mapped_store_and_a_reopened_one_write_the_same_bytes_as_the_plain_store() {
    let cfg = store_cfg(REGION_LEN, 4);
    let plain = three_appends(|f, _| Store::open(f, cfg).unwrap());
    let mapped = three_appends(|f, _| Store::open_mapped(f, cfg, view).unwrap());
    let reopened = three_appends(|f, state| match state {
        Some(s) => Store::reopen(f, cfg, Some(view), s).unwrap(),
        None => Store::open_mapped(f, cfg, view).unwrap(),
    });
    let reopened_plain = three_appends(|f, state| match state {
        Some(s) => Store::reopen(f, cfg, None, s).unwrap(),
        None => Store::open(f, cfg).unwrap(),
    });
    assert_eq!(plain, mapped);
    assert_eq!(plain, reopened);
    assert_eq!(plain, reopened_plain);
    let (mounted, _) = mount_region(&plain.0, 4);
    assert_eq!(mounted.unwrap().batches().len(), 3);
}

#[test]
fn a_store_reopened_from_a_mount_validates_nothing_again_and_appends_the_same_bytes() {
    let cfg = store_cfg(REGION_LEN, 4);
    let mut m = modules();
    let mut store = Store::open(device(), cfg).unwrap();
    freeze_module(&mut m, &mut store, 0);
    freeze_module(&mut m, &mut store, 1);
    let flash = store.into_inner();
    let mut reference = Store::open(flash.clone(), cfg).unwrap();
    let expected = freeze_module(&mut m, &mut reference, 2);
    // The same third append, from the mount's view of the first two batches.
    let mut m2 = modules();
    let mut s2 = Store::open(device(), cfg).unwrap();
    freeze_module(&mut m2, &mut s2, 0);
    freeze_module(&mut m2, &mut s2, 1);
    let flash = s2.into_inner();
    let bytes = region(&flash, REGION_LEN).to_vec();
    let mut ram = vec![0u8; RAM_LEN as usize];
    let state = mount(&bytes, &read_cfg(4), &mut ram).unwrap().store_state();
    assert_eq!(state.batches(), 2);
    let mut store = Store::reopen(flash, cfg, Some(view), state).unwrap();
    assert_eq!(freeze_module(&mut m2, &mut store, 2), expected);
    assert_eq!(
        region(store.flash(), REGION_LEN),
        region(reference.flash(), REGION_LEN)
    );
}

#[test]
fn a_stale_state_is_refused_and_nothing_is_written() {
    let cfg = store_cfg(REGION_LEN, 4);
    let mut m = modules();
    let mut store = Store::open_mapped(device(), cfg, view).unwrap();
    freeze_module(&mut m, &mut store, 0);
    let (flash, state) = store.into_parts();
    let stale = state.unwrap();
    // Another handle appends meanwhile.
    let mut other = Store::open(flash, cfg).unwrap();
    freeze_module(&mut m, &mut other, 1);
    let flash = other.into_inner();
    let before = flash.as_bytes().to_vec();
    let mut store = Store::reopen(flash, cfg, Some(view), stale).unwrap();
    let r = freeze(
        &mut store,
        &m.heap,
        &[Root::new(RootKind::MODULE, "c", m.heads[2])],
    );
    assert!(matches!(r, Err(StoreError::Changed { .. })), "{r:?}");
    assert_eq!(store.flash().as_bytes(), &before[..], "nothing written");
}

#[test]
fn a_state_of_another_region_and_a_view_that_is_not_the_region_are_refused() {
    let cfg = store_cfg(REGION_LEN, 4);
    let (_, state) = Store::open(device(), cfg).unwrap().into_parts();
    let smaller = store_cfg(REGION_LEN - 4096, 4);
    let e = Store::reopen(device(), smaller, None, state.unwrap()).unwrap_err();
    assert!(matches!(e, StoreError::Geometry { .. }), "{e:?}");
    fn whole(f: &Flash) -> &[u8] {
        f.as_bytes()
    }
    let e = Store::open_mapped(device(), cfg, whole).unwrap_err();
    assert_eq!(
        e,
        StoreError::Geometry {
            what: "the mapped view is not the region's bytes"
        }
    );
}

/// The table's CRC, counting the bytes it is given.
#[derive(Default)]
struct Counting {
    bytes: Cell<usize>,
}

impl CrcEngine for Counting {
    fn update(&self, crc: u32, bytes: &[u8]) -> u32 {
        self.bytes.set(self.bytes.get() + bytes.len());
        SoftwareCrc.update(crc, bytes)
    }
}

/// A broken engine: one bit off.
struct Wrong;

impl CrcEngine for Wrong {
    fn update(&self, crc: u32, bytes: &[u8]) -> u32 {
        SoftwareCrc.update(crc, bytes) ^ 1
    }
}

#[test]
fn the_crc_engine_computes_every_crc_and_a_wrong_one_commits_nothing_and_mounts_nothing() {
    let counting = Counting::default();
    let cfg = store_cfg(REGION_LEN, 4);
    let plain = three_appends(|f, _| Store::open(f, cfg).unwrap());
    let engine_cfg = cfg.with_crc(&counting);
    for open_mapped in [false, true] {
        counting.bytes.set(0);
        let mut m = modules();
        let mut flash = device();
        for i in 0..3 {
            let mut store = if open_mapped {
                Store::open_mapped(flash, engine_cfg, view).unwrap()
            } else {
                Store::open(flash, engine_cfg).unwrap()
            };
            freeze_module(&mut m, &mut store, i);
            flash = store.into_inner();
        }
        assert_eq!(
            region(&flash, REGION_LEN),
            &plain.0[..],
            "mapped {open_mapped}"
        );
        // Each append: its stream (the pages and the contents), its read-back, its validation:
        // about four times each batch's bytes.
        assert!(
            counting.bytes.get()
                > 4 * plain
                    .1
                    .iter()
                    .map(|a| a.map_bytes.0 as usize)
                    .sum::<usize>()
        );
    }
    // Mount through the engine: it is given every byte the commit records' CRCs cover, and
    // each header's (all but its CRC field).
    counting.bytes.set(0);
    let mut ram = vec![0u8; RAM_LEN as usize];
    let m = mount(&plain.0, &read_cfg(4).with_crc(&counting), &mut ram).unwrap();
    assert_eq!(m.batches().len(), 3);
    let image = flashfreeze::image::Image::open(&plain.0, &read_cfg(4)).unwrap();
    let covered: usize = image
        .batches()
        .iter()
        .map(|b| {
            let h = b.header();
            // Roots table to the start bitmap's end (format 4).
            let end = h.meta_end().unwrap();
            (h.flash.len.get() + h.ram.len.get() + end - h.roots_table.offset.get()) as usize
                + flashfreeze::unstable::format::HEADER_CRC_OFFSET
        })
        .sum();
    assert_eq!(counting.bytes.get(), covered);
    // A wrong engine: the mount refuses the first batch, an append is never committed.
    let e = mount(&plain.0, &read_cfg(4).with_crc(&Wrong), &mut ram).unwrap_err();
    assert!(
        matches!(
            e,
            MountError::Invalid(DecodeError::Crc {
                batch: 0,
                section: Section::Flash,
                ..
            })
        ),
        "{e}"
    );
    let mut m = modules();
    let mut store = Store::open(device(), cfg.with_crc(&Wrong)).unwrap();
    let r = freeze(
        &mut store,
        &m.heap,
        &[Root::new(RootKind::MODULE, "a", m.heads[0])],
    );
    assert!(r.is_err(), "{r:?}");
    let (mounted, _) = mount_region(region(store.flash(), REGION_LEN), 4);
    assert!(matches!(mounted, Err(MountError::NoCommittedBatch { .. })));
    let _ = &mut m;
}
