//! Instances of Python classes, `[hdr|INSTANCE][class][members dict or null][args or null]`;
//! their type object is `object`. The args word is an exception's args tuple (see
//! `exception`) and null for every other instance.
//!
//! The slots dispatch to the class's special methods: `__repr__`, `__str__`, `__len__`,
//! `__bool__`, `__eq__`, `__lt__`…, `__add__`…, `__contains__`.
//!
//! Frozen: a direct instance of a builtin exception class with no members goes to flash (it
//! takes no attributes, see `exception`); any other instance to the RAM section, compact if
//! it is no exception, `[hdr|INSTANCE+COMPACT][class][members]`: the args word is null for
//! good (readers go through `Vm::inst_native`), and the copy stays writable like the heap one.

use alloc::string::String;

use flashfreeze::Mutability;

use crate::freeze::{copy_heap, write_words};
use crate::mem::{FlashImage, MemError};
use crate::obj::*;
use crate::qstr::sq;
use crate::slots::{
    Attr, AttrOp, Freeze, Frozen, Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop,
};
use crate::types::{exception, iter};
use crate::vm::{R, Vm};

/// The instance type (`object`).
pub struct Instance;

impl<F: FlashImage> NativeType<F> for Instance {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::By(placement),
        frozen: Some(Frozen {
            size: frozen_size,
            values: None,
            write: write_frozen,
        }),
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(unary_op),
        binary_op: Some(binary_op),
        attr: Some(attr),
        subscr: Some(subscr),
        getiter: Some(getiter),
        iternext: Some(iternext),
        call: Some(call),
        methods: &[Native::new("__init__", init)],
        stats_name: "instance",
        names: &[
            "__bool__",
            "__eq__",
            "__lt__",
            "__gt__",
            "__le__",
            "__ge__",
            "__contains__",
            "__or__",
            "__and__",
            "__add__",
            "__sub__",
            "__mul__",
        ],
        ..TypeSlots::new(Kind::INSTANCE, "object")
    };
}

/// `object()`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, c: Value, _args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.alloc_obj(Kind::INSTANCE, 0, &[c, Value::NULL, Value::NULL])
}

/// `object.__init__`: nothing to do.
fn init<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(vm.none())
}

/// Calls special method `name` of `v`'s class with `v` and `args`, if the class has one.
fn special<F: FlashImage>(
    vm: &mut Vm<F>,
    v: Value,
    name: Value,
    args: &[Value],
) -> R<Option<Value>> {
    let Some(f) = vm.lookup_method(v, name)? else {
        return Ok(None);
    };
    let mut a = alloc::vec![v];
    a.extend_from_slice(args);
    vm.call(f, &a, &[]).map(Some)
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, d: u32, k: PrintKind) -> R<()> {
    if vm.is_exception(v) {
        return exception::print(vm, v, s, d, k);
    }
    if k == PrintKind::Str
        && let Some(r) = special(vm, v, sq!("__str__"), &[])?
    {
        let t = vm.str_of(r)?;
        s.push_str(&t);
        return Ok(());
    }
    if let Some(r) = special(vm, v, sq!("__repr__"), &[])? {
        let t = vm.str_of(r)?;
        s.push_str(&t);
        return Ok(());
    }
    vm.print_default(v, s);
    Ok(())
}

fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    match op {
        unop::BOOL => {
            if let Some(r) = special(vm, v, sq!("__len__"), &[])? {
                return Ok(Some(vm.bool_val(r.as_int() != 0)));
            }
            let b = vm.q("__bool__");
            if let Some(r) = special(vm, v, b, &[])? {
                return Ok(Some(vm.bool_val(r.0 == vm.st.true_)));
            }
            Ok(Some(vm.bool_val(true)))
        }
        unop::LEN => match special(vm, v, sq!("__len__"), &[])? {
            Some(n) => Ok(Some(n)),
            None => vm.raise_msg("TypeError", "object has no len()"),
        },
        _ => Ok(None),
    }
}

fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    let name = match op {
        binop::EQUAL => "__eq__",
        binop::LESS => "__lt__",
        binop::MORE => "__gt__",
        binop::LESS_EQUAL => "__le__",
        binop::MORE_EQUAL => "__ge__",
        binop::OR => "__or__",
        binop::AND => "__and__",
        binop::ADD => "__add__",
        binop::SUBTRACT => "__sub__",
        binop::MULTIPLY => "__mul__",
        binop::CONTAINS => "__contains__",
        _ => return Ok(None),
    };
    let m = vm.q(name);
    special(vm, a, m, &[b])
}

