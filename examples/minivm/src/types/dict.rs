//! `dict`: `[hdr flags|DICT][count][table ARRAY k0,v0,k1,v1…]`, insertion-ordered, found by
//! a linear scan (identical words first, then `==`). A module's globals and a class's body are
//! namespace dicts (`dict_flags::NAMESPACE`, a `CONST_ARRAY` table): read-only once frozen.
//! An `OrderedDict` is a dict with `dict_flags::ORDERED` (its type, [`ORDERED_KIND`], is
//! defined by `collections`); an instance's `__dict__` is a copy with `dict_flags::FIXED`,
//! which refuses every change.

use flashfreeze::Mutability;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use alloc::string::String;

use crate::slots::{Freeze, Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop};
use crate::types::iter;
use crate::vm::{R, Vm};

/// The kind id of the `OrderedDict` type object (its objects are dicts marked
/// `dict_flags::ORDERED`).
pub const ORDERED_KIND: Kind = Kind::new(57);

/// The `dict` type.
pub struct Dict;

impl<F: FlashImage> NativeType<F> for Dict {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::By(placement),
        class_of: Some(class_of),
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(unary_op),
        binary_op: Some(binary_op),
        getiter: Some(getiter),
        subscr: Some(subscr),
        methods: &[
            Native::new("get", get),
            Native::new("keys", keys),
            Native::new("values", values),
            Native::new("items", items),
            Native::new("pop", pop),
            Native::new("setdefault", setdefault),
            Native::new("update", update_method),
            Native::new("clear", clear),
            Native::new("copy", copy),
            Native::new("popitem", popitem),
            Native::new("fromkeys", fromkeys),
            // As MicroPython's dict, for `super().__setitem__(k, v)` in a subclass.
            Native::args("__getitem__", getitem, 2, 2),
            Native::args("__setitem__", setitem, 3, 3),
            Native::args("__delitem__", delitem, 2, 2),
        ],
        ..TypeSlots::new(Kind::DICT, "dict")
    };
}

/// An `OrderedDict` is of the `OrderedDict` type.
fn class_of<F: FlashImage>(vm: &Vm<F>, d: Value) -> Option<u32> {
    let c = vm.st.types[ORDERED_KIND.id() as usize];
    (vm.aux(d) & dict_flags::ORDERED != 0 && c != 0).then_some(c)
}

/// A new empty `OrderedDict` with room for `n` entries.
pub fn new_ordered<F: FlashImage>(vm: &mut Vm<F>, n: u32) -> R<Value> {
    let d = vm.new_dict(n)?;
    vm.set_w(d, 0, header(Kind::DICT, dict_flags::ORDERED))?;
    Ok(d)
}

/// Raises `TypeError` (no message, as MicroPython) if `d` is read-only (a `__dict__` copy).
pub fn check_not_fixed<F: FlashImage>(vm: &mut Vm<F>, d: Value) -> R<()> {
    if vm.kind(d) == Some(Kind::DICT) && vm.aux(d) & dict_flags::FIXED != 0 {
        return vm.raise_empty("TypeError");
    }
    Ok(())
}

/// A read-only copy of `src` (an instance's members, or null: empty) for `__dict__`.
pub fn fixed_copy<F: FlashImage>(vm: &mut Vm<F>, src: Value) -> R<Value> {
    let n = if src.is_ptr() { vm.dict_len(src) } else { 0 };
    let d = vm.new_dict(n)?;
    for i in 0..n {
        let (k, v) = vm.dict_entry(src, i);
        vm.dict_store(d, k, v)?;
    }
    vm.set_w(d, 0, header(Kind::DICT, dict_flags::FIXED))?;
    Ok(d)
}

/// `{k: v, …}`; `OrderedDict({k: v, …})`.
fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, d: u32, _k: PrintKind) -> R<()> {
    let ordered = vm.aux(v) & dict_flags::ORDERED != 0;
    if ordered {
        let n = vm.class_name(vm.type_of(v));
        s.push_str(&n);
        s.push('(');
    }
    s.push('{');
    for i in 0..vm.dict_len(v) {
        let (key, val) = vm.dict_entry(v, i);
        if i > 0 {
            s.push_str(", ");
        }
        vm.print_into(key, s, d + 1, PrintKind::Repr)?;
        s.push_str(": ");
        vm.print_into(val, s, d + 1, PrintKind::Repr)?;
    }
    s.push('}');
    if ordered {
        s.push(')');
    }
    Ok(())
}

