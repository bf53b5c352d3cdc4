//! Bound methods: `[hdr|BOUND_METH][function][self]`; calling one calls the function with
//! `self` first.

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `bound_method` type.
pub struct BoundMethod;

impl<F: FlashImage> NativeType<F> for BoundMethod {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        names: &["__self__"],
        ..TypeSlots::new(Kind::BOUND_METH, "bound_method")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.func_name(vm.wv(v, 1));
    let _ = write!(s, "<bound_method {n}>");
    Ok(())
}
