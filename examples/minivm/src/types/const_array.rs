//! Constant arrays: an `ARRAY` that never changes once built (qstr, constant and children tables, namespace dict tables). Internal.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `const_array` type.
pub struct ConstArray;

impl<F: FlashImage> NativeType<F> for ConstArray {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::CONST_ARRAY, "const_array");
}
