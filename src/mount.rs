//! Mount at boot: validate the committed batches, restore the RAM section, hand the VM its roots.
//!
//! ```text
//! region bytes (mapped flash) ─► Image::open (every CRC, bound and pointer word checked)
//!                              ─► copy each batch's RAM initial state to its place in the RAM area
//!                              ─► Mounted { roots, gc_root_range, contains(addr) }
//! ```
//!
//! A failed mount returns a [`MountError`] saying why and touches nothing but the RAM area's
//! bytes it already validated: the VM logs it and runs without frozen modules — it never
//! boot-loops on a bad image. An empty region is [`MountError::NoCommittedBatch`].
//!
//! # Example
//! ```
//! use flashfreeze::image::{Layout, ReadConfig};
//! use flashfreeze::mount::{mount, MountError};
//!
//! let region = [0xFF; 4096]; // erased flash
//! let mut ram = [0u8; 256];
//! let cfg = ReadConfig {
//!     layout: Layout { region_address: 0x1010_0000, ram_address: 0x2003_0000, ram_len: 256, firmware_id: b"fw" },
//!     ref_bytes: 4,
//!     statics: &[],
//! };
//! assert!(matches!(mount(&region, &cfg, &mut ram), Err(MountError::NoCommittedBatch { .. })));
//! ```

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use crate::image::read::{DecodeError, Image, ImageRoot, ReadConfig, Tail};
use crate::model::Placement;
use crate::plan::RootKind;

/// Why nothing was mounted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MountError {
    /// The region holds no committed batch (first boot, or after a clear).
    NoCommittedBatch {
        /// What follows the (empty) chain.
        tail: Tail,
    },
    /// A committed batch failed validation.
    Invalid(DecodeError),
    /// The RAM area buffer given is shorter than the configured RAM area.
    RamBuffer {
        /// Bytes configured.
        expected: u64,
        /// Bytes given.
        given: usize,
    },
}

impl fmt::Display for MountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCommittedBatch { tail } => write!(f, "mount: no committed batch ({tail})"),
            Self::Invalid(e) => write!(f, "mount: image refused: {e}"),
            Self::RamBuffer { expected, given } => {
                write!(
                    f,
                    "mount: RAM area buffer of {given} bytes, configured {expected}"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MountError {}

impl From<DecodeError> for MountError {
    fn from(e: DecodeError) -> Self {
        Self::Invalid(e)
    }
}

/// One mounted batch: where its sections are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountedBatch {
    /// Index in the chain.
    pub index: u32,
    /// Region offset.
    pub offset: u32,
    /// Its flash-object section, absolute.
    pub flash: Range<u64>,
    /// Its RAM section, absolute.
    pub ram: Range<u64>,
    /// Objects in each section.
    pub objects: (u32, u32),
}

/// The frozen image, mounted: what the VM needs after boot.
#[derive(Clone, Debug)]
pub struct Mounted<'a> {
    batches: Vec<MountedBatch>,
    roots: Vec<ImageRoot<'a>>,
    flash: Range<u64>,
    ram: Range<u64>,
    tail: Tail,
}

impl<'a> Mounted<'a> {
    /// Every root of every batch, in chain order.
    pub fn roots(&self) -> &[ImageRoot<'a>] {
        &self.roots
    }

    /// The address of the last root with this kind and name (a later batch's module replaces
    /// an earlier one of the same name).
    pub fn root(&self, kind: RootKind, name: &str) -> Option<u64> {
        self.roots
            .iter()
            .rev()
            .find(|r| r.kind == kind && r.name == name)
            .map(|r| r.address)
    }

    /// The mounted batches.
    pub fn batches(&self) -> &[MountedBatch] {
        &self.batches
    }

    /// The part of the RAM area holding frozen mutable objects: the VM's GC scans it as a root.
    pub fn gc_root_range(&self) -> Range<u64> {
        self.ram.clone()
    }

    /// The span of the flash sections (from the first object of batch 0 to the last of the last
    /// batch).
    pub fn flash_range(&self) -> Range<u64> {
        self.flash.clone()
    }

    /// Whether `addr` is inside a frozen object's section, and which. The VM raises instead of
    /// writing when this says [`Placement::Flash`].
    pub fn placement_of(&self, addr: u64) -> Option<Placement> {
        if self.flash.contains(&addr) {
            Some(Placement::Flash)
        } else if self.ram.contains(&addr) {
            Some(Placement::Ram)
        } else {
            None
        }
    }

    /// Whether `addr` is frozen (in a flash section or the frozen RAM section). O(1).
    pub fn contains(&self, addr: u64) -> bool {
        self.placement_of(addr).is_some()
    }

    /// What follows the mounted chain.
    pub fn tail(&self) -> Tail {
        self.tail
    }
}

/// Validate the image in `region` (its mapped bytes) and copy the RAM sections' initial state
/// into `ram`, the RAM area at `cfg.layout.ram_address` (at least `cfg.layout.ram_len` bytes).
///
/// `ram` is written only when every batch validated.
pub fn mount<'a>(
    region: &'a [u8],
    cfg: &ReadConfig<'_>,
    ram: &mut [u8],
) -> Result<Mounted<'a>, MountError> {
    if (ram.len() as u64) < cfg.layout.ram_len {
        return Err(MountError::RamBuffer {
            expected: cfg.layout.ram_len,
            given: ram.len(),
        });
    }
    let image = Image::open(region, cfg)?;
    let Some(first) = image.batches().first() else {
        return Err(MountError::NoCommittedBatch { tail: image.tail() });
    };
    let flash_start = first.flash_range().start;
    let mut flash_end = flash_start;
    let ram_start = cfg.layout.ram_address;
    let mut ram_end = ram_start;
    let mut batches = Vec::with_capacity(image.batches().len());
    let mut roots = Vec::new();
    // End of what is written so far, relative to the RAM area.
    let mut filled = 0;
    for b in image.batches() {
        let r = b.ram_range();
        // Validation proved r lies inside the RAM area, after the earlier batches' sections.
        let at = (r.start - ram_start) as usize;
        let init = b.ram_section();
        // The gap before a batch's section is zero, so a GC scanning the range sees no garbage.
        if let Some(gap) = ram.get_mut(filled..at) {
            gap.fill(0);
        }
        if let Some(dst) = ram.get_mut(at..at + init.len()) {
            dst.copy_from_slice(init);
        }
        filled = at + init.len();
        flash_end = b.flash_range().end.max(flash_end);
        ram_end = r.end.max(ram_end);
        roots.extend(b.roots());
        batches.push(MountedBatch {
            index: b.index(),
            offset: b.offset(),
            flash: b.flash_range(),
            ram: r,
            objects: b.object_counts(),
        });
    }
    Ok(Mounted {
        batches,
        roots,
        flash: flash_start..flash_end,
        ram: ram_start..ram_end,
        tail: image.tail(),
    })
}
