//! `binascii` (also `ubinascii`), as MicroPython's `modbinascii.c`: `hexlify(data[, sep])`,
//! `unhexlify(data)` (`bytes.hex` and `bytes.fromhex` giving bytes), `b2a_base64(data, *,
//! newline=True)`, `a2b_base64(data)` and `crc32(data[, crc])`.
//!
//! Base64 is written here rather than taken from a crate: MicroPython's decoder skips any
//! byte outside the alphabet and stops at the padding that ends a quantum (`ValueError:
//! incorrect padding` when the bits left over do not make a byte), which a strict decoder
//! would refuse; the encoder is a dozen lines. CRC-32 is the `crc` crate's (zlib's
//! polynomial, as MicroPython's uzlib).

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::types::{buffer, str_methods};
use crate::vm::{R, Vm};

/// The `binascii` module.
pub struct Binascii;

impl<F: FlashImage> NativeModule<F> for Binascii {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["ubinascii"],
        extensible: true,
        functions: &[
            Native::new("hexlify", hexlify),
            Native::args("unhexlify", unhexlify, 1, 1),
            Native::args("a2b_base64", a2b_base64, 1, 1),
            Native::new("b2a_base64", b2a_base64),
            Native::args("crc32", crc32, 1, 2),
        ],
        names: &["newline"],
        ..ModuleDef::new("binascii")
    };
}

/// `hexlify(data[, sep])`: `data.hex(sep)` as bytes.
fn hexlify<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let s = str_methods::hex(vm, args, kw)?;
    let b = vm.str_bytes(s).unwrap_or(b"").to_vec();
    vm.new_str_obj(Kind::BYTES, &b)
}

/// `unhexlify(data)`: `bytes.fromhex(data)` (a str or any buffer).
fn unhexlify<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    str_methods::bytes_fromhex(vm, args, kw)
}

/// The sextet of a base64 character, `None` for anything else (padding included).
fn sextet(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// `a2b_base64(data)`.
fn a2b_base64<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let data = buffer::bytes_arg(vm, args[0])?;
    let mut out = Vec::with_capacity(data.len() * 3 / 4 + 1);
    let (mut bits, mut n, mut pad) = (0u32, 0u32, false);
    for &c in &data {
        if c == b'=' {
            // Padding ends a quantum of 2 or 3 characters; a lone `=` elsewhere is skipped.
            if n == 2 || (n == 4 && pad) {
                n = 0;
                break;
            }
            pad = true;
        }
        let Some(s) = sextet(c) else {
            continue;
        };
        pad = false;
        bits = (bits << 6) | s;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    if n != 0 {
        return vm.raise_msg("ValueError", "incorrect padding");
    }
    vm.new_str_obj(Kind::BYTES, &out)
}

/// `b2a_base64(data, *, newline=True)`.
fn b2a_base64<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if args.len() != 1 || kw.chunks(2).any(|p| !vm.is_name(p[0], "newline")) {
        return vm.raise_msg(
            "TypeError",
            "b2a_base64() takes one positional argument and newline=",
        );
    }
    let newline = match vm.kwarg(kw, "newline") {
        Some(v) => vm.truthy(v)?,
        None => true,
    };
    let data = buffer::bytes_arg(vm, args[0])?;
    let mut out = Vec::with_capacity(data.len().div_ceil(3) * 4 + 1);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let w = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(w >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    if newline {
        out.push(b'\n');
    }
    vm.new_str_obj(Kind::BYTES, &out)
}

/// `crc32(data[, crc])`: zlib's CRC-32, continued from `crc` (an int, truncated to 32 bits).
fn crc32<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    let data = buffer::bytes_arg(vm, args[0])?;
    let start = match args.get(1) {
        Some(&v) => vm.int_arg(v)? as u32,
        None => 0,
    };
    // A CRC-32 continued from `start`: the digest's register starts at `start` inverted.
    let mut d = CRC.digest_with_initial(!start);
    d.update(&data);
    vm.int_val(d.finalize() as i64)
}
