//! The VM state: memory access, allocation, GC roots and mark-sweep, and the lookup of a
//! value's type slots by its kind.
//!
//! A `Vm` holds the registry's [`Builtins`] table; [`Vm::slots`] maps any value to its type's
//! [`TypeSlots`] (small ints to `int`, qstrs to `str`, objects by their header's kind), and
//! [`Vm::object_layout`] gives the GC an object's size and whether its words are values.
//!
//! Rooting discipline: the collector sees the VM value stack (every frame's locals, operand
//! stack and exception blocks live there), the `young` list (every object allocated since the
//! current instruction started, so Rust locals holding fresh objects stay alive), the module
//! table, the qstr pools, the REPL globals, the pending exception and the frozen RAM section.
//! So a collection may happen at any allocation.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::mem::{FlashImage, HeapBuffers, HeapStats, MemError, Memory};
use crate::memmap::RAM_SECTION_BASE;
use crate::obj::*;
use crate::qstr;
use crate::qstr::sq;
use crate::slots::{Builtins, Layout, TypeSlots};

/// Marker for a raised Python exception; the exception object is in [`Vm::exc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thrown;

/// Result of VM operations that may raise.
pub type R<T> = Result<T, Thrown>;

/// A source of module bytecode (`.mpy` files) for `import`.
pub trait ModuleSource {
    /// The `.mpy` bytes of module `name` (dotted), and whether it is a package
    /// (its `__init__`), or `None` if this source does not have it.
    fn find(&self, name: &str) -> Option<(Vec<u8>, bool)>;
    /// Does a package directory `name` exist (a package without `__init__`)?
    fn is_package_dir(&self, _name: &str) -> bool {
        false
    }
    /// The path of the file [`ModuleSource::find_on`] reads for `name`, for source records
    /// and messages (`None`: the module name stands for it).
    fn path_on(&self, _name: &str, _path: &[String]) -> Option<String> {
        None
    }
    /// [`ModuleSource::find`] with the directories of `sys.path` (`path`), as the importer
    /// asks: a source on a filesystem searches them; the others ignore them.
    fn find_on(&self, name: &str, _path: &[String]) -> Option<(Vec<u8>, bool)> {
        self.find(name)
    }
    /// [`ModuleSource::is_package_dir`] with the directories of `sys.path`.
    fn is_package_dir_on(&self, name: &str, _path: &[String]) -> bool {
        self.is_package_dir(name)
    }
    /// The path and content hash (`crate::lifecycle::source_hash`) of the bytes
    /// [`ModuleSource::find_on`] reads for `name`: what a source record holds and the stale
    /// check compares. A source that knows its bytes' hash (the bundled modules, hashed at build
    /// time) answers without reading them.
    fn hash_on(&self, name: &str, path: &[String]) -> Option<(String, String)> {
        let (bytes, _) = self.find_on(name, path)?;
        let p = self
            .path_on(name, path)
            .unwrap_or_else(|| String::from(name));
        Some((p, crate::lifecycle::source_hash(&bytes)))
    }
    /// [`ModuleSource::hash_on`] for `bytes`, which [`ModuleSource::find_on`] has just given for
    /// `name`: the importer takes a module's source record this way, from the bytes it loads,
    /// so a freeze reads no source again. The default hashes `bytes`.
    fn hash_found(&self, name: &str, path: &[String], bytes: &[u8]) -> Option<(String, String)> {
        let p = self
            .path_on(name, path)
            .unwrap_or_else(|| String::from(name));
        Some((p, crate::lifecycle::source_hash(bytes)))
    }
}

