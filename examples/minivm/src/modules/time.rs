//! `utime` (also `time`): the tick counters and sleeps, on the VM's simulated clock.
//!
//! The host sets [`Vm::ticks_ms`] from a real clock; a sleep advances it, so a program that
//! waits runs at once and deterministically. Ticks wrap at 2^30, as MicroPython's small ints do.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::Value;
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::vm::{R, Vm};

/// The `utime` module.
pub struct Time;

impl<F: FlashImage> NativeModule<F> for Time {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["utime"],
        extensible: true,
        functions: &[
            Native::new("ticks_ms", ticks_ms),
            Native::new("ticks_us", ticks_us),
            Native::new("ticks_add", ticks_add),
            Native::new("ticks_diff", ticks_diff),
            Native::new("sleep", sleep),
            Native::new("sleep_ms", sleep_ms),
            Native::new("sleep_us", sleep_us),
            Native::new("time", time),
        ],
        ..ModuleDef::new("time")
    };
}

/// The tick period: ticks are kept in 30 bits.
const TICKS_MASK: i64 = 0x3fff_ffff;

/// `a - b` in ticks arithmetic: the signed difference in `[-2^29, 2^29)`.
pub fn ticks_diff_of(a: i64, b: i64) -> i64 {
    let d = (a - b) & TICKS_MASK;
    if d >= 0x2000_0000 { d - 0x4000_0000 } else { d }
}

fn ticks_ms<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(Value::small((vm.ticks_ms & 0x3fff_ffff) as i32))
}

fn ticks_us<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(Value::small(
        (vm.ticks_ms.wrapping_mul(1000) & 0x3fff_ffff) as i32,
    ))
}

fn ticks_add<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let r = (vm.int_arg(arg(args, 0))? + vm.int_arg(arg(args, 1))?) & TICKS_MASK;
    Ok(Value::small(r as i32))
}

fn ticks_diff<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let d = ticks_diff_of(vm.int_arg(arg(args, 0))?, vm.int_arg(arg(args, 1))?);
    Ok(Value::small(d as i32))
}

/// Advances the clock by `ms(x)` milliseconds for the first argument `x`.
fn advance<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], ms: fn(u32) -> u32) -> R<Value> {
    let x = vm.int_arg(arg(args, 0)).unwrap_or(0).max(0) as u32;
    vm.ticks_ms = vm.ticks_ms.wrapping_add(ms(x));
    Ok(vm.none())
}

fn sleep<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    advance(vm, args, |s| s.saturating_mul(1000))
}

fn sleep_ms<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    advance(vm, args, |ms| ms)
}

fn sleep_us<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    advance(vm, args, |us| us / 1000)
}

fn time<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(Value::small((vm.ticks_ms / 1000) as i32))
}
