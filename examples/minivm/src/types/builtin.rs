//! Builtin functions: `[hdr id|BUILTIN][name qstr]`, firmware statics; the id names a native
//! table and an entry (see `natives`).

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `builtin_function` type.
pub struct Builtin;

impl<F: FlashImage> NativeType<F> for Builtin {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        binds_self: true,
        call: Some(call),
        stats_name: "builtin",
        ..TypeSlots::new(Kind::BUILTIN, "builtin_function")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.str_string(vm.wv(v, 1));
    let _ = write!(s, "<function {n}>");
    Ok(())
}

fn call<F: FlashImage>(vm: &mut Vm<F>, f: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    let id = vm.aux(f);
    vm.call_native(id, args, kw)
}
