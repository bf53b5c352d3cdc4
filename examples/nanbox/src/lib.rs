//! nanbox: a second flashfreeze binding, deliberately unlike minivm, written as the guide for
//! the next VM author.
//!
//! | | minivm | nanbox |
//! |---|---|---|
//! | words | 32-bit | 64-bit |
//! | values | MicroPython's tagged words (tag `0b00` pointers) | NaN-boxed doubles, tags in the top 16 bits |
//! | heap | a block heap at fixed addresses | an arena of Rust enums, referenced by index |
//! | frozen references | the bare address ([`flashfreeze::RefEncoding::ADDRESS_32`]) | NaN-boxed address, a tag per kind ([`flashfreeze::RefEncoding::nan_boxed`]) |
//!
//! Read [`freeze`] first: it walks through every method the library asks for. [`value`] is the
//! NaN-boxing, [`vm`] the VM and its one value path, which reads heap objects from the arena and
//! frozen ones in place from flash or the RAM section.
//!
//! ```
//! use flashfreeze::sim::{SharedFlash, SimFlash};
//! use nanbox::value::Value;
//! use nanbox::vm::{Flash, Obj, Vm, FLASH_SIZE};
//!
//! let flash: Flash = SharedFlash::new(SimFlash::new(FLASH_SIZE));
//! let mut vm = Vm::new(flash.clone());
//! let (name, key) = (vm.str("config"), vm.str("version"));
//! let globals = vm.alloc(Obj::Table(vec![(key, Value::double(1.5))]));
//! let module = vm.alloc(Obj::Module { name, globals });
//! vm.modules.insert("config".into(), module);
//! vm.freeze("config").unwrap();
//!
//! let vm = Vm::boot(flash).unwrap(); // reboot: a fresh VM over the same flash
//! let config = vm.import("config").unwrap();
//! assert_eq!(vm.get(config, "version").and_then(Value::as_double), Some(1.5));
//! ```

pub mod freeze;
pub mod value;
pub mod vm;
