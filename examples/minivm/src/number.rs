//! Boxed numbers: float and big-int objects, the conversions between the numeric kinds, and
//! float arithmetic with Python's semantics (MicroPython's `objfloat.c` arithmetic and the
//! object half of `objint_mpz.c`).
//!
//! ```text
//! Float   [hdr 0|FLOAT][bits lo][bits hi]          an IEEE double, raw (no value words)
//! BigInt  [hdr n|neg<<23|BIGINT][limb 0]…[limb n-1]  |x| in little-endian u32 limbs, raw
//! ```
//!
//! Both are immutable, so both freeze to flash byte for byte (12 bytes for a float, `4 + 4n`
//! for a big int). A big int is never a value a small int can hold: every integer result goes
//! through [`Vm::new_int`], which gives a small int when it fits (as MicroPython's
//! `mpz_as_int_checked` + `MP_SMALL_INT_FITS`), so `==` of two ints is exact limb equality or
//! small-int identity, and hashing agrees between the two forms.
//!
//! The core creates numbers itself (the `.mpy` loader's constants, small-int overflow, `/` of
//! two ints); the `float` and `int` types' slots (`types/float.rs`, `types/int.rs`,
//! `types/bigint.rs`) build on these helpers.

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::mpz::Mpz;
use crate::obj::*;
use crate::slots::binop;
use crate::vm::{R, Vm};

/// In a big int's aux bits: the value is negative.
pub const BIGINT_NEG: u32 = 1 << 23;
/// In a big int's aux bits: the number of limbs.
pub const BIGINT_LEN_MASK: u32 = BIGINT_NEG - 1;

/// A big int may take at most 1/`BIGINT_SHARE` of the heap (12 KiB, about 29,000 decimal
/// digits, on the default 96 KiB heap).
pub const BIGINT_SHARE: u32 = 8;

/// Byte size of a big int object with header `hdr` (header included).
pub fn bigint_size(hdr: u32) -> u32 {
    4 + 4 * ((hdr >> 8) & BIGINT_LEN_MASK)
}

/// The result of a float operator ([`float_op`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FloatResult {
    /// A float.
    Float(f64),
    /// A comparison's answer.
    Bool(bool),
    /// `divmod`'s pair.
    Pair(f64, f64),
    /// `ZeroDivisionError: divide by zero`.
    ZeroDivision,
    /// A negative number to a fractional power (a complex result).
    Complex,
}

/// `x // y` and `x % y` of floats as MicroPython's `mp_obj_float_divmod` computes them (the
/// modulo has the divisor's sign; the quotient is corrected so `x == (x//y)*y + x%y`).
pub fn float_divmod(x: f64, y: f64) -> (f64, f64) {
    let mut m = libm::fmod(x, y);
    let mut div = (x - m) / y;
    if m == 0.0 {
        m = libm::copysign(0.0, y);
    } else if (m < 0.0) != (y < 0.0) {
        m += y;
        div -= 1.0;
    }
    let q = if div == 0.0 {
        libm::copysign(0.0, x / y)
    } else {
        let f = libm::floor(div);
        if div - f > 0.5 { f + 1.0 } else { f }
    };
    (q, m)
}

/// `x op y` of floats for the plain or in-place operator `op` ([`binop`], plus
/// [`binop::DIVMOD`]); `None` when floats have no such operator.
pub fn float_op(op: u32, x: f64, y: f64) -> Option<FloatResult> {
    use FloatResult::*;
    use binop::*;
    Some(match plain(op) {
        ADD => Float(x + y),
        SUBTRACT => Float(x - y),
        MULTIPLY => Float(x * y),
        TRUE_DIVIDE if y == 0.0 => ZeroDivision,
        TRUE_DIVIDE => Float(x / y),
        FLOOR_DIVIDE | MODULO | DIVMOD if y == 0.0 => ZeroDivision,
        FLOOR_DIVIDE => Float(float_divmod(x, y).0),
        MODULO => {
            let mut m = libm::fmod(x, y);
            if m == 0.0 {
                m = libm::copysign(0.0, y);
            } else if (m < 0.0) != (y < 0.0) {
                m += y;
            }
            Float(m)
        }
        DIVMOD => {
            let (q, m) = float_divmod(x, y);
            Pair(q, m)
        }
        POWER => {
            if x == 0.0 && y < 0.0 && !y.is_infinite() {
                ZeroDivision
            } else if x < 0.0 && y != libm::floor(y) && !y.is_nan() {
                Complex
            } else {
                Float(libm::pow(x, y))
            }
        }
        LESS => Bool(x < y),
        MORE => Bool(x > y),
        EQUAL => Bool(x == y),
        LESS_EQUAL => Bool(x <= y),
        MORE_EQUAL => Bool(x >= y),
        _ => return None,
    })
}

impl<F: FlashImage> Vm<F> {
    /// A new float object.
    pub fn new_float(&mut self, f: f64) -> R<Value> {
        let bits = f.to_bits();
        let a = self.alloc(12)?;
        let _ = self.mem.write_u32(a, header(Kind::FLOAT, 0));
        let _ = self.mem.write_u32(a + 4, bits as u32);
        let _ = self.mem.write_u32(a + 8, (bits >> 32) as u32);
        Ok(Value(a))
    }

