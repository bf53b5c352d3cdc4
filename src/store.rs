//! The store: a region of a NOR flash holding a chain of frozen batches.
//!
//! [`Store`] works on any [`embedded_storage::nor_flash::NorFlash`] inside a region that the
//! caller gives (offset and length on the device, both multiples of `ERASE_SIZE`), and takes its
//! geometry from the device's `WRITE_SIZE` and `ERASE_SIZE`.
//!
//! ```text
//! region ─► [batch 0 ……][batch 1 ………………][erased …………………………………………]
//!            ▲ sector    ▲ sector          ▲ next batch: first sector after the last valid one
//! ```
//!
//! # Opening
//! [`Store::open`] validates the chain as [`crate::mount`] does (the same validator, reading
//! the device): the image is its longest valid prefix, and the next batch goes after it. It then
//! reads every sector after the chain. The store never erases what it did not write, so opening
//! a region that holds anything else than erased sectors, its own batches (committed, torn or
//! left over from an interrupted clear) and the traces its own interrupted operations leave is
//! [`StoreError::Foreign`]: another region's batch (overlapping regions: each header records
//! its offset in its region), a filesystem, random bytes. [`Store::format`] erases such a
//! region when the caller means it.
//!
//! An interrupted erase leaves noise no reader can tell from foreign bytes, so the store
//! accepts unexplained bytes in at most two sectors, exactly where its own interrupted
//! operations leave them: the sector at the end of the chain (a torn header page, or its
//! interrupted erase) and the highest non-erased sector (an interrupted downward erase). Every
//! other non-erased sector must lie inside the span of one of its own headers.
//!
//! # Appending ([`Store::append`])
//! 1. measure the plan ([`crate::image::write::measure`]): the whole batch's size is known, so a
//!    batch that does not fit is refused with [`StoreError::RegionFull`] before anything is
//!    erased;
//! 2. check that the flash is as this handle read it ([`StoreError::Changed`] otherwise);
//! 3. erase the batch's sectors and every non-erased sector after the chain, highest first:
//!    nothing is left after the new batch that could chain onto it;
//! 4. stream the batch in order through one page buffer, each write unit programmed once: the
//!    header first (so a torn batch always names its extent), then the contents;
//! 5. read the batch back and compare its CRC, then validate it as mount will (pointer targets,
//!    static ranges, references): a batch that would not mount is never committed
//!    ([`StoreError::Invalid`]);
//! 6. program the commit record (the contents' CRCs) alone in its write unit, and read it back
//!    ([`StoreError::Commit`] if it is wrong: the batch is not committed, and the next append
//!    goes in its place).
//!
//! ```text
//! program order:  ③ erase tail, highest first   ④ page 0 (header) → page n   ⑥ commit record
//! batch:          [page 0: header + flash…][page 1]…[page n: … object map][commit]
//! ```
//!
//! A power cut at any point leaves the earlier batches mounted and the new one either absent
//! or complete (`tests/power_cut.rs` cuts at every operation and at several bytes inside each).
//!
//! # Clearing ([`Store::clear`])
//! First the sector holding batch 0's commit record is erased: from then on nothing mounts.
//! Then every non-erased sector of the region, highest first. A power cut cannot bring a
//! cleared batch back: an interrupted clear leaves no valid chain, and the next append erases
//! the leftovers (step 3) before it writes a new batch 0, so an old batch can never follow a
//! new one, even one with the same bytes (`tests/power_cut.rs`: append × 3 → clear, cut at every
//! operation → append the same content).
//!
//! # Working memory
//! An append holds the page buffer, the largest object's frozen bytes and a bitset of that
//! object's reference words; nothing grows with the image. The handle keeps the chain's index
//! ([`ChainIndex`], bounded by the region's size: see [`crate::image::read`]) and 8 bytes per
//! non-erased sector after the chain. Measured: 3.0 KB peak for a 68 KB image whose largest
//! object is 2.4 KB (`tests/image_memory.rs`).
//!
//! # Example
//! ```
//! use flashfreeze::image::Layout;
//! use flashfreeze::sim::SimFlash;
//! use flashfreeze::store::{Store, StoreConfig};
//! use flashfreeze::testing::{Kind, TestHeap};
//! use flashfreeze::{Root, RootKind};
//!
//! let mut vm = TestHeap::<4>::new();
//! let module = vm.alloc(Kind::Immutable, &[]);
//! let layout = Layout::new(0x1001_0000, 4096, 0x2003_0000, 4096, b"my-firmware-1.0");
//! let cfg = StoreConfig::for_model::<TestHeap<4>>(0x1_0000, 0x1_0000, layout);
//! let mut store = Store::open(SimFlash::<1, 4, 4096>::new(0x2_0000), cfg)?;
//! // The two-step path (Store::freeze does this, and lets the VM continue on the copies).
//! let plan = store.plan(&vm, &[Root::new(RootKind::MODULE, "m", module)])?;
//! let batch = store.append(&plan, &vm)?;
//! assert_eq!((batch.index, batch.span), (0, 4096));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use embedded_storage::nor_flash::NorFlash;
use zerocopy::{FromBytes, IntoBytes};

use crate::error::FreezeError;
use crate::forward::ForwardingTable;
use crate::forward::SideTable;
use crate::image::Layout;
use crate::image::format::{
    BatchHeader, COMMIT_LEN, CRC, CommitRecord, CrcDigest, HEADER_LEN, SECTION_ALIGN, align_up,
};
use crate::image::read::{
    ChainIndex, DecodeError, HeaderAt, ReadConfig, Reader, Source, Tail, header_at, scan_chain,
    validate,
};
use crate::image::write::{BatchParams, ImageError, StreamError, measure, stream};
use crate::model::{LiveHeap, ObjectModel, RefEncoding};
use crate::plan::{self, Plan, Root, RootKind, Stats};
use crate::relocate::Target;

