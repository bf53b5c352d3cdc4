//! Classes: `[hdr flags|CLASS][name qstr][bases tuple][namespace dict]`, the type object of a
//! Python class and of every native type (`class_flags::NATIVE`, its kind in aux bits 8..16).
//!
//! A Python class deriving from a native type other than `object` (`class Stack(list)`, or a
//! namedtuple class) has `class_flags::NATIVE_BASE`: its instances keep the native object in
//! their args word, as MicroPython's `subobj[0]`, built after `__init__` unless `__init__`
//! built it through `super().__init__(...)` (see `instance`).

use alloc::string::String;
use alloc::vec;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::qstr::sq;
use crate::slots::{Attr, AttrOp, NativeType, PrintKind, TypeSlots, table};
use crate::types::{dict, namedtuple};
use crate::vm::{R, Vm};

/// The `type` type.
pub struct Class;

impl<F: FlashImage> NativeType<F> for Class {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        print: Some(print),
        attr: Some(attr),
        call: Some(call),
        stats_name: "class",
        names: &["__bases__", "__dict__"],
        ..TypeSlots::new(Kind::CLASS, "type")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.class_name(v.0);
    let _ = write!(s, "<class '{n}'>");
    Ok(())
}

/// `type(x)`: the class of `x`; `type(name, bases, dict)`: a new class, as a `class`
/// statement would make it (the dict's entries become its namespace).
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    match (args.len(), kw.is_empty()) {
        (1, true) => Ok(Value(vm.type_of(arg(args, 0)))),
        (3, true) => {
            let (name, bases, dict) = (args[0], args[1], args[2]);
            let bases = match vm.kind(bases) {
                Some(Kind::TUPLE) => vm.seq_vec(bases).unwrap_or_default(),
                _ => return vm.raise_empty("TypeError"),
            };
            if vm.kind(dict) != Some(Kind::DICT) {
                return vm.raise_empty("TypeError");
            }
            let name = vm.str_arg(name)?;
            let name = vm.intern(&name)?;
            let n = vm.dict_len(dict);
            let ns = vm.new_namespace(n)?;
            for i in 0..n {
                let (k, v) = vm.dict_entry(dict, i);
                let k = match vm.str_bytes(k) {
                    Some(b) => {
                        let b = b.to_vec();
                        vm.intern(&b)?
                    }
                    None => k,
                };
                vm.dict_store(ns, k, v)?;
            }
            new_class(vm, name, &bases, ns)
        }
        _ => vm.raise_msg("TypeError", "type takes 1 or 3 arguments"),
    }
}

/// A new class `name` (a qstr) with `bases` and namespace `ns` (a namespace dict), for a
/// `class` statement and for `type(name, bases, dict)`. Every base must be a class that can be
/// derived from (a native type with a constructor).
pub fn new_class<F: FlashImage>(
    vm: &mut Vm<F>,
    name: Value,
    bases: &[Value],
    ns: Value,
) -> R<Value> {
    let mut flags = 0;
    for &b in bases {
        if vm.kind(b) != Some(Kind::CLASS) {
            return vm.raise_empty("TypeError");
        }
        let bf = vm.aux(b);
        flags |= bf & (class_flags::EXCEPTION | class_flags::NATIVE_BASE);
        if bf & class_flags::NATIVE != 0 {
            let k = Kind::try_new((bf >> 8) as u8);
            if matches!(k, Some(Kind::INSTANCE | Kind::CLASS)) {
                continue;
            }
            if k.and_then(|k| vm.registry.slots(k))
                .and_then(|t| t.make_new)
                .is_none()
            {
                let n = vm.class_name(b.0);
                let msg = alloc::format!("type '{n}' isn't an acceptable base type");
                return vm.raise_msg("TypeError", &msg);
            }
            flags |= class_flags::NATIVE_BASE;
        }
    }
    let bt = vm.new_tuple(bases)?;
    vm.alloc_obj(Kind::CLASS, flags, &[name, bt, ns])
}

