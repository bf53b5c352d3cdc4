//! Printing numbers with a width, fill, sign and precision, as MicroPython's `mpprint.c` does
//! for `%` and `str.format` (`mp_print_strn`, `mp_print_float`, `mp_print_mp_int`), and the
//! parsers of the two spec languages' numeric parts.
//!
//! The `%` and `format` implementations in `types/str.rs` parse their spec with
//! [`PercentSpec::parse`] / [`FormatSpec::parse`] and hand numeric conversions to
//! [`Vm::percent_number`] / [`Vm::format_number`]; padding is by bytes, as MicroPython pads.

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

/// The numeric part of a `%` conversion: flags, width and precision (`*` takes an argument).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PercentSpec {
    /// [`pf`] flags (`-`, `+`, space, `0`).
    pub flags: u32,
    /// `#`: the alternate form (a `0x`/`0o` prefix).
    pub alt: bool,
    /// `b' '`, or `b'0'` with the `0` flag.
    pub fill: u8,
    /// Minimum width (0: none).
    pub width: i32,
    /// Precision (-1: none).
    pub prec: i32,
}

/// A width or precision of `%`: digits, or `*` for the next argument.
pub enum Count {
    /// Given in the format.
    Given(i32),
    /// `*`: taken from the arguments.
    Star,
}

impl PercentSpec {
    /// Parses the flags, width and precision after a `%` at `f[i..]`: the spec, the width and
    /// precision given as `*` (to be taken from the arguments, in that order), and the index of
    /// the conversion character.
    pub fn parse(f: &[u8], mut i: usize) -> (PercentSpec, [Option<Count>; 2], usize) {
        let mut s = PercentSpec {
            fill: b' ',
            prec: -1,
            ..PercentSpec::default()
        };
        while let Some(&c) = f.get(i) {
            match c {
                b'-' => s.flags |= pf::LEFT_ADJUST,
                b'+' => s.flags |= pf::SHOW_SIGN,
                b' ' => s.flags |= pf::SPACE_SIGN,
                b'#' => s.alt = true,
                b'0' => {
                    s.flags |= pf::PAD_AFTER_SIGN;
                    s.fill = b'0';
                }
                _ => break,
            }
            i += 1;
        }
        let mut counts = [None, None];
        let number = |i: &mut usize| -> Option<Count> {
            if f.get(*i) == Some(&b'*') {
                *i += 1;
                return Some(Count::Star);
            }
            let mut n: i32 = 0;
            let start = *i;
            while let Some(d) = f.get(*i).filter(|c| c.is_ascii_digit()) {
                n = n.saturating_mul(10).saturating_add((d - b'0') as i32);
                *i += 1;
            }
            (*i > start).then_some(Count::Given(n))
        };
        match number(&mut i) {
            Some(Count::Given(n)) => s.width = n,
            c => counts[0] = c,
        }
        if f.get(i) == Some(&b'.') {
            i += 1;
            if i < f.len() {
                s.prec = 0;
                match number(&mut i) {
                    Some(Count::Given(n)) => s.prec = n,
                    c => counts[1] = c,
                }
            }
        }
        (s, counts, i)
    }
}

/// A `str.format` spec: `[[fill]align][sign][#][0][width][,|_][.precision][type]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FormatSpec {
    /// The fill byte (0: none given).
    pub fill: u8,
    /// `<`, `>`, `=`, `^` (0: none given).
    pub align: u8,
    /// [`pf`] flags from the sign, `#` and the grouping character.
    pub flags: u32,
    /// `0` before the width.
    pub zero: bool,
    /// Width (-1: none).
    pub width: i32,
    /// Precision (-1: none).
    pub prec: i32,
    /// The type character (0: none).
    pub ty: u8,
}

