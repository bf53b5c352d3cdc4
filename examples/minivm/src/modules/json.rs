//! `json` (also `ujson`), as MicroPython's `modjson.c`: `dumps(obj, separators=None)`,
//! `dump(obj, stream, separators=None)`, `loads(text)` and `load(stream)`.
//!
//! Writing is MicroPython's JSON print mode: `None`/`True`/`False` as `null`/`true`/`false`,
//! tuples as lists, str and bytes as JSON strings (`"` and `\` escaped, `\n \r \t`, other
//! control bytes as `\u00XX`, everything else, UTF-8 included, as is), a dict key that is not
//! a str or bytes printed in JSON and quoted (`{"1": 2}`), floats as their `repr` (`inf`,
//! `nan` too), and anything else as its `repr` (a set, a bytearray, an instance). No `indent`
//! or other keywords (`TypeError: extra keyword arguments given`). `separators` is an
//! `(item, key)` pair of strs; the default is `(", ", ": ")`.
//!
//! Reading is MicroPython's lenient stack parser: `,` and `:` are skipped wherever they stand
//! (`[1 2]` and `[1,]` are `[1, 2]` and `[1]`), a closing `]` or `}` closes whatever is open,
//! any value may be a dict key, a number is the run of `0-9 + - . e E` after its first
//! character (an int unless it has `.`, `e` or `E`; errors are `int()`'s and `float()`'s),
//! `\u` takes the next four characters, an unknown escape is the character itself, and what
//! follows the value may only be whitespace. Anything else: `ValueError: syntax error in
//! JSON`. `load` and `dump` take the VM's own streams (files, `StringIO`, `BytesIO`, the console),
//! as MicroPython takes only native ones: `OSError: stream operation not supported`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::formatfloat;
use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::types::{buffer, file, int, stringio};
use crate::vm::{R, Vm};

/// The `json` module.
pub struct Json;

impl<F: FlashImage> NativeModule<F> for Json {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["ujson"],
        extensible: true,
        functions: &[
            Native::new("dumps", dumps),
            Native::new("dump", dump),
            Native::args("loads", loads, 1, 1),
            Native::args("load", load, 1, 1),
        ],
        names: &["separators", "read", "write"],
        ..ModuleDef::new("json")
    };
}

// ------------------------------------------------------------------------------- writing

/// The separators between items and between a key and its value.
struct Seps {
    item: String,
    key: String,
}

/// The positional arguments (`n` of them) and `separators=`, checked as MicroPython's
/// `mp_arg_parse_all` checks them.
fn seps_arg<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value], n: usize) -> R<Seps> {
    if args.len() < n {
        let msg = alloc::format!(
            "function missing {} required positional arguments",
            n - args.len()
        );
        return vm.raise_msg("TypeError", &msg);
    }
    if args.len() > n {
        return vm.raise_msg("TypeError", "extra positional arguments given");
    }
    if kw.chunks(2).any(|p| !vm.is_name(p[0], "separators")) {
        return vm.raise_msg("TypeError", "extra keyword arguments given");
    }
    let mut seps = Seps {
        item: String::from(", "),
        key: String::from(": "),
    };
    if let Some(s) = vm.kwarg(kw, "separators").filter(|s| s.0 != vm.st.none) {
        let Some(pair) = vm
            .seq_vec(s)
            .filter(|_| matches!(vm.kind(s), Some(Kind::TUPLE | Kind::LIST)))
        else {
            let t = vm.class_name(vm.type_of(s));
            let msg = alloc::format!("object '{t}' isn't a tuple or list");
            return vm.raise_msg("TypeError", &msg);
        };
        if pair.len() != 2 {
            let msg = alloc::format!("requested length 2 but object has length {}", pair.len());
            return vm.raise_msg("ValueError", &msg);
        }
        seps.item = text_arg(vm, pair[0])?;
        seps.key = text_arg(vm, pair[1])?;
    }
    Ok(seps)
}

