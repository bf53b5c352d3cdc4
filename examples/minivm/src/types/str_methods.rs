//! The methods str, bytes and bytearray share, as MicroPython's `objstr.c` has them (one
//! table for the three types). Each works on the bytes of its self and makes its results of
//! its self's type (a bytearray's `split` gives bytearrays). Positions and `start`/`end`
//! arguments count code points for a str (its bytes are UTF-8) and bytes for bytes and
//! bytearray; case mapping, the `is*` tests and whitespace are ASCII only (`types/unicode.rs`).
//!
//! Argument types follow MicroPython: an argument must be of the self's kind, bytes and
//! bytearray counting as one (`TypeError: can't convert 'int' object to str implicitly`);
//! `startswith`'s prefixes and `split`'s separator must be a str or a bytes exactly.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::{Kind, Value};
use crate::types::str::{index_arg, new_text};
use crate::types::{buffer, bytearray, bytes, unicode};
use crate::vm::{R, Vm};

/// Which of the three types a self (or an argument) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `str`.
    Str,
    /// `bytes`.
    Bytes,
    /// `bytearray`.
    ByteArray,
}

impl Flavor {
    /// bytes and bytearray accept each other as arguments.
    fn group(self) -> Flavor {
        match self {
            Flavor::ByteArray => Flavor::Bytes,
            f => f,
        }
    }
}

/// The flavor of `v`, if it is a str, bytes or bytearray.
pub fn flavor<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Flavor> {
    if v.is_qstr() {
        return Some(Flavor::Str);
    }
    match vm.kind(v)? {
        Kind::STR => Some(Flavor::Str),
        Kind::BYTES => Some(Flavor::Bytes),
        k if k == bytearray::KIND => Some(Flavor::ByteArray),
        _ => None,
    }
}

/// A copy of the bytes of a str, bytes or bytearray.
pub fn data<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Vec<u8>> {
    match flavor(vm, v)? {
        Flavor::Str => vm.str_bytes(v).map(<[u8]>::to_vec),
        Flavor::Bytes => vm.str_obj_bytes(v).map(<[u8]>::to_vec),
        Flavor::ByteArray => Some(buffer::data(vm, v).to_vec()),
    }
}

/// `TypeError: can't convert '<type>' object to str implicitly` (`… to bytes` for a str), as
/// MicroPython's `bad_implicit_conversion`.
pub fn bad_conversion<F: FlashImage, T>(vm: &mut Vm<F>, v: Value) -> R<T> {
    let t = vm.class_name(vm.type_of(v));
    let to = if t == "str" { "bytes" } else { "str" };
    let msg = alloc::format!("can't convert '{t}' object to {to} implicitly");
    vm.raise_msg("TypeError", &msg)
}

/// The self of a method: its flavor and a copy of its bytes.
fn this<F: FlashImage>(vm: &mut Vm<F>, args: &[Value]) -> R<(Flavor, Vec<u8>)> {
    let s = arg(args, 0);
    match (flavor(vm, s), data(vm, s)) {
        (Some(f), Some(d)) => Ok((f, d)),
        _ => bad_conversion(vm, s),
    }
}

/// An argument of the self's kind (bytes and bytearray alike): its bytes.
fn arg_of<F: FlashImage>(vm: &mut Vm<F>, fl: Flavor, v: Value) -> R<Vec<u8>> {
    match flavor(vm, v) {
        Some(f) if f.group() == fl.group() => Ok(data(vm, v).unwrap_or_default()),
        _ => bad_conversion(vm, v),
    }
}

/// An argument that must be a str or a bytes (MicroPython's `mp_obj_str_get_data`).
fn str_or_bytes<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Vec<u8>> {
    match flavor(vm, v) {
        Some(Flavor::Str | Flavor::Bytes) => Ok(data(vm, v).unwrap_or_default()),
        _ => bad_conversion(vm, v),
    }
}

/// A new object of flavor `fl` holding `b` (a str must be UTF-8).
pub fn make<F: FlashImage>(vm: &mut Vm<F>, fl: Flavor, b: &[u8]) -> R<Value> {
    match fl {
        Flavor::Str => new_text(vm, b),
        Flavor::Bytes => bytes::new(vm, b),
        Flavor::ByteArray => buffer::new_from(vm, bytearray::KIND, b'B', b),
    }
}

