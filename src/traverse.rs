//! Traverse: every heap object reachable from the roots, once each, in a deterministic order.
//!
//! Iterative depth-first search with an explicit worklist, so a chain of a million objects
//! needs no call stack. An object is marked when it is first *discovered* (pushed), so each is
//! pushed once and the worklist never holds more entries than objects plus the current depth.
//!
//! The worklist interleaves `Enter(obj)` and `Exit` entries; the `Exit` pushed below an object's
//! children pops its frame off the *ancestry* stack after its subtree is done. So when an object
//! is entered, the ancestry is exactly its path from the root — the classifier gets paths like
//! `mymod.MyClass.method.<defaults>[0]` without storing a parent per object.
//!
//! Order: roots in the order given; inside an object, slots in the VM's `scan` order; an object
//! reachable twice is placed where it was first discovered. The same graph gives the same order.

use alloc::string::String;
use alloc::vec::Vec;
use core::mem::size_of;
use core::ops::Range;

use crate::error::{FreezeError, Violation, contract};
use crate::forward::ForwardingTable;
use crate::model::{FrozenLayout, ObjectModel, Slot, Space};

/// One step of a path: the object, and the index of the slot of its parent that led to it
/// ([`Step::ROOT`] for the root itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step<R> {
    /// The object.
    pub obj: R,
    /// Index (in `scan` order) of the parent's slot that refers to `obj`.
    pub slot: u32,
}

impl<R> Step<R> {
    /// The slot index of a root step.
    pub const ROOT: u32 = u32::MAX;
}

enum Work<R> {
    Enter(Step<R>),
    Exit,
}

/// The layout of `obj`, checked against the contract.
pub(crate) fn checked_layout<M: ObjectModel + ?Sized>(
    vm: &M,
    obj: M::Ref,
) -> Result<FrozenLayout, FreezeError> {
    let layout = vm.frozen_layout(obj);
    if layout.size == 0 {
        return Err(contract(vm, obj, Violation::ZeroSize));
    }
    if !layout.align.is_power_of_two() {
        return Err(contract(
            vm,
            obj,
            Violation::AlignNotPowerOfTwo(layout.align),
        ));
    }
    if layout.align > FrozenLayout::MAX_ALIGN {
        return Err(contract(vm, obj, Violation::AlignTooLarge(layout.align)));
    }
    Ok(layout)
}

/// Check a slot against the object's frozen size and the reference encoding.
pub(crate) fn check_slot<M: ObjectModel + ?Sized>(
    vm: &M,
    obj: M::Ref,
    size: u32,
    slot: &Slot<M::Ref>,
) -> Result<(), FreezeError> {
    let width = M::ENCODING.width();
    let violation = if slot.offset % width != 0 {
        Violation::SlotMisaligned {
            offset: slot.offset,
            width,
        }
    } else if slot.offset.checked_add(width).is_none_or(|end| end > size) {
        Violation::SlotOutOfBounds {
            offset: slot.offset,
            size,
        }
    } else if let Some(tag) = slot.tag.filter(|t| t & !M::ENCODING.tag_mask() != 0) {
        Violation::SlotTag {
            offset: slot.offset,
            tag,
        }
    } else {
        return Ok(());
    };
    Err(contract(vm, obj, violation))
}

/// Whether a kept object `obj` may be pointed at: with declared static ranges, a `Static`
/// object must lie inside one (the mount validator refuses any other pointer).
pub(crate) fn check_kept<M: ObjectModel + ?Sized>(
    vm: &M,
    obj: M::Ref,
    statics: Option<&[Range<u64>]>,
) -> Result<(), FreezeError> {
    let Some(ranges) = statics else {
        return Ok(());
    };
    let address = vm.address(obj);
    if vm.space(obj) == Space::Static && !ranges.iter().any(|r| r.contains(&address)) {
        return Err(contract(vm, obj, Violation::StaticOutOfRange { address }));
    }
    Ok(())
}

/// Renders the path to an object from the root index and the steps.
pub(crate) type RenderPath<'a, R> = dyn Fn(usize, &[Step<R>]) -> String + 'a;

/// Told what the traversal's scans find: each entered object's layout, then its reference slots
/// (checked, in the VM's scan order), then that the scan is done. Entered objects are scanned in
/// the order they are entered, which is the order the plan gives their addresses in each section
/// (the store's freeze builds the flash section's maps here, without a walk of its own).
pub(crate) trait ScanHook {
    /// An object was entered; its scan follows.
    fn object(&mut self, layout: FrozenLayout);
    /// One of its reference slots (`Slot::target` set), at byte `offset`.
    fn reference(&mut self, offset: u32);
    /// Its scan is complete.
    fn scanned(&mut self);
}

