//! Object representation: tagged 32-bit values and the byte layout of every object kind.
//!
//! A [`Value`] is one little-endian `u32` word:
//!
//! ```text
//! ....................xxxxxxxxxxx1   small int n, stored as (n << 1) | 1 (31 bits, signed)
//! ....................qqqqqqqqq010   interned string (qstr) id q, stored as (q << 3) | 0b010
//! 00000000000000000000000000000000   null (no value / unbound local)
//! aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa00   address of an object (4-byte aligned)
//! ```
//!
//! Every object starts with a header word: the low byte is its [`Kind`], the upper 24 bits are
//! kind-specific (a length, a count or flags). Every word after the header is a `Value` (raw
//! integers are stored as small ints), except the byte payload of `Str`/`Bytes`. So a heap
//! object's reference slots are simply "every word after the header" for all kinds but the byte
//! kinds, which keeps the GC exact and trivial (the compact frozen layouts below never live in
//! the heap).
//!
//! ```text
//! Str/Bytes  [hdr len|kind][hash][bytes…]            Tuple/Array [hdr n|kind][v0][v1]…
//! List       [hdr][len][items Array]                  Dict/Set    [hdr][len][table Array k,v,k,v…]
//! Func       [hdr flags][RawCode][Context][defaults]  Closure     [hdr n][Func][cell0]…
//! RawCode    [hdr][Bytes][children Array][scope]     Context     [hdr][globals][qstrs][consts]
//! Module     [hdr][name qstr][globals Dict]           Class       [hdr][name][bases Tuple][Dict]
//! Instance   [hdr][class][members Dict][args]         Cell        [hdr][value]
//! BoundMeth  [hdr][func][self]                        Generator   [hdr st][Func][state][ip][sp][exc][pend]
//! Iter       [hdr sub][seq][index][extra]             Range/Slice [hdr][start][stop][step]
//! Builtin    [hdr id][name qstr]                      QstrPool    [hdr n][prev][first id][cap][Str…]
//! ```
//!
//! An instance's args word is an exception's args tuple, and null for every other instance. An
//! `Array` (list items, dict and set tables, a generator's frame) has its length in the low 23
//! aux bits; [`ARRAY_FIXED`] marks a generator's frame, whose length is meaningful.
//!
//! Frozen copies use compact layouts where the heap layout carries what only a growing or
//! hashing heap object needs (see `freeze`). The [`COMPACT`] bit in the kind byte marks them:
//!
//! ```text
//! Str/Bytes  [hdr len|kind+C][bytes…]                 no hash word (recomputed when needed)
//! RawCode    [hdr len|kind+C][children Array][bytecode…]    bytecode inline, no Bytes; the
//!            children word only with CODE_HAS_CHILDREN in aux (no scope word: the prelude has it)
//! Func       [hdr flags|kind+C][RawCode][Context]     no defaults (the heap word was null)
//! Instance   [hdr|kind+C][class][members Dict]        no args word (not an exception: it was
//!            null); in the RAM section, writable like the heap layout
//! QstrPool   [hdr w|kind+C][prev][first id][n][off0 … off_n: u16, padded to 4][texts…]
//!            w = words after the header; text i is texts[off_i..off_(i+1)], no Str objects
//! ```
//!
//! and a frozen `ConstArray` (same layout) drops the unused `(null, null)` pairs at its end:
//! the spare capacity of a namespace dict's table; a frozen `Array` (RAM section, same layout)
//! drops its null tail, the spare capacity of a list or a dict or set table, unless
//! [`ARRAY_FIXED`]. Readers find a string's payload with [`payload_offset`], a code's bytecode
//! with `Vm::code_addr` and children with `Vm::code_children`, a pool's texts with
//! `Vm::pool_text`, a function's defaults with `Vm::func_defaults`, an instance's args with
//! `Vm::inst_native`, and never index past an array's length.

/// A tagged 32-bit value (see the module docs for the encoding).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub struct Value(pub u32);

/// Smallest small int.
pub const SMALL_MIN: i32 = -(1 << 30);
/// Largest small int.
pub const SMALL_MAX: i32 = (1 << 30) - 1;
/// Number of bits of a small int (checked against the `.mpy` header).
pub const SMALL_INT_BITS: u8 = 31;

impl Value {
    /// Null: no value (unbound local, end of iteration, missing default).
    pub const NULL: Value = Value(0);