/// Truth and `len` of a dict or set: its count; neither is hashable.
pub fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let n = vm.wv(v, 1);
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(n.as_int() != 0)),
        unop::LEN => Some(n),
        unop::HASH => return vm.unsupported_unary(op, v),
        _ => None,
    })
}

/// `key in d`, and `==` with another dict of the same type: the same keys with equal values
/// (two `OrderedDict`s: the same pairs in the same order). A dict equals no `OrderedDict`, as
/// in MicroPython, whose dict compares only with its own type.
fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    match op {
        binop::CONTAINS => {
            let r = lookup(vm, a, b)?.is_some();
            Ok(Some(vm.bool_val(r)))
        }
        binop::EQUAL if vm.kind(b) == Some(Kind::DICT) => {
            let ordered = |d: Value| vm.aux(d) & dict_flags::ORDERED != 0;
            if ordered(a) != ordered(b) || vm.dict_len(a) != vm.dict_len(b) {
                return Ok(Some(vm.bool_val(false)));
            }
            let in_order = ordered(a);
            for i in 0..vm.dict_len(a) {
                let (k, v) = vm.dict_entry(a, i);
                let other = if in_order {
                    let (k2, v2) = vm.dict_entry(b, i);
                    if !vm.eq(k, k2)? {
                        return Ok(Some(vm.bool_val(false)));
                    }
                    Some(v2)
                } else {
                    vm.dict_get(b, k)?
                };
                match other {
                    Some(w) if vm.eq(v, w)? => {}
                    _ => return Ok(Some(vm.bool_val(false))),
                }
            }
            Ok(Some(vm.bool_val(true)))
        }
        _ => Ok(None),
    }
}

/// `d[k]` (`KeyError` when absent), `d[k] = v`, `del d[k]`.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, d: Value, key: Value, op: SubscrOp) -> R<Option<Value>> {
    match op {
        SubscrOp::Load => match lookup(vm, d, key)? {
            Some(v) => Ok(Some(v)),
            None => vm.raise_args("KeyError", &[key]),
        },
        SubscrOp::Store(v) if frozen_globals(vm, d) => {
            // `globals()[name] = v` in a frozen module (asyncio's lazy loader): the binding
            // goes to the heap overlay, as `global name; name = v` does.
            vm.store_global(d, key, v).map(|()| Some(Value::NULL))
        }
        SubscrOp::Store(v) => {
            check_not_fixed(vm, d)?;
            vm.dict_store(d, key, v).map(|()| Some(Value::NULL))
        }
        SubscrOp::Delete => match check_not_fixed(vm, d).and_then(|()| vm.dict_remove(d, key))? {
            Some(_) => Ok(Some(Value::NULL)),
            None => vm.raise_args("KeyError", &[key]),
        },
    }
}

/// `d.__getitem__(k)`.
fn getitem<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(subscr(vm, args[0], args[1], SubscrOp::Load)?.unwrap_or(Value::NULL))
}

/// `d.__setitem__(k, v)`.
fn setitem<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    subscr(vm, args[0], args[1], SubscrOp::Store(args[2]))?;
    Ok(vm.none())
}

/// `d.__delitem__(k)`.
fn delitem<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    subscr(vm, args[0], args[1], SubscrOp::Delete)?;
    Ok(vm.none())
}

/// `dict()`, `dict(mapping or pairs)`, `dict(**kw)`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    let d = vm.new_dict(4)?;
    if !args.is_empty() {
        update(vm, d, args[0])?;
    }
    for p in kw.chunks(2) {
        vm.dict_store(d, p[0], p[1])?;
    }
    Ok(d)
}

/// Stores every entry of `src` (a dict, or an iterable of pairs) into `d`.
pub fn update<F: FlashImage>(vm: &mut Vm<F>, d: Value, src: Value) -> R<()> {
    if matches!(vm.kind(src), Some(Kind::DICT)) {
        for i in 0..vm.dict_len(src) {
            let (k, v) = vm.dict_entry(src, i);
            vm.dict_store(d, k, v)?;
        }
        return Ok(());
    }
    for item in vm.iter_to_vec(src)? {
        let kv = vm.iter_to_vec(item)?;
        if kv.len() != 2 {
            return vm.raise_msg(
                "ValueError",
                "dict update sequence element has wrong length",
            );
        }
        vm.dict_store(d, kv[0], kv[1])?;
    }
    Ok(())
}

fn get<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let none = vm.none();
    Ok(
        lookup(vm, arg(args, 0), arg(args, 1))?.unwrap_or(if args.len() > 2 {
            args[2]
        } else {
            none
        }),
    )
}

