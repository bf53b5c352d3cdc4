//! `str`: immutable text stored as UTF-8, indexed, sliced, measured and iterated by code
//! point, as MicroPython's `objstrunicode.c`. Short strs are qstr immediates, the rest `STR`
//! objects `[hdr len|STR][hash][bytes…]`; both are `str` to Python and to the slots below.
//!
//! A `STR` object's header carries [`STR_ASCII`] when all its bytes are ASCII: then a code
//! point is a byte and `s[i]`, `s[a:b]` and `len(s)` are O(1). Without the flag they walk the
//! UTF-8 (from the end for a negative index), as MicroPython does; a qstr is short and is
//! checked. Methods count code points for their positions and `start`/`end` arguments
//! (`types/str_methods.rs`); padding (`center`, `%5s`, `{:>5}`) counts bytes, as in
//! MicroPython. Only step-1 slices exist. `repr` escapes every code point outside printable
//! ASCII (`'\xe9'`, `'\u20ac'`, `'\U0001f600'`).
//!
//! Frozen compact (also `bytes`), `[hdr len|STR+COMPACT][bytes…]`: no hash word, recomputed
//! when needed (readers find the payload with `obj::payload_offset`); the header keeps its
//! ASCII flag.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::freeze::write_words;
use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{
    Buffer, Frozen, Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop,
};
use crate::types::str_methods as m;
use crate::types::{buffer, iter, memoryview, slice, str_format, tuple, unicode};
use crate::types::{bytearray, bytes};
use crate::vm::{R, Vm};

/// The `str` type.
pub struct Str;

impl<F: FlashImage> NativeType<F> for Str {
    const TYPE: TypeSlots<F> = TypeSlots {
        frozen: Some(Frozen {
            size: frozen_size,
            values: None,
            write: write_frozen,
        }),
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(unary_op),
        binary_op: Some(binary_op),
        getiter: Some(getiter),
        subscr: Some(subscr),
        buffer: Some(buffer),
        methods: text_methods!([], [Native::new("encode", encode)]),
        names: &["keepends"],
        // Immutable, no identity (as MicroPython's): equal strs may share a frozen copy.
        merge: true,
        ..TypeSlots::new(Kind::STR, "str")
    };
}

/// A new str from `b`, which must be UTF-8 (MicroPython's `mp_obj_new_str`): `UnicodeError`
/// otherwise. Interned text comes back as its qstr.
pub fn new_text<F: FlashImage>(vm: &mut Vm<F>, b: &[u8]) -> R<Value> {
    if !unicode::check(b) {
        return vm.raise_empty("UnicodeError");
    }
    vm.new_str(b)
}

/// `TypeError: keyword argument(s) not implemented - use normal args instead`, as the
/// constructors of str and bytes raise for any keyword.
pub fn no_keywords<F: FlashImage>(vm: &mut Vm<F>, kw: &[Value]) -> R<()> {
    if kw.is_empty() {
        return Ok(());
    }
    vm.raise_msg(
        "NotImplementedError",
        "keyword argument(s) not implemented - use normal args instead",
    )
}

/// `str()`, `str(x)`, `str(buffer, encoding[, errors])` (the encoding is UTF-8 whatever it is
/// named, as in MicroPython; the bytes must be valid UTF-8).
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    no_keywords(vm, kw)?;
    vm.check_args(args, kw, 0, 3)?;
    match args.len() {
        0 => Ok(Value::qstr(1)),
        1 => {
            let s = vm.str_of(args[0])?;
            vm.new_str(s.as_bytes())
        }
        _ => {
            let b = buffer::bytes_arg(vm, args[0])?;
            new_text(vm, &b)
        }
    }
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, k: PrintKind) -> R<()> {
    let b = vm.str_bytes(v).unwrap_or(b"");
    match k {
        PrintKind::Str => s.push_str(&String::from_utf8_lossy(b)),
        PrintKind::Repr => quote_str(s, b),
    }
    Ok(())
}

/// The quote a repr uses: `"` when the text has a `'` and no `"`, else `'`.
fn quote_char(b: &[u8]) -> u8 {
    if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    }
}

