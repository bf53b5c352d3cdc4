//! Freezing minivm's objects with flashfreeze: the object model, live fix-up, and mount at boot.
//!
//! This binding knows no type: each type declares in its own file (its
//! [`TypeSlots`](crate::slots::TypeSlots)) where its objects go ([`TypeSlots::freeze`]:
//! flash, RAM section, refused with a reason, or decided per object) and, when its frozen copy
//! is not its heap layout byte for byte, that copy's size, value words and bytes
//! ([`TypeSlots::frozen`]); the layout of its words for the scan comes from
//! [`TypeSlots::layout`]. [`ObjectModel::mutability`], [`ObjectModel::frozen_layout`],
//! [`ObjectModel::scan`] and [`ObjectModel::write_frozen`] dispatch through those. The
//! README's placement table lists what each kind does; in short:
//!
//! | placement | kinds |
//! |---|---|
//! | flash | immutable objects (str, bytes, tuple, function, code, class, …), namespace dicts (read-only once imported), direct instances of builtin exceptions |
//! | flash, copy-on-write | containers a module builds and mostly reads (list, data dict, set, non-exception instance, growable array): copied into the heap at their first write (`crate::mem`) |
//! | RAM section | what is written on almost every use (cell, iterator, suspended generator and its fixed frame, byte stores, utimeq, poll) |
//! | refused | running generator, native handle (socket, stream): their state is outside the object graph |
//!
//! Kinds with a compact frozen copy (the [`crate::obj::COMPACT`] bit in its header): str and
//! bytes (no hash word), code (bytecode inline), function (no null defaults word), instance
//! (no null args word), qstr pool (packed texts); arrays and constant arrays are trimmed of
//! their spare capacity. Their files document each layout.
//!
//! A freeze is one call, the library's [`Store::freeze`]: it plans, appends the batch, restores
//! its RAM section and redirects the VM's live references ([`LiveHeap`]), so the VM continues
//! on the frozen copies. The model is implemented on [`Freezing`], a view of the VM for one
//! freeze that holds that freeze's state (the qstr pools' compact sizes); at boot
//! [`Vm::mount_frozen`] restores the RAM section, the qstr pools and `sys.modules`. The GC and
//! the fix-up walk the RAM section object by object (`Vm::ram_value_runs`: each frozen header
//! gives its copy's size, so trimmed arrays and compact instances need nothing more) and read
//! only value words, never a buffer's raw bytes; the new batch's copy and the mount are byte
//! copies.
//!
//! [`TypeSlots::freeze`]: crate::slots::TypeSlots::freeze
//! [`TypeSlots::frozen`]: crate::slots::TypeSlots::frozen
//! [`TypeSlots::layout`]: crate::slots::TypeSlots::layout

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use embedded_storage::nor_flash::NorFlash;
use flashfreeze::image::{DecodeError, Layout, ReadConfig};
use flashfreeze::model::Forward;
use flashfreeze::plan::Dedup;
use flashfreeze::store::{Store, StoreConfig, StoreError, StoreState, records};
use flashfreeze::{
    FrozenLayout, LiveHeap, Mutability, ObjectModel, Placement, RefEncoding, Root, RootKind, Slot,
    SlotVisitor, Space,
};

use crate::mem::FlashImage;
use crate::memmap::*;
use crate::obj::*;
use crate::slots::{Freeze, Frozen};
use crate::vm::{Batch, BatchLog, FreezeFailed, Freezer, Vm};

/// minivm's frozen references: MicroPython's tag-`0b00` words, the bare 32-bit address.
pub(crate) const ENCODING: RefEncoding = RefEncoding::ADDRESS_32;

/// The root name of the qstr pool chain in the image.
pub const QSTR_ROOT: &str = "qstrs";

/// Why a plan refuses an object of the running set (`crate::import`): the group waits.
const RUNNING: &str = "reachable from a module still being imported";

/// A flash device the VM both reads in place ([`FlashImage`]) and programs ([`NorFlash`],
/// whole chip: offsets are chip offsets).
pub trait FreezeFlash: FlashImage + NorFlash<Error: fmt::Display> + Sized {
    /// A stand-in left in the VM while the device is lent to the store (never read).
    fn detached() -> Self;
}

/// The host's flash: a strict simulated 2 MiB NOR chip with the RP2040's geometry (256-byte
/// pages, 4 KiB sectors). The store aligns commit records to the write size, so the same
/// geometry makes a host image byte-identical to one frozen on the Pico.
#[cfg(feature = "std")]
pub struct SimChip(pub flashfreeze::sim::SimFlash<1, 256, 4096>);

#[cfg(feature = "std")]
impl SimChip {
    /// An erased chip.
    pub fn erased() -> SimChip {
        SimChip(flashfreeze::sim::SimFlash::new(FLASH_SIZE as usize))
    }
    /// A chip holding `bytes` (e.g. read from the flash file).
    pub fn from_bytes(bytes: &[u8]) -> SimChip {
        SimChip(flashfreeze::sim::SimFlash::from_bytes(bytes))
    }
}

#[cfg(feature = "std")]
impl FlashImage for SimChip {
    fn image(&self) -> &[u8] {
        let b = self.0.as_bytes();
        let start = (IMAGE_FLASH_OFFSET as usize).min(b.len());
        let end = (start + IMAGE_LEN as usize).min(b.len());
        &b[start..end]
    }
}

#[cfg(feature = "std")]
impl embedded_storage::nor_flash::ErrorType for SimChip {
    type Error = flashfreeze::sim::SimError;
}

#[cfg(feature = "std")]
impl embedded_storage::nor_flash::ReadNorFlash for SimChip {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(offset, bytes)
    }
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

#[cfg(feature = "std")]
impl NorFlash for SimChip {
    const WRITE_SIZE: usize = 256;
    const ERASE_SIZE: usize = 4096;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0.erase(from, to)
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.write(offset, bytes)
    }
}

#[cfg(feature = "std")]
impl FreezeFlash for SimChip {
    fn detached() -> SimChip {
        SimChip(flashfreeze::sim::SimFlash::new(0))
    }
}

/// Version of minivm's frozen object layouts, in the firmware id: bump it whenever a frozen
/// layout changes, so an image frozen by another version is refused at boot, not misread.
/// 2: compact RAM instances, trimmed RAM arrays, `ARRAY_FIXED`. 3: `STR_ASCII` in str headers;
/// bytearray, array, memoryview and the trimmed byte store.
/// 4: lists, sets, data dicts, instances and growable arrays in flash, copy-on-write
/// (`INSTANCE_COW`).
const FROZEN_LAYOUTS: u32 = 4;

