//! `bytearray`: mutable bytes, `[hdr 'B'|BYTEARRAY][store]` (the layout of an array of
//! typecode `B`, `types/buffer.rs`). Item and slice stores (the slice may change the length),
//! `append`, `extend`, `+=`, and the methods of bytes (`types/str_methods.rs`), whose results
//! are bytearrays. As in MicroPython: no item deletion, step-1 slices only, a stored int keeps
//! its low byte, `==` compares with anything that has the buffer protocol, no `*`.
//!
//! Frozen to the RAM section with its store, and writable there (`types/buffer.rs`).

use alloc::string::String;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{Freeze, Layout, Native, NativeType, PrintKind, TypeSlots};
use crate::types::buffer;
use crate::types::str::quote_bytes;
use crate::types::str_methods as m;
use crate::vm::{R, Thrown, Vm};

/// The bytearray kind.
pub const KIND: Kind = Kind::new(49);

/// The `bytearray` type.
pub struct ByteArray;

impl<F: FlashImage> NativeType<F> for ByteArray {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(1),
        freeze: Freeze::Ram,
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(buffer::unary_op),
        binary_op: Some(buffer::binary_op),
        subscr: Some(buffer::subscr),
        getiter: Some(buffer::getiter),
        buffer: Some(buffer::buffer),
        methods: text_methods!(
            [
                Native::new("append", append),
                Native::new("extend", extend),
                Native::new("hex", m::hex),
                Native::new("fromhex", m::bytearray_fromhex),
                Native::new("decode", m::decode)
            ],
            []
        ),
        ..TypeSlots::new(KIND, "bytearray")
    };
}

/// `bytearray()`, `bytearray(n)` (n zero bytes), `bytearray(str, encoding[, errors])`,
/// `bytearray(buffer)`, `bytearray(iterable of ints)` (each truncated to a byte).
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 0, 3)?;
    let Some(&a0) = args.first() else {
        return buffer::new_zeroed(vm, KIND, b'B', 0);
    };
    if a0.is_int() {
        let n = a0.as_int();
        if n < 0 {
            vm.exc = Value(vm.st.memory_error);
            return Err(Thrown);
        }
        return buffer::new_zeroed(vm, KIND, b'B', n as u64);
    }
    if vm.str_bytes(a0).is_some() && args.len() == 1 {
        return vm.raise_msg("TypeError", "string argument without an encoding");
    }
    if let Some(b) = buffer::view(vm, a0).map(|b| b.data.to_vec()) {
        return buffer::new_from(vm, KIND, b'B', &b);
    }
    let v = buffer::new_zeroed(vm, KIND, b'B', 0)?;
    buffer::fill_from_iter(vm, v, a0)?;
    Ok(v)
}

/// `bytearray(b'…')`.
fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    s.push_str("bytearray(b");
    quote_bytes(s, buffer::data(vm, v));
    s.push(')');
    Ok(())
}

/// `b.append(x)` (also `array.array`'s).
pub fn append<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 2, 2)?;
    buffer::append(vm, args[0], args[1])?;
    Ok(vm.none())
}

/// `b.extend(x)` (also `array.array`'s).
pub fn extend<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 2, 2)?;
    buffer::extend(vm, arg(args, 0), arg(args, 1))?;
    Ok(vm.none())
}