/// Addresses of the firmware statics the VM needs by name.
#[derive(Clone, Debug, Default)]
pub struct St {
    /// `None`.
    pub none: u32,
    /// `False`.
    pub false_: u32,
    /// `True`.
    pub true_: u32,
    /// `...`.
    pub ellipsis: u32,
    /// `()`.
    pub empty_tuple: u32,
    /// Builtin type per [`Kind`] (index = kind byte).
    pub types: Vec<u32>,
    /// `object`.
    pub object: u32,
    /// `type`.
    pub type_: u32,
    /// `int`.
    pub int: u32,
    /// `str`.
    pub str_: u32,
    /// `bool`.
    pub bool_: u32,
    /// The `builtins` dict.
    pub builtins: u32,
    /// Builtin exception classes by name.
    pub exc: Vec<(&'static str, u32)>,
    /// Builtin modules found before any module source: the names of the modules that are not
    /// extensible (`sys`, `gc`), and every `u`-name (`utime`), as MicroPython.
    pub modules: Vec<(&'static str, u32)>,
    /// Extensible builtin modules under their names (`time`, `collections`…): used only when
    /// no module source has that name, as MicroPython's extensible modules.
    pub aliases: Vec<(&'static str, u32)>,
    /// A preallocated MemoryError instance.
    pub memory_error: u32,
    /// The `__build_class__` builtin (pushed by `LOAD_BUILD_CLASS`).
    pub build_class: u32,
    /// The `sys.modules` dict lives in the heap; this static holds nothing.
    pub reserved: u32,
}

/// The virtual machine.
pub struct Vm<F: FlashImage> {
    /// All modelled memory.
    pub mem: Memory<F>,
    /// The builtin types and modules (the registry's table): how the runtime reaches a type's
    /// slots by kind.
    pub registry: &'static Builtins<F>,
    /// Statics addresses.
    pub st: St,
    /// Firmware qstr names (after the 165 static ones).
    pub fw: Vec<&'static str>,
    /// The value stack holding all frames' windows.
    pub stack: Vec<u32>,
    /// Index of the first free stack slot (end of the innermost frame's window).
    pub stack_top: usize,
    /// Objects allocated during the current instruction (GC roots).
    pub young: Vec<u32>,
    /// The exception being raised.
    pub exc: Value,
    /// `sys.modules` (a heap dict).
    pub modules: Value,
    /// The newest heap qstr pool (chains to older ones), or null.
    pub qpool: Value,
    /// The newest frozen qstr pool (in the image), or null.
    pub frozen_qpool: Value,
    /// Next dynamic qstr id.
    pub next_qstr: u32,
    /// First dynamic qstr id.
    pub first_dyn_qstr: u32,
    /// Globals of the REPL (`__main__`).
    pub main_globals: Value,
    /// `sys.path` list (heap; `sys.path = …` rebinds it).
    pub sys_path: Value,
    /// `sys.argv` list (heap).
    pub sys_argv: Value,
    /// Globals rebound by frozen modules' own code: dict of namespace → dict (heap), or null.
    pub overlays: Value,
    /// Extra roots registered by the embedder.
    pub extra_roots: Vec<u32>,
    /// Printed output not yet taken by the host.
    pub out: String,
    /// What `sys.stderr` was given, not yet taken by the host; `None` (the default, a board
    /// with one console): stderr writes go to [`Vm::out`].
    pub err: Option<String>,
    /// The state of `random`'s generator (MicroPython's Yasmarang: pad, n, d, dat).
    pub rng: [u32; 4],
    /// Where modules are found.
    pub sources: Vec<Box<dyn ModuleSource>>,
    /// The filesystem of `open()` and `os` (see [`crate::vfs`]), if the board has one.
    pub vfs: Option<alloc::rc::Rc<crate::vfs::Root>>,
    /// Python call depth.
    pub depth: u32,
    /// Whether automatic collection is enabled.
    pub gc_enabled: bool,
    /// Monotonic milliseconds counter for `time.ticks_ms` (set by the host).
    pub ticks_ms: u32,
    /// Objects frozen so far (for `freeze.info`).
    pub frozen_count: u32,
    /// Hook for the freezer (set by the embedder).
    pub freezer: Option<Box<dyn Freezer<F>>>,
    /// What a mount made before any freezer was attached found in the image region, for the
    /// freezer attached next ([`Freezer::mounted`]): it need not validate the chain again.
    pub mount_state: Option<flashfreeze::store::StoreState>,
    /// The frozen modules' source records, the stale mode, a refused image's module list
    /// (see [`crate::lifecycle`]).
    pub lifecycle: crate::lifecycle::Lifecycle,
    /// Collect before every allocation (tests: finds values the GC cannot see).
    pub gc_stress: bool,
    /// Every batch frozen since boot, oldest first (density and heap reports). Boxed: the list
    /// grows by a pointer per batch, so a batch that doubles it copies pointers, not entries.
    pub freeze_log: Vec<Box<BatchLog>>,
    /// Freeze-as-you-import, while `freeze.import_modules` runs (see [`crate::import`]).
    pub freeze_imports: Option<crate::import::FreezeImports>,
    /// Each module imported from a source while a freezer is attached: its dotted name, and
    /// the path and hash of the bytes it was loaded from (its source record when it is
    /// frozen, taken while the importer holds the bytes).
    pub origins: Vec<(String, String, String)>,
    /// Opcodes left before the next refuel ([`crate::poll`]): `RuntimeError: out of fuel` when
    /// `fuel_bank` is empty too (fuzzing bounds loops this way), else the embedder's poll.
    pub fuel: u64,
    /// Opcodes left beyond `fuel` (see [`crate::poll`]).
    pub fuel_bank: u64,
    /// The embedder's periodic check while code runs (Ctrl-C, output), if any.
    pub poller: Option<Box<dyn crate::poll::Poller>>,
    /// Largest Python call depth before `RuntimeError: maximum recursion depth exceeded`.
    pub max_depth: u32,
    /// Frames the current exception left, innermost first: (file qstr, line, function qstr).
    pub traceback: Vec<(Value, u32, Value)>,
    /// Where the innermost running bytecode frame's window starts on the value stack
    /// (`usize::MAX`: none, the console's own code): `globals()`, `locals()` and `dir()` read
    /// its function and locals there.
    pub frame_window: usize,
    /// Ids of static and firmware names recently asked of [`Vm::q`] (0: empty).
    pub qcache: [u32; qstr::QCACHE],
    /// The static and firmware names by a hash of their text (see [`qstr::FixedIndex`]).
    pub fixed_index: qstr::FixedIndex,
}

/// What `freeze.import_modules` and `freeze.clear` call (implemented by the integration).
pub trait Freezer<F: FlashImage> {
    /// Freezes `names` (modules in `sys.modules`, in the heap) and everything they reach as one
    /// batch; other heap modules are named in the image when the graph reaches them.
    /// `running` are heap objects that code still running holds ([`crate::import`]'s running
    /// set): when the group reaches anything reachable from them, nothing is written and the
    /// answer is [`Batch::Waits`].
    fn freeze_modules(
        &mut self,
        vm: &mut Vm<F>,
        names: &[String],
        running: &[u32],
    ) -> Result<Batch, FreezeFailed>;
    /// Freezes what is left in the heap of module `name`'s tree: the module, its submodules
    /// and its parent packages (a name imported before the call, or a parent that completed
    /// outside it).
    fn freeze_tree(&mut self, vm: &mut Vm<F>, name: &str) -> Result<Batch, FreezeFailed>;
    /// Erases the image.
    fn clear(&mut self, vm: &mut Vm<F>) -> Result<(), String>;
    /// Appends a remove record for module `name`.
    fn remove(&mut self, _vm: &mut Vm<F>, _name: &str) -> Result<(), String> {
        Err(String::from("this freezer cannot remove modules"))
    }
    /// The live frozen modules: (name, batch, flash bytes, RAM bytes).
    fn modules(&mut self, _vm: &mut Vm<F>) -> Result<Vec<(String, u32, u64, u64)>, String> {
        Err(String::from("this freezer cannot list modules"))
    }
    /// The image's figures, by name (`region_used`, `reclaimable`, …).
    fn info(&mut self, _vm: &mut Vm<F>) -> Result<Vec<(&'static str, u64)>, String> {
        Err(String::from("this freezer has no figures"))
    }
    /// Compacts the image; returns the line to print.
    fn compact(&mut self, _vm: &mut Vm<F>) -> Result<String, String> {
        Err(String::from("this freezer cannot compact"))
    }
    /// Finishes a compaction a power cut interrupted; returns whether there was one.
    fn recover(&mut self, _vm: &mut Vm<F>) -> Result<bool, String> {
        Ok(false)
    }
    /// Whether the freezer measures the live heap ([`BatchLog::live_before`]): freeze as you
    /// import then also logs the live heap when each module's import starts.
    fn measures(&self) -> bool {
        false
    }
    /// What the boot's mount found in the image region (the chain it validated), so the first
    /// freeze need not read the region again.
    fn mounted(&mut self, _state: flashfreeze::store::StoreState) {}
}

/// What one freeze did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Batch {
    /// A batch was committed: its numbers (the per-kind list, `Stats::kinds`, is left empty
    /// here; the batch's entry in [`Vm::freeze_log`] has it).
    Frozen(flashfreeze::Stats),
    /// The group reaches what running code holds (the path to it): nothing written, it
    /// waits.
    Waits(String),
    /// Nothing of it is in the heap (already frozen, builtin).
    Nothing,
}

/// Why a freeze failed: the Python exception to raise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FreezeFailed {
    /// The exception class: `TypeError` (an unfreezable object, with its path), `OSError`
    /// (the image region or the flash).
    pub exc: &'static str,
    /// The message.
    pub msg: String,
}

/// One batch frozen since boot.
#[derive(Clone, Debug)]
pub struct BatchLog {
    /// The modules it was made for (its roots; not the candidates it reached).
    pub modules: Vec<String>,
    /// Its plan statistics.
    pub stats: flashfreeze::Stats,
    /// The live heap just before it, when the freezer measures it
    /// (`minivm::freeze::FlashFreezer::measure`).
    pub live_before: Option<u32>,
    /// The live heap when the import of its first module started, when measured (freeze as
    /// you import): `live_before - live_start` is that module's import cost, what its import
    /// added to the heap (the batches of its own imports, frozen meanwhile, excepted).
    pub live_start: Option<u32>,
    /// The live heap after it and a collection, when measured: `live_before - live_after` is
    /// the heap the batch gave back.
    pub live_after: Option<u32>,
    /// Its modules that waited for another (freeze as you import, see [`crate::import`]),
    /// each with the path to the first object of the running set it reached then.
    pub waited: Vec<(String, String)>,
}

/// `random`'s generator state at boot, before any seed (MicroPython's initial Yasmarang state).
pub const RNG_INIT: [u32; 4] = [0xeda4_baba, 69, 233, 0];

/// Default largest Python call depth before `RuntimeError` (each level is a few Rust frames:
/// lower it with [`Vm::max_depth`] on a device with a small stack).
pub const MAX_DEPTH: u32 = 48;
/// Words in the value stack (16 KiB): the windows of all active frames.
pub const STACK_WORDS: usize = 4 * 1024;

impl<F: FlashImage> Vm<F> {
    /// A fresh VM with a heap of `heap_size` bytes, the given flash image, and the builtin
    /// types and modules of `registry` (`Vm::new` passes the bundled registry).
    pub fn with_builtins(flash: F, heap_size: u32, registry: &'static Builtins<F>) -> Vm<F> {
        Self::on_heap(flash, HeapBuffers::new(heap_size), registry)
    }