/// No hook.
impl ScanHook for () {
    #[inline]
    fn object(&mut self, _: FrozenLayout) {}
    #[inline]
    fn reference(&mut self, _: u32) {}
    #[inline]
    fn scanned(&mut self) {}
}

/// What a traversal found.
pub(crate) struct Traversed {
    /// Heap objects entered.
    pub count: usize,
    /// Peak bytes of the worklist and the ancestry stack.
    pub peak_bytes: usize,
}

/// Walk the heap graph from `roots` (`None` entries start no walk), calling `enter(root_index, path)` for every heap object
/// once, the object being `path.last()`.
///
/// On error, the marked objects that `enter` did not accept (those still on the worklist, and
/// the one `enter` refused) are appended to `unentered`, so the caller can release every mark.
/// A contract error gets the path to the object concerned from `render(root_index, path)`.
/// With `statics`, a pointer to a static object outside them is a contract error.
#[allow(clippy::too_many_arguments)]
pub(crate) fn traverse<M, T, H>(
    vm: &M,
    table: &mut T,
    roots: impl Iterator<Item = Option<M::Ref>>,
    mut enter: impl FnMut(usize, &[Step<M::Ref>]) -> Result<(), FreezeError>,
    unentered: &mut Vec<M::Ref>,
    statics: Option<&[Range<u64>]>,
    render: &RenderPath<'_, M::Ref>,
    hook: &mut H,
) -> Result<Traversed, FreezeError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
    H: ScanHook,
{
    let mut work: Vec<Work<M::Ref>> = Vec::new();
    let mut path: Vec<Step<M::Ref>> = Vec::new();
    let mut count = 0usize;
    let mut pending: Option<FreezeError> = None;
    // The object being entered when `enter` failed: marked, but in no list of the caller's.
    let mut current: Option<M::Ref> = None;
    // Where a contract error was found: the root, and the child step it concerns (if not the
    // object being entered).
    let mut at_root = 0usize;
    let mut child: Option<Step<M::Ref>> = None;

    let result = (|| {
        for (root_index, root) in roots.enumerate() {
            let Some(root) = root else { continue };
            at_root = root_index;
            if vm.space(root) != Space::Heap {
                check_kept(vm, root, statics)?;
                continue;
            }
            if !table.mark(vm, root)? {
                continue;
            }
            work.push(Work::Enter(Step {
                obj: root,
                slot: Step::<M::Ref>::ROOT,
            }));
            while let Some(item) = work.pop() {
                let step = match item {
                    Work::Exit => {
                        path.pop();
                        continue;
                    }
                    Work::Enter(step) => step,
                };
                path.push(step);
                count += 1;
                current = Some(step.obj);
                enter(root_index, &path)?;
                current = None;
                work.push(Work::Exit);
                let first_child = work.len();
                let layout = checked_layout(vm, step.obj)?;
                let size = layout.size;
                hook.object(layout);
                let mut index = 0u32;
                vm.scan(step.obj, &mut |slot: Slot<M::Ref>| {
                    let this = index;
                    index += 1;
                    if pending.is_some() {
                        return;
                    }
                    if let Err(e) = check_slot(vm, step.obj, size, &slot) {
                        pending = Some(e);
                        return;
                    }
                    let Some(target) = slot.target else { return };
                    hook.reference(slot.offset);
                    let to = Step {
                        obj: target,
                        slot: this,
                    };
                    if vm.space(target) != Space::Heap {
                        if let Err(e) = check_kept(vm, target, statics) {
                            child = Some(to);
                            pending = Some(e);
                        }
                        return;
                    }
                    match table.mark(vm, target) {
                        Ok(true) => work.push(Work::Enter(to)),
                        Ok(false) => {}
                        Err(e) => {
                            child = Some(to);
                            pending = Some(e);
                        }
                    }
                });
                if let Some(e) = pending.take() {
                    return Err(e);
                }
                hook.scanned();
                // Children were pushed in slot order; reverse so the first slot is entered first.
                work[first_child..].reverse();
            }
        }
        Ok(())
    })();
    // Vecs only grow, so their final capacities are their peaks.
    let peak_bytes =
        work.capacity() * size_of::<Work<M::Ref>>() + path.capacity() * size_of::<Step<M::Ref>>();

    let result = result.map_err(|e| {
        e.with_path(|| {
            path.extend(child);
            render(at_root, &path)
        })
    });
    if result.is_err() {
        unentered.extend(current);
        unentered.extend(work.iter().filter_map(|w| match w {
            Work::Enter(step) => Some(step.obj),
            Work::Exit => None,
        }));
    }
    result.map(|()| Traversed { count, peak_bytes })
}
