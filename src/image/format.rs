//! The on-flash image format, version 4: batches of frozen objects, each committed atomically.
//!
//! An image region holds a chain of **batches**. Each freeze appends one; a batch may refer to
//! objects of earlier batches, and earlier batches are never rewritten. Every batch starts on an
//! erase-sector boundary of the region, spans whole sectors (at least one), and is laid out as
//! follows (offsets relative to the batch start, all integers little-endian):
//!
//! ```text
//! 0        144                                                                 commit_offset   span
//! ┌────────┬────────────┬─────────────┬───────┬─────────┬──────────┬─────┬───────┬──────┬────────┬─────┐
//! │ header │ flash-     │ RAM section │ roots │ pointer │ object   │ pad │ start │ pad  │ commit │ ... │
//! │        │ object     │ initial     │ table │ map     │ map      │ 0.. │ bitmap│ 0xFF │ record │ 0xFF│
//! │        │ section    │ state       │       │(tokens) │(varints) │ 3×0 │ (u32s)│      │        │     │
//! └────────┴────────────┴─────────────┴───────┴─────────┴──────────┴─────┴───────┴──────┴────────┴─────┘
//!  ▲ programmed first    (copied to ram_base at mount)        └─ crc_meta: roots .. bitmap end ─┘
//!                                                                    programmed last, alone in its unit ▲
//! ```
//!
//! The next batch starts at `span` (a multiple of the erase size), so a new batch always begins
//! in a freshly erased sector and never programs a word of an earlier batch's sectors.
//!
//! # Batch header (144 bytes, [`BatchHeader`])
//! ```text
//!   0  magic "FFZB"          4  format version u16 (4)  6  header_len u16 (144)
//!   8  ref_bytes u8 (4|8)    9  firmware_id_len u8     10  flags u16 (0; bit 0 STAGED)
//!  12  batch_index u32      16  prev_header_crc u32 (header_crc of batch index-1; 0 for batch 0)
//!  20  batch_offset u32 (offset of this batch from the start of its region)
//!  24  flash_objects u32    28  ram_objects u32        32  roots u32      36  span u32
//!  40  flash_base u64 (absolute address of the flash-object section)
//!  48  ram_base u64   (absolute address of this batch's RAM section)
//!  56  flash   {offset u32, len u32}     64  ram        {offset u32, len u32}
//!  72  roots   {offset u32, len u32}     80  pointer map {offset u32, len u32}
//!  88  objects {offset u32, len u32}     96  commit_offset u32
//! 100  all_starts u8 (1: every object starts on a multiple of 4 bytes, else 0)
//! 101  reserved [u8; 3] (0)
//! 104  firmware_id [u8; 32] (first firmware_id_len bytes used, rest zero)
//! 136  reserved [u8; 4] (0)
//! 140  header_crc u32 (over bytes 0..140)
//! ```
//! The header holds no CRC of the contents: it is programmed first, before the contents are
//! streamed, so that an interrupted append always leaves either nothing or a header that names
//! its batch's extent. The contents' CRCs are in the commit record. Section offsets are relative
//! to the batch start; `flash_base`/`ram_base` are absolute.
//!
//! # Sections
//! - **Flash-object section**: the frozen immutable objects, exactly as the VM will read them
//!   in place at `flash_base` (alignment padding between objects is zero).
//! - **RAM section initial state**: the frozen mutable objects; mount copies these bytes to
//!   `ram_base` (the VM's fixed RAM section, scanned by its GC as a root).
//! - **Roots table**: `roots` entries of 16 bytes ([`RootEntry`]: address u64, kind u16,
//!   name_len u16, name_offset u32 relative to the table), then the UTF-8 names.
//! - **Pointer map**: which words are references. Words are `ref_bytes` wide and numbered over
//!   the flash section then the RAM section (`ceil(len / ref_bytes)` words each, relative to the
//!   section start). One byte per token:
//!   ```text
//!   0b00nn_nnnn   n+1 non-reference words (1..=64)
//!   0b01nn_nnnn   n+1 reference words (1..=64)
//!   0b1bbb_bbbb   the next 7 words, bit i set = word i is a reference (LSB first)
//!   ```
//!   Bits past the last word must be 0; tokens must cover every word exactly (a final literal
//!   may overshoot with zero bits).
//! - **Object map**: one record per object, flash objects then RAM objects, in address order:
//!   LEB128 `size << 1 | has_pad`, then LEB128 `pad` if `has_pad`, where `pad` is the gap from
//!   the end of the previous object (or the section start) to this object. It gives every
//!   object's extent (copy-on-write, dedup, dumps, rebase); the general validator checks that
//!   the objects tile their sections and that every pointer word lies inside one.
//! - **Start bitmap** (format 4): at the object map's end rounded up to 4 bytes (the 0 to 3
//!   bytes between are 0), one bit per [`START_GRAIN`] (4) bytes of the flash section, then of
//!   the RAM section, each padded to whole little-endian `u32` words, bit `i` of word `w` (LSB
//!   first) set when an object starts at section offset `(32 w + i) * 4`. Its length follows
//!   from the section lengths ([`BatchHeader::start_bitmap`]): `4 * (ceil(flash.len / 128) +
//!   ceil(ram.len / 128))` bytes. Bits at or past a section's end are 0. It names exactly the
//!   objects that start on a grain; `all_starts` says whether that is every object. The mount
//!   reads it in place instead of decoding the object map (`docs/image-format.md`, "Start
//!   bitmap"); the general validator checks it equals the object map's starts.
//!   ```text
//!   word 0 of the flash section's bitmap, objects at offsets 0, 8, 20, 124:
//!   bit  31 ............ 5 4 3 2 1 0      offsets 124 ........ 20 16 12 8 4 0
//!        1  0 ...... 0 0 1 0 0 1 0 1   = 0x8000_0025 (bytes 25 00 00 80)
//!   ```
//!
//! # Commit record (32 bytes, [`CommitRecord`], alone in the last write unit)
//! ```text
//!  0 magic "FFZC"     4 batch_index u32   8 header_crc u32
//! 12 crc_flash u32   16 crc_ram u32      20 crc_meta u32 (roots ‖ pointer map ‖ object map)
//! 24 reserved (0)    28 record_crc u32 (over bytes 0..28)
//! ```
//! A batch without a valid commit record, or with a header that fails its CRC, is an
//! interrupted write: readers treat it as the end of the chain, not as an error. Committed
//! batches are then fully checked (every CRC, bounds, and every pointer word); the chain mounts
//! up to the first batch that fails.
//!
//! # Stability policy
//! - `magic`, `version` and `header_len` stay at bytes 0..8 forever, and the header CRC is
//!   always the last 4 bytes of `header_len`, so every future reader can recognise and refuse
//!   a version it does not know ([`FORMAT_VERSION`] is checked after the header CRC).
//! - Any change to a byte's meaning bumps [`FORMAT_VERSION`]; readers of this crate mount only
//!   their own version (an image is re-frozen from source, not migrated) and say so.
//! - The CHANGELOG records every format version.