/// The empty object of flavor `fl` (bytes for a bytearray, as MicroPython's
/// `mp_const_empty_bytes` in `partition` and `strip`).
fn empty<F: FlashImage>(vm: &mut Vm<F>, fl: Flavor) -> R<Value> {
    match fl {
        Flavor::Str => Ok(Value::qstr(1)),
        _ => bytes::new(vm, b""),
    }
}

/// Is self a str whose bytes are all ASCII (code point = byte)?
fn ascii_of<F: FlashImage>(vm: &Vm<F>, fl: Flavor, self_: Value, s: &[u8]) -> bool {
    fl != Flavor::Str || vm.str_is_ascii(self_) || s.is_ascii()
}

/// A `start`/`end` argument as a byte offset into `s`, clamped to it (MicroPython's
/// `str_index_to_ptr` for a slice bound): code points for a str, bytes otherwise.
fn position<F: FlashImage>(
    vm: &mut Vm<F>,
    fl: Flavor,
    s: &[u8],
    ascii: bool,
    v: Value,
) -> R<usize> {
    if fl == Flavor::Str {
        let i = index_arg(vm, v)?;
        return Ok(unicode::offset(s, ascii, i, true).unwrap_or(0));
    }
    let Some(i) = vm.as_intlike(v) else {
        let name = if fl == Flavor::Bytes {
            "bytes"
        } else {
            "bytearray"
        };
        let t = vm.class_name(vm.type_of(v));
        let msg = alloc::format!("{name} indices must be integers, not {t}");
        return vm.raise_msg("TypeError", &msg);
    };
    let n = s.len() as i64;
    let j = if i < 0 { i + n } else { i };
    Ok(j.clamp(0, n) as usize)
}

/// The `start, end` arguments at `args[at..]` (None or absent: the whole of `s`).
fn range<F: FlashImage>(
    vm: &mut Vm<F>,
    fl: Flavor,
    s: &[u8],
    ascii: bool,
    args: &[Value],
    at: usize,
) -> R<(usize, usize)> {
    let none = vm.st.none;
    let mut start = 0;
    let mut end = s.len();
    if let Some(&e) = args.get(at + 1)
        && e.0 != none
    {
        end = position(vm, fl, s, ascii, e)?;
    }
    if let Some(&b) = args.get(at)
        && b.0 != none
    {
        start = position(vm, fl, s, ascii, b)?;
    }
    Ok((start, end))
}

// ------------------------------------------------------------------------- searching

/// `find`/`rfind` (-1 when absent) and `index`/`rindex` (`ValueError`).
fn finder<F: FlashImage>(
    vm: &mut Vm<F>,
    args: &[Value],
    kw: &[Value],
    fwd: bool,
    raise: bool,
) -> R<Value> {
    vm.check_args(args, kw, 2, 4)?;
    let (fl, hay) = this(vm, args)?;
    let needle = arg_of(vm, fl, args[1])?;
    let ascii = ascii_of(vm, fl, args[0], &hay);
    let (start, end) = range(vm, fl, &hay, ascii, args, 2)?;
    let found = if end < start {
        None
    } else {
        buffer::find(&hay[start..end], &needle, fwd).map(|p| p + start)
    };
    match found {
        Some(p) if fl == Flavor::Str => Ok(Value::small(unicode::index_of(&hay, ascii, p) as i32)),
        Some(p) => Ok(Value::small(p as i32)),
        None if raise => vm.raise_msg("ValueError", "substring not found"),
        None => Ok(Value::small(-1)),
    }
}

/// `s.find(sub[, start[, end]])`.
pub fn find<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    finder(vm, args, kw, true, false)
}

/// `s.rfind(sub[, start[, end]])`.
pub fn rfind<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    finder(vm, args, kw, false, false)
}

/// `s.index(sub[, start[, end]])`.
pub fn index<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    finder(vm, args, kw, true, true)
}

/// `s.rindex(sub[, start[, end]])`.
pub fn rindex<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    finder(vm, args, kw, false, true)
}

