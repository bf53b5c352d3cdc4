//! A committed batch the mount accepts and the full check refuses (a re-sealed start bitmap
//! that disagrees with its object map: the mount trusts the bitmap, `docs/image-format.md`,
//! "The mount's trust of the start bitmap") is never written over: a store whose check ends
//! the chain before it refuses to extend the chain, and lifecycle operations that would work
//! on the shorter chain are refused, with the flash left as it was.

mod image_support;

use flashfreeze::image::DecodeError;
use flashfreeze::sim::SimFlash;
use flashfreeze::store::{Store, StoreError};
use flashfreeze::testing::TestHeap;
use flashfreeze::{Root, RootKind};
use image_support::*;

const LEN: u32 = 12 * 4096;
type Flash = SimFlash<1, 4, 4096>;
type Vm = TestHeap<4>;

fn view(f: &Flash) -> &[u8] {
    &f.as_bytes()[REGION_OFFSET as usize..(REGION_OFFSET + LEN) as usize]
}

#[test]
fn lifecycle_operations_refuse_a_chain_the_full_check_ends_earlier() {
    let mut heap = Vm::new();
    let mut rng = Rng(77);
    let a = random_graph(&mut heap, &mut rng, 20);
    let a2 = random_graph(&mut heap, &mut rng, 20);
    let b = random_graph(&mut heap, &mut rng, 20);
    let c = random_graph(&mut heap, &mut rng, 20);
    let cfg = store_cfg(LEN, 4);
    let mut store = Store::open(Flash::new((REGION_OFFSET + LEN) as usize), cfg).unwrap();
    freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "a", a[0])]).unwrap();
    freeze(
        &mut store,
        &heap,
        &[Root::new(RootKind::MODULE, "a", a2[0])],
    )
    .unwrap();
    freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "b", b[0])]).unwrap();
    let mut dev = store.into_inner().as_bytes().to_vec();
    let r0 = REGION_OFFSET as usize;
    let b2 = mount_region(&dev[r0..r0 + LEN as usize], 4)
        .0
        .unwrap()
        .batches()[2]
        .offset as usize;
    reseal_fake_start(&mut dev[r0..r0 + LEN as usize], b2);
    let flash = Flash::from_bytes(&dev);

    // The boot's mount trusts batch 2; a store reopened from its state appends after it.
    let bytes = view(&flash).to_vec();
    let m = mount_region(&bytes, 4).0.unwrap();
    assert_eq!(m.batches().len(), 3, "{}", m.tail());
    let state = m.store_state();
    let mut store = Store::reopen(flash, cfg, Some(view), state).unwrap();
    freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "c", c[0])]).unwrap();
    assert_eq!(store.batches(), 4);
    let before = view(store.flash()).to_vec();
    let m = mount_region(&before, 4).0.unwrap();
    assert_eq!(m.batches().len(), 4);
    assert!(m.root(RootKind::MODULE, "c").is_some());

    // The lifecycle's full check ends the chain at batch 2: it refuses, naming why.
    let refused = |e: &StoreError<_>| {
        matches!(
            e,
            StoreError::Incompatible(DecodeError::Map { batch: 2, .. })
        )
    };
    let e = store.modules().unwrap_err();
    assert!(refused(&e), "modules: {e:?}");
    let e = store.compact::<Vm>(4).unwrap_err();
    assert!(refused(&e), "compact: {e:?}");
    assert_eq!(
        view(store.flash()),
        &before[..],
        "a refused compaction wrote to flash"
    );
}

#[test]
fn a_store_that_checks_fully_does_not_extend_a_chain_the_mount_trusts_further() {
    let mut heap = Vm::new();
    let mut rng = Rng(77);
    let a = random_graph(&mut heap, &mut rng, 20);
    let b = random_graph(&mut heap, &mut rng, 20);
    let c = random_graph(&mut heap, &mut rng, 20);
    let d = random_graph(&mut heap, &mut rng, 20);
    let cfg = store_cfg(LEN, 4);
    let mut store = Store::open(Flash::new((REGION_OFFSET + LEN) as usize), cfg).unwrap();
    freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "a", a[0])]).unwrap();
    freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "b", b[0])]).unwrap();
    let mut dev = store.into_inner().as_bytes().to_vec();
    let r0 = REGION_OFFSET as usize;
    reseal_fake_start(&mut dev[r0..r0 + LEN as usize], 4096);
    // A mapped store trusts batch 1 as the mount does, and appends "c" after it.
    let mut mapped = Store::open_mapped(Flash::from_bytes(&dev), cfg, view).unwrap();
    freeze(
        &mut mapped,
        &heap,
        &[Root::new(RootKind::MODULE, "c", c[0])],
    )
    .unwrap();
    assert_eq!(mapped.batches(), 3);
    let flash = mapped.into_inner();
    let before = view(&flash).to_vec();
    // A store on a device it cannot map checks batch 1 fully and ends the chain there: it
    // opens, but refuses to write over batch 1 and "c".
    let mut plain = Store::open(flash, cfg).unwrap();
    assert_eq!(plain.batches(), 1);
    let e = freeze(&mut plain, &heap, &[Root::new(RootKind::MODULE, "d", d[0])]).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Incompatible(DecodeError::Map { batch: 1, .. })
        ),
        "{e:?}"
    );
    assert_eq!(
        view(plain.flash()),
        &before[..],
        "a refused append wrote to flash"
    );
    let m = mount_region(&before, 4).0.unwrap();
    let names: Vec<String> = m
        .live_roots()
        .modules
        .iter()
        .map(|x| x.name.to_string())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
}
