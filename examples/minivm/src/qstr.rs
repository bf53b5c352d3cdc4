//! Interned strings (qstrs): the fixed static table, the firmware table, and the hash.
//!
//! Ids are dense and stable:
//!
//! ```text
//! 0              null
//! 1..=165        the static qstrs of the .mpy v6 format (same order as MicroPython's list)
//! 166..FW_END    firmware names: every name the registry's types and modules define, in
//!                registry order, then its extra names and the core's (`Vm::firmware_names`)
//! FW_END..       dynamic pools: frozen pools in the image first, then heap pools
//! ```
//!
//! One hash function ([`hash`]) is used for strings everywhere (heap, frozen, firmware).
//!
//! A dynamic pool is an object (`types/qstr_pool.rs` documents both its layouts): the heap
//! pools are chained from `Vm::qpool`, the frozen ones from `Vm::frozen_qpool`, and
//! [`Vm::intern`] appends to the newest heap pool.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::vm::{R, Vm};

/// The static qstrs of the `.mpy` v6 format; entry `i` has id `i + 1`.
pub const STATIC: [&str; 165] = [
    "",
    "__dir__",
    "\n",
    " ",
    "*",
    "/",
    "<module>",
    "_",
    "__call__",
    "__class__",
    "__delitem__",
    "__enter__",
    "__exit__",
    "__getattr__",
    "__getitem__",
    "__hash__",
    "__init__",
    "__int__",
    "__iter__",
    "__len__",
    "__main__",
    "__module__",
    "__name__",
    "__new__",
    "__next__",
    "__qualname__",
    "__repr__",
    "__setitem__",
    "__str__",
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "EOFError",
    "Ellipsis",
    "Exception",
    "GeneratorExit",
    "ImportError",
    "IndentationError",
    "IndexError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "NameError",
    "NoneType",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "RuntimeError",
    "StopIteration",
    "SyntaxError",
    "SystemExit",
    "TypeError",
    "ValueError",
    "ZeroDivisionError",
    "abs",
    "all",
    "any",
    "append",
    "args",
    "bool",
    "builtins",
    "bytearray",
    "bytecode",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "clear",
    "close",
    "const",
    "copy",
    "count",
    "dict",
    "dir",
    "divmod",
    "end",
    "endswith",
    "eval",
    "exec",
    "extend",
    "find",
    "format",
    "from_bytes",
    "get",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "id",
    "index",
    "insert",
    "int",
    "isalpha",
    "isdigit",
    "isinstance",
    "islower",
    "isspace",
    "issubclass",
    "isupper",
    "items",
    "iter",
    "join",
    "key",
    "keys",
    "len",
    "list",
    "little",
    "locals",
    "lower",
    "lstrip",
    "main",
    "map",
    "micropython",
    "next",
    "object",
    "open",
    "ord",
    "pop",
    "popitem",
    "pow",
    "print",
    "range",
    "read",
    "readinto",
    "readline",
    "remove",
    "replace",
    "repr",
    "reverse",
    "rfind",
    "rindex",
    "round",
    "rsplit",
    "rstrip",
    "self",
    "send",
    "sep",
    "set",
    "setattr",
    "setdefault",
    "sort",
    "sorted",
    "split",
    "start",
    "startswith",
    "staticmethod",
    "step",
    "stop",
    "str",
    "strip",
    "sum",
    "super",
    "throw",
    "to_bytes",
    "tuple",
    "type",
    "update",
    "upper",
    "utf-8",
    "value",
    "values",
    "write",
    "zip",
];

/// Names the core interns at run time besides the builtins' (firmware qstrs, so using them
/// never allocates).
pub const CORE_NAMES: &[&str] = &["__path__"];

/// Entries of the VM's cache of [`Vm::q`] lookups of static and firmware names.
pub const QCACHE: usize = 64;

/// Number of static qstrs.
pub const N_STATIC: u32 = STATIC.len() as u32;