/// `s.count(sub[, start[, end]])`: non-overlapping; an empty `sub` counts the gaps between
/// code points.
pub fn count<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 2, 4)?;
    let (fl, hay) = this(vm, args)?;
    let needle = arg_of(vm, fl, args[1])?;
    let ascii = ascii_of(vm, fl, args[0], &hay);
    let (start, end) = range(vm, fl, &hay, ascii, args, 2)?;
    let part = hay.get(start..end.max(start)).unwrap_or(&[]);
    if needle.is_empty() {
        return Ok(Value::small(unicode::char_count(part) as i32 + 1));
    }
    let mut n = 0;
    let mut i = 0;
    while i + needle.len() <= part.len() {
        if part[i..i + needle.len()] == needle[..] {
            n += 1;
            i += needle.len();
        } else if fl == Flavor::Str {
            i = unicode::next(part, i);
        } else {
            i += 1;
        }
    }
    Ok(Value::small(n))
}

/// `startswith`/`endswith` with a str/bytes or a tuple of them, within `start`/`end`.
fn affix<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value], start: bool) -> R<Value> {
    vm.check_args(args, kw, 2, 4)?;
    let (fl, s) = this(vm, args)?;
    let ascii = ascii_of(vm, fl, args[0], &s);
    let (a, b) = range(vm, fl, &s, ascii, args, 2)?;
    let part = s.get(a..b.max(a)).unwrap_or(&[]);
    let pats = match vm.kind(args[1]) {
        Some(Kind::TUPLE) => vm.seq_vec(args[1]).unwrap_or_default(),
        _ => alloc::vec![args[1]],
    };
    for p in pats {
        let p = str_or_bytes(vm, p)?;
        let hit = if start {
            part.starts_with(&p)
        } else {
            part.ends_with(&p)
        };
        if hit {
            return Ok(vm.bool_val(true));
        }
    }
    Ok(vm.bool_val(false))
}

/// `s.startswith(prefix[, start[, end]])`.
pub fn startswith<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    affix(vm, args, kw, true)
}

/// `s.endswith(suffix[, start[, end]])`.
pub fn endswith<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    affix(vm, args, kw, false)
}

// ------------------------------------------------------------------------- splitting and joining

/// `sep.join(iterable)`: every item of the self's kind (bytes and bytearray alike).
pub fn join<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 2, 2)?;
    let (fl, sep) = this(vm, args)?;
    let items = vm.iter_to_vec(args[1])?;
    let mut out = Vec::new();
    for (i, x) in items.iter().enumerate() {
        match flavor(vm, *x) {
            Some(f) if f.group() == fl.group() => {}
            _ => {
                return vm.raise_msg(
                    "TypeError",
                    "join expects a list of str/bytes objects consistent with self object",
                );
            }
        }
        if i > 0 {
            out.extend_from_slice(&sep);
        }
        out.extend_from_slice(&data(vm, *x).unwrap_or_default());
    }
    make(vm, fl, &out)
}

/// New objects of flavor `fl` from `parts`, as a list.
fn list_of<F: FlashImage>(vm: &mut Vm<F>, fl: Flavor, parts: &[&[u8]]) -> R<Value> {
    let mut vals = Vec::with_capacity(parts.len());
    for p in parts {
        vals.push(make(vm, fl, p)?);
    }
    vm.new_list(&vals)
}

/// The `maxsplit` argument at `args[2]` (-1: no limit).
fn max_splits<F: FlashImage>(vm: &mut Vm<F>, args: &[Value]) -> R<i64> {
    match args.get(2) {
        Some(&n) => vm.int_arg(n),
        None => Ok(-1),
    }
}

/// The separator at `args[1]`: `None` for whitespace; `ValueError: empty separator`.
fn separator<F: FlashImage>(vm: &mut Vm<F>, fl: Flavor, args: &[Value]) -> R<Option<Vec<u8>>> {
    match args.get(1) {
        Some(&s) if s.0 != vm.st.none => {
            arg_of(vm, fl, s)?;
            let sep = str_or_bytes(vm, s)?;
            if sep.is_empty() {
                return vm.raise_msg("ValueError", "empty separator");
            }
            Ok(Some(sep))
        }
        _ => Ok(None),
    }
}

