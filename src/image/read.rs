//! The reader: decodes untrusted region bytes into checked batches.
//!
//! One validator serves three callers: [`crate::mount`] (the region's mapped bytes, [`Mapped`]),
//! [`Image::open`] (the same, for dumps, rebase and tests) and [`crate::store::Store`] (the
//! flash device itself, through [`Source`]), which checks each new batch as mount will before it
//! writes the commit record. Bytes are read forward through small buffered cursors, so the
//! validator never needs the region in RAM.
//!
//! 1. **Chain scan**: from the region start, follow batch headers. A header that is erased, has
//!    no magic, fails its CRC, belongs to another region (`batch_offset`), does not continue this
//!    chain (index or `prev_header_crc`), or has no valid commit record ends the chain: that is an
//!    interrupted or stale write, reported as the [`Tail`], never an error.
//! 2. **Validation** of each committed batch: its layout, span (whole erase sectors, at least
//!    one), CRCs, section addresses, the start bitmap's frame, object map and roots, and
//!    **every pointer word** named by the pointer map must hold the address of an object start
//!    in this batch or an earlier one (either section), or an address inside one of the VM's
//!    declared static ranges. Two levels ([`Check`]): the general check decodes the object map
//!    and requires the stored start bitmap to equal its starts (the store, before it commits;
//!    [`Image::open`]); the mount reads a mapped batch's stored bitmap in place and trusts it as
//!    written under its CRC, without decoding the object map (`docs/image-format.md`, "The
//!    mount's trust of the start bitmap"), and gives the general check any batch its pointer
//!    pass does not accept.
//! 3. The chain is the **longest valid prefix**: the first batch that fails validation, or that
//!    another firmware, format or reference width made, ends it as [`Tail::Invalid`] with the
//!    reason and the number of committed batches after it that are ignored. Good earlier batches
//!    are never refused because of a later one.
//!
//! # Bounds
//! Every length and offset read from flash is checked before use, with arithmetic that cannot
//! overflow on 32-bit targets (region offsets are `u32` checked against the region length;
//! sums of fields are done in `u64`). Nothing here panics or loops without bound.
//!
//! Validation is linear in the image: each pointer is looked up in O(log batches + log k) plus
//! at most one short run of object-map records. The memory it keeps (the [`ChainIndex`]) does
//! not depend on the objects' count but on the region's size:
//!
//! - one [`BatchInfo`] per batch ([`BatchInfo::HEAP_BYTES`] bytes); a batch spans at least one
//!   erase sector, so at most `region_len / erase_size` of them (a batch the mount reads through
//!   its stored start bitmap holds nothing else);
//! - one checkpoint of 8 bytes per [`CHECKPOINT_OBJECTS`] objects and at most one per
//!   [`CHECKPOINT_BYTES`] bytes of section (plus one per section), from which a lookup decodes
//!   the object map forward.
//!
//! For the Pico's 1 MiB region of 4 KiB sectors that is at most 256 × 112 B + 2,560 × 8 B
//! = 48 KiB whatever the image holds, crafted or not (the batch and checkpoint arrays grow by
//! doubling, capped at those counts, and a reallocation briefly holds the old copy too; the
//! bitmaps of object starts grow in chunks of up to 256 bytes that are never moved; a mapped
//! region's scan makes room for the batches its headers chain at once, within the same bounds).
//! Allocation failures are reported ([`DecodeError::Memory`]), not panics.
//!
//! [`rebase`] moves a validated image to other flash/RAM addresses with the pointer map.

// Parts of this module are used only through `crate::unstable` (tools, tests, fuzzing).
#![cfg_attr(not(feature = "unstable"), allow(dead_code))]

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use core::ops::Range;

use zerocopy::little_endian::U64;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::Layout;
use super::crc::{CrcEngine, EngineRef, SOFTWARE_CRC};
use super::format::ALL_STARTS;
use super::format::{
    BATCH_MAGIC, BatchHeader, COMMIT_LEN, COMMIT_MAGIC, CRC, CommitRecord, ContentCrcs,
    FIRMWARE_ID_MAX, FORMAT_VERSION, HEADER_CRC_OFFSET, HEADER_LEN, Input, LITERAL_WORDS, MapError,
    ObjectMapDecoder, PointerMapDecoder, ROOT_ENTRY_LEN, RootEntry, SECTION_ALIGN, START_GRAIN,
    START_WORD_BYTES, Section, SectionRef, SliceInput, StartBitmapEncoder, align_up,
    start_bits_inside, start_words,
};
use crate::model::{ObjectModel, Placement, RefEncoding};
use crate::plan::RootKind;

/// What the reader needs to know besides the bytes.
///
/// ```
/// use flashfreeze::image::{Layout, ReadConfig};
/// use flashfreeze::testing::TestHeap;
///
/// let layout = Layout::new(0x1010_0000, 4096, 0x2003_0000, 8192, b"fw-1");
/// let statics = [0x1000_0000..0x1004_0000];
/// let cfg = ReadConfig::for_model::<TestHeap<4>>(layout).with_statics(&statics);
/// assert_eq!(cfg.encoding.width(), 4);
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ReadConfig<'a> {
    /// Where the region is mapped, its erase size, the RAM area, the firmware id.
    pub layout: Layout<'a>,
    /// The VM's reference encoding ([`ObjectModel::ENCODING`]): the width of every reference
    /// word, and how the validator decodes it.
    pub encoding: RefEncoding,
    /// Address ranges of the VM's static objects (firmware, ROM) that frozen objects may
    /// point into.
    pub statics: &'a [Range<u64>],
    crc: EngineRef<'a>,
    start_bitmap_limit: usize,
}

impl<'a> ReadConfig<'a> {
    /// The reader of `layout` for references in `encoding`, with no static ranges.
    pub const fn new(layout: Layout<'a>, encoding: RefEncoding) -> Self {
        Self {
            layout,
            encoding,
            statics: &[],
            crc: EngineRef(&SOFTWARE_CRC),
            start_bitmap_limit: usize::MAX,
        }
    }

    /// The same, computing the image's CRCs with `engine` (a hardware CRC unit) instead of the
    /// table: see [`CrcEngine`].
    pub const fn with_crc(self, engine: &'a dyn CrcEngine) -> Self {
        Self {
            crc: EngineRef(engine),
            ..self
        }
    }

    /// The CRC engine.
    pub fn crc(&self) -> &'a dyn CrcEngine {
        self.crc.0
    }

    /// The same, with at most `bytes` of heap for the bitmaps of object starts the general check
    /// decodes from the object maps (one bit per 4 bytes of each batch's sections, at most
    /// `region_len / 32` bytes in all; by default, no other limit). A batch whose bitmap does not
    /// fit checks its pointer targets by searching the object map from the nearest checkpoint
    /// instead: slower, the same result. `0` never builds one. A mount reads each batch's stored
    /// start bitmap in place and needs none.
    pub const fn with_start_bitmap_limit(self, bytes: usize) -> Self {
        Self {
            start_bitmap_limit: bytes,
            ..self
        }
    }

    /// The reader of `layout` for the VM `M` (its [`ObjectModel::ENCODING`]).
    pub const fn for_model<M: ObjectModel + ?Sized>(layout: Layout<'a>) -> Self {
        Self::new(layout, M::ENCODING)
    }

    /// The same, with the VM's static ranges.
    pub const fn with_statics(self, statics: &'a [Range<u64>]) -> Self {
        Self { statics, ..self }
    }
}

/// How far the validator trusts a batch's start bitmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Decode the object map and check that the stored bitmap names exactly its starts: the
    /// store before it commits a batch, [`Image::open`] (tools, rebase), [`scan_chain`].
    Full,
    /// The mount's: a mapped region's stored bitmap read in place and trusted as written under
    /// its CRC, the object map not decoded (`docs/image-format.md`, "Start bitmap"); a batch
    /// its pointer pass does not accept gets the full check.
    Mount,
}

/// Whether the full check's refusal `e` is one the mount's [`Check::Mount`] does not make: the
/// stored start bitmap or the object map it no longer decodes, a reference word in padding, or
/// `all_starts` against the map (`docs/image-format.md`, "The mount's trust of the start
/// bitmap"). Only such a refusal can end the full check's chain before the mount's.
pub(crate) fn mount_trusts(e: &DecodeError) -> bool {
    matches!(
        e,
        DecodeError::Map {
            section: Section::StartBitmap | Section::ObjectMap,
            ..
        } | DecodeError::Pointer {
            fault: PointerFault::WordOutsideObject,
            ..
        } | DecodeError::Layout {
            section: Section::Header,
            what: ALL_STARTS_DIFFER,
            ..
        }
    )
}

/// The full check's refusal of a header whose `all_starts` the object map contradicts.
const ALL_STARTS_DIFFER: &str = "all_starts differs from the object map";

/// A checkpoint of the object map at least every this many objects.
pub const CHECKPOINT_OBJECTS: u32 = 16;
/// [`BatchInfo::bits`] of a batch without a bitmap.
const NO_BITS: u32 = u32::MAX;
/// At most one checkpoint of the object map per this many bytes of a section.
pub const CHECKPOINT_BYTES: u32 = 512;
/// How a pointer word is wrong.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PointerFault {
    /// It points outside every section of this image and every static range.
    OutOfRange,
    /// It points inside a section, but not at the start of an object.
    NotObjectStart,
    /// The word itself is not inside an object (it lies in padding or past the section).
    WordOutsideObject,
    /// The word does not decode to an address in the VM's reference encoding.
    Undecodable,
}

