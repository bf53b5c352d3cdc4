//! `memoryview`: a window on another object's buffer,
//! `[hdr rw|typecode|MEMORYVIEW][obj][offset][len]`: the object whose bytes it shows (a bytes,
//! str, bytearray or array; never another memoryview, whose window is taken over), and the
//! window's first item and length in items of the object's typecode (so a memoryview of an
//! `array('h')` reads and writes shorts). `rw` (aux bit 8) is set when the object is writable.
//!
//! As MicroPython's: step-1 slices make new windows on the same object, stores truncate to
//! the item, a slice store keeps the length, `len` is the length taken when the window was
//! made (after `b.extend(…)` the view still shows its first bytes), and there is no item
//! deletion, no `+`, only `hex()`. The window reads the object's bytes at each access, so it
//! is never left on a stale buffer: when the object shrank, the items past its end raise
//! `IndexError`.
//!
//! A memoryview never changes after it is made: it freezes to flash. The memory behind it is
//! its object's, which freezes where its own kind goes (a bytearray's store to the RAM section,
//! writable through the view after freezing and after a reboot).

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{Buffer, Freeze, Layout, Native, NativeType, PrintKind, SubscrOp, TypeSlots};
use crate::types::buffer::{self, View, item_size};
use crate::types::{slice, str_methods};
use crate::vm::{R, Vm};

/// The memoryview kind.
pub const KIND: Kind = Kind::new(50);

/// In the aux bits: the object's buffer is writable.
const RW: u32 = 1 << 8;

/// The `memoryview` type.
pub struct MemoryView;

impl<F: FlashImage> NativeType<F> for MemoryView {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(3),
        freeze: Freeze::Flash,
        make_new: Some(make_new),
        print: Some(print),
        unary_op: Some(buffer::unary_op),
        binary_op: Some(buffer::binary_op),
        subscr: Some(subscr),
        getiter: Some(buffer::getiter),
        buffer: Some(buffer_slot),
        methods: &[Native::new("hex", str_methods::hex)],
        ..TypeSlots::new(KIND, "memoryview")
    };
}

/// `memoryview(obj)`: `obj` must have the buffer protocol.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 1, 1)?;
    let obj = args[0];
    if vm.kind(obj) == Some(KIND) {
        let words = [vm.wv(obj, 1), vm.wv(obj, 2), vm.wv(obj, 3)];
        return vm.alloc_obj(KIND, vm.aux(obj), &words);
    }
    let Some(b) = buffer::view(vm, obj) else {
        return vm.raise_msg("TypeError", "object with buffer protocol required");
    };
    let sz = item_size(b.typecode).unwrap_or(1) as usize;
    let n = b.data.len() / sz;
    let aux = b.typecode as u32 | if b.writable { RW } else { 0 };
    vm.alloc_obj(KIND, aux, &[obj, Value::small(0), Value::small(n as i32)])
}

/// The view's length in items.
pub fn len<F: FlashImage>(vm: &Vm<F>, m: Value) -> u32 {
    vm.wv(m, 3).as_int().max(0) as u32
}

/// The view's typecode.
fn typecode<F: FlashImage>(vm: &Vm<F>, m: Value) -> u8 {
    vm.aux(m) as u8
}

/// The bytes the view shows now (fewer than its length when its object shrank).
pub fn view<F: FlashImage>(vm: &Vm<F>, m: Value) -> Option<View<'_>> {
    let base = buffer::view(vm, vm.wv(m, 1))?;
    let tc = typecode(vm, m);
    let sz = item_size(tc)? as usize;
    let off = vm.wv(m, 2).as_int().max(0) as usize * sz;
    let end = (off + len(vm, m) as usize * sz).min(base.data.len());
    Some(View {
        data: base.data.get(off..end.max(off)).unwrap_or(&[]),
        typecode: tc,
        writable: base.writable && vm.aux(m) & RW != 0,
    })
}

/// The buffer slot: the window on the object's buffer (a str's qstr text has no address:
/// readers use [`view`] through `buffer::view`).
fn buffer_slot<F: FlashImage>(vm: &Vm<F>, m: Value) -> Option<Buffer> {
    let base = vm.buffer(vm.wv(m, 1))?;
    let v = view(vm, m)?;
    let sz = item_size(v.typecode)?;
    Some(Buffer {
        addr: base.addr + vm.wv(m, 2).as_int().max(0) as u32 * sz,
        len: v.data.len() as u32,
        writable: v.writable,
        typecode: v.typecode,
    })
}

/// Writes `bytes` at item `i` of the window, which must be writable and hold them.
fn write<F: FlashImage>(vm: &mut Vm<F>, m: Value, i: u32, bytes: &[u8]) -> R<()> {
    let Some(b) = buffer_slot(vm, m).filter(|b| b.writable) else {
        return buffer::no_item(vm, m, "assignment");
    };
    let at = i * item_size(b.typecode).unwrap_or(1);
    if at as usize + bytes.len() > b.len as usize {
        return vm.raise_msg("IndexError", "memoryview index out of range");
    }
    vm.mem
        .write_bytes(b.addr + at, bytes)
        .or_else(|e| vm.raise_mem(e))
}

/// `m[i]`, `m[a:b]` (a new window), `m[i] = x` and `m[a:b] = x` of the same length.
fn subscr<F: FlashImage>(vm: &mut Vm<F>, m: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
    if op == SubscrOp::Delete {
        return buffer::no_item(vm, m, "deletion");
    }
    let tc = typecode(vm, m);
    let sz = item_size(tc).unwrap_or(1);
    let n = len(vm, m);
    if slice::is_slice(vm, index) {
        let (a, b) = buffer::fast_slice(vm, index, n)?;
        return match op {
            SubscrOp::Store(x) => {
                if vm.aux(m) & RW == 0 {
                    return buffer::no_item(vm, m, "assignment");
                }
                let src = buffer::slice_source(vm, sz, x)?;
                if src.len() as u32 / sz != b - a {
                    return vm.raise_msg("ValueError", "lhs and rhs should be compatible");
                }
                write(vm, m, a, &src)?;
                Ok(Some(Value::NULL))
            }
            _ => {
                let off = vm.wv(m, 2).as_int() as u32 + a;
                let words = [
                    vm.wv(m, 1),
                    Value::small(off as i32),
                    Value::small((b - a) as i32),
                ];
                vm.alloc_obj(KIND, vm.aux(m), &words).map(Some)
            }
        };
    }
    let i = slice::get_index(vm, "memoryview", index, n)?;
    match op {
        SubscrOp::Store(x) => {
            if vm.aux(m) & RW == 0 {
                return buffer::no_item(vm, m, "assignment");
            }
            let item = buffer::encode(vm, tc, x)?;
            write(vm, m, i, &item[..sz as usize])?;
            Ok(Some(Value::NULL))
        }
        _ => {
            let at = (i * sz) as usize;
            let item: Option<Vec<u8>> = view(vm, m)
                .and_then(|v| v.data.get(at..at + sz as usize))
                .map(<[u8]>::to_vec);
            match item {
                Some(b) => buffer::load(vm, tc, &b).map(Some),
                None => vm.raise_msg("IndexError", "memoryview index out of range"),
            }
        }
    }
}

/// `<memoryview>`.
fn print<F: FlashImage>(
    _vm: &mut Vm<F>,
    _m: Value,
    s: &mut String,
    _d: u32,
    _k: PrintKind,
) -> R<()> {
    s.push_str("<memoryview>");
    Ok(())
}
