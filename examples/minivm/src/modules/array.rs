//! `array` (also `uarray`): the module and its `array` type, `[hdr tc|ARRAY][store]`
//! (`types/buffer.rs` lays it out and holds the item codec it shares with bytearray and
//! memoryview).
//!
//! Typecodes `b B h H i I l L q Q f d`, little-endian with a 32-bit port's sizes. As in
//! MicroPython: stores truncate an int to the item (`array('B', [257])` holds 1), step-1
//! slices only, no item deletion, `x in a` of a number raises `NotImplementedError`, `+` and
//! `extend` take anything with the buffer protocol (whole items of its bytes), and `==` with
//! another array compares the bytes when the typecodes differ only in signedness (a float
//! array raises `NotImplementedError`), with a bytearray or memoryview through theirs, and is
//! `False` for anything else. Built from a bytes or a bytearray it copies their bytes; from
//! any other iterable, its items.
//!
//! Frozen to the RAM section with its store, writable there.

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{
    Constant, Freeze, Layout, ModuleDef, Native, NativeModule, NativeType, TypeSlots, binop,
};
use crate::types::buffer::{self, ARRAY, item_size};
use crate::types::str::other_decides_eq;
use crate::types::{bytearray, str_methods};
use crate::vm::{R, Vm};

/// The `array` module.
pub struct Array;

impl<F: FlashImage> NativeModule<F> for Array {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["uarray"],
        extensible: true,
        constants: &[Constant::Type("array", ARRAY)],
        ..ModuleDef::new("array")
    };
}

/// The `array.array` type.
pub struct ArrayType;

impl<F: FlashImage> NativeType<F> for ArrayType {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(1),
        freeze: Freeze::Ram,
        make_new: Some(make_new),
        print: Some(buffer::print_array),
        unary_op: Some(buffer::unary_op),
        binary_op: Some(binary_op),
        subscr: Some(buffer::subscr),
        getiter: Some(buffer::getiter),
        buffer: Some(buffer::buffer),
        methods: &[
            Native::new("append", bytearray::append),
            Native::new("extend", bytearray::extend),
        ],
        builtin: false,
        ..TypeSlots::new(ARRAY, "array")
    };
}

/// `array(typecode[, initializer])`: the typecode's first character decides.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 1, 2)?;
    let code = match str_methods::flavor(vm, args[0]) {
        Some(str_methods::Flavor::Str | str_methods::Flavor::Bytes) => {
            str_methods::data(vm, args[0]).unwrap_or_default()
        }
        _ => return str_methods::bad_conversion(vm, args[0]),
    };
    let tc = code.first().copied().unwrap_or(0);
    if item_size(tc).is_none() {
        return vm.raise_msg("ValueError", "bad typecode");
    }
    let Some(&init) = args.get(1) else {
        return buffer::new_zeroed(vm, ARRAY, tc, 0);
    };
    if matches!(vm.kind(init), Some(k) if k == Kind::BYTES || k == bytearray::KIND) {
        let b = buffer::view(vm, init)
            .map(|b| b.data.to_vec())
            .unwrap_or_default();
        return buffer::new_from(vm, ARRAY, tc, &b);
    }
    let a = buffer::new_zeroed(vm, ARRAY, tc, 0)?;
    buffer::fill_from_iter(vm, a, init)?;
    Ok(a)
}

/// `==` as MicroPython's (array has no `EQ_CHECKS_OTHER_TYPE`): with another array by bytes,
/// with a bytearray or memoryview through theirs, else `False`; the rest as bytearray's.
fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    if op == binop::EQUAL {
        if other_decides_eq(vm, b) {
            return buffer::binary_op(vm, op, b, a);
        }
        if vm.kind(b) != Some(ARRAY) {
            return Ok(Some(vm.bool_val(false)));
        }
    }
    buffer::binary_op(vm, op, a, b)
}
