//! Builtin functions: `[hdr id|BUILTIN][name qstr]`, firmware statics; the id names a native
//! table and an entry (see `natives`).

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{NativeType, PrintKind, TypeSlots, table};
use crate::types::class;
use crate::vm::{R, Vm};

/// The type of builtin functions: `function`, as MicroPython names it (not a global name).
pub struct Builtin;

impl<F: FlashImage> NativeType<F> for Builtin {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        binds_self: true,
        call: Some(call),
        stats_name: "builtin",
        builtin: false,
        ..TypeSlots::new(Kind::BUILTIN, "function")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.str_string(vm.wv(v, 1));
    let _ = write!(s, "<function {n}>");
    Ok(())
}

/// Calls the native. A method of a native type called on an instance of a Python subclass of
/// that type (`Stack(list).append`) gets the instance's native object as `self`, as
/// MicroPython binds `subobj[0]`.
fn call<F: FlashImage>(vm: &mut Vm<F>, f: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    let id = vm.aux(f);
    let table = id >> 8;
    if table < table::FIRST_MODULE
        && table != Kind::INSTANCE.id() as u32
        && let Some(&s) = args.first()
        && vm.kind(s) == Some(Kind::INSTANCE)
        && class::has_native(vm, s)
    {
        let Some(n) = class::native_of(vm, s) else {
            return vm.raise_msg("AttributeError", "call super().__init__() first");
        };
        let of_table = vm.slots(n).is_some_and(|t| {
            t.kind.id() as u32 == table || t.python_type.is_some_and(|k| k.id() as u32 == table)
        });
        if of_table {
            let mut a = args.to_vec();
            a[0] = n;
            return vm.call_native(id, &a, kw);
        }
    }
    vm.call_native(id, args, kw)
}
