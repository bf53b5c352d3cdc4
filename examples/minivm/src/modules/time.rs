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
        aliases: &["time"],
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
        ..ModuleDef::new("utime")
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

/// Advances the simulated clock by `ms` milliseconds.
fn advance<F: FlashImage>(vm: &mut Vm<F>, ms: u32) -> Value {
    vm.ticks_ms = vm.ticks_ms.wrapping_add(ms);
    vm.none()
}

/// `sleep(seconds)`: an int or a float (MicroPython delays `(uint)(1000 * seconds)` ms; a
/// negative or NaN delay waits for nothing here).
fn sleep<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.need(args, 1, "sleep")?;
    let ms = 1000.0 * vm.float_arg(args[0])?;
    let ms = if ms > 0.0 {
        ms.min(u32::MAX as f64) as u32
    } else {
        0
    };
    Ok(advance(vm, ms))
}

/// `sleep_ms(ms)`: an int; a negative one waits for nothing.
fn sleep_ms<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.need(args, 1, "sleep_ms")?;
    let ms = vm.int_arg(args[0])?;
    Ok(advance(vm, ms.max(0) as u32))
}

/// `sleep_us(us)`: an int, on the millisecond clock.
fn sleep_us<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.need(args, 1, "sleep_us")?;
    let us = vm.int_arg(args[0])?;
    Ok(advance(vm, (us.max(0) / 1000) as u32))
}

fn time<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(Value::small((vm.ticks_ms / 1000) as i32))
}
