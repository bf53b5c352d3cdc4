//! The store's logic, written once over a [`Device`] (see [`super::device`]): the blocking
//! [`super::Store`] and the async [`super::AsyncStore`] are thin front-ends of [`Chain`].

use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use zerocopy::{FromBytes, IntoBytes};

use super::device::{Device, mapped_range};
use super::{Appended, Frozen, FrozenRoot, StoreConfig, StoreError};
use crate::dedup::Earlier;
use crate::forward::{ForwardingTable, SideTable};
use crate::image::crc::CrcEngine;
use crate::image::format::{
    BatchHeader, COMMIT_LEN, CommitRecord, ContentCrcs, HEADER_LEN, SECTION_ALIGN, align_up,
};
use crate::image::index::EarlierIndex;
use crate::image::read::{
    Bytes, ChainIndex, Check, DecodeError, HeaderAt, Mapped, Reader, Source, Tail, all_erased,
    extend_chain, header_at, mount_trusts, validate,
};
use crate::image::write::{
    BatchParams, FlashMaps, MapCache, Sink, StreamError, measure_keeping, stream_to,
};
use crate::model::{LiveHeap, ObjectModel};
use crate::plan::{self, Plan, Root};
use crate::relocate::Target;

/// A chain of batches in a region of a device `D`.
#[derive(Debug)]
pub(crate) struct Chain<'a, D> {
    pub(crate) flash: D,
    pub(super) cfg: StoreConfig<'a>,
    /// `None` after a failed write: read again before the next operation.
    pub(super) state: Option<State>,
}

/// What the handle knows of its region.
#[derive(Clone, Debug)]
pub(crate) struct State {
    /// The valid batches.
    pub(crate) index: ChainIndex,
    /// Why the chain ends there.
    pub(crate) tail: Tail,
    /// The non-erased sectors after the chain (region offsets) and their CRCs.
    pub(super) dirty: Vec<(u32, u32)>,
    /// Whether `dirty` was read (a chain handed over from a mount has not been).
    pub(super) tail_read: bool,
    /// Region offset of a committed staged compaction copy after the chain, if any
    /// (`super::lifecycle`; known once `dirty` was read).
    pub(super) staged: Option<u32>,
}

impl State {
    /// Heap bytes it holds.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.index.heap_bytes() + self.dirty.capacity() * 8
    }

    /// A chain the validator found in the region (a mount's): the sectors after it are read
    /// before the first operation.
    pub(crate) fn of_chain(index: ChainIndex, tail: Tail) -> Self {
        Self {
            index,
            tail,
            dirty: Vec::new(),
            tail_read: false,
            staged: None,
        }
    }
}

/// The region of a flash device as a [`Source`] of the validator (its reads run to completion:
/// see [`super::device`]).
pub(super) struct Region<'f, D: Device> {
    pub(super) flash: &'f mut D,
    pub(super) offset: u32,
    pub(super) len: u32,
}

impl<D: Device> Source for Region<'_, D> {
    type Error = StoreError<D::Error>;
    fn region_len(&self) -> u32 {
        self.len
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error> {
        read_unaligned_now(self.flash, self.offset + offset, buf)
    }
}

/// Whether a refusal blocks the store from extending the chain until it is cleared: "another
/// firmware, format or width made this chain", or a committed batch the mount accepts and the
/// full check refuses (its start bitmap, which the mount trusts, disagrees with its object map:
/// [`mount_trusts`]). Writing after such a batch's predecessor would erase what the mount uses.
pub(super) fn incompatible(e: &DecodeError) -> bool {
    matches!(
        e,
        DecodeError::Version { .. } | DecodeError::FirmwareId { .. } | DecodeError::RefBytes { .. }
    ) || mount_trusts(e)
}

impl<'a, D: Device> Chain<'a, D> {
    /// See the front-ends ([`super::Store`]).
    pub(crate) fn open(mut flash: D, cfg: StoreConfig<'a>) -> Result<Self, StoreError<D::Error>> {
        Self::check_geometry(&flash, &cfg)?;
        let state = Self::scan(&mut flash, &cfg, true)?;
        Ok(Self {
            flash,
            cfg,
            state: Some(state),
        })
    }

