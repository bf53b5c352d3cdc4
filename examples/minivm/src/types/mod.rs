//! The native types, one file each (MicroPython's `objint.c`, `objstr.c`…).
//!
//! Each file declares its type's [`crate::slots::TypeSlots`] (`impl NativeType<F> for …`):
//! its kind, name, layout and frozen placement, methods and slot functions, and documents its
//! object layout. The registry lists it; the runtime reaches it only through the slots. Files
//! here add no methods to `Vm`: they use the core's.

/// The method table of a text type: `$head` methods, then the ones str, bytes and bytearray share
/// (`str_methods`, in MicroPython's `objstr.c` order), then `$tail`. One list, so the three types
/// cannot drift apart.
macro_rules! text_methods {
    ([$($head:expr),* $(,)?], [$($tail:expr),* $(,)?]) => {
        &[
            $($head,)*
            $crate::slots::Native::new("find", $crate::types::str_methods::find),
            $crate::slots::Native::new("rfind", $crate::types::str_methods::rfind),
            $crate::slots::Native::new("index", $crate::types::str_methods::index),
            $crate::slots::Native::new("rindex", $crate::types::str_methods::rindex),
            $crate::slots::Native::new("join", $crate::types::str_methods::join),
            $crate::slots::Native::new("split", $crate::types::str_methods::split),
            $crate::slots::Native::new("splitlines", $crate::types::str_methods::splitlines),
            $crate::slots::Native::new("rsplit", $crate::types::str_methods::rsplit),
            $crate::slots::Native::new("startswith", $crate::types::str_methods::startswith),
            $crate::slots::Native::new("endswith", $crate::types::str_methods::endswith),
            $crate::slots::Native::new("strip", $crate::types::str_methods::strip),
            $crate::slots::Native::new("lstrip", $crate::types::str_methods::lstrip),
            $crate::slots::Native::new("rstrip", $crate::types::str_methods::rstrip),
            $crate::slots::Native::new("format", $crate::types::str_format::format),
            $crate::slots::Native::new("replace", $crate::types::str_methods::replace),
            $crate::slots::Native::new("count", $crate::types::str_methods::count),
            $crate::slots::Native::new("partition", $crate::types::str_methods::partition),
            $crate::slots::Native::new("rpartition", $crate::types::str_methods::rpartition),
            $crate::slots::Native::new("center", $crate::types::str_methods::center),
            $crate::slots::Native::new("lower", $crate::types::str_methods::lower),
            $crate::slots::Native::new("upper", $crate::types::str_methods::upper),
            $crate::slots::Native::new("isspace", $crate::types::str_methods::isspace),
            $crate::slots::Native::new("isalpha", $crate::types::str_methods::isalpha),
            $crate::slots::Native::new("isdigit", $crate::types::str_methods::isdigit),
            $crate::slots::Native::new("isupper", $crate::types::str_methods::isupper),
            $crate::slots::Native::new("islower", $crate::types::str_methods::islower),
            $($tail,)*
        ]
    };
}

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