/// Why a store operation failed. A failed append never commits its batch.
///
/// `E` is the flash device's error. `StoreError<E>` implements `Display` and
/// [`core::error::Error`] when `E` implements `Display` (and `Debug`), and `defmt::Format`
/// (feature `defmt`) when `E` does.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError<E> {
    /// No plan could be made ([`Store::freeze`], [`Store::plan`]); nothing was written.
    Freeze(FreezeError),
    /// The flash device failed.
    Flash {
        /// The operation: `"read"`, `"erase"` or `"program"`.
        op: &'static str,
        /// Device offset of the operation.
        offset: u32,
        /// The device's error.
        error: E,
    },
    /// The region or the device geometry cannot hold batches.
    Geometry {
        /// What is wrong.
        what: &'static str,
    },
    /// The batch does not fit in what is left of the region.
    RegionFull {
        /// Bytes the batch needs (header, sections, maps, commit, rounded to sectors).
        needed: u64,
        /// Bytes left.
        available: u64,
    },
    /// The batch could not be produced.
    Image(ImageError),
    /// The region holds a chain this firmware cannot extend (another firmware, format or
    /// reference width); [`Store::clear`] it first.
    Incompatible(DecodeError),
    /// The plan was made for other addresses than [`Store::target`] gives now.
    StalePlan,
    /// Bytes read back differ from those programmed; the batch was not committed.
    Verify {
        /// Device offset of the batch.
        offset: u32,
    },
    /// The commit record read back wrong: the batch is not committed, and the next append
    /// replaces it.
    Commit {
        /// Device offset of the commit record.
        offset: u32,
    },
    /// The batch, as programmed, would not mount; it was not committed.
    Invalid(DecodeError),
    /// The region holds bytes that are neither erased nor this store's: nothing was erased.
    /// [`Store::format`] erases the region if that is what the caller wants.
    Foreign {
        /// Device offset of the sector.
        offset: u32,
        /// What was found there.
        what: &'static str,
    },
    /// The flash changed since this handle read it (another handle or region wrote there);
    /// nothing was erased or programmed. Open the store again.
    Changed {
        /// Device offset of the first sector found changed.
        offset: u32,
    },
    /// The plan's VM uses another reference encoding than the store was opened for.
    Encoding {
        /// The store's ([`StoreConfig::encoding`]).
        store: RefEncoding,
        /// The VM's ([`ObjectModel::ENCODING`]).
        vm: RefEncoding,
    },
    /// [`LiveHeap::ram_area`] is shorter than the configured RAM area; nothing was written.
    RamArea {
        /// Bytes configured ([`Layout::ram_len`]).
        expected: u64,
        /// Bytes the VM gave.
        given: usize,
    },
}

impl<E: fmt::Display> fmt::Display for StoreError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Freeze(e) => write!(f, "store: {e}; nothing written"),
            Self::Flash { op, offset, error } => {
                write!(
                    f,
                    "store: flash {op} at device offset {offset:#x} failed: {error}"
                )
            }
            Self::Geometry { what } => write!(f, "store: {what}"),
            Self::RegionFull { needed, available } => write!(
                f,
                "store: the batch needs {needed} bytes, {available} left in the region; nothing written"
            ),
            Self::Image(e) => write!(f, "store: {e}"),
            Self::Incompatible(e) => write!(
                f,
                "store: region holds an incompatible image ({e}); clear it"
            ),
            Self::StalePlan => {
                f.write_str("store: plan made for other addresses than the next batch")
            }
            Self::Verify { offset } => {
                write!(
                    f,
                    "store: batch at {offset:#x} reads back differently; not committed"
                )
            }
            Self::Commit { offset } => write!(
                f,
                "store: commit record at {offset:#x} reads back wrong; the batch is not committed"
            ),
            Self::Invalid(e) => write!(f, "store: the batch would not mount ({e}); not committed"),
            Self::Foreign { offset, what } => write!(
                f,
                "store: the region holds data that is not this store's at {offset:#x} ({what}); nothing erased (format the region to use it)"
            ),
            Self::Changed { offset } => write!(
                f,
                "store: the flash at {offset:#x} changed since the store was opened; nothing written (open it again)"
            ),
            Self::Encoding { store, vm } => write!(
                f,
                "store: opened for {store}, the VM uses {vm}; nothing written"
            ),
            Self::RamArea { expected, given } => write!(
                f,
                "store: the VM's RAM area is {given} bytes, the layout says {expected}; nothing written"
            ),
        }
    }
}

impl<E: fmt::Display + fmt::Debug> core::error::Error for StoreError<E> {}

impl<E> From<ImageError> for StoreError<E> {
    fn from(e: ImageError) -> Self {
        Self::Image(e)
    }
}

