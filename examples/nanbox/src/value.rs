//! NaN-boxed values: every value is one `u64`.
//!
//! ```text
//! top 16 bits   meaning                      low 48 bits
//! < 0xFFF9      a double (its own bits; NaNs are made canonical, 0x7FF8…)
//! 0xFFF9        nil
//! 0xFFFA        bool                         0 or 1
//! 0xFFFB        int                          i32 (low 32 bits)
//! 0xFFFC        a heap object                its index in the arena
//! 0xFFFD        a string outside the heap    its address (flash, RAM section or ROM)
//! 0xFFFE        another object outside it    its address
//! ```
//!
//! The last two are what the freezer writes into frozen objects: the VM's own encoding, so
//! frozen objects are read by the same code as any other value ([`crate::freeze`] tells the
//! library so, with `RefEncoding::nan_boxed(0xFFFE)` and a per-slot tag for strings).

/// A NaN-boxed value.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Value(pub u64);

/// Tag of nil.
pub const NIL: u16 = 0xFFF9;
/// Tag of a bool.
pub const BOOL: u16 = 0xFFFA;
/// Tag of an int.
pub const INT: u16 = 0xFFFB;
/// Tag of a heap object (arena index).
pub const HEAP: u16 = 0xFFFC;
/// Tag of a string at an address outside the heap.
pub const STR_AT: u16 = 0xFFFD;
/// Tag of any other object at an address outside the heap.
pub const OBJ_AT: u16 = 0xFFFE;

const PAYLOAD: u64 = (1 << 48) - 1;

impl Value {
    /// nil.
    pub const NIL: Value = Value::tagged(NIL, 0);

    const fn tagged(tag: u16, payload: u64) -> Value {
        Value(((tag as u64) << 48) | (payload & PAYLOAD))
    }

    /// A double (NaNs become the canonical NaN, which is not a tag).
    pub fn double(x: f64) -> Value {
        Value(if x.is_nan() {
            0x7FF8 << 48
        } else {
            x.to_bits()
        })
    }

    /// An int.
    pub fn int(n: i32) -> Value {
        Value::tagged(INT, u64::from(n as u32))
    }

    /// A bool.
    pub fn bool(b: bool) -> Value {
        Value::tagged(BOOL, u64::from(b))
    }

    /// The heap object at arena index `i`.
    pub fn heap(i: u32) -> Value {
        Value::tagged(HEAP, u64::from(i))
    }

    /// The object at `address` outside the heap, tagged `STR_AT` or `OBJ_AT`.
    pub fn at(tag: u16, address: u64) -> Value {
        Value::tagged(tag, address)
    }

    /// The tag (top 16 bits), or `None` for a double.
    pub fn tag(self) -> Option<u16> {
        let t = (self.0 >> 48) as u16;
        (t >= NIL).then_some(t)
    }

    /// The double, if it is one.
    pub fn as_double(self) -> Option<f64> {
        self.tag().is_none().then(|| f64::from_bits(self.0))
    }

    /// The int, if it is one.
    pub fn as_int(self) -> Option<i32> {
        (self.tag() == Some(INT)).then_some(self.0 as u32 as i32)
    }

    /// The arena index, if it is a heap object.
    pub fn heap_index(self) -> Option<u32> {
        (self.tag() == Some(HEAP)).then_some(self.0 as u32)
    }

    /// The address, if it is an object outside the heap.
    pub fn address(self) -> Option<u64> {
        matches!(self.tag(), Some(STR_AT | OBJ_AT)).then_some(self.0 & PAYLOAD)
    }

    /// Whether it refers to an object (heap or not).
    pub fn is_object(self) -> bool {
        matches!(self.tag(), Some(HEAP | STR_AT | OBJ_AT))
    }
}

impl core::fmt::Debug for Value {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.tag() {
            None => write!(f, "{}", f64::from_bits(self.0)),
            Some(NIL) => f.write_str("nil"),
            Some(BOOL) => write!(f, "{}", self.0 & 1 == 1),
            Some(INT) => write!(f, "{}", self.0 as u32 as i32),
            Some(HEAP) => write!(f, "heap#{}", self.0 as u32),
            Some(t) => write!(f, "{t:#x}@{:#x}", self.0 & PAYLOAD),
        }
    }
}
