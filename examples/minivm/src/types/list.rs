//! `list`: a mutable sequence, `[hdr|LIST][len][items ARRAY]`; the items array grows by
//! doubling, and its unused tail is null (the freezer trims it).

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{Freeze, Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop};
use crate::types::{iter, slice, tuple};
use crate::vm::{R, Vm};

/// The `list` type.
pub struct List;

impl<F: FlashImage> NativeType<F> for List {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::Ram,
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(unary_op),
        binary_op: Some(binary_op),
        getiter: Some(getiter),
        subscr: Some(subscr),
        methods: &[
            Native::new("append", append),
            Native::new("pop", pop),
            Native::new("insert", insert),
            Native::new("remove", remove),
            Native::new("extend", extend),
            Native::new("index", tuple::index),
            Native::new("count", tuple::count),
            Native::new("clear", clear),
            Native::new("sort", sort),
            Native::new("reverse", reverse),
            Native::new("copy", copy),
            Native::new("popleft", popleft),
        ],
        ..TypeSlots::new(Kind::LIST, "list")
    };
}

fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    if args.is_empty() {
        return vm.new_list(&[]);
    }
    let items = vm.iter_to_vec(args[0])?;
    vm.new_list(&items)
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, d: u32, _k: PrintKind) -> R<()> {
    tuple::print_items(vm, v, s, d, false)
}

fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let n = vm.wv(v, 1);
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(n.as_int() != 0)),
        unop::LEN => Some(n),
        _ => None,
    })
}

fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    match op {
        binop::EQUAL if vm.kind(b) == Some(Kind::LIST) => tuple::items_equal(vm, a, b).map(Some),
        // `l += iterable` extends `l` in place.
        binop::INPLACE_ADD => {
            let items = vm.iter_to_vec(b)?;
            for x in items {
                vm.list_append(a, x)?;
            }
            Ok(Some(a))
        }
        binop::ADD if vm.kind(b) == Some(Kind::LIST) => {
            let mut x = vm.seq_vec(a).unwrap_or_default();
            x.extend(vm.seq_vec(b).unwrap_or_default());
            vm.new_list(&x).map(Some)
        }
        binop::MULTIPLY if b.is_int() => {
            let y = tuple::repeat_items(vm, a, b)?;
            vm.new_list(&y).map(Some)
        }
        _ => tuple::compare_items(vm, op, a, b),
    }
}

/// `l[i]`, `l[a:b:c]`, `l[i] = v`, `del l[i]`.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, l: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    match op {
        SubscrOp::Load => tuple::load_item(vm, l, index).map(Some),
        SubscrOp::Store(v) => {
            let n = vm.wv(l, 1).as_int() as u32;
            let i = slice::norm_index(vm, l, index, n)?;
            let arr = vm.wv(l, 2);
            vm.set_w(arr, 1 + i, v.0)?;
            Ok(Some(Value::NULL))
        }
        SubscrOp::Delete => {
            let n = vm.wv(l, 1).as_int() as u32;
            let i = slice::norm_index(vm, l, index, n)?;
            vm.list_pop(l, i)?;
            Ok(Some(Value::NULL))
        }
    }
}

/// Sorts `items` by Python `<` of their keys (`key(item)`, or the items when `key` is null or
/// None): a stable insertion sort, so comparison errors propagate and equal keys keep order.
pub fn sort_values<F: FlashImage>(
    vm: &mut Vm<F>,
    items: &mut [Value],
    key: Value,
    reverse: bool,
) -> R<()> {
    let keys: Vec<Value> = if key.is_null() || key.0 == vm.st.none {
        items.to_vec()
    } else {
        let mut ks = Vec::with_capacity(items.len());
        for x in items.iter() {
            let k = vm.call(key, &[*x], &[])?;
            if k.is_ptr() {
                vm.young.push(k.0);
            }
            ks.push(k);
        }
        ks
    };
    let mut idx: Vec<usize> = (0..items.len()).collect();
    for i in 1..idx.len() {
        let mut j = i;
        while j > 0 {
            let (a, b) = (keys[idx[j - 1]], keys[idx[j]]);
            let gt = vm.binary_op(binop::MORE, a, b)?;
            let swap = if reverse {
                vm.binary_op(binop::LESS, a, b)?.0 == vm.st.true_
            } else {
                gt.0 == vm.st.true_
            };
            if !swap {
                break;
            }
            idx.swap(j - 1, j);
            j -= 1;
        }
    }
    let orig = items.to_vec();
    for (i, &k) in idx.iter().enumerate() {
        items[i] = orig[k];
    }
    Ok(())
}