/// `s.split([sep[, maxsplit]])` (MicroPython's `mp_obj_str_split`).
pub fn split<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 1, 3)?;
    let (fl, s) = this(vm, args)?;
    let mut splits = max_splits(vm, args)?;
    let sep = separator(vm, fl, args)?;
    let mut parts: Vec<&[u8]> = Vec::new();
    let top = s.len();
    let mut i = 0;
    match sep {
        None => {
            while i < top && unicode::is_space(s[i]) {
                i += 1;
            }
            while i < top && splits != 0 {
                let start = i;
                while i < top && !unicode::is_space(s[i]) {
                    i += 1;
                }
                parts.push(&s[start..i]);
                if i >= top {
                    break;
                }
                while i < top && unicode::is_space(s[i]) {
                    i += 1;
                }
                if splits > 0 {
                    splits -= 1;
                }
            }
            if i < top {
                parts.push(&s[i..]);
            }
        }
        Some(sep) => loop {
            let start = i;
            loop {
                if splits == 0 || i + sep.len() > top {
                    i = top;
                    break;
                }
                if s[i..i + sep.len()] == sep[..] {
                    break;
                }
                i += 1;
            }
            parts.push(&s[start..i]);
            if i >= top {
                break;
            }
            i += sep.len();
            if splits > 0 {
                splits -= 1;
            }
        },
    }
    list_of(vm, fl, &parts)
}

/// `s.rsplit([sep[, maxsplit]])`: from the right when limited (`NotImplementedError` for a
/// limited whitespace split, as in MicroPython), else as `split`.
pub fn rsplit<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 1, 3)?;
    if args.len() < 3 {
        return split(vm, args, kw);
    }
    let mut splits = vm.int_arg(args[2])?;
    if splits < 0 {
        return split(vm, args, kw);
    }
    let (fl, s) = this(vm, args)?;
    if args[1].0 == vm.st.none {
        return vm.raise_msg("NotImplementedError", "rsplit(None,n)");
    }
    let sep = str_or_bytes(vm, args[1])?;
    if sep.is_empty() {
        return vm.raise_msg("ValueError", "empty separator");
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut last = s.len();
    loop {
        let mut found = None;
        if splits > 0 {
            let mut i = last as i64 - sep.len() as i64;
            while i >= 0 {
                let u = i as usize;
                if s[u..u + sep.len()] == sep[..] {
                    found = Some(u);
                    break;
                }
                i -= 1;
            }
        }
        match found {
            Some(p) => {
                parts.push(&s[p + sep.len()..last]);
                last = p;
                splits -= 1;
            }
            None => {
                parts.push(&s[..last]);
                break;
            }
        }
    }
    parts.reverse();
    list_of(vm, fl, &parts)
}

/// `s.splitlines([keepends])`: lines end at `\n`, `\r` or `\r\n` only.
pub fn splitlines<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let mut keep = args.get(1).copied();
    for p in kw.chunks(2) {
        if vm.str_bytes(p[0]) == Some(b"keepends") && p.len() == 2 {
            keep = Some(p[1]);
        } else {
            let n = vm.str_string(p[0]);
            let msg = alloc::format!("unexpected keyword argument '{n}'");
            return vm.raise_msg("TypeError", &msg);
        }
    }
    if args.len() > 2 {
        return vm.raise_msg("TypeError", "extra positional arguments given");
    }
    let keep = match keep {
        Some(k) => vm.truthy(k)?,
        None => false,
    };
    let (fl, s) = this(vm, args)?;
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let start = i;
        let mut eol = 0;
        while i < s.len() {
            if s[i] == b'\n' {
                eol = 1;
                break;
            }
            if s[i] == b'\r' {
                eol = if s.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                break;
            }
            i += 1;
        }
        let end = if keep { i + eol } else { i };
        parts.push(&s[start..end]);
        i += eol;
    }
    list_of(vm, fl, &parts)
}

/// `partition`/`rpartition`: `(before, sep, after)`; not found: the self and two empties.
fn partitioner<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value], fwd: bool) -> R<Value> {
    vm.check_args(args, kw, 2, 2)?;
    let (fl, s) = this(vm, args)?;
    let sep = arg_of(vm, fl, args[1])?;
    if sep.is_empty() {
        return vm.raise_msg("ValueError", "empty separator");
    }
    let e = empty(vm, fl)?;
    let mut r = if fwd {
        [args[0], e, e]
    } else {
        [e, e, args[0]]
    };
    if let Some(p) = buffer::find(&s, &sep, fwd) {
        r[0] = make(vm, fl, &s[..p])?;
        r[1] = if flavor(vm, args[1]) == Some(fl) {
            args[1]
        } else {
            make(vm, fl, &sep)?
        };
        r[2] = make(vm, fl, &s[p + sep.len()..])?;
    }
    vm.new_tuple(&r)
}