    /// A fresh VM on the heap `buffers` (wiped first): a soft reboot hands the old VM's buffers on,
    /// taken with [`Memory::take_buffers`].
    pub fn on_heap(flash: F, buffers: HeapBuffers, registry: &'static Builtins<F>) -> Vm<F> {
        // The names and their index (what `qstr::fixed_index(&fw)` builds), hashed once.
        let (fw, fixed_index) = Self::firmware_names(registry);
        let first_dyn = qstr::N_STATIC + 1 + fw.len() as u32;
        let mut vm = Vm {
            mem: Memory::with_buffers(flash, buffers),
            registry,
            st: St::default(),
            fw,
            stack: vec![0; STACK_WORDS],
            stack_top: 0,
            young: Vec::new(),
            exc: Value::NULL,
            modules: Value::NULL,
            qpool: Value::NULL,
            frozen_qpool: Value::NULL,
            next_qstr: first_dyn,
            first_dyn_qstr: first_dyn,
            main_globals: Value::NULL,
            sys_path: Value::NULL,
            sys_argv: Value::NULL,
            overlays: Value::NULL,
            extra_roots: Vec::new(),
            out: String::new(),
            err: None,
            rng: RNG_INIT,
            sources: Vec::new(),
            vfs: None,
            depth: 0,
            gc_enabled: true,
            ticks_ms: 0,
            frozen_count: 0,
            freezer: None,
            mount_state: None,
            lifecycle: Default::default(),
            gc_stress: false,
            freeze_log: Vec::new(),
            freeze_imports: None,
            origins: Vec::new(),
            fuel: u64::MAX,
            fuel_bank: 0,
            poller: None,
            max_depth: MAX_DEPTH,
            traceback: Vec::new(),
            frame_window: usize::MAX,
            qcache: [0; qstr::QCACHE],
            fixed_index,
        };
        vm.build_statics();
        vm.mem.statics_open = false;
        vm.boot_heap();
        vm
    }