/// The firmware id written into images: binds them to this build's frozen layouts and statics.
pub fn firmware_id<F: FlashImage>(vm: &Vm<F>) -> String {
    // The image's CRC-32, by the board's engine when it has one (the statics are several KB).
    let crc = vm.mem.flash.crc_engine().update(0, &vm.mem.statics);
    // A build-time suffix (`MINIVM_FIRMWARE_ID_SUFFIX`, empty by default) stands in for a
    // firmware update in the e2e tests: the same code, another id, so the old image is refused.
    let suffix = option_env!("MINIVM_FIRMWARE_ID_SUFFIX").unwrap_or("");
    // `minivm-{FROZEN_LAYOUTS}-{crc:08x}{suffix}`, written out: `format!` costs ten times
    // as much on the Cortex-M0+ (every boot's mount computes it).
    let mut id = String::with_capacity(7 + 10 + 1 + 8 + suffix.len());
    id.push_str("minivm-");
    let digits = FROZEN_LAYOUTS.checked_ilog10().unwrap_or(0);
    for k in (0..=digits).rev() {
        id.push(char::from(
            b'0' + (FROZEN_LAYOUTS / 10u32.pow(k) % 10) as u8,
        ));
    }
    id.push('-');
    for k in (0..8).rev() {
        id.push(char::from(
            b"0123456789abcdef"[(crc >> (4 * k)) as usize & 0xF],
        ));
    }
    id.push_str(suffix);
    id
}

pub(crate) fn layout(fw: &[u8]) -> Layout<'_> {
    // 4096: the RP2040's flash sector, which the host's simulated chip shares.
    Layout::new(
        IMAGE_BASE as u64,
        4096,
        RAM_SECTION_BASE as u64,
        RAM_SECTION_LEN as u64,
        fw,
    )
}

/// The VM lent to the library for one freeze, with that freeze's state: the [`ObjectModel`]
/// and [`LiveHeap`] are implemented on this view, which reads the VM through `Deref`.
pub struct Freezing<'v, F: FlashImage> {
    vm: &'v mut Vm<F>,
    /// Each heap qstr pool's compact sizes ([`Vm::compact_pool`]), computed once: the plan asks for a
    /// pool's layout many times, and each answer would walk the pool's strings.
    pools: Vec<(u32, Option<(u32, u32)>)>,
    /// The heap's marks are the running set's reach (`crate::import`): a marked object is
    /// refused, and the group waits.
    running: bool,
    /// The first marked object the plan reached.
    reached_running: core::cell::Cell<Option<u32>>,
    /// The last object whose frozen size was computed, and that size: the library asks for an
    /// object's layout and then scans it (traversal, classification, each write pass), and the
    /// scan of a type without a values hook needs the same size. Valid while the VM is only
    /// read: every `&mut` access (`DerefMut`, the live fix-up) forgets it.
    last_size: core::cell::Cell<Option<(u32, u32)>>,
}

impl<'v, F: FlashImage> Freezing<'v, F> {
    fn new(vm: &'v mut Vm<F>, running: bool) -> Self {
        let mut pools = Vec::new();
        let mut p = vm.qpool;
        while vm.mem.is_heap_head(p.0) {
            pools.push((p.0, vm.compact_pool(p)));
            p = vm.wv(p, 1);
        }
        Freezing {
            vm,
            pools,
            running,
            reached_running: core::cell::Cell::new(None),
            last_size: core::cell::Cell::new(None),
        }
    }

    /// The compact sizes of `obj`, if it is a heap qstr pool.
    fn pool(&self, obj: u32) -> Option<Option<(u32, u32)>> {
        self.pool_by_header(obj, self.mem.read_u32(obj))
    }

    /// [`Freezing::pool`] of `obj` with header `hdr`: only a pool's header sends it to the
    /// search of the pools.
    #[inline]
    fn pool_by_header(&self, obj: u32, hdr: u32) -> Option<Option<(u32, u32)>> {
        if (hdr as u8) & !COMPACT != Kind::QSTR_POOL.id() {
            return None;
        }
        self.pools.iter().find(|(a, _)| *a == obj).map(|&(_, c)| c)
    }

    /// Byte size of the frozen copy of heap object `obj`, a multiple of 4.
    fn frozen_size(&self, obj: u32) -> u32 {
        if let Some((at, size)) = self.last_size.get()
            && at == obj
        {
            return size;
        }
        let hdr = self.mem.read_u32(obj);
        let size = match self.pool_by_header(obj, hdr) {
            Some(c) => self.pool_frozen_size(Value(obj), c).div_ceil(4) * 4,
            None => self.vm.frozen_size_of(obj, hdr),
        };
        self.last_size.set(Some((obj, size)));
        size
    }
}

impl<F: FlashImage> core::ops::Deref for Freezing<'_, F> {
    type Target = Vm<F>;
    fn deref(&self) -> &Vm<F> {
        self.vm
    }
}

impl<F: FlashImage> core::ops::DerefMut for Freezing<'_, F> {
    fn deref_mut(&mut self) -> &mut Vm<F> {
        // The VM may change: a size computed before is no longer known to hold.
        self.last_size.set(None);
        self.vm
    }
}

