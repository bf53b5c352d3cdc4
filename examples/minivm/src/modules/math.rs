//! `math` (MicroPython has no `umath`), as MicroPython's `modmath.c` with its special functions, in double
//! precision on the `libm` crate (a port of FreeBSD's and musl's libm; the reference build's
//! musl is newer: `exp` and what uses it, `cosh`, may differ from it in the last bit, e.g.
//! `exp(1)` is 2.7182818284590455 here and 2.718281828459045 there; every other function
//! tested gives the reference's digits).
//!
//! - Constants `e`, `pi`, `tau`, `inf`, `nan` (firmware static floats).
//! - One-argument functions (`sqrt`, `exp`, `expm1`, `log2`, `log10`, the trigonometric and
//!   hyperbolic ones and their inverses, `fabs`, `erf`, `erfc`, `gamma`, `lgamma`, `degrees`,
//!   `radians`) and two-argument ones (`pow`, `atan2`, `copysign`, `fmod`) raise
//!   `ValueError: math domain error` as MicroPython's wrappers do: when the result is a NaN
//!   from no NaN, or an infinity from finite arguments (so overflow is a domain error too).
//!   `sqrt` of a negative number, `log`/`log2`/`log10` of a number `<= 0` and a `log` base
//!   `<= 0` are domain errors; base 1 is `ZeroDivisionError: divide by zero`.
//! - `ceil`, `floor`, `trunc` give ints (`OverflowError`/`ValueError` for an infinity/NaN);
//!   `frexp`, `modf`, `ldexp` (never a domain error), `isfinite`, `isinf`, `isnan`,
//!   `isclose(a, b, *, rel_tol=1e-09, abs_tol=0)`, `factorial(n)` (an int of any size;
//!   `ValueError: negative factorial`).
//!
//! No `gcd`, `comb`, `log1p`, as in MicroPython.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::mpz::Mpz;
use crate::obj::{Kind, Value, header};
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::vm::{R, Vm};

/// The `math` module.
pub struct Math;

impl<F: FlashImage> NativeModule<F> for Math {
    const MODULE: ModuleDef<F> = ModuleDef {
        functions: &[
            Native::args("exp", |vm, a, _| checked1(vm, a[0], libm::exp), 1, 1),
            Native::args("expm1", |vm, a, _| checked1(vm, a[0], libm::expm1), 1, 1),
            Native::args("cosh", |vm, a, _| checked1(vm, a[0], libm::cosh), 1, 1),
            Native::args("sinh", |vm, a, _| checked1(vm, a[0], libm::sinh), 1, 1),
            Native::args("tanh", |vm, a, _| checked1(vm, a[0], libm::tanh), 1, 1),
            Native::args("acosh", |vm, a, _| checked1(vm, a[0], libm::acosh), 1, 1),
            Native::args("asinh", |vm, a, _| checked1(vm, a[0], libm::asinh), 1, 1),
            Native::args("atanh", |vm, a, _| checked1(vm, a[0], libm::atanh), 1, 1),
            Native::args("cos", |vm, a, _| checked1(vm, a[0], libm::cos), 1, 1),
            Native::args("sin", |vm, a, _| checked1(vm, a[0], libm::sin), 1, 1),
            Native::args("tan", |vm, a, _| checked1(vm, a[0], libm::tan), 1, 1),
            Native::args("acos", |vm, a, _| checked1(vm, a[0], libm::acos), 1, 1),
            Native::args("asin", |vm, a, _| checked1(vm, a[0], libm::asin), 1, 1),
            Native::args("atan", |vm, a, _| checked1(vm, a[0], libm::atan), 1, 1),
            Native::args("fabs", |vm, a, _| checked1(vm, a[0], libm::fabs), 1, 1),
            Native::args("erf", |vm, a, _| checked1(vm, a[0], libm::erf), 1, 1),
            Native::args("erfc", |vm, a, _| checked1(vm, a[0], libm::erfc), 1, 1),
            Native::args("gamma", |vm, a, _| checked1(vm, a[0], libm::tgamma), 1, 1),
            Native::args("lgamma", |vm, a, _| checked1(vm, a[0], libm::lgamma), 1, 1),
            Native::args(
                "degrees",
                |vm, a, _| checked1(vm, a[0], |x| x * (180.0 / core::f64::consts::PI)),
                1,
                1,
            ),
            Native::args(
                "radians",
                |vm, a, _| checked1(vm, a[0], |x| x * (core::f64::consts::PI / 180.0)),
                1,
                1,
            ),
            Native::args("pow", |vm, a, _| checked2(vm, a, libm::pow), 2, 2),
            Native::args("atan2", |vm, a, _| checked2(vm, a, libm::atan2), 2, 2),
            Native::args("copysign", |vm, a, _| checked2(vm, a, libm::copysign), 2, 2),
            Native::args("fmod", |vm, a, _| checked2(vm, a, libm::fmod), 2, 2),
            Native::args("sqrt", sqrt, 1, 1),
            Native::args("log", log, 1, 2),
            Native::args("log2", |vm, a, _| positive_log(vm, a[0], libm::log2), 1, 1),
            Native::args(
                "log10",
                |vm, a, _| positive_log(vm, a[0], libm::log10),
                1,
                1,
            ),
            Native::args("ceil", |vm, a, _| to_int(vm, a[0], libm::ceil), 1, 1),
            Native::args("floor", |vm, a, _| to_int(vm, a[0], libm::floor), 1, 1),
            Native::args("trunc", |vm, a, _| to_int(vm, a[0], libm::trunc), 1, 1),
            Native::args("isfinite", |vm, a, _| test(vm, a[0], f64::is_finite), 1, 1),
            Native::args("isinf", |vm, a, _| test(vm, a[0], f64::is_infinite), 1, 1),
            Native::args("isnan", |vm, a, _| test(vm, a[0], f64::is_nan), 1, 1),
            Native::args("frexp", frexp, 1, 1),
            Native::args("modf", modf, 1, 1),
            Native::args("ldexp", ldexp, 2, 2),
            Native::new("isclose", isclose),
            Native::args("factorial", factorial, 1, 1),
        ],
        objects: Some(objects),
        names: &["e", "pi", "tau", "inf", "nan", "rel_tol", "abs_tol"],
        ..ModuleDef::new("math")
    };
}

