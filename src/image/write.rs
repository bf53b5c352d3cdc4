//! The writer: turns a [`Plan`] into the bytes of one batch, streamed in order.
//!
//! Nothing but a page and one object is ever held in RAM, and the VM is asked for each object's
//! frozen bytes once:
//!
//! 1. [`measure`] walks the plan's layouts and reference slots (the VM's `scan`, no frozen
//!    bytes) and returns the batch's sealed [`BatchHeader`]: section offsets and lengths,
//!    counts, the commit offset and the span. A batch that does not fit is refused here, before
//!    anything is erased.
//! 2. [`stream`] hands the batch's bytes, from offset 0 up to the commit record, to a sink in
//!    order: the header, the sections (asking the VM for each object's frozen bytes), the roots
//!    table, the pointer map (from `scan` again), the object map (from the layouts) and the
//!    start bitmap (decoded again from the object map the measuring pass kept, else from the
//!    layouts once more: a word at a time, never the bitmap in RAM). It returns the contents'
//!    CRCs, which go into the commit record ([`CommitRecord::new`]), programmed last in its
//!    own write unit.
//!
//! ```text
//! stream:  [header][flash section][RAM section][roots][pointer map][object map][0…][start bitmap][0xFF…]
//! then:    [commit record: CRCs of the sections]  ◄── programmed last, alone in its unit
//! ```
//!
//! A VM that answers differently from one pass to the next (other lengths, or other reference
//! words than while its bytes were written) gets [`ImageError::Nondeterministic`] before
//! anything is committed.
//!
//! [`write_batch_to_vec`] does both into a `Vec` for hosts and tests.

use alloc::vec::Vec;
use core::fmt;

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromZeros, IntoBytes};

use super::format::{ALL_STARTS, START_WORD_BYTES};
use super::format::{
    BATCH_MAGIC, BatchHeader, COMMIT_LEN, CRC, CommitRecord, ContentCrcs, CrcDigest,
    FIRMWARE_ID_MAX, FORMAT_VERSION, HEADER_LEN, PointerMapEncoder, ROOT_ENTRY_LEN, RootEntry,
    SECTION_ALIGN, START_GRAIN, Section, SectionRef, StartBitmapEncoder, align_up, low_bit,
    put_object,
};
use crate::error::FreezeError;
use crate::forward::ForwardingTable;
use crate::model::{ObjectModel, Placement};
use crate::plan::Plan;
use crate::relocate::{PlannedObject, Target};

/// Why a batch could not be produced. Nothing is committed when this is returned.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageError {
    /// The planner refused (the VM broke its contract while writing).
    Freeze(FreezeError),
    /// The firmware id is longer than 32 bytes.
    FirmwareIdTooLong {
        /// Its length.
        len: usize,
    },
    /// The plan was made for other section addresses than this batch's.
    TargetMismatch {
        /// The target the batch needs.
        expected: Target,
        /// The plan's.
        found: Target,
    },
    /// A reference word is not aligned to the reference width inside its section.
    UnalignedReference {
        /// Absolute address of the word.
        address: u64,
    },
    /// A root is neither planned nor kept.
    UnplannedRoot {
        /// Index of the root.
        index: usize,
    },
    /// A root's name is longer than 65535 bytes.
    RootNameTooLong {
        /// Index of the root.
        index: usize,
    },
    /// The batch would be larger than the format's 32-bit offsets allow.
    TooLarge,
    /// The plan's objects overlap, or do not end where its stats say (a bug, never written).
    Inconsistent {
        /// What was found.
        what: &'static str,
    },
    /// The VM answered differently in two passes over the plan (other lengths, or other
    /// reference words than while its bytes were written).
    Nondeterministic {
        /// The section that differs.
        section: Section,
    },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Freeze(e) => write!(f, "image: {e}"),
            Self::FirmwareIdTooLong { len } => {
                write!(
                    f,
                    "image: firmware id of {len} bytes (at most {FIRMWARE_ID_MAX})"
                )
            }
            Self::TargetMismatch { expected, found } => write!(
                f,
                "image: plan made for flash {:#x} / RAM {:#x}, batch needs flash {:#x} / RAM {:#x}",
                found.flash_base, found.ram_base, expected.flash_base, expected.ram_base
            ),
            Self::UnalignedReference { address } => {
                write!(
                    f,
                    "image: reference word at {address:#x} is not aligned to its width"
                )
            }
            Self::UnplannedRoot { index } => write!(f, "image: root {index} has no frozen address"),
            Self::RootNameTooLong { index } => write!(f, "image: name of root {index} is too long"),
            Self::TooLarge => f.write_str("image: batch larger than 4 GiB"),
            Self::Inconsistent { what } => write!(f, "image: inconsistent plan: {what}"),
            Self::Nondeterministic { section } => write!(
                f,
                "image: the VM answered differently on another pass ({section}); not committed"
            ),
        }
    }
}

impl core::error::Error for ImageError {}

impl From<FreezeError> for ImageError {
    fn from(e: FreezeError) -> Self {
        Self::Freeze(e)
    }
}

/// Where and for whom a batch is written; computed by the store from its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchParams<'a> {
    /// Position in the chain, from 0.
    pub batch_index: u32,
    /// Offset of the batch from the start of its region (a multiple of `erase_size`).
    pub batch_offset: u32,
    /// `header_crc` of the previous batch, 0 for the first.
    pub prev_header_crc: u32,
    /// Absolute (mapped) address of the batch's first byte.
    pub batch_address: u64,
    /// Absolute address of the batch's RAM section.
    pub ram_base: u64,
    /// The VM's firmware id (at most [`FIRMWARE_ID_MAX`] bytes).
    pub firmware_id: &'a [u8],
    /// The flash's write unit (`NorFlash::WRITE_SIZE`); the commit record fills one.
    pub write_size: u32,
    /// The flash's erase unit (`NorFlash::ERASE_SIZE`); `span` is a multiple of it.
    pub erase_size: u32,
}