impl<F: FlashImage> ObjectModel for Freezing<'_, F> {
    type Ref = u32;
    const ENCODING: RefEncoding = ENCODING;

    fn space(&self, obj: u32) -> Space {
        match region_of(obj) {
            Some(Region::Heap) => Space::Heap,
            Some(Region::Image | Region::RamSection) => Space::Frozen,
            _ => Space::Static,
        }
    }

    fn address(&self, obj: u32) -> u64 {
        obj as u64
    }

    fn mutability(&self, obj: u32) -> Mutability {
        if self.running && self.mem.is_marked(obj) {
            if self.reached_running.get().is_none() {
                self.reached_running.set(Some(obj));
            }
            return Mutability::Unfreezable(RUNNING);
        }
        let v = Value(obj);
        // The header once: for the type and for copy-on-write.
        let hdr = self.mem.read_u32(obj);
        let t = if v.is_ptr() {
            self.header_slots(hdr)
        } else {
            self.slots(v)
        };
        let m = match t.map(|t| &t.freeze) {
            Some(Freeze::Flash) => Mutability::Immutable,
            Some(Freeze::Ram) => Mutability::Mutable,
            Some(Freeze::Refuse(why)) => Mutability::Unfreezable(why),
            Some(Freeze::By(decide)) => decide(self, v),
            None => Mutability::Unfreezable("not a minivm object"),
        };
        // A container goes to flash, copy-on-write (`crate::mem`'s module docs).
        if m == Mutability::Mutable && copy_on_write(hdr) {
            Mutability::Immutable
        } else {
            m
        }
    }

    fn frozen_layout(&self, obj: u32) -> FrozenLayout {
        FrozenLayout::new(self.frozen_size(obj), 4)
    }

    fn scan(&self, obj: u32, visitor: &mut dyn SlotVisitor<u32>) {
        let v = Value(obj);
        let hdr = self.mem.read_u32(obj);
        let Some(t) = self.header_slots(hdr) else {
            return;
        };
        let Some((size, true)) = Vm::<F>::type_layout(t, hdr) else {
            return;
        };
        // Words 1..end of the frozen copy are values; copy word i is heap word i + skip.
        let (end, skip) = match (self.pool_by_header(obj, hdr), &t.frozen) {
            (Some(c), _) => self.pool_frozen_values(v, c),
            (
                None,
                Some(Frozen {
                    values: Some(values),
                    ..
                }),
            ) => values(self, v),
            // The size the layout just computed (`frozen_size_of`: the hook's, rounded up).
            (None, Some(_)) => (self.frozen_size(obj) / 4, 0),
            (None, None) => (size / 4, 0),
        };
        // The words from the arena's bytes when they are all there (a heap object's are), one
        // bounds check for the object instead of one region test per word.
        let (first, len) = (obj.wrapping_add(4 * (1 + skip)), 4 * end.saturating_sub(1));
        if let Some(words) = self.mem.bytes(first, len) {
            // `word_at`: one load per word when the bytes are aligned (a heap object's are).
            for (i, w) in (1..).zip(words.chunks_exact(4)) {
                let w = Value(crate::mem::word_at(w));
                visitor.visit(Slot::new(4 * i, w.is_ptr().then_some(w.0)));
            }
            return;
        }
        for i in 1..end {
            let w = Value(self.mem.read_u32(obj + 4 * (i + skip)));
            visitor.visit(Slot::new(4 * i, w.is_ptr().then_some(w.0)));
        }
    }

    fn write_frozen(&self, obj: u32, placement: Placement, out: &mut [u8]) {
        let v = Value(obj);
        let hdr = self.mem.read_u32(obj);
        // A pool's compact sizes from this freeze's cache (its type's `write` would sum its
        // texts again to learn whether it is compact).
        match (
            self.pool_by_header(obj, hdr),
            self.slots(v).and_then(|t| t.frozen.as_ref()),
        ) {
            (Some(Some(_)), _) => self.write_compact_pool(v, out),
            (Some(None), _) => copy_heap(self, v, out),
            (None, Some(f)) => (f.write)(self, v, out),
            (None, None) => copy_heap(self, v, out),
        }
        // A mutable instance in flash says so: mount finds its copy-on-write objects by header.
        if placement == Placement::Flash
            && Kind::from_u8(hdr as u8) == Some(Kind::INSTANCE)
            && copy_on_write(hdr)
            && self.mutability_by_type(v) == Mutability::Mutable
            && let Some(b) = out.get_mut(1)
        {
            *b |= INSTANCE_COW as u8;
        }
    }

    fn heap_index(&self, obj: u32) -> usize {
        (obj.wrapping_sub(HEAP_BASE) / BLOCK) as usize
    }

    fn heap_index_limit(&self) -> usize {
        self.mem.heap_blocks()
    }

    fn kind_name(&self, obj: u32) -> &'static str {
        self.slots(Value(obj)).map_or("unknown", |t| t.stats_name)
    }

    /// Per type ([`TypeSlots::merge`](crate::slots::TypeSlots::merge)): str, bytes, tuple,
    /// float, big int, code and constant tables; only those frozen to flash.
    fn may_merge(&self, obj: u32) -> bool {
        self.slots(Value(obj))
            .is_some_and(|t| t.merge && matches!(t.freeze, Freeze::Flash))
    }

    /// The frozen header names the type (the compact bit included).
    fn mergeable_frozen_kind(&self, frozen: &[u8]) -> Option<&'static str> {
        let hdr = u32::from_le_bytes(frozen.get(..4)?.try_into().ok()?);
        self.header_slots(hdr)
            .filter(|t| t.merge && matches!(t.freeze, Freeze::Flash))
            .map(|t| t.stats_name)
    }

    /// A pool holds its strings (packed inline when compact, so no string object is frozen).
    fn interned_strs(&self, obj: u32) -> u32 {
        match self.pool(obj) {
            Some(_) => self.pool_len(Value(obj)),
            None => 0,
        }
    }

    fn edge_label(&self, obj: u32, slot_index: u32, out: &mut dyn fmt::Write) -> fmt::Result {
        let v = Value(obj);
        let word = slot_index + 1;
        match self.kind(v) {
            // Internal edges: the path reads `mod.name`, not `mod.<globals>.<table>.name`.
            Some(Kind::MODULE | Kind::DICT | Kind::SET | Kind::LIST) => Ok(()),
            Some(Kind::CLASS) if word == 3 => Ok(()),
            Some(Kind::INSTANCE) if word == 2 => Ok(()),
            Some(Kind::ARRAY | Kind::CONST_ARRAY) if word.is_multiple_of(2) => {
                let key = self.wv(v, word - 1);
                match self.str_bytes(key) {
                    Some(b) => write!(out, ".{}", String::from_utf8_lossy(b)),
                    Option::None => write!(out, "[{}]", slot_index),
                }
            }
            Some(Kind::FUNC) if word == 3 => out.write_str(".<defaults>"),
            Some(Kind::INSTANCE) if word == 1 => out.write_str(".__class__"),
            _ => write!(out, "[{slot_index}]"),
        }
    }
}

