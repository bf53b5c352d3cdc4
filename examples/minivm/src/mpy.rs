//! `.mpy` v6 loader: validates the file, then builds heap objects from it.
//!
//! File layout (all integers are 7-bit groups, most significant group first, high bit =
//! "more follows"):
//!
//! ```text
//! 'M' | version 6 | feature: arch << 2 | sub-version | small-int bits
//! n_qstr | n_obj
//! qstr × n_qstr        len << 1 + bytes + NUL, or (static id << 1) | 1
//! const × n_obj        type byte + payload (str/bytes/int-as-text/float-as-text/tuple…)
//! raw code             (len << 3 | has_children << 2 | kind) + bytecode [+ n_children + children]
//! ```
//!
//! [`parse`] checks everything (bounds, version, small-int width, bytecode-only, prelude
//! sizes, nesting depth) and returns a typed [`LoadError`] naming the offset; it never panics
//! on malformed input. [`Vm::load_mpy`] then materialises the parsed file.

use alloc::vec::Vec;
use core::fmt;

use crate::formatfloat::parse_float;
use crate::mem::FlashImage;
use crate::mpz::Mpz;
use crate::obj::*;
use crate::prelude::Prelude;
use crate::vm::{R, Vm};

/// Why a `.mpy` file was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The first byte is not `M`.
    BadMagic(u8),
    /// The format version is not 6.
    BadVersion(u8),
    /// The file contains native code for this architecture id.
    NativeArch(u8),
    /// The file needs more small-int bits than minivm has.
    SmallIntBits(u8),
    /// The file ends early (offset where more bytes were needed).
    Truncated(usize),
    /// A qstr index of the `.mpy` is not a valid static qstr.
    BadStaticQstr {
        /// Byte offset.
        offset: usize,
        /// The id.
        id: u32,
    },
    /// Unknown constant type byte.
    BadConst {
        /// Byte offset.
        offset: usize,
        /// The type byte.
        kind: u8,
    },
    /// An integer constant that is not a decimal integer (or has more than
    /// [`MAX_INT_DIGITS`] digits).
    BadInt(usize),
    /// A float constant whose text is not a float.
    BadFloat(usize),
    /// A complex constant (minivm has no complex numbers).
    Complex(usize),
    /// A raw code that is not bytecode.
    NativeCode(usize),
    /// A bytecode prelude that does not fit in its function.
    BadPrelude(usize),
    /// Raw codes or tuples nested too deeply.
    TooDeep(usize),
    /// The VM heap is full.
    OutOfMemory,
    /// Bytes left after the top-level raw code.
    TrailingBytes(usize),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::BadMagic(b) => write!(f, "not an .mpy file (first byte {b:#04x}, want 'M')"),
            LoadError::BadVersion(v) => write!(f, "incompatible .mpy version {v} (want 6)"),
            LoadError::NativeArch(a) => write!(f, "native code in .mpy unsupported (arch {a})"),
            LoadError::SmallIntBits(b) => {
                write!(
                    f,
                    ".mpy needs {b}-bit small ints, minivm has {SMALL_INT_BITS}"
                )
            }
            LoadError::Truncated(o) => write!(f, ".mpy truncated at byte {o}"),
            LoadError::BadStaticQstr { offset, id } => {
                write!(f, "bad static qstr id {id} at byte {offset}")
            }
            LoadError::BadConst { offset, kind } => {
                write!(f, "unknown constant type {kind} at byte {offset}")
            }
            LoadError::BadInt(o) => write!(f, "integer constant too big or malformed at byte {o}"),
            LoadError::BadFloat(o) => write!(f, "malformed float constant at byte {o}"),
            LoadError::Complex(o) => write!(f, "complex constant at byte {o} unsupported"),
            LoadError::NativeCode(o) => write!(f, "native raw code at byte {o} unsupported"),
            LoadError::BadPrelude(o) => write!(f, "bad bytecode prelude at byte {o}"),
            LoadError::TooDeep(o) => write!(f, "nesting too deep at byte {o}"),
            LoadError::OutOfMemory => write!(f, "out of heap memory while loading"),
            LoadError::TrailingBytes(o) => {
                write!(f, "unexpected bytes after the module at byte {o}")
            }
        }
    }
}

