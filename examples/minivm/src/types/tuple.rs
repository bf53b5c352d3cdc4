//! `tuple`: an immutable sequence, `[hdr n|TUPLE][item0]…[item n-1]`.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{Native, NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The `tuple` type.
pub struct Tuple;

impl<F: FlashImage> NativeType<F> for Tuple {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        methods: &[Native::new("index", index), Native::new("count", count)],
        ..TypeSlots::new(Kind::TUPLE, "tuple")
    };
}

fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    if args.is_empty() {
        return vm.new_tuple(&[]);
    }
    let items = vm.iter_to_vec(args[0])?;
    vm.new_tuple(&items)
}

/// Position of the first item of sequence `seq` equal to `x`.
pub fn position<F: FlashImage>(vm: &mut Vm<F>, seq: Value, x: Value) -> R<Option<usize>> {
    let items = vm.seq_vec(seq).unwrap_or_default();
    for (i, y) in items.iter().enumerate() {
        if vm.eq(*y, x)? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// `seq.index(x)` of a tuple or list.
pub fn index<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    match position(vm, arg(args, 0), arg(args, 1))? {
        Some(i) => Ok(Value::small(i as i32)),
        None => vm.raise_msg("ValueError", "object not in sequence"),
    }
}

/// `seq.count(x)` of a tuple or list.
pub fn count<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let items = vm.seq_vec(arg(args, 0)).unwrap_or_default();
    let x = arg(args, 1);
    let mut c = 0;
    for y in items {
        if vm.eq(y, x)? {
            c += 1;
        }
    }
    Ok(Value::small(c))
}