impl BatchParams<'_> {
    /// The section addresses a plan for this batch must use, with the space left.
    pub fn target(&self, flash_capacity: u64, ram_capacity: u64) -> Target {
        Target {
            flash_base: self.batch_address + HEADER_LEN as u64,
            flash_capacity,
            ram_base: self.ram_base,
            ram_capacity,
        }
    }

    fn commit_unit(&self) -> u64 {
        u64::from(self.write_size).max(COMMIT_LEN as u64)
    }
}

/// What a walk over the plan's objects measured.
struct Pass {
    crc_flash: u32,
    crc_ram: u32,
    /// A digest of the reference words' indices, in order (walks with [`Needs::Refs`] or
    /// [`Needs::Bytes`]): two passes that report the same references agree on it.
    refs: u32,
    flash_objects: u32,
    ram_objects: u32,
    /// Section lengths (end of the last object).
    flash_len: u64,
    ram_len: u64,
    ptrmap_len: u64,
    objmap_len: u64,
    /// Some object does not start on a [`START_GRAIN`] (the start bitmap cannot name it).
    off_grain: bool,
}

/// What a walk asks the VM for, cheapest first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// Layouts only: the object map.
    Layout,
    /// Also the reference slots (`scan`): the pointer map.
    Refs,
    /// The frozen bytes with every reference rewritten, the sections' CRCs and the references'
    /// digest, but not the pointer map.
    Bytes,
}

/// Receives what a walk produces. Section bytes come with their section and absolute address;
/// map bytes are staged (they are produced a byte at a time) and sent at the next `drain`,
/// which the walk awaits after each object.
trait Visit {
    const NEEDS: Needs;
    /// Whether the walk computes the sections' CRCs (not when the sink computes them).
    const CRCS: bool = false;
    async fn section_bytes(&mut self, placement: Placement, address: u64, bytes: &[u8]);
    fn pointer_map(&mut self, byte: u8);
    fn object_map(&mut self, byte: u8);
    /// An object of `placement` starts at `offset` from its section's start.
    fn start(&mut self, _placement: Placement, _offset: u32) {}
    async fn drain(&mut self);
}

/// Walk the plan's objects in address order (flash section, then RAM section).
async fn walk<M, T, V>(plan: &Plan<M::Ref, T>, vm: &M, v: &mut V) -> Result<Pass, ImageError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
    V: Visit,
{
    walk_from(plan, vm, v, None).await
}

/// [`walk`], or with `resume` (the flash section's maps made while the plan traversed the
/// objects: [`FlashMaps`]) the RAM section's objects only, the maps continued from there.
async fn walk_from<M, T, V>(
    plan: &Plan<M::Ref, T>,
    vm: &M,
    v: &mut V,
    resume: Option<Resume>,
) -> Result<Pass, ImageError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
    V: Visit,
{
    let rb = u64::from(M::ENCODING.width());
    // Reference words are 4 or 8 bytes: divisions by the width are shifts (a Cortex-M0+ has no
    // divide instruction, and calls a routine for every 64-bit one).
    let rb_shift = rb.trailing_zeros();
    let rb32 = M::ENCODING.width();
    let target = *plan.target();
    let mut crc_flash = CRC.digest();
    let mut crc_ram = CRC.digest();
    // FNV-1a over the word indices: a consistency check between passes, not an integrity code.
    // 32-bit: one multiply instruction on a Cortex-M0+ (a 64-bit one is a routine call).
    let mut refs = FNV_START;
    let mut scratch: Vec<u8> = Vec::new();
    let mut ref_bits: Vec<u8> = Vec::new();
    let mut enc = PointerMapEncoder::new();
    let mut ptrmap_len = 0u64;
    let mut objmap_len = 0u64;
    let mut next_word = 0u64;
    let flash_words = plan.stats().flash_bytes.div_ceil(rb);
    let mut section = Placement::Flash;
    let mut end = 0u64;
    let (mut n_flash, mut n_ram) = (0u32, 0u32);
    let (mut flash_len, mut ram_len) = (0u64, 0u64);
    let mut off_grain = false;
    let zeros = [0u8; 64];
    let objects = match resume {
        Some(r) => {
            enc = r.enc;
            refs = r.refs;
            next_word = r.next_word;
            ptrmap_len = r.ptrmap_len;
            objmap_len = r.objmap_len;
            n_flash = r.flash_objects;
            flash_len = r.flash_len;
            off_grain = r.off_grain;
            plan.ram_section_objects(vm)
        }
        None => plan.objects(vm),
    };
    for obj in objects {
        let obj: PlannedObject<M::Ref> = obj?;
        if obj.placement != section {
            section = obj.placement;
            end = 0;
        }
        let (base, word_base, crc) = match obj.placement {
            Placement::Flash => (target.flash_base, 0, &mut crc_flash),
            Placement::Ram => (target.ram_base, flash_words, &mut crc_ram),
        };
        let offset = u64::from(obj.offset);
        let pad = offset.checked_sub(end).ok_or(ImageError::Inconsistent {
            what: "objects overlap",
        })?;
        let size = obj.layout.size;
        let pad32 = u32_of(pad)?;
        if V::NEEDS != Needs::Layout {
            // Reference words of this object as a bitset (one bit per word: the VM may report
            // them in any order, and a bitset is 32 to 64 times smaller than the object).
            let words = (size.div_ceil(rb32)) as usize;
            ref_bits.clear();
            ref_bits.reserve_exact(words.div_ceil(8));
            ref_bits.resize(words.div_ceil(8), 0);
            let mut misaligned = None;
            // The object's offset in its section: a u32 (sections are u32 long).
            let offset32 = offset as u32;
            let mut on_ref = |r: u32| {
                // The plan checked `r % rb == 0` (`check_slot`); the object may be less aligned.
                if offset32.wrapping_add(r) & (rb32 - 1) != 0 {
                    misaligned = Some(base + offset + u64::from(r));
                } else if let Some(byte) = ref_bits.get_mut((r >> rb_shift) as usize / 8) {
                    *byte |= 1 << ((r >> rb_shift) % 8);
                }
            };
            if V::NEEDS == Needs::Bytes {
                // Padding between objects is zero bytes.
                let mut at = end;
                while at < offset {
                    let n = (offset - at).min(zeros.len() as u64) as usize;
                    if V::CRCS {
                        crc.update(&zeros[..n]);
                    }
                    v.section_bytes(obj.placement, base + at, &zeros[..n]).await;
                    at += n as u64;
                }
                scratch.clear();
                if scratch.capacity() < size as usize {
                    // Freed before the larger one is made: growing in place would hold both
                    // (the batch's peak when its largest object comes late).
                    scratch = Vec::new();
                    scratch.reserve_exact(size as usize);
                }
                // Zeroed here, once (`write_yielded` does not clear it again).
                scratch.resize(size as usize, 0);
                plan.write_yielded(vm, &obj, &mut scratch, &mut on_ref)?;
            } else {
                plan.reference_offsets(vm, &obj, &mut on_ref)?;
            }
            if let Some(address) = misaligned {
                return Err(ImageError::UnalignedReference { address });
            }
            let first_word = word_base + u64::from(offset32 >> rb_shift);
            let mut out = |b| {
                ptrmap_len += 1;
                v.pointer_map(b);
            };
            let enc = (V::NEEDS == Needs::Refs).then_some(&mut enc);
            map_refs(
                &ref_bits,
                words,
                first_word,
                &mut next_word,
                &mut refs,
                enc,
                &mut out,
            )?;
            if V::NEEDS == Needs::Bytes {
                if V::CRCS {
                    crc.update(&scratch);
                }
                v.section_bytes(obj.placement, base + offset, &scratch)
                    .await;
            }
        }
        put_object(size, pad32, &mut |b| {
            objmap_len += 1;
            v.object_map(b);
        });
        // Inside its section (u32 long).
        v.start(obj.placement, offset as u32);
        off_grain |= offset % u64::from(START_GRAIN) != 0;
        v.drain().await;
        end = offset + u64::from(size);
        match obj.placement {
            Placement::Flash => {
                n_flash += 1;
                flash_len = end;
            }
            Placement::Ram => {
                n_ram += 1;
                ram_len = end;
            }
        }
    }
    if V::NEEDS == Needs::Refs {
        let total = flash_words + ram_len.div_ceil(rb);
        let mut out = |b| {
            ptrmap_len += 1;
            v.pointer_map(b);
        };
        enc.push_zeros(total.saturating_sub(next_word), &mut out);
        enc.finish(&mut out);
    }
    v.drain().await;
    Ok(Pass {
        crc_flash: crc_flash.finalize(),
        crc_ram: crc_ram.finalize(),
        refs,
        flash_objects: n_flash,
        ram_objects: n_ram,
        flash_len,
        ram_len,
        ptrmap_len,
        objmap_len,
        off_grain,
    })
}

