//! `bytes`: immutable bytes, `[hdr len|BYTES][hash][bytes…]` (the layout of a `str` object;
//! frozen compact like it). Its methods are str's (`types/str_methods.rs`) over bytes, plus
//! `decode`, `hex` and `fromhex`; `%` and `format` too. As in MicroPython, `+`, `in` and the
//! comparisons take anything with the buffer protocol on the right (`b'a' + 'b'` is
//! `b'ab'`), `==` only another bytes (or what compares with anything: a bytearray or a
//! memoryview), and slices take step 1 only.

use alloc::string::String;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{
    Buffer, Frozen, Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop,
};
use crate::types::str::{self as str_type, quote_bytes};
use crate::types::str_methods as m;
use crate::types::{buffer, iter, slice, str_format};
use crate::vm::{R, Thrown, Vm};

/// The `bytes` type.
pub struct Bytes;

impl<F: FlashImage> NativeType<F> for Bytes {
    const TYPE: TypeSlots<F> = TypeSlots {
        frozen: Some(Frozen {
            size: str_type::frozen_size,
            values: None,
            write: str_type::write_frozen,
        }),
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(unary_op),
        binary_op: Some(binary_op),
        getiter: Some(getiter),
        subscr: Some(subscr),
        buffer: Some(buffer),
        methods: text_methods!(
            [
                Native::new("hex", m::hex),
                Native::new("fromhex", m::bytes_fromhex),
                Native::new("decode", m::decode)
            ],
            []
        ),
        // Immutable, no identity (as MicroPython's): equal bytes objects may share a frozen copy.
        merge: true,
        ..TypeSlots::new(Kind::BYTES, "bytes")
    };
}

/// A new bytes object.
pub fn new<F: FlashImage>(vm: &mut Vm<F>, b: &[u8]) -> R<Value> {
    vm.new_str_obj(Kind::BYTES, b)
}

/// `bytes()`, `bytes(str, encoding[, errors])`, `bytes(n)` (n zero bytes), `bytes(buffer)`,
/// `bytes(iterable of ints 0..255)` (MicroPython's `bytes_make_new`).
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    str_type::no_keywords(vm, kw)?;
    let Some(&a0) = args.first() else {
        return new(vm, b"");
    };
    if vm.kind(a0) == Some(Kind::BYTES) {
        return Ok(a0);
    }
    if let Some(s) = vm.str_bytes(a0) {
        if !(2..=3).contains(&args.len()) {
            return vm.raise_msg("TypeError", "string argument without an encoding");
        }
        let s = s.to_vec();
        return new(vm, &s);
    }
    if args.len() > 1 {
        return vm.raise_msg("TypeError", "wrong number of arguments");
    }
    if a0.is_int() {
        let n = a0.as_int();
        if n < 0 {
            return vm.raise_empty("ValueError");
        }
        if n as usize > vm.mem.heap.len() {
            vm.exc = Value(vm.st.memory_error);
            return Err(Thrown);
        }
        return new(vm, &alloc::vec![0u8; n as usize]);
    }
    if let Some(b) = buffer::view(vm, a0).map(|b| b.data.to_vec()) {
        return new(vm, &b);
    }
    let items = vm.iter_to_vec(a0)?;
    let mut out = alloc::vec::Vec::with_capacity(items.len());
    for x in items {
        let n = vm.int_arg(x)?;
        if !(0..=255).contains(&n) {
            return vm.raise_msg("ValueError", "bytes value out of range");
        }
        out.push(n as u8);
    }
    new(vm, &out)
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let b = vm.str_obj_bytes(v).unwrap_or(b"");
    s.push('b');
    quote_bytes(s, b);
    Ok(())
}

fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let b = vm.str_obj_bytes(v).unwrap_or(b"");
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(!b.is_empty())),
        unop::LEN => Some(Value::small(b.len() as i32)),
        unop::HASH => Some(str_type::hash(b)),
        _ => None,
    })
}

/// MicroPython's `mp_obj_str_binary_op` for bytes on the left.
fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    if op == binop::MODULO {
        return str_format::modulo(vm, a, b).map(Some);
    }
    if op == binop::MULTIPLY {
        let Some(n) = vm.int_maybe(b)? else {
            return Ok(None);
        };
        let unit = vm.str_obj_bytes(a).unwrap_or(b"").to_vec();
        let s = str_type::repeat(vm, &unit, n)?;
        return new(vm, &s).map(Some);
    }
    if op == binop::EQUAL {
        if str_type::other_decides_eq(vm, b) {
            return buffer::binary_op(vm, op, b, a);
        }
        if vm.kind(b) != Some(Kind::BYTES) {
            return Ok(None);
        }
    }
    let Some(y) = buffer::view(vm, b).map(|v| v.data.to_vec()) else {
        return Ok(None);
    };
    let x = vm.str_obj_bytes(a).unwrap_or(b"");
    match op {
        binop::ADD | binop::INPLACE_ADD => {
            if x.is_empty() && vm.kind(b) == Some(Kind::BYTES) {
                return Ok(Some(b));
            }
            if y.is_empty() {
                return Ok(Some(a));
            }
            let mut s = x.to_vec();
            s.extend_from_slice(&y);
            new(vm, &s).map(Some)
        }
        binop::CONTAINS => {
            let r = buffer::find(x, &y, true).is_some();
            Ok(Some(vm.bool_val(r)))
        }
        binop::EQUAL => {
            let r = x == &y[..];
            Ok(Some(vm.bool_val(r)))
        }
        _ => {
            let ord = x.cmp(&y[..]);
            Ok(binop::compare(op, ord).map(|r| vm.bool_val(r)))
        }
    }
}

/// `b[i]` (an int) and `b[a:b]` (step 1 only).
fn subscr<F: FlashImage>(vm: &mut Vm<F>, v: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    match op {
        SubscrOp::Store(_) => return buffer::no_item(vm, v, "assignment"),
        SubscrOp::Delete => return buffer::no_item(vm, v, "deletion"),
        SubscrOp::Load => {}
    }
    let n = vm.aux(v) & STR_LEN_MASK;
    if slice::is_slice(vm, index) {
        let (a, b) = buffer::fast_slice(vm, index, n)?;
        let part = vm.str_obj_bytes(v).unwrap_or(b"")[a as usize..b as usize].to_vec();
        return new(vm, &part).map(Some);
    }
    let i = slice::get_index(vm, "bytes", index, n)?;
    let x = vm.str_obj_bytes(v).map_or(0, |b| b[i as usize]);
    Ok(Some(Value::small(x as i32)))
}

/// The payload of a bytes object.
fn buffer<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Buffer> {
    Some(Buffer {
        addr: vm.payload_addr(v),
        len: vm.aux(v) & STR_LEN_MASK,
        writable: false,
        typecode: b'B',
    })
}

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::SEQ, v)
}
