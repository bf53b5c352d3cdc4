//! `hashlib` (also `uhashlib`): `sha256` and `sha1`, as on MicroPython's rp2 port:
//! `h = sha256([data])`, `h.update(data)`, `h.digest()`. As in MicroPython, `digest()`
//! finalises the hash: a second `digest()` or an `update()` after it raises
//! `ValueError: hash is final`; there is no `hexdigest` (use `binascii.hexlify`).
//!
//! The block functions are the RustCrypto `sha2` and `sha1` crates' `compress`; the hash state
//! lives in the object itself, in VM memory, so a hash object can be frozen (to the RAM section)
//! and keeps working after a reboot:
//!
//! ```text
//! [hdr final|SHA256 or SHA1] [bytes hashed: u64 LE] [state: 8 (or 5) u32 LE] [block: 64 bytes]
//! ```
//!
//! Raw: no value words (the GC and the freezer never read the state as references).

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{
    Freeze, Layout, ModuleDef, Native, NativeModule, NativeType, PrintKind, TypeSlots,
};
use crate::types::buffer;
use crate::vm::{R, Vm};

/// The `hashlib` module.
pub struct Hashlib;

impl<F: FlashImage> NativeModule<F> for Hashlib {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["uhashlib"],
        extensible: true,
        constants: &[
            crate::slots::Constant::Type("sha256", SHA256),
            crate::slots::Constant::Type("sha1", SHA1),
        ],
        ..ModuleDef::new("hashlib")
    };
}

/// The kind of a SHA-256 hash.
pub const SHA256: Kind = Kind::new(42);
/// The kind of a SHA-1 hash.
pub const SHA1: Kind = Kind::new(43);

/// In the header: `digest()` was called.
const FINAL: u32 = 1;

/// Offset of the state words.
const STATE: u32 = 12;
/// Bytes of a block.
const BLOCK: usize = 64;

/// An algorithm: its state size in words, initial state and block function.
struct Algo {
    words: usize,
    init: &'static [u32],
    compress: fn(&mut [u32], &[u8; BLOCK]),
}

const SHA256_INIT: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];
const SHA1_INIT: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];

fn sha256_block(state: &mut [u32], block: &[u8; BLOCK]) {
    let mut s = [0u32; 8];
    s.copy_from_slice(&state[..8]);
    let b = sha2::digest::generic_array::GenericArray::from_slice(block);
    sha2::compress256(&mut s, core::slice::from_ref(b));
    state[..8].copy_from_slice(&s);
}

fn sha1_block(state: &mut [u32], block: &[u8; BLOCK]) {
    let mut s = [0u32; 5];
    s.copy_from_slice(&state[..5]);
    let b = sha1::digest::generic_array::GenericArray::from_slice(block);
    sha1::compress(&mut s, core::slice::from_ref(b));
    state[..5].copy_from_slice(&s);
}

fn algo(kind: Kind) -> Algo {
    if kind == SHA1 {
        Algo {
            words: 5,
            init: &SHA1_INIT,
            compress: sha1_block,
        }
    } else {
        Algo {
            words: 8,
            init: &SHA256_INIT,
            compress: sha256_block,
        }
    }
}

/// The object size of a hash with header `hdr`.
fn size(hdr: u32) -> u32 {
    let words = if hdr as u8 == SHA1.id() { 5 } else { 8 };
    STATE + 4 * words + BLOCK as u32
}

/// The `sha256` type.
pub struct Sha256;

impl<F: FlashImage> NativeType<F> for Sha256 {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Raw { size },
        freeze: Freeze::Ram,
        make_new: Some(make_new),
        print: Some(print),
        builtin: false,
        methods: &[
            Native::args("update", update, 2, 2),
            Native::args("digest", digest, 1, 1),
        ],
        ..TypeSlots::new(SHA256, "sha256")
    };
}

/// The `sha1` type.
pub struct Sha1;

impl<F: FlashImage> NativeType<F> for Sha1 {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Raw { size },
        freeze: Freeze::Ram,
        make_new: Some(make_new),
        print: Some(print),
        builtin: false,
        methods: &[
            Native::args("update", update, 2, 2),
            Native::args("digest", digest, 1, 1),
        ],
        ..TypeSlots::new(SHA1, "sha1")
    };
}

/// A hash's state, read from its object.
struct State {
    count: u64,
    h: [u32; 8],
    block: [u8; BLOCK],
}