/// Why region bytes were refused. `offset` is always relative to the region start.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A committed batch of another format version.
    Version {
        /// Batch index in the chain.
        batch: u32,
        /// Region offset of the batch.
        offset: u32,
        /// The version found.
        found: u16,
    },
    /// A committed batch made by another firmware build.
    FirmwareId {
        /// Batch index.
        batch: u32,
        /// Region offset of the batch.
        offset: u32,
        /// The id the batch was made for.
        found: FirmwareId,
        /// This firmware's.
        expected: FirmwareId,
    },
    /// A batch made for another reference width.
    RefBytes {
        /// Batch index.
        batch: u32,
        /// The width found.
        found: u8,
        /// The VM's.
        expected: u32,
    },
    /// A committed batch extends past the end of the region.
    Truncated {
        /// Batch index.
        batch: u32,
        /// Region offset of the batch.
        offset: u32,
        /// Bytes the batch spans.
        span: u32,
        /// Bytes left in the region from its start.
        available: u64,
    },
    /// A header field describes an impossible layout.
    Layout {
        /// Batch index.
        batch: u32,
        /// Region offset of the part concerned.
        offset: u64,
        /// The part concerned.
        section: Section,
        /// What is wrong.
        what: &'static str,
    },
    /// A section's bytes do not match their CRC.
    Crc {
        /// Batch index.
        batch: u32,
        /// The section.
        section: Section,
        /// Region offset of the section.
        offset: u64,
    },
    /// The flash section is not where the header says it is mapped (the image was built for
    /// another address: [`rebase`] it).
    Misplaced {
        /// Batch index.
        batch: u32,
        /// Address the header claims.
        claimed: u64,
        /// Address the bytes are actually mapped at.
        actual: u64,
    },
    /// A batch's RAM section lies outside the RAM area, or overlaps an earlier batch's.
    RamRange {
        /// Batch index.
        batch: u32,
        /// Its RAM base.
        ram_base: u64,
        /// Its length.
        len: u32,
    },
    /// A malformed pointer map or object map.
    Map {
        /// Batch index.
        batch: u32,
        /// Which map.
        section: Section,
        /// Region offset of the bad byte.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A pointer word (or root address) that would hand the VM a wild pointer.
    Pointer {
        /// Batch index.
        batch: u32,
        /// Section holding the word.
        section: Section,
        /// Region offset of the word (of the root entry for roots).
        offset: u64,
        /// The word (the root's address for roots).
        value: u64,
        /// The address it decodes to (equal to `value` with the default encoding; 0 when
        /// it does not decode).
        address: u64,
        /// How it is wrong.
        fault: PointerFault,
    },
    /// The validator could not allocate its index of object starts (a heap too small for the
    /// image: see the module docs for the bound).
    Memory {
        /// Batch index.
        batch: u32,
    },
    /// A root entry is malformed (name outside the table, not UTF-8).
    Root {
        /// Batch index.
        batch: u32,
        /// Entry index.
        index: u32,
        /// What is wrong.
        what: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version {
                batch,
                offset,
                found,
            } => write!(
                f,
                "batch {batch} at {offset:#x}: format version {found}, this firmware reads version {FORMAT_VERSION} (re-freeze the modules)"
            ),
            Self::FirmwareId {
                batch,
                offset,
                found,
                expected,
            } => write!(
                f,
                "batch {batch} at {offset:#x}: made by another firmware build (firmware id {found}, this firmware is {expected})"
            ),
            Self::RefBytes {
                batch,
                found,
                expected,
            } => write!(
                f,
                "batch {batch}: {found}-byte references, this VM uses {expected}-byte references"
            ),
            Self::Truncated {
                batch,
                offset,
                span,
                available,
            } => write!(
                f,
                "batch {batch} at {offset:#x}: spans {span} bytes, only {available} left in the region (truncated image)"
            ),
            Self::Layout {
                batch,
                offset,
                section,
                what,
            } => {
                write!(f, "batch {batch}, {section} at {offset:#x}: {what}")
            }
            Self::Crc {
                batch,
                section,
                offset,
            } => {
                write!(f, "batch {batch}, {section} at {offset:#x}: CRC mismatch")
            }
            Self::Misplaced {
                batch,
                claimed,
                actual,
            } => write!(
                f,
                "batch {batch}: built for flash address {claimed:#x} but mapped at {actual:#x} (rebase it)"
            ),
            Self::RamRange {
                batch,
                ram_base,
                len,
            } => write!(
                f,
                "batch {batch}: RAM section {ram_base:#x}+{len} outside the RAM area or overlapping"
            ),
            Self::Map {
                batch,
                section,
                offset,
                what,
            } => {
                write!(f, "batch {batch}, {section} at {offset:#x}: {what}")
            }
            Self::Pointer {
                batch,
                section,
                offset,
                value,
                address,
                fault,
            } => {
                let why = match fault {
                    PointerFault::OutOfRange => "points outside the image and the static ranges",
                    PointerFault::NotObjectStart => "does not point at an object start",
                    PointerFault::WordOutsideObject => "is not inside an object",
                    PointerFault::Undecodable => {
                        "does not decode to an address in the VM's reference encoding"
                    }
                };
                let what = if *section == Section::Roots {
                    "root entry"
                } else {
                    "pointer word"
                };
                write!(
                    f,
                    "batch {batch}, {section}: {what} at region offset {offset:#x} holds {value:#x}"
                )?;
                if address != value && *fault != PointerFault::Undecodable {
                    write!(f, " (address {address:#x})")?;
                }
                write!(f, " and {why}")
            }
            Self::Memory { batch } => {
                write!(
                    f,
                    "batch {batch}: out of memory for the index of object starts"
                )
            }
            Self::Root { batch, index, what } => write!(f, "batch {batch}, root {index}: {what}"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// A firmware id as a header holds it (at most 32 bytes), for messages.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FirmwareId {
    bytes: [u8; FIRMWARE_ID_MAX],
    len: u8,
}

impl FirmwareId {
    /// The id `bytes` (cut at 32 bytes).
    pub fn new(bytes: &[u8]) -> Self {
        let len = bytes.len().min(FIRMWARE_ID_MAX);
        let mut id = Self {
            bytes: [0; FIRMWARE_ID_MAX],
            len: len as u8,
        };
        id.bytes[..len].copy_from_slice(&bytes[..len]);
        id
    }

    /// Its bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Display for FirmwareId {
    /// Quoted text when the id is printable ASCII, hex bytes otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.as_bytes();
        if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
            // Printable ASCII is UTF-8.
            write!(f, "\"{}\"", core::str::from_utf8(b).unwrap_or(""))
        } else {
            b.iter().try_for_each(|c| write!(f, "{c:02x}"))
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for FirmwareId {
    fn format(&self, f: defmt::Formatter<'_>) {
        match core::str::from_utf8(self.as_bytes()) {
            Ok(s) => defmt::write!(f, "\"{=str}\"", s),
            Err(_) => defmt::write!(f, "{=[u8]:x}", self.as_bytes()),
        }
    }
}

impl fmt::Debug for FirmwareId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
/// Why the chain of batches ends where it does.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tail {
    /// Erased flash (`0xFF`) follows: the normal end.
    Erased {
        /// Region offset.
        offset: u32,
    },
    /// The region ends.
    RegionEnd,
    /// Something that is not a complete, committed batch of this chain follows: an interrupted
    /// write or erase, a batch left over from an earlier chain, or one of another region. It is
    /// not part of the image.
    Interrupted {
        /// Region offset.
        offset: u32,
        /// What was found.
        why: &'static str,
    },
    /// A committed batch that failed validation, or that this firmware cannot read (another
    /// firmware build, format version or reference width). The batches before it are the image;
    /// it and the `following` committed batches chained after it are not.
    Invalid {
        /// Its index in the chain.
        batch: u32,
        /// Its region offset.
        offset: u32,
        /// Why it was refused.
        error: DecodeError,
        /// Committed batches chained after it, ignored with it.
        following: u32,
    },
}

impl Tail {
    /// The refusal, when the chain ends at a batch that failed validation.
    pub fn error(&self) -> Option<&DecodeError> {
        match self {
            Self::Invalid { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for Tail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Erased { offset } => write!(f, "erased from {offset:#x}"),
            Self::RegionEnd => f.write_str("region full"),
            Self::Interrupted { offset, why } => write!(f, "ignored at {offset:#x}: {why}"),
            Self::Invalid {
                error, following, ..
            } => {
                write!(f, "refused: {error}")?;
                if *following > 0 {
                    write!(f, "; {following} later batches ignored with it")?;
                }
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sources and cursors

/// Region bytes as the validator reads them: the mapped region ([`Mapped`]) or a flash device.
pub trait Source {
    /// The device's error (`Infallible` for mapped bytes).
    type Error;
    /// The region's length in bytes.
    fn region_len(&self) -> u32;
    /// Fill `buf` with the region's bytes at `offset` (always inside the region).
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error>;
}

/// A region's mapped bytes (the VM reads them in place).
#[derive(Clone, Copy, Debug)]
pub struct Mapped<'a>(pub &'a [u8]);

impl Source for Mapped<'_> {
    type Error = core::convert::Infallible;
    fn region_len(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error> {
        let start = offset as usize;
        match start
            .checked_add(buf.len())
            .and_then(|end| self.0.get(start..end))
        {
            Some(src) => buf.copy_from_slice(src),
            None => buf.fill(0xFF),
        }
        Ok(())
    }
}

/// A [`Source`] shared by the validator's cursors; keeps the first read error (the cursors
/// then see `0xFF`, and the validator reports the error instead of what it decoded).
pub struct Reader<S: Source> {
    src: RefCell<S>,
    err: RefCell<Option<S::Error>>,
    len: u32,
}

impl<S: Source> Reader<S> {
    /// A reader of `src`.
    pub fn new(src: S) -> Self {
        let len = src.region_len();
        Self {
            src: RefCell::new(src),
            err: RefCell::new(None),
            len,
        }
    }

    /// The source back.
    pub fn into_inner(self) -> S {
        self.src.into_inner()
    }

    /// The region's length.
    pub fn region_len(&self) -> u32 {
        self.len
    }

    /// Read `buf.len()` bytes at region `offset`; bytes outside the region, or that failed to
    /// read, are `0xFF` (the error is kept for [`Reader::take_error`]).
    pub fn read(&self, offset: u32, buf: &mut [u8]) {
        let inside = u64::from(offset) + buf.len() as u64 <= u64::from(self.len);
        if !inside || self.err.borrow().is_some() {
            buf.fill(0xFF);
            return;
        }
        if let Err(e) = self.src.borrow_mut().read(offset, buf) {
            buf.fill(0xFF);
            *self.err.borrow_mut() = Some(e);
        }
    }

    /// The first read error, if any.
    pub fn take_error(&self) -> Option<S::Error> {
        self.err.borrow_mut().take()
    }

    fn failed(&self) -> bool {
        self.err.borrow().is_some()
    }

    /// Feed region bytes `range` to `f` in chunks.
    pub fn chunks(&self, range: Range<u32>, f: &mut dyn FnMut(&[u8])) {
        let mut buf = [0u8; 256];
        let mut at = range.start;
        while at < range.end {
            let n = ((range.end - at) as usize).min(buf.len());
            self.read(at, &mut buf[..n]);
            f(&buf[..n]);
            at += n as u32;
        }
    }

    /// The CRC of region bytes `range`.
    pub fn crc(&self, range: Range<u32>) -> u32 {
        Bytes::crc(self, range, &SOFTWARE_CRC)
    }

    /// Whether region bytes `range` are all `0xFF`.
    pub fn is_erased(&self, range: Range<u32>) -> bool {
        Bytes::is_erased(self, range)
    }
}

/// Whether every byte of `bytes` is `0xFF`, a word at a time.
pub(crate) fn all_erased(bytes: &[u8]) -> bool {
    // SAFETY: every bit pattern is a valid u32.
    let (head, words, tail) = unsafe { bytes.align_to::<u32>() };
    // The store reads the whole free region through here once per boot (its first write):
    // on the M0+ the 64-byte blocks go through `erased_blocks`, four `ldm`s per check.
    let blocks = words.len() / ERASED_BLOCK * ERASED_BLOCK;
    let (blocks, words) = words.split_at(blocks);
    if !erased_blocks(blocks) {
        return false;
    }
    let mut chunks = words.chunks_exact(4);
    let mut all = u32::MAX;
    for c in &mut chunks {
        all &= c[0] & c[1] & c[2] & c[3];
        if all != u32::MAX {
            return false;
        }
    }
    for &w in chunks.remainder() {
        all &= w;
    }
    all == u32::MAX && head.iter().chain(tail).all(|&b| b == 0xFF)
}

/// Words per step of [`erased_blocks`].
const ERASED_BLOCK: usize = 16;

/// Whether every word of `words` (a multiple of [`ERASED_BLOCK`] long) is all ones. On Thumb,
/// by hand: LLVM spills at `opt-level = "s"` (the frame pointer leaves six low registers), and
/// four `ldm`s of four words and one test per 64 bytes take ≈ 41 cycles instead of ≈ 64.
#[cfg(target_arch = "arm")]
fn erased_blocks(words: &[u32]) -> bool {
    if words.is_empty() {
        return true;
    }
    let p = words.as_ptr();
    // SAFETY: `end` is one past the slice's last word (`add` of its length stays in the
    // allocation); `words.len()` is a non-zero multiple of 16, so the loop reads exactly the
    // slice's words, 16 per step, from `p` (aligned: it is a `&[u32]`), and stops when `p`
    // reaches `end` or a step's words are not all ones. It writes only the named registers
    // (declared clobbered or as outputs, r8 included) and the flags, touches no stack and no
    // other memory.
    let all = unsafe {
        let end = p.add(words.len());
        let all: u32;
        core::arch::asm!(
            // The end goes to a high register: the loop needs every free low one.
            "mov r8, r2",
            "2:",
            "ldm r0!, {{r2, r3, r4, r5}}",
            "ands r1, r2",
            "ands r1, r3",
            "ands r1, r4",
            "ands r1, r5",
            "ldm r0!, {{r2, r3, r4, r5}}",
            "ands r1, r2",
            "ands r1, r3",
            "ands r1, r4",
            "ands r1, r5",
            "ldm r0!, {{r2, r3, r4, r5}}",
            "ands r1, r2",
            "ands r1, r3",
            "ands r1, r4",
            "ands r1, r5",
            "ldm r0!, {{r2, r3, r4, r5}}",
            "ands r1, r2",
            "ands r1, r3",
            "ands r1, r4",
            "ands r1, r5",
            // r2 = !all: zero (Z set) while every word so far was all ones.
            "mvns r2, r1",
            "bne 3f",
            "cmp r0, r8",
            "bne 2b",
            "3:",
            inout("r0") p => _,
            inout("r1") u32::MAX => all,
            inout("r2") end => _,
            out("r8") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            options(nostack, readonly, pure),
        );
        all
    };
    all == u32::MAX
}

/// [`erased_blocks`] elsewhere: one test per block of and-ed words, which the compiler
/// vectorizes (a test per word would not be).
#[cfg(not(target_arch = "arm"))]
fn erased_blocks(words: &[u32]) -> bool {
    words
        .chunks_exact(ERASED_BLOCK)
        .all(|c| c.iter().fold(u32::MAX, |all, &w| all & w) == u32::MAX)
}

/// How the validator reads a region: through a [`Reader`] (any [`Source`]: buffered cursors,
/// the bytes copied out), or in place from the mapped bytes ([`Mapped`]: no copy, each input
/// a slice). Both give the same bytes, so the same results.
pub(crate) trait Bytes {
    /// A forward reader of a range of the region.
    type Cursor<'c>: SeekInput
    where
        Self: 'c;
    /// The region's length.
    fn region_len(&self) -> u32;
    /// Region bytes at `offset` into `buf` (`0xFF` outside the region or after a read error).
    fn read(&self, offset: u32, buf: &mut [u8]);
    /// Whether a read failed (what was decoded since means nothing).
    fn failed(&self) -> bool;
    /// The CRC of region bytes `range`, by `engine`.
    fn crc(&self, range: Range<u32>, engine: &dyn CrcEngine) -> u32;
    /// Whether region bytes `range` are all `0xFF`.
    fn is_erased(&self, range: Range<u32>) -> bool;
    /// A cursor over region bytes `range`.
    fn cursor(&self, range: Range<u32>) -> Self::Cursor<'_>;
    /// The region's bytes, when they are mapped (the validator's fast loops read them in
    /// place).
    fn as_slice(&self) -> Option<&[u8]> {
        None
    }
}

/// An [`Input`] that can be moved to another range.
pub(crate) trait SeekInput: Input {
    /// Continue at `pos`, up to `end` (positions count from `pos` now).
    fn seek(&mut self, pos: u32, end: u32);
    /// `out.len()` bytes from the current position (`None` past the end).
    fn take(&mut self, out: &mut [u8]) -> Option<()> {
        for b in out {
            *b = self.next_byte()?;
        }
        Some(())
    }
    /// A little-endian word of `width` bytes (at most 8) from the current position.
    fn take_word(&mut self, width: u32) -> Option<u64> {
        let mut w = [0u8; 8];
        self.take(w.get_mut(..width as usize)?)?;
        Some(u64::from_le_bytes(w))
    }
}

impl<S: Source> Bytes for Reader<S> {
    type Cursor<'c>
        = Cursor<'c, S>
    where
        S: 'c;
    fn region_len(&self) -> u32 {
        self.len
    }
    fn read(&self, offset: u32, buf: &mut [u8]) {
        Reader::read(self, offset, buf);
    }
    fn failed(&self) -> bool {
        Reader::failed(self)
    }
    fn crc(&self, range: Range<u32>, engine: &dyn CrcEngine) -> u32 {
        let mut crc = 0;
        self.chunks(range, &mut |c| crc = engine.update(crc, c));
        crc
    }
    fn is_erased(&self, range: Range<u32>) -> bool {
        let mut erased = true;
        let mut buf = [0u8; 256];
        let mut at = range.start;
        while erased && at < range.end {
            let n = ((range.end - at) as usize).min(buf.len());
            self.read(at, &mut buf[..n]);
            erased = all_erased(&buf[..n]);
            at += n as u32;
        }
        erased
    }
    fn cursor(&self, range: Range<u32>) -> Cursor<'_, S> {
        Cursor {
            r: self,
            base: range.start,
            pos: range.start,
            end: range.end,
            at: 0,
            have: 0,
            buf: [0; CURSOR_BYTES],
        }
    }
}

impl<'a> Mapped<'a> {
    /// Region bytes `range`, clipped to the region.
    fn get(&self, range: Range<u32>) -> &'a [u8] {
        let end = (range.end as usize).min(self.0.len());
        self.0.get(range.start as usize..end).unwrap_or(&[])
    }
}

impl Bytes for Mapped<'_> {
    type Cursor<'c>
        = SliceCursor<'c>
    where
        Self: 'c;
    fn region_len(&self) -> u32 {
        Source::region_len(self)
    }
    fn read(&self, offset: u32, buf: &mut [u8]) {
        let _ = Source::read(&mut { *self }, offset, buf);
    }
    fn failed(&self) -> bool {
        false
    }
    fn crc(&self, range: Range<u32>, engine: &dyn CrcEngine) -> u32 {
        engine.update(0, self.get(range))
    }
    fn is_erased(&self, range: Range<u32>) -> bool {
        all_erased(self.get(range))
    }
    fn cursor(&self, range: Range<u32>) -> SliceCursor<'_> {
        SliceCursor {
            bytes: self.0,
            base: range.start,
            pos: range.start,
            end: range.end,
        }
    }
    fn as_slice(&self) -> Option<&[u8]> {
        Some(self.0)
    }
}

const CURSOR_BYTES: usize = 64;

/// A forward reader of a range of region bytes, through a small buffer.
pub(crate) struct Cursor<'r, S: Source> {
    r: &'r Reader<S>,
    /// Start of the range ([`Input::consumed`] counts from here).
    base: u32,
    pos: u32,
    end: u32,
    /// Region offset of `buf[0]`, and how many bytes of `buf` are valid.
    at: u32,
    have: u32,
    buf: [u8; CURSOR_BYTES],
}

impl<S: Source> Cursor<'_, S> {
    fn fill(&mut self) {
        let n = (self.end - self.pos).min(CURSOR_BYTES as u32);
        self.r.read(self.pos, &mut self.buf[..n as usize]);
        self.at = self.pos;
        self.have = n;
    }
}

impl<S: Source> SeekInput for Cursor<'_, S> {
    /// Continue at `pos`, up to `end` (positions count from `pos` now); the buffer is kept.
    fn seek(&mut self, pos: u32, end: u32) {
        self.base = pos;
        self.pos = pos;
        self.end = end;
    }
}

impl<S: Source> Input for Cursor<'_, S> {
    fn next_byte(&mut self) -> Option<u8> {
        if self.pos >= self.end {
            return None;
        }
        if !(self.at <= self.pos && self.pos - self.at < self.have) {
            self.fill();
        }
        let b = self.buf[(self.pos - self.at) as usize];
        self.pos += 1;
        Some(b)
    }
    fn consumed(&self) -> usize {
        (self.pos - self.base) as usize
    }
    fn is_done(&self) -> bool {
        self.pos >= self.end
    }
}

/// A forward reader of a range of a mapped region, in place.
pub(crate) struct SliceCursor<'a> {
    bytes: &'a [u8],
    base: u32,
    pos: u32,
    end: u32,
}

impl SeekInput for SliceCursor<'_> {
    fn seek(&mut self, pos: u32, end: u32) {
        self.base = pos;
        self.pos = pos;
        self.end = end;
    }
    fn take(&mut self, out: &mut [u8]) -> Option<()> {
        let start = self.pos as usize;
        let end = start.checked_add(out.len())?;
        if end > self.end as usize {
            return None;
        }
        out.copy_from_slice(self.bytes.get(start..end)?);
        self.pos = end as u32;
        Some(())
    }
    fn take_word(&mut self, width: u32) -> Option<u64> {
        let start = self.pos as usize;
        let end = start.checked_add(width as usize)?;
        if end > self.end as usize {
            return None;
        }
        let b = self.bytes.get(start..end)?;
        self.pos = end as u32;
        // The reference words of the format are 4 or 8 bytes (the header says which).
        Some(match *b {
            [a, b, c, d] => u64::from(u32::from_le_bytes([a, b, c, d])),
            [a, b, c, d, e, f, g, h] => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
            _ => {
                let mut w = [0u8; 8];
                w.get_mut(..b.len())?.copy_from_slice(b);
                u64::from_le_bytes(w)
            }
        })
    }
}