/// The class whose constructor builds the native part of `c`'s instances: the first native
/// type (other than `object` and `type`) or namedtuple class among `c` and its bases,
/// depth-first as the attribute lookup.
pub fn native_base<F: FlashImage>(vm: &Vm<F>, c: Value) -> Option<Value> {
    let mut work = vec![c.0];
    let mut steps = 0;
    while let Some(x) = work.pop() {
        steps += 1;
        if steps > 256 || vm.kind(Value(x)) != Some(Kind::CLASS) {
            continue;
        }
        let f = vm.aux(Value(x));
        if f & class_flags::NAMEDTUPLE != 0 {
            return Some(Value(x));
        }
        if f & class_flags::NATIVE != 0
            && !matches!(
                Kind::try_new((f >> 8) as u8),
                Some(Kind::INSTANCE | Kind::CLASS)
            )
        {
            return Some(Value(x));
        }
        if let Some((a, n)) = vm.seq_items(vm.wv(Value(x), 2)) {
            work.extend((0..n).rev().map(|i| vm.mem.read_u32(a + 4 * i)));
        }
    }
    None
}

/// The native object of an instance of class `c` built from `args`: a namedtuple class's own
/// instances hold their fields' tuple; any other class's, the object its native base makes of
/// them (a namedtuple instance for a subclass of a namedtuple class).
pub fn make_native<F: FlashImage>(
    vm: &mut Vm<F>,
    c: Value,
    args: &[Value],
    kw: &[Value],
) -> R<Value> {
    if vm.aux(c) & class_flags::NAMEDTUPLE != 0 {
        return namedtuple::make(vm, c, args, kw);
    }
    let Some(b) = native_base(vm, c) else {
        return Ok(Value::NULL);
    };
    if vm.aux(b) & class_flags::NAMEDTUPLE != 0 {
        return vm.call(b, args, kw);
    }
    let make_new = Kind::try_new((vm.aux(b) >> 8) as u8)
        .and_then(|k| vm.registry.slots(k))
        .and_then(|t| t.make_new);
    match make_new {
        Some(f) => f(vm, b, args, kw),
        None => vm.raise_empty("TypeError"),
    }
}

/// A class's attributes: `__name__`, its namespace and its bases' (a `staticmethod` is its
/// function, a `classmethod` binds the class), `__bases__`, `__dict__` (a read-only copy of its
/// own namespace).
/// Stores and deletes change the namespace (refused once frozen).
fn attr<F: FlashImage>(vm: &mut Vm<F>, c: Value, name: Value, op: AttrOp) -> R<Attr> {
    match op {
        AttrOp::Load | AttrOp::Method => {
            if name == sq!("__name__") {
                return Ok(Attr::Found(vm.wv(c, 1)));
            }
            if let Some(v) = vm.class_lookup(c.0, name) {
                return Ok(Attr::Found(match vm.kind(v) {
                    Some(Kind::STATIC_METH) => vm.wv(v, 1),
                    Some(Kind::CLASS_METH) => {
                        let f = vm.wv(v, 1);
                        vm.alloc_obj(Kind::BOUND_METH, 0, &[f, c])?
                    }
                    _ => v,
                }));
            }
            if vm.is_name(name, "__bases__") {
                // A class without bases derives from `object` (which has none).
                let b = vm.wv(c, 2);
                if vm.seq_items(b).is_some_and(|(_, n)| n == 0) && c.0 != vm.st.object {
                    let o = Value(vm.st.object);
                    return Ok(Attr::Found(vm.new_tuple(&[o])?));
                }
                return Ok(Attr::Found(b));
            }
            if vm.is_name(name, "__dict__") {
                // A read-only copy of the namespace, as MicroPython's.
                let ns = vm.wv(c, 3);
                return Ok(Attr::Found(dict::fixed_copy(vm, ns)?));
            }
            Ok(Attr::Missing)
        }
        AttrOp::Store(v) => {
            let d = vm.wv(c, 3);
            vm.dict_store(d, name, v).map(|()| Attr::Done)
        }
        AttrOp::Delete => {
            let d = vm.wv(c, 3);
            vm.delete_from(d, name)
        }
    }
}

