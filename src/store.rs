//! The store: a region of a NOR flash holding a chain of frozen batches.
//!
//! [`Store`] works on any [`embedded_storage::nor_flash::NorFlash`] inside a region that the
//! caller gives (offset and length on the device, both multiples of `ERASE_SIZE`), and takes its
//! geometry from the device's `WRITE_SIZE` and `ERASE_SIZE`.
//!
//! ```text
//! region ─► [batch 0 ……][batch 1 ………………][erased …………………………………………]
//!            ▲ sector    ▲ sector          ▲ next batch: first sector after the last commit
//! ```
//!
//! Appending a batch ([`Store::append`]):
//! 1. measure the plan ([`crate::image::write::measure`]: layouts and reference slots, no
//!    frozen bytes): the whole batch's size is known, so a batch that does not fit is refused
//!    with [`StoreError::RegionFull`] before anything is erased;
//! 2. erase each sector the batch spans, once (they start after the last committed batch, so
//!    no committed byte is touched);
//! 3. stream the batch through one page buffer (`WRITE_SIZE` rounded up to 256 bytes), each write
//!    unit programmed once — except the first page, which holds the header: its CRCs cover the
//!    rest, so it is kept back until the stream ends;
//! 4. read the programmed bytes back and compare their CRC;
//! 5. program the first page with the header, and read it back;
//! 6. program the commit record, alone in its write unit.
//!
//! ```text
//! program order:  ② pages 1…n ─────────────────────►  ③ page 0 (header)  ④ commit record
//! batch:          [page 0: header + flash…][page 1]…[page n: … object map][commit]
//! ```
//!
//! A power cut at any point leaves the earlier batches mounted and the new one either absent
//! (no valid commit record) or complete (`tests/power_cut.rs` cuts at every operation and at
//! several bytes inside each). [`Store::clear`] erases only the sectors that are not already
//! erased, first sector first, so an interrupted clear leaves no mountable chain behind.
//!
//! # Working memory
//! An append holds the page buffer, the largest object's frozen bytes and a bitset of that
//! object's reference words; nothing grows with the image. Measured: 3.0 KB peak for a 68 KB
//! image whose largest object is 2.4 KB (`tests/image_memory.rs`).
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
//! let cfg = StoreConfig {
//!     region_offset: 0x1_0000,
//!     region_len: 0x1_0000,
//!     layout: Layout {
//!         region_address: 0x1001_0000,
//!         ram_address: 0x2003_0000,
//!         ram_len: 4096,
//!         firmware_id: b"my-firmware-1.0",
//!     },
//!     ref_bytes: 4,
//! };
//! let mut store = Store::open(SimFlash::<1, 4, 4096>::new(0x2_0000), cfg).unwrap();
//! let plan = flashfreeze::plan(&vm, &[Root::new(RootKind::MODULE, "m", module)], store.target()?)?;
//! let batch = store.append(&plan, &vm)?;
//! assert_eq!((batch.index, batch.span), (0, 4096));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use embedded_storage::nor_flash::NorFlash;
use zerocopy::IntoBytes;

use crate::forward::ForwardingTable;
use crate::image::Layout;
use crate::image::format::{
    COMMIT_LEN, CRC, CommitRecord, CrcDigest, HEADER_LEN, SECTION_ALIGN, align_up,
};
use crate::image::read::{DecodeError, Link, Tail, next_link};
use crate::image::write::{BatchParams, ImageError, StreamError, measure, stream};
use crate::model::ObjectModel;
use crate::plan::Plan;
use crate::relocate::Target;

/// Why a store operation failed. A failed append never commits its batch.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError<E> {
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
}

impl<E: fmt::Debug> fmt::Display for StoreError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flash { op, offset, error } => {
                write!(f, "store: flash {op} at {offset:#x} failed: {error:?}")
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
        }
    }
}

#[cfg(feature = "std")]
impl<E: fmt::Debug> std::error::Error for StoreError<E> {}

