//! The frozen modules' lifecycle on a store: list them, remove one, measure the image, and
//! compact it (a copying collection of what the live roots reach), all power-safe.
//!
//! See `docs/image-format.md` ("Lifecycle records", "Compaction") for the records and the
//! program order; [`super::records`] resolves the chain into its live modules.
//!
//! Compaction stages the compacted batch after the chain, then moves it to offset 0:
//!
//! ```text
//! stage:  [b0][b1][b2][rm]  [C: flags STAGED, addresses of offset 0, committed]
//! move:   erase b0's commit sector, then the old chain highest first; program C at 0 with
//!         flags 0, read back, validate as mount will, commit.
//! cut:    during stage → old chain mounts; during move → `recover` finishes the move.
//! ```
//!
//! Listing the modules and measuring the image read it in place when the region is
//! memory-mapped, marking what the roots reach in a bitmap of the sections (one bit per
//! object-alignment unit) by passes over the object and pointer maps: no table of objects.
//! Remove and compaction (and the exact reclaimable bytes of `info`) build a table of the
//! objects (about ten bytes per image byte), so they need RAM of that size; they run at boot,
//! or on a host, not in the middle of a tight program.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::marker::PhantomData;

use zerocopy::byteorder::little_endian::U16;
use zerocopy::{FromBytes, IntoBytes};

use super::chain::{
    Chain, Pager, Region, content_ranges, crc_range, program, read_unaligned, sector_erased,
};
use super::device::{Device, mapped_range};
use super::records::{self, Resolution, Source};
use super::{Appended, StoreError};
use crate::forward::SideTable;
use crate::image::format::{
    BATCH_MAGIC, BatchHeader, COMMIT_LEN, CommitRecord, ContentCrcs, FLAG_STAGED, FORMAT_VERSION,
    HEADER_LEN, SECTION_ALIGN, align_up,
};
use crate::image::read::{Bytes, ChainIndex, Mapped, ObjectEvent, Reader, Tail, validate};
use crate::image::write::{BatchParams, StreamError, measure, stream_to};
use crate::image::{Image, ImageRoot};
use crate::model::{
    FrozenLayout, Mutability, ObjectModel, Placement, RefEncoding, Slot, SlotVisitor, Space,
};
use crate::plan::{self, Plan, Root, RootKind};

/// One live frozen module, with what it reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModuleInfo {
    /// Its name.
    pub name: String,
    /// The batch whose root is live (the latest that froze it).
    pub batch: u32,
    /// Address of its module object.
    pub address: u64,
    /// Bytes of the flash objects its root reaches (objects shared with other modules count
    /// in each).
    pub flash_bytes: u64,
    /// Bytes of the RAM-section objects its root reaches.
    pub ram_bytes: u64,
    /// Objects its root reaches.
    pub objects: u32,
    /// Where it was frozen from, if the VM recorded it.
    pub source: Option<Source>,
}

/// What the image uses and what a compaction would give back ([`super::Store::info`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// Bytes of the region.
    pub region_len: u64,
    /// Bytes of the region the chain takes (whole sectors).
    pub region_used: u64,
    /// Bytes after it.
    pub region_free: u64,
    /// Bytes of the frozen RAM area.
    pub ram_len: u64,
    /// Bytes of it the RAM sections take (from its start to the last section's end).
    pub ram_used: u64,
    /// Bytes after that.
    pub ram_free: u64,
    /// Committed batches.
    pub batches: u32,
    /// Live modules.
    pub modules: u32,
    /// Bytes of the objects the live roots reach (flash sections, RAM sections).
    pub live_bytes: (u64, u64),
    /// Bytes of the objects no live root reaches (superseded, removed): what compaction drops.
    pub dead_bytes: (u64, u64),
    /// Bytes of region the compacted image would take (measured by planning it; 0 when
    /// nothing is live).
    pub compacted_span: u64,
    /// `region_used - compacted_span`: flash a compaction gives back.
    pub reclaimable: u64,
    /// RAM-area bytes a compaction gives back.
    pub reclaimable_ram: u64,
    /// Whether `compacted_span` and the reclaimable bytes were measured by planning the
    /// compaction; when its object table does not fit in RAM (a small board) they are
    /// estimated from the dead objects' bytes (`dead_bytes`).
    pub measured: bool,
}

/// What [`super::Store::compact`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Compacted {
    /// Region bytes the chain took before, and takes now.
    pub region_used: (u64, u64),
    /// RAM-area bytes the sections took before, and take now.
    pub ram_used: (u64, u64),
    /// Batches before (now 1).
    pub batches_before: u32,
    /// Objects copied, and objects dropped (reached by no live root).
    pub objects: (u32, u32),
    /// Sectors erased (each at most once).
    pub sectors_erased: u32,
}

