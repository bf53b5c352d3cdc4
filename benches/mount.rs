//! Mount cost: validate an image (headers, CRCs, object map, every pointer word) and copy its
//! RAM section's initial state, per KB of image.
//!
//! Images are made once per size, outside the timed region, by freezing the synthetic heap
//! (`support::Graph`) through the real store into the simulated flash. The timed call is
//! `flashfreeze::mount::mount` on the region's mapped bytes. Bytes counted: the batch's span on
//! flash (header, both sections, maps, commit, rounded to sectors).
//!
//! Run: `cargo bench --bench mount`.

#[path = "support/mod.rs"]
mod support;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use flashfreeze::mount::mount;
use std::rc::Rc;
use support::{Graph, PerSize, RAM_LEN, erased, freeze_to_store, layout, read_cfg};

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

fn main() {
    divan::main();
}
