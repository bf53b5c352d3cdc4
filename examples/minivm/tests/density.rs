//! Image density: flash bytes frozen per heap byte freed, with the per-kind breakdown of the
//! flash section, for the bundled demo modules and (with `MINIVM_CORPUS`, see `corpus.rs`) for
//! uasyncio + collections + functools. Run with `--nocapture` to see the numbers:
//!
//! `cargo test -p minivm --test density -- --nocapture`
//!
//! Each set is frozen twice, without and with dedup (equal str, bytes, tuple, code and table
//! objects frozen once), and the two are printed side by side.
//!
//! Also checks that the compact frozen layouts (strs and bytes without a hash word, bytecode
//! inline in its code object, functions without a null defaults word, packed qstr pools,
//! trimmed namespace tables) behave like the heap objects they replace.

mod common;

use std::collections::BTreeMap;

use common::{boot, boot_with, reboot, run, used};
use flashfreeze::Placement;
use flashfreeze::plan::Dedup;
use minivm::Vm;
use minivm::freeze::{FlashFreezer, SimChip};
use minivm::memmap::{IMAGE_BASE, IMAGE_LEN};
use minivm::obj::{Kind, is_compact};
use minivm::sources::Bundled;

/// The target of the benchmarks issue (MicroPython's own frozen modules: 0.895).
const DENSITY_TARGET: f64 = 0.80;
/// The target for RAM-section bytes / flash bytes (MicroPythonRT: 0.8 %).
const RESIDUAL_RAM_TARGET: f64 = 0.005;

/// What freezing a set of modules gave.
#[derive(Debug)]
struct Measured {
    /// Heap bytes the freeze gave back.
    freed: u32,
    /// Flash-section bytes of the batches.
    flash: u64,
    /// Objects merged into an equal one, of which into an earlier batch's, and their bytes.
    merged: u32,
    earlier: u32,
    merged_bytes: u64,
    /// Per kind: flash objects and bytes frozen, objects and bytes merged.
    kinds: BTreeMap<&'static str, (u32, u64, u32, u64)>,
    /// The plans' peak working memory (the largest batch's), and per batch (bytes, objects).
    working: usize,
    batches: Vec<(usize, u32)>,
    objects: u32,
}

/// Imports `modules` on a fresh VM whose freezer deduplicates as `dedup` says, freezes them
/// (one batch per module), and measures.
fn measure(dir: Option<&std::path::Path>, modules: &[&str], dedup: Dedup) -> Measured {
    let mut vm = boot_with(SimChip::erased(), dir, dedup);
    for m in modules {
        run(&mut vm, &format!("import {m}"));
    }
    let imported = used(&mut vm);
    run(&mut vm, "import freeze");
    let quoted: Vec<String> = modules.iter().map(|m| format!("'{m}'")).collect();
    run(
        &mut vm,
        &format!("freeze.import_modules({})", quoted.join(", ")),
    );
    let freed = imported - used(&mut vm);
    let log: Vec<&flashfreeze::Stats> = vm.freeze_log.iter().map(|b| &b.stats).collect();
    let mut kinds: BTreeMap<&str, (u32, u64, u32, u64)> = BTreeMap::new();
    for k in log.iter().flat_map(|s| &s.kinds) {
        if k.placement == Placement::Flash {
            let e = kinds.entry(k.kind).or_default();
            e.0 += k.count;
            e.1 += k.bytes;
            e.2 += k.merged;
            e.3 += k.merged_bytes;
        }
    }
    Measured {
        freed,
        flash: log.iter().map(|s| s.flash_bytes).sum(),
        merged: log.iter().map(|s| s.merged).sum(),
        earlier: log.iter().map(|s| s.merged_earlier).sum(),
        merged_bytes: log.iter().map(|s| s.merged_bytes).sum(),
        kinds,
        working: log.iter().map(|s| s.working_bytes).max().unwrap_or(0),
        batches: log
            .iter()
            .map(|s| (s.working_bytes, s.objects + s.merged))
            .collect(),
        objects: log.iter().map(|s| s.objects + s.merged).sum(),
    }
}

