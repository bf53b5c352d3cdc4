//! `heapq` (also `uheapq`): `heappush`, `heappop`, `heapify` on a list, as MicroPython's
//! `modheapq.c` (CPython's sift-down/sift-up, comparing with `<` only, an item counting as
//! smaller only when `<` answers `True`). Errors: `TypeError: heap must be a list`,
//! `IndexError: empty heap`. Extensible: a `heapq` module on the path (micropython-lib's,
//! with `nsmallest`…) is imported instead.

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{ModuleDef, Native, NativeModule, binop};
use crate::vm::{R, Vm};

/// The `heapq` module.
pub struct Heapq;

impl<F: FlashImage> NativeModule<F> for Heapq {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["uheapq"],
        extensible: true,
        functions: &[
            Native::args("heappush", heappush, 2, 2),
            Native::args("heappop", heappop, 1, 1),
            Native::args("heapify", heapify, 1, 1),
        ],
        ..ModuleDef::new("heapq")
    };
}

fn heap_arg<F: FlashImage>(vm: &mut Vm<F>, h: Value) -> R<Value> {
    if vm.kind(h) != Some(Kind::LIST) {
        return vm.raise_msg("TypeError", "heap must be a list");
    }
    Ok(h)
}

/// Items are read and written through the list each time: a `__lt__` may change the list.
fn len<F: FlashImage>(vm: &Vm<F>, h: Value) -> usize {
    vm.seq_items(h).map_or(0, |(_, n)| n as usize)
}

fn get<F: FlashImage>(vm: &Vm<F>, h: Value, i: usize) -> Value {
    match vm.seq_items(h) {
        Some((a, n)) if i < n as usize => Value(vm.mem.read_u32(a + 4 * i as u32)),
        _ => vm.none(),
    }
}

fn set<F: FlashImage>(vm: &mut Vm<F>, h: Value, i: usize, x: Value) -> R<()> {
    if i < len(vm, h) {
        let arr = vm.wv(h, 2);
        vm.set_w(arr, 1 + i as u32, x.0)?;
    }
    Ok(())
}

/// `a < b` is `True` (not merely truthy, as MicroPython compares with `mp_const_true`).
fn less<F: FlashImage>(vm: &mut Vm<F>, a: Value, b: Value) -> R<bool> {
    let r = vm.binary_op(binop::LESS, a, b)?;
    Ok(r.0 == vm.st.true_)
}

/// Moves the item at `pos` up towards `start` while it is smaller than its parent.
fn sift_down<F: FlashImage>(vm: &mut Vm<F>, h: Value, start: usize, mut pos: usize) -> R<()> {
    let item = get(vm, h, pos);
    while pos > start {
        let parent_pos = (pos - 1) >> 1;
        let parent = get(vm, h, parent_pos);
        if !less(vm, item, parent)? {
            break;
        }
        set(vm, h, pos, parent)?;
        pos = parent_pos;
    }
    set(vm, h, pos, item)
}

/// Moves the smaller child up into the hole at `pos` down to a leaf, then sifts the item down.
fn sift_up<F: FlashImage>(vm: &mut Vm<F>, h: Value, mut pos: usize) -> R<()> {
    let start = pos;
    let end = len(vm, h);
    let item = get(vm, h, pos);
    let mut child = 2 * pos + 1;
    while child < end {
        if child + 1 < end {
            let (l, r) = (get(vm, h, child), get(vm, h, child + 1));
            if !less(vm, l, r)? {
                child += 1;
            }
        }
        let c = get(vm, h, child);
        set(vm, h, pos, c)?;
        pos = child;
        child = 2 * pos + 1;
    }
    set(vm, h, pos, item)?;
    sift_down(vm, h, start, pos)
}

fn heappush<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let h = heap_arg(vm, args[0])?;
    vm.list_append(h, args[1])?;
    let n = len(vm, h);
    sift_down(vm, h, 0, n - 1)?;
    Ok(vm.none())
}

fn heappop<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let h = heap_arg(vm, args[0])?;
    let n = len(vm, h);
    if n == 0 {
        return vm.raise_msg("IndexError", "empty heap");
    }
    let top = get(vm, h, 0);
    let last = vm.list_pop(h, n as u32 - 1)?;
    if n > 1 {
        set(vm, h, 0, last)?;
        sift_up(vm, h, 0)?;
    }
    Ok(top)
}

fn heapify<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let h = heap_arg(vm, args[0])?;
    let mut i = len(vm, h) / 2;
    while i > 0 {
        i -= 1;
        sift_up(vm, h, i)?;
    }
    Ok(vm.none())
}
