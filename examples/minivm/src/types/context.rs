//! Module contexts: `[hdr|CONTEXT][globals][qstr table][constant table]`, what a module's functions share.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `context` type.
pub struct Context;

impl<F: FlashImage> NativeType<F> for Context {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::CONTEXT, "context");
}
