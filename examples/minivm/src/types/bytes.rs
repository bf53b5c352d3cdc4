//! `bytes`: immutable bytes, `[hdr len|BYTES][hash][bytes…]` (the layout of a `str` object).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{
    Buffer, Frozen, Native, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop,
};
use crate::types::str as str_type;
use crate::types::{iter, slice, tuple};
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
        methods: &[Native::new("decode", decode)],
        ..TypeSlots::new(Kind::BYTES, "bytes")
    };
}

/// `bytes()`, `bytes(str, encoding)`, `bytes(n)` (n zero bytes), `bytes(iterable of ints)`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], _kw: &[Value]) -> R<Value> {
    let a0 = arg(args, 0);
    if args.is_empty() {
        return vm.new_str_obj(Kind::BYTES, b"");
    }
    if let Some(b) = vm.str_bytes(a0) {
        let b = b.to_vec();
        return vm.new_str_obj(Kind::BYTES, &b);
    }
    if a0.is_int() {
        let n = a0.as_int().max(0) as usize;
        if n > vm.mem.heap.len() {
            vm.exc = Value(vm.st.memory_error);
            return Err(Thrown);
        }
        let v = vec![0u8; n];
        return vm.new_str_obj(Kind::BYTES, &v);
    }
    let items = vm.iter_to_vec(a0)?;
    let v: Vec<u8> = items.iter().map(|x| x.as_int() as u8).collect();
    vm.new_str_obj(Kind::BYTES, &v)
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let b = vm.str_obj_bytes(v).unwrap_or(b"");
    repr_bytes(s, b);
    Ok(())
}

/// Python's repr of bytes, byte by byte (never decoded as UTF-8): printable ASCII as it is,
/// `\n \r \t \\` and the quote escaped, any other byte `\xHH`. Quoted with `'` unless the bytes
/// hold a `'` and no `"`.
pub fn repr_bytes(s: &mut String, b: &[u8]) {
    let q = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    s.push('b');
    s.push(q as char);
    for &c in b {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            c if c == q => {
                s.push('\\');
                s.push(c as char);
            }
            0x20..=0x7e => s.push(c as char),
            c => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push(q as char);
}

fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let n = vm.aux(v);
    Ok(match op {
        unop::BOOL => Some(vm.bool_val(n != 0)),
        unop::LEN => Some(Value::small(n as i32)),
        _ => None,
    })
}

fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    if op == binop::MULTIPLY && b.is_int() {
        // `b * n` (a big n cannot fit the heap: the int argument raises OverflowError).
        let n = b.as_int().max(0) as usize;
        let x = vm.str_obj_bytes(a).unwrap_or(b"").to_vec();
        tuple::check_repeat(vm, x.len(), n)?;
        return vm.new_str_obj(Kind::BYTES, &x.repeat(n)).map(Some);
    }
    if vm.kind(b) != Some(Kind::BYTES) {
        return Ok(None);
    }
    match op {
        binop::EQUAL => {
            let r = vm.str_obj_bytes(a) == vm.str_obj_bytes(b);
            Ok(Some(vm.bool_val(r)))
        }
        binop::ADD => {
            let mut x = vm.str_obj_bytes(a).unwrap_or(b"").to_vec();
            x.extend_from_slice(vm.str_obj_bytes(b).unwrap_or(b""));
            vm.new_str_obj(Kind::BYTES, &x).map(Some)
        }
        _ => Ok(None),
    }
}

/// `b[i]` (an int) and `b[a:b:c]`.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, v: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    if op != SubscrOp::Load {
        return Ok(None);
    }
    let b = vm.str_obj_bytes(v).unwrap_or(b"").to_vec();
    if slice::is_slice(vm, index) {
        let idx = slice::indices(vm, index, b.len() as u32);
        let out: Vec<u8> = idx.iter().map(|&i| b[i as usize]).collect();
        return vm.new_str_obj(Kind::BYTES, &out).map(Some);
    }
    let i = slice::norm_index(vm, v, index, b.len() as u32)?;
    Ok(Some(Value::small(b[i as usize] as i32)))
}

/// The payload of a bytes object.
fn buffer<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Buffer> {
    Some(Buffer {
        addr: vm.payload_addr(v),
        len: vm.aux(v),
        writable: false,
    })
}

fn decode<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = vm.str_obj_bytes(arg(args, 0)).unwrap_or(b"").to_vec();
    vm.new_str(&s)
}

fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    iter::new(vm, iter_kind::SEQ, v)
}
