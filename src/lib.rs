//! Run-time freezing of an embedded interpreter's object graph into NOR flash.
//!
//! An interpreter on a microcontroller spends most of its RAM on imported modules. flashfreeze
//! moves that object graph into flash *on the device, at run time*: start at a module, find
//! every object it reaches, put the immutable ones in flash and the mutable ones in a small
//! fixed RAM section (whose initial state is stored in flash too), rewrite every pointer, write
//! an image, and let the VM continue — now, and after every reboot — on the frozen copies.
//!
//! ```text
//! roots ─► traverse ─► classify ─► [dedup] ─► relocate ─► plan ─► image::write ─► store (NorFlash)
//!                                               │                                   │
//!                                               └─► live fix-up (VM keeps running)  └─► mount at boot ─► VM
//! ```
//!
//! | stage | module | what it does |
//! |---|---|---|
//! | contract | [`model`] | what a VM tells the freezer: spaces, mutability, layouts, slots, its reference encoding |
//! | traverse → relocate | [`mod@plan`] | reachable heap objects, their placement and frozen addresses, with paths and stats |
//! | image | [`image`] | the on-flash format (`docs/image-format.md`), its validating reader, dumps |
//! | store | [`store`] | batches appended to a region of a `NorFlash`, committed last, power-cut safe |
//! | mount | [`mount`] | boot: validate, restore the RAM section, hand the VM its roots |
//!
//! # Using it from a VM
//! 1. Implement [`ObjectModel`] (and [`LiveHeap`], so the VM continues on the frozen copies)
//!    for your VM — `examples/nanbox` in the repository is a complete, commented binding.
//! 2. Freeze: [`store::Store::open`] on your flash region, then one call,
//!    [`store::Store::freeze`], which plans, appends, restores the RAM section and redirects
//!    the VM's live references.
//! 3. At boot: [`mount::mount`], then find your roots in [`mount::Mounted::roots`].
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
//! [`store::Store::freeze`] has the whole freeze-and-continue path as an example.
//!
//! # Features
//! | feature | what it adds |
//! |---|---|
//! | *(none)* | the whole library: `no_std` with `alloc`, builds for Cortex-M0+ (`thumbv6m-none-eabi`) |
//! | `async` | `store::AsyncStore`: append and clear over an `embedded-storage-async` `NorFlash` |
//! | `defmt` | `defmt::Format` for every error type (and what they carry) |
//! | `sim` | `flashfreeze::sim`: a strict NOR flash simulator with power cuts and counters, and a shared device for host VMs |
//! | `testing` | `flashfreeze::testing`: a reference object model, for tests, fuzzing and benchmarks |
//! | `std` | nothing but `extern crate std` (every error type implements `core::error::Error` without it) |
//! | `unstable` | `flashfreeze::unstable`: the library's internals (the format's records and codecs, the validator's sources, the batch writer) for tools, fuzzing and the crate's own tests. **No semver guarantee**: they change in any release |
//!
//! # Stability
//! The public API is listed in `tests/api/public-api.txt` (checked in CI): a change to it shows
//! up in review. The on-flash format is versioned ([`image::FORMAT_VERSION`]) and specified in
//! `docs/image-format.md`.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod classify;
mod dedup;
pub mod error;
mod forward;
pub mod image;
pub mod model;
pub mod mount;
pub mod plan;
mod relocate;
#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;
pub mod store;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod traverse;
#[cfg(feature = "unstable")]
#[cfg_attr(docsrs, doc(cfg(feature = "unstable")))]
pub mod unstable;

pub use error::{FreezeError, Violation};
pub use model::{
    Forwarding, FrozenLayout, InObjectForwarding, LiveHeap, Mutability, ObjectModel, Placement,
    RefEncoding, Slot, SlotVisitor, Space,
};
pub use plan::{
    Dedup, Plan, PlanRoot, PlannedObject, Root, RootKind, Stats, Target, plan, plan_dedup,
    plan_in_object,
};

/// The README's examples are compiled and run as doc tests, so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
