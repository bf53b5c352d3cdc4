//! Modules: `[hdr|MODULE][name qstr][globals dict]`.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `module` type.
pub struct Module;

impl<F: FlashImage> NativeType<F> for Module {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::MODULE, "module");
}