/// `s.partition(sep)`.
pub fn partition<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    partitioner(vm, args, kw, true)
}

/// `s.rpartition(sep)`.
pub fn rpartition<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    partitioner(vm, args, kw, false)
}

// ------------------------------------------------------------------------- transforming

/// Which ends `strip` trims.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ends {
    Both,
    Right,
    Left,
}

/// `strip`/`lstrip`/`rstrip`: drops the bytes found in `chars` (ASCII whitespace when not
/// given) from the ends; the self itself when nothing goes.
fn trim<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value], ends: Ends) -> R<Value> {
    vm.check_args(args, kw, 1, 2)?;
    let (fl, s) = this(vm, args)?;
    let chars = match args.get(1) {
        Some(&c) => arg_of(vm, fl, c)?,
        None => b" \t\n\r\x0b\x0c".to_vec(),
    };
    let keep = |b: &u8| !chars.contains(b);
    let first = if ends == Ends::Right {
        Some(0)
    } else {
        s.iter().position(keep)
    };
    let Some(first) = first else {
        return empty(vm, fl);
    };
    let last = if ends == Ends::Left {
        Some(s.len())
    } else {
        s.iter().rposition(keep).map(|i| i + 1)
    };
    let Some(last) = last else {
        return empty(vm, fl);
    };
    if first == 0 && last == s.len() {
        return Ok(args[0]);
    }
    make(vm, fl, &s[first..last.max(first)])
}

/// `s.strip([chars])`.
pub fn strip<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    trim(vm, args, kw, Ends::Both)
}

/// `s.lstrip([chars])`.
pub fn lstrip<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    trim(vm, args, kw, Ends::Left)
}

/// `s.rstrip([chars])`.
pub fn rstrip<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    trim(vm, args, kw, Ends::Right)
}

/// `s.center(width)`: padded with spaces to `width` bytes, the extra one on the right.
pub fn center<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 2, 2)?;
    let (fl, s) = this(vm, args)?;
    let width = vm.int_arg(args[1])?;
    if width <= s.len() as i64 {
        return Ok(args[0]);
    }
    let width = width as usize;
    crate::types::tuple::check_repeat(vm, 1, width)?;
    let left = (width - s.len()) / 2;
    let mut out = alloc::vec![b' '; width];
    out[left..left + s.len()].copy_from_slice(&s);
    make(vm, fl, &out)
}

/// `s.replace(old, new[, count])`: left to right, at most `count` times (all when negative);
/// the self itself when nothing is replaced. An empty `old` goes before every code point and
/// at the end.
pub fn replace<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 3, 4)?;
    let (fl, s) = this(vm, args)?;
    let mut max = match args.get(3) {
        Some(&n) => vm.int_arg(n)?,
        None => -1,
    };
    if max == 0 {
        return Ok(args[0]);
    }
    if max < 0 {
        max = -1;
    }
    let old = arg_of(vm, fl, args[1])?;
    let new = arg_of(vm, fl, args[2])?;
    if old.len() > s.len() {
        return Ok(args[0]);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut done: i64 = 0;
    let mut i = 0;
    if old.is_empty() {
        out.extend_from_slice(&new);
        done += 1;
        while done != max && i < s.len() {
            let j = if fl == Flavor::Str {
                unicode::next(&s, i)
            } else {
                i + 1
            };
            out.extend_from_slice(&s[i..j]);
            out.extend_from_slice(&new);
            i = j;
            done += 1;
        }
    } else {
        while done != max {
            let Some(p) = buffer::find(&s[i..], &old, true) else {
                break;
            };
            out.extend_from_slice(&s[i..i + p]);
            out.extend_from_slice(&new);
            i += p + old.len();
            done += 1;
        }
        if done == 0 {
            return Ok(args[0]);
        }
    }
    out.extend_from_slice(&s[i..]);
    make(vm, fl, &out)
}

