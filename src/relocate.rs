//! Relocate: give every placed object its frozen address, produce its frozen bytes with every
//! reference rewritten, and redirect the VM's live references afterwards.
//!
//! Addresses are assigned section by section in traversal order, each object aligned up from the
//! end of the previous one:
//!
//! ```text
//! flash_base ─► [obj0][pad][obj1][obj2] … ◄─ flash_len      (immutable objects)
//! ram_base   ─► [objA][objB] …           ◄─ ram_len        (mutable objects)
//! ```
//!
//! A reference word in a frozen copy holds, little-endian and [`RefEncoding::width`] wide, the
//! VM's encoding ([`ObjectModel::ENCODING`]) of:
//! - for a heap object that the plan placed, the address of its frozen copy;
//! - for a kept object (`Space::Static` / `Space::Frozen`), the VM's `address()` of it.
//!
//! Each object is aligned to its own alignment and to the encoding's granule, and its address
//! must be encodable ([`Violation::Unencodable`] otherwise), so every word the writer produces
//! decodes back to an object start.
//!
//! The writer asks the VM again for each object's layout and slots and refuses a different
//! answer ([`Violation::LayoutChanged`], [`Violation::NotPlanned`]), so the bytes written always
//! match the addresses assigned.

use crate::classify::EarlyTally;
use crate::error::{FreezeError, Violation, contract};
use crate::forward::{Forwarded, ForwardingTable};
use crate::image::format::align_up;
use crate::model::{FrozenLayout, LiveHeap, ObjectModel, Placement, RefEncoding, Slot, Space};
use crate::traverse::{check_slot, checked_layout};

/// Absolute base addresses and capacities of the two sections of one batch.
///
/// Given by the store: `flash_base` is where the batch's flash-object section will be mapped
/// (e.g. XIP address of the region + the section's offset), `ram_base` where the batch's part of
/// the frozen RAM section starts.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Absolute address of the flash-object section.
    pub flash_base: u64,
    /// Bytes available for it.
    pub flash_capacity: u64,
    /// Absolute address of this batch's RAM section.
    pub ram_base: u64,
    /// Bytes available for it.
    pub ram_capacity: u64,
}

impl Target {
    /// Absolute address of a [`Forwarded`] place.
    pub(crate) fn absolute(&self, at: Forwarded) -> u64 {
        match at {
            Forwarded::Section(Placement::Flash, o) => self.flash_base + u64::from(o),
            Forwarded::Section(Placement::Ram, o) => self.ram_base + u64::from(o),
            // Only ever made for an address below `flash_base` (`dedup`).
            Forwarded::Earlier(d) => self.flash_base.saturating_sub(u64::from(d)),
        }
    }
}

/// One object of a plan, with its final place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedObject<R> {
    /// The original (heap) object.
    pub obj: R,
    /// Its section.
    pub placement: Placement,
    /// Absolute address of its frozen copy.
    pub address: u64,
    /// Offset of the copy from its section's base.
    pub offset: u32,
    /// Its frozen size and alignment.
    pub layout: FrozenLayout,
}

/// Assign consecutive, aligned addresses from `base` to `objects`, but for those `skip` names by
/// their position (objects merged into an equal one: `dedup` forwards them); returns the
/// section length. Each placed object is counted in `tally` with the layout asked here.
pub(crate) fn assign<M, T>(
    vm: &M,
    table: &mut T,
    objects: impl Iterator<Item = M::Ref>,
    skip: &dyn Fn(usize) -> bool,
    placement: Placement,
    base: u64,
    tally: &mut EarlyTally,
) -> Result<u64, FreezeError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    let mut end = base;
    for (i, obj) in objects.enumerate() {
        if skip(i) {
            continue;
        }
        let layout = checked_layout(vm, obj)?;
        let unencodable = |address| contract(vm, obj, Violation::Unencodable { address });
        let start =
            align_up(end, object_align(&M::ENCODING, layout)).ok_or_else(|| unencodable(end))?;
        let offset = u32::try_from(start - base)
            .ok()
            .filter(|o| *o <= Forwarded::max_offset(placement))
            .ok_or_else(|| unencodable(start))?;
        if M::ENCODING.encode(start).is_none() {
            return Err(unencodable(start));
        }
        table.set(vm, obj, Forwarded::Section(placement, offset))?;
        tally.add(vm.kind_name(obj), placement, layout.size);
        end = start
            .checked_add(u64::from(layout.size))
            .ok_or_else(|| unencodable(start))?;
    }
    Ok(end - base)
}

