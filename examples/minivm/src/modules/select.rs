//! `select` (also `uselect`): the module and its `poll` type. This port has no I/O sources, so
//! a poll, `[hdr|POLL][0][empty list]`, reports no events (`poll()` answers `[]`), and waiting
//! on it advances the simulated clock (see `time`). Plain data: it freezes to the RAM section.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::{Kind, Value};
use alloc::string::String;

use crate::slots::{
    Constant, Freeze, Layout, ModuleDef, Native, NativeModule, NativeType, PrintKind, TypeSlots,
};
use crate::types::handle::{list_len, new_with_list};
use crate::vm::{R, Vm};

/// The `select` module.
pub struct Select;

impl<F: FlashImage> NativeModule<F> for Select {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["uselect"],
        extensible: true,
        functions: &[Native::new("poll", poll)],
        constants: &[
            Constant::Int("POLLIN", 1),
            Constant::Int("POLLOUT", 4),
            Constant::Int("POLLERR", 8),
            Constant::Int("POLLHUP", 16),
        ],
        ..ModuleDef::new("select")
    };
}

/// The kind of a poll object.
pub const POLL: Kind = Kind::new(32);

/// The `poll` type.
pub struct Poll;

impl<F: FlashImage> NativeType<F> for Poll {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(2),
        freeze: Freeze::Ram,
        unary_op: Some(list_len),
        print: Some(print),
        methods: &[
            Native::new("register", ignore),
            Native::new("unregister", ignore),
            Native::new("modify", ignore),
            Native::new("ipoll", wait),
            Native::new("poll", wait),
        ],
        ..TypeSlots::new(POLL, "poll")
    };
}

fn poll<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    new_with_list(vm, POLL, 0)
}

/// `register`, `unregister`, `modify`: no sources to watch.
fn ignore<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(vm.none())
}

/// `poll(timeout_ms)`, `ipoll(timeout_ms)`: no events; a positive timeout passes on the clock.
fn wait<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let ms = vm.as_intlike(arg(args, 1)).unwrap_or(0);
    if ms > 0 {
        vm.ticks_ms = vm.ticks_ms.wrapping_add(ms as u32);
    }
    vm.new_list(&[])
}

fn print<F: FlashImage>(
    _vm: &mut Vm<F>,
    _v: Value,
    s: &mut String,
    _d: u32,
    _k: PrintKind,
) -> R<()> {
    s.push_str("<poll>");
    Ok(())
}
