//! The async store (`embedded-storage-async`) runs the blocking store's logic: the same bytes,
//! the same power-cut guarantees, and it yields to the executor while the flash works.

mod image_support;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use flashfreeze::sim::SimFlash;
use flashfreeze::store::{AsyncStore, Store};
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::{Root, RootKind};
use image_support::*;

const REGION_LEN: u32 = 8 * 4096;
type Flash = SimFlash<1, 4, 4096>;

/// Counts the wake-ups a future asks for.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Run `f` to completion; returns its output and how many times it was pending.
fn run<F: Future>(f: F) -> (F::Output, usize) {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    let mut pending = 0;
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return (v, pending),
            Poll::Pending => {
                pending += 1;
                assert!(
                    counter.0.load(Ordering::Relaxed) >= pending,
                    "pending without a wake-up"
                );
            }
        }
    }
}

fn graph() -> (TestHeap<4>, Obj) {
    let mut heap = TestHeap::<4>::new();
    let state = heap.alloc(Kind::Mutable, &[None]);
    let mut items = Vec::new();
    for i in 0..40 {
        items.push(heap.alloc_with(Kind::Immutable, vec![], vec![i as u8; 1 + i % 23]));
    }
    let module = heap.alloc(
        Kind::Immutable,
        &items
            .iter()
            .map(|&o| Some(o))
            .chain([Some(state)])
            .collect::<Vec<_>>(),
    );
    heap.set_slot(state, 0, Value::Ref(module));
    heap.live_roots.push(Value::Ref(module));
    heap.ram_area = vec![0; RAM_LEN as usize];
    (heap, module)
}

fn device() -> Flash {
    Flash::new((REGION_OFFSET + REGION_LEN) as usize)
}

#[test]
fn the_async_store_writes_the_bytes_the_blocking_store_writes_and_yields_while_it_works() {
    let (mut a, module) = graph();
    let mut b = a.clone();
    let roots = [Root::new(RootKind::MODULE, "m", module)];

    let mut blocking = Store::open(device(), store_cfg(REGION_LEN, 4)).unwrap();
    let want = blocking.freeze(&mut b, &roots).unwrap();

    let ((store, got), pending) = run(async {
        let mut store = AsyncStore::open(device(), store_cfg(REGION_LEN, 4))
            .await
            .unwrap();
        let got = store.freeze(&mut a, &roots).await.unwrap();
        (store, got)
    });
    assert_eq!(got, want);
    assert_eq!(
        region(store.flash(), REGION_LEN),
        region(blocking.flash(), REGION_LEN)
    );
    assert_eq!(a.live_roots, b.live_roots, "the same live fix-up");
    assert_eq!(a.ram_area, b.ram_area, "the same RAM section restored");
    // Every erase and program awaited the device, which yields once per operation.
    let ops = blocking.flash().counters().mutations() as usize;
    assert!(
        pending >= ops,
        "{pending} yields for {ops} erases and programs"
    );
}

#[test]
fn an_async_append_cut_at_any_operation_leaves_the_earlier_batch_and_the_next_append_works() {
    let (heap, module) = graph();
    let first = [Root::new(RootKind::MODULE, "first", module)];
    let second = [Root::new(RootKind::MODULE, "second", module)];
    // The operations of the second append, counted once without a cut.
    let base = {
        let mut store = Store::open(device(), store_cfg(REGION_LEN, 4)).unwrap();
        image_support::freeze(&mut store, &heap, &first).unwrap();
        store.into_inner()
    };
    let ops = {
        let mut flash = base.clone();
        flash.reset_counters();
        let mut store = Store::open(flash, store_cfg(REGION_LEN, 4)).unwrap();
        image_support::freeze(&mut store, &heap, &second).unwrap();
        store.flash().counters().mutations()
    };
    assert!(ops >= 2);
    for cut in 0..ops {
        let mut flash = base.clone();
        flash.reset_counters();
        flash.arm_power_cut(cut, 1);
        let (result, _) = run(async {
            let mut store = AsyncStore::open(flash, store_cfg(REGION_LEN, 4))
                .await
                .unwrap();
            let target = store.target().unwrap();
            let plan = flashfreeze::plan(&heap, &second, target).unwrap();
            let r = store.append(&plan, &heap).await;
            (r.is_err(), store.into_inner())
        });
        let (failed, mut flash) = result;
        assert!(failed, "cut {cut}: the append reports the power loss");
        flash.reboot();
        let (mounted, _) = mount_region(region(&flash, REGION_LEN), 4);
        let mounted = mounted.expect("the first batch still mounts");
        assert!(
            mounted.root(RootKind::MODULE, "first").is_some(),
            "cut {cut}"
        );
        // After the reboot the append goes through.
        let ((), _) = run(async {
            let mut store = AsyncStore::open(flash, store_cfg(REGION_LEN, 4))
                .await
                .unwrap();
            let plan = flashfreeze::plan(&heap, &second, store.target().unwrap()).unwrap();
            store.append(&plan, &heap).await.unwrap();
            let flash = store.into_inner();
            let (m, _) = mount_region(region(&flash, REGION_LEN), 4);
            assert_eq!(m.unwrap().batches().len(), 2, "cut {cut}");
        });
    }
}

#[test]
fn an_async_clear_leaves_nothing_that_mounts() {
    let (heap, module) = graph();
    let ((), _) = run(async {
        let mut store = AsyncStore::open(device(), store_cfg(REGION_LEN, 4))
            .await
            .unwrap();
        let plan = flashfreeze::plan(
            &heap,
            &[Root::new(RootKind::MODULE, "m", module)],
            store.target().unwrap(),
        )
        .unwrap();
        store.append(&plan, &heap).await.unwrap();
        assert_eq!(store.batches(), 1);
        assert!(store.clear().await.unwrap() >= 1);
        let flash = store.into_inner();
        let (m, _) = mount_region(region(&flash, REGION_LEN), 4);
        assert!(m.is_err());
    });
}