/// The alignment an object gets: its own, and the encoding's granule.
pub(crate) fn object_align(encoding: &RefEncoding, layout: FrozenLayout) -> u64 {
    u64::from(layout.align.max(encoding.granule()))
}

/// The address a reference to `target` is frozen as.
pub(crate) fn frozen_target<M, T>(vm: &M, table: &T, target: &Target, obj: M::Ref) -> Option<u64>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    match vm.space(obj) {
        Space::Heap => table.get(vm, obj).map(|at| target.absolute(at)),
        Space::Static | Space::Frozen => Some(vm.address(obj)),
    }
}

/// Write `planned`'s frozen bytes into zeroed `out`, rewriting every reference slot, and report
/// the offset of each reference word to `on_ref`. Its layout is not asked again: the caller
/// checked it ([`crate::plan::Plan::write_object`], or [`crate::plan::Plan::objects`] in the
/// same step of a walk).
pub(crate) fn write_fresh<M, T>(
    vm: &M,
    table: &T,
    target: &Target,
    planned: &PlannedObject<M::Ref>,
    out: &mut [u8],
    on_ref: &mut dyn FnMut(u32),
) -> Result<(), FreezeError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    let obj = planned.obj;
    let size = planned.layout.size;
    if out.len() != size as usize {
        return Err(contract(
            vm,
            obj,
            Violation::BufferSize {
                expected: size,
                given: out.len(),
            },
        ));
    }
    vm.write_frozen(obj, planned.placement, out);

    let encoding = M::ENCODING;
    let width = encoding.width() as usize;
    checked_scan(vm, obj, size, |offset, to, tag| {
        let Some(addr) = frozen_target(vm, table, target, to) else {
            return Err(contract(vm, to, Violation::NotPlanned));
        };
        let tag = tag.unwrap_or(encoding.tag());
        let Some(word) = encoding.encode_tagged(addr, tag) else {
            return Err(contract(vm, to, Violation::Unencodable { address: addr }));
        };
        let at = offset as usize;
        // check_slot proved `at + width <= size == out.len()`. A fixed-size copy for the usual
        // width: a copy of `width` bytes is a `memcpy` call per reference word on the M0+.
        if width == 4 {
            out[at..at + 4].copy_from_slice(&(word as u32).to_le_bytes());
        } else {
            out[at..at + width].copy_from_slice(&word.to_le_bytes()[..width]);
        }
        on_ref(offset);
        Ok(())
    })
}

/// The VM's `scan` of `obj` (frozen size `size`): each reference slot checked against the
/// contract before `visit` sees it; the first error (the contract's or `visit`'s) ends the
/// visits. Slots without a target are passed over: the plan checked every slot when it traversed
/// the object, and a slot without a reference writes nothing and marks nothing in the maps.
/// Generic in `visit`, so that the per-slot work inlines (it runs for every reference word).
fn checked_scan<M, F>(vm: &M, obj: M::Ref, size: u32, mut visit: F) -> Result<(), FreezeError>
where
    M: ObjectModel + ?Sized,
    F: FnMut(u32, M::Ref, Option<u64>) -> Result<(), FreezeError>,
{
    let mut failed = None;
    vm.scan(obj, &mut |slot: Slot<M::Ref>| {
        if failed.is_some() {
            return;
        }
        if let Some(to) = slot.target {
            failed = check_slot(vm, obj, size, &slot)
                .and_then(|()| visit(slot.offset, to, slot.tag))
                .err();
        }
    });
    failed.map_or(Ok(()), Err)
}

/// Report the offset of each reference word of `planned`'s frozen copy, as [`write_object`]
/// does, from the VM's `scan` alone: no frozen bytes, no address lookups. For passes that only
/// need to know where the references are (the image's pointer map); the writer checks that they
/// agree with the pass that wrote the bytes.
pub(crate) fn reference_offsets<M>(
    vm: &M,
    planned: &PlannedObject<M::Ref>,
    on_ref: &mut dyn FnMut(u32),
) -> Result<(), FreezeError>
where
    M: ObjectModel + ?Sized,
{
    checked_scan(vm, planned.obj, planned.layout.size, |offset, _, _| {
        on_ref(offset);
        Ok(())
    })
}

/// Redirect every live reference to a placed object to its frozen copy.
pub(crate) fn fix_up_live<M, T>(vm: &mut M, table: &T, target: &Target)
where
    M: LiveHeap + ?Sized,
    T: ForwardingTable<M>,
{
    vm.rewrite_live_refs(&mut |vm: &M, r| match vm.space(r) {
        Space::Heap => table
            .get(vm, r)
            .map(|at| vm.frozen_ref(target.absolute(at))),
        Space::Static | Space::Frozen => None,
    });
}
