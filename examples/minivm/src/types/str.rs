//! `str`: immutable text, UTF-8 bytes. Short strs are qstr immediates, the rest `STR` objects
//! `[hdr len|STR][hash][bytes…]`; both are `str` to Python and to the slots below.
//!
//! Frozen compact (also `bytes`), `[hdr len|STR+COMPACT][bytes…]`: no hash word, recomputed
//! when needed (readers find the payload with `obj::payload_offset`).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::freeze::write_words;
use crate::mem::FlashImage;
use crate::mpprint::{Count, FormatSpec, PercentSpec, print_strn};
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{
    Buffer, Frozen, Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop,
};
use crate::types::{iter, slice, tuple};
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
        methods: &[
            Native::new("join", join),
            Native::new("split", split),
            Native::new("startswith", startswith),
            Native::new("endswith", endswith),
            Native::new("strip", strip),
            Native::new("rstrip", rstrip),
            Native::new("lstrip", lstrip),
            Native::new("upper", upper),
            Native::new("lower", lower),
            Native::new("replace", replace),
            Native::new("find", find),
            Native::new("format", format),
            Native::new("isdigit", isdigit),
            Native::new("isalpha", isalpha),
            Native::new("encode", encode),
            Native::new("count", count),
            Native::new("index", index),
            Native::new("rfind", rfind),
            Native::new("rindex", rindex),
            Native::new("isspace", isspace),
            Native::new("islower", islower),
            Native::new("isupper", isupper),
            Native::new("partition", partition),
            Native::new("rpartition", rpartition),
            Native::new("rsplit", rsplit),
        ],
        ..TypeSlots::new(Kind::STR, "str")
    };
}

/// `str()`, `str(x)`, `str(b, encoding)`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    let a0 = arg(args, 0);
    if args.is_empty() {
        return Ok(Value::qstr(1));
    }
    if vm.kind(a0) == Some(Kind::BYTES) && args.len() > 1 {
        let b = vm.str_obj_bytes(a0).unwrap_or(b"").to_vec();
        return vm.new_str(&b);
    }
    let s = vm.str_of(a0)?;
    vm.new_str(s.as_bytes())
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, k: PrintKind) -> R<()> {
    let b = vm.str_bytes(v).unwrap_or(b"");
    match k {
        PrintKind::Str => s.push_str(&String::from_utf8_lossy(b)),
        PrintKind::Repr => {
            let b = b.to_vec();
            repr_str(s, &b);
        }
    }
    Ok(())
}

/// Python-style repr of str contents (bytes: `types::bytes::repr_bytes`).
pub fn repr_str(s: &mut String, b: &[u8]) {
    let text = String::from_utf8_lossy(b);
    let q = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    s.push(q);
    for ch in text.chars() {
        match ch {
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\\' => s.push_str("\\\\"),
            c if c == q => {
                s.push('\\');
                s.push(c);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\x{:02x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push(q);
}

fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let b = vm.str_bytes(v).unwrap_or(b"");
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(!b.is_empty())),
        unop::LEN => Some(Value::small(b.len() as i32)),
        unop::HASH => Some(Value::small((crate::qstr::hash(b) >> 2) as i32)),
        _ => None,
    })
}

fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    match op {
        binop::CONTAINS => {
            let hay = vm.str_bytes(a).unwrap_or(b"").to_vec();
            let Some(needle) = vm.str_bytes(b) else {
                return vm.raise_msg("TypeError", "'in <string>' requires string as left operand");
            };
            let r = needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle);
            Ok(Some(vm.bool_val(r)))
        }
        binop::EQUAL => {
            let r = vm.str_bytes(b).map(|y| vm.str_bytes(a) == Some(y));
            Ok(r.map(|r| vm.bool_val(r)))
        }
        binop::ADD => {
            let (Some(x), Some(y)) = (vm.str_bytes(a), vm.str_bytes(b)) else {
                return Ok(None);
            };
            let mut s = x.to_vec();
            s.extend_from_slice(y);
            vm.new_str(&s).map(Some)
        }
        binop::MULTIPLY if b.is_int() => {
            let n = b.as_int().max(0) as usize;
            let unit = vm.str_bytes(a).map_or(0, |x| x.len());
            tuple::check_repeat(vm, unit, n)?;
            let s = vm.str_bytes(a).unwrap_or(b"").repeat(n);
            vm.new_str(&s).map(Some)
        }
        binop::MODULO => {
            let args = match vm.kind(b) {
                Some(Kind::TUPLE) => vm.seq_vec(b).unwrap_or_default(),
                _ => vec![b],
            };
            percent_format(vm, a, &args).map(Some)
        }
        _ => {
            let ord = match (vm.str_bytes(a), vm.str_bytes(b)) {
                (Some(x), Some(y)) => x.cmp(y),
                _ => return Ok(None),
            };
            Ok(binop::compare(op, ord).map(|r| vm.bool_val(r)))
        }
    }
}