/// Measures `modules` without and with dedup, prints both side by side (per kind: what is
/// frozen and what the merges saved), checks that the VM gave back the same heap and that the
/// flash saved is exactly the merged objects' bytes; returns both.
fn compare(label: &str, dir: Option<&std::path::Path>, modules: &[&str]) -> (Measured, Measured) {
    let off = measure(dir, modules, Dedup::OFF);
    let on = measure(dir, modules, Dedup::ON);
    eprintln!(
        "== {label} ({} modules, {} objects reached)",
        modules.len(),
        off.objects
    );
    eprintln!("  kind           objects    bytes | merged objects  bytes saved");
    let mut rows: Vec<_> = off.kinds.iter().collect();
    rows.sort_by_key(|(_, (_, b, _, _))| std::cmp::Reverse(*b));
    for (kind, (count, bytes, _, _)) in rows {
        let (_, _, m, mb) = on.kinds.get(kind).copied().unwrap_or_default();
        eprintln!("  {kind:12} {count:7} {bytes:9} | {m:14} {mb:12}");
    }
    let saved = off.flash - on.flash;
    eprintln!(
        "  heap freed {} B; flash {} B without dedup, {} B with: {} B saved ({:.2} %), {} objects merged ({} into earlier batches)",
        off.freed,
        off.flash,
        on.flash,
        saved,
        100.0 * saved as f64 / off.flash as f64,
        on.merged,
        on.earlier
    );
    eprintln!(
        "  density {:.3} without, {:.3} with; the largest batch's working memory {} B without, {} B with",
        off.flash as f64 / f64::from(off.freed),
        on.flash as f64 / f64::from(on.freed),
        off.working,
        on.working
    );
    // Dedup's extra working memory per object, in the batch with the most objects.
    let (i, &(w_off, n)) = off
        .batches
        .iter()
        .enumerate()
        .max_by_key(|(_, b)| b.1)
        .expect("a batch");
    let w_on = on.batches[i].0;
    eprintln!(
        "  the largest batch ({n} objects): working memory {w_off} B without, {w_on} B with: {:.1} B/object more",
        (w_on as f64 - w_off as f64) / f64::from(n)
    );
    // Within each batch only (no cross-batch index): what the index adds, in flash and memory.
    let inner = measure(dir, modules, Dedup::new(Dedup::ON.table_entries, 0));
    eprintln!(
        "  within batches only: {} B saved ({:.2} %), {} objects merged; the largest batch's working memory {} B",
        off.flash - inner.flash,
        100.0 * (off.flash - inner.flash) as f64 / off.flash as f64,
        inner.merged,
        inner.working
    );
    assert_eq!(inner.earlier, 0);
    assert!(
        inner.flash >= on.flash,
        "reusing earlier batches never costs flash"
    );
    assert_eq!(off.freed, on.freed, "the same heap given back");
    assert_eq!(off.merged, 0);
    // minivm's objects are whole words, so no padding moves: the saving is the merged bytes.
    assert_eq!(saved, on.merged_bytes);
    (off, on)
}

#[test]
fn bundled_modules_freeze_denser_than_the_target() {
    let (off, on) = compare("tinysched + counter", None, &["tinysched", "counter"]);
    assert!(off.freed > 15_000, "the imports cost heap: {}", off.freed);
    for m in [&off, &on] {
        let density = m.flash as f64 / f64::from(m.freed);
        assert!(
            density <= DENSITY_TARGET,
            "density {density:.3} above {DENSITY_TARGET}"
        );
    }
    assert!(
        on.merged > 0,
        "the seed modules hold equal tuples and strings"
    );
}

/// The corpus modules minivm freezes today, in the order they are frozen (those found in
/// `MINIVM_CORPUS`: `tools/fetch-uasyncio` gives the first three, `tools/corpus fetch` all).
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