// Parts of this module are used only through `crate::unstable` (tools, tests, fuzzing).
#![cfg_attr(not(feature = "unstable"), allow(dead_code))]

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Magic at the start of every batch header.
pub const BATCH_MAGIC: [u8; 4] = *b"FFZB";
/// Magic of a commit record.
pub const COMMIT_MAGIC: [u8; 4] = *b"FFZC";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 4;

/// Header `flags` bit of a staged compaction copy (never mounted; see `docs/image-format.md`,
/// "Compaction"). Every batch of a chain has `flags` 0.
pub const FLAG_STAGED: u16 = 1;
/// Size of a [`BatchHeader`] in bytes.
pub const HEADER_LEN: usize = 144;
/// Size of a [`CommitRecord`] in bytes.
pub const COMMIT_LEN: usize = 32;
/// Size of a [`RootEntry`] in bytes.
pub const ROOT_ENTRY_LEN: usize = 16;
/// Longest firmware id a header holds.
pub const FIRMWARE_ID_MAX: usize = 32;
/// Alignment of every section offset inside a batch.
pub const SECTION_ALIGN: u32 = 16;
/// Byte offset of the header CRC (always the last 4 bytes of the header).
pub const HEADER_CRC_OFFSET: usize = HEADER_LEN - 4;
/// Bytes of section per bit of the start bitmap (and of the validator's bitmaps of starts).
pub const START_GRAIN: u32 = 4;
/// Bytes of section one `u32` word of the start bitmap covers.
pub const START_WORD_BYTES: u32 = START_GRAIN * 32;
/// [`BatchHeader::all_starts`] of a batch whose every object starts on a [`START_GRAIN`].
pub const ALL_STARTS: u8 = 1;

/// Words of the start bitmap of a section of `len` bytes.
pub const fn start_words(len: u32) -> u32 {
    len.div_ceil(START_WORD_BYTES)
}

/// How [`CRC`] is computed: slice-by-16 (16 KiB of tables) on 64-bit hosts, which build and
/// check large images; one 1 KiB table on 32-bit targets, whose flash and caches are small.
/// Both give the same CRC.
#[cfg(target_pointer_width = "64")]
pub type CrcTable = crc::Table<16>;
/// How [`CRC`] is computed: slice-by-16 (16 KiB of tables) on 64-bit hosts, which build and
/// check large images; one 1 KiB table on 32-bit targets, whose flash and caches are small.
/// Both give the same CRC.
#[cfg(not(target_pointer_width = "64"))]
pub type CrcTable = crc::Table<1>;

/// The CRC used everywhere in the image: CRC-32/ISO-HDLC.
pub static CRC: crc::Crc<u32, CrcTable> = crc::Crc::<u32, CrcTable>::new(&crc::CRC_32_ISO_HDLC);

/// A running [`CRC`].
pub type CrcDigest = crc::Digest<'static, u32, CrcTable>;

/// Where a section lies in a batch: offset from the batch start and length, in bytes.
#[derive(
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
)]
#[repr(C)]
pub struct SectionRef {
    /// Offset from the batch start.
    pub offset: U32,
    /// Length in bytes.
    pub len: U32,
}

impl SectionRef {
    /// A section at `offset`, `len` bytes long.
    pub fn new(offset: u32, len: u32) -> Self {
        Self {
            offset: U32::new(offset),
            len: U32::new(len),
        }
    }

    /// One past the last byte, if it does not overflow.
    pub fn end(&self) -> Option<u32> {
        self.offset.get().checked_add(self.len.get())
    }

    /// The section's bytes in `batch` (the batch's bytes from its start), if they lie inside.
    pub(crate) fn bytes_in<'a>(&self, batch: &'a [u8]) -> Option<&'a [u8]> {
        batch.get(self.offset.get() as usize..self.end()? as usize)
    }
}

