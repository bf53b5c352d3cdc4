//! One freeze of one size, for instruction counts under callgrind (repeatable on a noisy host).
//!
//! ```text
//! cargo bench --bench callgrind --no-run   # prints the executable's path
//! valgrind --tool=callgrind --toggle-collect='*measured*' <exe> <mode> <n>
//! ```
//!
//! `mode` is `side` (plan + write, side table), `inobj` (plan_in_object + write), `naive`
//! (the baseline), `walk` (the VM's own work per object, no freezer), `plan` (plan only, side table), `store` (plan + `Store::append` to the
//! simulated flash) or `mount` (validate + copy the RAM section of the image `store` made). Only `measured` is counted: the graph is built outside it. The script
//! `benches/callgrind.sh` runs every mode and size and prints instructions per object.
//!
//! Run without arguments (as `cargo bench` and `cargo test --benches` do), it freezes a small
//! graph once as a smoke test.

#[path = "support/mod.rs"]
mod support;

use flashfreeze::image::Layout;
use flashfreeze::image::read::ReadConfig;
use flashfreeze::mount::mount;
use flashfreeze::sim::SimFlash;
use flashfreeze::store::{Store, StoreConfig};
use support::{Graph, STATICS, freeze_in_object, freeze_side_table, naive};

type Flash = SimFlash<1, 4, 4096>;

/// The counted work. `region` is the image for `mount`, `flash` the erased device for `store`
/// (both made outside).
#[inline(never)]
fn measured(mode: &str, g: &Graph, region: &[u8], flash: Option<Flash>) -> u64 {
    match mode {
        "side" => freeze_side_table(g).1,
        "inobj" => freeze_in_object(g).1,
        "naive" => naive::freeze(g).len() as u64,
        "walk" => support::model_walk(g).1,
        "plan" => u64::from(
            flashfreeze::plan(g, &g.roots(), support::target())
                .expect("plan")
                .stats()
                .objects,
        ),
        "store" => store(g, flash.unwrap_or_else(|| erased(g))).0,
        "mount" => {
            let cfg = ReadConfig {
                layout: layout(),
                ref_bytes: 4,
                statics: STATICS,
            };
            let mut ram = vec![0u8; RAM_LEN as usize];
            let mounted = mount(region, &cfg, &mut ram).expect("mount");
            mounted.batches().len() as u64
        }
        other => panic!("unknown mode {other:?}: side, inobj, naive, walk, plan, store or mount"),
    }
}

const RAM_LEN: u64 = 1 << 20;

fn layout() -> Layout<'static> {
    Layout {
        region_address: 0x1010_0000,
        ram_address: 0x2003_0000,
        ram_len: RAM_LEN,
        firmware_id: b"flashfreeze-bench",
    }
}

/// An erased device large enough for `g`'s image.
fn erased(g: &Graph) -> Flash {
    Flash::new(((g.frozen_bytes * 2 + 64 * 1024) as usize).next_multiple_of(4096))
}

/// Plan and append `g` to the erased `flash`: (span, the device's bytes).
fn store(g: &Graph, flash: Flash) -> (u64, Vec<u8>) {
    let cfg = StoreConfig {
        region_offset: 0,
        region_len: flash.as_bytes().len() as u32,
        layout: layout(),
        ref_bytes: 4,
    };
    let mut store = Store::open(flash, cfg).expect("open");
    let target = store.target().expect("target");
    let plan = flashfreeze::plan(g, &g.roots(), target).expect("plan");
    let span = u64::from(store.append(&plan, g).expect("append").span);
    (span, store.into_inner().as_bytes().to_vec())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, n) = match args.as_slice() {
        [mode, n] => (mode.as_str(), n.parse().expect("n: an object count")),
        _ => {
            let g = Graph::build(1_000);
            let (_, region) = store(&g, erased(&g));
            for mode in ["side", "inobj", "naive", "walk", "plan", "store", "mount"] {
                std::hint::black_box(measured(mode, &g, &region, None));
            }
            return;
        }
    };
    let g = Graph::build(n);
    let (span, region) = if mode == "mount" {
        store(&g, erased(&g))
    } else {
        (0, Vec::new())
    };
    let flash = (mode == "store").then(|| erased(&g));
    let out = measured(mode, &g, &region, flash);
    println!(
        "{mode} n={n} objects={} span={span} out={out}",
        g.heap_objects
    );
}
