//! The flashfreeze binding of nanbox: how a VM tells the library about its objects.
//!
//! Read this file top to bottom to write a binding for your own VM. Three things are yours:
//!
//! 1. the **frozen layout** of each kind of object: the bytes the VM will read in place from
//!    flash (or from the RAM section). nanbox's, every integer little-endian:
//!    ```text
//!    0        8
//!    ┌────────┬───────────────────────────────┐
//!    │ header │ payload                       │  header = kind code | count << 8
//!    └────────┴───────────────────────────────┘
//!    str     count = bytes    payload = UTF-8, zero-padded to 8
//!    tuple   count = items    payload = one value word per item
//!    table   count = pairs    payload = key word, value word, …   (mutable: the RAM section)
//!    module  count = 0        payload = name word, globals word
//!    ```
//!    A *value word* is a NaN-boxed [`Value`]; for a reference the library writes it, in the
//!    encoding you declare (step 2), so frozen objects read like any other value.
//! 2. the [`ObjectModel`]: what each object is (below, method by method);
//! 3. the [`LiveHeap`]: where the VM keeps references, so that after a freeze it runs on the
//!    frozen copies and the arena's originals become garbage.
//!
//! The rest is the library's: traversal, placement, addresses, the image, the store, the
//! validator at boot. [`Vm::freeze`] is the one call ([`Store::freeze`]); [`Vm::boot`] mounts.
//!
//! # Per-freeze state
//! The model is implemented on [`Freezing`], a view that borrows the VM for one freeze and
//! keeps what that freeze needs: here the set of interned strings, computed once, so that
//! [`ObjectModel::interned_strs`] does not scan the VM's intern table per object. Nothing of
//! it stays in the VM after the freeze.

use std::collections::BTreeSet;
use std::fmt;

use flashfreeze::image::{Layout, ReadConfig};
use flashfreeze::model::Forward;
use flashfreeze::store::{Store, StoreConfig};
use flashfreeze::{
    FrozenLayout, LiveHeap, Mutability, ObjectModel, Placement, RefEncoding, Root, RootKind, Slot,
    SlotVisitor, Space,
};

use crate::value::{HEAP, OBJ_AT, STR_AT, Value};
use crate::vm::*;

/// The VM's reference encoding: NaN-boxed 8-byte words, `OBJ_AT` by default; string references
/// carry `STR_AT` instead ([`ObjectModel::scan`] says so per slot).
pub const ENCODING: RefEncoding = RefEncoding::nan_boxed(OBJ_AT);

/// The image layout: the whole chip is the region; the RAM area; the firmware id, which names
/// the frozen layouts above (change it when they change, so an old image is refused).
fn layout() -> Layout<'static> {
    Layout::new(
        FLASH_BASE,
        4096,
        RAM_BASE,
        RAM_LEN as u64,
        b"nanbox-layouts-1",
    )
}

/// The ROM is the one static range: frozen objects may point into it, nowhere else outside
/// the image.
const ROM: std::ops::Range<u64> = ROM_BASE..ROM_BASE + 0x1000;
const STATICS: &[std::ops::Range<u64>] = &[ROM];

/// The VM, lent to the library for one freeze, with that freeze's state.
pub struct Freezing<'vm> {
    vm: &'vm mut Vm,
    /// Arena indices of the interned strings (the keys of every module's globals, here).
    interned: BTreeSet<u32>,
}

impl<'vm> Freezing<'vm> {
    fn new(vm: &'vm mut Vm) -> Self {
        let mut interned = BTreeSet::new();
        for obj in vm.arena.iter().flatten() {
            if let Obj::Table(pairs) = obj {
                interned.extend(pairs.iter().filter_map(|(k, _)| k.heap_index()));
            }
        }
        Freezing { vm, interned }
    }

    fn obj(&self, v: Value) -> Option<&Obj> {
        self.vm.arena.get(v.heap_index()? as usize)?.as_ref()
    }

    /// The value words of a heap object, in frozen order, with their offsets.
    fn words(&self, v: Value) -> Vec<(u32, Value)> {
        let at = |i: usize| 8 + 8 * i as u32;
        match self.obj(v) {
            Some(Obj::Tuple(items)) => items.iter().enumerate().map(|(i, &x)| (at(i), x)).collect(),
            Some(Obj::Table(pairs)) => pairs
                .iter()
                .flat_map(|&(k, x)| [k, x])
                .enumerate()
                .map(|(i, x)| (at(i), x))
                .collect(),
            Some(Obj::Module { name, globals }) => vec![(8, *name), (16, *globals)],
            _ => Vec::new(),
        }
    }
}