fn append<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.list_append(arg(args, 0), arg(args, 1))?;
    Ok(vm.none())
}

fn pop<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let l = arg(args, 0);
    let len = vm.wv(l, 1).as_int() as i64;
    if len == 0 {
        return vm.raise_msg("IndexError", "pop from empty list");
    }
    let i = if args.len() > 1 {
        vm.int_arg(args[1])?
    } else {
        -1
    };
    let i = if i < 0 { i + len } else { i };
    if i < 0 || i >= len {
        return vm.raise_msg("IndexError", "pop index out of range");
    }
    vm.list_pop(l, i as u32)
}

fn insert<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let l = arg(args, 0);
    let len = vm.wv(l, 1).as_int() as i64;
    let i = vm.int_arg(arg(args, 1))?;
    let i = if i < 0 { (i + len).max(0) } else { i.min(len) } as u32;
    let x = arg(args, 2);
    vm.list_append(l, x)?;
    let arr = vm.wv(l, 2);
    let mut j = len as u32;
    while j > i {
        let p = vm.w(arr, j);
        vm.set_w(arr, 1 + j, p)?;
        j -= 1;
    }
    vm.set_w(arr, 1 + i, x.0)?;
    Ok(vm.none())
}

fn remove<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let l = arg(args, 0);
    match tuple::position(vm, l, arg(args, 1))? {
        Some(i) => {
            vm.list_pop(l, i as u32)?;
            Ok(vm.none())
        }
        None => vm.raise_msg("ValueError", "object not in sequence"),
    }
}

fn extend<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let l = arg(args, 0);
    for x in vm.iter_to_vec(arg(args, 1))? {
        vm.list_append(l, x)?;
    }
    Ok(vm.none())
}

fn clear<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let l = arg(args, 0);
    // Null the items too: the GC frees them, and the freezer trims a null tail.
    let n = vm.seq_items(l).map_or(0, |(_, n)| n);
    let arr = vm.wv(l, 2);
    for i in 0..n {
        vm.set_w(arr, 1 + i, 0)?;
    }
    vm.set_w(l, 1, Value::small(0).0)?;
    Ok(vm.none())
}

fn sort<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let l = arg(args, 0);
    let mut items = vm.seq_vec(l).unwrap_or_default();
    let key = vm.kwarg(kw, "key").unwrap_or(Value::NULL);
    let rev = match vm.kwarg(kw, "reverse") {
        Some(v) => vm.truthy(v)?,
        None => false,
    };
    sort_values(vm, &mut items, key, rev)?;
    let arr = vm.wv(l, 2);
    for (i, x) in items.iter().enumerate() {
        vm.set_w(arr, 1 + i as u32, x.0)?;
    }
    Ok(vm.none())
}

fn reverse<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let l = arg(args, 0);
    let items = vm.seq_vec(l).unwrap_or_default();
    let arr = vm.wv(l, 2);
    for (i, x) in items.iter().rev().enumerate() {
        vm.set_w(arr, 1 + i as u32, x.0)?;
    }
    Ok(vm.none())
}

fn copy<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let items = vm.seq_vec(arg(args, 0)).unwrap_or_default();
    vm.new_list(&items)
}

/// `deque.popleft()` (a deque is a list on this port).
fn popleft<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let l = arg(args, 0);
    let len = vm.wv(l, 1).as_int();
    if len <= 0 {
        return vm.raise_msg("IndexError", "empty");
    }
    vm.list_pop(l, 0)
}

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::SEQ, v)
}
