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
//! 1. measure the plan (the measuring pass): the whole batch's size is known, so a
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
//! # The modules' lifecycle (format version 3)
//! A batch's roots may carry source records (where a module was frozen from); a later batch's
//! module root supersedes an earlier one of the same name; [`Store::remove`] appends a remove
//! record (see [`records`]). [`Store::modules`] and [`Store::info`] report the live modules and
//! what a compaction would reclaim; [`Store::compact`] copies what the live roots reach into one
//! batch at the region's start, staged after the chain first so that a power cut leaves the old
//! image or the compacted one, and [`Store::recover`] finishes a move a power cut interrupted
//! (`docs/image-format.md`, "Compaction"). These read the chain into RAM (its size).
//!
//! # Working memory
//! An append holds the page buffer, the largest object's frozen bytes and a bitset of that
//! object's reference words; nothing grows with the image. The handle keeps the chain's index
//! (the index of its batches, bounded by the region's size: `docs/image-format.md`, "Bounds") and 8 bytes per
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

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use embedded_storage::nor_flash::NorFlash;

use crate::error::FreezeError;
use crate::forward::{ForwardingTable, SideTable};
use crate::image::crc::{CrcEngine, EngineRef, SOFTWARE_CRC};
#[cfg(feature = "unstable")]
use crate::image::read::ChainIndex;
use crate::image::write::ImageError;
use crate::image::{DecodeError, Layout, ReadConfig, Tail};
use crate::model::{LiveHeap, ObjectModel, RefEncoding};
use crate::plan::{Dedup, Plan, Root, RootKind, Stats};
use crate::relocate::Target;

mod chain;
pub(crate) mod device;
mod lifecycle;
pub mod records;

pub use lifecycle::{Compacted, Info, ModuleInfo, staged_copy_present};

use chain::Chain;
use device::{Blocking, block_on};

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
    /// The module to remove is not frozen (never was, or already removed); nothing was
    /// written.
    NotFrozen,
    /// Compaction found no live root to keep (an empty image, or every module removed):
    /// nothing was written. [`Store::clear`] empties the region.
    NothingToCompact,
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
            Self::NotFrozen => f.write_str("store: the module is not frozen; nothing written"),
            Self::NothingToCompact => f.write_str(
                "store: nothing to compact (no live module in the image); nothing written",
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
    crc: EngineRef<'a>,
    /// Whether freezes give content-equal objects one copy, within the batch and with the
    /// earlier batches' objects ([`Dedup`]; off by default).
    pub dedup: Dedup,
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
            crc: EngineRef(&SOFTWARE_CRC),
            dedup: Dedup::OFF,
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

    /// The same, computing every CRC (the batch's while it is written, its read-back, the
    /// validation before the commit) with `engine` instead of the table: see [`CrcEngine`].
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

    /// The same, deduplicating as `dedup` says (the VM says which kinds may merge:
    /// [`ObjectModel::may_merge`], [`ObjectModel::mergeable_frozen_kind`]).
    pub const fn with_dedup(self, dedup: Dedup) -> Self {
        Self { dedup, ..self }
    }

    /// The reader's configuration for this store's region.
    pub const fn read_config(&self) -> ReadConfig<'a> {
        ReadConfig::new(self.layout, self.encoding)
            .with_statics(self.statics)
            .with_crc(self.crc.0)
    }
}

/// What a [`Store`] knows of its region: the chain it validated (or that a mount validated:
/// [`crate::mount::Mounted::store_state`]) and, once read, what lies after it. With it,
/// [`Store::reopen`] opens the region without reading it again.
///
/// That is as safe as keeping the store open: before each append the store checks that the
/// last batch's header and commit record, and every sector it is about to program, are as it
/// knew them ([`StoreError::Changed`] otherwise, and nothing is written). A mount's state has
/// not read the sectors after the chain: the first operation reads them.
#[derive(Clone, Debug)]
pub struct StoreState {
    state: chain::State,
    of: Fingerprint,
}

impl StoreState {
    /// The state of the chain `index` ending with `tail` that a mount found in the region
    /// `of` describes.
    pub(crate) fn of_mount(
        index: crate::image::read::ChainIndex,
        tail: Tail,
        of: Fingerprint,
    ) -> Self {
        Self {
            state: chain::State::of_chain(index, tail),
            of,
        }
    }

