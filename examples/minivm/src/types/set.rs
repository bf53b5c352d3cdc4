//! `set`: a dict whose values repeat their keys (see `Vm::set_add`), `[hdr|SET][count][table]`.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{Native, NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The `set` type.
pub struct Set;

impl<F: FlashImage> NativeType<F> for Set {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        methods: &[
            Native::new("add", add),
            Native::new("discard", discard),
            Native::new("remove", remove),
        ],
        ..TypeSlots::new(Kind::SET, "set")
    };
}

fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = vm.new_set()?;
    if !args.is_empty() {
        for x in vm.iter_to_vec(args[0])? {
            vm.set_add(s, x)?;
        }
    }
    Ok(s)
}

fn add<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.set_add(arg(args, 0), arg(args, 1))?;
    Ok(vm.none())
}

fn discard<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.dict_remove(arg(args, 0), arg(args, 1))?;
    Ok(vm.none())
}

fn remove<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let x = arg(args, 1);
    if vm.dict_remove(arg(args, 0), x)?.is_none() {
        return vm.raise_args("KeyError", &[x]);
    }
    Ok(vm.none())
}
