//! Classes: `[hdr flags|CLASS][name qstr][bases tuple][namespace dict]`, the type object of a
//! Python class and of every native type (`class_flags::NATIVE`, its kind in aux bits 8..16).

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `type` type.
pub struct Class;

impl<F: FlashImage> NativeType<F> for Class {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        print: Some(print),
        stats_name: "class",
        names: &["__bases__"],
        ..TypeSlots::new(Kind::CLASS, "type")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.class_name(v.0);
    let _ = write!(s, "<class '{n}'>");
    Ok(())
}

/// `type(x)`: the class of `x` (`type(name, bases, dict)` is not supported yet).
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    if args.len() == 1 {
        return Ok(Value(vm.type_of(arg(args, 0))));
    }
    vm.raise_msg("NotImplementedError", "type() with 3 arguments")
}