/// The header at the start of every batch (see the module docs for the diagram).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct BatchHeader {
    /// [`BATCH_MAGIC`].
    pub magic: [u8; 4],
    /// [`FORMAT_VERSION`].
    pub version: U16,
    /// [`HEADER_LEN`].
    pub header_len: U16,
    /// Width of a reference word: 4 or 8.
    pub ref_bytes: u8,
    /// Used bytes of `firmware_id`.
    pub firmware_id_len: u8,
    /// Reserved, 0.
    pub flags: U16,
    /// Position in the chain, from 0.
    pub batch_index: U32,
    /// `header_crc` of the previous batch (0 for batch 0): a batch left over from an older
    /// chain is never taken as part of this one.
    pub prev_header_crc: U32,
    /// Offset of this batch from the start of its region: a batch found at another offset
    /// belongs to another region (e.g. an overlapping one) and is never taken as this one's.
    pub batch_offset: U32,
    /// Objects in the flash-object section.
    pub flash_objects: U32,
    /// Objects in the RAM section.
    pub ram_objects: U32,
    /// Entries of the roots table.
    pub roots: U32,
    /// Distance from this batch's start to the next batch's start (a multiple of the erase
    /// size, at least one sector).
    pub span: U32,
    /// Absolute address of the flash-object section.
    pub flash_base: U64,
    /// Absolute address of this batch's RAM section.
    pub ram_base: U64,
    /// The flash-object section.
    pub flash: SectionRef,
    /// The RAM section's initial state.
    pub ram: SectionRef,
    /// The roots table.
    pub roots_table: SectionRef,
    /// The pointer map.
    pub pointer_map: SectionRef,
    /// The object map.
    pub object_map: SectionRef,
    /// Offset of the commit record from the batch start.
    pub commit_offset: U32,
    /// [`ALL_STARTS`] when every object starts on a [`START_GRAIN`] (the start bitmap then
    /// names every object start), else 0.
    pub all_starts: u8,
    /// Reserved, 0.
    pub reserved0: [u8; 3],
    /// The firmware id the image was made for (zero-padded).
    pub firmware_id: [u8; FIRMWARE_ID_MAX],
    /// Reserved, 0.
    pub reserved1: [u8; 4],
    /// CRC of bytes `0..HEADER_CRC_OFFSET`.
    pub header_crc: U32,
}

static_assertions::const_assert_eq!(core::mem::size_of::<BatchHeader>(), HEADER_LEN);
static_assertions::const_assert_eq!(core::mem::size_of::<CommitRecord>(), COMMIT_LEN);
static_assertions::const_assert_eq!(core::mem::size_of::<RootEntry>(), ROOT_ENTRY_LEN);
static_assertions::const_assert_eq!(HEADER_LEN % SECTION_ALIGN as usize, 0);

impl BatchHeader {
    /// The CRC of this header's bytes before the `header_crc` field.
    pub fn compute_crc(&self) -> u32 {
        CRC.checksum(&self.as_bytes()[..HEADER_CRC_OFFSET])
    }

    /// Set `header_crc` from the other fields.
    pub fn seal(&mut self) {
        self.header_crc = U32::new(self.compute_crc());
    }

    /// The used part of the firmware id (empty if the length field is out of range).
    pub fn firmware_id(&self) -> &[u8] {
        self.firmware_id
            .get(..usize::from(self.firmware_id_len))
            .unwrap_or(&[])
    }

    /// Absolute address range of the flash-object section.
    ///
    /// Both ranges saturate: the chain scan reads headers before they are validated, and a
    /// crafted base must not overflow (validation then refuses the range).
    pub(crate) fn flash_range(&self) -> core::ops::Range<u64> {
        let base = self.flash_base.get();
        base..base.saturating_add(u64::from(self.flash.len.get()))
    }

    /// Absolute address range of the RAM section (saturating, as above).
    pub(crate) fn ram_range(&self) -> core::ops::Range<u64> {
        let base = self.ram_base.get();
        base..base.saturating_add(u64::from(self.ram.len.get()))
    }

    /// Where the start bitmap lies (offset from the batch start, length), from the object map's
    /// end and the section lengths; `None` when that overflows.
    pub fn start_bitmap(&self) -> Option<SectionRef> {
        let at = self.object_map.end()?.checked_add(3)? & !3;
        let words =
            start_words(self.flash.len.get()).checked_add(start_words(self.ram.len.get()))?;
        let len = words.checked_mul(4)?;
        at.checked_add(len)?;
        Some(SectionRef::new(at, len))
    }

    /// Offset just past the last byte `crc_meta` covers: the start bitmap's end.
    pub fn meta_end(&self) -> Option<u32> {
        self.start_bitmap()?.end()
    }

    /// Words of the pointer map: flash-section words then RAM-section words.
    pub fn pointer_words(&self) -> (u64, u64) {
        let rb = u64::from(self.ref_bytes.max(1));
        (
            u64::from(self.flash.len.get()).div_ceil(rb),
            u64::from(self.ram.len.get()).div_ceil(rb),
        )
    }
}

/// The record that commits a batch, with the CRCs of its contents; written last, alone in its
/// write unit.
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct CommitRecord {
    /// [`COMMIT_MAGIC`].
    pub magic: [u8; 4],
    /// The batch's `batch_index`.
    pub batch_index: U32,
    /// The batch's `header_crc`.
    pub header_crc: U32,
    /// CRC of the flash-object section.
    pub crc_flash: U32,
    /// CRC of the RAM section's initial state.
    pub crc_ram: U32,
    /// CRC of roots table ‖ pointer map ‖ object map ‖ pad ‖ start bitmap.
    pub crc_meta: U32,
    /// Reserved, 0.
    pub reserved: [u8; 4],
    /// CRC of the record's bytes before this field: neither an erased nor a zeroed record, nor
    /// one with a bit lost in programming, can pass.
    pub record_crc: U32,
}

/// The CRCs of a batch's contents, as the commit record holds them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContentCrcs {
    /// CRC of the flash-object section.
    pub flash: u32,
    /// CRC of the RAM section's initial state.
    pub ram: u32,
    /// CRC of roots table ‖ pointer map ‖ object map ‖ pad ‖ start bitmap.
    pub meta: u32,
}

impl CommitRecord {
    /// The commit record of the batch with `header` and contents `crcs`.
    pub fn new(header: &BatchHeader, crcs: ContentCrcs) -> Self {
        let mut r = Self {
            magic: COMMIT_MAGIC,
            batch_index: header.batch_index,
            header_crc: header.header_crc,
            crc_flash: U32::new(crcs.flash),
            crc_ram: U32::new(crcs.ram),
            crc_meta: U32::new(crcs.meta),
            reserved: [0; 4],
            record_crc: U32::new(0),
        };
        r.record_crc = U32::new(r.compute_crc());
        r
    }

    /// The CRC of the record's bytes before `record_crc`.
    pub fn compute_crc(&self) -> u32 {
        CRC.checksum(&self.as_bytes()[..COMMIT_LEN - 4])
    }