/// The FNV-1a offset basis of [`Pass::refs`].
const FNV_START: u32 = 0x811c_9dc5;

/// One object's reference words into the pointer map: `ref_bits` has a bit per word of the
/// object (`words` of them), the first at map word `first_word`; `next_word` is the first word
/// the map has not covered yet, `refs` the digest of the reference words' indices. Without an
/// encoder only the digest and `next_word` advance (the writing pass).
fn map_refs(
    ref_bits: &[u8],
    words: usize,
    first_word: u64,
    next_word: &mut u64,
    refs: &mut u32,
    mut enc: Option<&mut PointerMapEncoder>,
    out: &mut dyn FnMut(u8),
) -> Result<(), ImageError> {
    // A byte of the bitset at a time: its eight words go to the pointer map together (one
    // shift of the encoder's queue, not one per reference word), and bytes without a reference
    // cost a test.
    for (i, &byte) in ref_bits.iter().enumerate() {
        if byte == 0 {
            continue;
        }
        let w0 = first_word + (i * 8) as u64;
        let gap = w0.checked_sub(*next_word).ok_or(ImageError::Inconsistent {
            what: "reference words out of order",
        })?;
        let mut bits = byte;
        while bits != 0 {
            let w = w0 + u64::from(low_bit(bits));
            bits &= bits - 1;
            // FNV-1a over the word indices: a consistency check between passes, not an
            // integrity code. 32-bit: one multiply instruction on a Cortex-M0+.
            *refs = (*refs ^ w as u32).wrapping_mul(0x0100_0193);
        }
        // The object's words in this byte (its last byte may cover fewer than eight; the bits
        // past them are 0).
        let n = (words - i * 8).min(8) as u32;
        if let Some(enc) = enc.as_deref_mut() {
            enc.push_zeros(gap, out);
            enc.push_bits(byte, n, out);
        }
        *next_word = w0 + u64::from(n);
    }
    Ok(())
}

/// Where a measuring walk resumes at the RAM section: the state the flash section left.
struct Resume {
    enc: PointerMapEncoder,
    refs: u32,
    next_word: u64,
    ptrmap_len: u64,
    objmap_len: u64,
    flash_objects: u32,
    flash_len: u64,
    off_grain: bool,
}

/// The flash section's pointer map and object map, made while the plan traverses the objects
/// (the store's freeze, dedup off): the traversal enters the objects in the order the plan
/// places them in each section, and scans each right after entering it, so its scans see the
/// flash section's objects in address order, with the layouts their addresses come from. The
/// measuring pass then walks only the RAM section's objects (for the seed, none or a few)
/// instead of every object. The same bytes as a full measuring walk: the same encoder, fed
/// the same words in the same order ([`map_refs`]); the stream still checks the digest of the
/// reference words and the section lengths against what it writes, and the plan's assigned
/// flash length must equal the one computed here, else the maps are not used.
#[derive(Debug)]
pub(crate) struct FlashMaps {
    /// Reference word width, and its log2.
    rb: u32,
    rb_shift: u32,
    granule: u32,
    enc: PointerMapEncoder,
    cache: MapCache,
    refs: u32,
    next_word: u64,
    ptrmap_len: u64,
    objmap_len: u64,
    objects: u32,
    /// Some object so far does not start on a [`START_GRAIN`].
    off_grain: bool,
    /// End of the flash section so far (offset from its base).
    end: u64,
    /// The object being scanned: its offset, size, pad before it, reference bitset, and
    /// whether it goes to flash.
    offset: u64,
    size: u32,
    pad: u32,
    ref_bits: Vec<u8>,
    current: bool,
    /// Still exact (else the measuring walk walks every object, as without these maps).
    valid: bool,
}

