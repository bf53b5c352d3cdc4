//! `range`: `[hdr|RANGE][start][stop][step]`, small ints.

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{NativeType, PrintKind, SubscrOp, TypeSlots, unop};
use crate::types::slice;
use crate::vm::{R, Vm};

/// The `range` type.
pub struct Range;

impl<F: FlashImage> NativeType<F> for Range {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(unary_op),
        subscr: Some(subscr),
        getiter: Some(getiter),
        ..TypeSlots::new(Kind::RANGE, "range")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let (a, b, st) = (
        vm.wv(v, 1).as_int(),
        vm.wv(v, 2).as_int(),
        vm.wv(v, 3).as_int(),
    );
    if st == 1 {
        let _ = write!(s, "range({a}, {b})");
    } else {
        let _ = write!(s, "range({a}, {b}, {st})");
    }
    Ok(())
}

/// The number of values of range `v`.
pub fn len<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    let (a, b, s) = (
        vm.wv(v, 1).as_int() as i64,
        vm.wv(v, 2).as_int() as i64,
        vm.wv(v, 3).as_int() as i64,
    );
    let n = if s > 0 {
        (b - a + s - 1) / s
    } else {
        (a - b - s - 1) / -s
    };
    n.max(0) as u32
}

/// `len(range)`, and its truth: an empty range is false.
fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    Ok(match op {
        unop::LEN => Some(Value::small(len(vm, v) as i32)),
        unop::BOOL => Some(vm.bool_val(len(vm, v) != 0)),
        _ => None,
    })
}

/// `r[i]`.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, r: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    if op != SubscrOp::Load {
        return Ok(None);
    }
    let n = len(vm, r);
    let i = slice::get_index(vm, "range", index, n)?;
    let (a, s) = (vm.wv(r, 1).as_int(), vm.wv(r, 3).as_int());
    vm.int_val(a as i64 + i as i64 * s as i64).map(Some)
}

/// `range(stop)`, `range(start, stop[, step])`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (a, b, st) = match args.len() {
        1 => (0, vm.int_arg(args[0])?, 1),
        2 => (vm.int_arg(args[0])?, vm.int_arg(args[1])?, 1),
        3 => (
            vm.int_arg(args[0])?,
            vm.int_arg(args[1])?,
            vm.int_arg(args[2])?,
        ),
        _ => return vm.raise_msg("TypeError", "range expected 1 to 3 arguments"),
    };
    if st == 0 {
        return vm.raise_msg("ValueError", "zero step");
    }
    let (a, b, st) = (vm.int_val(a)?, vm.int_val(b)?, vm.int_val(st)?);
    vm.alloc_obj(Kind::RANGE, 0, &[a, b, st])
}

fn getiter<F: FlashImage>(vm: &mut Vm<F>, r: Value) -> R<Value> {
    let start = vm.wv(r, 1);
    vm.alloc_obj(Kind::ITER, iter_kind::RANGE, &[r, start, Value::NULL])
}
