//! Where the freezer keeps "seen" marks and forwarding addresses: a side table, or the VM's
//! object headers.
//!
//! The traverser marks each heap object it reaches ([`ForwardingTable::mark`]); the relocator
//! then stores each object's frozen address ([`ForwardingTable::set`]); the writer and the live
//! fix-up read it back ([`ForwardingTable::get`]).
//!
//! # Memory
//! - [`InHeader`] keeps everything in the VM's objects: zero bytes here.
//! - [`SideTable`] is compact rather than a hash map: one `u32` per frozen object (its offset
//!   in its section, with the top bit saying which section), and the "seen" marks. A small
//!   batch keeps its marks as a sorted list of heap indices (4 bytes per object, looked up by
//!   binary search); once the list would outgrow a bitmap it becomes one: one bit per heap index
//!   plus a `u32` rank per 64 indices (half a bit per index). For MicroPython's RP2040 heap
//!   (96 KiB in 16-byte blocks: 6144 indices) a batch of up to 192 objects costs 8 bytes per
//!   object, a larger one 1152 bytes plus 4 bytes per object. The list holds at most 1,024
//!   entries whatever the heap, so marking stays cheap on a large one.

use alloc::vec;
use alloc::vec::Vec;

use crate::error::{FreezeError, Violation, contract};
use crate::model::{Forwarding, InObjectForwarding, ObjectModel, Placement};

/// Where a plan keeps its forwarding: [`SideTable`] (made by [`crate::plan()`]) or [`InHeader`]
/// (made by [`crate::plan_in_object`]). Sealed: its methods are the library's.
pub trait ForwardingTable<M: ObjectModel + ?Sized>: sealed::Table<M> {}

impl<M: ObjectModel + ?Sized, T: sealed::Table<M>> ForwardingTable<M> for T {}

pub(crate) mod sealed {
    use super::*;

    /// The freezer's per-object bookkeeping, in whichever place the VM allows.
    pub trait Table<M: ObjectModel + ?Sized> {
        /// Mark `obj` as reached; `Ok(true)` if it was not marked before.
        fn mark(&mut self, vm: &M, obj: M::Ref) -> Result<bool, FreezeError>;

        /// Called once after the traversal, before any [`ForwardingTable::set`].
        fn seal(&mut self, objects: usize);

        /// Record the frozen address of a marked object.
        fn set(&mut self, vm: &M, obj: M::Ref, at: Forwarded) -> Result<(), FreezeError>;

        /// The frozen address of `obj`, if the plan placed it.
        fn get(&self, vm: &M, obj: M::Ref) -> Option<Forwarded>;

        /// Forget every mark (undo what the freezer did to the VM's objects).
        fn release(&mut self, vm: &M, objects: &mut dyn Iterator<Item = M::Ref>);

        /// Bytes this table holds on the heap (for the working-memory report).
        fn heap_bytes(&self) -> usize;

        /// The side table, whose per-object words the dedup stage uses before addresses are
        /// assigned; `None` for in-object forwarding, which has no such word (no dedup).
        fn side_table(&mut self) -> Option<&mut SideTable> {
            None
        }
    }
}

/// A frozen object's place: in a section of this batch, or an equal object of an earlier batch
/// (when the freeze deduplicates, `crate::dedup`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forwarded {
    /// In this batch's section, at this offset from the section's base.
    Section(Placement, u32),
    /// An earlier batch's object this many bytes below this batch's flash-section base (the
    /// chain grows upwards in its region).
    Earlier(u32),
}

impl Forwarded {
    const RAM_BIT: u32 = 1 << 31;
    const EARLIER_BITS: u32 = 3 << 30;
    /// Largest offset a flash section may have (the top bit tells the RAM section apart).
    pub const MAX_FLASH_OFFSET: u32 = Self::RAM_BIT - 1;
    /// Largest offset a RAM section may have (1 GiB; the next bit tells earlier objects apart).
    pub const MAX_RAM_OFFSET: u32 = (1 << 30) - 1;
    /// Largest distance below the flash section an earlier object may lie (`u32::MAX`, the side
    /// table's "unset", is left out).
    pub const MAX_EARLIER: u32 = (1 << 30) - 2;

    /// The largest offset of a section.
    pub const fn max_offset(placement: Placement) -> u32 {
        match placement {
            Placement::Flash => Self::MAX_FLASH_OFFSET,
            Placement::Ram => Self::MAX_RAM_OFFSET,
        }
    }