impl FormatSpec {
    /// Parses a spec (nested `{}` fields already substituted): `Err` with MicroPython's
    /// message for trailing characters.
    pub fn parse(spec: &str) -> Result<FormatSpec, &'static str> {
        let c: Vec<char> = spec.chars().collect();
        let mut i = 0;
        let mut s = FormatSpec {
            width: -1,
            prec: -1,
            ..FormatSpec::default()
        };
        let is_align = |c: Option<&char>| matches!(c, Some('<' | '>' | '=' | '^'));
        if is_align(c.first()) {
            s.align = c[0] as u8;
            i = 1;
        } else if !c.is_empty() && is_align(c.get(1)) {
            s.fill = c[0] as u8;
            s.align = c[1] as u8;
            i = 2;
        }
        match c.get(i) {
            Some('+') => {
                s.flags |= pf::SHOW_SIGN;
                i += 1;
            }
            Some(' ') => {
                s.flags |= pf::SPACE_SIGN;
                i += 1;
            }
            Some('-') => i += 1,
            _ => {}
        }
        if c.get(i) == Some(&'#') {
            s.flags |= pf::SHOW_PREFIX;
            i += 1;
        }
        if c.get(i) == Some(&'0') {
            s.zero = true;
        }
        let number = |i: &mut usize| -> i32 {
            let mut n = 0i32;
            while let Some(d) = c.get(*i).and_then(|d| d.to_digit(10)) {
                n = n.saturating_mul(10).saturating_add(d as i32);
                *i += 1;
            }
            n
        };
        let start = i;
        let w = number(&mut i);
        if i > start {
            s.width = w;
        }
        if let Some(&g @ (',' | '_')) = c.get(i) {
            s.flags |= (g as u32) << pf::SEP_POS;
            i += 1;
        }
        if c.get(i) == Some(&'.') {
            i += 1;
            let start = i;
            let p = number(&mut i);
            if i > start {
                s.prec = p;
            }
        }
        if let Some(&t) = c.get(i).filter(|t| "bcdeEfFgGnosxX%".contains(**t)) {
            s.ty = t as u8;
            i += 1;
        }
        if i < c.len() {
            return Err("invalid format specifier");
        }
        Ok(s)
    }
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

    /// Appends the `%` conversion `conv` of `arg` when it is a numeric one (`d i u o x X e E f F
    /// g G`) and answers `true`; `false` for any other conversion.
    pub fn percent_number(
        &mut self,
        out: &mut Vec<u8>,
        conv: u8,
        arg: Value,
        s: &PercentSpec,
    ) -> R<bool> {
        match conv {
            b'd' | b'i' | b'u' => {
                let x = match self.float_of(arg) {
                    Some(f) => self.int_from_float(f)?,
                    None => arg,
                };
                self.print_int(out, x, 10, b'a', s.flags, s.fill, s.width, s.prec)?;
            }
            b'o' => {
                let alt = if s.alt {
                    pf::SHOW_PREFIX | pf::SHOW_OCTAL_LETTER
                } else {
                    0
                };
                self.print_int(out, arg, 8, b'a', s.flags | alt, s.fill, s.width, s.prec)?;
            }
            b'x' | b'X' => {
                let alt = if s.alt { pf::SHOW_PREFIX } else { 0 };
                let bc = conv - b'X' + b'A';
                self.print_int(out, arg, 16, bc, s.flags | alt, s.fill, s.width, s.prec)?;
            }
            b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
                self.print_float_arg(out, arg, conv, s.flags, s.fill, s.width, s.prec)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Appends `arg` formatted by `spec` when it is a number (an int, bool or float) and
    /// answers `true`; `false` leaves it to the caller (a str, or any other object).
    pub fn format_number(&mut self, out: &mut Vec<u8>, arg: Value, spec: &FormatSpec) -> R<bool> {
        let integer = self.as_intlike(arg).is_some() || self.is_int(arg);
        let float = self.float_of(arg).is_some();
        if !integer && !float {
            return Ok(false);
        }
        let mut align = spec.align;
        let mut fill = spec.fill;
        if spec.zero {
            if align == 0 {
                align = b'=';
            }
            if fill == 0 {
                fill = b'0';
            }
        }
        if align == 0 {
            align = b'>';
        }
        if fill == 0 {
            fill = b' ';
        }
        let mut flags = spec.flags;
        if flags & (pf::SHOW_SIGN | pf::SPACE_SIGN) != 0 && spec.ty == b'c' {
            return self.raise_msg(
                "ValueError",
                "sign not allowed with integer format specifier 'c'",
            );
        }
        flags |= match align {
            b'<' => pf::LEFT_ADJUST,
            b'=' => pf::PAD_AFTER_SIGN,
            b'^' => pf::CENTER_ADJUST,
            _ => 0,
        };
        let mut ty = spec.ty;
        if integer {
            match ty {
                b'b' => {
                    return self
                        .print_int(out, arg, 2, b'a', flags, fill, spec.width, 0)
                        .map(|_| true);
                }
                b'c' => {
                    let n = self.int_arg(arg)?;
                    print_strn(out, &[n as u8], flags, fill, spec.width);
                    return Ok(true);
                }
                0 | b'n' | b'd' => {
                    return self
                        .print_int(out, arg, 10, b'a', flags, fill, spec.width, 0)
                        .map(|_| true);
                }
                b'o' => {
                    if flags & pf::SHOW_PREFIX != 0 {
                        flags |= pf::SHOW_OCTAL_LETTER;
                    }
                    return self
                        .print_int(out, arg, 8, b'a', flags, fill, spec.width, 0)
                        .map(|_| true);
                }
                b'x' | b'X' => {
                    let bc = ty - b'X' + b'A';
                    return self
                        .print_int(out, arg, 16, bc, flags, fill, spec.width, 0)
                        .map(|_| true);
                }
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'%' => {}
                _ => return self.unknown_code(ty, arg),
            }
        }
        if ty == 0 || ty == b'n' {
            ty = b'g';
        }
        match ty {
            b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'%' => {
                self.print_float_arg(out, arg, ty, flags, fill, spec.width, spec.prec)?;
            }
            _ => return self.unknown_code(ty, arg),
        }
        Ok(true)
    }

    /// `ValueError: unknown format code 'x' for object of type 'float'`.
    fn unknown_code<T>(&mut self, ty: u8, arg: Value) -> R<T> {
        let t = self.class_name(self.type_of(arg));
        let msg = alloc::format!(
            "unknown format code '{}' for object of type '{t}'",
            ty as char
        );
        self.raise_msg("ValueError", &msg)
    }
}
