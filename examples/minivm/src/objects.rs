//! Constructors and accessors of the core object layouts (see [`crate::obj`]): strings, code,
//! tuples, lists, arrays, and the dict/set tables. The types in `types/` build on these.

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::{FlashImage, MemError};
use crate::obj::*;
use crate::qstr;
use crate::vm::{R, Thrown, Vm};

impl<F: FlashImage> Vm<F> {
    /// Allocates a Str or Bytes object (a Str all of ASCII gets [`STR_ASCII`]).
    pub fn new_str_obj(&mut self, kind: Kind, s: &[u8]) -> R<Value> {
        if s.len() > STR_LEN_MASK as usize {
            self.exc = Value(self.st.memory_error);
            return Err(Thrown);
        }
        let a = self.alloc(8 + s.len() as u32)?;
        let ascii = if kind == Kind::STR && s.is_ascii() {
            STR_ASCII
        } else {
            0
        };
        let _ = self.mem.write_u32(a, header(kind, s.len() as u32 | ascii));
        let _ = self.mem.write_u32(a + 4, qstr::hash(s));
        let _ = self.mem.write_bytes(a + 8, s);
        Ok(Value(a))
    }

    /// A new str value (interned when short, like MicroPython's parser does for names).
    pub fn new_str(&mut self, s: &[u8]) -> R<Value> {
        if let Some(id) = self.find_qstr(s) {
            return Ok(Value::qstr(id));
        }
        self.new_str_obj(Kind::STR, s)
    }

    /// Bytes of a Str/Bytes object.
    pub fn str_obj_bytes(&self, v: Value) -> Option<&[u8]> {
        let hdr = self.mem.read_u32(v.0);
        match Kind::from_u8(hdr as u8) {
            Some(Kind::STR | Kind::BYTES) => self
                .mem
                .bytes(v.0 + payload_offset(hdr), (hdr >> 8) & STR_LEN_MASK),
            _ => None,
        }
    }

    /// Address of the first payload byte of a Str/Bytes object (e.g. a code's bytecode).
    pub fn payload_addr(&self, v: Value) -> u32 {
        v.0.wrapping_add(payload_offset(self.mem.read_u32(v.0)))
    }

    /// Address of a raw code's bytecode: in its Bytes object (heap layout) or inline after
    /// the header and children word if any (compact frozen layout, see [`crate::obj`]).
    pub fn code_addr(&self, rc: Value) -> u32 {
        let hdr = self.w(rc, 0);
        match (is_compact(hdr), (hdr >> 8) & CODE_HAS_CHILDREN != 0) {
            (true, true) => rc.0.wrapping_add(8),
            (true, false) => rc.0.wrapping_add(4),
            (false, _) => self.payload_addr(self.wv(rc, 1)),
        }
    }

    /// A raw code's children table (null when it has none), in either layout.
    pub fn code_children(&self, rc: Value) -> Value {
        let hdr = self.w(rc, 0);
        match (is_compact(hdr), (hdr >> 8) & CODE_HAS_CHILDREN != 0) {
            (true, true) => self.wv(rc, 1),
            (true, false) => Value::NULL,
            (false, _) => self.wv(rc, 2),
        }
    }

    /// Bytes of a str (qstr or Str object), or `None` if `v` is not a str.
    pub fn str_bytes(&self, v: Value) -> Option<&[u8]> {
        if v.is_qstr() {
            return Some(self.qstr_bytes(v.as_qstr()));
        }
        match self.kind(v) {
            Some(Kind::STR) => self.str_obj_bytes(v),
            _ => None,
        }
    }

    /// Is str `v` known to be all ASCII (so code points are bytes)? A Str object says so in
    /// its header ([`STR_ASCII`]); a qstr's text is short and checked.
    pub fn str_is_ascii(&self, v: Value) -> bool {
        if v.is_qstr() {
            return self.qstr_bytes(v.as_qstr()).is_ascii();
        }
        self.kind(v) == Some(Kind::STR) && self.aux(v) & STR_ASCII != 0
    }

    /// Owned text of a str value (lossy).
    pub fn str_string(&self, v: Value) -> String {
        String::from_utf8_lossy(self.str_bytes(v).unwrap_or(b"")).into_owned()
    }

