//! A valid two-batch image, mutated (bit flips, byte sets, truncation, splices; optionally
//! re-sealed so the CRCs pass and the deeper checks run), then mounted: never a panic, and a
//! mount that succeeds hands out no wild pointer.
#![no_main]

use arbitrary::Arbitrary;
use flashfreeze::sim::SimFlash;
use flashfreeze::store::Store;
use flashfreeze::testing::TestHeap;
use flashfreeze::unstable::reseal_batch;
use flashfreeze::{Root, RootKind};
use flashfreeze_fuzz::{REGION_LEN, graph, mount_checked, store_cfg};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Mutation {
    Flip { at: u16, bit: u8 },
    Set { at: u16, value: u8 },
    Word { at: u16, value: u32 },
    Truncate { len: u16 },
    Splice { from: u16, to: u16, len: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    graph_a: Vec<u8>,
    graph_b: Vec<u8>,
    mutations: Vec<Mutation>,
    reseal: bool,
}

fn build(input: &Input) -> Vec<u8> {
    let mut heap = TestHeap::<4>::new();
    let flash = SimFlash::<1, 4, 4096>::new(REGION_LEN as usize);
    let mut store = Store::open(flash, store_cfg()).unwrap();
    for (name, bytes) in [("a", &input.graph_a), ("b", &input.graph_b)] {
        let root = graph(&mut heap, bytes);
        let target = store.target().unwrap();
        let Ok(plan) = flashfreeze::plan(&heap, &[Root::new(RootKind::MODULE, name, root)], target)
        else {
            break;
        };
        if store.append(&plan, &heap).is_err() {
            break;
        }
    }
    store.flash().as_bytes().to_vec()
}

fuzz_target!(|input: Input| {
    if input.mutations.len() > 16 {
        return;
    }
    let mut region = build(&input);
    for m in &input.mutations {
        let len = region.len();
        if len == 0 {
            break;
        }
        match *m {
            Mutation::Flip { at, bit } => region[usize::from(at) % len] ^= 1 << (bit % 8),
            Mutation::Set { at, value } => region[usize::from(at) % len] = value,
            Mutation::Word { at, value } => {
                let at = (usize::from(at) % len) & !3;
                if at + 4 <= len {
                    region[at..at + 4].copy_from_slice(&value.to_le_bytes());
                }
            }
            Mutation::Truncate { len: to } => region.truncate(usize::from(to)),
            Mutation::Splice { from, to, len: n } => {
                let (from, to, n) = (
                    usize::from(from) % len,
                    usize::from(to) % len,
                    usize::from(n),
                );
                let n = n.min(len - from).min(len - to);
                region.copy_within(from..from + n, to);
            }
        }
    }
    if input.reseal {
        // Re-seal each batch so the validator's deeper checks see the edit.
        let mut at = 0;
        while at + 4096 <= region.len() {
            let _ = reseal_batch(&mut region[at..at + 4096]);
            at += 4096;
        }
    }
    let _ = mount_checked(&region);
});