/// A parsed qstr: a static id or text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QstrRef {
    /// Static qstr id (1..=165).
    Static(u32),
    /// Text to intern.
    Text(Vec<u8>),
}

/// A parsed constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// None.
    None,
    /// False.
    False,
    /// True.
    True,
    /// Ellipsis.
    Ellipsis,
    /// A str.
    Str(Vec<u8>),
    /// A bytes.
    Bytes(Vec<u8>),
    /// A small int.
    Int(i32),
    /// An int beyond the small-int range.
    BigInt(Mpz),
    /// A float.
    Float(f64),
    /// A tuple.
    Tuple(Vec<Const>),
}

/// A parsed raw code.
#[derive(Clone, Debug, PartialEq)]
pub struct RawCode {
    /// Bytecode including the prelude.
    pub bytecode: Vec<u8>,
    /// Decoded prelude.
    pub prelude: Prelude,
    /// Nested raw codes (functions, classes, comprehensions).
    pub children: Vec<RawCode>,
}

/// A parsed `.mpy` file.
#[derive(Clone, Debug, PartialEq)]
pub struct MpyFile {
    /// Small-int bits from the header.
    pub small_int_bits: u8,
    /// The qstr table (entry 0 is the source file name).
    pub qstrs: Vec<QstrRef>,
    /// The constant table.
    pub consts: Vec<Const>,
    /// The module's top-level code.
    pub root: RawCode,
}

const MAX_DEPTH: u32 = 32;

/// Most digits of an integer constant (a bound on the work of parsing one; 20000 decimal
/// digits are 8 KiB of limbs).
pub const MAX_INT_DIGITS: usize = 20_000;

/// Parses an integer constant's text: an optional `-`, then decimal digits.
fn parse_int_const(text: &[u8], off: usize) -> Result<Const, LoadError> {
    let (neg, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.len() > MAX_INT_DIGITS || !digits.iter().all(u8::is_ascii_digit) {
        return Err(LoadError::BadInt(off));
    }
    let z = Mpz::from_digits(digits, 10).ok_or(LoadError::BadInt(off))?;
    let z = if neg { z.neg() } else { z };
    Ok(match z.to_i64().and_then(Value::int) {
        Some(v) => Const::Int(v.as_int()),
        None => Const::BigInt(z),
    })
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, LoadError> {
        let x = *self.b.get(self.pos).ok_or(LoadError::Truncated(self.pos))?;
        self.pos += 1;
        Ok(x)
    }
    fn uint(&mut self) -> Result<u32, LoadError> {
        let start = self.pos;
        let mut v: u64 = 0;
        loop {
            let b = self.byte()?;
            v = (v << 7) | (b & 0x7f) as u64;
            if v > u32::MAX as u64 {
                return Err(LoadError::BadInt(start));
            }
            if b & 0x80 == 0 {
                return Ok(v as u32);
            }
        }
    }
    fn take(&mut self, n: usize) -> Result<&[u8], LoadError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(LoadError::Truncated(self.pos))?;
        let s = self
            .b
            .get(self.pos..end)
            .ok_or(LoadError::Truncated(self.b.len()))?;
        self.pos = end;
        Ok(s)
    }
}

