//! `set`: a dict whose values repeat their keys (see `Vm::set_add`), `[hdr|SET][count][table]`.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use alloc::string::String;
use alloc::vec::Vec;

use crate::slots::{Freeze, Native, NativeType, PrintKind, TypeSlots, binop};
use crate::types::{dict, iter};
use crate::vm::{R, Vm};

/// The `set` type.
pub struct Set;

impl<F: FlashImage> NativeType<F> for Set {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::Ram,
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(dict::unary_op),
        binary_op: Some(binary_op),
        getiter: Some(getiter),
        methods: &[
            Native::new("add", add),
            Native::new("discard", discard),
            Native::new("remove", remove),
        ],
        ..TypeSlots::new(Kind::SET, "set")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, d: u32, _k: PrintKind) -> R<()> {
    if vm.dict_len(v) == 0 {
        s.push_str("set()");
        return Ok(());
    }
    s.push('{');
    for i in 0..vm.dict_len(v) {
        let (key, _) = vm.dict_entry(v, i);
        if i > 0 {
            s.push_str(", ");
        }
        vm.print_into(key, s, d + 1, PrintKind::Repr)?;
    }
    s.push('}');
    Ok(())
}

/// `in`, and `|`, `&`, `-` with any iterable.
fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    match op {
        binop::CONTAINS => dict::binary_op(vm, op, a, b),
        binop::OR | binop::AND | binop::SUBTRACT => set_op(vm, op, a, b).map(Some),
        _ => Ok(None),
    }
}

fn set_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Value> {
    let xa = vm.iter_to_vec(a)?;
    let xb = vm.iter_to_vec(b)?;
    let out = vm.new_set()?;
    let mut put = Vec::new();
    if op == binop::OR {
        put.extend(xa.iter().copied());
        put.extend(xb.iter().copied());
    } else {
        for x in xa {
            let mut inb = false;
            for y in &xb {
                if vm.eq(x, *y)? {
                    inb = true;
                }
            }
            if inb == (op == binop::AND) {
                put.push(x);
            }
        }
    }
    for x in put {
        vm.set_add(out, x)?;
    }
    Ok(out)
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

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::SEQ, v)
}
