//! Classes: `[hdr flags|CLASS][name qstr][bases tuple][namespace dict]`, the type object of a
//! Python class and of every native type (`class_flags::NATIVE`, its kind in aux bits 8..16).

use alloc::string::String;
use alloc::vec;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::qstr::sq;
use crate::slots::{Attr, AttrOp, NativeType, PrintKind, TypeSlots};
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
        names: &["__bases__"],
        ..TypeSlots::new(Kind::CLASS, "type")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.class_name(v.0);
    let _ = write!(s, "<class '{n}'>");
    Ok(())
}

/// `type(x)`: the class of `x` (`type(name, bases, dict)` is not supported yet).
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    if args.len() == 1 {
        return Ok(Value(vm.type_of(arg(args, 0))));
    }
    vm.raise_msg("NotImplementedError", "type() with 3 arguments")
}

/// A class's attributes: `__name__`, its namespace and its bases' (a `staticmethod` is its
/// function, a `classmethod` binds the class), `__bases__`. Stores and deletes change the
/// namespace (refused once frozen).
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
            if name == vm.q("__bases__") {
                return Ok(Attr::Found(vm.wv(c, 2)));
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

/// Calling a class: a native type's `make_new`, or a new instance of a Python class (from
/// `__new__` if it has one) that `__init__` then initialises.
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
                let msg = alloc::format!("cannot create '{n}' instances");
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
        // No args word: null forever, so the frozen copy can drop it.
        vm.alloc_obj(Kind::INSTANCE, 0, &[c, Value::NULL, Value::NULL])?
    };
    let initq = sq!("__init__");
    if let Some(init) = vm.class_lookup(c.0, initq) {
        let mut a = vec![inst];
        a.extend_from_slice(args);
        vm.call(init, &a, kw)?;
    }
    Ok(inst)
}
