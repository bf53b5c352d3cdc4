//! Freezer working memory: peak extra heap during a freeze, per frozen object, measured by a
//! counting global allocator, next to what the library reports itself (`Stats::working_bytes`).
//!
//! For each graph size it freezes the same synthetic heap (see `support::Graph`) with
//! `plan_in_object` (forwarding in the object header), `plan` (the library's side table), and the
//! naive baseline (recursive, `HashMap`, whole image in a `Vec`), and prints a Markdown table:
//! peak bytes above the heap's live bytes at the start, while planning and while planning and
//! writing every object. It also checks that the three produce the same bytes at every size.
//!
//! Run: `cargo bench --bench memory` (about 20 s). Without `--bench` (a test run) it checks
//! one small size.

#[path = "support/mod.rs"]
mod support;

use std::alloc::System;

use flashfreeze::ObjectModel;
use flashfreeze::Stats;
use support::{Counting, Graph, naive, peak_during, stream_plan, target};

#[global_allocator]
static ALLOC: Counting<System> = Counting { inner: System };

/// Plan with forwarding in the objects and release the marks: the plan's stats.
fn plan_in_object_stats(g: &Graph, roots: &[flashfreeze::Root<'_, support::Obj>]) -> Stats {
    let plan = flashfreeze::plan_in_object(g, roots, target()).expect("plan");
    let s = plan.stats().clone();
    plan.release(g);
    s
}

fn per(bytes: usize, objects: usize) -> String {
    format!("{:.2}", bytes as f64 / objects as f64)
}

/// The paths kept for RAM objects: a linked list of `n` mutable nodes.
fn mutable_chains(sizes: &[usize]) {
    println!();
    println!("| mutable chain nodes | in-object working_bytes | B/node | measured peak |");
    println!("|---|---|---|---|");
    for &n in sizes {
        let g = Graph::mutable_chain(n);
        let (peak, stats) = peak_during(|| plan_in_object_stats(&g, &g.roots()));
        println!(
            "| {n} | {} | {} | {peak} |",
            stats.working_bytes,
            per(stats.working_bytes, n)
        );
    }
}

fn main() {
    let bench = support::is_bench();
    // 300 objects: the size of a real module (uasyncio freezes 237–399 objects in minivm).
    let sizes: &[usize] = if bench {
        &[300, 1_000, 10_000, 100_000, 1_000_000]
    } else {
        &[1_000]
    };
    println!(
        "| objects | heap blocks | in-object: plan peak (B/obj) | working_bytes (B/obj) | plan+write peak (B/obj) \
         | side table: plan peak (B/obj) | working_bytes (B/obj) | plan+write peak (B/obj) \
         | naive peak (B/obj) | naive / in-object |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &n in sizes {
        let g = Graph::build(n);
        let roots = g.roots();
        let objects = g.heap_objects;

        let (in_plan, in_stats) = peak_during(|| plan_in_object_stats(&g, &roots));
        let (in_all, in_sum) = peak_during(|| {
            let plan = flashfreeze::plan_in_object(&g, &roots, target()).expect("plan");
            let sum = stream_plan(&g, &plan);
            plan.release(&g);
            sum
        });
        let (side_plan, side_stats) = peak_during(|| {
            let plan = flashfreeze::plan(&g, &roots, target()).expect("plan");
            plan.stats().clone()
        });
        let (side_all, side_sum) = peak_during(|| {
            let plan = flashfreeze::plan(&g, &roots, target()).expect("plan");
            stream_plan(&g, &plan)
        });
        let (naive_all, image) = peak_during(|| naive::freeze(&g));
        let naive_sum = naive::checksum(&image);
        drop(image);
        assert_eq!(
            in_sum, naive_sum,
            "in-object bytes differ from naive at {n}"
        );
        assert_eq!(
            side_sum, naive_sum,
            "side-table bytes differ from naive at {n}"
        );
        assert_eq!(
            in_stats.objects as usize, objects,
            "not every object frozen"
        );

        println!(
            "| {objects} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1}× |",
            g.heap_index_limit(),
            per(in_plan, objects),
            per(in_stats.working_bytes, objects),
            per(in_all, objects),
            per(side_plan, objects),
            per(side_stats.working_bytes, objects),
            per(side_all, objects),
            per(naive_all, objects),
            naive_all as f64 / in_all as f64,
        );
        if n == *sizes.last().unwrap_or(&0) {
            // Where the in-object figure goes: the object lists (4 B per object, in 2 KiB
            // chunks), the paths kept for RAM objects, and the rest (worklist, kinds, roots).
            let plan = flashfreeze::plan_in_object(&g, &roots, target()).expect("plan");
            let chunk = |k: usize| k.div_ceil(512) * 512 * 4;
            let lists = chunk(plan.flash_objects().count()) + chunk(plan.ram_objects().count());
            let paths: usize = plan.in_ram().iter().map(|p| 32 + 8 * p.steps.len()).sum();
            let ram_objects = plan.in_ram().len();
            plan.release(&g);
            println!();
            println!(
                "in-object working memory at {objects} objects: lists {} B/obj, paths of the \
                 {ram_objects} RAM objects {} B/obj, the rest (worklist, kinds, roots, Vec \
                 slack) {} B/obj",
                per(lists, objects),
                per(paths, objects),
                per(
                    in_stats.working_bytes.saturating_sub(lists + paths),
                    objects
                ),
            );
            let s = &in_stats;
            println!();
            println!();
            println!(
                "graph of {objects} objects: {} heap bytes (16-byte blocks), {} frozen bytes \
                 (flash {} + RAM {}), flash/heap = {:.3}, RAM/flash = {:.2} %, {} qstrs, \
                 {:.2} slots and {:.1} frozen bytes per object, {} RAM objects",
                g.heap_bytes,
                s.flash_bytes + s.ram_bytes,
                s.flash_bytes,
                s.ram_bytes,
                (s.flash_bytes + s.ram_bytes) as f64 / g.heap_bytes as f64,
                100.0 * s.ram_bytes as f64 / s.flash_bytes as f64,
                s.qstrs,
                g.slot_count() as f64 / objects as f64,
                (s.flash_bytes + s.ram_bytes) as f64 / objects as f64,
                s.kinds
                    .iter()
                    .filter(|k| k.placement == flashfreeze::Placement::Ram)
                    .map(|k| k.count)
                    .sum::<u32>(),
            );
        }
    }
    mutable_chains(if bench {
        &[1_000, 2_000, 4_000, 8_000]
    } else {
        &[100]
    });
}
