//! `time` (also `utime`): the tick counters and sleeps, on the VM's simulated clock; and the
//! calendar functions `gmtime`, `localtime` (the same: no time zones) and `mktime`, as
//! MicroPython's bare-metal ports (8-tuples `(year, month, mday, hour, minute, second,
//! weekday, yearday)`, weekday 0 = Monday; epoch 1970; `mktime` normalises out-of-range
//! fields, so `mday + 1` is tomorrow).
//!
//! `time()` is whole seconds and `time_ns()` nanoseconds of the same clock; `ticks_cpu()` is
//! `ticks_us()`. The host sets [`Vm::ticks_ms`] from a real clock; a sleep advances it, so a program that
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
            Native::args("time_ns", time_ns, 0, 0),
            Native::args("ticks_cpu", ticks_us, 0, 0),
            Native::args("gmtime", gmtime, 0, 1),
            Native::args("localtime", gmtime, 0, 1),
            Native::args("mktime", mktime, 1, 1),
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

/// `time_ns()`: the simulated clock in nanoseconds (a big int once past 2**30).
fn time_ns<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let z =
        crate::mpz::Mpz::from_i64(vm.ticks_ms as i64).mul(&crate::mpz::Mpz::from_i64(1_000_000));
    vm.new_int(&z)
}

/// Seconds from 1970-01-01 to 2000-01-01.
const SECS_1970_2000: i64 = 946_684_800;

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days before month `m` (1-based) of year `y`.
fn days_before_month(y: i64, m: i64) -> i64 {
    (1..m).map(|k| days_in_month(y, k)).sum()
}

/// Days from 2000-01-01 to 1 January of year `y`.
fn days_to_year(y: i64) -> i64 {
    let leaps = |y: i64| (y - 1).div_euclid(4) - (y - 1).div_euclid(100) + (y - 1).div_euclid(400);
    (y - 2000) * 365 + leaps(y) - leaps(2000)
}

/// `gmtime([secs])`, `localtime([secs])`: the current time, or `secs` after the epoch (a
/// negative count is the epoch, as in MicroPython).
fn gmtime<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let a = arg(args, 0);
    let secs = if a.is_null() || a.0 == vm.st.none {
        (vm.ticks_ms / 1000) as i64
    } else {
        vm.int_arg(a)?
    }
    .max(0);
    let (days, rem) = (
        (secs - SECS_1970_2000).div_euclid(86_400),
        secs.rem_euclid(86_400),
    );
    let mut year = 2000 + days.div_euclid(365);
    while days_to_year(year) > days {
        year -= 1;
    }
    while days_to_year(year + 1) <= days {
        year += 1;
    }
    let yday = days - days_to_year(year);
    let mut month = 1;
    while month < 12 && days_before_month(year, month + 1) <= yday {
        month += 1;
    }
    let mday = yday - days_before_month(year, month) + 1;
    // 2000-01-01 was a Saturday (weekday 5).
    let wday = (days + 5).rem_euclid(7);
    let fields = [
        year,
        month,
        mday,
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        wday,
        yday + 1,
    ];
    let mut items = alloc::vec::Vec::with_capacity(8);
    for f in fields {
        items.push(vm.int_val(f)?);
    }
    vm.new_tuple(&items)
}

/// `mktime(tuple)`: seconds after the epoch of an 8- or 9-tuple (weekday, yearday and dst
/// ignored), its fields normalised.
fn mktime<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let t = args[0];
    let Some(items) = vm.seq_vec(t).filter(|_| {
        matches!(
            vm.kind(t),
            Some(crate::obj::Kind::TUPLE | crate::obj::Kind::LIST)
        )
    }) else {
        let n = vm.class_name(vm.type_of(t));
        let msg = alloc::format!("object '{n}' isn't a tuple or list");
        return vm.raise_msg("TypeError", &msg);
    };
    if items.len() != 8 && items.len() != 9 {
        return vm.raise_msg("TypeError", "mktime needs a tuple of length 8 or 9");
    }
    let mut f = [0i64; 6];
    for (i, x) in items.iter().take(6).enumerate() {
        f[i] = vm.int_arg(*x)?;
    }
    let [
        mut year,
        mut month,
        mut mday,
        mut hour,
        mut minute,
        mut second,
    ] = f;
    // Carry seconds into minutes, minutes into hours, hours into days, months into years.
    minute += second.div_euclid(60);
    second = second.rem_euclid(60);
    hour += minute.div_euclid(60);
    minute = minute.rem_euclid(60);
    mday += hour.div_euclid(24);
    hour = hour.rem_euclid(24);
    year += (month - 1).div_euclid(12);
    month = (month - 1).rem_euclid(12) + 1;
    while mday < 1 {
        month -= 1;
        if month == 0 {
            month = 12;
            year -= 1;
        }
        mday += days_in_month(year, month);
    }
    while mday > days_in_month(year, month) {
        mday -= days_in_month(year, month);
        month += 1;
        if month == 13 {
            month = 1;
            year += 1;
        }
    }
    let days = days_to_year(year) + days_before_month(year, month) + mday - 1;
    let secs = SECS_1970_2000 + days * 86_400 + hour * 3600 + minute * 60 + second;
    vm.int_val(secs)
}