    /// A new tuple.
    pub fn new_tuple(&mut self, items: &[Value]) -> R<Value> {
        if items.is_empty() && self.st.empty_tuple != 0 {
            return Ok(Value(self.st.empty_tuple));
        }
        self.alloc_obj(Kind::TUPLE, items.len() as u32, items)
    }

    /// A new array of `n` null words.
    pub fn new_array(&mut self, n: u32) -> R<Value> {
        self.new_array_of(Kind::ARRAY, n)
    }

    /// A new `Array` or `ConstArray` of `n` null words.
    pub fn new_array_of(&mut self, kind: Kind, n: u32) -> R<Value> {
        let Some(size) = n.checked_mul(4).and_then(|x| x.checked_add(4)) else {
            self.exc = Value(self.st.memory_error);
            return Err(Thrown);
        };
        let a = self.alloc(size)?;
        let _ = self.mem.write_u32(a, header(kind, n));
        Ok(Value(a))
    }

    /// A new namespace dict (module globals, class body): read-only once frozen.
    pub fn new_namespace(&mut self, n: u32) -> R<Value> {
        let arr = self.new_array_of(Kind::CONST_ARRAY, 2 * n.max(1))?;
        self.alloc_obj(Kind::DICT, dict_flags::NAMESPACE, &[Value::small(0), arr])
    }

    /// A new list.
    pub fn new_list(&mut self, items: &[Value]) -> R<Value> {
        let cap = (items.len() as u32).max(4);
        let arr = self.new_array(cap)?;
        for (i, x) in items.iter().enumerate() {
            let _ = self.mem.write_u32(arr.0 + 4 + 4 * i as u32, x.0);
        }
        self.alloc_obj(Kind::LIST, 0, &[Value::small(items.len() as i32), arr])
    }

    /// A new empty dict with room for `n` entries.
    pub fn new_dict(&mut self, n: u32) -> R<Value> {
        let arr = self.new_array(2 * n.max(1))?;
        self.alloc_obj(Kind::DICT, 0, &[Value::small(0), arr])
    }

    /// Items of a tuple/list/array-backed sequence as (address of first item, length).
    pub fn seq_items(&self, v: Value) -> Option<(u32, u32)> {
        match self.kind(v)? {
            Kind::TUPLE | Kind::CONST_ARRAY => Some((v.0 + 4, self.aux(v))),
            Kind::ARRAY => Some((v.0 + 4, self.aux(v) & ARRAY_LEN_MASK)),
            Kind::LIST => {
                let arr = self.wv(v, 2);
                let len = (self.wv(v, 1).as_int().max(0) as u32).min(self.aux(arr));
                Some((arr.0 + 4, len))
            }
            _ => None,
        }
    }

    /// Copies a tuple/list's items.
    pub fn seq_vec(&self, v: Value) -> Option<Vec<Value>> {
        let (a, n) = self.seq_items(v)?;
        Some(
            (0..n)
                .map(|i| Value(self.mem.read_u32(a + 4 * i)))
                .collect(),
        )
    }

    /// Appends to a list.
    pub fn list_append(&mut self, l: Value, x: Value) -> R<()> {
        self.expect_kind(l, &[Kind::LIST], "a list")?;
        let len = self.wv(l, 1).as_int() as u32;
        let arr = self.wv(l, 2);
        let cap = self.aux(arr);
        let arr = if len >= cap {
            let new_cap = (cap * 2).max(4);
            let na = self.new_array(new_cap)?;
            for i in 0..len {
                let x = self.w(arr, 1 + i);
                let _ = self.mem.write_u32(na.0 + 4 + 4 * i, x);
            }
            self.set_w(l, 2, na.0)?;
            na
        } else {
            arr
        };
        self.set_w(arr, 1 + len, x.0)?;
        self.set_w(l, 1, Value::small(len as i32 + 1).0)
    }

    /// Number of entries of a dict/set (0 for anything else; never more than the table holds).
    pub fn dict_len(&self, d: Value) -> u32 {
        if !matches!(self.kind(d), Some(Kind::DICT | Kind::SET)) {
            return 0;
        }
        let t = self.wv(d, 2);
        (self.wv(d, 1).as_int().max(0) as u32).min(self.aux(t) / 2)
    }

