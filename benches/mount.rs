//! Mount cost: validate an image (headers, CRCs, object map, every pointer word) and copy its
//! RAM section's initial state, per KB of image.
//!
//! Images are made once per size, outside the timed region, by freezing the synthetic heap
//! (`support::Graph`) through the real store into the simulated flash. The timed call is
//! `flashfreeze::mount::mount` on the region's mapped bytes. Bytes counted: the batch's span on
//! flash (header, both sections, maps, commit, rounded to sectors).
//!
//! `chain_of_batches` mounts the same objects and pointers frozen as 1 batch and as 255
//! one-sector batches (48 objects of 16 pointer slots each, 195,840 pointers in all; every
//! pointer is looked up among the validated batches), side by side: validation is linear in
//! pointers × log(batches), and the mount's memory does not grow with the objects (printed
//! before the run, from a counting allocator).
//!
//! `bitmap_vs_checkpoints` mounts one image with the bitmap of object starts and without it,
//! side by side.
//!
//! Run: `cargo bench --bench mount`.

#[path = "support/mod.rs"]
mod support;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use flashfreeze::image::ReadConfig;
use flashfreeze::mount::mount;
use flashfreeze::sim::SimFlash;
use flashfreeze::store::{Store, StoreConfig};
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::{Root, RootKind};
use std::alloc::System;
use std::rc::Rc;
use support::{
    Counting, Graph, PerSize, RAM_LEN, erased, freeze_to_store, is_bench, layout, peak_during,
    read_cfg,
};

#[global_allocator]
static ALLOC: Counting<System> = Counting { inner: System };

struct Image {
    region: Vec<u8>,
    span: u64,
    objects: usize,
}

thread_local! {
    static IMAGES: PerSize<Image> = PerSize::default();
}

/// The image of a graph of about `n` objects, made on first use.
fn image(n: usize) -> Rc<Image> {
    IMAGES.with(|c| {
        c.get(n, |n| {
            let g = Graph::build(n);
            let (appended, flash) = freeze_to_store(&g, &g.roots(), erased(&g), layout());
            Image {
                region: flash.as_bytes().to_vec(),
                span: u64::from(appended.span),
                objects: g.heap_objects,
            }
        })
    })
}

#[divan::bench(args = [100, 1_000, 10_000, 100_000], max_time = 2)]
fn validate_and_copy(bencher: Bencher, n: usize) {
    let img = image(n);
    let cfg = read_cfg();
    let mut ram = vec![0u8; RAM_LEN as usize];
    bencher
        .counter(BytesCount::new(img.span))
        .counter(ItemsCount::new(img.objects))
        .bench_local(|| {
            mount(&img.region, &cfg, &mut ram)
                .expect("mount")
                .batches()
                .len()
        });
}

/// The same mount two ways in one run: with the bitmap of object starts (the fast object-map
/// and pointer passes over the mapped region) and without one (`with_start_bitmap_limit(0)`:
/// the general decoder, each pointer target found from the object map's checkpoints, the path
/// before the bitmap). Both validate every pointer word and every CRC.
#[divan::bench(args = ["bitmap", "checkpoints"], max_time = 2)]
fn bitmap_vs_checkpoints(bencher: Bencher, path: &str) {
    let img = image(10_000);
    let cfg = match path {
        "bitmap" => read_cfg(),
        _ => read_cfg().with_start_bitmap_limit(0),
    };
    let mut ram = vec![0u8; RAM_LEN as usize];
    bencher
        .counter(BytesCount::new(img.span))
        .counter(ItemsCount::new(img.objects))
        .bench_local(|| {
            mount(&img.region, &cfg, &mut ram)
                .expect("mount")
                .batches()
                .len()
        });
}

/// Objects per batch of [`chain_image`], and pointer slots per object.
const GROUP: usize = 48;
const SLOTS: usize = 16;

struct ChainImage {
    region: Vec<u8>,
    cfg: ReadConfig<'static>,
    pointers: usize,
}

thread_local! {
    static CHAINS: PerSize<ChainImage> = PerSize::default();
}