/// An object of the image being read.
#[derive(Debug)]
struct Obj<'i> {
    address: u64,
    ram: bool,
    bytes: &'i [u8],
    /// (offset in the object, target address, tag bits of the word).
    refs: Vec<(u32, u64, u64)>,
}

/// Every object of `image`, in address order.
fn objects<'i>(image: &Image<'i>, enc: RefEncoding) -> Vec<Obj<'i>> {
    let width = enc.width() as usize;
    let mut out: Vec<Obj<'i>> = Vec::new();
    for b in image.batches() {
        for o in b.objects() {
            let refs = o
                .refs
                .iter()
                .map(|&(off, addr)| {
                    let at = off as usize;
                    let mut w = [0u8; 8];
                    if let Some(src) = o.bytes.get(at..at + width) {
                        w[..width].copy_from_slice(src);
                    }
                    (off, addr, u64::from_le_bytes(w) & enc.tag_mask())
                })
                .collect();
            out.push(Obj {
                address: o.address,
                ram: o.placement == Placement::Ram,
                bytes: o.bytes,
                refs,
            });
        }
    }
    out.sort_by_key(|o| o.address);
    out
}

fn find(objs: &[Obj<'_>], address: u64) -> Option<usize> {
    objs.binary_search_by_key(&address, |o| o.address).ok()
}

/// Reach marks over the image's sections read in place: one bit per `1 << shift` bytes of
/// each section (`shift` is the alignment every object start has, up to 8 bytes), so they
/// take about an eighth of the image's size over that alignment (a 68 KB image of 4-aligned
/// objects: 2 KiB), and no table of objects is built.
struct Marks {
    /// (section start, end, first bit).
    sections: Vec<(u64, u64, usize)>,
    shift: u32,
    bits: Vec<u8>,
}

impl Marks {
    /// Marks for `image`, or `None` when the allocator cannot give them.
    fn new(image: &Image<'_>) -> Option<Self> {
        let mut sections = Vec::new();
        let mut shift = 3u32;
        for b in image.batches() {
            for r in [b.flash_range(), b.ram_range()] {
                if r.end > r.start {
                    sections.push((r.start, r.end, 0usize));
                }
            }
            b.visit_objects(&mut |e| {
                if let ObjectEvent::Object(p, a, _) = e {
                    let base = match p {
                        Placement::Flash => b.flash_range().start,
                        _ => b.ram_range().start,
                    };
                    shift = shift.min((a - base).trailing_zeros());
                }
            });
        }
        let mut next = 0usize;
        for s in &mut sections {
            s.2 = next;
            next = next.saturating_add(((s.1 - s.0) >> shift) as usize + 1);
        }
        let mut bits = Vec::new();
        bits.try_reserve_exact(next / 8 + 1).ok()?;
        bits.resize(next / 8 + 1, 0);
        Some(Self {
            sections,
            shift,
            bits,
        })
    }

    fn bit(&self, a: u64) -> Option<usize> {
        let &(s, _, first) = self
            .sections
            .iter()
            .find(|(s, e, _)| (*s..*e).contains(&a))?;
        Some(first + ((a - s) >> self.shift) as usize)
    }

    fn get(&self, a: u64) -> bool {
        self.bit(a)
            .is_some_and(|i| self.bits[i / 8] & (1 << (i % 8)) != 0)
    }

    /// Marks `a`; whether it was not marked before.
    fn set(&mut self, a: u64) -> bool {
        let Some(i) = self.bit(a) else {
            return false;
        };
        let (byte, m) = (&mut self.bits[i / 8], 1u8 << (i % 8));
        let new = *byte & m == 0;
        *byte |= m;
        new
    }

    /// Marks what `roots` reach: passes over the objects in place, each following the
    /// references of the marked objects, until one marks nothing new.
    fn reach(&mut self, image: &Image<'_>, roots: impl IntoIterator<Item = u64>) {
        self.bits.iter_mut().for_each(|b| *b = 0);
        for r in roots {
            self.set(r);
        }
        loop {
            let mut changed = false;
            for b in image.batches() {
                let mut live = false;
                b.visit_objects(&mut |e| match e {
                    ObjectEvent::Object(_, a, _) => live = self.get(a),
                    ObjectEvent::Ref(t) => changed |= live && self.set(t),
                });
            }
            if !changed {
                return;
            }
        }
    }

    /// Bytes of the marked and unmarked objects ((flash, RAM) each), and the marked count.
    fn tally(&self, image: &Image<'_>) -> ((u64, u64), (u64, u64), u32) {
        let (mut live, mut dead, mut n) = ((0u64, 0u64), (0u64, 0u64), 0u32);
        for b in image.batches() {
            b.visit_objects(&mut |e| {
                if let ObjectEvent::Object(p, a, len) = e {
                    let marked = self.get(a);
                    n += u32::from(marked);
                    let acc = if marked { &mut live } else { &mut dead };
                    if p == Placement::Ram {
                        acc.1 += len;
                    } else {
                        acc.0 += len;
                    }
                }
            });
        }
        (live, dead, n)
    }
}

fn resolution(image: &Image<'_>) -> Resolution {
    records::resolve(
        image
            .batches()
            .iter()
            .flat_map(|b| b.roots().map(move |r: ImageRoot<'_>| (b.index(), r))),
    )
}

/// The image's objects seen as a VM's heap (`frozen == false`: compaction copies them) or as
/// already frozen (`frozen == true`: a remove record's batch points into them). `M` gives the
/// reference encoding.
struct ImageView<'i, M: ?Sized> {
    objs: &'i [Obj<'i>],
    align: u32,
    frozen: bool,
    _vm: PhantomData<fn(&M)>,
}

impl<M: ObjectModel + ?Sized> ObjectModel for ImageView<'_, M> {
    type Ref = u64;
    const ENCODING: RefEncoding = M::ENCODING;

    fn space(&self, obj: u64) -> Space {
        match find(self.objs, obj) {
            Some(_) if self.frozen => Space::Frozen,
            Some(_) => Space::Heap,
            None => Space::Static,
        }
    }
    fn address(&self, obj: u64) -> u64 {
        obj
    }
    fn mutability(&self, obj: u64) -> Mutability {
        match find(self.objs, obj) {
            Some(i) if self.objs[i].ram => Mutability::Mutable,
            _ => Mutability::Immutable,
        }
    }
    fn frozen_layout(&self, obj: u64) -> FrozenLayout {
        let size = find(self.objs, obj).map_or(0, |i| self.objs[i].bytes.len() as u32);
        FrozenLayout::new(size, self.align)
    }
    fn scan(&self, obj: u64, visitor: &mut dyn SlotVisitor<u64>) {
        let Some(i) = find(self.objs, obj) else {
            return;
        };
        for &(off, target, tag) in &self.objs[i].refs {
            visitor.visit(if M::ENCODING.tag_mask() == 0 {
                Slot::new(off, Some(target))
            } else {
                Slot::tagged(off, Some(target), tag)
            });
        }
    }
    fn write_frozen(&self, obj: u64, _placement: Placement, out: &mut [u8]) {
        if let Some(i) = find(self.objs, obj) {
            let b = self.objs[i].bytes;
            let n = b.len().min(out.len());
            out[..n].copy_from_slice(&b[..n]);
        }
    }
    fn heap_index(&self, obj: u64) -> usize {
        find(self.objs, obj).unwrap_or(usize::MAX)
    }
    fn heap_index_limit(&self) -> usize {
        self.objs.len()
    }
    fn kind_name(&self, _obj: u64) -> &'static str {
        "frozen object"
    }
}

