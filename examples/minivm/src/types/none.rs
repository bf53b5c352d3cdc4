//! `NoneType`: the one static `None`, `[hdr|NONE]`.

use alloc::string::String;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `NoneType` type.
pub struct NoneType;

impl<F: FlashImage> NativeType<F> for NoneType {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        ..TypeSlots::new(Kind::NONE, "NoneType")
    };
}

fn print<F: FlashImage>(
    _vm: &mut Vm<F>,
    _v: Value,
    s: &mut String,
    _d: u32,
    _k: PrintKind,
) -> R<()> {
    s.push_str("None");
    Ok(())
}
