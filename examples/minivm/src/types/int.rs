//! `int`: small ints are immediates (`n << 1 | 1`, 31 bits), so no object has this kind;
//! its slots serve them. The arithmetic of small ints is the runtime's fast path.

use alloc::string::String;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The `int` type.
pub struct Int;

impl<F: FlashImage> NativeType<F> for Int {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        ..TypeSlots::new(Kind::INT, "int")
    };
}

/// `int()`, `int(x)`, `int(text, base)`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    let a0 = arg(args, 0);
    if args.is_empty() {
        return Ok(Value::small(0));
    }
    if let Some(n) = vm.as_intlike(a0) {
        return vm.int_val(n);
    }
    if let Some(b) = vm.str_bytes(a0) {
        let s = String::from_utf8_lossy(b).trim().replace('_', "");
        let base = if args.len() > 1 {
            vm.int_arg(args[1])? as u32
        } else {
            10
        };
        return match i64::from_str_radix(&s, base) {
            Ok(n) => vm.int_val(n),
            Err(_) => {
                let msg = alloc::format!("invalid syntax for integer with base {base}: '{s}'");
                vm.raise_msg("ValueError", &msg)
            }
        };
    }
    vm.raise_msg("TypeError", "can't convert to int")
}
