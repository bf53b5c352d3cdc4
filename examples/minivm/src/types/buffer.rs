//! Buffers: the byte store behind `bytearray` and `array.array`, the typecodes' item codec,
//! the buffer protocol's read helper, and the iterator over buffer items: what MicroPython's
//! `objarray.c` and `binary.c` share between bytearray, array and memoryview.
//!
//! ```text
//! store      [hdr cap|STORE][used][bytes … cap]    raw: no value words; used ≤ cap bytes
//! bytearray  [hdr 'B'|BYTEARRAY][store]            len = used bytes
//! array      [hdr tc|ARRAY][store]                 len = used / item size of typecode tc
//! iterator   [hdr|ITER][obj][index]                over a bytearray, array or memoryview
//! ```
//!
//! A store is null while an array is empty and has no capacity. Constructors allocate the
//! exact size; growing (`append`, `extend`, `+=`, a longer slice store) doubles the capacity,
//! or takes the exact size when the heap has no room for double.
//!
//! All of these are written at run time, so they freeze to the RAM section, each array with
//! its store: the store is an object of its own whose bytes the GC and the freezer never read
//! as references (its layout is raw), so a frozen bytearray's contents are copied as they are
//! and stay writable in place. A frozen store keeps only its used bytes (its capacity trimmed
//! to them, rounded up to 4), as frozen list tables do; growing it past that moves the bytes to
//! a new store in the heap, and a reboot restores the frozen state.
//!
//! Items are little-endian with the sizes of MicroPython's 32-bit ports: `b B` 1, `h H` 2,
//! `i I l L f` 4, `q Q d` 8. A store truncates an int to the item's low bytes (no
//! `OverflowError`), as MicroPython's `mp_binary_set_val_array` does.

use alloc::string::String;
use alloc::vec::Vec;

use crate::freeze::write_words;
use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{
    Buffer, Freeze, Frozen, Layout, NativeType, PrintKind, SubscrOp, TypeSlots, binop, unop,
};
use crate::types::{bytearray, memoryview, slice};
use crate::vm::{R, Thrown, Vm};

/// A store's kind.
pub const STORE: Kind = Kind::new(48);
/// The kind of `array.array` objects (their type is the `array` module's, `modules/array.rs`;
/// the kind is here because bytearray and memoryview need to recognise arrays).
pub const ARRAY: Kind = Kind::new(51);
/// The buffer iterator's kind.
pub const ITER: Kind = Kind::new(52);

/// The byte store of a bytearray or an array (internal: Python never sees one).
pub struct Store;

impl<F: FlashImage> NativeType<F> for Store {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Raw { size: store_size },
        freeze: Freeze::Ram,
        frozen: Some(Frozen {
            size: store_frozen_size,
            values: None,
            write: store_write_frozen,
        }),
        builtin: false,
        ..TypeSlots::new(STORE, "bytestore")
    };
}

/// A store's byte size from its header: the header and `used` words, then `cap` bytes.
fn store_size(hdr: u32) -> u32 {
    8 + (hdr >> 8)
}

/// Bytes a store uses (never more than its capacity).
fn store_used<F: FlashImage>(vm: &Vm<F>, st: Value) -> u32 {
    vm.w(st, 1).min(vm.aux(st))
}

/// A frozen store keeps its used bytes only, its capacity rounded up to 4.
fn store_frozen_size<F: FlashImage>(vm: &Vm<F>, st: Value) -> u32 {
    8 + store_used(vm, st).div_ceil(4) * 4
}

/// Writes a trimmed store: the header counts the capacity kept.
fn store_write_frozen<F: FlashImage>(vm: &Vm<F>, st: Value, out: &mut [u8]) {
    let used = store_used(vm, st);
    let cap = out.len() as u32 - 8;
    write_words(out, &[header(STORE, cap), used]);
    if let (Some(dst), Some(src)) = (
        out.get_mut(8..8 + used as usize),
        vm.mem.bytes(st.0 + 8, used),
    ) {
        dst.copy_from_slice(src);
    }
}

