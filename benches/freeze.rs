//! Freeze throughput and scaling, flashfreeze against a naive freezer, in one run.
//!
//! Every benchmark freezes the same synthetic heap (`support::Graph`: modules, dicts, functions,
//! code, strings, tuples, classes, shared qstrs, a few mutable objects) of about 1e3 … 1e6
//! objects, built once per size outside the timed region:
//!
//! - `flashfreeze_side_table`: `plan` (library side table) + `write_object` of every object into
//!   a page buffer;
//! - `flashfreeze_in_object`: the same with `plan_in_object` (forwarding in the object header);
//! - `naive_baseline`: recursive traversal, `std::collections::HashMap` forwarding, the whole
//!   image in one `Vec<u8>` (same object order, same bytes: checked before the run);
//! - `control_model_walk`: no freezer, only the VM's own work per object (layout, frozen bytes
//!   into the page buffer, the space of each slot's target) in allocation order: the floor any
//!   freezer pays, and how much of the growth with size is the host's memory, not the freezer;
//! - `store_append`: `plan` + `Store::append` into the simulated NOR flash (erase, stream
//!   through one page, read back, commit), a fresh erased device per iteration (not timed).
//!
//! Items are heap objects frozen, bytes are their frozen bytes. `AllocProfiler` reports each
//! benchmark's allocations (`max alloc` is the peak live heap during one iteration).
//!
//! Run: `cargo bench --bench freeze` (about 25 s). Results: `docs/performance.md`.

#[path = "support/mod.rs"]
mod support;

use std::rc::Rc;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use support::{
    Graph, PerSize, erased, freeze_in_object, freeze_side_table, freeze_to_store, layout, naive,
};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

const SIZES: &[usize] = &[1_000, 10_000, 100_000, 1_000_000];

thread_local! {
    static GRAPHS: PerSize<Graph> = PerSize::default();
}

/// The graph of about `n` objects, built on first use.
fn graph(n: usize) -> Rc<Graph> {
    GRAPHS.with(|c| c.get(n, Graph::build))
}

fn counted<'a, 'b>(bencher: Bencher<'a, 'b>, g: &Graph) -> Bencher<'a, 'b> {
    bencher
        .counter(ItemsCount::new(g.heap_objects))
        .counter(BytesCount::new(g.frozen_bytes))
}

#[divan::bench(args = SIZES, max_time = 2)]
fn flashfreeze_side_table(bencher: Bencher, n: usize) {
    let g = graph(n);
    counted(bencher, &g).bench_local(|| freeze_side_table(&g));
}

#[divan::bench(args = SIZES, max_time = 2)]
fn flashfreeze_in_object(bencher: Bencher, n: usize) {
    let g = graph(n);
    counted(bencher, &g).bench_local(|| freeze_in_object(&g));
}

#[divan::bench(args = SIZES, max_time = 2)]
fn naive_baseline(bencher: Bencher, n: usize) {
    let g = graph(n);
    // The recursion is as deep as the graph: ~1,350 frames at 1e6 objects (the qstr pool's
    // chain), well inside the main thread's stack.
    counted(bencher, &g).bench_local(|| naive::freeze(&g));
}

#[divan::bench(args = SIZES, max_time = 2)]
fn control_model_walk(bencher: Bencher, n: usize) {
    let g = graph(n);
    counted(bencher, &g).bench_local(|| support::model_walk(&g));
}

// Cold: the same freezes, each one alone (one iteration per sample) right after the host's
// caches were flushed (not timed). The warm benchmarks above repeat a freeze back to back, so
// at 1e3 objects the whole heap sits in L1/L2 while at 1e6 it cannot; cold, every size starts
// from memory, as a freeze in use does (and as on a microcontroller without a data cache).

/// One freeze per sample (`sample_size = 1`), each after the caches were flushed (not timed).
fn cold<T>(bencher: Bencher, n: usize, freeze: fn(&Graph) -> T) {
    let g = graph(n);
    counted(bencher, &g)
        .with_inputs(support::evict_caches)
        .bench_local_values(|()| freeze(&g));
}

#[divan::bench(args = SIZES, max_time = 2, sample_size = 1)]
fn flashfreeze_in_object_cold(bencher: Bencher, n: usize) {
    cold(bencher, n, freeze_in_object);
}

#[divan::bench(args = SIZES, max_time = 2, sample_size = 1)]
fn flashfreeze_side_table_cold(bencher: Bencher, n: usize) {
    cold(bencher, n, freeze_side_table);
}

#[divan::bench(args = SIZES, max_time = 2, sample_size = 1)]
fn naive_baseline_cold(bencher: Bencher, n: usize) {
    cold(bencher, n, naive::freeze);
}

#[divan::bench(args = SIZES, max_time = 2, sample_size = 1)]
fn control_model_walk_cold(bencher: Bencher, n: usize) {
    cold(bencher, n, support::model_walk);
}

#[divan::bench(args = SIZES, max_time = 2)]
fn store_append(bencher: Bencher, n: usize) {
    let g = graph(n);
    let roots = g.roots();
    let mut layout = layout();
    layout.ram_len = 1 << 26;
    counted(bencher, &g)
        .with_inputs(|| erased(&g))
        .bench_local_values(|flash| freeze_to_store(&g, &roots, flash, layout).0);
}

fn main() {
    // Same bytes from the three freezers (a cheap size; the memory bench checks 1e6).
    let g = Graph::build(10_000);
    let expect = naive::checksum(&naive::freeze(&g));
    assert_eq!(
        freeze_side_table(&g),
        expect,
        "side table differs from naive"
    );
    assert_eq!(freeze_in_object(&g), expect, "in-object differs from naive");
    divan::main();
}
