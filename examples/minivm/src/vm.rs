//! The VM state and its object helpers: allocation, GC roots, qstrs, strings, containers,
//! exceptions.
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
use core::fmt::Write as _;

use crate::mem::{FlashImage, HeapStats, MemError, Memory};
use crate::natives::NATIVE_NAMES;
use crate::obj::*;
use crate::qstr;
use crate::qstr::sq;

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
    /// Builtin modules (name, module object).
    pub modules: Vec<(&'static str, u32)>,
    /// Builtin modules under their plain names (`time`, `collections`…): used only when no
    /// module source has that name, as MicroPython's weak links.
    pub aliases: Vec<(&'static str, u32)>,
    /// A preallocated MemoryError instance.
    pub memory_error: u32,
    /// The `sys.modules` dict lives in the heap; this static holds nothing.
    pub reserved: u32,
}

/// The virtual machine.
pub struct Vm<F: FlashImage> {
    /// All modelled memory.
    pub mem: Memory<F>,
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
    /// `sys.path` list (heap).
    pub sys_path: Value,
    /// Globals rebound by frozen modules' own code: dict of namespace → dict (heap), or null.
    pub overlays: Value,
    /// Extra roots registered by the embedder.
    pub extra_roots: Vec<u32>,
    /// Printed output not yet taken by the host.
    pub out: String,
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
    /// Collect before every allocation (tests: finds values the GC cannot see).
    pub gc_stress: bool,
    /// Sorted addresses of interned Str objects (filled while freezing, for the stats).
    pub interned: Vec<u32>,
    /// The heap qstr pools' compact sizes, `(pool, (strings, text bytes))` or `None` if the
    /// texts outgrow u16 offsets (filled while freezing: the plan asks for a pool's size many
    /// times, and each answer would walk the pool's strings).
    pub pool_sizes: Vec<(u32, Option<(u32, u32)>)>,
    /// The plan statistics of every batch frozen since boot, oldest first (density reports).
    pub freeze_log: Vec<flashfreeze::Stats>,
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
}

/// What `freeze.import_modules` and `freeze.clear` call (implemented by the integration).
pub trait Freezer<F: FlashImage> {
    /// Freezes the named module, which is already imported into the heap.
    fn freeze_module(&mut self, vm: &mut Vm<F>, name: &str) -> Result<String, String>;
    /// Erases the image.
    fn clear(&mut self, vm: &mut Vm<F>) -> Result<(), String>;
}

/// Default largest Python call depth before `RuntimeError` (each level is a few Rust frames:
/// lower it with [`Vm::max_depth`] on a device with a small stack).
pub const MAX_DEPTH: u32 = 48;
/// Words in the value stack (16 KiB): the windows of all active frames.
pub const STACK_WORDS: usize = 4 * 1024;

impl<F: FlashImage> Vm<F> {
    /// A fresh VM with a heap of `heap_size` bytes and the given flash image.
    pub fn new(flash: F, heap_size: u32) -> Vm<F> {
        let mut fw: Vec<&'static str> = Vec::new();
        for n in NATIVE_NAMES
            .iter()
            .chain(crate::builtins::EXTRA_NAMES.iter())
        {
            if qstr::find_fixed(&fw, n.as_bytes()).is_none() {
                fw.push(n);
            }
        }
        let first_dyn = qstr::N_STATIC + 1 + fw.len() as u32;
        let mut vm = Vm {
            mem: Memory::new(flash, heap_size),
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
            overlays: Value::NULL,
            extra_roots: Vec::new(),
            out: String::new(),
            sources: Vec::new(),
            vfs: None,
            depth: 0,
            gc_enabled: true,
            ticks_ms: 0,
            frozen_count: 0,
            freezer: None,
            gc_stress: false,
            interned: Vec::new(),
            pool_sizes: Vec::new(),
            freeze_log: Vec::new(),
            fuel: u64::MAX,
            fuel_bank: 0,
            poller: None,
            max_depth: MAX_DEPTH,
            traceback: Vec::new(),
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
        }
    }

    /// The kind of a value's object (None for immediates and null).
    pub fn kind(&self, v: Value) -> Option<Kind> {
        if !v.is_ptr() {
            return None;
        }
        Kind::from_u8(self.mem.read_u32(v.0) as u8)
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
    pub(crate) fn root_fields(&self) -> [u32; 6] {
        [
            self.exc.0,
            self.modules.0,
            self.qpool.0,
            self.main_globals.0,
            self.sys_path.0,
            self.overlays.0,
        ]
    }

    /// Store the fields [`Vm::root_fields`] returned (after rewriting them).
    pub(crate) fn set_root_fields(&mut self, fields: [u32; 6]) {
        let [exc, modules, qpool, main_globals, sys_path, overlays] = fields.map(Value);
        self.exc = exc;
        self.modules = modules;
        self.qpool = qpool;
        self.main_globals = main_globals;
        self.sys_path = sys_path;
        self.overlays = overlays;
    }

    /// Runs a full mark-sweep collection; returns bytes freed.
    pub fn collect(&mut self) -> u32 {
        let mut work: Vec<u32> = Vec::new();
        let top = self.stack_top.min(self.stack.len());
        let mut roots: Vec<u32> = self.stack[..top].to_vec();
        roots.extend_from_slice(&self.young);
        roots.extend_from_slice(&self.extra_roots);
        roots.extend_from_slice(&self.root_fields());
        // The RAM section holds frozen mutable objects: every word may be a reference.
        for c in self.mem.ram.chunks_exact(4) {
            roots.push(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        }
        for r in roots {
            if self.mem.mark(r) {
                work.push(r);
            }
        }
        while let Some(a) = work.pop() {
            let hdr = self.mem.read_u32(a);
            let Some(kind) = Kind::from_u8(hdr as u8) else {
                continue;
            };
            if kind.is_bytes() {
                continue;
            }
            let size = object_size(hdr).unwrap_or(4).min(self.mem.alloc_size(a));
            let mut off = 4;
            while off + 4 <= size {
                let x = self.mem.read_u32(a + off);
                if self.mem.mark(x) {
                    work.push(x);
                }
                off += 4;
            }
        }
        self.mem.sweep()
    }

    /// Heap statistics.
    pub fn heap_stats(&self) -> HeapStats {
        self.mem.stats()
    }

    // ---------------------------------------------------------------- qstrs

    /// The qstr value of a firmware/static name, interning it if needed.
    pub fn q(&mut self, s: &str) -> Value {
        match self.intern(s.as_bytes()) {
            Ok(v) => v,
            Err(_) => Value::qstr(1),
        }
    }

    /// Looks up an interned string without creating it.
    pub fn find_qstr(&self, s: &[u8]) -> Option<u32> {
        if let Some(id) = qstr::find_fixed(&self.fw, s) {
            return Some(id);
        }
        let h = qstr::hash(s);
        for pool in [self.qpool, self.frozen_qpool] {
            let mut p = pool;
            while p.is_ptr() {
                let first = self.wv(p, 2).as_int() as u32;
                let n = self.pool_len(p);
                let compact = is_compact(self.w(p, 0));
                for i in 0..n {
                    let hit = if compact {
                        self.pool_text(p, i) == Some(s)
                    } else {
                        let s_obj = self.wv(p, QPOOL_HDR_WORDS + i);
                        // A compact frozen str has no hash word: its bytes decide.
                        let hashed = !is_compact(self.w(s_obj, 0));
                        (!hashed || self.w(s_obj, 1) == h) && self.str_obj_bytes(s_obj) == Some(s)
                    };
                    if hit {
                        return Some(first + i);
                    }
                }
                p = self.wv(p, 1);
            }
        }
        None
    }

    /// Number of strings in qstr pool `p` (never more than its layout has room for).
    pub fn pool_len(&self, p: Value) -> u32 {
        let n = self.wv(p, 3).as_int().max(0) as u32;
        let hdr = self.w(p, 0);
        if is_compact(hdr) {
            // n + 1 offsets after the 4 words.
            let room = object_size(hdr)
                .unwrap_or(0)
                .saturating_sub(4 * QPOOL_HDR_WORDS)
                / 2;
            n.min(room.saturating_sub(1))
        } else {
            n.min(self.aux(p))
        }
    }

    /// The text of entry `i` of qstr pool `p` (heap layout: a Str per entry; compact frozen
    /// layout: u16 offsets into the packed texts, see [`crate::obj`]).
    pub fn pool_text(&self, p: Value, i: u32) -> Option<&[u8]> {
        if i >= self.pool_len(p) {
            return None;
        }
        if !is_compact(self.w(p, 0)) {
            return self.str_obj_bytes(self.wv(p, QPOOL_HDR_WORDS + i));
        }
        let n = self.pool_len(p);
        let offsets = p.0.wrapping_add(4 * QPOOL_HDR_WORDS);
        let off = |k: u32| {
            let b = self.mem.bytes(offsets.wrapping_add(2 * k), 2)?;
            Some(u16::from_le_bytes([b[0], b[1]]) as u32)
        };
        let (start, end) = (off(i)?, off(i + 1)?);
        let texts = offsets.wrapping_add(pool_offsets_bytes(n));
        // Stay inside the object whatever the offsets say.
        let size = object_size(self.w(p, 0))?;
        if start > end || texts.wrapping_add(end) > p.0.wrapping_add(size) {
            return None;
        }
        self.mem.bytes(texts.wrapping_add(start), end - start)
    }

    /// Interns `s`.
    pub fn intern(&mut self, s: &[u8]) -> R<Value> {
        if let Some(id) = self.find_qstr(s) {
            return Ok(Value::qstr(id));
        }
        let s_obj = self.new_str_obj(Kind::Str, s)?;
        let pool = self.qpool;
        let need_new = !pool.is_ptr() || !self.mem.is_writable(pool.0) || {
            let cap = self.aux(pool);
            self.wv(pool, 3).as_int() as u32 >= cap
        };
        let pool = if need_new {
            let cap = 32;
            let a = self.alloc(16 + 4 * cap)?;
            let _ = self.mem.write_u32(a, header(Kind::QstrPool, cap));
            let _ = self.mem.write_u32(a + 4, self.qpool.0);
            let _ = self
                .mem
                .write_u32(a + 8, Value::small(self.next_qstr as i32).0);
            let _ = self.mem.write_u32(a + 12, Value::small(0).0);
            self.qpool = Value(a);
            Value(a)
        } else {
            pool
        };
        let n = self.wv(pool, 3).as_int() as u32;
        self.set_w(pool, QPOOL_HDR_WORDS + n, s_obj.0)?;
        self.set_w(pool, 3, Value::small(n as i32 + 1).0)?;
        let id = self.next_qstr;
        self.next_qstr += 1;
        Ok(Value::qstr(id))
    }

    /// The text of qstr `id`.
    pub fn qstr_bytes(&self, id: u32) -> &[u8] {
        if let Some(s) = qstr::fixed_str(&self.fw, id) {
            return s.as_bytes();
        }
        for pool in [self.qpool, self.frozen_qpool] {
            let mut p = pool;
            while p.is_ptr() {
                let first = self.wv(p, 2).as_int() as u32;
                let n = self.pool_len(p);
                if id >= first && id - first < n {
                    return self.pool_text(p, id - first).unwrap_or(b"?");
                }
                p = self.wv(p, 1);
            }
        }
        b"?"
    }

    // ---------------------------------------------------------------- strings

    /// Allocates a Str or Bytes object.
    pub fn new_str_obj(&mut self, kind: Kind, s: &[u8]) -> R<Value> {
        let a = self.alloc(8 + s.len() as u32)?;
        let _ = self.mem.write_u32(a, header(kind, s.len() as u32));
        let _ = self.mem.write_u32(a + 4, qstr::hash(s));
        let _ = self.mem.write_bytes(a + 8, s);
        Ok(Value(a))
    }

    /// A new str value (interned when short, like MicroPython's parser does for names).
    pub fn new_str(&mut self, s: &[u8]) -> R<Value> {
        if let Some(id) = self.find_qstr(s) {
            return Ok(Value::qstr(id));
        }
        self.new_str_obj(Kind::Str, s)
    }

    /// Bytes of a Str/Bytes object.
    pub fn str_obj_bytes(&self, v: Value) -> Option<&[u8]> {
        let hdr = self.mem.read_u32(v.0);
        match Kind::from_u8(hdr as u8) {
            Some(Kind::Str | Kind::Bytes) => self.mem.bytes(v.0 + payload_offset(hdr), hdr >> 8),
            _ => None,
        }
    }

    /// Address of the first payload byte of a Str/Bytes object (e.g. a code's bytecode).
    pub fn payload_addr(&self, v: Value) -> u32 {
        v.0.wrapping_add(payload_offset(self.mem.read_u32(v.0)))
    }

    /// Address of a raw code's bytecode: in its Bytes object (heap layout) or inline after
    /// the header and children word if any (compact frozen layout, see [`crate::obj`]).
    pub fn code_addr(&self, rc: Value) -> u32 {
        let hdr = self.w(rc, 0);
        match (is_compact(hdr), (hdr >> 8) & CODE_HAS_CHILDREN != 0) {
            (true, true) => rc.0.wrapping_add(8),
            (true, false) => rc.0.wrapping_add(4),
            (false, _) => self.payload_addr(self.wv(rc, 1)),
        }
    }

    /// A raw code's children table (null when it has none), in either layout.
    pub fn code_children(&self, rc: Value) -> Value {
        let hdr = self.w(rc, 0);
        match (is_compact(hdr), (hdr >> 8) & CODE_HAS_CHILDREN != 0) {
            (true, true) => self.wv(rc, 1),
            (true, false) => Value::NULL,
            (false, _) => self.wv(rc, 2),
        }
    }

    /// Bytes of a str (qstr or Str object), or `None` if `v` is not a str.
    pub fn str_bytes(&self, v: Value) -> Option<&[u8]> {
        if v.is_qstr() {
            return Some(self.qstr_bytes(v.as_qstr()));
        }
        match self.kind(v) {
            Some(Kind::Str) => self.str_obj_bytes(v),
            _ => None,
        }
    }

    /// Owned text of a str value (lossy).
    pub fn str_string(&self, v: Value) -> String {
        String::from_utf8_lossy(self.str_bytes(v).unwrap_or(b"")).into_owned()
    }

    // ---------------------------------------------------------------- containers

    /// A new tuple.
    pub fn new_tuple(&mut self, items: &[Value]) -> R<Value> {
        if items.is_empty() && self.st.empty_tuple != 0 {
            return Ok(Value(self.st.empty_tuple));
        }
        self.alloc_obj(Kind::Tuple, items.len() as u32, items)
    }

    /// A new array of `n` null words.
    pub fn new_array(&mut self, n: u32) -> R<Value> {
        self.new_array_of(Kind::Array, n)
    }

    /// A new `Array` or `ConstArray` of `n` null words.
    pub fn new_array_of(&mut self, kind: Kind, n: u32) -> R<Value> {
        let Some(size) = n.checked_mul(4).and_then(|x| x.checked_add(4)) else {
            self.exc = Value(self.st.memory_error);
            return Err(Thrown);
        };
        let a = self.alloc(size)?;
        let _ = self.mem.write_u32(a, header(kind, n));
        Ok(Value(a))
    }

    /// A new namespace dict (module globals, class body): read-only once frozen.
    pub fn new_namespace(&mut self, n: u32) -> R<Value> {
        let arr = self.new_array_of(Kind::ConstArray, 2 * n.max(1))?;
        self.alloc_obj(Kind::Dict, dict_flags::NAMESPACE, &[Value::small(0), arr])
    }

    /// A new list.
    pub fn new_list(&mut self, items: &[Value]) -> R<Value> {
        let cap = (items.len() as u32).max(4);
        let arr = self.new_array(cap)?;
        for (i, x) in items.iter().enumerate() {
            let _ = self.mem.write_u32(arr.0 + 4 + 4 * i as u32, x.0);
        }
        self.alloc_obj(Kind::List, 0, &[Value::small(items.len() as i32), arr])
    }

    /// A new empty dict with room for `n` entries.
    pub fn new_dict(&mut self, n: u32) -> R<Value> {
        let arr = self.new_array(2 * n.max(1))?;
        self.alloc_obj(Kind::Dict, 0, &[Value::small(0), arr])
    }

    /// Items of a tuple/list/array-backed sequence as (address of first item, length).
    pub fn seq_items(&self, v: Value) -> Option<(u32, u32)> {
        match self.kind(v)? {
            Kind::Tuple | Kind::ConstArray => Some((v.0 + 4, self.aux(v))),
            Kind::Array => Some((v.0 + 4, self.aux(v) & ARRAY_LEN_MASK)),
            Kind::List => {
                let arr = self.wv(v, 2);
                let len = (self.wv(v, 1).as_int().max(0) as u32).min(self.aux(arr));
                Some((arr.0 + 4, len))
            }
            _ => None,
        }
    }

    /// Copies a tuple/list's items.
    pub fn seq_vec(&self, v: Value) -> Option<Vec<Value>> {
        let (a, n) = self.seq_items(v)?;
        Some(
            (0..n)
                .map(|i| Value(self.mem.read_u32(a + 4 * i)))
                .collect(),
        )
    }

    /// Appends to a list.
    pub fn list_append(&mut self, l: Value, x: Value) -> R<()> {
        self.expect_kind(l, &[Kind::List], "a list")?;
        let len = self.wv(l, 1).as_int() as u32;
        let arr = self.wv(l, 2);
        let cap = self.aux(arr);
        let arr = if len >= cap {
            let new_cap = (cap * 2).max(4);
            let na = self.new_array(new_cap)?;
            for i in 0..len {
                let x = self.w(arr, 1 + i);
                let _ = self.mem.write_u32(na.0 + 4 + 4 * i, x);
            }
            self.set_w(l, 2, na.0)?;
            na
        } else {
            arr
        };
        self.set_w(arr, 1 + len, x.0)?;
        self.set_w(l, 1, Value::small(len as i32 + 1).0)
    }

    /// Number of entries of a dict/set (0 for anything else; never more than the table holds).
    pub fn dict_len(&self, d: Value) -> u32 {
        if !matches!(self.kind(d), Some(Kind::Dict | Kind::Set)) {
            return 0;
        }
        let t = self.wv(d, 2);
        (self.wv(d, 1).as_int().max(0) as u32).min(self.aux(t) / 2)
    }

    fn expect_kind(&mut self, v: Value, kinds: &[Kind], what: &str) -> R<()> {
        match self.kind(v) {
            Some(k) if kinds.contains(&k) => Ok(()),
            _ => {
                let t = self.class_name(self.type_of(v));
                let msg = alloc::format!("expected {what}, got '{t}'");
                self.raise_msg("TypeError", &msg)
            }
        }
    }

    /// Index of `key` in a dict.
    pub fn dict_find(&mut self, d: Value, key: Value) -> R<Option<u32>> {
        let n = self.dict_len(d);
        let t = self.wv(d, 2);
        // Fast path: identical words (qstrs, small ints, same object).
        for i in 0..n {
            if self.w(t, 1 + 2 * i) == key.0 {
                return Ok(Some(i));
            }
        }
        for i in 0..n {
            let k = self.wv(t, 1 + 2 * i);
            if k.0 != key.0 && self.eq(k, key)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// Looks up `key`.
    pub fn dict_get(&mut self, d: Value, key: Value) -> R<Option<Value>> {
        Ok(self.dict_find(d, key)?.map(|i| {
            let t = self.wv(d, 2);
            self.wv(t, 2 + 2 * i)
        }))
    }

    /// Looks up a qstr key without equality calls (module/class dicts).
    pub fn dict_get_q(&self, d: Value, key: Value) -> Option<Value> {
        let n = self.dict_len(d);
        let t = self.wv(d, 2);
        for i in 0..n {
            let k = self.w(t, 1 + 2 * i);
            if k == key.0 {
                return Some(self.wv(t, 2 + 2 * i));
            }
        }
        // A str object key equal to the qstr.
        if key.is_qstr() {
            let kb = self.qstr_bytes(key.as_qstr());
            for i in 0..n {
                let k = self.wv(t, 1 + 2 * i);
                if !k.is_qstr() && self.str_bytes(k) == Some(kb) {
                    return Some(self.wv(t, 2 + 2 * i));
                }
            }
        }
        None
    }

    /// Stores `key: value`.
    pub fn dict_store(&mut self, d: Value, key: Value, value: Value) -> R<()> {
        self.expect_kind(d, &[Kind::Dict, Kind::Set], "a dict")?;
        let t = self.wv(d, 2);
        if let Some(i) = self.dict_find(d, key)? {
            return self.set_w(t, 2 + 2 * i, value.0);
        }
        let n = self.dict_len(d);
        let cap = self.aux(t) / 2;
        let t = if n >= cap {
            if !self.mem.is_writable(d.0) {
                return self.raise_mem(MemError::ReadOnly(d.0));
            }
            let tk = self.kind(t).unwrap_or(Kind::Array);
            let nt = self.new_array_of(tk, 2 * (cap * 2).max(2))?;
            for i in 0..2 * n {
                let x = self.w(t, 1 + i);
                let _ = self.mem.write_u32(nt.0 + 4 + 4 * i, x);
            }
            self.set_w(d, 2, nt.0)?;
            nt
        } else {
            t
        };
        self.set_w(t, 1 + 2 * n, key.0)?;
        self.set_w(t, 2 + 2 * n, value.0)?;
        self.set_w(d, 1, Value::small(n as i32 + 1).0)
    }

    /// Removes `key`; returns its value.
    pub fn dict_remove(&mut self, d: Value, key: Value) -> R<Option<Value>> {
        let Some(i) = self.dict_find(d, key)? else {
            return Ok(None);
        };
        let t = self.wv(d, 2);
        let n = self.dict_len(d);
        let v = self.wv(t, 2 + 2 * i);
        for j in 2 * i..2 * (n - 1) {
            let x = self.w(t, 3 + j);
            self.set_w(t, 1 + j, x)?;
        }
        self.set_w(t, 2 * n - 1, 0)?;
        self.set_w(t, 2 * n, 0)?;
        self.set_w(d, 1, Value::small(n as i32 - 1).0)?;
        Ok(Some(v))
    }

    /// Entry `i` of a dict as (key, value).
    pub fn dict_entry(&self, d: Value, i: u32) -> (Value, Value) {
        let t = self.wv(d, 2);
        (self.wv(t, 1 + 2 * i), self.wv(t, 2 + 2 * i))
    }

    // ---------------------------------------------------------------- types

    /// The class of a value.
    pub fn type_of(&self, v: Value) -> u32 {
        if v.is_int() {
            return self.st.int;
        }
        if v.is_qstr() {
            return self.st.str_;
        }
        match self.kind(v) {
            Some(Kind::Instance) => self.w(v, 1),
            Some(k) => self
                .st
                .types
                .get(k as usize)
                .copied()
                .unwrap_or(self.st.object),
            None => self.st.types.get(Kind::None as usize).copied().unwrap_or(0),
        }
    }

    /// Is class `c` a subclass of class `base` (depth-first over bases)?
    pub fn is_subclass(&self, c: u32, base: u32) -> bool {
        let mut work = vec![c];
        let mut steps = 0;
        while let Some(x) = work.pop() {
            steps += 1;
            if x == base || steps > 256 {
                return x == base;
            }
            if self.kind(Value(x)) != Some(Kind::Class) {
                continue;
            }
            if let Some(bases) = self.seq_vec(self.wv(Value(x), 2)) {
                for b in bases.iter().rev() {
                    work.push(b.0);
                }
            }
        }
        base == self.st.object
    }

    /// Is `v` an instance of class `c`?
    pub fn isinstance(&self, v: Value, c: u32) -> bool {
        self.is_subclass(self.type_of(v), c)
    }

    /// Address of the builtin exception class `name`.
    pub fn exc_class(&self, name: &str) -> u32 {
        self.st
            .exc
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .unwrap_or(0)
    }

    /// Name of a class.
    pub fn class_name(&self, c: u32) -> String {
        let n = self.wv(Value(c), 1);
        self.str_string(n)
    }

    /// Is `v` an exception instance?
    pub fn is_exception(&self, v: Value) -> bool {
        self.kind(v) == Some(Kind::Instance) && {
            let c = self.w(v, 1);
            self.aux(Value(c)) & class_flags::EXCEPTION != 0
        }
    }

    /// Word 3 of an instance: an exception's args tuple, null for any other instance. The
    /// compact frozen copy of a plain instance has no word 3 (see `freeze`): null too. Every
    /// reader of that word goes through here.
    pub fn inst_native(&self, v: Value) -> Value {
        if is_compact(self.w(v, 0)) {
            Value::NULL
        } else {
            self.wv(v, 3)
        }
    }

    /// Is `v` a direct instance of a builtin exception class (a firmware static, not a user
    /// subclass)? Like MicroPython's native exception objects it holds only its class and args
    /// tuple: attribute stores raise (see `store_attr`), so it never changes and freezes to
    /// flash.
    pub fn is_native_exception(&self, v: Value) -> bool {
        self.is_exception(v)
            && matches!(
                crate::memmap::region_of(self.w(v, 1)),
                Some(crate::memmap::Region::Statics)
            )
    }

    // ---------------------------------------------------------------- exceptions

    /// Creates an exception instance of class `c` with `args`.
    pub fn new_exception(&mut self, c: u32, args: &[Value]) -> R<Value> {
        let t = self.new_tuple(args)?;
        self.alloc_obj(Kind::Instance, 0, &[Value(c), Value::NULL, t])
    }

    /// Raises `exc` (an instance or a class, which is instantiated).
    pub fn raise<T>(&mut self, exc: Value) -> R<T> {
        let e = if self.kind(exc) == Some(Kind::Class) {
            self.call(exc, &[], &[])?
        } else {
            exc
        };
        if !self.is_exception(e) {
            return self.raise_msg("TypeError", "exceptions must derive from BaseException");
        }
        self.traceback.clear();
        self.exc = e;
        Err(Thrown)
    }

    /// Raises builtin exception `name` with a message.
    pub fn raise_msg<T>(&mut self, name: &str, msg: &str) -> R<T> {
        let m = self.new_str(msg.as_bytes())?;
        self.raise_args(name, &[m])
    }

    /// Raises builtin exception `name` with no args.
    pub fn raise_empty<T>(&mut self, name: &str) -> R<T> {
        self.raise_args(name, &[])
    }

    /// Raises builtin exception `name` with `args` (e.g. `KeyError(key)`).
    pub fn raise_args<T>(&mut self, name: &str, args: &[Value]) -> R<T> {
        let c = self.exc_class(name);
        let e = self.new_exception(c, args)?;
        self.traceback.clear();
        self.exc = e;
        Err(Thrown)
    }

    /// Takes the current exception.
    pub fn take_exc(&mut self) -> Value {
        core::mem::replace(&mut self.exc, Value::NULL)
    }

    /// "TypeName: message" for an exception instance.
    pub fn exc_text(&mut self, e: Value) -> String {
        let c = self.type_of(e);
        let mut s = self.class_name(c);
        let args = self.inst_native(e);
        if let Some(items) = self.seq_vec(args) {
            if items.len() == 1 {
                let t = match self.errno_text(e, items[0]) {
                    Some(t) => t,
                    None => self.str_of(items[0]).unwrap_or_default(),
                };
                let _ = write!(s, ": {t}");
            } else if items.len() > 1 {
                let t = self.repr_of(args).unwrap_or_default();
                let _ = write!(s, ": {t}");
            }
        }
        s
    }

    /// The traceback lines of the current exception, outermost first, MicroPython style.
    pub fn traceback_text(&self) -> String {
        let mut s = String::new();
        for (file, line, name) in self.traceback.iter().rev() {
            let f = String::from_utf8_lossy(self.str_bytes(*file).unwrap_or(b"?"));
            let n = String::from_utf8_lossy(self.str_bytes(*name).unwrap_or(b"?"));
            let _ = writeln!(s, "  File \"{f}\", line {line}, in {n}");
        }
        s
    }

    /// Prints an exception the way the REPL does.
    pub fn print_exception(&mut self, e: Value) {
        let t = self.exc_text(e);
        let tb = self.traceback_text();
        self.out.push_str("Traceback (most recent call last):\n");
        self.out.push_str(&tb);
        self.out.push_str(&t);
        self.out.push('\n');
    }

    /// Object truthiness.
    pub fn truthy(&mut self, v: Value) -> R<bool> {
        if v.is_int() {
            return Ok(v.as_int() != 0);
        }
        if v.is_qstr() {
            return Ok(v.as_qstr() != 1);
        }
        if v.0 == self.st.none || v.0 == self.st.false_ {
            return Ok(false);
        }
        if v.0 == self.st.true_ {
            return Ok(true);
        }
        match self.kind(v) {
            Some(Kind::Str | Kind::Bytes | Kind::Tuple) => Ok(self.aux(v) != 0),
            Some(Kind::List | Kind::Dict | Kind::Set) => Ok(self.wv(v, 1).as_int() != 0),
            Some(Kind::Handle) => {
                let l = self.wv(v, 2);
                Ok(self.wv(l, 1).as_int() > 0)
            }
            Some(Kind::Instance) => {
                let len = sq!("__len__");
                if let Some(m) = self.lookup_method(v, len)? {
                    let r = self.call(m, &[v], &[])?;
                    return Ok(r.as_int() != 0);
                }
                let b = self.q("__bool__");
                if let Some(m) = self.lookup_method(v, b)? {
                    let r = self.call(m, &[v], &[])?;
                    return Ok(r.0 == self.st.true_);
                }
                Ok(true)
            }
            _ => Ok(true),
        }
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