    fn expect_kind(&mut self, v: Value, kinds: &[Kind], what: &str) -> R<()> {
        match self.kind(v) {
            Some(k) if kinds.contains(&k) => Ok(()),
            _ => {
                let t = self.class_name(self.type_of(v));
                let msg = alloc::format!("expected {what}, got '{t}'");
                self.raise_msg("TypeError", &msg)
            }
        }
    }

    /// Index of `key` in a dict. An unhashable key (a list, a dict…) raises `TypeError`
    /// unless the dict is empty, as MicroPython's map lookup.
    pub fn dict_find(&mut self, d: Value, key: Value) -> R<Option<u32>> {
        let n = self.dict_len(d);
        let t = self.wv(d, 2);
        // Fast path: identical words (qstrs, small ints, same object).
        for i in 0..n {
            if self.w(t, 1 + 2 * i) == key.0 {
                return Ok(Some(i));
            }
        }
        if n > 0 && key.is_ptr() {
            self.hash_of(key)?;
        }
        for i in 0..n {
            let k = self.wv(t, 1 + 2 * i);
            if k.0 != key.0 && self.eq(k, key)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// Looks up `key`.
    pub fn dict_get(&mut self, d: Value, key: Value) -> R<Option<Value>> {
        Ok(self.dict_find(d, key)?.map(|i| {
            let t = self.wv(d, 2);
            self.wv(t, 2 + 2 * i)
        }))
    }

    /// Looks up a qstr key without equality calls (module/class dicts).
    pub fn dict_get_q(&self, d: Value, key: Value) -> Option<Value> {
        let n = self.dict_len(d);
        let t = self.wv(d, 2);
        for i in 0..n {
            let k = self.w(t, 1 + 2 * i);
            if k == key.0 {
                return Some(self.wv(t, 2 + 2 * i));
            }
        }
        // A str object key equal to the qstr.
        if key.is_qstr() {
            let kb = self.qstr_bytes(key.as_qstr());
            for i in 0..n {
                let k = self.wv(t, 1 + 2 * i);
                if !k.is_qstr() && self.str_bytes(k) == Some(kb) {
                    return Some(self.wv(t, 2 + 2 * i));
                }
            }
        }
        None
    }

    /// Stores `key: value`.
    pub fn dict_store(&mut self, d: Value, key: Value, value: Value) -> R<()> {
        self.expect_kind(d, &[Kind::DICT, Kind::SET], "a dict")?;
        let t = self.wv(d, 2);
        if let Some(i) = self.dict_find(d, key)? {
            return self.set_w(t, 2 + 2 * i, value.0);
        }
        let n = self.dict_len(d);
        if key.is_ptr() {
            // Refuses an unhashable key (its type's hash raises).
            self.hash_of(key)?;
        }
        let cap = self.aux(t) / 2;
        let t = if n >= cap {
            if !self.mem.is_writable(d.0) {
                return self.raise_mem(MemError::ReadOnly(d.0));
            }
            let tk = self.kind(t).unwrap_or(Kind::ARRAY);
            let nt = self.new_array_of(tk, 2 * (cap * 2).max(2))?;
            for i in 0..2 * n {
                let x = self.w(t, 1 + i);
                let _ = self.mem.write_u32(nt.0 + 4 + 4 * i, x);
            }
            self.set_w(d, 2, nt.0)?;
            nt
        } else {
            t
        };
        self.set_w(t, 1 + 2 * n, key.0)?;
        self.set_w(t, 2 + 2 * n, value.0)?;
        self.set_w(d, 1, Value::small(n as i32 + 1).0)
    }

    /// Stores `pairs` (`n` of them, the table's size if `d` is empty) into dict `d`, whose
    /// keys the caller promises are qstrs of distinct texts (minivm's mount: one per module
    /// name, and the names are unique). Into an empty heap dict the table is sized once and
    /// the pairs are written in order with no search, as [`Vm::dict_store`] of each would
    /// leave them; into any other dict, and for a key that is no qstr, each pair goes through
    /// [`Vm::dict_store`].
    pub fn dict_store_distinct(
        &mut self,
        d: Value,
        pairs: impl IntoIterator<Item = (Value, Value)>,
        n: u32,
    ) -> R<()> {
        let mut pairs = pairs.into_iter();
        let empty =
            self.kind(d) == Some(Kind::DICT) && self.mem.is_writable(d.0) && self.dict_len(d) == 0;
        if empty {
            let t = self.wv(d, 2);
            let t = if self.aux(t) / 2 < n {
                let tk = self.kind(t).unwrap_or(Kind::ARRAY);
                let nt = self.new_array_of(tk, 2 * n)?;
                self.set_w(d, 2, nt.0)?;
                nt
            } else {
                t
            };
            let cap = self.aux(t) / 2;
            let mut len = 0;
            while len < cap {
                let Some((k, v)) = pairs.next() else { break };
                if !k.is_qstr() {
                    // This one and the rest are searched for.
                    self.set_w(d, 1, Value::small(len as i32).0)?;
                    self.dict_store(d, k, v)?;
                    return pairs.try_for_each(|(k, v)| self.dict_store(d, k, v));
                }
                self.set_w(t, 1 + 2 * len, k.0)?;
                self.set_w(t, 2 + 2 * len, v.0)?;
                len += 1;
            }
            self.set_w(d, 1, Value::small(len as i32).0)?;
        }
        pairs.try_for_each(|(k, v)| self.dict_store(d, k, v))
    }

    /// Removes `key`; returns its value.
    pub fn dict_remove(&mut self, d: Value, key: Value) -> R<Option<Value>> {
        let Some(i) = self.dict_find(d, key)? else {
            return Ok(None);
        };
        let t = self.wv(d, 2);
        let n = self.dict_len(d);
        let v = self.wv(t, 2 + 2 * i);
        for j in 2 * i..2 * (n - 1) {
            let x = self.w(t, 3 + j);
            self.set_w(t, 1 + j, x)?;
        }
        self.set_w(t, 2 * n - 1, 0)?;
        self.set_w(t, 2 * n, 0)?;
        self.set_w(d, 1, Value::small(n as i32 - 1).0)?;
        Ok(Some(v))
    }

    /// Entry `i` of a dict as (key, value).
    pub fn dict_entry(&self, d: Value, i: u32) -> (Value, Value) {
        let t = self.wv(d, 2);
        (self.wv(t, 1 + 2 * i), self.wv(t, 2 + 2 * i))
    }

    /// Name of a function (Func/Closure/Builtin).
    pub fn func_name(&self, f: Value) -> String {
        let f = if self.kind(f) == Some(Kind::CLOSURE) {
            self.wv(f, 1)
        } else {
            f
        };
        match self.kind(f) {
            Some(Kind::FUNC) => {
                let rc = self.wv(f, 1);
                let ctx = self.wv(f, 2);
                let p = crate::prelude::Prelude::decode(&self.mem, self.code_addr(rc));
                let q = self.qstr_of_ctx(ctx, p.name_idx);
                self.str_string(q)
            }
            Some(Kind::BUILTIN) => self.str_string(self.wv(f, 1)),
            _ => String::from("?"),
        }
    }

    /// Qstr `i` of a module context's table.
    pub fn qstr_of_ctx(&self, ctx: Value, i: u32) -> Value {
        let t = self.wv(ctx, 2);
        if self.kind(t) == Some(Kind::BYTES) {
            // u16 ids (`Vm::load_mpy`'s compact table), in the heap or frozen layout.
            let b = self.str_obj_bytes(t).unwrap_or(&[]);
            return match b.get(2 * i as usize..2 * i as usize + 2) {
                Some(&[lo, hi]) => Value::qstr(u16::from_le_bytes([lo, hi]) as u32),
                _ => Value::qstr(1),
            };
        }
        if i < self.aux(t) {
            self.wv(t, 1 + i)
        } else {
            Value::qstr(1)
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

    /// A new empty set.
    pub fn new_set(&mut self) -> R<Value> {
        let arr = self.new_array(8)?;
        self.alloc_obj(Kind::SET, 0, &[Value::small(0), arr])
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
}
