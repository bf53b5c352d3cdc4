//! Native functions: calling a builtin function object, and the argument helpers natives use.
//!
//! A builtin function object in the statics is `[hdr id|BUILTIN][name qstr]`, where the id
//! names a native table and an index in it (see [`crate::slots::table`]): a type's methods, a
//! module's functions, the `builtins` module's or the exception base class's. Calling it looks
//! the entry up in the registry's [`crate::slots::Builtins`] and calls its `fn`.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::Value;
use crate::vm::{R, Vm};

/// Argument `i`, or null when it was not given.
#[inline]
pub fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).copied().unwrap_or(Value::NULL)
}

impl<F: FlashImage> Vm<F> {
    /// Calls the native function with id `id`.
    pub fn call_native(&mut self, id: u32, args: &[Value], kw: &[Value]) -> R<Value> {
        match self.registry.native(id) {
            Some(n) => (n.f)(self, args, kw),
            None => self.raise_msg("RuntimeError", "bad builtin id"),
        }
    }

    /// Keyword argument `name` of a flat `[name, value, …]` list.
    pub fn kwarg(&self, kw: &[Value], name: &str) -> Option<Value> {
        kw.chunks(2)
            .find(|p| self.str_bytes(p[0]) == Some(name.as_bytes()))
            .and_then(|p| p.get(1).copied())
    }

    /// Raises `TypeError` unless at least `n` arguments were given.
    pub fn need(&mut self, args: &[Value], n: usize, name: &str) -> R<()> {
        if args.len() < n {
            let msg = alloc::format!("{name}() takes at least {n} arguments");
            return self.raise_msg("TypeError", &msg);
        }
        Ok(())
    }

    /// An int (or bool) argument as a machine word: a big int beyond 32 bits raises
    /// `OverflowError` (MicroPython's `mp_obj_get_int` on its 32-bit ports).
    pub fn int_arg(&mut self, v: Value) -> R<i64> {
        if let Some(n) = self.as_intlike(v) {
            return Ok(n);
        }
        match self.int_mpz(v) {
            Some(z) => match z.to_i32() {
                Some(n) => Ok(n as i64),
                None => self.raise_msg(
                    "OverflowError",
                    "overflow converting long int to machine word",
                ),
            },
            None => {
                let t = self.class_name(self.type_of(v));
                let msg = alloc::format!("can't convert {t} to int");
                self.raise_msg("TypeError", &msg)
            }
        }
    }

    /// A str argument's bytes.
    pub fn str_arg(&mut self, v: Value) -> R<Vec<u8>> {
        match self.str_bytes(v) {
            Some(b) => Ok(b.to_vec()),
            None => self.raise_msg("TypeError", "expected a str"),
        }
    }
}
