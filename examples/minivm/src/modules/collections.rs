//! `ucollections` (also `collections`): `namedtuple`, `OrderedDict` and `deque`, as
//! MicroPython's `modcollections.c`, with their types.
//!
//! - `namedtuple(name, fields)` makes a namedtuple class (see `types::namedtuple`): a class,
//!   so it freezes to flash.
//! - `OrderedDict` is a dict marked `dict_flags::ORDERED` (see `types::dict`); its type object
//!   derives from `dict`. Data: frozen to the RAM section like any dict.
//! - `deque(iterable, maxlen[, flags])` is a ring buffer of `maxlen + 1` slots; a full deque
//!   drops its oldest item, or raises `IndexError: full` with flag 1. Layout
//!   `[hdr flags|DEQUE][alloc][i_get][i_put][items ARRAY fixed]` (small ints; the items array
//!   is `ARRAY_FIXED`, so the freezer keeps every slot of the ring, nulls included), frozen to
//!   the RAM section with its items. Its iterator `[hdr|DEQUE_ITER][deque][cur]` too.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{
    Constant, Freeze, Layout, ModuleDef, Native, NativeModule, NativeType, SubscrOp, TypeSlots,
    unop,
};
use crate::types::{dict, namedtuple, slice};
use crate::vm::{R, Vm};

/// The `ucollections` module.
pub struct Collections;

impl<F: FlashImage> NativeModule<F> for Collections {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["ucollections"],
        extensible: true,
        functions: &[Native::args("namedtuple", new_namedtuple, 2, 2)],
        constants: &[
            Constant::Type("OrderedDict", dict::ORDERED_KIND),
            Constant::Type("deque", DEQUE),
        ],
        names: &["_fields"],
        ..ModuleDef::new("collections")
    };
}

/// `namedtuple(name, fields)`: `fields` a tuple or list of names, or one str of names
/// separated by whitespace.
fn new_namedtuple<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let name = vm.str_arg(arg(args, 0))?;
    let name = vm.intern(&name)?;
    let f = arg(args, 1);
    let names: alloc::vec::Vec<alloc::vec::Vec<u8>> = if let Some(s) = vm.str_bytes(f) {
        s.split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    } else {
        let Some(items) = vm
            .seq_vec(f)
            .filter(|_| matches!(vm.kind(f), Some(Kind::TUPLE | Kind::LIST)))
        else {
            let t = vm.class_name(vm.type_of(f));
            let msg = alloc::format!("object '{t}' isn't a tuple or list");
            return vm.raise_msg("TypeError", &msg);
        };
        let mut out = alloc::vec::Vec::with_capacity(items.len());
        for x in items {
            out.push(vm.str_arg(x)?);
        }
        out
    };
    let mut fields = alloc::vec::Vec::with_capacity(names.len());
    for n in names {
        fields.push(vm.intern(&n)?);
    }
    namedtuple::new_class(vm, name, &fields)
}

/// The `OrderedDict` type: its objects are dicts (see `types::dict`).
pub struct OrderedDict;

impl<F: FlashImage> NativeType<F> for OrderedDict {
    const TYPE: TypeSlots<F> = TypeSlots {
        parent: Some(Kind::DICT),
        make_new: Some(ordered_dict),
        builtin: false,
        ..TypeSlots::new(dict::ORDERED_KIND, "OrderedDict")
    };
}

/// `OrderedDict()`, `OrderedDict(mapping or pairs)`, `OrderedDict(**kw)`.
fn ordered_dict<F: FlashImage>(
    vm: &mut Vm<F>,
    _c: Value,
    args: &[Value],
    kw: &[Value],
) -> R<Value> {
    let d = dict::new_ordered(vm, 4)?;
    if !args.is_empty() {
        dict::update(vm, d, args[0])?;
    }
    for p in kw.chunks(2) {
        vm.dict_store(d, p[0], arg(p, 1))?;
    }
    Ok(d)
}

/// The kind of a deque.
pub const DEQUE: Kind = Kind::new(58);
/// The kind of a deque's iterator.
pub const DEQUE_ITER: Kind = Kind::new(59);

/// In a deque's header: `append`/`appendleft` on a full deque raise `IndexError: full`.
const CHECK_OVERFLOW: u32 = 1;