/// A str argument as text, with MicroPython's message for anything else.
fn text_arg<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<String> {
    match vm.str_bytes(v) {
        Some(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        None => {
            let t = vm.class_name(vm.type_of(v));
            let msg = alloc::format!("can't convert '{t}' object to str implicitly");
            vm.raise_msg("TypeError", &msg)
        }
    }
}

/// The text of a str or a bytes object, `None` for anything else.
fn text_of<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Vec<u8>> {
    match vm.kind(v) {
        Some(Kind::BYTES) => vm.str_obj_bytes(v).map(<[u8]>::to_vec),
        _ => vm.str_bytes(v).map(<[u8]>::to_vec),
    }
}

/// `s` as a JSON string, as MicroPython's `mp_str_print_json`, byte by byte.
fn quote(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', c]),
            32.. => out.push(c),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                let mut t = String::new();
                let _ = write!(t, "\\u{c:04x}");
                out.extend_from_slice(t.as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Appends `v` in JSON, `depth` containers deep (past 16 levels `...`, as `repr` does).
fn write_value<F: FlashImage>(
    vm: &mut Vm<F>,
    v: Value,
    seps: &Seps,
    out: &mut Vec<u8>,
    depth: u32,
) -> R<()> {
    if depth > 16 {
        out.extend_from_slice(b"...");
        return Ok(());
    }
    let st = &vm.st;
    if v.0 == st.none {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    if v.0 == st.true_ {
        out.extend_from_slice(b"true");
        return Ok(());
    }
    if v.0 == st.false_ {
        out.extend_from_slice(b"false");
        return Ok(());
    }
    if let Some(t) = text_of(vm, v) {
        quote(out, &t);
        return Ok(());
    }
    match vm.kind(v) {
        Some(Kind::LIST | Kind::TUPLE) => {
            let items = vm.seq_vec(v).unwrap_or_default();
            out.push(b'[');
            for (i, &x) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(seps.item.as_bytes());
                }
                write_value(vm, x, seps, out, depth + 1)?;
            }
            out.push(b']');
        }
        Some(Kind::DICT) => {
            out.push(b'{');
            for i in 0..vm.dict_len(v) {
                let (k, x) = vm.dict_entry(v, i);
                if i > 0 {
                    out.extend_from_slice(seps.item.as_bytes());
                }
                let plain = text_of(vm, k).is_some();
                if !plain {
                    out.push(b'"');
                }
                write_value(vm, k, seps, out, depth + 1)?;
                if !plain {
                    out.push(b'"');
                }
                out.extend_from_slice(seps.key.as_bytes());
                write_value(vm, x, seps, out, depth + 1)?;
            }
            out.push(b'}');
        }
        _ => {
            let r = vm.repr_of(v)?;
            out.extend_from_slice(r.as_bytes());
        }
    }
    Ok(())
}

/// `obj` as JSON text.
fn encode<F: FlashImage>(vm: &mut Vm<F>, obj: Value, seps: &Seps) -> R<Vec<u8>> {
    let mut out = Vec::new();
    write_value(vm, obj, seps, &mut out, 0)?;
    Ok(out)
}

/// `dumps(obj, separators=None)`.
fn dumps<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let seps = seps_arg(vm, args, kw, 1)?;
    let out = encode(vm, args[0], &seps)?;
    vm.new_str(&out)
}

/// Is `v` one of the VM's native streams (MicroPython's `mp_get_stream_raise`)?
fn native_stream<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<()> {
    if file::is_file(vm, v) || stringio::is_stream(vm, v) {
        return Ok(());
    }
    vm.raise_msg("OSError", "stream operation not supported")
}

/// Calls method `name` of `obj` with `args`.
fn call_method<F: FlashImage>(vm: &mut Vm<F>, obj: Value, name: &str, args: &[Value]) -> R<Value> {
    let q = vm.q(name);
    let (m, s) = vm.load_method(obj, q)?;
    let mut all = Vec::with_capacity(args.len() + 1);
    if !s.is_null() {
        all.push(s);
    }
    all.extend_from_slice(args);
    vm.call(m, &all, &[])
}

/// `dump(obj, stream, separators=None)`: writes the text with the stream's `write`.
fn dump<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let seps = seps_arg(vm, args, kw, 2)?;
    native_stream(vm, args[1])?;
    let out = encode(vm, args[0], &seps)?;
    if file::is_file(vm, args[1]) {
        file::stream_write(vm, args[1], &String::from_utf8_lossy(&out))?;
    } else {
        let kind = if vm.kind(args[1]) == Some(stringio::BYTES_IO) {
            Kind::BYTES
        } else {
            Kind::STR
        };
        let t = vm.new_str_obj(kind, &out)?;
        call_method(vm, args[1], "write", &[t])?;
    }
    Ok(Value(vm.st.none))
}