/// `repr` of a str's text (MicroPython's `uni_print_quoted`): printable ASCII as is, `\n \r
/// \t \\` and the quote escaped, every other code point as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
pub fn quote_str(s: &mut String, b: &[u8]) {
    let q = quote_char(b) as u32;
    s.push(q as u8 as char);
    let mut i = 0;
    while i < b.len() {
        let (ch, j) = unicode::decode(b, i);
        i = j;
        match ch {
            c if c == q => {
                s.push('\\');
                s.push(q as u8 as char);
            }
            0x5C => s.push_str("\\\\"),
            0x20..=0x7E => s.push(ch as u8 as char),
            0x0A => s.push_str("\\n"),
            0x0D => s.push_str("\\r"),
            0x09 => s.push_str("\\t"),
            c if c < 0x100 => {
                let _ = write!(s, "\\x{c:02x}");
            }
            c if c < 0x10000 => {
                let _ = write!(s, "\\u{c:04x}");
            }
            c => {
                let _ = write!(s, "\\U{c:08x}");
            }
        }
    }
    s.push(q as u8 as char);
}

/// `repr` of bytes (MicroPython's `mp_str_print_quoted` for bytes), without the `b`: bytes
/// 0x20..0x7E as is (but `\\` and the quote), `\n \r \t`, every other byte `\xhh`.
pub fn quote_bytes(s: &mut String, b: &[u8]) {
    let q = quote_char(b);
    s.push(q as char);
    for &c in b {
        match c {
            c if c == q => {
                s.push('\\');
                s.push(q as char);
            }
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7E => s.push(c as char),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            c => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push(q as char);
}

/// Number of code points of str `v`.
pub fn char_len<F: FlashImage>(vm: &Vm<F>, v: Value) -> usize {
    let b = vm.str_bytes(v).unwrap_or(b"");
    if vm.str_is_ascii(v) {
        b.len()
    } else {
        unicode::char_count(b)
    }
}

fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(!vm.str_bytes(v).unwrap_or(b"").is_empty())),
        unop::LEN => Some(Value::small(char_len(vm, v) as i32)),
        unop::HASH => Some(hash(vm.str_bytes(v).unwrap_or(b""))),
        _ => None,
    })
}

/// `hash()` of a str or bytes: the same for the same bytes, as in MicroPython.
pub fn hash(b: &[u8]) -> Value {
    Value::small((crate::qstr::hash(b) >> 2) as i32)
}

/// `s * n`: `n` an int or a bool; empty for `n <= 0`.
pub fn repeat<F: FlashImage>(vm: &mut Vm<F>, unit: &[u8], n: i64) -> R<Vec<u8>> {
    let n = n.max(0) as usize;
    tuple::check_repeat(vm, unit.len(), n)?;
    Ok(unit.repeat(n))
}

/// Does the equality of `a` with `b` belong to `b`'s type (a bytearray or memoryview compares
/// with anything that has the buffer protocol, as MicroPython's `EQ_CHECKS_OTHER_TYPE`)?
pub fn other_decides_eq<F: FlashImage>(vm: &Vm<F>, b: Value) -> bool {
    matches!(vm.kind(b), Some(k) if k == bytearray::KIND || k == memoryview::KIND)
}

/// MicroPython's `mp_obj_str_binary_op` for a str on the left: `%`, `*` by an int, and with
/// another str `+`, `in` and the comparisons; `in` with anything else raises.
fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    if op == binop::MODULO {
        return str_format::modulo(vm, a, b).map(Some);
    }
    if op == binop::MULTIPLY {
        let Some(n) = vm.int_maybe(b)? else {
            return Ok(None);
        };
        let unit = vm.str_bytes(a).unwrap_or(b"").to_vec();
        let s = repeat(vm, &unit, n)?;
        return vm.new_str(&s).map(Some);
    }
    if op == binop::EQUAL && other_decides_eq(vm, b) {
        return buffer::binary_op(vm, op, b, a);
    }
    if vm.str_bytes(b).is_none() {
        if op == binop::CONTAINS {
            return m::bad_conversion(vm, b);
        }
        return Ok(None);
    }
    let x = vm.str_bytes(a).unwrap_or(b"");
    let y = vm.str_bytes(b).unwrap_or(b"");
    match op {
        binop::ADD | binop::INPLACE_ADD => {
            if x.is_empty() {
                return Ok(Some(b));
            }
            if y.is_empty() {
                return Ok(Some(a));
            }
            let mut s = x.to_vec();
            s.extend_from_slice(y);
            vm.new_str(&s).map(Some)
        }
        binop::CONTAINS => {
            let r = buffer::find(x, y, true).is_some();
            Ok(Some(vm.bool_val(r)))
        }
        binop::EQUAL => {
            let r = x == y;
            Ok(Some(vm.bool_val(r)))
        }
        _ => {
            let ord = x.cmp(y);
            Ok(binop::compare(op, ord).map(|r| vm.bool_val(r)))
        }
    }
}