    /// The value of a float object (`None` for anything else).
    pub fn float_of(&self, v: Value) -> Option<f64> {
        if self.kind(v) != Some(Kind::FLOAT) {
            return None;
        }
        let lo = self.w(v, 1) as u64;
        let hi = self.w(v, 2) as u64;
        Some(f64::from_bits(lo | (hi << 32)))
    }

    /// Is `v` a boxed big int?
    pub fn is_bigint(&self, v: Value) -> bool {
        self.kind(v) == Some(Kind::BIGINT)
    }

    /// Is `v` an int of either form (not a bool)?
    pub fn is_int(&self, v: Value) -> bool {
        v.is_int() || self.is_bigint(v)
    }

    /// The value of an int (small or big) or bool as an [`Mpz`] copy.
    pub fn int_mpz(&self, v: Value) -> Option<Mpz> {
        if let Some(n) = self.as_intlike(v) {
            return Some(Mpz::from_i64(n));
        }
        if !self.is_bigint(v) {
            return None;
        }
        let aux = self.aux(v);
        let n = aux & BIGINT_LEN_MASK;
        let mag: Vec<u32> = (0..n).map(|i| self.w(v, 1 + i)).collect();
        Some(Mpz::from_parts(aux & BIGINT_NEG != 0, mag))
    }

    /// Raises `MemoryError` unless an int of `bits` bits is allowed: at most [`BIGINT_SHARE`]
    /// of the heap. Checked before computing a result, so a huge `2 ** n` or `1 << n` fails at
    /// once; and the arithmetic's temporary copies (outside the modelled heap, a few times the
    /// operands' size) stay small next to the device's allocator.
    pub fn check_int_bits(&mut self, bits: u64) -> R<()> {
        let bytes = bits.div_ceil(32).saturating_mul(4).saturating_add(4);
        if bytes > (self.mem.heap.len() / BIGINT_SHARE as usize) as u64 {
            self.exc = Value(self.st.memory_error);
            return Err(crate::vm::Thrown);
        }
        Ok(())
    }

    /// The int of value `z`: a small int when it fits, else a new big int object.
    pub fn new_int(&mut self, z: &Mpz) -> R<Value> {
        if let Some(v) = z.to_i64().and_then(Value::int) {
            return Ok(v);
        }
        let n = z.mag.len() as u32;
        if n > BIGINT_LEN_MASK {
            self.exc = Value(self.st.memory_error);
            return Err(crate::vm::Thrown);
        }
        self.check_int_bits(z.bits())?;
        let a = self.alloc(4 + 4 * n)?;
        let aux = n | if z.neg { BIGINT_NEG } else { 0 };
        let _ = self.mem.write_u32(a, header(Kind::BIGINT, aux));
        for (i, &limb) in z.mag.iter().enumerate() {
            let _ = self.mem.write_u32(a + 4 + 4 * i as u32, limb);
        }
        Ok(Value(a))
    }

    /// An int (or bool) as an `f64` the way MicroPython converts it, or a float's value:
    /// `mp_obj_get_float_maybe`.
    pub fn num_as_f64(&self, v: Value) -> Option<f64> {
        if let Some(n) = self.as_intlike(v) {
            return Some(n as f64);
        }
        if let Some(f) = self.float_of(v) {
            return Some(f);
        }
        self.int_mpz(v).map(|z| z.to_f64())
    }

    /// A number argument as an `f64`, or `TypeError: can't convert … to float`.
    pub fn float_arg(&mut self, v: Value) -> R<f64> {
        match self.num_as_f64(v) {
            Some(f) => Ok(f),
            None => {
                let t = self.class_name(self.type_of(v));
                let msg = alloc::format!("can't convert {t} to float");
                self.raise_msg("TypeError", &msg)
            }
        }
    }

    /// `int(f)` of a float: truncated toward zero; `OverflowError` for an infinity,
    /// `ValueError` for a NaN (`mp_obj_new_int_from_float`).
    pub fn int_from_float(&mut self, f: f64) -> R<Value> {
        if f.is_infinite() {
            return self.raise_msg("OverflowError", "can't convert inf to int");
        }
        if f.is_nan() {
            return self.raise_msg("ValueError", "can't convert NaN to int");
        }
        if f.abs() < (1u64 << 62) as f64 {
            return self.int_val(f as i64);
        }
        let z = Mpz::from_f64(f);
        self.new_int(&z)
    }

    /// The answer of [`float_op`] as a Python value (or its exception).
    pub fn float_result(&mut self, r: FloatResult) -> R<Value> {
        match r {
            FloatResult::Float(f) => self.new_float(f),
            FloatResult::Bool(b) => Ok(self.bool_val(b)),
            FloatResult::Pair(q, m) => {
                let q = self.new_float(q)?;
                let m = self.new_float(m)?;
                self.new_tuple(&[q, m])
            }
            FloatResult::ZeroDivision => self.raise_msg("ZeroDivisionError", "divide by zero"),
            FloatResult::Complex => self.raise_msg("ValueError", "complex values not supported"),
        }
    }

    /// An int's digits in `base` with an optional `-` (no prefix), or `None` if `v` is not an
    /// int.
    pub fn int_digits(&self, v: Value, base: u32, upper: bool) -> Option<String> {
        let z = self.int_mpz(v)?;
        let mut out = Vec::new();
        if z.neg {
            out.push(b'-');
        }
        z.write_digits(base, upper, &mut out);
        Some(String::from_utf8(out).unwrap_or_default())
    }
}
