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
//! integers are stored as small ints), except the byte payload of `Str`/`Bytes` and the raw
//! words of the kinds a type declares raw (`slots::Layout::Raw`: a `Float`'s IEEE double, a
//! `BigInt`'s limbs (see `number`), a bytearray's byte store). So a heap
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
//! Float      [hdr][f64 bits lo][hi] (raw)            BigInt      [hdr n|neg][limb0]… (raw u32)
//! ```
//!
//! A `Str`'s header aux holds its byte length in the low 23 bits ([`STR_LEN_MASK`]) and
//! [`STR_ASCII`] when every byte is ASCII, so indexing and `len` by code point are O(1) for it
//! (a `Bytes` never sets the flag). A str without the flag is indexed by walking its UTF-8.
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

/// The kind tag in the low byte of an object's header: which native type the object is, and so
/// its layout and its slots (the VM's type table is indexed by it).
///
/// The set is open: the kinds below are the ones the core itself creates or lays out, and a
/// type defined in `types/` or `modules/` declares its own with [`Kind::new`]. Ids are below
/// [`Kind::LIMIT`], so the [`COMPACT`] bit and [`Kind::FORWARD`] never collide with one; id 0 is
/// no object (a zeroed word): it names `int`, whose values are immediates.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub struct Kind(u8);

impl Kind {
    /// Number of kind ids (the size of the VM's type table).
    pub const LIMIT: usize = COMPACT as usize;

    /// The kind with id `id`; fails the build (in a `const`) for an id of [`Kind::LIMIT`] or more.
    pub const fn new(id: u8) -> Kind {
        assert!(
            (id as usize) < Kind::LIMIT,
            "a kind id must be below Kind::LIMIT"
        );
        Kind(id)
    }

    /// The kind with id `id`, if the id is below [`Kind::LIMIT`].
    pub const fn try_new(id: u8) -> Option<Kind> {
        if (id as usize) < Kind::LIMIT {
            Some(Kind(id))
        } else {
            None
        }
    }

    /// The id: the header's low byte (without the [`COMPACT`] bit).
    pub const fn id(self) -> u8 {
        self.0
    }

    /// `int`: small ints are immediates, so no object has this kind; it names int's slots.
    pub const INT: Kind = Kind(0);
    /// `None`.
    pub const NONE: Kind = Kind(1);
    /// `True`/`False`.
    pub const BOOL: Kind = Kind(2);
    /// `...`.
    pub const ELLIPSIS: Kind = Kind(3);
    /// A str object (short strs are qstr immediates).
    pub const STR: Kind = Kind(4);
    /// A bytes object.
    pub const BYTES: Kind = Kind(5);
    /// A tuple.
    pub const TUPLE: Kind = Kind(6);
    /// A list.
    pub const LIST: Kind = Kind(7);
    /// A dict (also a module's or class's namespace).
    pub const DICT: Kind = Kind(8);
    /// A set.
    pub const SET: Kind = Kind(9);
    /// A bytecode function.
    pub const FUNC: Kind = Kind(10);
    /// A function with its closed-over cells.
    pub const CLOSURE: Kind = Kind(11);
    /// A raw code (bytecode, children, scope flags).
    pub const RAW_CODE: Kind = Kind(12);
    /// A module context (globals, qstr table, constants).
    pub const CONTEXT: Kind = Kind(13);
    /// A module.
    pub const MODULE: Kind = Kind(14);
    /// A class (also every builtin type object).
    pub const CLASS: Kind = Kind(15);
    /// An instance of a class.
    pub const INSTANCE: Kind = Kind(16);
    /// A closed-over variable.
    pub const CELL: Kind = Kind(17);
    /// A bound method.
    pub const BOUND_METH: Kind = Kind(18);
    /// A generator.
    pub const GENERATOR: Kind = Kind(19);
    /// An iterator (sub-kind in the aux bits, see [`iter_kind`]).
    pub const ITER: Kind = Kind(20);
    /// A range.
    pub const RANGE: Kind = Kind(21);
    /// A slice.
    pub const SLICE: Kind = Kind(22);
    /// A builtin (native) function.
    pub const BUILTIN: Kind = Kind(23);
    /// A growable array of values (list items, dict/set tables, a generator's frame).
    pub const ARRAY: Kind = Kind(24);
    /// A qstr pool.
    pub const QSTR_POOL: Kind = Kind(25);
    /// A staticmethod.
    pub const STATIC_METH: Kind = Kind(26);
    /// A classmethod.
    pub const CLASS_METH: Kind = Kind(27);
    /// A property.
    pub const PROPERTY: Kind = Kind(28);
    /// A native handle (socket, file): cannot be frozen.
    pub const HANDLE: Kind = Kind(29);
    /// An array that never changes after it is built (qstr/constant/children tables, namespace
    /// dict tables); same layout as `ARRAY`.
    pub const CONST_ARRAY: Kind = Kind(30);
    /// A float: `[hdr|FLOAT][bits lo][bits hi]`, raw (see `number`).
    pub const FLOAT: Kind = Kind(40);
    /// A big int (beyond the small-int range): `[hdr n|neg|BIGINT][limb]…`, raw (see `number`).
    pub const BIGINT: Kind = Kind(41);
    /// Left behind by the freezer's live fix-up: word 1 is the new address. Not an id below
    /// [`Kind::LIMIT`]: no type has it.
    pub const FORWARD: Kind = Kind(0xFF);

