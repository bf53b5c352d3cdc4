//! Object operations: equality, arithmetic, repr/str, attributes, subscripts and iteration.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::qstr::sq;
use crate::vm::{R, Vm};

/// Binary operator numbers of the bytecode (MicroPython's `mp_binary_op_t` order).
pub mod binop {
    #![allow(missing_docs)]
    pub const LESS: u32 = 0;
    pub const MORE: u32 = 1;
    pub const EQUAL: u32 = 2;
    pub const LESS_EQUAL: u32 = 3;
    pub const MORE_EQUAL: u32 = 4;
    pub const NOT_EQUAL: u32 = 5;
    pub const IN: u32 = 6;
    pub const IS: u32 = 7;
    pub const EXCEPTION_MATCH: u32 = 8;
    pub const INPLACE_OR: u32 = 9;
    pub const OR: u32 = 22;
    pub const XOR: u32 = 23;
    pub const AND: u32 = 24;
    pub const LSHIFT: u32 = 25;
    pub const RSHIFT: u32 = 26;
    pub const ADD: u32 = 27;
    pub const SUBTRACT: u32 = 28;
    pub const MULTIPLY: u32 = 29;
    pub const MAT_MULTIPLY: u32 = 30;
    pub const FLOOR_DIVIDE: u32 = 31;
    pub const TRUE_DIVIDE: u32 = 32;
    pub const MODULO: u32 = 33;
    pub const POWER: u32 = 34;
    pub const NOT_IN: u32 = 35 + 1 + 1 + 13;
    pub const IS_NOT: u32 = NOT_IN + 1;
}

const BINOP_NAMES: [&str; 35] = [
    "<", ">", "==", "<=", ">=", "!=", "in", "is", "exc", "|=", "^=", "&=", "<<=", ">>=", "+=",
    "-=", "*=", "@=", "//=", "/=", "%=", "**=", "|", "^", "&", "<<", ">>", "+", "-", "*", "@",
    "//", "/", "%", "**",
];

