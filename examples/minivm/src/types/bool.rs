//! `bool`: the two statics `True` (`[hdr 1|BOOL]`) and `False` (`[hdr 0|BOOL]`); an int in
//! arithmetic, as in Python.

use alloc::string::String;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `bool` type.
pub struct Bool;

impl<F: FlashImage> NativeType<F> for Bool {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        print: Some(print),
        ..TypeSlots::new(Kind::BOOL, "bool")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    s.push_str(if v.0 == vm.st.true_ { "True" } else { "False" });
    Ok(())
}

/// `bool()`, `bool(x)`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    let t = match args.first() {
        Some(&x) => vm.truthy(x)?,
        None => false,
    };
    Ok(vm.bool_val(t))
}