impl ObjectModel for Freezing<'_> {
    /// The VM's own value: a heap object is `HEAP | index`, anything else is its address.
    type Ref = Value;

    /// How the library writes references into frozen objects, and how the boot validator reads
    /// them back: NaN-boxed, with the address in the low 48 bits.
    const ENCODING: RefEncoding = ENCODING;

    /// Heap objects are the arena's; addresses in the image are earlier batches'; the ROM is
    /// static. The library copies only `Heap` objects and keeps the others' addresses.
    fn space(&self, v: Value) -> Space {
        match v.address() {
            None => Space::Heap,
            Some(a) if a >= FLASH_BASE => Space::Frozen,
            Some(_) => Space::Static,
        }
    }

    /// The address of an object outside the heap (written into frozen references to it). A
    /// heap object has none; its index stands in error messages.
    fn address(&self, v: Value) -> u64 {
        v.address().unwrap_or(v.0 & 0xFFFF_FFFF)
    }

    /// Strings, tuples and modules never change: flash. Tables do: the RAM section (their
    /// initial state is in flash too). A host resource cannot be frozen: the library refuses
    /// the whole freeze and names the path to it.
    fn mutability(&self, v: Value) -> Mutability {
        match self.obj(v) {
            Some(Obj::Table(_)) => Mutability::Mutable,
            Some(Obj::Native(_)) => Mutability::Unfreezable("a host resource (file or socket)"),
            Some(_) => Mutability::Immutable,
            None => Mutability::Unfreezable("a freed object"),
        }
    }

    /// The size of the frozen copy (above), aligned to 8 for the value words.
    fn frozen_layout(&self, v: Value) -> FrozenLayout {
        let size = match self.obj(v) {
            Some(Obj::Str(s)) => 8 + s.len().next_multiple_of(8) as u32,
            _ => 8 + 8 * self.words(v).len() as u32,
        };
        FrozenLayout::new(size, 8)
    }

    /// Every value word that holds a reference, at its offset in the frozen copy. Doubles,
    /// ints, nil and bools are not references (`None`): the library keeps the bits
    /// `write_frozen` wrote. A reference to a string gets the `STR_AT` tag.
    fn scan(&self, v: Value, visitor: &mut dyn SlotVisitor<Value>) {
        for (offset, x) in self.words(v) {
            if !x.is_object() {
                visitor.visit(Slot::new(offset, None));
            } else if self.vm.kind(x) == Some(Kind::Str) {
                visitor.visit(Slot::tagged(offset, Some(x), u64::from(STR_AT) << 48));
            } else {
                visitor.visit(Slot::new(offset, Some(x)));
            }
        }
    }

    /// The frozen bytes. Reference words may be anything: the library overwrites them.
    fn write_frozen(&self, v: Value, _placement: Placement, out: &mut [u8]) {
        let (kind, count) = match self.obj(v) {
            Some(Obj::Str(s)) => {
                out[8..8 + s.len()].copy_from_slice(s.as_bytes());
                (Kind::Str, s.len() as u32)
            }
            Some(Obj::Tuple(t)) => (Kind::Tuple, t.len() as u32),
            Some(Obj::Table(t)) => (Kind::Table, t.len() as u32),
            _ => (Kind::Module, 0),
        };
        out[..8].copy_from_slice(&header(kind, count));
        if kind != Kind::Str {
            for (offset, x) in self.words(v) {
                out[offset as usize..offset as usize + 8].copy_from_slice(&x.0.to_le_bytes());
            }
        }
    }

    /// A dense index for the library's side table: the arena index.
    fn heap_index(&self, v: Value) -> usize {
        v.heap_index().map_or(usize::MAX, |i| i as usize)
    }

    fn heap_index_limit(&self) -> usize {
        self.vm.arena.len()
    }

    /// For stats and paths.
    fn kind_name(&self, v: Value) -> &'static str {
        match self.vm.kind(v) {
            Some(Kind::Str) => "str",
            Some(Kind::Tuple) => "tuple",
            Some(Kind::Table) => "table",
            Some(Kind::Module) => "module",
            Some(Kind::Native) => "native",
            None => "unknown",
        }
    }

    /// The stats' qstr count, from this freeze's state.
    fn interned_strs(&self, v: Value) -> u32 {
        v.heap_index()
            .map_or(0, |i| u32::from(self.interned.contains(&i)))
    }

    /// Paths read `config.names[1]`: a table's value slot is labelled by its key.
    fn edge_label(&self, v: Value, slot: u32, out: &mut dyn fmt::Write) -> fmt::Result {
        match self.obj(v) {
            Some(Obj::Table(pairs)) if slot % 2 == 1 => {
                let key = pairs
                    .get(slot as usize / 2)
                    .and_then(|p| self.vm.as_str(p.0));
                write!(out, ".{}", key.unwrap_or_default())
            }
            Some(Obj::Module { .. }) if slot == 1 => Ok(()),
            _ => write!(out, "[{slot}]"),
        }
    }
}

