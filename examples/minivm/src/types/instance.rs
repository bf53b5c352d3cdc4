//! Instances of Python classes, `[hdr|INSTANCE][class][members dict or null][args or null]`;
//! their type object is `object`. The args word is an exception's args tuple (see
//! `exception`), the native object of an instance of a class with a native base (a list for
//! `class Stack(list)`, the fields' tuple of a namedtuple, see `class` and `namedtuple`), and
//! null for every other instance.
//!
//! The slots dispatch to the class's special methods: `__repr__`, `__str__`, `__bool__`,
//! `__len__`, `__hash__`, `__neg__`…, `__eq__`, `__lt__`…, `__add__`…, `__iadd__`…,
//! `__contains__`, `__getitem__`…, `__iter__`, `__next__`, `__call__`; without one, to the
//! native object's slot, as MicroPython's instance slots do with `subobj[0]`.
//!
//! Frozen: a direct instance of a builtin exception class with no members, and a namedtuple,
//! go to flash (they take no attributes, see `exception`); any other instance to the RAM
//! section, compact if it is no exception and has no native object,
//! `[hdr|INSTANCE+COMPACT][class][members]`: the args word is null for good (readers go
//! through `Vm::inst_native`), and the copy stays writable like the heap one.

use alloc::string::String;

use flashfreeze::Mutability;

use crate::freeze::{copy_heap, write_words};
use crate::mem::{FlashImage, MemError};
use crate::natives::arg;
use crate::obj::*;
use crate::qstr::sq;
use crate::slots::{
    Attr, AttrOp, Freeze, Frozen, Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop,
};
use crate::types::{class, dict, exception, iter, namedtuple};
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
            "__hash__",
            "__pos__",
            "__neg__",
            "__invert__",
            "__dict__",
            "__eq__",
            "__ne__",
            "__lt__",
            "__gt__",
            "__le__",
            "__ge__",
            "__contains__",
            "__or__",
            "__xor__",
            "__and__",
            "__lshift__",
            "__rshift__",
            "__add__",
            "__sub__",
            "__mul__",
            "__matmul__",
            "__floordiv__",
            "__truediv__",
            "__mod__",
            "__pow__",
            "__ior__",
            "__ixor__",
            "__iand__",
            "__ilshift__",
            "__irshift__",
            "__iadd__",
            "__isub__",
            "__imul__",
            "__imatmul__",
            "__ifloordiv__",
            "__itruediv__",
            "__imod__",
            "__ipow__",
            "__ror__",
            "__rxor__",
            "__rand__",
            "__rlshift__",
            "__rrshift__",
            "__radd__",
            "__rsub__",
            "__rmul__",
            "__rmatmul__",
            "__rfloordiv__",
            "__rtruediv__",
            "__rmod__",
            "__rpow__",
        ],
        ..TypeSlots::new(Kind::INSTANCE, "object")
    };
}

/// `object()`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, c: Value, _args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.alloc_obj(Kind::INSTANCE, 0, &[c, Value::NULL, Value::NULL])
}

/// `object.__init__(self, *args)`: nothing to do, except on an instance of a class with a
/// native base, whose native object it builds from `args` (`super().__init__(items)` in a
/// subclass of `list`, as MicroPython's `native_base_init_wrapper`).
fn init<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let o = arg(args, 0);
    if vm.kind(o) == Some(Kind::INSTANCE) && class::has_native(vm, o) && !vm.is_exception(o) {
        let c = Value(vm.w(o, 1));
        let n = class::make_native(vm, c, args.get(1..).unwrap_or(&[]), kw)?;
        vm.set_w(o, 3, n.0)?;
    }
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

/// The native object of `v` when its class has a native base (`None` for any other
/// instance, and for one whose native object is not built yet).
fn native<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Value> {
    if !class::has_native(vm, v) || vm.is_exception(v) {
        return None;
    }
    let n = vm.inst_native(v);
    (!n.is_null()).then_some(n)
}