impl<F: FlashImage> LiveHeap for Freezing<'_, F> {
    fn rewrite_live_refs(&mut self, forward: &mut Forward<'_, Self>) {
        // The heap changes from here on (`Freezing::last_size`).
        self.last_size.set(None);
        // Roots held by the VM itself.
        let mut fields = self.root_fields();
        for f in fields.iter_mut() {
            if self.mem.is_heap_head(*f)
                && let Some(n) = forward(self, *f)
            {
                *f = n;
            }
        }
        self.set_root_fields(fields);
        for i in 0..self.stack_top.min(self.stack.len()) {
            let w = self.stack[i];
            if self.mem.is_heap_head(w)
                && let Some(n) = forward(self, w)
            {
                self.stack[i] = n;
            }
        }
        for i in 0..self.young.len() {
            let w = self.young[i];
            if self.mem.is_heap_head(w)
                && let Some(n) = forward(self, w)
            {
                self.young[i] = n;
            }
        }
        for i in 0..self.extra_roots.len() {
            let w = self.extra_roots[i];
            if self.mem.is_heap_head(w)
                && let Some(n) = forward(self, w)
            {
                self.extra_roots[i] = n;
            }
        }
        // The RAM section's objects: their value words (not headers, not raw payloads).
        for i in self.ram_value_runs().into_iter().flatten() {
            let w = self.ram_word(i);
            if self.mem.is_heap_head(w)
                && let Some(n) = forward(self, w)
                && let Some(b) = self.mem.ram.get_mut(4 * i..4 * i + 4)
            {
                b.copy_from_slice(&n.to_le_bytes());
            }
        }
        // Every heap allocation (garbage included), but the originals this freeze placed: once
        // this pass is done nothing live points at them (every slot that did now holds the
        // frozen address), so rewriting their insides is work on garbage. One forwarding
        // lookup per allocation spares a lookup per word of the frozen graph's originals.
        // The allocations are found from the block table and their words read from the arena
        // directly (no region dispatch per word).
        let mut b = 0;
        while let Some((start, blocks)) = self.mem.next_allocation(b) {
            b = start + blocks;
            let off = start * BLOCK as usize;
            let Some((osize, true)) = self.object_layout(self.mem.heap_word(off)) else {
                continue;
            };
            if forward(self, HEAP_BASE + off as u32).is_some() {
                continue;
            }
            let words = osize.min(blocks as u32 * BLOCK) as usize / 4;
            for i in 1..words {
                let at = off + 4 * i;
                let w = self.mem.heap_word(at);
                if self.mem.is_heap_head(w)
                    && let Some(n) = forward(self, w)
                {
                    self.mem.set_heap_word(at, n);
                }
            }
        }
    }

    fn frozen_ref(&self, address: u64) -> u32 {
        address as u32
    }

    fn ram_area(&mut self) -> &mut [u8] {
        &mut self.mem.ram
    }
}

/// In the aux bits of a frozen `Instance` in flash: it is mutable state, copy-on-write (a
/// builtin exception's or a namedtuple's instance in flash is not). Never set in the heap.
pub const INSTANCE_COW: u32 = 1;

/// Is a heap object with header `hdr`, mutable by its type, frozen to flash copy-on-write
/// instead of to the RAM section? Lists, sets, data dicts, instances and growable arrays (list
/// items, tables): state a module builds at import and mostly only reads. The rest (cells,
/// generators and their fixed frames, iterators, byte stores, …) is written on almost every
/// use and stays in the RAM section.
fn copy_on_write(hdr: u32) -> bool {
    match Kind::from_u8(hdr as u8) {
        Some(Kind::LIST | Kind::SET | Kind::DICT | Kind::INSTANCE) => true,
        Some(Kind::ARRAY) => (hdr >> 8) & ARRAY_FIXED == 0,
        _ => false,
    }
}

/// Is the frozen flash object with header `hdr` copy-on-write (see [`copy_on_write`])?
pub(crate) fn frozen_copy_on_write(hdr: u32) -> bool {
    let aux = hdr >> 8;
    match Kind::from_u8(hdr as u8) {
        Some(Kind::LIST | Kind::SET) => true,
        Some(Kind::DICT) => aux & dict_flags::NAMESPACE == 0,
        Some(Kind::ARRAY) => aux & ARRAY_FIXED == 0,
        Some(Kind::INSTANCE) => aux & INSTANCE_COW != 0,
        _ => false,
    }
}

impl<F: FlashImage> Vm<F> {
    /// The type's own placement of heap object `v` (before copy-on-write).
    fn mutability_by_type(&self, v: Value) -> Mutability {
        match self.slots(v).map(|t| &t.freeze) {
            Some(Freeze::Ram) => Mutability::Mutable,
            Some(Freeze::By(decide)) => decide(self, v),
            _ => Mutability::Immutable,
        }
    }

    /// Registers the copy-on-write objects of the flash section `range` (a batch's) with the
    /// memory, walking it object by object as the collector walks the RAM section. Returns
    /// how many it found, or the address of a word that starts no known object.
    pub(crate) fn register_cow(&mut self, range: Range<u32>) -> Result<usize, u32> {
        let mut a = range.start;
        let mut n = 0;
        while a < range.end {
            let hdr = self.mem.read_u32(a);
            if hdr == 0 {
                a += 4;
                continue;
            }
            let size = match self.object_layout(hdr) {
                Some((size, _)) if size >= 4 && size <= range.end - a => size,
                _ => return Err(a),
            };
            if frozen_copy_on_write(hdr) {
                self.mem.add_cow(a, size);
                n += 1;
            }
            a += size.div_ceil(4) * 4;
        }
        Ok(n)
    }

    /// Byte size of the frozen copy of heap object `obj`, whose header is `hdr` (see the
    /// module docs for the compact layouts), a multiple of 4.
    pub(crate) fn frozen_size_of(&self, obj: u32, hdr: u32) -> u32 {
        let v = Value(obj);
        let size = match self.header_slots(hdr) {
            Some(t) => match &t.frozen {
                Some(f) => (f.size)(self, v),
                None => Self::type_layout(t, hdr).map_or(4, |(n, _)| n),
            },
            None => object_size(hdr).unwrap_or(4),
        };
        size.div_ceil(4) * 4
    }
}

/// Writes heap object `v` into `out` as it is (the frozen copy of a kind without a compact
/// layout, the first `out.len()` bytes).
pub fn copy_heap<F: FlashImage>(vm: &Vm<F>, v: Value, out: &mut [u8]) {
    if let Some(b) = vm.mem.bytes(v.0, out.len() as u32) {
        out.copy_from_slice(b);
    }
}

/// Writes words `words` into `out` from its start.
pub fn write_words(out: &mut [u8], words: &[u32]) {
    for (dst, w) in out.chunks_exact_mut(4).zip(words) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
}

/// The address ranges frozen objects may point into besides the image: the statics.
pub(crate) fn statics_ranges<F: FlashImage>(vm: &Vm<F>) -> Vec<Range<u64>> {
    let start = STATICS_BASE as u64;
    alloc::vec![start..start + vm.mem.statics.len() as u64]
}

