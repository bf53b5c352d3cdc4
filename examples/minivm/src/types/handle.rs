//! Native handles: `[hdr sub-kind|HANDLE][counter][list]` for sockets and streams (stubs the
//! freezer refuses: their state is outside the object graph), and for the `utimeq` and `poll`
//! objects of this port (plain data, frozen to the RAM section). The sub-kinds are in
//! `obj::handle_kind`.

use flashfreeze::Mutability;

use crate::mem::FlashImage;
use crate::modules::{select, timeq};
use crate::obj::*;
use crate::slots::{Freeze, Native, NativeType, TypeSlots, unop};
use crate::vm::{R, Vm};

/// The handle type.
pub struct Handle;

impl<F: FlashImage> NativeType<F> for Handle {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::By(placement),
        unary_op: Some(unary_op),
        methods: &[
            Native::new("noop", noop),
            Native::new("push", timeq::push),
            Native::new("pop", timeq::pop),
            Native::new("peektime", timeq::peektime),
            Native::new("remove", timeq::remove),
            Native::new("register", select::ignore),
            Native::new("unregister", select::ignore),
            Native::new("modify", select::ignore),
            Native::new("ipoll", select::wait),
            Native::new("poll", select::wait),
            Native::new("close", noop),
        ],
        ..TypeSlots::new(Kind::HANDLE, "handle")
    };
}

/// Truth and `len`: the entries of the handle's list (a queue's, a poll's).
fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let n = vm.wv(vm.wv(v, 2), 1);
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(n.as_int() > 0)),
        unop::LEN => Some(n),
        _ => None,
    })
}

/// A new handle of sub-kind `sub` with an empty list.
pub fn new_handle<F: FlashImage>(vm: &mut Vm<F>, sub: u32) -> R<Value> {
    let l = vm.new_list(&[])?;
    vm.alloc_obj(Kind::HANDLE, sub, &[Value::small(0), l])
}

fn noop<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(vm.none())
}

/// utimeq and poll objects of this port are plain data (a list): mutable state.
fn placement<F: FlashImage>(vm: &Vm<F>, h: Value) -> Mutability {
    if matches!(vm.aux(h), handle_kind::UTIMEQ | handle_kind::POLL) {
        Mutability::Mutable
    } else {
        Mutability::Unfreezable("a native handle (socket or stream)")
    }
}
