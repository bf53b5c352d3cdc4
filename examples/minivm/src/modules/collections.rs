//! `ucollections` (also `collections`): `deque` and `OrderedDict`.
//!
//! On this port a deque is a list (its `popleft` is the list's) and `OrderedDict` is `dict`,
//! which keeps insertion order.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::{Kind, Value};
use crate::slots::{Constant, ModuleDef, Native, NativeModule};
use crate::vm::{R, Vm};

/// The `ucollections` module.
pub struct Collections;

impl<F: FlashImage> NativeModule<F> for Collections {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["collections"],
        functions: &[Native::new("deque", deque)],
        constants: &[Constant::Type("OrderedDict", Kind::DICT)],
        ..ModuleDef::new("ucollections")
    };
}

/// `deque(iterable=(), maxlen)`: a list of the items.
fn deque<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let items = if args.is_empty() {
        alloc::vec::Vec::new()
    } else {
        vm.iter_to_vec(arg(args, 0))?
    };
    vm.new_list(&items)
}