impl<E> From<ImageError> for StoreError<E> {
    fn from(e: ImageError) -> Self {
        Self::Image(e)
    }
}

/// Where the store lives and whom its images are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreConfig<'a> {
    /// Device offset of the region (a multiple of `ERASE_SIZE`).
    pub region_offset: u32,
    /// Length of the region (a multiple of `ERASE_SIZE`).
    pub region_len: u32,
    /// Mapped addresses, RAM area and firmware id (shared with [`crate::mount`]).
    pub layout: Layout<'a>,
    /// The VM's reference width (`ObjectModel::REF_BYTES`).
    pub ref_bytes: u32,
}

/// A summary of one committed batch, as appended.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// Where the chain ends, as the store found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ChainEnd {
    batches: u32,
    /// Region offset of the next batch.
    next: u32,
    prev_crc: u32,
    /// End of the RAM sections so far (absolute).
    ram_end: u64,
    tail: Tail,
}

/// A chain of batches in a region of `F`.
#[derive(Debug)]
pub struct Store<'a, F: NorFlash> {
    flash: F,
    cfg: StoreConfig<'a>,
    chain: Result<ChainEnd, DecodeError>,
}

impl<'a, F: NorFlash> Store<'a, F> {
    /// Open the region: check the geometry and find the end of the committed chain (headers
    /// and commit records only; [`crate::mount::mount`] validates the contents).
    pub fn open(mut flash: F, cfg: StoreConfig<'a>) -> Result<Self, StoreError<F::Error>> {
        let erase = F::ERASE_SIZE as u64;
        let geometry = |what| Err(StoreError::Geometry { what });
        if !erase.is_power_of_two()
            || !F::WRITE_SIZE.is_power_of_two()
            || F::WRITE_SIZE > F::ERASE_SIZE
        {
            return geometry(
                "ERASE_SIZE and WRITE_SIZE must be powers of two, WRITE_SIZE <= ERASE_SIZE",
            );
        }
        if F::READ_SIZE > 64 || !F::READ_SIZE.is_power_of_two() {
            return geometry("READ_SIZE must be a power of two up to 64");
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
        let chain = Self::scan(&mut flash, &cfg)?;
        Ok(Self { flash, cfg, chain })
    }

    /// Find the end of the committed chain in `cfg`'s region of `flash`.
    fn scan(
        flash: &mut F,
        cfg: &StoreConfig<'_>,
    ) -> Result<Result<ChainEnd, DecodeError>, StoreError<F::Error>> {
        let mut end = ChainEnd {
            batches: 0,
            next: 0,
            prev_crc: 0,
            ram_end: cfg.layout.ram_address,
            tail: Tail::RegionEnd,
        };
        let mut read =
            |off: u32, buf: &mut [u8]| read_unaligned(flash, cfg.region_offset + off, buf);
        // Each step advances by at least one sector, so this ends within region_len / sector.
        loop {
            let link = next_link(
                &mut read,
                cfg.region_len,
                end.next,
                end.batches,
                end.prev_crc,
                &cfg.layout,
                cfg.ref_bytes,
            )?;
            match link {
                Err(e) => return Ok(Err(e)),
                Ok(Link::End(tail)) => {
                    end.tail = tail;
                    return Ok(Ok(end));
                }
                Ok(Link::Batch(h)) => {
                    end.batches += 1;
                    end.prev_crc = h.header_crc.get();
                    end.ram_end = h.ram_range().end;
                    match end.next.checked_add(h.span.get()) {
                        Some(next) => end.next = next,
                        None => return Ok(Ok(end)),
                    }
                }
            }
        }
    }

    /// The flash device.
    pub fn flash(&self) -> &F {
        &self.flash
    }

    /// The flash device, mutably (e.g. to arm a simulated power cut).
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

    /// Committed batches in the chain.
    pub fn batches(&self) -> u32 {
        self.chain.as_ref().map_or(0, |c| c.batches)
    }

    /// Why the chain ends where it does, or why this firmware cannot extend it.
    pub fn tail(&self) -> Result<Tail, &DecodeError> {
        self.chain.as_ref().map(|c| c.tail)
    }

    /// Bytes of the region after the last committed batch.
    pub fn free_bytes(&self) -> u64 {
        self.chain.as_ref().map_or(0, |c| self.free_after(c))
    }

    /// Bytes of the region after `c`'s last batch.
    fn free_after(&self, c: &ChainEnd) -> u64 {
        u64::from(self.cfg.region_len - c.next.min(self.cfg.region_len))
    }

    fn chain(&self) -> Result<&ChainEnd, StoreError<F::Error>> {
        self.chain
            .as_ref()
            .map_err(|e| StoreError::Incompatible(e.clone()))
    }

    /// The parameters of the next batch.
    pub fn next_params(&self) -> Result<BatchParams<'a>, StoreError<F::Error>> {
        let c = self.chain()?;
        let ram_base = align_up(c.ram_end, u64::from(SECTION_ALIGN)).unwrap_or(u64::MAX);
        Ok(BatchParams {
            batch_index: c.batches,
            prev_header_crc: c.prev_crc,
            batch_address: self.cfg.layout.region_address + u64::from(c.next),
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
        let c = self.chain()?;
        let overhead = (HEADER_LEN + COMMIT_LEN.max(F::WRITE_SIZE)) as u64;
        let flash_capacity = self.free_after(c).saturating_sub(overhead);
        let ram_end = self
            .cfg
            .layout
            .ram_address
            .saturating_add(self.cfg.layout.ram_len);
        Ok(p.target(flash_capacity, ram_end.saturating_sub(p.ram_base)))
    }

    /// Append `plan` (made with [`Store::target`]) as the next batch, committed last.
    pub fn append<M, T>(
        &mut self,
        plan: &Plan<M::Ref, T>,
        vm: &M,
    ) -> Result<Appended, StoreError<F::Error>>
    where
        M: ObjectModel + ?Sized,
        T: ForwardingTable<M>,
    {
        let params = self.next_params()?;
        if M::REF_BYTES != self.cfg.ref_bytes {
            return Err(StoreError::Geometry {
                what: "the VM's REF_BYTES differs from the store's",
            });
        }
        let target = self.target()?;
        if plan.target().flash_base != target.flash_base
            || plan.target().ram_base != target.ram_base
        {
            return Err(StoreError::StalePlan);
        }
        let measured = measure(plan, vm, &params)?;
        let chain = self.chain()?;
        let next = chain.next;
        let span = measured.span.get();
        let available = self.free_after(chain);
        if u64::from(span) > available {
            return Err(StoreError::RegionFull {
                needed: u64::from(span),
                available,
            });
        }
        let start = self.cfg.region_offset + next;
        // 2. Erase the batch's sectors, each once.
        let erase = F::ERASE_SIZE as u32;
        for sector in (start..start + span).step_by(erase as usize) {
            self.erase_sector(sector)?;
        }
        // 3. Stream through one page buffer, holding back the first page (it holds the header,
        //    known only at the end).
        let page_len = align_up(256, F::WRITE_SIZE as u64).unwrap_or(256) as usize;
        let mut pager = Pager {
            flash: &mut self.flash,
            page: vec![0xFF; page_len],
            fill: 0,
            at: start,
            first: None,
            crc: CRC.digest(),
        };
        let streamed = stream(plan, vm, &measured, &mut |bytes: &[u8]| pager.push(bytes));
        let header = match streamed {
            Ok(header) => header,
            Err(StreamError::Sink(e)) => return Err(e),
            Err(StreamError::Image(e)) => return Err(StoreError::Image(e)),
        };
        pager.flush()?;
        let written_crc = pager.crc.finalize();
        let Some(mut first) = pager.first.take() else {
            return Err(StoreError::Image(ImageError::Inconsistent {
                what: "the batch ended before its first page",
            }));
        };
        let commit_at = start + header.commit_offset.get();
        debug_assert_eq!(pager.at, commit_at);
        // 4. Read back what was programmed after the first page.
        let mut crc = CRC.digest();
        read_chunks(
            &mut self.flash,
            start + first.len() as u32..commit_at,
            &mut |chunk| {
                crc.update(chunk);
                true
            },
        )?;
        if crc.finalize() != written_crc {
            return Err(StoreError::Verify { offset: start });
        }
        // 5. The first page with the header, read back.
        let Some(slot) = first.get_mut(..HEADER_LEN) else {
            return Err(StoreError::Image(ImageError::Inconsistent {
                what: "the first page is shorter than the header",
            }));
        };
        slot.copy_from_slice(header.as_bytes());
        program(&mut self.flash, start, &first)?;
        let mut same = true;
        let mut expected = first.as_slice();
        read_chunks(
            &mut self.flash,
            start..start + first.len() as u32,
            &mut |back| {
                same = expected
                    .split_at_checked(back.len())
                    .is_some_and(|(want, rest)| {
                        expected = rest;
                        back == want
                    });
                same
            },
        )?;
        if !same {
            return Err(StoreError::Verify { offset: start });
        }
        // 6. Commit, alone in its write unit.
        let mut unit = vec![0xFF; COMMIT_LEN.max(F::WRITE_SIZE)];
        unit[..COMMIT_LEN].copy_from_slice(CommitRecord::for_header(&header).as_bytes());
        program(&mut self.flash, commit_at, &unit)?;
        let ram = header.ram_range();
        self.chain = Ok(ChainEnd {
            batches: params.batch_index + 1,
            next: next + span,
            prev_crc: header.header_crc.get(),
            ram_end: ram.end,
            tail: Tail::Erased {
                offset: next + span,
            },
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

    /// Erase every sector of the region that is not already erased, and forget the chain.
    /// Returns the number of sectors erased.
    pub fn clear(&mut self) -> Result<u32, StoreError<F::Error>> {
        let erase = F::ERASE_SIZE as u32;
        let mut erased = 0;
        let start = self.cfg.region_offset;
        for sector in (start..start + self.cfg.region_len).step_by(erase as usize) {
            let mut dirty = false;
            read_chunks(&mut self.flash, sector..sector + erase, &mut |chunk| {
                dirty = chunk.iter().any(|&b| b != 0xFF);
                !dirty
            })?;
            if dirty {
                self.erase_sector(sector)?;
                erased += 1;
            }
        }
        self.chain = Self::scan(&mut self.flash, &self.cfg)?;
        Ok(erased)
    }
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
/// except the batch's first page, which it keeps (`first`) for the caller to program last.
struct Pager<'f, F: NorFlash> {
    flash: &'f mut F,
    page: Vec<u8>,
    fill: usize,
    /// Device offset of the page's first byte.
    at: u32,
    /// The first page, not programmed.
    first: Option<Vec<u8>>,
    /// CRC of the bytes programmed (every page but the first).
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

    /// Program the buffered bytes (the stream always ends on a write-unit boundary), or keep
    /// them if they are the first page.
    fn flush(&mut self) -> Result<(), StoreError<F::Error>> {
        if self.fill == 0 {
            return Ok(());
        }
        let len = align_up(self.fill as u64, F::WRITE_SIZE as u64).unwrap_or(0) as usize;
        self.page[self.fill..len].fill(0xFF);
        let at = self.at;
        if self.first.is_none() {
            self.first = Some(self.page[..len].to_vec());
        } else {
            self.crc.update(&self.page[..len]);
            program(self.flash, at, &self.page[..len])?;
        }
        self.at += len as u32;
        self.fill = 0;
        Ok(())
    }
}