/// The constants, as firmware static floats.
fn objects<F: FlashImage>(vm: &mut Vm<F>) -> Vec<(&'static str, Value)> {
    use core::f64::consts;
    let mut float = |x: f64| {
        let bits = x.to_bits();
        vm.static_words(&[header(Kind::FLOAT, 0), bits as u32, (bits >> 32) as u32])
    };
    alloc::vec![
        ("e", float(consts::E)),
        ("pi", float(consts::PI)),
        ("tau", float(consts::TAU)),
        ("inf", float(f64::INFINITY)),
        ("nan", float(f64::NAN)),
    ]
}

fn domain<F: FlashImage, T>(vm: &mut Vm<F>) -> R<T> {
    vm.raise_msg("ValueError", "math domain error")
}

/// `f(x)`, a domain error when it makes a NaN from a number or an infinity from a finite one.
fn checked1<F: FlashImage>(vm: &mut Vm<F>, x: Value, f: fn(f64) -> f64) -> R<Value> {
    let x = vm.float_arg(x)?;
    let r = f(x);
    if (r.is_nan() && !x.is_nan()) || (r.is_infinite() && !x.is_infinite()) {
        return domain(vm);
    }
    vm.new_float(r)
}

/// `f(x, y)`, checked as [`checked1`] over both arguments.
fn checked2<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], f: fn(f64, f64) -> f64) -> R<Value> {
    let x = vm.float_arg(args[0])?;
    let y = vm.float_arg(args[1])?;
    let r = f(x, y);
    if (r.is_nan() && !x.is_nan() && !y.is_nan())
        || (r.is_infinite() && !x.is_infinite() && !y.is_infinite())
    {
        return domain(vm);
    }
    vm.new_float(r)
}

/// `sqrt(x)`: negative numbers are refused (`sqrt(-0.0)` is `-0.0`).
fn sqrt<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let x = vm.float_arg(args[0])?;
    if x < 0.0 {
        return domain(vm);
    }
    vm.new_float(libm::sqrt(x))
}

