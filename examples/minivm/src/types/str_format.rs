//! `%` and `format()` of str and bytes, as MicroPython's `objstr.c` (`str_modulo_format`,
//! `mp_obj_str_format_helper`) and `mpprint.c` (`mp_print_strn`, `mp_print_mp_int`) do them.
//!
//! Widths and precisions count bytes (`'%5s' % 'é'` pads with three spaces), fill characters
//! are one byte. Ints print in bases 2, 8, 10 and 16 with signs, `0x`/`0o`/`0b` prefixes, zero
//! padding after the sign and `,`/`_` grouping (grouped zero padding as MicroPython draws it).
//! The padding and the digits are `mpprint`'s: ints of any size through `Vm::print_int`,
//! floats (`%f`, `{:.2e}`…) through `Vm::print_float_arg`.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::mpprint::pf::*;
use crate::mpprint::print_strn;
use crate::obj::{Kind, Value};
use crate::types::str_methods::{self as m, Flavor};
use crate::types::unicode;
use crate::vm::{R, Vm};

/// `MemoryError` (before any padding is made) for a width or precision the heap could never
/// hold.
fn check_width<F: FlashImage>(vm: &mut Vm<F>, n: i32) -> R<()> {
    crate::types::tuple::check_repeat(vm, n.max(0) as usize, 1)
}

/// Is `v` an int or a bool (MicroPython's `arg_looks_integer`)?
fn is_integer<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    vm.as_intlike(v).is_some() || vm.is_int(v)
}

/// Is `v` a float?
fn is_float<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    vm.float_of(v).is_some()
}

/// One code point `c` (a `%c`/`{:c}` of an int): its UTF-8 in a str, its low byte in bytes.
fn char_of(c: i64, fl: Flavor) -> Vec<u8> {
    let mut b = Vec::new();
    if fl == Flavor::Str && (0..0x110000).contains(&c) {
        unicode::encode(c as u32, &mut b);
    } else {
        b.push(c as u8);
    }
    b
}

/// `text` cut to `prec` bytes (all of it when `prec < 0`); a str is cut at a code point.
fn truncate(text: &[u8], prec: i32, fl: Flavor) -> &[u8] {
    if prec < 0 || prec as usize >= text.len() {
        return text;
    }
    let mut n = prec as usize;
    if fl == Flavor::Str {
        while n > 0 && unicode::is_cont(text[n]) {
            n -= 1;
        }
    }
    &text[..n]
}