    /// The section, for a place in this batch.
    pub fn placement(self) -> Option<Placement> {
        match self {
            Self::Section(p, _) => Some(p),
            Self::Earlier(_) => None,
        }
    }

    /// The side table's word: `0o` flash offset (31 bits), `10o` RAM offset (30 bits), `11d`
    /// distance of an earlier object (30 bits).
    pub(crate) fn encode(self) -> u32 {
        match self {
            Self::Section(Placement::Flash, o) => o,
            Self::Section(Placement::Ram, o) => o | Self::RAM_BIT,
            Self::Earlier(d) => d | Self::EARLIER_BITS,
        }
    }

    pub(crate) fn decode(word: u32) -> Self {
        if word & Self::RAM_BIT == 0 {
            Self::Section(Placement::Flash, word)
        } else if word & Self::EARLIER_BITS == Self::EARLIER_BITS {
            Self::Earlier(word & !Self::EARLIER_BITS)
        } else {
            Self::Section(Placement::Ram, word & !Self::RAM_BIT)
        }
    }
}

/// The library-owned table: the marked heap indices (a sorted list while few, then a
/// seen-bitmap with a rank directory) and a forwarding word per marked object.
#[derive(Debug, Default)]
pub struct SideTable {
    /// Words of the bitmap over the VM's heap indices (its length once it is made).
    words: usize,
    /// Whether the marks are in `bits` (else in `few`).
    dense: bool,
    /// The marked indices in ascending order, while they take no more room than `bits` would.
    few: Vec<u32>,
    bits: Vec<u64>,
    /// `rank[i]` = number of set bits in `bits[..i]`, built by [`ForwardingTable::seal`].
    rank: Vec<u32>,
    /// Encoded [`Forwarded`] per marked object, in heap-index order.
    forward: Vec<u32>,
}

impl SideTable {
    /// An empty table sized for `vm`'s heap.
    pub(crate) fn new<M: ObjectModel + ?Sized>(vm: &M) -> Self {
        let limit = vm.heap_index_limit();
        Self {
            words: limit.div_ceil(64),
            // Indices that do not fit the list's `u32` go straight to the bitmap.
            dense: u32::try_from(limit).is_err(),
            few: Vec::new(),
            bits: Vec::new(),
            rank: Vec::new(),
            forward: Vec::new(),
        }
    }

    /// Most entries of the sorted list: as many bytes as the bitmap, and at most
    /// [`SideTable::FEW_CAP`] (each insert shifts the entries above it: on a large heap an
    /// uncapped list would make marking quadratic).
    fn few_max(&self) -> usize {
        self.words.saturating_mul(2).min(Self::FEW_CAP)
    }

    /// Cap of the sorted list's length.
    const FEW_CAP: usize = 1024;

    fn index<M: ObjectModel + ?Sized>(&self, vm: &M, obj: M::Ref) -> Result<usize, FreezeError> {
        let index = vm.heap_index(obj);
        let limit = vm.heap_index_limit();
        if index >= limit || index / 64 >= self.words {
            return Err(contract(vm, obj, Violation::HeapIndex { index, limit }));
        }
        Ok(index)
    }

    /// Move the marks from the sorted list into a bitmap.
    fn densify(&mut self) {
        let mut bits = vec![0u64; self.words];
        for &i in &self.few {
            if let Some(w) = bits.get_mut(i as usize / 64) {
                *w |= 1 << (i % 64);
            }
        }
        self.few = Vec::new();
        self.bits = bits;
        self.dense = true;
    }

    /// The per-object word of a marked heap object (`u32::MAX` until set): the encoded
    /// [`Forwarded`] once addresses are assigned, the dedup stage's state before.
    pub(crate) fn word<M: ObjectModel + ?Sized>(&self, vm: &M, obj: M::Ref) -> Option<u32> {
        let index = vm.heap_index(obj);
        if index >= vm.heap_index_limit() {
            return None;
        }
        self.forward.get(self.slot(index)?).copied()
    }

    /// Set the word of a marked heap object; `false` if it has none.
    pub(crate) fn set_word<M: ObjectModel + ?Sized>(
        &mut self,
        vm: &M,
        obj: M::Ref,
        w: u32,
    ) -> bool {
        let index = vm.heap_index(obj);
        if index >= vm.heap_index_limit() {
            return false;
        }
        match self.slot(index).and_then(|s| self.forward.get_mut(s)) {
            Some(slot) => {
                *slot = w;
                true
            }
            None => false,
        }
    }

