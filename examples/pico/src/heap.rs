//! The global allocator: two first-fit pools on either side of the frozen RAM section.
//!
//! The frozen RAM section sits at a fixed address (0x2003_0000) in the middle of SRAM, which splits the
//! free RAM in two: pool 1 from the end of the statics to 0x2003_0000, pool 2 from 0x2003_2000 to the
//! end of SRAM. An allocation tries pool 1, then pool 2; a free goes back to the pool whose range holds
//! the pointer. Each pool is an `embedded_alloc::LlffHeap` (linked-list first fit, behind a critical
//! section). Running out of both pools ends in the alloc error handler (the panic handler), as any
//! Rust allocation failure does; the VM's own GC heap is one fixed allocation made at boot, so Python
//! code running out of memory gets a `MemoryError` from the VM, not this.

use core::alloc::{GlobalAlloc, Layout};
use core::ops::Range;
use core::sync::atomic::{AtomicU32, Ordering};

use embedded_alloc::LlffHeap;

/// Two pools; see the module docs.
pub struct TwoPools {
    first: LlffHeap,
    second: LlffHeap,
    /// Start and end of the second pool's range (0 until [`TwoPools::init`]).
    second_start: AtomicU32,
    second_end: AtomicU32,
    /// Bytes requested and not yet freed (block overhead not counted), and the most ever.
    live: AtomicU32,
    peak: AtomicU32,
}

impl TwoPools {
    /// Pools with no memory yet.
    pub const fn empty() -> Self {
        Self {
            first: LlffHeap::empty(),
            second: LlffHeap::empty(),
            second_start: AtomicU32::new(0),
            second_end: AtomicU32::new(0),
            live: AtomicU32::new(0),
            peak: AtomicU32::new(0),
        }
    }

    /// Gives the pools their memory.
    ///
    /// # Safety
    ///
    /// Call once, before the first allocation. Both ranges are non-empty, disjoint, and RAM that
    /// nothing else uses (no statics, no stack) for the rest of the program.
    pub unsafe fn init(&self, first: Range<u32>, second: Range<u32>) {
        self.second_start.store(second.start, Ordering::Relaxed);
        self.second_end.store(second.end, Ordering::Relaxed);
        // SAFETY: forwarded from this function's contract: called once, ranges unused by anything else.
        unsafe {
            self.first.init(first.start as usize, first.len());
            self.second.init(second.start as usize, second.len());
        }
    }

    /// Bytes in use, over both pools.
    pub fn used(&self) -> usize {
        self.first.used() + self.second.used()
    }

    /// Bytes free, over both pools (not necessarily contiguous).
    pub fn free(&self) -> usize {
        self.first.free() + self.second.free()
    }

    /// The most bytes allocated at once since the last [`TwoPools::reset_peak`] (requested sizes,
    /// without block overhead).
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed) as usize
    }

    /// Starts measuring the peak again from what is allocated now.
    pub fn reset_peak(&self) {
        critical_section::with(|_| {
            self.peak
                .store(self.live.load(Ordering::Relaxed), Ordering::Relaxed)
        });
    }

    /// Runs `f` and returns, with its result, the most bytes it had allocated at once beyond what
    /// was live when it started (requested sizes). The peak since [`TwoPools::reset_peak`] still
    /// counts `f`'s.
    pub fn peak_during<R>(&self, f: impl FnOnce() -> R) -> (R, usize) {
        let (outer, live) = critical_section::with(|_| {
            let outer = self.peak.load(Ordering::Relaxed);
            let live = self.live.load(Ordering::Relaxed);
            self.peak.store(live, Ordering::Relaxed);
            (outer, live)
        });
        let r = f();
        let inner = critical_section::with(|_| {
            let inner = self.peak.load(Ordering::Relaxed);
            self.peak.store(inner.max(outer), Ordering::Relaxed);
            inner
        });
        (r, inner.saturating_sub(live) as usize)
    }

    /// Adds `delta` bytes to the live count (thumbv6m has no atomic read-modify-write, so a critical
    /// section makes the update whole).
    fn account(&self, grow: bool, size: usize) {
        critical_section::with(|_| {
            let live = self.live.load(Ordering::Relaxed);
            let live = if grow {
                live.saturating_add(size as u32)
            } else {
                live.saturating_sub(size as u32)
            };
            self.live.store(live, Ordering::Relaxed);
            if live > self.peak.load(Ordering::Relaxed) {
                self.peak.store(live, Ordering::Relaxed);
            }
        });
    }

    fn in_second(&self, ptr: *mut u8) -> bool {
        let p = ptr as u32;
        (self.second_start.load(Ordering::Relaxed)..self.second_end.load(Ordering::Relaxed))
            .contains(&p)
    }
}

// SAFETY: every block handed out comes from one of the two `LlffHeap`s, which are sound allocators over
// disjoint ranges; a block is returned to the heap whose range contains it, i.e. the one that gave it.
unsafe impl GlobalAlloc for TwoPools {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded: `layout` comes from the caller of `alloc` with its guarantees.
        let mut p = unsafe { self.first.alloc(layout) };
        if p.is_null() {
            // SAFETY: as above.
            p = unsafe { self.second.alloc(layout) };
        }
        if !p.is_null() {
            self.account(true, layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.account(false, layout.size());
        if self.in_second(ptr) {
            // SAFETY: `ptr` lies in the second pool's range, so the second heap allocated it with `layout`.
            unsafe { self.second.dealloc(ptr, layout) }
        } else {
            // SAFETY: otherwise the first heap allocated it with `layout`.
            unsafe { self.first.dealloc(ptr, layout) }
        }
    }
}
