//! Instances of Python classes, `[hdr|INSTANCE][class][members dict or null][args or null]`;
//! their type object is `object`. The args word is an exception's args tuple (see
//! `exception`) and null for every other instance.

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{Native, NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The instance type (`object`).
pub struct Instance;

impl<F: FlashImage> NativeType<F> for Instance {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
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
