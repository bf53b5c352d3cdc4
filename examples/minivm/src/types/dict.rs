//! `dict`: `[hdr flags|DICT][count][table ARRAY k0,v0,k1,v1…]`, insertion-ordered, found by
//! a linear scan (identical words first, then `==`). A module's globals and a class's body are
//! namespace dicts (`dict_flags::NAMESPACE`, a `CONST_ARRAY` table): read-only once frozen.

use flashfreeze::Mutability;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use alloc::string::String;

use crate::slots::{Freeze, Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop};
use crate::types::iter;
use crate::vm::{R, Vm};

/// The `dict` type.
pub struct Dict;

impl<F: FlashImage> NativeType<F> for Dict {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::By(placement),
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
        ],
        ..TypeSlots::new(Kind::DICT, "dict")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, d: u32, _k: PrintKind) -> R<()> {
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
    Ok(())
}

/// Truth and `len` of a dict or set: its count.
pub fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let n = vm.wv(v, 1);
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(n.as_int() != 0)),
        unop::LEN => Some(n),
        _ => None,
    })
}

/// `key in d` of a dict or set.
pub fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    match op {
        binop::CONTAINS => {
            let r = vm.dict_find(a, b)?.is_some();
            Ok(Some(vm.bool_val(r)))
        }
        _ => Ok(None),
    }
}

/// `d[k]` (`KeyError` when absent), `d[k] = v`, `del d[k]`.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, d: Value, key: Value, op: SubscrOp) -> R<Option<Value>> {
    match op {
        SubscrOp::Load => match vm.dict_get(d, key)? {
            Some(v) => Ok(Some(v)),
            None => vm.raise_args("KeyError", &[key]),
        },
        SubscrOp::Store(v) => vm.dict_store(d, key, v).map(|()| Some(Value::NULL)),
        SubscrOp::Delete => match vm.dict_remove(d, key)? {
            Some(_) => Ok(Some(Value::NULL)),
            None => vm.raise_args("KeyError", &[key]),
        },
    }
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
    Ok(vm
        .dict_get(arg(args, 0), arg(args, 1))?
        .unwrap_or(if args.len() > 2 { args[2] } else { none }))
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
            let v = if args.len() > 2 { args[2] } else { vm.none() };
            vm.dict_store(d, k, v)?;
            Ok(v)
        }
    }
}

fn update_method<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let d = arg(args, 0);
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
    // Null the entries too (as for a list).
    let n = vm.dict_len(d);
    let t = vm.wv(d, 2);
    for i in 0..2 * n {
        vm.set_w(t, 1 + i, 0)?;
    }
    vm.set_w(d, 1, Value::small(0).0)?;
    Ok(vm.none())
}

fn copy<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let src = arg(args, 0);
    let d = vm.new_dict(vm.dict_len(src))?;
    update(vm, d, src)?;
    Ok(d)
}

fn popitem<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let d = arg(args, 0);
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