/// Whether a staged compaction copy's header is at region offset `s`: its span, and whether
/// its commit record is valid.
pub(super) fn staged_at<B: Bytes>(r: &B, s: u32) -> Option<(u32, bool)> {
    let h = staged_header(r, s)?;
    let span = h.span.get();
    let c = h.commit_offset.get();
    let end = c.checked_add(COMMIT_LEN as u32)?;
    let fits = end <= span && s.checked_add(end).is_some_and(|e| e <= r.region_len());
    let committed = fits && {
        let mut cb = [0u8; COMMIT_LEN];
        r.read(s + c, &mut cb);
        CommitRecord::read_from_bytes(&cb).is_ok_and(|rec| rec.commits(&h))
    };
    Some((span, committed))
}

/// Whether `region` (the image region's bytes as the CPU reads them, from its first byte)
/// may hold a compaction for [`Store::recover`](super::Store::recover) to finish: whether
/// any multiple of `erase_size` in it starts with the header of a staged compaction copy
/// whose commit record is valid (of any firmware). Reads one header, and one commit record
/// per such header, per sector: on the RP2040's 1 MiB region about 1 % of what opening the
/// store reads.
///
/// `false` proves that `recover` on this region finishes nothing: it moves a staged copy
/// only from a sector start after the chain where this same check holds
/// (`docs/image-format.md`, "Compaction"). A boot whose mount found nothing can then skip the
/// recovery and leave the store unopened until its first write.
pub fn staged_copy_present(region: &[u8], erase_size: u32) -> bool {
    staged_in(&Mapped(region), erase_size)
}

/// Whether a committed staged copy's header starts at any multiple of `erase` in `r`: the
/// sector starts `classify` (`super::chain`) checks after the chain, and those before it.
fn staged_in<B: Bytes>(r: &B, erase: u32) -> bool {
    let step = erase.max(1) as usize;
    (0..r.region_len()).step_by(step).any(|s| {
        // Its magic first: an erased or body sector is passed on four bytes, not a header
        // copied and decoded (`staged_at` checks the magic again with the rest).
        let mut magic = [0u8; 4];
        r.read(s, &mut magic);
        magic == BATCH_MAGIC && staged_at(r, s).is_some_and(|(_, committed)| committed)
    })
}

