//! The reader: decodes untrusted region bytes into checked batches.
//!
//! Reading is in two steps, both bounded by the region's length:
//!
//! 1. **Chain scan** ([`next_link`]): from the region start, follow batch headers. A header that
//!    is erased, has no magic, fails its CRC, does not continue this chain (index or
//!    `prev_header_crc`), or has no valid commit record ends the chain: that is an interrupted or
//!    stale write, reported as the [`Tail`], never an error. A committed batch of another
//!    format version, firmware id or reference width is an error.
//! 2. **Validation** ([`Image::open`]): each committed batch's layout, CRCs, section addresses,
//!    object map and roots are checked, and **every pointer word** named by the pointer map must
//!    hold the address of an object start in this batch or an earlier one (either section), or
//!    an address inside one of the VM's declared static ranges.
//!
//! Nothing here panics, loops without bound or allocates more than 8 bytes per object of the
//! image (each object's start and end, kept while validating so pointers can be looked up;
//! the object count is checked against the object map's length before allocating).
//!
//! [`rebase`] moves a validated image to other flash/RAM addresses with the pointer map.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, IntoBytes};

use super::Layout;
use super::format::{
    BATCH_MAGIC, BatchHeader, COMMIT_LEN, CRC, CommitRecord, FORMAT_VERSION, HEADER_LEN, MapError,
    ObjectMapDecoder, PointerMapDecoder, ROOT_ENTRY_LEN, RootEntry, SECTION_ALIGN, Section,
    SectionRef, align_up,
};
use crate::model::Placement;
use crate::plan::RootKind;

/// What the reader needs to know besides the bytes.
#[derive(Clone, Copy, Debug)]
pub struct ReadConfig<'a> {
    /// Where the region is mapped, the RAM area, the firmware id.
    pub layout: Layout<'a>,
    /// The VM's reference width (`ObjectModel::REF_BYTES`).
    pub ref_bytes: u32,
    /// Address ranges of the VM's static objects (firmware, ROM) that frozen objects may
    /// point into.
    pub statics: &'a [Range<u64>],
}

/// How a pointer word is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PointerFault {
    /// It points outside every section of this image and every static range.
    OutOfRange,
    /// It points inside a section, but not at the start of an object.
    NotObjectStart,
    /// The word itself is not inside an object (it lies in padding or past the section).
    WordOutsideObject,
}

/// Why region bytes were refused. `offset` is always relative to the region start.
#[derive(Clone, Debug, PartialEq, Eq)]
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
        /// The address it holds.
        value: u64,
        /// How it is wrong.
        fault: PointerFault,
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
                "batch {batch} at {offset:#x}: format version {found}, this firmware reads version {FORMAT_VERSION}"
            ),
            Self::FirmwareId { batch, offset } => write!(
                f,
                "batch {batch} at {offset:#x}: made by another firmware build (firmware id differs)"
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
                fault,
            } => {
                let why = match fault {
                    PointerFault::OutOfRange => "points outside the image and the static ranges",
                    PointerFault::NotObjectStart => "does not point at an object start",
                    PointerFault::WordOutsideObject => "is not inside an object",
                };
                write!(
                    f,
                    "batch {batch}, {section}: pointer word at {offset:#x} = {value:#x} {why}"
                )
            }
            Self::Root { batch, index, what } => write!(f, "batch {batch}, root {index}: {what}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// Why the chain of committed batches ends where it does.
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
    /// write or erase, or a batch left over from an earlier chain. It is ignored and will be
    /// overwritten by the next batch.
    Interrupted {
        /// Region offset.
        offset: u32,
        /// What was found.
        why: &'static str,
    },
}

impl fmt::Display for Tail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Erased { offset } => write!(f, "erased from {offset:#x}"),
            Self::RegionEnd => f.write_str("region full"),
            Self::Interrupted { offset, why } => write!(f, "ignored at {offset:#x}: {why}"),
        }
    }
}

/// One step of the chain scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// A committed batch with a well-formed header of this chain.
    Batch(BatchHeader),
    /// The chain ends.
    End(Tail),
}

/// Reads region bytes at a region offset into a buffer (a mapped slice, or a flash device).
pub type ReadAt<'r, E> = dyn FnMut(u32, &mut [u8]) -> Result<(), E> + 'r;

