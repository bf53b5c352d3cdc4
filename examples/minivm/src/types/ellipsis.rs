//! `ellipsis`: the one static `...`, `[hdr|ELLIPSIS]`.

use alloc::string::String;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `ellipsis` type.
pub struct Ellipsis;

impl<F: FlashImage> NativeType<F> for Ellipsis {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        ..TypeSlots::new(Kind::ELLIPSIS, "ellipsis")
    };
}

fn print<F: FlashImage>(
    _vm: &mut Vm<F>,
    _v: Value,
    s: &mut String,
    _d: u32,
    _k: PrintKind,
) -> R<()> {
    s.push_str("Ellipsis");
    Ok(())
}