/// The bytes of a str object (a qstr's text is in the firmware or a pool, not in one object).
fn buffer<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Buffer> {
    if vm.kind(v) != Some(Kind::STR) {
        return None;
    }
    Some(Buffer {
        addr: vm.payload_addr(v),
        len: vm.aux(v) & STR_LEN_MASK,
        writable: false,
        typecode: b'B',
    })
}

/// A code point index argument: an int or a bool, else `TypeError: string indices must be
/// integers, not …`.
pub fn index_arg<F: FlashImage>(vm: &mut Vm<F>, i: Value) -> R<i64> {
    match vm.int_maybe(i)? {
        Some(n) => Ok(n),
        None => {
            let t = vm.class_name(vm.type_of(i));
            let msg = alloc::format!("string indices must be integers, not {t}");
            vm.raise_msg("TypeError", &msg)
        }
    }
}

/// `s[i]` (a one-character str) and `s[a:b]` (step 1 only), by code point.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, v: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    match op {
        SubscrOp::Store(_) => return buffer::no_item(vm, v, "assignment"),
        SubscrOp::Delete => return buffer::no_item(vm, v, "deletion"),
        SubscrOp::Load => {}
    }
    let ascii = vm.str_is_ascii(v);
    if slice::is_slice(vm, index) {
        let step = vm.wv(index, 3);
        if step.0 != vm.st.none && step != Value::small(1) {
            return vm.raise_msg(
                "NotImplementedError",
                "only slices with step=1 (aka None) are supported",
            );
        }
        let (start, stop) = (vm.wv(index, 1), vm.wv(index, 2));
        let none = vm.st.none;
        let start = if start.0 == none {
            None
        } else {
            Some(index_arg(vm, start)?)
        };
        let stop = if stop.0 == none {
            None
        } else {
            Some(index_arg(vm, stop)?)
        };
        let b = vm.str_bytes(v).unwrap_or(b"");
        let a = start.map_or(0, |i| unicode::offset(b, ascii, i, true).unwrap_or(0));
        let z = stop.map_or(b.len(), |i| unicode::offset(b, ascii, i, true).unwrap_or(0));
        if z <= a {
            return Ok(Some(Value::qstr(1)));
        }
        let part = b[a..z].to_vec();
        return vm.new_str(&part).map(Some);
    }
    let i = index_arg(vm, index)?;
    let b = vm.str_bytes(v).unwrap_or(b"");
    let Some(at) = unicode::offset(b, ascii, i, false) else {
        return vm.raise_msg("IndexError", "string index out of range");
    };
    let ch = b[at..unicode::next(b, at)].to_vec();
    vm.new_str(&ch).map(Some)
}

/// `s.encode([encoding[, errors]])`: the UTF-8 bytes (every encoding is UTF-8, as in
/// MicroPython).
fn encode<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 1, 3)?;
    let s = arg(args, 0);
    let Some(b) = vm.str_bytes(s).map(<[u8]>::to_vec) else {
        return m::bad_conversion(vm, s);
    };
    bytes::new(vm, &b)
}

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::STR, v)
}

/// The compact frozen layout of a `str` or a `bytes`: the header with the COMPACT bit, then
/// the payload.
pub fn frozen_size<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    4 + (vm.aux(v) & STR_LEN_MASK)
}

/// Writes the compact copy of a heap `str` or `bytes`.
pub fn write_frozen<F: FlashImage>(vm: &Vm<F>, v: Value, out: &mut [u8]) {
    let hdr = vm.w(v, 0);
    let n = (hdr >> 8) & STR_LEN_MASK;
    let Some(b) = vm.mem.bytes(v.0 + payload_offset(hdr), n) else {
        return;
    };
    write_words(out, &[hdr | COMPACT as u32]);
    if let Some(dst) = out.get_mut(4..4 + n as usize) {
        dst.copy_from_slice(b);
    }
}
