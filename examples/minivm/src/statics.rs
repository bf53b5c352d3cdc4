//! Firmware statics: every builtin type, function, exception class and module, laid out from
//! the registry's [`Builtins`](crate::slots::Builtins) table at boot.
//!
//! [`Vm::build_statics`] writes them in one fixed order, so their addresses are the same on
//! every run and on every target, and frozen images may point at them; after boot the region is
//! read-only. The firmware id is a CRC of these bytes (see `freeze`), so a change of the table
//! (a new type, method or module) changes the id and old images are refused, never misread.
//!
//! ```text
//! None False True Ellipsis ()
//! per type (registry order):  its methods' builtin functions, its dict, its type object
//! exceptions:                 BaseException's methods, then per class: bases, dict, class
//! MemoryError instance (raised when the heap is full, so it is never allocated)
//! the builtins module's functions, the builtins dict (types, exceptions, functions, __name__)
//! per module (registry order): functions, str constants, dict, module object
//! the builtins module object
//! ```

use alloc::vec;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::memmap::STATICS_BASE;
use crate::obj::*;
use crate::qstr::sq;
use crate::slots::{Constant, Native, native_id, table};
use crate::vm::Vm;

impl<F: FlashImage> Vm<F> {
    fn s_alloc(&mut self, words: &[u32]) -> u32 {
        let a = STATICS_BASE + self.mem.statics.len() as u32;
        // One copy of all the words (a 4-byte copy per word was a fifth of the Pico's cold
        // boot, a ROM `memcpy` call each); the statics are little-endian words.
        #[cfg(target_endian = "little")]
        self.mem
            .statics
            .extend_from_slice(zerocopy::IntoBytes::as_bytes(words));
        #[cfg(not(target_endian = "little"))]
        for w in words {
            self.mem.statics.extend_from_slice(&w.to_le_bytes());
        }
        a
    }

    fn s_dict(&mut self, entries: &[(Value, Value)]) -> u32 {
        let mut t = vec![header(Kind::ARRAY, 2 * entries.len().max(1) as u32)];
        for (k, v) in entries {
            t.push(k.0);
            t.push(v.0);
        }
        if entries.is_empty() {
            t.extend_from_slice(&[0, 0]);
        }
        let ta = self.s_alloc(&t);
        self.s_alloc(&[
            header(Kind::DICT, 0),
            Value::small(entries.len() as i32).0,
            ta,
        ])
    }

    fn s_tuple(&mut self, items: &[u32]) -> u32 {
        let mut t = vec![header(Kind::TUPLE, items.len() as u32)];
        t.extend_from_slice(items);
        self.s_alloc(&t)
    }

    /// A builtin function object for entry `index` of native table `table`.
    fn s_builtin(&mut self, table: u32, index: usize, n: &Native<F>) -> (Value, Value) {
        let name = self.q(n.name);
        let f = self.s_alloc(&[header(Kind::BUILTIN, native_id(table, index)), name.0]);
        (name, Value(f))
    }

    /// The builtin function objects of a native table, as dict entries.
    fn s_natives(&mut self, table: u32, natives: &[Native<F>]) -> Vec<(Value, Value)> {
        let mut ents = Vec::with_capacity(natives.len());
        for (i, n) in natives.iter().enumerate() {
            ents.push(self.s_builtin(table, i, n));
        }
        ents
    }

    fn s_str(&mut self, s: &str) -> u32 {
        let s = s.as_bytes();
        let ascii = if s.is_ascii() { STR_ASCII } else { 0 };
        let mut w = vec![
            header(Kind::STR, s.len() as u32 | ascii),
            crate::qstr::hash(s),
        ];
        for c in s.chunks(4) {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            w.push(u32::from_le_bytes(b));
        }
        self.s_alloc(&w)
    }

