//! Arrays: `[hdr n|ARRAY][v0]…`, the growable backing store of lists and dict/set tables, and
//! a generator's saved frame (`ARRAY_FIXED`). Internal: Python never sees one.
//!
//! Frozen to the RAM section (they are written), trimmed: a growable array keeps the words up
//! to its last non-null one, since its owner's used words are never null (null is no value:
//! no int, qstr or object is 0, and a set's values repeat its keys) and its unused ones are
//! (allocation zeroes them; pop, remove and clear null them again). The owner's count always
//! fits, and the trimmed array regrows in the heap at the next insert: list append and dict
//! store allocate a new one when the count reaches the capacity. A fixed array keeps every
//! word: resuming a generator copies exactly that many back.

use crate::freeze::write_words;
use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{Freeze, Frozen, NativeType, TypeSlots};
use crate::vm::Vm;

/// The `array` type.
pub struct Array;

impl<F: FlashImage> NativeType<F> for Array {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::Ram,
        frozen: Some(Frozen {
            size: frozen_size,
            values: None,
            write: write_trimmed,
        }),
        ..TypeSlots::new(Kind::ARRAY, "array")
    };
}

/// Words of an array kept in its frozen copy.
fn kept<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    let aux = vm.aux(v);
    let n = aux & ARRAY_LEN_MASK;
    if aux & ARRAY_FIXED != 0 {
        return n;
    }
    let mut k = n;
    while k > 0 && vm.w(v, k) == 0 {
        k -= 1;
    }
    k
}

fn frozen_size<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    4 + 4 * kept(vm, v)
}

/// Writes the first words of an `ARRAY` or `CONST_ARRAY`, as many as `out` holds: the header
/// counts only the words kept (with the flags of the heap header: a fixed array keeps them).
pub fn write_trimmed<F: FlashImage>(vm: &Vm<F>, v: Value, out: &mut [u8]) {
    let hdr = vm.w(v, 0);
    let len = out.len() as u32;
    let kept = len / 4 - 1;
    let (kind, flags) = if vm.kind(v) == Some(Kind::ARRAY) {
        (Kind::ARRAY, (hdr >> 8) & !ARRAY_LEN_MASK)
    } else {
        (Kind::CONST_ARRAY, 0)
    };
    let Some(b) = vm.mem.bytes(v.0 + 4, len - 4) else {
        return;
    };
    write_words(out, &[header(kind, kept | flags)]);
    if let Some(dst) = out.get_mut(4..) {
        dst.copy_from_slice(b);
    }
}