/// The iterator over the items of a bytearray, an array or a memoryview.
pub struct BufIter;

impl<F: FlashImage> NativeType<F> for BufIter {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(2),
        freeze: Freeze::Ram,
        getiter: Some(crate::types::iter::getiter),
        iternext: Some(iternext),
        builtin: false,
        ..TypeSlots::new(ITER, "iterator")
    };
}

/// `iter(x)` of a bytearray, array or memoryview.
pub fn getiter<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Value> {
    vm.alloc_obj(ITER, 0, &[v, Value::small(0)])
}

fn iternext<F: FlashImage>(vm: &mut Vm<F>, it: Value) -> R<Option<Value>> {
    let obj = vm.wv(it, 1);
    let i = vm.wv(it, 2).as_int();
    let n = vm.len(obj)?.as_int();
    if i >= n {
        return Ok(None);
    }
    vm.set_w(it, 2, Value::small(i + 1).0)?;
    vm.subscr(obj, Value::small(i)).map(Some)
}

// ------------------------------------------------------------------------- item codec

/// Size in bytes of an item of typecode `tc`; `None` for a typecode MicroPython has not.
pub const fn item_size(tc: u8) -> Option<u32> {
    Some(match tc {
        b'b' | b'B' => 1,
        b'h' | b'H' => 2,
        b'i' | b'I' | b'l' | b'L' | b'f' => 4,
        b'q' | b'Q' | b'd' => 8,
        _ => return None,
    })
}

/// The item of typecode `tc` at the start of `b` (at least its size long) as a Python value.
pub fn load<F: FlashImage>(vm: &mut Vm<F>, tc: u8, b: &[u8]) -> R<Value> {
    let mut w = [0u8; 8];
    let n = item_size(tc).unwrap_or(1) as usize;
    if let (Some(dst), Some(src)) = (w.get_mut(..n), b.get(..n)) {
        dst.copy_from_slice(src);
    }
    let u = u64::from_le_bytes(w);
    let n: i64 = match tc {
        b'b' => u as u8 as i8 as i64,
        b'h' => u as u16 as i16 as i64,
        b'H' => u as u16 as i64,
        b'i' | b'l' => u as u32 as i32 as i64,
        b'I' | b'L' => u as u32 as i64,
        b'q' => u as i64,
        b'Q' => return uint_value(vm, u),
        b'f' => return float_value(vm, f32::from_bits(u as u32) as f64),
        b'd' => return float_value(vm, f64::from_bits(u)),
        _ => u as u8 as i64,
    };
    vm.int_val(n)
}

/// Value `v` as an item of typecode `tc`: little-endian in the first `item_size(tc)` bytes. An
/// int keeps its low bytes (a store truncates, as in MicroPython).
pub fn encode<F: FlashImage>(vm: &mut Vm<F>, tc: u8, v: Value) -> R<[u8; 8]> {
    Ok(match tc {
        b'f' => {
            let x = float_arg(vm, v)? as f32;
            let mut w = [0u8; 8];
            w[..4].copy_from_slice(&x.to_le_bytes());
            w
        }
        b'd' => float_arg(vm, v)?.to_le_bytes(),
        _ => int_bits(vm, v)?.to_le_bytes(),
    })
}

/// The int an int item is stored from: its low 64 bits, two's complement (a big int
/// truncates, as MicroPython's `mp_obj_int_to_bytes_impl`).
fn int_bits<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<i64> {
    if let Some(n) = vm.as_intlike(v) {
        return Ok(n);
    }
    match vm.int_mpz(v) {
        Some(z) => {
            let lo = z.mag.first().copied().unwrap_or(0) as u64
                | (z.mag.get(1).copied().unwrap_or(0) as u64) << 32;
            Ok(if z.neg {
                (lo as i64).wrapping_neg()
            } else {
                lo as i64
            })
        }
        None => vm.int_arg(v),
    }
}