    /// Batches in the chain.
    pub fn batches(&self) -> u32 {
        self.state.index.batches().len() as u32
    }

    /// Heap bytes it holds (the chain's index and the list of sectors after it).
    pub fn heap_bytes(&self) -> usize {
        self.state.heap_bytes()
    }
}

/// What a [`StoreState`] must match: the region's addresses, geometry and the images' owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    region_address: u64,
    region_len: u32,
    erase_size: u32,
    ram_address: u64,
    ram_len: u64,
    encoding: RefEncoding,
    firmware_id: crate::image::FirmwareId,
}

impl Fingerprint {
    pub(crate) fn new(layout: &Layout<'_>, region_len: u32, encoding: RefEncoding) -> Self {
        Self {
            region_address: layout.region_address,
            region_len,
            erase_size: layout.erase_size,
            ram_address: layout.ram_address,
            ram_len: layout.ram_len,
            encoding,
            firmware_id: crate::image::FirmwareId::new(layout.firmware_id),
        }
    }

    fn of_store(cfg: &StoreConfig<'_>) -> Self {
        Self::new(&cfg.layout, cfg.region_len, cfg.encoding)
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

/// A chain of batches in a region of `F`, programmed with blocking calls.
///
/// `F` is any [`NorFlash`]: the device itself, or **`&mut` the device** (embedded-storage
/// implements `NorFlash` for `&mut F`), so the caller keeps its flash and lends it for as long
/// as the store is open: `Store::open(&mut flash, cfg)`. A VM that reads its frozen objects
/// while a freeze programs the flash reads them the way the CPU does (memory-mapped flash);
/// on a host, `sim::SharedFlash` (feature `sim`) gives the VM and the store one simulated device.
///
/// `AsyncStore` (feature `async`) is the same store over an `embedded-storage-async`
/// device; both run one implementation.
#[derive(Debug)]
pub struct Store<'a, F: NorFlash> {
    chain: Chain<'a, Blocking<F>>,
}

impl<'a, F: NorFlash> Store<'a, F> {
    /// Open the region: check the geometry, validate the chain and check that everything after
    /// it is erased or this store's own (see the module docs); foreign data is
    /// [`StoreError::Foreign`] and is left as it is.
    pub fn open(flash: F, cfg: StoreConfig<'a>) -> Result<Self, StoreError<F::Error>> {
        Chain::open(Blocking(flash, None), cfg).map(|chain| Self { chain })
    }

    /// [`Store::open`] of a memory-mapped region, read in place: `view` gives the region's
    /// bytes as the CPU reads them (`cfg.region_len` of them, from the region's first byte; on
    /// the RP2040 the XIP window), so the store validates the chain, checks the sectors after
    /// it, reads each batch back and validates it without copying it out, and its CRC engine
    /// reads the flash where it is. `view(&flash)` must show every erase and program made
    /// through `flash` once the call has returned (a device whose reads go through a cache
    /// flushes it). Erases and programs still go through `NorFlash`.
    pub fn open_mapped(
        flash: F,
        cfg: StoreConfig<'a>,
        view: fn(&F) -> &[u8],
    ) -> Result<Self, StoreError<F::Error>> {
        Chain::open(Blocking(flash, Some((cfg.region_offset, view))), cfg)
            .map(|chain| Self { chain })
    }

    /// Open the region with what a store (or a mount) knew of it ([`StoreState`]), without
    /// reading it now; `view` as for [`Store::open_mapped`], or `None`. A state of another
    /// region or layout is [`StoreError::Geometry`].
    pub fn reopen(
        flash: F,
        cfg: StoreConfig<'a>,
        view: Option<fn(&F) -> &[u8]>,
        state: StoreState,
    ) -> Result<Self, StoreError<F::Error>> {
        if state.of != Fingerprint::of_store(&cfg) {
            return Err(StoreError::Geometry {
                what: "the store state is of another region or layout",
            });
        }
        let view = view.map(|v| (cfg.region_offset, v));
        Chain::open_with(Blocking(flash, view), cfg, state.state).map(|chain| Self { chain })
    }

    /// Close the store: the flash device back, and what the store knows of the region, for
    /// [`Store::reopen`] (`None` after a failed write: the region must be read again).
    pub fn into_parts(self) -> (F, Option<StoreState>) {
        let of = Fingerprint::of_store(self.chain.config());
        let (flash, state) = self.chain.into_parts();
        (flash.0, state.map(|state| StoreState { state, of }))
    }