impl Input for SliceCursor<'_> {
    fn next_byte(&mut self) -> Option<u8> {
        if self.pos >= self.end {
            return None;
        }
        let b = *self.bytes.get(self.pos as usize)?;
        self.pos += 1;
        Some(b)
    }
    fn consumed(&self) -> usize {
        (self.pos - self.base) as usize
    }
    fn is_done(&self) -> bool {
        self.pos >= self.end
    }
}

// ---------------------------------------------------------------------------------------------
// The index of validated batches

/// A resumable point of a section's object map: the objects recorded from `map_pos` on start at
/// or after `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Checkpoint {
    end: u32,
    /// Region offset of the next record.
    map_pos: u32,
}

/// One validated batch: where it is, and what later pointer checks need to know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    /// Index in the chain.
    pub index: u32,
    /// Region offset.
    pub offset: u32,
    /// Bytes of flash it takes (whole sectors).
    pub span: u32,
    /// Its header's CRC (the next batch's `prev_header_crc`).
    pub header_crc: u32,
    /// Its flash-object section, absolute.
    pub flash: Range<u64>,
    /// Its RAM section, absolute.
    pub ram: Range<u64>,
    /// Objects in each section.
    pub objects: (u32, u32),
    /// Where the RAM section's initial state lies (region offsets).
    pub ram_initial: Range<u32>,
    /// Region offsets of the roots table, and its entries.
    roots: Range<u32>,
    root_count: u32,
    /// Region offsets of the object map's flash records, RAM records, and its end.
    records: [u32; 3],
    /// Its checkpoints in [`ChainIndex::cps`]: flash `cps[0]..cps[1]`, RAM `cps[1]..cps[2]`.
    cps: [u32; 3],
    /// Its bitmaps of object starts: flash `bits[0]..bits[1]`, RAM `bits[1]..bits[2]`; word
    /// numbers in [`ChainIndex::starts`], or, with [`STORED`] set, region offsets (bytes) of the
    /// batch's own start bitmap, read in place (the mount's trusted path); [`NO_BITS`] when it
    /// has none.
    bits: [u32; 3],
}

/// The bit of [`BatchInfo::bits`] that marks region offsets of a stored start bitmap (word
/// numbers of the index stay below it: [`Starts::MAX_CHUNKS`]).
const STORED: u32 = 1 << 31;

// The bound the docs state: 112 bytes per batch, 8 per checkpoint.
static_assertions::const_assert!(core::mem::size_of::<BatchInfo>() <= 112);
static_assertions::const_assert_eq!(core::mem::size_of::<Checkpoint>(), 8);

impl BatchInfo {
    /// Heap bytes one entry takes in a chain index.
    pub const HEAP_BYTES: usize = core::mem::size_of::<BatchInfo>();

    /// No objects (a batch index past the chain).
    pub(crate) fn no_objects<'r>() -> FlashObjects<'r> {
        FlashObjects {
            map: &[],
            pos: 0,
            left: 0,
            end: 0,
            base: 0,
            len: 0,
        }
    }

    /// The objects of its flash section, decoded from its object map in `region` (the mapped
    /// region it was validated in, as given to [`crate::mount::mount`]): each one's absolute
    /// address and size, in address order. The full check validated the map; the mount trusts
    /// the stored start bitmap instead, so this stops at the first record that does not decode,
    /// is empty or leaves the section. No per-object state is kept: each call
    /// decodes the map again (a byte or two per object). Another region's bytes give garbage
    /// or nothing, never a panic.
    pub fn flash_objects<'r>(&self, region: &'r [u8]) -> FlashObjects<'r> {
        let map = region
            .get(self.records[0] as usize..self.records[1] as usize)
            .unwrap_or(&[]);
        FlashObjects {
            map,
            pos: 0,
            left: self.objects.0,
            end: 0,
            base: self.flash.start,
            len: self.flash.end - self.flash.start,
        }
    }

    /// Whether its bitmaps are its stored start bitmap, in the region.
    fn stored(&self) -> bool {
        self.bits[0] != NO_BITS && self.bits[0] & STORED != 0
    }

    /// Region offset `bits[i]` of its stored start bitmap.
    fn stored_at(&self, i: usize) -> u32 {
        self.bits[i] & !STORED
    }

    /// Region offset just past the batch.
    pub fn end_offset(&self) -> u32 {
        self.offset.saturating_add(self.span)
    }
}

/// The objects of a validated batch's flash section, decoded from its object map (see
/// [`crate::mount::Mounted::flash_objects`]): a plain loop over the records. The mount does not
/// decode the map (it trusts the stored start bitmap: `docs/image-format.md`, "Start bitmap"),
/// so a record that does not decode, an empty object or one past the section's end ends it:
/// what it yields lies inside the section, in address order, without overlaps.
#[derive(Clone, Debug)]
pub struct FlashObjects<'r> {
    map: &'r [u8],
    pos: usize,
    left: u32,
    /// End of the last object, relative to the section.
    end: u64,
    base: u64,
    /// The section's length.
    len: u64,
}

impl Iterator for FlashObjects<'_> {
    /// An object's absolute address and size.
    type Item = (u64, u32);

    #[inline]
    fn next(&mut self) -> Option<(u64, u32)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let next = self.record();
        if next.is_none() {
            // A record that does not decode ends it: no later call reads past it.
            self.left = 0;
        }
        next
    }
}

impl core::iter::FusedIterator for FlashObjects<'_> {}

impl FlashObjects<'_> {
    /// The next record's object (`None` if it does not decode, is empty or ends past the
    /// section).
    #[inline]
    fn record(&mut self) -> Option<(u64, u32)> {
        let b = *self.map.get(self.pos)?;
        let (size, pad) = if b & 0x81 == 0 {
            // The usual record: one byte, no padding.
            self.pos += 1;
            (u64::from(b >> 1), 0)
        } else {
            let v = varint_u64(self.map, &mut self.pos)?;
            let pad = if v & 1 == 1 {
                varint_u64(self.map, &mut self.pos)?
            } else {
                0
            };
            (v >> 1, pad)
        };
        let start = self.end.checked_add(pad)?;
        self.end = start.checked_add(size)?;
        if size == 0 || self.end > self.len {
            return None;
        }
        Some((self.base.checked_add(start)?, u32::try_from(size).ok()?))
    }
}

/// A LEB128 value of up to 10 bytes at `bytes[*p]` (`None` past the end or over 64 bits).
fn varint_u64(bytes: &[u8], p: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*p)?;
        *p += 1;
        v |= u64::from(b & 0x7F).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift >= 64 {
            return None;
        }
    }
}

/// The validated batches of a chain, with the checkpoints of their object maps: what mount
/// keeps, and what the store keeps to check a new batch's pointers into earlier ones.
#[derive(Clone, Debug, Default)]
pub struct ChainIndex {
    batches: Vec<BatchInfo>,
    cps: Vec<Checkpoint>,
    /// Bitmaps of object starts, bit `i` of a section's = an object starts at byte
    /// `i * START_GRAIN` (see [`BatchInfo::bits`]).
    starts: Starts,
}

impl ChainIndex {
    /// The validated batches, in chain order.
    pub fn batches(&self) -> &[BatchInfo] {
        &self.batches
    }

    /// Region offset just past the last batch (where the next one goes).
    pub fn end_offset(&self) -> u32 {
        self.batches.last().map_or(0, BatchInfo::end_offset)
    }

    /// Heap bytes it holds.
    pub fn heap_bytes(&self) -> usize {
        self.batches.capacity() * BatchInfo::HEAP_BYTES
            + self.cps.capacity() * core::mem::size_of::<Checkpoint>()
            + self.starts.heap_bytes()
    }

    /// Room for the next batch's entry (of at most `max_batches`), grown as validation grows
    /// it. A store calls it before it plans a batch: growing copies the array, and then
    /// little else of the freeze is live (validation, after the write, finds the room made).
    pub(crate) fn reserve_batch(&mut self, max_batches: usize) {
        // Failure is not an error here: validation tries again and reports it.
        let _ = grow(&mut self.batches, max_batches.max(1));
    }

    /// Forget everything after the first `batches` batches, `cps` checkpoints and the bitmap
    /// words up to `starts` (what a failed validation added).
    fn truncate(&mut self, batches: usize, cps: usize, starts: StartsMark) {
        self.batches.truncate(batches);
        self.cps.truncate(cps);
        self.starts.truncate(starts);
    }

    /// The batch whose `section` contains `addr`: batches are in address order in both.
    fn find(&self, addr: u64, section: impl Fn(&BatchInfo) -> &Range<u64>) -> Option<&BatchInfo> {
        let k = self.batches.partition_point(|b| section(b).end <= addr);
        self.batches.get(k).filter(|b| section(b).contains(&addr))
    }
}

/// Where [`Starts`] was (its chunks and the last one's words): what [`ChainIndex::truncate`]
/// goes back to.
#[derive(Clone, Copy, Debug)]
struct StartsMark {
    chunks: usize,
    last: usize,
}

/// The bitmaps of object starts of all batches, in chunks that are never reallocated: a batch
/// whose words do not fit the last chunk's room gets a new chunk, so a growing index holds
/// only that chunk more, never an old and a new copy of all the words. A batch's words lie in
/// one chunk; a word's number is `chunk << SHIFT | word in the chunk`.
#[derive(Clone, Debug, Default)]
struct Starts {
    chunks: Vec<Vec<u32>>,
    /// Words in use, over all chunks.
    words: usize,
}

impl Starts {
    const SHIFT: u32 = 20;
    const MASK: u32 = (1 << Self::SHIFT) - 1;
    /// Words a new chunk has room for at most, unless one batch needs more (64 bytes).
    const CHUNK_WORDS: usize = 16;
    /// Chunks at most (so that no word's number is [`NO_BITS`] or has [`STORED`] set).
    const MAX_CHUNKS: usize = ((STORED >> Self::SHIFT) - 1) as usize;

    fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * core::mem::size_of::<Vec<u32>>()
            + self.chunks.iter().map(|c| c.capacity() * 4).sum::<usize>()
    }

    /// Words in use, over all chunks.
    fn words(&self) -> usize {
        self.words
    }

    fn mark(&self) -> StartsMark {
        StartsMark {
            chunks: self.chunks.len(),
            last: self.chunks.last().map_or(0, Vec::len),
        }
    }

    fn truncate(&mut self, m: StartsMark) {
        for c in self.chunks.drain(m.chunks.min(self.chunks.len())..) {
            self.words -= c.len();
        }
        if let Some(c) = self.chunks.last_mut() {
            self.words -= c.len().saturating_sub(m.last);
            c.truncate(m.last);
        }
    }

    /// Room for `words` words in one first chunk (before any is allocated; nothing when the
    /// heap has no room for it: [`Self::alloc`] then makes chunks as it goes).
    fn reserve(&mut self, words: usize) {
        if !self.chunks.is_empty() || words == 0 || words > Self::MASK as usize {
            return;
        }
        let mut chunk = Vec::new();
        if chunk.try_reserve_exact(words).is_ok()
            && grow(&mut self.chunks, Self::MAX_CHUNKS).is_ok()
        {
            self.chunks.push(chunk);
        }
    }

    /// `n` zeroed words, contiguous in one chunk: the number of the first, or `None` when
    /// the heap (or the numbering) has no room for them. A new chunk has room for `n` words
    /// and, up to [`Self::CHUNK_WORDS`], as many as all chunks use (the first batch's chunk is
    /// exact), but never past `max` words in all.
    fn alloc(&mut self, n: usize, max: usize) -> Option<u32> {
        if n > Self::MASK as usize {
            return None;
        }
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= n);
        if !fits {
            if self.chunks.len() >= Self::MAX_CHUNKS {
                return None;
            }
            let room = Self::CHUNK_WORDS
                .min(self.words)
                .min(max.saturating_sub(self.words))
                .max(n);
            let mut chunk = Vec::new();
            chunk.try_reserve_exact(room).ok()?;
            // The list of chunks grows by doubling: it holds one pointer per chunk.
            grow(&mut self.chunks, Self::MAX_CHUNKS).ok()?;
            self.chunks.push(chunk);
        }
        let k = self.chunks.len() - 1;
        let c = self.chunks.last_mut()?;
        let at = c.len();
        // Within the capacity reserved above: no reallocation.
        c.resize(at + n, 0);
        self.words += n;
        Some((k as u32) << Self::SHIFT | at as u32)
    }

    /// The chunk numbered `k` (empty when there is none).
    fn chunk(&self, k: u32) -> &[u32] {
        self.chunks.get(k as usize).map_or(&[], Vec::as_slice)
    }

    fn get(&self, w: u32) -> Option<&u32> {
        self.chunk(w >> Self::SHIFT).get((w & Self::MASK) as usize)
    }

    fn get_mut(&mut self, w: u32) -> Option<&mut u32> {
        self.chunks
            .get_mut((w >> Self::SHIFT) as usize)?
            .get_mut((w & Self::MASK) as usize)
    }

    /// Words `from..to` (numbers of one chunk).
    fn range_mut(&mut self, from: u32, to: u32) -> Option<&mut [u32]> {
        if from >> Self::SHIFT != to >> Self::SHIFT || from == NO_BITS {
            return None;
        }
        self.chunks
            .get_mut((from >> Self::SHIFT) as usize)?
            .get_mut((from & Self::MASK) as usize..(to & Self::MASK) as usize)
    }
}

/// One step of the chain scan (its header and commit record where [`record_at`] found them).
enum Link<'b> {
    /// A committed batch with a well-formed header of this chain.
    Batch(&'b BatchHeader, &'b CommitRecord),
    /// A batch this chain cannot take, with its header when that passed its CRC.
    Refused(DecodeError, Option<&'b BatchHeader>),
    /// The chain ends.
    End(Tail),
}

fn layout_err(batch: u32, offset: u64, section: Section, what: &'static str) -> DecodeError {
    DecodeError::Layout {
        batch,
        offset,
        section,
        what,
    }
}

/// What a scan found about the header at one sector boundary (for the store's check of the
/// bytes after its chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderAt {
    /// No header passes its CRC there.
    None,
    /// A header of this format made for this region offset, spanning `span` bytes.
    Ours { span: u32 },
    /// A header of this format made for another region offset: another region's batch.
    OtherRegion,
    /// A header of another format version.
    OtherVersion,
}

/// Classify the header at region `offset`.
pub(crate) fn header_at<B: Bytes>(r: &B, offset: u32) -> HeaderAt {
    let mut buf = BatchHeader::new_zeroed();
    match read_header(r, offset, &SOFTWARE_CRC, &mut buf) {
        Ok(h) if h.batch_offset.get() == offset => HeaderAt::Ours { span: h.span.get() },
        Ok(_) => HeaderAt::OtherRegion,
        Err(HeaderFault::Version(_)) => HeaderAt::OtherVersion,
        Err(_) => HeaderAt::None,
    }
}

enum HeaderFault {
    Short,
    Erased,
    NoMagic,
    BadLength,
    Crc,
    /// A CRC-valid header of another version (or of this version with another length).
    Version(u16),
}

/// The record `T` at region `offset`: in place when the region is mapped and holds all of it
/// (no copy: the records are `Unaligned`), else read into `buf` (`0xFF` past the region's end,
/// as [`Bytes::read`] gives).
fn record_at<'b, B: Bytes, T>(r: &'b B, offset: u32, buf: &'b mut T) -> &'b T
where
    T: FromBytes + IntoBytes + KnownLayout + Immutable + Unaligned,
{
    let mapped = r
        .as_slice()
        .and_then(|s| s.get(offset as usize..))
        .and_then(|s| T::ref_from_prefix(s).ok());
    match mapped {
        Some((t, _)) => t,
        None => {
            r.read(offset, buf.as_mut_bytes());
            buf
        }
    }
}

