//! `ellipsis`: the one static `...`, `[hdr|ELLIPSIS]`.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `ellipsis` type.
pub struct Ellipsis;

impl<F: FlashImage> NativeType<F> for Ellipsis {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::ELLIPSIS, "ellipsis");
}
