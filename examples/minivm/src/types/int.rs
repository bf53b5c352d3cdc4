//! `int`: small ints are immediates (`n << 1 | 1`, 31 bits), so no object has this kind; its
//! slots serve them, and its type object is also the type of the boxed big ints
//! (`types/bigint.rs`). The arithmetic of two small ints is the runtime's fast path; this
//! type's `binary_op` is asked when the right operand is something else (a big int, a float,
//! a sequence to repeat).
//!
//! Parsing follows MicroPython's `mp_parse_num_integer`: spaces, a sign, a base prefix, digits
//! with `_` (while the value is a small int: past it the long parser stops at a `_`), spaces.

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::mpz::Mpz;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{Native, NativeType, TypeSlots};
use crate::types::bigint::int_binop;
use crate::types::str::quote_str;
use crate::vm::{R, Vm};

/// The `int` type.
pub struct Int;

impl<F: FlashImage> NativeType<F> for Int {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
        binary_op: Some(int_binop),
        methods: &[
            Native::new("from_bytes", from_bytes),
            Native::new("to_bytes", to_bytes),
        ],
        ..TypeSlots::new(Kind::INT, "int")
    };
}

/// The text or bytes behind `v` (a str, or an object with a buffer).
pub fn text_of<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Vec<u8>> {
    if let Some(b) = vm.str_bytes(v) {
        return Some(b.to_vec());
    }
    let b = vm.buffer(v)?;
    vm.mem.bytes(b.addr, b.len).map(|s| s.to_vec())
}

/// `int()`, `int(x)`, `int(text, base)`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    let a0 = arg(args, 0);
    match args.len() {
        0 => Ok(Value::small(0)),
        1 => {
            if vm.is_int(a0) {
                return Ok(a0);
            }
            if let Some(n) = vm.as_intlike(a0) {
                return Ok(Value::small(n as i32));
            }
            if let Some(t) = text_of(vm, a0) {
                return parse_int(vm, &t, 10);
            }
            if let Some(f) = vm.float_of(a0) {
                return vm.int_from_float(f);
            }
            let t = vm.class_name(vm.type_of(a0));
            let msg = alloc::format!("can't convert {t} to int");
            vm.raise_msg("TypeError", &msg)
        }
        _ => {
            let Some(t) = text_of(vm, a0) else {
                return vm.raise_msg("TypeError", "can't convert to str implicitly");
            };
            let base = vm.int_arg(args[1])?;
            parse_int(vm, &t, base)
        }
    }
}

/// Is `c` white space (MicroPython's `unichar_isspace`)?
fn is_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

/// The base a prefix names (`0x`, `0o`, `0b`, allowed for base 0 or that base) and its length.
/// In base 0, a leading `0` without a prefix gives base 1, which accepts only zeros.
fn parse_base(s: &[u8], base: i64) -> (i64, usize) {
    if s.len() <= 1 || s[0] != b'0' {
        return (if base == 0 { 10 } else { base }, 0);
    }
    match (s[1] | 0x20, base) {
        (b'x', 0 | 16) => (16, 2),
        (b'o', 0 | 8) => (8, 2),
        (b'b', 0 | 2) => (2, 2),
        (_, 0) => (1, 0),
        _ => (base, 0),
    }
}

