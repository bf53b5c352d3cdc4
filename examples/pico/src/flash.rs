//! A `NorFlash` region of the RP2040's external QSPI flash, written through the boot ROM (rp2040-flash).
//!
//! [`RegionFlash`] implements `embedded_storage::nor_flash::{ReadNorFlash, NorFlash}` over a fixed,
//! sector-aligned range of flash, so the hardware-agnostic flashfreeze store (and littlefs) can use it
//! unchanged. Offsets given to the trait methods are **relative to the start of the region**; the
//! adapter adds the region's flash offset before calling the ROM, and refuses anything outside the
//! region.
//!
//! Regions are **claimed** ([`RegionFlash::claim`]): a claim that overlaps the firmware (boot2 up to the
//! end of the `.data` load image, from the linker) or a region already claimed is refused with a
//! [`ClaimError`], and a dropped region releases its claim. So the freezer's image region and the
//! filesystem's region can share the chip, and neither can write the other's sectors or the firmware.
//!
//! - Reads copy from the XIP window (memory-mapped flash); `READ_SIZE` is 1.
//! - Erase is in 4096-byte sectors, program in 256-byte pages (the ROM's units).
//! - Each ROM call runs with interrupts off (a critical section) because XIP is disabled while it runs:
//!   any fetch from flash in an interrupt handler would fault. rp2040-flash runs its glue from RAM and
//!   re-enables XIP (through a RAM copy of boot2) and flushes the XIP cache before returning, so XIP
//!   reads see the new contents.
//! - The ROM reads the data to program while XIP is off, so data is always staged in a RAM buffer first
//!   (unless it already lies in SRAM).

use core::fmt;

use embedded_storage::nor_flash::{
    ErrorType, MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

use crate::layout::{FLASH_SIZE, XIP_BASE};

/// Erase unit of the flash (one sector), in bytes.
pub const ERASE_SIZE: usize = 4096;
/// Program unit of the flash (one page), in bytes.
pub const WRITE_SIZE: usize = 256;
/// Bytes staged in RAM per ROM program call when the source is not already in RAM.
const STAGE_LEN: usize = 4 * WRITE_SIZE;
/// SRAM address range (striped banks + the two scratch banks): data here can be handed to the ROM directly.
const SRAM: core::ops::Range<usize> = 0x2000_0000..0x2004_2000;

/// An operation on a [`RegionFlash`] that was refused before touching flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlashError {
    /// `offset` or `len` is not a multiple of `align` (the erase or program unit).
    NotAligned {
        /// Region-relative offset asked for.
        offset: u32,
        /// Length asked for.
        len: u32,
        /// Required alignment.
        align: u32,
    },
    /// `offset..offset + len` does not lie inside the region of `capacity` bytes.
    OutOfBounds {
        /// Region-relative offset asked for.
        offset: u32,
        /// Length asked for.
        len: u32,
        /// Size of the region.
        capacity: u32,
    },
}

impl NorFlashError for FlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            FlashError::NotAligned { .. } => NorFlashErrorKind::NotAligned,
            FlashError::OutOfBounds { .. } => NorFlashErrorKind::OutOfBounds,
        }
    }
}

impl fmt::Display for FlashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FlashError::NotAligned { offset, len, align } => write!(
                f,
                "flash region: {len} bytes at offset {offset:#x} not aligned to {align} bytes"
            ),
            FlashError::OutOfBounds {
                offset,
                len,
                capacity,
            } => write!(
                f,
                "flash region: {len} bytes at offset {offset:#x} outside the region of {capacity:#x} bytes"
            ),
        }
    }
}

/// Why a region could not be claimed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimError {
    /// The range is empty, not whole sectors, or runs past the end of flash.
    Misplaced {
        /// Flash offset asked for.
        offset: u32,
        /// Length asked for.
        len: u32,
    },
    /// The range covers part of the firmware (flash `0..firmware_end`).
    Firmware {
        /// Flash offset asked for.
        offset: u32,
        /// Length asked for.
        len: u32,
        /// One past the firmware's last flash byte.
        firmware_end: u32,
    },
    /// The range overlaps a region claimed earlier and still alive.
    Overlaps {
        /// Flash offset asked for.
        offset: u32,
        /// Length asked for.
        len: u32,
        /// The other region's flash offset.
        other: u32,
        /// The other region's length.
        other_len: u32,
    },
    /// Every claim slot is taken.
    TooMany,
}