    /// A small int; `None` when out of range.
    pub fn int(n: i64) -> Option<Value> {
        if n < SMALL_MIN as i64 || n > SMALL_MAX as i64 {
            None
        } else {
            Some(Value(((n as i32) << 1) as u32 | 1))
        }
    }
    /// A small int known to be in range (clamped silently otherwise; used for counters).
    pub fn small(n: i32) -> Value {
        Value(((n.clamp(SMALL_MIN, SMALL_MAX)) << 1) as u32 | 1)
    }
    /// A qstr immediate.
    pub const fn qstr(q: u32) -> Value {
        Value((q << 3) | 0b010)
    }
    /// An object address.
    pub fn ptr(addr: u32) -> Value {
        Value(addr)
    }
    /// Is this a small int?
    pub fn is_int(self) -> bool {
        self.0 & 1 == 1
    }
    /// Is this a qstr immediate?
    pub fn is_qstr(self) -> bool {
        self.0 & 0b111 == 0b010
    }
    /// Is this an object address?
    pub fn is_ptr(self) -> bool {
        self.0 != 0 && self.0 & 0b11 == 0
    }
    /// Is this null?
    pub fn is_null(self) -> bool {
        self.0 == 0
    }
    /// The small int's value (only meaningful when `is_int`).
    pub fn as_int(self) -> i32 {
        (self.0 as i32) >> 1
    }
    /// The qstr id (only meaningful when `is_qstr`).
    pub fn as_qstr(self) -> u32 {
        self.0 >> 3
    }
}

/// The kind tag in the low byte of an object's header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Kind {
    None = 1,
    Bool = 2,
    Ellipsis = 3,
    Str = 4,
    Bytes = 5,
    Tuple = 6,
    List = 7,
    Dict = 8,
    Set = 9,
    Func = 10,
    Closure = 11,
    RawCode = 12,
    Context = 13,
    Module = 14,
    Class = 15,
    Instance = 16,
    Cell = 17,
    BoundMeth = 18,
    Generator = 19,
    Iter = 20,
    Range = 21,
    Slice = 22,
    Builtin = 23,
    Array = 24,
    QstrPool = 25,
    StaticMeth = 26,
    ClassMeth = 27,
    Property = 28,
    /// A native handle (socket, file): cannot be frozen.
    Handle = 29,
    /// An array that never changes after it is built (qstr/constant/children tables, namespace
    /// dict tables); same layout as `Array`.
    ConstArray = 30,
    /// Left behind by the freezer's live fix-up: word 1 is the new address.
    Forward = 0xFF,
}

/// In the kind byte of a frozen `Str`, `Bytes`, `Func`, `RawCode`, `Instance` or `QstrPool`: its
/// compact layout (see the module docs). Never set in the heap.
pub const COMPACT: u8 = 0x40;

impl Kind {
    /// Decodes a header's low byte (a compact object decodes to its kind).
    pub fn from_u8(b: u8) -> Option<Kind> {
        use Kind::*;
        Some(match b {
            // Str, Bytes, Func, RawCode, Instance and QstrPool with the COMPACT bit.
            0x44 => Str,
            0x45 => Bytes,
            0x4A => Func,
            0x4C => RawCode,
            0x50 => Instance,
            0x59 => QstrPool,
            1 => None,
            2 => Bool,
            3 => Ellipsis,
            4 => Str,
            5 => Bytes,
            6 => Tuple,
            7 => List,
            8 => Dict,
            9 => Set,
            10 => Func,
            11 => Closure,
            12 => RawCode,
            13 => Context,
            14 => Module,
            15 => Class,
            16 => Instance,
            17 => Cell,
            18 => BoundMeth,
            19 => Generator,
            20 => Iter,
            21 => Range,
            22 => Slice,
            23 => Builtin,
            24 => Array,
            25 => QstrPool,
            26 => StaticMeth,
            27 => ClassMeth,
            28 => Property,
            29 => Handle,
            30 => ConstArray,
            0xFF => Forward,
            _ => return Option::None,
        })
    }

    /// Number of value words after the header for fixed-size kinds.
    pub fn fixed_words(self) -> u32 {
        use Kind::*;
        match self {
            None | Bool | Ellipsis => 0,
            Cell | StaticMeth | ClassMeth | Forward => 1,
            List | Dict | Set | Module | BoundMeth | Builtin | Handle => 2,
            Func | RawCode | Context | Class | Instance | Iter | Range | Slice | Property => 3,
            Generator => 6,
            // Variable-size kinds are sized by their header.
            Str | Bytes | Tuple | Array | ConstArray | Closure | QstrPool => 0,
        }
    }

    /// Is the payload raw bytes (no reference slots)?
    pub fn is_bytes(self) -> bool {
        matches!(self, Kind::Str | Kind::Bytes)
    }
}

/// Builds a header word.
pub fn header(kind: Kind, aux: u32) -> u32 {
    (aux << 8) | kind as u32
}

