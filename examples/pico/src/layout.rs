//! The firmware's memory map: the constants the Rust side uses, checked against the linker script.
//!
//! `memory.x` is the single source of truth for where things live; the constants here repeat it so
//! that code can use them in `const` context, and [`check`] compares both at boot.
//!
//! ```text
//!  flash offset   XIP address
//!  0x00_0000      0x1000_0000   boot2 (256 B)
//!  0x00_0100      0x1000_0100   firmware: vectors, .text, .rodata, .data load image  (< 1 MiB)
//!  0x10_0000      0x1010_0000   image region (512 KiB): the flashfreeze image, never linked into
//!  0x18_0000      0x1018_0000   filesystem region (512 KiB): littlefs, 128 blocks of 4 KiB
//!  0x20_0000      0x1020_0000   end of the Pico's 2 MiB flash
//!
//!  SRAM
//!  0x2000_0000    main stack (32 KiB), growing down from 0x2000_8000: an overflow leaves SRAM
//!  0x2000_8000    .data, .bss, then allocator pool 1 up to 0x2003_0000
//!  0x2003_0000    frozen RAM section (8 KiB, NOLOAD, restored from the image at boot)
//!  0x2003_2000    allocator pool 2 (64 KiB incl. SCRATCH_X/Y) up to 0x2004_2000
//! ```
//!
//! The VM's 96 KiB GC heap is one allocation from the pools.

/// Start of the XIP window onto external flash.
pub const XIP_BASE: u32 = 0x1000_0000;
/// Total flash on a Raspberry Pi Pico (W25Q16JV).
pub const FLASH_SIZE: u32 = 2 * 1024 * 1024;
/// Image region start, as an offset from the start of flash (not an XIP address).
pub const IMAGE_OFFSET: u32 = 0x10_0000;
/// Image region length in bytes.
pub const IMAGE_LEN: u32 = 0x8_0000;
/// XIP address of the first byte of the image region.
pub const IMAGE_XIP: u32 = XIP_BASE + IMAGE_OFFSET;
/// Filesystem region start, as an offset from the start of flash.
pub const FS_OFFSET: u32 = 0x18_0000;
/// Filesystem region length in bytes (littlefs blocks of 4 KiB).
pub const FS_LEN: u32 = 0x8_0000;
/// XIP address of the first byte of the filesystem region.
pub const FS_XIP: u32 = XIP_BASE + FS_OFFSET;
/// Address of the frozen RAM section (fixed: the VM models it at this address).
pub const FROZEN_RAM_ADDR: u32 = 0x2003_0000;
/// Length of the frozen RAM section.
pub const FROZEN_RAM_LEN: usize = 8 * 1024;
/// Words of the VM's value stack (Python frames' locals, operands and exception blocks): 16 KiB.
/// minivm allocates 64 KiB by default; deeper than this, a call raises `RuntimeError` (maximum
/// recursion depth), never a fault.
pub const VM_STACK_WORDS: usize = 4 * 1024;
/// Size of the VM's garbage-collected heap, like MicroPython's RP2 port; it is allocated from the
/// allocator heap, which must be larger.
pub const VM_HEAP_LEN: usize = 96 * 1024;

unsafe extern "C" {
    static __image_start: u8;
    static __image_end: u8;
    static __fs_start: u8;
    static __fs_end: u8;
    static __frozen_ram_start: u8;
    static __frozen_ram_end: u8;
    static __sidata: u8;
    static __sdata: u8;
    static __edata: u8;
    static __sbss: u8;
    static __ebss: u8;
    static __sheap: u8;
    static __heap_end: u8;
    static __heap2_start: u8;
    static __heap2_end: u8;
    static _stack_start: u8;
    static _stack_end: u8;
}

