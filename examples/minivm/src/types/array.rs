//! Arrays: `[hdr n|ARRAY][v0]…`, the growable backing store of lists and dict/set tables, and a generator's saved frame (`ARRAY_FIXED`). Internal: Python never sees one.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `array` type.
pub struct Array;

impl<F: FlashImage> NativeType<F> for Array {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::ARRAY, "array");
}