/// `__str__` (for `str`), `__repr__`, else an exception's or a namedtuple's own text, else
/// the native object's (a subclass of `list` prints as a list).
fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, d: u32, k: PrintKind) -> R<()> {
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
    if vm.is_exception(v) {
        return exception::print(vm, v, s, d, k);
    }
    if namedtuple::is_instance(vm, v) {
        return namedtuple::print(vm, v, s, d);
    }
    if let Some(n) = native(vm, v) {
        return vm.print_into(n, s, d, k);
    }
    vm.print_default(v, s);
    Ok(())
}

/// Truth (`__bool__`, then `__len__`), `len`, `hash` (`__hash__`; a class with `__eq__` and
/// no `__hash__` is unhashable, as in Python), `-`, `+`, `~`; else the native object's answer.
fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let name = match op {
        unop::BOOL => vm.q("__bool__"),
        unop::LEN => sq!("__len__"),
        unop::HASH => sq!("__hash__"),
        unop::POSITIVE => vm.q("__pos__"),
        unop::NEGATIVE => vm.q("__neg__"),
        unop::INVERT => vm.q("__invert__"),
        unop::ABS => vm.q("__abs__"),
        _ => return Ok(None),
    };
    if let Some(r) = special(vm, v, name, &[])? {
        return Ok(Some(match op {
            unop::BOOL => {
                let t = vm.truthy(r)?;
                vm.bool_val(t)
            }
            _ => r,
        }));
    }
    if op == unop::BOOL
        && let Some(n) = special(vm, v, sq!("__len__"), &[])?
    {
        let t = vm.truthy(n)?;
        return Ok(Some(vm.bool_val(t)));
    }
    if let Some(n) = native(vm, v) {
        return match op {
            unop::BOOL => {
                let t = vm.truthy(n)?;
                Ok(Some(vm.bool_val(t)))
            }
            unop::LEN => vm.len(n).map(Some),
            unop::HASH => vm.hash_of(n).map(Some),
            _ => vm.unary_op(op, n).map(Some),
        };
    }
    match op {
        unop::BOOL => Ok(Some(vm.bool_val(true))),
        unop::HASH
            if {
                let eq = vm.q("__eq__");
                vm.lookup_method(v, eq)?.is_some()
            } =>
        {
            vm.unsupported_unary(op, v)
        }
        _ => Ok(None),
    }
}

/// The class's special method for `op` (`__add__`, `__lt__`, `__contains__`, `__iadd__`…),
/// else the native object's answer.
fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    let name = binop::method_name(op);
    if name.is_empty() {
        return Ok(None);
    }
    let m = vm.q(name);
    if let Some(r) = special(vm, a, m, &[b])? {
        return Ok(Some(r));
    }
    let Some(n) = native(vm, a) else {
        return Ok(None);
    };
    Ok(Some(match op {
        binop::EQUAL => {
            let r = vm.eq(n, b)?;
            vm.bool_val(r)
        }
        binop::CONTAINS => {
            let r = vm.contains(n, b)?;
            vm.bool_val(r)
        }
        _ => vm.binary_op(op, n, b)?,
    }))
}