// ------------------------------------------------------------------------------- reading

/// The bytes being parsed and the position in them; past the end reads as 0.
struct Src<'a> {
    b: &'a [u8],
    i: usize,
}

impl Src<'_> {
    fn end(&self) -> bool {
        self.i >= self.b.len()
    }
    fn cur(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }
    /// Moves on one byte and returns the byte now current.
    fn next(&mut self) -> u8 {
        if !self.end() {
            self.i += 1;
        }
        self.cur()
    }
}

fn syntax<F: FlashImage, T>(vm: &mut Vm<F>) -> R<T> {
    vm.raise_msg("ValueError", "syntax error in JSON")
}

/// Is `c` whitespace as MicroPython's `unichar_isspace` says (space, `\t \n \v \f \r`)?
fn is_space(c: u8) -> bool {
    c == b' ' || (9..=13).contains(&c)
}

/// Appends code point `c` as UTF-8, surrogates included (MicroPython's `vstr_add_char`).
fn push_char(out: &mut Vec<u8>, c: u32) {
    if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.extend_from_slice(&[0xc0 | (c >> 6) as u8, 0x80 | (c & 0x3f) as u8]);
    } else {
        out.extend_from_slice(&[
            0xe0 | (c >> 12 & 0x0f) as u8,
            0x80 | (c >> 6 & 0x3f) as u8,
            0x80 | (c & 0x3f) as u8,
        ]);
    }
}