    /// Decodes a header's low byte into one of the core kinds (a compact object decodes to its
    /// kind). One load from `KIND_OF`: every object visit of the freezer and the collector
    /// decodes a header, and a call to a range match costs several times that on a Cortex-M0+.
    #[inline]
    pub fn from_u8(b: u8) -> Option<Kind> {
        match KIND_OF[b as usize] {
            0 => None,
            k => Some(Kind(k)),
        }
    }

    /// [`Kind::from_u8`] as a match (0: none), from which [`KIND_OF`] is built.
    const fn decode(b: u8) -> u8 {
        match b {
            0x44 | 0x45 | 0x4A | 0x4C | 0x50 | 0x59 => b & !COMPACT,
            1..=30 | 0xFF => b,
            _ => 0,
        }
    }

    /// Is the payload raw bytes (no reference slots)?
    pub fn is_bytes(self) -> bool {
        matches!(self, Kind::STR | Kind::BYTES)
    }
}

/// Number of value words after the header for fixed-size core kinds (0 for the kinds sized by
/// their header).
fn fixed_words(k: Kind) -> u32 {
    match k {
        Kind::CELL | Kind::STATIC_METH | Kind::CLASS_METH | Kind::FORWARD => 1,
        Kind::LIST
        | Kind::DICT
        | Kind::SET
        | Kind::MODULE
        | Kind::BOUND_METH
        | Kind::BUILTIN
        | Kind::HANDLE => 2,
        Kind::FUNC
        | Kind::RAW_CODE
        | Kind::CONTEXT
        | Kind::CLASS
        | Kind::INSTANCE
        | Kind::ITER
        | Kind::RANGE
        | Kind::SLICE
        | Kind::PROPERTY => 3,
        Kind::GENERATOR => 6,
        _ => 0,
    }
}

/// In the kind byte of a frozen `Str`, `Bytes`, `Func`, `RawCode`, `Instance` or `QstrPool`: its
/// compact layout (see the module docs). Never set in the heap.
pub const COMPACT: u8 = 0x40;

/// Builds a header word.
pub fn header(kind: Kind, aux: u32) -> u32 {
    (aux << 8) | kind.0 as u32
}

/// The kind of each header byte ([`Kind::from_u8`]), 0 where there is none.
static KIND_OF: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = Kind::decode(b as u8);
        b += 1;
    }
    t
};