/// Read the chain link at region `offset`, expecting batch `index` after a batch whose header
/// CRC was `prev_crc`. `read(offset, buf)` fills `buf` from region bytes; the region is
/// `region_len` bytes long.
///
/// Checks what an interrupted write can break (magic, header CRC, chain, commit record) as the
/// end of the chain, then what a foreign image breaks (version, firmware id, width) as errors.
pub fn next_link<E>(
    read: &mut ReadAt<'_, E>,
    region_len: u32,
    offset: u32,
    index: u32,
    prev_crc: u32,
    layout: &Layout<'_>,
    ref_bytes: u32,
) -> Result<Result<Link, DecodeError>, E> {
    let end = |why| Ok(Ok(Link::End(Tail::Interrupted { offset, why })));
    let available = u64::from(region_len.saturating_sub(offset));
    if available < HEADER_LEN as u64 {
        return Ok(Ok(Link::End(Tail::RegionEnd)));
    }
    let mut buf = [0u8; HEADER_LEN];
    read(offset, &mut buf)?;
    if buf.iter().all(|&b| b == 0xFF) {
        return Ok(Ok(Link::End(Tail::Erased { offset })));
    }
    if buf[..4] != BATCH_MAGIC {
        return end("no batch magic");
    }
    let header_len = usize::from(u16::from_le_bytes([buf[6], buf[7]]));
    let version = u16::from_le_bytes([buf[4], buf[5]]);
    if header_len != HEADER_LEN {
        // Another version's header may be longer: check its CRC where that version puts it.
        if !(16..=4096).contains(&header_len) || header_len as u64 > available {
            return end("bad header length");
        }
        let mut crc = CRC.digest();
        let mut tail = [0u8; 4];
        let mut at = 0usize;
        let mut chunk = [0u8; 64];
        while at < header_len - 4 {
            let n = (header_len - 4 - at).min(chunk.len());
            read(offset + at as u32, &mut chunk[..n])?;
            crc.update(&chunk[..n]);
            at += n;
        }
        read(offset + (header_len - 4) as u32, &mut tail)?;
        if crc.finalize() != u32::from_le_bytes(tail) {
            return end("header CRC mismatch");
        }
        if version == FORMAT_VERSION {
            return Ok(Err(DecodeError::Layout {
                batch: index,
                offset: u64::from(offset),
                section: Section::Header,
                what: "header length differs from the format's",
            }));
        }
        return Ok(Err(DecodeError::Version {
            batch: index,
            offset,
            found: version,
        }));
    }
    let Ok(header) = BatchHeader::read_from_bytes(&buf) else {
        return end("header unreadable");
    };
    if header.compute_crc() != header.header_crc.get() {
        return end("header CRC mismatch");
    }
    if version != FORMAT_VERSION {
        return Ok(Err(DecodeError::Version {
            batch: index,
            offset,
            found: version,
        }));
    }
    if header.batch_index.get() != index || header.prev_header_crc.get() != prev_crc {
        return end("batch of an earlier chain");
    }
    let span = header.span.get();
    let commit = header.commit_offset.get();
    if span == 0
        || commit
            .checked_add(COMMIT_LEN as u32)
            .is_none_or(|e| e > span)
    {
        return Ok(Err(DecodeError::Layout {
            batch: index,
            offset: u64::from(offset),
            section: Section::Commit,
            what: "commit record outside the batch",
        }));
    }
    if u64::from(span) > available {
        return Ok(Err(DecodeError::Truncated {
            batch: index,
            offset,
            span,
            available,
        }));
    }
    let mut rec = [0u8; COMMIT_LEN];
    read(offset + commit, &mut rec)?;
    match CommitRecord::read_from_bytes(&rec) {
        Ok(rec) if rec.commits(&header) => {}
        _ => return end("batch not committed"),
    }
    if header.firmware_id() != layout.firmware_id
        || usize::from(header.firmware_id_len) > header.firmware_id.len()
    {
        return Ok(Err(DecodeError::FirmwareId {
            batch: index,
            offset,
        }));
    }
    if u32::from(header.ref_bytes) != ref_bytes {
        return Ok(Err(DecodeError::RefBytes {
            batch: index,
            found: header.ref_bytes,
            expected: ref_bytes,
        }));
    }
    Ok(Ok(Link::Batch(header)))
}

