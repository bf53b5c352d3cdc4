//! `classmethod`: `[hdr|CLASS_METH][function]`; looked up it binds the class.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The `classmethod` type.
pub struct ClassMethod;

impl<F: FlashImage> NativeType<F> for ClassMethod {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        ..TypeSlots::new(Kind::CLASS_METH, "classmethod")
    };
}

fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.alloc_obj(Kind::CLASS_METH, 0, &[arg(args, 0)])
}
