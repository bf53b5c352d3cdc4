//! Native handles: `[hdr sub-kind|HANDLE][counter][list]`, the sockets and streams of this
//! port's stubs (see `modules::socket`, `modules::io`). The freezer refuses them: their state
//! is outside the object graph, so a frozen copy could not work after a reboot.

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{Freeze, Native, NativeType, TypeSlots, unop};
use crate::vm::{R, Vm};

/// A socket (header aux of a handle).
pub const SOCKET: u32 = 0;
/// A `StringIO` stream.
pub const STRING_IO: u32 = 1;
/// A `BytesIO` stream.
pub const BYTES_IO: u32 = 2;

/// The handle type.
pub struct Handle;

impl<F: FlashImage> NativeType<F> for Handle {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::Refuse("a native handle (socket or stream)"),
        unary_op: Some(list_len),
        methods: &[Native::new("noop", noop), Native::new("close", noop)],
        ..TypeSlots::new(Kind::HANDLE, "handle")
    };
}

/// Truth and `len` of an object `[hdr][…][list]`: its list's entries (a handle's, a queue's,
/// a poll's).
pub fn list_len<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let n = vm.wv(vm.wv(v, 2), 1);
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(n.as_int() > 0)),
        unop::LEN => Some(n),
        _ => None,
    })
}

/// A new object of kind `kind` and aux `sub`, `[hdr][0][empty list]`.
pub fn new_with_list<F: FlashImage>(vm: &mut Vm<F>, kind: Kind, sub: u32) -> R<Value> {
    let l = vm.new_list(&[])?;
    vm.alloc_obj(kind, sub, &[Value::small(0), l])
}

/// A new handle of sub-kind `sub`.
pub fn new_handle<F: FlashImage>(vm: &mut Vm<F>, sub: u32) -> R<Value> {
    new_with_list(vm, Kind::HANDLE, sub)
}

fn noop<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(vm.none())
}
