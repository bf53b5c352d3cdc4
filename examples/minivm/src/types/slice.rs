//! Slices: `[hdr|SLICE][start][stop][step]`, built by `BUILD_SLICE` (as in MicroPython,
//! `slice(...)` cannot be called); their `start`, `stop`, `step` and `repr`; and the index and
//! slice arithmetic every sequence's subscript shares.

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::qstr::sq;
use crate::slots::{Attr, AttrOp, NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `slice` type.
pub struct Slice;

impl<F: FlashImage> NativeType<F> for Slice {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        attr: Some(attr),
        ..TypeSlots::new(Kind::SLICE, "slice")
    };
}

/// `slice(start, stop, step)`, each part's `repr`.
fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, d: u32, _k: PrintKind) -> R<()> {
    s.push_str("slice(");
    for i in 1..4 {
        if i > 1 {
            s.push_str(", ");
        }
        vm.print_into(vm.wv(v, i), s, d + 1, PrintKind::Repr)?;
    }
    s.push(')');
    Ok(())
}

/// `s.start`, `s.stop`, `s.step` (read-only).
fn attr<F: FlashImage>(vm: &mut Vm<F>, v: Value, name: Value, op: AttrOp) -> R<Attr> {
    if !matches!(op, AttrOp::Load | AttrOp::Method) {
        return Ok(Attr::Default);
    }
    let i = match name {
        n if n == sq!("start") => 1,
        n if n == sq!("stop") => 2,
        n if n == sq!("step") => 3,
        _ => return Ok(Attr::Default),
    };
    Ok(Attr::Found(vm.wv(v, i)))
}

/// Index `i` of a sequence of `len` items whose type is named `ty`, as MicroPython's
/// `mp_get_index`: negative from the end, `TypeError: list indices must be integers, not str`,
/// `OverflowError` for a big int beyond a machine word, `IndexError: list index out of range`.
pub fn get_index<F: FlashImage>(vm: &mut Vm<F>, ty: &str, i: Value, len: u32) -> R<u32> {
    let Some(n) = vm.int_maybe(i)? else {
        let t = vm.class_name(vm.type_of(i));
        let msg = alloc::format!("{ty} indices must be integers, not {t}");
        return vm.raise_msg("TypeError", &msg);
    };
    let j = if n < 0 { n + len as i64 } else { n };
    if j < 0 || j >= len as i64 {
        let msg = alloc::format!("{ty} index out of range");
        return vm.raise_msg("IndexError", &msg);
    }
    Ok(j as u32)
}

/// The `[start, stop)` of a step-1 slice `s` over `len` items, as MicroPython's
/// `mp_seq_get_fast_slice_indexes` (a stop before the start is the start); `None` for any
/// other step, which list slice assignment and deletion do not support.
pub fn fast_range<F: FlashImage>(vm: &Vm<F>, s: Value, len: u32) -> Option<(u32, u32)> {
    let (a, b, step) = range(vm, s, len);
    if step != 1 {
        return None;
    }
    Some((a as u32, b.max(a) as u32))
}

/// Is `v` a slice?
pub fn is_slice<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    vm.kind(v) == Some(Kind::SLICE)
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