/// The `deque` type.
pub struct Deque;

impl<F: FlashImage> NativeType<F> for Deque {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(4),
        freeze: Freeze::Ram,
        make_new: Some(make_deque),
        unary_op: Some(deque_unary),
        subscr: Some(deque_subscr),
        getiter: Some(deque_iter),
        builtin: false,
        methods: &[
            Native::args("append", append, 2, 2),
            Native::args("appendleft", appendleft, 2, 2),
            Native::args("extend", extend, 2, 2),
            Native::args("pop", pop, 1, 1),
            Native::args("popleft", popleft, 1, 1),
        ],
        ..TypeSlots::new(DEQUE, "deque")
    };
}

/// The deque's iterator type.
pub struct DequeIter;

impl<F: FlashImage> NativeType<F> for DequeIter {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(2),
        freeze: Freeze::Ram,
        getiter: Some(iter_self),
        iternext: Some(deque_next),
        builtin: false,
        ..TypeSlots::new(DEQUE_ITER, "iterator")
    };
}

/// The ring of a deque: (slots, first item, end of items, items array).
fn ring<F: FlashImage>(vm: &Vm<F>, q: Value) -> (u32, u32, u32, Value) {
    let items = vm.wv(q, 4);
    // Never past the array, whatever the words say.
    let n = vm.aux(items) & ARRAY_LEN_MASK;
    let alloc = (vm.wv(q, 1).as_int().max(1) as u32).min(n.max(1));
    let at = |i: u32| (vm.wv(q, i).as_int().max(0) as u32) % alloc;
    (alloc, at(2), at(3), items)
}

fn deque_len<F: FlashImage>(vm: &Vm<F>, q: Value) -> u32 {
    let (alloc, get, put, _) = ring(vm, q);
    (put + alloc - get) % alloc
}

/// `deque(iterable, maxlen[, flags])`.
fn make_deque<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_arity(args.len(), kw.len() / 2, 2, 3)?;
    let maxlen = vm.int_arg(args[1])?;
    if maxlen < 0 {
        return vm.raise_empty("ValueError");
    }
    let flags = match args.get(2) {
        Some(&f) => vm.int_arg(f)? as u32 & CHECK_OVERFLOW,
        None => 0,
    };
    let Some(alloc) = u32::try_from(maxlen).ok().and_then(|m| m.checked_add(1)) else {
        vm.exc = Value(vm.st.memory_error);
        return Err(crate::vm::Thrown);
    };
    let items = vm.new_array(alloc)?;
    let _ = vm.set_w(items, 0, header(Kind::ARRAY, alloc | ARRAY_FIXED));
    let zero = Value::small(0);
    let q = vm.alloc_obj(
        DEQUE,
        flags,
        &[
            Value::small(alloc.min(i32::MAX as u32) as i32),
            zero,
            zero,
            items,
        ],
    )?;
    for x in vm.iter_to_vec(args[0])? {
        push(vm, q, x)?;
    }
    Ok(q)
}

/// Appends `x` at the right end; a full deque drops its leftmost item (or raises with the
/// overflow flag).
fn push<F: FlashImage>(vm: &mut Vm<F>, q: Value, x: Value) -> R<()> {
    let (alloc, get, put, items) = ring(vm, q);
    let next = (put + 1) % alloc;
    if vm.aux(q) & CHECK_OVERFLOW != 0 && next == get {
        return vm.raise_msg("IndexError", "full");
    }
    vm.set_w(items, 1 + put, x.0)?;
    vm.set_w(q, 3, Value::small(next as i32).0)?;
    if next == get {
        vm.set_w(items, 1 + get, 0)?;
        vm.set_w(q, 2, Value::small(((get + 1) % alloc) as i32).0)?;
    }
    Ok(())
}

fn append<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let q = deque_arg(vm, args)?;
    push(vm, q, arg(args, 1))?;
    Ok(vm.none())
}