impl FlashMaps {
    /// Maps for a VM with reference words of `encoding`.
    pub(crate) fn new(encoding: &crate::model::RefEncoding) -> Self {
        let rb = encoding.width();
        Self {
            rb,
            rb_shift: rb.trailing_zeros(),
            granule: encoding.granule(),
            enc: PointerMapEncoder::new(),
            cache: MapCache::new(),
            refs: FNV_START,
            next_word: 0,
            ptrmap_len: 0,
            objmap_len: 0,
            objects: 0,
            off_grain: false,
            end: 0,
            offset: 0,
            size: 0,
            pad: 0,
            ref_bits: Vec::new(),
            current: false,
            valid: true,
        }
    }

    /// The next object entered goes to the flash section (`true`) or not.
    pub(crate) fn entered(&mut self, to_flash: bool) {
        self.current = to_flash && self.valid;
    }

    /// No longer usable (the plan skips objects: dedup; or the addresses differ).
    pub(crate) fn invalidate(&mut self) {
        self.valid = false;
        self.current = false;
        self.cache = MapCache::default();
        self.ref_bits = Vec::new();
    }

    /// The flash section's length the maps were made for, if they are usable.
    pub(crate) fn flash_len(&self) -> Option<u64> {
        (self.valid && self.cache.full).then_some(self.end)
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.cache.pointer_map.capacity()
            + self.cache.object_map.capacity()
            + self.ref_bits.capacity()
    }

    /// Reference words of `size` bytes (rounded up), by a shift: the width is a field here,
    /// and a Cortex-M0+ divides by a routine call.
    fn words(&self, size: u32) -> usize {
        let s = self.rb_shift;
        ((size >> s) + u32::from(size & ((1 << s) - 1) != 0)) as usize
    }
}

impl crate::traverse::ScanHook for FlashMaps {
    fn object(&mut self, layout: crate::model::FrozenLayout) {
        if !self.current {
            return;
        }
        let align = u64::from(layout.align.max(self.granule));
        let Some(offset) = align_up(self.end, align) else {
            return self.invalidate();
        };
        let (Ok(pad), Ok(_)) = (u32::try_from(offset - self.end), u32::try_from(offset)) else {
            return self.invalidate();
        };
        self.offset = offset;
        self.size = layout.size;
        self.pad = pad;
        let words = self.words(layout.size);
        self.ref_bits.clear();
        self.ref_bits.resize(words.div_ceil(8), 0);
    }

    fn reference(&mut self, r: u32) {
        if !self.current {
            return;
        }
        let rb_shift = self.rb_shift;
        if (self.offset as u32).wrapping_add(r) & (self.rb - 1) != 0 {
            // The writer reports this (`ImageError::UnalignedReference`) when it walks.
            return self.invalidate();
        }
        if let Some(byte) = self.ref_bits.get_mut((r >> rb_shift) as usize / 8) {
            *byte |= 1 << ((r >> rb_shift) % 8);
        }
    }

    fn scanned(&mut self) {
        if !self.current {
            return;
        }
        self.current = false;
        let words = self.words(self.size);
        let first_word = self.offset >> self.rb_shift;
        let cache = &mut self.cache;
        let ptrmap_len = &mut self.ptrmap_len;
        let mut out = |b| {
            *ptrmap_len += 1;
            MapCache::keep(&mut cache.pointer_map, b, &mut cache.full);
        };
        let mapped = map_refs(
            &self.ref_bits,
            words,
            first_word,
            &mut self.next_word,
            &mut self.refs,
            Some(&mut self.enc),
            &mut out,
        );
        let objmap_len = &mut self.objmap_len;
        put_object(self.size, self.pad, &mut |b| {
            *objmap_len += 1;
            MapCache::keep(&mut cache.object_map, b, &mut cache.full);
        });
        self.objects += 1;
        self.off_grain |= self.offset % u64::from(START_GRAIN) != 0;
        self.end = self.offset + u64::from(self.size);
        if mapped.is_err() || !cache.full {
            self.invalidate();
        }
    }
}

/// Write the roots table (entries, then names) to `out`; returns its length.
fn roots_table<M, T>(
    plan: &Plan<M::Ref, T>,
    vm: &M,
    out: &mut dyn FnMut(&[u8]),
) -> Result<u64, ImageError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    let count = plan.roots().iter().filter(|r| r.in_image).count();
    let roots = || plan.roots().iter().filter(|r| r.in_image);
    let mut name_offset = (count * ROOT_ENTRY_LEN) as u64;
    for (index, root) in roots().enumerate() {
        let address = plan
            .frozen_address(vm, root.target)
            .ok_or(ImageError::UnplannedRoot { index })?;
        let name_len =
            u16::try_from(root.name.len()).map_err(|_| ImageError::RootNameTooLong { index })?;
        let entry = RootEntry {
            address: U64::new(address),
            kind: U16::new(root.kind.0),
            name_len: U16::new(name_len),
            name_offset: U32::new(u32_of(name_offset)?),
        };
        out(entry.as_bytes());
        name_offset += u64::from(name_len);
    }
    for root in roots() {
        out(root.name.as_bytes());
    }
    Ok(name_offset)
}

fn u32_of(x: u64) -> Result<u32, ImageError> {
    u32::try_from(x).map_err(|_| ImageError::TooLarge)
}

/// The most bytes a [`MapCache`] keeps of each of the two maps (a batch whose maps are larger
/// has them walked again when they are streamed). The cache grows with the maps (doubling from
/// 16 bytes), so a small batch's append holds about its maps' size, not this bound.
pub(crate) const MAP_CACHE_BYTES: usize = 2048;

/// The pointer map and the object map as the measuring pass made them, kept (each up to
/// [`MAP_CACHE_BYTES`]) so that [`stream_to`] sends them without asking the VM again: two of
/// its three walks over the objects.
#[derive(Debug, Default)]
pub(crate) struct MapCache {
    pointer_map: Vec<u8>,
    object_map: Vec<u8>,
    /// The measuring pass's digest of the reference words (the stream checks its own
    /// against it, as it checks the pointer map's walk without a cache).
    refs: u32,
    /// Both maps are complete.
    full: bool,
}