/// A `Q` item's value.
fn uint_value<F: FlashImage>(vm: &mut Vm<F>, u: u64) -> R<Value> {
    let z = crate::mpz::Mpz::from_parts(false, alloc::vec![u as u32, (u >> 32) as u32]);
    vm.new_int(&z)
}

/// An `f`/`d` item as a Python value.
fn float_value<F: FlashImage>(vm: &mut Vm<F>, x: f64) -> R<Value> {
    vm.new_float(x)
}

/// The number an `f`/`d` item is stored from: an int, a bool or a float.
fn float_arg<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<f64> {
    vm.float_arg(v)
}

// ------------------------------------------------------------------------- buffer protocol

/// The bytes behind a value, as the buffer protocol lends them.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// The bytes.
    pub data: &'a [u8],
    /// The item type (`b'B'` for str, bytes and bytearray).
    pub typecode: u8,
    /// May they be written?
    pub writable: bool,
}

/// The bytes behind `v`: its type's buffer slot, or a qstr's text (a str either way).
pub fn view<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<View<'_>> {
    if v.is_qstr() {
        return Some(View {
            data: vm.qstr_bytes(v.as_qstr()),
            typecode: b'B',
            writable: false,
        });
    }
    if vm.kind(v) == Some(memoryview::KIND) {
        return memoryview::view(vm, v);
    }
    let b = vm.buffer(v)?;
    Some(View {
        // An empty array has no store, so no address to read.
        data: if b.len == 0 {
            &[]
        } else {
            vm.mem.bytes(b.addr, b.len)?
        },
        typecode: b.typecode,
        writable: b.writable,
    })
}

/// A copy of the bytes behind `v`, or `TypeError: object with buffer protocol required`.
pub fn bytes_arg<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Vec<u8>> {
    match view(vm, v) {
        Some(b) => Ok(b.data.to_vec()),
        None => vm.raise_msg("TypeError", "object with buffer protocol required"),
    }
}

/// `(start, stop)` of step-1 slice `s` over `len` items, clamped (`stop >= start`); other
/// steps raise `NotImplementedError`, as every MicroPython byte sequence does.
pub fn fast_slice<F: FlashImage>(vm: &mut Vm<F>, s: Value, len: u32) -> R<(u32, u32)> {
    let step = vm.wv(s, 3);
    if step.0 != vm.st.none && step != Value::small(1) {
        return vm.raise_msg(
            "NotImplementedError",
            "only slices with step=1 (aka None) are supported",
        );
    }
    let (a, b, _) = slice::range(vm, s, len);
    let (a, b) = (a.clamp(0, len as i64) as u32, b.clamp(0, len as i64) as u32);
    Ok((a, b.max(a)))
}

/// `TypeError: '<type>' object doesn't support item <what>`.
pub fn no_item<F: FlashImage, T>(vm: &mut Vm<F>, v: Value, what: &str) -> R<T> {
    let t = vm.class_name(vm.type_of(v));
    let msg = alloc::format!("'{t}' object doesn't support item {what}");
    vm.raise_msg("TypeError", &msg)
}

// ------------------------------------------------------------------------- bytearray and array

/// Is `v` a bytearray or an array (the two kinds with a store)?
pub fn is_array_like<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    matches!(vm.kind(v), Some(k) if k == bytearray::KIND || k == ARRAY)
}

/// The typecode of a bytearray (`B`) or an array.
pub fn typecode<F: FlashImage>(vm: &Vm<F>, v: Value) -> u8 {
    vm.aux(v) as u8
}

/// Number of items of a bytearray or an array.
pub fn len<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    let sz = item_size(typecode(vm, v)).unwrap_or(1);
    let st = vm.wv(v, 1);
    if vm.kind(st) == Some(STORE) {
        store_used(vm, st) / sz
    } else {
        0
    }
}

/// Capacity in bytes of an array's store.
fn cap_bytes<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    let st = vm.wv(v, 1);
    if vm.kind(st) == Some(STORE) {
        vm.aux(st)
    } else {
        0
    }
}

/// Address of an array's first byte.
fn data_addr<F: FlashImage>(vm: &Vm<F>, v: Value) -> u32 {
    vm.w(v, 1).wrapping_add(8)
}

