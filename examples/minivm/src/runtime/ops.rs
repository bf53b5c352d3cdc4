//! Operators: `binary_op`, `unary_op`, `==`, `in`, truth, `len` and `hash`.
//!
//! As MicroPython's `runtime.c`: the generic operators (`is`, `==` through the type, `in`,
//! exception match) and the small-int arithmetic are here, inline; anything else is asked of
//! the left operand's type through its `binary_op` slot (the container's for `in`), and a type
//! with no answer makes a `TypeError`.

use crate::mem::FlashImage;
use crate::mpz::Mpz;
use crate::number::{FloatResult, float_op};
use crate::obj::*;
use crate::slots::{binop, unop};
use crate::vm::{R, Vm};

impl<F: FlashImage> Vm<F> {
    /// An int or bool as i64.
    #[inline]
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

    /// The int `n`: a small int when it fits, else a big int.
    pub fn int_val(&mut self, n: i64) -> R<Value> {
        match Value::int(n) {
            Some(v) => Ok(v),
            None => self.new_int(&Mpz::from_i64(n)),
        }
    }

    /// A bool as the small int it is in arithmetic; any other value unchanged.
    fn unbool(&self, v: Value) -> Value {
        match self.as_intlike(v) {
            Some(n) if !v.is_int() => Value::small(n as i32),
            _ => v,
        }
    }

    /// Python `==`, as MicroPython's `mp_obj_equal_not_equal`: identity (but a NaN is not
    /// equal to itself), the int and qstr shortcuts, then the left operand's type, then the
    /// right one's (`5 == obj` asks `obj.__eq__`); a type answers `None` for an operand it
    /// cannot compare with. Without an answer, the operands are equal only if identical.
    pub fn eq(&mut self, a: Value, b: Value) -> R<bool> {
        if a.0 == b.0 {
            return Ok(!self.float_of(a).is_some_and(f64::is_nan));
        }
        if let (Some(x), Some(y)) = (self.as_intlike(a), self.as_intlike(b)) {
            return Ok(x == y);
        }
        if a.is_qstr() && b.is_qstr() {
            return Ok(false);
        }
        // A bool on the left is asked as the int it is (MicroPython's `bool_binary_op`).
        let a = self.unbool(a);
        for (x, y) in [(a, b), (b, a)] {
            if self.as_intlike(x).is_some() {
                // A small int has no answer for what is not a small int: ask the other side.
                continue;
            }
            if let Some(f) = self.slots(x).and_then(|t| t.binary_op)
                && let Some(r) = f(self, binop::EQUAL, x, y)?
            {
                return self.truthy(r);
            }
        }
        Ok(false)
    }

