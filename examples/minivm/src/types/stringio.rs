//! `io.StringIO` and `io.BytesIO`: in-memory streams, as MicroPython's `objstringio.c`.
//!
//! ```text
//! [hdr|STRING_IO or BYTES_IO] [bytearray: the contents] [small: position in bytes, -1 closed]
//! ```
//!
//! The contents are a bytearray (`types/bytearray.rs`), so a stream in a frozen module's
//! globals goes to the RAM section with its bytearray and store, and stays writable there.
//! As in MicroPython: positions (`tell`, `seek`) and `write`'s answer count bytes, a
//! `StringIO`'s `read(n)` and `readline(n)` count characters; `write` takes anything with
//! the buffer protocol (a `StringIO` takes bytes, a `BytesIO` takes str); seeking past the
//! end and writing there fills the gap with zero bytes; `seek` with a negative offset from
//! the start is `OSError(EINVAL)` and below the start from elsewhere stops at 0; every
//! operation on a closed stream but `close` is `ValueError: I/O operation on closed file`;
//! there is no `len` and no `readlines`. Iteration gives lines.

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{Freeze, Layout, Native, NativeType, PrintKind, TypeSlots};
use crate::types::{buffer, bytearray, str as str_type, unicode};
use crate::vm::{R, Vm};

/// The kind of a `StringIO`.
pub const STRING_IO: Kind = Kind::new(37);
/// The kind of a `BytesIO`.
pub const BYTES_IO: Kind = Kind::new(38);

/// The position word of a closed stream.
const CLOSED: i32 = -1;

/// The methods both stream types have.
macro_rules! stream_methods {
    () => {
        &[
            Native::args("read", read, 1, 2),
            Native::args("readinto", readinto, 2, 3),
            Native::args("readline", readline, 1, 2),
            Native::args("write", write, 2, 2),
            Native::args("seek", seek, 2, 3),
            Native::args("tell", tell, 1, 1),
            Native::args("getvalue", getvalue, 1, 1),
            Native::args("flush", flush, 1, 1),
            Native::args("close", close, 1, 1),
            Native::args("__enter__", enter, 1, 1),
            Native::args("__exit__", exit, 1, 4),
        ]
    };
}

/// The `StringIO` type.
pub struct StringIo;

impl<F: FlashImage> NativeType<F> for StringIo {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(2),
        freeze: Freeze::Ram,
        make_new: Some(make_new),
        print: Some(print),
        getiter: Some(getiter),
        iternext: Some(iternext),
        builtin: false,
        methods: stream_methods!(),
        ..TypeSlots::new(STRING_IO, "StringIO")
    };
}

/// The `BytesIO` type.
pub struct BytesIo;

impl<F: FlashImage> NativeType<F> for BytesIo {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(2),
        freeze: Freeze::Ram,
        make_new: Some(make_new),
        print: Some(print),
        getiter: Some(getiter),
        iternext: Some(iternext),
        builtin: false,
        methods: stream_methods!(),
        ..TypeSlots::new(BYTES_IO, "BytesIO")
    };
}

/// Is `v` a `StringIO` or a `BytesIO`?
pub fn is_stream<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    matches!(vm.kind(v), Some(k) if k == STRING_IO || k == BYTES_IO)
}

/// `StringIO()`, `StringIO(initial)` (a str or bytes; the position stays at 0),
/// `StringIO(n)` (room for `n` bytes, empty); `BytesIO` the same. Keywords are ignored, as
/// MicroPython ignores them.
fn make_new<F: FlashImage>(
    vm: &mut Vm<F>,
    class: Value,
    args: &[Value],
    _kw: &[Value],
) -> R<Value> {
    if args.len() > 1 {
        let msg = alloc::format!("function expected at most 1 arguments, got {}", args.len());
        return vm.raise_msg("TypeError", &msg);
    }
    // The native type called, or the native base of a subclass (its aux holds the kind).
    let native = crate::types::class::native_base(vm, class).unwrap_or(class);
    let kind = if (vm.aux(native) >> 8) as u8 == BYTES_IO.id() {
        BYTES_IO
    } else {
        STRING_IO
    };
    let initial = match args.first() {
        Some(&a) if a.is_int() => alloc::vec::Vec::new(),
        Some(&a) => buffer::bytes_arg(vm, a)?,
        None => alloc::vec::Vec::new(),
    };
    let ba = buffer::new_from(vm, bytearray::KIND, b'B', &initial)?;
    vm.alloc_obj(kind, 0, &[ba, Value::small(0)])
}

/// The stream a method is called on, open: (its bytearray, its position).
fn open_arg<F: FlashImage>(vm: &mut Vm<F>, s: Value) -> R<(Value, u32)> {
    if !is_stream(vm, s) {
        return vm.raise_msg("TypeError", "expected a StringIO or BytesIO");
    }
    let pos = vm.wv(s, 2).as_int();
    if pos == CLOSED {
        return vm.raise_msg("ValueError", "I/O operation on closed file");
    }
    Ok((vm.wv(s, 1), pos.max(0) as u32))
}

fn set_pos<F: FlashImage>(vm: &mut Vm<F>, s: Value, pos: u32) -> R<()> {
    vm.set_w(s, 2, Value::small(pos.min(SMALL_MAX as u32) as i32).0)
}

/// The contents as a str (a `StringIO`: `UnicodeError` if they are no UTF-8) or bytes.
fn value_of<F: FlashImage>(vm: &mut Vm<F>, s: Value, b: &[u8]) -> R<Value> {
    if vm.kind(s) == Some(STRING_IO) {
        str_type::new_text(vm, b)
    } else {
        vm.new_str_obj(Kind::BYTES, b)
    }
}