/// `fmt % args`: `%s`, `%r`, `%d`, `%x`, `%%`, with a width and `-` (left-justify).
fn percent_format<F: FlashImage>(vm: &mut Vm<F>, fmt: Value, args: &[Value]) -> R<Value> {
    let f = vm.str_bytes(fmt).unwrap_or(b"").to_vec();
    let mut out = String::new();
    let mut ai = 0;
    let mut i = 0;
    while i < f.len() {
        if f[i] == b'%' && i + 1 < f.len() {
            let (mut spec, counts, j) = PercentSpec::parse(&f, i + 1);
            for (k, count) in counts.iter().enumerate() {
                if let Some(Count::Star) = count {
                    let a = args.get(ai).copied().unwrap_or(Value::NULL);
                    ai += 1;
                    let n = vm.int_arg(a)? as i32;
                    if k == 0 {
                        spec.width = n;
                    } else {
                        spec.prec = n;
                    }
                }
            }
            let c = f.get(j).copied().unwrap_or(b's');
            if c == b'%' {
                out.push('%');
            } else {
                let a = args.get(ai).copied().unwrap_or(Value::NULL);
                ai += 1;
                let mut num = Vec::new();
                if vm.percent_number(&mut num, c, a, &spec)? {
                    out.push_str(&String::from_utf8_lossy(&num));
                } else {
                    let t = match c {
                        b'r' => vm.repr_of(a)?,
                        _ => vm.str_of(a)?,
                    };
                    print_strn(&mut num, t.as_bytes(), spec.flags, b' ', spec.width);
                    out.push_str(&String::from_utf8_lossy(&num));
                }
            }
            i = j + 1;
        } else {
            let start = i;
            while i < f.len() && f[i] != b'%' {
                i += 1;
            }
            out.push_str(&String::from_utf8_lossy(&f[start..i]));
            if i < f.len() && i + 1 >= f.len() {
                out.push('%');
                i += 1;
            }
        }
    }
    vm.new_str(out.as_bytes())
}

/// The bytes of a str object (a qstr's text is in the firmware or a pool, not in one object).
fn buffer<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Buffer> {
    if vm.kind(v) != Some(Kind::STR) {
        return None;
    }
    let len = vm.aux(v);
    Some(Buffer {
        addr: vm.payload_addr(v),
        len,
        writable: false,
    })
}

/// `s[i]` (a one-byte str) and `s[a:b:c]`.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, v: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    if op != SubscrOp::Load {
        return Ok(None);
    }
    let b = vm.str_bytes(v).unwrap_or(b"").to_vec();
    if slice::is_slice(vm, index) {
        let idx = slice::indices(vm, index, b.len() as u32);
        let out: Vec<u8> = idx.iter().map(|&i| b[i as usize]).collect();
        return vm.new_str(&out).map(Some);
    }
    let i = slice::norm_index(vm, v, index, b.len() as u32)? as usize;
    vm.new_str(&b[i..i + 1]).map(Some)
}

/// A str argument as text (lossy).
fn text<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<String> {
    Ok(String::from_utf8_lossy(&vm.str_arg(v)?).into_owned())
}

/// A list of new strs.
fn str_list<F: FlashImage>(vm: &mut Vm<F>, parts: Vec<String>) -> R<Value> {
    let mut vals = Vec::new();
    for p in parts {
        let v = vm.new_str(p.as_bytes())?;
        vals.push(v);
    }
    vm.new_list(&vals)
}

fn join<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let sep = vm.str_arg(arg(args, 0))?;
    let mut out = Vec::new();
    for (i, x) in vm.iter_to_vec(arg(args, 1))?.into_iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&sep);
        }
        let b = vm.str_arg(x)?;
        out.extend_from_slice(&b);
    }
    vm.new_str(&out)
}

/// The separator argument `args[1]`, if given and not None.
fn sep_arg<F: FlashImage>(vm: &mut Vm<F>, args: &[Value]) -> R<Option<String>> {
    if args.len() > 1 && args[1].0 != vm.st.none {
        let sep = text(vm, args[1])?;
        if sep.is_empty() {
            return vm.raise_msg("ValueError", "empty separator");
        }
        return Ok(Some(sep));
    }
    Ok(None)
}

fn split<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = text(vm, arg(args, 0))?;
    let parts: Vec<String> = match sep_arg(vm, args)? {
        Some(sep) => s.split(sep.as_str()).map(String::from).collect(),
        None => s.split_whitespace().map(String::from).collect(),
    };
    str_list(vm, parts)
}

