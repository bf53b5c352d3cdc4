//! The boxed form of `int`: `[hdr n|neg<<23|BIGINT][limb 0]…[limb n-1]`, the magnitude in
//! little-endian u32 limbs (raw words, `4 + 4n` bytes; see `number`). Its objects report `int`
//! as their type and share its methods; only values outside the small-int range are boxed.
//! Immutable, so it freezes to flash as it is.
//!
//! The arithmetic copies the limbs into an [`Mpz`], computes, and stores the normalised
//! result (a small int whenever it fits), as MicroPython's `objint_mpz.c`. A result too big for
//! the heap is a `MemoryError` before any work is done.

use alloc::string::String;

use crate::mem::FlashImage;
use crate::mpz::{Bitwise, Mpz, pow_bits};
use crate::number::bigint_size;
use crate::obj::*;
use crate::slots::{Freeze, Layout, NativeType, PrintKind, TypeSlots, binop, unop};
use crate::types::float::float_binop;
use crate::vm::{R, Vm};

/// The big-int type (its type object is `int`'s).
pub struct BigInt;

impl<F: FlashImage> NativeType<F> for BigInt {
    const TYPE: TypeSlots<F> = TypeSlots {
        python_type: Some(Kind::INT),
        stats_name: "bigint",
        layout: Layout::Raw { size: bigint_size },
        freeze: Freeze::Flash,
        print: Some(print),
        unary_op: Some(unary_op),
        binary_op: Some(binary_op),
        // Immutable, no identity (as MicroPython's boxed numbers): equal ones may share a copy.
        merge: true,
        ..TypeSlots::new(Kind::BIGINT, "int")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    s.push_str(&vm.int_digits(v, 10, false).unwrap_or_default());
    Ok(())
}

fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let z = vm.int_mpz(v).unwrap_or_default();
    Ok(Some(match op {
        unop::BOOL => vm.bool_val(!z.is_zero()),
        unop::HASH => Value::small(z.hash()),
        unop::POSITIVE => v,
        unop::NEGATIVE => vm.new_int(&z.neg())?,
        unop::INVERT => vm.new_int(&z.not())?,
        unop::ABS if z.neg => vm.new_int(&z.abs())?,
        unop::ABS => v,
        _ => return Ok(None),
    }))
}

fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    int_binop(vm, op, a, b)
}

/// `a op b` for an int `a` (small or big) and any `b`: exact integer arithmetic when `b` is an
/// int or a bool, float arithmetic when it is a float, `seq * n` turned around, otherwise
/// `None` (the runtime raises `TypeError`).
pub fn int_binop<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    use binop::*;
    let Some(x) = vm.int_mpz(a) else {
        return Ok(None);
    };
    if vm.float_of(b).is_some() {
        return float_binop(vm, op, x.to_f64(), b);
    }
    let Some(y) = vm.int_mpz(b) else {
        let seq = b.is_qstr()
            || matches!(
                vm.kind(b),
                Some(Kind::STR | Kind::BYTES | Kind::TUPLE | Kind::LIST)
            );
        if plain(op) == MULTIPLY && seq {
            return vm.binary_op(MULTIPLY, b, a).map(Some);
        }
        return Ok(None);
    };
    let op = plain(op);
    let zero_div = |vm: &mut Vm<F>| vm.raise_msg("ZeroDivisionError", "divide by zero");
    let r = match op {
        LESS | MORE | LESS_EQUAL | MORE_EQUAL | EQUAL => {
            let ord = x.cmp(&y);
            let t = binop::compare(op, ord).unwrap_or(ord.is_eq());
            return Ok(Some(vm.bool_val(t)));
        }
        TRUE_DIVIDE => {
            if y.is_zero() {
                return zero_div(vm);
            }
            return vm.new_float(x.to_f64() / y.to_f64()).map(Some);
        }
        ADD => x.add(&y),
        SUBTRACT => x.sub(&y),
        MULTIPLY => {
            vm.check_int_bits(x.bits() + y.bits())?;
            x.mul(&y)
        }
        FLOOR_DIVIDE | MODULO | DIVMOD => {
            let Some((q, m)) = x.divmod(&y) else {
                return zero_div(vm);
            };
            match op {
                FLOOR_DIVIDE => q,
                MODULO => m,
                _ => {
                    let q = vm.new_int(&q)?;
                    let m = vm.new_int(&m)?;
                    return vm.new_tuple(&[q, m]).map(Some);
                }
            }
        }
        AND => x.bitwise(Bitwise::And, &y),
        OR => x.bitwise(Bitwise::Or, &y),
        XOR => x.bitwise(Bitwise::Xor, &y),
        LSHIFT | RSHIFT => {
            let n = vm.int_arg(b)?;
            if n < 0 {
                return vm.raise_msg("ValueError", "negative shift count");
            }
            if op == LSHIFT {
                vm.check_int_bits(x.bits().saturating_add(n as u64))?;
                x.shl(n as u64)
            } else {
                x.shr(n as u64)
            }
        }
        POWER if y.neg => return float_binop(vm, op, x.to_f64(), b),
        POWER => {
            vm.check_int_bits(pow_bits(x.bits(), &y).max(1))?;
            x.pow(&y)
        }
        _ => return Ok(None),
    };
    vm.new_int(&r).map(Some)
}

/// `pow(a, b, m)` of ints (MicroPython's `mp_obj_int_pow3`, see [`Mpz::pow_mod`]).
pub fn pow3<F: FlashImage>(vm: &mut Vm<F>, a: Value, b: Value, m: Value) -> R<Value> {
    let (Some(x), Some(e), Some(md)) = (int_only(vm, a), int_only(vm, b), int_only(vm, m)) else {
        return vm.raise_msg("TypeError", "pow() with 3 arguments requires integers");
    };
    if md.is_zero() {
        return vm.raise_msg("ValueError", "divide by zero");
    }
    vm.new_int(&x.pow_mod(&e, &md))
}

/// An int's value (not a bool's: MicroPython's `mp_obj_is_int`).
fn int_only<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Mpz> {
    if vm.is_int(v) { vm.int_mpz(v) } else { None }
}
