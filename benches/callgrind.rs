//! One freeze of one size, for instruction counts under callgrind (repeatable on a noisy host).
//!
//! ```text
//! cargo bench --bench callgrind --no-run   # prints the executable's path
//! valgrind --tool=callgrind --toggle-collect='*measured*' <exe> <mode> <n>
//! ```
//!
//! `mode` is `side` (plan + write, side table), `inobj` (plan_in_object + write), `naive` (the
//! baseline), `walk` (the VM's own work per object, no freezer), `plan` (plan only, side table),
//! `store` (plan + `Store::append` to an erased simulated flash) or `mount` (validate + copy the
//! RAM section of the image `store` makes). Only `measured` is counted: the graph, the erased
//! device, the image and the RAM area are made outside it. The script `benches/callgrind.sh` runs
//! every mode and size and prints instructions per object.
//!
//! Run without arguments (as `cargo bench` and `cargo test --benches` do), it freezes a small
//! graph once as a smoke test.

#[path = "support/mod.rs"]
mod support;

use flashfreeze::mount::mount;
use support::{
    Flash, Graph, RAM_LEN, erased, freeze_in_object, freeze_side_table, freeze_to_store, layout,
    naive, read_cfg,
};

const MODES: [&str; 7] = ["side", "inobj", "naive", "walk", "plan", "store", "mount"];

/// What a mode works on, made outside the counted region: the erased device for `store`; the
/// image (and its batch span) and the RAM area for `mount`.
#[derive(Default)]
struct Inputs {
    flash: Option<Flash>,
    region: Vec<u8>,
    span: u64,
    ram: Vec<u8>,
}

impl Inputs {
    fn new(mode: &str, g: &Graph) -> Self {
        match mode {
            "store" => Inputs {
                flash: Some(erased(g)),
                ..Inputs::default()
            },
            "mount" => {
                let (appended, flash) = freeze_to_store(g, &g.roots(), erased(g), layout());
                Inputs {
                    region: flash.as_bytes().to_vec(),
                    span: u64::from(appended.span),
                    ram: vec![0u8; RAM_LEN as usize],
                    ..Inputs::default()
                }
            }
            _ => Inputs::default(),
        }
    }
}

/// The counted work.
#[inline(never)]
fn measured(mode: &str, g: &Graph, inputs: &mut Inputs) -> u64 {
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
        "store" => {
            let flash = inputs.flash.take().expect("an erased device");
            u64::from(freeze_to_store(g, &g.roots(), flash, layout()).0.span)
        }
        "mount" => {
            let mounted = mount(&inputs.region, &read_cfg(), &mut inputs.ram).expect("mount");
            mounted.batches().len() as u64
        }
        other => panic!("unknown mode {other:?}: {}", MODES.join(", ")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, n) = match args.as_slice() {
        [mode, n] => (mode.as_str(), n.parse().expect("n: an object count")),
        _ => {
            let g = Graph::build(1_000);
            for mode in MODES {
                let mut inputs = Inputs::new(mode, &g);
                std::hint::black_box(measured(mode, &g, &mut inputs));
            }
            return;
        }
    };
    let g = Graph::build(n);
    let mut inputs = Inputs::new(mode, &g);
    let out = measured(mode, &g, &mut inputs);
    println!(
        "{mode} n={n} objects={} span={} out={out}",
        g.heap_objects, inputs.span
    );
}
