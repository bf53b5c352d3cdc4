//! `NoneType`: the one static `None`, `[hdr|NONE]`.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `NoneType` type.
pub struct NoneType;

impl<F: FlashImage> NativeType<F> for NoneType {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::NONE, "NoneType");
}
