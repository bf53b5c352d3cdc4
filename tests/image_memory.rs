//! The writer streams: appending a batch of ~70 KB allocates a page, one object, the roots and
//! a fixed room for the maps, never the image. Measured with a counting allocator (this test binary only).

mod image_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use flashfreeze::testing::{Kind, TestHeap, Value};
use flashfreeze::{Root, RootKind};
use image_support::*;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: same layout as given to us, which the caller guarantees is valid.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` was allocated by `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn append_streams_without_holding_the_image() {
    const REGION_LEN: u32 = 32 * 4096;
    let mut heap = TestHeap::<4>::new();
    // ~70 KB of objects; the largest object is 1 KB.
    let mut items = Vec::new();
    for i in 0..600 {
        let len = if i == 0 { 1000 } else { 100 };
        items.push((
            None,
            Value::Ref(heap.alloc_with(Kind::Immutable, vec![], vec![i as u8; len])),
        ));
    }
    let module = heap.alloc_with(Kind::Immutable, items, vec![]);
    let mut store = new_store(REGION_LEN, 4);
    let plan = flashfreeze::plan(
        &heap,
        &[Root::new(RootKind::MODULE, "big", module)],
        store.target().unwrap(),
    )
    .unwrap();
    let image = plan.stats().flash_bytes as usize;
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let appended = store.append(&plan, &heap).unwrap();
    let peak = PEAK.load(Ordering::SeqCst) - base;
    println!(
        "append of a {image}-byte image ({} B span): peak extra heap {peak} B",
        appended.span
    );
    assert!(image > 60_000);
    // The largest object (the 600-slot module: 8 + 600 * 4 bytes) as the scratch buffer, plus
    // a page, the object's reference bitset, the roots table and the commit unit; plus at most
    // 2 × 2 KiB the store keeps of the measuring pass's pointer and object maps (grown with
    // them; this batch's are larger, so they are let go and walked again).
    let largest = 8 + 600 * 4;
    let map_cache = 2 * 2048;
    assert!(peak < largest + 1536 + map_cache, "peak {peak} B");
}