    /// Open with what an earlier handle, or a mount, knew of the region (no read now).
    pub(crate) fn open_with(
        flash: D,
        cfg: StoreConfig<'a>,
        state: State,
    ) -> Result<Self, StoreError<D::Error>> {
        Self::check_geometry(&flash, &cfg)?;
        Ok(Self {
            flash,
            cfg,
            state: Some(state),
        })
    }

    /// What the handle knows, for [`Chain::open_with`] (nothing after a failed write).
    pub(crate) fn into_parts(self) -> (D, Option<State>) {
        (self.flash, self.state)
    }

    /// See the front-ends ([`super::Store`]).
    pub(crate) async fn format(
        mut flash: D,
        cfg: StoreConfig<'a>,
    ) -> Result<Self, StoreError<D::Error>> {
        Self::check_geometry(&flash, &cfg)?;
        let state = Self::scan(&mut flash, &cfg, false)?;
        let mut store = Self {
            flash,
            cfg,
            state: Some(state),
        };
        store.erase_region().await?;
        Ok(store)
    }

    fn check_geometry(flash: &D, cfg: &StoreConfig<'_>) -> Result<(), StoreError<D::Error>> {
        let erase = D::ERASE_SIZE as u64;
        let geometry = |what| Err(StoreError::Geometry { what });
        if !erase.is_power_of_two()
            || !D::WRITE_SIZE.is_power_of_two()
            || D::WRITE_SIZE > D::ERASE_SIZE
            || erase > u64::from(u32::MAX / 2)
        {
            return geometry(
                "ERASE_SIZE and WRITE_SIZE must be powers of two, WRITE_SIZE <= ERASE_SIZE",
            );
        }
        if D::READ_SIZE > 64 || !D::READ_SIZE.is_power_of_two() {
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
        if let Some((base, bytes)) = flash.mapped() {
            if base != cfg.region_offset || bytes.len() as u64 != u64::from(cfg.region_len) {
                return geometry("the mapped view is not the region's bytes");
            }
        }
        Ok(())
    }

    /// Validate the chain of `cfg`'s region and read the sectors after it; with `strict`,
    /// refuse foreign data. In place when the device maps the region.
    pub(super) fn scan(
        flash: &mut D,
        cfg: &StoreConfig<'_>,
        strict: bool,
    ) -> Result<State, StoreError<D::Error>> {
        Self::scan_from(flash, cfg, strict, None)
    }

    /// [`Chain::scan`], or with `known` (a chain the same validator found in this region: a
    /// mount's) only the sectors after it.
    fn scan_from(
        flash: &mut D,
        cfg: &StoreConfig<'_>,
        strict: bool,
        known: Option<(ChainIndex, Tail)>,
    ) -> Result<State, StoreError<D::Error>> {
        let erase = D::ERASE_SIZE as u32;
        let whole = cfg.region_offset..cfg.region_offset + cfg.region_len;
        if let Some(region) = mapped_range(flash, whole) {
            return classify(&Mapped(region), cfg, erase, strict, known);
        }
        let r = Reader::new(Region {
            flash,
            offset: cfg.region_offset,
            len: cfg.region_len,
        });
        let state = classify(&r, cfg, erase, strict, known);
        if let Some(e) = r.take_error() {
            return Err(e);
        }
        state
    }

    /// The state, read again after a failed write (and the sectors after a mount's chain read).
    pub(super) fn state(&mut self) -> Result<&State, StoreError<D::Error>> {
        match self.state.take() {
            Some(st) if st.tail_read => self.state = Some(st),
            Some(st) => {
                let known = Some((st.index, st.tail));
                self.state = Some(Self::scan_from(&mut self.flash, &self.cfg, true, known)?);
            }
            None => self.state = Some(Self::scan(&mut self.flash, &self.cfg, true)?),
        }
        match &self.state {
            Some(s) => Ok(s),
            None => Err(StoreError::Geometry {
                what: "store state lost",
            }),
        }
    }

    /// See the front-ends ([`super::Store`]).
    pub(crate) fn config(&self) -> &StoreConfig<'a> {
        &self.cfg
    }

