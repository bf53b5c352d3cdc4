//! `random` (also `urandom`), as MicroPython's `modrandom.c` with its extra functions:
//! `getrandbits(n)` (n ≤ 32), `seed([n])`, `randrange(stop)`, `randrange(start, stop[,
//! step])`, `randint(a, b)`, `choice(seq)`. The generator is MicroPython's, Yasmarang (public
//! domain), so a seeded sequence is the same as on MicroPython; its state is the VM's
//! (`Vm::rng`), from MicroPython's initial state at boot. `seed()` without a number seeds
//! from the tick counter (this port has no entropy source). Errors as MicroPython's:
//! `ValueError: bits must be 32 or less`, an empty range `ValueError`, `choice` of an empty
//! sequence `IndexError`.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::Value;
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::vm::{R, Vm};

/// The `random` module.
pub struct Random;

impl<F: FlashImage> NativeModule<F> for Random {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["urandom"],
        extensible: true,
        functions: &[
            Native::args("getrandbits", getrandbits, 1, 1),
            Native::args("seed", seed, 0, 1),
            Native::args("randrange", randrange, 1, 3),
            Native::args("randint", randint, 2, 2),
            Native::args("choice", choice, 1, 1),
        ],
        ..ModuleDef::new("random")
    };
}

/// The next 32 bits of Yasmarang (state: pad, n, d, dat).
pub fn next(s: &mut [u32; 4]) -> u32 {
    let [mut pad, mut n, mut d, mut dat] = *s;
    pad = pad.wrapping_add(dat.wrapping_add(d.wrapping_mul(n)));
    pad = pad.rotate_left(3);
    n = pad | 2;
    d ^= (pad << 31).wrapping_add(pad >> 1);
    dat = (dat ^ (pad ^ (d >> 8) ^ 1)) & 0xFF;
    *s = [pad, n, d, dat];
    pad ^ (d << 5) ^ (pad >> 18) ^ (dat << 1)
}

/// A number below `n` (not 0), by rejection of masked draws, as MicroPython's.
fn below<F: FlashImage>(vm: &mut Vm<F>, n: u32) -> u32 {
    let mut mask = 1u32;
    while (n & mask) < n {
        mask = (mask << 1) | 1;
    }
    loop {
        let r = next(&mut vm.rng) & mask;
        if r < n {
            return r;
        }
    }
}

fn getrandbits<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let n = vm.int_arg(args[0])?;
    if !(0..=32).contains(&n) {
        return vm.raise_msg("ValueError", "bits must be 32 or less");
    }
    if n == 0 {
        return Ok(Value::small(0));
    }
    let r = next(&mut vm.rng) & (u32::MAX >> (32 - n));
    vm.int_val(r as i64)
}

fn seed<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let a = arg(args, 0);
    let s = if a.is_null() || a.0 == vm.st.none {
        vm.ticks_ms
    } else {
        vm.int_arg(a)? as u32
    };
    vm.rng = [s, 69, 233, 0];
    Ok(vm.none())
}

fn randrange<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let start = vm.int_arg(args[0])?;
    let (base, step, n) = match args.len() {
        1 => (0, 1, start),
        2 => {
            let stop = vm.int_arg(args[1])?;
            (start, 1, stop - start)
        }
        _ => {
            let stop = vm.int_arg(args[1])?;
            let step = vm.int_arg(args[2])?;
            // C's division, truncating towards zero.
            let n = match step {
                s if s > 0 => (stop - start + s - 1) / s,
                s if s < 0 => (stop - start + s + 1) / s,
                _ => 0,
            };
            (start, step, n)
        }
    };
    if n <= 0 || n > u32::MAX as i64 {
        return vm.raise_empty("ValueError");
    }
    let r = below(vm, n as u32) as i64;
    vm.int_val(base + step * r)
}

fn randint<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let a = vm.int_arg(args[0])?;
    let b = vm.int_arg(args[1])?;
    if a > b || b - a + 1 > u32::MAX as i64 {
        return vm.raise_empty("ValueError");
    }
    let r = below(vm, (b - a + 1) as u32) as i64;
    vm.int_val(a + r)
}

fn choice<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let seq = args[0];
    let n = vm.len(seq)?;
    let n = vm.int_arg(n)?;
    if n <= 0 {
        return vm.raise_empty("IndexError");
    }
    let i = below(vm, n.min(u32::MAX as i64) as u32);
    vm.subscr(seq, Value::small(i as i32))
}
