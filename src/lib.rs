//! Run-time freezing of an embedded interpreter's object graph into NOR flash.
//!
//! An interpreter on a microcontroller spends most of its RAM on imported modules. flashfreeze
//! moves that object graph into flash *on the device, at run time*: start at a module, find
//! every object it reaches, put the immutable ones in flash and the mutable ones in a small
//! fixed RAM section (whose initial state is stored in flash too), rewrite every pointer, write
//! an image, and let the VM continue — now, and after every reboot — on the frozen copies.
//!
//! ```text
//! roots ─► traverse ─► classify ─► relocate ─► plan ─► image::write ─► store (NorFlash)
//!                                     │                                   │
//!                                     └─► live fix-up (VM keeps running)  └─► mount at boot ─► VM
//! ```
//!
//! | stage | module | what it does |
//! |---|---|---|
//! | contract | [`model`] | what a VM tells the freezer: spaces, mutability, layouts, slots |
//! | bookkeeping | [`forward`] | seen-marks and forwarding: a compact side table or object headers |
//! | traverse | [`traverse`] | reachable heap objects, once each, iterative, deterministic, with paths |
//! | classify | [`classify`] | flash / RAM section / kept / rejected, and the path that says why |
//! | relocate | [`relocate`] | addresses, frozen bytes with rewritten references, live fix-up |
//! | plan | [`mod@plan`] | the checked result of the above, with its stats |
//!
//! # Example
//! ```
//! use flashfreeze::testing::{Kind, TestHeap};
//! use flashfreeze::{Root, RootKind, Target};
//!
//! let mut vm = TestHeap::<4>::new();
//! let doc = vm.alloc(Kind::Immutable, &[]);
//! let counter = vm.alloc(Kind::Mutable, &[]);
//! let module = vm.alloc(Kind::Immutable, &[Some(doc), Some(counter)]);
//! let target = Target {
//!     flash_base: 0x1010_0040,
//!     flash_capacity: 64 * 1024,
//!     ram_base: 0x2003_0000,
//!     ram_capacity: 8 * 1024,
//! };
//! let plan = flashfreeze::plan(&vm, &[Root::new(RootKind::MODULE, "mymod", module)], target)?;
//! assert_eq!(plan.stats().to_string(), "froze 24 flash bytes, 8 ram bytes, 3 objects, 0 qstrs");
//! for obj in plan.objects(&vm) {
//!     let obj = obj?;
//!     let mut bytes = vec![0; obj.layout.size as usize];
//!     plan.write_object(&vm, &obj, &mut bytes, &mut |_ref_offset| {})?;
//!     // … stream `bytes` to flash at `obj.address` …
//! }
//! # Ok::<(), flashfreeze::FreezeError>(())
//! ```
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod classify;
pub mod error;
pub mod forward;
pub mod image;
pub mod model;
pub mod mount;
pub mod plan;
pub mod relocate;
#[cfg(feature = "sim")]
pub mod sim;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod traverse;

pub use error::{FreezeError, Violation};
pub use model::{
    Forwarding, FrozenLayout, InObjectForwarding, LiveHeap, Mutability, ObjectModel, Placement,
    Slot, SlotVisitor, Space,
};
pub use plan::{Plan, PlanRoot, Root, RootKind, Stats, plan, plan_in_object};
pub use relocate::{PlannedObject, Target};

/// The README's examples are compiled and run as doc tests, so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
