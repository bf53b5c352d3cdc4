//! Bytecode functions: `[hdr flags|FUNC][code][context][defaults]` (see `obj` for the compact frozen layout without the defaults word).

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `function` type.
pub struct Func;

impl<F: FlashImage> NativeType<F> for Func {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::FUNC, "function");
}