/// The header at `offset`, checked for magic, CRC and version only: in place when the region is
/// mapped, else read into `buf`. Its CRC is computed by `engine` (a board's DMA sniffer at
/// mount), and again in software when that disagrees: a faulty engine can make no header look
/// torn, so the chain never ends early because of it.
fn read_header<'b, B: Bytes>(
    r: &'b B,
    offset: u32,
    engine: &dyn CrcEngine,
    buf: &'b mut BatchHeader,
) -> Result<&'b BatchHeader, HeaderFault> {
    let available = r.region_len().saturating_sub(offset);
    if (available as usize) < HEADER_LEN {
        return Err(HeaderFault::Short);
    }
    let header = record_at(r, offset, buf);
    let buf = header.as_bytes();
    if buf[..4] != BATCH_MAGIC {
        // (An erased header has no magic: the magic is not all 0xFF.)
        return Err(if all_erased(buf) {
            HeaderFault::Erased
        } else {
            HeaderFault::NoMagic
        });
    }
    let version = u16::from_le_bytes([buf[4], buf[5]]);
    let header_len = u32::from(u16::from_le_bytes([buf[6], buf[7]]));
    if header_len as usize != HEADER_LEN {
        // Another version's header may be longer: check its CRC where that version puts it.
        if !(16..=4096).contains(&header_len) || header_len > available {
            return Err(HeaderFault::BadLength);
        }
        let crc = r.crc(offset..offset + header_len - 4, &SOFTWARE_CRC);
        let mut tail = [0u8; 4];
        r.read(offset + header_len - 4, &mut tail);
        return Err(if crc == u32::from_le_bytes(tail) {
            HeaderFault::Version(version)
        } else {
            HeaderFault::Crc
        });
    }
    let want = header.header_crc.get();
    if engine.update(0, &buf[..HEADER_CRC_OFFSET]) != want && header.compute_crc() != want {
        return Err(HeaderFault::Crc);
    }
    if version != FORMAT_VERSION {
        return Err(HeaderFault::Version(version));
    }
    Ok(header)
}

/// Read the chain link at region `offset`, expecting batch `index` after a batch whose header
/// CRC was `prev_crc`.
///
/// What an interrupted write can break (magic, header CRC, chain, commit record) ends the chain;
/// what a foreign image breaks (version, firmware id, width) or an impossible span refuses the
/// batch.
fn read_link<'b, B: Bytes>(
    r: &'b B,
    offset: u32,
    index: u32,
    prev_crc: u32,
    cfg: &ReadConfig<'_>,
    bufs: &'b mut (BatchHeader, CommitRecord),
) -> Link<'b> {
    let end = |why| Link::End(Tail::Interrupted { offset, why });
    let (hbuf, cbuf) = bufs;
    let header = match read_header(r, offset, cfg.crc(), hbuf) {
        Ok(h) => h,
        Err(HeaderFault::Short) => return Link::End(Tail::RegionEnd),
        Err(HeaderFault::Erased) => return Link::End(Tail::Erased { offset }),
        Err(HeaderFault::NoMagic) => return end("no batch magic"),
        Err(HeaderFault::BadLength) => return end("bad header length"),
        Err(HeaderFault::Crc) => return end("header CRC mismatch"),
        Err(HeaderFault::Version(found)) => {
            let e = if found == FORMAT_VERSION {
                layout_err(
                    index,
                    u64::from(offset),
                    Section::Header,
                    "header length differs from the format's",
                )
            } else {
                DecodeError::Version {
                    batch: index,
                    offset,
                    found,
                }
            };
            return Link::Refused(e, None);
        }
    };
    if header.batch_offset.get() != offset {
        return end("batch of another region");
    }
    if header.batch_index.get() != index || header.prev_header_crc.get() != prev_crc {
        return end("batch of an earlier chain");
    }
    let refuse = |e| Link::Refused(e, Some(header));
    let span = header.span.get();
    let erase = cfg.layout.erase_size.max(1);
    if span == 0 || span % erase != 0 {
        return refuse(layout_err(
            index,
            u64::from(offset),
            Section::Header,
            "span is not a whole number of erase sectors",
        ));
    }
    let commit = header.commit_offset.get();
    if commit
        .checked_add(COMMIT_LEN as u32)
        .is_none_or(|e| e > span)
    {
        return refuse(layout_err(
            index,
            u64::from(offset),
            Section::Commit,
            "commit record outside the batch",
        ));
    }
    let available = u64::from(r.region_len() - offset);
    if u64::from(span) > available {
        return refuse(DecodeError::Truncated {
            batch: index,
            offset,
            span,
            available,
        });
    }
    let rec = record_at(r, offset + commit, cbuf);
    if !rec.commits(header) {
        return end("batch not committed");
    }
    if header.firmware_id() != cfg.layout.firmware_id
        || usize::from(header.firmware_id_len) > header.firmware_id.len()
    {
        return refuse(DecodeError::FirmwareId {
            batch: index,
            offset,
            found: FirmwareId::new(header.firmware_id()),
            expected: FirmwareId::new(cfg.layout.firmware_id),
        });
    }
    if u32::from(header.ref_bytes) != cfg.encoding.width() {
        return refuse(DecodeError::RefBytes {
            batch: index,
            found: header.ref_bytes,
            expected: cfg.encoding.width(),
        });
    }
    Link::Batch(header, rec)
}

/// Scan and validate the chain of `r`'s region into a new index: the longest valid prefix, and
/// why it ends. Only a read error of the device is an error.
pub fn scan_chain<S: Source>(
    r: &Reader<S>,
    cfg: &ReadConfig<'_>,
) -> Result<(ChainIndex, Tail), S::Error> {
    let mut index = ChainIndex::default();
    let tail = extend_chain(r, cfg, &mut index, Check::Full);
    match r.take_error() {
        Some(e) => Err(e),
        None => Ok((index, tail)),
    }
}

/// The mount's scan of a mapped region, read in place (no copy: each part of a batch is
/// decoded from the region's own bytes, and the CRC engine reads them where they are), each
/// batch's start bitmap trusted as written ([`Check::Mount`]).
pub(crate) fn scan_mapped(region: &[u8], cfg: &ReadConfig<'_>) -> (ChainIndex, Tail) {
    scan_mapped_with(region, cfg, Check::Mount)
}

/// [`scan_mapped`] with the given check.
pub(crate) fn scan_mapped_with(
    region: &[u8],
    cfg: &ReadConfig<'_>,
    check: Check,
) -> (ChainIndex, Tail) {
    let mut index = ChainIndex::default();
    index.reserve_for(region, cfg, check);
    let tail = extend_chain(&Mapped(region), cfg, &mut index, check);
    (index, tail)
}

/// Batch entries a mount reserves past the chain it found (see [`ChainIndex::reserve_for`]).
const FREEZE_ROOM: usize = 4;

impl ChainIndex {
    /// Room, made once, for the batches the headers of a mapped region chain and
    /// [`FREEZE_ROOM`] more (and their bitmaps of starts): growing the arrays batch by batch
    /// costs an allocation, and a copy, per batch at every boot. The headers are only counted
    /// here (magic, region offset, index, span, a commit magic where the commit record goes: no
    /// CRC), so a crafted chain can only make the room too large or too small, within the
    /// index's bounds; validation still grows what it needs, and a reservation that fails is
    /// not an error.
    fn reserve_for(&mut self, region: &[u8], cfg: &ReadConfig<'_>, check: Check) {
        let len = Source::region_len(&Mapped(region));
        let erase = cfg.layout.erase_size.max(1);
        let max_batches = (len / erase).max(1) as usize;
        let max_words = (len / START_WORD_BYTES) as usize + 2 * max_batches;
        let grains = |s: &SectionRef| start_words(s.len.get()) as usize;
        let (mut batches, mut words, mut offset) = (0usize, 0usize, 0u32);
        while batches < max_batches {
            let Some((h, _)) = region
                .get(offset as usize..)
                .and_then(|b| BatchHeader::ref_from_prefix(b).ok())
            else {
                break;
            };
            let span = h.span.get();
            if h.magic != BATCH_MAGIC
                || h.batch_offset.get() != offset
                || h.batch_index.get() as usize != batches
                || span == 0
                || span % erase != 0
            {
                break;
            }
            // A torn batch (no commit record yet) is not counted: its room would stay reserved
            // in the mounted index for nothing.
            let commit = offset
                .checked_add(h.commit_offset.get())
                .map(|c| c as usize);
            let committed = commit
                .and_then(|c| region.get(c..c.checked_add(4)?))
                .is_some_and(|m| m == COMMIT_MAGIC);
            if !committed {
                break;
            }
            batches += 1;
            words = words.saturating_add(grains(&h.flash) + grains(&h.ram));
            match offset.checked_add(span) {
                Some(next) if next < len => offset = next,
                _ => break,
            }
        }
        // With room for a few more: a store's next freezes of this boot then find their entry
        // made, instead of growing (moving) the array while they run (their working memory).
        let room = batches.saturating_add(FREEZE_ROOM).min(max_batches);
        let _ = self.batches.try_reserve_exact(room);
        // The mount reads the stored bitmaps in place: the index needs no words for them.
        if check == Check::Full && cfg.start_bitmap_limit >= words.saturating_mul(4) {
            self.starts.reserve(words.min(max_words));
        }
    }
}

pub(crate) fn extend_chain<B: Bytes>(
    r: &B,
    cfg: &ReadConfig<'_>,
    index: &mut ChainIndex,
    check: Check,
) -> Tail {
    // Where an unmapped region's header and commit record are read to (a mapped one's are
    // decoded where they are).
    let mut bufs = (BatchHeader::new_zeroed(), CommitRecord::new_zeroed());
    loop {
        let offset = index.end_offset();
        let n = index.batches.len() as u32;
        let prev_crc = index.batches.last().map_or(0, |b| b.header_crc);
        if offset >= r.region_len() {
            return Tail::RegionEnd;
        }
        let (header, error) = match read_link(r, offset, n, prev_crc, cfg, &mut bufs) {
            Link::End(tail) => return tail,
            Link::Refused(e, h) => (h, e),
            Link::Batch(h, rec) => match validate_with(r, offset, h, rec.crcs(), cfg, index, check)
            {
                Ok(()) => continue,
                // A read error: the caller reports it instead.
                Err(_) if r.failed() => return Tail::RegionEnd,
                Err(e) => (Some(h), e),
            },
        };
        let following = header.map_or(0, |h| count_following(r, offset, h));
        return Tail::Invalid {
            batch: n,
            offset,
            error,
            following,
        };
    }
}

/// Committed batches chained after the refused batch `h` at `offset` (headers and commit
/// records only).
fn count_following<B: Bytes>(r: &B, mut offset: u32, h: &BatchHeader) -> u32 {
    let mut n = 0;
    let mut prev = *h;
    // Each step advances by a non-zero span: at most region_len / span steps.
    loop {
        let span = prev.span.get();
        let Some(next) = offset.checked_add(span).filter(|_| span > 0) else {
            return n;
        };
        let mut buf = BatchHeader::new_zeroed();
        let Ok(&h) = read_header(r, next, &SOFTWARE_CRC, &mut buf) else {
            return n;
        };
        let commit = h.commit_offset.get();
        let chained = h.batch_offset.get() == next
            && h.batch_index.get() == prev.batch_index.get().wrapping_add(1)
            && h.prev_header_crc == prev.header_crc
            && commit.checked_add(COMMIT_LEN as u32).is_some_and(|e| {
                e <= h.span.get() && u64::from(next) + u64::from(e) <= u64::from(r.region_len())
            });
        if !chained {
            return n;
        }
        let mut rec = [0u8; COMMIT_LEN];
        r.read(next + commit, &mut rec);
        if !CommitRecord::read_from_bytes(&rec).is_ok_and(|c| c.commits(&h)) {
            return n;
        }
        n += 1;
        offset = next;
        prev = h;
    }
}

/// Check the batch at `offset` with `header` and contents CRCs `crcs` against every rule, its
/// start bitmap against its object map included ([`Check::Full`]: what the store runs before
/// it commits), and add it to `index` if it passes. After a read error of the device the
/// result means nothing: check [`Reader::take_error`].
pub(crate) fn validate<B: Bytes>(
    r: &B,
    offset: u32,
    header: &BatchHeader,
    crcs: ContentCrcs,
    cfg: &ReadConfig<'_>,
    index: &mut ChainIndex,
) -> Result<(), DecodeError> {
    validate_with(r, offset, header, crcs, cfg, index, Check::Full)
}

/// [`validate`] with the given check.
pub(crate) fn validate_with<B: Bytes>(
    r: &B,
    offset: u32,
    header: &BatchHeader,
    crcs: ContentCrcs,
    cfg: &ReadConfig<'_>,
    index: &mut ChainIndex,
    check: Check,
) -> Result<(), DecodeError> {
    let before = (index.batches.len(), index.cps.len(), index.starts.mark());
    let result = validate_inner(r, offset, header, crcs, cfg, index, check);
    if result.is_err() || r.failed() {
        index.truncate(before.0, before.1, before.2);
    }
    result
}

