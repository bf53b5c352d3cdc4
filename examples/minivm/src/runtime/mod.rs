//! The runtime: the protocols every value goes through (operators, truth, attributes, calls,
//! iteration, printing), and the class relations behind `type`, `isinstance` and `issubclass`.

use alloc::string::String;
use alloc::vec;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::Buffer;
use crate::vm::Vm;

mod attr;
mod call;
mod iter;
mod ops;
mod print;
mod subscr;

impl<F: FlashImage> Vm<F> {
    /// The class of a value.
    pub fn type_of(&self, v: Value) -> u32 {
        if v.is_int() {
            return self.st.int;
        }
        if v.is_qstr() {
            return self.st.str_;
        }
        match self.kind(v) {
            Some(Kind::INSTANCE) => self.w(v, 1),
            Some(k) => {
                if let Some(c) = self
                    .slots(v)
                    .and_then(|t| t.class_of)
                    .and_then(|f| f(self, v))
                {
                    return c;
                }
                self.st
                    .types
                    .get(k.id() as usize)
                    .copied()
                    .unwrap_or(self.st.object)
            }
            None => self
                .st
                .types
                .get(Kind::NONE.id() as usize)
                .copied()
                .unwrap_or(0),
        }
    }

    /// Is class `c` a subclass of class `base` (depth-first over bases)?
    pub fn is_subclass(&self, c: u32, base: u32) -> bool {
        let mut work = vec![c];
        let mut steps = 0;
        while let Some(x) = work.pop() {
            steps += 1;
            if x == base || steps > 256 {
                return x == base;
            }
            if self.kind(Value(x)) != Some(Kind::CLASS) {
                continue;
            }
            if let Some(bases) = self.seq_vec(self.wv(Value(x), 2)) {
                for b in bases.iter().rev() {
                    work.push(b.0);
                }
            }
        }
        base == self.st.object
    }

    /// Is `v` an instance of class `c`?
    pub fn isinstance(&self, v: Value, c: u32) -> bool {
        self.is_subclass(self.type_of(v), c)
    }

    /// Name of a class.
    pub fn class_name(&self, c: u32) -> String {
        let n = self.wv(Value(c), 1);
        self.str_string(n)
    }

    /// The byte buffer behind `v` (its type's `buffer` slot), if it has one.
    pub fn buffer(&self, v: Value) -> Option<Buffer> {
        let f = self.slots(v)?.buffer?;
        f(self, v)
    }
}
