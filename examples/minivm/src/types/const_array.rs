//! Constant arrays: an `ARRAY` that never changes once built (qstr, constant and children
//! tables, namespace dict tables). Internal.
//!
//! Frozen to flash, trimmed: trailing `(null, null)` pairs of an even-length array are
//! dropped. Those are the spare capacity of a namespace table (a used entry's key is never
//! null); qstr, constant and children tables hold no nulls.

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{Frozen, NativeType, TypeSlots};
use crate::types::array::write_trimmed;
use crate::vm::Vm;

/// The `const_array` type.
pub struct ConstArray;

impl<F: FlashImage> NativeType<F> for ConstArray {
    const TYPE: TypeSlots<F> = TypeSlots {
        frozen: Some(Frozen {
            size: frozen_size,
            values: None,
            write: write_trimmed,
        }),
        // Internal tables, never written once built: equal ones may share a frozen copy.
        merge: true,
        ..TypeSlots::new(Kind::CONST_ARRAY, "const_array")
    };
}

/// Words of a constant array kept in its frozen copy.
fn kept<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    let n = vm.aux(v);
    if !n.is_multiple_of(2) {
        return n;
    }
    let mut k = n;
    while k >= 2 && vm.w(v, k - 1) == 0 && vm.w(v, k) == 0 {
        k -= 2;
    }
    k
}

fn frozen_size<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    4 + 4 * kept(vm, v)
}