fn load<F: FlashImage>(vm: &Vm<F>, o: Value, a: &Algo) -> State {
    let mut s = State {
        count: 0,
        h: [0; 8],
        block: [0; BLOCK],
    };
    s.count = vm.w(o, 1) as u64 | (vm.w(o, 2) as u64) << 32;
    for i in 0..a.words {
        s.h[i] = vm.mem.read_u32(o.0 + STATE + 4 * i as u32);
    }
    if let Some(b) = vm.mem.bytes(o.0 + STATE + 4 * a.words as u32, BLOCK as u32) {
        s.block.copy_from_slice(b);
    }
    s
}

fn store<F: FlashImage>(vm: &mut Vm<F>, o: Value, a: &Algo, s: &State) -> R<()> {
    let mut bytes = alloc::vec::Vec::with_capacity(size(vm.w(o, 0)) as usize - 4);
    bytes.extend_from_slice(&s.count.to_le_bytes());
    for w in &s.h[..a.words] {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    bytes.extend_from_slice(&s.block);
    vm.mem
        .write_bytes(o.0 + 4, &bytes)
        .or_else(|e| vm.raise_mem(e))
}

/// Feeds `data` to state `s`.
fn feed(a: &Algo, s: &mut State, mut data: &[u8]) {
    while !data.is_empty() {
        let used = (s.count % BLOCK as u64) as usize;
        let take = (BLOCK - used).min(data.len());
        s.block[used..used + take].copy_from_slice(&data[..take]);
        s.count += take as u64;
        data = &data[take..];
        if used + take == BLOCK {
            (a.compress)(&mut s.h[..a.words], &s.block);
        }
    }
}

/// `sha256([data])`, `sha1([data])`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, class: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 0, 1)?;
    let kind = if (vm.aux(class) >> 8) as u8 == SHA1.id() {
        SHA1
    } else {
        SHA256
    };
    let a = algo(kind);
    let data = match args.first() {
        Some(&d) => buffer::bytes_arg(vm, d)?,
        None => alloc::vec::Vec::new(),
    };
    let total = size(kind.id() as u32);
    let addr = vm.alloc(total)?;
    let o = Value(addr);
    let _ = vm.mem.write_u32(addr, header(kind, 0));
    let mut s = State {
        count: 0,
        h: [0; 8],
        block: [0; BLOCK],
    };
    s.h[..a.words].copy_from_slice(a.init);
    feed(&a, &mut s, &data);
    store(vm, o, &a, &s)?;
    Ok(o)
}

/// The hash a method is called on, not yet final.
fn open_arg<F: FlashImage>(vm: &mut Vm<F>, o: Value) -> R<Algo> {
    let kind = vm.kind(o);
    if kind != Some(SHA256) && kind != Some(SHA1) {
        return vm.raise_msg("TypeError", "expected a hash");
    }
    if vm.aux(o) & FINAL != 0 {
        return vm.raise_msg("ValueError", "hash is final");
    }
    Ok(algo(kind.unwrap_or(SHA256)))
}

/// `h.update(data)`.
fn update<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let o = args[0];
    let a = open_arg(vm, o)?;
    let data = buffer::bytes_arg(vm, arg(args, 1))?;
    let mut s = load(vm, o, &a);
    feed(&a, &mut s, &data);
    store(vm, o, &a, &s)?;
    Ok(vm.none())
}

/// `h.digest()`: the hash of everything fed, big-endian; the hash is final after it.
fn digest<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let o = args[0];
    let a = open_arg(vm, o)?;
    let mut s = load(vm, o, &a);
    let bits = s.count.wrapping_mul(8);
    let mut pad = alloc::vec![0x80u8];
    let used = (s.count % BLOCK as u64) as usize + 1;
    pad.resize(pad.len() + (BLOCK + BLOCK - 8 - used) % BLOCK, 0);
    pad.extend_from_slice(&bits.to_be_bytes());
    feed(&a, &mut s, &pad);
    let mut out = alloc::vec::Vec::with_capacity(4 * a.words);
    for w in &s.h[..a.words] {
        out.extend_from_slice(&w.to_be_bytes());
    }
    let hdr = vm.w(o, 0);
    vm.set_w(o, 0, hdr | FINAL << 8)?;
    vm.new_str_obj(Kind::BYTES, &out)
}

fn print<F: FlashImage>(
    vm: &mut Vm<F>,
    v: Value,
    s: &mut alloc::string::String,
    _d: u32,
    _k: PrintKind,
) -> R<()> {
    s.push_str(if vm.kind(v) == Some(SHA1) {
        "<sha1>"
    } else {
        "<sha256>"
    });
    Ok(())
}
