//! Attributes: `obj.name` loads (plain and for a method call), stores and deletes.
//!
//! The object's type answers first through its `attr` slot (a module's globals, a class's
//! namespace, an instance's members…). When it has no slot or answers [`Attr::Default`], the
//! generic lookup runs, as MicroPython's `mp_load_method_maybe` does: `__class__`, then the
//! type's dict and its bases, binding what it finds (a function of a type with
//! `TypeSlots::binds_self` becomes a bound method, a `classmethod` binds the class, a
//! `staticmethod` is its function, a `property` calls its getter). Stores and deletes have no generic form: without the type's answer they raise.

use crate::mem::FlashImage;
use crate::obj::*;
use crate::qstr::sq;
use crate::slots::{Attr, AttrOp};
use crate::vm::{R, Vm};

impl<F: FlashImage> Vm<F> {
    /// Finds `name` in class `c` or its bases (depth-first; `object` last).
    pub fn class_lookup(&self, c: u32, name: Value) -> Option<Value> {
        let mut work = alloc::vec![c];
        let mut steps = 0;
        while let Some(x) = work.pop() {
            steps += 1;
            if steps > 256 || self.kind(Value(x)) != Some(Kind::CLASS) {
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

    /// Does `f`, found in a class, bind the instance (a function, closure, or a native type's
    /// method)? A builtin function of a module stored in a class (`class C: f = len`) does
    /// not: as in MicroPython it behaves like a staticmethod.
    #[inline]
    fn binds_self(&self, f: Value) -> bool {
        self.slots(f).is_some_and(|t| t.binds_self)
            && !(self.kind(f) == Some(Kind::BUILTIN) && {
                let t = self.aux(f) >> 8;
                t >= crate::slots::table::FIRST_MODULE && t != crate::slots::table::EXCEPTION
            })
    }

    /// Asks `obj`'s type's `attr` slot; [`Attr::Default`] when it has none.
    fn attr_slot(&mut self, obj: Value, name: Value, op: AttrOp) -> R<Attr> {
        match self.slots(obj).and_then(|t| t.attr) {
            Some(f) => f(self, obj, name, op),
            None => Ok(Attr::Default),
        }
    }

    /// Looks up `obj.name` for a method call: returns (function, self-or-null), so a method
    /// found in the type's dict is called without allocating a bound method.
    pub fn load_method(&mut self, obj: Value, name: Value) -> R<(Value, Value)> {
        match self.attr_slot(obj, name, AttrOp::Method)? {
            Attr::Found(v) => return Ok((v, Value::NULL)),
            Attr::Method(f, s) => return Ok((f, s)),
            Attr::Missing => {
                self.load_attr(obj, name)?;
                return Ok((Value::NULL, Value::NULL));
            }
            Attr::Done | Attr::Default => {}
        }
        let c = self.type_of(obj);
        if let Some(m) = self.class_lookup(c, name) {
            if self.binds_self(m) {
                return Ok((m, obj));
            }
            match self.kind(m) {
                Some(Kind::STATIC_METH) => return Ok((self.wv(m, 1), Value::NULL)),
                Some(Kind::CLASS_METH) => return Ok((self.wv(m, 1), Value(c))),
                _ => {}
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
                let msg = if self.kind(obj) == Some(Kind::MODULE) {
                    let m = self.str_string(self.wv(obj, 1));
                    alloc::format!("module '{m}' has no attribute '{n}'")
                } else if self.kind(obj) == Some(Kind::CLASS) {
                    let c = self.class_name(obj.0);
                    alloc::format!("type object '{c}' has no attribute '{n}'")
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
        // A module's attribute slot answers from its globals only; `__class__` is every
        // object's (MicroPython asks for it before the type's attribute slot).
        if name == sq!("__class__") && self.kind(obj) == Some(Kind::MODULE) {
            return Ok(Some(Value(self.type_of(obj))));
        }
        match self.attr_slot(obj, name, AttrOp::Load)? {
            Attr::Found(v) => Ok(Some(v)),
            Attr::Method(f, s) => Ok(Some(self.alloc_obj(Kind::BOUND_METH, 0, &[f, s])?)),
            Attr::Missing => Ok(None),
            Attr::Done | Attr::Default => self.generic_load_attr(obj, name),
        }
    }

    /// The generic lookup of `obj.name`: `__class__`, then the type's dict, bound to `obj`;
    /// `__next__` of a native iterator is the builtin `next` bound to it (as MicroPython's
    /// `mp_load_method_maybe`).
    pub fn generic_load_attr(&mut self, obj: Value, name: Value) -> R<Option<Value>> {
        if name == sq!("__class__") {
            return Ok(Some(Value(self.type_of(obj))));
        }
        let c = self.type_of(obj);
        let Some(m) = self.class_lookup(c, name) else {
            if name == sq!("__next__")
                && self.kind(obj) != Some(Kind::INSTANCE)
                && self.slots(obj).is_some_and(|t| t.iternext.is_some())
            {
                let nq = sq!("next");
                if let Some(f) = self.dict_get_q(Value(self.st.builtins), nq) {
                    return Ok(Some(self.alloc_obj(Kind::BOUND_METH, 0, &[f, obj])?));
                }
            }
            return Ok(None);
        };
        if self.binds_self(m) {
            return Ok(Some(self.alloc_obj(Kind::BOUND_METH, 0, &[m, obj])?));
        }
        Ok(Some(match self.kind(m) {
            Some(Kind::STATIC_METH) => self.wv(m, 1),
            Some(Kind::CLASS_METH) => {
                let f = self.wv(m, 1);
                self.alloc_obj(Kind::BOUND_METH, 0, &[f, Value(c)])?
            }
            Some(Kind::PROPERTY) => {
                let g = self.wv(m, 1);
                self.call(g, &[obj], &[])?
            }
            _ => m,
        }))
    }

    /// `obj.name = v`.
    pub fn store_attr(&mut self, obj: Value, name: Value, v: Value) -> R<()> {
        match self.attr_slot(obj, name, AttrOp::Store(v))? {
            Attr::Done => Ok(()),
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
        match self.attr_slot(obj, name, AttrOp::Delete)? {
            Attr::Done => Ok(()),
            _ => {
                let t = self.class_name(self.type_of(obj));
                let n = self.str_string(name);
                let msg = alloc::format!("'{t}' object has no attribute '{n}'");
                self.raise_msg("AttributeError", &msg)
            }
        }
    }

    /// `del` of `name` in namespace or members dict `d` (null: none): [`Attr::Done`] or
    /// [`Attr::Missing`].
    pub fn delete_from(&mut self, d: Value, name: Value) -> R<Attr> {
        if d.is_ptr() && self.dict_remove(d, name)?.is_some() {
            return Ok(Attr::Done);
        }
        Ok(Attr::Missing)
    }
}
