//! Slices: `[hdr|SLICE][start][stop][step]`, built by `BUILD_SLICE`; and the index and slice
//! arithmetic every sequence's subscript shares.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The `slice` type.
pub struct Slice;

impl<F: FlashImage> NativeType<F> for Slice {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::SLICE, "slice");
}

/// Is `v` a slice?
pub fn is_slice<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    vm.kind(v) == Some(Kind::SLICE)
}

/// Index `i` of sequence `seq` of `len` items (negative from the end), or `TypeError`
/// (`list indices must be integers, not float`), `OverflowError` (a big int beyond a machine
/// word) or `IndexError`.
pub fn norm_index<F: FlashImage>(vm: &mut Vm<F>, seq: Value, i: Value, len: u32) -> R<u32> {
    let i = match vm.as_intlike(i) {
        Some(n) => n,
        None if vm.is_int(i) => vm.int_arg(i)?,
        None => {
            let s = vm.class_name(vm.type_of(seq));
            let t = vm.class_name(vm.type_of(i));
            let msg = alloc::format!("{s} indices must be integers, not {t}");
            return vm.raise_msg("TypeError", &msg);
        }
    };
    let j = if i < 0 { i + len as i64 } else { i };
    if j < 0 || j >= len as i64 {
        return vm.raise_msg("IndexError", "index out of range");
    }
    Ok(j as u32)
}

/// (start, stop, step) of slice `s` over `len` items, clamped as Python does (step 1 when
/// None; non-int bounds read as None).
pub fn range<F: FlashImage>(vm: &Vm<F>, s: Value, len: u32) -> (i64, i64, i64) {
    let get = |v: Value| {
        if v.is_int() {
            Some(v.as_int() as i64)
        } else {
            None
        }
    };
    let step = get(vm.wv(s, 3)).unwrap_or(1);
    let len = len as i64;
    let fix = |x: i64| if x < 0 { (x + len).max(0) } else { x.min(len) };
    if step > 0 {
        (
            get(vm.wv(s, 1)).map(fix).unwrap_or(0),
            get(vm.wv(s, 2)).map(fix).unwrap_or(len),
            step,
        )
    } else {
        let fixn = |x: i64| {
            if x < 0 {
                (x + len).max(-1)
            } else {
                x.min(len - 1)
            }
        };
        (
            get(vm.wv(s, 1)).map(fixn).unwrap_or(len - 1),
            get(vm.wv(s, 2)).map(fixn).unwrap_or(-1),
            step,
        )
    }
}

/// The indices slice `s` selects of `len` items, in order (none for step 0).
pub fn indices<F: FlashImage>(vm: &Vm<F>, s: Value, len: u32) -> Vec<u32> {
    let (a, b, st) = range(vm, s, len);
    let mut out = Vec::new();
    let mut i = a;
    if st == 0 {
        return out;
    }
    while (st > 0 && i < b) || (st < 0 && i > b) {
        out.push(i as u32);
        i += st;
    }
    out
}
