//! The memory abstraction: resolves a modelled address to its region's bytes.
//!
//! [`Memory`] owns the statics bytes, the heap arena, the RAM section, and a [`FlashImage`]
//! giving the image region. All object reads and writes of the VM go through
//! [`Memory::read_u32`]/[`Memory::write_u32`] and friends. Reads of unmapped addresses return
//! 0 (null) and writes outside the heap and RAM section fail with [`MemError`], which the VM
//! turns into a Python exception: a frozen object is never written and never faults.
//!
//! **Copy-on-write frozen objects.** A frozen container (list, data dict, set, plain instance,
//! growable array) lives in flash until it is first written. [`Memory`] keeps the image ranges of
//! such objects ([`Memory::add_cow`]) and an overlay from a range's start to its heap copy. The
//! first write into a range copies the whole object into a heap block; that write and every
//! later read or write of the range go to the copy. The object keeps its flash address, so every
//! holder of a reference sees the write; the copies are GC roots ([`Memory::cow_copies`]) and
//! live in the heap, so a reboot starts again from the frozen bytes.
//!
//! ```text
//! image  0x1010_0400 [hdr|LIST][len][items]   ← every reference, before and after the write
//!                         │ first write
//!                         ▼
//! heap   0x2000_0a10 [hdr|LIST][len][items]   ← where reads and writes of the range now go
//! ```
//!
//! The heap allocator uses 16-byte blocks and one allocation-table byte per block
//! (free / head / tail, plus a mark bit for the collector), like MicroPython's GC.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use zerocopy::FromBytes;

use crate::memmap::*;

/// Read access to the flashfreeze image region (the host's simulated flash, the Pico's XIP).
/// `'static`: the VM's type tables are `&'static` tables of functions over `Vm<F>`.
pub trait FlashImage: 'static {
    /// The image region's bytes, starting at [`IMAGE_BASE`]; at most [`IMAGE_LEN`] long.
    fn image(&self) -> &[u8];
    /// What computes the image's CRCs at mount and freeze: the library's table unless the board
    /// has a CRC unit (the Pico's DMA sniffer).
    fn crc_engine(&self) -> &'static dyn flashfreeze::image::crc::CrcEngine {
        &flashfreeze::image::crc::SOFTWARE_CRC
    }
}

/// An erased (all 0xFF) or file-backed image kept in RAM.
#[derive(Clone, Debug)]
pub struct RamFlash(pub Vec<u8>);

impl RamFlash {
    /// An erased image region.
    pub fn erased() -> RamFlash {
        RamFlash(vec![0xFF; IMAGE_LEN as usize])
    }
}

impl FlashImage for RamFlash {
    fn image(&self) -> &[u8] {
        &self.0
    }
}

/// A failed memory access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemError {
    /// Write to read-only memory (statics or flash) at this address.
    ReadOnly(u32),
    /// Access to an unmapped or out-of-range address.
    Unmapped(u32),
    /// The first write into a copy-on-write frozen object at this address found no heap block
    /// for its copy.
    NoMemory(u32),
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemError::ReadOnly(a) => write!(f, "write to read-only object memory at {a:#010x}"),
            MemError::Unmapped(a) => write!(f, "access to unmapped address {a:#010x}"),
            MemError::NoMemory(a) => write!(f, "no heap for the copy of frozen object {a:#010x}"),
        }
    }
}

/// Allocation-table entry values.
const FREE: u8 = 0;
const HEAD: u8 = 1;
const TAIL: u8 = 2;
const MARK: u8 = 0x80;

/// The index of the first HEAD entry (marked or not) of `atb`, skipping free runs with
/// [`skip_free`].
#[inline]
fn first_head(atb: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        i = skip_free(atb, i);
        if atb.get(i)? & !MARK == HEAD {
            return Some(i);
        }
        i += 1;
    }
}

/// The index of the first entry of `atb` at `from` or after that is not free (`atb.len()` if
/// none). Most of a heap after a freeze is free: the run's 4-aligned middle is read a word (four
/// entries) per load, its ends an entry at a time.
#[inline]
fn skip_free(atb: &[u8], from: usize) -> usize {
    // Most calls of the fix-up's walk start on an allocation.
    if atb.get(from).is_none_or(|&e| e != FREE) {
        return from;
    }
    let mut i = from;
    let lead = atb.get(i..).map_or(0, |r| r.as_ptr().align_offset(4));
    let lead_end = i.saturating_add(lead).min(atb.len());
    while i < lead_end && atb[i] == FREE {
        i += 1;
    }
    if i == lead_end
        && let Some(rest) = atb.get(i..)
        && let Ok(words) = <[u32]>::ref_from_bytes(&rest[..rest.len() / 4 * 4])
    {
        i += 4 * words.iter().position(|&w| w != 0).unwrap_or(words.len());
    }
    while i < atb.len() && atb[i] == FREE {
        i += 1;
    }
    i
}

