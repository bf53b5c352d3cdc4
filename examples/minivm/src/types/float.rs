//! `float`: a boxed IEEE double, `[hdr|FLOAT][bits lo][bits hi]` (12 bytes, raw words; see
//! `number`). Immutable, so it freezes to flash as it is.
//!
//! Arithmetic mixes with ints (small, big, bools) by converting them as MicroPython does
//! (`mp_obj_get_float_maybe`); `repr`/`str` print MicroPython's digits (`formatfloat`).

use alloc::string::String;

use crate::formatfloat;
use crate::mem::FlashImage;
use crate::natives::arg;
use crate::number::float_op;
use crate::obj::*;
use crate::slots::{Freeze, Layout, NativeType, PrintKind, TypeSlots, unop};
use crate::vm::{R, Vm};

/// The `float` type.
pub struct Float;

impl<F: FlashImage> NativeType<F> for Float {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Raw { size: |_| 12 },
        freeze: Freeze::Flash,
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(unary_op),
        binary_op: Some(binary_op),
        // Immutable, no identity (as MicroPython's boxed numbers): equal ones may share a copy.
        merge: true,
        ..TypeSlots::new(Kind::FLOAT, "float")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let f = vm.float_of(v).unwrap_or(0.0);
    s.push_str(core::str::from_utf8(&formatfloat::repr_float(f)).unwrap_or("?"));
    Ok(())
}

/// `float()`, `float(x)`: a str or bytes is parsed, a number converted.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    if args.len() > 1 {
        return vm.raise_msg("TypeError", "function takes at most 1 argument");
    }
    let x = arg(args, 0);
    if x.is_null() {
        return vm.new_float(0.0);
    }
    if vm.float_of(x).is_some() {
        return Ok(x);
    }
    let text = match (vm.str_bytes(x), vm.kind(x)) {
        (Some(b), _) => Some(b.to_vec()),
        (None, Some(Kind::BYTES)) => vm.str_obj_bytes(x).map(|b| b.to_vec()),
        _ => None,
    };
    if let Some(t) = text {
        return match formatfloat::parse_float(&t) {
            Some(f) => vm.new_float(f),
            None => vm.raise_msg("ValueError", "invalid syntax for number"),
        };
    }
    let f = vm.float_arg(x)?;
    vm.new_float(f)
}

/// The hash of a float: an integral value hashes as that int (so `hash(2.0) == hash(2)`),
/// any other folds its bits.
pub fn hash(f: f64) -> i32 {
    if f == libm::trunc(f) && f.abs() < (1 << 30) as f64 {
        return f as i32;
    }
    let b = f.to_bits();
    (((b >> 32) ^ b) as i32 >> 1) ^ 0x2A
}

fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let f = vm.float_of(v).unwrap_or(0.0);
    Ok(Some(match op {
        unop::BOOL => vm.bool_val(f != 0.0),
        unop::HASH => Value::small(hash(f)),
        unop::POSITIVE => v,
        unop::NEGATIVE => vm.new_float(-f)?,
        unop::ABS if f.is_sign_negative() => vm.new_float(-f)?,
        unop::ABS => v,
        _ => return Ok(None),
    }))
}

/// `lhs op rhs` with a float on the left (also used by `int` and big ints when the right is a
/// float): `None` when `rhs` is not a number or floats have no such operator.
pub fn float_binop<F: FlashImage>(
    vm: &mut Vm<F>,
    op: u32,
    lhs: f64,
    rhs: Value,
) -> R<Option<Value>> {
    let Some(y) = vm.num_as_f64(rhs) else {
        return Ok(None);
    };
    match float_op(op, lhs, y) {
        Some(r) => vm.float_result(r).map(Some),
        None => Ok(None),
    }
}

fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    let x = vm.float_of(a).unwrap_or(0.0);
    float_binop(vm, op, x, b)
}