impl MapCache {
    /// An empty cache that keeps what the measuring walk gives it (nothing reserved yet: it
    /// grows with the maps).
    fn new() -> Self {
        Self {
            full: true,
            ..Self::default()
        }
    }

    /// Keeps `byte` in `v`, growing it (doubling, up to [`MAP_CACHE_BYTES`]) when it is full;
    /// past that bound, or when the heap has no room, the cache is no longer full (and lets
    /// go of what it kept: the stream walks the maps again).
    fn keep(v: &mut Vec<u8>, byte: u8, full: &mut bool) {
        if !*full {
            return;
        }
        if v.len() == v.capacity() {
            let add = v.capacity().max(16).min(MAP_CACHE_BYTES - v.len());
            if add == 0 || v.try_reserve_exact(add).is_err() {
                *full = false;
                *v = Vec::new();
                return;
            }
        }
        v.push(byte);
    }
}

/// Counts (the walk itself measures), and keeps the maps in a [`MapCache`] if given one: for
/// [`measure`].
struct Sizes<'a> {
    cache: Option<&'a mut MapCache>,
}

impl Visit for Sizes<'_> {
    const NEEDS: Needs = Needs::Refs;
    async fn section_bytes(&mut self, _: Placement, _: u64, _: &[u8]) {}
    fn pointer_map(&mut self, byte: u8) {
        if let Some(c) = self.cache.as_deref_mut() {
            MapCache::keep(&mut c.pointer_map, byte, &mut c.full);
        }
    }
    fn object_map(&mut self, byte: u8) {
        if let Some(c) = self.cache.as_deref_mut() {
            MapCache::keep(&mut c.object_map, byte, &mut c.full);
        }
    }
    async fn drain(&mut self) {}
}

/// Pass 1: the sealed header of the batch that `plan` becomes with `params` (the contents'
/// CRCs are not in it: [`stream`] returns them for the commit record).
///
/// The plan must have been made for `params.target(..)`'s addresses. Asks the VM for layouts
/// and reference slots only, not for frozen bytes.
pub fn measure<M, T>(
    plan: &Plan<M::Ref, T>,
    vm: &M,
    params: &BatchParams<'_>,
) -> Result<BatchHeader, ImageError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    // Nothing in a measuring walk waits: it completes on its first poll.
    crate::store::device::block_on(measure_batch(plan, vm, params, None, None))
}

/// [`measure`], keeping the maps in `cache` for [`stream_to`].
/// With `flash` (the flash section's maps, made while the plan traversed), only the RAM
/// section's objects are walked.
pub(crate) fn measure_keeping<M, T>(
    plan: &Plan<M::Ref, T>,
    vm: &M,
    params: &BatchParams<'_>,
    cache: &mut MapCache,
    flash: Option<FlashMaps>,
) -> Result<BatchHeader, ImageError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    *cache = MapCache::new();
    let resume = flash
        .filter(|m| m.flash_len() == Some(plan.stats().flash_bytes) && m.rb == M::ENCODING.width())
        .map(|m| {
            *cache = m.cache;
            Resume {
                enc: m.enc,
                refs: m.refs,
                next_word: m.next_word,
                ptrmap_len: m.ptrmap_len,
                objmap_len: m.objmap_len,
                flash_objects: m.objects,
                flash_len: m.end,
                off_grain: m.off_grain,
            }
        });
    crate::store::device::block_on(measure_batch(plan, vm, params, Some(cache), resume))
}

async fn measure_batch<M, T>(
    plan: &Plan<M::Ref, T>,
    vm: &M,
    params: &BatchParams<'_>,
    mut cache: Option<&mut MapCache>,
    resume: Option<Resume>,
) -> Result<BatchHeader, ImageError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    if params.firmware_id.len() > FIRMWARE_ID_MAX {
        return Err(ImageError::FirmwareIdTooLong {
            len: params.firmware_id.len(),
        });
    }
    let found = *plan.target();
    let expected = params.target(found.flash_capacity, found.ram_capacity);
    if found.flash_base != expected.flash_base || found.ram_base != expected.ram_base {
        return Err(ImageError::TargetMismatch { expected, found });
    }
    let roots_len = roots_table(plan, vm, &mut |_| {})?;
    let pass = walk_from(
        plan,
        vm,
        &mut Sizes {
            cache: cache.as_deref_mut(),
        },
        resume,
    )
    .await?;
    if let Some(c) = cache {
        c.refs = pass.refs;
        if !c.full {
            c.pointer_map = Vec::new();
            c.object_map = Vec::new();
        }
    }
    // The pointer map numbers RAM words after the flash words the stats announce.
    if pass.flash_len != plan.stats().flash_bytes || pass.ram_len != plan.stats().ram_bytes {
        return Err(ImageError::Inconsistent {
            what: "section lengths differ from the plan's stats",
        });
    }

    let align = u64::from(SECTION_ALIGN);
    let flash_off = HEADER_LEN as u64;
    let ram_off = align_up(flash_off + pass.flash_len, align).ok_or(ImageError::TooLarge)?;
    let roots_off = align_up(ram_off + pass.ram_len, align).ok_or(ImageError::TooLarge)?;
    let ptr_off = roots_off + roots_len;
    let obj_off = ptr_off + pass.ptrmap_len;
    // The start bitmap: after the object map, on a 4-byte boundary (read as words in place).
    let bitmap_off = align_up(obj_off + pass.objmap_len, 4).ok_or(ImageError::TooLarge)?;
    let words = |len: u64| u32_of(len).map(super::format::start_words);
    let bitmap_len = 4 * (u64::from(words(pass.flash_len)?) + u64::from(words(pass.ram_len)?));
    let meta_end = bitmap_off + bitmap_len;
    let commit = align_up(meta_end, params.commit_unit().max(align)).ok_or(ImageError::TooLarge)?;
    let span = align_up(
        commit + params.commit_unit(),
        u64::from(params.erase_size.max(1)),
    )
    .ok_or(ImageError::TooLarge)?;

    let mut h = BatchHeader::new_zeroed();
    h.magic = BATCH_MAGIC;
    h.version = U16::new(FORMAT_VERSION);
    h.header_len = U16::new(HEADER_LEN as u16);
    h.ref_bytes = M::ENCODING.width() as u8;
    h.firmware_id_len = params.firmware_id.len() as u8;
    h.batch_index = U32::new(params.batch_index);
    h.prev_header_crc = U32::new(params.prev_header_crc);
    h.batch_offset = U32::new(params.batch_offset);
    h.flash_objects = U32::new(pass.flash_objects);
    h.ram_objects = U32::new(pass.ram_objects);
    h.roots = U32::new(u32_of(
        plan.roots().iter().filter(|r| r.in_image).count() as u64
    )?);
    h.flash_base = U64::new(found.flash_base);
    h.ram_base = U64::new(found.ram_base);
    h.flash = SectionRef::new(u32_of(flash_off)?, u32_of(pass.flash_len)?);
    h.ram = SectionRef::new(u32_of(ram_off)?, u32_of(pass.ram_len)?);
    h.roots_table = SectionRef::new(u32_of(roots_off)?, u32_of(roots_len)?);
    h.pointer_map = SectionRef::new(u32_of(ptr_off)?, u32_of(pass.ptrmap_len)?);
    h.object_map = SectionRef::new(u32_of(obj_off)?, u32_of(pass.objmap_len)?);
    h.commit_offset = U32::new(u32_of(commit)?);
    h.all_starts = if pass.off_grain { 0 } else { ALL_STARTS };
    h.span = U32::new(u32_of(span)?);
    h.firmware_id[..params.firmware_id.len()].copy_from_slice(params.firmware_id);
    h.seal();
    Ok(h)
}

