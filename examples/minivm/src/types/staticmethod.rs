//! `staticmethod`: `[hdr|STATIC_METH][function]`; looked up on a class or instance it is the
//! plain function.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The `staticmethod` type.
pub struct StaticMethod;

impl<F: FlashImage> NativeType<F> for StaticMethod {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        ..TypeSlots::new(Kind::STATIC_METH, "staticmethod")
    };
}

fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.alloc_obj(Kind::STATIC_METH, 0, &[arg(args, 0)])
}
