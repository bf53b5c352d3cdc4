//! Native handles: `[hdr sub-kind|HANDLE][counter][list]`, the sockets of this port's stub
//! (their type is `modules::socket`'s). The freezer refuses them: their state is outside the
//! object graph, so a frozen copy could not work after a reboot. And helpers for the other
//! objects of this shape (`select.poll`, `utimeq`).

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::unop;
use crate::vm::{R, Vm};

/// A socket (header aux of a handle).
pub const SOCKET: u32 = 0;

/// Truth and `len` of an object `[hdr][…][list]`: its list's entries (a queue's, a poll's).
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
