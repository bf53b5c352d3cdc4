//! `struct` (also `ustruct`; the file takes the u-name, `struct` being a Rust keyword): packing
//! values into bytes, as MicroPython's `modstruct.c` and `binary.c`.
//!
//! - `calcsize(fmt)`, `pack(fmt, v…)`, `pack_into(fmt, buffer, offset, v…)`,
//!   `unpack(fmt, data)` and `unpack_from(fmt, data[, offset])` (one function in MicroPython:
//!   `unpack` takes a buffer at least big enough, not exactly so).
//! - The format: an optional first byte order, `@` (native: sizes and alignment of a 32-bit
//!   port), `<`, `>` or `!` (standard sizes, no alignment); then items, each with an optional
//!   count: `b B h H i I l L q Q` (ints), `e f d` (half, single, double floats), `P` (a
//!   machine word), `x` (a pad byte), `Ns` (N bytes, padded with zeros or cut). `=` and `?` are
//!   not codes here (`ValueError: bad typecode`, as in MicroPython), nor are spaces.
//! - MicroPython's leniency is kept: `pack` with too few values leaves zeros, extra values are
//!   ignored; ints keep their low bytes (`pack('<B', 300)` is `b','`); a negative offset counts
//!   from the end; `ValueError: buffer too small` when the buffer is short.
//! - `O` and `S` (raw object and C-string pointers) have their 4-byte size in `calcsize`, but
//!   packing or unpacking them raises `NotImplementedError`: a pointer read back from bytes
//!   could name any address, and minivm never dereferences data it did not make.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::types::buffer;
use crate::vm::{R, Thrown, Vm};

/// The `struct` module.
pub struct Struct;

impl<F: FlashImage> NativeModule<F> for Struct {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["ustruct"],
        functions: &[
            Native::args("calcsize", calcsize, 1, 1),
            Native::args("pack", pack, 1, 255),
            Native::args("pack_into", pack_into, 3, 255),
            Native::args("unpack", unpack_from, 2, 3),
            Native::args("unpack_from", unpack_from, 2, 3),
        ],
        ..ModuleDef::new("struct")
    };
}

/// One parsed item of a format: `count` times code `code` (a byte string of `count` for `s`).
#[derive(Clone, Copy)]
struct Item {
    code: u8,
    count: usize,
}

/// A parsed format: byte order (`@`, `<` or `>`) and the items.
struct Format {
    order: u8,
    items: Vec<Item>,
}

impl Format {
    /// Size and alignment of one `code` item in this byte order, `None` for a bad code.
    fn size_align(&self, code: u8) -> Option<(usize, usize)> {
        let size = match code {
            b'b' | b'B' | b'x' | b's' => 1,
            b'h' | b'H' | b'e' => 2,
            b'i' | b'I' | b'l' | b'L' | b'f' | b'P' | b'O' | b'S' => 4,
            b'q' | b'Q' | b'd' => 8,
            _ => return None,
        };
        Some((size, if self.order == b'@' { size } else { 1 }))
    }

    /// The packed size in bytes, and the number of values (`x` takes none, `Ns` one).
    fn size_and_values(&self) -> (usize, usize) {
        let (mut size, mut values) = (0usize, 0usize);
        for it in &self.items {
            if it.code == b's' {
                size += it.count;
                values += 1;
                continue;
            }
            let (sz, align) = self.size_align(it.code).unwrap_or((1, 1));
            for _ in 0..it.count {
                size = size.div_ceil(align) * align + sz;
            }
            if it.code != b'x' {
                values += it.count;
            }
        }
        (size, values)
    }
}

