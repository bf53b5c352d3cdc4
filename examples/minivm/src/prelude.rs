//! The bytecode prelude: the header of every raw code (frame size, argument counts, scope
//! flags, source info), and the 7-bit-group integers of the bytecode.

use crate::mem::{FlashImage, Memory};

/// Scope flags of a code prelude.
pub mod scope {
    /// A generator function.
    pub const GENERATOR: u32 = 0x01;
    /// Takes `**kwargs`.
    pub const VARKEYWORDS: u32 = 0x02;
    /// Takes `*args`.
    pub const VARARGS: u32 = 0x04;
    /// Has keyword-only defaults.
    pub const DEFKWARGS: u32 = 0x08;
}

/// A decoded bytecode prelude.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prelude {
    /// Number of state slots (locals + operand stack).
    pub n_state: u32,
    /// Number of exception blocks.
    pub n_exc_stack: u32,
    /// Scope flags ([`scope`]).
    pub scope_flags: u32,
    /// Positional parameters.
    pub n_pos_args: u32,
    /// Keyword-only parameters.
    pub n_kwonly_args: u32,
    /// Positional parameters with defaults.
    pub n_def_pos_args: u32,
    /// Size of the source-info section.
    pub n_info: u32,
    /// Number of cell bytes.
    pub n_cell: u32,
    /// Index (into the module qstr table) of the function name.
    pub name_idx: u32,
    /// Offset of the source-info section from the bytecode start.
    pub info_off: u32,
    /// Offset of the first opcode from the bytecode start.
    pub code_off: u32,
}

/// Reads a 7-bit-group unsigned int, most significant group first.
pub fn read_uint(mem: &Memory<impl FlashImage>, addr: &mut u32) -> u32 {
    let mut v: u32 = 0;
    for _ in 0..5 {
        let b = mem.read_u8(*addr);
        *addr += 1;
        v = (v << 7) | (b & 0x7f) as u32;
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

impl Prelude {
    /// Decodes the prelude of the bytecode starting at `addr`.
    pub fn decode(mem: &Memory<impl FlashImage>, addr: u32) -> Prelude {
        Self::decode_with(|i| mem.read_u8(addr + i))
    }

    /// Decodes a prelude through a byte accessor (offsets from the bytecode start).
    pub fn decode_with(byte: impl Fn(u32) -> u8) -> Prelude {
        let mut p = Prelude::default();
        let mut i = 0u32;
        let mut z = byte(i);
        i += 1;
        let (mut s, mut e, mut f, mut a, mut k, mut d) = (
            ((z >> 3) & 0xf) as u32,
            ((z >> 2) & 1) as u32,
            0u32,
            (z & 3) as u32,
            0u32,
            0u32,
        );
        let mut n = 0;
        while z & 0x80 != 0 && n < 8 {
            z = byte(i);
            i += 1;
            s |= ((z & 0x30) as u32) << (2 * n);
            e |= ((z & 0x02) as u32) << n;
            f |= (((z & 0x40) >> 6) as u32) << n;
            a |= ((z & 0x4) as u32) << n;
            k |= (((z & 0x08) >> 3) as u32) << n;
            d |= ((z & 0x1) as u32) << n;
            n += 1;
        }
        p.n_state = s + 1;
        p.n_exc_stack = e;
        p.scope_flags = f;
        p.n_pos_args = a;
        p.n_kwonly_args = k;
        p.n_def_pos_args = d;
        let (mut ninfo, mut ncell) = (0u32, 0u32);
        let mut n = 0;
        loop {
            let z = byte(i);
            i += 1;
            ninfo |= (((z >> 1) & 0x3f) as u32) << (6 * n);
            ncell |= ((z & 1) as u32) << n;
            n += 1;
            if z & 0x80 == 0 || n >= 5 {
                break;
            }
        }
        p.n_info = ninfo;
        p.n_cell = ncell;
        p.info_off = i;
        // simple name: var uint
        let mut v = 0u32;
        for j in i..i + 5 {
            let b = byte(j);
            v = (v << 7) | (b & 0x7f) as u32;
            if b & 0x80 == 0 {
                break;
            }
        }
        p.name_idx = v;
        p.code_off = i + ninfo + ncell;
        p
    }
}