/// The rest of a string literal (its opening `"` read).
fn parse_str<F: FlashImage>(vm: &mut Vm<F>, s: &mut Src) -> R<Value> {
    let mut out = Vec::new();
    while !s.end() && s.cur() != b'"' {
        let mut c = s.cur();
        if c == b'\\' {
            c = s.next();
            match c {
                b'b' => c = 0x08,
                b'f' => c = 0x0c,
                b'n' => c = b'\n',
                b'r' => c = b'\r',
                b't' => c = b'\t',
                b'u' => {
                    // Four characters, not checked to be hex digits (MicroPython's arithmetic).
                    let mut num = 0u32;
                    for _ in 0..4 {
                        let mut d = (s.next() | 0x20).wrapping_sub(b'0');
                        if d > 9 {
                            d = d.wrapping_sub(b'a' - (b'9' + 1));
                        }
                        num = (num << 4) | d as u32;
                    }
                    push_char(&mut out, num & 0xffff);
                    s.next();
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
        s.next();
    }
    if s.end() {
        return syntax(vm);
    }
    s.next();
    vm.new_str(&out)
}

/// A number whose first character `first` was read.
fn parse_number<F: FlashImage>(vm: &mut Vm<F>, s: &mut Src, first: u8) -> R<Value> {
    let mut text = alloc::vec![first];
    let mut float = false;
    loop {
        let c = s.cur();
        if matches!(c, b'.' | b'e' | b'E') {
            float = true;
        } else if !(c == b'+' || c == b'-' || c.is_ascii_digit()) {
            break;
        }
        text.push(c);
        s.next();
    }
    if float {
        match formatfloat::parse_float(&text) {
            Some(f) => vm.new_float(f),
            None => vm.raise_msg("ValueError", "invalid syntax for number"),
        }
    } else {
        int::parse_int(vm, &text, 10)
    }
}

/// A literal (`null`, `true`, `false`) whose first character was read.
fn parse_word<F: FlashImage>(vm: &mut Vm<F>, s: &mut Src, rest: &[u8], v: u32) -> R<Value> {
    for (i, &c) in rest.iter().enumerate() {
        let got = if i == 0 { s.cur() } else { s.next() };
        if got != c {
            return syntax(vm);
        }
    }
    s.next();
    Ok(Value(v))
}

/// Parses a whole JSON text.
fn parse<F: FlashImage>(vm: &mut Vm<F>, text: &[u8]) -> R<Value> {
    let mut s = Src { b: text, i: 0 };
    // The open containers below the innermost one, and the key waiting for its value.
    let mut stack: Vec<Value> = Vec::new();
    let mut top: Option<Value> = None;
    let mut key: Option<Value> = None;
    let result = 'parse: loop {
        if s.end() {
            break 'parse None;
        }
        let cur = s.cur();
        s.next();
        let (next, enter) = match cur {
            b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => continue,
            b'n' => (parse_word(vm, &mut s, b"ull", vm.st.none)?, false),
            b't' => (parse_word(vm, &mut s, b"rue", vm.st.true_)?, false),
            b'f' => (parse_word(vm, &mut s, b"alse", vm.st.false_)?, false),
            b'"' => (parse_str(vm, &mut s)?, false),
            b'-' | b'0'..=b'9' => (parse_number(vm, &mut s, cur)?, false),
            b'[' => (vm.new_list(&[])?, true),
            b'{' => (vm.new_dict(0)?, true),
            b']' | b'}' => {
                if top.is_none() {
                    return syntax(vm);
                }
                match stack.pop() {
                    Some(t) => {
                        top = Some(t);
                        continue;
                    }
                    None => break 'parse top,
                }
            }
            _ => return syntax(vm),
        };
        // Keep the new value reachable while the containers are in Rust locals.
        vm.extra_roots.push(next.0);
        match top {
            None => {
                top = Some(next);
                if !enter {
                    break 'parse top;
                }
            }
            Some(t) => {
                if vm.kind(t) == Some(Kind::LIST) {
                    vm.list_append(t, next)?;
                } else if let Some(k) = key.take() {
                    vm.dict_store(t, k, next)?;
                } else {
                    if enter {
                        return syntax(vm);
                    }
                    key = Some(next);
                }
                if enter {
                    stack.push(t);
                    top = Some(next);
                }
            }
        }
    };
    while is_space(s.cur()) && !s.end() {
        s.next();
    }
    match result {
        Some(v) if s.end() && stack.is_empty() => Ok(v),
        _ => syntax(vm),
    }
}

/// The bytes a `loads` argument lends (a str, bytes, any buffer).
fn text_arg_bytes<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Vec<u8>> {
    buffer::bytes_arg(vm, v)
}

/// Runs `parse` with the roots it pushes popped afterwards, whatever the outcome.
fn parse_rooted<F: FlashImage>(vm: &mut Vm<F>, text: &[u8]) -> R<Value> {
    let mark = vm.extra_roots.len();
    let r = parse(vm, text);
    vm.extra_roots.truncate(mark);
    r
}

/// `loads(text)`.
fn loads<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let text = text_arg_bytes(vm, args[0])?;
    parse_rooted(vm, &text)
}

/// `load(stream)`: the stream read to its end, then parsed.
fn load<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    native_stream(vm, args[0])?;
    let data = call_method(vm, args[0], "read", &[])?;
    let text = text_arg_bytes(vm, data)?;
    parse_rooted(vm, &text)
}