    /// Whether this record is intact and commits the batch with `header`.
    pub fn commits(&self, header: &BatchHeader) -> bool {
        self.magic == COMMIT_MAGIC
            && self.record_crc.get() == self.compute_crc()
            && self.batch_index == header.batch_index
            && self.header_crc == header.header_crc
            && self.reserved == [0; 4]
    }

    /// The contents' CRCs it records.
    pub fn crcs(&self) -> ContentCrcs {
        ContentCrcs {
            flash: self.crc_flash.get(),
            ram: self.crc_ram.get(),
            meta: self.crc_meta.get(),
        }
    }
}

/// One entry of the roots table.
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct RootEntry {
    /// Absolute address of the root object.
    pub address: U64,
    /// The root's kind ([`crate::RootKind`]).
    pub kind: U16,
    /// Length of its UTF-8 name.
    pub name_len: U16,
    /// Offset of the name from the start of the roots table.
    pub name_offset: U32,
}

/// A part of a batch, for error messages and dumps.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Section {
    /// The batch header.
    Header,
    /// The flash-object section.
    Flash,
    /// The RAM section's initial state.
    Ram,
    /// The roots table.
    Roots,
    /// The pointer map.
    PointerMap,
    /// The object map.
    ObjectMap,
    /// The start bitmap (format 4).
    StartBitmap,
    /// The commit record.
    Commit,
}

impl core::fmt::Display for Section {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Flash => "flash section",
            Self::Ram => "RAM section",
            Self::Roots => "roots table",
            Self::PointerMap => "pointer map",
            Self::ObjectMap => "object map",
            Self::StartBitmap => "start bitmap",
            Self::Commit => "commit record",
        })
    }
}

/// Round `x` up to a multiple of `align` (a power of two); `None` on overflow. Shared by the
/// image's sections and the planner's object addresses.
pub fn align_up(x: u64, align: u64) -> Option<u64> {
    debug_assert!(align.is_power_of_two());
    Some(x.checked_add(align - 1)? & !(align - 1))
}

// ---------------------------------------------------------------------------------------------
// LEB128

/// Append the LEB128 encoding of `v` to `out` (at most 10 bytes).
pub fn put_varint(mut v: u64, out: &mut dyn FnMut(u8)) {
    loop {
        let byte = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out(byte);
            return;
        }
        out(byte | 0x80);
    }
}

/// Length in bytes of the LEB128 encoding of `v`.
pub fn varint_len(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Read a LEB128 value at `*pos`, advancing it; `None` if truncated or over 64 bits.
pub fn get_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut input = SliceInput::at(bytes, *pos);
    let v = read_varint(&mut input);
    *pos = input.consumed();
    v
}

/// Read a LEB128 value from `input`; `None` if truncated or over 64 bits.
pub fn read_varint<I: Input>(input: &mut I) -> Option<u64> {
    // Up to 4 bytes (28 bits) in u32, which covers every record of an image below 128 MiB: no
    // 64-bit shifts, which a Cortex-M0+ calls a routine for.
    let mut small = 0u32;
    for shift in [0, 7, 14, 21] {
        let byte = input.next_byte()?;
        small |= u32::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some(u64::from(small));
        }
    }
    let mut v = u64::from(small);
    for shift in (28..64).step_by(7) {
        let byte = input.next_byte()?;
        let part = u64::from(byte & 0x7F);
        if shift == 63 && part > 1 {
            return None;
        }
        v |= part << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// A forward-only byte input of the map decoders: a slice ([`SliceInput`]), or the reader's
/// buffered cursor over flash.
pub trait Input {
    /// The next byte, or `None` at the end (or when the bytes could not be read).
    fn next_byte(&mut self) -> Option<u8>;
    /// Position of the next byte (the decoders report errors at it).
    fn consumed(&self) -> usize;
    /// Whether no byte is left.
    fn is_done(&self) -> bool;
}

impl<I: Input + ?Sized> Input for &mut I {
    fn next_byte(&mut self) -> Option<u8> {
        (**self).next_byte()
    }
    fn consumed(&self) -> usize {
        (**self).consumed()
    }
    fn is_done(&self) -> bool {
        (**self).is_done()
    }
}

/// An [`Input`] over a slice.
#[derive(Clone, Debug)]
pub struct SliceInput<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> SliceInput<'a> {
    /// The bytes of `bytes` from `pos` on; positions count from the slice's start.
    pub fn at(bytes: &'a [u8], pos: usize) -> Self {
        Self { bytes, pos }
    }
}