fn rsplit<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = text(vm, arg(args, 0))?;
    let max = if args.len() > 2 {
        vm.int_arg(args[2])?
    } else {
        -1
    };
    let parts: Vec<String> = match sep_arg(vm, args)? {
        Some(sep) => {
            let mut v: Vec<String> = if max < 0 {
                s.split(sep.as_str()).map(String::from).collect()
            } else {
                s.rsplitn(max as usize + 1, sep.as_str())
                    .map(String::from)
                    .collect()
            };
            if max >= 0 {
                v.reverse();
            }
            v
        }
        None => s.split_whitespace().map(String::from).collect(),
    };
    str_list(vm, parts)
}

/// `startswith`/`endswith` with a str or a tuple of strs.
fn affix<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], start: bool) -> R<Value> {
    let s = vm.str_arg(arg(args, 0))?;
    let a1 = arg(args, 1);
    let pats = match vm.seq_vec(a1) {
        Some(items) if vm.kind(a1) == Some(Kind::TUPLE) => items,
        _ => vec![a1],
    };
    let mut r = false;
    for p in pats {
        let p = vm.str_arg(p)?;
        r |= if start {
            s.starts_with(&p)
        } else {
            s.ends_with(&p)
        };
    }
    Ok(vm.bool_val(r))
}

fn startswith<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    affix(vm, args, true)
}

fn endswith<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    affix(vm, args, false)
}

/// Which ends `strip` trims.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ends {
    Both,
    Right,
    Left,
}

fn trim<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], ends: Ends) -> R<Value> {
    let s = text(vm, arg(args, 0))?;
    let chars: Option<Vec<char>> = if args.len() > 1 && args[1].0 != vm.st.none {
        Some(text(vm, args[1])?.chars().collect())
    } else {
        None
    };
    let pred = |c: char| match &chars {
        Some(cs) => cs.contains(&c),
        None => c.is_whitespace(),
    };
    let r = match ends {
        Ends::Both => s.trim_matches(pred),
        Ends::Right => s.trim_end_matches(pred),
        Ends::Left => s.trim_start_matches(pred),
    };
    let r = String::from(r);
    vm.new_str(r.as_bytes())
}

fn strip<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    trim(vm, args, Ends::Both)
}

fn rstrip<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    trim(vm, args, Ends::Right)
}

fn lstrip<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    trim(vm, args, Ends::Left)
}

fn upper<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let r = text(vm, arg(args, 0))?.to_uppercase();
    vm.new_str(r.as_bytes())
}

fn lower<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let r = text(vm, arg(args, 0))?.to_lowercase();
    vm.new_str(r.as_bytes())
}

fn replace<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = text(vm, arg(args, 0))?;
    let a = text(vm, arg(args, 1))?;
    let b = text(vm, arg(args, 2))?;
    let r = s.replace(a.as_str(), &b);
    vm.new_str(r.as_bytes())
}

/// `find`/`rfind` (-1 when absent) and `index`/`rindex` (`ValueError`).
fn search<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], fwd: bool, raise: bool) -> R<Value> {
    let s = vm.str_arg(arg(args, 0))?;
    let p = vm.str_arg(arg(args, 1))?;
    let r = if p.is_empty() {
        Some(if fwd { 0 } else { s.len() })
    } else if fwd {
        s.windows(p.len()).position(|w| w == p.as_slice())
    } else {
        s.windows(p.len()).rposition(|w| w == p.as_slice())
    };
    match r {
        Some(x) => Ok(Value::small(x as i32)),
        None if !raise => Ok(Value::small(-1)),
        None => vm.raise_msg("ValueError", "substring not found"),
    }
}

fn find<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    search(vm, args, true, false)
}

fn index<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    search(vm, args, true, true)
}

fn rfind<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    search(vm, args, false, false)
}

fn rindex<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    search(vm, args, false, true)
}

fn split3<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], fwd: bool) -> R<Value> {
    let s = vm.str_arg(arg(args, 0))?;
    let p = vm.str_arg(arg(args, 1))?;
    if p.is_empty() {
        return vm.raise_msg("ValueError", "empty separator");
    }
    let pos = if fwd {
        s.windows(p.len()).position(|w| w == p.as_slice())
    } else {
        s.windows(p.len()).rposition(|w| w == p.as_slice())
    };
    let (a, m, b) = match pos {
        Some(i) => (s[..i].to_vec(), p.clone(), s[i + p.len()..].to_vec()),
        None if fwd => (s.clone(), Vec::new(), Vec::new()),
        None => (Vec::new(), Vec::new(), s.clone()),
    };
    let (a, m, b) = (vm.new_str(&a)?, vm.new_str(&m)?, vm.new_str(&b)?);
    vm.new_tuple(&[a, m, b])
}