/// The store configuration of minivm's image region.
fn store_config<'a>(
    fw: &'a [u8],
    statics: &'a [Range<u64>],
    crc: &'static dyn flashfreeze::image::crc::CrcEngine,
) -> StoreConfig<'a> {
    StoreConfig::new(IMAGE_FLASH_OFFSET, IMAGE_LEN, layout(fw), ENCODING)
        .with_statics(statics)
        .with_crc(crc)
}

/// The store on `dev`: reading the region in place (the VM's own view of it), and from what the
/// last store, or the boot's mount, knew of it when there is such a `state`.
fn open_store<'a, F: FreezeFlash>(
    dev: &'a mut F,
    cfg: StoreConfig<'a>,
    state: Option<StoreState>,
) -> Result<Store<'a, &'a mut F>, StoreError<F::Error>> {
    if dev.image().len() != IMAGE_LEN as usize {
        return Store::open(dev, cfg);
    }
    let view: for<'r> fn(&'r &'a mut F) -> &'r [u8] = |d| d.image();
    match state {
        Some(state) => Store::reopen(dev, cfg, Some(view), state),
        None => Store::open_mapped(dev, cfg, view),
    }
}

/// The freezer behind `freeze.import_modules` and `freeze.clear`. It keeps what its store knew
/// of the image region between freezes (and what the boot's mount found), so only the first
/// freeze of a boot reads the region after the image.
pub struct FlashFreezer {
    /// Collect before each batch and log the live heap ([`BatchLog::live_before`]): the
    /// heap measurements of the tests and benchmarks, at the cost of a collection per batch.
    pub measure: bool,
    /// What the last store, or the boot's mount, knew of the image region.
    state: Option<StoreState>,
    /// Whether freezes give equal str, bytes, tuple, float, big-int, code and table objects one
    /// copy (within a batch and with earlier batches). Off by default: on the real-code corpus
    /// it saves 0.91 % of flash (304 of 33,240 B; the seed modules 1.08 %) for 7 % more
    /// instructions and up to 11 B more working memory per object (`docs/performance.md`,
    /// "Dedup"), below the 3 % that would pay for it.
    pub dedup: Dedup,
}

impl FlashFreezer {
    /// Attaches a freezer to `vm` (no dedup). Returns the mount made after finishing a cut
    /// compaction, if it made one (see [`FlashFreezer::attach_with`]).
    pub fn attach<F: FreezeFlash + 'static>(vm: &mut Vm<F>) -> Option<Result<MountInfo, String>> {
        Self::attach_with(vm, Dedup::OFF)
    }

    /// Attaches a freezer to `vm` that deduplicates as `dedup` says.
    ///
    /// Mount first ([`Vm::mount_frozen`]), then attach: the freezer takes the mount's
    /// validated chain, and its recovery reads batch 0's header and commit record only (a
    /// committed batch 0 proves no compaction is pending); the sectors after the chain are read
    /// at the first freeze. After a mount that found nothing, a cut compaction is finished here
    /// and the image mounted: that mount's result is returned.
    pub fn attach_with<F: FreezeFlash + 'static>(
        vm: &mut Vm<F>,
        dedup: Dedup,
    ) -> Option<Result<MountInfo, String>> {
        Self::attach_as(vm, false, dedup)
    }

    /// Attaches a freezer that measures the live heap before each batch (no dedup).
    pub fn attach_measuring<F: FreezeFlash + 'static>(
        vm: &mut Vm<F>,
    ) -> Option<Result<MountInfo, String>> {
        Self::attach_as(vm, true, Dedup::OFF)
    }

    /// The attaches' body: a freezer on the mount's state, then the recovery at attach.
    fn attach_as<F: FreezeFlash + 'static>(
        vm: &mut Vm<F>,
        measure: bool,
        dedup: Dedup,
    ) -> Option<Result<MountInfo, String>> {
        vm.freezer = Some(Box::new(FlashFreezer {
            measure,
            state: vm.mount_state.take(),
            dedup,
        }));
        Self::recover_at_attach(vm)
    }

    /// A compaction cut while it moved its copy into place: finish it, and mount the result
    /// if the VM already tried to mount (and found nothing).
    fn recover_at_attach<F: FreezeFlash + 'static>(
        vm: &mut Vm<F>,
    ) -> Option<Result<MountInfo, String>> {
        let mounted_nothing = vm.next_qstr == vm.first_dyn_qstr;
        let mut fz = vm.freezer.take()?;
        let recovered = fz.recover(vm).unwrap_or(false);
        vm.freezer = Some(fz);
        (recovered && mounted_nothing).then(|| vm.mount_frozen())
    }

    /// Opens the store on `vm`'s flash and runs `f` on it, the device lent to the store
    /// while the VM holds a stand-in. The store reads the region in place and starts from
    /// what `state` knew of it (the last store's, or `None`: it reads the region), and leaves
    /// there what it knows after `f`, so the next operation of the boot does not read the
    /// region again (the boot's recovery scan is the first freeze's).
    fn with_store<F: FreezeFlash, T>(
        vm: &mut Vm<F>,
        state: &mut Option<StoreState>,
        f: impl FnOnce(&mut Store<'_, &mut F>) -> Result<T, StoreError<F::Error>>,
    ) -> Result<T, String> {
        let fw = firmware_id(vm);
        let statics = statics_ranges(vm);
        let crc = vm.mem.flash.crc_engine();
        let mut dev = core::mem::replace(&mut vm.mem.flash, F::detached());
        // Read in place (the VM's own view of the region): listing and measuring the image
        // then need no copy of it.
        let r = match open_store(
            &mut dev,
            store_config(fw.as_bytes(), &statics, crc),
            state.take(),
        ) {
            Ok(mut store) => {
                let r = f(&mut store).map_err(|e| format!("{e}"));
                *state = store.into_parts().1;
                r
            }
            Err(e) => Err(format!("flash: {e}")),
        };
        vm.mem.flash = dev;
        r
    }
}

/// minivm's object alignment in the image (every frozen copy is 4-aligned).
const OBJECT_ALIGN: u32 = 4;

