//! Calls: the one entry point for calling any value, through its type's `call` slot.

use crate::mem::FlashImage;
use crate::obj::Value;
use crate::vm::{R, Vm};

impl<F: FlashImage> Vm<F> {
    /// Calls `f(*args, **kw)`; `kw` is flat `[name, value, …]`.
    pub fn call(&mut self, f: Value, args: &[Value], kw: &[Value]) -> R<Value> {
        for v in core::iter::once(&f).chain(args).chain(kw) {
            if v.is_ptr() {
                self.young.push(v.0);
            }
        }
        match self.slots(f).and_then(|t| t.call) {
            Some(call) => call(self, f, args, kw),
            None => self.not_callable(f),
        }
    }

    /// `TypeError: '…' object isn't callable`.
    pub fn not_callable<T>(&mut self, f: Value) -> R<T> {
        let t = self.class_name(self.type_of(f));
        let msg = alloc::format!("'{t}' object isn't callable");
        self.raise_msg("TypeError", &msg)
    }
}
