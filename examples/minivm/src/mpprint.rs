//! Printing with a width, fill, sign and precision, as MicroPython's `mpprint.c` does for `%`
//! and `str.format` (`mp_print_strn`, `mp_print_float`, `mp_print_mp_int`).
//!
//! `types/str_format.rs` parses both spec languages and hands padding and every numeric
//! conversion here: ints of any size through [`Vm::print_int`], floats through
//! [`Vm::print_float_arg`]. Padding is by bytes, as MicroPython pads.

use alloc::string::String;
use alloc::vec::Vec;

use crate::formatfloat::format_float;
use crate::mem::FlashImage;
use crate::obj::Value;
use crate::vm::{R, Vm};

/// Print flags (MicroPython's `PF_FLAG_*`).
pub mod pf {
    #![allow(missing_docs)]
    pub const LEFT_ADJUST: u32 = 0x001;
    pub const SHOW_SIGN: u32 = 0x002;
    pub const SPACE_SIGN: u32 = 0x004;
    pub const SHOW_PREFIX: u32 = 0x008;
    pub const PAD_AFTER_SIGN: u32 = 0x010;
    pub const CENTER_ADJUST: u32 = 0x020;
    pub const ADD_PERCENT: u32 = 0x040;
    pub const SHOW_OCTAL_LETTER: u32 = 0x080;
    pub const ALWAYS_DECIMAL: u32 = 0x100;
    /// The grouping character (`,` or `_`) is stored from this bit up.
    pub const SEP_POS: u32 = 9;
}

/// Zero padding with a grouping character: MicroPython repeats a slice of this pattern.
const PAD_COMMON: &[u8; 23] = b"0000000000000000_000,00";

/// Appends `s` padded to `width` bytes with `fill` (left, right or centred by `flags`); zero
/// padding of a grouped number repeats the grouping pattern (`mp_print_strn`).
pub fn print_strn(out: &mut Vec<u8>, s: &[u8], flags: u32, fill: u8, width: i32) {
    let grouping = (flags >> pf::SEP_POS) as u8;
    let mut pad = width - s.len() as i32;
    let pattern: Option<&[u8]> = if fill == b'0' && grouping != 0 {
        let (base, size) = if grouping == b'_' { (12, 5) } else { (17, 4) };
        let mut w = width;
        if w % size == 0 {
            pad += 1;
            w += 1;
        }
        let start = base + (size - 1 - w % size) as usize;
        Some(&PAD_COMMON[start..(start + size as usize).min(PAD_COMMON.len())])
    } else {
        None
    };
    let (left, right) = if flags & pf::CENTER_ADJUST != 0 {
        (pad / 2, pad - pad / 2)
    } else if flags & pf::LEFT_ADJUST != 0 {
        (0, pad)
    } else {
        (pad, 0)
    };
    let fill = if fill == 0 { b' ' } else { fill };
    let emit = |out: &mut Vec<u8>, n: i32| {
        for k in 0..n.max(0) as usize {
            out.push(pattern.map_or(fill, |p| p[k % p.len()]));
        }
    };
    emit(out, left);
    out.extend_from_slice(s);
    emit(out, right);
}

/// Appends float `f` in format `fmt` (`e f g E F G`) with `flags`, `fill`, `width` and `prec`
/// (negative: default) (`mp_print_float`).
pub fn print_float(
    out: &mut Vec<u8>,
    f: f64,
    fmt: u8,
    flags: u32,
    fill: u8,
    width: i32,
    prec: i32,
) {
    let sign = if flags & pf::SHOW_SIGN != 0 {
        b'+'
    } else if flags & pf::SPACE_SIGN != 0 {
        b' '
    } else {
        0
    };
    let mut buf = format_float(f, 33, fmt, prec, sign);
    if flags & pf::ALWAYS_DECIMAL != 0 && !buf.iter().any(|&c| c == b'.' || c == b'e' || c == b'n')
    {
        buf.extend_from_slice(b".0");
    }
    if flags & pf::ADD_PERCENT != 0 {
        buf.push(b'%');
    }
    let mut s = buf.as_slice();
    let mut width = width;
    if flags & pf::PAD_AFTER_SIGN != 0 && s.first().is_some_and(|&c| c < b'0') {
        out.push(s[0]);
        s = &s[1..];
        width -= 1;
    }
    print_strn(out, s, flags, fill, width);
}

