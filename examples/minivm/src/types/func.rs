//! Bytecode functions: `[hdr flags|FUNC][code][context][defaults]`. Calling one runs its code
//! in a new frame.
//!
//! A function without defaults freezes compact, `[hdr|FUNC+COMPACT][code][context]`: the null
//! defaults word dropped (readers go through `Vm::func_defaults`).

use alloc::string::String;
use core::fmt::Write as _;

use crate::freeze::{copy_heap, write_words};
use crate::mem::FlashImage;
use crate::obj::*;
use crate::qstr::sq;
use crate::slots::{Attr, AttrOp, Frozen, NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `function` type.
pub struct Func;

impl<F: FlashImage> NativeType<F> for Func {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        binds_self: true,
        frozen: Some(Frozen {
            size: frozen_size,
            values: None,
            write: write_frozen,
        }),
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

/// Does heap function `f` freeze compact: no defaults at all, so no defaults word?
fn compact<F: FlashImage>(vm: &Vm<F>, f: Value) -> bool {
    let hdr = vm.w(f, 0);
    !is_compact(hdr) && (hdr >> 8) & func_flags::HAS_KWDEFAULTS == 0 && vm.w(f, 3) == 0
}

fn frozen_size<F: FlashImage>(vm: &Vm<F>, f: Value) -> u32 {
    if compact(vm, f) {
        12
    } else {
        object_size(vm.w(f, 0)).unwrap_or(4)
    }
}

fn write_frozen<F: FlashImage>(vm: &Vm<F>, f: Value, out: &mut [u8]) {
    if compact(vm, f) {
        write_words(out, &[vm.w(f, 0) | COMPACT as u32, vm.w(f, 1), vm.w(f, 2)]);
    } else {
        copy_heap(vm, f, out);
    }
}
