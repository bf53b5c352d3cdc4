//! The freeze plan: the checked result of traverse → classify → relocate, ready to be written.
//!
//! ```text
//! roots ─► traverse ─► classify ─► dedup ─► relocate ─► Plan ─► image writer (streams write_object)
//!                                                           └──► fix_up_live (after the image is mounted)
//! ```
//!
//! `dedup` runs only when asked ([`Dedup`], [`plan_dedup`], [`crate::store::StoreConfig::dedup`]):
//! it gives content-equal objects of kinds the VM lets merge one frozen copy.
//!
//! A plan is made in one call ([`plan`] with the library's side table, or [`plan_in_object`]
//! when the VM keeps forwarding in its object headers). Nothing is written by planning; a plan
//! that fails leaves the VM as it was (in-object marks are undone).
//!
//! # Working memory
//! Per frozen object the plan keeps its `Ref` once (in the flash or RAM list: 4 bytes for a VM
//! with 32-bit references), plus, with the side table, 4 bytes of forwarding and 1.5 bits per
//! heap index. The traversal's worklist holds at most one entry per discovered-but-unentered
//! object plus one per level of depth. Objects that go to RAM also keep their path, as nodes of a
//! shared prefix tree (12 bytes per node not shared with another path). Dedup, when on, adds
//! 1 bit per flash object, its content table and the walk (see [`Dedup`]). [`Stats::working_bytes`]
//! reports the total from the actual allocations (it matches a counting allocator within 1 %).
//!
//! # Example
//! ```
//! use flashfreeze::testing::{TestHeap, Kind};
//! use flashfreeze::{plan, Root, RootKind, Target};
//!
//! let mut heap = TestHeap::<4>::new();
//! let name = heap.alloc(Kind::Immutable, &[]);
//! let state = heap.alloc(Kind::Mutable, &[]);
//! let module = heap.alloc(Kind::Immutable, &[Some(name), Some(state)]);
//! let target = Target { flash_base: 0x1010_0000, flash_capacity: 4096, ram_base: 0x2003_0000, ram_capacity: 256 };
//! let plan = plan(&heap, &[Root::new(RootKind::MODULE, "mymod", module)], target).unwrap();
//! assert_eq!(plan.stats().objects, 3);
//! assert_eq!(plan.stats().ram_bytes, 8);
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::mem::size_of;
use core::ops::Range;

use crate::classify::{
    ChunkCursor, ChunkList, Classified, EarlyTally, KindTally, PathTree, render_error_path,
    render_path,
};
pub use crate::classify::{ERROR_PATH_END, ERROR_PATH_MAX, KindStats, Path};
use crate::dedup::{self, Earlier, Merged};
pub use crate::dedup::{Dedup, MAX_DEPTH};
use crate::error::{FreezeError, Violation, contract};
use crate::forward::Forwarded;
pub use crate::forward::{ForwardingTable, InHeader, SideTable};
use crate::image::format::align_up;
use crate::image::write::FlashMaps;
use crate::model::{InObjectForwarding, LiveHeap, ObjectModel, Placement, Space};
use crate::relocate;
pub use crate::relocate::{PlannedObject, Target};
use crate::traverse;
pub use crate::traverse::Step;

/// What a root is, as stored in the image's roots table. Values below 0x100 are the library's;
/// a VM may use the rest for its own kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RootKind(pub u16);

impl RootKind {
    /// A module object.
    pub const MODULE: Self = Self(1);
    /// A pool of interned strings.
    pub const QSTR_POOL: Self = Self(2);
    /// Anything else the VM wants to find again after a reboot.
    pub const OTHER: Self = Self(3);
    /// A remove record: the module of this name is no longer frozen (format version 3; see
    /// [`crate::store::records`]).
    pub const REMOVED: Self = Self(4);
    /// A source record: `module NUL path NUL hash`, pointing at the module's object (format
    /// version 3; see [`crate::store::records`]).
    pub const SOURCE: Self = Self(5);
}