/// The used bytes of a bytearray or an array.
pub fn data<F: FlashImage>(vm: &Vm<F>, v: Value) -> &[u8] {
    let n = len(vm, v) * item_size(typecode(vm, v)).unwrap_or(1);
    vm.mem.bytes(data_addr(vm, v), n).unwrap_or(&[])
}

/// A store of `cap` zero bytes, `used` of them in use (null for no capacity); `MemoryError`
/// past what the heap or a header can hold.
fn new_store<F: FlashImage>(vm: &mut Vm<F>, cap: u64, used: u64) -> R<Value> {
    if cap == 0 {
        return Ok(Value::NULL);
    }
    if cap > (1 << 24) - 1 || cap > vm.mem.heap.len() as u64 {
        vm.exc = Value(vm.st.memory_error);
        return Err(Thrown);
    }
    let a = vm.alloc(8 + cap as u32)?;
    let _ = vm.mem.write_u32(a, header(STORE, cap as u32));
    let _ = vm.mem.write_u32(a + 4, used.min(cap) as u32);
    Ok(Value(a))
}

/// A new bytearray (`kind` = bytearray's, `tc` = `B`) or array of `n` zero items.
pub fn new_zeroed<F: FlashImage>(vm: &mut Vm<F>, kind: Kind, tc: u8, n: u64) -> R<Value> {
    let sz = item_size(tc).unwrap_or(1) as u64;
    let bytes = n.saturating_mul(sz);
    let st = new_store(vm, bytes, bytes)?;
    vm.alloc_obj(kind, tc as u32, &[st])
}

/// A new bytearray or array holding `bytes` (whole items: a partial last item is dropped).
pub fn new_from<F: FlashImage>(vm: &mut Vm<F>, kind: Kind, tc: u8, bytes: &[u8]) -> R<Value> {
    let sz = item_size(tc).unwrap_or(1) as usize;
    let n = bytes.len() / sz;
    let v = new_zeroed(vm, kind, tc, n as u64)?;
    write(vm, v, 0, &bytes[..n * sz])?;
    Ok(v)
}

/// A new object of `v`'s kind and typecode holding `bytes`.
fn new_like<F: FlashImage>(vm: &mut Vm<F>, v: Value, bytes: &[u8]) -> R<Value> {
    let kind = vm.kind(v).unwrap_or(bytearray::KIND);
    new_from(vm, kind, typecode(vm, v), bytes)
}

/// Writes `bytes` at byte offset `off` of an array's store (which holds them).
fn write<F: FlashImage>(vm: &mut Vm<F>, v: Value, off: u32, bytes: &[u8]) -> R<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let a = data_addr(vm, v).wrapping_add(off);
    vm.mem.write_bytes(a, bytes).or_else(|e| vm.raise_mem(e))
}

/// Sets an array's item count (its store holds them).
fn set_len<F: FlashImage>(vm: &mut Vm<F>, v: Value, n: u32) -> R<()> {
    let st = vm.wv(v, 1);
    if st.is_null() {
        return Ok(());
    }
    let sz = item_size(typecode(vm, v)).unwrap_or(1);
    vm.set_w(st, 1, n * sz)
}

/// Makes room for `extra` more items: a new store when the capacity is short, of twice the
/// capacity (or the exact size when the heap cannot hold that) when `grow`, else exact.
fn reserve<F: FlashImage>(vm: &mut Vm<F>, v: Value, extra: u32, grow: bool) -> R<()> {
    let sz = item_size(typecode(vm, v)).unwrap_or(1) as u64;
    let used = len(vm, v) as u64 * sz;
    let need = used + extra as u64 * sz;
    let cap = cap_bytes(vm, v) as u64;
    if need <= cap {
        return Ok(());
    }
    let old = data(vm, v).to_vec();
    let roomy = need.max(2 * cap).max(8 * sz);
    let st = match new_store(vm, if grow { roomy } else { need }, used) {
        Ok(st) => st,
        Err(_) if grow && roomy > need => {
            vm.exc = Value::NULL;
            new_store(vm, need, used)?
        }
        Err(t) => return Err(t),
    };
    vm.set_w(v, 1, st.0)?;
    write(vm, v, 0, &old)
}