    /// Open the region whatever it holds, and erase it (as [`Store::clear`] does): for a region
    /// that [`Store::open`] found holding foreign data, when the caller means to reuse it.
    pub fn format(flash: F, cfg: StoreConfig<'a>) -> Result<Self, StoreError<F::Error>> {
        block_on(Chain::format(Blocking(flash, None), cfg)).map(|chain| Self { chain })
    }

    /// The flash device.
    pub fn flash(&self) -> &F {
        &self.chain.flash.0
    }

    /// The flash device, mutably (e.g. to arm a simulated power cut). Writing to the region
    /// through it makes the next append refuse with [`StoreError::Changed`].
    pub fn flash_mut(&mut self) -> &mut F {
        &mut self.chain.flash.0
    }

    /// Give the flash device back.
    pub fn into_inner(self) -> F {
        self.chain.flash.0
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig<'a> {
        self.chain.config()
    }

    /// Valid batches in the chain (as last read).
    pub fn batches(&self) -> u32 {
        self.chain.batches()
    }

    /// The chain's validated batches (as last read; feature `unstable`).
    #[cfg(feature = "unstable")]
    pub fn index(&self) -> Option<&ChainIndex> {
        self.chain.index()
    }

    /// Why the chain ends where it does (as last read): [`Tail::Invalid`] names a batch that
    /// failed validation (the next append replaces it) or one of another build (clear first).
    pub fn tail(&self) -> Option<Tail> {
        self.chain.tail()
    }

    /// Bytes of the region after the last valid batch.
    pub fn free_bytes(&self) -> u64 {
        self.chain.free_bytes()
    }

    /// Where the next batch's sections go and how much room they have: plan with this.
    ///
    /// The flash capacity is an upper bound (the maps are not counted yet); [`Store::append`]
    /// checks the exact size.
    pub fn target(&self) -> Result<Target, StoreError<F::Error>> {
        self.chain.target()
    }

    /// Plan a freeze of `roots` for the next batch ([`Store::target`]), checking every pointer
    /// to a static object against [`StoreConfig::statics`] now, with its path, rather than when
    /// the batch is validated. The two-step path: then [`Store::append`] and
    /// [`Plan::fix_up_live`]; [`Store::freeze`] does it all. With [`StoreConfig::dedup`] on, it
    /// reads the earlier batches' objects (hence `&mut`).
    pub fn plan<M>(
        &mut self,
        vm: &M,
        roots: &[Root<'_, M::Ref>],
    ) -> Result<Plan<M::Ref, SideTable>, StoreError<F::Error>>
    where
        M: ObjectModel + ?Sized,
    {
        self.chain.plan(vm, roots)
    }

    /// Append `plan` (made with [`Store::target`] or [`Store::plan`]) as the next batch,
    /// committed last.
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
        // A compaction cut while it moved its copy into place is finished first (an append on
        // the empty chain would erase the staged copy); apart, so the append's future, which
        // `block_on` holds on the heap, stays as small as it was.
        block_on(self.chain.recover())?;
        block_on(self.chain.append(plan, vm))
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
        block_on(self.chain.recover())?;
        block_on(self.chain.freeze(vm, roots))
    }

    /// Erase every sector of the region that is not already erased, and forget the chain:
    /// a staged compaction copy's commit record and batch 0's first (nothing mounts or resumes
    /// from then on), then the rest highest first. Returns the number of sectors erased.
    pub fn clear(&mut self) -> Result<u32, StoreError<F::Error>> {
        block_on(self.chain.clear())
    }

    /// The live frozen modules (later batches supersede earlier roots of the same name,
    /// remove records drop them: see [`records`]), with their batch, what their root reaches
    /// and their source record. Reads a memory-mapped region in place (RAM: a bit per
    /// object-alignment unit of the image), else reads the chain into RAM.
    pub fn modules(&mut self) -> Result<Vec<ModuleInfo>, StoreError<F::Error>> {
        block_on(self.chain.modules())
    }

    /// Region and RAM area used and free, batches, live and dead bytes, and what a compaction
    /// would reclaim (measured by planning it, for objects aligned to `align`). `M` is the VM's
    /// object model (its reference encoding). Reads a memory-mapped region in place; the
    /// compaction is planned (exact reclaimable bytes) only when its object table fits in
    /// RAM, else they are estimated ([`Info::measured`]).
    pub fn info<M: ObjectModel + ?Sized>(
        &mut self,
        align: u32,
    ) -> Result<Info, StoreError<F::Error>> {
        block_on(self.chain.info::<M>(align))
    }

