//! Mount at boot: validate the committed batches, restore the RAM section, hand the VM its roots.
//!
//! ```text
//! region bytes (mapped flash) ─► scan_chain (every CRC, bound and pointer word checked)
//!                              ─► copy each batch's RAM initial state to its place in the RAM area
//!                              ─► Mounted { roots, gc_root_range, contains(addr) }
//! ```
//!
//! Mount takes the longest valid prefix of the chain: a batch that fails validation ends it
//! ([`Mounted::tail`] says which, why, and how many batches after it are ignored), and the good
//! batches before it mount. Only when the first batch fails is nothing mounted
//! ([`MountError::Invalid`]): the VM logs it and runs without frozen modules — it never
//! boot-loops on a bad image. An empty region is [`MountError::NoCommittedBatch`].
//!
//! Memory: the chain's index only ([`Mounted::heap_bytes`]), bounded by the region's size —
//! at most 28 KiB of batch records for the Pico's 1 MiB region (256 × 112 B), its stored start
//! bitmaps read in place; a batch it checks fully adds its checkpoints and decoded bitmap (see
//! `docs/image-format.md`, "Bounds"); roots are read
//! from the mapped region when asked for.
//!
//! # Example
//! ```
//! use flashfreeze::image::{Layout, ReadConfig};
//! use flashfreeze::mount::{mount, MountError};
//!
//! let region = [0xFF; 4096]; // erased flash
//! let mut ram = [0u8; 256];
//! let layout = Layout::new(0x1010_0000, 4096, 0x2003_0000, 256, b"fw");
//! let cfg = ReadConfig::new(layout, flashfreeze::RefEncoding::ADDRESS_32);
//! assert!(matches!(mount(&region, &cfg, &mut ram), Err(MountError::NoCommittedBatch { .. })));
//! ```

use core::fmt;
use core::ops::Range;

use zerocopy::FromBytes;

use crate::image::format::{ROOT_ENTRY_LEN, RootEntry};
use crate::image::read::{
    BatchInfo, ChainIndex, DecodeError, FlashObjects, ImageRoot, ReadConfig, Tail,
    batch_root_kinds, batch_roots, batch_roots_table, scan_mapped,
};
use crate::model::Placement;
use crate::plan::RootKind;
use crate::store::records::{self, LiveRoots, Resolution};
use crate::store::{Fingerprint, StoreState};

/// Why nothing was mounted.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MountError {
    /// The region holds no committed batch (first boot, or after a clear).
    NoCommittedBatch {
        /// What follows the (empty) chain.
        tail: Tail,
    },
    /// The first committed batch failed validation (or another build made it): nothing
    /// mounts. A later batch that fails ends the mounted chain instead ([`Mounted::tail`]).
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

impl core::error::Error for MountError {}

impl From<DecodeError> for MountError {
    fn from(e: DecodeError) -> Self {
        Self::Invalid(e)
    }
}

/// One mounted batch: where its sections are.
pub type MountedBatch = BatchInfo;

/// The frozen image, mounted: what the VM needs after boot.
#[derive(Clone, Debug)]
pub struct Mounted<'a> {
    region: &'a [u8],
    index: ChainIndex,
    flash: Range<u64>,
    ram: Range<u64>,
    tail: Tail,
    of: Fingerprint,
}

impl<'a> Mounted<'a> {
    /// Every root of every batch, in chain order (read from the mapped roots tables: nothing
    /// per root is kept in RAM).
    pub fn roots(&self) -> impl Iterator<Item = ImageRoot<'a>> + '_ {
        let region = self.region;
        self.index
            .batches()
            .iter()
            .flat_map(move |b| batch_roots(region, b))
    }

    /// The chain's roots resolved: live modules (a later batch's root of the same name
    /// supersedes an earlier one, a remove record drops it) with their source records, and
    /// the other live roots (see [`crate::store::records`]).
    pub fn resolve(&self) -> Resolution {
        self.live_roots().to_owned()
    }

