//! `repr` and `str`: through each type's `print` slot.
//!
//! A type without one prints `<name object at addr>`. Containers print their items with
//! [`Vm::print_into`] one level deeper; past 16 levels an item prints as `...`.

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::Value;
use crate::slots::PrintKind;
use crate::vm::{R, Vm};

impl<F: FlashImage> Vm<F> {
    /// `str(v)` as Rust text.
    pub fn str_of(&mut self, v: Value) -> R<String> {
        let mut s = String::new();
        self.print_into(v, &mut s, 0, PrintKind::Str)?;
        Ok(s)
    }

    /// `repr(v)` as Rust text.
    pub fn repr_of(&mut self, v: Value) -> R<String> {
        let mut s = String::new();
        self.print_into(v, &mut s, 0, PrintKind::Repr)?;
        Ok(s)
    }

    /// Appends `repr(v)` (or `str(v)`) to `s`, `depth` containers deep.
    pub fn print_into(&mut self, v: Value, s: &mut String, depth: u32, kind: PrintKind) -> R<()> {
        if depth > 16 {
            s.push_str("...");
            return Ok(());
        }
        if v.is_int() {
            let _ = write!(s, "{}", v.as_int());
            return Ok(());
        }
        if v.is_null() {
            s.push_str("<NULL>");
            return Ok(());
        }
        match self.slots(v).and_then(|t| t.print) {
            Some(f) => f(self, v, s, depth, kind),
            None => {
                self.print_default(v, s);
                Ok(())
            }
        }
    }

    /// `<name object at addr>`.
    pub fn print_default(&self, v: Value, s: &mut String) {
        let n = self.class_name(self.type_of(v));
        let _ = write!(s, "<{n} object at {:x}>", v.0);
    }
}
