//! `range`: `[hdr|RANGE][start][stop][step]`, small ints.

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The `range` type.
pub struct Range;

impl<F: FlashImage> NativeType<F> for Range {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        ..TypeSlots::new(Kind::RANGE, "range")
    };
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