fn staged_header<B: Bytes>(r: &B, s: u32) -> Option<BatchHeader> {
    if r.region_len().saturating_sub(s) < HEADER_LEN as u32 {
        return None;
    }
    let mut buf = [0u8; HEADER_LEN];
    r.read(s, &mut buf);
    let h = BatchHeader::read_from_bytes(&buf).ok()?;
    let ok = h.magic == BATCH_MAGIC
        && h.version.get() == FORMAT_VERSION
        && h.flags.get() == FLAG_STAGED
        && h.batch_offset.get() == 0
        && h.batch_index.get() == 0
        && h.compute_crc() == h.header_crc.get();
    ok.then_some(h)
}

type Res<T, D> = Result<T, StoreError<<D as Device>::Error>>;

/// A compaction's plan and its measured header.
type Compaction = (Plan<u64, SideTable>, BatchHeader);

impl<'a, D: Device> Chain<'a, D> {
    /// The chain's bytes (and one erased sector after them, so a scan ends there), checking
    /// that the object table of [`objects`] fits in RAM too.
    async fn load(&mut self) -> Res<Vec<u8>, D> {
        let buf = self.load_bytes().await?;
        self.probe_table()?;
        Ok(buf)
    }

    /// The chain's bytes read into RAM (see [`Chain::load`]).
    async fn load_bytes(&mut self) -> Res<Vec<u8>, D> {
        let end = self.state()?.index.end_offset();
        let len = (end as usize + D::ERASE_SIZE).min(self.cfg.region_len as usize);
        let mut buf = Vec::new();
        buf.try_reserve_exact(len)
            .map_err(|_| StoreError::Geometry {
                what: "not enough memory to read the chain (it is read whole for this operation)",
            })?;
        buf.resize(len, 0xFF);
        read_unaligned(
            &mut self.flash,
            self.cfg.region_offset,
            &mut buf[..end as usize],
        )
        .await?;
        Ok(buf)
    }