/// An instance's attributes: a namedtuple's fields, its members, `__dict__` (a read-only
/// copy of the members, as MicroPython), an exception's `args`, `value`, `errno`, the generic
/// lookup in its class, the native object's attributes, then the class's `__getattr__`. A
/// store goes through a property's setter, else into the members (a namedtuple, a native
/// exception and a plain `object()` take none).
fn attr<F: FlashImage>(vm: &mut Vm<F>, obj: Value, name: Value, op: AttrOp) -> R<Attr> {
    let members = vm.wv(obj, 2);
    match op {
        AttrOp::Load | AttrOp::Method => {
            // Members first: the common case, and a namedtuple has none.
            if members.is_ptr()
                && let Some(v) = vm.dict_get_q(members, name)
            {
                return Ok(Attr::Found(v));
            }
            if namedtuple::of_class(vm, obj) {
                // As MicroPython's `namedtuple_attr`: the fields, `__class__`, and nothing else
                // (not even tuple's methods, which a subclass's instances have).
                if let Some(v) = namedtuple::field(vm, obj, name) {
                    return Ok(Attr::Found(v));
                }
                if name == sq!("__class__") {
                    return Ok(Attr::Found(Value(vm.w(obj, 1))));
                }
                return Ok(Attr::Missing);
            }
            if vm.is_name(name, "__dict__") {
                return Ok(Attr::Found(dict::fixed_copy(vm, members)?));
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
            if let Some(n) = native(vm, obj)
                && let Some(v) = vm.try_load_attr(n, name)?
            {
                return Ok(Attr::Found(v));
            }
            let c = vm.type_of(obj);
            if let Some(f) = vm.class_lookup(c, sq!("__getattr__")) {
                return Ok(Attr::Found(vm.call(f, &[obj, name], &[])?));
            }
            Ok(Attr::Missing)
        }
        AttrOp::Store(_) | AttrOp::Delete if namedtuple::of_class(vm, obj) => {
            vm.raise_msg("AttributeError", "can't set attribute")
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
            if c == vm.st.object {
                // A plain `object()` has no members (it is MicroPython's bare object).
                return Ok(Attr::Missing);
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

/// `__getitem__`, `__setitem__`, `__delitem__`, else the native object's subscript.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, v: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    let r = match op {
        SubscrOp::Load => special(vm, v, sq!("__getitem__"), &[index])?,
        SubscrOp::Store(x) => special(vm, v, sq!("__setitem__"), &[index, x])?,
        SubscrOp::Delete => special(vm, v, sq!("__delitem__"), &[index])?,
    };
    if r.is_some() {
        return Ok(r);
    }
    let Some(n) = native(vm, v) else {
        return Ok(None);
    };
    match op {
        SubscrOp::Load => vm.subscr(n, index).map(Some),
        SubscrOp::Store(x) => vm.store_subscr(n, index, x).map(|()| Some(Value::NULL)),
        SubscrOp::Delete => vm.delete_subscr(n, index).map(|()| Some(Value::NULL)),
    }
}

/// `__iter__`, else an index iterator when the class has `__getitem__`, else the native
/// object's iterator.
fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    if let Some(it) = special(vm, v, sq!("__iter__"), &[])? {
        return Ok(it);
    }
    // A native base that iterates comes before `__getitem__` (MicroPython's class lookup
    // finds the base's `getiter` slot first: `class D(dict)` with a `__getitem__` iterates
    // its keys).
    if let Some(n) = native(vm, v).filter(|&n| vm.slots(n).is_some_and(|t| t.getiter.is_some())) {
        return vm.get_iter(n);
    }
    if vm.lookup_method(v, sq!("__getitem__"))?.is_some() {
        return iter::new(vm, iter_kind::SEQ, v);
    }
    if let Some(n) = native(vm, v) {
        return vm.get_iter(n);
    }
    let t = vm.class_name(vm.type_of(v));
    let msg = alloc::format!("'{t}' object isn't iterable");
    vm.raise_msg("TypeError", &msg)
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

/// Is instance `v` callable (its class has `__call__`)?
pub fn is_callable<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    vm.class_lookup(vm.type_of(v), sq!("__call__")).is_some()
}

fn placement<F: FlashImage>(vm: &Vm<F>, v: Value) -> Mutability {
    // A builtin exception's instance refuses attribute stores and keeps no traceback: class
    // and args tuple only, never written. A namedtuple takes no attributes either.
    if (vm.is_native_exception(v) || namedtuple::is_instance(vm, v)) && vm.w(v, 2) == 0 {
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