/// `int(text, base)`.
pub fn parse_int<F: FlashImage>(vm: &mut Vm<F>, s: &[u8], base: i64) -> R<Value> {
    if (base != 0 && base < 2) || base > 36 {
        return vm.raise_msg("ValueError", "int() arg 2 must be >= 2 and <= 36");
    }
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    match s.get(i) {
        Some(b'+') => i += 1,
        Some(b'-') => {
            neg = true;
            i += 1;
        }
        _ => {}
    }
    let (base, skip) = parse_base(&s[i..], base);
    i += skip;
    let start = i;
    let digit = |c: u8| (c as char).to_digit(36).filter(|&d| (d as i64) < base);
    // Small ints first; the long parser takes over from the start when they overflow.
    let mut small: i64 = 0;
    let mut value = None;
    while i < s.len() {
        if s[i] == b'_' {
            i += 1;
            continue;
        }
        let Some(d) = digit(s[i]) else { break };
        small = small * base + d as i64;
        if small > SMALL_MAX as i64 {
            let n = s[start..]
                .iter()
                .take_while(|&&c| digit(c).is_some())
                .count();
            let z = Mpz::from_digits(&s[start..start + n], base as u32).unwrap_or_default();
            value = Some(if neg { z.neg() } else { z });
            i = start + n;
            break;
        }
        i += 1;
    }
    let ok_digits = i != start;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    if !ok_digits || i != s.len() {
        let mut msg = alloc::format!(
            "invalid syntax for integer with base {}: ",
            if base == 1 { 0 } else { base }
        );
        quote_str(&mut msg, &s[start..]);
        return vm.raise_msg("ValueError", &msg);
    }
    match value {
        Some(z) => vm.new_int(&z),
        None => vm.int_val(if neg { -small } else { small }),
    }
}

/// Is `byteorder` the str `'little'`?
fn little<F: FlashImage>(vm: &Vm<F>, byteorder: Value) -> bool {
    vm.str_bytes(byteorder) == Some(b"little")
}

/// `int.from_bytes(bytes, byteorder='big')`: unsigned.
fn from_bytes<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    // Called on the type, the buffer is the first argument; on an int, the second.
    let args = if args.first().is_some_and(|&a| vm.is_int(a)) && args.len() > 1 {
        &args[1..]
    } else {
        args
    };
    let Some(b) = text_of(vm, arg(args, 0)) else {
        return vm.raise_msg("TypeError", "object with buffer protocol required");
    };
    let z = Mpz::from_bytes(&b, args.len() < 2 || !little(vm, args[1]));
    vm.new_int(&z)
}

/// `n.to_bytes(length=1, byteorder='big')`: two's complement of a negative value, as
/// MicroPython writes it (`OverflowError: buffer too small` when it does not fit).
fn to_bytes<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    if !kw.is_empty() {
        return vm.raise_msg("TypeError", "function doesn't take keyword arguments");
    }
    let me = arg(args, 0);
    let len = if args.len() < 2 {
        1
    } else {
        vm.int_arg(args[1])?
    };
    if len < 0 {
        return vm.raise_empty("ValueError");
    }
    let big_endian = args.len() < 3 || !little(vm, args[2]);
    let len = len as usize;
    if len > vm.mem.heap.len() {
        vm.exc = Value(vm.st.memory_error);
        return Err(crate::vm::Thrown);
    }
    let out = if let Some(v) = me.is_int().then(|| me.as_int() as i64) {
        // A small int: the bytes of its signed value, sign-extended.
        let need = if v > 0 {
            (64 - v.leading_zeros() as usize).div_ceil(8)
        } else if v < -1 {
            (64 - (!v).leading_zeros() as usize + 8) / 8
        } else {
            (-v) as usize
        };
        (need <= len).then(|| {
            let mut out: Vec<u8> = (0..len)
                .map(|k| {
                    if k < 8 {
                        (v >> (8 * k)) as u8
                    } else {
                        (v >> 63) as u8
                    }
                })
                .collect();
            if big_endian {
                out.reverse();
            }
            out
        })
    } else {
        let Some(z) = vm.int_mpz(me) else {
            return vm.raise_msg("TypeError", "can't convert to int");
        };
        z.to_bytes(len, big_endian)
    };
    match out {
        Some(b) => vm.new_str_obj(Kind::BYTES, &b),
        None => vm.raise_msg("OverflowError", "buffer too small"),
    }
}

/// Text of an int in `base` with `prefix` after the sign (`hex`, `bin`, `oct`).
pub fn prefixed<F: FlashImage>(vm: &Vm<F>, v: Value, base: u32, prefix: &str) -> Option<String> {
    let d = vm.int_digits(v, base, false)?;
    Some(match d.strip_prefix('-') {
        Some(m) => alloc::format!("-{prefix}{m}"),
        None => alloc::format!("{prefix}{d}"),
    })
}
