//! The builtin modules, one file each (MicroPython's `modsys.c`, `modutime.c`…): each declares
//! a [`crate::slots::ModuleDef`] with its functions and constants, and the registry lists it.
//! A module may define its own types too (see `types` for how a type is declared).

pub mod array;
pub mod binascii;
pub mod builtins;
pub mod collections;
pub mod errno;
pub mod freeze;
pub mod gc;
pub mod hashlib;
pub mod heapq;
pub mod io;
pub mod json;
pub mod math;
pub mod micropython;
pub mod os;
pub mod random;
pub mod re;
pub mod select;
pub mod socket;
pub mod sys;
pub mod time;
pub mod timeq;
pub mod ustruct;
