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

pub mod builtins;
pub mod freeze;
pub mod host;
pub mod host_block;
pub mod interp;
pub mod mem;
pub mod memmap;
pub mod modos;
pub mod mpy;
pub mod natives;
pub mod obj;
pub mod ops;
pub mod poll;
pub mod qstr;
pub mod ramsection;
pub mod repl;
pub mod session;
pub mod sources;
pub mod vfs;
pub mod vm;

pub use mem::{FlashImage, RamFlash};
pub use obj::Value;
pub use vm::{ModuleSource, Vm};
