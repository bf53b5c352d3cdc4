//! Errors of the planning stages (traverse → classify → relocate).
//!
//! Image, store and mount errors live with their own layers.

use alloc::string::String;
use core::fmt;

use crate::model::ObjectModel;

/// Why a freeze plan could not be made. Nothing was written when this is returned.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FreezeError {
    /// An object reachable from a root cannot be frozen.
    Unfreezable {
        /// The path from the root, e.g. `mymod.MyClass.method.<defaults>[0]`; at most
        /// [`crate::classify::ERROR_PATH_MAX`] bytes, keeping both ends of a longer one.
        path: String,
        /// The object's kind, as the VM names it.
        kind: &'static str,
        /// The VM's reason.
        reason: &'static str,
    },
    /// The flash objects do not fit in the space left in the image region.
    FlashFull {
        /// Bytes the flash section needs.
        needed: u64,
        /// Bytes available.
        capacity: u64,
    },
    /// The mutable objects do not fit in the frozen RAM section.
    RamFull {
        /// Bytes the RAM section needs.
        needed: u64,
        /// Bytes available.
        capacity: u64,
    },
    /// The VM answered something the contract in [`crate::model`] forbids.
    Contract {
        /// The path from a root to the object concerned, as for [`FreezeError::Unfreezable`]
        /// (empty when there is no object, e.g. a bad [`crate::ObjectModel::ENCODING`]).
        path: String,
        /// Address of the object concerned (0 when there is none).
        address: u64,
        /// The object's kind, as the VM names it.
        kind: &'static str,
        /// What was wrong.
        violation: Violation,
    },
}

/// A broken promise of the VM (see each [`crate::model::ObjectModel`] method).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// [`crate::ObjectModel::ENCODING`] cannot be used (the reason).
    Encoding(&'static str),
    /// A frozen size of zero.
    ZeroSize,
    /// An alignment that is not a power of two.
    AlignNotPowerOfTwo(u32),
    /// An alignment above [`crate::FrozenLayout::MAX_ALIGN`].
    AlignTooLarge(u32),
    /// A reference slot whose word does not fit inside the object.
    SlotOutOfBounds {
        /// Slot offset.
        offset: u32,
        /// Object size.
        size: u32,
    },
    /// A reference slot not aligned to the reference width.
    SlotMisaligned {
        /// Slot offset.
        offset: u32,
        /// The reference width.
        width: u32,
    },
    /// A slot's tag has bits outside the encoding's tag mask.
    SlotTag {
        /// Slot offset.
        offset: u32,
        /// The tag given.
        tag: u64,
    },
    /// A heap index at or above `heap_index_limit()`.
    HeapIndex {
        /// The index given.
        index: usize,
        /// The limit.
        limit: usize,
    },
    /// The frozen layout changed between planning and writing.
    LayoutChanged,
    /// A heap object was referenced at write time that the plan never reached.
    NotPlanned,
    /// The output buffer handed to `write_object` has the wrong size.
    BufferSize {
        /// Expected size.
        expected: u32,
        /// Size given.
        given: usize,
    },
    /// An address the reference encoding cannot express (too large for the width, below a
    /// compression base, or overlapping the tag bits), or a section that overflows the
    /// address space.
    Unencodable {
        /// The address.
        address: u64,
    },
    /// A static object whose address lies outside every declared static range (the mount
    /// validator would refuse the pointer).
    StaticOutOfRange {
        /// Its address.
        address: u64,
    },
    /// The in-object forwarding state was not what the freezer stored.
    ForwardingLost,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Encoding(why) => write!(f, "unusable reference encoding: {why}"),
            Self::ZeroSize => f.write_str("frozen size is zero"),
            Self::AlignNotPowerOfTwo(a) => write!(f, "alignment {a} is not a power of two"),
            Self::AlignTooLarge(a) => write!(
                f,
                "alignment {a} is above the largest, {}",
                crate::FrozenLayout::MAX_ALIGN
            ),
            Self::SlotOutOfBounds { offset, size } => {
                write!(
                    f,
                    "reference slot at offset {offset} does not fit in {size} bytes"
                )
            }
            Self::SlotMisaligned { offset, width } => {
                write!(
                    f,
                    "reference slot at offset {offset} is not a multiple of the {width}-byte reference width"
                )
            }
            Self::SlotTag { offset, tag } => write!(
                f,
                "reference slot at offset {offset} has tag {tag:#x}, outside the encoding's tag mask"
            ),
            Self::HeapIndex { index, limit } => {
                write!(f, "heap index {index} is not below the limit {limit}")
            }
            Self::LayoutChanged => f.write_str("frozen layout changed after planning"),
            Self::NotPlanned => f.write_str("refers to a heap object the plan never reached"),
            Self::BufferSize { expected, given } => {
                write!(f, "output buffer is {given} bytes, object is {expected}")
            }
            Self::Unencodable { address } => write!(
                f,
                "address {address:#x} cannot be expressed in the VM's reference encoding"
            ),
            Self::StaticOutOfRange { address } => write!(
                f,
                "static object at {address:#x} lies outside every declared static range"
            ),
            Self::ForwardingLost => f.write_str("in-object forwarding state was overwritten"),
        }
    }
}

impl fmt::Display for FreezeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unfreezable { path, kind, reason } => {
                write!(f, "cannot freeze {path} ({kind}): {reason}")
            }
            Self::FlashFull { needed, capacity } => write!(
                f,
                "flash section needs {needed} bytes, only {capacity} left in the image region"
            ),
            Self::RamFull { needed, capacity } => write!(
                f,
                "RAM section needs {needed} bytes, only {capacity} left in the frozen RAM section"
            ),
            Self::Contract {
                path,
                address,
                kind,
                violation,
            } => {
                write!(f, "VM contract broken by {kind} object at {address:#x}")?;
                if !path.is_empty() {
                    write!(f, " ({path})")?;
                }
                write!(f, ": {violation}")
            }
        }
    }
}

impl core::error::Error for FreezeError {}

/// A [`FreezeError::Contract`] about `obj`.
pub(crate) fn contract<M: ObjectModel + ?Sized>(
    vm: &M,
    obj: M::Ref,
    violation: Violation,
) -> FreezeError {
    FreezeError::Contract {
        path: String::new(),
        address: vm.address(obj),
        kind: vm.kind_name(obj),
        violation,
    }
}

impl FreezeError {
    /// Give a contract error without a path the path `path` (errors found while the
    /// traversal knows where it is).
    pub(crate) fn with_path(mut self, render: impl FnOnce() -> String) -> Self {
        if let Self::Contract { path, .. } = &mut self {
            if path.is_empty() {
                *path = render();
            }
        }
        self
    }
}
