//! The VM: an arena of enum objects, a simulated 64-bit address space for what lives outside
//! the arena, and the one value path that reads both.
//!
//! ```text
//! 0x5000_0000_0000  ROM: the VM's static strings (firmware), never frozen, never written
//! 0x6000_0000_0000  flash: the image region, read in place (XIP on a device; `SharedFlash` here)
//! 0x7000_0000_0000  the frozen RAM area (4 KiB): RAM sections, restored at boot
//! arena             heap objects, referenced by index (tag HEAP)
//! ```
//!
//! Frozen objects (see [`crate::freeze`] for their bytes) are read through [`Vm::view`],
//! which every accessor uses, so a frozen module reads exactly like a heap one.

use std::collections::BTreeMap;

use flashfreeze::sim::SharedFlash;

use crate::value::{HEAP, OBJ_AT, STR_AT, Value};

/// The simulated chip: 64 KiB, 4-byte writes, 4 KiB sectors.
pub type Flash = SharedFlash<1, 4, 4096>;
/// Where the ROM is.
pub const ROM_BASE: u64 = 0x5000_0000_0000;
/// Where the flash chip is mapped (the image region is the whole chip).
pub const FLASH_BASE: u64 = 0x6000_0000_0000;
/// Size of the chip.
pub const FLASH_SIZE: usize = 64 * 1024;
/// Where the frozen RAM area is.
pub const RAM_BASE: u64 = 0x7000_0000_0000;
/// Its length.
pub const RAM_LEN: usize = 4096;

/// A heap object.
#[derive(Clone, Debug, PartialEq)]
pub enum Obj {
    /// Immutable text.
    Str(String),
    /// An immutable sequence.
    Tuple(Vec<Value>),
    /// A mutable map from string keys (compared by text) to values.
    Table(Vec<(Value, Value)>),
    /// A module: its name and its globals (a table).
    Module {
        /// A string.
        name: Value,
        /// A table.
        globals: Value,
    },
    /// A host resource (a file, a socket): cannot be frozen.
    Native(u32),
}

/// The kind codes of frozen objects' headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// [`Obj::Str`].
    Str = 1,
    /// [`Obj::Tuple`].
    Tuple = 2,
    /// [`Obj::Table`].
    Table = 3,
    /// [`Obj::Module`].
    Module = 4,
    /// [`Obj::Native`] (never frozen).
    Native = 5,
}

impl Kind {
    fn from_code(c: u8) -> Option<Kind> {
        [Kind::Str, Kind::Tuple, Kind::Table, Kind::Module]
            .into_iter()
            .find(|k| *k as u8 == c)
    }
}

/// An object as the value path sees it: the arena's, or the words at an address.
pub enum View<'a> {
    /// In the arena.
    Heap(&'a Obj),
    /// Outside it: kind, count (bytes of a string, items of a tuple, pairs of a table) and
    /// address.
    At(Kind, u32, u64),
}

/// The VM.
pub struct Vm {
    /// Heap objects; `None` where the GC freed one.
    pub arena: Vec<Option<Obj>>,
    /// `sys.modules`: name → module (a root of the live fix-up).
    pub modules: BTreeMap<String, Value>,
    /// The value stack (a root of the live fix-up).
    pub stack: Vec<Value>,
    /// The frozen RAM area.
    pub ram: Vec<u8>,
    /// The firmware's static strings.
    pub rom: Vec<u8>,
    /// The flash chip, read in place.
    pub flash: Flash,
}

/// The strings the firmware keeps in ROM, in order.
pub const ROM_STRINGS: [&str; 2] = ["__name__", "version"];

impl Vm {
    /// A fresh VM over `flash` (nothing mounted yet: see [`Vm::boot`]).
    pub fn new(flash: Flash) -> Vm {
        let mut rom = Vec::new();
        for s in ROM_STRINGS {
            rom.extend_from_slice(&header(Kind::Str, s.len() as u32));
            rom.extend_from_slice(s.as_bytes());
            rom.resize(rom.len().next_multiple_of(8), 0);
        }
        Vm {
            arena: Vec::new(),
            modules: BTreeMap::new(),
            stack: Vec::new(),
            ram: vec![0; RAM_LEN],
            rom,
            flash,
        }
    }

    /// The ROM string `i` of [`ROM_STRINGS`].
    pub fn rom_str(&self, i: usize) -> Value {
        let mut at = 0usize;
        for s in &ROM_STRINGS[..i] {
            at += 8 + s.len().next_multiple_of(8);
        }
        Value::at(STR_AT, ROM_BASE + at as u64)
    }

    /// Allocate a heap object.
    pub fn alloc(&mut self, obj: Obj) -> Value {
        self.arena.push(Some(obj));
        Value::heap(self.arena.len() as u32 - 1)
    }

    /// A new heap string.
    pub fn str(&mut self, s: &str) -> Value {
        self.alloc(Obj::Str(s.into()))
    }

    /// `len` bytes at `address` in ROM, flash or the RAM area (`None` outside them).
    pub fn read(&self, address: u64, len: usize) -> Option<Vec<u8>> {
        let slice = |mem: &[u8], base: u64| {
            let at = usize::try_from(address.checked_sub(base)?).ok()?;
            mem.get(at..at.checked_add(len)?).map(<[u8]>::to_vec)
        };
        match address {
            a if a >= RAM_BASE => slice(&self.ram, RAM_BASE),
            a if a >= FLASH_BASE => slice(&self.flash.bytes(), FLASH_BASE),
            _ => slice(&self.rom, ROM_BASE),
        }
    }