impl<F: FlashImage> Vm<F> {
    /// Appends int `x` (a bool counts as an int; anything else is converted as `int()`'s
    /// machine-word conversion would) in `base` with letters from `base_char` (`a`/`A`), the
    /// sign, prefix, grouping, fill, width and precision of `flags` (`mp_print_mp_int`).
    #[allow(clippy::too_many_arguments)]
    pub fn print_int(
        &mut self,
        out: &mut Vec<u8>,
        x: Value,
        base: u32,
        base_char: u8,
        flags: u32,
        fill: u8,
        width: i32,
        prec: i32,
    ) -> R<()> {
        let x = if self.is_int(x) {
            x
        } else {
            let n = self.int_arg(x)?;
            self.int_val(n)?
        };
        let (mut flags, mut fill, mut width, mut prec) = (flags, fill, width, prec);
        if flags & (pf::LEFT_ADJUST | pf::CENTER_ADJUST) == 0 && fill == b'0' {
            width = width.max(prec);
            prec = 0;
        }
        let digits = self
            .int_digits(x, base, base_char == b'A')
            .unwrap_or_default();
        let (neg, digits) = match digits.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, digits.as_str()),
        };
        let mut prefix = String::new();
        if !neg {
            if flags & pf::SHOW_SIGN != 0 {
                prefix.push('+');
            } else if flags & pf::SPACE_SIGN != 0 {
                prefix.push(' ');
            }
        }
        if flags & pf::SHOW_PREFIX != 0 {
            let letter = |c: u8| (base_char + c - b'a') as char;
            match base {
                2 => {
                    prefix.push('0');
                    prefix.push(letter(b'b'));
                }
                8 => {
                    prefix.push('0');
                    if flags & pf::SHOW_OCTAL_LETTER != 0 {
                        prefix.push(letter(b'o'));
                    }
                }
                16 => {
                    prefix.push('0');
                    prefix.push(letter(b'x'));
                }
                _ => {}
            }
        }
        // Digits grouped by 3 (decimal) or 4 with the grouping character.
        let comma = (flags >> pf::SEP_POS) as u8;
        let mut grouped = String::new();
        if comma != 0 {
            let n = if base == 10 { 3 } else { 4 };
            for (k, ch) in digits.chars().enumerate() {
                if k > 0 && (digits.len() - k) % n == 0 {
                    grouped.push(comma as char);
                }
                grouped.push(ch);
            }
        } else {
            grouped.push_str(digits);
        }
        if prec > 1 {
            flags |= pf::PAD_AFTER_SIGN;
        }
        let sign = if neg { "-" } else { "" };
        // With the pad after the sign, sign and prefix are printed first; else they lead the
        // number (the sign first, then the prefix).
        let body = if flags & pf::PAD_AFTER_SIGN != 0 {
            grouped.clone()
        } else {
            alloc::format!("{sign}{prefix}{grouped}")
        };
        let (mut before, mut after) = (0, 0);
        if prec > 1 {
            let mut pw = (body.len() as i32).max(prec);
            if !sign.is_empty() {
                pw += 1;
            }
            pw += prefix.len() as i32;
            if pw < width {
                if flags & pf::LEFT_ADJUST != 0 {
                    after = width - pw;
                } else {
                    before = width - pw;
                }
            }
            fill = b'0';
            flags &= !pf::LEFT_ADJUST;
        }
        print_strn(out, b"", 0, b' ', before);
        if flags & pf::PAD_AFTER_SIGN != 0 {
            if !sign.is_empty() {
                out.extend_from_slice(sign.as_bytes());
                width -= 1;
            }
            if !prefix.is_empty() {
                out.extend_from_slice(prefix.as_bytes());
                width -= prefix.len() as i32;
            }
        }
        if prec > 1 {
            width = prec;
        }
        print_strn(out, body.as_bytes(), flags, fill, width);
        print_strn(out, b"", 0, b' ', after);
        Ok(())
    }

    /// Appends number `x` (a float, int or bool) in float format `fmt` (`e f g E F G`, or `%`:
    /// `x * 100` in `f` with a `%` sign after), or `TypeError: can't convert … to float`.
    #[allow(clippy::too_many_arguments)]
    pub fn print_float_arg(
        &mut self,
        out: &mut Vec<u8>,
        x: Value,
        fmt: u8,
        flags: u32,
        fill: u8,
        width: i32,
        prec: i32,
    ) -> R<()> {
        let f = self.float_arg(x)?;
        if fmt == b'%' {
            let flags = flags | pf::ADD_PERCENT;
            print_float(out, f * 100.0, b'f', flags, fill, width, prec);
        } else {
            print_float(out, f, fmt, flags, fill, width, prec);
        }
        Ok(())
    }
}