    /// Builds the statics region (called once while the VM is created).
    pub fn build_statics(&mut self) {
        let reg = self.registry;
        self.mem.statics.clear();
        self.st.none = self.s_alloc(&[header(Kind::NONE, 0)]);
        self.st.false_ = self.s_alloc(&[header(Kind::BOOL, 0)]);
        self.st.true_ = self.s_alloc(&[header(Kind::BOOL, 1)]);
        self.st.ellipsis = self.s_alloc(&[header(Kind::ELLIPSIS, 0)]);
        self.st.empty_tuple = self.s_tuple(&[]);
        let empty = self.st.empty_tuple;
        self.st.types = vec![0; Kind::LIMIT];
        let mut builtins: Vec<(Value, Value)> = Vec::new();
        // Type objects (a native type's aux holds its kind, so calling it finds `make_new`).
        for t in reg.types.iter().filter(|t| t.python_type.is_none()) {
            let ents = self.s_natives(t.kind.id() as u32, t.methods);
            let d = self.s_dict(&ents);
            let nq = self.q(t.name);
            let flags = class_flags::NATIVE | ((t.kind.id() as u32) << 8);
            // A native parent's type object is built first (the registry lists it earlier).
            let bases = match t.parent.map(|k| self.st.types[k.id() as usize]) {
                Some(p) if p != 0 => self.s_tuple(&[p]),
                _ => empty,
            };
            let c = self.s_alloc(&[header(Kind::CLASS, flags), nq.0, bases, d]);
            self.st.types[t.kind.id() as usize] = c;
            if t.builtin {
                builtins.push((nq, Value(c)));
            }
        }
        for t in reg.types {
            if let Some(k) = t.python_type {
                self.st.types[t.kind.id() as usize] = self.st.types[k.id() as usize];
            }
        }
        self.st.object = self.st.types[Kind::INSTANCE.id() as usize];
        self.st.type_ = self.st.types[Kind::CLASS.id() as usize];
        self.st.str_ = self.st.types[Kind::STR.id() as usize];
        self.st.bool_ = self.st.types[Kind::BOOL.id() as usize];
        self.st.int = self.st.types[Kind::INT.id() as usize];
        // Exceptions: the root class holds the base methods.
        let base_methods = self.s_natives(table::EXCEPTION, reg.exception_methods);
        for &(name, parent) in reg.exceptions {
            let bases = if parent.is_empty() {
                empty
            } else {
                let p = self.exc_class(parent);
                self.s_tuple(&[p])
            };
            let d = if parent.is_empty() {
                self.s_dict(&base_methods)
            } else {
                self.s_dict(&[])
            };
            let nq = self.q(name);
            let c = self.s_alloc(&[header(Kind::CLASS, class_flags::EXCEPTION), nq.0, bases, d]);
            self.st.exc.push((name, c));
            builtins.push((nq, Value(c)));
        }
        let me = self.exc_class("MemoryError");
        self.st.memory_error = self.s_alloc(&[header(Kind::INSTANCE, 0), me, 0, empty]);
        let fns = self.s_natives(table::BUILTINS, reg.builtins.functions);
        builtins.extend_from_slice(&fns);
        let eq = sq!("Ellipsis");
        builtins.push((eq, Value(self.st.ellipsis)));
        let nq = sq!("__name__");
        let bq = self.q(reg.builtins.name);
        builtins.push((nq, bq));
        self.st.builtins = self.s_dict(&builtins);
        let bcq = self.q("__build_class__");
        self.st.build_class = self
            .dict_get_q(Value(self.st.builtins), bcq)
            .map_or(0, |v| v.0);
        // Builtin modules.
        for (i, m) in reg.modules.iter().enumerate() {
            let mq = self.q(m.name);
            let mut ents = vec![(nq, mq)];
            ents.extend(self.s_natives(table::FIRST_MODULE + i as u32, m.functions));
            for c in m.constants {
                let (k, v) = match *c {
                    Constant::Int(k, v) => (self.q(k), Value::small(v)),
                    Constant::Str(k, v) => (self.q(k), Value(self.s_str(v))),
                    Constant::Type(k, kind) => {
                        (self.q(k), Value(self.st.types[kind.id() as usize]))
                    }
                };
                ents.push((k, v));
            }
            if let Some(objects) = m.objects {
                for (k, v) in objects(self) {
                    debug_assert!(m.names.contains(&k), "{k} is not in the module's names");
                    let kq = self.q(k);
                    ents.push((kq, v));
                }
            }
            let d = self.s_dict(&ents);
            let mo = self.s_alloc(&[header(Kind::MODULE, i as u32 + 1), mq.0, d]);
            if m.extensible {
                self.st.aliases.push((m.name, mo));
            } else {
                self.st.modules.push((m.name, mo));
            }
            // A `u`-name is found before the sources, as MicroPython's `mp_module_get_builtin`
            // finds `utime` before the filesystem.
            for a in m.aliases {
                self.st.modules.push((a, mo));
            }
        }
        let bm_d = self.st.builtins;
        let m = self.s_alloc(&[header(Kind::MODULE, 0), bq.0, bm_d]);
        self.st.modules.push((reg.builtins.name, m));
    }

