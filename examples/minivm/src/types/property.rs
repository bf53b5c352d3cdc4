//! `property`: `[hdr|PROPERTY][getter][setter or None][deleter, None]`.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The `property` type.
pub struct Property;

impl<F: FlashImage> NativeType<F> for Property {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        ..TypeSlots::new(Kind::PROPERTY, "property")
    };
}

/// `property(fget[, fset])`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    let none = vm.none();
    let s = if args.len() > 1 { args[1] } else { none };
    vm.alloc_obj(Kind::PROPERTY, 0, &[arg(args, 0), s, none])
}