/// Is `d` a frozen namespace (a frozen module's globals, as `globals()` gives them), whose
/// new bindings live in the heap overlay (see `Vm::store_global`)? A frozen class's
/// namespace is never handed out (`__dict__` is a copy).
fn frozen_globals<F: FlashImage>(vm: &Vm<F>, d: Value) -> bool {
    vm.aux(d) & dict_flags::NAMESPACE != 0 && !vm.mem.is_writable(d.0)
}

/// `d[key]`, or `None`: for frozen globals, the overlay first.
fn lookup<F: FlashImage>(vm: &mut Vm<F>, d: Value, key: Value) -> R<Option<Value>> {
    if frozen_globals(vm, d)
        && let Some(v) = vm.overlay_get(d, key)
    {
        return Ok(Some(v));
    }
    vm.dict_get(d, key)
}

fn keys<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let d = arg(args, 0);
    let mut ks = alloc::vec::Vec::new();
    for i in 0..vm.dict_len(d) {
        ks.push(vm.dict_entry(d, i).0);
    }
    vm.new_list(&ks)
}

fn values<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.alloc_obj(
        Kind::ITER,
        iter_kind::DICT_VALUES,
        &[arg(args, 0), Value::small(0), Value::NULL],
    )
}

fn items<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.alloc_obj(
        Kind::ITER,
        iter_kind::DICT_ITEMS,
        &[arg(args, 0), Value::small(0), Value::NULL],
    )
}

fn pop<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    check_not_fixed(vm, arg(args, 0))?;
    let k = arg(args, 1);
    match vm.dict_remove(arg(args, 0), k)? {
        Some(v) => Ok(v),
        None if args.len() > 2 => Ok(args[2]),
        None => vm.raise_args("KeyError", &[k]),
    }
}

fn setdefault<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (d, k) = (arg(args, 0), arg(args, 1));
    match vm.dict_get(d, k)? {
        Some(v) => Ok(v),
        None => {
            check_not_fixed(vm, d)?;
            let v = if args.len() > 2 { args[2] } else { vm.none() };
            vm.dict_store(d, k, v)?;
            Ok(v)
        }
    }
}

fn update_method<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let d = arg(args, 0);
    check_not_fixed(vm, d)?;
    if args.len() > 1 {
        update(vm, d, args[1])?;
    }
    for p in kw.chunks(2) {
        vm.dict_store(d, p[0], p[1])?;
    }
    Ok(vm.none())
}

fn clear<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let d = arg(args, 0);
    check_not_fixed(vm, d)?;
    // Null the entries too (as for a list).
    let n = vm.dict_len(d);
    let t = vm.wv(d, 2);
    for i in 0..2 * n {
        vm.set_w(t, 1 + i, 0)?;
    }
    vm.set_w(d, 1, Value::small(0).0)?;
    Ok(vm.none())
}

/// `d.copy()`: a dict of the same type (an `OrderedDict`'s copy is one).
fn copy<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let src = arg(args, 0);
    let d = if vm.aux(src) & dict_flags::ORDERED != 0 {
        new_ordered(vm, vm.dict_len(src))?
    } else {
        vm.new_dict(vm.dict_len(src))?
    };
    update(vm, d, src)?;
    Ok(d)
}

/// `dict.fromkeys(keys, value=None)`.
fn fromkeys<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    // Called on the type (`dict.fromkeys(...)`: the keys come first) or on a dict.
    let a = if vm.kind(arg(args, 0)) == Some(Kind::DICT)
        || vm.kind(arg(args, 0)) == Some(Kind::CLASS)
    {
        &args[1..]
    } else {
        args
    };
    let v = if a.len() > 1 { a[1] } else { vm.none() };
    let keys = vm.iter_to_vec(arg(a, 0))?;
    let d = vm.new_dict(keys.len() as u32)?;
    for k in keys {
        vm.dict_store(d, k, v)?;
    }
    Ok(d)
}

fn popitem<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let d = arg(args, 0);
    check_not_fixed(vm, d)?;
    let len = vm.dict_len(d);
    if len == 0 {
        return vm.raise_msg("KeyError", "popitem(): dictionary is empty");
    }
    let (k, v) = vm.dict_entry(d, len - 1);
    vm.dict_remove(d, k)?;
    vm.new_tuple(&[k, v])
}

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::SEQ, v)
}

/// A namespace freezes to flash (read-only once imported: `setattr` on a frozen module or
/// class raises); a data dict to the RAM section.
fn placement<F: FlashImage>(vm: &Vm<F>, d: Value) -> Mutability {
    if vm.aux(d) & dict_flags::NAMESPACE != 0 {
        Mutability::Immutable
    } else {
        Mutability::Mutable
    }
}