/// Failure of [`stream`]: the sink's own error, or the image's.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamError<E> {
    /// The sink failed (e.g. the flash).
    Sink(E),
    /// The image could not be produced.
    Image(ImageError),
}

impl<E: fmt::Display> fmt::Display for StreamError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sink(e) => write!(f, "image: the output failed: {e}"),
            Self::Image(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Display + fmt::Debug> core::error::Error for StreamError<E> {}

impl<E> From<ImageError> for StreamError<E> {
    fn from(e: ImageError) -> Self {
        Self::Image(e)
    }
}

/// Where [`stream_to`] sends a batch's bytes, in order: the flash (through a page buffer),
/// a `Vec`, a closure.
pub(crate) trait Sink {
    /// The sink's error.
    type Error;
    /// Whether the sink computes the contents' CRCs of what it is sent ([`Sink::crcs`]); the
    /// writer then computes none.
    const OWN_CRCS: bool = false;
    /// Take the next `bytes`.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
    /// The contents' CRCs of the bytes sent (only asked when [`Sink::OWN_CRCS`]).
    fn crcs(&mut self) -> ContentCrcs {
        ContentCrcs::default()
    }
}

/// A closure as a [`Sink`] (it never waits).
struct FnSink<'a, E>(&'a mut dyn FnMut(&[u8]) -> Result<(), E>);

impl<E> Sink for FnSink<'_, E> {
    type Error = E;
    async fn send(&mut self, bytes: &[u8]) -> Result<(), E> {
        (self.0)(bytes)
    }
}

/// The ordered output of [`stream`]: tracks the batch offset, stages single bytes, keeps the
/// sink's first error (after which nothing more is sent).
struct Out<'a, S: Sink> {
    sink: &'a mut S,
    pos: u64,
    err: Option<S::Error>,
    /// Bytes produced a few at a time (the maps, padding), sent at the next flush.
    stage: Vec<u8>,
    /// The CRC of the roots table and the maps, fed while `in_meta`.
    meta: CrcDigest,
    in_meta: bool,
}

/// Staged bytes are sent once this many are waiting (and at every flush).
const STAGE: usize = 64;

impl<S: Sink> Out<'_, S> {
    async fn send(&mut self, bytes: &[u8]) {
        if self.in_meta && !S::OWN_CRCS {
            self.meta.update(bytes);
        }
        if self.err.is_none() && !bytes.is_empty() {
            if let Err(e) = self.sink.send(bytes).await {
                self.err = Some(e);
            }
        }
    }

    async fn flush(&mut self) {
        let stage = core::mem::take(&mut self.stage);
        self.send(&stage).await;
        // Keep the allocation for the next bytes.
        self.stage = stage;
        self.stage.clear();
    }

    async fn bytes(&mut self, bytes: &[u8]) {
        self.flush().await;
        self.send(bytes).await;
        self.pos += bytes.len() as u64;
    }

    /// Stage one byte (sent at the next flush).
    fn byte(&mut self, b: u8) {
        self.stage.push(b);
        self.pos += 1;
    }

    /// Stage `bytes` (sent at the next flush).
    fn stage_bytes(&mut self, bytes: &[u8]) {
        self.stage.extend_from_slice(bytes);
        self.pos += bytes.len() as u64;
    }

    /// Send the staged bytes if there are enough of them.
    async fn drain(&mut self) {
        if self.stage.len() >= STAGE {
            self.flush().await;
        }
    }

    /// `0xFF` up to batch offset `to`.
    async fn fill_to(&mut self, to: u64) {
        while self.pos < to {
            self.byte(0xFF);
            self.drain().await;
        }
    }
}

/// Sends the sections' bytes to [`Out`] at their batch offsets.
struct Sections<'a, 'b, S: Sink> {
    out: &'a mut Out<'b, S>,
    header: &'a BatchHeader,
}

impl<S: Sink> Visit for Sections<'_, '_, S> {
    const NEEDS: Needs = Needs::Bytes;
    const CRCS: bool = !S::OWN_CRCS;
    async fn section_bytes(&mut self, placement: Placement, address: u64, bytes: &[u8]) {
        let h = self.header;
        let at = match placement {
            Placement::Flash => u64::from(h.flash.offset.get()) + (address - h.flash_base.get()),
            Placement::Ram => u64::from(h.ram.offset.get()) + (address - h.ram_base.get()),
        };
        self.out.fill_to(at).await;
        self.out.bytes(bytes).await;
    }
    fn pointer_map(&mut self, _: u8) {}
    fn object_map(&mut self, _: u8) {}
    async fn drain(&mut self) {}
}

