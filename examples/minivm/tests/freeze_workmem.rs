//! The freezer's working memory per batch on the seed app (freeze as you import): the Rust
//! allocator's peak during each batch minus what was live before it, measured with a counting
//! allocator (this test binary only), as the Pico's `Measured` does on the board.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::run;
use minivm::Vm;
use minivm::freeze::{FlashFreezer, SimChip};
use minivm::sources::{Bundled, DirSource};
use minivm::vm::{Batch, FreezeFailed, Freezer};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static TRACE: AtomicBool = AtomicBool::new(false);

type Traced = HashMap<usize, (usize, std::sync::Arc<std::backtrace::Backtrace>)>;
static LIVE_SET: Mutex<Option<Traced>> = Mutex::new(None);
static AT_PEAK: Mutex<Vec<(usize, std::sync::Arc<std::backtrace::Backtrace>)>> =
    Mutex::new(Vec::new());

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

fn traced(f: impl FnOnce()) {
    if !TRACE.load(Ordering::Relaxed) || INSIDE.with(|i| i.replace(true)) {
        return;
    }
    f();
    INSIDE.with(|i| i.set(false));
}

// SAFETY: forwards to the system allocator unchanged; only counts sizes (and, when tracing,
// records where each block came from, outside the count: the guard keeps it from recursing).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same layout as given to us, which the caller guarantees is valid.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && !INSIDE.with(|i| i.get()) {
            let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            let peak = PEAK.fetch_max(now, Ordering::SeqCst) < now;
            traced(|| {
                let bt = std::sync::Arc::new(std::backtrace::Backtrace::force_capture());
                let mut set = LIVE_SET.lock().unwrap();
                let set = set.get_or_insert_with(HashMap::new);
                set.insert(p as usize, (layout.size(), bt));
                if peak {
                    let mut at = AT_PEAK.lock().unwrap();
                    at.clear();
                    at.extend(set.values().cloned());
                }
            });
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !INSIDE.with(|i| i.get()) {
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
            traced(|| {
                if let Some(set) = LIVE_SET.lock().unwrap().as_mut() {
                    set.remove(&(ptr as usize));
                }
            });
        }
        // SAFETY: `ptr` was allocated by `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// One batch: its work (peak over live), objects, flash bytes, the plan's own count.
#[derive(Debug, Clone, Copy)]
struct Work {
    work: usize,
    objects: u32,
    flash: u64,
    planned: usize,
    largest: u32,
}

static LOG: Mutex<Vec<Work>> = Mutex::new(Vec::new());

/// minivm's freezer with each batch bracketed by the allocator's peak.
struct Measured(Box<dyn Freezer<SimChip>>);

impl Freezer<SimChip> for Measured {
    fn freeze_modules(
        &mut self,
        vm: &mut Vm<SimChip>,
        names: &[String],
        running: &[u32],
    ) -> Result<Batch, FreezeFailed> {
        let live = LIVE.load(Ordering::SeqCst);
        PEAK.store(live, Ordering::SeqCst);
        let tracing = std::env::var_os("WORKMEM_TRACE").is_some();
        if tracing {
            uncounted(|| {
                *LIVE_SET.lock().unwrap() = Some(HashMap::new());
                AT_PEAK.lock().unwrap().clear();
            });
            TRACE.store(true, Ordering::SeqCst);
        }
        let r = self.0.freeze_modules(vm, names, running);
        TRACE.store(false, Ordering::SeqCst);
        let work = PEAK.load(Ordering::SeqCst) - live;
        if let Ok(Batch::Frozen(st)) = &r {
            LOG.lock().unwrap().push(Work {
                work,
                objects: st.objects,
                flash: st.flash_bytes,
                planned: st.working_bytes,
                largest: st.largest_object,
            });
            if tracing {
                uncounted(|| report(names, work, st.objects));
            }
        }
        r
    }