/// A starting point of the freeze, named for paths and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Root<'a, R> {
    /// What it is.
    pub kind: RootKind,
    /// Its name as it starts a path (`"mymod"`).
    pub name: &'a str,
    /// The object.
    pub target: R,
    /// Whether it is only a candidate ([`Root::if_reached`]).
    pub if_reached: bool,
}

impl<'a, R> Root<'a, R> {
    /// A root: the freeze starts here, and the image names it.
    pub const fn new(kind: RootKind, name: &'a str, target: R) -> Self {
        Self {
            kind,
            name,
            target,
            if_reached: false,
        }
    }

    /// A candidate root: the freeze does not start here, but if the graph of the other roots
    /// reaches this heap object, the image names it too (e.g. another module that the frozen
    /// one imported: found by name after a reboot). [`PlanRoot::in_image`] says whether it was.
    pub const fn if_reached(kind: RootKind, name: &'a str, target: R) -> Self {
        Self {
            kind,
            name,
            target,
            if_reached: true,
        }
    }
}

/// A root as the plan keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanRoot<R> {
    /// What it is.
    pub kind: RootKind,
    /// Its name.
    pub name: String,
    /// The original object.
    pub target: R,
    /// Whether it was given as a candidate ([`Root::if_reached`]).
    pub if_reached: bool,
    /// Whether the image's roots table names it: every root given with [`Root::new`], and the
    /// candidates that the graph reached.
    pub in_image: bool,
}

/// The numbers of a plan: "froze N flash bytes, M ram bytes, K objects, Q qstrs".
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Length of the flash-object section, alignment padding included.
    pub flash_bytes: u64,
    /// Length of the RAM section, alignment padding included.
    pub ram_bytes: u64,
    /// Objects frozen (flash and RAM): the objects the image holds.
    pub objects: u32,
    /// Heap objects frozen as an equal object's copy (dedup): not counted in `objects`.
    pub merged: u32,
    /// Their frozen bytes (padding excluded): the flash the merges saved.
    pub merged_bytes: u64,
    /// Of `merged`, those that reuse an object of an earlier batch.
    pub merged_earlier: u32,
    /// Interned strings frozen (the sum of [`ObjectModel::interned_strs`]).
    pub qstrs: u32,
    /// Per kind and placement: the flash section's kinds in the order its objects first show
    /// them, then the RAM section's.
    pub kinds: Vec<KindStats>,
    /// Peak extra heap the freezer used while planning, in bytes.
    pub working_bytes: usize,
    /// Frozen bytes of the largest object the plan reached (padding excluded): the writer's
    /// one object-sized buffer, and a term of the working-memory target.
    pub largest_object: u32,
}

impl fmt::Display for Stats {
    /// "froze N flash bytes, M ram bytes, K objects, Q qstrs", and ", D merged (B bytes)" when
    /// dedup merged anything.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "froze {} flash bytes, {} ram bytes, {} objects, {} qstrs",
            self.flash_bytes, self.ram_bytes, self.objects, self.qstrs
        )?;
        if self.merged > 0 {
            write!(f, ", {} merged ({} bytes)", self.merged, self.merged_bytes)?;
        }
        Ok(())
    }
}

/// A complete, checked freeze plan. `T` is where forwarding addresses are kept.
#[derive(Debug)]
pub struct Plan<R, T = SideTable> {
    target: Target,
    roots: Vec<PlanRoot<R>>,
    flash: ChunkList<R>,
    ram: ChunkList<R>,
    in_ram: ChunkList<u32>,
    tree: PathTree<R>,
    /// Which flash objects are merged into another (dedup).
    merged: Merged,
    table: T,
    stats: Stats,
    /// The flash section's maps, made during the traversal (the store's freeze).
    flash_maps: Option<FlashMaps>,
    /// The per-kind tally made while addresses were assigned ([`Plan::tally_kinds`] uses it).
    early: EarlyTally,
}