impl<F: FreezeFlash> Freezer<F> for FlashFreezer {
    fn freeze_modules(
        &mut self,
        vm: &mut Vm<F>,
        names: &[String],
        running: &[u32],
    ) -> Result<Batch, FreezeFailed> {
        // Borrowed names, and room for exactly the names given (this is live at the batch's
        // peak; a collected `Vec` would start at four entries).
        let mut group: Vec<(&str, u32)> = Vec::with_capacity(names.len());
        group.extend(names.iter().filter_map(|n| {
            let key = Value::qstr(vm.find_qstr(n.as_bytes())?);
            let m = vm.dict_get_q(vm.modules, key)?;
            vm.mem.is_heap_head(m.0).then_some((n.as_str(), m.0))
        }));
        freeze_batch(
            vm,
            &group,
            running,
            self.measure,
            self.dedup,
            &mut self.state,
        )
    }

    fn freeze_tree(&mut self, vm: &mut Vm<F>, name: &str) -> Result<Batch, FreezeFailed> {
        // The module, its submodules and its parent packages (so `import a.b` after a reboot
        // finds `a` in flash too).
        let in_tree = |n: &str| {
            let below =
                |a: &str, b: &str| a.starts_with(b) && a.as_bytes().get(b.len()) == Some(&b'.');
            n == name || below(n, name) || below(name, n)
        };
        let tree: Vec<(String, u32)> = heap_modules(vm, |n, _| in_tree(n));
        let tree: Vec<(&str, u32)> = tree.iter().map(|(n, m)| (n.as_str(), *m)).collect();
        freeze_batch(vm, &tree, &[], self.measure, self.dedup, &mut self.state)
    }

    fn measures(&self) -> bool {
        self.measure
    }

    fn remove(&mut self, vm: &mut Vm<F>, name: &str) -> Result<(), String> {
        Self::with_store(vm, &mut self.state, |store| {
            store.remove::<Freezing<'_, F>>(name)
        })
        .map_err(|e| {
            if e.contains("not frozen") {
                format!("module '{name}' is not frozen")
            } else {
                e
            }
        })?;
        vm.lifecycle.sources.retain(|s| s.name() != name);
        // The running VM forgets it too: the next import loads its source (or fails).
        if let Ok(key) = vm.intern(name.as_bytes()) {
            let _ = vm.dict_remove(vm.modules, key);
        }
        Ok(())
    }

    fn modules(&mut self, vm: &mut Vm<F>) -> Result<Vec<(String, u32, u64, u64)>, String> {
        let list = Self::with_store(vm, &mut self.state, |store| store.modules())?;
        Ok(list
            .into_iter()
            .map(|m| (m.name, m.batch, m.flash_bytes, m.ram_bytes))
            .collect())
    }

    fn info(&mut self, vm: &mut Vm<F>) -> Result<Vec<(&'static str, u64)>, String> {
        let i = Self::with_store(vm, &mut self.state, |store| {
            store.info::<Freezing<'_, F>>(OBJECT_ALIGN)
        })?;
        Ok(alloc::vec![
            ("region_used", i.region_used),
            ("region_free", i.region_free),
            ("ram_used", i.ram_used),
            ("ram_free", i.ram_free),
            ("batches", u64::from(i.batches)),
            ("modules", u64::from(i.modules)),
            ("reclaimable", i.reclaimable),
            ("reclaimable_ram", i.reclaimable_ram),
            ("measured", u64::from(i.measured)),
        ])
    }

    fn compact(&mut self, vm: &mut Vm<F>) -> Result<String, String> {
        let c = Self::with_store(vm, &mut self.state, |store| {
            store.compact::<Freezing<'_, F>>(OBJECT_ALIGN)
        });
        // The next boot mounts the compacted chain afresh.
        self.state = None;
        let c = c?;
        // The frozen objects moved: nothing of this VM may run on.
        vm.lifecycle.reboot_requested = true;
        Ok(format!(
            "compacted {} batches into 1: flash {} -> {} bytes, ram {} -> {} bytes, {} objects kept, {} dropped; soft reboot",
            c.batches_before,
            c.region_used.0,
            c.region_used.1,
            c.ram_used.0,
            c.ram_used.1,
            c.objects.0,
            c.objects.1
        ))
    }

    fn recover(&mut self, vm: &mut Vm<F>) -> Result<bool, String> {
        // Without the mount's state (it found nothing), opening the store would read every
        // sector of the region; a header per sector says whether there is a staged copy to
        // move at all (`staged_copy_present`: if not, `recover` would finish nothing). The
        // store then reads the region at its first write.
        let image = vm.mem.flash.image();
        if self.state.is_none()
            && image.len() == IMAGE_LEN as usize
            && !flashfreeze::store::staged_copy_present(image, F::ERASE_SIZE as u32)
        {
            return Ok(false);
        }
        Self::with_store(vm, &mut self.state, |store| store.recover())
    }

    fn clear(&mut self, vm: &mut Vm<F>) -> Result<(), String> {
        let fw = firmware_id(vm);
        let crc = vm.mem.flash.crc_engine();
        let mut dev = core::mem::replace(&mut vm.mem.flash, F::detached());
        let statics = statics_ranges(vm);
        let cfg = store_config(fw.as_bytes(), &statics, crc);
        let r = match open_store(&mut dev, cfg, self.state.take()) {
            Ok(mut store) => {
                let r = store.clear().map(|_| ()).map_err(|e| format!("{e}"));
                if r.is_ok() {
                    vm.mem.clear_cow();
                }
                self.state = store.into_parts().1;
                r
            }
            Err(e) => Err(format!("flash: {e}")),
        };
        vm.mem.flash = dev;
        r
    }

    fn mounted(&mut self, state: StoreState) {
        self.state = Some(state);
    }
}

/// The heap modules of `sys.modules` (name, object) that `keep` accepts, their names copied
/// only for those: the list is live at a batch's peak, and usually empty.
fn heap_modules<F: FlashImage>(vm: &Vm<F>, keep: impl Fn(&str, u32) -> bool) -> Vec<(String, u32)> {
    let mods = vm.modules;
    let mut out = Vec::new();
    for i in 0..vm.dict_len(mods) {
        let (k, m) = vm.dict_entry(mods, i);
        if !vm.mem.is_heap_head(m.0) {
            continue;
        }
        let name = vm.str_string(k);
        if keep(&name, m.0) {
            // One entry at a time: a handful at most, and no room left unused.
            out.reserve_exact(1);
            out.push((name, m.0));
        }
    }
    out
}