impl fmt::Display for ClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ClaimError::Misplaced { offset, len } => write!(
                f,
                "flash claim: {len:#x} bytes at {offset:#x} are not whole sectors inside the flash"
            ),
            ClaimError::Firmware {
                offset,
                len,
                firmware_end,
            } => write!(
                f,
                "flash claim: {len:#x} bytes at {offset:#x} cover the firmware (flash 0..{firmware_end:#x})"
            ),
            ClaimError::Overlaps {
                offset,
                len,
                other,
                other_len,
            } => write!(
                f,
                "flash claim: {len:#x} bytes at {offset:#x} overlap the region {other:#x}..{:#x}",
                other + other_len
            ),
            ClaimError::TooMany => f.write_str("flash claim: every claim slot is in use"),
        }
    }
}

/// Regions claimed and alive: `(flash offset, length)`, `len == 0` for a free slot.
static CLAIMS: critical_section::Mutex<core::cell::Cell<[(u32, u32); 4]>> =
    critical_section::Mutex::new(core::cell::Cell::new([(0, 0); 4]));

/// A sector-aligned range of the on-board flash, readable through XIP and writable through the ROM.
#[derive(Debug)]
pub struct RegionFlash {
    /// Start of the region as an offset from the start of flash.
    flash_offset: u32,
    /// Length of the region in bytes.
    len: u32,
}

impl RegionFlash {
    /// Claims the region `flash_offset..flash_offset + len` (offsets from the start of flash), which
    /// must be whole sectors inside the flash, clear of the firmware (flash `0..firmware_end`) and of
    /// every region claimed and not yet dropped.
    ///
    /// # Safety
    ///
    /// Erasing and programming turn XIP off for the duration of each ROM call. The caller guarantees
    /// that, for as long as this value is used to erase or program:
    /// - core 1 is parked (held in the boot ROM's launch wait, as after reset) or runs only code and data
    ///   from RAM/ROM with its interrupts disabled — it must not fetch from flash;
    /// - no DMA channel reads from the XIP window;
    /// - `firmware_end` is where the running firmware's flash ends (from the linker).
    ///
    /// Interrupts on the calling core are disabled by the adapter itself around each ROM call; that no
    /// two live regions overlap, and none covers the firmware, is checked here.
    pub unsafe fn claim(
        flash_offset: u32,
        len: u32,
        firmware_end: u32,
    ) -> Result<Self, ClaimError> {
        let aligned =
            flash_offset.is_multiple_of(ERASE_SIZE as u32) && len.is_multiple_of(ERASE_SIZE as u32);
        let end = flash_offset.checked_add(len);
        if !aligned || len == 0 || end.is_none_or(|e| e > FLASH_SIZE) {
            return Err(ClaimError::Misplaced {
                offset: flash_offset,
                len,
            });
        }
        if flash_offset < firmware_end {
            return Err(ClaimError::Firmware {
                offset: flash_offset,
                len,
                firmware_end,
            });
        }
        let end = flash_offset + len;
        critical_section::with(|cs| {
            let cell = CLAIMS.borrow(cs);
            let mut claims = cell.get();
            for &(o, l) in &claims {
                if l > 0 && flash_offset < o + l && o < end {
                    return Err(ClaimError::Overlaps {
                        offset: flash_offset,
                        len,
                        other: o,
                        other_len: l,
                    });
                }
            }
            let Some(slot) = claims.iter_mut().find(|c| c.1 == 0) else {
                return Err(ClaimError::TooMany);
            };
            *slot = (flash_offset, len);
            cell.set(claims);
            Ok(Self { flash_offset, len })
        })
    }

    /// Start of the region as an offset from the start of flash.
    pub fn flash_offset(&self) -> u32 {
        self.flash_offset
    }

    /// The XIP address of the region's first byte.
    pub fn xip_addr(&self) -> u32 {
        XIP_BASE + self.flash_offset
    }