    /// Whether the object table of [`objects`] can be built.
    fn probe_table(&mut self) -> Res<(), D> {
        // The object table ([`objects`]) and a compaction's plan take up to 10 bytes per byte
        // of the sections (an object record each, a reference record per word; the chain's
        // padding to whole sectors is not in them): make sure the allocator can give that
        // before building it, so a small board gets an error, not an allocation failure.
        let (mut objects, mut section_bytes) = (0u64, 0u64);
        for b in self.state()?.index.batches() {
            objects += u64::from(b.objects.0) + u64::from(b.objects.1);
            section_bytes +=
                b.flash.end.saturating_sub(b.flash.start) + b.ram.end.saturating_sub(b.ram.start);
        }
        let probe = (objects as usize)
            .saturating_mul(core::mem::size_of::<Obj<'_>>() + 64)
            .saturating_add((section_bytes as usize).saturating_mul(10));
        if Vec::<u8>::new().try_reserve_exact(probe).is_err() {
            return Err(StoreError::Geometry {
                what: "not enough memory for the image's object table (about 10 bytes per byte of its sections)",
            });
        }
        Ok(())
    }

    /// The chain's bytes in place (exactly the chain: the scan ends at the slice's end), when
    /// the region is memory-mapped and the chain is not empty (an empty one is read as
    /// erased bytes: whatever follows was refused already).
    fn mapped(&self, end: u32) -> Option<&[u8]> {
        let base = self.cfg.region_offset;
        (end > 0).then(|| mapped_range(&self.flash, base..base.checked_add(end)?))?
    }

    /// Region offset just past the chain.
    fn chain_end(&mut self) -> Res<u32, D> {
        Ok(self.state()?.index.end_offset())
    }

    /// The image of the chain's bytes `bytes`, by the full check. A mapped store's scan trusts
    /// each batch's start bitmap as the mount does, so the full check may end the chain before
    /// `bytes` end (a re-sealed batch whose bitmap and object map disagree: see
    /// `docs/image-format.md`, "The mount's trust of the start bitmap"). Then the operation is
    /// refused: working on the shorter chain would erase batches the mount uses.
    fn open_image<'b>(&self, bytes: &'b [u8]) -> Res<Image<'b>, D> {
        let image =
            Image::open(bytes, &self.cfg.read_config()).map_err(StoreError::Incompatible)?;
        if let Tail::Invalid { error, .. } = image.tail() {
            return Err(StoreError::Incompatible(error));
        }
        Ok(image)
    }

    /// See [`super::Store::modules`]. Reads the image in place when the region is mapped,
    /// with [`Marks`] for each module's reach: no object table.
    pub(crate) async fn modules(&mut self) -> Res<Vec<ModuleInfo>, D> {
        let end = self.chain_end()?;
        let owned = match self.mapped(end) {
            Some(_) => Vec::new(),
            None => self.load_bytes().await?,
        };
        let bytes = self.mapped(end).unwrap_or(&owned);
        let image = self.open_image(bytes)?;
        let res = resolution(&image);
        let mut marks = Marks::new(&image).ok_or(StoreError::Geometry {
            what: "not enough memory for the image's reach marks",
        })?;
        let mut out = Vec::new();
        for m in res.modules {
            marks.reach(&image, [m.address]);
            let ((flash, ram), _, n) = marks.tally(&image);
            out.push(ModuleInfo {
                name: m.name,
                batch: m.batch,
                address: m.address,
                flash_bytes: flash,
                ram_bytes: ram,
                objects: n,
                source: m.source,
            });
        }
        Ok(out)
    }

    /// The parameters of a compacted batch 0.
    fn compact_params(&self) -> BatchParams<'a> {
        let l = &self.cfg.layout;
        BatchParams {
            batch_index: 0,
            batch_offset: 0,
            prev_header_crc: 0,
            batch_address: l.region_address,
            ram_base: align_up(l.ram_address, u64::from(SECTION_ALIGN)).unwrap_or(u64::MAX),
            firmware_id: l.firmware_id,
            write_size: D::WRITE_SIZE as u32,
            erase_size: D::ERASE_SIZE as u32,
        }
    }

    /// Plan and measure the compacted batch of `objs` for the live roots of `res`.
    fn plan_compacted<M: ObjectModel + ?Sized>(
        &self,
        view: &ImageView<'_, M>,
        res: &Resolution,
    ) -> Res<Option<Compaction>, D> {
        let sources: Vec<(String, u64)> = res
            .modules
            .iter()
            .filter_map(|m| {
                let s = m.source.as_ref()?;
                Some((records::source_name(&m.name, &s.path, &s.hash)?, m.address))
            })
            .collect();
        let mut roots: Vec<Root<'_, u64>> = Vec::new();
        for m in &res.modules {
            roots.push(Root::new(RootKind::MODULE, &m.name, m.address));
        }
        for (n, a) in &sources {
            roots.push(Root::new(RootKind::SOURCE, n, *a));
        }
        for (k, n, a, _) in &res.others {
            roots.push(Root::new(*k, n, *a));
        }
        if roots.is_empty() {
            return Ok(None);
        }
        let params = self.compact_params();
        let overhead = (HEADER_LEN + COMMIT_LEN.max(D::WRITE_SIZE)) as u64;
        let l = &self.cfg.layout;
        let ram_end = l.ram_address.saturating_add(l.ram_len);
        let target = params.target(
            u64::from(self.cfg.region_len).saturating_sub(overhead),
            ram_end.saturating_sub(params.ram_base),
        );
        let plan = plan::make(
            view,
            &roots,
            target,
            SideTable::new(view),
            Some(self.cfg.statics),
            crate::plan::Dedup::OFF,
            None,
        )
        .map_err(StoreError::Freeze)?;
        let header = measure(&plan, view, &params)?;
        Ok(Some((plan, header)))
    }

    fn ram_used(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| {
            s.index
                .batches()
                .last()
                .map_or(0, |b| b.ram.end.saturating_sub(self.cfg.layout.ram_address))
        })
    }

    /// See [`super::Store::info`]. Live and dead bytes are counted in place (with
    /// [`Marks`]); the compaction is planned for the exact reclaimable bytes only when its
    /// object table fits in RAM, else they are estimated ([`Info::measured`]).
    pub(crate) async fn info<M: ObjectModel + ?Sized>(&mut self, align: u32) -> Res<Info, D> {
        let end = self.chain_end()?;
        let measured = self.probe_table().is_ok();
        let owned = match self.mapped(end) {
            Some(_) => Vec::new(),
            None => self.load_bytes().await?,
        };
        let bytes = self.mapped(end).unwrap_or(&owned);
        let image = self.open_image(bytes)?;
        let res = resolution(&image);
        let (live_b, dead_b) = {
            let mut marks = Marks::new(&image).ok_or(StoreError::Geometry {
                what: "not enough memory for the image's reach marks",
            })?;
            let live = res
                .modules
                .iter()
                .map(|m| m.address)
                .chain(res.others.iter().map(|o| o.2));
            marks.reach(&image, live);
            let (l, d, _) = marks.tally(&image);
            (l, d)
        };
        let used = u64::from(image.end_offset());
        let ram_used = self.ram_used();
        let (span, ram) = if measured {
            let objs = objects(&image, self.cfg.encoding);
            let view = ImageView::<M> {
                objs: &objs,
                align,
                frozen: false,
                _vm: PhantomData,
            };
            let compacted = self.plan_compacted(&view, &res)?;
            compacted.as_ref().map_or((0, 0), |(_, h)| {
                (
                    u64::from(h.span.get()),
                    h.ram_range()
                        .end
                        .saturating_sub(self.cfg.layout.ram_address),
                )
            })
        } else {
            // The dead objects' bytes go; the dropped batches' maps and headers too, less
            // the sector rounding of the copy.
            (
                used.saturating_sub(dead_b.0 + dead_b.1),
                ram_used.saturating_sub(dead_b.1),
            )
        };
        Ok(Info {
            region_len: u64::from(self.cfg.region_len),
            region_used: used,
            region_free: u64::from(self.cfg.region_len) - used,
            ram_len: self.cfg.layout.ram_len,
            ram_used,
            ram_free: self.cfg.layout.ram_len.saturating_sub(ram_used),
            batches: image.batches().len() as u32,
            modules: res.modules.len() as u32,
            live_bytes: live_b,
            dead_bytes: dead_b,
            compacted_span: span,
            reclaimable: used.saturating_sub(span),
            reclaimable_ram: ram_used.saturating_sub(ram),
            measured,
        })
    }

    /// See [`super::Store::remove`].
    pub(crate) async fn remove<M: ObjectModel + ?Sized>(&mut self, name: &str) -> Res<Appended, D> {
        self.recover().await?;
        let bytes = self.load().await?;
        let image = self.open_image(&bytes)?;
        let objs = objects(&image, self.cfg.encoding);
        let res = resolution(&image);
        let Some(m) = res.module(name) else {
            return Err(StoreError::NotFrozen);
        };
        let view = ImageView::<M> {
            objs: &objs,
            align: 1,
            frozen: true,
            _vm: PhantomData,
        };
        let plan = self.plan(&view, &[Root::new(RootKind::REMOVED, name, m.address)])?;
        self.append(&plan, &view).await
    }

    /// Whether a compaction was cut while it moved its copy into place ([`Chain::recover`]
    /// finishes it).
    ///
    /// A committed batch at offset 0 answers it alone (no): a move first erases the sector of
    /// the old batch 0's commit record and commits the copy at 0 last, so while one is pending
    /// no batch at 0 is committed (`docs/image-format.md`, "Compaction"). Only without one are
    /// the sectors after the chain read, for a staged copy: the recovery at the boot of a
    /// mounted image reads two records, and the store still reads those sectors before its
    /// first write. A handle that has read them answers from what it found (no read when
    /// there is no staged copy).
    pub(crate) fn pending_compaction(&mut self) -> Res<Option<u32>, D> {
        // What the handle read after the chain, if it did (`None`: not read yet).
        let known = self
            .state
            .as_ref()
            .filter(|s| s.tail_read)
            .map(|s| s.staged);
        if known == Some(None) || self.committed_at_zero()? {
            return Ok(None);
        }
        let Some(at) = self.state()?.staged else {
            return Ok(None);
        };
        let r = Reader::new(Region {
            flash: &mut self.flash,
            offset: self.cfg.region_offset,
            len: self.cfg.region_len,
        });
        // Resumed only when the copy is this firmware's.
        let ours = staged_header(&r, at).is_some_and(|h| {
            h.firmware_id() == self.cfg.layout.firmware_id
                && u32::from(h.ref_bytes) == self.cfg.encoding.width()
        });
        if let Some(e) = r.take_error() {
            return Err(e);
        }
        Ok(ours.then_some(at))
    }

    /// Whether the batch at offset 0 is committed: its header intact, and its commit record
    /// committing it.
    fn committed_at_zero(&mut self) -> Res<bool, D> {
        let r = Reader::new(Region {
            flash: &mut self.flash,
            offset: self.cfg.region_offset,
            len: self.cfg.region_len,
        });
        let mut zero = [0u8; HEADER_LEN];
        r.read(0, &mut zero);
        let committed_at_zero = BatchHeader::read_from_bytes(&zero).is_ok_and(|h| {
            h.magic == BATCH_MAGIC && h.compute_crc() == h.header_crc.get() && {
                let mut cb = [0u8; COMMIT_LEN];
                let c = h.commit_offset.get();
                c < self.cfg.region_len && {
                    r.read(c, &mut cb);
                    CommitRecord::read_from_bytes(&cb).is_ok_and(|rec| rec.commits(&h))
                }
            }
        });
        if let Some(e) = r.take_error() {
            return Err(e);
        }
        Ok(committed_at_zero)
    }

    /// See [`super::Store::recover`].
    pub(crate) async fn recover(&mut self) -> Res<bool, D> {
        let Some(at) = self.pending_compaction()? else {
            return Ok(false);
        };
        let base = self.cfg.region_offset;
        let mut hb = [0u8; HEADER_LEN];
        read_unaligned(&mut self.flash, base + at, &mut hb).await?;
        let staged = BatchHeader::read_from_bytes(&hb).map_err(|_| StoreError::Geometry {
            what: "staged copy unreadable",
        })?;
        let mut cb = [0u8; COMMIT_LEN];
        read_unaligned(
            &mut self.flash,
            base + at + staged.commit_offset.get(),
            &mut cb,
        )
        .await?;
        let crcs = CommitRecord::read_from_bytes(&cb)
            .map(|c| c.crcs())
            .map_err(|_| StoreError::Geometry {
                what: "staged commit record unreadable",
            })?;
        self.state = None;
        self.move_staged(at, &staged, crcs, None).await?;
        self.state = Some(Self::scan(&mut self.flash, &self.cfg, true)?);
        Ok(true)
    }

    /// Erase the sector of the commit record of the staged copy at region offset `at`.
    pub(super) async fn erase_staged_commit(&mut self, at: u32) -> Res<u32, D> {
        let base = self.cfg.region_offset;
        let erase = D::ERASE_SIZE as u32;
        let mut hb = [0u8; HEADER_LEN];
        read_unaligned(&mut self.flash, base + at, &mut hb).await?;
        let Ok(h) = BatchHeader::read_from_bytes(&hb) else {
            return Ok(0);
        };
        let c = at.saturating_add(h.commit_offset.get());
        if c >= self.cfg.region_len {
            return Ok(0);
        }
        let sector = base + c / erase * erase;
        if sector_erased(&mut self.flash, sector..sector + erase).await? {
            return Ok(0);
        }
        self.erase_sector(sector).await?;
        Ok(1)
    }

    /// Move the committed staged copy at region offset `at` to offset 0: erase `first` (a
    /// region offset) first, then every other non-erased sector below `at`, highest first;
    /// program the copy with `flags` 0, read it back, validate it, commit it. Returns the
    /// sectors erased.
    async fn move_staged(
        &mut self,
        at: u32,
        staged: &BatchHeader,
        crcs: ContentCrcs,
        first: Option<u32>,
    ) -> Res<u32, D> {
        let base = self.cfg.region_offset;
        let erase = D::ERASE_SIZE as u32;
        let mut erased = 0;
        if let Some(f) = first {
            self.erase_sector(base + f).await?;
            erased += 1;
        }
        let mut sector = at;
        while sector > 0 {
            sector -= erase;
            if Some(sector) == first {
                continue;
            }
            let range = base + sector..base + sector + erase;
            if !sector_erased(&mut self.flash, range).await? {
                self.erase_sector(base + sector).await?;
                erased += 1;
            }
        }
        let mut header = *staged;
        header.flags = U16::new(0);
        header.seal();
        let commit_at = header.commit_offset.get();
        let page_len = align_up(256, D::WRITE_SIZE as u64).unwrap_or(256) as usize;
        let engine = self.cfg.crc();
        let mut pager = Pager {
            flash: &mut self.flash,
            page: vec![0xFF; page_len],
            fill: 0,
            at: base,
            pos: 0,
            engine,
            crc: 0,
            sections: content_ranges(&header),
            crcs: [0; 3],
            counted: 0,
        };
        pager.push(header.as_bytes()).await?;
        let mut pos = HEADER_LEN as u32;
        let mut buf = [0u8; 256];
        while pos < commit_at {
            let n = ((commit_at - pos) as usize).min(buf.len());
            read_unaligned(&mut *pager.flash, base + at + pos, &mut buf[..n]).await?;
            pager.push(&buf[..n]).await?;
            pos += n as u32;
        }
        pager.flush().await?;
        let written = pager.crc;
        if crc_range(&mut self.flash, base..base + commit_at, engine).await? != written {
            return Err(StoreError::Verify { offset: base });
        }
        let r = Reader::new(Region {
            flash: &mut self.flash,
            offset: base,
            len: self.cfg.region_len,
        });
        let mut index = ChainIndex::default();
        let validated = validate(&r, 0, &header, crcs, &self.cfg.read_config(), &mut index);
        if let Some(e) = r.take_error() {
            return Err(e);
        }
        validated.map_err(StoreError::Invalid)?;
        self.commit(base + commit_at, &header, crcs).await?;
        Ok(erased)
    }

    /// Program `header`'s commit record at device offset `at`, alone in its write unit, and
    /// read it back.
    async fn commit(&mut self, at: u32, header: &BatchHeader, crcs: ContentCrcs) -> Res<(), D> {
        let record = CommitRecord::new(header, crcs);
        let mut unit = vec![0xFF; COMMIT_LEN.max(D::WRITE_SIZE)];
        unit[..COMMIT_LEN].copy_from_slice(record.as_bytes());
        program(&mut self.flash, at, &unit).await?;
        let mut back = [0u8; COMMIT_LEN];
        read_unaligned(&mut self.flash, at, &mut back).await?;
        if !CommitRecord::read_from_bytes(&back).is_ok_and(|c| c.commits(header)) {
            return Err(StoreError::Commit { offset: at });
        }
        Ok(())
    }

    /// See [`super::Store::compact`].
    pub(crate) async fn compact<M: ObjectModel + ?Sized>(
        &mut self,
        align: u32,
    ) -> Res<Compacted, D> {
        self.recover().await?;
        if let Some(e) = self
            .state()?
            .tail
            .error()
            .filter(|e| super::chain::incompatible(e))
        {
            return Err(StoreError::Incompatible(*e));
        }
        let bytes = self.load().await?;
        let image = self.open_image(&bytes)?;
        let objs = objects(&image, self.cfg.encoding);
        let res = resolution(&image);
        let view = ImageView::<M> {
            objs: &objs,
            align,
            frozen: false,
            _vm: PhantomData,
        };
        let Some((plan, header)) = self.plan_compacted(&view, &res)? else {
            return Err(StoreError::NothingToCompact);
        };
        let end = image.end_offset();
        let span = header.span.get();
        let available = self.free_after(end);
        if u64::from(span) > available {
            return Err(StoreError::RegionFull {
                needed: u64::from(span),
                available,
            });
        }
        self.check_unchanged(end + span).await?;
        let ram_before = self.ram_used();
        let batches_before = image.batches().len() as u32;
        // The old batch 0's commit sector: the move erases it first.
        let first_commit = {
            let h = image.batches().first().map(|b| *b.header_ref());
            h.map(|h| h.commit_offset.get() / D::ERASE_SIZE as u32 * D::ERASE_SIZE as u32)
        };
        let Some(state) = self.state.take() else {
            return Err(StoreError::Geometry {
                what: "store state lost",
            });
        };
        let r = self.stage(&plan, &view, &header, end, &state).await;
        let r = match r {
            Ok((staged, crcs, e1)) => self
                .move_staged(end, &staged, crcs, first_commit)
                .await
                .map(|e2| e1 + e2),
            Err(e) => Err(e),
        };
        let rescanned = Self::scan(&mut self.flash, &self.cfg, true);
        self.state = rescanned.ok();
        let sectors_erased = r?;
        let copied = plan.stats().objects;
        Ok(Compacted {
            region_used: (u64::from(end), u64::from(span)),
            ram_used: (
                ram_before,
                header
                    .ram_range()
                    .end
                    .saturating_sub(self.cfg.layout.ram_address),
            ),
            batches_before,
            objects: (copied, objs.len() as u32 - copied.min(objs.len() as u32)),
            sectors_erased,
        })
    }

    /// Step 1 of a compaction: erase what the copy needs after the chain (and every dirty
    /// sector after it), highest first, then program the copy with `flags STAGED` at `end`,
    /// read it back, commit it.
    async fn stage<M: ObjectModel + ?Sized>(
        &mut self,
        plan: &Plan<u64, SideTable>,
        view: &ImageView<'_, M>,
        header: &BatchHeader,
        end: u32,
        state: &super::chain::State,
    ) -> Res<(BatchHeader, ContentCrcs, u32), D> {
        let base = self.cfg.region_offset;
        let erase = D::ERASE_SIZE as u32;
        let span_end = end + header.span.get();
        let mut erased = 0;
        let mut dirty = state.dirty.iter().rev().map(|&(s, _)| s).peekable();
        let mut sector = state
            .dirty
            .last()
            .map_or(span_end, |&(s, _)| (s + erase).max(span_end));
        while sector > end {
            sector -= erase;
            let is_dirty = dirty.next_if_eq(&sector).is_some();
            if is_dirty || sector < span_end {
                self.erase_sector(base + sector).await?;
                erased += 1;
            }
        }
        let mut staged = *header;
        staged.flags = U16::new(FLAG_STAGED);
        staged.seal();
        let page_len = align_up(256, D::WRITE_SIZE as u64).unwrap_or(256) as usize;
        let engine = self.cfg.crc();
        let mut pager = Pager {
            flash: &mut self.flash,
            page: vec![0xFF; page_len],
            fill: 0,
            at: base + end,
            pos: 0,
            engine,
            crc: 0,
            sections: content_ranges(&staged),
            crcs: [0; 3],
            counted: 0,
        };
        let crcs = match stream_to(plan, view, &staged, &mut pager, None).await {
            Ok(c) => c,
            Err(StreamError::Sink(e)) => return Err(e),
            Err(StreamError::Image(e)) => return Err(StoreError::Image(e)),
        };
        pager.flush().await?;
        let written = pager.crc;
        let commit_at = base + end + staged.commit_offset.get();
        if crc_range(&mut self.flash, base + end..commit_at, engine).await? != written {
            return Err(StoreError::Verify { offset: base + end });
        }
        self.commit(commit_at, &staged, crcs).await?;
        Ok((staged, crcs, erased))
    }
}