/// Writes `bytes` at byte offset `off` of a bytearray, growing it as a stream does: the gap
/// between its end and `off` is zero-filled, and its length becomes at least `off + len`
/// (`io.BytesIO`/`StringIO` keep their contents in a bytearray).
pub fn write_at<F: FlashImage>(vm: &mut Vm<F>, v: Value, off: u32, bytes: &[u8]) -> R<()> {
    let n = len(vm, v);
    let Some(end) = off.checked_add(bytes.len() as u32) else {
        vm.exc = Value(vm.st.memory_error);
        return Err(Thrown);
    };
    if end > n {
        reserve(vm, v, end - n, true)?;
        // Bytes past the used ones may be stale (a slice store shrank the array).
        if off > n {
            write(vm, v, n, &alloc::vec![0u8; (off - n) as usize])?;
        }
        set_len(vm, v, end)?;
    }
    write(vm, v, off, bytes)
}

/// `a.append(x)`.
pub fn append<F: FlashImage>(vm: &mut Vm<F>, v: Value, x: Value) -> R<()> {
    let tc = typecode(vm, v);
    let sz = item_size(tc).unwrap_or(1);
    let item = encode(vm, tc, x)?;
    reserve(vm, v, 1, true)?;
    let n = len(vm, v);
    write(vm, v, n * sz, &item[..sz as usize])?;
    set_len(vm, v, n + 1)
}

/// `a.extend(x)` (and `a += x`): the bytes of anything with the buffer protocol, in whole
/// items, else the items of an iterable.
pub fn extend<F: FlashImage>(vm: &mut Vm<F>, v: Value, x: Value) -> R<()> {
    let Some(b) = view(vm, x) else {
        let it = vm.get_iter(x)?;
        while let Some(item) = vm.iter_next(it)? {
            append(vm, v, item)?;
        }
        return Ok(());
    };
    let sz = item_size(typecode(vm, v)).unwrap_or(1);
    let k = b.data.len() as u32 / sz;
    let bytes = b.data[..(k * sz) as usize].to_vec();
    reserve(vm, v, k, true)?;
    let n = len(vm, v);
    write(vm, v, n * sz, &bytes)?;
    set_len(vm, v, n + k)
}

/// Fills a new array from the items of iterable `x` (MicroPython's `array_extend_impl`),
/// allocating the exact size when `x` has a length.
pub fn fill_from_iter<F: FlashImage>(vm: &mut Vm<F>, v: Value, x: Value) -> R<()> {
    if let Some(f) = vm.slots(x).and_then(|t| t.unary_op)
        && let Some(n) = f(vm, unop::LEN, x)?
        && n.is_int()
    {
        reserve(vm, v, n.as_int().max(0) as u32, false)?;
    }
    let it = vm.get_iter(x)?;
    while let Some(item) = vm.iter_next(it)? {
        append(vm, v, item)?;
    }
    Ok(())
}

/// The bytes and item size of the right side of a slice store (`a[i:j] = x`): an array,
/// bytearray or memoryview of the same item size, or bytes for one-byte items.
pub fn slice_source<F: FlashImage>(vm: &mut Vm<F>, item: u32, x: Value) -> R<Vec<u8>> {
    let k = vm.kind(x);
    let src = if is_array_like(vm, x) || k == Some(memoryview::KIND) {
        view(vm, x).map(|b| (b.data.to_vec(), item_size(b.typecode).unwrap_or(1)))
    } else if k == Some(Kind::BYTES) {
        vm.str_obj_bytes(x).map(|b| (b.to_vec(), 1))
    } else {
        None
    };
    let Some((bytes, sz)) = src else {
        return vm.raise_msg("NotImplementedError", "array/bytes required on right side");
    };
    if sz != item {
        return vm.raise_msg("ValueError", "lhs and rhs should be compatible");
    }
    Ok(bytes)
}