/// Size in bytes of an object with header `hdr` (header included).
pub fn object_size(hdr: u32) -> Option<u32> {
    let kind = Kind::from_u8(hdr as u8)?;
    let aux = hdr >> 8;
    Some(match kind {
        Kind::Str | Kind::Bytes => payload_offset(hdr) + aux,
        Kind::Tuple | Kind::ConstArray => 4 + 4 * aux,
        Kind::Array => 4 + 4 * (aux & ARRAY_LEN_MASK),
        Kind::Closure => 8 + 4 * aux,
        Kind::Func | Kind::Instance if is_compact(hdr) => 12,
        Kind::RawCode if is_compact(hdr) => {
            let children = if aux & CODE_HAS_CHILDREN != 0 { 4 } else { 0 };
            4 + children + (aux & CODE_LEN_MASK)
        }
        Kind::QstrPool if is_compact(hdr) => 4 + 4 * aux,
        Kind::QstrPool => 16 + 4 * aux,
        k => 4 + 4 * k.fixed_words(),
    })
}

/// In the aux bits of an `Array`: its length is meaningful (a generator's saved frame window),
/// so the freezer keeps every word. Without it the array is a growable backing store (list
/// items, dict and set tables) whose unused tail the freezer drops (see `freeze`).
pub const ARRAY_FIXED: u32 = 1 << 23;
/// In the aux bits of an `Array`: its length in words.
pub const ARRAY_LEN_MASK: u32 = ARRAY_FIXED - 1;

/// In the aux bits of a compact `RawCode`: a children word follows the header.
pub const CODE_HAS_CHILDREN: u32 = 1 << 23;
/// In the aux bits of a compact `RawCode`: the bytecode length.
pub const CODE_LEN_MASK: u32 = CODE_HAS_CHILDREN - 1;

/// Is `hdr` the header of a compact frozen object (see the module docs)?
pub fn is_compact(hdr: u32) -> bool {
    let b = hdr as u8;
    b & COMPACT != 0 && b != Kind::Forward as u8 && Kind::from_u8(b).is_some()
}

/// Offset of a `Str`/`Bytes` payload from the object's start: 8 in the heap layout (header,
/// hash), 4 in the compact frozen layout (header only).
pub fn payload_offset(hdr: u32) -> u32 {
    if is_compact(hdr) { 4 } else { 8 }
}

/// Bytes of a compact qstr pool's offset table for `n` strings (`n + 1` u16s, padded to 4).
pub fn pool_offsets_bytes(n: u32) -> u32 {
    (2 * (n + 1)).div_ceil(4) * 4
}

/// Words before a `QstrPool`'s entries: header, previous pool, first id, entries used. In the
/// heap layout the header counts the capacity.
pub const QPOOL_HDR_WORDS: u32 = 4;

/// Iterator sub-kinds (header aux of [`Kind::Iter`]).
pub mod iter_kind {
    /// Over a tuple/list/str/bytes/dict-keys by index.
    pub const SEQ: u32 = 0;
    /// Over a range.
    pub const RANGE: u32 = 1;
    /// Over a dict's items as 2-tuples.
    pub const DICT_ITEMS: u32 = 2;
    /// Over a dict's values.
    pub const DICT_VALUES: u32 = 3;
    /// Over a str's characters.
    pub const STR: u32 = 4;
    /// enumerate(): seq = inner iterator, index = counter.
    pub const ENUMERATE: u32 = 5;
    /// zip() of two iterators: seq, extra.
    pub const ZIP: u32 = 6;
    /// map(f, it): seq = iterator, extra = function.
    pub const MAP: u32 = 7;
    /// reversed sequence: index counts down.
    pub const REVERSED: u32 = 8;
}

/// Function header flags (header aux of [`Kind::Func`]).
pub mod func_flags {
    /// The defaults word points to a 2-tuple (positional defaults or None, kw-defaults dict).
    pub const HAS_KWDEFAULTS: u32 = 1;
}

/// Generator states (header aux of [`Kind::Generator`]).
pub mod gen_state {
    /// Created, not started.
    pub const NEW: u32 = 0;
    /// Suspended at a yield.
    pub const SUSPENDED: u32 = 1;
    /// Currently running.
    pub const RUNNING: u32 = 2;
    /// Finished.
    pub const DONE: u32 = 3;
}

/// Dict header flags.
pub mod dict_flags {
    /// A module's globals or a class's namespace: frozen into flash (read-only) once imported.
    pub const NAMESPACE: u32 = 1;
}

/// Class header flags.
pub mod class_flags {
    /// A builtin exception class or a subclass of one: instances carry an args tuple.
    pub const EXCEPTION: u32 = 1;
    /// A builtin type (its native kind is in bits 8..16 of aux).
    pub const NATIVE: u32 = 2;
}
