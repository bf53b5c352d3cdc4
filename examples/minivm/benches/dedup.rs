//! The freeze with and without dedup, side by side in one run, on the seed modules and (with
//! `MINIVM_CORPUS`, see `tests/corpus.rs`) on the real-code corpus minivm imports.
//!
//! Each iteration freezes a fresh VM that has imported the modules (the boot and the imports
//! are the untimed setup): `freeze.import_modules(...)` — plan, write each module's batch into
//! the simulated flash, fix up the live heap. `AllocProfiler` reports the allocations of the
//! timed part; the freezer's own peak working memory (`Stats::working_bytes`) and the flash
//! written are printed before the run.
//!
//! Wall-clock time on a shared host is noisy; `benches/dedup-callgrind.sh` counts the
//! instructions of the same freezes (callgrind), which repeat exactly.
//!
//! Run: `MINIVM_CORPUS=$PWD/target/corpus/mpy cargo bench -p minivm --bench dedup` (after
//! `python3 examples/minivm/tools/corpus fetch`). Results: `docs/performance.md`.

use std::path::PathBuf;

use divan::Bencher;
use flashfreeze::plan::Dedup;
use minivm::Vm;
use minivm::freeze::{FlashFreezer, SimChip};
use minivm::memmap::HEAP_DEFAULT;
use minivm::sources::{Bundled, DirSource};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

/// The seed modules.
const SEED: &[&str] = &["tinysched", "counter"];

/// The corpus modules minivm imports (as `tests/density.rs`).
const CORPUS: &[&str] = &[
    "uasyncio",
    "collections",
    "functools",
    "unittest",
    "heapq",
    "itertools",
    "string",
    "contextlib",
    "ucontextlib",
    "adafruit_ticks",
    "urequests",
    "asyncio",
];

fn corpus_dir() -> Option<PathBuf> {
    std::env::var_os("MINIVM_CORPUS").map(PathBuf::from)
}

/// A VM with `modules` imported and `freeze` ready, and the line that freezes them.
fn imported(set: &str, dedup: Dedup) -> (Vm<SimChip>, String) {
    let (dir, modules) = match set {
        "seed" => (None, SEED),
        _ => (corpus_dir(), CORPUS),
    };
    let mut vm = Vm::new(SimChip::erased(), HEAP_DEFAULT);
    FlashFreezer::attach_with(&mut vm, dedup);
    if let Some(d) = &dir {
        vm.sources.push(Box::new(DirSource(d.clone())));
    }
    vm.sources.push(Box::new(Bundled));
    let mut quoted = Vec::new();
    for m in modules {
        let line = format!("import {m}");
        assert!(vm.exec_line(&line).is_ok(), "{line}: {}", vm.take_output());
        quoted.push(format!("'{m}'"));
    }
    assert!(vm.exec_line("import freeze").is_ok());
    vm.take_output();
    (vm, format!("freeze.import_modules({})", quoted.join(", ")))
}

fn sets() -> Vec<&'static str> {
    let mut s = vec!["seed"];
    if corpus_dir().is_some() {
        s.push("corpus");
    }
    s
}

/// The timed part, alone: what `dedup-callgrind.sh` counts instructions of.
#[inline(never)]
fn measured(vm: &mut Vm<SimChip>, line: &str) -> bool {
    vm.exec_line(line).is_ok()
}

fn main() {
    // `dedup-callgrind.sh`: one freeze of one set, `MINIVM_DEDUP_ONE=seed,on` (not divan).
    if let Ok(one) = std::env::var("MINIVM_DEDUP_ONE") {
        let (set, on) = one.split_once(',').expect("set,on|off");
        let dedup = if on == "on" { Dedup::ON } else { Dedup::OFF };
        let (mut vm, line) = imported(set, dedup);
        assert!(measured(&mut vm, &line), "{}", vm.take_output());
        let objects: u32 = vm
            .freeze_log
            .iter()
            .map(|b| b.stats.objects + b.stats.merged)
            .sum();
        println!("objects={objects} ");
        return;
    }
    // What one freeze of each set gives, without and with dedup.
    for set in sets() {
        for (name, dedup) in [("off", Dedup::OFF), ("on", Dedup::ON)] {
            let (mut vm, line) = imported(set, dedup);
            assert!(vm.exec_line(&line).is_ok(), "{}", vm.take_output());
            let log: Vec<&flashfreeze::Stats> = vm.freeze_log.iter().map(|b| &b.stats).collect();
            let flash: u64 = log.iter().map(|s| s.flash_bytes).sum();
            let merged: u32 = log.iter().map(|s| s.merged).sum();
            let working = log.iter().map(|s| s.working_bytes).max().unwrap_or(0);
            eprintln!(
                "{set:6} dedup {name:3}: {} batches, {flash} flash B, {merged} merged, peak working memory {working} B",
                log.len()
            );
        }
    }
    divan::main();
}

#[divan::bench(args = sets(), consts = [false, true], sample_count = 60, sample_size = 1)]
fn freeze<const DEDUP: bool>(bencher: Bencher, set: &str) {
    let dedup = if DEDUP { Dedup::ON } else { Dedup::OFF };
    bencher
        .with_inputs(|| imported(set, dedup))
        .bench_local_values(|(mut vm, line)| {
            let ok = vm.exec_line(&line).is_ok();
            assert!(ok);
            vm
        });
}