/// All modelled memory of one VM.
pub struct Memory<F: FlashImage> {
    /// Firmware statics (built at boot, read-only afterwards).
    pub statics: Vec<u8>,
    /// Whether statics may still be written (only while building them).
    pub statics_open: bool,
    /// The heap arena.
    pub heap: Vec<u8>,
    /// One byte per heap block: FREE, HEAD or TAIL, with MARK during collection.
    pub atb: Vec<u8>,
    /// The frozen RAM section (a heap buffer unless the embedder gives it its real address).
    pub ram: crate::ramsection::RamSection,
    /// The flash image.
    pub flash: F,
    /// First block that may be free (allocation hint).
    hint: usize,
    /// Overwrite freed blocks with 0xFD (tests: makes dangling references visible).
    pub poison: bool,
    /// Copy-on-write frozen objects: image start → length (see the module docs).
    cow: BTreeMap<u32, u32>,
    /// Mounted batches whose copy-on-write objects are not registered one by one: the object
    /// containing an address is looked up in its batch's object map at its first write
    /// ([`Memory::add_cow_batches`]).
    cow_batches: Vec<flashfreeze::mount::MountedBatch>,
    /// Their heap copies, once written: image start → heap address.
    copies: BTreeMap<u32, u32>,
    /// The image addresses the copies cover, from the first one's start to the last one's end
    /// (empty when there are none): a read outside it skips the overlay's search.
    copied_span: (u32, u32),
}

/// Heap statistics in bytes and blocks, as `micropython.mem_info()` prints them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Heap size in bytes.
    pub total: u32,
    /// Bytes in allocated blocks.
    pub used: u32,
    /// Bytes in free blocks.
    pub free: u32,
    /// Allocations of one block.
    pub one_blocks: u32,
    /// Allocations of two blocks.
    pub two_blocks: u32,
    /// Largest allocation in blocks.
    pub max_block: u32,
    /// Largest run of free blocks.
    pub max_free: u32,
}

/// A heap arena and its block table, owned apart from a VM so that an embedder can hand them from
/// one VM to the next across a soft reboot. A device's allocator may no longer have one free run as
/// large as the heap after a session (long-lived buffers land between the old VM's blocks); keeping
/// the arena means the next boot never has to find one.
pub struct HeapBuffers {
    heap: Vec<u8>,
    atb: Vec<u8>,
}

impl HeapBuffers {
    /// Buffers for a heap of `heap_size` bytes (rounded down to blocks, capped at [`HEAP_MAX`]).
    pub fn new(heap_size: u32) -> HeapBuffers {
        let heap_size = heap_size.min(HEAP_MAX) / BLOCK * BLOCK;
        HeapBuffers {
            heap: vec![0; heap_size as usize],
            atb: vec![FREE; (heap_size / BLOCK) as usize],
        }
    }

    /// The heap's size in bytes.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether the heap has no blocks.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

impl<F: FlashImage> Memory<F> {
    /// New memory with a heap of `heap_size` bytes (rounded down to blocks, capped at
    /// [`HEAP_MAX`]).
    pub fn new(flash: F, heap_size: u32) -> Memory<F> {
        Memory::with_buffers(flash, HeapBuffers::new(heap_size))
    }

    /// New memory on `buffers`, wiped: every block free and every byte zero, as a fresh heap.
    pub fn with_buffers(flash: F, buffers: HeapBuffers) -> Memory<F> {
        let HeapBuffers { mut heap, mut atb } = buffers;
        heap.fill(0);
        atb.fill(FREE);
        Memory {
            statics: Vec::new(),
            statics_open: true,
            heap,
            atb,
            ram: crate::ramsection::RamSection::heap(),
            flash,
            hint: 0,
            poison: false,
            cow: BTreeMap::new(),
            cow_batches: Vec::new(),
            copies: BTreeMap::new(),
            copied_span: (0, 0),
        }
    }