    /// [`Mounted::resolve`] borrowed from the mapped roots tables: no name, path or hash is
    /// copied, and the lists are reserved once, from the chain's counts of module, source and
    /// other roots (the kinds read from the entries alone, before any name is decoded).
    pub fn live_roots(&self) -> LiveRoots<'a> {
        let region = self.region;
        let batches = self.index.batches();
        let (mut modules, mut sources, mut others) = (0, 0, 0);
        for kind in batches.iter().flat_map(|b| batch_root_kinds(region, b)) {
            match kind {
                RootKind::MODULE => modules += 1,
                RootKind::SOURCE => sources += 1,
                RootKind::REMOVED => {}
                _ => others += 1,
            }
        }
        records::resolve_reserved(
            ValidatedRoots {
                region,
                batches: batches.iter(),
                batch: 0,
                table: &[],
                entries: [].chunks_exact(ROOT_ENTRY_LEN),
            },
            modules,
            sources,
            others,
        )
    }

    /// The address of the live root with this kind and name: for modules, after supersede
    /// and remove records ([`Mounted::resolve`]); for other kinds, the last one.
    pub fn root(&self, kind: RootKind, name: &str) -> Option<u64> {
        if kind == RootKind::MODULE {
            return self.live_roots().module(name).map(|m| m.address);
        }
        self.roots()
            .filter(|r| r.kind == kind && r.name == name)
            .last()
            .map(|r| r.address)
    }

    /// The mounted batches.
    pub fn batches(&self) -> &[MountedBatch] {
        self.index.batches()
    }

    /// The objects of the flash section of mounted batch `batch` (an index into
    /// [`Mounted::batches`]): each one's address and size, in address order, decoded from the
    /// batch's object map read in place (nothing kept per object; empty for an index past the
    /// last batch). The mount trusts the stored start bitmap and does not decode the map: this
    /// stops at a record that does not decode, an empty object or one past the section's end,
    /// so it yields only objects inside the batch's flash section. A VM that must find objects of some kind at boot walks this
    /// instead of parsing every object's header for its size.
    pub fn flash_objects(&self, batch: usize) -> FlashObjects<'a> {
        let region = self.region;
        match self.index.batches().get(batch) {
            Some(b) => b.flash_objects(region),
            None => BatchInfo::no_objects(),
        }
    }

    /// Heap bytes the mount keeps (its index of the batches, and the bitmaps of object starts it
    /// could not read in place); bounded by
    /// the region's size (`docs/image-format.md`, "Bounds").
    pub fn heap_bytes(&self) -> usize {
        self.index.heap_bytes()
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

    /// What follows the mounted chain: [`Tail::Invalid`] names the first batch that failed
    /// validation, why, and how many committed batches after it are not mounted either.
    pub fn tail(&self) -> Tail {
        self.tail
    }

    /// The chain as a [`StoreState`]: a store opened on the same region with it
    /// ([`crate::store::Store::reopen`]) does not validate the chain again, only reads the
    /// sectors after it before its first operation. (The flash must not have been written since
    /// the mount but through such a store: the store checks the last batch before appending.)
    pub fn store_state(&self) -> StoreState {
        StoreState::of_mount(self.index.clone(), self.tail, self.of)
    }

    /// [`Mounted::store_state`] without copying the chain's index: the mount ends here, its
    /// index moves into the state (a VM that keeps the state reads nothing else from it).
    pub fn into_store_state(self) -> StoreState {
        StoreState::of_mount(self.index, self.tail, self.of)
    }
}

/// The roots of the mounted batches, in chain order, read from their roots tables in place with
/// no check made again: what [`Mounted::live_roots`] resolves. (The same roots as
/// [`Mounted::roots`], at a fraction of the cost on a Cortex-M0+: every boot resolves them.)
struct ValidatedRoots<'a, 'i> {
    region: &'a [u8],
    batches: core::slice::Iter<'i, BatchInfo>,
    /// The batch whose table is being read, its table, and its entries left.
    batch: u32,
    table: &'a [u8],
    entries: core::slice::ChunksExact<'a, u8>,
}