/// Plan a freeze of everything reachable from `roots`, keeping forwarding in a side table.
pub fn plan<M: ObjectModel + ?Sized>(
    vm: &M,
    roots: &[Root<'_, M::Ref>],
    target: Target,
) -> Result<Plan<M::Ref, SideTable>, FreezeError> {
    let table = SideTable::new(vm);
    make(vm, roots, target, table, None, Dedup::OFF, None)
}

/// [`plan()`], giving content-equal objects of the kinds the VM lets merge one frozen copy
/// ([`Dedup`], [`ObjectModel::may_merge`]) within the batch. ([`crate::store::Store`] also
/// reuses equal objects of earlier batches.)
///
/// ```
/// use flashfreeze::plan::{Dedup, plan_dedup};
/// use flashfreeze::testing::{Kind, TestHeap};
/// use flashfreeze::{Root, RootKind, Target};
///
/// let mut heap = TestHeap::<4>::new();
/// let a = heap.alloc(Kind::Constant, &[]);
/// let b = heap.alloc(Kind::Constant, &[]); // equal to `a`
/// let module = heap.alloc(Kind::Immutable, &[Some(a), Some(b)]);
/// let target = Target { flash_base: 0x1010_0000, flash_capacity: 4096, ram_base: 0x2003_0000, ram_capacity: 256 };
/// let roots = [Root::new(RootKind::MODULE, "m", module)];
/// let plan = plan_dedup(&heap, &roots, target, Dedup::ON).unwrap();
/// assert_eq!(plan.frozen_address(&heap, a), plan.frozen_address(&heap, b));
/// assert_eq!(plan.stats().to_string(), "froze 24 flash bytes, 0 ram bytes, 2 objects, 0 qstrs, 1 merged (8 bytes)");
/// ```
pub fn plan_dedup<M: ObjectModel + ?Sized>(
    vm: &M,
    roots: &[Root<'_, M::Ref>],
    target: Target,
    dedup: Dedup,
) -> Result<Plan<M::Ref, SideTable>, FreezeError> {
    let table = SideTable::new(vm);
    make(vm, roots, target, table, None, dedup, None)
}

/// Plan a freeze keeping forwarding in the VM's object headers: no side table.
///
/// On success the objects stay marked until [`Plan::release`]; on failure they are unmarked.
pub fn plan_in_object<M: InObjectForwarding + ?Sized>(
    vm: &M,
    roots: &[Root<'_, M::Ref>],
    target: Target,
) -> Result<Plan<M::Ref, InHeader>, FreezeError> {
    let ram_end = target.ram_base.saturating_add(target.ram_capacity);
    let table = InHeader::new(target.flash_base, target.ram_base, ram_end);
    make(vm, roots, target, table, None, Dedup::OFF, None)
}

/// Make a plan; with `statics`, a pointer to a static object outside them is refused; with
/// `dedup` on (and the side table), equal objects merge, also with `earlier` batches' objects.
pub(crate) fn make<M, T>(
    vm: &M,
    roots: &[Root<'_, M::Ref>],
    target: Target,
    table: T,
    statics: Option<&[Range<u64>]>,
    dedup: Dedup,
    earlier: Option<&mut (dyn Earlier + '_)>,
) -> Result<Plan<M::Ref, T>, FreezeError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    let mut plan = make_untallied(vm, roots, target, table, statics, dedup, earlier, None)?;
    plan.tally_kinds(vm);
    Ok(plan)
}

/// [`make`] without [`Stats::kinds`]: a store's freeze tallies them after the write
/// ([`Plan::tally_kinds`]), so the list is not live at the freeze's peak. With `flash_maps`,
/// the traversal also makes the flash section's maps ([`FlashMaps`]; not with dedup on).
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_untallied<M, T>(
    vm: &M,
    roots: &[Root<'_, M::Ref>],
    target: Target,
    table: T,
    statics: Option<&[Range<u64>]>,
    dedup: Dedup,
    earlier: Option<&mut (dyn Earlier + '_)>,
    flash_maps: Option<FlashMaps>,
) -> Result<Plan<M::Ref, T>, FreezeError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    make_hashed::<M, T, dedup::Fold>(
        vm, roots, target, table, statics, dedup, earlier, flash_maps,
    )
}

/// The traversal's [`traverse::ScanHook`] for [`FlashMaps`]: only the objects the classifier
/// just sent to the flash section.
struct MapsHook<'a> {
    maps: Option<&'a mut FlashMaps>,
    to_flash: &'a core::cell::Cell<bool>,
}

impl traverse::ScanHook for MapsHook<'_> {
    fn object(&mut self, layout: crate::model::FrozenLayout) {
        if let Some(m) = self.maps.as_deref_mut() {
            m.entered(self.to_flash.get());
            m.object(layout);
        }
    }
    fn reference(&mut self, offset: u32) {
        if let Some(m) = self.maps.as_deref_mut() {
            m.reference(offset);
        }
    }
    fn scanned(&mut self) {
        if let Some(m) = self.maps.as_deref_mut() {
            m.scanned();
        }
    }
}

/// [`make_untallied`] with the content hash `H` (the tests' weak hash).
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_hashed<M, T, H>(
    vm: &M,
    roots: &[Root<'_, M::Ref>],
    target: Target,
    mut table: T,
    statics: Option<&[Range<u64>]>,
    dedup: Dedup,
    earlier: Option<&mut (dyn Earlier + '_)>,
    flash_maps: Option<FlashMaps>,
) -> Result<Plan<M::Ref, T>, FreezeError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
    H: dedup::ContentHash,
{
    if let Err(why) = M::ENCODING.check() {
        return Err(FreezeError::Contract {
            path: String::new(),
            address: 0,
            kind: "model",
            violation: Violation::Encoding(why),
        });
    }
    let mut classified = Classified::new();
    let mut unentered = Vec::new();
    let render = |root: usize, steps: &[traverse::Step<M::Ref>]| {
        let name = roots.get(root).map_or("?", |r| r.name);
        render_error_path(vm, name, steps)
    };
    // With dedup, objects merged into another get no address: the maps would be off.
    let mut flash_maps = flash_maps.filter(|_| !dedup.is_on());
    let to_flash = core::cell::Cell::new(false);
    let traversal = traverse::traverse(
        vm,
        &mut table,
        roots.iter().map(|r| (!r.if_reached).then_some(r.target)),
        |root, path| {
            let before = classified.flash.len();
            classified.enter(vm, root, roots[root].name, path)?;
            to_flash.set(classified.flash.len() > before);
            Ok(())
        },
        &mut unentered,
        statics,
        &render,
        &mut MapsHook {
            maps: flash_maps.as_mut(),
            to_flash: &to_flash,
        },
    );
    let mut merged = Merged::default();
    let mut early = EarlyTally::default();
    let result = traversal.and_then(|traversed| {
        table.seal(traversed.count);
        if let Some(side) = table.side_table().filter(|_| dedup.is_on()) {
            merged = dedup::run::<M, H>(
                vm,
                side,
                &classified.flash,
                target.flash_base,
                dedup,
                earlier,
            )?;
        }
        let flash_len = relocate::assign(
            vm,
            &mut table,
            classified.flash.iter(),
            &|i| merged.contains(i),
            Placement::Flash,
            target.flash_base,
            &mut early,
        )?;
        let ram_len = relocate::assign(
            vm,
            &mut table,
            classified.ram.iter(),
            &|_| false,
            Placement::Ram,
            target.ram_base,
            &mut early,
        )?;
        if let Some(side) = table.side_table() {
            dedup::forward_merged(vm, side, &classified.flash, &merged)?;
        }
        if flash_len > target.flash_capacity {
            return Err(FreezeError::FlashFull {
                needed: flash_len,
                capacity: target.flash_capacity,
            });
        }
        if ram_len > target.ram_capacity {
            return Err(FreezeError::RamFull {
                needed: ram_len,
                capacity: target.ram_capacity,
            });
        }
        Ok((flash_len, ram_len, traversed.peak_bytes))
    });
    let (flash_bytes, ram_bytes, worklist_bytes) = match result {
        Ok(lens) => lens,
        Err(e) => {
            let mut all = classified
                .flash
                .iter()
                .chain(classified.ram.iter())
                .chain(unentered.iter().copied());
            table.release(vm, &mut all);
            return Err(e);
        }
    };
    let objects = (classified.flash.len() + classified.ram.len()) as u32 - merged.count;
    // Merged objects got no address, so `assign` did not count them.
    if merged.count > 0 {
        early.give_up();
    }
    // The worklist is freed before the table's forwarding array is allocated, but count both:
    // a peak that is an upper bound is the honest number to report (the dedup stage's too).
    // Maps made for other addresses than the plan's are not kept.
    let flash_maps = flash_maps.filter(|m| m.flash_len() == Some(flash_bytes));
    let working_bytes = worklist_bytes
        + kept_bytes(&classified, roots)
        + unentered.capacity() * size_of::<M::Ref>()
        + table.heap_bytes()
        + merged.peak_bytes
        + flash_maps.as_ref().map_or(0, FlashMaps::heap_bytes);
    // Counted above at their planning peak; freed here before the write.
    classified.shrink();
    Ok(Plan {
        target,
        roots: roots
            .iter()
            .map(|r| PlanRoot {
                kind: r.kind,
                name: String::from(r.name),
                target: r.target,
                if_reached: r.if_reached,
                in_image: !r.if_reached
                    || (vm.space(r.target) == Space::Heap && table.get(vm, r.target).is_some()),
            })
            .collect(),
        stats: Stats {
            flash_bytes,
            ram_bytes,
            objects,
            merged: merged.count,
            merged_bytes: merged.bytes,
            merged_earlier: merged.earlier,
            qstrs: classified.qstrs.saturating_sub(merged.qstrs),
            // Tallied once the plan is complete (`Plan::tally_kinds`).
            kinds: Vec::new(),
            working_bytes,
            largest_object: classified.largest,
        },
        flash: classified.flash,
        ram: classified.ram,
        in_ram: classified.in_ram,
        tree: classified.tree,
        merged,
        table,
        flash_maps,
        early,
    })
}

/// Bytes the plan keeps: the object lists, the paths of RAM objects, the roots.
fn kept_bytes<R: Copy>(c: &Classified<R>, roots: &[Root<'_, R>]) -> usize {
    let lists = c.flash.heap_bytes() + c.ram.heap_bytes();
    let paths = c.in_ram.heap_bytes() + c.tree.heap_bytes() + c.levels_bytes();
    let names: usize = roots.iter().map(|r| r.name.len()).sum();
    lists + paths + names + roots.len() * size_of::<PlanRoot<R>>()
}

impl<R: Copy + Eq + fmt::Debug, T> Plan<R, T> {
    /// The numbers behind "froze N flash bytes, M ram bytes, K objects, Q qstrs".
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The flash section's maps made while planning, if the plan was asked for them and they
    /// match its addresses (taken: the measuring pass consumes them).
    pub(crate) fn take_flash_maps(&mut self) -> Option<FlashMaps> {
        self.flash_maps.take()
    }

    /// [`Plan::objects`] of the RAM section only.
    pub(crate) fn ram_section_objects<'a, M>(&'a self, vm: &'a M) -> Objects<'a, M, T>
    where
        M: ObjectModel<Ref = R> + ?Sized,
        T: ForwardingTable<M>,
    {
        Objects {
            plan: self,
            vm,
            next: self.flash.len(),
            cursor: ChunkCursor::default(),
            end: self.target.ram_base,
        }
    }

    /// The stats, the rest of the plan dropped (no copy of the per-kind list).
    /// The roots, moved out (a store's freeze hands their names on instead of copying them).
    pub(crate) fn take_roots(&mut self) -> Vec<PlanRoot<R>> {
        core::mem::take(&mut self.roots)
    }

    /// Fill [`Stats::kinds`]: the flash section's objects in order (those merged into an equal
    /// one in the `merged` fields), then the RAM section's; each kind where it is first seen.
    /// From the tally `assign` made when it could (no merged objects, few kinds), else by
    /// asking the VM each object's kind and size again.
    pub(crate) fn tally_kinds<M>(&mut self, vm: &M)
    where
        M: ObjectModel<Ref = R> + ?Sized,
    {
        // Used once: a second tally asks the VM.
        let early = self.early.clone();
        self.early.give_up();
        let kinds = match early.into_kinds() {
            Some(kinds) => kinds,
            None => {
                let merged = &self.merged;
                let flash = (self.flash.iter().enumerate())
                    .map(|(i, o)| (o, Placement::Flash, merged.contains(i)));
                let ram = self.ram.iter().map(|o| (o, Placement::Ram, false));
                let mut tally = KindTally::of(vm, flash.chain(ram));
                tally.merge_kinds();
                tally.kinds
            }
        };
        // Counted with the plan's own memory, as when the classifier kept the list (in a
        // store's freeze it is made after the write, off the batch's peak).
        self.stats.working_bytes += kinds.capacity() * size_of::<KindStats>();
        self.stats.kinds = kinds;
    }

    /// The stats with [`Stats::kinds`] filled, once nothing asks for a frozen address any
    /// more: the forwarding table and the RAM objects' path nodes are freed first, so the
    /// tally's list is not live with them (a store's freeze, after its fix-up).
    pub(crate) fn into_tallied_stats<M>(mut self, vm: &M) -> Stats
    where
        M: ObjectModel<Ref = R> + ?Sized,
        T: Default,
    {
        self.table = T::default();
        self.in_ram = ChunkList::new();
        self.tally_kinds(vm);
        self.stats
    }

    /// Where the sections go.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The roots, in the order given (candidates too: [`PlanRoot::in_image`] says which the
    /// image names).
    pub fn roots(&self) -> &[PlanRoot<R>] {
        &self.roots
    }

    /// Objects of the flash section, in address order (the objects merged into an equal one
    /// are not: [`Plan::merged_objects`]).
    pub fn flash_objects(&self) -> impl Iterator<Item = R> + '_ {
        self.flash
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.merged.contains(*i))
            .map(|(_, r)| r)
    }

    /// Heap objects frozen as the copy of an equal object (dedup): of this batch, or of an
    /// earlier one. [`Plan::frozen_address`] gives the copy's address.
    pub fn merged_objects(&self) -> impl Iterator<Item = R> + '_ {
        self.flash
            .iter()
            .enumerate()
            .filter(|(i, _)| self.merged.contains(*i))
            .map(|(_, r)| r)
    }

    /// Objects of the RAM section, in address order.
    pub fn ram_objects(&self) -> impl Iterator<Item = R> + '_ {
        self.ram.iter()
    }

    /// The paths of the objects that go to the RAM section (why they stay in RAM: the VM said
    /// they are mutable), in RAM-section order.
    pub fn in_ram(&self) -> Vec<Path<R>> {
        self.in_ram.iter().map(|n| self.tree.path(n)).collect()
    }
}

impl<R: Copy + Eq + fmt::Debug, T> Plan<R, T> {
    /// Render a path from [`Plan::in_ram`] as `mymod.MyClass.method.<defaults>[0]`.
    pub fn render_path<M>(&self, vm: &M, path: &Path<R>) -> String
    where
        M: ObjectModel<Ref = R> + ?Sized,
    {
        let name = self.roots.get(path.root).map_or("?", |r| r.name.as_str());
        render_path(vm, name, &path.steps)
    }

    /// Every planned object with its place: the flash section, then the RAM section, each in
    /// address order. Each item re-checks the VM's layout against the assigned addresses.
    pub fn objects<'a, M>(&'a self, vm: &'a M) -> Objects<'a, M, T>
    where
        M: ObjectModel<Ref = R> + ?Sized,
        T: ForwardingTable<M>,
    {
        Objects {
            plan: self,
            vm,
            next: 0,
            cursor: ChunkCursor::default(),
            end: self.target.flash_base,
        }
    }

    /// The frozen address of `obj`: its copy's address if the plan placed it, the VM's own
    /// address if it is kept, `None` for a heap object outside the plan.
    pub fn frozen_address<M>(&self, vm: &M, obj: R) -> Option<u64>
    where
        M: ObjectModel<Ref = R> + ?Sized,
        T: ForwardingTable<M>,
    {
        relocate::frozen_target(vm, &self.table, &self.target, obj)
    }

    /// Write the frozen bytes of `planned` into `out` (exactly its size), every reference
    /// rewritten; `on_ref` receives the offset of each reference word, in increasing slot order
    /// as the VM scans them.
    pub fn write_object<M>(
        &self,
        vm: &M,
        planned: &PlannedObject<R>,
        out: &mut [u8],
        on_ref: &mut dyn FnMut(u32),
    ) -> Result<(), FreezeError>
    where
        M: ObjectModel<Ref = R> + ?Sized,
        T: ForwardingTable<M>,
    {
        if vm.frozen_layout(planned.obj) != planned.layout {
            let e = contract(vm, planned.obj, Violation::LayoutChanged);
            return Err(e.with_path(|| self.path_to(vm, planned.obj)));
        }
        out.fill(0);
        self.write_yielded(vm, planned, out, on_ref)
    }

    /// [`Plan::write_object`] of an object [`Plan::objects`] just yielded, into a zeroed `out`
    /// (its layout is not asked again: the iterator checked it in the same step).
    pub(crate) fn write_yielded<M>(
        &self,
        vm: &M,
        planned: &PlannedObject<R>,
        out: &mut [u8],
        on_ref: &mut dyn FnMut(u32),
    ) -> Result<(), FreezeError>
    where
        M: ObjectModel<Ref = R> + ?Sized,
        T: ForwardingTable<M>,
    {
        relocate::write_fresh(vm, &self.table, &self.target, planned, out, on_ref)
            .map_err(|e| e.with_path(|| self.path_to(vm, planned.obj)))
    }

    /// The path from a root to `obj`, found by walking the graph again (for an error found
    /// after the traversal, which keeps no path for flash objects); empty if it is not found.
    fn path_to<M>(&self, vm: &M, obj: R) -> String
    where
        M: ObjectModel<Ref = R> + ?Sized,
    {
        let mut table = SideTable::new(vm);
        let mut found = None;
        let roots = self
            .roots
            .iter()
            .map(|r| (!r.if_reached).then_some(r.target));
        let _ = traverse::traverse(
            vm,
            &mut table,
            roots,
            |root, path| {
                if path.last().map(|s| s.obj) != Some(obj) {
                    return Ok(());
                }
                let name = self.roots.get(root).map_or("?", |r| r.name.as_str());
                found = Some(render_error_path(vm, name, path));
                // Stop the walk: any error does.
                Err(FreezeError::FlashFull {
                    needed: 0,
                    capacity: 0,
                })
            },
            &mut Vec::new(),
            None,
            &|_, _| String::new(),
            &mut (),
        );
        found.unwrap_or_default()
    }

    /// The offset of each reference word of `planned`'s frozen copy, in the VM's scan order,
    /// without its bytes: what [`Plan::write_object`] reports to `on_ref`, for a pass that only
    /// needs to know where the references are. `planned` comes from [`Plan::objects`], which
    /// checked its layout.
    pub fn reference_offsets<M>(
        &self,
        vm: &M,
        planned: &PlannedObject<R>,
        on_ref: &mut dyn FnMut(u32),
    ) -> Result<(), FreezeError>
    where
        M: ObjectModel<Ref = R> + ?Sized,
    {
        relocate::reference_offsets(vm, planned, on_ref)
            .map_err(|e| e.with_path(|| self.path_to(vm, planned.obj)))
    }

    /// After the image is written and mounted: redirect every live reference of the VM to a
    /// planned object to its frozen copy, so the originals become garbage.
    pub fn fix_up_live<M>(&self, vm: &mut M)
    where
        M: LiveHeap<Ref = R> + ?Sized,
        T: ForwardingTable<M>,
    {
        relocate::fix_up_live(vm, &self.table, &self.target);
    }

    /// Drop the plan, undoing the marks it left in the VM's objects (needed with
    /// [`plan_in_object`]; a no-op for the side table).
    pub fn release<M>(mut self, vm: &M)
    where
        M: ObjectModel<Ref = R> + ?Sized,
        T: ForwardingTable<M>,
    {
        let mut all = self.flash.iter().chain(self.ram.iter());
        self.table.release(vm, &mut all);
    }
}

/// Iterator of [`Plan::objects`].
pub struct Objects<'a, M: ObjectModel + ?Sized, T> {
    plan: &'a Plan<M::Ref, T>,
    vm: &'a M,
    /// Index of the next object: the flash list's, then past it the RAM list's.
    next: usize,
    /// Where `next` is in its list.
    cursor: ChunkCursor,
    end: u64,
}

impl<M, T> Iterator for Objects<'_, M, T>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    type Item = Result<PlannedObject<M::Ref>, FreezeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let plan = self.plan;
        let flash_len = plan.flash.len();
        let (obj, placement) = loop {
            if self.next < flash_len {
                let i = self.next;
                self.next += 1;
                let obj = plan.flash.next_at(&mut self.cursor)?;
                if plan.merged.contains(i) {
                    continue;
                }
                break (obj, Placement::Flash);
            }
            if self.next == flash_len {
                self.end = plan.target.ram_base;
                self.cursor = ChunkCursor::default();
            }
            let obj = plan.ram.next_at(&mut self.cursor)?;
            self.next += 1;
            break (obj, Placement::Ram);
        };
        Some(
            self.check(obj, placement)
                .map_err(|e| e.with_path(|| self.plan.path_to(self.vm, obj))),
        )
    }
}