/// Parses and validates a `.mpy` v6 file.
pub fn parse(bytes: &[u8]) -> Result<MpyFile, LoadError> {
    let mut r = Reader { b: bytes, pos: 0 };
    let magic = r.byte()?;
    if magic != b'M' {
        return Err(LoadError::BadMagic(magic));
    }
    let ver = r.byte()?;
    if ver != 6 {
        return Err(LoadError::BadVersion(ver));
    }
    let feat = r.byte()?;
    let arch = feat >> 2;
    if arch != 0 {
        return Err(LoadError::NativeArch(arch));
    }
    let bits = r.byte()?;
    if bits > SMALL_INT_BITS {
        return Err(LoadError::SmallIntBits(bits));
    }
    let n_qstr = r.uint()?;
    let n_obj = r.uint()?;
    // Each qstr and constant takes at least one byte: reject absurd counts early.
    if n_qstr as usize > bytes.len() || n_obj as usize > bytes.len() {
        return Err(LoadError::Truncated(bytes.len()));
    }
    let mut qstrs = Vec::with_capacity(n_qstr as usize);
    for _ in 0..n_qstr {
        qstrs.push(parse_qstr(&mut r)?);
    }
    let mut consts = Vec::with_capacity(n_obj as usize);
    for _ in 0..n_obj {
        consts.push(parse_const(&mut r, 0)?);
    }
    let root = parse_raw_code(&mut r, 0)?;
    if r.pos != bytes.len() {
        return Err(LoadError::TrailingBytes(r.pos));
    }
    Ok(MpyFile {
        small_int_bits: bits,
        qstrs,
        consts,
        root,
    })
}

fn parse_qstr(r: &mut Reader) -> Result<QstrRef, LoadError> {
    let off = r.pos;
    let v = r.uint()?;
    if v & 1 == 1 {
        let id = v >> 1;
        if id == 0 || id > crate::qstr::N_STATIC {
            return Err(LoadError::BadStaticQstr { offset: off, id });
        }
        return Ok(QstrRef::Static(id));
    }
    let s = r.take((v >> 1) as usize)?.to_vec();
    r.byte()?; // NUL
    Ok(QstrRef::Text(s))
}

fn parse_const(r: &mut Reader, depth: u32) -> Result<Const, LoadError> {
    let off = r.pos;
    if depth > MAX_DEPTH {
        return Err(LoadError::TooDeep(off));
    }
    let t = r.byte()?;
    Ok(match t {
        1 => Const::None,
        2 => Const::False,
        3 => Const::True,
        4 => Const::Ellipsis,
        5..=9 => {
            let n = r.uint()? as usize;
            let data = r.take(n)?.to_vec();
            match t {
                5 => {
                    r.byte()?;
                    Const::Str(data)
                }
                6 => {
                    r.byte()?;
                    Const::Bytes(data)
                }
                7 => parse_int_const(&data, off)?,
                8 => Const::Float(parse_float(&data).ok_or(LoadError::BadFloat(off))?),
                _ => return Err(LoadError::Complex(off)),
            }
        }
        10 => {
            let n = r.uint()? as usize;
            if n > r.b.len() {
                return Err(LoadError::Truncated(r.b.len()));
            }
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(parse_const(r, depth + 1)?);
            }
            Const::Tuple(items)
        }
        kind => return Err(LoadError::BadConst { offset: off, kind }),
    })
}

fn parse_raw_code(r: &mut Reader, depth: u32) -> Result<RawCode, LoadError> {
    let off = r.pos;
    if depth > MAX_DEPTH {
        return Err(LoadError::TooDeep(off));
    }
    let kl = r.uint()?;
    if kl & 3 != 0 {
        return Err(LoadError::NativeCode(off));
    }
    let has_children = kl & 4 != 0;
    let len = (kl >> 3) as usize;
    let code_at = r.pos;
    let bytecode = r.take(len)?.to_vec();
    // The prelude must fit: decode with an accessor that reports reads past the end.
    let over = core::cell::Cell::new(false);
    let prelude = Prelude::decode_with(|i| match bytecode.get(i as usize) {
        Some(b) => *b,
        None => {
            over.set(true);
            0
        }
    });
    let p = &prelude;
    let n_params = p.n_pos_args
        + p.n_kwonly_args
        + u32::from(p.scope_flags & 0x04 != 0)
        + u32::from(p.scope_flags & 0x02 != 0);
    if over.get()
        || p.code_off as usize > bytecode.len()
        || p.n_state > 4096
        || n_params > p.n_state
        || p.n_def_pos_args > p.n_pos_args
    {
        return Err(LoadError::BadPrelude(code_at));
    }
    let mut children = Vec::new();
    if has_children {
        let n = r.uint()? as usize;
        if n > r.b.len() {
            return Err(LoadError::Truncated(r.b.len()));
        }
        for _ in 0..n {
            children.push(parse_raw_code(r, depth + 1)?);
        }
    }
    Ok(RawCode {
        bytecode,
        prelude,
        children,
    })
}