    fn word_at(&self, address: u64) -> Option<Value> {
        let b = self.read(address, 8)?;
        Some(Value(u64::from_le_bytes(b.try_into().ok()?)))
    }

    /// The object `v` refers to.
    pub fn view(&self, v: Value) -> Option<View<'_>> {
        if let Some(i) = v.heap_index() {
            return self.arena.get(i as usize)?.as_ref().map(View::Heap);
        }
        let address = v.address()?;
        let h = u64::from_le_bytes(self.read(address, 8)?.try_into().ok()?);
        Some(View::At(
            Kind::from_code(h as u8)?,
            (h >> 8) as u32,
            address,
        ))
    }

    /// The kind of the object `v` refers to.
    pub fn kind(&self, v: Value) -> Option<Kind> {
        Some(match self.view(v)? {
            View::Heap(Obj::Str(_)) => Kind::Str,
            View::Heap(Obj::Tuple(_)) => Kind::Tuple,
            View::Heap(Obj::Table(_)) => Kind::Table,
            View::Heap(Obj::Module { .. }) => Kind::Module,
            View::Heap(Obj::Native(_)) => Kind::Native,
            View::At(k, _, _) => k,
        })
    }

    /// The text of a string.
    pub fn as_str(&self, v: Value) -> Option<String> {
        match self.view(v)? {
            View::Heap(Obj::Str(s)) => Some(s.clone()),
            View::At(Kind::Str, n, a) => String::from_utf8(self.read(a + 8, n as usize)?).ok(),
            _ => None,
        }
    }

    /// The items of a tuple.
    pub fn items(&self, v: Value) -> Option<Vec<Value>> {
        match self.view(v)? {
            View::Heap(Obj::Tuple(t)) => Some(t.clone()),
            View::At(Kind::Tuple, n, a) => (0..n)
                .map(|i| self.word_at(a + 8 + 8 * u64::from(i)))
                .collect(),
            _ => None,
        }
    }

    /// The pairs of a table, and where each value word is when the table is outside the heap.
    fn pairs(&self, v: Value) -> Option<Vec<(Value, Value, Option<u64>)>> {
        match self.view(v)? {
            View::Heap(Obj::Table(t)) => Some(t.iter().map(|&(k, x)| (k, x, None)).collect()),
            View::At(Kind::Table, n, a) => (0..u64::from(n))
                .map(|i| {
                    let at = a + 8 + 16 * i;
                    Some((self.word_at(at)?, self.word_at(at + 8)?, Some(at + 8)))
                })
                .collect(),
            _ => None,
        }
    }

    /// The table of a module, or the table itself.
    fn table_of(&self, v: Value) -> Option<Value> {
        match self.view(v)? {
            View::Heap(Obj::Module { globals, .. }) => Some(*globals),
            View::At(Kind::Module, _, a) => self.word_at(a + 16),
            _ => Some(v),
        }
    }

    /// `module.key` or `table[key]`.
    pub fn get(&self, v: Value, key: &str) -> Option<Value> {
        let t = self.table_of(v)?;
        let pairs = self.pairs(t)?;
        pairs
            .into_iter()
            .find(|&(k, _, _)| self.as_str(k).as_deref() == Some(key))
            .map(|(_, x, _)| x)
    }

    /// `module.key = value` or `table[key] = value`. A table outside the heap is in the RAM
    /// section (tables are mutable) and can change its existing keys only; one in flash
    /// (none is) would be refused.
    pub fn set(&mut self, v: Value, key: &str, value: Value) -> Result<(), &'static str> {
        let t = self.table_of(v).ok_or("not a table")?;
        let pairs = self.pairs(t).ok_or("not a table")?;
        let found = pairs
            .iter()
            .position(|&(k, _, _)| self.as_str(k).as_deref() == Some(key));
        if let Some(i) = t.heap_index() {
            let new_key = found.is_none().then(|| self.str(key));
            let Some(Some(Obj::Table(entries))) = self.arena.get_mut(i as usize) else {
                return Err("not a table");
            };
            match (found, new_key) {
                (Some(p), _) => entries[p].1 = value,
                (None, Some(k)) => entries.push((k, value)),
                (None, None) => {}
            }
            return Ok(());
        }
        let at = found
            .and_then(|p| pairs[p].2)
            .ok_or("a frozen table keeps its keys")?;
        let off = at
            .checked_sub(RAM_BASE)
            .ok_or("can't modify a frozen object in flash")?;
        let w = self
            .ram
            .get_mut(off as usize..off as usize + 8)
            .ok_or("outside the RAM area")?;
        w.copy_from_slice(&value.0.to_le_bytes());
        Ok(())
    }

    /// `import name`: the module from `sys.modules`.
    pub fn import(&self, name: &str) -> Option<Value> {
        self.modules.get(name).copied()
    }

    /// A value as text, for tests and the REPL a real VM would have.
    pub fn repr(&self, v: Value) -> String {
        if let Some(s) = self.as_str(v) {
            return format!("{s:?}");
        }
        if let Some(items) = self.items(v) {
            let parts: Vec<String> = items.iter().map(|&x| self.repr(x)).collect();
            return format!("({})", parts.join(", "));
        }
        if v.tag() == Some(HEAP) || v.tag() == Some(OBJ_AT) {
            return format!("<{:?}>", self.kind(v));
        }
        format!("{v:?}")
    }
}

/// The header word of a frozen object: kind code and count.
pub fn header(kind: Kind, count: u32) -> [u8; 8] {
    (kind as u64 | u64::from(count) << 8).to_le_bytes()
}