impl<M, T> Objects<'_, M, T>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    fn check(
        &mut self,
        obj: M::Ref,
        placement: Placement,
    ) -> Result<PlannedObject<M::Ref>, FreezeError> {
        let vm = self.vm;
        let layout = traverse::checked_layout(vm, obj)?;
        let at = self
            .plan
            .table
            .get(vm, obj)
            .filter(|at| at.placement() == Some(placement))
            .ok_or_else(|| contract(vm, obj, Violation::NotPlanned))?;
        let Forwarded::Section(_, offset) = at else {
            return Err(contract(vm, obj, Violation::NotPlanned));
        };
        let address = self.plan.target.absolute(at);
        // The assigned address must be exactly where a fresh layout pass would put it.
        let align = relocate::object_align(&M::ENCODING, layout);
        if align_up(self.end, align) != Some(address) {
            return Err(contract(vm, obj, Violation::LayoutChanged));
        }
        self.end = address + u64::from(layout.size);
        let section_end = match placement {
            Placement::Flash => self.plan.target.flash_base + self.plan.stats.flash_bytes,
            Placement::Ram => self.plan.target.ram_base + self.plan.stats.ram_bytes,
        };
        if self.end > section_end {
            return Err(contract(vm, obj, Violation::LayoutChanged));
        }
        Ok(PlannedObject {
            obj,
            placement,
            address,
            offset,
            layout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Kind, TestHeap};

    /// The tally `assign` makes gives the same kinds as asking the VM again after the plan.
    #[test]
    fn early_tally_matches_the_tally_after_the_plan() {
        let mut heap = TestHeap::<4>::new();
        let mut refs = Vec::new();
        for i in 0..24 {
            let kind = [Kind::Immutable, Kind::Mutable, Kind::Constant][i % 3];
            let prev = refs.last().copied();
            refs.push(heap.alloc(kind, &[prev]));
        }
        let top = heap.alloc(
            Kind::Immutable,
            &refs.iter().map(|r| Some(*r)).collect::<Vec<_>>(),
        );
        let target = Target {
            flash_base: 0x1010_0000,
            flash_capacity: 1 << 16,
            ram_base: 0x2003_0000,
            ram_capacity: 1 << 12,
        };
        let roots = [Root::new(RootKind::MODULE, "m", top)];
        for dedup in [Dedup::OFF, Dedup::ON] {
            let mut early = make_untallied(
                &heap,
                &roots,
                target,
                SideTable::new(&heap),
                None,
                dedup,
                None,
                None,
            )
            .unwrap();
            let mut asked = make_untallied(
                &heap,
                &roots,
                target,
                SideTable::new(&heap),
                None,
                dedup,
                None,
                None,
            )
            .unwrap();
            asked.early.give_up();
            early.tally_kinds(&heap);
            asked.tally_kinds(&heap);
            assert_eq!(early.stats, asked.stats);
            assert!(early.stats.kinds.len() >= 2);
        }
    }
}