/// Parses `fmt` (a str or bytes): `ValueError: bad typecode` for an unknown code (a count
/// with no code after it included).
fn parse<F: FlashImage>(vm: &mut Vm<F>, fmt: Value) -> R<Format> {
    let text = match vm.kind(fmt) {
        Some(Kind::BYTES) => vm.str_obj_bytes(fmt),
        _ => vm.str_bytes(fmt),
    };
    let Some(text) = text.map(<[u8]>::to_vec) else {
        let t = vm.class_name(vm.type_of(fmt));
        let msg = alloc::format!("can't convert '{t}' object to str implicitly");
        return vm.raise_msg("TypeError", &msg);
    };
    let (order, mut rest) = match text.first() {
        Some(b'!') => (b'>', &text[1..]),
        Some(&c @ (b'@' | b'<' | b'>')) => (c, &text[1..]),
        _ => (b'@', &text[..]),
    };
    let mut f = Format {
        order,
        items: Vec::new(),
    };
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let count = if digits == 0 {
            1
        } else {
            rest[..digits].iter().fold(0usize, |n, &d| {
                n.saturating_mul(10).saturating_add((d - b'0') as usize)
            })
        };
        let Some(&code) = rest.get(digits) else {
            return vm.raise_msg("ValueError", "bad typecode");
        };
        if f.size_align(code).is_none() {
            return vm.raise_msg("ValueError", "bad typecode");
        }
        f.items.push(Item { code, count });
        rest = &rest[digits + 1..];
    }
    // A size beyond what any buffer can hold is a MemoryError, not a wrapped count.
    if f.items.iter().any(|it| it.count > u32::MAX as usize / 8) {
        vm.exc = Value(vm.st.memory_error);
        return Err(Thrown);
    }
    Ok(f)
}

/// `calcsize(fmt)`.
fn calcsize<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let f = parse(vm, args[0])?;
    vm.int_val(f.size_and_values().0 as i64)
}

/// The bytes of one value as item `code` in the format's byte order.
fn encode_one<F: FlashImage>(vm: &mut Vm<F>, f: &Format, code: u8, v: Value) -> R<Vec<u8>> {
    let (size, _) = f.size_align(code).unwrap_or((1, 1));
    let mut b = match code {
        b'e' => f64_to_f16(vm.float_arg(v)?).to_le_bytes().to_vec(),
        b'P' => buffer::encode(vm, b'I', v)?[..4].to_vec(),
        b'O' | b'S' => return pointer_code(vm, code),
        _ => buffer::encode(vm, code, v)?[..size].to_vec(),
    };
    if f.order == b'>' {
        b.reverse();
    }
    Ok(b)
}

/// The value of item `code` from its bytes in the format's byte order.
fn decode_one<F: FlashImage>(vm: &mut Vm<F>, f: &Format, code: u8, bytes: &[u8]) -> R<Value> {
    let mut b = bytes.to_vec();
    if f.order == b'>' {
        b.reverse();
    }
    match code {
        b'e' => {
            let h = u16::from_le_bytes([b[0], b[1]]);
            vm.new_float(f16_to_f64(h))
        }
        b'P' => buffer::load(vm, b'I', &b),
        b'O' | b'S' => pointer_code(vm, code),
        _ => buffer::load(vm, code, &b),
    }
}

fn pointer_code<F: FlashImage, T>(vm: &mut Vm<F>, code: u8) -> R<T> {
    let msg = alloc::format!(
        "struct code '{}': raw pointers are not supported",
        code as char
    );
    vm.raise_msg("NotImplementedError", &msg)
}

/// Packs `values` into `out` (already `calcsize` zero bytes) as `modstruct.c` does: values run
/// out, the rest stays zero; extra values are ignored.
fn pack_values<F: FlashImage>(
    vm: &mut Vm<F>,
    f: &Format,
    values: &[Value],
    out: &mut [u8],
) -> R<()> {
    let (mut p, mut i) = (0usize, 0usize);
    for it in &f.items {
        if i >= values.len() {
            break;
        }
        if it.code == b's' {
            let data = buffer::bytes_arg(vm, values[i])?;
            i += 1;
            let n = data.len().min(it.count);
            out[p..p + n].copy_from_slice(&data[..n]);
            p += it.count;
            continue;
        }
        let (size, align) = f.size_align(it.code).unwrap_or((1, 1));
        for _ in 0..it.count {
            if i >= values.len() {
                break;
            }
            p = p.div_ceil(align) * align;
            if it.code != b'x' {
                let b = encode_one(vm, f, it.code, values[i])?;
                out[p..p + size].copy_from_slice(&b);
                i += 1;
            }
            p += size;
        }
    }
    Ok(())
}

