//! Bound methods: `[hdr|BOUND_METH][function][self]`.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `bound_method` type.
pub struct BoundMethod;

impl<F: FlashImage> NativeType<F> for BoundMethod {
    const TYPE: TypeSlots<F> = TypeSlots {
        names: &["__self__"],
        ..TypeSlots::new(Kind::BOUND_METH, "bound_method")
    };
}