impl<'a> Iterator for ValidatedRoots<'a, '_> {
    type Item = (u32, ImageRoot<'a>);

    fn next(&mut self) -> Option<(u32, ImageRoot<'a>)> {
        loop {
            let Some(raw) = self.entries.next() else {
                let b = self.batches.next()?;
                let (table, entries) = batch_roots_table(self.region, b);
                self.batch = b.index;
                self.table = table;
                self.entries = entries.chunks_exact(ROOT_ENTRY_LEN);
                continue;
            };
            let Ok(e) = RootEntry::ref_from_bytes(raw) else {
                continue;
            };
            let start = e.name_offset.get() as usize;
            let Some(name) = self
                .table
                .get(start..start.saturating_add(usize::from(e.name_len.get())))
            else {
                continue;
            };
            debug_assert!(core::str::from_utf8(name).is_ok());
            // SAFETY: `name` is valid UTF-8. This batch is in the mount's index, so it passed
            // validation (`scan_mapped` keeps only the validated prefix of the chain), in this
            // same `region` (a shared borrow for 'a: its bytes have not changed since). That
            // validation read the header at the batch's offset, kept its `roots_table` (region
            // offsets) and `roots` count in the batch's index entry, which `batch_roots_table`
            // slices, and checked for each of those entries of that table that the name the
            // entry gives (`name_len` bytes at `name_offset` from the table's start) lies in the
            // table and is UTF-8 (`image::read::read_root`, by `core::str::from_utf8` on these
            // bytes of the mapped region): the bytes sliced here.
            let name = unsafe { core::str::from_utf8_unchecked(name) };
            return Some((
                self.batch,
                ImageRoot {
                    kind: RootKind(e.kind.get()),
                    name,
                    address: e.address.get(),
                },
            ));
        }
    }
}

/// Validate the image in `region` (its mapped bytes) and copy the RAM sections' initial state
/// into `ram`, the RAM area at `cfg.layout.ram_address` (at least `cfg.layout.ram_len` bytes).
///
/// Mounts the longest valid prefix of the chain. `ram` is written only for the batches that
/// validated, after all of them did.
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
    let (index, tail) = scan_mapped(region, cfg);
    let Some(first) = index.batches().first() else {
        return Err(match tail {
            Tail::Invalid { error, .. } => MountError::Invalid(error),
            tail => MountError::NoCommittedBatch { tail },
        });
    };
    let flash_start = first.flash.start;
    let mut flash_end = flash_start;
    let ram_start = cfg.layout.ram_address;
    let mut ram_end = ram_start;
    // End of what is written so far, relative to the RAM area.
    let mut filled = 0;
    for b in index.batches() {
        // Validation proved b.ram lies inside the RAM area, after the earlier batches' sections.
        let at = (b.ram.start - ram_start) as usize;
        let init = region
            .get(b.ram_initial.start as usize..b.ram_initial.end as usize)
            .unwrap_or(&[]);
        // The gap before a batch's section is zero, so a GC scanning the range sees no garbage.
        if let Some(gap) = ram.get_mut(filled..at) {
            gap.fill(0);
        }
        if let Some(dst) = ram.get_mut(at..at + init.len()) {
            dst.copy_from_slice(init);
        }
        filled = at + init.len();
        flash_end = b.flash.end.max(flash_end);
        ram_end = b.ram.end.max(ram_end);
    }
    Ok(Mounted {
        region,
        index,
        flash: flash_start..flash_end,
        ram: ram_start..ram_end,
        tail,
        of: Fingerprint::new(
            &cfg.layout,
            u32::try_from(region.len()).unwrap_or(u32::MAX),
            cfg.encoding,
        ),
    })
}
