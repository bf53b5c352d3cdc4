//! `uselect` (also `select`): `poll()` objects. This port has no I/O sources, so a poll
//! reports no events, and waiting on it advances the simulated clock (see `utime`).

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::{Value, handle_kind};
use crate::slots::{Constant, ModuleDef, Native, NativeModule};
use crate::types::handle::new_handle;
use crate::vm::{R, Vm};

/// The `uselect` module.
pub struct Select;

impl<F: FlashImage> NativeModule<F> for Select {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["select"],
        functions: &[Native::new("poll", poll)],
        constants: &[
            Constant::Int("POLLIN", 1),
            Constant::Int("POLLOUT", 4),
            Constant::Int("POLLERR", 8),
            Constant::Int("POLLHUP", 16),
        ],
        ..ModuleDef::new("uselect")
    };
}

fn poll<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    new_handle(vm, handle_kind::POLL)
}

/// `register`, `unregister`, `modify`: no sources to watch.
pub fn ignore<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(vm.none())
}

/// `poll(timeout_ms)`, `ipoll(timeout_ms)`: no events; a positive timeout passes on the clock.
pub fn wait<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let ms = vm.as_intlike(arg(args, 1)).unwrap_or(0);
    if ms > 0 {
        vm.ticks_ms = vm.ticks_ms.wrapping_add(ms as u32);
    }
    vm.new_tuple(&[])
}