/// `log2(x)`, `log10(x)`: `x` must be positive.
fn positive_log<F: FlashImage>(vm: &mut Vm<F>, x: Value, f: fn(f64) -> f64) -> R<Value> {
    let x = vm.float_arg(x)?;
    if x <= 0.0 {
        return domain(vm);
    }
    vm.new_float(f(x))
}

/// `log(x[, base])`.
fn log<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let x = vm.float_arg(args[0])?;
    if x <= 0.0 {
        return domain(vm);
    }
    let l = libm::log(x);
    let Some(&b) = args.get(1) else {
        return vm.new_float(l);
    };
    let base = vm.float_arg(b)?;
    if base <= 0.0 {
        return domain(vm);
    }
    if base == 1.0 {
        return vm.raise_msg("ZeroDivisionError", "divide by zero");
    }
    vm.new_float(l / libm::log(base))
}

/// `ceil`, `floor`, `trunc`: the rounded float as an int.
fn to_int<F: FlashImage>(vm: &mut Vm<F>, x: Value, f: fn(f64) -> f64) -> R<Value> {
    let x = vm.float_arg(x)?;
    vm.int_from_float(f(x))
}

fn test<F: FlashImage>(vm: &mut Vm<F>, x: Value, f: fn(f64) -> bool) -> R<Value> {
    let x = vm.float_arg(x)?;
    Ok(vm.bool_val(f(x)))
}

/// `frexp(x)`: `(mantissa, exponent)`.
fn frexp<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let x = vm.float_arg(args[0])?;
    let (m, e) = libm::frexp(x);
    let m = vm.new_float(m)?;
    vm.extra_roots.push(m.0);
    let r = vm.new_tuple(&[m, Value::small(e)]);
    vm.extra_roots.pop();
    r
}

/// `modf(x)`: `(fractional part, integral part)`, both floats with the sign of `x`.
fn modf<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let x = vm.float_arg(args[0])?;
    let (frac, int) = libm::modf(x);
    let a = vm.new_float(frac)?;
    vm.extra_roots.push(a.0);
    let r = vm.new_float(int).and_then(|b| vm.new_tuple(&[a, b]));
    vm.extra_roots.pop();
    r
}

/// `ldexp(x, exp)`: `x * 2**exp`, never a domain error.
fn ldexp<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let x = vm.float_arg(args[0])?;
    let e = vm.int_arg(args[1])?;
    vm.new_float(libm::scalbn(
        x,
        e.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
    ))
}

/// `isclose(a, b, *, rel_tol=1e-09, abs_tol=0)`.
fn isclose<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_arity(args.len(), 0, 2, 2)?;
    if kw
        .chunks(2)
        .any(|p| !vm.is_name(p[0], "rel_tol") && !vm.is_name(p[0], "abs_tol"))
    {
        return vm.raise_msg("TypeError", "extra keyword arguments given");
    }
    let a = vm.float_arg(args[0])?;
    let b = vm.float_arg(args[1])?;
    let rel = match vm.kwarg(kw, "rel_tol") {
        Some(v) => vm.float_arg(v)?,
        None => 1e-9,
    };
    let abs = match vm.kwarg(kw, "abs_tol") {
        Some(v) => vm.float_arg(v)?,
        None => 0.0,
    };
    if rel < 0.0 || abs < 0.0 {
        return domain(vm);
    }
    let close = if a == b {
        true
    } else if a.is_infinite() || b.is_infinite() {
        false
    } else {
        let diff = libm::fabs(b - a);
        diff <= libm::fabs(rel * b) || diff <= libm::fabs(rel * a) || diff <= abs
    };
    Ok(vm.bool_val(close))
}

/// `factorial(n)`: an int of any size.
fn factorial<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let n = vm.int_arg(args[0])?;
    if n < 0 {
        return vm.raise_msg("ValueError", "negative factorial");
    }
    let mut z = Mpz::from_i64(1);
    for k in 2..=n {
        z = z.mul(&Mpz::from_i64(k));
        // The result's size is checked as the product grows: a huge `n` is a MemoryError,
        // not a long wait.
        vm.check_int_bits(z.bits())?;
    }
    vm.new_int(&z)
}
