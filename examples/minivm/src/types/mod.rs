//! The native types, one file each (MicroPython's `objint.c`, `objstr.c`…).
//!
//! Each file declares its type's [`crate::slots::TypeSlots`] (`impl NativeType<F> for …`):
//! its kind, name, layout and frozen placement, methods and slot functions, and documents its
//! object layout. The registry lists it; the runtime reaches it only through the slots. Files
//! here add no methods to `Vm`: they use the core's.

pub mod array;
pub mod bigint;
pub mod bool;
pub mod bound_method;
pub mod buffer;
pub mod builtin;
pub mod bytearray;
pub mod bytes;
pub mod cell;
pub mod class;
pub mod classmethod;
pub mod closure;
pub mod code;
pub mod const_array;
pub mod context;
pub mod dict;
pub mod ellipsis;
pub mod exception;
pub mod file;
pub mod float;
pub mod func;
pub mod generator;
pub mod handle;
pub mod instance;
pub mod int;
pub mod iter;
pub mod list;
pub mod memoryview;
pub mod module;
pub mod namedtuple;
pub mod none;
pub mod property;
pub mod qstr_pool;
pub mod range;
pub mod set;
pub mod slice;
pub mod staticmethod;
pub mod str;
pub mod str_format;
pub mod str_methods;
pub mod stringio;
pub mod tuple;
pub mod unicode;
