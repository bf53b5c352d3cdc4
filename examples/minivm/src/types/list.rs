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
        unop::HASH => return vm.unsupported_unary(op, v),
        _ => None,
    })
}

fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    match op {
        binop::EQUAL if tuple::native_kind(vm, b) == Some(Kind::LIST) => {
            tuple::items_equal(vm, a, b).map(Some)
        }
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
        binop::MULTIPLY => {
            let Some(n) = vm.int_maybe(b)? else {
                return Ok(None);
            };
            let y = tuple::repeat_items(vm, a, n)?;
            vm.new_list(&y).map(Some)
        }
        _ => tuple::compare_items(vm, op, a, b),
    }
}

/// `l[i]`, `l[a:b:c]`, `l[i] = v`, `del l[i]`.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, l: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    match op {
        SubscrOp::Load => tuple::load_item(vm, l, index).map(Some),
        SubscrOp::Store(v) if slice::is_slice(vm, index) => {
            // The new items must be a tuple or a list, as MicroPython's `mp_obj_get_array`
            // (copied first: they may be this list's own).
            let Some(items) = vm
                .seq_vec(v)
                .filter(|_| matches!(vm.kind(v), Some(Kind::TUPLE | Kind::LIST)))
            else {
                let t = vm.class_name(vm.type_of(v));
                let msg = alloc::format!("object '{t}' isn't a tuple or list");
                return vm.raise_msg("TypeError", &msg);
            };
            replace_slice(vm, l, index, &items)?;
            Ok(Some(Value::NULL))
        }
        SubscrOp::Store(v) => {
            let n = len(vm, l);
            let i = slice::get_index(vm, "list", index, n)?;
            let arr = vm.wv(l, 2);
            vm.set_w(arr, 1 + i, v.0)?;
            Ok(Some(Value::NULL))
        }
        SubscrOp::Delete if slice::is_slice(vm, index) => {
            replace_slice(vm, l, index, &[])?;
            Ok(Some(Value::NULL))
        }
        SubscrOp::Delete => {
            let n = len(vm, l);
            let i = slice::get_index(vm, "list", index, n)?;
            vm.list_pop(l, i)?;
            Ok(Some(Value::NULL))
        }
    }
}

/// The number of items of list `l` (never more than its items array holds).
fn len<F: FlashImage>(vm: &Vm<F>, l: Value) -> u32 {
    vm.seq_items(l).map_or(0, |(_, n)| n)
}

/// `l[a:b] = items` and `del l[a:b]` (`items` empty): only step-1 slices, as MicroPython
/// (`NotImplementedError` otherwise). The items array grows to the exact new length when it
/// must (as MicroPython's `m_renew`); a shrink nulls the freed tail, which the GC then frees
/// and the freezer trims.
fn replace_slice<F: FlashImage>(vm: &mut Vm<F>, l: Value, s: Value, items: &[Value]) -> R<()> {
    let n = len(vm, l);
    let Some((a, b)) = slice::fast_range(vm, s, n) else {
        return vm.raise_empty("NotImplementedError");
    };
    let old = vm.seq_vec(l).unwrap_or_default();
    let mut new: Vec<Value> = Vec::with_capacity(old.len() - (b - a) as usize + items.len());
    new.extend_from_slice(&old[..a as usize]);
    new.extend_from_slice(items);
    new.extend_from_slice(&old[b as usize..]);
    let mut arr = vm.wv(l, 2);
    if new.len() as u32 > vm.aux(arr) & ARRAY_LEN_MASK {
        arr = vm.new_array(new.len() as u32)?;
        vm.set_w(l, 2, arr.0)?;
    }
    for (i, x) in new.iter().enumerate() {
        vm.set_w(arr, 1 + i as u32, x.0)?;
    }
    for i in new.len()..old.len() {
        vm.set_w(arr, 1 + i as u32, 0)?;
    }
    vm.set_w(l, 1, Value::small(new.len() as i32).0)
}

/// Sorts `items` by Python `<` of their keys (`key(item)`, or the items when `key` is null or
/// None) with MicroPython's quicksort (`mp_quicksort`: the last item is the pivot, `<` is
/// asked in the same order, the key is called at each comparison, equal keys may swap), so
/// the result, the comparison errors and the key calls are the same as on MicroPython.
pub fn sort_values<F: FlashImage>(
    vm: &mut Vm<F>,
    items: &mut [Value],
    key: Value,
    reverse: bool,
) -> R<()> {
    let key = if key.is_null() || key.0 == vm.st.none {
        Value::NULL
    } else {
        key
    };
    if items.len() > 1 {
        quicksort(vm, items, -1, items.len() as isize - 1, key, !reverse)?;
    }
    Ok(())
}

/// The key of `x` (`x` itself without a key function), kept alive for the sort.
fn sort_key<F: FlashImage>(vm: &mut Vm<F>, key: Value, x: Value) -> R<Value> {
    if key.is_null() {
        return Ok(x);
    }
    let k = vm.call(key, &[x], &[])?;
    if k.is_ptr() {
        vm.young.push(k.0);
    }
    Ok(k)
}

/// Is `a < b` the answer `want` (the True object for an ascending sort)?
fn less_is<F: FlashImage>(vm: &mut Vm<F>, a: Value, b: Value, want: bool) -> R<bool> {
    let r = vm.binary_op(binop::LESS, a, b)?;
    Ok(r == vm.bool_val(want))
}

/// Sorts `a[head + 1..=tail]` (`head` may be -1), as MicroPython's `mp_quicksort`.
fn quicksort<F: FlashImage>(
    vm: &mut Vm<F>,
    a: &mut [Value],
    mut head: isize,
    mut tail: isize,
    key: Value,
    want: bool,
) -> R<()> {
    while tail - head > 1 {
        let (mut h, mut t) = (head, tail);
        let v = sort_key(vm, key, a[tail as usize])?;
        loop {
            loop {
                h += 1;
                if h >= t {
                    break;
                }
                let k = sort_key(vm, key, a[h as usize])?;
                if !less_is(vm, k, v, want)? {
                    break;
                }
            }
            loop {
                t -= 1;
                if h >= t {
                    break;
                }
                let k = sort_key(vm, key, a[t as usize])?;
                if !less_is(vm, v, k, want)? {
                    break;
                }
            }
            if h >= t {
                break;
            }
            a.swap(h as usize, t as usize);
        }
        a.swap(h as usize, tail as usize);
        if t - head < tail - h {
            quicksort(vm, a, head, t, key, want)?;
            head = h;
        } else {
            quicksort(vm, a, h, tail, key, want)?;
            tail = t;
        }
    }
    Ok(())
}

fn append<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.list_append(arg(args, 0), arg(args, 1))?;
    Ok(vm.none())
}

fn pop<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let l = arg(args, 0);
    let len = len(vm, l);
    if len == 0 {
        return vm.raise_msg("IndexError", "pop from empty list");
    }
    let index = if args.len() > 1 {
        args[1]
    } else {
        Value::small(-1)
    };
    let i = slice::get_index(vm, "list", index, len)?;
    vm.list_pop(l, i)
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

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::SEQ, v)
}
