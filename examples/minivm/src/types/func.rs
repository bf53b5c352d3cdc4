//! Bytecode functions: `[hdr flags|FUNC][code][context][defaults]` (see `obj` for the compact
//! frozen layout without the defaults word). Calling one runs its code in a new frame.

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::qstr::sq;
use crate::slots::{Attr, AttrOp, NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `function` type.
pub struct Func;

impl<F: FlashImage> NativeType<F> for Func {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        attr: Some(attr),
        call: Some(call),
        ..TypeSlots::new(Kind::FUNC, "function")
    };
}

/// `<function name at 0x…>` of a function or closure.
pub fn print<F: FlashImage>(
    vm: &mut Vm<F>,
    v: Value,
    s: &mut String,
    _d: u32,
    _k: PrintKind,
) -> R<()> {
    let n = vm.func_name(v);
    let _ = write!(s, "<function {n} at 0x{:08x}>", v.0);
    Ok(())
}

/// `f.__name__` of a function or closure.
pub fn attr<F: FlashImage>(vm: &mut Vm<F>, f: Value, name: Value, op: AttrOp) -> R<Attr> {
    if op == AttrOp::Load && name == sq!("__name__") {
        let n = vm.func_name(f);
        return Ok(Attr::Found(vm.new_str(n.as_bytes())?));
    }
    Ok(Attr::Default)
}

/// Calling a function or closure runs its bytecode in a new frame.
pub fn call<F: FlashImage>(vm: &mut Vm<F>, f: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.call_bc(f, args, kw, Value::NULL)
}
