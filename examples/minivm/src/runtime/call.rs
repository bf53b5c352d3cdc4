//! Calls: the one entry point for calling any value.

use alloc::vec;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::qstr::sq;
use crate::vm::{R, Vm};

impl<F: FlashImage> Vm<F> {
    /// Calls `f(*args, **kw)`; `kw` is flat `[name, value, …]`.
    pub fn call(&mut self, f: Value, args: &[Value], kw: &[Value]) -> R<Value> {
        for v in core::iter::once(&f).chain(args).chain(kw) {
            if v.is_ptr() {
                self.young.push(v.0);
            }
        }
        match self.kind(f) {
            Some(Kind::FUNC | Kind::CLOSURE) => self.call_bc(f, args, kw, Value::NULL),
            Some(Kind::BOUND_METH) => {
                let mut a = Vec::with_capacity(args.len() + 1);
                a.push(self.wv(f, 2));
                a.extend_from_slice(args);
                let m = self.wv(f, 1);
                self.call(m, &a, kw)
            }
            Some(Kind::BUILTIN) => {
                let id = self.aux(f);
                self.call_native(id, args, kw)
            }
            Some(Kind::CLASS) => self.instantiate(f, args, kw),
            Some(Kind::INSTANCE) => {
                let m = sq!("__call__");
                match self.lookup_method(f, m)? {
                    Some(c) => {
                        let mut a = vec![f];
                        a.extend_from_slice(args);
                        self.call(c, &a, kw)
                    }
                    None => self.not_callable(f),
                }
            }
            _ => self.not_callable(f),
        }
    }

    fn not_callable<T>(&mut self, f: Value) -> R<T> {
        let t = self.class_name(self.type_of(f));
        let msg = alloc::format!("'{t}' object isn't callable");
        self.raise_msg("TypeError", &msg)
    }

    /// Creates an instance of class `c` and runs `__init__`.
    pub fn instantiate(&mut self, c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
        let flags = self.aux(c);
        if flags & class_flags::NATIVE != 0 {
            // A native type: its kind is in the aux bits 8..16.
            let make_new = Kind::try_new((flags >> 8) as u8)
                .and_then(|k| self.registry.slots(k))
                .and_then(|t| t.make_new);
            return match make_new {
                Some(f) => f(self, c, args, kw),
                None => {
                    let n = self.class_name(c.0);
                    let msg = alloc::format!("cannot create '{n}' instances");
                    self.raise_msg("TypeError", &msg)
                }
            };
        }
        let newq = sq!("__new__");
        let inst = if let Some(nf) = self.class_lookup(c.0, newq)
            && matches!(
                self.kind(nf),
                Some(Kind::FUNC | Kind::CLOSURE | Kind::STATIC_METH)
            ) {
            let nf = if self.kind(nf) == Some(Kind::STATIC_METH) {
                self.wv(nf, 1)
            } else {
                nf
            };
            let mut a = vec![c];
            a.extend_from_slice(args);
            let o = self.call(nf, &a, kw)?;
            if self.type_of(o) != c.0 {
                return Ok(o);
            }
            o
        } else if flags & class_flags::EXCEPTION != 0 {
            let t = self.new_tuple(args)?;
            self.alloc_obj(Kind::INSTANCE, 0, &[c, Value::NULL, t])?
        } else {
            // No args word: null forever, so the frozen copy can drop it.
            self.alloc_obj(Kind::INSTANCE, 0, &[c, Value::NULL, Value::NULL])?
        };
        let initq = sq!("__init__");
        if let Some(init) = self.class_lookup(c.0, initq) {
            let mut a = vec![inst];
            a.extend_from_slice(args);
            self.call(init, &a, kw)?;
        }
        Ok(inst)
    }
}