impl<F: FlashImage> Vm<F> {
    /// Loads `.mpy` bytes as module code bound to `globals`; returns the top-level function.
    pub fn load_mpy(&mut self, bytes: &[u8], globals: Value) -> Result<Value, LoadError> {
        let file = parse(bytes)?;
        self.materialize(&file, globals).map_err(|_| {
            self.exc = Value::NULL;
            LoadError::OutOfMemory
        })
    }

    fn materialize(&mut self, file: &MpyFile, globals: Value) -> R<Value> {
        let mut ids = Vec::with_capacity(file.qstrs.len());
        for q in &file.qstrs {
            let v = match q {
                QstrRef::Static(id) => Value::qstr(*id),
                QstrRef::Text(t) => self.intern(t)?,
            };
            ids.push(v);
        }
        let qt = self.qstr_table(&ids)?;
        let ct = self.new_array_of(Kind::CONST_ARRAY, file.consts.len() as u32)?;
        for (i, c) in file.consts.iter().enumerate() {
            let v = self.make_const(c)?;
            self.set_w(ct, 1 + i as u32, v.0)?;
        }
        let ctx = self.alloc_obj(Kind::CONTEXT, 0, &[globals, qt, ct])?;
        let rc = self.make_raw_code(&file.root)?;
        self.alloc_obj(Kind::FUNC, 0, &[rc, ctx, Value::NULL])
    }

    /// A module's qstr table: the ids as u16s in a bytes object (2 bytes each, as
    /// MicroPython's `qstr_table`), or one word each in a constant array should an id not fit.
    fn qstr_table(&mut self, ids: &[Value]) -> R<Value> {
        if ids.iter().all(|q| q.as_qstr() <= u16::MAX as u32) {
            let bytes: Vec<u8> = ids
                .iter()
                .flat_map(|q| (q.as_qstr() as u16).to_le_bytes())
                .collect();
            return self.new_str_obj(Kind::BYTES, &bytes);
        }
        let qt = self.new_array_of(Kind::CONST_ARRAY, ids.len() as u32)?;
        for (i, q) in ids.iter().enumerate() {
            self.set_w(qt, 1 + i as u32, q.0)?;
        }
        Ok(qt)
    }

    fn make_const(&mut self, c: &Const) -> R<Value> {
        Ok(match c {
            Const::None => self.none(),
            Const::False => Value(self.st.false_),
            Const::True => Value(self.st.true_),
            Const::Ellipsis => Value(self.st.ellipsis),
            Const::Str(s) => self.new_str_obj(Kind::STR, s)?,
            Const::Bytes(s) => self.new_str_obj(Kind::BYTES, s)?,
            Const::Int(n) => Value::small(*n),
            Const::BigInt(z) => self.new_int(z)?,
            Const::Float(f) => self.new_float(*f)?,
            Const::Tuple(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for it in items {
                    vals.push(self.make_const(it)?);
                }
                self.new_tuple(&vals)?
            }
        })
    }

    fn make_raw_code(&mut self, rc: &RawCode) -> R<Value> {
        let bc = self.new_str_obj(Kind::BYTES, &rc.bytecode)?;
        let children = if rc.children.is_empty() {
            Value::NULL
        } else {
            let arr = self.new_array_of(Kind::CONST_ARRAY, rc.children.len() as u32)?;
            for (i, ch) in rc.children.iter().enumerate() {
                let c = self.make_raw_code(ch)?;
                self.set_w(arr, 1 + i as u32, c.0)?;
            }
            arr
        };
        self.alloc_obj(
            Kind::RAW_CODE,
            0,
            &[bc, children, Value::small(rc.prelude.scope_flags as i32)],
        )
    }
}