    /// Position of a marked index in `forward`, or `None` when unmarked.
    fn slot(&self, index: usize) -> Option<usize> {
        if !self.dense {
            return self.few.binary_search(&u32::try_from(index).ok()?).ok();
        }
        let (word, bit) = (index / 64, (index % 64) as u32);
        let w = *self.bits.get(word)?;
        if cfg!(target_pointer_width = "64") {
            if w & (1 << bit) == 0 {
                return None;
            }
            let below = (w & ((1u64 << bit) - 1)).count_ones();
            return Some(*self.rank.get(word)? as usize + below as usize);
        }
        // In 32-bit halves on a 32-bit target: a Cortex-M0+ shifts and counts a `u64` by
        // routine calls, and this runs for every reference the writer and the live fix-up
        // look up.
        let (lo, hi) = (w as u32, (w >> 32) as u32);
        let (half, below_half, bit) = if bit < 32 {
            (lo, 0, bit)
        } else {
            (hi, lo.count_ones(), bit - 32)
        };
        let mask = 1u32 << bit;
        if half & mask == 0 {
            return None;
        }
        let below = below_half + (half & (mask - 1)).count_ones();
        Some(*self.rank.get(word)? as usize + below as usize)
    }
}

impl<M: ObjectModel + ?Sized> sealed::Table<M> for SideTable {
    fn mark(&mut self, vm: &M, obj: M::Ref) -> Result<bool, FreezeError> {
        let index = self.index(vm, obj)?;
        if !self.dense {
            // The list is used only while the index limit fits a `u32` (`new`).
            let limit = vm.heap_index_limit();
            let i = u32::try_from(index)
                .map_err(|_| contract(vm, obj, Violation::HeapIndex { index, limit }))?;
            match self.few.binary_search(&i) {
                Ok(_) => return Ok(false),
                Err(at) if self.few.len() < self.few_max() => {
                    if self.few.len() == self.few.capacity() {
                        // Doubling, but never past the bitmap's size.
                        let len = self.few.len();
                        self.few
                            .reserve_exact(len.max(16).min(self.few_max() - len).max(1));
                    }
                    self.few.insert(at, i);
                    return Ok(true);
                }
                Err(_) => self.densify(),
            }
        }
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        let Some(w) = self.bits.get_mut(word) else {
            let limit = vm.heap_index_limit();
            return Err(contract(vm, obj, Violation::HeapIndex { index, limit }));
        };
        let was = *w & bit != 0;
        *w |= bit;
        Ok(!was)
    }

    fn seal(&mut self, objects: usize) {
        if !self.dense {
            debug_assert_eq!(self.few.len(), objects);
            self.forward = vec![u32::MAX; self.few.len()];
            return;
        }
        let mut total = 0u32;
        self.rank = self
            .bits
            .iter()
            .map(|w| {
                let r = total;
                total += w.count_ones();
                r
            })
            .collect();
        debug_assert_eq!(total as usize, objects);
        self.forward = vec![u32::MAX; total as usize];
    }

    fn set(&mut self, vm: &M, obj: M::Ref, at: Forwarded) -> Result<(), FreezeError> {
        let index = self.index(vm, obj)?;
        let slot = self
            .slot(index)
            .and_then(|s| self.forward.get_mut(s))
            .ok_or_else(|| contract(vm, obj, Violation::NotPlanned))?;
        *slot = at.encode();
        Ok(())
    }

    fn get(&self, vm: &M, obj: M::Ref) -> Option<Forwarded> {
        let index = vm.heap_index(obj);
        if index >= vm.heap_index_limit() {
            return None;
        }
        let word = *self.forward.get(self.slot(index)?)?;
        (word != u32::MAX).then(|| Forwarded::decode(word))
    }

    fn release(&mut self, _vm: &M, _objects: &mut dyn Iterator<Item = M::Ref>) {
        self.bits.iter_mut().for_each(|w| *w = 0);
        self.few.clear();
        self.rank.clear();
        self.forward.clear();
    }

    fn heap_bytes(&self) -> usize {
        (self.bits.capacity() * 8)
            + (self.few.capacity() * 4)
            + (self.rank.capacity() * 4)
            + (self.forward.capacity() * 4)
    }

    fn side_table(&mut self) -> Option<&mut SideTable> {
        Some(self)
    }
}