/// `pack(fmt, v…)`.
fn pack<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let f = parse(vm, args[0])?;
    let mut out = alloc::vec![0u8; f.size_and_values().0];
    pack_values(vm, &f, &args[1..], &mut out)?;
    vm.new_str_obj(Kind::BYTES, &out)
}

/// An offset into a buffer of `len` bytes with room for `size`: a negative one counts from
/// the end.
fn offset_in<F: FlashImage>(vm: &mut Vm<F>, off: i64, len: usize, size: usize) -> R<usize> {
    let off = if off < 0 { len as i64 + off } else { off };
    if off < 0 || off as u64 + size as u64 > len as u64 {
        return vm.raise_msg("ValueError", "buffer too small");
    }
    Ok(off as usize)
}

/// `pack_into(fmt, buffer, offset, v…)`: into a writable buffer.
fn pack_into<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let Some(b) = vm.buffer(args[1]).filter(|b| b.writable) else {
        return vm.raise_msg("TypeError", "object with buffer protocol required");
    };
    let off = vm.int_arg(args[2])?;
    let f = parse(vm, args[0])?;
    let size = f.size_and_values().0;
    let off = offset_in(vm, off, b.len as usize, size)?;
    let mut out = buffer::bytes_arg(vm, args[1])?[off..off + size].to_vec();
    pack_values(vm, &f, &args[3..], &mut out)?;
    // The values may have run code that resized the buffer: look it up again.
    match vm
        .buffer(args[1])
        .filter(|b| b.writable && (b.len as usize) >= off + size)
    {
        Some(b) => vm
            .mem
            .write_bytes(b.addr + off as u32, &out)
            .or_else(|e| vm.raise_mem(e))?,
        None => return vm.raise_msg("ValueError", "buffer too small"),
    }
    Ok(Value(vm.st.none))
}

/// `unpack(fmt, data)`, `unpack_from(fmt, data[, offset])`: a buffer at least big enough.
fn unpack_from<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let f = parse(vm, args[0])?;
    let (size, n_values) = f.size_and_values();
    let data = buffer::bytes_arg(vm, args[1])?;
    let off = match args.get(2) {
        Some(&o) => vm.int_arg(o)?,
        None => 0,
    };
    let mut p = offset_in(vm, off, data.len(), size)?;
    let mut items = Vec::with_capacity(n_values);
    for it in &f.items {
        if it.code == b's' {
            let b = vm.new_str_obj(Kind::BYTES, &data[p..p + it.count])?;
            items.push(b);
            p += it.count;
            continue;
        }
        let (sz, align) = f.size_align(it.code).unwrap_or((1, 1));
        for _ in 0..it.count {
            p = p.div_ceil(align) * align;
            if it.code != b'x' {
                let v = decode_one(vm, &f, it.code, &data[p..p + sz])?;
                items.push(v);
            }
            p += sz;
        }
    }
    vm.new_tuple(&items)
}

/// IEEE 754 binary16 of `x`, rounded to nearest even; overflow gives infinity.
fn f64_to_f16(x: f64) -> u16 {
    let bits = (x as f32).to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let man = bits & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        // Subnormal: the implicit bit joins the mantissa, shifted into place with rounding.
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let mut r = m >> shift;
        let rem = m & ((1 << shift) - 1);
        if rem > half || (rem == half && r & 1 == 1) {
            r += 1;
        }
        return sign | r as u16;
    }
    let mut r = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    if rem > 0x1000 || (rem == 0x1000 && r & 1 == 1) {
        r += 1; // may carry into the exponent, up to infinity: still correct
    }
    sign | r as u16
}

/// The value of IEEE 754 binary16 `h`.
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let man = (h & 0x3ff) as f64;
    sign * match exp {
        0 => man * libm::exp2(-24.0),
        0x1f if man == 0.0 => f64::INFINITY,
        0x1f => f64::NAN,
        _ => (1.0 + man / 1024.0) * libm::exp2((exp - 15) as f64),
    }
}