/// `lower`/`upper`: ASCII letters only.
fn case<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value], upper: bool) -> R<Value> {
    vm.check_args(args, kw, 1, 1)?;
    let (fl, mut s) = this(vm, args)?;
    if upper {
        s.make_ascii_uppercase();
    } else {
        s.make_ascii_lowercase();
    }
    make(vm, fl, &s)
}

/// `s.lower()`.
pub fn lower<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    case(vm, args, kw, false)
}

/// `s.upper()`.
pub fn upper<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    case(vm, args, kw, true)
}

/// The `is*` tests (MicroPython's `str_uni_istype`): false for an empty self; `isupper` and
/// `islower` look at the letters only and need one.
fn istype<F: FlashImage>(
    vm: &mut Vm<F>,
    args: &[Value],
    kw: &[Value],
    f: fn(u8) -> bool,
    cased: bool,
) -> R<Value> {
    vm.check_args(args, kw, 1, 1)?;
    let (_, s) = this(vm, args)?;
    let r = if s.is_empty() {
        false
    } else if cased {
        let letters: Vec<u8> = s
            .iter()
            .copied()
            .filter(|&c| unicode::is_alpha(c))
            .collect();
        !letters.is_empty() && letters.iter().all(|&c| f(c))
    } else {
        s.iter().all(|&c| f(c))
    };
    Ok(vm.bool_val(r))
}

/// `s.isspace()`.
pub fn isspace<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    istype(vm, args, kw, unicode::is_space, false)
}

/// `s.isalpha()`.
pub fn isalpha<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    istype(vm, args, kw, unicode::is_alpha, false)
}

/// `s.isdigit()`.
pub fn isdigit<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    istype(vm, args, kw, unicode::is_digit, false)
}

/// `s.isupper()`.
pub fn isupper<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    istype(vm, args, kw, unicode::is_upper, true)
}

/// `s.islower()`.
pub fn islower<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    istype(vm, args, kw, unicode::is_lower, true)
}

// ------------------------------------------------------------------------- bytes and bytearray

/// `b.decode([encoding[, errors]])`: the str of UTF-8 bytes (every encoding is UTF-8 and
/// errors always raise `UnicodeError`, as in MicroPython).
pub fn decode<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 1, 3)?;
    let b = buffer::bytes_arg(vm, args[0])?;
    new_text(vm, &b)
}

/// `b.hex([sep])` of anything with the buffer protocol: two lower-case digits a byte, the
/// first byte of `sep` between them. (An empty buffer gives `b''`, as in MicroPython.)
pub fn hex<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 1, 2)?;
    let b = buffer::bytes_arg(vm, args[0])?;
    if b.is_empty() {
        return bytes::new(vm, b"");
    }
    let sep = match args.get(1) {
        Some(&s) => str_or_bytes(vm, s)?.first().copied(),
        None => None,
    };
    let digits = b"0123456789abcdef";
    let mut out = Vec::with_capacity(b.len() * 3);
    for (i, &x) in b.iter().enumerate() {
        if i > 0
            && let Some(c) = sep
        {
            out.push(c);
        }
        out.push(digits[(x >> 4) as usize]);
        out.push(digits[(x & 15) as usize]);
    }
    new_text(vm, &out)
}

/// The bytes of hex digits `text` (whitespace allowed between pairs), or `ValueError:
/// non-hex digit`.
fn unhex<F: FlashImage>(vm: &mut Vm<F>, text: &[u8]) -> R<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        i += 1;
        if unicode::is_space(c) {
            continue;
        }
        match (digit(c), text.get(i).and_then(|&d| digit(d))) {
            (Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 1;
            }
            _ => return vm.raise_msg("ValueError", "non-hex digit"),
        }
    }
    Ok(out)
}

/// `bytes.fromhex(text)` / `bytearray.fromhex(text)` (also called on an instance).
fn fromhex<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value], fl: Flavor) -> R<Value> {
    vm.check_args(args, kw, 1, 2)?;
    let text = buffer::bytes_arg(vm, args[args.len() - 1])?;
    let b = unhex(vm, &text)?;
    make(vm, fl, &b)
}

/// `bytes.fromhex(text)`.
pub fn bytes_fromhex<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    fromhex(vm, args, kw, Flavor::Bytes)
}

/// `bytearray.fromhex(text)`.
pub fn bytearray_fromhex<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    fromhex(vm, args, kw, Flavor::ByteArray)
}
