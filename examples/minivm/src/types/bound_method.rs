//! Bound methods: `[hdr|BOUND_METH][function][self]`; calling one calls the function with
//! `self` first.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{Attr, AttrOp, NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `bound_method` type.
pub struct BoundMethod;

impl<F: FlashImage> NativeType<F> for BoundMethod {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        attr: Some(attr),
        call: Some(call),
        ..TypeSlots::new(Kind::BOUND_METH, "bound_method")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.func_name(vm.wv(v, 1));
    let _ = write!(s, "<bound_method {n}>");
    Ok(())
}

/// Attribute loads go to the function (`m.__name__`), as MicroPython's `bound_meth_attr`:
/// a bound method has no `__self__` there.
fn attr<F: FlashImage>(vm: &mut Vm<F>, m: Value, name: Value, op: AttrOp) -> R<Attr> {
    if !matches!(op, AttrOp::Load | AttrOp::Method) {
        return Ok(Attr::Default);
    }
    let f = vm.wv(m, 1);
    Ok(match vm.try_load_attr(f, name)? {
        Some(v) => Attr::Found(v),
        None => Attr::Missing,
    })
}

/// `m(*args)` is `m.__func__(m.__self__, *args)`.
fn call<F: FlashImage>(vm: &mut Vm<F>, m: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    let mut a = Vec::with_capacity(args.len() + 1);
    a.push(vm.wv(m, 2));
    a.extend_from_slice(args);
    let f = vm.wv(m, 1);
    vm.call(f, &a, kw)
}
