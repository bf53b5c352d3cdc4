//! The flash image: its format, the streaming writer, the validating reader, and dumps.
//!
//! ```text
//! Plan ─► write (streams one batch: header, sections, maps, start bitmap, commit last) ─► store ─► NorFlash
//! region bytes ─► read (validates every batch and every pointer word) ─► mount ─► VM
//!                                                                     └─► dump (text, DOT)
//! ```
//!
//! | module | what it does |
//! |---|---|
//! | `format` | the on-flash layout, version 4: byte diagrams, records, map encodings, the start bitmap |
//! | `write` | measures a plan into a header, then streams the batch's bytes in order |
//! | `read` | decodes untrusted region bytes into checked batches ([`Image`]); [`rebase`] |
//! | [`crc`] | the image's CRC-32, and [`crc::CrcEngine`], the hook for a hardware CRC unit |
//! | `index` | the earlier batches' objects a new batch may reuse (dedup across batches), built while a freeze runs |
//! | [`dump`] | readable layout dump (for snapshot tests) and Graphviz DOT export |
//!
//! The format is specified in `docs/image-format.md` (and the `format` module's docs, public
//! with the `unstable` feature). What this module exports is the reader's side: [`Image`]
//! validates a mapped region as mount does, for tools, dumps and tests.

pub mod crc;
pub mod dump;
pub(crate) mod format;
pub(crate) mod index;
pub(crate) mod read;
pub(crate) mod write;

pub use format::{FORMAT_VERSION, Section};
pub use read::{
    Batch, BatchInfo, DecodeError, FirmwareId, FlashObjects, Image, ImageObject, ImageRoot,
    PointerFault, ReadConfig, Tail, rebase, summary,
};
pub use write::ImageError;

/// Where an image lives and whom it is for: shared by the store, the reader and mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Layout<'a> {
    /// Absolute (mapped) address of the region's first byte: where the VM reads it in place.
    pub region_address: u64,
    /// The flash's erase-sector size (`NorFlash::ERASE_SIZE`): every batch spans whole sectors,
    /// at least one, so a region holds at most `region_len / erase_size` batches.
    pub erase_size: u32,
    /// Absolute address of the frozen RAM area (outside the GC heap) the RAM sections go to.
    pub ram_address: u64,
    /// Its length in bytes.
    pub ram_len: u64,
    /// The VM's firmware id (at most 32 bytes): an image made by another build is refused.
    pub firmware_id: &'a [u8],
}

impl<'a> Layout<'a> {
    /// A region mapped at `region_address` with `erase_size`-byte sectors, the frozen RAM area
    /// of `ram_len` bytes at `ram_address`, and images for `firmware_id`.
    pub const fn new(
        region_address: u64,
        erase_size: u32,
        ram_address: u64,
        ram_len: u64,
        firmware_id: &'a [u8],
    ) -> Self {
        Self {
            region_address,
            erase_size,
            ram_address,
            ram_len,
            firmware_id,
        }
    }
}
