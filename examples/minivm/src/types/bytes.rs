//! `bytes`: immutable bytes, `[hdr len|BYTES][hash][bytes…]` (the layout of a `str` object).

use alloc::vec;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{Native, NativeType, TypeSlots};
use crate::vm::{R, Thrown, Vm};

/// The `bytes` type.
pub struct Bytes;

impl<F: FlashImage> NativeType<F> for Bytes {
    const TYPE: TypeSlots<F> = TypeSlots {
        make_new: Some(make_new),
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

fn decode<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = vm.str_obj_bytes(arg(args, 0)).unwrap_or(b"").to_vec();
    vm.new_str(&s)
}