fn validate_inner<B: Bytes>(
    r: &B,
    offset: u32,
    h: &BatchHeader,
    crcs: ContentCrcs,
    cfg: &ReadConfig<'_>,
    index: &mut ChainIndex,
    check: Check,
) -> Result<(), DecodeError> {
    let bi = h.batch_index.get();
    let at = |rel: u64| u64::from(offset) + rel;
    let lerr = |rel: u64, section, what| layout_err(bi, at(rel), section, what);
    if h.flags.get() != 0 || h.reserved0 != [0; 3] || h.reserved1 != [0; 4] {
        return Err(lerr(0, Section::Header, "reserved bytes are not zero"));
    }
    if h.all_starts > ALL_STARTS {
        return Err(lerr(100, Section::Header, "all_starts is neither 0 nor 1"));
    }
    // Layout: the sections follow each other as the writer lays them out (in u64: no field
    // sum can overflow).
    let after = |s: &SectionRef| u64::from(s.offset.get()) + u64::from(s.len.get());
    let aligned_after =
        |s: &SectionRef| align_up(after(s), u64::from(SECTION_ALIGN)).unwrap_or(u64::MAX);
    let expect = [
        (Section::Flash, &h.flash, HEADER_LEN as u64),
        (Section::Ram, &h.ram, aligned_after(&h.flash)),
        (Section::Roots, &h.roots_table, aligned_after(&h.ram)),
        (Section::PointerMap, &h.pointer_map, after(&h.roots_table)),
        (Section::ObjectMap, &h.object_map, after(&h.pointer_map)),
    ];
    for (section, s, want) in expect {
        if u64::from(s.offset.get()) != want {
            return Err(lerr(
                u64::from(s.offset.get()),
                section,
                "section not where the format puts it",
            ));
        }
    }
    // The start bitmap follows the object map, on a 4-byte boundary, its length from the
    // sections'.
    let bitmap_at = align_up(after(&h.object_map), 4).unwrap_or(u64::MAX);
    let (fwords, rwords) = (start_words(h.flash.len.get()), start_words(h.ram.len.get()));
    let meta_end = bitmap_at + 4 * (u64::from(fwords) + u64::from(rwords));
    if meta_end > u64::from(h.commit_offset.get()) {
        return Err(lerr(
            meta_end,
            Section::Commit,
            "commit record overlaps the maps",
        ));
    }
    // From here every section lies before the commit record, inside the batch and the region:
    // region offsets fit in u32.
    let reg = |s: &SectionRef| offset + s.offset.get()..offset + s.offset.get() + s.len.get();
    let (flash, ram) = (reg(&h.flash), reg(&h.ram));
    let meta = offset + h.roots_table.offset.get()..offset + meta_end as u32;
    for (sec, range, want) in [
        (Section::Flash, flash.clone(), crcs.flash),
        (Section::Ram, ram.clone(), crcs.ram),
        (Section::Roots, meta.clone(), crcs.meta),
    ] {
        // The CRC of no bytes is 0: an empty section (most batches' RAM) costs no engine call.
        let crc = match range.is_empty() {
            true => 0,
            false => r.crc(range.clone(), cfg.crc()),
        };
        if crc != want {
            return Err(DecodeError::Crc {
                batch: bi,
                section: sec,
                offset: u64::from(range.start),
            });
        }
    }
    // Addresses.
    let actual = cfg
        .layout
        .region_address
        .saturating_add(at(HEADER_LEN as u64));
    if h.flash_base.get() != actual
        || h.flash_base
            .get()
            .checked_add(u64::from(h.flash.len.get()))
            .is_none()
    {
        return Err(DecodeError::Misplaced {
            batch: bi,
            claimed: h.flash_base.get(),
            actual,
        });
    }
    let ram_lo = index
        .batches
        .last()
        .map_or(cfg.layout.ram_address, |b| b.ram.end);
    let ram_hi = cfg.layout.ram_address.saturating_add(cfg.layout.ram_len);
    let ram_base = h.ram_base.get();
    if ram_base < ram_lo
        || ram_base
            .checked_add(u64::from(h.ram.len.get()))
            .is_none_or(|e| e > ram_hi)
    {
        return Err(DecodeError::RamRange {
            batch: bi,
            ram_base,
            len: h.ram.len.get(),
        });
    }
    // The start bitmap's frame (both checks cheap, at every boot): the bytes before it are 0,
    // and no bit names a grain at or past its section's end (a pointer there would land
    // outside the section's objects).
    let bm = bitmap_at as u32 + offset;
    let bitmap = [bm, bm + 4 * fwords, bm + 4 * (fwords + rwords)];
    let map_end = offset + after(&h.object_map) as u32;
    let mut pad = [0u8; 3];
    r.read(map_end, &mut pad[..(bm - map_end) as usize]);
    if pad != [0; 3] {
        return Err(lerr(
            after(&h.object_map),
            Section::StartBitmap,
            "bytes before the start bitmap are not zero",
        ));
    }
    for (s, words, len) in [(0, fwords, h.flash.len.get()), (1, rwords, h.ram.len.get())] {
        if let Some(last) = words.checked_sub(1) {
            let at = bitmap[s] + 4 * last;
            let mut w = [0u8; 4];
            r.read(at, &mut w);
            if !start_bits_inside(len, last, u32::from_le_bytes(w)) {
                return Err(DecodeError::Map {
                    batch: bi,
                    section: Section::StartBitmap,
                    offset: u64::from(at),
                    what: "a start bit past its section's end",
                });
            }
        }
    }
    // Object map: every record once, checkpoints kept (a record takes at least one byte).
    let map = reg(&h.object_map);
    let count = u64::from(h.flash_objects.get()) + u64::from(h.ram_objects.get());
    let map_err = |e: MapError, sec: Section, base: u32| DecodeError::Map {
        batch: bi,
        section: sec,
        offset: u64::from(base) + e.offset as u64,
        what: e.what,
    };
    if count > u64::from(map.end - map.start) {
        return Err(map_err(
            MapError {
                offset: 0,
                what: "more objects than records",
            },
            Section::ObjectMap,
            map.start,
        ));
    }
    let memory = || DecodeError::Memory { batch: bi };
    let bitmap_err = |at: u32| DecodeError::Map {
        batch: bi,
        section: Section::StartBitmap,
        offset: u64::from(at),
        what: "the start bitmap differs from the object map",
    };
    // Growth is capped at what the region can hold, so the index never exceeds its bound.
    let erase = cfg.layout.erase_size.max(1);
    let max_batches = (r.region_len() / erase).max(1) as usize;
    let max_cps = (r.region_len() / CHECKPOINT_BYTES) as usize + 2 * max_batches;
    grow(&mut index.batches, max_batches).map_err(|_| memory())?;
    let cp0 = index.cps.len() as u32;
    let table = reg(&h.roots_table);
    let info = |records, cps, bits| BatchInfo {
        index: bi,
        offset,
        span: h.span.get(),
        header_crc: h.header_crc.get(),
        flash: h.flash_range(),
        ram: h.ram_range(),
        objects: (h.flash_objects.get(), h.ram_objects.get()),
        ram_initial: ram.clone(),
        roots: table.clone(),
        root_count: h.roots.get(),
        records,
        cps,
        bits,
    };
    // The mount's path: the stored bitmap, trusted as written under its CRC, read in place;
    // the object map is not decoded (`docs/image-format.md`, "Start bitmap"). Whatever its
    // pointer pass does not accept, the general check below decides and reports.
    if check == Check::Mount && h.all_starts == ALL_STARTS {
        let words = r
            .as_slice()
            .and_then(|region| region.get(bitmap[0] as usize..bitmap[2] as usize))
            .is_some_and(|b| <[u32]>::ref_from_bytes(b).is_ok());
        if let (Some(region), true) = (r.as_slice(), words && bitmap[2] < STORED) {
            // The flash records' end is not known: `flash_objects` reads the whole map (it
            // stops after the flash section's count).
            index.batches.push(info(
                [map.start, map.end, map.end],
                [cp0; 3],
                bitmap.map(|b| b | STORED),
            ));
            if pointers_mapped(region, h, offset, index, cfg)
                && roots_check(r, h, offset, index, cfg, map.clone(), bi).is_ok()
            {
                return Ok(());
            }
            index.batches.pop();
        }
    }
    let mut records = [map.start; 3];
    let mut cps = [cp0; 3];
    // The bitmap of object starts (one bit per START_GRAIN bytes of each section), when it
    // fits the configured limit and the heap; without it, pointer checks use the checkpoints.
    let want = fwords as usize + rwords as usize;
    let max_words = (r.region_len() / START_WORD_BYTES) as usize + 2 * max_batches;
    let bits = match index.starts.words() + want <= cfg.start_bitmap_limit / 4 {
        true => match index.starts.alloc(want, max_words) {
            Some(s0) => [s0, s0 + fwords, s0 + fwords + rwords],
            None => [NO_BITS; 3],
        },
        false => [NO_BITS; 3],
    };
    let counts = [
        (h.flash_objects.get(), h.flash.len.get()),
        (h.ram_objects.get(), h.ram.len.get()),
    ];
    // A mapped region takes the fast loop (in place, u32 arithmetic); whatever it does not
    // accept goes through the general decoder below, which reports it.
    let mut fast = None;
    if let Some(region) = r.as_slice() {
        // Taken only when every object starts on a grain and the stored bitmap is the one
        // decoded (else the general loop finds and reports the difference).
        let same = |index: &mut ChainIndex| {
            let stored = region.get(bitmap[0] as usize..bitmap[2] as usize);
            let made = index.starts.range_mut(bits[0], bits[2]);
            h.all_starts == ALL_STARTS && stored.zip(made).is_some_and(|(s, m)| s == m.as_bytes())
        };
        match objects_mapped(region, map.clone(), counts, index, bits).filter(|_| same(index)) {
            Some(found) => fast = Some(found),
            None => {
                index.cps.truncate(cp0 as usize);
                if let Some(words) = index.starts.range_mut(bits[0], bits[2]) {
                    words.fill(0);
                }
            }
        }
    }
    let plain = if let Some((found_records, found_cps, plain)) = fast {
        records = found_records;
        cps = found_cps;
        plain
    } else {
        let mut cursor = r.cursor(map.clone());
        let mut off_grain = false;
        for (i, (n, len)) in [
            (h.flash_objects.get(), h.flash.len.get()),
            (h.ram_objects.get(), h.ram.len.get()),
        ]
        .into_iter()
        .enumerate()
        {
            let start = map.start + cursor.consumed() as u32;
            records[i] = start;
            let mut dec = ObjectMapDecoder::with_input(&mut cursor, n, u64::from(len));
            let mut stored = StoredStarts::new(bitmap[i], bitmap[i + 1]);
            let mut last = (0u32, 0u32); // (record index, end) of the last checkpoint
            let mut k = 0u32;
            let mut pos = start;
            loop {
                let end = dec.end() as u32;
                if k == 0 || (k - last.0 >= CHECKPOINT_OBJECTS && end - last.1 >= CHECKPOINT_BYTES)
                {
                    grow(&mut index.cps, max_cps).map_err(|_| memory())?;
                    index.cps.push(Checkpoint { end, map_pos: pos });
                    last = (k, end);
                }
                match dec.next() {
                    None => break,
                    Some(Ok((start, _))) => {
                        // start < len: a u32, inside the section's bitmap.
                        let start = start as u32;
                        if bits[i] != NO_BITS && start % START_GRAIN == 0 {
                            let bit = start / START_GRAIN;
                            if let Some(w) = index.starts.get_mut(bits[i] + bit / 32) {
                                set_bit(w, bit);
                            }
                        }
                        off_grain |= start % START_GRAIN != 0;
                        stored.start(r, start).map_err(bitmap_err)?;
                    }
                    Some(Err(e)) => return Err(map_err(e, Section::ObjectMap, map.start)),
                }
                k += 1;
                pos = map.start + dec.position() as u32;
            }
            if dec.end() != u64::from(len) {
                let e = MapError {
                    offset: dec.position(),
                    what: "objects do not fill their section",
                };
                return Err(map_err(e, Section::ObjectMap, map.start));
            }
            stored.finish(r).map_err(bitmap_err)?;
            // The checkpoint taken after the last record leads nowhere: drop it.
            if k > 0
                && index
                    .cps
                    .last()
                    .is_some_and(|c| c.map_pos == pos && last.0 == k)
            {
                index.cps.pop();
            }
            cps[i + 1] = index.cps.len() as u32;
        }
        records[2] = map.start + cursor.consumed() as u32;
        if records[2] != map.end {
            let e = MapError {
                offset: cursor.consumed(),
                what: "bytes after the last record",
            };
            return Err(map_err(e, Section::ObjectMap, map.start));
        }
        if off_grain == (h.all_starts == ALL_STARTS) {
            return Err(lerr(100, Section::Header, ALL_STARTS_DIFFER));
        }
        false
    };
    index.batches.push(info(records, cps, bits));
    // Pointers: every word the map names must lie inside an object and hold an object start.
    let fast_pointers = match r.as_slice() {
        Some(region) if plain => pointers_mapped(region, h, offset, index, cfg),
        _ => false,
    };
    if !fast_pointers {
        generic_pointers(r, h, offset, index, cfg, records, map.clone(), bi)?;
    }
    roots_check(r, h, offset, index, cfg, map, bi)
}

/// The general check of one section's stored start bitmap (region offsets `at..end`) against
/// the object map's starts, fed in increasing order: the words the writer's encoder
/// ([`StartBitmapEncoder`]) makes of them, compared one at a time with the stored ones, read
/// from the region (no copy of the bitmap).
struct StoredStarts {
    /// Region offset of the next stored word to compare.
    at: u32,
    /// Words in the section's bitmap.
    words: u32,
    enc: StartBitmapEncoder,
}

impl StoredStarts {
    fn new(at: u32, end: u32) -> Self {
        Self {
            at,
            words: end.saturating_sub(at) / 4,
            enc: StartBitmapEncoder::new(),
        }
    }

    /// Compare the encoder's words before section word `to` (and inside the section) with the
    /// stored ones: the region offset of the first stored word that differs.
    fn compare_to<B: Bytes>(&mut self, r: &B, to: u32) -> Result<(), u32> {
        while let Some(made) = self.enc.word_before(to.min(self.words)) {
            let mut w = [0u8; 4];
            r.read(self.at, &mut w);
            if w != made {
                return Err(self.at);
            }
            self.at += 4;
        }
        Ok(())
    }

    /// An object starts at section offset `start` (inside the section).
    fn start<B: Bytes>(&mut self, r: &B, start: u32) -> Result<(), u32> {
        if start % START_GRAIN != 0 {
            return Ok(());
        }
        self.compare_to(r, start / START_WORD_BYTES)?;
        self.enc.mark(start);
        Ok(())
    }

    /// The section's last words.
    fn finish<B: Bytes>(&mut self, r: &B) -> Result<(), u32> {
        self.compare_to(r, u32::MAX)
    }
}

/// Set bit `bit` (mod 32) of a bitmap word, kept little-endian (as the stored bitmap is).
#[inline(always)]
fn set_bit(w: &mut u32, bit: u32) {
    *w |= (1u32 << (bit % 32)).to_le();
}

/// Whether bit `bit` (mod 32) of a little-endian bitmap word is set.
#[inline(always)]
fn has_bit(w: u32, bit: u32) -> bool {
    (u32::from_le(w) >> (bit % 32)) & 1 == 1
}

/// The general pointer pass: every word the pointer map names lies inside an object (the
/// object map decoded alongside) and decodes to an object start or a static address.
#[allow(clippy::too_many_arguments)]
fn generic_pointers<B: Bytes>(
    r: &B,
    h: &BatchHeader,
    offset: u32,
    index: &ChainIndex,
    cfg: &ReadConfig<'_>,
    records: [u32; 3],
    map: Range<u32>,
    bi: u32,
) -> Result<(), DecodeError> {
    let reg = |s: &SectionRef| offset + s.offset.get()..offset + s.offset.get() + s.len.get();
    let (flash, ram) = (reg(&h.flash), reg(&h.ram));
    let map_err = |e: MapError, sec: Section, base: u32| DecodeError::Map {
        batch: bi,
        section: sec,
        offset: u64::from(base) + e.offset as u64,
        what: e.what,
    };
    let rb = u32::from(h.ref_bytes);
    let (fw, rw) = h.pointer_words();
    let ptr_base = reg(&h.pointer_map).start;
    let mut tokens = r.cursor(reg(&h.pointer_map));
    let mut objs = [
        ObjectMapDecoder::with_input(
            r.cursor(records[0]..records[1]),
            h.flash_objects.get(),
            u64::from(h.flash.len.get()),
        ),
        ObjectMapDecoder::with_input(
            r.cursor(records[1]..records[2]),
            h.ram_objects.get(),
            u64::from(h.ram.len.get()),
        ),
    ];
    // Objects and words are inside sections of u32 lengths: offsets in u32 (the pointer map
    // numbers at most (flash + RAM length) / rb words, so `word * rb` fits).
    let mut current = [(0u32, 0u32); 2];
    let mut words = r.cursor(flash.start..ram.end);
    let mut lookup = r.cursor(map.clone());
    let sections = [(Section::Flash, flash.start), (Section::Ram, ram.start)];
    for word in PointerMapDecoder::with_input(&mut tokens, fw + rw) {
        let word = word.map_err(|e| map_err(e, Section::PointerMap, ptr_base))?;
        let (i, rel) = if word < fw {
            (0, word as u32 * rb)
        } else {
            (1, (word - fw) as u32 * rb)
        };
        let (sec, sec_start) = sections[i];
        let fault = |value: u64, address: u64, fault| DecodeError::Pointer {
            batch: bi,
            section: sec,
            offset: u64::from(sec_start) + u64::from(rel),
            value,
            address,
            fault,
        };
        let word_end = rel + rb;
        while current[i].1 < word_end {
            match objs[i].next() {
                // Inside the section (the decoder checks it): u32.
                Some(Ok((s, size))) => current[i] = (s as u32, (s + size) as u32),
                _ => return Err(fault(0, 0, PointerFault::WordOutsideObject)),
            }
        }
        if current[i].0 > rel {
            return Err(fault(0, 0, PointerFault::WordOutsideObject));
        }
        // rel + rb <= the section's length: the word lies inside the batch.
        words.seek(sec_start + rel, ram.end);
        let Some(value) = words.take_word(rb) else {
            return Err(fault(0, 0, PointerFault::WordOutsideObject));
        };
        let Some(address) = cfg.encoding.decode(value) else {
            return Err(fault(value, 0, PointerFault::Undecodable));
        };
        check_target(address, index, cfg, &mut lookup).map_err(|f| fault(value, address, f))?;
    }
    Ok(())
}

