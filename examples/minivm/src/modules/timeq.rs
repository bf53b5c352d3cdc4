//! `utimeq`: the module and its queue type, a time-ordered queue of `(time, callback, args)`
//! entries, as old uasyncio used.
//!
//! A queue is `[hdr|UTIMEQ][last id][list of (time, id, callback, args)]`, kept earliest
//! first in ticks arithmetic (so it survives the 30-bit wrap); entries with equal times keep
//! their push order. It is plain data, so it freezes to the RAM section.

use crate::mem::FlashImage;
use crate::modules::time::ticks_diff_of;
use crate::natives::arg;
use crate::obj::{Kind, Value};
use crate::slots::{Freeze, Layout, ModuleDef, Native, NativeModule, NativeType, TypeSlots};
use crate::types::handle::{list_len, new_with_list};
use crate::vm::{R, Vm};

/// The `utimeq` module.
pub struct Timeq;

impl<F: FlashImage> NativeModule<F> for Timeq {
    const MODULE: ModuleDef<F> = ModuleDef {
        functions: &[Native::new("utimeq", utimeq)],
        ..ModuleDef::new("utimeq")
    };
}

/// The kind of a queue.
pub const UTIMEQ: Kind = Kind::new(31);

/// The `utimeq` type.
pub struct Utimeq;

impl<F: FlashImage> NativeType<F> for Utimeq {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(2),
        freeze: Freeze::Ram,
        unary_op: Some(list_len),
        methods: &[
            Native::new("push", push),
            Native::new("pop", pop),
            Native::new("peektime", peektime),
            Native::new("remove", remove),
        ],
        ..TypeSlots::new(UTIMEQ, "utimeq")
    };
}

/// `utimeq(max_len)`: an empty queue (the length bound is not enforced).
fn utimeq<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    new_with_list(vm, UTIMEQ, 0)
}

/// `q.push(time, callback, args)`: inserts after every entry that is not later; returns the
/// entry's id.
fn push<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let q = arg(args, 0);
    let id = vm.wv(q, 1).as_int() + 1;
    vm.set_w(q, 1, Value::small(id).0)?;
    let t = vm.int_arg(arg(args, 1))?;
    let (cb, data) = (arg(args, 2), arg(args, 3));
    let entry = vm.new_tuple(&[Value::small(t as i32), Value::small(id), cb, data])?;
    let l = vm.wv(q, 2);
    let items = vm.seq_vec(l).unwrap_or_default();
    let mut at = items.len();
    for (i, e) in items.iter().enumerate() {
        let et = vm.wv(*e, 1).as_int() as i64;
        if ticks_diff_of(et, t) > 0 {
            at = i;
            break;
        }
    }
    vm.list_append(l, entry)?;
    let arr = vm.wv(l, 2);
    let mut j = items.len() as u32;
    while j > at as u32 {
        let p = vm.w(arr, j);
        vm.set_w(arr, 1 + j, p)?;
        j -= 1;
    }
    vm.set_w(arr, 1 + at as u32, entry.0)?;
    Ok(Value::small(id))
}

/// `q.pop(out)`: removes the earliest entry into `out[0:3]` as `[time, callback, args]`.
fn pop<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (q, out) = (arg(args, 0), arg(args, 1));
    let l = vm.wv(q, 2);
    if vm.wv(l, 1).as_int() <= 0 {
        return vm.raise_msg("IndexError", "empty heap");
    }
    // The result goes into a list of at least 3 items, as MicroPython checks.
    let out_len = vm.seq_items(out).map_or(0, |(_, n)| n);
    if vm.kind(out) != Some(Kind::LIST) || out_len < 3 {
        return vm.raise_empty("TypeError");
    }
    let e = vm.list_pop(l, 0)?;
    let items = vm.seq_vec(e).unwrap_or_default();
    let arr = vm.wv(out, 2);
    for (i, k) in [0usize, 2, 3].into_iter().enumerate() {
        let x = items.get(k).copied().unwrap_or(vm.none());
        vm.set_w(arr, 1 + i as u32, x.0)?;
    }
    Ok(vm.none())
}

/// `q.peektime()`: the earliest entry's time.
fn peektime<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let l = vm.wv(arg(args, 0), 2);
    if vm.wv(l, 1).as_int() <= 0 {
        return vm.raise_msg("IndexError", "empty heap");
    }
    let e = vm.subscr(l, Value::small(0))?;
    Ok(vm.wv(e, 1))
}

/// `q.remove(id)`: drops the entry `push` returned `id` for.
fn remove<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let id = arg(args, 1);
    let l = vm.wv(arg(args, 0), 2);
    let items = vm.seq_vec(l).unwrap_or_default();
    for (i, e) in items.iter().enumerate() {
        if vm.wv(*e, 2) == id {
            vm.list_pop(l, i as u32)?;
            break;
        }
    }
    Ok(vm.none())
}