/// `a[i:j] = x` of a bytearray or array: the store grows or shrinks to fit.
fn store_slice<F: FlashImage>(vm: &mut Vm<F>, v: Value, a: u32, b: u32, x: Value) -> R<()> {
    let sz = item_size(typecode(vm, v)).unwrap_or(1);
    let src = slice_source(vm, sz, x)?;
    let k = src.len() as u32 / sz;
    let n = len(vm, v);
    let old = data(vm, v).to_vec();
    let mut new = Vec::with_capacity(old.len() + src.len());
    new.extend_from_slice(&old[..(a * sz) as usize]);
    new.extend_from_slice(&src[..(k * sz) as usize]);
    new.extend_from_slice(&old[(b * sz) as usize..]);
    let new_len = n - (b - a) + k;
    if new_len > n {
        reserve(vm, v, new_len - n, true)?;
    }
    write(vm, v, 0, &new)?;
    // Zero what the array gave back, so a frozen copy carries no stale bytes.
    if new_len < n {
        let gone = alloc::vec![0u8; ((n - new_len) * sz) as usize];
        write(vm, v, new_len * sz, &gone)?;
    }
    set_len(vm, v, new_len)
}

/// The buffer slot of bytearray and array: the used bytes of its store, writable.
pub fn buffer<F: FlashImage>(vm: &Vm<F>, v: Value) -> Option<Buffer> {
    let tc = typecode(vm, v);
    Some(Buffer {
        addr: data_addr(vm, v),
        len: len(vm, v) * item_size(tc)?,
        writable: true,
        typecode: tc,
    })
}

/// The subscript slot of bytearray and array: items, step-1 slices (a new object of the same
/// kind), item and slice stores; no deletion, as in MicroPython.
pub fn subscr<F: FlashImage>(vm: &mut Vm<F>, v: Value, i: Value, op: SubscrOp) -> R<Option<Value>> {
    if op == SubscrOp::Delete {
        return no_item(vm, v, "deletion");
    }
    let tc = typecode(vm, v);
    let sz = item_size(tc).unwrap_or(1);
    let n = len(vm, v);
    if slice::is_slice(vm, i) {
        let (a, b) = fast_slice(vm, i, n)?;
        return match op {
            SubscrOp::Store(x) => store_slice(vm, v, a, b, x).map(|_| Some(Value::NULL)),
            _ => {
                let bytes = data(vm, v)[(a * sz) as usize..(b * sz) as usize].to_vec();
                new_like(vm, v, &bytes).map(Some)
            }
        };
    }
    let name = vm.class_name(vm.type_of(v));
    let k = slice::get_index(vm, &name, i, n)?;
    match op {
        SubscrOp::Store(x) => {
            let item = encode(vm, tc, x)?;
            write(vm, v, k * sz, &item[..sz as usize])?;
            Ok(Some(Value::NULL))
        }
        _ => {
            let at = (k * sz) as usize;
            let item = data(vm, v)[at..at + sz as usize].to_vec();
            load(vm, tc, &item).map(Some)
        }
    }
}

/// The typecode a comparison sees (bytearray as `B`), lower-cased, and whether it was
/// unsigned (upper case), as MicroPython's `typecode_for_comparison`.
fn comparison_code(tc: u8, unsigned: &mut bool) -> u8 {
    if tc.is_ascii_uppercase() {
        *unsigned = true;
        tc.to_ascii_lowercase()
    } else {
        tc
    }
}