/// The roots: each entry well formed, each address an object start or a static address.
fn roots_check<B: Bytes>(
    r: &B,
    h: &BatchHeader,
    offset: u32,
    index: &ChainIndex,
    cfg: &ReadConfig<'_>,
    map: Range<u32>,
    bi: u32,
) -> Result<(), DecodeError> {
    let reg = |s: &SectionRef| offset + s.offset.get()..offset + s.offset.get() + s.len.get();
    let table = reg(&h.roots_table);
    let lerr = |rel: u64, section, what| layout_err(bi, u64::from(offset) + rel, section, what);
    let mut lookup = r.cursor(map);
    // Roots.
    let entries = u64::from(h.roots.get()) * ROOT_ENTRY_LEN as u64;
    let table_len = u64::from(table.end - table.start);
    if entries > table_len {
        return Err(lerr(
            u64::from(h.roots_table.offset.get()),
            Section::Roots,
            "more roots than the table holds",
        ));
    }
    for i in 0..h.roots.get() {
        let entry_at = table.start + i * ROOT_ENTRY_LEN as u32;
        let root = read_root(r, table.clone(), i).map_err(|what| DecodeError::Root {
            batch: bi,
            index: i,
            what,
        })?;
        check_target(root.address.get(), index, cfg, &mut lookup).map_err(|fault| {
            DecodeError::Pointer {
                batch: bi,
                section: Section::Roots,
                offset: u64::from(entry_at),
                value: root.address.get(),
                address: root.address.get(),
                fault,
            }
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The fast loops of a mapped region
//
// Both read the region in place with u32 arithmetic and accept exactly what the general
// decoders accept in the common case (records of up to 4 bytes, objects aligned to
// START_GRAIN); anything else, and any fault, makes them give up, and the general loops run
// instead and report what is wrong. So they only ever speed up a valid image: the verdict is
// the general loops' (`tests/mutations.rs` compares the paths on thousands of mutated images).

/// A LEB128 value of at most 4 bytes at `bytes[*p]` (longer ones: `None`, the general decoder
/// takes them).
#[inline(always)]
fn varint4(bytes: &[u8], p: &mut usize) -> Option<u32> {
    let mut v = 0u32;
    for shift in [0, 7, 14, 21] {
        let b = *bytes.get(*p)?;
        *p += 1;
        v |= u32::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The object-map pass of a mapped region with a bitmap of starts, in place: the records
/// checked as the general loop checks them, their starts set in the bitmap. It takes only
/// batches whose objects all start on a grain; those need no checkpoints (a pointer to any
/// other offset is to no object start), so none are made. Also whether the batch is *plain*:
/// no padding before any object and every size a multiple of the grain (every grain of each
/// section lies inside one object).
fn objects_mapped(
    region: &[u8],
    map: Range<u32>,
    counts: [(u32, u32); 2],
    index: &mut ChainIndex,
    bits: [u32; 3],
) -> Option<([u32; 3], [u32; 3], bool)> {
    let bytes = region.get(map.start as usize..map.end as usize)?;
    if bits[0] == NO_BITS {
        return None;
    }
    let cp = index.cps.len() as u32;
    let mut records = [map.start; 3];
    let mut p = 0usize;
    let mut plain = true;
    for (i, (n, len)) in counts.into_iter().enumerate() {
        records[i] = map.start + p as u32;
        let starts = index.starts.range_mut(bits[i], bits[i + 1])?;
        let (next, section_plain) = starts_of(bytes, p, n, len, starts)?;
        p = next;
        plain &= section_plain;
    }
    records[2] = map.start + p as u32;
    (records[2] == map.end).then_some((records, [cp; 3], plain))
}

/// `n` records of a section of `len` bytes from `bytes[p..]` into `starts`: the position after
/// them and whether the section is plain; `None` for anything the general decoder must see
/// (a record over 4 bytes, an object not on a grain, any fault).
///
/// The loop is what the M0+ runs once per object at every boot, so it keeps few values live (a
/// Cortex-M0+ has seven free low registers): a one-byte record (no padding, size < 64) is a
/// load, a test, a shift and an add, then the start's bit is set. Sections end where the
/// starts do, so the section's end is checked once after the loop: the ends only grow, and a
/// start past the section's bitmap fails its bounds check first.
#[inline(never)]
fn starts_of(
    bytes: &[u8],
    p: usize,
    n: u32,
    len: u32,
    starts: &mut [u32],
) -> Option<(usize, bool)> {
    let mut it = bytes.get(p..)?.iter();
    let mut end = 0u32;
    // Whether any object is padded. Without padding every object ends where the next one
    // starts, on a grain (checked below), and the last one at the section's end (a whole
    // number of grains when the pointer pass takes it): the section is plain.
    let mut padded = false;
    for _ in 0..n {
        let b = u32::from(*it.next()?);
        let start;
        if b & 0x81 == 0 {
            // The usual record: one byte, no padding (`size << 1`, size < 64). (Wrapping cannot
            // happen before a start leaves the bitmap: each step adds less than 64.)
            start = end;
            end = end.wrapping_add(b >> 1);
        } else {
            let rest = it.as_slice();
            let (size, pad, used) = long_record(b, rest)?;
            it = rest.get(used..)?.iter();
            start = end.checked_add(pad)?;
            end = start.checked_add(size)?;
            padded |= pad != 0;
        }
        // A zero size would repeat a start.
        if end <= start || start % START_GRAIN != 0 {
            return None;
        }
        let bit = start / START_GRAIN;
        set_bit(starts.get_mut((bit / 32) as usize)?, bit);
    }
    let p = bytes.len() - it.as_slice().len();
    (end == len).then_some((p, !padded && len % START_GRAIN == 0))
}

/// The record whose first byte is `b` (not a one-byte record without padding), its other bytes
/// at the start of `rest`: its size, pad and how many bytes of `rest` it takes (`None` for a
/// value over 4 bytes, or a pad flag with a pad of 0).
#[inline(never)]
fn long_record(b: u32, rest: &[u8]) -> Option<(u32, u32, usize)> {
    let mut v = b & 0x7F;
    let mut p = 0;
    if b & 0x80 != 0 {
        // The first byte is consumed: at most three more.
        let more = varint4(rest, &mut p)?;
        v |= more.checked_shl(7).filter(|_| more < 1 << 21)?;
    }
    let pad = if v & 1 == 1 {
        Some(varint4(rest, &mut p)?).filter(|&pad| pad > 0)?
    } else {
        0
    };
    Some((v >> 1, pad, p))
}

/// Earlier batches a pointer of the plain pass looks through before it searches the chain
/// (a scan from the most recent: cheaper than the search on a short chain, bounded on a long one).
const EARLIER_SCAN: usize = 8;

/// What the plain pointer pass checks words against (see [`pointers_mapped`]).
struct Plain<'a> {
    /// The batch's flash section (absolute, below 4 GiB): the target of most words.
    flash_lo: u32,
    flash_len: u32,
    /// The batch's bitmaps of object starts: the flash section's words, then the RAM
    /// section's from `ram_bits` on.
    starts: &'a [u32],
    ram_bits: usize,
    /// The batch's RAM section (absolute).
    ram_lo: u32,
    ram_len: u32,
    /// From the lowest to the highest address of any validated batch's sections (this one's
    /// included): an address outside it is in no batch.
    chain_lo: u32,
    chain_len: u32,
    index: &'a ChainIndex,
    cfg: &'a ReadConfig<'a>,
    lookup: SliceCursor<'a>,
}

impl Plain<'_> {
    /// Whether the pointer word `word` (as stored) is valid (see [`Own::ok`]).
    #[inline(always)]
    fn ok(&mut self, word: u32) -> bool {
        Own::of(self).ok(self, word)
    }

    /// A target outside the batch's flash section's bitmap.
    #[inline(never)]
    fn other(&mut self, v: u32) -> bool {
        if v.wrapping_sub(self.flash_lo) < self.flash_len {
            // Inside the section but past the bitmap: cannot happen (it covers the section).
            return false;
        }
        let rel = v.wrapping_sub(self.ram_lo);
        if rel < self.ram_len {
            return rel % START_GRAIN == 0
                && bit_set(self.starts, self.ram_bits, rel / START_GRAIN);
        }
        if v.wrapping_sub(self.chain_lo) >= self.chain_len {
            // Past every batch's sections: a static target or none (what `check_target`
            // concludes after searching the batches).
            let a = u64::from(v);
            return self.cfg.statics.iter().any(|r| r.contains(&a));
        }
        match self.earlier(v) {
            Some(ok) => ok,
            None => check_target(u64::from(v), self.index, self.cfg, &mut self.lookup).is_ok(),
        }
    }

    /// A target in one of the [`EARLIER_SCAN`] batches before this one, checked by its bitmap
    /// (as [`is_object_start`] would): the most recent first, since a module's objects mostly
    /// point into the modules it imported just before. `None` when it is in none of them or
    /// their bitmaps cannot tell ([`check_target`] then searches the chain).
    #[inline(never)]
    fn earlier(&self, v: u32) -> Option<bool> {
        let (last, before) = self.index.batches.split_last()?;
        let first = self.index.batches.first()?;
        for b in before.iter().rev().take(EARLIER_SCAN) {
            // Every batch's sections lie inside `chain_lo..` below 4 GiB (`pointers_mapped`
            // checked it): their bounds are exact as u32.
            let inside = |r: &Range<u64>| {
                let rel = v.wrapping_sub(r.start as u32);
                (rel < (r.end as u32).wrapping_sub(r.start as u32)).then_some(rel)
            };
            let (s, rel) = if let Some(rel) = inside(&b.flash) {
                (0, rel)
            } else if let Some(rel) = inside(&b.ram) {
                // `check_target` looks in every batch's flash section before any RAM one: a
                // RAM target is decided here only outside them all (a layout may make the
                // frozen RAM area overlap the region's addresses).
                if inside(&(first.flash.start..last.flash.end)).is_some() {
                    return None;
                }
                (1, rel)
            } else {
                continue;
            };
            if b.bits[s] == NO_BITS || rel % START_GRAIN != 0 {
                return None;
            }
            let bit = rel / START_GRAIN;
            let w = match b.stored() {
                true => region_word(
                    self.lookup.bytes,
                    b.stored_at(s),
                    b.stored_at(s + 1),
                    bit / 32,
                ),
                false => self.index.starts.get(b.bits[s] + bit / 32).copied(),
            };
            return Some(w.is_some_and(|w| has_bit(w, bit)));
        }
        None
    }

    /// The words of `words` that bits `bits` (LSB first) name.
    #[inline(always)]
    fn literal(&mut self, words: &[u32], mut bits: u32) -> bool {
        let mut j = 0;
        while bits != 0 {
            if bits & 1 == 1 {
                match words.get(j) {
                    Some(&w) if self.ok(w) => {}
                    _ => return false,
                }
            }
            bits >>= 1;
            j += 1;
        }
        true
    }

    /// Every word of `words`.
    #[inline(always)]
    fn run(&mut self, words: &[u32]) -> bool {
        words.iter().all(|&w| self.ok(w))
    }
}

/// What the usual pointer check needs, copied out of [`Plain`] so that it stays in registers
/// across the checks of a token.
#[derive(Clone, Copy)]
struct Own<'a> {
    /// The batch's flash section's address.
    lo: u32,
    /// Its bitmap of object starts: no bit is set past the section's end.
    starts: &'a [u32],
}

impl<'a> Own<'a> {
    fn of(c: &Plain<'a>) -> Self {
        Self {
            lo: c.flash_lo,
            starts: c.starts.get(..c.ram_bits).unwrap_or(&[]),
        }
    }

    /// Whether the pointer word `word` (as stored) is valid: for a target in the batch's flash section, a
    /// subtract, a shift, a bounds check and a bit test. A target past the section but inside
    /// its bitmap's last word finds a clear bit and is refused here, and the general pass
    /// then decides; anything else goes out of line ([`Plain::other`]).
    #[inline(always)]
    fn ok(self, c: &mut Plain<'_>, word: u32) -> bool {
        let v = u32::from_le(word);
        let rel = v.wrapping_sub(self.lo);
        match self.starts.get((rel / START_WORD_BYTES) as usize) {
            Some(&w) => rel % START_GRAIN == 0 && has_bit(w, rel / START_GRAIN),
            None => c.other(v),
        }
    }
}

/// Word `w` of the stored bitmap at region offsets `from..to` of `region`.
#[inline(always)]
fn region_word(region: &[u8], from: u32, to: u32, w: u32) -> Option<u32> {
    let at = from.checked_add(w.checked_mul(4)?)?;
    let end = at.checked_add(4).filter(|&e| e <= to)?;
    let b = region.get(at as usize..end as usize)?;
    Some(u32::from_ne_bytes(b.try_into().ok()?))
}

/// Bit `bit` of the bitmap that starts at word `from` of `starts`.
#[inline(always)]
fn bit_set(starts: &[u32], from: usize, bit: u32) -> bool {
    starts
        .get(from + (bit / 32) as usize)
        .is_some_and(|&w| has_bit(w, bit))
}

/// The pointer pass of a mapped region in the common encoding: 4-byte bare addresses, both
/// sections below 4 GiB and at word-aligned addresses in memory; a check is a load, a range
/// test and a bit test. It does not check that a word lies inside an object: the full check
/// runs it only on a *plain* batch (see [`objects_mapped`]), where every word does, and the
/// mount on a batch whose object map it trusts (`docs/image-format.md`, "Start bitmap").
/// `false` at the first word it does not accept, or when the batch is not such a batch: the
/// general pass then runs and reports.
fn pointers_mapped(
    region: &[u8],
    h: &BatchHeader,
    offset: u32,
    index: &ChainIndex,
    cfg: &ReadConfig<'_>,
) -> bool {
    let Some(b) = index.batches.last() else {
        return false;
    };
    let narrow = |r: &Range<u64>| Some(u32::try_from(r.start).ok()?..u32::try_from(r.end).ok()?);
    let (Some(flash32), Some(ram32)) = (narrow(&b.flash), narrow(&b.ram)) else {
        return false;
    };
    // Batches lie in address order, flash and RAM alike.
    let first = &index.batches[0];
    let lo = first.flash.start.min(first.ram.start);
    let hi = b.flash.end.max(b.ram.end);
    let Some(chain32) = narrow(&(lo..hi)) else {
        return false;
    };
    if b.bits[0] == NO_BITS || h.ref_bytes != 4 || cfg.encoding != RefEncoding::ADDRESS_32 {
        return false;
    }
    let (fw, rw) = h.pointer_words();
    let (Ok(flash_words), Ok(total)) = (u32::try_from(fw), u32::try_from(fw + rw)) else {
        return false;
    };
    let pm = offset + h.pointer_map.offset.get();
    let Some(tokens) = region.get(pm as usize..(pm + h.pointer_map.len.get()) as usize) else {
        return false;
    };
    // Each section as words, read in place (the region's bytes must be word-aligned in memory,
    // as mapped flash is).
    // A section's last bytes that are not a whole word hold no reference word (a token that
    // names one finds no word here, and the general pass decides).
    let section = |s: &SectionRef| {
        let at = offset as usize + s.offset.get() as usize;
        let bytes = region.get(at..at + (s.len.get() & !3) as usize)?;
        <[u32]>::ref_from_bytes(bytes).ok()
    };
    let (Some(flash), Some(ram)) = (section(&h.flash), section(&h.ram)) else {
        return false;
    };
    // The batch's bitmaps: its stored one in place (the mount's), or the index's words.
    let (starts, ram_bits) = if b.stored() {
        let words = region
            .get(b.stored_at(0) as usize..b.stored_at(2) as usize)
            .and_then(|w| <[u32]>::ref_from_bytes(w).ok());
        (words, ((b.stored_at(1) - b.stored_at(0)) / 4) as usize)
    } else {
        let chunk = index.starts.chunk(b.bits[0] >> Starts::SHIFT);
        let words =
            chunk.get((b.bits[0] & Starts::MASK) as usize..(b.bits[2] & Starts::MASK) as usize);
        (words, (b.bits[1] - b.bits[0]) as usize)
    };
    let Some(starts) = starts else {
        return false;
    };
    let mut c = Plain {
        flash_lo: flash32.start,
        flash_len: flash32.end - flash32.start,
        starts,
        ram_bits,
        ram_lo: ram32.start,
        ram_len: ram32.end - ram32.start,
        chain_lo: chain32.start,
        chain_len: chain32.end - chain32.start,
        index,
        cfg,
        lookup: SliceCursor {
            bytes: region,
            base: 0,
            pos: 0,
            end: 0,
        },
    };
    pointers_plain(&mut c, tokens, [flash, ram], flash_words, total)
}

/// The token loop of [`pointers_mapped`]: the words of `sections` (flash, then RAM; numbered
/// over both, `fw` in the first) that `tokens` name, `total` words in all.
///
/// The two usual tokens take the short way: a literal whose seven words lie in the flash
/// section (seven bit tests, no bounds check per word), and a run of non-reference words (an
/// add). Every other token goes through [`plain_token`].
#[inline(never)]
fn pointers_plain(
    c: &mut Plain<'_>,
    tokens: &[u8],
    [flash, ram]: [&[u32]; 2],
    fw: u32,
    total: u32,
) -> bool {
    let own = Own::of(c);
    // Invariant: w <= total.
    let mut w = 0u32;
    let last = tokens.len().wrapping_sub(1);
    for (k, &t) in tokens.iter().enumerate() {
        if t & 0xC0 == 0 {
            let n = u32::from(t) + 1;
            if n > total - w {
                return false;
            }
            w += n;
            continue;
        }
        if t & 0x80 != 0 {
            let at = w as usize;
            if let Some(a) = flash
                .get(at..at + 7)
                .and_then(|a| <&[u32; 7]>::try_from(a).ok())
            {
                let bits = u32::from(t);
                let ok = (bits & 1 == 0 || own.ok(c, a[0]))
                    && (bits & 2 == 0 || own.ok(c, a[1]))
                    && (bits & 4 == 0 || own.ok(c, a[2]))
                    && (bits & 8 == 0 || own.ok(c, a[3]))
                    && (bits & 16 == 0 || own.ok(c, a[4]))
                    && (bits & 32 == 0 || own.ok(c, a[5]))
                    && (bits & 64 == 0 || own.ok(c, a[6]));
                if !ok {
                    return false;
                }
                w += LITERAL_WORDS;
                continue;
            }
        }
        match plain_token(c, t, w, k == last, [flash, ram], fw, total) {
            Some(next) => w = next,
            None => return false,
        }
    }
    w == total
}

/// A token of [`pointers_plain`] other than the usual two, at word `w`: the word after it, or
/// `None` when a word it names is refused (or the token is malformed).
#[inline(never)]
fn plain_token(
    c: &mut Plain<'_>,
    t: u8,
    w: u32,
    last: bool,
    [flash, ram]: [&[u32]; 2],
    fw: u32,
    total: u32,
) -> Option<u32> {
    if w >= total {
        return None;
    }
    let remaining = total - w;
    // Words `from..to` of the numbering: one slice per section, clipped to the section's
    // whole words (its last bytes, when they are not a whole word, hold no reference: a token
    // that names one there is refused), and how many words of the numbering each covers.
    let pieces = |from: u32, to: u32| {
        let (a, b) = (from.min(fw) as usize, to.min(fw) as usize);
        let (x, y) = ((from.max(fw) - fw) as usize, (to.max(fw) - fw) as usize);
        let (f0, f1) = (a.min(flash.len()), b.min(flash.len()));
        let (r0, r1) = (x.min(ram.len()), y.min(ram.len()));
        (
            flash.get(f0..f1).unwrap_or(&[]),
            ram.get(r0..r1).unwrap_or(&[]),
            b - a,
            y - x,
        )
    };
    if t & 0x80 != 0 {
        let bits = u32::from(t & 0x7F);
        let covered = remaining.min(LITERAL_WORDS);
        if covered < LITERAL_WORDS && ((bits >> covered) != 0 || !last) {
            return None;
        }
        // `literal` refuses a bit past its slice's words.
        let (f, r, nf, _) = pieces(w, w + covered);
        let nf = nf as u32;
        (c.literal(f, bits & ((1 << nf) - 1)) && c.literal(r, bits >> nf)).then_some(w + covered)
    } else {
        let n = u32::from(t & 0x3F) + 1;
        if n > remaining {
            return None;
        }
        if t & 0x40 != 0 {
            let (f, r, nf, nr) = pieces(w, w + n);
            if f.len() != nf || r.len() != nr || !(c.run(f) && c.run(r)) {
                return None;
            }
        }
        Some(w + n)
    }
}

/// Make room for one more entry: double the capacity, but never past `max` entries.
fn grow<T>(v: &mut Vec<T>, max: usize) -> Result<(), alloc::collections::TryReserveError> {
    if v.len() < v.capacity() {
        return Ok(());
    }
    let want = v.capacity().max(4).min(max.saturating_sub(v.len())).max(1);
    v.try_reserve_exact(want)
}

/// Root entry `i` of the table at region range `table`, its name checked to lie inside the
/// table and to be UTF-8.
fn read_root<B: Bytes>(r: &B, table: Range<u32>, i: u32) -> Result<RootEntry, &'static str> {
    let len = u64::from(table.end - table.start);
    let at = u64::from(i) * ROOT_ENTRY_LEN as u64;
    if at + ROOT_ENTRY_LEN as u64 > len {
        return Err("entry outside the table");
    }
    let mut buf = RootEntry::new_zeroed();
    let entry = *record_at(r, table.start + at as u32, &mut buf);
    let start = u64::from(entry.name_offset.get());
    let end = start + u64::from(entry.name_len.get());
    if end > len {
        return Err("name outside the table");
    }
    // A mapped region: the name checked where it is (no copy).
    if let Some(region) = r.as_slice() {
        let at = table.start as usize;
        return match region.get(at + start as usize..at + end as usize) {
            Some(name) if core::str::from_utf8(name).is_ok() => Ok(entry),
            Some(_) => Err("name is not UTF-8"),
            None => Err("name outside the table"),
        };
    }
    // UTF-8, checked in chunks (a sequence may straddle two: carry its start over).
    let mut buf = [0u8; 64 + 3];
    let mut carry = 0usize;
    let mut pos = start;
    while pos < end {
        let n = ((end - pos) as usize).min(64);
        r.read(table.start + pos as u32, &mut buf[carry..carry + n]);
        let have = carry + n;
        match core::str::from_utf8(&buf[..have]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..have, 0);
                carry = have - valid;
            }
            Err(_) => return Err("name is not UTF-8"),
        }
        pos += n as u64;
    }
    if carry != 0 {
        return Err("name is not UTF-8");
    }
    Ok(entry)
}

