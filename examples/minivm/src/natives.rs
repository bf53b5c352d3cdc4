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
    /// Calls the native function with id `id` (after checking its arity, if it declares one).
    pub fn call_native(&mut self, id: u32, args: &[Value], kw: &[Value]) -> R<Value> {
        match self.registry.native(id) {
            Some(n) => {
                if let Some((min, max)) = n.arity {
                    self.check_arity(args.len(), kw.len() / 2, min as usize, max as usize)?;
                }
                (n.f)(self, args, kw)
            }
            None => self.raise_msg("RuntimeError", "bad builtin id"),
        }
    }

    /// MicroPython's `mp_arg_check_num_sig` for a native taking `min..=max` positional
    /// arguments and no keywords.
    pub fn check_arity(&mut self, n: usize, n_kw: usize, min: usize, max: usize) -> R<()> {
        if n_kw > 0 {
            return self.raise_msg("TypeError", "function doesn't take keyword arguments");
        }
        let msg = if min == max && n != min {
            alloc::format!("function takes {min} positional arguments but {n} were given")
        } else if n < min {
            alloc::format!("function missing {} required positional arguments", min - n)
        } else if n > max {
            alloc::format!("function expected at most {max} arguments, got {n}")
        } else {
            return Ok(());
        };
        self.raise_msg("TypeError", &msg)
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

    /// Checks a native's argument count as MicroPython's `mp_arg_check_num` does: a method's
    /// counts include its self, keywords are refused. Raises `TypeError` with its messages.
    pub fn check_args(&mut self, args: &[Value], kw: &[Value], min: usize, max: usize) -> R<()> {
        let n = args.len();
        let msg = if !kw.is_empty() {
            alloc::string::String::from("function doesn't take keyword arguments")
        } else if min == max && n != min {
            alloc::format!("function takes {min} positional arguments but {n} were given")
        } else if n < min {
            alloc::format!("function missing {} required positional arguments", min - n)
        } else if n > max {
            alloc::format!("function expected at most {max} arguments, got {n}")
        } else {
            return Ok(());
        };
        self.raise_msg("TypeError", &msg)
    }

    /// An int (or bool) as a machine word, `None` for any other type (MicroPython's
    /// `mp_obj_get_int_maybe`, as a sequence's `* n` asks): a big int beyond 32 bits raises
    /// `OverflowError`.
    pub fn int_maybe(&mut self, v: Value) -> R<Option<i64>> {
        if self.as_intlike(v).is_none() && !self.is_int(v) {
            return Ok(None);
        }
        self.int_arg(v).map(Some)
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