/// The string hash used for every str and qstr (djb2 with xor, 32 bits, never 0).
pub fn hash(bytes: &[u8]) -> u32 {
    let mut h: u32 = 5381;
    for &b in bytes {
        h = h.wrapping_mul(33) ^ b as u32;
    }
    if h == 0 { 1 } else { h }
}

/// Id of static qstr `s`, for the names the VM looks up while running: the `sq!` macro
/// evaluates it at compile time, so a hot path pays no table scan (and a name that is not
/// static fails the build).
pub const fn static_id(s: &str) -> u32 {
    let s = s.as_bytes();
    let mut i = 0;
    while i < STATIC.len() {
        let x = STATIC[i].as_bytes();
        if x.len() == s.len() {
            let mut j = 0;
            while j < s.len() && x[j] == s[j] {
                j += 1;
            }
            if j == s.len() {
                return i as u32 + 1;
            }
        }
        i += 1;
    }
    panic!("not a static qstr")
}

/// The qstr value of static name `$s` (a literal), its id resolved at compile time: the same
/// value as `Vm::q($s)`, which interns by scanning the tables.
macro_rules! sq {
    ($s:literal) => {
        $crate::obj::Value::qstr(const { $crate::qstr::static_id($s) })
    };
}
pub(crate) use sq;

/// Id of a static or firmware name given the firmware table, if it is one.
pub fn find_fixed(fw: &[&str], s: &[u8]) -> Option<u32> {
    if let Some(i) = STATIC.iter().position(|x| x.as_bytes() == s) {
        return Some(i as u32 + 1);
    }
    fw.iter()
        .position(|x| x.as_bytes() == s)
        .map(|i| N_STATIC + 1 + i as u32)
}

/// Buckets of [`FixedIndex`]: a power of two.
const BUCKETS: usize = 128;

/// The static and firmware names grouped by a hash of their text, so finding one checks the
/// few names of its bucket instead of all ~900 (a counting sort: no comparison sort code).
#[derive(Clone, Debug, Default)]
pub struct FixedIndex {
    /// Where each bucket's entries start in `entries` (`BUCKETS + 1` offsets).
    starts: Vec<u16>,
    /// Indices into the indexed list, grouped by bucket, ascending within one.
    entries: Vec<u16>,
}