/// Where a pointer may go: an object start of a validated batch (this one included), or a
/// static range.
fn check_target<I: SeekInput>(
    value: u64,
    index: &ChainIndex,
    cfg: &ReadConfig<'_>,
    lookup: &mut I,
) -> Result<(), PointerFault> {
    // Most pointers go to the batch being validated (the last one): look there first.
    if let Some(b) = index.batches.last() {
        if b.flash.contains(&value) {
            return is_start_or(is_object_start(
                index,
                b,
                0,
                (value - b.flash.start) as u32,
                lookup,
            ));
        }
        if b.ram.contains(&value) {
            return is_start_or(is_object_start(
                index,
                b,
                1,
                (value - b.ram.start) as u32,
                lookup,
            ));
        }
    }
    let found = if let Some(b) = index.find(value, |b| &b.flash) {
        Some(is_object_start(
            index,
            b,
            0,
            (value - b.flash.start) as u32,
            lookup,
        ))
    } else {
        index
            .find(value, |b| &b.ram)
            .map(|b| is_object_start(index, b, 1, (value - b.ram.start) as u32, lookup))
    };
    match found {
        Some(true) => Ok(()),
        Some(false) => Err(PointerFault::NotObjectStart),
        None if cfg.statics.iter().any(|r| r.contains(&value)) => Ok(()),
        None => Err(PointerFault::OutOfRange),
    }
}

fn is_start_or(start: bool) -> Result<(), PointerFault> {
    if start {
        Ok(())
    } else {
        Err(PointerFault::NotObjectStart)
    }
}

/// Whether an object of `b`'s section `s` (0 flash, 1 RAM) starts at `rel`: a bit of the
/// batch's bitmap of object starts when `rel` is word-aligned and the batch has one; otherwise
/// from the last checkpoint at or before `rel`, decode records forward.
fn is_object_start<I: SeekInput>(
    index: &ChainIndex,
    b: &BatchInfo,
    s: usize,
    rel: u32,
    lookup: &mut I,
) -> bool {
    if b.bits[s] != NO_BITS {
        if rel % START_GRAIN == 0 {
            let bit = rel / START_GRAIN;
            let w = if b.stored() {
                // The stored bitmap, read from the region.
                let at = b.stored_at(s).saturating_add(4 * (bit / 32));
                lookup.seek(at, b.stored_at(s + 1));
                lookup.take_word(4).map(|w| (w as u32).to_le())
            } else {
                index.starts.get(b.bits[s] + bit / 32).copied()
            };
            return w.is_some_and(|w| has_bit(w, bit));
        }
        // A batch the fast pass took has no checkpoints: all its objects start on a grain.
        if b.cps[0] == b.cps[2] {
            return false;
        }
    }
    let cps = index
        .cps
        .get(b.cps[s] as usize..b.cps[s + 1] as usize)
        .unwrap_or(&[]);
    let k = cps.partition_point(|c| c.end <= rel);
    let Some(cp) = k.checked_sub(1).and_then(|k| cps.get(k)) else {
        return false;
    };
    let len = if s == 0 {
        b.flash.end - b.flash.start
    } else {
        b.ram.end - b.ram.start
    };
    lookup.seek(cp.map_pos, b.records[s + 1]);
    let mut dec = ObjectMapDecoder::resume(&mut *lookup, u64::from(cp.end), len);
    let rel = u64::from(rel);
    while !dec.is_done() {
        match dec.next() {
            Some(Ok((start, _))) if start == rel => return true,
            Some(Ok((start, _))) if start < rel => {}
            _ => return false,
        }
    }
    false
}

// ---------------------------------------------------------------------------------------------
// The image view: validated batches of a mapped region, for dumps, rebase and tests

/// A validated, committed batch of a mapped region.
#[derive(Clone, Debug)]
pub struct Batch<'a> {
    info: BatchInfo,
    encoding: RefEncoding,
    header: BatchHeader,
    commit: CommitRecord,
    bytes: &'a [u8],
}

/// A root as read back from an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageRoot<'a> {
    /// Its kind.
    pub kind: RootKind,
    /// Its name.
    pub name: &'a str,
    /// Absolute address of the root object.
    pub address: u64,
}

/// An object as read back from an image: its place and size (the VM knows its kind).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageObject<'a> {
    /// Section.
    pub placement: Placement,
    /// Absolute address.
    pub address: u64,
    /// Its bytes (for the RAM section: the initial state stored in flash).
    pub bytes: &'a [u8],
    /// Offsets (inside the object) of its reference words, with the address each decodes to
    /// (in the image's [`ReadConfig::encoding`]).
    pub refs: Vec<(u32, u64)>,
}

impl<'a> Batch<'a> {
    /// Index in the chain.
    pub fn index(&self) -> u32 {
        self.info.index
    }

    /// Region offset of the batch start.
    pub fn offset(&self) -> u32 {
        self.info.offset
    }

    pub(crate) fn header_ref(&self) -> &BatchHeader {
        &self.header
    }

    /// The header (feature `unstable`).
    #[cfg(feature = "unstable")]
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    /// The commit record (feature `unstable`).
    #[cfg(feature = "unstable")]
    pub fn commit(&self) -> &CommitRecord {
        &self.commit
    }

    /// Where it is, as the validator indexed it.
    pub fn info(&self) -> &BatchInfo {
        &self.info
    }

    /// The batch's bytes, up to its span.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn section(&self, s: &SectionRef) -> &'a [u8] {
        s.bytes_in(self.bytes).unwrap_or(&[])
    }

    /// The flash-object section.
    pub fn flash_section(&self) -> &'a [u8] {
        self.section(&self.header.flash)
    }

    /// The RAM section's initial state.
    pub fn ram_section(&self) -> &'a [u8] {
        self.section(&self.header.ram)
    }

    /// Absolute address range of the flash-object section.
    pub fn flash_range(&self) -> Range<u64> {
        self.info.flash.clone()
    }

    /// Absolute address range of the RAM section.
    pub fn ram_range(&self) -> Range<u64> {
        self.info.ram.clone()
    }

    /// Number of objects in each section.
    pub fn object_counts(&self) -> (u32, u32) {
        self.info.objects
    }

    /// The roots (validated when the batch was opened).
    pub fn roots(&self) -> impl Iterator<Item = ImageRoot<'a>> + '_ {
        let table = self.section(&self.header.roots_table);
        (0..self.header.roots.get()).filter_map(move |i| root_at(table, i).ok())
    }

    /// Every object with its bytes and references, flash section first.
    pub fn objects(&self) -> Vec<ImageObject<'a>> {
        let h = &self.header;
        let rb = u64::from(h.ref_bytes);
        let (fw, rw) = h.pointer_words();
        let mut ptrs = PointerMapDecoder::new(self.section(&h.pointer_map), fw + rw)
            .filter_map(Result::ok)
            .peekable();
        let map = self.section(&h.object_map);
        let mut input = SliceInput::at(map, 0);
        let mut out = Vec::new();
        for (placement, base, word_base, data, n) in [
            (
                Placement::Flash,
                h.flash_base.get(),
                0,
                self.flash_section(),
                h.flash_objects.get(),
            ),
            (
                Placement::Ram,
                h.ram_base.get(),
                fw,
                self.ram_section(),
                h.ram_objects.get(),
            ),
        ] {
            let dec = ObjectMapDecoder::with_input(&mut input, n, data.len() as u64);
            for (start, size) in dec.filter_map(Result::ok) {
                let end = start + size;
                let mut refs = Vec::new();
                while let Some(&w) = ptrs.peek() {
                    if w < word_base || (w - word_base) * rb >= end {
                        break;
                    }
                    ptrs.next();
                    let at = (w - word_base) * rb;
                    if at >= start {
                        let word = read_word(data, at as usize, rb as usize).unwrap_or(0);
                        // Validation decoded every word the map names.
                        let address = self.encoding.decode(word).unwrap_or(0);
                        refs.push(((at - start) as u32, address));
                    }
                }
                out.push(ImageObject {
                    placement,
                    address: base + start,
                    bytes: data.get(start as usize..end as usize).unwrap_or(&[]),
                    refs,
                });
            }
        }
        out
    }
}

/// One step of [`Batch::visit_objects`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObjectEvent {
    /// An object starts: its section, absolute address and length.
    Object(Placement, u64, u64),
    /// A reference word of the last object, and the address it decodes to.
    Ref(u64),
}

impl Batch<'_> {
    /// [`Batch::objects`] streamed: each object, then its references, in the order
    /// `objects` gives them, read in place (no table: memory does not grow with the batch).
    pub(crate) fn visit_objects(&self, f: &mut dyn FnMut(ObjectEvent)) {
        let h = &self.header;
        let rb = u64::from(h.ref_bytes);
        let (fw, rw) = h.pointer_words();
        let mut ptrs = PointerMapDecoder::new(self.section(&h.pointer_map), fw + rw)
            .filter_map(Result::ok)
            .peekable();
        let map = self.section(&h.object_map);
        let mut input = SliceInput::at(map, 0);
        for (placement, base, word_base, data, n) in [
            (
                Placement::Flash,
                h.flash_base.get(),
                0,
                self.flash_section(),
                h.flash_objects.get(),
            ),
            (
                Placement::Ram,
                h.ram_base.get(),
                fw,
                self.ram_section(),
                h.ram_objects.get(),
            ),
        ] {
            let dec = ObjectMapDecoder::with_input(&mut input, n, data.len() as u64);
            for (start, size) in dec.filter_map(Result::ok) {
                let end = start + size;
                f(ObjectEvent::Object(placement, base + start, size));
                while let Some(&w) = ptrs.peek() {
                    if w < word_base || (w - word_base) * rb >= end {
                        break;
                    }
                    ptrs.next();
                    let at = (w - word_base) * rb;
                    if at >= start {
                        let word = read_word(data, at as usize, rb as usize).unwrap_or(0);
                        f(ObjectEvent::Ref(self.encoding.decode(word).unwrap_or(0)));
                    }
                }
            }
        }
    }
}

fn read_word(data: &[u8], at: usize, width: usize) -> Option<u64> {
    let b = data.get(at..at.checked_add(width)?)?;
    let mut v = [0u8; 8];
    v.get_mut(..width)?.copy_from_slice(b);
    Some(u64::from_le_bytes(v))
}