fn partition<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    split3(vm, args, true)
}

fn rpartition<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    split3(vm, args, false)
}

/// A predicate over a non-empty str's bytes.
fn test<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], pred: fn(&[u8]) -> bool) -> R<Value> {
    let s = vm.str_arg(arg(args, 0))?;
    let r = !s.is_empty() && pred(&s);
    Ok(vm.bool_val(r))
}

fn isspace<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    test(vm, args, |s| s.iter().all(|c| c.is_ascii_whitespace()))
}

fn islower<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    test(vm, args, |s| {
        s.iter().any(|c| c.is_ascii_lowercase()) && !s.iter().any(|c| c.is_ascii_uppercase())
    })
}

fn isupper<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    test(vm, args, |s| {
        s.iter().any(|c| c.is_ascii_uppercase()) && !s.iter().any(|c| c.is_ascii_lowercase())
    })
}

fn isdigit<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    test(vm, args, |s| s.iter().all(|c| c.is_ascii_digit()))
}

fn isalpha<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    test(vm, args, |s| s.iter().all(|c| c.is_ascii_alphabetic()))
}

fn count<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = vm.str_arg(arg(args, 0))?;
    let p = vm.str_arg(arg(args, 1))?;
    let c = if p.is_empty() {
        s.len() + 1
    } else {
        s.windows(p.len()).filter(|w| *w == p.as_slice()).count()
    };
    Ok(Value::small(c as i32))
}

fn encode<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = vm.str_arg(arg(args, 0))?;
    vm.new_str_obj(Kind::BYTES, &s)
}

/// `fmt.format(*args, **kw)`: `{}`, `{0}`, `{name}`, `!r`-less conversions, and `<`, `>`, `0`
/// alignment with a width.
fn format<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let f = text(vm, arg(args, 0))?;
    let mut out = String::new();
    let mut auto = 1;
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '{' {
            if chars.peek() == Some(&'{') {
                chars.next();
                out.push('{');
                continue;
            }
            let mut field = String::new();
            for d in chars.by_ref() {
                if d == '}' {
                    break;
                }
                field.push(d);
            }
            let (name, spec) = match field.split_once(':') {
                Some((a, b)) => (String::from(a), String::from(b)),
                None => (field.clone(), String::new()),
            };
            let converted = name.contains('!');
            let name = name.split('!').next().unwrap_or("").trim();
            let v = if name.is_empty() {
                let v = args.get(auto).copied();
                auto += 1;
                v
            } else if let Ok(i) = name.parse::<usize>() {
                args.get(i + 1).copied()
            } else {
                vm.kwarg(kw, name)
            };
            let Some(v) = v else {
                return vm.raise_msg("IndexError", "format field not found");
            };
            if !spec.is_empty() && !converted {
                let fs = match FormatSpec::parse(&spec) {
                    Ok(fs) => fs,
                    Err(m) => return vm.raise_msg("ValueError", m),
                };
                let mut num = Vec::new();
                if vm.format_number(&mut num, v, &fs)? {
                    out.push_str(&String::from_utf8_lossy(&num));
                    continue;
                }
            }
            let s = vm.str_of(v)?;
            let width: usize = spec
                .trim_start_matches(['<', '>', '0'])
                .parse()
                .unwrap_or(0);
            if spec.starts_with('<') || (!spec.starts_with('>') && !v.is_int()) {
                let _ = write!(out, "{s:<width$}");
            } else if spec.starts_with('0') {
                let _ = write!(out, "{s:0>width$}");
            } else {
                let _ = write!(out, "{s:>width$}");
            }
        } else if c == '}' {
            if chars.peek() == Some(&'}') {
                chars.next();
            }
            out.push('}');
        } else {
            out.push(c);
        }
    }
    vm.new_str(out.as_bytes())
}

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::STR, v)
}

/// The compact frozen layout of a `str` or a `bytes`: the header with the COMPACT bit, then
/// the payload.
pub fn frozen_size<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    4 + vm.aux(v)
}

/// Writes the compact copy of a heap `str` or `bytes`.
pub fn write_frozen<F: FlashImage>(vm: &Vm<F>, v: Value, out: &mut [u8]) {
    let hdr = vm.w(v, 0);
    let n = hdr >> 8;
    let Some(b) = vm.mem.bytes(v.0 + 8, n) else {
        return;
    };
    write_words(out, &[hdr | COMPACT as u32]);
    if let Some(dst) = out.get_mut(4..4 + n as usize) {
        dst.copy_from_slice(b);
    }
}