/// Sends one of the maps to [`Out`]: the pointer map when `POINTERS` (asks the VM for its
/// reference slots), else the object map (layouts only).
struct Map<'a, 'b, S: Sink, const POINTERS: bool> {
    out: &'a mut Out<'b, S>,
}

impl<S: Sink, const POINTERS: bool> Visit for Map<'_, '_, S, POINTERS> {
    const NEEDS: Needs = if POINTERS { Needs::Refs } else { Needs::Layout };
    async fn section_bytes(&mut self, _: Placement, _: u64, _: &[u8]) {}
    fn pointer_map(&mut self, byte: u8) {
        if POINTERS {
            self.out.byte(byte);
        }
    }
    fn object_map(&mut self, byte: u8) {
        if !POINTERS {
            self.out.byte(byte);
        }
    }
    async fn drain(&mut self) {
        self.out.drain().await;
    }
}

/// The start bitmap as it is streamed: the objects' starts, section by section, in order, to
/// [`Out`] a word at a time (one word held: no buffer of the bitmap).
struct StartsStream {
    lens: [u32; 2],
    section: usize,
    enc: StartBitmapEncoder,
}

impl StartsStream {
    fn new(h: &BatchHeader) -> Self {
        Self {
            lens: [h.flash.len.get(), h.ram.len.get()],
            section: 0,
            enc: StartBitmapEncoder::new(),
        }
    }

    /// The words before word `to` of the current section.
    async fn words_to<S: Sink>(&mut self, out: &mut Out<'_, S>, to: u32) {
        while let Some(w) = self.enc.word_before(to) {
            out.stage_bytes(&w);
            out.drain().await;
        }
    }

    /// An object of section `s` (0 flash, 1 RAM) starts at `start`.
    async fn start<S: Sink>(&mut self, out: &mut Out<'_, S>, s: usize, start: u32) {
        while self.section < s.min(2) {
            self.end_section(out).await;
        }
        self.words_to(out, start / START_WORD_BYTES).await;
        self.enc.mark(start);
    }

    async fn end_section<S: Sink>(&mut self, out: &mut Out<'_, S>) {
        let len = self.lens.get(self.section).copied().unwrap_or(0);
        self.words_to(out, super::format::start_words(len)).await;
        self.section += 1;
        self.enc = StartBitmapEncoder::new();
    }

    /// The rest of both sections' words.
    async fn finish<S: Sink>(&mut self, out: &mut Out<'_, S>) {
        while self.section < 2 {
            self.end_section(out).await;
        }
    }
}

/// Stage `enc`'s words before word `to`; `true` when the stage filled first (the caller
/// flushes it and asks again).
fn stage_words<S: Sink>(enc: &mut StartBitmapEncoder, to: u32, out: &mut Out<'_, S>) -> bool {
    while let Some(w) = enc.word_before(to) {
        out.stage_bytes(&w);
        if out.stage.len() >= STAGE {
            return true;
        }
    }
    false
}

/// Sends the start bitmap to [`Out`] from a walk over the layouts.
struct Starts<'a, 'b, 'c, S: Sink> {
    out: &'a mut Out<'b, S>,
    starts: &'c mut StartsStream,
    /// The start the walk reported, sent at its `drain`.
    pending: Option<(usize, u32)>,
}

impl<S: Sink> Visit for Starts<'_, '_, '_, S> {
    const NEEDS: Needs = Needs::Layout;
    async fn section_bytes(&mut self, _: Placement, _: u64, _: &[u8]) {}
    fn pointer_map(&mut self, _: u8) {}
    fn object_map(&mut self, _: u8) {}
    fn start(&mut self, placement: Placement, offset: u32) {
        let s = match placement {
            Placement::Flash => 0,
            Placement::Ram => 1,
        };
        self.pending = Some((s, offset));
    }
    async fn drain(&mut self) {
        if let Some((s, offset)) = self.pending.take() {
            self.starts.start(self.out, s, offset).await;
        }
    }
}

/// Pass 2: stream the batch's bytes from offset 0 (the header `measured`) up to
/// `measured.commit_offset` (exclusive) into `sink`, in order, and return the contents' CRCs
/// for the commit record. Gaps between sections are `0xFF`; padding inside a section is zero.
///
/// `measured` is [`measure`]'s header. A VM that answers differently than in `measure`, or
/// reports other reference words for the pointer map than while its bytes were written, gets
/// [`ImageError::Nondeterministic`], and the caller must not commit.
pub fn stream<M, T, E>(
    plan: &Plan<M::Ref, T>,
    vm: &M,
    measured: &BatchHeader,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), E>,
) -> Result<ContentCrcs, StreamError<E>>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    // A closure never waits: the stream completes on its first poll.
    crate::store::device::block_on(stream_to(plan, vm, measured, &mut FnSink(sink), None))
}

