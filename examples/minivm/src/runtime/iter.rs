//! Iteration: `iter(v)` through the type's `getiter` slot, `next(it)` through its `iternext`.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::Value;
use crate::vm::{R, Vm};

impl<F: FlashImage> Vm<F> {
    /// `iter(v)`.
    pub fn get_iter(&mut self, v: Value) -> R<Value> {
        match self.slots(v).and_then(|t| t.getiter) {
            Some(f) => f(self, v),
            None => {
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
        match self.slots(it).and_then(|t| t.iternext) {
            Some(f) => f(self, it),
            None => self.raise_msg("TypeError", "object not an iterator"),
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

    /// The result of a `__next__`-style call: a `StopIteration` it raised becomes `Ok(None)`.
    pub fn stop_iteration_ends(&mut self, r: R<Value>) -> R<Option<Value>> {
        match r {
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
}
