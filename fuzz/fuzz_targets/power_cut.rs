//! Arbitrary sequences of freezes, clears, power cuts, reboots and mounts against a model of
//! the committed chain: the store never programs a word twice, never panics, and every mount
//! yields exactly the batches committed (or one more when a cut hit the very end of a commit).
#![no_main]

use arbitrary::Arbitrary;
use flashfreeze::mount::MountError;
use flashfreeze::sim::{SimError, SimFlash};
use flashfreeze::store::{Store, StoreError};
use flashfreeze::testing::TestHeap;
use flashfreeze::{Root, RootKind};
use flashfreeze_fuzz::{REGION_LEN, graph, mount_checked, store_cfg};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Action {
    Freeze(Vec<u8>),
    Clear,
    Cut { after: u8, byte: u16 },
    Reboot,
    Mount,
}

type Flash = SimFlash<1, 16, 4096>;

fuzz_target!(|actions: Vec<Action>| {
    if actions.len() > 24 {
        return;
    }
    let mut flash = Flash::new(REGION_LEN as usize);
    // The model: how many batches a mount may find, at least and at most.
    let (mut lo, mut hi) = (0usize, 0usize);
    for action in actions {
        match action {
            Action::Cut { after, byte } => {
                flash.arm_power_cut(u64::from(after % 32), u64::from(byte))
            }
            Action::Reboot => flash.reboot(),
            // A powered-off device refuses everything; the VM would reboot first.
            Action::Freeze(_) | Action::Clear if flash.is_powered_off() => {}
            Action::Freeze(bytes) => {
                let mut store =
                    Store::open(flash, store_cfg()).unwrap_or_else(|e| panic!("open: {e}"));
                let mut heap = TestHeap::<4>::new();
                let root = graph(&mut heap, &bytes);
                let roots = [Root::new(RootKind::MODULE, "m", root)];
                let outcome = store
                    .target()
                    .ok()
                    .and_then(|t| flashfreeze::plan(&heap, &roots, t).ok())
                    .map(|plan| store.append(&plan, &heap));
                match outcome {
                    Some(Ok(_)) => (lo, hi) = (lo + 1, hi + 1),
                    Some(Err(StoreError::Flash {
                        error: SimError::PowerLost,
                        ..
                    })) => hi += 1,
                    Some(Err(StoreError::RegionFull { .. })) | None => {}
                    Some(Err(e)) => panic!("append: {e}"),
                }
                flash = store.into_inner();
            }
            Action::Clear => {
                let mut store =
                    Store::open(flash, store_cfg()).unwrap_or_else(|e| panic!("open: {e}"));
                match store.clear() {
                    // Interrupted or not, the first dirty sector (batch 0's) is gone first.
                    Ok(_)
                    | Err(StoreError::Flash {
                        error: SimError::PowerLost,
                        ..
                    }) => (lo, hi) = (0, 0),
                    Err(e) => panic!("clear: {e}"),
                }
                flash = store.into_inner();
            }
            Action::Mount => {
                flash.reboot();
                let n = match mount_checked(flash.as_bytes()) {
                    Ok(n) => n,
                    Err(MountError::NoCommittedBatch { .. }) => 0,
                    Err(e) => panic!("mount after cuts: {e}"),
                };
                assert!(
                    (lo..=hi).contains(&n),
                    "mounted {n} batches, model {lo}..={hi}"
                );
                (lo, hi) = (n, n);
            }
        }
    }
});