impl LiveHeap for Freezing<'_> {
    /// Every place the VM keeps a value: `sys.modules`, the stack, every arena object's words
    /// and every word of the RAM area (earlier batches' tables are live and may hold heap
    /// references by now; headers and doubles are never `HEAP`-tagged, so a word scan is
    /// exact). Flash holds no heap reference: nothing to visit there.
    fn rewrite_live_refs(&mut self, forward: &mut Forward<'_, Self>) {
        let mut fix = |this: &Self, x: &mut Value| {
            if x.tag() == Some(HEAP)
                && let Some(new) = forward(this, *x)
            {
                *x = new;
            }
        };
        let mut modules = std::mem::take(&mut self.vm.modules);
        modules.values_mut().for_each(|x| fix(self, x));
        self.vm.modules = modules;
        let mut stack = std::mem::take(&mut self.vm.stack);
        stack.iter_mut().for_each(|x| fix(self, x));
        self.vm.stack = stack;
        let mut arena = std::mem::take(&mut self.vm.arena);
        for obj in arena.iter_mut().flatten() {
            match obj {
                Obj::Tuple(items) => items.iter_mut().for_each(|x| fix(self, x)),
                Obj::Table(pairs) => pairs.iter_mut().for_each(|(k, x)| {
                    fix(self, k);
                    fix(self, x);
                }),
                Obj::Module { name, globals } => {
                    fix(self, name);
                    fix(self, globals);
                }
                Obj::Str(_) | Obj::Native(_) => {}
            }
        }
        self.vm.arena = arena;
        let mut ram = std::mem::take(&mut self.vm.ram);
        for w in ram.chunks_exact_mut(8) {
            let mut x = Value(u64::from_le_bytes(w.try_into().unwrap_or_default()));
            fix(self, &mut x);
            w.copy_from_slice(&x.0.to_le_bytes());
        }
        self.vm.ram = ram;
    }

    /// The value of the frozen object at `address`, tagged by its kind (read from its header,
    /// in place: the VM reads flash as it always does).
    fn frozen_ref(&self, address: u64) -> Value {
        let probe = Value::at(OBJ_AT, address);
        let tag = if self.vm.kind(probe) == Some(Kind::Str) {
            STR_AT
        } else {
            OBJ_AT
        };
        Value::at(tag, address)
    }

    /// Where the library puts a new batch's RAM section.
    fn ram_area(&mut self) -> &mut [u8] {
        &mut self.vm.ram
    }
}

impl Vm {
    /// The store over this VM's flash.
    fn store(&self) -> Result<Store<'static, Flash>, String> {
        let cfg = StoreConfig::for_model::<Freezing<'_>>(0, FLASH_SIZE as u32, layout())
            .with_statics(STATICS);
        Store::open(self.flash.clone(), cfg).map_err(|e| e.to_string())
    }

    /// Freeze module `name` (and every other module its graph reaches: found again by name
    /// after a reboot) into the next batch; the VM continues on the frozen copies.
    pub fn freeze(&mut self, name: &str) -> Result<String, String> {
        let module = self.import(name).ok_or(format!("no module named {name}"))?;
        let others: Vec<(String, Value)> = self
            .modules
            .iter()
            .filter(|(n, m)| *n != name && m.tag() == Some(HEAP))
            .map(|(n, m)| (n.clone(), *m))
            .collect();
        let mut roots = vec![Root::new(RootKind::MODULE, name, module)];
        roots.extend(
            others
                .iter()
                .map(|(n, m)| Root::if_reached(RootKind::MODULE, n, *m)),
        );
        let mut store = self.store()?;
        let frozen = store
            .freeze(&mut Freezing::new(self), &roots)
            .map_err(|e| e.to_string())?;
        Ok(frozen.stats.to_string())
    }

    /// A VM booting over `flash`: mount the image (validated: every reference word decodes
    /// to an object start or into the ROM) and register its modules.
    pub fn boot(flash: Flash) -> Result<Vm, String> {
        let mut vm = Vm::new(flash);
        let cfg = ReadConfig::for_model::<Freezing<'_>>(layout()).with_statics(STATICS);
        let bytes = vm.flash.bytes();
        let roots: Vec<(String, u64)> = match flashfreeze::mount::mount(&bytes, &cfg, &mut vm.ram) {
            Ok(m) => m.roots().map(|r| (r.name.into(), r.address)).collect(),
            Err(flashfreeze::mount::MountError::NoCommittedBatch { .. }) => Vec::new(),
            Err(e) => return Err(e.to_string()),
        };
        drop(bytes);
        for (name, address) in roots {
            vm.modules.insert(name, Value::at(OBJ_AT, address));
        }
        Ok(vm)
    }
}