/// `groups` rings of [`GROUP`] objects with [`SLOTS`] pointers each (to the next objects of the
/// ring), frozen as one batch per ring (`per_batch`) or all in one batch.
fn chain_image(groups: usize, per_batch: bool) -> Rc<ChainImage> {
    let key = groups * 2 + usize::from(per_batch);
    CHAINS.with(|c| {
        c.get(key, |_| {
            let mut heap = TestHeap::<4>::new();
            let mut heads = Vec::new();
            for _ in 0..groups {
                let objs: Vec<Obj> = (0..GROUP)
                    .map(|_| heap.alloc(Kind::Immutable, &[]))
                    .collect();
                for (i, &o) in objs.iter().enumerate() {
                    for j in 0..SLOTS {
                        heap.push_slot(o, None, Value::Ref(objs[(i + j + 1) % GROUP]));
                    }
                }
                heads.push(objs[0]);
            }
            let names: Vec<String> = (0..groups).map(|i| format!("g{i}")).collect();
            let region_len = (groups as u32 + 1) * 4096 * if per_batch { 1 } else { 2 };
            let mut layout = layout();
            layout.ram_len = 4096;
            let cfg = StoreConfig::new(0, region_len, layout, flashfreeze::RefEncoding::ADDRESS_32);
            let mut store =
                Store::open(SimFlash::<1, 4, 4096>::new(region_len as usize), cfg).expect("open");
            let roots: Vec<Root<'_, Obj>> = heads
                .iter()
                .zip(&names)
                .map(|(&h, n)| Root::new(RootKind::MODULE, n, h))
                .collect();
            let batches: Vec<&[Root<'_, Obj>]> = if per_batch {
                roots.chunks(1).collect()
            } else {
                vec![&roots[..]]
            };
            for b in batches {
                let plan =
                    flashfreeze::plan(&heap, b, store.target().expect("target")).expect("plan");
                let a = store.append(&plan, &heap).expect("append");
                assert!(!per_batch || a.span == 4096, "one sector per batch");
            }
            ChainImage {
                region: store.into_inner().as_bytes().to_vec(),
                cfg: ReadConfig::new(layout, flashfreeze::RefEncoding::ADDRESS_32),
                pointers: groups * GROUP * SLOTS,
            }
        })
    })
}

/// 255 one-sector batches against one batch of the same objects and pointers.
#[divan::bench(args = ["1 batch", "255 batches"], max_time = 2)]
fn chain_of_batches(bencher: Bencher, shape: &str) {
    let groups = if is_bench() { 255 } else { 8 };
    let img = chain_image(groups, shape != "1 batch");
    let mut ram = vec![0u8; 4096];
    bencher
        .counter(ItemsCount::new(img.pointers))
        .bench_local(|| {
            mount(&img.region, &img.cfg, &mut ram)
                .expect("mount")
                .batches()
                .len()
        });
}

fn main() {
    // Memory, side by side: the mount's peak heap and what its result keeps.
    let groups = if is_bench() { 255 } else { 8 };
    for per_batch in [false, true] {
        let img = chain_image(groups, per_batch);
        let mut ram = vec![0u8; 4096];
        let (peak, (n, kept)) = peak_during(|| {
            let m = mount(&img.region, &img.cfg, &mut ram).expect("mount");
            (m.batches().len(), m.heap_bytes())
        });
        println!(
            "mount of {} pointers in {n} batches: peak heap {peak} B, kept {kept} B ({:.1} B per batch)",
            img.pointers,
            kept as f64 / n as f64
        );
    }
    for n in [1_000usize, 100_000] {
        let img = image(n);
        let cfg = read_cfg();
        let mut ram = vec![0u8; RAM_LEN as usize];
        let (peak, kept) = peak_during(|| {
            mount(&img.region, &cfg, &mut ram)
                .expect("mount")
                .heap_bytes()
        });
        println!(
            "mount of {} objects ({} B of image) in 1 batch: peak heap {peak} B, kept {kept} B",
            img.objects, img.span
        );
    }
    divan::main();
}