impl<F: FlashImage> Vm<F> {
    /// Python `==`.
    pub fn eq(&mut self, a: Value, b: Value) -> R<bool> {
        if a.0 == b.0 {
            return Ok(true);
        }
        if a.is_int() || b.is_int() {
            // bools compare equal to 0/1
            let ai = self.as_intlike(a);
            let bi = self.as_intlike(b);
            return Ok(matches!((ai, bi), (Some(x), Some(y)) if x == y));
        }
        if a.is_qstr() && b.is_qstr() {
            return Ok(false);
        }
        let (ka, kb) = (self.kind(a), self.kind(b));
        let stry = |k: Option<Kind>, v: Value| v.is_qstr() || k == Some(Kind::Str);
        if stry(ka, a) && stry(kb, b) {
            return Ok(self.str_bytes(a) == self.str_bytes(b));
        }
        match (ka, kb) {
            (Some(Kind::Bytes), Some(Kind::Bytes)) => {
                Ok(self.str_obj_bytes(a) == self.str_obj_bytes(b))
            }
            (Some(Kind::Tuple), Some(Kind::Tuple)) | (Some(Kind::List), Some(Kind::List)) => {
                let (x, y) = (
                    self.seq_vec(a).unwrap_or_default(),
                    self.seq_vec(b).unwrap_or_default(),
                );
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.into_iter().zip(y) {
                    if !self.eq(p, q)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (Some(Kind::Bool), Some(Kind::Bool)) => Ok(false),
            (Some(Kind::Instance), _) => {
                let m = self.q("__eq__");
                if let Some(f) = self.lookup_method(a, m)? {
                    let r = self.call(f, &[a, b], &[])?;
                    return self.truthy(r);
                }
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// An int or bool as i64.
    pub fn as_intlike(&self, v: Value) -> Option<i64> {
        if v.is_int() {
            Some(v.as_int() as i64)
        } else if v.0 == self.st.true_ {
            Some(1)
        } else if v.0 == self.st.false_ {
            Some(0)
        } else {
            None
        }
    }

    /// A small int from an i64, or OverflowError.
    pub fn int_val(&mut self, n: i64) -> R<Value> {
        match Value::int(n) {
            Some(v) => Ok(v),
            None => self.raise_msg("OverflowError", "small int overflow"),
        }
    }

    /// Applies binary operator `op`.
    pub fn binary_op(&mut self, op: u32, a: Value, b: Value) -> R<Value> {
        use binop::*;
        match op {
            IS => return Ok(self.bool_val(a.0 == b.0)),
            IS_NOT => return Ok(self.bool_val(a.0 != b.0)),
            EQUAL => {
                let r = self.eq(a, b)?;
                return Ok(self.bool_val(r));
            }
            NOT_EQUAL => {
                let r = self.eq(a, b)?;
                return Ok(self.bool_val(!r));
            }
            IN | NOT_IN => {
                let r = self.contains(b, a)?;
                return Ok(self.bool_val(r == (op == IN)));
            }
            EXCEPTION_MATCH => {
                let r = self.exception_match(a, b);
                return Ok(self.bool_val(r));
            }
            _ => {}
        }
        // In-place ops behave like their plain forms for immutable values (and for lists we
        // extend in place).
        let op = if (INPLACE_OR..OR).contains(&op) {
            if op - INPLACE_OR + OR == ADD && self.kind(a) == Some(Kind::List) {
                let items = self.iter_to_vec(b)?;
                for x in items {
                    self.list_append(a, x)?;
                }
                return Ok(a);
            }
            op - INPLACE_OR + OR
        } else {
            op
        };
        if let (Some(x), Some(y)) = (self.as_intlike(a), self.as_intlike(b)) {
            return self.int_op(op, x, y);
        }
        let sa = a.is_qstr() || self.kind(a) == Some(Kind::Str);
        let sb = b.is_qstr() || self.kind(b) == Some(Kind::Str);
        match op {
            LESS | MORE | LESS_EQUAL | MORE_EQUAL => {
                let ord = if sa && sb {
                    let x = self.str_bytes(a).unwrap_or(b"").to_vec();
                    let y = self.str_bytes(b).unwrap_or(b"");
                    x.as_slice().cmp(y)
                } else if let (Some(x), Some(y)) = (self.seq_vec(a), self.seq_vec(b)) {
                    let mut o = core::cmp::Ordering::Equal;
                    for (p, q) in x.iter().zip(y.iter()) {
                        if !self.eq(*p, *q)? {
                            let lt = self.binary_op(LESS, *p, *q)?;
                            o = if lt.0 == self.st.true_ {
                                core::cmp::Ordering::Less
                            } else {
                                core::cmp::Ordering::Greater
                            };
                            break;
                        }
                    }
                    if o == core::cmp::Ordering::Equal {
                        x.len().cmp(&y.len())
                    } else {
                        o
                    }
                } else if self.kind(a) == Some(Kind::Instance) {
                    let name = ["__lt__", "__gt__", "__le__", "__ge__"][op as usize];
                    let m = self.q(name);
                    if let Some(f) = self.lookup_method(a, m)? {
                        return self.call(f, &[a, b], &[]);
                    }
                    return self.binop_type_error(op, a, b);
                } else {
                    return self.binop_type_error(op, a, b);
                };
                use core::cmp::Ordering::*;
                let r = match op {
                    LESS => ord == Less,
                    MORE => ord == Greater,
                    LESS_EQUAL => ord != Greater,
                    _ => ord != Less,
                };
                Ok(self.bool_val(r))
            }
            ADD if sa && sb => {
                let mut x = self.str_bytes(a).unwrap_or(b"").to_vec();
                x.extend_from_slice(self.str_bytes(b).unwrap_or(b""));
                self.new_str(&x)
            }
            ADD if self.kind(a) == Some(Kind::Bytes) && self.kind(b) == Some(Kind::Bytes) => {
                let mut x = self.str_obj_bytes(a).unwrap_or(b"").to_vec();
                x.extend_from_slice(self.str_obj_bytes(b).unwrap_or(b""));
                self.new_str_obj(Kind::Bytes, &x)
            }
            ADD if matches!(
                (self.kind(a), self.kind(b)),
                (Some(Kind::Tuple), Some(Kind::Tuple)) | (Some(Kind::List), Some(Kind::List))
            ) =>
            {
                let mut x = self.seq_vec(a).unwrap_or_default();
                x.extend(self.seq_vec(b).unwrap_or_default());
                if self.kind(a) == Some(Kind::Tuple) {
                    self.new_tuple(&x)
                } else {
                    self.new_list(&x)
                }
            }
            MULTIPLY
                if (sa || matches!(self.kind(a), Some(Kind::List | Kind::Tuple))) && b.is_int() =>
            {
                let n = b.as_int().max(0) as usize;
                let unit = match self.str_bytes(a) {
                    Some(s) => s.len(),
                    None => 4 * self.seq_items(a).map_or(0, |(_, n)| n as usize),
                };
                if unit.saturating_mul(n) > self.mem.heap.len() {
                    self.exc = Value(self.st.memory_error);
                    return Err(crate::vm::Thrown);
                }
                if sa {
                    let x = self.str_bytes(a).unwrap_or(b"").repeat(n);
                    self.new_str(&x)
                } else {
                    let x = self.seq_vec(a).unwrap_or_default();
                    let mut y = Vec::with_capacity(x.len() * n);
                    for _ in 0..n {
                        y.extend_from_slice(&x);
                    }
                    if self.kind(a) == Some(Kind::Tuple) {
                        self.new_tuple(&y)
                    } else {
                        self.new_list(&y)
                    }
                }
            }
            MODULO if sa => {
                let args = match self.kind(b) {
                    Some(Kind::Tuple) => self.seq_vec(b).unwrap_or_default(),
                    _ => alloc::vec![b],
                };
                self.percent_format(a, &args)
            }
            _ => {
                if self.kind(a) == Some(Kind::Instance) {
                    let names = [
                        (OR, "__or__"),
                        (AND, "__and__"),
                        (ADD, "__add__"),
                        (SUBTRACT, "__sub__"),
                        (MULTIPLY, "__mul__"),
                    ];
                    if let Some((_, n)) = names.iter().find(|(o, _)| *o == op) {
                        let m = self.q(n);
                        if let Some(f) = self.lookup_method(a, m)? {
                            return self.call(f, &[a, b], &[]);
                        }
                    }
                }
                if matches!(self.kind(a), Some(Kind::Set)) && matches!(op, OR | AND | SUBTRACT) {
                    return self.set_op(op, a, b);
                }
                self.binop_type_error(op, a, b)
            }
        }
    }

    fn binop_type_error<T>(&mut self, op: u32, a: Value, b: Value) -> R<T> {
        let ta = self.class_name(self.type_of(a));
        let tb = self.class_name(self.type_of(b));
        let name = BINOP_NAMES.get(op as usize).copied().unwrap_or("?");
        let msg = alloc::format!("unsupported types for {name}: '{ta}', '{tb}'");
        self.raise_msg("TypeError", &msg)
    }

    fn set_op(&mut self, op: u32, a: Value, b: Value) -> R<Value> {
        let xa = self.iter_to_vec(a)?;
        let xb = self.iter_to_vec(b)?;
        let out = self.new_set()?;
        let mut put = Vec::new();
        if op == binop::OR {
            put.extend(xa.iter().copied());
            put.extend(xb.iter().copied());
        } else {
            for x in xa {
                let mut inb = false;
                for y in &xb {
                    if self.eq(x, *y)? {
                        inb = true;
                    }
                }
                if inb == (op == binop::AND) {
                    put.push(x);
                }
            }
        }
        for x in put {
            self.set_add(out, x)?;
        }
        Ok(out)
    }

    fn int_op(&mut self, op: u32, x: i64, y: i64) -> R<Value> {
        use binop::*;
        let r = match op {
            LESS => return Ok(self.bool_val(x < y)),
            MORE => return Ok(self.bool_val(x > y)),
            LESS_EQUAL => return Ok(self.bool_val(x <= y)),
            MORE_EQUAL => return Ok(self.bool_val(x >= y)),
            OR => x | y,
            XOR => x ^ y,
            AND => x & y,
            LSHIFT => {
                if !(0..=62).contains(&y) {
                    return self.raise_msg("OverflowError", "shift count");
                }
                x.checked_shl(y as u32).unwrap_or(i64::MAX)
            }
            RSHIFT => {
                if y < 0 {
                    return self.raise_msg("ValueError", "negative shift count");
                }
                x >> y.min(63)
            }
            ADD => x + y,
            SUBTRACT => x - y,
            MULTIPLY => x.saturating_mul(y),
            FLOOR_DIVIDE | MODULO | TRUE_DIVIDE => {
                if y == 0 {
                    return self.raise_msg("ZeroDivisionError", "divide by zero");
                }
                let q = x.div_euclid(y);
                let m = x.rem_euclid(y);
                // Python floors toward negative infinity.
                let (q, m) = if m != 0 && y < 0 {
                    (q + 1, m + y)
                } else {
                    (q, m)
                };
                match op {
                    MODULO => m,
                    FLOOR_DIVIDE => q,
                    _ => {
                        if x % y != 0 {
                            return self.raise_msg("NotImplementedError", "float division");
                        }
                        q
                    }
                }
            }
            POWER => {
                if y < 0 {
                    return self.raise_msg("NotImplementedError", "negative power");
                }
                let mut r: i64 = 1;
                for _ in 0..y.min(64) {
                    r = r.saturating_mul(x);
                }
                r
            }
            _ => {
                let a = Value::int(x).unwrap_or(Value::NULL);
                let b = Value::int(y).unwrap_or(Value::NULL);
                return self.binop_type_error(op, a, b);
            }
        };
        self.int_val(r)
    }

    /// Applies unary operator `op` (0 +, 1 -, 2 ~, 3 not, 4 bool, 5 len, 6 hash).
    pub fn unary_op(&mut self, op: u32, a: Value) -> R<Value> {
        match op {
            3 => {
                let t = self.truthy(a)?;
                Ok(self.bool_val(!t))
            }
            4 => {
                let t = self.truthy(a)?;
                Ok(self.bool_val(t))
            }
            5 => self.len(a),
            6 => self.hash_of(a),
            _ => match self.as_intlike(a) {
                Some(x) => match op {
                    0 => self.int_val(x),
                    1 => self.int_val(-x),
                    2 => self.int_val(!x),
                    _ => self.raise_msg("NotImplementedError", "unary op"),
                },
                None => {
                    let t = self.class_name(self.type_of(a));
                    let msg = alloc::format!("unsupported type for unary op: '{t}'");
                    self.raise_msg("TypeError", &msg)
                }
            },
        }
    }

    /// `hash(v)`.
    pub fn hash_of(&mut self, v: Value) -> R<Value> {
        if v.is_int() {
            return Ok(v);
        }
        if let Some(b) = self.str_bytes(v) {
            let h = crate::qstr::hash(b);
            return Ok(Value::small((h >> 2) as i32));
        }
        Ok(Value::small((v.0 >> 4) as i32))
    }

    /// `len(v)`.
    pub fn len(&mut self, v: Value) -> R<Value> {
        if v.is_qstr() {
            let n = self.qstr_bytes(v.as_qstr()).len();
            return Ok(Value::small(n as i32));
        }
        match self.kind(v) {
            Some(Kind::Str | Kind::Bytes | Kind::Tuple) => Ok(Value::small(self.aux(v) as i32)),
            Some(Kind::List | Kind::Dict | Kind::Set) => Ok(self.wv(v, 1)),
            Some(Kind::Handle) => {
                let l = self.wv(v, 2);
                Ok(self.wv(l, 1))
            }
            Some(Kind::Range) => {
                let (a, b, s) = (
                    self.wv(v, 1).as_int() as i64,
                    self.wv(v, 2).as_int() as i64,
                    self.wv(v, 3).as_int() as i64,
                );
                let n = if s > 0 {
                    (b - a + s - 1) / s
                } else {
                    (a - b - s - 1) / -s
                };
                Ok(Value::small(n.max(0) as i32))
            }
            Some(Kind::Instance) => {
                let m = sq!("__len__");
                if let Some(f) = self.lookup_method(v, m)? {
                    return self.call(f, &[v], &[]);
                }
                self.raise_msg("TypeError", "object has no len()")
            }
            _ => {
                let t = self.class_name(self.type_of(v));
                let msg = alloc::format!("object of type '{t}' has no len()");
                self.raise_msg("TypeError", &msg)
            }
        }
    }

    /// Does exception `e` match class/tuple `c`?
    pub fn exception_match(&self, e: Value, c: Value) -> bool {
        if let Some(items) = self.seq_vec(c) {
            return items.iter().any(|x| self.exception_match(e, *x));
        }
        let t = if self.kind(e) == Some(Kind::Class) {
            e.0
        } else {
            self.type_of(e)
        };
        self.is_subclass(t, c.0)
    }

    /// `x in container`.
    pub fn contains(&mut self, container: Value, x: Value) -> R<bool> {
        if let Some(hay) = self.str_bytes(container) {
            let hay = hay.to_vec();
            let Some(needle) = self.str_bytes(x) else {
                return self
                    .raise_msg("TypeError", "'in <string>' requires string as left operand");
            };
            return Ok(needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle));
        }
        match self.kind(container) {
            Some(Kind::Dict | Kind::Set) => Ok(self.dict_find(container, x)?.is_some()),
            Some(Kind::Instance) => {
                let m = self.q("__contains__");
                if let Some(f) = self.lookup_method(container, m)? {
                    let r = self.call(f, &[container, x], &[])?;
                    return self.truthy(r);
                }
                let items = self.iter_to_vec(container)?;
                self.any_eq(&items, x)
            }
            _ => {
                let items = self.iter_to_vec(container)?;
                self.any_eq(&items, x)
            }
        }
    }

    fn any_eq(&mut self, items: &[Value], x: Value) -> R<bool> {
        for it in items {
            if self.eq(*it, x)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    // ---------------------------------------------------------------- repr / str

    /// `str(v)` as Rust text.
    pub fn str_of(&mut self, v: Value) -> R<String> {
        if let Some(b) = self.str_bytes(v) {
            return Ok(String::from_utf8_lossy(b).into_owned());
        }
        if self.is_exception(v) {
            let args = self.inst_native(v);
            let items = self.seq_vec(args).unwrap_or_default();
            return match items.len() {
                0 => Ok(String::new()),
                1 => self.str_of(items[0]),
                _ => self.repr_of(args),
            };
        }
        if self.kind(v) == Some(Kind::Instance) {
            let m = sq!("__str__");
            if let Some(f) = self.lookup_method(v, m)? {
                let r = self.call(f, &[v], &[])?;
                return self.str_of(r);
            }
        }
        self.repr_of(v)
    }

    /// `repr(v)` as Rust text.
    pub fn repr_of(&mut self, v: Value) -> R<String> {
        let mut s = String::new();
        self.repr_into(v, &mut s, 0)?;
        Ok(s)
    }

    fn repr_into(&mut self, v: Value, s: &mut String, depth: u32) -> R<()> {
        if depth > 16 {
            s.push_str("...");
            return Ok(());
        }
        if v.is_int() {
            let _ = write!(s, "{}", v.as_int());
            return Ok(());
        }
        if v.is_qstr() || self.kind(v) == Some(Kind::Str) {
            let b = self.str_bytes(v).unwrap_or(b"").to_vec();
            repr_str(s, &b, false);
            return Ok(());
        }
        if v.is_null() {
            s.push_str("<NULL>");
            return Ok(());
        }
        let k = self.kind(v);
        match k {
            Some(Kind::None) => s.push_str("None"),
            Some(Kind::Bool) => s.push_str(if v.0 == self.st.true_ {
                "True"
            } else {
                "False"
            }),
            Some(Kind::Ellipsis) => s.push_str("Ellipsis"),
            Some(Kind::Bytes) => {
                let b = self.str_obj_bytes(v).unwrap_or(b"").to_vec();
                repr_str(s, &b, true);
            }
            Some(Kind::Tuple | Kind::List) => {
                let items = self.seq_vec(v).unwrap_or_default();
                let tuple = k == Some(Kind::Tuple);
                s.push(if tuple { '(' } else { '[' });
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    self.repr_into(*x, s, depth + 1)?;
                }
                if tuple && items.len() == 1 {
                    s.push(',');
                }
                s.push(if tuple { ')' } else { ']' });
            }
            Some(Kind::Dict) => {
                s.push('{');
                for i in 0..self.dict_len(v) {
                    let (key, val) = self.dict_entry(v, i);
                    if i > 0 {
                        s.push_str(", ");
                    }
                    self.repr_into(key, s, depth + 1)?;
                    s.push_str(": ");
                    self.repr_into(val, s, depth + 1)?;
                }
                s.push('}');
            }
            Some(Kind::Set) => {
                if self.dict_len(v) == 0 {
                    s.push_str("set()");
                } else {
                    s.push('{');
                    for i in 0..self.dict_len(v) {
                        let (key, _) = self.dict_entry(v, i);
                        if i > 0 {
                            s.push_str(", ");
                        }
                        self.repr_into(key, s, depth + 1)?;
                    }
                    s.push('}');
                }
            }
            Some(Kind::Module) => {
                let n = self.str_string(self.wv(v, 1));
                let _ = write!(s, "<module '{n}'>");
            }
            Some(Kind::Class) => {
                let n = self.class_name(v.0);
                let _ = write!(s, "<class '{n}'>");
            }
            Some(Kind::Func | Kind::Closure | Kind::Generator) => {
                let f = match k {
                    Some(Kind::Closure) | Some(Kind::Generator) => self.wv(v, 1),
                    _ => v,
                };
                let n = self.func_name(f);
                let what = if k == Some(Kind::Generator) {
                    "generator object"
                } else {
                    "function"
                };
                let _ = write!(s, "<{what} {n} at 0x{:08x}>", v.0);
            }
            Some(Kind::BoundMeth) => {
                let n = self.func_name(self.wv(v, 1));
                let _ = write!(s, "<bound_method {n}>");
            }
            Some(Kind::Builtin) => {
                let n = self.str_string(self.wv(v, 1));
                let _ = write!(s, "<function {n}>");
            }
            Some(Kind::Range) => {
                let (a, b, st) = (
                    self.wv(v, 1).as_int(),
                    self.wv(v, 2).as_int(),
                    self.wv(v, 3).as_int(),
                );
                if st == 1 {
                    let _ = write!(s, "range({a}, {b})");
                } else {
                    let _ = write!(s, "range({a}, {b}, {st})");
                }
            }
            Some(Kind::Instance) => {
                if self.is_exception(v) {
                    let n = self.class_name(self.type_of(v));
                    s.push_str(&n);
                    let args = self.inst_native(v);
                    let items = self.seq_vec(args).unwrap_or_default();
                    if items.len() == 1 {
                        s.push('(');
                        self.repr_into(items[0], s, depth + 1)?;
                        s.push(')');
                    } else {
                        self.repr_into(args, s, depth + 1)?;
                    }
                    return Ok(());
                }
                let m = sq!("__repr__");
                if let Some(f) = self.lookup_method(v, m)? {
                    let r = self.call(f, &[v], &[])?;
                    let t = self.str_of(r)?;
                    s.push_str(&t);
                    return Ok(());
                }
                let n = self.class_name(self.type_of(v));
                let _ = write!(s, "<{n} object at {:x}>", v.0);
            }
            _ => {
                let n = self.class_name(self.type_of(v));
                let _ = write!(s, "<{n} object at {:x}>", v.0);
            }
        }
        Ok(())
    }

    /// Name of a function (Func/Closure/Builtin).
    pub fn func_name(&self, f: Value) -> String {
        let f = if self.kind(f) == Some(Kind::Closure) {
            self.wv(f, 1)
        } else {
            f
        };
        match self.kind(f) {
            Some(Kind::Func) => {
                let rc = self.wv(f, 1);
                let ctx = self.wv(f, 2);
                let p = crate::interp::Prelude::decode(&self.mem, self.code_addr(rc));
                let q = self.qstr_of_ctx(ctx, p.name_idx);
                self.str_string(q)
            }
            Some(Kind::Builtin) => self.str_string(self.wv(f, 1)),
            _ => String::from("?"),
        }
    }

    /// Qstr `i` of a module context's table.
    pub fn qstr_of_ctx(&self, ctx: Value, i: u32) -> Value {
        let t = self.wv(ctx, 2);
        if i < self.aux(t) {
            self.wv(t, 1 + i)
        } else {
            Value::qstr(1)
        }
    }

    /// `%` formatting of a str.
    fn percent_format(&mut self, fmt: Value, args: &[Value]) -> R<Value> {
        let f = self.str_bytes(fmt).unwrap_or(b"").to_vec();
        let mut out = String::new();
        let mut ai = 0;
        let mut i = 0;
        while i < f.len() {
            if f[i] == b'%' && i + 1 < f.len() {
                // Skip simple width/flags.
                let mut j = i + 1;
                while j < f.len() && (f[j].is_ascii_digit() || f[j] == b'-' || f[j] == b'.') {
                    j += 1;
                }
                let c = f.get(j).copied().unwrap_or(b's');
                if c == b'%' {
                    out.push('%');
                } else {
                    let a = args.get(ai).copied().unwrap_or(Value::NULL);
                    ai += 1;
                    let t = match c {
                        b'r' => self.repr_of(a)?,
                        b'x' => alloc::format!("{:x}", self.as_intlike(a).unwrap_or(0)),
                        _ => self.str_of(a)?,
                    };
                    let width: usize = core::str::from_utf8(&f[i + 1..j])
                        .ok()
                        .and_then(|w| w.trim_start_matches('-').parse().ok())
                        .unwrap_or(0);
                    if f[i + 1] == b'-' {
                        let _ = write!(out, "{t:<width$}");
                    } else {
                        let _ = write!(out, "{t:>width$}");
                    }
                }
                i = j + 1;
            } else {
                let start = i;
                while i < f.len() && f[i] != b'%' {
                    i += 1;
                }
                out.push_str(&String::from_utf8_lossy(&f[start..i]));
                if i < f.len() && i + 1 >= f.len() {
                    out.push('%');
                    i += 1;
                }
            }
        }
        self.new_str(out.as_bytes())
    }

    // ---------------------------------------------------------------- attributes

    /// Finds `name` in class `c` or its bases (depth-first).
    pub fn class_lookup(&self, c: u32, name: Value) -> Option<Value> {
        let mut work = alloc::vec![c];
        let mut steps = 0;
        while let Some(x) = work.pop() {
            steps += 1;
            if steps > 256 || self.kind(Value(x)) != Some(Kind::Class) {
                continue;
            }
            let d = self.wv(Value(x), 3);
            if d.is_ptr()
                && let Some(v) = self.dict_get_q(d, name)
            {
                return Some(v);
            }
            // Push the bases last to first (the first is searched first), without copying them.
            if let Some((a, n)) = self.seq_items(self.wv(Value(x), 2)) {
                work.extend((0..n).rev().map(|i| self.mem.read_u32(a + 4 * i)));
            }
            if x != self.st.object && self.wv(Value(x), 2).0 == self.st.empty_tuple {
                work.insert(0, self.st.object);
            }
        }
        None
    }

    /// Finds a method `name` on `obj`'s class (unbound), for protocol calls.
    pub fn lookup_method(&mut self, obj: Value, name: Value) -> R<Option<Value>> {
        let c = self.type_of(obj);
        Ok(self.class_lookup(c, name))
    }

    /// Looks up `obj.name` for a method call: returns (function, self-or-null).
    pub fn load_method(&mut self, obj: Value, name: Value) -> R<(Value, Value)> {
        let k = self.kind(obj);
        if k != Some(Kind::Class) && k != Some(Kind::Module) {
            // Instance members first.
            if k == Some(Kind::Instance) {
                let d = self.wv(obj, 2);
                if d.is_ptr()
                    && let Some(v) = self.dict_get_q(d, name)
                {
                    return Ok((v, Value::NULL));
                }
            }
            let c = self.type_of(obj);
            if let Some(m) = self.class_lookup(c, name) {
                match self.kind(m) {
                    Some(Kind::Func | Kind::Closure | Kind::Builtin) => return Ok((m, obj)),
                    Some(Kind::StaticMeth) => return Ok((self.wv(m, 1), Value::NULL)),
                    Some(Kind::ClassMeth) => return Ok((self.wv(m, 1), Value(c))),
                    _ => {}
                }
            }
        }
        let v = self.load_attr(obj, name)?;
        Ok((v, Value::NULL))
    }

    /// `obj.name`.
    pub fn load_attr(&mut self, obj: Value, name: Value) -> R<Value> {
        match self.try_load_attr(obj, name)? {
            Some(v) => Ok(v),
            None => {
                let n = self.str_string(name);
                let msg = if self.kind(obj) == Some(Kind::Module) {
                    let m = self.str_string(self.wv(obj, 1));
                    alloc::format!("module '{m}' has no attribute '{n}'")
                } else {
                    let t = self.class_name(self.type_of(obj));
                    alloc::format!("'{t}' object has no attribute '{n}'")
                };
                self.raise_msg("AttributeError", &msg)
            }
        }
    }

    /// `obj.name`, or `None` if missing.
    pub fn try_load_attr(&mut self, obj: Value, name: Value) -> R<Option<Value>> {
        let k = self.kind(obj);
        match k {
            Some(Kind::Module) => {
                let g = self.wv(obj, 2);
                if let Some(v) = self.overlay_get(g, name) {
                    return Ok(Some(v));
                }
                if let Some(v) = self.dict_get_q(g, name) {
                    return Ok(Some(v));
                }
                // A submodule imported after its package was frozen is not an attribute of the
                // (read-only) package: find it in sys.modules.
                let mut full = self.str_bytes(self.wv(obj, 1)).unwrap_or(b"").to_vec();
                full.push(b'.');
                full.extend_from_slice(self.str_bytes(name).unwrap_or(b""));
                return Ok(match self.find_qstr(&full) {
                    Some(q) => self.dict_get_q(self.modules, Value::qstr(q)),
                    None => None,
                });
            }
            Some(Kind::Class) => {
                if name == sq!("__name__") {
                    return Ok(Some(self.wv(obj, 1)));
                }
                if let Some(v) = self.class_lookup(obj.0, name) {
                    return Ok(Some(match self.kind(v) {
                        Some(Kind::StaticMeth) => self.wv(v, 1),
                        Some(Kind::ClassMeth) => {
                            let f = self.wv(v, 1);
                            self.alloc_obj(Kind::BoundMeth, 0, &[f, obj])?
                        }
                        _ => v,
                    }));
                }
                if name == self.q("__bases__") {
                    return Ok(Some(self.wv(obj, 2)));
                }
                return Ok(None);
            }
            Some(Kind::Instance) => {
                let d = self.wv(obj, 2);
                if d.is_ptr()
                    && let Some(v) = self.dict_get_q(d, name)
                {
                    return Ok(Some(v));
                }
                if self.is_exception(obj) {
                    if name == sq!("args") {
                        let args = self.inst_native(obj);
                        // Never hand Python a null: no args word reads as `()`.
                        let empty = Value(self.st.empty_tuple);
                        return Ok(Some(if args.is_null() { empty } else { args }));
                    }
                    if name == sq!("value") || name == self.q("errno") {
                        let items = self.seq_vec(self.inst_native(obj)).unwrap_or_default();
                        return Ok(Some(items.first().copied().unwrap_or(self.none())));
                    }
                }
            }
            Some(Kind::Func | Kind::Closure) if name == sq!("__name__") => {
                let n = self.func_name(obj);
                return Ok(Some(self.new_str(n.as_bytes())?));
            }
            Some(Kind::BoundMeth) if name == self.q("__self__") => {
                return Ok(Some(self.wv(obj, 2)));
            }
            _ => {}
        }
        if name == sq!("__class__") {
            return Ok(Some(Value(self.type_of(obj))));
        }
        let c = self.type_of(obj);
        let Some(m) = self.class_lookup(c, name) else {
            if k == Some(Kind::Instance) {
                let ga = sq!("__getattr__");
                if let Some(f) = self.class_lookup(c, ga) {
                    return Ok(Some(self.call(f, &[obj, name], &[])?));
                }
            }
            return Ok(None);
        };
        Ok(Some(match self.kind(m) {
            Some(Kind::Func | Kind::Closure | Kind::Builtin) => {
                self.alloc_obj(Kind::BoundMeth, 0, &[m, obj])?
            }
            Some(Kind::StaticMeth) => self.wv(m, 1),
            Some(Kind::ClassMeth) => {
                let f = self.wv(m, 1);
                self.alloc_obj(Kind::BoundMeth, 0, &[f, Value(c)])?
            }
            Some(Kind::Property) => {
                let g = self.wv(m, 1);
                self.call(g, &[obj], &[])?
            }
            _ => m,
        }))
    }

    /// `obj.name = v`.
    pub fn store_attr(&mut self, obj: Value, name: Value, v: Value) -> R<()> {
        match self.kind(obj) {
            Some(Kind::Instance) => {
                let c = self.type_of(obj);
                if let Some(p) = self.class_lookup(c, name)
                    && self.kind(p) == Some(Kind::Property)
                {
                    let s = self.wv(p, 2);
                    if s.is_ptr() && s.0 != self.st.none {
                        self.call(s, &[obj, v], &[])?;
                        return Ok(());
                    }
                    return self.raise_msg("AttributeError", "can't set attribute");
                }
                if self.is_native_exception(obj) {
                    // MicroPython accepts `exc.__traceback__ = None`, which clears the traceback
                    // stored in the exception. minivm keeps tracebacks in the VM, never in the
                    // object, so there is nothing to clear: a no-op (and the object may be in
                    // flash). Any other store raises, as for MicroPython's native exceptions.
                    if name == self.q("__traceback__") && v.0 == self.st.none {
                        return Ok(());
                    }
                    let t = self.class_name(c);
                    let n = self.str_string(name);
                    let msg = alloc::format!("'{t}' object has no attribute '{n}'");
                    return self.raise_msg("AttributeError", &msg);
                }
                let mut d = self.wv(obj, 2);
                if !d.is_ptr() {
                    if !self.mem.is_writable(obj.0) {
                        return self.raise_mem(crate::mem::MemError::ReadOnly(obj.0));
                    }
                    d = self.new_dict(4)?;
                    self.set_w(obj, 2, d.0)?;
                }
                self.dict_store(d, name, v)
            }
            Some(Kind::Module) => {
                let g = self.wv(obj, 2);
                self.dict_store(g, name, v)
            }
            Some(Kind::Class) => {
                let d = self.wv(obj, 3);
                self.dict_store(d, name, v)
            }
            _ => {
                let t = self.class_name(self.type_of(obj));
                let n = self.str_string(name);
                let msg = alloc::format!("'{t}' object has no attribute '{n}'");
                self.raise_msg("AttributeError", &msg)
            }
        }
    }

    /// `del obj.name`.
    pub fn delete_attr(&mut self, obj: Value, name: Value) -> R<()> {
        let d = match self.kind(obj) {
            Some(Kind::Instance) => self.wv(obj, 2),
            Some(Kind::Module) => self.wv(obj, 2),
            Some(Kind::Class) => self.wv(obj, 3),
            _ => Value::NULL,
        };
        if d.is_ptr() && self.dict_remove(d, name)?.is_some() {
            return Ok(());
        }
        let n = self.str_string(name);
        let msg = alloc::format!("no attribute '{n}'");
        self.raise_msg("AttributeError", &msg)
    }

    // ---------------------------------------------------------------- subscripts

    fn norm_index(&mut self, i: Value, len: u32) -> R<u32> {
        let Some(i) = self.as_intlike(i) else {
            return self.raise_msg("TypeError", "indices must be integers");
        };
        let j = if i < 0 { i + len as i64 } else { i };
        if j < 0 || j >= len as i64 {
            return self.raise_msg("IndexError", "index out of range");
        }
        Ok(j as u32)
    }

    fn slice_range(&self, s: Value, len: u32) -> (i64, i64, i64) {
        let get = |v: Value| {
            if v.is_int() {
                Some(v.as_int() as i64)
            } else {
                None
            }
        };
        let step = get(self.wv(s, 3)).unwrap_or(1);
        let len = len as i64;
        let fix = |x: i64| if x < 0 { (x + len).max(0) } else { x.min(len) };
        if step > 0 {
            (
                get(self.wv(s, 1)).map(fix).unwrap_or(0),
                get(self.wv(s, 2)).map(fix).unwrap_or(len),
                step,
            )
        } else {
            let fixn = |x: i64| {
                if x < 0 {
                    (x + len).max(-1)
                } else {
                    x.min(len - 1)
                }
            };
            (
                get(self.wv(s, 1)).map(fixn).unwrap_or(len - 1),
                get(self.wv(s, 2)).map(fixn).unwrap_or(-1),
                step,
            )
        }
    }

    fn slice_indices(&self, s: Value, len: u32) -> Vec<u32> {
        let (a, b, st) = self.slice_range(s, len);
        let mut out = Vec::new();
        let mut i = a;
        if st == 0 {
            return out;
        }
        while (st > 0 && i < b) || (st < 0 && i > b) {
            out.push(i as u32);
            i += st;
        }
        out
    }

    /// `obj[index]`.
    pub fn subscr(&mut self, obj: Value, index: Value) -> R<Value> {
        let is_slice = self.kind(index) == Some(Kind::Slice);
        if let Some(b) = self.str_bytes(obj) {
            let b = b.to_vec();
            if is_slice {
                let idx = self.slice_indices(index, b.len() as u32);
                let out: Vec<u8> = idx.iter().map(|&i| b[i as usize]).collect();
                return self.new_str(&out);
            }
            let i = self.norm_index(index, b.len() as u32)?;
            return self.new_str(&b[i as usize..i as usize + 1]);
        }
        match self.kind(obj) {
            Some(Kind::Bytes) => {
                let b = self.str_obj_bytes(obj).unwrap_or(b"").to_vec();
                if is_slice {
                    let idx = self.slice_indices(index, b.len() as u32);
                    let out: Vec<u8> = idx.iter().map(|&i| b[i as usize]).collect();
                    return self.new_str_obj(Kind::Bytes, &out);
                }
                let i = self.norm_index(index, b.len() as u32)?;
                Ok(Value::small(b[i as usize] as i32))
            }
            Some(Kind::Tuple | Kind::List) => {
                let Some((a, n)) = self.seq_items(obj) else {
                    return self.raise_msg("TypeError", "bad sequence");
                };
                if is_slice {
                    let idx = self.slice_indices(index, n);
                    let items: Vec<Value> = idx
                        .iter()
                        .map(|&i| Value(self.mem.read_u32(a + 4 * i)))
                        .collect();
                    return if self.kind(obj) == Some(Kind::Tuple) {
                        self.new_tuple(&items)
                    } else {
                        self.new_list(&items)
                    };
                }
                let i = self.norm_index(index, n)?;
                Ok(Value(self.mem.read_u32(a + 4 * i)))
            }
            Some(Kind::Dict) => match self.dict_get(obj, index)? {
                Some(v) => Ok(v),
                None => self.raise_args("KeyError", &[index]),
            },
            Some(Kind::Range) => {
                let n = self.len(obj)?.as_int() as u32;
                let i = self.norm_index(index, n)?;
                let (a, s) = (self.wv(obj, 1).as_int(), self.wv(obj, 3).as_int());
                self.int_val(a as i64 + i as i64 * s as i64)
            }
            Some(Kind::Instance) => {
                let m = sq!("__getitem__");
                match self.lookup_method(obj, m)? {
                    Some(f) => self.call(f, &[obj, index], &[]),
                    None => self.raise_msg("TypeError", "object isn't subscriptable"),
                }
            }
            _ => self.raise_msg("TypeError", "object isn't subscriptable"),
        }
    }

    /// `obj[index] = v`.
    pub fn store_subscr(&mut self, obj: Value, index: Value, v: Value) -> R<()> {
        match self.kind(obj) {
            Some(Kind::List) => {
                let n = self.wv(obj, 1).as_int() as u32;
                let i = self.norm_index(index, n)?;
                let arr = self.wv(obj, 2);
                self.set_w(arr, 1 + i, v.0)
            }
            Some(Kind::Dict) => self.dict_store(obj, index, v),
            Some(Kind::Instance) => {
                let m = sq!("__setitem__");
                match self.lookup_method(obj, m)? {
                    Some(f) => self.call(f, &[obj, index, v], &[]).map(|_| ()),
                    None => self.raise_msg("TypeError", "object doesn't support item assignment"),
                }
            }
            _ => self.raise_msg("TypeError", "object doesn't support item assignment"),
        }
    }

    /// `del obj[index]`.
    pub fn delete_subscr(&mut self, obj: Value, index: Value) -> R<()> {
        match self.kind(obj) {
            Some(Kind::List) => {
                let n = self.wv(obj, 1).as_int() as u32;
                let i = self.norm_index(index, n)?;
                self.list_pop(obj, i).map(|_| ())
            }
            Some(Kind::Dict) => match self.dict_remove(obj, index)? {
                Some(_) => Ok(()),
                None => self.raise_args("KeyError", &[index]),
            },
            Some(Kind::Instance) => {
                let m = sq!("__delitem__");
                match self.lookup_method(obj, m)? {
                    Some(f) => self.call(f, &[obj, index], &[]).map(|_| ()),
                    None => self.raise_msg("TypeError", "object doesn't support item deletion"),
                }
            }
            _ => self.raise_msg("TypeError", "object doesn't support item deletion"),
        }
    }

    /// Removes item `i` of a list.
    pub fn list_pop(&mut self, l: Value, i: u32) -> R<Value> {
        let n = self.wv(l, 1).as_int() as u32;
        let arr = self.wv(l, 2);
        let v = self.wv(arr, 1 + i);
        for j in i..n - 1 {
            let x = self.w(arr, 2 + j);
            self.set_w(arr, 1 + j, x)?;
        }
        self.set_w(arr, n, 0)?;
        self.set_w(l, 1, Value::small(n as i32 - 1).0)?;
        Ok(v)
    }

    // ---------------------------------------------------------------- sets

    /// A new empty set.
    pub fn new_set(&mut self) -> R<Value> {
        let arr = self.new_array(8)?;
        self.alloc_obj(Kind::Set, 0, &[Value::small(0), arr])
    }

    /// Adds to a set: a dict whose values are never read. Each value repeats its key rather
    /// than being null, so a used table word is never null (the freezer trims a table to its
    /// non-null prefix).
    pub fn set_add(&mut self, s: Value, x: Value) -> R<()> {
        if self.dict_find(s, x)?.is_none() {
            self.dict_store(s, x, x)?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- iteration

    /// `iter(v)`.
    pub fn get_iter(&mut self, v: Value) -> R<Value> {
        if v.is_qstr() {
            return self.alloc_obj(
                Kind::Iter,
                iter_kind::STR,
                &[v, Value::small(0), Value::NULL],
            );
        }
        match self.kind(v) {
            Some(Kind::Tuple | Kind::List | Kind::Bytes | Kind::Dict | Kind::Set) => self
                .alloc_obj(
                    Kind::Iter,
                    iter_kind::SEQ,
                    &[v, Value::small(0), Value::NULL],
                ),
            Some(Kind::Str) => self.alloc_obj(
                Kind::Iter,
                iter_kind::STR,
                &[v, Value::small(0), Value::NULL],
            ),
            Some(Kind::Range) => {
                let a = self.wv(v, 1);
                self.alloc_obj(Kind::Iter, iter_kind::RANGE, &[v, a, Value::NULL])
            }
            Some(Kind::Iter | Kind::Generator) => Ok(v),
            Some(Kind::Instance) => {
                let m = sq!("__iter__");
                if let Some(f) = self.lookup_method(v, m)? {
                    return self.call(f, &[v], &[]);
                }
                let g = sq!("__getitem__");
                if self.lookup_method(v, g)?.is_some() {
                    return self.alloc_obj(
                        Kind::Iter,
                        iter_kind::SEQ,
                        &[v, Value::small(0), Value::NULL],
                    );
                }
                self.raise_msg("TypeError", "object not iterable")
            }
            _ => {
                let t = self.class_name(self.type_of(v));
                let msg = alloc::format!("'{t}' object isn't iterable");
                self.raise_msg("TypeError", &msg)
            }
        }
    }

    /// Next item of an iterator, or `None` when exhausted. Each item costs one unit of fuel,
    /// so native loops (`list(range(n))`, `sum`…) are bounded like bytecode loops.
    pub fn iter_next(&mut self, it: Value) -> R<Option<Value>> {
        if self.fuel == 0 {
            self.refuel()?;
        }
        self.fuel -= 1;
        match self.kind(it) {
            Some(Kind::Generator) => self.gen_next(it),
            Some(Kind::Iter) => {
                let seq = self.wv(it, 1);
                let idx = self.wv(it, 2);
                match self.aux(it) {
                    iter_kind::RANGE => {
                        let (stop, step) = (self.wv(seq, 2).as_int(), self.wv(seq, 3).as_int());
                        let i = idx.as_int();
                        if (step > 0 && i >= stop) || (step < 0 && i <= stop) || step == 0 {
                            return Ok(None);
                        }
                        self.set_w(it, 2, Value::small(i + step).0)?;
                        Ok(Some(idx))
                    }
                    iter_kind::STR => {
                        let b = self.str_bytes(seq).unwrap_or(b"");
                        let i = idx.as_int() as usize;
                        if i >= b.len() {
                            return Ok(None);
                        }
                        // One UTF-8 character.
                        let mut j = i + 1;
                        while j < b.len() && b[j] & 0xC0 == 0x80 {
                            j += 1;
                        }
                        let ch = b[i..j].to_vec();
                        self.set_w(it, 2, Value::small(j as i32).0)?;
                        Ok(Some(self.new_str(&ch)?))
                    }
                    iter_kind::SEQ => {
                        let i = idx.as_int() as u32;
                        match self.kind(seq) {
                            Some(Kind::Dict | Kind::Set) => {
                                if i >= self.dict_len(seq) {
                                    return Ok(None);
                                }
                                self.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                                Ok(Some(self.dict_entry(seq, i).0))
                            }
                            Some(Kind::Bytes) => {
                                let b = self.str_obj_bytes(seq).unwrap_or(b"");
                                if i as usize >= b.len() {
                                    return Ok(None);
                                }
                                let x = b[i as usize];
                                self.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                                Ok(Some(Value::small(x as i32)))
                            }
                            Some(Kind::Instance) => {
                                self.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                                match self.subscr(seq, Value::small(i as i32)) {
                                    Ok(v) => Ok(Some(v)),
                                    Err(t) => {
                                        let e = self.exc;
                                        if self
                                            .exception_match(e, Value(self.exc_class("IndexError")))
                                        {
                                            self.exc = Value::NULL;
                                            Ok(None)
                                        } else {
                                            Err(t)
                                        }
                                    }
                                }
                            }
                            _ => {
                                let (a, n) = self.seq_items(seq).unwrap_or((0, 0));
                                if i >= n {
                                    return Ok(None);
                                }
                                self.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                                Ok(Some(Value(self.mem.read_u32(a + 4 * i))))
                            }
                        }
                    }
                    iter_kind::REVERSED => {
                        let i = idx.as_int();
                        if i <= 0 {
                            return Ok(None);
                        }
                        self.set_w(it, 2, Value::small(i - 1).0)?;
                        Ok(Some(self.subscr(seq, Value::small(i - 1))?))
                    }
                    iter_kind::DICT_ITEMS | iter_kind::DICT_VALUES => {
                        let i = idx.as_int() as u32;
                        if i >= self.dict_len(seq) {
                            return Ok(None);
                        }
                        self.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                        let (k, v) = self.dict_entry(seq, i);
                        if self.aux(it) == iter_kind::DICT_VALUES {
                            Ok(Some(v))
                        } else {
                            Ok(Some(self.new_tuple(&[k, v])?))
                        }
                    }
                    iter_kind::ENUMERATE => match self.iter_next(seq)? {
                        Some(x) => {
                            self.set_w(it, 2, Value::small(idx.as_int() + 1).0)?;
                            Ok(Some(self.new_tuple(&[idx, x])?))
                        }
                        None => Ok(None),
                    },
                    iter_kind::ZIP => {
                        let items = self.seq_vec(seq).unwrap_or_default();
                        let mut out = Vec::new();
                        for i in items {
                            match self.iter_next(i)? {
                                Some(x) => out.push(x),
                                None => return Ok(None),
                            }
                        }
                        Ok(Some(self.new_tuple(&out)?))
                    }
                    iter_kind::MAP => {
                        let f = self.wv(it, 3);
                        match self.iter_next(seq)? {
                            Some(x) => Ok(Some(self.call(f, &[x], &[])?)),
                            None => Ok(None),
                        }
                    }
                    _ => Ok(None),
                }
            }
            Some(Kind::Instance) => {
                let m = sq!("__next__");
                let Some(f) = self.lookup_method(it, m)? else {
                    return self.raise_msg("TypeError", "object not an iterator");
                };
                match self.call(f, &[it], &[]) {
                    Ok(v) => Ok(Some(v)),
                    Err(t) => {
                        let e = self.exc;
                        if self.exception_match(e, Value(self.exc_class("StopIteration"))) {
                            self.exc = Value::NULL;
                            Ok(None)
                        } else {
                            Err(t)
                        }
                    }
                }
            }
            _ => self.raise_msg("TypeError", "object not an iterator"),
        }
    }

    /// Collects an iterable into a Rust vector (values stay rooted through `young`).
    pub fn iter_to_vec(&mut self, v: Value) -> R<Vec<Value>> {
        if let Some(items) = self.seq_vec(v) {
            return Ok(items);
        }
        let it = self.get_iter(v)?;
        let mut out = Vec::new();
        while let Some(x) = self.iter_next(it)? {
            if x.is_ptr() {
                self.young.push(x.0);
            }
            out.push(x);
        }
        Ok(out)
    }
}

/// Python-style repr of str/bytes contents.
fn repr_str(s: &mut String, b: &[u8], bytes: bool) {
    if bytes {
        // Byte by byte, never decoded: printable ASCII as is, anything else `\xHH`.
        let q = if b.contains(&b'\'') && !b.contains(&b'"') {
            b'"'
        } else {
            b'\''
        };
        s.push('b');
        s.push(q as char);
        for &c in b {
            match c {
                b'\n' => s.push_str("\\n"),
                b'\r' => s.push_str("\\r"),
                b'\t' => s.push_str("\\t"),
                b'\\' => s.push_str("\\\\"),
                c if c == q => {
                    s.push('\\');
                    s.push(c as char);
                }
                0x20..=0x7e => s.push(c as char),
                c => {
                    let _ = write!(s, "\\x{c:02x}");
                }
            }
        }
        s.push(q as char);
        return;
    }
    let text = String::from_utf8_lossy(b);
    let q = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    if bytes {
        s.push('b');
    }
    s.push(q);
    for ch in text.chars() {
        match ch {
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\\' => s.push_str("\\\\"),
            c if c == q => {
                s.push('\\');
                s.push(c);
            }
            c if (c as u32) < 0x20 || (bytes && c as u32 >= 0x7f) => {
                let _ = write!(s, "\\x{:02x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push(q);
}