    /// Applies binary operator `op` ([`binop`]).
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
        // In-place operators act like their plain forms, unless the type has its own (a
        // list's `+=` extends it).
        let plain = binop::plain(op);
        if let (Some(x), Some(y)) = (self.as_intlike(a), self.as_intlike(b)) {
            return self.small_int_op(plain, x, y);
        }
        // A bool is an int in arithmetic.
        let a = self.unbool(a);
        if let Some(f) = self.slots(a).and_then(|t| t.binary_op) {
            if let Some(r) = f(self, op, a, b)? {
                return Ok(r);
            }
            if plain != op
                && let Some(r) = f(self, plain, a, b)?
            {
                return Ok(r);
            }
        }
        // int * sequence: multiplying str, bytes, tuple or list is commutative, so the
        // sequence answers (MicroPython's `mp_obj_int_binary_op_extra_cases`).
        if plain == MULTIPLY
            && self.as_intlike(a).is_some()
            && (b.is_qstr()
                || matches!(
                    self.kind(b),
                    Some(Kind::STR | Kind::BYTES | Kind::TUPLE | Kind::LIST)
                ))
            && let Some(f) = self.slots(b).and_then(|t| t.binary_op)
            && let Some(r) = f(self, MULTIPLY, b, a)?
        {
            return Ok(r);
        }
        // The right operand's reflected method (`__radd__`…), as MicroPython's
        // `MICROPY_PY_REVERSE_SPECIAL_METHODS`.
        if let Some(name) = binop::reflected_name(plain)
            && self.kind(b) == Some(Kind::INSTANCE)
        {
            let q = self.q(name);
            if let Some(f) = self.lookup_method(b, q)? {
                return self.call(f, &[b, a], &[]);
            }
        }
        self.binop_type_error(plain, a, b)
    }

    /// `TypeError: unsupported types for __add__: 'int', 'str'`.
    pub fn binop_type_error<T>(&mut self, op: u32, a: Value, b: Value) -> R<T> {
        let ta = self.class_name(self.type_of(a));
        let tb = self.class_name(self.type_of(b));
        let name = binop::method_name(op);
        let msg = alloc::format!("unsupported types for {name}: '{ta}', '{tb}'");
        self.raise_msg("TypeError", &msg)
    }

    /// `TypeError: unsupported type for __hash__: 'list'` (for unary operator `op`).
    pub fn unsupported_unary<T>(&mut self, op: u32, v: Value) -> R<T> {
        let t = self.class_name(self.type_of(v));
        let name = unop::method_name(op);
        let msg = alloc::format!("unsupported type for {name}: '{t}'");
        self.raise_msg("TypeError", &msg)
    }

    /// Arithmetic and comparison of two ints (or bools), plain operators only. The result is
    /// exact: a big int when it leaves the small-int range, a float for `/` and for a negative
    /// power (as MicroPython's `runtime.c`).
    fn small_int_op(&mut self, op: u32, x: i64, y: i64) -> R<Value> {
        use binop::*;
        let r = match op {
            LESS => return Ok(self.bool_val(x < y)),
            MORE => return Ok(self.bool_val(x > y)),
            LESS_EQUAL => return Ok(self.bool_val(x <= y)),
            MORE_EQUAL => return Ok(self.bool_val(x >= y)),
            OR => x | y,
            XOR => x ^ y,
            AND => x & y,
            LSHIFT | RSHIFT if y < 0 => {
                return self.raise_msg("ValueError", "negative shift count");
            }
            // |x| < 2^30, so up to 32 places fit an i64.
            LSHIFT if y <= 32 => x << y,
            LSHIFT => {
                let z = Mpz::from_i64(x);
                self.check_int_bits(z.bits() + y as u64)?;
                return self.new_int(&z.shl(y as u64));
            }
            RSHIFT => x >> y.min(63),
            ADD => x + y,
            SUBTRACT => x - y,
            MULTIPLY => x * y,
            FLOOR_DIVIDE | MODULO | DIVMOD => {
                if y == 0 {
                    return self.raise_msg("ZeroDivisionError", "divide by zero");
                }
                // Python floors toward negative infinity.
                let (mut q, mut m) = (x / y, x % y);
                if m != 0 && (m < 0) != (y < 0) {
                    q -= 1;
                    m += y;
                }
                match op {
                    MODULO => m,
                    FLOOR_DIVIDE => q,
                    _ => {
                        let (q, m) = (self.int_val(q)?, self.int_val(m)?);
                        return self.new_tuple(&[q, m]);
                    }
                }
            }
            TRUE_DIVIDE => {
                if y == 0 {
                    return self.raise_msg("ZeroDivisionError", "divide by zero");
                }
                return self.new_float(x as f64 / y as f64);
            }
            POWER if y < 0 => {
                let r = float_op(POWER, x as f64, y as f64);
                return self.float_result(r.unwrap_or(FloatResult::ZeroDivision));
            }
            POWER => {
                let small = match x {
                    0 => Some((y == 0) as i64),
                    1 => Some(1),
                    -1 => Some(if y % 2 == 0 { 1 } else { -1 }),
                    _ => u32::try_from(y).ok().and_then(|e| x.checked_pow(e)),
                };
                match small {
                    Some(r) => r,
                    None => {
                        let (base, exp) = (Mpz::from_i64(x), Mpz::from_i64(y));
                        self.check_int_bits(crate::mpz::pow_bits(base.bits(), &exp))?;
                        return self.new_int(&base.pow(&exp));
                    }
                }
            }
            _ => {
                let a = Value::int(x).unwrap_or(Value::NULL);
                let b = Value::int(y).unwrap_or(Value::NULL);
                return self.binop_type_error(op, a, b);
            }
        };
        self.int_val(r)
    }

    /// Applies unary operator `op` ([`unop`]).
    pub fn unary_op(&mut self, op: u32, a: Value) -> R<Value> {
        match op {
            unop::NOT => {
                let t = self.truthy(a)?;
                Ok(self.bool_val(!t))
            }
            unop::BOOL => {
                let t = self.truthy(a)?;
                Ok(self.bool_val(t))
            }
            unop::LEN => self.len(a),
            unop::HASH => self.hash_of(a),
            _ => match self.as_intlike(a) {
                Some(x) => match op {
                    unop::POSITIVE => self.int_val(x),
                    unop::NEGATIVE => self.int_val(-x),
                    unop::INVERT => self.int_val(!x),
                    unop::ABS => self.int_val(x.abs()),
                    _ => self.raise_msg("NotImplementedError", "unary op"),
                },
                None => {
                    if let Some(f) = self.slots(a).and_then(|t| t.unary_op)
                        && let Some(r) = f(self, op, a)?
                    {
                        return Ok(r);
                    }
                    self.unsupported_unary(op, a)
                }
            },
        }
    }

    /// Object truthiness: the type's `unary_op(BOOL)`, true when it has no answer.
    pub fn truthy(&mut self, v: Value) -> R<bool> {
        if v.is_int() {
            return Ok(v.as_int() != 0);
        }
        if v.is_qstr() {
            return Ok(v.as_qstr() != 1);
        }
        if v.0 == self.st.none || v.0 == self.st.false_ {
            return Ok(false);
        }
        if v.0 == self.st.true_ {
            return Ok(true);
        }
        match self.slots(v).and_then(|t| t.unary_op) {
            Some(f) => match f(self, unop::BOOL, v)? {
                Some(r) => Ok(r.0 == self.st.true_),
                None => Ok(true),
            },
            None => Ok(true),
        }
    }

    /// `len(v)`: the type's `unary_op(LEN)`.
    pub fn len(&mut self, v: Value) -> R<Value> {
        if let Some(f) = self.slots(v).and_then(|t| t.unary_op)
            && let Some(n) = f(self, unop::LEN, v)?
        {
            return Ok(n);
        }
        let t = self.class_name(self.type_of(v));
        let msg = alloc::format!("object of type '{t}' has no len()");
        self.raise_msg("TypeError", &msg)
    }

    /// `hash(v)`: the int itself, the type's `unary_op(HASH)`, or the address.
    pub fn hash_of(&mut self, v: Value) -> R<Value> {
        if let Some(n) = self.as_intlike(v) {
            // A bool hashes as its int (`hash(True) == hash(1)`), as MicroPython's bool type.
            return Ok(Value::small(n as i32));
        }
        if let Some(f) = self.slots(v).and_then(|t| t.unary_op)
            && let Some(h) = f(self, unop::HASH, v)?
        {
            return Ok(h);
        }
        Ok(Value::small((v.0 >> 4) as i32))
    }

    /// `x in container`: the container type's `binary_op(CONTAINS)`, else a search of its
    /// items by `==`.
    pub fn contains(&mut self, container: Value, x: Value) -> R<bool> {
        if container.is_int() && x.is_int() {
            // MicroPython's small-int operators have no `in`: its name is empty.
            return self.binop_type_error(binop::IN, x, container);
        }
        if let Some(f) = self.slots(container).and_then(|t| t.binary_op)
            && let Some(r) = f(self, binop::CONTAINS, container, x)?
        {
            return self.truthy(r);
        }
        let items = self.iter_to_vec(container)?;
        for it in items {
            if self.eq(it, x)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