/// [`stream`] into any [`Sink`]; awaits it between objects (the store's async front-end
/// programs the flash there).
pub(crate) async fn stream_to<M, T, S>(
    plan: &Plan<M::Ref, T>,
    vm: &M,
    measured: &BatchHeader,
    sink: &mut S,
    cache: Option<&MapCache>,
) -> Result<ContentCrcs, StreamError<S::Error>>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
    S: Sink,
{
    let mut out = Out {
        sink,
        pos: 0,
        err: None,
        stage: Vec::with_capacity(2 * STAGE),
        meta: CRC.digest(),
        in_meta: false,
    };
    out.bytes(measured.as_bytes()).await;
    let sections = walk(
        plan,
        vm,
        &mut Sections {
            out: &mut out,
            header: measured,
        },
    )
    .await?;
    let differs = |section| StreamError::Image(ImageError::Nondeterministic { section });
    if sections.flash_len != u64::from(measured.flash.len.get())
        || sections.flash_objects != measured.flash_objects.get()
    {
        return Err(differs(Section::Flash));
    }
    if sections.ram_len != u64::from(measured.ram.len.get())
        || sections.ram_objects != measured.ram_objects.get()
    {
        return Err(differs(Section::Ram));
    }
    out.fill_to(u64::from(measured.roots_table.offset.get()))
        .await;
    // Roots, pointer map and object map are contiguous and all in the meta CRC.
    out.flush().await;
    out.in_meta = true;
    // The table is staged whole: room for exactly it, made after the old stage is freed (grown
    // in steps, the stage would hold two copies at its peak).
    let table_len = measured.roots_table.len.get() as usize;
    if out.stage.capacity() < table_len {
        out.stage = Vec::new();
        out.stage.reserve_exact(table_len);
    }
    let roots_len = roots_table(plan, vm, &mut |b| out.stage_bytes(b))?;
    out.flush().await;
    if roots_len != u64::from(measured.roots_table.len.get()) {
        return Err(differs(Section::Roots));
    }
    // The measuring pass's maps when it kept them (the VM is not asked a third and a fourth
    // time), else walked again; either way they must mark exactly the words the VM reported
    // while its bytes were written.
    if let Some(c) = cache.filter(|c| c.full) {
        if c.refs != sections.refs
            || c.pointer_map.len() as u64 != u64::from(measured.pointer_map.len.get())
        {
            return Err(differs(Section::PointerMap));
        }
        out.bytes(&c.pointer_map).await;
        out.bytes(&c.object_map).await;
    } else {
        let map = walk(plan, vm, &mut Map::<S, true> { out: &mut out }).await?;
        out.flush().await;
        if map.refs != sections.refs
            || map.ptrmap_len != u64::from(measured.pointer_map.len.get())
            || out.pos != u64::from(measured.object_map.offset.get())
        {
            return Err(differs(Section::PointerMap));
        }
        walk(plan, vm, &mut Map::<S, false> { out: &mut out }).await?;
    }
    out.flush().await;
    if u64::from(measured.object_map.end().unwrap_or(0)) != out.pos {
        return Err(differs(Section::ObjectMap));
    }
    // The start bitmap: from the object map the measuring pass kept (decoded again here: no
    // buffer), else from one more walk over the layouts.
    let bitmap = measured
        .start_bitmap()
        .ok_or_else(|| differs(Section::StartBitmap))?;
    while out.pos < u64::from(bitmap.offset.get()) {
        out.byte(0);
    }
    let mut starts = StartsStream::new(measured);
    if let Some(c) = cache.filter(|c| c.full) {
        // A plain loop (the stage flushed when it fills): no await per object, and the usual
        // record (one byte, no padding) decoded inline in u32.
        let map = &c.object_map[..];
        let mut p = 0usize;
        for (n, len) in [
            (measured.flash_objects.get(), measured.flash.len.get()),
            (measured.ram_objects.get(), measured.ram.len.get()),
        ] {
            let mut enc = StartBitmapEncoder::new();
            let mut end = 0u32;
            for _ in 0..n {
                let Some(&b) = map.get(p) else {
                    return Err(differs(Section::StartBitmap));
                };
                let (size, pad) = if b & 0x81 == 0 {
                    p += 1;
                    (u32::from(b >> 1), 0)
                } else {
                    let v = super::format::get_varint(map, &mut p);
                    let pad = match v {
                        Some(v) if v & 1 == 1 => super::format::get_varint(map, &mut p),
                        Some(_) => Some(0),
                        None => None,
                    };
                    match (v.map(|v| u32::try_from(v >> 1)), pad.map(u32::try_from)) {
                        (Some(Ok(size)), Some(Ok(pad))) => (size, pad),
                        _ => return Err(differs(Section::StartBitmap)),
                    }
                };
                // The measuring pass made these records for a section of u32 length.
                let start = end
                    .checked_add(pad)
                    .ok_or_else(|| differs(Section::StartBitmap))?;
                end = start
                    .checked_add(size)
                    .ok_or_else(|| differs(Section::StartBitmap))?;
                while stage_words(&mut enc, start / START_WORD_BYTES, &mut out) {
                    out.flush().await;
                }
                enc.mark(start);
            }
            while stage_words(&mut enc, super::format::start_words(len), &mut out) {
                out.flush().await;
            }
        }
        starts.section = 2;
    } else {
        let mut v = Starts {
            out: &mut out,
            starts: &mut starts,
            pending: None,
        };
        walk(plan, vm, &mut v).await?;
    }
    starts.finish(&mut out).await;
    out.flush().await;
    out.in_meta = false;
    if u64::from(bitmap.end().unwrap_or(0)) != out.pos {
        return Err(differs(Section::StartBitmap));
    }
    out.fill_to(u64::from(measured.commit_offset.get())).await;
    out.flush().await;
    if let Some(e) = out.err {
        return Err(StreamError::Sink(e));
    }
    if S::OWN_CRCS {
        return Ok(out.sink.crcs());
    }
    Ok(ContentCrcs {
        flash: sections.crc_flash,
        ram: sections.crc_ram,
        meta: out.meta.finalize(),
    })
}

/// Both passes into a `Vec`: the batch's bytes up to `span`, header and commit record
/// included, with `0xFF` where nothing is programmed. For hosts (build an image to flash
/// later) and tests.
#[cfg_attr(not(feature = "unstable"), allow(dead_code))]
pub fn write_batch_to_vec<M, T>(
    plan: &Plan<M::Ref, T>,
    vm: &M,
    params: &BatchParams<'_>,
) -> Result<(BatchHeader, Vec<u8>), ImageError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    let header = measure(plan, vm, params)?;
    let mut bytes = Vec::with_capacity(header.span.get() as usize);
    let crcs = stream(plan, vm, &header, &mut |b: &[u8]| {
        bytes.extend_from_slice(b);
        Ok::<(), core::convert::Infallible>(())
    })
    .map_err(|e| match e {
        StreamError::Image(e) => e,
        StreamError::Sink(never) => match never {},
    })?;
    bytes.extend_from_slice(CommitRecord::new(&header, crcs).as_bytes());
    bytes.resize(header.span.get() as usize, 0xFF);
    Ok((header, bytes))
}