impl FixedIndex {
    /// The index of `texts`.
    pub fn new<'a>(texts: impl Iterator<Item = &'a [u8]> + Clone) -> FixedIndex {
        Self::of_hashes(texts.map(hash))
    }

    /// The index of the texts whose [`hash`]es `hashes` gives, in order (each hash taken
    /// once by the caller, who may need them again).
    pub fn of_hashes(hashes: impl Iterator<Item = u32> + Clone) -> FixedIndex {
        let bucket = |h: u32| h as usize & (BUCKETS - 1);
        let mut starts = alloc::vec![0u16; BUCKETS + 1];
        for h in hashes.clone() {
            starts[bucket(h) + 1] += 1;
        }
        for b in 0..BUCKETS {
            starts[b + 1] += starts[b];
        }
        let mut fill = starts.clone();
        let mut entries = alloc::vec![0u16; starts[BUCKETS] as usize];
        for (i, h) in hashes.enumerate() {
            let b = bucket(h);
            entries[fill[b] as usize] = i as u16;
            fill[b] += 1;
        }
        FixedIndex { starts, entries }
    }

    /// The indices in `s`'s bucket, ascending (`text(i) == s` tells which match).
    pub fn candidates(&self, s: &[u8]) -> &[u16] {
        self.candidates_of(hash(s))
    }

    /// [`FixedIndex::candidates`] of a text whose [`hash`] is `h`.
    pub fn candidates_of(&self, h: u32) -> &[u16] {
        let b = h as usize & (BUCKETS - 1);
        match (self.starts.get(b), self.starts.get(b + 1)) {
            (Some(&a), Some(&e)) => self.entries.get(a as usize..e as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// The index of every static and firmware name, by id - 1 (see [`FixedIndex`]).
pub fn fixed_index(fw: &[&str]) -> FixedIndex {
    FixedIndex::new(STATIC.iter().chain(fw.iter()).map(|s| s.as_bytes()))
}

/// The text of a static or firmware id.
pub fn fixed_str<'a>(fw: &'a [&'a str], id: u32) -> Option<&'a str> {
    if id == 0 {
        return None;
    }
    if id <= N_STATIC {
        return STATIC.get(id as usize - 1).copied();
    }
    fw.get((id - N_STATIC - 1) as usize).copied()
}

/// The dynamic qstr pools: a chain of pool objects (heap pools first, then the frozen ones),
/// each holding the strings interned after the previous pool filled up.
/// A qstr pool chain's id ranges ([`Vm::pool_spans`]): on the stack, no allocation.
#[derive(Clone, Debug)]
pub struct PoolSpans {
    /// (first id, count, pool address, header word) per pool, in chain order.
    spans: [(u32, u32, u32, u32); PoolSpans::MAX],
    len: usize,
}

impl PoolSpans {
    /// Pools read at most (the seed app's image has 21; a longer chain's older pools are
    /// found by [`Vm::qstr_text`]).
    pub const MAX: usize = 32;

    /// Pools read.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no pool was read.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Number of strings of the qstr pool with header `hdr` and stated count `stated` (word 3):
/// never more than its layout has room for.
fn pool_len_of(hdr: u32, stated: Value) -> u32 {
    let n = stated.as_int().max(0) as u32;
    if is_compact(hdr) {
        // n + 1 offsets after the 4 words.
        let room = object_size(hdr)
            .unwrap_or(0)
            .saturating_sub(4 * QPOOL_HDR_WORDS)
            / 2;
        n.min(room.saturating_sub(1))
    } else {
        n.min(hdr >> 8)
    }
}

/// Entry `i`'s text in `obj`, the bytes of a compact qstr pool of `n` strings: read in place,
/// inside the object whatever its offsets say.
fn compact_text(obj: &[u8], n: usize, i: usize) -> Option<&[u8]> {
    let offsets = 4 * QPOOL_HDR_WORDS as usize;
    let off = |k: usize| {
        let b = obj.get(offsets + 2 * k..offsets + 2 * k + 2)?;
        Some(usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let (start, end) = (off(i)?, off(i + 1)?);
    let texts = offsets + pool_offsets_bytes(n as u32) as usize;
    obj.get(texts + start..texts.checked_add(end)?)
}

impl<F: FlashImage> Vm<F> {
    /// The qstr value of a firmware/static name, interning it if needed. A small cache keyed
    /// by the text's address spares the table scan for the names the runtime asks for on hot
    /// paths (`__bool__`, `__eq__`…); a hit is checked against the id's text, so a reused
    /// address never answers a wrong id.
    pub fn q(&mut self, s: &str) -> Value {
        let slot = ((s.as_ptr() as usize >> 2) ^ s.len()) % QCACHE;
        let id = self.qcache[slot];
        if id != 0 && fixed_str(&self.fw, id) == Some(s) {
            return Value::qstr(id);
        }
        match self.intern(s.as_bytes()) {
            Ok(v) => {
                if fixed_str(&self.fw, v.as_qstr()).is_some() {
                    self.qcache[slot] = v.as_qstr();
                }
                v
            }
            Err(_) => Value::qstr(1),
        }
    }

    /// The static or firmware id of `s`, from [`Vm::fixed_index`].
    pub fn find_fixed_sorted(&self, s: &[u8]) -> Option<u32> {
        self.fixed_index
            .candidates(s)
            .iter()
            .map(|&i| i as u32 + 1)
            .find(|&id| fixed_str(&self.fw, id).map(str::as_bytes) == Some(s))
    }

    /// Is `v` the qstr of `s`? Compares the text, without the table scan interning `s` would
    /// cost (for names checked on hot paths that are not static qstrs).
    #[inline]
    pub fn is_name(&self, v: Value, s: &str) -> bool {
        v.is_qstr() && self.qstr_bytes(v.as_qstr()) == s.as_bytes()
    }

    /// Looks up an interned string without creating it.
    pub fn find_qstr(&self, s: &[u8]) -> Option<u32> {
        if let Some(id) = self.find_fixed_sorted(s) {
            return Some(id);
        }
        let h = hash(s);
        for pool in [self.qpool, self.frozen_qpool] {
            let mut p = pool;
            while p.is_ptr() {
                let first = self.wv(p, 2).as_int() as u32;
                let compact = is_compact(self.w(p, 0));
                if compact {
                    // A frozen pool: one object, scanned in place.
                    if let Some(i) = self.find_in_compact_pool(p, s) {
                        return Some(first + i);
                    }
                    p = self.wv(p, 1);
                    continue;
                }
                let n = self.pool_len(p);
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

    /// The entry of compact (frozen) qstr pool `p` whose text is `s`: the pool's bytes read once,
    /// its offsets compared by length before any text (the same answers as [`Vm::pool_text`]
    /// for each entry, without its per-entry checks and lookups).
    fn find_in_compact_pool(&self, p: Value, s: &[u8]) -> Option<u32> {
        let size = object_size(self.w(p, 0))?;
        let obj = self.mem.bytes(p.0, size)?;
        let n = self.pool_len(p) as usize;
        let hdr = 4 * QPOOL_HDR_WORDS as usize;
        let offsets = obj.get(hdr..hdr + 2 * (n + 1))?;
        let texts = obj.get(hdr + pool_offsets_bytes(n as u32) as usize..)?;
        let off = |k: usize| usize::from(u16::from_le_bytes([offsets[2 * k], offsets[2 * k + 1]]));
        let mut start = off(0);
        for i in 0..n {
            let end = off(i + 1);
            if end.wrapping_sub(start) == s.len() && texts.get(start..end) == Some(s) {
                return Some(i as u32);
            }
            start = end;
        }
        None
    }

    /// Number of strings in qstr pool `p` (never more than its layout has room for).
    pub fn pool_len(&self, p: Value) -> u32 {
        pool_len_of(self.w(p, 0), self.wv(p, 3))
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
        let n = self.pool_len(p) as usize;
        let obj = self.mem.bytes(p.0, object_size(self.w(p, 0))?)?;
        compact_text(obj, n, i as usize)
    }

    /// Interns `s`.
    pub fn intern(&mut self, s: &[u8]) -> R<Value> {
        if let Some(id) = self.find_qstr(s) {
            return Ok(Value::qstr(id));
        }
        let s_obj = self.new_qstr_text(s)?;
        let pool = self.qpool;
        let need_new = !pool.is_ptr() || !self.mem.is_writable(pool.0) || {
            let cap = self.aux(pool);
            self.wv(pool, 3).as_int() as u32 >= cap
        };
        let pool = if need_new {
            let cap = 32;
            let a = self.alloc(16 + 4 * cap)?;
            let _ = self.mem.write_u32(a, header(Kind::QSTR_POOL, cap));
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

    /// The text of a new heap qstr, in the compact str layout (`[hdr len|STR+COMPACT][bytes]`:
    /// no hash word, the pool's lookup compares bytes): never handed out as a value, so nothing
    /// else reads it; 4 bytes less per qstr, a whole 16-byte block for one name in four.
    fn new_qstr_text(&mut self, s: &[u8]) -> R<Value> {
        if s.len() > STR_LEN_MASK as usize {
            self.exc = Value(self.st.memory_error);
            return Err(crate::vm::Thrown);
        }
        let a = self.alloc(4 + s.len() as u32)?;
        let ascii = if s.is_ascii() { STR_ASCII } else { 0 };
        let _ = self.mem.write_u32(
            a,
            header(Kind::STR, s.len() as u32 | ascii) | COMPACT as u32,
        );
        let _ = self.mem.write_bytes(a + 4, s);
        Ok(Value(a))
    }

    /// The text of qstr `id`.
    pub fn qstr_bytes(&self, id: u32) -> &[u8] {
        self.qstr_text(id).unwrap_or(b"?")
    }

    /// The text of qstr `id`, or `None` if no pool numbers it (where [`Vm::qstr_bytes`] says
    /// `?`).
    pub fn qstr_text(&self, id: u32) -> Option<&[u8]> {
        if let Some(s) = fixed_str(&self.fw, id) {
            return Some(s.as_bytes());
        }
        [self.qpool, self.frozen_qpool]
            .into_iter()
            .find_map(|pool| self.chain_text(pool, id))
    }

    /// The pool chain starting at `pool`, as (first id, count, pool, header) per pool in chain
    /// order: read once, each pool's four header words in place, so that many lookups
    /// ([`Vm::spans_text`]) walk no chain and allocate nothing. Bounded by [`PoolSpans::MAX`]
    /// pools ([`Vm::spans_text`]'s caller falls back to [`Vm::qstr_text`] for an id it does
    /// not find).
    pub fn pool_spans(&self, pool: Value) -> PoolSpans {
        let mut spans = PoolSpans {
            spans: [(0, 0, 0, 0); PoolSpans::MAX],
            len: 0,
        };
        let mut p = pool;
        while p.is_ptr() && spans.len < PoolSpans::MAX {
            let Some(h) = self.mem.bytes(p.0, 4 * QPOOL_HDR_WORDS) else {
                break;
            };
            let w = |k: usize| crate::mem::word_at(&h[4 * k..4 * k + 4]);
            let hdr = w(0);
            let first = Value(w(2)).as_int() as u32;
            let n = pool_len_of(hdr, Value(w(3)));
            spans.spans[spans.len] = (first, n, p.0, hdr);
            spans.len += 1;
            p = Value(w(1));
        }
        spans
    }

    /// The text of qstr `id` in the pools of `spans` ([`Vm::pool_spans`]): the first that numbers
    /// it, as [`Vm::qstr_text`] finds it in that chain (`?` for an unreadable entry). A compact
    /// (frozen) pool's text is read from its bytes with the header `spans` kept.
    pub fn spans_text(&self, spans: &PoolSpans, id: u32) -> Option<&[u8]> {
        let &(first, n, p, hdr) = spans
            .spans
            .get(..spans.len)?
            .iter()
            .find(|&&(first, n, _, _)| id >= first && id - first < n)?;
        let i = (id - first) as usize;
        let text = if is_compact(hdr) {
            object_size(hdr)
                .and_then(|size| self.mem.bytes(p, size))
                .and_then(|obj| compact_text(obj, n as usize, i))
        } else {
            self.pool_text(Value(p), i as u32)
        };
        Some(text.unwrap_or(b"?"))
    }

    /// The text of qstr `id` in the pool chain starting at `pool` (`?` for an entry whose
    /// text is unreadable), or `None` if no pool of the chain numbers it.
    fn chain_text(&self, pool: Value, id: u32) -> Option<&[u8]> {
        let mut p = pool;
        while p.is_ptr() {
            // The pool's first id, then its stated count: most pools are passed on one or two
            // words; its real length (bounded by its size) only for the one that may hold it.
            let first = self.wv(p, 2).as_int() as u32;
            if id >= first {
                let stated = self.wv(p, 3).as_int().max(0) as u32;
                if id - first < stated && id - first < self.pool_len(p) {
                    return Some(self.pool_text(p, id - first).unwrap_or(b"?"));
                }
            }
            p = self.wv(p, 1);
        }
        None
    }

    /// For a heap qstr pool that freezes compact: its string count and total text bytes (it
    /// walks the pool's strings: the freezer asks once per freeze). `None` for other objects,
    /// and for a pool whose texts do not fit u16 offsets (it keeps the heap layout, its
    /// strings frozen as Str objects).
    pub fn compact_pool(&self, p: Value) -> Option<(u32, u32)> {
        let hdr = self.mem.read_u32(p.0);
        if Kind::from_u8(hdr as u8) != Some(Kind::QSTR_POOL) || is_compact(hdr) {
            return None;
        }
        let n = self.pool_len(p);
        let mut total = 0u32;
        let mut all = true;
        self.heap_pool_texts(p, n, |t| match t {
            Some(t) => total += t.len() as u32,
            None => all = false,
        });
        (all && total <= u32::from(u16::MAX)).then_some((n, total))
    }

    /// Calls `f` with the text of each of the first `n` entries of heap qstr pool `p`, in order
    /// (`None` for an entry that is no string). The entry words are read in place, once: the
    /// per-entry [`Vm::pool_text`] looks up the pool's length and layout again for each.
    fn heap_pool_texts<'a>(&'a self, p: Value, n: u32, mut f: impl FnMut(Option<&'a [u8]>)) {
        let first = p.0.wrapping_add(4 * QPOOL_HDR_WORDS);
        match self.mem.bytes(first, 4 * n) {
            Some(entries) => {
                for e in entries.chunks_exact(4) {
                    f(self.str_obj_bytes(Value(crate::mem::word_at(e))));
                }
            }
            None => {
                for i in 0..n {
                    f(self.str_obj_bytes(self.wv(p, QPOOL_HDR_WORDS + i)));
                }
            }
        }
    }

    /// The frozen size of heap pool `p` whose compact sizes are `compact` (from
    /// [`Vm::compact_pool`]: the freezer computes them once per freeze).
    pub fn pool_frozen_size(&self, p: Value, compact: Option<(u32, u32)>) -> u32 {
        match compact {
            Some((n, texts)) => 4 * QPOOL_HDR_WORDS + pool_offsets_bytes(n) + texts,
            None => object_size(self.w(p, 0)).unwrap_or(4),
        }
    }

    /// Where the value words of heap pool `p`'s frozen copy are, as `(end, skip)` (see
    /// `slots::Frozen::values`): a compact pool's are its three words after the header (its
    /// texts are no slots).
    pub fn pool_frozen_values(&self, p: Value, compact: Option<(u32, u32)>) -> (u32, u32) {
        match compact {
            Some(_) => (QPOOL_HDR_WORDS, 0),
            None => (self.pool_frozen_size(p, None) / 4, 0),
        }
    }

    /// Writes the compact copy of heap qstr pool `p` into `out` (sized by `frozen_size`).
    pub fn write_compact_pool(&self, p: Value, out: &mut [u8]) {
        let n = self.pool_len(p);
        let words_after_header = (out.len() / 4).saturating_sub(1) as u32;
        let hdr = header(Kind::QSTR_POOL, words_after_header) | COMPACT as u32;
        let head = [hdr, self.w(p, 1), self.w(p, 2), Value::small(n as i32).0];
        for (dst, w) in out.chunks_exact_mut(4).zip(head) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
        let offsets = 4 * QPOOL_HDR_WORDS as usize;
        let texts = offsets + pool_offsets_bytes(n) as usize;
        // Entry i's offset, then its text; the offset after the last closes the table.
        let (table, packed) = out.split_at_mut(texts.min(out.len()));
        let mut table = table
            .get_mut(offsets..)
            .unwrap_or_default()
            .chunks_exact_mut(2);
        let mut at = 0;
        let mut put_offset = |at: usize| {
            if let Some(dst) = table.next() {
                dst.copy_from_slice(&(at as u16).to_le_bytes());
            }
        };
        self.heap_pool_texts(p, n, |text| {
            put_offset(at);
            let text = text.unwrap_or_default();
            if let Some(dst) = packed.get_mut(at..at + text.len()) {
                dst.copy_from_slice(text);
            }
            at += text.len();
        });
        put_offset(at);
    }
}
