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
            Native::new("clear", clear),
            Native::new("copy", copy),
            Native::new("difference", difference),
            Native::new("difference_update", difference_update),
            Native::new("discard", discard),
            Native::new("intersection", intersection),
            Native::new("intersection_update", intersection_update),
            Native::new("isdisjoint", isdisjoint),
            Native::new("issubset", issubset),
            Native::new("issuperset", issuperset),
            Native::new("pop", pop),
            Native::new("remove", remove),
            Native::new("symmetric_difference", symmetric_difference),
            Native::new("symmetric_difference_update", symmetric_difference_update),
            Native::new("union", union),
            Native::new("update", update),
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

/// `in`; `==` and the subset comparisons with another set; `|`, `&`, `-`, `^` (and their
/// in-place forms, which change `a`) with another set.
fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    if op == binop::CONTAINS {
        let r = vm.dict_find(a, b)?.is_some();
        return Ok(Some(vm.bool_val(r)));
    }
    if vm.kind(b) != Some(Kind::SET) {
        return Ok(None);
    }
    let r = match op {
        binop::EQUAL => {
            let r = vm.dict_len(a) == vm.dict_len(b) && subset(vm, a, b)?;
            vm.bool_val(r)
        }
        binop::LESS_EQUAL => {
            let r = subset(vm, a, b)?;
            vm.bool_val(r)
        }
        binop::LESS => {
            let r = vm.dict_len(a) < vm.dict_len(b) && subset(vm, a, b)?;
            vm.bool_val(r)
        }
        binop::MORE_EQUAL => {
            let r = subset(vm, b, a)?;
            vm.bool_val(r)
        }
        binop::MORE => {
            let r = vm.dict_len(b) < vm.dict_len(a) && subset(vm, b, a)?;
            vm.bool_val(r)
        }
        binop::OR | binop::AND | binop::SUBTRACT | binop::XOR => {
            let items = vm.iter_to_vec(b)?;
            let out = copy_of(vm, a)?;
            combine(vm, op, out, &items)?;
            out
        }
        binop::INPLACE_OR | binop::INPLACE_AND | binop::INPLACE_SUBTRACT | binop::INPLACE_XOR => {
            let items = vm.iter_to_vec(b)?;
            combine(vm, binop::plain(op), a, &items)?;
            a
        }
        _ => return Ok(None),
    };
    Ok(Some(r))
}

/// Is every item of set `a` in set `b`?
fn subset<F: FlashImage>(vm: &mut Vm<F>, a: Value, b: Value) -> R<bool> {
    for x in vm.iter_to_vec(a)? {
        if vm.dict_find(b, x)?.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A new set of `a`'s items.
fn copy_of<F: FlashImage>(vm: &mut Vm<F>, a: Value) -> R<Value> {
    let out = vm.new_set()?;
    for x in vm.iter_to_vec(a)? {
        vm.set_add(out, x)?;
    }
    Ok(out)
}

/// Changes set `s` in place: `|` adds `items`, `&` keeps only the items in them, `-` removes
/// them, `^` toggles each.
fn combine<F: FlashImage>(vm: &mut Vm<F>, op: u32, s: Value, items: &[Value]) -> R<()> {
    match op {
        binop::OR => {
            for &x in items {
                vm.set_add(s, x)?;
            }
        }
        binop::SUBTRACT => {
            for &x in items {
                vm.dict_remove(s, x)?;
            }
        }
        binop::XOR => {
            for &x in items {
                if vm.dict_remove(s, x)?.is_none() {
                    vm.set_add(s, x)?;
                }
            }
        }
        _ => {
            let other = vm.new_set()?;
            for &x in items {
                vm.set_add(other, x)?;
            }
            for x in vm.iter_to_vec(s)? {
                if vm.dict_find(other, x)?.is_none() {
                    vm.dict_remove(s, x)?;
                }
            }
        }
    }
    Ok(())
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

/// `s.pop()`: removes and returns an item (the oldest on this port).
fn pop<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = arg(args, 0);
    if vm.dict_len(s) == 0 {
        return vm.raise_msg("KeyError", "pop from an empty set");
    }
    let x = vm.dict_entry(s, 0).0;
    vm.dict_remove(s, x)?;
    Ok(x)
}

fn clear<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = arg(args, 0);
    let t = vm.wv(s, 2);
    for i in 0..2 * vm.dict_len(s) {
        vm.set_w(t, 1 + i, 0)?;
    }
    vm.set_w(s, 1, Value::small(0).0)?;
    Ok(vm.none())
}

fn copy<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    copy_of(vm, arg(args, 0))
}

/// The items of every argument after `s`, in order.
fn others<F: FlashImage>(vm: &mut Vm<F>, args: &[Value]) -> R<Vec<Value>> {
    let mut out = Vec::new();
    for &a in args.iter().skip(1) {
        out.extend(vm.iter_to_vec(a)?);
    }
    Ok(out)
}

/// A new set: `s` combined with each other argument by `op`.
fn new_combined<F: FlashImage>(vm: &mut Vm<F>, op: u32, args: &[Value]) -> R<Value> {
    let out = copy_of(vm, arg(args, 0))?;
    for &a in args.iter().skip(1) {
        let items = vm.iter_to_vec(a)?;
        combine(vm, op, out, &items)?;
    }
    Ok(out)
}

/// `s` changed in place by `op` with each other argument.
fn update_by<F: FlashImage>(vm: &mut Vm<F>, op: u32, args: &[Value]) -> R<Value> {
    let s = arg(args, 0);
    for &a in args.iter().skip(1) {
        let items = vm.iter_to_vec(a)?;
        combine(vm, op, s, &items)?;
    }
    Ok(vm.none())
}

fn union<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    new_combined(vm, binop::OR, args)
}

fn intersection<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    new_combined(vm, binop::AND, args)
}

fn difference<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    new_combined(vm, binop::SUBTRACT, args)
}

fn symmetric_difference<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    new_combined(vm, binop::XOR, args)
}

fn update<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    update_by(vm, binop::OR, args)
}

fn intersection_update<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    update_by(vm, binop::AND, args)
}

fn difference_update<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    update_by(vm, binop::SUBTRACT, args)
}

fn symmetric_difference_update<F: FlashImage>(
    vm: &mut Vm<F>,
    args: &[Value],
    _kw: &[Value],
) -> R<Value> {
    update_by(vm, binop::XOR, args)
}

fn issubset<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let items = others(vm, args)?;
    let other = vm.new_set()?;
    for x in items {
        vm.set_add(other, x)?;
    }
    let r = subset(vm, arg(args, 0), other)?;
    Ok(vm.bool_val(r))
}

fn issuperset<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = arg(args, 0);
    for x in others(vm, args)? {
        if vm.dict_find(s, x)?.is_none() {
            return Ok(vm.bool_val(false));
        }
    }
    Ok(vm.bool_val(true))
}

fn isdisjoint<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = arg(args, 0);
    for x in others(vm, args)? {
        if vm.dict_find(s, x)?.is_some() {
            return Ok(vm.bool_val(false));
        }
    }
    Ok(vm.bool_val(true))
}

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::SEQ, v)
}