    /// Creates the heap-resident boot state (module table, `__main__` globals).
    pub fn boot_heap(&mut self) {
        self.modules = self.new_dict(8).unwrap_or(Value::NULL);
        self.main_globals = self.new_dict(8).unwrap_or(Value::NULL);
        let name = sq!("__name__");
        let main = sq!("__main__");
        let _ = self.dict_store(self.main_globals, name, main);
        self.sys_path = self.new_list(&[]).unwrap_or(Value::NULL);
        self.sys_argv = self.new_list(&[]).unwrap_or(Value::NULL);
        self.young.clear();
    }

    /// Takes the printed output.
    pub fn take_output(&mut self) -> String {
        core::mem::take(&mut self.out)
    }

    // ---------------------------------------------------------------- memory

    /// Reads word `i` of the object at `v`.
    pub fn w(&self, v: Value, i: u32) -> u32 {
        self.mem.read_u32(v.0.wrapping_add(4 * i))
    }

    /// Reads word `i` as a value.
    pub fn wv(&self, v: Value, i: u32) -> Value {
        Value(self.w(v, i))
    }

    /// Writes word `i` of the object at `v`; raises if the object is frozen.
    pub fn set_w(&mut self, v: Value, i: u32, x: u32) -> R<()> {
        match self.mem.write_u32(v.0.wrapping_add(4 * i), x) {
            Ok(()) => Ok(()),
            Err(e) => self.raise_mem(e),
        }
    }