    /// Takes the heap arena and block table out (for the next VM); this memory is left with an
    /// empty heap, in which every allocation fails.
    pub fn take_buffers(&mut self) -> HeapBuffers {
        self.hint = 0;
        self.copies.clear();
        self.copied_span = (0, 0);
        HeapBuffers {
            heap: core::mem::take(&mut self.heap),
            atb: core::mem::take(&mut self.atb),
        }
    }

    /// Registers the image range `start..start + len` as a copy-on-write object (at a freeze,
    /// for its new batch, and at mount).
    pub fn add_cow(&mut self, start: u32, len: u32) {
        self.cow.insert(start, len);
    }

    /// Registers the copy-on-write objects of mounted batches without a pass over them (at
    /// mount): the first write into one of their flash sections finds the object containing
    /// it in the batch's object map (read in place from the image) and registers it when its
    /// header says copy-on-write; any other write stays refused.
    pub fn add_cow_batches(&mut self, batches: Vec<flashfreeze::mount::MountedBatch>) {
        if self.cow_batches.is_empty() {
            self.cow_batches = batches;
        } else {
            self.cow_batches.extend(batches);
        }
    }

    /// The copy-on-write object of a mounted batch containing `addr` (see
    /// [`Memory::add_cow_batches`]), registered; `None` when `addr` is in no object of those
    /// batches or in one that is not copy-on-write.
    fn find_cow(&mut self, addr: u32) -> Option<(u32, u32)> {
        let a = u64::from(addr);
        let image = self.flash.image();
        let b = self.cow_batches.iter().find(|b| b.flash.contains(&a))?;
        let (s, l) = b
            .flash_objects(image)
            .take_while(|&(s, _)| s <= a)
            .find(|&(s, l)| a - s < u64::from(l))?;
        let s = u32::try_from(s).ok()?;
        let at = s.checked_sub(IMAGE_BASE)? as usize;
        let &[b0, b1, b2, b3] = image.get(at..at.checked_add(4)?)? else {
            return None;
        };
        if !crate::freeze::frozen_copy_on_write(u32::from_le_bytes([b0, b1, b2, b3])) {
            return None;
        }
        self.cow.insert(s, l);
        Some((s, l))
    }

    /// Forgets every copy-on-write object (the image was erased).
    pub fn clear_cow(&mut self) {
        self.cow.clear();
        self.cow_batches.clear();
        self.copies.clear();
        self.copied_span = (0, 0);
    }

    /// How many copy-on-write objects are registered (those of mounted batches once first
    /// written), and how many have a heap copy.
    pub fn cow_counts(&self) -> (usize, usize) {
        (self.cow.len(), self.copies.len())
    }

    /// The heap copies of the written copy-on-write objects (GC roots).
    pub fn cow_copies(&self) -> impl Iterator<Item = u32> + '_ {
        self.copies.values().copied()
    }

    /// The copy-on-write object containing `addr`: its start and length.
    fn cow_range(&self, addr: u32) -> Option<(u32, u32)> {
        let (&s, &l) = self.cow.range(..=addr).next_back()?;
        (addr - s < l).then_some((s, l))
    }

    /// Where a read of the image address `addr` goes: its heap copy's byte once written.
    #[inline]
    fn redirect(&self, addr: u32) -> Option<u32> {
        if !(self.copied_span.0..self.copied_span.1).contains(&addr) {
            return None;
        }
        let (&s, &h) = self.copies.range(..=addr).next_back()?;
        let l = *self.cow.get(&s)?;
        (addr - s < l).then_some(h + (addr - s))
    }

    /// The heap address a write to the image address `addr` goes to, copying its object into
    /// the heap on the first write.
    fn cow_write(&mut self, addr: u32) -> Result<u32, MemError> {
        if let Some(h) = self.redirect(addr) {
            return Ok(h);
        }
        let (s, l) = match self.cow_range(addr) {
            Some(r) => r,
            None => self.find_cow(addr).ok_or(MemError::ReadOnly(addr))?,
        };
        let h = self.heap_alloc(l).ok_or(MemError::NoMemory(addr))?;
        let from = (s - IMAGE_BASE) as usize;
        let to = (h - HEAP_BASE) as usize;
        let src = self
            .flash
            .image()
            .get(from..from + l as usize)
            .ok_or(MemError::Unmapped(addr))?;
        self.heap[to..to + l as usize].copy_from_slice(src);
        self.copies.insert(s, h);
        self.copied_span = if self.copied_span.0 == self.copied_span.1 {
            (s, s + l)
        } else {
            (self.copied_span.0.min(s), self.copied_span.1.max(s + l))
        };
        Ok(h + (addr - s))
    }