/// Size in bytes of an object with header `hdr` (header included).
pub fn object_size(hdr: u32) -> Option<u32> {
    let kind = Kind::from_u8(hdr as u8)?;
    let aux = hdr >> 8;
    Some(match kind {
        Kind::STR | Kind::BYTES => payload_offset(hdr) + (aux & STR_LEN_MASK),
        Kind::TUPLE | Kind::CONST_ARRAY => 4 + 4 * aux,
        Kind::ARRAY => 4 + 4 * (aux & ARRAY_LEN_MASK),
        Kind::CLOSURE => 8 + 4 * aux,
        Kind::FUNC | Kind::INSTANCE if is_compact(hdr) => 12,
        Kind::RAW_CODE if is_compact(hdr) => {
            let children = if aux & CODE_HAS_CHILDREN != 0 { 4 } else { 0 };
            4 + children + (aux & CODE_LEN_MASK)
        }
        Kind::QSTR_POOL if is_compact(hdr) => 4 + 4 * aux,
        Kind::QSTR_POOL => 16 + 4 * aux,
        k => 4 + 4 * fixed_words(k),
    })
}

/// In the aux bits of an `Array`: its length is meaningful (a generator's saved frame window),
/// so the freezer keeps every word. Without it the array is a growable backing store (list
/// items, dict and set tables) whose unused tail the freezer drops (see `freeze`).
pub const ARRAY_FIXED: u32 = 1 << 23;
/// In the aux bits of an `Array`: its length in words.
pub const ARRAY_LEN_MASK: u32 = ARRAY_FIXED - 1;

/// In the aux bits of a `Str` (heap or compact): every byte of the text is ASCII, so a code
/// point is a byte. Clear: the text may hold multi-byte UTF-8 sequences.
pub const STR_ASCII: u32 = 1 << 23;
/// In the aux bits of a `Str`/`Bytes`: the byte length.
pub const STR_LEN_MASK: u32 = STR_ASCII - 1;

/// In the aux bits of a compact `RawCode`: a children word follows the header.
pub const CODE_HAS_CHILDREN: u32 = 1 << 23;
/// In the aux bits of a compact `RawCode`: the bytecode length.
pub const CODE_LEN_MASK: u32 = CODE_HAS_CHILDREN - 1;

/// Is `hdr` the header of a compact frozen object (see the module docs)?
pub fn is_compact(hdr: u32) -> bool {
    let b = hdr as u8;
    b & COMPACT != 0 && b != Kind::FORWARD.0 && Kind::from_u8(b).is_some()
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

/// Iterator sub-kinds (header aux of [`Kind::ITER`]).
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

/// Function header flags (header aux of [`Kind::FUNC`]).
pub mod func_flags {
    /// The defaults word points to a 2-tuple (positional defaults or None, kw-defaults dict).
    pub const HAS_KWDEFAULTS: u32 = 1;
}

/// Generator states (header aux of [`Kind::GENERATOR`]).
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
    /// An `OrderedDict` (`collections`): a dict of another type, printed with its name.
    pub const ORDERED: u32 = 2;
    /// Read-only (an instance's `__dict__`, a snapshot of its members): every change raises
    /// `TypeError`, as MicroPython's fixed maps.
    pub const FIXED: u32 = 4;
}

/// Class header flags.
pub mod class_flags {
    /// A builtin exception class or a subclass of one: instances carry an args tuple.
    pub const EXCEPTION: u32 = 1;
    /// A builtin type (its native kind is in bits 8..16 of aux).
    pub const NATIVE: u32 = 2;
    /// A Python class deriving from a builtin type other than `object` (`class S(list)`), or
    /// from a namedtuple class: its instances carry the native object in their args word.
    pub const NATIVE_BASE: u32 = 4;
    /// A namedtuple class (`collections.namedtuple`): its instances' args word is the tuple of
    /// their fields, named by the class's `_fields`.
    pub const NAMEDTUPLE: u32 = 8;
}