/// Freezes `group` (named heap modules) as one batch. Roots: the group's modules, then the
/// qstr pool chain (interned ids stay valid); every other heap module outside the running set
/// is a candidate, named by the image if the graph reaches it (found by name after a reboot).
/// With a `running` set (see `crate::import`), what it reaches is marked for the plan, which
/// refuses it: the answer is then [`Batch::Waits`] and nothing is written.
fn freeze_batch<F: FreezeFlash>(
    vm: &mut Vm<F>,
    group: &[(&str, u32)],
    running: &[u32],
    measure: bool,
    dedup: Dedup,
    state: &mut Option<StoreState>,
) -> Result<Batch, FreezeFailed> {
    if group.is_empty() {
        return Ok(Batch::Nothing);
    }
    let live_before = measure.then(|| {
        vm.collect();
        vm.heap_stats().used
    });
    let marks = !running.is_empty();
    if marks {
        // The group's module objects and the heap qstr pools bound the marking. That a
        // running importer holds the module it just imported (its parent's attribute) does
        // not make the module's own objects running; any other path to them does. The
        // pools are interning's, never running code's (it holds ids, and a frozen pool is
        // followed by a new heap one): a pool made during the importer's instruction is in
        // its young list.
        let mut barrier: Vec<u32> = group.iter().map(|(_, m)| *m).collect();
        let mut p = vm.qpool;
        while vm.mem.is_heap_head(p.0) {
            barrier.push(p.0);
            p = vm.wv(p, 1);
        }
        for &b in &barrier {
            vm.mem.mark(b);
        }
        vm.mark_from(running);
        for &b in &barrier {
            vm.mem.unmark(b);
        }
    }
    let others = heap_modules(vm, |_, m| {
        !group.iter().any(|(_, g)| *g == m) && !vm.mem.is_marked(m)
    });
    // Source records: each module of the group, with its path and the hash of its source.
    let mut sources: Vec<(String, u32)> = Vec::with_capacity(group.len());
    sources.extend(group.iter().filter_map(|(n, m)| {
        // Taken at import from the bytes loaded; a module imported before the freezer
        // was attached has its source read now.
        let taken = vm.origins.iter().find(|(o, _, _)| o == n);
        let (path, hash) = match taken {
            Some((_, p, h)) => (p.clone(), h.clone()),
            None => vm.module_source_hash(n)?,
        };
        Some((records::source_name(n, &path, &hash)?, *m))
    }));
    // Exactly as many roots as there are (the list is live at the batch's peak).
    let mut roots: Vec<Root<'_, u32>> =
        Vec::with_capacity(group.len() + others.len() + sources.len() + 1);
    roots.extend(
        group
            .iter()
            .map(|(n, m)| Root::new(RootKind::MODULE, n, *m)),
    );
    roots.extend(
        others
            .iter()
            .map(|(n, m)| Root::if_reached(RootKind::MODULE, n, *m)),
    );
    roots.extend(
        sources
            .iter()
            .map(|(s, m)| Root::new(RootKind::SOURCE, s, *m)),
    );
    if vm.mem.is_heap_head(vm.qpool.0) {
        roots.push(Root::new(RootKind::QSTR_POOL, QSTR_ROOT, vm.qpool.0));
    }
    let fw = firmware_id(vm);
    let statics = statics_ranges(vm);
    // The flash is a field of the VM's memory: the store borrows the device while the VM
    // holds a stand-in (the freeze reads heap objects only).
    let crc = vm.mem.flash.crc_engine();
    let mut dev = core::mem::replace(&mut vm.mem.flash, F::detached());
    let mut waits = false;
    let cfg = store_config(fw.as_bytes(), &statics, crc).with_dedup(dedup);
    let frozen = match open_store(&mut dev, cfg, state.take()) {
        Err(e) => Err(FreezeFailed {
            exc: "OSError",
            msg: format!("flash: {e}"),
        }),
        Ok(mut store) => {
            let mut view = Freezing::new(vm, marks);
            let r = store.freeze(&mut view, &roots);
            waits = view.reached_running.get().is_some();
            drop(view);
            *state = store.into_parts().1;
            r.map_err(|e| match e {
                // The VM's own message: `cannot freeze <path> (<kind>): <why>`.
                StoreError::Freeze(e) => FreezeFailed {
                    exc: "TypeError",
                    msg: format!("{e}"),
                },
                e => FreezeFailed {
                    exc: "OSError",
                    msg: format!("{e}"),
                },
            })
        }
    };
    vm.mem.flash = dev;
    if marks {
        vm.mem.clear_marks();
    }
    match frozen {
        Ok(frozen) => {
            let f = &frozen.batch.flash;
            vm.register_cow(f.start as u32..f.end as u32)
                .map_err(|a| FreezeFailed {
                    exc: "RuntimeError",
                    msg: format!("frozen batch: no object at {a:#010x}"),
                })?;
            for (rec, _) in &sources {
                if let Some((n, path, hash)) = records::parse_source(rec) {
                    vm.lifecycle.sources.retain(|s| s.name() != n);
                    // The record is the lifecycle's now.
                    vm.origins.retain(|(o, _, _)| o != n);
                    vm.lifecycle
                        .sources
                        .push(crate::lifecycle::FrozenSource::new(n, path, hash, true));
                }
            }
            vm.frozen_count += frozen.stats.objects;
            // The log keeps the per-kind list; the caller gets the numbers (no second copy).
            let mut stats = frozen.stats;
            let kinds = core::mem::take(&mut stats.kinds);
            let numbers = stats.clone();
            stats.kinds = kinds;
            vm.freeze_log.push(Box::new(BatchLog {
                modules: group.iter().map(|(n, _)| String::from(*n)).collect(),
                stats,
                live_before,
                live_start: None,
                live_after: None,
                waited: Vec::new(),
            }));
            Ok(Batch::Frozen(numbers))
        }
        // The path to the first object of the running set it reached: `pkg.sub.core (module)`.
        Err(e) if waits => Ok(Batch::Waits(
            e.msg
                .strip_prefix("cannot freeze ")
                .and_then(|m| m.split_once(": ").map(|(p, _)| String::from(p)))
                .unwrap_or(e.msg),
        )),
        Err(e) => Err(e),
    }
}

/// What [`Vm::mount_frozen`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountInfo {
    /// Committed batches mounted.
    pub batches: usize,
    /// The module names registered in `sys.modules`, back to back (one allocation for all of
    /// them), and where each ends: [`MountInfo::modules`] lists them.
    names: String,
    ends: Vec<u32>,
    /// The frozen RAM range in use.
    pub ram: Range<u64>,
}