    /// The region's current contents through the XIP window.
    ///
    /// The borrow ends before the next erase or program (those take `&mut self`), so the slice never
    /// observes flash changing under it.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the XIP window maps the whole 2 MiB flash read-only at XIP_BASE; `new` checked that the
        // region lies inside it. Contents change only through `&mut self` methods, which cannot run while
        // this shared borrow of `self` is alive.
        unsafe { core::slice::from_raw_parts(self.xip_addr() as *const u8, self.len as usize) }
    }

    /// The flash chip's JEDEC ID (manufacturer, type, capacity), e.g. `0xEF4015` for the Pico's W25Q16JV.
    pub fn jedec_id(&mut self) -> u32 {
        critical_section::with(|_| {
            // SAFETY: system conditions from `new`; interrupts off here; `&mut self` means no XIP slice of
            // the region is alive (none would be invalidated anyway: the command does not change flash).
            unsafe { rp2040_flash::flash::flash_jedec_id(true) }
        })
    }

    /// Checks that `offset..offset + len` is inside the region and aligned to `align`.
    fn check(&self, offset: u32, len: usize, align: usize) -> Result<(), FlashError> {
        let len32 = u32::try_from(len).unwrap_or(u32::MAX);
        if offset.checked_add(len32).is_none_or(|end| end > self.len) {
            return Err(FlashError::OutOfBounds {
                offset,
                len: len32,
                capacity: self.len,
            });
        }
        if !offset.is_multiple_of(align as u32) || !len.is_multiple_of(align) {
            return Err(FlashError::NotAligned {
                offset,
                len: len32,
                align: align as u32,
            });
        }
        Ok(())
    }

    /// Programs `data` (already in SRAM, a whole number of pages) at absolute flash offset `abs`.
    fn program_from_ram(abs: u32, data: &[u8]) {
        debug_assert!(SRAM.contains(&(data.as_ptr() as usize)));
        critical_section::with(|_| {
            // SAFETY: the caller of `RegionFlash::new` guarantees core 1 and DMA stay off flash; the critical
            // section keeps this core's interrupt handlers (which may run from flash) from firing while XIP
            // is off. `abs` and `data.len()` are page aligned and inside flash (checked by `check`), and
            // `data` is in SRAM, which the ROM can read while XIP is off.
            unsafe { rp2040_flash::flash::flash_range_program(abs, data, true) }
        });
    }
}

impl ErrorType for RegionFlash {
    type Error = FlashError;
}

impl ReadNorFlash for RegionFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.check(offset, bytes.len(), 1)?;
        let start = offset as usize;
        bytes.copy_from_slice(&self.as_slice()[start..start + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.len as usize
    }
}

impl NorFlash for RegionFlash {
    const WRITE_SIZE: usize = WRITE_SIZE;
    const ERASE_SIZE: usize = ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let len = to.checked_sub(from).ok_or(FlashError::OutOfBounds {
            offset: from,
            len: 0,
            capacity: self.len,
        })?;
        self.check(from, len as usize, ERASE_SIZE)?;
        // One sector per ROM call: interrupts stay off for one sector erase at a time, not the whole range.
        for sector in (from..to).step_by(ERASE_SIZE) {
            let abs = self.flash_offset + sector;
            critical_section::with(|_| {
                // SAFETY: as in `program_from_ram`: system conditions from `new`, interrupts off here,
                // `abs` sector aligned and inside this region (checked above).
                unsafe { rp2040_flash::flash::flash_range_erase(abs, ERASE_SIZE as u32, true) }
            });
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.check(offset, bytes.len(), WRITE_SIZE)?;
        let abs = self.flash_offset + offset;
        if bytes.is_empty() {
            return Ok(());
        }
        let start = bytes.as_ptr() as usize;
        if SRAM.start <= start && start + bytes.len() <= SRAM.end {
            Self::program_from_ram(abs, bytes);
            return Ok(());
        }
        // The source may be in flash (e.g. constants): stage it in a stack (SRAM) buffer.
        let mut stage = [0u8; STAGE_LEN];
        for (i, chunk) in bytes.chunks(STAGE_LEN).enumerate() {
            let buf = &mut stage[..chunk.len()];
            buf.copy_from_slice(chunk);
            Self::program_from_ram(abs + (i * STAGE_LEN) as u32, buf);
        }
        Ok(())
    }
}

/// NOR flash on the Pico (W25Q16JV) may program a page again without an erase: bits only go 1 → 0.
impl MultiwriteNorFlash for RegionFlash {}

impl Drop for RegionFlash {
    /// Releases the claim.
    fn drop(&mut self) {
        critical_section::with(|cs| {
            let cell = CLAIMS.borrow(cs);
            let mut claims = cell.get();
            if let Some(c) = claims
                .iter_mut()
                .find(|c| **c == (self.flash_offset, self.len))
            {
                *c = (0, 0);
            }
            cell.set(claims);
        });
    }
}
