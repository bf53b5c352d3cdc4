//! The glue between minivm and the board: the VM's flash is the Pico's chip, writable only in the image
//! region, and the image it reads in place is the region's XIP window.
//!
//! minivm addresses frozen objects at `0x1010_0000 + offset` in its modelled address space, which is
//! exactly the XIP address of the image region, so the image the VM reads is the region's XIP slice.
//! minivm's freezer opens the library's store on a whole-chip `NorFlash` (chip offsets, the region at
//! `0x10_0000`), so [`PicoChip`] translates chip offsets to the region-relative [`RegionFlash`] and
//! refuses anything outside the region: the firmware cannot be erased through it.
//!
//! The VM owns the `PicoChip`, so writes (through `&mut`) and reads of the XIP slice (through `&`)
//! never overlap; while the freezer lends the chip to the store, the VM holds a detached stand-in.

use core::fmt;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

use crate::flash::{self, FlashError, RegionFlash};
use crate::layout::{
    FLASH_SIZE, FROZEN_RAM_ADDR, FROZEN_RAM_LEN, IMAGE_LEN, IMAGE_OFFSET, IMAGE_XIP,
};

// The board's memory map must be minivm's modelled one: frozen addresses are used as they are.
const _: () = {
    use minivm::memmap as vm;
    assert!(IMAGE_OFFSET == vm::IMAGE_FLASH_OFFSET && IMAGE_LEN == vm::IMAGE_LEN);
    assert!(IMAGE_XIP == vm::IMAGE_BASE && FLASH_SIZE == vm::FLASH_SIZE);
    assert!(
        FROZEN_RAM_ADDR == vm::RAM_SECTION_BASE && FROZEN_RAM_LEN as u32 == vm::RAM_SECTION_LEN
    );
};

/// The flash chip as minivm sees it: chip offsets, the image region writable, the rest refused.
pub struct PicoChip {
    /// The image region; `None` for the detached stand-in.
    region: Option<RegionFlash>,
}

impl PicoChip {
    /// Wraps the image region (`region` must be [`IMAGE_OFFSET`]`..+`[`IMAGE_LEN`], minivm's map).
    pub fn new(region: RegionFlash) -> Option<Self> {
        (region.flash_offset() == IMAGE_OFFSET && region.as_slice().len() == IMAGE_LEN as usize)
            .then_some(Self {
                region: Some(region),
            })
    }

    /// The image region, unless this is the detached stand-in.
    pub fn region(&mut self) -> Option<&mut RegionFlash> {
        self.region.as_mut()
    }

    /// Region-relative form of the chip range `offset..offset + len`, or why not.
    fn region_range(
        &mut self,
        offset: u32,
        len: usize,
    ) -> Result<(&mut RegionFlash, u32), ChipError> {
        let Some(region) = self.region.as_mut() else {
            return Err(ChipError::Detached);
        };
        match offset.checked_sub(IMAGE_OFFSET) {
            Some(rel) => Ok((region, rel)),
            None => Err(ChipError::OutsideRegion {
                offset,
                len: len as u32,
            }),
        }
    }
}

/// A refused or failed operation on the [`PicoChip`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChipError {
    /// The range starts below the image region (the firmware's flash), which the VM may not touch.
    OutsideRegion {
        /// Chip offset asked for.
        offset: u32,
        /// Length asked for.
        len: u32,
    },
    /// The region adapter refused it (alignment, or past the end of the region).
    Region(FlashError),
    /// The stand-in the VM holds while the store has the chip was used.
    Detached,
}

impl NorFlashError for ChipError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            ChipError::OutsideRegion { .. } => NorFlashErrorKind::OutOfBounds,
            ChipError::Region(e) => e.kind(),
            ChipError::Detached => NorFlashErrorKind::Other,
        }
    }
}

impl fmt::Display for ChipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChipError::OutsideRegion { offset, len } => write!(
                f,
                "flash chip: {len} bytes at {offset:#x} are outside the image region {IMAGE_OFFSET:#x}..{:#x}",
                IMAGE_OFFSET + IMAGE_LEN
            ),
            ChipError::Region(e) => write!(f, "{e} (region at chip offset {IMAGE_OFFSET:#x})"),
            ChipError::Detached => f.write_str("flash chip: detached stand-in used"),
        }
    }
}

impl From<FlashError> for ChipError {
    fn from(e: FlashError) -> Self {
        ChipError::Region(e)
    }
}

impl ErrorType for PicoChip {
    type Error = ChipError;
}

impl ReadNorFlash for PicoChip {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let (region, rel) = self.region_range(offset, bytes.len())?;
        Ok(region.read(rel, bytes)?)
    }

    fn capacity(&self) -> usize {
        FLASH_SIZE as usize
    }
}

impl NorFlash for PicoChip {
    const WRITE_SIZE: usize = flash::WRITE_SIZE;
    const ERASE_SIZE: usize = flash::ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let len = to.saturating_sub(from) as usize;
        let (region, rel) = self.region_range(from, len)?;
        // `to` below the region or below `from` wraps or underflows: the region refuses it as out of bounds.
        Ok(region.erase(rel, to.wrapping_sub(IMAGE_OFFSET))?)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let (region, rel) = self.region_range(offset, bytes.len())?;
        Ok(region.write(rel, bytes)?)
    }
}

impl minivm::FlashImage for PicoChip {
    fn image(&self) -> &[u8] {
        self.region.as_ref().map_or(&[], |r| r.as_slice())
    }
}

impl minivm::freeze::FreezeFlash for PicoChip {
    fn detached() -> Self {
        PicoChip { region: None }
    }
}