/// Addresses the linker chose, read from its symbols.
#[derive(Clone, Copy, Debug)]
pub struct Linked {
    /// XIP address where the image region starts.
    pub image_start: u32,
    /// XIP address one past the image region.
    pub image_end: u32,
    /// XIP address where the filesystem region starts.
    pub fs_start: u32,
    /// XIP address one past the filesystem region.
    pub fs_end: u32,
    /// Frozen RAM section start.
    pub frozen_start: u32,
    /// Frozen RAM section end.
    pub frozen_end: u32,
    /// One past the last flash byte the firmware occupies (end of the `.data` load image).
    pub firmware_end: u32,
    /// Start of `.data` in RAM.
    pub ram_start: u32,
    /// End of `.bss` in RAM.
    pub bss_end: u32,
    /// Allocator pool 1: from the end of the statics...
    pub heap_start: u32,
    /// ...to the end of the `RAM` region.
    pub heap_end: u32,
    /// Allocator pool 2 (region `RAM2`), start...
    pub heap2_start: u32,
    /// ...and end.
    pub heap2_end: u32,
    /// Initial stack pointer (the stack grows down from here)...
    pub stack_top: u32,
    /// ...to here, the start of SRAM (an overflow leaves SRAM instead of overwriting statics).
    pub stack_bottom: u32,
}

/// Reads the linker's symbols.
pub fn linked() -> Linked {
    fn addr(sym: &u8) -> u32 {
        sym as *const u8 as u32
    }
    // SAFETY: these are linker-defined symbols; only their addresses are taken, never their contents.
    unsafe {
        let data_len = addr(&__edata) - addr(&__sdata);
        Linked {
            image_start: addr(&__image_start),
            image_end: addr(&__image_end),
            fs_start: addr(&__fs_start),
            fs_end: addr(&__fs_end),
            frozen_start: addr(&__frozen_ram_start),
            frozen_end: addr(&__frozen_ram_end),
            firmware_end: addr(&__sidata) + data_len,
            ram_start: addr(&__sdata),
            bss_end: addr(&__ebss).max(addr(&__sbss)),
            heap_start: addr(&__sheap),
            heap_end: addr(&__heap_end),
            heap2_start: addr(&__heap2_start),
            heap2_end: addr(&__heap2_end),
            stack_top: addr(&_stack_start),
            stack_bottom: addr(&_stack_end),
        }
    }
}

/// Whether the constants above agree with the linker script (`memory.x`); names the first mismatch.
pub fn check(l: &Linked) -> Result<(), &'static str> {
    if l.image_start != IMAGE_XIP || l.image_end != IMAGE_XIP + IMAGE_LEN {
        return Err("image region in memory.x differs from layout::IMAGE_*");
    }
    if l.fs_start != FS_XIP || l.fs_end != FS_XIP + FS_LEN {
        return Err("filesystem region in memory.x differs from layout::FS_*");
    }
    if l.image_end > l.fs_start || l.fs_end > XIP_BASE + FLASH_SIZE {
        return Err("image and filesystem regions overlap or leave the flash");
    }
    if l.frozen_start != FROZEN_RAM_ADDR
        || l.frozen_end.wrapping_sub(l.frozen_start) as usize != FROZEN_RAM_LEN
    {
        return Err("frozen RAM section in memory.x differs from layout::FROZEN_RAM_*");
    }
    if l.firmware_end > IMAGE_XIP {
        return Err("firmware overlaps the image region");
    }
    if l.heap_end.saturating_sub(l.heap_start) < VM_HEAP_LEN as u32 {
        return Err("allocator pool 1 smaller than the VM heap");
    }
    if l.heap2_start < l.frozen_end || l.heap2_end <= l.heap2_start {
        return Err("allocator pool 2 overlaps the frozen RAM section or is empty");
    }
    Ok(())
}

/// The most stack used since reset, in bytes: cortex-m-rt paints the whole stack region with
/// `STACK_PAINT_VALUE` before `main` (feature `paint-stack`); the lowest word no longer holding it is
/// the deepest the stack has reached.
pub fn stack_high_water(l: &Linked) -> u32 {
    let mut addr = l.stack_bottom;
    while addr < l.stack_top {
        // SAFETY: `stack_bottom..stack_top` is the stack region of SRAM (word aligned, from the linker
        // script); reading a word of it is always valid. A volatile read because the words below the
        // stack pointer are not Rust objects.
        let word = unsafe { core::ptr::read_volatile(addr as *const u32) };
        if word != cortex_m_rt::STACK_PAINT_VALUE {
            break;
        }
        addr += 4;
    }
    l.stack_top - addr
}