#[test]
fn corpus_freezes_denser_than_the_target() {
    let Some(dir) = std::env::var_os("MINIVM_CORPUS") else {
        eprintln!("corpus density skipped: set MINIVM_CORPUS (see tools/fetch-uasyncio)");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let modules: Vec<&str> = CORPUS
        .iter()
        .copied()
        .filter(|m| {
            let path = dir.join(m.replace('.', "/"));
            path.is_dir() || path.with_extension("mpy").is_file()
        })
        .collect();
    let (off, on) = compare(&modules.join(" + "), Some(&dir), &modules);
    for m in [&off, &on] {
        let density = m.flash as f64 / f64::from(m.freed);
        assert!(
            density <= DENSITY_TARGET,
            "density {density:.3} above {DENSITY_TARGET}"
        );
    }
    // With copy-on-write containers uasyncio's state (one SleepMs instance and its member dict)
    // freezes to flash too: the RAM section may be empty, and must stay under the target.
    let mut vm = boot(SimChip::erased(), Some(&dir));
    for m in &modules[..3] {
        run(&mut vm, &format!("import {m}"));
    }
    run(&mut vm, "import freeze");
    run(
        &mut vm,
        "freeze.import_modules('uasyncio', 'collections', 'functools')",
    );
    let residual = residual_ram(&vm);
    assert!(
        residual <= RESIDUAL_RAM_TARGET,
        "residual RAM {:.2} % above {:.2} %",
        100.0 * residual,
        100.0 * RESIDUAL_RAM_TARGET
    );
}

/// The RAM section's bytes over the flash section's, of everything frozen so far.
fn residual_ram(vm: &Vm<SimChip>) -> f64 {
    let ram: u64 = vm.freeze_log.iter().map(|b| b.stats.ram_bytes).sum();
    let flash: u64 = vm.freeze_log.iter().map(|b| b.stats.flash_bytes).sum();
    ram as f64 / flash as f64
}

/// What the checks print before freezing, after freezing and after a reboot.
const CHECKS: &[&str] = &[
    // Nested functions, closures, generators, classes: code objects made at run time from
    // frozen children tables and inline bytecode.
    "v.all_checks()",
    "v.make_counter(3)(4)",
    // Frozen strs: equality, hashing, dict keys, concatenation, length, slicing, methods.
    "tinysched.calc.LETTERS",
    "tinysched.calc.LETTERS == 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'",
    "hash(tinysched.calc.LETTERS) == hash('abcdefghijklmnopqrstuvwxyz' + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_')",
    "{tinysched.calc.LETTERS: 1}['abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_']",
    "len(tinysched.calc.LETTERS)",
    "tinysched.calc.DIGITS + '!'",
    "tinysched.calc.LETTERS.upper()",
    "tinysched.calc.KIND_NAMES",
    "tinysched.core.STATE_NAMES",
    // Namespace lookups in trimmed tables, and a name that is absent.
    "tinysched.NAME",
    "tinysched.core.Scheduler.__name__",
    "hasattr(tinysched.calc, 'no_such_name')",
    "v.Child(1, 2).get()",
    // Interned names from the frozen pools.
    "v.Base.kind",
    "v.Child.name()",
];

fn check_results(vm: &mut Vm<SimChip>) -> Vec<String> {
    CHECKS.iter().map(|c| run(vm, c)).collect()
}

#[test]
fn compact_frozen_objects_behave_like_the_heap_objects() {
    compact_frozen_objects_behave(Dedup::OFF);
}

#[test]
fn merged_frozen_objects_behave_like_the_heap_objects() {
    compact_frozen_objects_behave(Dedup::ON);
}

fn compact_frozen_objects_behave(dedup: Dedup) {
    let mut vm = boot_with(SimChip::erased(), None, dedup);
    run(&mut vm, "import tinysched");
    run(&mut vm, "import tests.vmcheck as v");
    let before = check_results(&mut vm);
    run(&mut vm, "import freeze");
    run(
        &mut vm,
        "freeze.import_modules('tinysched', 'tests.vmcheck')",
    );
    assert_eq!(check_results(&mut vm), before, "same process, frozen");
    if dedup.is_on() {
        assert!(
            vm.freeze_log.iter().any(|b| b.stats.merged > 0),
            "something merged"
        );
    }
    let mut vm2 = reboot(&vm, None);
    run(&mut vm2, "import tinysched");
    run(&mut vm2, "import tests.vmcheck as v");
    assert_eq!(check_results(&mut vm2), before, "after a reboot");
    // Interned strings frozen in compact pools are found again by text, and new ones get
    // fresh ids.
    let id = vm2.find_qstr(b"make_counter").expect("frozen qstr");
    assert_eq!(vm2.qstr_bytes(id), b"make_counter");
    let fresh = vm2.intern(b"not in any pool yet").expect("intern");
    assert!(fresh.as_qstr() > id);
    assert_eq!(vm2.qstr_bytes(fresh.as_qstr()), b"not in any pool yet");

    // The layouts really are the compact ones: the frozen module's str constant, its code
    // objects and the qstr pool chain live in flash with the COMPACT bit.
    let in_image = |a: u32| (IMAGE_BASE..IMAGE_BASE + IMAGE_LEN).contains(&a);
    let calc_name = vm2.intern(b"tinysched.calc").expect("intern");
    let calc = vm2
        .dict_get_q(vm2.modules, calc_name)
        .expect("tinysched.calc imported");
    assert!(in_image(calc.0), "module in flash");
    let globals = vm2.wv(calc, 2);
    let letters_name = vm2.intern(b"LETTERS").expect("intern");
    let letters = vm2.dict_get_q(globals, letters_name).expect("calc.LETTERS");
    assert_eq!(vm2.kind(letters), Some(Kind::STR));
    assert!(in_image(letters.0) && is_compact(vm2.w(letters, 0)));
    let tokenize_name = vm2.intern(b"tokenize").expect("intern");
    let tokenize = vm2
        .dict_get_q(globals, tokenize_name)
        .expect("calc.tokenize");
    assert_eq!(vm2.kind(tokenize), Some(Kind::FUNC));
    assert!(
        in_image(tokenize.0) && is_compact(vm2.w(tokenize, 0)),
        "a function without defaults has no defaults word"
    );
    let code = vm2.wv(tokenize, 1);
    assert_eq!(vm2.kind(code), Some(Kind::RAW_CODE));
    assert!(in_image(code.0) && is_compact(vm2.w(code, 0)));
    let mut pool = vm2.qpool;
    while pool.is_ptr() && !in_image(pool.0) {
        pool = vm2.wv(pool, 1);
    }
    assert_eq!(vm2.kind(pool), Some(Kind::QSTR_POOL));
    assert!(is_compact(vm2.w(pool, 0)), "frozen qstr pools are packed");
}

#[test]
fn a_qstr_pool_too_large_for_u16_offsets_keeps_the_heap_layout() {
    // A pool holds 32 strings: with 2,300-byte texts any 29 of them exceed what u16 offsets
    // reach, so that pool freezes with Str objects; the next, short one is packed.
    let texts: Vec<Vec<u8>> = (0..34u8)
        .map(|i| {
            let mut t = vec![b'a' + i % 26; 2300];
            t[0] = b'0' + i / 26;
            t
        })
        .collect();
    let mut vm = Vm::new(SimChip::erased(), 160 * 1024);
    FlashFreezer::attach(&mut vm);
    vm.sources.push(Box::new(Bundled));
    let ids: Vec<u32> = texts
        .iter()
        .map(|t| vm.intern(t).expect("intern").as_qstr())
        .collect();
    run(&mut vm, "import counter");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('counter')");
    let mut vm2 = reboot(&vm, None);
    for (t, id) in texts.iter().zip(&ids) {
        assert_eq!(vm2.find_qstr(t), Some(*id));
        assert_eq!(vm2.qstr_bytes(*id), t.as_slice());
    }
    let in_image = |a: u32| (IMAGE_BASE..IMAGE_BASE + IMAGE_LEN).contains(&a);
    let mut compact = Vec::new();
    let mut pool = vm2.qpool;
    while pool.is_ptr() {
        if in_image(pool.0) {
            compact.push(is_compact(vm2.w(pool, 0)));
        }
        pool = vm2.wv(pool, 1);
    }
    assert!(
        compact.contains(&true) && compact.contains(&false),
        "{compact:?}"
    );
    assert_eq!(
        run(&mut vm2, "import counter; counter.selftest()"),
        run(&mut vm, "counter.selftest()")
    );
}