    /// The builtin module `name`, if there is one (plain-name aliases excluded).
    pub fn builtin_module(&self, name: &str) -> Option<Value> {
        self.st
            .modules
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| Value(*m))
    }

    /// The builtin module an extensible name (`time`, `collections`…) falls back to when no
    /// module source has it.
    pub fn builtin_alias(&self, name: &str) -> Option<Value> {
        self.st
            .aliases
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| Value(*m))
    }

    /// The builtin module named `name` (or aliased so), whatever the module sources hold.
    pub fn builtin_named(&self, name: &str) -> Option<Value> {
        self.builtin_module(name)
            .or_else(|| self.builtin_alias(name))
    }

    /// The definition of builtin module object `m` (a static module whose header holds its
    /// registry index), if it is one.
    pub fn module_def(&self, m: Value) -> Option<&'static crate::slots::ModuleDef<F>> {
        if !matches!(
            crate::memmap::region_of(m.0),
            Some(crate::memmap::Region::Statics)
        ) {
            return None;
        }
        let i = (self.aux(m) as usize).checked_sub(1)?;
        self.registry.modules.get(i).copied()
    }

    /// Lays out a static object of words `words` (the first is its header) while the statics
    /// are built (a module's [`crate::slots::ModuleDef::objects`]); its address.
    pub fn static_words(&mut self, words: &[u32]) -> Value {
        debug_assert!(self.mem.statics_open, "statics are laid out at boot only");
        Value(self.s_alloc(words))
    }

    /// A static tuple of `items` (see [`Vm::static_words`]).
    pub fn static_tuple(&mut self, items: &[Value]) -> Value {
        let words: Vec<u32> = items.iter().map(|v| v.0).collect();
        Value(self.s_tuple(&words))
    }

    /// A static dict of `entries` (see [`Vm::static_words`]).
    pub fn static_dict(&mut self, entries: &[(Value, Value)]) -> Value {
        Value(self.s_dict(entries))
    }

    /// A static str (see [`Vm::static_words`]): a qstr when the text is a firmware name.
    pub fn static_str(&mut self, s: &str) -> Value {
        match self.find_fixed_sorted(s.as_bytes()) {
            Some(id) => Value::qstr(id),
            None => Value(self.s_str(s)),
        }
    }

    /// The firmware qstr names of a registry: every name it defines, then its extra names and
    /// the core's, each once (the static qstrs of the format excluded). Their order is their
    /// id order.
    pub(crate) fn firmware_names(
        reg: &crate::slots::Builtins<F>,
    ) -> (Vec<&'static str>, crate::qstr::FixedIndex) {
        // Every candidate in order (the static names first), then each kept unless an earlier
        // one has its text: a bucket index makes that linear, not quadratic.
        // Counted first: one allocation (growing it by doubling cost a tenth of the Pico's
        // cold boot in its allocator's reallocations).
        let types: usize = reg
            .types
            .iter()
            .map(|t| 1 + t.methods.len() + t.names.len())
            .sum();
        let modules: usize = core::iter::once(&reg.builtins)
            .chain(reg.modules.iter())
            .map(|m| 1 + m.aliases.len() + m.functions.len() + m.constants.len() + m.names.len())
            .sum();
        let total = crate::qstr::STATIC.len()
            + types
            + reg.exceptions.len()
            + reg.exception_methods.len()
            + modules
            + reg.names.len()
            + crate::qstr::CORE_NAMES.len();
        let mut cand: Vec<&'static str> = Vec::with_capacity(total);
        cand.extend_from_slice(&crate::qstr::STATIC);
        for t in reg.types {
            cand.push(t.name);
            cand.extend(t.methods.iter().map(|m| m.name));
            cand.extend_from_slice(t.names);
        }
        cand.extend(reg.exceptions.iter().map(|&(name, _)| name));
        cand.extend(reg.exception_methods.iter().map(|m| m.name));
        for m in core::iter::once(&reg.builtins).chain(reg.modules.iter()) {
            cand.push(m.name);
            cand.extend_from_slice(m.aliases);
            cand.extend(m.functions.iter().map(|f| f.name));
            cand.extend(m.constants.iter().map(|c| match *c {
                Constant::Int(k, _) | Constant::Str(k, _) | Constant::Type(k, _) => k,
            }));
            cand.extend_from_slice(m.names);
        }
        cand.extend_from_slice(reg.names);
        cand.extend_from_slice(crate::qstr::CORE_NAMES);
        // Each candidate hashed once, for both indexes.
        let hashes: Vec<u32> = cand
            .iter()
            .map(|s| crate::qstr::hash(s.as_bytes()))
            .collect();
        let index = crate::qstr::FixedIndex::of_hashes(hashes.iter().copied());
        let first = |i: usize| {
            let s = cand[i].as_bytes();
            index
                .candidates_of(hashes[i])
                .iter()
                .find(|&&j| cand[j as usize].as_bytes() == s)
                .is_none_or(|&j| j as usize == i)
        };
        let n_static = crate::qstr::STATIC.len();
        let mut kept = Vec::with_capacity(cand.len() - n_static);
        kept.extend((n_static..cand.len()).filter(|&i| first(i)));
        let mut names = Vec::with_capacity(kept.len());
        names.extend(kept.iter().map(|&i| cand[i]));
        // The index of the static names and these (`qstr::fixed_index`), from the same hashes.
        let fixed = crate::qstr::FixedIndex::of_hashes(
            hashes[..n_static]
                .iter()
                .copied()
                .chain(kept.iter().map(|&i| hashes[i])),
        );
        (names, fixed)
    }
}