/// Where the store lives and whom its images are for.
///
/// ```
/// use flashfreeze::image::Layout;
/// use flashfreeze::store::StoreConfig;
/// use flashfreeze::testing::TestHeap;
///
/// let layout = Layout::new(0x1010_0000, 4096, 0x2003_0000, 8192, b"fw-1");
/// let statics = [0x1000_0000..0x1004_0000];
/// let cfg = StoreConfig::for_model::<TestHeap<4>>(0x10_0000, 0x10_0000, layout)
///     .with_statics(&statics);
/// assert_eq!(cfg.encoding.width(), 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreConfig<'a> {
    /// Device offset of the region (a multiple of `ERASE_SIZE`).
    pub region_offset: u32,
    /// Length of the region (a multiple of `ERASE_SIZE`).
    pub region_len: u32,
    /// Mapped addresses, erase size (must be the device's), RAM area and firmware id (shared
    /// with [`crate::mount`]).
    pub layout: Layout<'a>,
    /// The VM's reference encoding ([`ObjectModel::ENCODING`]); a plan of a VM with another
    /// one is refused ([`StoreError::Encoding`]).
    pub encoding: RefEncoding,
    /// Address ranges of the VM's static objects, as mount is given them: a plan that points
    /// at a static object outside them is refused when it is made ([`Store::plan`],
    /// [`Store::freeze`]), and a batch with a pointer outside the image and these ranges is not
    /// committed.
    pub statics: &'a [Range<u64>],
}

impl<'a> StoreConfig<'a> {
    /// A store in the region at device offset `region_offset`, `region_len` bytes long, for
    /// references in `encoding`, with no static ranges.
    pub const fn new(
        region_offset: u32,
        region_len: u32,
        layout: Layout<'a>,
        encoding: RefEncoding,
    ) -> Self {
        Self {
            region_offset,
            region_len,
            layout,
            encoding,
            statics: &[],
        }
    }

    /// The same for the VM `M` (its [`ObjectModel::ENCODING`]): the one source of the
    /// reference width.
    pub const fn for_model<M: ObjectModel + ?Sized>(
        region_offset: u32,
        region_len: u32,
        layout: Layout<'a>,
    ) -> Self {
        Self::new(region_offset, region_len, layout, M::ENCODING)
    }

    /// The same, with the VM's static ranges.
    pub const fn with_statics(self, statics: &'a [Range<u64>]) -> Self {
        Self { statics, ..self }
    }

    /// The reader's configuration for this store's region.
    pub const fn read_config(&self) -> ReadConfig<'a> {
        ReadConfig::new(self.layout, self.encoding).with_statics(self.statics)
    }
}

/// A summary of one committed batch, as appended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Appended {
    /// Index in the chain.
    pub index: u32,
    /// Region offset of the batch.
    pub offset: u32,
    /// Bytes of flash it takes, rounded to whole sectors.
    pub span: u32,
    /// Its flash-object section, absolute.
    pub flash: core::ops::Range<u64>,
    /// Its RAM section, absolute.
    pub ram: core::ops::Range<u64>,
    /// Where the RAM section's initial state lies in the region (offsets from the region start),
    /// so the caller can copy it into place without decoding the image again.
    pub ram_initial: core::ops::Range<u32>,
    /// Bytes of the pointer map and of the object map.
    pub map_bytes: (u32, u32),
}

/// What [`Store::freeze`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Frozen<R> {
    /// "froze N flash bytes, M ram bytes, K objects, Q qstrs", and the rest of the numbers.
    pub stats: Stats,
    /// The batch committed.
    pub batch: Appended,
    /// The roots the image names, in the order given: every [`Root::new`] one, and the
    /// [`Root::if_reached`] candidates the graph reached.
    pub roots: Vec<FrozenRoot<R>>,
}

impl<R> Frozen<R> {
    /// The candidate roots ([`Root::if_reached`]) that the graph reached.
    pub fn reached(&self) -> impl Iterator<Item = &FrozenRoot<R>> {
        self.roots.iter().filter(|r| r.if_reached)
    }
}

/// A root of a batch just frozen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrozenRoot<R> {
    /// What it is.
    pub kind: RootKind,
    /// Its name.
    pub name: alloc::string::String,
    /// The frozen object's address.
    pub address: u64,
    /// The VM's reference to the frozen object ([`LiveHeap::frozen_ref`]).
    pub frozen: R,
    /// Whether it was a candidate ([`Root::if_reached`]) that the graph reached.
    pub if_reached: bool,
}

/// What the handle knows of its region.
#[derive(Clone, Debug)]
struct State {
    /// The valid batches.
    index: ChainIndex,
    /// Why the chain ends there.
    tail: Tail,
    /// The non-erased sectors after the chain (region offsets) and their CRCs.
    dirty: Vec<(u32, u32)>,
}

/// A chain of batches in a region of `F`.
///
/// `F` is any [`NorFlash`]: the device itself, or **`&mut` the device** (embedded-storage
/// implements `NorFlash` for `&mut F`), so the caller keeps its flash and lends it for as long
/// as the store is open: `Store::open(&mut flash, cfg)`. A VM that reads its frozen objects
/// while a freeze programs the flash reads them the way the CPU does (memory-mapped flash);
/// on a host, [`crate::sim::SharedFlash`] gives the VM and the store one simulated device.
#[derive(Debug)]
pub struct Store<'a, F: NorFlash> {
    flash: F,
    cfg: StoreConfig<'a>,
    /// `None` after a failed write: read again before the next operation.
    state: Option<State>,
}

/// The region of a flash device as a [`Source`] of the validator.
struct Region<'f, F: NorFlash> {
    flash: &'f mut F,
    offset: u32,
    len: u32,
}

impl<F: NorFlash> Source for Region<'_, F> {
    type Error = StoreError<F::Error>;
    fn region_len(&self) -> u32 {
        self.len
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error> {
        read_unaligned(self.flash, self.offset + offset, buf)
    }
}