/// MicroPython's `array_binary_op`, for bytearray, array and memoryview: `+` of anything with
/// the buffer protocol (a memoryview has none), `+=` extends, `in` searches bytes in a
/// bytearray only, comparisons compare the bytes of compatible item types.
pub fn binary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>> {
    let is_view = vm.kind(a) == Some(memoryview::KIND);
    match op {
        binop::ADD if !is_view => {
            let Some(l) = view(vm, a) else {
                return Ok(None);
            };
            let (tc, mut bytes) = (l.typecode, l.data.to_vec());
            let sz = item_size(tc).unwrap_or(1) as usize;
            let r = bytes_arg(vm, b)?;
            bytes.extend_from_slice(&r[..r.len() / sz * sz]);
            new_like(vm, a, &bytes).map(Some)
        }
        binop::INPLACE_ADD if !is_view => {
            extend(vm, a, b)?;
            Ok(Some(a))
        }
        binop::CONTAINS => {
            if let Some(needle) = view(vm, b).map(|n| n.data.to_vec()) {
                let r = vm.kind(a) == Some(bytearray::KIND)
                    && view(vm, a).is_some_and(|h| find(h.data, &needle, true).is_some());
                return Ok(Some(vm.bool_val(r)));
            }
            if vm.as_intlike(b).is_some() || vm.is_int(b) || vm.float_of(b).is_some() {
                return vm.raise_empty("NotImplementedError");
            }
            Ok(Some(vm.bool_val(false)))
        }
        binop::EQUAL | binop::LESS | binop::LESS_EQUAL | binop::MORE | binop::MORE_EQUAL => {
            let (Some(l), Some(r)) = (view(vm, a), view(vm, b)) else {
                return Ok(Some(vm.bool_val(false)));
            };
            let mut unsigned = false;
            let lc = comparison_code(l.typecode, &mut unsigned);
            let rc = comparison_code(r.typecode, &mut unsigned);
            if lc == rc && lc != b'f' && lc != b'd' && (op == binop::EQUAL || unsigned) {
                let ord = l.data.cmp(r.data);
                let res = match op {
                    binop::EQUAL => ord.is_eq(),
                    _ => binop::compare(op, ord).unwrap_or(false),
                };
                return Ok(Some(vm.bool_val(res)));
            }
            vm.raise_empty("NotImplementedError")
        }
        _ => Ok(None),
    }
}

/// The unary slot of bytearray, array and memoryview: truth, `len`; `hash` raises.
pub fn unary_op<F: FlashImage>(vm: &mut Vm<F>, op: u32, v: Value) -> R<Option<Value>> {
    let n = if vm.kind(v) == Some(memoryview::KIND) {
        memoryview::len(vm, v)
    } else {
        len(vm, v)
    };
    match op {
        unop::BOOL => Ok(Some(vm.bool_val(n != 0))),
        unop::LEN => Ok(Some(Value::small(n as i32))),
        unop::HASH => {
            let t = vm.class_name(vm.type_of(v));
            let msg = alloc::format!("unsupported type for __hash__: '{t}'");
            vm.raise_msg("TypeError", &msg)
        }
        _ => Ok(None),
    }
}

/// The print slot of array: `array('h', [1, 2])`, or `array('h')` when empty.
pub fn print_array<F: FlashImage>(
    vm: &mut Vm<F>,
    v: Value,
    s: &mut String,
    depth: u32,
    _k: PrintKind,
) -> R<()> {
    let tc = typecode(vm, v);
    s.push_str("array('");
    s.push(tc as char);
    s.push('\'');
    let n = len(vm, v);
    if n > 0 {
        s.push_str(", [");
        let sz = item_size(tc).unwrap_or(1) as usize;
        let bytes = data(vm, v).to_vec();
        for (i, item) in bytes.chunks_exact(sz).enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            let x = load(vm, tc, item)?;
            vm.print_into(x, s, depth + 1, PrintKind::Repr)?;
        }
        s.push(']');
    }
    s.push(')');
    Ok(())
}

/// Position of `needle` in `hay` (first or last), as MicroPython's `find_subbytes`: an empty
/// needle is found at the start (or the end).
pub fn find(hay: &[u8], needle: &[u8], forward: bool) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    let last = hay.len() - needle.len();
    if forward {
        (0..=last).find(|&i| &hay[i..i + needle.len()] == needle)
    } else {
        (0..=last)
            .rev()
            .find(|&i| &hay[i..i + needle.len()] == needle)
    }
}