    fn freeze_tree(&mut self, vm: &mut Vm<SimChip>, name: &str) -> Result<Batch, FreezeFailed> {
        self.0.freeze_tree(vm, name)
    }

    fn clear(&mut self, vm: &mut Vm<SimChip>) -> Result<(), String> {
        self.0.clear(vm)
    }

    fn measures(&self) -> bool {
        self.0.measures()
    }

    fn mounted(&mut self, state: flashfreeze::store::StoreState) {
        self.0.mounted(state)
    }
}

/// Runs `f` with the allocator not counting (the test's own bookkeeping).
fn uncounted(f: impl FnOnce()) {
    let was = INSIDE.with(|i| i.replace(true));
    f();
    INSIDE.with(|i| i.set(was));
}

/// Prints the blocks live at the batch's peak, largest first, with where they came from.
fn report(names: &[String], work: usize, objects: u32) {
    let at = std::mem::take(&mut *AT_PEAK.lock().unwrap());
    eprintln!("batch {names:?}: work {work} B, {objects} objects");
    let mut rows: Vec<(usize, String)> = at
        .iter()
        .map(|(size, bt)| (*size, where_from(bt)))
        .collect();
    rows.sort_by_key(|b| std::cmp::Reverse(b.0));
    for (size, from) in rows {
        eprintln!("  {size:6} B  {from}");
    }
}

/// The innermost frames of ours (flashfreeze, minivm) that made a block.
fn where_from(bt: &std::backtrace::Backtrace) -> String {
    let text = format!("{bt}");
    let frames: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("at "))
        .filter_map(|l| l.split_once(": ").map(|(_, f)| f))
        .filter(|f| {
            f.starts_with("flashfreeze::")
                || f.starts_with("minivm::")
                || f.contains("<flashfreeze")
                || f.contains("<minivm")
        })
        .take(4)
        .collect();
    frames.join(" < ")
}

#[test]
fn seed_app_working_memory_per_batch() {
    let Some(dir) = std::env::var_os("MINIVM_CORPUS").map(std::path::PathBuf::from) else {
        eprintln!("skipped: set MINIVM_CORPUS=DIR/mpy after `tools/corpus fetch`");
        return;
    };
    let app = dir.parent().unwrap().join("app");
    if !app.join("seedapp.mpy").is_file() || !dir.join("microdot").is_dir() {
        eprintln!("skipped: DIR/app/seedapp.mpy is made by demo/run-seed.sh");
        return;
    }
    let mut vm = Vm::new(SimChip::erased(), minivm::memmap::HEAP_DEFAULT);
    let _ = vm.mount_frozen();
    FlashFreezer::attach(&mut vm);
    let inner = vm.freezer.take().unwrap();
    vm.freezer = Some(Box::new(Measured(inner)));
    vm.sources.push(Box::new(DirSource(app.clone())));
    vm.sources.push(Box::new(DirSource(dir.clone())));
    vm.sources.push(Box::new(Bundled));
    run(&mut vm, "import freeze");
    let out = run(
        &mut vm,
        "freeze.import_modules('asyncio', 'asyncio.funcs', 'asyncio.event', 'asyncio.lock', \
         'asyncio.stream', 'microdot', 'microdot.test_client', 'seedapp')",
    );
    eprintln!("{out}");
    let log = LOG.lock().unwrap().clone();
    for w in &log {
        // Issue 12's target: 4 B per frozen object + one page buffer + the largest object (the
        // O(import depth) term left out).
        let target = 4 * w.objects as usize + 256 + w.largest as usize;
        eprintln!(
            "  work {:6} B, {:4} objects, {:6} flash B, largest object {:5} B, planned {:6} B; target {:5} B ({})",
            w.work,
            w.objects,
            w.flash,
            w.largest,
            w.planned,
            target,
            if w.work <= target { "met" } else { "not met" },
        );
    }
    assert!(!log.is_empty());
}
