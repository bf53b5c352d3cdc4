//! minivm: a small MicroPython-compatible VM that runs real `.mpy` v6 bytecode.
//!
//! The core is `no_std` + `alloc` and runs unchanged on the host and on the RP2040. Objects
//! live as little-endian bytes in a modelled 32-bit address space ([`memmap`]), so a graph
//! frozen into flash on the host is byte-identical to one frozen on the device.
//!
//! Pipeline of a `import m`:
//!
//! ```text
//! .mpy bytes ─► mpy::parse (validate) ─► Vm::load_mpy (heap objects) ─► interp (run body)
//!                                                       │
//!                       heap (mem, 16-byte blocks) ◄────┴──► mark-sweep GC (vm::collect)
//! ```
//!
//! The tree is shaped like MicroPython's `py/`, in layers that only look down:
//!
//! ```text
//! top      registry (every type and module, once) · host (console) · session (the console
//!          protocol over a byte link) · sources · repl · bin
//! modules/ one file per builtin module (gc, sys, utime, …), each a ModuleDef
//! types/   one file per native type (int, str, list, dict, class, instance, …), each a
//!          TypeSlots: make_new, print, unary/binary op, attr, subscr, iter, call, buffer,
//!          methods, layout and frozen placement
//! core     obj · mem · memmap · qstr · vm · objects · exc · slots · statics · natives ·
//!          runtime/ (the dispatch through the slots) · prelude · frame · interp · import ·
//!          mpy · number · mpz · formatfloat · mpprint · regex (the `re` engine) · freeze (the
//!          flashfreeze binding) · vfs (the filesystem trait, `sys.path` on it) · poll (Ctrl-C
//!          and output while code runs) · ramsection
//! ```
//!
//! The core never names `types` or `modules`: [`registry`] hands it their slot tables as a
//! [`slots::Builtins`] ([`Vm::new`]), and the runtime reaches a value's behaviour by its kind
//! in that table. `tests/layering.rs` keeps it so.
//!
//! ```
//! use minivm::{Vm, mem::RamFlash};
//! let mut vm = Vm::new(RamFlash::erased(), minivm::memmap::HEAP_DEFAULT);
//! vm.exec_line("import gc; gc.collect(); x = 6 * 7; print(x)").unwrap();
//! assert_eq!(vm.take_output(), "42\n");
//! ```
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod exc;
pub mod formatfloat;
pub mod frame;
pub mod freeze;
pub mod host;
pub mod import;
pub mod inspect;
pub mod interp;
pub mod lifecycle;
pub mod mem;
pub mod memmap;
pub mod modules;
pub mod mpprint;
pub mod mpy;
pub mod mpz;
pub mod natives;
pub mod number;
pub mod obj;
pub mod objects;
pub mod poll;
pub mod prelude;
pub mod qstr;
pub mod ramsection;
pub mod regex;
pub mod registry;
pub mod repl;
pub mod runtime;
pub mod session;
pub mod slots;
pub mod sources;
pub mod statics;
pub mod types;
pub mod vfs;
pub mod vm;

pub use mem::{FlashImage, RamFlash};
pub use obj::Value;
pub use vm::{ModuleSource, Vm};