    /// Remove module `name`: append a remove record (a batch of one root, no objects, one
    /// sector), committed last like every batch. Its objects stay in flash (another frozen
    /// module may still reach them) until [`Store::compact`]. `M` is the VM's object model.
    ///
    /// [`StoreError::NotFrozen`] when `name` is not a live module; nothing is written then.
    pub fn remove<M: ObjectModel + ?Sized>(
        &mut self,
        name: &str,
    ) -> Result<Appended, StoreError<F::Error>> {
        block_on(self.chain.remove::<M>(name))
    }

    /// Compact the image: copy what the live roots reach into one batch at the region's start
    /// (objects placed at `align`, the VM's largest object alignment), staged after the chain
    /// first so that a power cut leaves the old image or the compacted one
    /// (`docs/image-format.md`, "Compaction"). Each sector is erased at most once.
    ///
    /// The frozen objects move: the running VM's references to them are stale afterwards.
    /// Compact at boot before mounting, or mount again (a fresh VM) right after.
    ///
    /// Errors, with nothing written: [`StoreError::NothingToCompact`] (no live root),
    /// [`StoreError::RegionFull`] (the staged copy does not fit after the chain),
    /// [`StoreError::Incompatible`] (another firmware's chain).
    pub fn compact<M: ObjectModel + ?Sized>(
        &mut self,
        align: u32,
    ) -> Result<Compacted, StoreError<F::Error>> {
        block_on(self.chain.compact::<M>(align))
    }

    /// Whether a compaction was cut while it moved its copy into place: the chain at offset
    /// 0 does not mount until [`Store::recover`] finishes it.
    pub fn pending_compaction(&mut self) -> Result<bool, StoreError<F::Error>> {
        self.chain.pending_compaction().map(|p| p.is_some())
    }

    /// Finish a compaction cut while it moved its copy into place (see
    /// [`Store::pending_compaction`]); returns whether there was one. Every writing operation
    /// does this first; a VM that mounts from the mapped region calls it at boot, before
    /// [`crate::mount::mount`].
    pub fn recover(&mut self) -> Result<bool, StoreError<F::Error>> {
        block_on(self.chain.recover())
    }
}

/// The store over an `embedded-storage-async` [`NorFlash`](embedded_storage_async::nor_flash::NorFlash)
/// (feature `async`): [`Store`]'s operations, awaiting the device's erases and programs.
///
/// The same implementation as [`Store`] runs underneath: the chain, the checks, the program
/// order and the power-cut guarantees are the same. Validation (at open, and before each
/// commit) reads the device synchronously, polling each read to completion: NOR reads are
/// short and need no other task (see `src/store/device.rs`).
///
/// ```
/// # embassy_futures::block_on(async {
/// use flashfreeze::image::Layout;
/// use flashfreeze::sim::SimFlash;
/// use flashfreeze::store::{AsyncStore, StoreConfig};
/// use flashfreeze::testing::{Kind, TestHeap};
/// use flashfreeze::{Root, RootKind};
///
/// let mut vm = TestHeap::<4>::new();
/// let module = vm.alloc(Kind::Immutable, &[]);
/// vm.ram_area = vec![0; 4096];
/// let layout = Layout::new(0x1001_0000, 4096, 0x2003_0000, 4096, b"fw-1");
/// let cfg = StoreConfig::for_model::<TestHeap<4>>(0x1_0000, 0x1_0000, layout);
/// // SimFlash implements both the blocking and the async NorFlash.
/// let mut store = AsyncStore::open(SimFlash::<1, 4, 4096>::new(0x2_0000), cfg).await?;
/// let frozen = store.freeze(&mut vm, &[Root::new(RootKind::MODULE, "m", module)]).await?;
/// assert_eq!(frozen.batch.index, 0);
/// # Ok::<(), flashfreeze::store::StoreError<flashfreeze::sim::SimError>>(())
/// # }).unwrap();
/// ```
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
#[derive(Debug)]
pub struct AsyncStore<'a, F: embedded_storage_async::nor_flash::NorFlash> {
    chain: Chain<'a, device::Awaiting<F>>,
}

