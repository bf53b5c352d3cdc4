//! Closures: `[hdr n|CLOSURE][func][cell0]…[cell n-1]`, a function with the cells it closes over.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `closure` type.
pub struct Closure;

impl<F: FlashImage> NativeType<F> for Closure {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::CLOSURE, "closure");
}
