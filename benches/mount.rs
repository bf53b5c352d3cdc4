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

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use flashfreeze::image::Layout;
use flashfreeze::image::read::ReadConfig;
use flashfreeze::mount::mount;
use flashfreeze::sim::SimFlash;
use flashfreeze::store::{Store, StoreConfig};
use support::{Graph, STATICS};

const FW: &[u8] = b"flashfreeze-bench";
const RAM_LEN: u64 = 1 << 20;

fn layout() -> Layout<'static> {
    Layout {
        region_address: 0x1010_0000,
        ram_address: 0x2003_0000,
        ram_len: RAM_LEN,
        firmware_id: FW,
    }
}

struct Image {
    region: Vec<u8>,
    span: u64,
    objects: usize,
}

thread_local! {
    static IMAGES: RefCell<HashMap<usize, Rc<Image>>> = RefCell::new(HashMap::new());
}

/// The image of a graph of about `n` objects, made on first use (at most 10,000 objects when
/// run as a test).
fn image(n: usize) -> Rc<Image> {
    let n = if support::is_bench() {
        n
    } else {
        n.min(10_000)
    };
    IMAGES.with(|c| {
        c.borrow_mut()
            .entry(n)
            .or_insert_with(|| {
                let g = Graph::build(n);
                let region = ((g.frozen_bytes * 2 + 64 * 1024) as usize).next_multiple_of(4096);
                let cfg = StoreConfig {
                    region_offset: 0,
                    region_len: region as u32,
                    layout: layout(),
                    ref_bytes: 4,
                };
                let mut store =
                    Store::open(SimFlash::<1, 4, 4096>::new(region), cfg).expect("open");
                let plan = flashfreeze::plan(&g, &g.roots(), store.target().expect("target"))
                    .expect("plan");
                let appended = store.append(&plan, &g).expect("append");
                Rc::new(Image {
                    region: store.into_inner().as_bytes().to_vec(),
                    span: u64::from(appended.span),
                    objects: g.heap_objects,
                })
            })
            .clone()
    })
}

#[divan::bench(args = [100, 1_000, 10_000, 100_000], max_time = 2)]
fn validate_and_copy(bencher: Bencher, n: usize) {
    let img = image(n);
    let cfg = ReadConfig {
        layout: layout(),
        ref_bytes: 4,
        statics: STATICS,
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

fn main() {
    divan::main();
}