    /// Raises the Python exception for a failed memory access.
    pub fn raise_mem<T>(&mut self, e: MemError) -> R<T> {
        match e {
            MemError::ReadOnly(a) => {
                let msg = alloc::format!("can't modify frozen object at {a:#010x}");
                self.raise_msg("TypeError", &msg)
            }
            MemError::Unmapped(_) => {
                let msg = alloc::format!("{e}");
                self.raise_msg("RuntimeError", &msg)
            }
            MemError::NoMemory(_) => {
                let msg = alloc::format!("{e}");
                self.raise_msg("MemoryError", &msg)
            }
        }
    }

    /// The slot table of a value's type (small ints are `int`, qstrs are `str`); `None` for
    /// null and for what is not an object of a registered kind.
    #[inline]
    pub fn slots(&self, v: Value) -> Option<&'static TypeSlots<F>> {
        if v.is_int() {
            return self.registry.by_kind[Kind::INT.id() as usize];
        }
        if v.is_qstr() {
            return self.registry.by_kind[Kind::STR.id() as usize];
        }
        if !v.is_ptr() {
            return None;
        }
        self.header_slots(self.mem.read_u32(v.0))
    }

    /// The slot table of the type a header names: a registered kind, with the [`COMPACT`]
    /// bit only if that type has a compact frozen layout. Not for kind 0 (no object has it).
    #[inline]
    pub fn header_slots(&self, hdr: u32) -> Option<&'static TypeSlots<F>> {
        let b = hdr as u8;
        let i = (b & !COMPACT) as usize;
        if i == 0 || i >= Kind::LIMIT {
            return None;
        }
        let t = self.registry.by_kind[i]?;
        (b & COMPACT == 0 || t.frozen.is_some()).then_some(t)
    }

    /// The kind of a value's object (None for immediates and null).
    #[inline]
    pub fn kind(&self, v: Value) -> Option<Kind> {
        if !v.is_ptr() {
            return None;
        }
        self.header_kind(self.mem.read_u32(v.0))
    }

    /// The kind header word `hdr` names ([`Kind::FORWARD`] included), if it is a valid one.
    #[inline]
    pub fn header_kind(&self, hdr: u32) -> Option<Kind> {
        if hdr as u8 == Kind::FORWARD.id() {
            return Some(Kind::FORWARD);
        }
        self.header_slots(hdr).map(|t| t.kind)
    }

    /// Byte size of the object with header `hdr` (header included) and whether the words after
    /// its header are values (the GC and the freezer scan them), from its type's layout.
    #[inline]
    pub fn object_layout(&self, hdr: u32) -> Option<(u32, bool)> {
        match self.header_slots(hdr) {
            Some(t) => Self::type_layout(t, hdr),
            None if hdr as u8 == Kind::FORWARD.id() => Some((object_size(hdr)?, true)),
            None => None,
        }
    }

    /// [`Vm::object_layout`] of an object of type `t` with header `hdr`.
    #[inline]
    pub fn type_layout(t: &TypeSlots<F>, hdr: u32) -> Option<(u32, bool)> {
        Some(match t.layout {
            Layout::Core => (object_size(hdr)?, !t.kind.is_bytes()),
            Layout::Words(n) => (4 + 4 * n, true),
            Layout::Raw { size } => (size(hdr), false),
        })
    }

    /// The header aux bits.
    pub fn aux(&self, v: Value) -> u32 {
        self.mem.read_u32(v.0) >> 8
    }

    /// Allocates an object of `size` bytes in the heap; collects and retries once, then raises
    /// MemoryError.
    pub fn alloc(&mut self, size: u32) -> R<u32> {
        if self.gc_stress {
            self.collect();
        }
        if let Some(a) = self.mem.heap_alloc(size) {
            self.young.push(a);
            return Ok(a);
        }
        if self.gc_enabled {
            self.collect();
        }
        match self.mem.heap_alloc(size) {
            Some(a) => {
                self.young.push(a);
                Ok(a)
            }
            None => {
                self.exc = Value(self.st.memory_error);
                Err(Thrown)
            }
        }
    }

    /// Allocates an object with `hdr` and `words` value words.
    pub fn alloc_obj(&mut self, kind: Kind, aux: u32, words: &[Value]) -> R<Value> {
        let a = self.alloc(4 + 4 * words.len() as u32)?;
        let _ = self.mem.write_u32(a, header(kind, aux));
        for (i, w) in words.iter().enumerate() {
            let _ = self.mem.write_u32(a + 4 + 4 * i as u32, w.0);
        }
        Ok(Value(a))
    }

    // ---------------------------------------------------------------- GC

    /// The VM's own root fields (besides the stacks), in one place for the GC and the live
    /// fix-up, so a new root cannot be marked by one and missed by the other.
    pub(crate) fn root_fields(&self) -> [u32; 7] {
        [
            self.exc.0,
            self.modules.0,
            self.qpool.0,
            self.main_globals.0,
            self.sys_path.0,
            self.sys_argv.0,
            self.overlays.0,
        ]
    }

    /// Store the fields [`Vm::root_fields`] returned (after rewriting them).
    pub(crate) fn set_root_fields(&mut self, fields: [u32; 7]) {
        let [
            exc,
            modules,
            qpool,
            main_globals,
            sys_path,
            sys_argv,
            overlays,
        ] = fields.map(Value);
        self.exc = exc;
        self.modules = modules;
        self.qpool = qpool;
        self.main_globals = main_globals;
        self.sys_path = sys_path;
        self.sys_argv = sys_argv;
        self.overlays = overlays;
    }

    /// Runs a full mark-sweep collection; returns bytes freed.
    pub fn collect(&mut self) -> u32 {
        let top = self.stack_top.min(self.stack.len());
        let mut roots: Vec<u32> = self.stack[..top].to_vec();
        roots.extend_from_slice(&self.young);
        roots.extend_from_slice(&self.extra_roots);
        roots.extend_from_slice(&self.root_fields());
        // The RAM section holds frozen mutable objects: their value words are roots.
        for r in self.ram_value_runs() {
            roots.extend(r.map(|i| self.ram_word(i)));
        }
        // Frozen objects written since boot live in their heap copies (`mem`'s module docs).
        roots.extend(self.mem.cow_copies());
        self.mark_from(&roots);
        self.mem.sweep()
    }

    /// Marks every heap object reachable from `roots` through heap objects (the mark phase of
    /// [`Vm::collect`]; the freezer also marks what running code reaches, see
    /// `crate::import`). The marks stay until a sweep or [`Memory::clear_marks`].
    pub fn mark_from(&mut self, roots: &[u32]) {
        let mut work: Vec<u32> = Vec::new();
        for &r in roots {
            if self.mem.mark(r) {
                work.push(r);
            }
        }
        while let Some(a) = work.pop() {
            let hdr = self.mem.read_u32(a);
            let Some((size, true)) = self.object_layout(hdr) else {
                continue;
            };
            let size = size.min(self.mem.alloc_size(a));
            let mut off = 4;
            while off + 4 <= size {
                let x = self.mem.read_u32(a + off);
                if self.mem.mark(x) {
                    work.push(x);
                }
                off += 4;
            }
        }
    }

    /// Addresses of the value words of the objects in the RAM section (see
    /// [`Vm::ram_value_runs`]), one by one.
    pub fn ram_value_words(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for r in self.ram_value_runs() {
            out.extend(r.map(|i| RAM_SECTION_BASE + 4 * i as u32));
        }
        out
    }

    /// The value words of the objects in the RAM section, for the GC (roots) and the freezer's
    /// live fix-up: runs of word indices into the section, one per object with values. The
    /// section is walked object by object from its start: the freezer packs each batch's
    /// objects 4-aligned from a 16-aligned start, and the gaps are zero words (most of the
    /// section, past the last batch: skipped four words at a time). Raw payloads (a
    /// bytearray's bytes) are no value words, so their bytes are never taken for references. A
    /// word that starts no object of a known layout ends the exact walk: every word from there
    /// on counts as a value word (conservative).
    pub fn ram_value_runs(&self) -> Vec<core::ops::Range<usize>> {
        let mut out = Vec::new();
        let ram: &[u8] = &self.mem.ram;
        // One alignment check for the section, then a load per word (a copy if it is not
        // 4-aligned, which neither the Pico's fixed section nor a heap buffer is in practice).
        let copy: Vec<u32>;
        let words: &[u32] = match <[u32] as zerocopy::FromBytes>::ref_from_bytes(ram) {
            Ok(w) => w,
            Err(_) => {
                copy = ram.chunks_exact(4).map(crate::mem::word_at).collect();
                &copy
            }
        };
        let n = words.len();
        let mut i = 0;
        while let Some(&w) = words.get(i) {
            let hdr = u32::from_le(w);
            if hdr == 0 {
                i += 1;
                while let Some(&[0, 0, 0, 0]) = words.get(i..i + 4) {
                    i += 4;
                }
                continue;
            }
            match self.object_layout(hdr) {
                Some((size, values)) if size >= 4 && size as usize <= 4 * (n - i) => {
                    if values {
                        out.push(i + 1..i + size as usize / 4);
                    }
                    i += size.div_ceil(4) as usize;
                }
                _ => {
                    out.push(i..n);
                    break;
                }
            }
        }
        out
    }

    /// The RAM section's word at index `i` (0 past its end).
    #[inline]
    pub(crate) fn ram_word(&self, i: usize) -> u32 {
        match self.mem.ram.get(4 * i..4 * i + 4) {
            Some(b) => crate::mem::word_at(b),
            None => 0,
        }
    }

    /// Heap statistics.
    pub fn heap_stats(&self) -> HeapStats {
        self.mem.stats()
    }

    /// The bool value.
    pub fn bool_val(&self, b: bool) -> Value {
        Value(if b { self.st.true_ } else { self.st.false_ })
    }

    /// `None`.
    pub fn none(&self) -> Value {
        Value(self.st.none)
    }
}