/// `q.appendleft(x)`: a full deque drops its rightmost item (or raises with the flag).
fn appendleft<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let q = deque_arg(vm, args)?;
    let (alloc, get, put, items) = ring(vm, q);
    let new_get = (get + alloc - 1) % alloc;
    if vm.aux(q) & CHECK_OVERFLOW != 0 && new_get == put {
        return vm.raise_msg("IndexError", "full");
    }
    vm.set_w(items, 1 + new_get, arg(args, 1).0)?;
    vm.set_w(q, 2, Value::small(new_get as i32).0)?;
    if put == new_get {
        let new_put = (put + alloc - 1) % alloc;
        vm.set_w(items, 1 + new_put, 0)?;
        vm.set_w(q, 3, Value::small(new_put as i32).0)?;
    }
    Ok(vm.none())
}

fn extend<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let q = deque_arg(vm, args)?;
    for x in vm.iter_to_vec(arg(args, 1))? {
        push(vm, q, x)?;
    }
    Ok(vm.none())
}

fn popleft<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let q = deque_arg(vm, args)?;
    let (alloc, get, put, items) = ring(vm, q);
    if get == put {
        return vm.raise_msg("IndexError", "empty");
    }
    let x = vm.wv(items, 1 + get);
    vm.set_w(items, 1 + get, 0)?;
    vm.set_w(q, 2, Value::small(((get + 1) % alloc) as i32).0)?;
    Ok(x)
}

fn pop<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let q = deque_arg(vm, args)?;
    let (alloc, get, put, items) = ring(vm, q);
    if get == put {
        return vm.raise_msg("IndexError", "empty");
    }
    let last = (put + alloc - 1) % alloc;
    let x = vm.wv(items, 1 + last);
    vm.set_w(items, 1 + last, 0)?;
    vm.set_w(q, 3, Value::small(last as i32).0)?;
    Ok(x)
}

/// The deque a method is called on (`TypeError` for anything else).
fn deque_arg<F: FlashImage>(vm: &mut Vm<F>, args: &[Value]) -> R<Value> {
    let q = arg(args, 0);
    if vm.kind(q) != Some(DEQUE) {
        let t = vm.class_name(vm.type_of(q));
        let msg = alloc::format!("argument should be a 'deque' not a '{t}'");
        return vm.raise_msg("TypeError", &msg);
    }
    Ok(q)
}

fn deque_unary<F: FlashImage>(vm: &mut Vm<F>, op: u32, q: Value) -> R<Option<Value>> {
    let n = deque_len(vm, q);
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(n != 0)),
        unop::LEN => Some(Value::small(n as i32)),
        _ => None,
    })
}

/// `q[i]` and `q[i] = x` (no deletion, no slices: as MicroPython).
fn deque_subscr<F: FlashImage>(
    vm: &mut Vm<F>,
    q: Value,
    index: Value,
    op: SubscrOp,
) -> R<Option<Value>> {
    if op == SubscrOp::Delete {
        return Ok(None);
    }
    let n = deque_len(vm, q);
    let i = slice::get_index(vm, "deque", index, n)?;
    let (alloc, get, _, items) = ring(vm, q);
    let at = 1 + (get + i) % alloc;
    match op {
        SubscrOp::Store(x) => {
            vm.set_w(items, at, x.0)?;
            Ok(Some(Value::NULL))
        }
        _ => Ok(Some(vm.wv(items, at))),
    }
}

fn deque_iter<F: FlashImage>(vm: &mut Vm<F>, q: Value) -> R<Value> {
    let get = vm.wv(q, 2);
    vm.alloc_obj(DEQUE_ITER, 0, &[q, get])
}

fn iter_self<F: FlashImage>(_vm: &mut Vm<F>, it: Value) -> R<Value> {
    Ok(it)
}

/// The next item from the left, up to the deque's current right end.
fn deque_next<F: FlashImage>(vm: &mut Vm<F>, it: Value) -> R<Option<Value>> {
    let q = vm.wv(it, 1);
    if vm.kind(q) != Some(DEQUE) {
        return Ok(None);
    }
    let (alloc, _, put, items) = ring(vm, q);
    let cur = (vm.wv(it, 2).as_int().max(0) as u32) % alloc;
    if cur == put {
        return Ok(None);
    }
    let x = vm.wv(items, 1 + cur);
    vm.set_w(it, 2, Value::small(((cur + 1) % alloc) as i32).0)?;
    Ok(Some(x))
}