impl Input for SliceInput<'_> {
    fn next_byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
    fn consumed(&self) -> usize {
        self.pos
    }
    fn is_done(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

// ---------------------------------------------------------------------------------------------
// Pointer map

/// Streaming encoder of the pointer map: push one bit per word (true = reference word).
///
/// Keeps at most 71 pending words, so its memory is constant.
#[derive(Debug, Default)]
pub struct PointerMapEncoder {
    /// Pending words, the oldest in bit 0.
    queue: u128,
    len: u32,
}

const RUN_MAX: u32 = 64;
pub(crate) const LITERAL_WORDS: u32 = 7;

impl PointerMapEncoder {
    /// A new, empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add the next word.
    pub fn push(&mut self, is_ref: bool, out: &mut dyn FnMut(u8)) {
        self.queue |= u128::from(is_ref) << self.len;
        self.len += 1;
        if self.len == RUN_MAX + LITERAL_WORDS {
            self.emit(false, out);
        }
    }

    /// Add the next `n` words (at most 8), word `k` a reference when bit `k` of `bits` is set
    /// (the bits from `n` up are 0): the output of `n` [`PointerMapEncoder::push`]es, with
    /// fewer shifts of the queue (a `u128`: a Cortex-M0+ shifts it in many instructions).
    pub(crate) fn push_bits(&mut self, bits: u8, n: u32, out: &mut dyn FnMut(u8)) {
        let (mut bits, mut n) = (u32::from(bits), n.min(8));
        while n > 0 {
            let k = n.min(RUN_MAX + LITERAL_WORDS - self.len);
            self.queue |= u128::from(bits & ((1 << k) - 1)) << self.len;
            self.len += k;
            bits >>= k;
            n -= k;
            if self.len == RUN_MAX + LITERAL_WORDS {
                self.emit(false, out);
            }
        }
    }

    /// Add `n` non-reference words (their bits are already 0: only the count moves, a token
    /// out each time the queue fills).
    pub fn push_zeros(&mut self, mut n: u64, out: &mut dyn FnMut(u8)) {
        while n > 0 {
            let k = n.min(u64::from(RUN_MAX + LITERAL_WORDS - self.len)) as u32;
            self.len += k;
            n -= u64::from(k);
            if self.len == RUN_MAX + LITERAL_WORDS {
                self.emit(false, out);
            }
        }
    }

    /// Flush the pending words.
    pub fn finish(mut self, out: &mut dyn FnMut(u8)) {
        while self.len > 0 {
            self.emit(true, out);
        }
    }

    fn emit(&mut self, last: bool, out: &mut dyn FnMut(u8)) {
        let bit = self.queue & 1 == 1;
        let run = ctz128(if bit { !self.queue } else { self.queue })
            .min(self.len)
            .min(RUN_MAX);
        let take = if run >= LITERAL_WORDS || (last && run == self.len) {
            out(((u8::from(bit)) << 6) | (run - 1) as u8);
            run
        } else {
            out(0x80 | (self.queue & 0x7F) as u8);
            LITERAL_WORDS.min(self.len)
        };
        self.queue >>= take;
        self.len -= take;
    }
}

/// `x.trailing_zeros()` (128 for 0), a 32-bit word at a time with a de Bruijn multiply: a
/// Cortex-M0+ has no count-trailing-zeros instruction, and `trailing_zeros` on a `u128` is
/// several routine calls.
fn ctz128(x: u128) -> u32 {
    const DEBRUIJN: [u8; 32] = [
        0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4, 8, 31, 27, 13, 23, 21, 19, 16, 7,
        26, 12, 18, 6, 11, 5, 10, 9,
    ];
    let mut base = 0;
    let mut x = x;
    while base < 128 {
        let w = x as u32;
        if w != 0 {
            let low = w & w.wrapping_neg();
            return base + u32::from(DEBRUIJN[(low.wrapping_mul(0x077C_B531) >> 27) as usize]);
        }
        x >>= 32;
        base += 32;
    }
    128
}

/// Size in bytes of the pointer map of `bits`, for tests and measurements.
pub fn pointer_map_len(bits: impl IntoIterator<Item = bool>) -> usize {
    let mut n = 0;
    let mut enc = PointerMapEncoder::new();
    let mut count = |_b: u8| n += 1;
    for b in bits {
        enc.push(b, &mut count);
    }
    enc.finish(&mut count);
    n
}

/// A malformed token stream; `offset` is the byte offset inside the pointer map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapError {
    /// Byte offset of the offending token or varint, inside its map.
    pub offset: usize,
    /// What is wrong.
    pub what: &'static str,
}

/// Decoder of the pointer map: yields the index of every reference word, in increasing order.
#[derive(Clone, Debug)]
pub struct PointerMapDecoder<I> {
    input: I,
    /// Next word index to be covered by a token.
    word: u64,
    total: u64,
    /// Reference words pending from the current token: a run (start, count) or literal bits.
    run: (u64, u64),
    literal: (u64, u8),
    failed: bool,
}

impl<'a> PointerMapDecoder<SliceInput<'a>> {
    /// Decode `bytes`, which must cover exactly `total` words.
    pub fn new(bytes: &'a [u8], total: u64) -> Self {
        Self::with_input(SliceInput::at(bytes, 0), total)
    }
}

impl<I: Input> PointerMapDecoder<I> {
    /// Decode the tokens of `input`, which must cover exactly `total` words.
    pub fn with_input(input: I, total: u64) -> Self {
        Self {
            input,
            word: 0,
            total,
            run: (0, 0),
            literal: (0, 0),
            failed: false,
        }
    }

    fn fail(&mut self, what: &'static str) -> Option<Result<u64, MapError>> {
        self.failed = true;
        Some(Err(MapError {
            offset: self.input.consumed().saturating_sub(1),
            what,
        }))
    }
}

impl<I: Input> Iterator for PointerMapDecoder<I> {
    type Item = Result<u64, MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Each loop iteration consumes a token byte or yields: the loop ends within the
        // input's length in iterations plus one per reference word.
        loop {
            if self.failed {
                return None;
            }
            if self.run.1 > 0 {
                let w = self.run.0;
                self.run = (w + 1, self.run.1 - 1);
                return Some(Ok(w));
            }
            if self.literal.1 != 0 {
                let bit = low_bit(self.literal.1);
                self.literal.1 &= self.literal.1 - 1;
                return Some(Ok(self.literal.0 + u64::from(bit)));
            }
            let Some(token) = self.input.next_byte() else {
                if self.word < self.total {
                    self.failed = true;
                    return Some(Err(MapError {
                        offset: self.input.consumed(),
                        what: "ends before the last word",
                    }));
                }
                return None;
            };
            if self.word >= self.total {
                return self.fail("token past the last word");
            }
            let remaining = self.total - self.word;
            if token & 0x80 != 0 {
                let bits = token & 0x7F;
                let covered = remaining.min(u64::from(LITERAL_WORDS));
                if covered < u64::from(LITERAL_WORDS) && (bits >> covered) != 0 {
                    return self.fail("reference bit past the last word");
                }
                if covered < u64::from(LITERAL_WORDS) && !self.input.is_done() {
                    return self.fail("token past the last word");
                }
                self.literal = (self.word, bits);
                self.word += covered;
            } else {
                let n = u64::from(token & 0x3F) + 1;
                if n > remaining {
                    return self.fail("run past the last word");
                }
                if token & 0x40 != 0 {
                    self.run = (self.word, n);
                }
                self.word += n;
            }
        }
    }
}