/// Forwarding kept in the VM's object headers ([`InObjectForwarding`]).
///
/// Addresses are stored as absolute addresses; the section bases are needed to turn them back
/// into a section and an offset.
#[derive(Debug, Default, Clone, Copy)]
pub struct InHeader {
    flash_base: u64,
    ram_base: u64,
    ram_end: u64,
}

impl InHeader {
    /// A table for sections at these base addresses (the RAM section ends at `ram_end`).
    pub(crate) fn new(flash_base: u64, ram_base: u64, ram_end: u64) -> Self {
        Self {
            flash_base,
            ram_base,
            ram_end,
        }
    }

    fn absolute(&self, at: Forwarded) -> u64 {
        match at {
            Forwarded::Section(Placement::Flash, o) => self.flash_base + u64::from(o),
            Forwarded::Section(Placement::Ram, o) => self.ram_base + u64::from(o),
            Forwarded::Earlier(d) => self.flash_base.saturating_sub(u64::from(d)),
        }
    }
}

impl<M: InObjectForwarding + ?Sized> sealed::Table<M> for InHeader {
    fn mark(&mut self, vm: &M, obj: M::Ref) -> Result<bool, FreezeError> {
        match vm.forwarding(obj) {
            Forwarding::Unmarked => {
                vm.set_forwarding(obj, Forwarding::Marked);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn seal(&mut self, _objects: usize) {}

    fn set(&mut self, vm: &M, obj: M::Ref, at: Forwarded) -> Result<(), FreezeError> {
        if vm.forwarding(obj) == Forwarding::Unmarked {
            return Err(contract(vm, obj, Violation::ForwardingLost));
        }
        vm.set_forwarding(obj, Forwarding::Forwarded(self.absolute(at)));
        Ok(())
    }

    fn get(&self, vm: &M, obj: M::Ref) -> Option<Forwarded> {
        let Forwarding::Forwarded(addr) = vm.forwarding(obj) else {
            return None;
        };
        // Ram first: the RAM section may sit below the flash section in the address space.
        if (self.ram_base..self.ram_end).contains(&addr) {
            let offset = u32::try_from(addr - self.ram_base).ok()?;
            return Some(Forwarded::Section(Placement::Ram, offset));
        }
        // Never below the flash section: in-object forwarding does not deduplicate, so no
        // object is forwarded to an earlier batch's.
        let offset = u32::try_from(addr.checked_sub(self.flash_base)?).ok()?;
        Some(Forwarded::Section(Placement::Flash, offset))
    }

    fn release(&mut self, vm: &M, objects: &mut dyn Iterator<Item = M::Ref>) {
        for obj in objects {
            vm.set_forwarding(obj, Forwarding::Unmarked);
        }
    }

    fn heap_bytes(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::sealed::Table;
    use super::*;
    use crate::testing::{Kind, Obj, TestHeap};

    /// Marks in scattered order, through the switch from the sorted list to the bitmap: each
    /// object is new once, its address round-trips, unmarked objects have none.
    #[test]
    fn marks_and_addresses_survive_the_switch_to_the_bitmap() {
        let mut heap = TestHeap::<4>::new();
        let objs: Vec<Obj> = (0..700).map(|_| heap.alloc(Kind::Constant, &[])).collect();
        for marked in [5usize, 300, 700] {
            let mut t = SideTable::new(&heap);
            let order: Vec<Obj> = (0..marked).map(|i| objs[(i * 7919) % 700]).collect();
            for &o in &order {
                assert_eq!(t.mark(&heap, o), Ok(true));
            }
            for &o in &order {
                assert_eq!(t.mark(&heap, o), Ok(false));
            }
            assert_eq!(t.dense, marked > t.few_max(), "{marked}");
            Table::<TestHeap<4>>::seal(&mut t, marked);
            for (k, &o) in order.iter().enumerate() {
                t.set(&heap, o, Forwarded::Section(Placement::Flash, 8 * k as u32))
                    .unwrap();
            }
            for (k, &o) in order.iter().enumerate() {
                let want = Forwarded::Section(Placement::Flash, 8 * k as u32);
                assert_eq!(t.get(&heap, o), Some(want));
            }
            let unmarked = objs.iter().filter(|o| !order.contains(o)).count();
            assert_eq!(
                objs.iter().filter(|&&o| t.get(&heap, o).is_none()).count(),
                unmarked
            );
        }
    }
}
