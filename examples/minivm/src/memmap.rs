//! The modelled 32-bit address space, identical on the host and on the RP2040.
//!
//! Every minivm object lives at a `u32` address in one of these regions, and objects refer to
//! each other by those addresses only. Because the map is the same on both targets, an image
//! frozen on the host is byte-for-byte the image the Pico would freeze.
//!
//! ```text
//! 0x0001_0000 ┌──────────────────────┐ firmware statics: None/True/False, builtin types,
//!             │ STATICS (read-only)  │ functions and modules, built at boot in a fixed order
//! 0x1000_0000 ├──────────────────────┤ flash (XIP window, 2 MiB); only the image region is mapped
//! 0x1010_0000 │ IMAGE (read-only)    │ flashfreeze image: flash offset 0x10_0000, 512 KiB; on the
//! 0x1018_0000 ├──────────────────────┤ RP2040 the XIP address of a frozen object equals this address
//!             │ (the board's filesystem, 0x18_0000..0x20_0000 on the Pico; not mapped here)
//! 0x2000_0000 │ HEAP (GC, read/write)│ byte arena of 16-byte blocks, default 96 KiB
//! 0x2003_0000 │ RAM SECTION (8 KiB)  │ frozen mutable objects, restored at boot; a GC root
//! 0x2003_2000 └──────────────────────┘
//! ```
//!
//! Writes are allowed only to the heap and the RAM section; a write anywhere else is reported as
//! an error that the VM turns into a Python exception.

/// Start of the firmware statics region.
pub const STATICS_BASE: u32 = 0x0001_0000;
/// Largest size of the statics region.
pub const STATICS_MAX: u32 = 0x0001_0000;
/// Start of the XIP flash window.
pub const FLASH_BASE: u32 = 0x1000_0000;
/// Size of the simulated flash chip (2 MiB, like the Pico's W25Q16).
pub const FLASH_SIZE: u32 = 0x0020_0000;
/// Offset of the flashfreeze image region inside the flash chip.
pub const IMAGE_FLASH_OFFSET: u32 = 0x0010_0000;
/// Length of the flashfreeze image region (the Pico's filesystem takes the flash after it).
pub const IMAGE_LEN: u32 = 0x0008_0000;
/// Absolute address of the image region (equal to its XIP address on the RP2040).
pub const IMAGE_BASE: u32 = FLASH_BASE + IMAGE_FLASH_OFFSET;
/// Start of the GC heap.
pub const HEAP_BASE: u32 = 0x2000_0000;
/// Default heap size (96 KiB, like MicroPython on the RP2040).
pub const HEAP_DEFAULT: u32 = 96 * 1024;
/// Largest heap that does not overlap the RAM section.
pub const HEAP_MAX: u32 = RAM_SECTION_BASE - HEAP_BASE;
/// Start of the frozen RAM section (mutable frozen objects).
pub const RAM_SECTION_BASE: u32 = 0x2003_0000;
/// Size of the frozen RAM section.
pub const RAM_SECTION_LEN: u32 = 8 * 1024;
/// Heap allocation granularity in bytes.
pub const BLOCK: u32 = 16;

/// The region an address falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Firmware statics.
    Statics,
    /// The flashfreeze image in flash.
    Image,
    /// The GC heap.
    Heap,
    /// The frozen RAM section.
    RamSection,
}

/// Which region `addr` belongs to (by the map alone, not by the current region sizes).
pub fn region_of(addr: u32) -> Option<Region> {
    match addr {
        a if (STATICS_BASE..STATICS_BASE + STATICS_MAX).contains(&a) => Some(Region::Statics),
        a if (IMAGE_BASE..IMAGE_BASE + IMAGE_LEN).contains(&a) => Some(Region::Image),
        a if (HEAP_BASE..HEAP_BASE + HEAP_MAX).contains(&a) => Some(Region::Heap),
        a if (RAM_SECTION_BASE..RAM_SECTION_BASE + RAM_SECTION_LEN).contains(&a) => {
            Some(Region::RamSection)
        }
        _ => None,
    }
}