/// Root entry `i` of a validated roots table.
pub(crate) fn root_at(table: &[u8], i: u32) -> Result<ImageRoot<'_>, &'static str> {
    let at = (i as usize)
        .checked_mul(ROOT_ENTRY_LEN)
        .ok_or("entry outside the table")?;
    let raw = table
        .get(
            at..at
                .checked_add(ROOT_ENTRY_LEN)
                .ok_or("entry outside the table")?,
        )
        .ok_or("entry outside the table")?;
    let entry = RootEntry::ref_from_bytes(raw).map_err(|_| "entry unreadable")?;
    let start = entry.name_offset.get() as usize;
    let end = start
        .checked_add(usize::from(entry.name_len.get()))
        .ok_or("name outside the table")?;
    let name = table.get(start..end).ok_or("name outside the table")?;
    let name = core::str::from_utf8(name).map_err(|_| "name is not UTF-8")?;
    Ok(ImageRoot {
        kind: RootKind(entry.kind.get()),
        name,
        address: entry.address.get(),
    })
}

/// The roots of validated batch `b` in mapped `region`.
pub(crate) fn batch_roots<'a>(
    region: &'a [u8],
    b: &BatchInfo,
) -> impl Iterator<Item = ImageRoot<'a>> + use<'a> {
    let table = roots_table(region, b);
    (0..b.root_count).filter_map(move |i| root_at(table, i).ok())
}

/// Validated batch `b`'s roots table in mapped `region` (empty if it lies outside).
fn roots_table<'a>(region: &'a [u8], b: &BatchInfo) -> &'a [u8] {
    region
        .get(b.roots.start as usize..b.roots.end as usize)
        .unwrap_or(&[])
}

/// Validated batch `b`'s roots table in mapped `region` and the bytes of its entries (both
/// empty if they lie outside).
pub(crate) fn batch_roots_table<'a>(region: &'a [u8], b: &BatchInfo) -> (&'a [u8], &'a [u8]) {
    let table = roots_table(region, b);
    let entries = (b.root_count as usize).saturating_mul(ROOT_ENTRY_LEN);
    (table, table.get(..entries).unwrap_or(&[]))
}

/// The kinds of a validated batch's roots, from their entries alone (no name decoded): what
/// the resolution reserves its lists from.
pub(crate) fn batch_root_kinds<'a>(
    region: &'a [u8],
    b: &BatchInfo,
) -> impl Iterator<Item = RootKind> + use<'a> {
    roots_table(region, b)
        .chunks_exact(ROOT_ENTRY_LEN)
        .take(b.root_count as usize)
        .filter_map(|e| RootEntry::ref_from_bytes(e).ok())
        .map(|e| RootKind(e.kind.get()))
}

/// A validated image: the longest valid prefix of the chain in a mapped region.
#[derive(Clone, Debug)]
pub struct Image<'a> {
    batches: Vec<Batch<'a>>,
    tail: Tail,
}

impl<'a> Image<'a> {
    /// Scan and validate the chain of `region` (the region's bytes as mapped). Refused only
    /// when its first batch is (otherwise the image is the batches before the first refused
    /// one, and [`Image::tail`] says why).
    pub fn open(region: &'a [u8], cfg: &ReadConfig<'_>) -> Result<Self, DecodeError> {
        let (index, tail) = scan_mapped_with(region, cfg, Check::Full);
        if let (true, Tail::Invalid { error, .. }) = (index.batches.is_empty(), tail) {
            return Err(error);
        }
        let batches = index
            .batches
            .into_iter()
            .map(|info| {
                let bytes = &region[info.offset as usize..info.end_offset() as usize];
                let header = BatchHeader::read_from_prefix(bytes)
                    .map_or_else(|_| unreachable_header(), |h| h.0);
                let c = header.commit_offset.get() as usize;
                let commit = bytes
                    .get(c..c + COMMIT_LEN)
                    .and_then(|b| CommitRecord::read_from_bytes(b).ok())
                    .unwrap_or_else(|| CommitRecord::new(&header, ContentCrcs::default()));
                Batch {
                    info,
                    encoding: cfg.encoding,
                    header,
                    commit,
                    bytes,
                }
            })
            .collect();
        Ok(Self { batches, tail })
    }

    /// The committed, valid batches, in chain order.
    pub fn batches(&self) -> &[Batch<'a>] {
        &self.batches
    }

    /// Why the chain ends where it does.
    pub fn tail(&self) -> Tail {
        self.tail
    }

    /// Region offset just past the last valid batch (where the next one goes).
    pub fn end_offset(&self) -> u32 {
        self.batches.last().map_or(0, |b| b.info.end_offset())
    }
}

/// A header of a validated batch always reads; this stands in for the impossible case.
fn unreachable_header() -> BatchHeader {
    use zerocopy::FromZeros;
    BatchHeader::new_zeroed()
}

/// Move a validated image in `region` from `from`'s addresses to a region mapped at
/// `region_address` and a RAM area at `ram_address`: every pointer word into the image's
/// sections, every root and the headers' addresses are shifted, CRCs and commit records are
/// rewritten. Pointers into static ranges are kept.
///
/// Both shifts must be multiples of 4096 (the largest object alignment), so that every object
/// stays aligned. The bytes are only changed when the whole chain validated (a chain that ends
/// at a refused batch is refused).
pub fn rebase(
    region: &mut [u8],
    from: &ReadConfig<'_>,
    region_address: u64,
    ram_address: u64,
) -> Result<(), DecodeError> {
    let flash_delta = region_address.wrapping_sub(from.layout.region_address);
    let ram_delta = ram_address.wrapping_sub(from.layout.ram_address);
    // Plan every change while the image is borrowed, then apply.
    let mut edits: Vec<(usize, u64, usize)> = Vec::new(); // (region offset, new value, width)
    let mut batches = Vec::new();
    {
        let region_ro: &[u8] = region;
        let image = Image::open(region_ro, from)?;
        if let Some(e) = image.tail().error() {
            return Err(*e);
        }
        let flash_ranges: Vec<Range<u64>> =
            image.batches().iter().map(Batch::flash_range).collect();
        let ram_ranges: Vec<Range<u64>> = image.batches().iter().map(Batch::ram_range).collect();
        let shift = |v: u64| -> u64 {
            if flash_ranges.iter().any(|r| r.contains(&v)) {
                v.wrapping_add(flash_delta)
            } else if ram_ranges.iter().any(|r| r.contains(&v)) {
                v.wrapping_add(ram_delta)
            } else {
                v
            }
        };
        for b in image.batches() {
            let h = b.header_ref();
            let rb = usize::from(h.ref_bytes);
            for obj in b.objects() {
                let (sec_off, base) = match obj.placement {
                    Placement::Flash => (h.flash.offset.get(), h.flash_base.get()),
                    Placement::Ram => (h.ram.offset.get(), h.ram_base.get()),
                };
                for &(off, address) in &obj.refs {
                    let at = b.offset() as usize
                        + sec_off as usize
                        + (obj.address - base) as usize
                        + off as usize;
                    // Keep the word's tag; move the address it decodes to.
                    let word = read_word(region_ro, at, rb).unwrap_or(0);
                    let tag = word & from.encoding.tag_mask();
                    let moved = from
                        .encoding
                        .encode_tagged(shift(address), tag)
                        .ok_or(DecodeError::Layout {
                            batch: b.index(),
                            offset: at as u64,
                            section: Section::Header,
                            what: "rebase moves a reference where the VM's encoding cannot express it",
                        })?;
                    edits.push((at, moved, rb));
                }
            }
            for (i, root) in b.roots().enumerate() {
                let at =
                    b.offset() as usize + h.roots_table.offset.get() as usize + i * ROOT_ENTRY_LEN;
                edits.push((at, shift(root.address), 8));
            }
            batches.push((b.offset() as usize, *h));
        }
    }
    if flash_delta % 4096 != 0 || ram_delta % 4096 != 0 {
        return Err(DecodeError::Layout {
            batch: 0,
            offset: 0,
            section: Section::Header,
            what: "rebase by an amount that is not a multiple of 4096",
        });
    }
    for (at, value, width) in edits {
        region[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
    }
    let mut prev_crc = 0;
    for (off, mut h) in batches {
        h.flash_base = U64::new(h.flash_base.get().wrapping_add(flash_delta));
        h.ram_base = U64::new(h.ram_base.get().wrapping_add(ram_delta));
        h.prev_header_crc = prev_crc.into();
        region[off..off + HEADER_LEN].copy_from_slice(h.as_bytes());
        let end = off + h.span.get() as usize;
        prev_crc = reseal_batch(&mut region[off..end]).unwrap_or(0);
    }
    Ok(())
}

/// Recompute the header CRC and the commit record (with the contents' CRCs) of the batch at the
/// start of `batch` (its bytes up to its span) from its header's fields; returns the new header
/// CRC, or `None` if the header's sections do not fit in `batch`.
///
/// For tools and tests that edit images (e.g. to check that the validator catches an edit that
/// keeps every CRC right); [`rebase`] uses it.
pub fn reseal_batch(batch: &mut [u8]) -> Option<u32> {
    let mut h = BatchHeader::read_from_prefix(batch).ok()?.0;
    let meta = batch.get(h.roots_table.offset.get() as usize..h.meta_end()? as usize)?;
    let crcs = ContentCrcs {
        flash: CRC.checksum(h.flash.bytes_in(batch)?),
        ram: CRC.checksum(h.ram.bytes_in(batch)?),
        meta: CRC.checksum(meta),
    };
    h.seal();
    let c = h.commit_offset.get() as usize;
    batch.get(c..c.checked_add(COMMIT_LEN)?)?;
    batch[..HEADER_LEN].copy_from_slice(h.as_bytes());
    batch[c..c + COMMIT_LEN].copy_from_slice(CommitRecord::new(&h, crcs).as_bytes());
    Some(h.header_crc.get())
}

/// A short description of an image for logs: batches, objects, bytes, tail.
pub fn summary(image: &Image<'_>) -> String {
    let mut s = String::new();
    let (mut objs, mut flash, mut ram) = (0u64, 0u64, 0u64);
    for b in image.batches() {
        let (f, r) = b.object_counts();
        objs += u64::from(f) + u64::from(r);
        flash += u64::from(b.header_ref().flash.len.get());
        ram += u64::from(b.header_ref().ram.len.get());
    }
    let _ = fmt::write(
        &mut s,
        format_args!(
            "batches {}, objects {objs}, flash bytes {flash}, ram bytes {ram}; {}",
            image.batches().len(),
            image.tail()
        ),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_objects_end_at_a_record_that_does_not_decode() {
        // One 8-byte object, then a varint of 11 bytes (over 64 bits), then records that decode:
        // the iterator must not resume past the bad one.
        let mut map = alloc::vec![8 << 1];
        map.extend([0xFF; 11]);
        map.extend([4 << 1; 4]);
        let mut objs = FlashObjects {
            map: &map,
            pos: 0,
            left: 6,
            end: 0,
            base: 0x1000,
            len: 64,
        };
        assert_eq!(objs.next(), Some((0x1000, 8)));
        assert_eq!(objs.next(), None);
        assert_eq!(objs.next(), None);
        assert_eq!(objs.left, 0);
    }

    #[test]
    fn the_index_grows_up_to_its_bound_only() {
        let mut v: Vec<u32> = Vec::new();
        for _ in 0..10 {
            grow(&mut v, 10).unwrap();
            v.push(0);
        }
        assert_eq!(v.capacity(), 10, "growth stops at the bound");
    }

    /// A validated batch of sections `flash` and `ram` (absolute) with bitmaps `bits`.
    fn batch(index: u32, flash: Range<u64>, ram: Range<u64>, bits: [u32; 3]) -> BatchInfo {
        BatchInfo {
            index,
            offset: 0,
            span: 0,
            header_crc: 0,
            flash,
            ram,
            objects: (0, 0),
            ram_initial: 0..0,
            roots: 0..0,
            root_count: 0,
            records: [0; 3],
            cps: [0; 3],
            bits,
        }
    }

    #[test]
    fn the_earlier_batch_scan_decides_as_check_target_does() {
        // A layout whose RAM area overlaps the flash region's addresses (nothing refuses it):
        // batch 1's RAM section lies over batch 0's flash section. `check_target` looks in
        // every batch's flash before any RAM, so the scan from the most recent batch must not
        // decide by batch 1's RAM.
        let mut index = ChainIndex::default();
        let s0 = index.starts.alloc(1, usize::MAX).unwrap();
        let s1 = index.starts.alloc(2, usize::MAX).unwrap();
        let s2 = index.starts.alloc(1, usize::MAX).unwrap();
        index.batches = alloc::vec![
            batch(0, 0x1000..0x1080, 0x1000..0x1000, [s0, s0 + 1, s0 + 1]),
            batch(1, 0x1100..0x1180, 0x1000..0x1080, [s1, s1 + 1, s1 + 2]),
            batch(2, 0x1200..0x1280, 0x1080..0x1080, [s2, s2 + 1, s2 + 1]),
        ];
        // Objects start at batch 0's flash 0x1000, batch 1's RAM 0x1040.
        *index.starts.get_mut(s0).unwrap() |= 1;
        *index.starts.get_mut(s1 + 1).unwrap() |= 1 << (0x40 / START_GRAIN);
        let layout = Layout::new(0x1000 - HEADER_LEN as u64, 4096, 0x1000, 0x80, b"");
        let cfg = ReadConfig::new(layout, RefEncoding::ADDRESS_32);
        let region = [0u8; 0];
        let mut lookup = SliceCursor {
            bytes: &region,
            base: 0,
            pos: 0,
            end: 0,
        };
        let plain = Plain {
            flash_lo: 0x1200,
            flash_len: 0x80,
            starts: &[],
            ram_bits: 0,
            ram_lo: 0x1080,
            ram_len: 0,
            chain_lo: 0x1000,
            chain_len: 0x280,
            index: &index,
            cfg: &cfg,
            lookup: SliceCursor {
                bytes: &region,
                base: 0,
                pos: 0,
                end: 0,
            },
        };
        for v in [0x1040u32, 0x1000, 0x1044, 0x1100] {
            let general = check_target(u64::from(v), &index, &cfg, &mut lookup).is_ok();
            // The scan may leave the decision to `check_target`, never decide otherwise.
            if let Some(fast) = plain.earlier(v) {
                assert_eq!(fast, general, "target {v:#x}");
            }
        }
        assert_eq!(
            check_target(0x1040, &index, &cfg, &mut lookup),
            Err(PointerFault::NotObjectStart)
        );
    }

    #[test]
    fn the_bitmaps_of_starts_grow_in_chunks_that_never_move() {
        let mut s = Starts::default();
        // The first batch's chunk is exact; later ones have room for up to a chunk more.
        let a = s.alloc(3, usize::MAX).unwrap();
        let list = s.chunks.capacity() * core::mem::size_of::<Vec<u32>>();
        assert_eq!((a, s.heap_bytes() - list), (0, 12));
        let b = s.alloc(2, usize::MAX).unwrap();
        assert_eq!(b >> Starts::SHIFT, 1, "a new chunk, the first one kept");
        let first = s.chunk(0).as_ptr();
        *s.get_mut(a + 2).unwrap() = 7;
        let c = s.alloc(1, usize::MAX).unwrap();
        assert_eq!(
            (c >> Starts::SHIFT, c & Starts::MASK),
            (1, 2),
            "in the room left"
        );
        assert_eq!(s.chunk(0).as_ptr(), first, "no chunk is reallocated");
        assert_eq!((s.get(a + 2), s.get(c), s.words()), (Some(&7), Some(&0), 6));
        // A batch larger than a chunk gets a chunk of its own size.
        let big = Starts::CHUNK_WORDS + 5;
        let d = s.alloc(big, usize::MAX).unwrap();
        assert_eq!(s.range_mut(d, d + big as u32).map(|r| r.len()), Some(big));
        // Across chunks, or with no bitmap, there is no range.
        assert!(s.range_mut(c, d).is_none());
        assert!(s.range_mut(NO_BITS, NO_BITS).is_none());
        // A failed validation's words go, chunk and all.
        let m = s.mark();
        s.alloc(Starts::CHUNK_WORDS * 3, usize::MAX).unwrap();
        s.alloc(1, usize::MAX).unwrap();
        s.truncate(m);
        assert_eq!((s.chunks.len(), s.words()), (3, 6 + big));
        // Numbers past the chunk's words find nothing.
        assert_eq!(s.get(d + big as u32), None);
        assert_eq!(s.get(5 << Starts::SHIFT), None);
        assert_eq!(s.alloc(Starts::MASK as usize + 1, usize::MAX), None);
    }
}