/// Is `f` the `__init__` of `object` or of the exceptions, which have nothing left to do on a
/// new instance (its args are already stored)?
fn is_native_init<F: FlashImage>(vm: &Vm<F>, f: Value) -> bool {
    vm.kind(f) == Some(Kind::BUILTIN) && {
        let t = vm.aux(f) >> 8;
        t == Kind::INSTANCE.id() as u32 || t == table::EXCEPTION
    }
}

/// Calling a class: a native type's `make_new`, or a new instance of a Python class (from
/// `__new__` if it has one) that `__init__` then initialises; a class with a native base then
/// builds the native object from the same arguments, unless `__init__` already did (through
/// `super().__init__(...)`), as MicroPython's `mp_obj_instance_make_new`.
fn call<F: FlashImage>(vm: &mut Vm<F>, c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    let flags = vm.aux(c);
    if flags & class_flags::NATIVE != 0 {
        // A native type: its kind is in the aux bits 8..16.
        let make_new = Kind::try_new((flags >> 8) as u8)
            .and_then(|k| vm.registry.slots(k))
            .and_then(|t| t.make_new);
        return match make_new {
            Some(f) => f(vm, c, args, kw),
            None => {
                let n = vm.class_name(c.0);
                let msg = alloc::format!("can't create '{n}' instances");
                vm.raise_msg("TypeError", &msg)
            }
        };
    }
    let newq = sq!("__new__");
    let inst = if let Some(nf) = vm.class_lookup(c.0, newq)
        && matches!(
            vm.kind(nf),
            Some(Kind::FUNC | Kind::CLOSURE | Kind::STATIC_METH)
        ) {
        let nf = if vm.kind(nf) == Some(Kind::STATIC_METH) {
            vm.wv(nf, 1)
        } else {
            nf
        };
        let mut a = vec![c];
        a.extend_from_slice(args);
        let o = vm.call(nf, &a, kw)?;
        if vm.type_of(o) != c.0 {
            return Ok(o);
        }
        o
    } else if flags & class_flags::EXCEPTION != 0 {
        let t = vm.new_tuple(args)?;
        vm.alloc_obj(Kind::INSTANCE, 0, &[c, Value::NULL, t])?
    } else {
        // No args word yet: null forever for a plain class, so the frozen copy can drop it.
        vm.alloc_obj(Kind::INSTANCE, 0, &[c, Value::NULL, Value::NULL])?
    };
    let initq = sq!("__init__");
    if let Some(init) = vm.class_lookup(c.0, initq)
        && !is_native_init(vm, init)
    {
        let mut a = vec![inst];
        a.extend_from_slice(args);
        let r = vm.call(init, &a, kw)?;
        if r.0 != vm.st.none {
            let t = vm.class_name(vm.type_of(r));
            let msg = alloc::format!("__init__() should return None, not '{t}'");
            return vm.raise_msg("TypeError", &msg);
        }
    }
    if flags & class_flags::NATIVE_BASE != 0
        && vm.kind(inst) == Some(Kind::INSTANCE)
        && vm.inst_native(inst).is_null()
    {
        let n = make_native(vm, c, args, kw)?;
        vm.set_w(inst, 3, n.0)?;
    }
    Ok(inst)
}

/// The instances' native objects of `v`, one level down per native base: `v` itself when it
/// is no instance of a class with a native base (`None` when such an instance has none yet).
pub fn native_of<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Value> {
    let mut x = v;
    for _ in 0..8 {
        if vm.kind(x) != Some(Kind::INSTANCE) || !has_native(vm, x) {
            return Some(x);
        }
        let n = vm.inst_native(x);
        if n.is_null() {
            return None;
        }
        x = n;
    }
    Some(x)
}

/// Is `v` (an instance) of a class with a native base, so its args word is its native object?
pub fn has_native<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    let c = Value(vm.w(v, 1));
    vm.kind(c) == Some(Kind::CLASS) && vm.aux(c) & class_flags::NATIVE_BASE != 0
}