    /// The bytes of the region containing `addr` and the offset of `addr` in them.
    fn locate(&self, addr: u32) -> Option<(&[u8], usize)> {
        match region_of(addr)? {
            Region::Statics => Some((&self.statics, (addr - STATICS_BASE) as usize)),
            Region::Image => match self.redirect(addr) {
                Some(h) => Some((&self.heap, (h - HEAP_BASE) as usize)),
                None => Some((self.flash.image(), (addr - IMAGE_BASE) as usize)),
            },
            Region::Heap => Some((&self.heap, (addr - HEAP_BASE) as usize)),
            Region::RamSection => Some((&*self.ram, (addr - RAM_SECTION_BASE) as usize)),
        }
    }

    fn locate_mut(&mut self, addr: u32) -> Result<(&mut [u8], usize), MemError> {
        match region_of(addr) {
            Some(Region::Heap) => Ok((&mut self.heap, (addr - HEAP_BASE) as usize)),
            Some(Region::RamSection) => Ok((&mut *self.ram, (addr - RAM_SECTION_BASE) as usize)),
            Some(Region::Statics) if self.statics_open => {
                Ok((&mut self.statics, (addr - STATICS_BASE) as usize))
            }
            Some(Region::Image) => {
                let h = self.cow_write(addr)?;
                Ok((&mut self.heap, (h - HEAP_BASE) as usize))
            }
            Some(_) => Err(MemError::ReadOnly(addr)),
            None => Err(MemError::Unmapped(addr)),
        }
    }

    /// `len` bytes at `addr`, or `None` if they are not all mapped.
    #[inline]
    pub fn bytes(&self, addr: u32, len: u32) -> Option<&[u8]> {
        // The heap first, without the region dispatch: most of what the VM reads is there.
        let off = addr.wrapping_sub(HEAP_BASE) as usize;
        if off < self.heap.len() {
            return self.heap.get(off..off.checked_add(len as usize)?);
        }
        let (b, off) = self.locate(addr)?;
        b.get(off..off.checked_add(len as usize)?)
    }

    /// The byte at `addr` (0 when unmapped).
    pub fn read_u8(&self, addr: u32) -> u8 {
        match self.locate(addr) {
            Some((b, off)) => b.get(off).copied().unwrap_or(0),
            None => 0,
        }
    }

    /// The little-endian word at `addr` (0 when unmapped).
    #[inline]
    pub fn read_u32(&self, addr: u32) -> u32 {
        let off = addr.wrapping_sub(HEAP_BASE) as usize;
        if let Some(b) = self.heap.get(off..off.wrapping_add(4)) {
            return word_at(b);
        }
        self.read_u32_elsewhere(addr)
    }