#[cfg(feature = "async")]
impl<'a, F: embedded_storage_async::nor_flash::NorFlash> AsyncStore<'a, F> {
    /// [`Store::open`].
    pub async fn open(flash: F, cfg: StoreConfig<'a>) -> Result<Self, StoreError<F::Error>> {
        Chain::open(device::Awaiting(flash), cfg).map(|chain| Self { chain })
    }

    /// [`Store::format`].
    pub async fn format(flash: F, cfg: StoreConfig<'a>) -> Result<Self, StoreError<F::Error>> {
        Chain::format(device::Awaiting(flash), cfg)
            .await
            .map(|chain| Self { chain })
    }

    /// The flash device.
    pub fn flash(&self) -> &F {
        &self.chain.flash.0
    }

    /// The flash device, mutably.
    pub fn flash_mut(&mut self) -> &mut F {
        &mut self.chain.flash.0
    }

    /// Give the flash device back.
    pub fn into_inner(self) -> F {
        self.chain.flash.0
    }

    /// [`Store::config`].
    pub fn config(&self) -> &StoreConfig<'a> {
        self.chain.config()
    }

    /// [`Store::batches`].
    pub fn batches(&self) -> u32 {
        self.chain.batches()
    }

    /// [`Store::tail`].
    pub fn tail(&self) -> Option<Tail> {
        self.chain.tail()
    }

    /// [`Store::free_bytes`].
    pub fn free_bytes(&self) -> u64 {
        self.chain.free_bytes()
    }

    /// [`Store::target`].
    pub fn target(&self) -> Result<Target, StoreError<F::Error>> {
        self.chain.target()
    }

    /// [`Store::plan`].
    pub fn plan<M>(
        &mut self,
        vm: &M,
        roots: &[Root<'_, M::Ref>],
    ) -> Result<Plan<M::Ref, SideTable>, StoreError<F::Error>>
    where
        M: ObjectModel + ?Sized,
    {
        self.chain.plan(vm, roots)
    }

    /// [`Store::append`], awaiting the erases and programs.
    pub async fn append<M, T>(
        &mut self,
        plan: &Plan<M::Ref, T>,
        vm: &M,
    ) -> Result<Appended, StoreError<F::Error>>
    where
        M: ObjectModel + ?Sized,
        T: ForwardingTable<M>,
    {
        self.chain.recover().await?;
        self.chain.append(plan, vm).await
    }

    /// [`Store::freeze`], awaiting the erases and programs.
    pub async fn freeze<M>(
        &mut self,
        vm: &mut M,
        roots: &[Root<'_, M::Ref>],
    ) -> Result<Frozen<M::Ref>, StoreError<F::Error>>
    where
        M: LiveHeap + ?Sized,
    {
        self.chain.recover().await?;
        self.chain.freeze(vm, roots).await
    }

    /// [`Store::clear`], awaiting the erases.
    pub async fn clear(&mut self) -> Result<u32, StoreError<F::Error>> {
        self.chain.clear().await
    }

    /// [`Store::modules`].
    pub async fn modules(&mut self) -> Result<Vec<ModuleInfo>, StoreError<F::Error>> {
        self.chain.modules().await
    }

    /// [`Store::info`].
    pub async fn info<M: ObjectModel + ?Sized>(
        &mut self,
        align: u32,
    ) -> Result<Info, StoreError<F::Error>> {
        self.chain.info::<M>(align).await
    }

    /// [`Store::remove`], awaiting the erases and programs.
    pub async fn remove<M: ObjectModel + ?Sized>(
        &mut self,
        name: &str,
    ) -> Result<Appended, StoreError<F::Error>> {
        self.chain.remove::<M>(name).await
    }

    /// [`Store::compact`], awaiting the erases and programs.
    pub async fn compact<M: ObjectModel + ?Sized>(
        &mut self,
        align: u32,
    ) -> Result<Compacted, StoreError<F::Error>> {
        self.chain.compact::<M>(align).await
    }

    /// [`Store::pending_compaction`].
    pub fn pending_compaction(&mut self) -> Result<bool, StoreError<F::Error>> {
        self.chain.pending_compaction().map(|p| p.is_some())
    }

    /// [`Store::recover`], awaiting the erases and programs.
    pub async fn recover(&mut self) -> Result<bool, StoreError<F::Error>> {
        self.chain.recover().await
    }
}