/// A validated, committed batch.
#[derive(Clone, Debug)]
pub struct Batch<'a> {
    offset: u32,
    header: BatchHeader,
    bytes: &'a [u8],
    /// `(start, end)` of each object, relative to its section: for pointer checks and dumps.
    flash_objects: Vec<(u32, u32)>,
    ram_objects: Vec<(u32, u32)>,
}

/// A root as read back from an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
pub struct ImageObject<'a> {
    /// Section.
    pub placement: Placement,
    /// Absolute address.
    pub address: u64,
    /// Its bytes (for the RAM section: the initial state stored in flash).
    pub bytes: &'a [u8],
    /// Offsets (inside the object) of its reference words, with the address each holds.
    pub refs: Vec<(u32, u64)>,
}

impl<'a> Batch<'a> {
    /// Index in the chain.
    pub fn index(&self) -> u32 {
        self.header.batch_index.get()
    }

    /// Region offset of the batch start.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The header.
    pub fn header(&self) -> &BatchHeader {
        &self.header
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
        self.header.flash_range()
    }

    /// Absolute address range of the RAM section.
    pub fn ram_range(&self) -> Range<u64> {
        self.header.ram_range()
    }

    /// Number of objects in each section.
    pub fn object_counts(&self) -> (u32, u32) {
        (
            self.flash_objects.len() as u32,
            self.ram_objects.len() as u32,
        )
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
        let mut out = Vec::new();
        for (placement, base, word_base, data, spans) in [
            (
                Placement::Flash,
                h.flash_base.get(),
                0,
                self.flash_section(),
                &self.flash_objects,
            ),
            (
                Placement::Ram,
                h.ram_base.get(),
                fw,
                self.ram_section(),
                &self.ram_objects,
            ),
        ] {
            for &(start, end) in spans {
                let (start, end) = (u64::from(start), u64::from(end));
                let mut refs = Vec::new();
                while let Some(&w) = ptrs.peek() {
                    if w < word_base || (w - word_base) * rb >= end {
                        break;
                    }
                    ptrs.next();
                    let at = (w - word_base) * rb;
                    if at >= start {
                        let value = read_word(data, at as usize, rb as usize).unwrap_or(0);
                        refs.push(((at - start) as u32, value));
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

    /// Whether `addr` is the start of an object of this batch (`None`: not in its sections).
    fn is_object_start(&self, addr: u64) -> Option<bool> {
        let find = |range: Range<u64>, spans: &[(u32, u32)]| {
            range.contains(&addr).then(|| {
                let rel = (addr - range.start) as u32;
                spans.binary_search_by_key(&rel, |s| s.0).is_ok()
            })
        };
        find(self.flash_range(), &self.flash_objects)
            .or_else(|| find(self.ram_range(), &self.ram_objects))
    }
}

fn read_word(data: &[u8], at: usize, width: usize) -> Option<u64> {
    let b = data.get(at..at.checked_add(width)?)?;
    let mut v = [0u8; 8];
    v[..width].copy_from_slice(b);
    Some(u64::from_le_bytes(v))
}

fn root_at(table: &[u8], i: u32) -> Result<ImageRoot<'_>, &'static str> {
    let at = (i as usize)
        .checked_mul(ROOT_ENTRY_LEN)
        .ok_or("entry outside the table")?;
    let raw = table
        .get(at..at + ROOT_ENTRY_LEN)
        .ok_or("entry outside the table")?;
    let entry = RootEntry::read_from_bytes(raw).map_err(|_| "entry unreadable")?;
    let start = entry.name_offset.get() as usize;
    let end = start + usize::from(entry.name_len.get());
    let name = table.get(start..end).ok_or("name outside the table")?;
    let name = core::str::from_utf8(name).map_err(|_| "name is not UTF-8")?;
    Ok(ImageRoot {
        kind: RootKind(entry.kind.get()),
        name,
        address: entry.address.get(),
    })
}

/// A validated image: the chain of committed batches in a region.
#[derive(Clone, Debug)]
pub struct Image<'a> {
    batches: Vec<Batch<'a>>,
    tail: Tail,
}

impl<'a> Image<'a> {
    /// Scan and validate every committed batch of `region` (the region's bytes as mapped).
    pub fn open(region: &'a [u8], cfg: &ReadConfig<'_>) -> Result<Self, DecodeError> {
        let region_len = u32::try_from(region.len()).unwrap_or(u32::MAX);
        let mut read = |off: u32, buf: &mut [u8]| -> Result<(), core::convert::Infallible> {
            let start = off as usize;
            match region.get(start..start + buf.len()) {
                Some(src) => buf.copy_from_slice(src),
                None => buf.fill(0xFF),
            }
            Ok(())
        };
        let mut batches: Vec<Batch<'a>> = Vec::new();
        let mut offset = 0u32;
        let mut prev_crc = 0u32;
        let tail = loop {
            let index = batches.len() as u32;
            let link = match next_link(
                &mut read,
                region_len,
                offset,
                index,
                prev_crc,
                &cfg.layout,
                cfg.ref_bytes,
            ) {
                Ok(link) => link?,
                Err(never) => match never {},
            };
            let header = match link {
                Link::Batch(h) => h,
                Link::End(tail) => break tail,
            };
            let span = header.span.get();
            let bytes = &region[offset as usize..(offset + span) as usize];
            let batch = validate_batch(bytes, offset, header, cfg, &batches)?;
            prev_crc = header.header_crc.get();
            batches.push(batch);
            match offset.checked_add(span) {
                Some(next) => offset = next,
                None => break Tail::RegionEnd,
            }
        };
        Ok(Self { batches, tail })
    }

    /// The committed batches, in chain order.
    pub fn batches(&self) -> &[Batch<'a>] {
        &self.batches
    }

    /// Why the chain ends where it does.
    pub fn tail(&self) -> Tail {
        self.tail
    }

    /// Region offset just past the last committed batch (where the next one goes).
    pub fn end_offset(&self) -> u32 {
        self.batches
            .last()
            .map_or(0, |b| b.offset + b.header.span.get())
    }
}

fn layout_err(batch: u32, offset: u64, section: Section, what: &'static str) -> DecodeError {
    DecodeError::Layout {
        batch,
        offset,
        section,
        what,
    }
}

/// Check one committed batch against the layout rules, its CRCs, maps and pointers.
fn validate_batch<'a>(
    bytes: &'a [u8],
    offset: u32,
    header: BatchHeader,
    cfg: &ReadConfig<'_>,
    earlier: &[Batch<'a>],
) -> Result<Batch<'a>, DecodeError> {
    let h = &header;
    let index = h.batch_index.get();
    let at = |rel: u32| u64::from(offset) + u64::from(rel);
    // Layout: the sections follow each other as the writer lays them out.
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
            return Err(layout_err(
                index,
                at(s.offset.get()),
                section,
                "section not where the format puts it",
            ));
        }
    }
    let meta_end = h
        .object_map
        .end()
        .ok_or_else(|| layout_err(index, at(0), Section::ObjectMap, "overflow"))?;
    if meta_end > h.commit_offset.get() {
        return Err(layout_err(
            index,
            at(meta_end),
            Section::Commit,
            "commit record overlaps the maps",
        ));
    }
    // CRCs.
    let section = |s: &SectionRef| -> &'a [u8] { s.bytes_in(bytes).unwrap_or(&[]) };
    let flash = section(&h.flash);
    let ram = section(&h.ram);
    let meta = bytes
        .get(h.roots_table.offset.get() as usize..meta_end as usize)
        .unwrap_or(&[]);
    for (sec, data, crc, off) in [
        (
            Section::Flash,
            flash,
            h.crc_flash.get(),
            h.flash.offset.get(),
        ),
        (Section::Ram, ram, h.crc_ram.get(), h.ram.offset.get()),
        (
            Section::Roots,
            meta,
            h.crc_meta.get(),
            h.roots_table.offset.get(),
        ),
    ] {
        if CRC.checksum(data) != crc {
            return Err(DecodeError::Crc {
                batch: index,
                section: sec,
                offset: at(off),
            });
        }
    }
    // Addresses.
    let actual = cfg.layout.region_address + at(h.flash.offset.get());
    if h.flash_base.get() != actual {
        return Err(DecodeError::Misplaced {
            batch: index,
            claimed: h.flash_base.get(),
            actual,
        });
    }
    let ram_lo = earlier
        .last()
        .map_or(cfg.layout.ram_address, |b| b.ram_range().end);
    let ram_hi = cfg.layout.ram_address.saturating_add(cfg.layout.ram_len);
    let ram_base = h.ram_base.get();
    if ram_base < ram_lo
        || ram_base
            .checked_add(u64::from(h.ram.len.get()))
            .is_none_or(|e| e > ram_hi)
    {
        return Err(DecodeError::RamRange {
            batch: index,
            ram_base,
            len: h.ram.len.get(),
        });
    }
    // Object map: starts of every object (bounded: a record takes at least one byte).
    let map = section(&h.object_map);
    let count = u64::from(h.flash_objects.get()) + u64::from(h.ram_objects.get());
    if count > map.len() as u64 {
        return Err(DecodeError::Map {
            batch: index,
            section: Section::ObjectMap,
            offset: at(h.object_map.offset.get()),
            what: "more objects than records",
        });
    }
    let map_err = |e: MapError, sec: Section, base: u32| DecodeError::Map {
        batch: index,
        section: sec,
        offset: at(base) + e.offset as u64,
        what: e.what,
    };
    let spans = |pos: usize, n: u32, len: u32| -> Result<(Vec<(u32, u32)>, usize), DecodeError> {
        let mut dec = ObjectMapDecoder::new(map, pos, n, u64::from(len));
        let mut v = Vec::with_capacity(n as usize);
        for r in dec.by_ref() {
            let (start, size) =
                r.map_err(|e| map_err(e, Section::ObjectMap, h.object_map.offset.get()))?;
            // Inside a u32-long section, so both fit.
            v.push((start as u32, (start + size) as u32));
        }
        if dec.end() != u64::from(len) {
            let e = MapError {
                offset: dec.position(),
                what: "objects do not fill their section",
            };
            return Err(map_err(e, Section::ObjectMap, h.object_map.offset.get()));
        }
        Ok((v, dec.position()))
    };
    let (flash_objects, pos) = spans(0, h.flash_objects.get(), h.flash.len.get())?;
    let (ram_objects, pos) = spans(pos, h.ram_objects.get(), h.ram.len.get())?;
    if pos != map.len() {
        let e = MapError {
            offset: pos,
            what: "bytes after the last record",
        };
        return Err(map_err(e, Section::ObjectMap, h.object_map.offset.get()));
    }
    let batch = Batch {
        offset,
        header,
        bytes,
        flash_objects,
        ram_objects,
    };
    // Pointers: every word the map names must lie inside an object and hold an object start.
    let rb = u64::from(h.ref_bytes);
    let (fw, rw) = h.pointer_words();
    let ptr_map = section(&h.pointer_map);
    let sections = [
        (
            Section::Flash,
            flash,
            h.flash.offset.get(),
            &batch.flash_objects,
        ),
        (Section::Ram, ram, h.ram.offset.get(), &batch.ram_objects),
    ];
    // Words come in increasing order: one cursor over the objects of each section.
    let mut cursor = [0usize; 2];
    for word in PointerMapDecoder::new(ptr_map, fw + rw) {
        let word = word.map_err(|e| map_err(e, Section::PointerMap, h.pointer_map.offset.get()))?;
        let (i, rel) = if word < fw {
            (0, word * rb)
        } else {
            (1, (word - fw) * rb)
        };
        let (sec, data, sec_off, objs) = sections[i];
        while cursor[i] < objs.len() && u64::from(objs[cursor[i]].1) < rel + rb {
            cursor[i] += 1;
        }
        let inside = objs
            .get(cursor[i])
            .is_some_and(|&(s, e)| u64::from(s) <= rel && rel + rb <= u64::from(e));
        let value = read_word(data, rel as usize, rb as usize);
        let fault = |value: u64, fault| DecodeError::Pointer {
            batch: index,
            section: sec,
            offset: at(sec_off) + rel,
            value,
            fault,
        };
        let value = match (inside, value) {
            (true, Some(v)) => v,
            (_, v) => return Err(fault(v.unwrap_or(0), PointerFault::WordOutsideObject)),
        };
        check_target(value, &batch, earlier, cfg).map_err(|f| fault(value, f))?;
    }
    // Roots.
    let table = section(&h.roots_table);
    let entries = u64::from(h.roots.get()) * ROOT_ENTRY_LEN as u64;
    if entries > table.len() as u64 {
        return Err(layout_err(
            index,
            at(h.roots_table.offset.get()),
            Section::Roots,
            "more roots than the table holds",
        ));
    }
    for i in 0..h.roots.get() {
        let root = root_at(table, i).map_err(|what| DecodeError::Root {
            batch: index,
            index: i,
            what,
        })?;
        check_target(root.address, &batch, earlier, cfg).map_err(|fault| DecodeError::Pointer {
            batch: index,
            section: Section::Roots,
            offset: at(h.roots_table.offset.get()) + u64::from(i) * ROOT_ENTRY_LEN as u64,
            value: root.address,
            fault,
        })?;
    }
    Ok(batch)
}

/// Where a pointer may go: an object start of this or an earlier batch, or a static range.
fn check_target(
    value: u64,
    this: &Batch<'_>,
    earlier: &[Batch<'_>],
    cfg: &ReadConfig<'_>,
) -> Result<(), PointerFault> {
    for b in earlier.iter().chain(core::iter::once(this)) {
        if let Some(ok) = b.is_object_start(value) {
            return if ok {
                Ok(())
            } else {
                Err(PointerFault::NotObjectStart)
            };
        }
    }
    if cfg.statics.iter().any(|r| r.contains(&value)) {
        return Ok(());
    }
    Err(PointerFault::OutOfRange)
}

/// Move a validated image in `region` from `from`'s addresses to a region mapped at
/// `region_address` and a RAM area at `ram_address`: every pointer word into the image's
/// sections, every root and the headers' addresses are shifted, CRCs and commit records are
/// rewritten. Pointers into static ranges are kept.
///
/// Both shifts must be multiples of 4096 (the largest object alignment), so that every object
/// stays aligned. The bytes are only changed when the whole image validated.
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
        let image = Image::open(region, from)?;
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
            let h = b.header();
            let rb = usize::from(h.ref_bytes);
            for obj in b.objects() {
                let (sec_off, base) = match obj.placement {
                    Placement::Flash => (h.flash.offset.get(), h.flash_base.get()),
                    Placement::Ram => (h.ram.offset.get(), h.ram_base.get()),
                };
                for &(off, value) in &obj.refs {
                    let at = b.offset() as usize
                        + sec_off as usize
                        + (obj.address - base) as usize
                        + off as usize;
                    edits.push((at, shift(value), rb));
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
        h.prev_header_crc = U32::new(prev_crc);
        region[off..off + HEADER_LEN].copy_from_slice(h.as_bytes());
        let end = off + h.span.get() as usize;
        prev_crc = reseal_batch(&mut region[off..end]).unwrap_or(0);
    }
    Ok(())
}

/// Recompute the CRCs, header CRC and commit record of the batch at the start of `batch`
/// (its bytes up to its span) from its header's fields; returns the new header CRC, or `None`
/// if the header's sections do not fit in `batch`.
///
/// For tools and tests that edit images (e.g. to check that the validator catches an edit that
/// keeps every CRC right); [`rebase`] uses it.
pub fn reseal_batch(batch: &mut [u8]) -> Option<u32> {
    let mut h = BatchHeader::read_from_prefix(batch).ok()?.0;
    h.crc_flash = U32::new(CRC.checksum(h.flash.bytes_in(batch)?));
    h.crc_ram = U32::new(CRC.checksum(h.ram.bytes_in(batch)?));
    let meta = batch.get(h.roots_table.offset.get() as usize..h.object_map.end()? as usize)?;
    h.crc_meta = U32::new(CRC.checksum(meta));
    h.seal();
    let c = h.commit_offset.get() as usize;
    batch.get(c..c.checked_add(COMMIT_LEN)?)?;
    batch[..HEADER_LEN].copy_from_slice(h.as_bytes());
    batch[c..c + COMMIT_LEN].copy_from_slice(CommitRecord::for_header(&h).as_bytes());
    Some(h.header_crc.get())
}

/// A short description of an image for logs: batches, objects, bytes, tail.
pub fn summary(image: &Image<'_>) -> String {
    let mut s = String::new();
    let (mut objs, mut flash, mut ram) = (0u64, 0u64, 0u64);
    for b in image.batches() {
        let (f, r) = b.object_counts();
        objs += u64::from(f) + u64::from(r);
        flash += u64::from(b.header().flash.len.get());
        ram += u64::from(b.header().ram.len.get());
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