/// Whether a refusal means "another firmware, format or width made this chain".
fn incompatible(e: &DecodeError) -> bool {
    matches!(
        e,
        DecodeError::Version { .. } | DecodeError::FirmwareId { .. } | DecodeError::RefBytes { .. }
    )
}

impl<'a, F: NorFlash> Store<'a, F> {
    /// Open the region: check the geometry, validate the chain and check that everything after
    /// it is erased or this store's own (see the module docs); foreign data is
    /// [`StoreError::Foreign`] and is left as it is.
    pub fn open(mut flash: F, cfg: StoreConfig<'a>) -> Result<Self, StoreError<F::Error>> {
        Self::check_geometry(&flash, &cfg)?;
        let state = Self::scan(&mut flash, &cfg, true)?;
        Ok(Self {
            flash,
            cfg,
            state: Some(state),
        })
    }

    /// Open the region whatever it holds, and erase it (as [`Store::clear`] does): for a region
    /// that [`Store::open`] found holding foreign data, when the caller means to reuse it.
    pub fn format(mut flash: F, cfg: StoreConfig<'a>) -> Result<Self, StoreError<F::Error>> {
        Self::check_geometry(&flash, &cfg)?;
        let state = Self::scan(&mut flash, &cfg, false)?;
        let mut store = Self {
            flash,
            cfg,
            state: Some(state),
        };
        store.erase_region()?;
        Ok(store)
    }

    fn check_geometry(flash: &F, cfg: &StoreConfig<'_>) -> Result<(), StoreError<F::Error>> {
        let erase = F::ERASE_SIZE as u64;
        let geometry = |what| Err(StoreError::Geometry { what });
        if !erase.is_power_of_two()
            || !F::WRITE_SIZE.is_power_of_two()
            || F::WRITE_SIZE > F::ERASE_SIZE
            || erase > u64::from(u32::MAX / 2)
        {
            return geometry(
                "ERASE_SIZE and WRITE_SIZE must be powers of two, WRITE_SIZE <= ERASE_SIZE",
            );
        }
        if F::READ_SIZE > 64 || !F::READ_SIZE.is_power_of_two() {
            return geometry("READ_SIZE must be a power of two up to 64");
        }
        if u64::from(cfg.layout.erase_size) != erase {
            return geometry("the layout's erase size differs from the device's ERASE_SIZE");
        }
        if u64::from(cfg.region_offset) % erase != 0 || u64::from(cfg.region_len) % erase != 0 {
            return geometry("region offset and length must be multiples of ERASE_SIZE");
        }
        if u64::from(cfg.region_offset) + u64::from(cfg.region_len) > flash.capacity() as u64 {
            return geometry("region extends past the end of the device");
        }
        if cfg.layout.firmware_id.len() > crate::image::format::FIRMWARE_ID_MAX {
            return geometry("firmware id longer than 32 bytes");
        }
        Ok(())
    }

    /// Validate the chain of `cfg`'s region and read the sectors after it; with `strict`,
    /// refuse foreign data.
    fn scan(
        flash: &mut F,
        cfg: &StoreConfig<'_>,
        strict: bool,
    ) -> Result<State, StoreError<F::Error>> {
        let r = Reader::new(Region {
            flash,
            offset: cfg.region_offset,
            len: cfg.region_len,
        });
        let (index, tail) = scan_chain(&r, &cfg.read_config())?;
        let erase = F::ERASE_SIZE as u32;
        let next = index.end_offset();
        // A chain of another build: only a clear may touch it, so the rest is not classified.
        let blocked = tail.error().is_some_and(incompatible);
        let mut dirty = Vec::new();
        let mut covered = next;
        let mut unexplained: Option<u32> = None;
        let foreign = |at: u32, what| StoreError::Foreign {
            offset: cfg.region_offset + at,
            what,
        };
        let mut s = next;
        while s < cfg.region_len {
            let sector = s..s + erase;
            if !r.is_erased(sector.clone()) {
                dirty.push((s, r.crc(sector)));
                let explained = match header_at(&r, s) {
                    HeaderAt::Ours { span } => {
                        covered = covered.max(s.saturating_add(span.max(erase)));
                        true
                    }
                    HeaderAt::OtherRegion if strict && !blocked => {
                        return Err(foreign(s, "a batch made for another region offset"));
                    }
                    _ => s < covered || s == next,
                };
                if !explained && strict && !blocked {
                    if let Some(u) = unexplained {
                        return Err(foreign(u, "neither erased nor a batch of this store"));
                    }
                    unexplained = Some(s);
                }
            }
            s += erase;
        }
        if let (Some(u), Some(&(last, _))) = (unexplained, dirty.last()) {
            if last > u {
                return Err(foreign(u, "neither erased nor a batch of this store"));
            }
        }
        if let Some(e) = r.take_error() {
            return Err(e);
        }
        Ok(State { index, tail, dirty })
    }

    /// The state, read again after a failed write.
    fn state(&mut self) -> Result<&State, StoreError<F::Error>> {
        if self.state.is_none() {
            self.state = Some(Self::scan(&mut self.flash, &self.cfg, true)?);
        }
        match &self.state {
            Some(s) => Ok(s),
            None => Err(StoreError::Geometry {
                what: "store state lost",
            }),
        }
    }

    /// The flash device.
    pub fn flash(&self) -> &F {
        &self.flash
    }

    /// The flash device, mutably (e.g. to arm a simulated power cut). Writing to the region
    /// through it makes the next append refuse with [`StoreError::Changed`].
    pub fn flash_mut(&mut self) -> &mut F {
        &mut self.flash
    }

