//! Builtin functions: `[hdr id|BUILTIN][name qstr]`, firmware statics; the id names a native table and an entry (see `natives`).

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `builtin_function` type.
pub struct Builtin;

impl<F: FlashImage> NativeType<F> for Builtin {
    const TYPE: TypeSlots<F> = TypeSlots {
        stats_name: "builtin",
        ..TypeSlots::new(Kind::BUILTIN, "builtin_function")
    };
}