/// An instance's attributes: its members, then (an exception's) `args`, `value`, `errno`, then
/// the generic lookup in its class, then the class's `__getattr__`. A store goes through a
/// property's setter, else into the members (a native exception takes none).
fn attr<F: FlashImage>(vm: &mut Vm<F>, obj: Value, name: Value, op: AttrOp) -> R<Attr> {
    let members = vm.wv(obj, 2);
    match op {
        AttrOp::Load | AttrOp::Method => {
            if members.is_ptr()
                && let Some(v) = vm.dict_get_q(members, name)
            {
                return Ok(Attr::Found(v));
            }
            if op == AttrOp::Method {
                // The class's methods are found unbound by the runtime.
                return Ok(Attr::Default);
            }
            if vm.is_exception(obj)
                && let Some(v) = exception::attr(vm, obj, name)
            {
                return Ok(Attr::Found(v));
            }
            if let Some(v) = vm.generic_load_attr(obj, name)? {
                return Ok(Attr::Found(v));
            }
            let c = vm.type_of(obj);
            if let Some(f) = vm.class_lookup(c, sq!("__getattr__")) {
                return Ok(Attr::Found(vm.call(f, &[obj, name], &[])?));
            }
            Ok(Attr::Missing)
        }
        AttrOp::Store(v) => {
            let c = vm.type_of(obj);
            if let Some(p) = vm.class_lookup(c, name)
                && vm.kind(p) == Some(Kind::PROPERTY)
            {
                let s = vm.wv(p, 2);
                if s.is_ptr() && s.0 != vm.st.none {
                    vm.call(s, &[obj, v], &[])?;
                    return Ok(Attr::Done);
                }
                return vm.raise_msg("AttributeError", "can't set attribute");
            }
            if vm.is_native_exception(obj) {
                return Ok(exception::store_attr(vm, name, v));
            }
            let mut d = members;
            if !d.is_ptr() {
                if !vm.mem.is_writable(obj.0) {
                    return vm.raise_mem(MemError::ReadOnly(obj.0));
                }
                d = vm.new_dict(4)?;
                vm.set_w(obj, 2, d.0)?;
            }
            vm.dict_store(d, name, v).map(|()| Attr::Done)
        }
        AttrOp::Delete => vm.delete_from(members, name),
    }
}

/// `__getitem__`, `__setitem__`, `__delitem__`.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, v: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    match op {
        SubscrOp::Load => special(vm, v, sq!("__getitem__"), &[index]),
        SubscrOp::Store(x) => special(vm, v, sq!("__setitem__"), &[index, x]),
        SubscrOp::Delete => special(vm, v, sq!("__delitem__"), &[index]),
    }
}

/// `__iter__`, else an index iterator when the class has `__getitem__`.
fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    if let Some(it) = special(vm, v, sq!("__iter__"), &[])? {
        return Ok(it);
    }
    if vm.lookup_method(v, sq!("__getitem__"))?.is_some() {
        return iter::new(vm, iter_kind::SEQ, v);
    }
    vm.raise_msg("TypeError", "object not iterable")
}

/// `__next__`; its `StopIteration` ends the iteration.
fn iternext<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Option<Value>> {
    let Some(f) = vm.lookup_method(v, sq!("__next__"))? else {
        return vm.raise_msg("TypeError", "object not an iterator");
    };
    let r = vm.call(f, &[v], &[]);
    vm.stop_iteration_ends(r)
}

/// `__call__`.
fn call<F: FlashImage>(vm: &mut Vm<F>, v: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    match vm.lookup_method(v, sq!("__call__"))? {
        Some(c) => {
            let mut a = alloc::vec![v];
            a.extend_from_slice(args);
            vm.call(c, &a, kw)
        }
        None => vm.not_callable(v),
    }
}

fn placement<F: FlashImage>(vm: &Vm<F>, v: Value) -> Mutability {
    // A builtin exception's instance refuses attribute stores and keeps no traceback: class
    // and args tuple only, never written.
    if vm.is_native_exception(v) && vm.w(v, 2) == 0 {
        Mutability::Immutable
    } else {
        Mutability::Mutable
    }
}

/// Does heap instance `i` freeze compact: its class is no exception class, so its args word
/// is null for good (only exceptions keep an args tuple there)?
fn compact<F: FlashImage>(vm: &Vm<F>, i: Value) -> bool {
    !is_compact(vm.w(i, 0)) && !vm.is_exception(i) && vm.w(i, 3) == 0
}

fn frozen_size<F: FlashImage>(vm: &Vm<F>, i: Value) -> u32 {
    if compact(vm, i) {
        12
    } else {
        object_size(vm.w(i, 0)).unwrap_or(4)
    }
}

fn write_frozen<F: FlashImage>(vm: &Vm<F>, i: Value, out: &mut [u8]) {
    if compact(vm, i) {
        write_words(out, &[vm.w(i, 0) | COMPACT as u32, vm.w(i, 1), vm.w(i, 2)]);
    } else {
        copy_heap(vm, i, out);
    }
}