impl MountInfo {
    /// The module names registered in `sys.modules`, in chain order of their live roots.
    pub fn modules(&self) -> impl Iterator<Item = &str> + '_ {
        let starts = core::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(s, e)| self.names.get(s as usize..e as usize).unwrap_or(""))
    }

    /// [`MountInfo::modules`] joined by `sep`, as a boot line prints them.
    pub fn modules_joined(&self, sep: &str) -> String {
        let mut s = String::with_capacity(self.names.len() + self.ends.len() * sep.len());
        for (i, m) in self.modules().enumerate() {
            if i > 0 {
                s.push_str(sep);
            }
            s.push_str(m);
        }
        s
    }
}

impl<F: FlashImage> Vm<F> {
    /// Whether qstr `id`'s text is `name`: a fixed qstr, else in the frozen pools' `spans`
    /// ([`Vm::pool_spans`]), else wherever [`Vm::qstr_text`] finds it.
    fn module_qstr_is(&self, spans: &crate::qstr::PoolSpans, id: u32, name: &str) -> bool {
        let text = match crate::qstr::fixed_str(&self.fw, id) {
            Some(s) => Some(s.as_bytes()),
            None => self.spans_text(spans, id).or_else(|| self.qstr_text(id)),
        };
        text == Some(name.as_bytes())
    }
}

impl<F: FlashImage> Vm<F> {
    /// Mounts the image at boot: validates it, restores the RAM section, re-chains the frozen
    /// qstr pools and registers the frozen modules. Call right after [`Vm::new`].
    pub fn mount_frozen(&mut self) -> Result<MountInfo, String> {
        if self.next_qstr != self.first_dyn_qstr {
            return Err(String::from(
                "mount must happen before any string is interned",
            ));
        }
        let fw = firmware_id(self);
        // `statics_ranges`, on the stack.
        let start = STATICS_BASE as u64;
        let statics = start..start + self.mem.statics.len() as u64;
        let statics = core::slice::from_ref(&statics);
        let cfg = ReadConfig::new(layout(fw.as_bytes()), ENCODING)
            .with_statics(statics)
            .with_crc(self.mem.flash.crc_engine());
        let region = self.mem.flash.image();
        let mounted = match flashfreeze::mount::mount(region, &cfg, &mut self.mem.ram) {
            Ok(m) => m,
            Err(e) => {
                // Another firmware's (or format's) image: its module list stays readable.
                if let flashfreeze::mount::MountError::Invalid(
                    DecodeError::FirmwareId { .. } | DecodeError::Version { .. },
                ) = e
                {
                    self.lifecycle.refused = records::refused_modules(region)
                        .modules
                        .into_iter()
                        .map(|m| {
                            let (p, h) = m.source.map(|s| (s.path, s.hash)).unzip();
                            (m.name, p, h)
                        })
                        .collect();
                }
                return Err(format!("{e}"));
            }
        };
        // Borrowed from the mapped roots tables: only what the VM keeps is copied.
        let resolved = mounted.live_roots();
        let info_ram = mounted.gc_root_range();
        let batches = mounted.batches().len();
        // Their copy-on-write objects are found at their first write (no pass over them now).
        let cow_batches = mounted.batches().to_vec();

        // The last qstr pool root, from the resolution (no second walk of the roots tables).
        let qpool = resolved.other(RootKind::QSTR_POOL, QSTR_ROOT);
        if let Some(q) = qpool {
            let pool = Value(q as u32);
            self.qpool = pool;
            let first = self.wv(pool, 2).as_int() as u32;
            let n = self.wv(pool, 3).as_int() as u32;
            self.next_qstr = first + n;
        }
        // The frozen pools' id ranges, read once for all the modules' name qstrs (on the stack).
        let spans = self.pool_spans(self.qpool);
        // The source records share one text, each copied whole; the names are one string.
        let sources = crate::lifecycle::FrozenSource::mounted(
            resolved
                .modules
                .iter()
                .filter_map(|m| Some((m.source_record?, m.name.len(), m.source?.0.len()))),
        );
        let names_len = resolved.modules.iter().map(|m| m.name.len()).sum();
        let mut names = String::with_capacity(names_len);
        // (end of its name in `names`, key, module) per live module; the key is `None` while
        // it is still to be interned from its name (after the resolution's borrow of the
        // image ends). The list becomes `MountInfo`'s ends of names, in place.
        let mut entries: Vec<(u32, Option<Value>, Value)> =
            Vec::with_capacity(resolved.modules.len());
        // The live modules, in chain order of their live roots (a superseding root's place);
        // their names are unique (a later root of a name supersedes the earlier one).
        for m in &resolved.modules {
            let (name, addr) = (m.name, m.address);
            // A frozen module holds its name's qstr (word 1): the key, with no search of
            // the qstr pools' strings (its text is found by id in the pools' ranges read
            // above). Anything else is interned by its text, as it always was.
            let mo = Value(addr as u32);
            let own = self.wv(mo, 1);
            let named = self.kind(mo) == Some(Kind::MODULE)
                && own.is_qstr()
                && self.module_qstr_is(&spans, own.as_qstr(), name);
            names.push_str(name);
            entries.push((names.len() as u32, named.then_some(own), mo));
        }
        drop(resolved);
        // The mount's index moves into the store's state (no copy of it).
        let state = mounted.into_store_state();
        match self.freezer.as_mut() {
            Some(freezer) => freezer.mounted(state),
            // The usual boot mounts first: the freezer attached next takes it.
            None => self.mount_state = Some(state),
        }
        // The keys still to intern (a module whose own name qstr is not its root's name).
        let mut start = 0;
        for (end, key, _) in entries.iter_mut() {
            if key.is_none() {
                let name = names.get(start..*end as usize).unwrap_or("");
                let k = self
                    .intern(name.as_bytes())
                    .map_err(|_| String::from("out of memory"))?;
                *key = Some(k);
            }
            start = *end as usize;
        }
        let pairs = entries.iter().filter_map(|&(_, k, mo)| Some((k?, mo)));
        let _ = self.dict_store_distinct(self.modules, pairs, entries.len() as u32);
        let ends = entries.into_iter().map(|(end, _, _)| end).collect();
        self.lifecycle.sources = sources;
        // The copy-on-write objects: found at their first write, in their batch's object map
        // (no pass over the objects at mount).
        self.mem.clear_cow();
        self.mem.add_cow_batches(cow_batches);
        self.young.clear();
        Ok(MountInfo {
            batches,
            names,
            ends,
            ram: info_ram,
        })
    }
}