    /// Give the flash device back.
    pub fn into_inner(self) -> F {
        self.flash
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig<'a> {
        &self.cfg
    }

    /// Valid batches in the chain (as last read).
    pub fn batches(&self) -> u32 {
        self.state
            .as_ref()
            .map_or(0, |s| s.index.batches().len() as u32)
    }

    /// The chain's validated batches (as last read).
    #[cfg(feature = "unstable")]
    pub fn index(&self) -> Option<&ChainIndex> {
        self.state.as_ref().map(|s| &s.index)
    }

    /// Why the chain ends where it does (as last read): [`Tail::Invalid`] names a batch that
    /// failed validation (the next append replaces it) or one of another build (clear first).
    pub fn tail(&self) -> Option<Tail> {
        self.state.as_ref().map(|s| s.tail)
    }

    /// Bytes of the region after the last valid batch.
    pub fn free_bytes(&self) -> u64 {
        self.state
            .as_ref()
            .map_or(0, |s| self.free_after(s.index.end_offset()))
    }

    fn free_after(&self, next: u32) -> u64 {
        u64::from(self.cfg.region_len.saturating_sub(next))
    }

    /// The parameters of the next batch.
    pub(crate) fn next_params(&self) -> Result<BatchParams<'a>, StoreError<F::Error>> {
        let Some(s) = &self.state else {
            return Err(StoreError::Geometry {
                what: "the store must be read again (a write failed): retry",
            });
        };
        if let Some(e) = s.tail.error().filter(|e| incompatible(e)) {
            return Err(StoreError::Incompatible(*e));
        }
        let last = s.index.batches().last();
        let next = s.index.end_offset();
        let ram_end = last.map_or(self.cfg.layout.ram_address, |b| b.ram.end);
        let ram_base = align_up(ram_end, u64::from(SECTION_ALIGN)).unwrap_or(u64::MAX);
        Ok(BatchParams {
            batch_index: s.index.batches().len() as u32,
            batch_offset: next,
            prev_header_crc: last.map_or(0, |b| b.header_crc),
            batch_address: self.cfg.layout.region_address + u64::from(next),
            ram_base,
            firmware_id: self.cfg.layout.firmware_id,
            write_size: F::WRITE_SIZE as u32,
            erase_size: F::ERASE_SIZE as u32,
        })
    }

    /// Where the next batch's sections go and how much room they have: plan with this.
    ///
    /// The flash capacity is an upper bound (the maps are not counted yet); [`Store::append`]
    /// checks the exact size.
    pub fn target(&self) -> Result<Target, StoreError<F::Error>> {
        let p = self.next_params()?;
        let overhead = (HEADER_LEN + COMMIT_LEN.max(F::WRITE_SIZE)) as u64;
        let flash_capacity = self.free_after(p.batch_offset).saturating_sub(overhead);
        let ram_end = self
            .cfg
            .layout
            .ram_address
            .saturating_add(self.cfg.layout.ram_len);
        Ok(p.target(flash_capacity, ram_end.saturating_sub(p.ram_base)))
    }

    /// Check that the flash is as this handle last read it: the last batch's header and commit
    /// record, and every sector after the chain (`then` more sectors from `next` on, which must
    /// be erased unless they were dirty).
    fn check_unchanged(&mut self, upto: u32) -> Result<(), StoreError<F::Error>> {
        let Some(s) = self.state.as_ref() else {
            return Ok(());
        };
        let erase = F::ERASE_SIZE as u32;
        let base = self.cfg.region_offset;
        let changed = |at: u32| StoreError::Changed { offset: base + at };
        if let Some(last) = s.index.batches().last() {
            let mut h = [0u8; HEADER_LEN];
            read_unaligned(&mut self.flash, base + last.offset, &mut h)?;
            let header = BatchHeader::read_from_bytes(&h).ok();
            let ok = header.is_some_and(|h| {
                h.header_crc.get() == last.header_crc && h.compute_crc() == last.header_crc
            });
            let commit_ok = match header.filter(|_| ok) {
                Some(h) => {
                    let mut c = [0u8; COMMIT_LEN];
                    read_unaligned(
                        &mut self.flash,
                        base + last.offset + h.commit_offset.get(),
                        &mut c,
                    )?;
                    CommitRecord::read_from_bytes(&c).is_ok_and(|c| c.commits(&h))
                }
                None => false,
            };
            if !ok || !commit_ok {
                return Err(changed(last.offset));
            }
        }
        let next = s.index.end_offset();
        let dirty = s.dirty.clone();
        let mut d = dirty.iter().peekable();
        let mut sector = next;
        while sector < self.cfg.region_len {
            let was = d.next_if(|&&(at, _)| at == sector).map(|&(_, crc)| crc);
            let range = base + sector..base + sector + erase;
            match was {
                Some(crc) => {
                    let mut digest = CRC.digest();
                    read_chunks(&mut self.flash, range, &mut |c| {
                        digest.update(c);
                        true
                    })?;
                    if digest.finalize() != crc {
                        return Err(changed(sector));
                    }
                }
                None if sector < upto && !sector_erased(&mut self.flash, range)? => {
                    return Err(changed(sector));
                }
                None => {}
            }
            if sector >= upto && d.peek().is_none() {
                break;
            }
            sector += erase;
        }
        Ok(())
    }

    /// Append `plan` (made with [`Store::target`]) as the next batch, committed last.
    ///
    /// After a failure the handle reads the region again (when the device lets it), so
    /// [`Store::target`] and the next append start from what the flash holds.
    pub fn append<M, T>(
        &mut self,
        plan: &Plan<M::Ref, T>,
        vm: &M,
    ) -> Result<Appended, StoreError<F::Error>>
    where
        M: ObjectModel + ?Sized,
        T: ForwardingTable<M>,
    {
        let r = self.append_inner(plan, vm);
        if r.is_err() && self.state.is_none() {
            self.state = Self::scan(&mut self.flash, &self.cfg, true).ok();
        }
        r
    }

    fn append_inner<M, T>(
        &mut self,
        plan: &Plan<M::Ref, T>,
        vm: &M,
    ) -> Result<Appended, StoreError<F::Error>>
    where
        M: ObjectModel + ?Sized,
        T: ForwardingTable<M>,
    {
        self.state()?;
        let params = self.next_params()?;
        if M::ENCODING != self.cfg.encoding {
            return Err(StoreError::Encoding {
                store: self.cfg.encoding,
                vm: M::ENCODING,
            });
        }
        let target = self.target()?;
        if plan.target().flash_base != target.flash_base
            || plan.target().ram_base != target.ram_base
        {
            return Err(StoreError::StalePlan);
        }
        let header = measure(plan, vm, &params)?;
        let next = params.batch_offset;
        let span = header.span.get();
        let available = self.free_after(next);
        if u64::from(span) > available {
            return Err(StoreError::RegionFull {
                needed: u64::from(span),
                available,
            });
        }
        self.check_unchanged(next + span)?;
        // From here on a failure leaves the flash as this handle no longer knows it.
        let Some(mut state) = self.state.take() else {
            return Err(StoreError::Geometry {
                what: "store state lost",
            });
        };
        let start = self.cfg.region_offset + next;
        // 3. Erase every dirty sector after the chain and every sector of the batch's span (an
        //    erased-looking one may hold programmed 0xFF units), highest first.
        let erase = F::ERASE_SIZE as u32;
        let span_end = next + span;
        let mut dirty = state.dirty.iter().rev().map(|&(s, _)| s).peekable();
        let mut sector = state
            .dirty
            .last()
            .map_or(span_end, |&(s, _)| (s + erase).max(span_end));
        while sector > next {
            sector -= erase;
            let is_dirty = dirty.next_if_eq(&sector).is_some();
            if is_dirty || sector < span_end {
                self.erase_sector(self.cfg.region_offset + sector)?;
            }
        }
        // 4. Stream through one page buffer, header first.
        let page_len = align_up(256, F::WRITE_SIZE as u64).unwrap_or(256) as usize;
        let mut pager = Pager {
            flash: &mut self.flash,
            page: vec![0xFF; page_len],
            fill: 0,
            at: start,
            crc: CRC.digest(),
        };
        let crcs = match stream(plan, vm, &header, &mut |bytes: &[u8]| pager.push(bytes)) {
            Ok(crcs) => crcs,
            Err(StreamError::Sink(e)) => return Err(e),
            Err(StreamError::Image(e)) => return Err(StoreError::Image(e)),
        };
        pager.flush()?;
        let written_crc = pager.crc.finalize();
        let commit_at = start + header.commit_offset.get();
        // 5. Read back what was programmed, then validate it as mount will.
        let mut crc = CRC.digest();
        read_chunks(&mut self.flash, start..commit_at, &mut |chunk| {
            crc.update(chunk);
            true
        })?;
        if crc.finalize() != written_crc {
            return Err(StoreError::Verify { offset: start });
        }
        let r = Reader::new(Region {
            flash: &mut self.flash,
            offset: self.cfg.region_offset,
            len: self.cfg.region_len,
        });
        let validated = validate(
            &r,
            next,
            &header,
            crcs,
            &self.cfg.read_config(),
            &mut state.index,
        );
        if let Some(e) = r.take_error() {
            return Err(e);
        }
        validated.map_err(StoreError::Invalid)?;
        // 6. Commit, alone in its write unit, and read it back.
        let record = CommitRecord::new(&header, crcs);
        let mut unit = vec![0xFF; COMMIT_LEN.max(F::WRITE_SIZE)];
        unit[..COMMIT_LEN].copy_from_slice(record.as_bytes());
        program(&mut self.flash, commit_at, &unit)?;
        let mut back = [0u8; COMMIT_LEN];
        read_unaligned(&mut self.flash, commit_at, &mut back)?;
        if !CommitRecord::read_from_bytes(&back).is_ok_and(|c| c.commits(&header)) {
            return Err(StoreError::Commit { offset: commit_at });
        }
        let ram = header.ram_range();
        self.state = Some(State {
            index: state.index,
            tail: Tail::Erased {
                offset: next + span,
            },
            dirty: Vec::new(),
        });
        Ok(Appended {
            index: params.batch_index,
            offset: next,
            span,
            flash: header.flash_range(),
            ram,
            ram_initial: next + header.ram.offset.get()
                ..next + header.ram.offset.get() + header.ram.len.get(),
            map_bytes: (header.pointer_map.len.get(), header.object_map.len.get()),
        })
    }

    /// Plan a freeze of `roots` for the next batch ([`Store::target`]), checking every pointer
    /// to a static object against [`StoreConfig::statics`] now, with its path, rather than when
    /// the batch is validated. The two-step path: then [`Store::append`] and
    /// [`Plan::fix_up_live`]; [`Store::freeze`] does it all.
    pub fn plan<M>(
        &self,
        vm: &M,
        roots: &[Root<'_, M::Ref>],
    ) -> Result<Plan<M::Ref, SideTable>, StoreError<F::Error>>
    where
        M: ObjectModel + ?Sized,
    {
        if M::ENCODING != self.cfg.encoding {
            return Err(StoreError::Encoding {
                store: self.cfg.encoding,
                vm: M::ENCODING,
            });
        }
        let target = self.target()?;
        plan::make(
            vm,
            roots,
            target,
            SideTable::new(vm),
            Some(self.cfg.statics),
        )
        .map_err(StoreError::Freeze)
    }

    /// Freeze everything reachable from `roots` into the next batch, and let the VM continue on
    /// the frozen copies: the one call a VM needs.
    ///
    /// 1. plan ([`Store::plan`]: traverse, classify, relocate; statics checked);
    /// 2. append the batch ([`Store::append`]: measured, streamed, read back, validated as
    ///    mount will, committed last);
    /// 3. copy the new RAM section's initial state into [`LiveHeap::ram_area`], as mount does
    ///    at boot;
    /// 4. redirect the VM's live references to the frozen copies
    ///    ([`LiveHeap::rewrite_live_refs`], see there for what it must visit);
    /// 5. return the stats and the roots the image names (with the candidates given by
    ///    [`Root::if_reached`] that the graph reached), as frozen references.
    ///
    /// `vm` is `&mut`: it may be a per-freeze view that borrows the VM and holds state for the
    /// length of this call (see [`crate::model`], "Per-freeze state").
    ///
    /// An error before the commit leaves the flash and the VM as they were (the batch is not
    /// committed). The only errors after it are reading the RAM section back
    /// ([`StoreError::Flash`]): the VM then stays on its originals, and the batch mounts at
    /// the next boot.
    ///
    /// # Example
    /// ```
    /// use flashfreeze::image::Layout;
    /// use flashfreeze::sim::SimFlash;
    /// use flashfreeze::store::{Store, StoreConfig};
    /// use flashfreeze::testing::{Kind, TestHeap, Value};
    /// use flashfreeze::{Root, RootKind};
    ///
    /// // A VM with a module (immutable) holding a counter (mutable), on its module table.
    /// let mut vm = TestHeap::<4>::new();
    /// let counter = vm.alloc(Kind::Mutable, &[None]);
    /// let module = vm.alloc(Kind::Immutable, &[Some(counter)]);
    /// vm.live_roots.push(Value::Ref(module));
    /// vm.ram_area = vec![0; 4096]; // the frozen RAM area the layout names
    ///
    /// let mut flash = SimFlash::<1, 4, 4096>::new(0x2_0000);
    /// let layout = Layout::new(0x1001_0000, 4096, 0x2003_0000, 4096, b"my-firmware-1.0");
    /// let cfg = StoreConfig::for_model::<TestHeap<4>>(0x1_0000, 0x1_0000, layout);
    /// let mut store = Store::open(&mut flash, cfg)?; // the flash is lent, not given
    /// let frozen = store.freeze(&mut vm, &[Root::new(RootKind::MODULE, "m", module)])?;
    /// assert_eq!(frozen.stats.to_string(), "froze 12 flash bytes, 12 ram bytes, 2 objects, 0 qstrs");
    ///
    /// // The VM now runs on the frozen copies: its module table points into flash, and the
    /// // RAM area holds the counter's initial state.
    /// let Value::Ref(m) = vm.live_roots[0] else { unreachable!() };
    /// assert_eq!(vm.get(m).address, frozen.roots[0].address);
    /// assert_eq!(vm.ram_area[..4], [2, 1, 0, 0]); // the counter's header, placed in RAM
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn freeze<M>(
        &mut self,
        vm: &mut M,
        roots: &[Root<'_, M::Ref>],
    ) -> Result<Frozen<M::Ref>, StoreError<F::Error>>
    where
        M: LiveHeap + ?Sized,
    {
        let expected = self.cfg.layout.ram_len;
        let given = vm.ram_area().len();
        if (given as u64) < expected {
            return Err(StoreError::RamArea { expected, given });
        }
        let plan = self.plan(&*vm, roots)?;
        let batch = self.append(&plan, &*vm)?;
        // The new RAM section, from the flash just read back and validated.
        let at = (batch.ram.start - self.cfg.layout.ram_address) as usize;
        let len = (batch.ram_initial.end - batch.ram_initial.start) as usize;
        let from = self.cfg.region_offset + batch.ram_initial.start;
        if let Some(dst) = vm.ram_area().get_mut(at..at + len) {
            read_unaligned(&mut self.flash, from, dst)?;
        }
        plan.fix_up_live(vm);
        let roots = plan
            .roots()
            .iter()
            .filter(|r| r.in_image)
            .filter_map(|r| {
                let address = plan.frozen_address(&*vm, r.target)?;
                Some(FrozenRoot {
                    kind: r.kind,
                    name: r.name.clone(),
                    address,
                    frozen: vm.frozen_ref(address),
                    if_reached: r.if_reached,
                })
            })
            .collect();
        Ok(Frozen {
            stats: plan.stats().clone(),
            batch,
            roots,
        })
    }

    /// Erase the sector at device offset `sector`.
    fn erase_sector(&mut self, sector: u32) -> Result<(), StoreError<F::Error>> {
        let end = sector + F::ERASE_SIZE as u32;
        self.flash
            .erase(sector, end)
            .map_err(|error| StoreError::Flash {
                op: "erase",
                offset: sector,
                error,
            })
    }

    /// Erase every sector of the region that is not already erased, and forget the chain:
    /// batch 0's commit record first (nothing mounts from then on), then the rest highest
    /// first. Returns the number of sectors erased.
    pub fn clear(&mut self) -> Result<u32, StoreError<F::Error>> {
        self.state()?;
        self.check_unchanged(0)?;
        self.erase_region()
    }

    fn erase_region(&mut self) -> Result<u32, StoreError<F::Error>> {
        self.state = None;
        let erase = F::ERASE_SIZE as u32;
        let base = self.cfg.region_offset;
        let mut erased = 0;
        // Batch 0's commit record: a header of this region at offset 0 says where it is.
        let mut h = [0u8; HEADER_LEN];
        read_unaligned(&mut self.flash, base, &mut h)?;
        if let Ok(h) = BatchHeader::read_from_bytes(&h) {
            let commit = h.commit_offset.get();
            let ours = h.compute_crc() == h.header_crc.get()
                && h.batch_offset.get() == 0
                && commit < self.cfg.region_len;
            if ours {
                let sector = base + commit / erase * erase;
                if !sector_erased(&mut self.flash, sector..sector + erase)? {
                    self.erase_sector(sector)?;
                    erased += 1;
                }
            }
        }
        let mut sector = base + self.cfg.region_len;
        while sector > base {
            sector -= erase;
            if !sector_erased(&mut self.flash, sector..sector + erase)? {
                self.erase_sector(sector)?;
                erased += 1;
            }
        }
        self.state = Some(State {
            index: ChainIndex::default(),
            tail: Tail::Erased { offset: 0 },
            dirty: Vec::new(),
        });
        Ok(erased)
    }
}

/// Whether device bytes `range` are all `0xFF`.
fn sector_erased<F: NorFlash>(
    flash: &mut F,
    range: Range<u32>,
) -> Result<bool, StoreError<F::Error>> {
    let mut erased = true;
    read_chunks(flash, range, &mut |chunk| {
        erased = chunk.iter().all(|&b| b == 0xFF);
        erased
    })?;
    Ok(erased)
}

/// Program `bytes` at device offset `at`.
fn program<F: NorFlash>(flash: &mut F, at: u32, bytes: &[u8]) -> Result<(), StoreError<F::Error>> {
    flash.write(at, bytes).map_err(|error| StoreError::Flash {
        op: "program",
        offset: at,
        error,
    })
}

/// Read `buf.len()` bytes at device offset `at`, whatever the device's `READ_SIZE` (≤ 64).
fn read_unaligned<F: NorFlash>(
    flash: &mut F,
    at: u32,
    buf: &mut [u8],
) -> Result<(), StoreError<F::Error>> {
    let unit = F::READ_SIZE as u32;
    let err = |error| StoreError::Flash {
        op: "read",
        offset: at,
        error,
    };
    if unit <= 1 {
        return flash.read(at, buf).map_err(err);
    }
    let mut tmp = [0u8; 64];
    let mut done = 0usize;
    while done < buf.len() {
        let pos = at + done as u32;
        let base = pos - pos % unit;
        let want =
            align_up(u64::from(pos) + (buf.len() - done) as u64, u64::from(unit)).unwrap_or(0);
        // `unit` divides 64, so `base + 64` stays aligned and covers `pos`.
        let end = want.min(u64::from(base) + tmp.len() as u64) as u32;
        let len = (end - base) as usize;
        flash.read(base, &mut tmp[..len]).map_err(err)?;
        let skip = (pos - base) as usize;
        let n = (len - skip).min(buf.len() - done);
        buf[done..done + n].copy_from_slice(&tmp[skip..skip + n]);
        done += n;
    }
    Ok(())
}

/// Read device bytes `range` in chunks of up to 64 bytes, handing each to `f` until it returns
/// `false` (the rest is not read).
fn read_chunks<F: NorFlash>(
    flash: &mut F,
    range: core::ops::Range<u32>,
    f: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), StoreError<F::Error>> {
    let mut buf = [0u8; 64];
    let mut at = range.start;
    while at < range.end {
        let n = ((range.end - at) as usize).min(buf.len());
        read_unaligned(flash, at, &mut buf[..n])?;
        if !f(&buf[..n]) {
            break;
        }
        at += n as u32;
    }
    Ok(())
}

/// The page buffer between the streamed batch and the flash: programs each write unit once,
/// in order.
struct Pager<'f, F: NorFlash> {
    flash: &'f mut F,
    page: Vec<u8>,
    fill: usize,
    /// Device offset of the page's first byte.
    at: u32,
    /// CRC of the bytes programmed.
    crc: CrcDigest,
}

impl<F: NorFlash> Pager<'_, F> {
    fn push(&mut self, mut bytes: &[u8]) -> Result<(), StoreError<F::Error>> {
        while !bytes.is_empty() {
            let n = (self.page.len() - self.fill).min(bytes.len());
            self.page[self.fill..self.fill + n].copy_from_slice(&bytes[..n]);
            self.fill += n;
            bytes = &bytes[n..];
            if self.fill == self.page.len() {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Program the buffered bytes (the stream always ends on a write-unit boundary).
    fn flush(&mut self) -> Result<(), StoreError<F::Error>> {
        if self.fill == 0 {
            return Ok(());
        }
        let len = align_up(self.fill as u64, F::WRITE_SIZE as u64).unwrap_or(0) as usize;
        self.page[self.fill..len].fill(0xFF);
        self.crc.update(&self.page[..len]);
        program(self.flash, self.at, &self.page[..len])?;
        self.at += len as u32;
        self.fill = 0;
        Ok(())
    }
}
