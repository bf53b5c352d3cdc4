//! `tuple`: an immutable sequence, `[hdr n|TUPLE][item0]…[item n-1]`.

use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop};
use crate::types::{class, iter, slice};
use crate::vm::{R, Thrown, Vm};

/// The `tuple` type.
pub struct Tuple;

impl<F: FlashImage> NativeType<F> for Tuple {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(unary_op),
        binary_op: Some(binary_op),
        getiter: Some(getiter),
        subscr: Some(subscr),
        methods: &[Native::new("index", index), Native::new("count", count)],
        // Immutable, no identity (MicroPython's `()` is one object already): equal tuples, items
        // the same objects, may share a frozen copy.
        merge: true,
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

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, d: u32, _k: PrintKind) -> R<()> {
    print_items(vm, v, s, d, true)
}

/// `(a, b)` (with a trailing comma for one item) or `[a, b]`.
pub fn print_items<F: FlashImage>(
    vm: &mut Vm<F>,
    v: Value,
    s: &mut String,
    depth: u32,
    tuple: bool,
) -> R<()> {
    let items = vm.seq_vec(v).unwrap_or_default();
    s.push(if tuple { '(' } else { '[' });
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        vm.print_into(*x, s, depth + 1, PrintKind::Repr)?;
    }
    if tuple && items.len() == 1 {
        s.push(',');
    }
    s.push(if tuple { ')' } else { ']' });
    Ok(())
}

fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let n = vm.aux(v);
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(n != 0)),
        unop::LEN => Some(Value::small(n as i32)),
        // The length plus the items' hashes, as MicroPython (an unhashable item raises).
        unop::HASH => {
            let mut h = n as i32;
            for x in vm.seq_vec(v).unwrap_or_default() {
                h = h.wrapping_add(vm.hash_of(x)?.as_int());
            }
            Some(Value::small(h))
        }
        _ => None,
    })
}

fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    match op {
        binop::EQUAL if native_kind(vm, b) == Some(Kind::TUPLE) => items_equal(vm, a, b).map(Some),
        binop::ADD if vm.kind(b) == Some(Kind::TUPLE) => {
            let mut x = vm.seq_vec(a).unwrap_or_default();
            x.extend(vm.seq_vec(b).unwrap_or_default());
            vm.new_tuple(&x).map(Some)
        }
        binop::MULTIPLY => {
            let Some(n) = vm.int_maybe(b)? else {
                return Ok(None);
            };
            let y = repeat_items(vm, a, n)?;
            vm.new_tuple(&y).map(Some)
        }
        _ => compare_items(vm, op, a, b),
    }
}

fn subscr<F: FlashImage>(vm: &mut Vm<F>, v: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    if op != SubscrOp::Load {
        return Ok(None);
    }
    load_item(vm, v, index).map(Some)
}

/// `seq[i]` or `seq[a:b:c]` (a new sequence of the same type) of a tuple or list.
pub fn load_item<F: FlashImage>(vm: &mut Vm<F>, seq: Value, index: Value) -> R<Value> {
    let Some((a, n)) = vm.seq_items(seq) else {
        return vm.raise_msg("TypeError", "bad sequence");
    };
    if slice::is_slice(vm, index) {
        let idx = slice::indices(vm, index, n);
        let items: Vec<Value> = idx
            .iter()
            .map(|&i| Value(vm.mem.read_u32(a + 4 * i)))
            .collect();
        return if vm.kind(seq) == Some(Kind::TUPLE) {
            vm.new_tuple(&items)
        } else {
            vm.new_list(&items)
        };
    }
    let ty = if vm.kind(seq) == Some(Kind::TUPLE) {
        "tuple"
    } else {
        "list"
    };
    let i = slice::get_index(vm, ty, index, n)?;
    Ok(Value(vm.mem.read_u32(a + 4 * i)))
}

/// The kind of `v`, or of its native object if it is an instance of a subclass of a native
/// type (a namedtuple is a tuple).
pub fn native_kind<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Kind> {
    vm.kind(class::native_of(vm, v).unwrap_or(v))
}

/// `==` of two tuples or two lists: same length and items `==` pairwise.
pub fn items_equal<F: FlashImage>(vm: &mut Vm<F>, a: Value, b: Value) -> R<Value> {
    let b = class::native_of(vm, b).unwrap_or(b);
    let (x, y) = (
        vm.seq_vec(a).unwrap_or_default(),
        vm.seq_vec(b).unwrap_or_default(),
    );
    if x.len() != y.len() {
        return Ok(vm.bool_val(false));
    }
    for (p, q) in x.into_iter().zip(y) {
        if !vm.eq(p, q)? {
            return Ok(vm.bool_val(false));
        }
    }
    Ok(vm.bool_val(true))
}

/// A comparison (`<` …) of sequence `a` with sequence `b` of the same type (two tuples or
/// two lists): lexicographic by `==` then `<` of the first differing items, then by length.
/// `None` when `op` is no comparison or `b` is not of `a`'s type (`(1, 2) < [1, 3]` is a
/// `TypeError`).
pub fn compare_items<F: FlashImage>(
    vm: &mut Vm<F>,
    op: u32,
    a: Value,
    b: Value,
) -> R<Option<Value>> {
    // The other operand may be an instance of a subclass (a namedtuple): its native object.
    let b = class::native_of(vm, b).unwrap_or(b);
    if binop::compare(op, Ordering::Equal).is_none() || vm.kind(a) != vm.kind(b) {
        return Ok(None);
    }
    let (Some(x), Some(y)) = (vm.seq_vec(a), vm.seq_vec(b)) else {
        return Ok(None);
    };
    let mut o = Ordering::Equal;
    for (p, q) in x.iter().zip(y.iter()) {
        if !vm.eq(*p, *q)? {
            let lt = vm.binary_op(binop::LESS, *p, *q)?;
            o = if lt.0 == vm.st.true_ {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            break;
        }
    }
    if o == Ordering::Equal {
        o = x.len().cmp(&y.len());
    }
    Ok(binop::compare(op, o).map(|r| vm.bool_val(r)))
}

/// Raises `MemoryError` (without allocating) when repeating `unit` bytes `n` times cannot fit
/// in the heap.
pub fn check_repeat<F: FlashImage>(vm: &mut Vm<F>, unit: usize, n: usize) -> R<()> {
    if unit.saturating_mul(n) > vm.mem.heap.len() {
        vm.exc = Value(vm.st.memory_error);
        return Err(Thrown);
    }
    Ok(())
}

/// The items of tuple or list `a`, `n` times.
pub fn repeat_items<F: FlashImage>(vm: &mut Vm<F>, a: Value, n: i64) -> R<Vec<Value>> {
    let n = n.max(0) as usize;
    check_repeat(vm, 4 * vm.seq_items(a).map_or(0, |(_, n)| n as usize), n)?;
    let x = vm.seq_vec(a).unwrap_or_default();
    let mut y = Vec::with_capacity(x.len() * n);
    for _ in 0..n {
        y.extend_from_slice(&x);
    }
    Ok(y)
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

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::SEQ, v)
}
