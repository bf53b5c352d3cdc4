//! Object operations: equality, arithmetic, repr/str, attributes, subscripts and iteration.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::qstr::sq;
use crate::vm::{R, Vm};

impl<F: FlashImage> Vm<F> {
    // ---------------------------------------------------------------- repr / str

    // ---------------------------------------------------------------- attributes

    /// Finds `name` in class `c` or its bases (depth-first).
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

    /// Looks up `obj.name` for a method call: returns (function, self-or-null).
    pub fn load_method(&mut self, obj: Value, name: Value) -> R<(Value, Value)> {
        let k = self.kind(obj);
        if k != Some(Kind::CLASS) && k != Some(Kind::MODULE) {
            // Instance members first.
            if k == Some(Kind::INSTANCE) {
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
                    Some(Kind::FUNC | Kind::CLOSURE | Kind::BUILTIN) => return Ok((m, obj)),
                    Some(Kind::STATIC_METH) => return Ok((self.wv(m, 1), Value::NULL)),
                    Some(Kind::CLASS_METH) => return Ok((self.wv(m, 1), Value(c))),
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
                let msg = if self.kind(obj) == Some(Kind::MODULE) {
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
            Some(Kind::MODULE) => {
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
            Some(Kind::CLASS) => {
                if name == sq!("__name__") {
                    return Ok(Some(self.wv(obj, 1)));
                }
                if let Some(v) = self.class_lookup(obj.0, name) {
                    return Ok(Some(match self.kind(v) {
                        Some(Kind::STATIC_METH) => self.wv(v, 1),
                        Some(Kind::CLASS_METH) => {
                            let f = self.wv(v, 1);
                            self.alloc_obj(Kind::BOUND_METH, 0, &[f, obj])?
                        }
                        _ => v,
                    }));
                }
                if name == self.q("__bases__") {
                    return Ok(Some(self.wv(obj, 2)));
                }
                return Ok(None);
            }
            Some(Kind::INSTANCE) => {
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
            Some(Kind::FUNC | Kind::CLOSURE) if name == sq!("__name__") => {
                let n = self.func_name(obj);
                return Ok(Some(self.new_str(n.as_bytes())?));
            }
            Some(Kind::BOUND_METH) if name == self.q("__self__") => {
                return Ok(Some(self.wv(obj, 2)));
            }
            _ => {}
        }
        if name == sq!("__class__") {
            return Ok(Some(Value(self.type_of(obj))));
        }
        let c = self.type_of(obj);
        let Some(m) = self.class_lookup(c, name) else {
            if k == Some(Kind::INSTANCE) {
                let ga = sq!("__getattr__");
                if let Some(f) = self.class_lookup(c, ga) {
                    return Ok(Some(self.call(f, &[obj, name], &[])?));
                }
            }
            return Ok(None);
        };
        Ok(Some(match self.kind(m) {
            Some(Kind::FUNC | Kind::CLOSURE | Kind::BUILTIN) => {
                self.alloc_obj(Kind::BOUND_METH, 0, &[m, obj])?
            }
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
        match self.kind(obj) {
            Some(Kind::INSTANCE) => {
                let c = self.type_of(obj);
                if let Some(p) = self.class_lookup(c, name)
                    && self.kind(p) == Some(Kind::PROPERTY)
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
            Some(Kind::MODULE) => {
                let g = self.wv(obj, 2);
                self.dict_store(g, name, v)
            }
            Some(Kind::CLASS) => {
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
            Some(Kind::INSTANCE) => self.wv(obj, 2),
            Some(Kind::MODULE) => self.wv(obj, 2),
            Some(Kind::CLASS) => self.wv(obj, 3),
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
        let is_slice = self.kind(index) == Some(Kind::SLICE);
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
            Some(Kind::BYTES) => {
                let b = self.str_obj_bytes(obj).unwrap_or(b"").to_vec();
                if is_slice {
                    let idx = self.slice_indices(index, b.len() as u32);
                    let out: Vec<u8> = idx.iter().map(|&i| b[i as usize]).collect();
                    return self.new_str_obj(Kind::BYTES, &out);
                }
                let i = self.norm_index(index, b.len() as u32)?;
                Ok(Value::small(b[i as usize] as i32))
            }
            Some(Kind::TUPLE | Kind::LIST) => {
                let Some((a, n)) = self.seq_items(obj) else {
                    return self.raise_msg("TypeError", "bad sequence");
                };
                if is_slice {
                    let idx = self.slice_indices(index, n);
                    let items: Vec<Value> = idx
                        .iter()
                        .map(|&i| Value(self.mem.read_u32(a + 4 * i)))
                        .collect();
                    return if self.kind(obj) == Some(Kind::TUPLE) {
                        self.new_tuple(&items)
                    } else {
                        self.new_list(&items)
                    };
                }
                let i = self.norm_index(index, n)?;
                Ok(Value(self.mem.read_u32(a + 4 * i)))
            }
            Some(Kind::DICT) => match self.dict_get(obj, index)? {
                Some(v) => Ok(v),
                None => self.raise_args("KeyError", &[index]),
            },
            Some(Kind::RANGE) => {
                let n = self.len(obj)?.as_int() as u32;
                let i = self.norm_index(index, n)?;
                let (a, s) = (self.wv(obj, 1).as_int(), self.wv(obj, 3).as_int());
                self.int_val(a as i64 + i as i64 * s as i64)
            }
            Some(Kind::INSTANCE) => {
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
            Some(Kind::LIST) => {
                let n = self.wv(obj, 1).as_int() as u32;
                let i = self.norm_index(index, n)?;
                let arr = self.wv(obj, 2);
                self.set_w(arr, 1 + i, v.0)
            }
            Some(Kind::DICT) => self.dict_store(obj, index, v),
            Some(Kind::INSTANCE) => {
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
            Some(Kind::LIST) => {
                let n = self.wv(obj, 1).as_int() as u32;
                let i = self.norm_index(index, n)?;
                self.list_pop(obj, i).map(|_| ())
            }
            Some(Kind::DICT) => match self.dict_remove(obj, index)? {
                Some(_) => Ok(()),
                None => self.raise_args("KeyError", &[index]),
            },
            Some(Kind::INSTANCE) => {
                let m = sq!("__delitem__");
                match self.lookup_method(obj, m)? {
                    Some(f) => self.call(f, &[obj, index], &[]).map(|_| ()),
                    None => self.raise_msg("TypeError", "object doesn't support item deletion"),
                }
            }
            _ => self.raise_msg("TypeError", "object doesn't support item deletion"),
        }
    }

    // ---------------------------------------------------------------- sets

    // ---------------------------------------------------------------- iteration

    /// `iter(v)`.
    pub fn get_iter(&mut self, v: Value) -> R<Value> {
        if v.is_qstr() {
            return self.alloc_obj(
                Kind::ITER,
                iter_kind::STR,
                &[v, Value::small(0), Value::NULL],
            );
        }
        match self.kind(v) {
            Some(Kind::TUPLE | Kind::LIST | Kind::BYTES | Kind::DICT | Kind::SET) => self
                .alloc_obj(
                    Kind::ITER,
                    iter_kind::SEQ,
                    &[v, Value::small(0), Value::NULL],
                ),
            Some(Kind::STR) => self.alloc_obj(
                Kind::ITER,
                iter_kind::STR,
                &[v, Value::small(0), Value::NULL],
            ),
            Some(Kind::RANGE) => {
                let a = self.wv(v, 1);
                self.alloc_obj(Kind::ITER, iter_kind::RANGE, &[v, a, Value::NULL])
            }
            Some(Kind::ITER | Kind::GENERATOR) => Ok(v),
            Some(Kind::INSTANCE) => {
                let m = sq!("__iter__");
                if let Some(f) = self.lookup_method(v, m)? {
                    return self.call(f, &[v], &[]);
                }
                let g = sq!("__getitem__");
                if self.lookup_method(v, g)?.is_some() {
                    return self.alloc_obj(
                        Kind::ITER,
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
            return self.raise_msg("RuntimeError", "out of fuel");
        }
        self.fuel -= 1;
        match self.kind(it) {
            Some(Kind::GENERATOR) => self.gen_next(it),
            Some(Kind::ITER) => {
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
                            Some(Kind::DICT | Kind::SET) => {
                                if i >= self.dict_len(seq) {
                                    return Ok(None);
                                }
                                self.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                                Ok(Some(self.dict_entry(seq, i).0))
                            }
                            Some(Kind::BYTES) => {
                                let b = self.str_obj_bytes(seq).unwrap_or(b"");
                                if i as usize >= b.len() {
                                    return Ok(None);
                                }
                                let x = b[i as usize];
                                self.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                                Ok(Some(Value::small(x as i32)))
                            }
                            Some(Kind::INSTANCE) => {
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
            Some(Kind::INSTANCE) => {
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