/// The end of `n` items from byte `pos` of `data`: characters of a `StringIO`, bytes of a
/// `BytesIO`; all of the rest for a negative `n`.
fn span_end<F: FlashImage>(vm: &Vm<F>, s: Value, data: &[u8], pos: usize, n: i64) -> usize {
    let pos = pos.min(data.len());
    if n < 0 {
        return data.len();
    }
    if vm.kind(s) != Some(STRING_IO) {
        return pos.saturating_add(n as usize).min(data.len());
    }
    let mut end = pos;
    for _ in 0..n {
        if end >= data.len() {
            break;
        }
        end = unicode::next(data, end);
    }
    end
}

/// A size argument: absent is -1 (all), else an int (`TypeError` for `None`, as
/// MicroPython's `mp_obj_get_int`).
fn size_arg<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<i64> {
    if v.is_null() {
        return Ok(-1);
    }
    vm.int_arg(v)
}

/// `s.read([n])`.
fn read<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = args[0];
    let (ba, pos) = open_arg(vm, s)?;
    let n = size_arg(vm, arg(args, 1))?;
    let data = buffer::data(vm, ba).to_vec();
    let start = (pos as usize).min(data.len());
    let end = span_end(vm, s, &data, start, n);
    set_pos(vm, s, pos.max(end as u32))?;
    value_of(vm, s, &data[start..end])
}

/// `s.readline([n])`: up to and including the next `\n` (at most `n` items).
fn readline<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = args[0];
    let (ba, pos) = open_arg(vm, s)?;
    let n = size_arg(vm, arg(args, 1))?;
    let data = buffer::data(vm, ba).to_vec();
    let start = (pos as usize).min(data.len());
    let limit = span_end(vm, s, &data, start, n);
    let end = data[start..limit]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(limit, |i| start + i + 1);
    set_pos(vm, s, pos.max(end as u32))?;
    value_of(vm, s, &data[start..end])
}

/// `s.readinto(buf[, n])`: bytes into a writable buffer; how many.
fn readinto<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = args[0];
    let (ba, pos) = open_arg(vm, s)?;
    let Some(b) = vm.buffer(args[1]).filter(|b| b.writable) else {
        return vm.raise_msg("TypeError", "object with buffer protocol required");
    };
    let mut room = b.len as usize;
    if let Some(&n) = args.get(2) {
        room = room.min(vm.int_arg(n)?.max(0) as usize);
    }
    let data = buffer::data(vm, ba);
    let start = (pos as usize).min(data.len());
    let chunk = data[start..(start + room).min(data.len())].to_vec();
    vm.mem
        .write_bytes(b.addr, &chunk)
        .or_else(|e| vm.raise_mem(e))?;
    set_pos(vm, s, pos + chunk.len() as u32)?;
    Ok(Value::small(chunk.len() as i32))
}

/// `s.write(data)`: anything with the buffer protocol, at the position; bytes written.
fn write<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = args[0];
    let (ba, pos) = open_arg(vm, s)?;
    let bytes = buffer::bytes_arg(vm, args[1])?;
    buffer::write_at(vm, ba, pos, &bytes)?;
    set_pos(vm, s, pos + bytes.len() as u32)?;
    Ok(Value::small(bytes.len() as i32))
}

/// `s.seek(offset[, whence])`: the new position.
fn seek<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = args[0];
    let (ba, pos) = open_arg(vm, s)?;
    let off = vm.int_arg(args[1])?;
    let whence = match args.get(2) {
        Some(&w) => vm.int_arg(w)?,
        None => 0,
    };
    if whence == 0 && off < 0 {
        return vm.raise_args("OSError", &[Value::small(22)]);
    }
    let base = match whence {
        1 => pos as i64,
        2 => buffer::len(vm, ba) as i64,
        _ => 0,
    };
    let new = (base + off).clamp(0, SMALL_MAX as i64) as u32;
    set_pos(vm, s, new)?;
    Ok(Value::small(new as i32))
}

fn tell<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (_, pos) = open_arg(vm, args[0])?;
    Ok(Value::small(pos as i32))
}

/// `s.getvalue()`: all of the contents, whatever the position.
fn getvalue<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = args[0];
    let (ba, _) = open_arg(vm, s)?;
    let data = buffer::data(vm, ba).to_vec();
    value_of(vm, s, &data)
}

fn flush<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    open_arg(vm, args[0])?;
    Ok(vm.none())
}

/// `s.close()`: the contents are dropped; a second close does nothing.
fn close<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = args[0];
    if !is_stream(vm, s) {
        return vm.raise_msg("TypeError", "expected a StringIO or BytesIO");
    }
    let empty = buffer::new_from(vm, bytearray::KIND, b'B', b"")?;
    vm.set_w(s, 1, empty.0)?;
    vm.set_w(s, 2, Value::small(CLOSED).0)?;
    Ok(vm.none())
}

fn enter<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    open_arg(vm, args[0])?;
    Ok(args[0])
}

fn exit<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    close(vm, &args[..1], kw)
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let name = if vm.kind(v) == Some(STRING_IO) {
        "StringIO"
    } else {
        "BytesIO"
    };
    let _ = write!(s, "<io.{name} 0x{:x}>", v.0);
    Ok(())
}

fn getiter<F: FlashImage>(vm: &mut Vm<F>, s: Value) -> R<Value> {
    open_arg(vm, s)?;
    Ok(s)
}

/// The next line; the end at an empty one.
fn iternext<F: FlashImage>(vm: &mut Vm<F>, s: Value) -> R<Option<Value>> {
    let line = readline(vm, &[s], &[])?;
    Ok((vm.len(line)?.as_int() > 0).then_some(line))
}
