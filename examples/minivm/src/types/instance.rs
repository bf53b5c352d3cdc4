//! Instances of Python classes, `[hdr|INSTANCE][class][members dict or null][args or null]`;
//! their type object is `object`. The args word is an exception's args tuple (see
//! `exception`) and null for every other instance.
//!
//! The slots dispatch to the class's special methods: `__repr__`, `__str__`, `__len__`,
//! `__bool__`, `__eq__`, `__lt__`…, `__add__`…, `__contains__`.

use alloc::string::String;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::qstr::sq;
use crate::slots::{Native, NativeType, PrintKind, TypeSlots, binop, unop};
use crate::types::exception;
use crate::vm::{R, Vm};

/// The instance type (`object`).
pub struct Instance;

impl<F: FlashImage> NativeType<F> for Instance {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(unary_op),
        binary_op: Some(binary_op),
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
