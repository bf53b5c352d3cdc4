//! Raw code: `[hdr|RAW_CODE][bytecode BYTES][children CONST_ARRAY or null][scope flags]`, a
//! compiled function body (its prelude and bytecode) and the codes nested in it.
//!
//! Frozen compact, `[hdr len|RAW_CODE+COMPACT][children, if any][bytecode…]`: the bytecode
//! inline, which saves the Bytes object's header and hash, the pointer to it, the scope word
//! (the prelude has it) and a null children word. Readers go through `Vm::code_addr` and
//! `Vm::code_children`.

use crate::freeze::{copy_heap, write_words};
use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{Frozen, NativeType, TypeSlots};
use crate::vm::Vm;

/// The `code` type.
pub struct Code;

impl<F: FlashImage> NativeType<F> for Code {
    const TYPE: TypeSlots<F> = TypeSlots {
        frozen: Some(Frozen {
            size: frozen_size,
            values: Some(frozen_values),
            write: write_frozen,
        }),
        // Not a Python object (MicroPython's raw code is not either): equal code shares a copy.
        merge: true,
        ..TypeSlots::new(Kind::RAW_CODE, "code")
    };
}

/// For a heap raw code (its bytecode in a Bytes object): the bytecode length, which the
/// compact frozen copy holds inline, and whether it has a children table. `None` for a code
/// already compact and for bytecode too long for the compact header.
fn compact<F: FlashImage>(vm: &Vm<F>, rc: Value) -> Option<(u32, bool)> {
    if is_compact(vm.w(rc, 0)) {
        return None;
    }
    let bc = vm.wv(rc, 1);
    let n = vm.aux(bc);
    let children = !vm.wv(rc, 2).is_null();
    (vm.kind(bc) == Some(Kind::BYTES) && n <= CODE_LEN_MASK).then_some((n, children))
}

fn frozen_size<F: FlashImage>(vm: &Vm<F>, rc: Value) -> u32 {
    match compact(vm, rc) {
        Some((n, children)) => 4 + if children { 4 } else { 0 } + n,
        None => object_size(vm.w(rc, 0)).unwrap_or(4),
    }
}

/// Only the children word is a value in the compact copy (heap word 2).
fn frozen_values<F: FlashImage>(vm: &Vm<F>, rc: Value) -> (u32, u32) {
    match compact(vm, rc) {
        Some((_, true)) => (2, 1),
        Some((_, false)) => (1, 0),
        None => (frozen_size(vm, rc) / 4, 0),
    }
}

fn write_frozen<F: FlashImage>(vm: &Vm<F>, rc: Value, out: &mut [u8]) {
    let Some((n, children)) = compact(vm, rc) else {
        return copy_heap(vm, rc, out);
    };
    let aux = if children { n | CODE_HAS_CHILDREN } else { n };
    write_words(out, &[header(Kind::RAW_CODE, aux) | COMPACT as u32]);
    let mut at = 4;
    if children {
        if let Some(c) = out.get_mut(4..8) {
            write_words(c, &[vm.w(rc, 2)]);
        }
        at = 8;
    }
    let code = vm.mem.bytes(vm.payload_addr(vm.wv(rc, 1)), n);
    if let (Some(dst), Some(code)) = (out.get_mut(at..at + n as usize), code) {
        dst.copy_from_slice(code);
    }
}
