//! Slices: `[hdr|SLICE][start][stop][step]`, built by `BUILD_SLICE`.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `slice` type.
pub struct Slice;

impl<F: FlashImage> NativeType<F> for Slice {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::SLICE, "slice");
}