/// The index of the lowest set bit of `b` (not 0): three tests, where `trailing_zeros` is a
/// routine call on a Cortex-M0+ (no CTZ instruction).
#[inline(always)]
pub(crate) fn low_bit(b: u8) -> u32 {
    let mut b = b;
    let mut n = 0;
    if b & 0x0F == 0 {
        n += 4;
        b >>= 4;
    }
    if b & 0x03 == 0 {
        n += 2;
        b >>= 2;
    }
    if b & 0x01 == 0 {
        n += 1;
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Object map

/// Append the object-map record of an object of `size` bytes placed `pad` bytes after the end
/// of the previous one.
pub fn put_object(size: u32, pad: u32, out: &mut dyn FnMut(u8)) {
    put_varint((u64::from(size) << 1) | u64::from(pad != 0), out);
    if pad != 0 {
        put_varint(u64::from(pad), out);
    }
}

/// Length in bytes of an object-map record.
pub fn object_record_len(size: u32, pad: u32) -> usize {
    varint_len((u64::from(size) << 1) | u64::from(pad != 0))
        + if pad != 0 {
            varint_len(u64::from(pad))
        } else {
            0
        }
}

/// Streaming encoder of one section's part of the start bitmap: the objects' starts, in
/// increasing order, become little-endian words (a start off the grain is not named: see
/// [`BatchHeader::all_starts`]). Holds one word.
#[derive(Clone, Copy, Debug, Default)]
pub struct StartBitmapEncoder {
    /// The pending word's bits and index.
    bits: u32,
    word: u32,
}

impl StartBitmapEncoder {
    /// A new encoder, at the section's first word.
    pub fn new() -> Self {
        Self::default()
    }

    /// The pending word, done, when it comes before word `to` (the caller writes it, and asks
    /// again: one word at a time, so that it can send them as they come); `None` at `to`.
    pub fn word_before(&mut self, to: u32) -> Option<[u8; 4]> {
        if self.word >= to {
            return None;
        }
        let done = self.bits.to_le_bytes();
        self.bits = 0;
        self.word += 1;
        Some(done)
    }

    /// An object starts at section offset `start`, in the pending word (after
    /// [`Self::word_before`] gave every word before it); a start off the grain is not named.
    pub fn mark(&mut self, start: u32) {
        if start % START_GRAIN == 0 && start / START_WORD_BYTES == self.word {
            self.bits |= 1 << ((start / START_GRAIN) % 32);
        }
    }

    /// The whole bitmap of a section of `len` bytes whose objects start at `starts` (in
    /// increasing order), to `out`.
    pub fn encode(len: u32, starts: impl IntoIterator<Item = u32>, out: &mut dyn FnMut(&[u8])) {
        let mut enc = Self::new();
        for s in starts {
            while let Some(w) = enc.word_before(s / START_WORD_BYTES) {
                out(&w);
            }
            enc.mark(s);
        }
        while let Some(w) = enc.word_before(start_words(len)) {
            out(&w);
        }
    }
}

/// Whether `word`, word `w` of the start bitmap of a section of `len` bytes, names no grain at
/// or past the section's end (only the last word can).
pub const fn start_bits_inside(len: u32, w: u32, word: u32) -> bool {
    if w + 1 < start_words(len) {
        return true;
    }
    let grains = len.div_ceil(START_GRAIN) % 32;
    let mask = if grains == 0 {
        u32::MAX
    } else {
        (1 << grains) - 1
    };
    word & !mask == 0
}

/// Decoder of one section's part of the object map: yields `(start, size)` relative to the
/// section, checked to be increasing, non-overlapping, non-empty and inside `section_len`.
#[derive(Clone, Debug)]
pub struct ObjectMapDecoder<I> {
    input: I,
    end: u64,
    section_len: u64,
    left: u32,
}

impl<'a> ObjectMapDecoder<SliceInput<'a>> {
    /// Decode `count` records from `bytes[pos..]` for a section of `section_len` bytes.
    pub fn new(bytes: &'a [u8], pos: usize, count: u32, section_len: u64) -> Self {
        Self::with_input(SliceInput::at(bytes, pos), count, section_len)
    }
}

impl<I: Input> ObjectMapDecoder<I> {
    /// Decode `count` records from `input` for a section of `section_len` bytes.
    pub fn with_input(input: I, count: u32, section_len: u64) -> Self {
        Self {
            input,
            end: 0,
            section_len,
            left: count,
        }
    }

    /// Resume decoding between two records: the previous object ended at `end`, and `input`
    /// holds the records that follow, up to the end of the section's records.
    pub fn resume(input: I, end: u64, section_len: u64) -> Self {
        Self {
            input,
            end,
            section_len,
            left: u32::MAX,
        }
    }

    /// Whether the input holds no more records.
    pub fn is_done(&self) -> bool {
        self.left == 0 || self.input.is_done()
    }

    /// Byte position after the records decoded so far.
    pub fn position(&self) -> usize {
        self.input.consumed()
    }

    /// End offset of the last object decoded (0 before the first).
    pub fn end(&self) -> u64 {
        self.end
    }
}

impl<I: Input> Iterator for ObjectMapDecoder<I> {
    type Item = Result<(u64, u64), MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let at = self.input.consumed();
        let err = |what| Some(Err(MapError { offset: at, what }));
        let Some(v) = read_varint(&mut self.input) else {
            self.left = 0;
            return err("truncated or oversized record");
        };
        let size = v >> 1;
        let pad = if v & 1 == 1 {
            match read_varint(&mut self.input) {
                Some(p) if p > 0 => p,
                _ => {
                    self.left = 0;
                    return err("bad padding");
                }
            }
        } else {
            0
        };
        let start = self.end.checked_add(pad);
        let end = start.and_then(|s| s.checked_add(size));
        match (start, end) {
            (Some(start), Some(end)) if size > 0 && end <= self.section_len => {
                self.end = end;
                self.left -= 1;
                Some(Ok((start, size)))
            }
            _ => {
                self.left = 0;
                err("object outside its section or empty")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use zerocopy::FromZeros;

    fn encode(bits: &[bool]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = PointerMapEncoder::new();
        for &b in bits {
            enc.push(b, &mut |t| out.push(t));
        }
        enc.finish(&mut |t| out.push(t));
        out
    }

    /// `bits` through [`PointerMapEncoder::push_bits`] in chunks of 1 to 8 words (their sizes
    /// cycling through `chunks`), with runs of zeros through `push_zeros`.
    fn encode_chunked(bits: &[bool], chunks: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = PointerMapEncoder::new();
        let mut at = 0;
        for &n in chunks.iter().cycle() {
            if at >= bits.len() {
                break;
            }
            let n = n.min(bits.len() - at);
            let chunk = &bits[at..at + n];
            if chunk.iter().all(|&b| !b) {
                enc.push_zeros(n as u64, &mut |t| out.push(t));
            } else {
                let byte = chunk
                    .iter()
                    .rev()
                    .fold(0u8, |acc, &b| (acc << 1) | u8::from(b));
                enc.push_bits(byte, n as u32, &mut |t| out.push(t));
            }
            at += n;
        }
        enc.finish(&mut |t| out.push(t));
        out
    }

    #[test]
    fn push_bits_is_push_per_word() {
        // Densities and lengths that cross the queue's 71 words at every phase.
        let mut x = 0x2545_f491_u32;
        for len in [1usize, 7, 8, 9, 63, 70, 71, 72, 150, 600] {
            for density in [0u32, 1, 4, 8, 12, 16] {
                let bits: Vec<bool> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        x % 16 < density
                    })
                    .collect();
                let expected = encode(&bits);
                for chunks in [&[8usize][..], &[1, 8, 3], &[5, 2, 8, 7, 8, 1]] {
                    assert_eq!(
                        encode_chunked(&bits, chunks),
                        expected,
                        "{len} {density} {chunks:?}"
                    );
                }
            }
        }
    }

    fn decode(bytes: &[u8], total: u64) -> Result<Vec<u64>, MapError> {
        PointerMapDecoder::new(bytes, total).collect()
    }

    #[test]
    fn header_golden_bytes() {
        let mut h = BatchHeader::new_zeroed();
        h.magic = BATCH_MAGIC;
        h.version = U16::new(FORMAT_VERSION);
        h.header_len = U16::new(HEADER_LEN as u16);
        h.ref_bytes = 4;
        h.firmware_id_len = 3;
        h.batch_index = U32::new(1);
        h.prev_header_crc = U32::new(0xDEAD_BEEF);
        h.batch_offset = U32::new(0x1000);
        h.flash_objects = U32::new(2);
        h.ram_objects = U32::new(1);
        h.roots = U32::new(1);
        h.span = U32::new(4096);
        h.flash_base = U64::new(0x1010_1090);
        h.ram_base = U64::new(0x2003_0000);
        h.flash = SectionRef::new(144, 32);
        h.ram = SectionRef::new(176, 16);
        h.roots_table = SectionRef::new(192, 21);
        h.pointer_map = SectionRef::new(213, 2);
        h.object_map = SectionRef::new(215, 3);
        h.commit_offset = U32::new(224);
        h.firmware_id[..3].copy_from_slice(b"fw1");
        h.seal();
        #[rustfmt::skip]
        let golden: [u8; HEADER_LEN] = [
            b'F', b'F', b'Z', b'B', 4, 0, 144, 0,   4, 3, 0, 0,   1, 0, 0, 0,
            0xEF, 0xBE, 0xAD, 0xDE,  0, 0x10, 0, 0,   2, 0, 0, 0,   1, 0, 0, 0,
            1, 0, 0, 0,   0, 0x10, 0, 0,
            0x90, 0x10, 0x10, 0x10, 0, 0, 0, 0,   0, 0, 0x03, 0x20, 0, 0, 0, 0,
            144, 0, 0, 0, 32, 0, 0, 0,   176, 0, 0, 0, 16, 0, 0, 0,
            192, 0, 0, 0, 21, 0, 0, 0,   213, 0, 0, 0, 2, 0, 0, 0,
            215, 0, 0, 0, 3, 0, 0, 0,   224, 0, 0, 0,  0, 0, 0, 0,
            b'f', b'w', b'1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0,
            0x04, 0xF8, 0x1C, 0xF1,
        ];
        assert_eq!(
            &h.as_bytes()[..HEADER_CRC_OFFSET],
            &golden[..HEADER_CRC_OFFSET]
        );
        // The CRC is the zlib CRC-32 of the first 140 bytes.
        assert_eq!(
            h.header_crc.get(),
            CRC.checksum(&golden[..HEADER_CRC_OFFSET])
        );
        assert_eq!(CRC.checksum(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            h.as_bytes(),
            &golden[..],
            "header crc {:#010x}",
            h.header_crc.get()
        );
        let back = BatchHeader::read_from_bytes(&golden).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.firmware_id(), b"fw1");
    }

    #[test]
    fn commit_record_bytes() {
        let mut h = BatchHeader::new_zeroed();
        h.batch_index = U32::new(7);
        h.header_crc = U32::new(0x1122_3344);
        let crcs = ContentCrcs {
            flash: 0x0102_0304,
            ram: 0x0506_0708,
            meta: 0x090A_0B0C,
        };
        let c = CommitRecord::new(&h, crcs);
        #[rustfmt::skip]
        let golden: [u8; COMMIT_LEN] = [
            b'F', b'F', b'Z', b'C', 7, 0, 0, 0, 0x44, 0x33, 0x22, 0x11,
            4, 3, 2, 1, 8, 7, 6, 5, 0x0C, 0x0B, 0x0A, 0x09, 0, 0, 0, 0,
            0x14, 0xE4, 0xB3, 0x2A,
        ];
        assert_eq!(c.as_bytes(), &golden[..]);
        assert!(c.commits(&h));
        assert_eq!(c.crcs(), crcs);
        assert!(
            !CommitRecord::read_from_bytes(&[0xFF; COMMIT_LEN])
                .unwrap()
                .commits(&h)
        );
        // A bit that did not program (stays 1) breaks the record.
        let mut bad = golden;
        bad[13] |= 0x40;
        assert!(!CommitRecord::read_from_bytes(&bad).unwrap().commits(&h));
    }

    #[test]
    fn varints_round_trip() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16383,
            16384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(v, &mut |b| out.push(b));
            assert_eq!(out.len(), varint_len(v));
            let mut pos = 0;
            assert_eq!(get_varint(&out, &mut pos), Some(v));
            assert_eq!(pos, out.len());
        }
        // Every length of encoding, at the edges of the u32 fast path and past it.
        for bits in 0..64 {
            for v in [1u64 << bits, (1u64 << bits) - 1, (1u64 << bits) + 1] {
                let mut out = Vec::new();
                put_varint(v, &mut |b| out.push(b));
                let mut pos = 0;
                assert_eq!(get_varint(&out, &mut pos), Some(v), "{v:#x}");
                assert_eq!(pos, out.len());
            }
        }
        // Non-minimal encodings decode too (as they always did).
        assert_eq!(get_varint(&[0x81, 0x80, 0x80, 0x80, 0x00], &mut 0), Some(1));
        assert_eq!(get_varint(&[0x80, 0x80], &mut 0), None);
        assert_eq!(get_varint(&[0xFF; 10], &mut 0), None);
        assert_eq!(
            get_varint(
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02],
                &mut 0
            ),
            None
        );
    }

    #[test]
    fn ctz128_is_trailing_zeros() {
        assert_eq!(ctz128(0), 128);
        for i in 0..128 {
            for x in [1u128 << i, (1u128 << i) | (1 << 127), u128::MAX << i] {
                assert_eq!(ctz128(x), x.trailing_zeros(), "{x:#x}");
            }
        }
    }

    #[test]
    fn low_bit_is_trailing_zeros() {
        for b in 1..=255u8 {
            assert_eq!(low_bit(b), b.trailing_zeros(), "{b:#x}");
        }
    }

    #[test]
    fn pointer_map_tokens() {
        // 1 ref, 10 non-refs, 3 refs: two literals of 7 words.
        let mut bits = alloc::vec![true];
        bits.extend([false; 10]);
        bits.extend([true; 3]);
        let bytes = encode(&bits);
        assert_eq!(bytes, [0x81, 0x80 | 0b111_0000]);
        assert_eq!(decode(&bytes, 14).unwrap(), [0, 11, 12, 13]);
        // Long runs use run tokens.
        let mut bits = alloc::vec![false; 200];
        bits.extend([true; 70]);
        let bytes = encode(&bits);
        assert_eq!(bytes, [63, 63, 63, 7, 0x40 | 63, 0x40 | 5]);
    }

    #[test]
    fn pointer_map_round_trips_patterns() {
        let mut seed = 0x1234_5678_u64;
        for len in [0usize, 1, 6, 7, 8, 63, 64, 65, 71, 72, 150, 1000] {
            for density in [0u64, 1, 4, 16] {
                let bits: Vec<bool> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        density > 0 && seed % 16 < density
                    })
                    .collect();
                let bytes = encode(&bits);
                let want: Vec<u64> = (0..len as u64).filter(|&i| bits[i as usize]).collect();
                assert_eq!(
                    decode(&bytes, len as u64).unwrap(),
                    want,
                    "len {len} density {density}"
                );
                // Wrong totals are refused.
                if len > 0 {
                    assert!(decode(&bytes, len as u64 + 8).is_err());
                }
            }
        }
    }

    #[test]
    fn pointer_map_rejects_garbage() {
        assert!(decode(&[0x40 | 9], 5).is_err());
        assert!(decode(&[0xFF], 3).is_err());
        assert!(decode(&[0x81, 0x00], 3).is_err());
        assert_eq!(decode(&[0x81], 3).unwrap(), [0]);
    }

    #[test]
    fn object_map_round_trip_and_checks() {
        let mut out = Vec::new();
        for (size, pad) in [(16u32, 0u32), (300, 0), (5, 3), (8, 0)] {
            put_object(size, pad, &mut |b| out.push(b));
            assert!(object_record_len(size, pad) > 0);
        }
        let objs: Vec<_> = ObjectMapDecoder::new(&out, 0, 4, 332)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(objs, [(0, 16), (16, 300), (319, 5), (324, 8)]);
        assert!(ObjectMapDecoder::new(&out, 0, 4, 331).any(|r| r.is_err()));
        assert!(ObjectMapDecoder::new(&out, 0, 5, 400).any(|r| r.is_err()));
        assert!(ObjectMapDecoder::new(&[0x00], 0, 1, 10).any(|r| r.is_err()));
    }

    #[test]
    fn start_bitmap_words() {
        let mut out = Vec::new();
        // The module docs' example, in a section of 300 bytes (three words), with an object
        // off the grain (not named) and one in the third word.
        StartBitmapEncoder::encode(300, [0, 8, 20, 30, 124, 260], &mut |w| {
            out.extend_from_slice(w)
        });
        assert_eq!(out, [0x25, 0, 0, 0x80, 0, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(start_words(300), 3);
        assert_eq!(
            (start_words(0), start_words(128), start_words(129)),
            (0, 1, 2)
        );
        // 300 bytes: 75 grains, 11 in the last word.
        assert!(start_bits_inside(300, 2, 0x7FF));
        assert!(!start_bits_inside(300, 2, 0x800));
        assert!(start_bits_inside(300, 1, u32::MAX));
        assert!(start_bits_inside(256, 1, u32::MAX));
        assert!(start_bits_inside(254, 1, 1 << 31), "offset 252 is inside");
        assert!(!start_bits_inside(250, 1, 1 << 31));
    }
}
