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

use alloc::vec::Vec;
use core::mem::size_of;

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
    if !layout.align.is_power_of_two() || layout.align > 4096 {
        return Err(contract(vm, obj, Violation::Align(layout.align)));
    }
    Ok(layout)
}

/// Check a slot against the object's frozen size and the reference width.
pub(crate) fn check_slot<M: ObjectModel + ?Sized>(
    vm: &M,
    obj: M::Ref,
    size: u32,
    slot: &Slot<M::Ref>,
) -> Result<(), FreezeError> {
    let violation = if slot.offset % M::REF_BYTES != 0 {
        Violation::SlotMisaligned {
            offset: slot.offset,
        }
    } else if slot
        .offset
        .checked_add(M::REF_BYTES)
        .is_none_or(|end| end > size)
    {
        Violation::SlotOutOfBounds {
            offset: slot.offset,
            size,
        }
    } else {
        return Ok(());
    };
    Err(contract(vm, obj, violation))
}

/// What a traversal found.
pub(crate) struct Traversed {
    /// Heap objects entered.
    pub count: usize,
    /// Peak bytes of the worklist and the ancestry stack.
    pub peak_bytes: usize,
}

/// Walk the heap graph from `roots`, calling `enter(root_index, path)` for every heap object
/// once, the object being `path.last()`.
///
/// On error, the marked objects that `enter` did not accept (those still on the worklist, and
/// the one `enter` refused) are appended to `unentered`, so the caller can release every mark.
pub(crate) fn traverse<M, T>(
    vm: &M,
    table: &mut T,
    roots: impl Iterator<Item = M::Ref>,
    mut enter: impl FnMut(usize, &[Step<M::Ref>]) -> Result<(), FreezeError>,
    unentered: &mut Vec<M::Ref>,
) -> Result<Traversed, FreezeError>
where
    M: ObjectModel + ?Sized,
    T: ForwardingTable<M>,
{
    let mut work: Vec<Work<M::Ref>> = Vec::new();
    let mut path: Vec<Step<M::Ref>> = Vec::new();
    let mut count = 0usize;
    let mut pending: Option<FreezeError> = None;
    // The object being entered when `enter` failed: marked, but in no list of the caller's.
    let mut current: Option<M::Ref> = None;

    let result = (|| {
        for (root_index, root) in roots.enumerate() {
            if vm.space(root) != Space::Heap || !table.mark(vm, root)? {
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
                let size = checked_layout(vm, step.obj)?.size;
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
                    if vm.space(target) != Space::Heap {
                        return;
                    }
                    match table.mark(vm, target) {
                        Ok(true) => work.push(Work::Enter(Step {
                            obj: target,
                            slot: this,
                        })),
                        Ok(false) => {}
                        Err(e) => pending = Some(e),
                    }
                });
                if let Some(e) = pending.take() {
                    return Err(e);
                }
                // Children were pushed in slot order; reverse so the first slot is entered first.
                work[first_child..].reverse();
            }
        }
        Ok(())
    })();
    // Vecs only grow, so their final capacities are their peaks.
    let peak_bytes =
        work.capacity() * size_of::<Work<M::Ref>>() + path.capacity() * size_of::<Step<M::Ref>>();

    if result.is_err() {
        unentered.extend(current);
        unentered.extend(work.iter().filter_map(|w| match w {
            Work::Enter(step) => Some(step.obj),
            Work::Exit => None,
        }));
    }
    result.map(|()| Traversed { count, peak_bytes })
}