/// `pattern % rhs` for a str or bytes pattern: `rhs` a tuple of arguments, a dict for
/// `%(key)s`, or one argument.
pub fn modulo<F: FlashImage>(vm: &mut Vm<F>, pattern: Value, rhs: Value) -> R<Value> {
    let (args, dict) = match vm.kind(rhs) {
        Some(Kind::TUPLE) => (vm.seq_vec(rhs).unwrap_or_default(), None),
        Some(Kind::DICT) => (alloc::vec![rhs], Some(rhs)),
        _ => (alloc::vec![rhs], None),
    };
    let fl = m::flavor(vm, pattern).unwrap_or(Flavor::Str);
    let s = m::data(vm, pattern).unwrap_or_default();
    let top = s.len();
    let mut out = Vec::with_capacity(top);
    let mut ai = 0;
    let mut i = 0;
    let incomplete = |vm: &mut Vm<F>| vm.raise_msg("ValueError", "incomplete format");
    let needs_more =
        |vm: &mut Vm<F>| vm.raise_msg("TypeError", "format string needs more arguments");
    while i < top {
        if s[i] != b'%' {
            out.push(s[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i >= top {
            return incomplete(vm);
        }
        if s[i] == b'%' {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut arg = None;
        if s[i] == b'(' {
            let Some(d) = dict else {
                return vm.raise_msg("TypeError", "format needs a dict");
            };
            ai = 1;
            let key = i + 1;
            let Some(close) = s[key..].iter().position(|&c| c == b')') else {
                return vm.raise_msg("ValueError", "incomplete format key");
            };
            let k = vm.new_str(&s[key..key + close])?;
            match vm.dict_get(d, k)? {
                Some(v) => arg = Some(v),
                None => return vm.raise_args("KeyError", &[k]),
            }
            i = key + close + 1;
        }
        let mut flags = 0;
        let mut fill = b' ';
        let mut alt = 0;
        while i < top {
            match s[i] {
                b'-' => flags |= LEFT_ADJUST,
                b'+' => flags |= SHOW_SIGN,
                b' ' => flags |= SPACE_SIGN,
                b'#' => alt = SHOW_PREFIX,
                b'0' => {
                    flags |= PAD_AFTER_SIGN;
                    fill = b'0';
                }
                _ => break,
            }
            i += 1;
        }
        let mut width = 0;
        if i < top {
            if s[i] == b'*' {
                if ai >= args.len() {
                    return needs_more(vm);
                }
                width = vm.int_arg(args[ai])? as i32;
                ai += 1;
                i += 1;
            } else {
                (width, i) = number(&s, i).unwrap_or((width, i));
            }
        }
        let mut prec = -1;
        if i < top && s[i] == b'.' {
            i += 1;
            if i < top {
                if s[i] == b'*' {
                    if ai >= args.len() {
                        return needs_more(vm);
                    }
                    prec = vm.int_arg(args[ai])? as i32;
                    ai += 1;
                    i += 1;
                } else {
                    prec = 0;
                    (prec, i) = number(&s, i).unwrap_or((prec, i));
                }
            }
        }
        if i >= top {
            return incomplete(vm);
        }
        check_width(vm, width)?;
        check_width(vm, prec)?;
        let arg = match arg {
            Some(a) => a,
            None => {
                if ai >= args.len() {
                    return needs_more(vm);
                }
                ai += 1;
                args[ai - 1]
            }
        };
        match s[i] {
            b'c' => {
                if let Some(text) = vm.str_bytes(arg).map(<[u8]>::to_vec) {
                    if text.len() != 1 {
                        return vm.raise_msg("TypeError", "%c needs int or char");
                    }
                    print_strn(&mut out, &text, flags, b' ', width);
                } else if let Some(c) = vm.as_intlike(arg) {
                    print_strn(&mut out, &char_of(c, fl), flags, b' ', width);
                } else {
                    return vm.raise_msg("TypeError", "integer needed");
                }
            }
            b'd' | b'i' | b'u' => {
                // A float is truncated to an int first (MicroPython's `arg_as_int`).
                let arg = match vm.float_of(arg) {
                    Some(f) => vm.int_from_float(f)?,
                    None => arg,
                };
                vm.print_int(&mut out, arg, 10, b'a', flags, fill, width, prec)?
            }
            c @ (b'e' | b'E' | b'f' | b'F' | b'g' | b'G') => {
                vm.print_float_arg(&mut out, arg, c, flags, fill, width, prec)?
            }
            b'o' => {
                if alt != 0 {
                    flags |= SHOW_PREFIX | SHOW_OCTAL_LETTER;
                }
                vm.print_int(&mut out, arg, 8, b'a', flags, fill, width, prec)?
            }
            c @ (b'r' | b's') => {
                let text = if c == b's' && fl == Flavor::Bytes && vm.kind(arg) == Some(Kind::BYTES)
                {
                    vm.str_obj_bytes(arg).unwrap_or(b"").to_vec()
                } else if c == b's' {
                    vm.str_of(arg)?.into_bytes()
                } else {
                    vm.repr_of(arg)?.into_bytes()
                };
                print_strn(&mut out, truncate(&text, prec, fl), flags, b' ', width);
            }
            c @ (b'x' | b'X') => {
                let base_char = if c == b'X' { b'A' } else { b'a' };
                vm.print_int(&mut out, arg, 16, base_char, flags | alt, fill, width, prec)?
            }
            c => {
                let msg = alloc::format!(
                    "unsupported format character '{}' ({c:#x}) at index {i}",
                    c as char
                );
                return vm.raise_msg("ValueError", &msg);
            }
        }
        i += 1;
    }
    if dict.is_none() && ai != args.len() {
        return vm.raise_msg("TypeError", "format string didn't convert all arguments");
    }
    m::make(vm, if fl == Flavor::Str { fl } else { Flavor::Bytes }, &out)
}

/// The decimal number at `s[i..]`: `(value, index after it)`, or `None` when no digit is there.
fn number(s: &[u8], mut i: usize) -> Option<(i32, usize)> {
    let start = i;
    let mut n: i32 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add((s[i] - b'0') as i32);
        i += 1;
    }
    (i > start).then_some((n, i))
}

/// `fmt.format(*args, **kw)` of a str, bytes or bytearray.
pub fn format<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let this = crate::natives::arg(args, 0);
    let (Some(fl), Some(s)) = (m::flavor(vm, this), m::data(vm, this)) else {
        return m::bad_conversion(vm, this);
    };
    let mut arg_i = 0;
    let out = format_helper(vm, &s, &mut arg_i, args, kw, fl)?;
    m::make(vm, fl, &out)
}

/// MicroPython's `mp_obj_str_format_helper`: the replacement fields of `s`, `args[1..]`
/// positional and `kw` named; `arg_i` the next automatic field (-1 once a field was numbered).
fn format_helper<F: FlashImage>(
    vm: &mut Vm<F>,
    s: &[u8],
    arg_i: &mut i32,
    args: &[Value],
    kw: &[Value],
    fl: Flavor,
) -> R<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let top = s.len();
    let mut i = 0;
    let ends_field = |c: u8| matches!(c, b'}' | b'!' | b':');
    while i < top {
        let c = s[i];
        if c == b'}' {
            i += 1;
            if i < top && s[i] == b'}' {
                out.push(b'}');
                i += 1;
                continue;
            }
            return vm.raise_msg("ValueError", "single '}' encountered in format string");
        }
        if c != b'{' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if i < top && s[i] == b'{' {
            out.push(b'{');
            i += 1;
            continue;
        }
        // replacement_field ::= "{" [field_name] ["!" conversion] [":" format_spec] "}"
        let mut name = None;
        if i < top && !ends_field(s[i]) {
            let start = i;
            while i < top && !ends_field(s[i]) {
                i += 1;
            }
            name = Some((start, i));
        }
        let mut conversion = 0u8;
        if i < top && s[i] == b'!' {
            i += 1;
            if i < top && (s[i] == b'r' || s[i] == b's') {
                conversion = s[i];
                i += 1;
            } else if i >= top {
                return vm.raise_msg(
                    "ValueError",
                    "end of format while looking for conversion specifier",
                );
            } else {
                let msg = alloc::format!("unknown conversion specifier {}", s[i] as char);
                return vm.raise_msg("ValueError", &msg);
            }
        }
        let mut spec = None;
        if i < top && s[i] == b':' {
            i += 1;
            if i >= top || s[i] != b'}' {
                let start = i;
                let mut nest = 1;
                while i < top {
                    if s[i] == b'{' {
                        nest += 1;
                    } else if s[i] == b'}' {
                        nest -= 1;
                        if nest == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
                spec = Some((start, i));
            }
        }
        if i >= top {
            return vm.raise_msg("ValueError", "unmatched '{' in format");
        }
        if s[i] != b'}' {
            return vm.raise_msg("ValueError", "expected ':' after format specifier");
        }
        i += 1;
        let positional = args.len().saturating_sub(1);
        let mut arg;
        if let Some((a, b)) = name {
            let rest;
            if s[a].is_ascii_digit() {
                if *arg_i > 0 {
                    return vm.raise_msg(
                        "ValueError",
                        "can't switch from automatic field numbering to manual field specification",
                    );
                }
                let (n, end) = number(&s[..b], a).unwrap_or((0, a));
                if n as usize >= positional {
                    return vm.raise_msg("IndexError", "tuple index out of range");
                }
                arg = args[n as usize + 1];
                *arg_i = -1;
                rest = end;
            } else {
                let end = (a..b).find(|&k| s[k] == b'.' || s[k] == b'[').unwrap_or(b);
                let key = alloc::string::String::from_utf8_lossy(&s[a..end]).into_owned();
                match vm.kwarg(kw, &key) {
                    Some(v) => arg = v,
                    None => {
                        let k = vm.new_str(key.as_bytes())?;
                        return vm.raise_args("KeyError", &[k]);
                    }
                }
                rest = end;
            }
            if rest < b {
                return vm.raise_msg("NotImplementedError", "attributes not supported");
            }
        } else {
            if *arg_i < 0 {
                return vm.raise_msg(
                    "ValueError",
                    "can't switch from manual field specification to automatic field numbering",
                );
            }
            if *arg_i as usize >= positional {
                return vm.raise_msg("IndexError", "tuple index out of range");
            }
            arg = args[*arg_i as usize + 1];
            *arg_i += 1;
        }
        if spec.is_none() && conversion == 0 {
            conversion = b's';
        }
        if conversion != 0 {
            let text = if conversion == b's' {
                vm.str_of(arg)?
            } else {
                vm.repr_of(arg)?
            };
            arg = vm.new_str(text.as_bytes())?;
        }
        let (mut fill, mut align, mut width, mut prec, mut ty, mut flags) =
            (0u8, 0u8, -1i32, -1i32, 0u8, 0u32);
        if let Some((a, b)) = spec {
            let sp = format_helper(vm, &s[a..b], arg_i, args, kw, fl)?;
            let at = |k: usize| sp.get(k).copied().unwrap_or(0);
            let is_align = |c: u8| matches!(c, b'<' | b'>' | b'=' | b'^');
            let mut k = 0;
            if is_align(at(0)) {
                align = at(0);
                k = 1;
            } else if at(0) != 0 && is_align(at(1)) {
                fill = at(0);
                align = at(1);
                k = 2;
            }
            match at(k) {
                b'+' => {
                    flags |= SHOW_SIGN;
                    k += 1;
                }
                b' ' => {
                    flags |= SPACE_SIGN;
                    k += 1;
                }
                b'-' => k += 1,
                _ => {}
            }
            if at(k) == b'#' {
                flags |= SHOW_PREFIX;
                k += 1;
            }
            if at(k) == b'0' {
                if align == 0 && (is_integer(vm, arg) || is_float(vm, arg)) {
                    align = b'=';
                }
                if fill == 0 {
                    fill = b'0';
                }
            }
            if let Some((w, e)) = number(&sp, k) {
                width = w;
                k = e;
            }
            if at(k) == b',' || at(k) == b'_' {
                flags |= (at(k) as u32) << SEP_POS;
                k += 1;
            }
            if at(k) == b'.' {
                k += 1;
                if let Some((p, e)) = number(&sp, k) {
                    prec = p;
                    k = e;
                }
            }
            if at(k) != 0 && b"bcdeEfFgGnosxX%".contains(&at(k)) {
                ty = at(k);
                k += 1;
            }
            if k < sp.len() {
                return vm.raise_msg("ValueError", "invalid format specifier");
            }
        }
        check_width(vm, width)?;
        check_width(vm, prec)?;
        let integer = is_integer(vm, arg);
        let numeric = integer || is_float(vm, arg);
        if align == 0 {
            align = if numeric { b'>' } else { b'<' };
        }
        if fill == 0 {
            fill = b' ';
        }
        if flags & (SHOW_SIGN | SPACE_SIGN) != 0 {
            if ty == b's' {
                return vm.raise_msg("ValueError", "sign not allowed in string format specifier");
            }
            if ty == b'c' {
                return vm.raise_msg(
                    "ValueError",
                    "sign not allowed with integer format specifier 'c'",
                );
            }
        }
        match align {
            b'<' => flags |= LEFT_ADJUST,
            b'=' => flags |= PAD_AFTER_SIGN,
            b'^' => flags |= CENTER_ADJUST,
            _ => {}
        }
        let unknown = |vm: &mut Vm<F>, ty: u8, arg: Value| {
            let t = vm.class_name(vm.type_of(arg));
            let msg = alloc::format!(
                "unknown format code '{}' for object of type '{t}'",
                ty as char
            );
            vm.raise_msg("ValueError", &msg)
        };
        if integer {
            match ty {
                b'b' => {
                    vm.print_int(&mut out, arg, 2, b'a', flags, fill, width, 0)?;
                    continue;
                }
                b'c' => {
                    let c = vm.int_arg(arg)?;
                    print_strn(&mut out, &char_of(c, fl), flags, fill, width);
                    continue;
                }
                0 | b'n' | b'd' => {
                    vm.print_int(&mut out, arg, 10, b'a', flags, fill, width, 0)?;
                    continue;
                }
                b'o' => {
                    if flags & SHOW_PREFIX != 0 {
                        flags |= SHOW_OCTAL_LETTER;
                    }
                    vm.print_int(&mut out, arg, 8, b'a', flags, fill, width, 0)?;
                    continue;
                }
                b'x' | b'X' => {
                    let base_char = if ty == b'X' { b'A' } else { b'a' };
                    vm.print_int(&mut out, arg, 16, base_char, flags, fill, width, 0)?;
                    continue;
                }
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'%' => {}
                _ => return unknown(vm, ty, arg),
            }
        }
        if numeric {
            let ty = if ty == 0 || ty == b'n' { b'g' } else { ty };
            match ty {
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'%' => {
                    vm.print_float_arg(&mut out, arg, ty, flags, fill, width, prec)?
                }
                _ => return unknown(vm, ty, arg),
            }
        } else {
            if align == b'=' {
                return vm.raise_msg(
                    "ValueError",
                    "'=' alignment not allowed in string format specifier",
                );
            }
            match ty {
                0 | b's' => {
                    let text = match m::flavor(vm, arg) {
                        Some(Flavor::Str | Flavor::Bytes) => m::data(vm, arg).unwrap_or_default(),
                        _ => return m::bad_conversion(vm, arg),
                    };
                    print_strn(
                        &mut out,
                        truncate(&text, prec, Flavor::Str),
                        flags,
                        fill,
                        width,
                    );
                }
                _ => return unknown(vm, ty, arg),
            }
        }
    }
    Ok(out)
}
