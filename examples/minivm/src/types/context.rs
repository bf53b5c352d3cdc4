//! Module contexts: `[hdr|CONTEXT][globals][qstr table][constant table]`, what a module's functions share.
//! The qstr table is a bytes object of u16 ids (a constant array of qstr words only if an id
//! does not fit 16 bits); `Vm::qstr_of_ctx` reads either.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `context` type.
pub struct Context;

impl<F: FlashImage> NativeType<F> for Context {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::CONTEXT, "context");
}