    /// See the front-ends ([`super::Store`]).
    pub(crate) fn batches(&self) -> u32 {
        self.state
            .as_ref()
            .map_or(0, |s| s.index.batches().len() as u32)
    }

    /// The chain's validated batches (as last read).
    /// See the front-ends ([`super::Store`]).
    #[cfg(feature = "unstable")]
    pub(crate) fn index(&self) -> Option<&ChainIndex> {
        self.state.as_ref().map(|s| &s.index)
    }

    /// See the front-ends ([`super::Store`]).
    pub(crate) fn tail(&self) -> Option<Tail> {
        self.state.as_ref().map(|s| s.tail)
    }

    /// See the front-ends ([`super::Store`]).
    pub(crate) fn free_bytes(&self) -> u64 {
        self.state
            .as_ref()
            .map_or(0, |s| self.free_after(s.index.end_offset()))
    }

    pub(super) fn free_after(&self, next: u32) -> u64 {
        u64::from(self.cfg.region_len.saturating_sub(next))
    }

    /// The parameters of the next batch.
    pub(crate) fn next_params(&self) -> Result<BatchParams<'a>, StoreError<D::Error>> {
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
            write_size: D::WRITE_SIZE as u32,
            erase_size: D::ERASE_SIZE as u32,
        })
    }

    /// See the front-ends ([`super::Store`]).
    pub(crate) fn target(&self) -> Result<Target, StoreError<D::Error>> {
        let p = self.next_params()?;
        let overhead = (HEADER_LEN + COMMIT_LEN.max(D::WRITE_SIZE)) as u64;
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
    pub(super) async fn check_unchanged(&mut self, upto: u32) -> Result<(), StoreError<D::Error>> {
        let Some(s) = self.state.as_ref() else {
            return Ok(());
        };
        let erase = D::ERASE_SIZE as u32;
        let base = self.cfg.region_offset;
        let changed = |at: u32| StoreError::Changed { offset: base + at };
        if let Some(last) = s.index.batches().last() {
            let mut h = [0u8; HEADER_LEN];
            read_unaligned(&mut self.flash, base + last.offset, &mut h).await?;
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
                    )
                    .await?;
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
            let same = match was {
                Some(crc) => crc_range(&mut self.flash, range, self.cfg.crc()).await? == crc,
                None if sector < upto => sector_erased(&mut self.flash, range).await?,
                None => true,
            };
            if !same {
                return Err(changed(sector));
            }
            if sector >= upto && d.peek().is_none() {
                break;
            }
            sector += erase;
        }
        Ok(())
    }

    /// See the front-ends ([`super::Store`]).
    pub(crate) async fn append<M, T>(
        &mut self,
        plan: &Plan<M::Ref, T>,
        vm: &M,
    ) -> Result<Appended, StoreError<D::Error>>
    where
        M: ObjectModel + ?Sized,
        T: ForwardingTable<M>,
    {
        self.append_measured(plan, vm, None).await
    }

    /// [`Chain::append`] with the flash section's maps made while `plan` was made.
    async fn append_measured<M, T>(
        &mut self,
        plan: &Plan<M::Ref, T>,
        vm: &M,
        flash_maps: Option<FlashMaps>,
    ) -> Result<Appended, StoreError<D::Error>>
    where
        M: ObjectModel + ?Sized,
        T: ForwardingTable<M>,
    {
        let r = self.append_inner(plan, vm, flash_maps).await;
        if r.is_err() && self.state.is_none() {
            self.state = Self::scan(&mut self.flash, &self.cfg, true).ok();
        }
        r
    }

    async fn append_inner<M, T>(
        &mut self,
        plan: &Plan<M::Ref, T>,
        vm: &M,
        flash_maps: Option<FlashMaps>,
    ) -> Result<Appended, StoreError<D::Error>>
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
        let mut maps = MapCache::default();
        let header = measure_keeping(plan, vm, &params, &mut maps, flash_maps)?;
        let next = params.batch_offset;
        let span = header.span.get();
        let available = self.free_after(next);
        if u64::from(span) > available {
            return Err(StoreError::RegionFull {
                needed: u64::from(span),
                available,
            });
        }
        self.check_unchanged(next + span).await?;
        // From here on a failure leaves the flash as this handle no longer knows it.
        let Some(mut state) = self.state.take() else {
            return Err(StoreError::Geometry {
                what: "store state lost",
            });
        };
        let start = self.cfg.region_offset + next;
        // 3. Erase every dirty sector after the chain and every sector of the batch's span (an
        //    erased-looking one may hold programmed 0xFF units), highest first.
        let erase = D::ERASE_SIZE as u32;
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
                self.erase_sector(self.cfg.region_offset + sector).await?;
            }
        }
        // 4. Stream through one page buffer, header first.
        let page_len = align_up(256, D::WRITE_SIZE as u64).unwrap_or(256) as usize;
        let mut pager = Pager {
            flash: &mut self.flash,
            page: vec![0xFF; page_len],
            fill: 0,
            at: start,
            pos: 0,
            engine: self.cfg.crc(),
            crc: 0,
            sections: content_ranges(&header),
            crcs: [0; 3],
            counted: 0,
        };
        let crcs = match stream_to(plan, vm, &header, &mut pager, Some(&maps)).await {
            Ok(crcs) => crcs,
            Err(StreamError::Sink(e)) => return Err(e),
            Err(StreamError::Image(e)) => return Err(StoreError::Image(e)),
        };
        pager.flush().await?;
        let written_crc = pager.crc;
        // The page buffer and the writer's map cache are done with: freed before validation's
        // index grows (the batch's peak working memory is there for a large batch).
        drop(pager);
        drop(maps);
        let commit_at = start + header.commit_offset.get();
        // 5. Read back what was programmed, then validate it as mount will (in place when the
        //    device maps the region).
        if crc_range(&mut self.flash, start..commit_at, self.cfg.crc()).await? != written_crc {
            return Err(StoreError::Verify { offset: start });
        }
        let rc = self.cfg.read_config();
        let whole = self.cfg.region_offset..self.cfg.region_offset + self.cfg.region_len;
        let validated = if let Some(region) = mapped_range(&self.flash, whole) {
            validate(&Mapped(region), next, &header, crcs, &rc, &mut state.index)
        } else {
            let r = Reader::new(Region {
                flash: &mut self.flash,
                offset: self.cfg.region_offset,
                len: self.cfg.region_len,
            });
            let validated = validate(&r, next, &header, crcs, &rc, &mut state.index);
            if let Some(e) = r.take_error() {
                return Err(e);
            }
            validated
        };
        validated.map_err(StoreError::Invalid)?;
        // 6. Commit, alone in its write unit, and read it back.
        let record = CommitRecord::new(&header, crcs);
        let mut unit = vec![0xFF; COMMIT_LEN.max(D::WRITE_SIZE)];
        unit[..COMMIT_LEN].copy_from_slice(record.as_bytes());
        program(&mut self.flash, commit_at, &unit).await?;
        let mut back = [0u8; COMMIT_LEN];
        read_unaligned(&mut self.flash, commit_at, &mut back).await?;
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
            tail_read: true,
            staged: None,
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

    /// See the front-ends ([`super::Store`]).
    pub(crate) fn plan<M>(
        &mut self,
        vm: &M,
        roots: &[Root<'_, M::Ref>],
    ) -> Result<Plan<M::Ref, SideTable>, StoreError<D::Error>>
    where
        M: ObjectModel + ?Sized,
    {
        let mut plan = self.plan_untallied(vm, roots, false)?;
        plan.tally_kinds(vm);
        Ok(plan)
    }

    /// [`Chain::plan`] without the per-kind stats ([`Plan::tally_kinds`] makes them); with
    /// `flash_maps`, the traversal also makes the flash section's maps for the measuring pass.
    fn plan_untallied<M>(
        &mut self,
        vm: &M,
        roots: &[Root<'_, M::Ref>],
        flash_maps: bool,
    ) -> Result<Plan<M::Ref, SideTable>, StoreError<D::Error>>
    where
        M: ObjectModel + ?Sized,
    {
        let max_batches = (self.cfg.region_len / self.cfg.layout.erase_size.max(1)) as usize;
        if let Some(s) = self.state.as_mut() {
            s.index.reserve_batch(max_batches);
        }
        if M::ENCODING != self.cfg.encoding {
            return Err(StoreError::Encoding {
                store: self.cfg.encoding,
                vm: M::ENCODING,
            });
        }
        let target = self.target()?;
        let cfg = self.cfg;
        let batches = self.state.as_ref().map_or(&[][..], |s| s.index.batches());
        // The earlier batches' objects, indexed while this plan is made (`image::index`).
        let mut earlier = (cfg.dedup.earlier_entries > 0 && !batches.is_empty()).then(|| {
            let region = Region {
                flash: &mut self.flash,
                offset: cfg.region_offset,
                len: cfg.region_len,
            };
            EarlierIndex::<_>::new(
                region,
                batches,
                cfg.layout.region_address,
                cfg.dedup.earlier_entries,
            )
        });
        let plan = plan::make_untallied(
            vm,
            roots,
            target,
            SideTable::new(vm),
            Some(cfg.statics),
            cfg.dedup,
            earlier.as_mut().map(|e| e as &mut dyn Earlier),
            flash_maps.then(|| FlashMaps::new(&M::ENCODING)),
        );
        if let Some(e) = earlier.as_mut().and_then(|e| e.take_error()) {
            return Err(e);
        }
        plan.map_err(StoreError::Freeze)
    }

    /// See the front-ends ([`super::Store`]).
    pub(crate) async fn freeze<M>(
        &mut self,
        vm: &mut M,
        roots: &[Root<'_, M::Ref>],
    ) -> Result<Frozen<M::Ref>, StoreError<D::Error>>
    where
        M: LiveHeap + ?Sized,
    {
        let expected = self.cfg.layout.ram_len;
        let given = vm.ram_area().len();
        if (given as u64) < expected {
            return Err(StoreError::RamArea { expected, given });
        }
        // The per-kind stats are tallied last, when the forwarding table is freed: not live at
        // the freeze's peak. The flash section's maps are made as the plan traverses (no walk
        // of their own).
        let mut plan = self.plan_untallied(&*vm, roots, true)?;
        let flash_maps = plan.take_flash_maps();
        let batch = self.append_measured(&plan, &*vm, flash_maps).await?;
        // The new RAM section, from the flash just read back and validated.
        let at = (batch.ram.start - self.cfg.layout.ram_address) as usize;
        let len = (batch.ram_initial.end - batch.ram_initial.start) as usize;
        let from = self.cfg.region_offset + batch.ram_initial.start;
        if let Some(dst) = vm.ram_area().get_mut(at..at + len) {
            read_unaligned(&mut self.flash, from, dst).await?;
        }
        plan.fix_up_live(vm);
        // The names move from the plan's roots to the frozen ones (no copies).
        let roots = plan
            .take_roots()
            .into_iter()
            .filter(|r| r.in_image)
            .filter_map(|r| {
                let address = plan.frozen_address(&*vm, r.target)?;
                Some(FrozenRoot {
                    kind: r.kind,
                    name: r.name,
                    address,
                    frozen: vm.frozen_ref(address),
                    if_reached: r.if_reached,
                })
            })
            .collect();
        Ok(Frozen {
            stats: plan.into_tallied_stats(&*vm),
            batch,
            roots,
        })
    }

    /// Erase the sector at device offset `sector`.
    pub(super) async fn erase_sector(&mut self, sector: u32) -> Result<(), StoreError<D::Error>> {
        let end = sector + D::ERASE_SIZE as u32;
        self.flash
            .erase(sector, end)
            .await
            .map_err(|error| StoreError::Flash {
                op: "erase",
                offset: sector,
                error,
            })
    }

    /// See the front-ends ([`super::Store`]).
    pub(crate) async fn clear(&mut self) -> Result<u32, StoreError<D::Error>> {
        self.state()?;
        self.check_unchanged(0).await?;
        self.erase_region().await
    }

    async fn erase_region(&mut self) -> Result<u32, StoreError<D::Error>> {
        let staged = self.state.as_ref().and_then(|s| s.staged);
        self.state = None;
        let erase = D::ERASE_SIZE as u32;
        let base = self.cfg.region_offset;
        let mut erased = 0;
        // A staged compaction copy's commit record first: once batch 0's is gone, a committed
        // copy would be resumed (moved into place) and the cleared modules would come back.
        if let Some(at) = staged {
            erased += self.erase_staged_commit(at).await?;
        }
        // Batch 0's commit record: a header of this region at offset 0 says where it is.
        let mut h = [0u8; HEADER_LEN];
        read_unaligned(&mut self.flash, base, &mut h).await?;
        if let Ok(h) = BatchHeader::read_from_bytes(&h) {
            let commit = h.commit_offset.get();
            let ours = h.compute_crc() == h.header_crc.get()
                && h.batch_offset.get() == 0
                && commit < self.cfg.region_len;
            if ours {
                let sector = base + commit / erase * erase;
                if !sector_erased(&mut self.flash, sector..sector + erase).await? {
                    self.erase_sector(sector).await?;
                    erased += 1;
                }
            }
        }
        let mut sector = base + self.cfg.region_len;
        while sector > base {
            sector -= erase;
            if !sector_erased(&mut self.flash, sector..sector + erase).await? {
                self.erase_sector(sector).await?;
                erased += 1;
            }
        }
        self.state = Some(State {
            index: ChainIndex::default(),
            tail: Tail::Erased { offset: 0 },
            dirty: Vec::new(),
            tail_read: true,
            staged: None,
        });
        Ok(erased)
    }
}

/// The chain of `r`'s region (validated, or `known`) and what follows it: the non-erased
/// sectors after it, refused when `strict` and neither explained by this store's headers nor
/// where its own interrupted operations leave bytes (see the module docs of [`super`]).
fn classify<B: Bytes, E>(
    r: &B,
    cfg: &StoreConfig<'_>,
    erase: u32,
    strict: bool,
    known: Option<(ChainIndex, Tail)>,
) -> Result<State, StoreError<E>> {
    let (index, tail) = known.unwrap_or_else(|| {
        let mut index = ChainIndex::default();
        // As the mount does: both then end the chain at the same batch.
        let tail = extend_chain(r, &cfg.read_config(), &mut index, Check::Mount);
        (index, tail)
    });
    let next = index.end_offset();
    // A chain of another build: only a clear may touch it, so the rest is not classified.
    let blocked = tail.error().is_some_and(incompatible);
    let mut dirty = Vec::new();
    let mut covered = next;
    let mut unexplained: Option<u32> = None;
    let mut staged = None;
    let mut staged_spans: Vec<Range<u32>> = Vec::new();
    let foreign = |at: u32, what| StoreError::Foreign {
        offset: cfg.region_offset + at,
        what,
    };
    let mut s = next;
    while s < cfg.region_len {
        let sector = s..s + erase;
        if !r.is_erased(sector.clone()) {
            dirty.push((s, r.crc(sector, cfg.crc())));
            if let Some((span, committed)) = super::lifecycle::staged_at(r, s) {
                let end = s.saturating_add(span.max(erase));
                covered = covered.max(end);
                staged_spans.push(s..end);
                if committed && staged.is_none() {
                    staged = Some(s);
                }
                s += erase;
                continue;
            }
            let explained = match header_at(r, s) {
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
    // A compaction's move erases the old chain highest first below its staged copy: the
    // highest non-erased sector outside a staged copy is where its erase was cut.
    let last = dirty
        .iter()
        .rev()
        .find(|(at, _)| !staged_spans.iter().any(|r| r.contains(at)));
    if let (Some(u), Some(&(last, _))) = (unexplained, last) {
        if last > u {
            return Err(foreign(u, "neither erased nor a batch of this store"));
        }
    }
    Ok(State {
        index,
        tail,
        dirty,
        tail_read: true,
        staged,
    })
}

/// Whether device bytes `range` are all `0xFF` (in place when mapped).
pub(super) async fn sector_erased<D: Device>(
    flash: &mut D,
    range: Range<u32>,
) -> Result<bool, StoreError<D::Error>> {
    let mut erased = true;
    if let Some(bytes) = mapped_range(flash, range.clone()) {
        return Ok(all_erased(bytes));
    }
    read_chunks(flash, range, &mut |chunk| {
        erased = all_erased(chunk);
        erased
    })
    .await?;
    Ok(erased)
}

/// The CRC of device bytes `range` by `engine` (in place when mapped).
pub(super) async fn crc_range<D: Device>(
    flash: &mut D,
    range: Range<u32>,
    engine: &dyn CrcEngine,
) -> Result<u32, StoreError<D::Error>> {
    if let Some(bytes) = mapped_range(flash, range.clone()) {
        return Ok(engine.update(0, bytes));
    }
    let mut crc = 0;
    read_chunks(flash, range, &mut |chunk| {
        crc = engine.update(crc, chunk);
        true
    })
    .await?;
    Ok(crc)
}

/// Program `bytes` at device offset `at`.
pub(super) async fn program<D: Device>(
    flash: &mut D,
    at: u32,
    bytes: &[u8],
) -> Result<(), StoreError<D::Error>> {
    flash
        .write(at, bytes)
        .await
        .map_err(|error| StoreError::Flash {
            op: "program",
            offset: at,
            error,
        })
}

/// One aligned device read of [`read_unaligned`]: read `len` bytes at `base` into a 64-byte
/// buffer, then copy `n` of them from `skip` to `done` in the caller's buffer.
struct Piece {
    base: u32,
    len: usize,
    skip: usize,
    n: usize,
    done: usize,
}

/// The aligned reads that fill `buf_len` bytes at device offset `at` on a device whose
/// `READ_SIZE` is `unit` (a power of two up to 64).
fn pieces(at: u32, buf_len: usize, unit: u32) -> impl Iterator<Item = Piece> {
    let mut done = 0usize;
    core::iter::from_fn(move || {
        if done >= buf_len {
            return None;
        }
        let pos = at + done as u32;
        let base = pos - pos % unit;
        let want = align_up(u64::from(pos) + (buf_len - done) as u64, u64::from(unit)).unwrap_or(0);
        // `unit` divides 64, so `base + 64` stays aligned and covers `pos`.
        let end = want.min(u64::from(base) + 64) as u32;
        let len = (end - base) as usize;
        let skip = (pos - base) as usize;
        let n = (len - skip).min(buf_len - done);
        let piece = Piece {
            base,
            len,
            skip,
            n,
            done,
        };
        done += n;
        Some(piece)
    })
}

fn read_err<E>(at: u32) -> impl Fn(E) -> StoreError<E> {
    move |error| StoreError::Flash {
        op: "read",
        offset: at,
        error,
    }
}

/// Read `buf.len()` bytes at device offset `at`, whatever the device's `READ_SIZE` (≤ 64).
pub(super) async fn read_unaligned<D: Device>(
    flash: &mut D,
    at: u32,
    buf: &mut [u8],
) -> Result<(), StoreError<D::Error>> {
    if let Some(src) = at
        .checked_add(buf.len() as u32)
        .and_then(|end| mapped_range(flash, at..end))
    {
        buf.copy_from_slice(src);
        return Ok(());
    }
    let unit = D::READ_SIZE as u32;
    if unit <= 1 {
        return flash.read(at, buf).await.map_err(read_err(at));
    }
    let mut tmp = [0u8; 64];
    for p in pieces(at, buf.len(), unit) {
        flash
            .read(p.base, &mut tmp[..p.len])
            .await
            .map_err(read_err(at))?;
        buf[p.done..p.done + p.n].copy_from_slice(&tmp[p.skip..p.skip + p.n]);
    }
    Ok(())
}

/// [`read_unaligned`] for the validator, which reads synchronously ([`Device::read_now`]).
fn read_unaligned_now<D: Device>(
    flash: &mut D,
    at: u32,
    buf: &mut [u8],
) -> Result<(), StoreError<D::Error>> {
    let unit = D::READ_SIZE as u32;
    if unit <= 1 {
        return flash.read_now(at, buf).map_err(read_err(at));
    }
    let mut tmp = [0u8; 64];
    for p in pieces(at, buf.len(), unit) {
        flash
            .read_now(p.base, &mut tmp[..p.len])
            .map_err(read_err(at))?;
        buf[p.done..p.done + p.n].copy_from_slice(&tmp[p.skip..p.skip + p.n]);
    }
    Ok(())
}

/// Read device bytes `range` in chunks of up to 64 bytes, handing each to `f` until it returns
/// `false` (the rest is not read).
pub(super) async fn read_chunks<D: Device>(
    flash: &mut D,
    range: core::ops::Range<u32>,
    f: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), StoreError<D::Error>> {
    let mut buf = [0u8; 64];
    let mut at = range.start;
    while at < range.end {
        let n = ((range.end - at) as usize).min(buf.len());
        read_unaligned(flash, at, &mut buf[..n]).await?;
        if !f(&buf[..n]) {
            break;
        }
        at += n as u32;
    }
    Ok(())
}

/// The batch-relative byte ranges the commit record's CRCs cover: the flash section, the RAM
/// section, and roots table ‖ pointer map ‖ object map ‖ pad ‖ start bitmap.
pub(super) fn content_ranges(h: &BatchHeader) -> [Range<u32>; 3] {
    let range = |from: u32, to: Option<u32>| from..to.unwrap_or(from).max(from);
    [
        range(h.flash.offset.get(), h.flash.end()),
        range(h.ram.offset.get(), h.ram.end()),
        range(h.roots_table.offset.get(), h.meta_end()),
    ]
}

/// The page buffer between the streamed batch and the flash: programs each write unit once,
/// in order, and computes the CRCs of what it programs — of the whole batch (for the
/// read-back) and of the commit record's three ranges — a page at a time with the store's
/// engine.
pub(super) struct Pager<'f, D: Device> {
    pub(super) flash: &'f mut D,
    pub(super) page: Vec<u8>,
    pub(super) fill: usize,
    /// Device offset of the page's first byte.
    pub(super) at: u32,
    /// Batch offset of the page's first byte.
    pub(super) pos: u32,
    pub(super) engine: &'f dyn CrcEngine,
    /// CRC of the bytes programmed.
    pub(super) crc: u32,
    /// What the commit record's CRCs cover ([`content_ranges`]), and their CRCs of the bytes
    /// before batch offset `counted`.
    pub(super) sections: [Range<u32>; 3],
    pub(super) crcs: [u32; 3],
    pub(super) counted: u32,
}

impl<D: Device> Sink for Pager<'_, D> {
    type Error = StoreError<D::Error>;
    const OWN_CRCS: bool = true;
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.push(bytes).await
    }
    fn crcs(&mut self) -> ContentCrcs {
        self.count();
        ContentCrcs {
            flash: self.crcs[0],
            ram: self.crcs[1],
            meta: self.crcs[2],
        }
    }
}

impl<D: Device> Pager<'_, D> {
    pub(super) async fn push(&mut self, mut bytes: &[u8]) -> Result<(), StoreError<D::Error>> {
        while !bytes.is_empty() {
            let n = (self.page.len() - self.fill).min(bytes.len());
            self.page[self.fill..self.fill + n].copy_from_slice(&bytes[..n]);
            self.fill += n;
            bytes = &bytes[n..];
            if self.fill == self.page.len() {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Fold the buffered bytes not counted yet into the commit record's CRCs (the bytes the
    /// stream sent: not the 0xFF that rounds a last page).
    fn count(&mut self) {
        let sent = self.counted.max(self.pos)..self.pos + self.fill as u32;
        for (range, crc) in self.sections.iter().zip(&mut self.crcs) {
            let from = range.start.max(sent.start);
            let to = range.end.min(sent.end);
            if from < to {
                let bytes = &self.page[(from - self.pos) as usize..(to - self.pos) as usize];
                *crc = self.engine.update(*crc, bytes);
            }
        }
        self.counted = self.counted.max(sent.end);
    }

    /// Program the buffered bytes (the stream always ends on a write-unit boundary).
    pub(super) async fn flush(&mut self) -> Result<(), StoreError<D::Error>> {
        if self.fill == 0 {
            return Ok(());
        }
        self.count();
        let len = align_up(self.fill as u64, D::WRITE_SIZE as u64).unwrap_or(0) as usize;
        self.page[self.fill..len].fill(0xFF);
        self.crc = self.engine.update(self.crc, &self.page[..len]);
        program(self.flash, self.at, &self.page[..len]).await?;
        self.at += len as u32;
        self.pos += len as u32;
        self.fill = 0;
        Ok(())
    }
}