    /// [`Memory::read_u32`] outside the heap (or straddling its end): the image region, the
    /// RAM section and the statics each by one subtraction and bounds check, without the
    /// region dispatch (frozen objects, the RAM section's walk by the collector and the
    /// fix-up, and the builtin objects are read there); the copy-on-write overlay and a word
    /// straddling a region's end go through [`Memory::bytes`].
    #[inline(never)]
    fn read_u32_elsewhere(&self, addr: u32) -> u32 {
        let word = |s: &[u8], off: usize| match s.get(off..off.wrapping_add(4)) {
            Some(&[a, b, c, d]) => Some(u32::from_le_bytes([a, b, c, d])),
            _ => None,
        };
        let fast = if addr >= HEAP_BASE {
            word(&self.ram, addr.wrapping_sub(RAM_SECTION_BASE) as usize)
        } else if addr >= IMAGE_BASE {
            if (self.copied_span.0..self.copied_span.1).contains(&addr) {
                None
            } else {
                word(self.flash.image(), (addr - IMAGE_BASE) as usize)
            }
        } else if addr.wrapping_sub(STATICS_BASE) <= STATICS_MAX - 4 {
            word(&self.statics, (addr - STATICS_BASE) as usize)
        } else {
            None
        };
        if let Some(w) = fast {
            return w;
        }
        match self.bytes(addr, 4) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        }
    }

    /// Writes a little-endian word.
    pub fn write_u32(&mut self, addr: u32, v: u32) -> Result<(), MemError> {
        let (b, off) = self.locate_mut(addr)?;
        let dst = b.get_mut(off..off + 4).ok_or(MemError::Unmapped(addr))?;
        dst.copy_from_slice(&v.to_le_bytes());
        Ok(())
    }

    /// Writes bytes.
    pub fn write_bytes(&mut self, addr: u32, data: &[u8]) -> Result<(), MemError> {
        let (b, off) = self.locate_mut(addr)?;
        let dst = b
            .get_mut(off..off + data.len())
            .ok_or(MemError::Unmapped(addr))?;
        dst.copy_from_slice(data);
        Ok(())
    }

    /// Is `addr` writable object memory (heap, RAM section, or a copy-on-write frozen object)?
    /// In the image, `addr` is an object's start: a registered copy-on-write object, or one of
    /// a mounted batch's flash sections whose header says copy-on-write (the first write checks
    /// it against the batch's object map, [`Memory::add_cow_batches`]).
    pub fn is_writable(&self, addr: u32) -> bool {
        match region_of(addr) {
            Some(Region::Heap | Region::RamSection) => true,
            Some(Region::Image) => {
                self.cow_range(addr).is_some()
                    || (self
                        .cow_batches
                        .iter()
                        .any(|b| b.flash.contains(&u64::from(addr)))
                        && crate::freeze::frozen_copy_on_write(self.read_u32(addr)))
            }
            _ => false,
        }
    }

    /// Is `addr` the start of a live heap allocation?
    #[inline]
    pub fn is_heap_head(&self, addr: u32) -> bool {
        self.heap_block(addr)
            .is_some_and(|b| self.atb[b] & !MARK == HEAD)
    }

    /// Block index of a block-aligned heap address.
    #[inline]
    fn heap_block(&self, addr: u32) -> Option<usize> {
        let off = addr.checked_sub(HEAP_BASE)?;
        if off % BLOCK != 0 {
            return None;
        }
        let b = (off / BLOCK) as usize;
        (b < self.atb.len()).then_some(b)
    }

    /// Number of heap blocks.
    pub fn heap_blocks(&self) -> usize {
        self.atb.len()
    }

    /// Allocates `size` zeroed bytes in the heap; `None` when no run of blocks is free.
    pub fn heap_alloc(&mut self, size: u32) -> Option<u32> {
        let n = (size.max(1).div_ceil(BLOCK)) as usize;
        let len = self.atb.len();
        let mut start = self.hint;
        while start + n <= len {
            // Find a run of n free blocks starting at `start`.
            match (start..start + n).find(|&i| self.atb[i] != FREE) {
                Some(used) => start = used + 1,
                None => {
                    self.atb[start] = HEAD;
                    for i in start + 1..start + n {
                        self.atb[i] = TAIL;
                    }
                    let off = start * BLOCK as usize;
                    self.heap[off..off + n * BLOCK as usize].fill(0);
                    if start == self.hint {
                        self.hint = start + n;
                    }
                    return Some(HEAP_BASE + off as u32);
                }
            }
        }
        None
    }

    /// The first allocation (garbage included) starting at block `from` or after: its first
    /// block and its length in blocks. One look at each block's table entry: the walk of the
    /// freezer's live fix-up over the whole heap.
    #[inline]
    pub fn next_allocation(&self, from: usize) -> Option<(usize, usize)> {
        let rest = self.atb.get(from..)?;
        let start = from + first_head(rest)?;
        let tails = self.atb[start + 1..]
            .iter()
            .take_while(|&&e| e & !MARK == TAIL)
            .count();
        Some((start, 1 + tails))
    }

    /// The heap word at byte offset `off` of the arena (0 past its end), without the region
    /// dispatch of [`Memory::read_u32`].
    #[inline]
    pub fn heap_word(&self, off: usize) -> u32 {
        match self.heap.get(off..off.wrapping_add(4)) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
            _ => 0,
        }
    }

    /// Writes the heap word at byte offset `off` of the arena (nothing past its end).
    #[inline]
    pub fn set_heap_word(&mut self, off: usize, v: u32) {
        if let Some(dst) = self.heap.get_mut(off..off.wrapping_add(4)) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Size in blocks of the allocation starting at block `b`.
    fn alloc_blocks(&self, b: usize) -> usize {
        let mut n = 1;
        while b + n < self.atb.len() && self.atb[b + n] & !MARK == TAIL {
            n += 1;
        }
        n
    }

    /// Byte size of the allocation at heap address `addr` (0 if it is not a head).
    pub fn alloc_size(&self, addr: u32) -> u32 {
        match self.heap_block(addr) {
            Some(b) if self.atb[b] & !MARK == HEAD => self.alloc_blocks(b) as u32 * BLOCK,
            _ => 0,
        }
    }

    /// Marks the heap allocation at `addr`; returns true if it was newly marked.
    pub fn mark(&mut self, addr: u32) -> bool {
        match self.heap_block(addr) {
            Some(b) if self.atb[b] == HEAD => {
                self.atb[b] = HEAD | MARK;
                true
            }
            _ => false,
        }
    }

    /// Whether the allocation at `addr` is marked (outside a collection: by
    /// [`Memory::clear_marks`]'s caller, e.g. the freezer's running set).
    pub fn is_marked(&self, addr: u32) -> bool {
        self.heap_block(addr)
            .is_some_and(|b| self.atb[b] == HEAD | MARK)
    }

    /// Clears the mark of the allocation at `addr`.
    pub fn unmark(&mut self, addr: u32) {
        if let Some(b) = self.heap_block(addr)
            && self.atb[b] == HEAD | MARK
        {
            self.atb[b] = HEAD;
        }
    }

    /// Clears every mark without freeing anything (after marks were used outside a
    /// collection: the next collection must start from none).
    pub fn clear_marks(&mut self) {
        for e in self.atb.iter_mut() {
            *e &= !MARK;
        }
    }

    /// Frees every unmarked allocation and clears the marks; returns bytes freed.
    pub fn sweep(&mut self) -> u32 {
        let mut freed = 0;
        let mut in_garbage = false;
        let bs = BLOCK as usize;
        let mut i = 0;
        while i < self.atb.len() {
            // A free run at once (most of a heap after a freeze is free).
            if self.atb[i] == FREE {
                in_garbage = false;
                i = skip_free(&self.atb, i);
                continue;
            }
            let j = i;
            i += 1;
            let e = &mut self.atb[j];
            match *e {
                x if x == HEAD | MARK => {
                    *e = HEAD;
                    in_garbage = false;
                }
                HEAD => {
                    *e = FREE;
                    in_garbage = true;
                    freed += BLOCK;
                    if self.poison {
                        self.heap[j * bs..(j + 1) * bs].fill(0xFD);
                    }
                }
                TAIL if in_garbage => {
                    *e = FREE;
                    freed += BLOCK;
                    if self.poison {
                        self.heap[j * bs..(j + 1) * bs].fill(0xFD);
                    }
                }
                TAIL => {}
                _ => in_garbage = false,
            }
        }
        self.hint = 0;
        freed
    }

    /// Frees one allocation explicitly (used for buffers replaced while growing).
    pub fn heap_free(&mut self, addr: u32) {
        if let Some(b) = self.heap_block(addr)
            && self.atb[b] == HEAD
        {
            let n = self.alloc_blocks(b);
            for i in b..b + n {
                self.atb[i] = FREE;
            }
            self.hint = self.hint.min(b);
        }
    }

    /// Current heap statistics.
    pub fn stats(&self) -> HeapStats {
        let mut s = HeapStats {
            total: self.atb.len() as u32 * BLOCK,
            ..HeapStats::default()
        };
        let mut run_free = 0u32;
        let mut cur = 0u32;
        for &e in &self.atb {
            let e = e & !MARK;
            if e == FREE {
                run_free += 1;
                s.max_free = s.max_free.max(run_free);
            } else {
                run_free = 0;
            }
            if e == HEAD || e == FREE {
                if cur == 1 {
                    s.one_blocks += 1;
                } else if cur == 2 {
                    s.two_blocks += 1;
                }
                s.max_block = s.max_block.max(cur);
                cur = if e == HEAD { 1 } else { 0 };
            } else {
                cur += 1;
            }
            if e != FREE {
                s.used += BLOCK;
            }
        }
        if cur == 1 {
            s.one_blocks += 1;
        } else if cur == 2 {
            s.two_blocks += 1;
        }
        s.max_block = s.max_block.max(cur);
        s.free = s.total - s.used;
        s
    }
}

/// The little-endian word in `b` (4 bytes): one aligned load when `b` is aligned in memory (a
/// heap object's words are, in an arena the allocator aligned), four byte loads otherwise (a
/// Cortex-M0+ has no unaligned loads, so a `[u8; 4]` is read a byte at a time).
#[inline]
pub(crate) fn word_at(b: &[u8]) -> u32 {
    match u32::ref_from_bytes(b) {
        Ok(w) => u32::from_le(*w),
        Err(_) => match *b {
            [a, b, c, d] => u32::from_le_bytes([a, b, c, d]),
            _ => 0,
        },
    }
}
