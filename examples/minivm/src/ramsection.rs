//! Where the frozen RAM section's bytes live: a heap buffer (the default, and the host's), or
//! memory the embedder reserved at the section's real address — on the Pico the 8 KiB the
//! linker script sets aside at `0x2003_0000`, so the VM's modelled address of a frozen mutable
//! object is where the CPU finds it and no heap copy is needed.
//!
//! Either way the VM sees a `[u8]` of [`RAM_SECTION_LEN`] bytes (it derefs to one); the
//! collector scans it as a root and a mount restores it from the image.

use alloc::vec;
use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};

use crate::memmap::RAM_SECTION_LEN;

/// The RAM section's storage; see the module docs.
#[derive(Debug)]
pub enum RamSection {
    /// A heap buffer.
    Heap(Vec<u8>),
    /// Memory reserved by the embedder for the program's lifetime.
    Fixed(&'static mut [u8]),
}

impl RamSection {
    /// A zeroed heap buffer of [`RAM_SECTION_LEN`] bytes.
    pub fn heap() -> RamSection {
        RamSection::Heap(vec![0; RAM_SECTION_LEN as usize])
    }

    /// The reserved memory `mem` (zeroed here, as a fresh section is), or `None` unless it is
    /// exactly [`RAM_SECTION_LEN`] bytes. Hand it back with [`RamSection::into_fixed`] before
    /// the VM goes away (a soft reboot makes a new one).
    pub fn fixed(mem: &'static mut [u8]) -> Option<RamSection> {
        if mem.len() != RAM_SECTION_LEN as usize {
            return None;
        }
        mem.fill(0);
        Some(RamSection::Fixed(mem))
    }

    /// The reserved memory, if this section is [`RamSection::Fixed`].
    pub fn into_fixed(self) -> Option<&'static mut [u8]> {
        match self {
            RamSection::Fixed(m) => Some(m),
            RamSection::Heap(_) => None,
        }
    }
}

impl Deref for RamSection {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            RamSection::Heap(v) => v,
            RamSection::Fixed(m) => m,
        }
    }
}

impl DerefMut for RamSection {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            RamSection::Heap(v) => v,
            RamSection::Fixed(m) => m,
        }
    }
}
