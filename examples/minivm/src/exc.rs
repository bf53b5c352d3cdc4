//! Exceptions: raising builtin exceptions by name, exception instances and their args, the
//! text and traceback the REPL prints.

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::vm::{R, Thrown, Vm};

impl<F: FlashImage> Vm<F> {
    /// Address of the builtin exception class `name`.
    pub fn exc_class(&self, name: &str) -> u32 {
        self.st
            .exc
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .unwrap_or(0)
    }

    /// Is `v` an exception instance?
    pub fn is_exception(&self, v: Value) -> bool {
        self.kind(v) == Some(Kind::INSTANCE) && {
            let c = self.w(v, 1);
            self.aux(Value(c)) & class_flags::EXCEPTION != 0
        }
    }

    /// Word 3 of an instance: an exception's args tuple, null for any other instance. The
    /// compact frozen copy of a plain instance has no word 3 (see `freeze`): null too. Every
    /// reader of that word goes through here.
    pub fn inst_native(&self, v: Value) -> Value {
        if is_compact(self.w(v, 0)) {
            Value::NULL
        } else {
            self.wv(v, 3)
        }
    }

    /// Is `v` a direct instance of a builtin exception class (a firmware static, not a user
    /// subclass)? Like MicroPython's native exception objects it holds only its class and args
    /// tuple: attribute stores raise (see `store_attr`), so it never changes and freezes to
    /// flash.
    pub fn is_native_exception(&self, v: Value) -> bool {
        self.is_exception(v)
            && matches!(
                crate::memmap::region_of(self.w(v, 1)),
                Some(crate::memmap::Region::Statics)
            )
    }

    /// Creates an exception instance of class `c` with `args`.
    pub fn new_exception(&mut self, c: u32, args: &[Value]) -> R<Value> {
        let t = self.new_tuple(args)?;
        self.alloc_obj(Kind::INSTANCE, 0, &[Value(c), Value::NULL, t])
    }

    /// Raises `exc` (an instance or a class, which is instantiated).
    pub fn raise<T>(&mut self, exc: Value) -> R<T> {
        let e = if self.kind(exc) == Some(Kind::CLASS) {
            self.call(exc, &[], &[])?
        } else {
            exc
        };
        if !self.is_exception(e) {
            return self.raise_msg("TypeError", "exceptions must derive from BaseException");
        }
        self.traceback.clear();
        self.exc = e;
        Err(Thrown)
    }

    /// Raises builtin exception `name` with a message.
    pub fn raise_msg<T>(&mut self, name: &str, msg: &str) -> R<T> {
        let m = self.new_str(msg.as_bytes())?;
        self.raise_args(name, &[m])
    }

    /// Raises builtin exception `name` with no args.
    pub fn raise_empty<T>(&mut self, name: &str) -> R<T> {
        self.raise_args(name, &[])
    }

    /// Raises builtin exception `name` with `args` (e.g. `KeyError(key)`).
    pub fn raise_args<T>(&mut self, name: &str, args: &[Value]) -> R<T> {
        let c = self.exc_class(name);
        let e = self.new_exception(c, args)?;
        self.traceback.clear();
        self.exc = e;
        Err(Thrown)
    }

    /// Takes the current exception.
    pub fn take_exc(&mut self) -> Value {
        core::mem::replace(&mut self.exc, Value::NULL)
    }

    /// "TypeName: message" for an exception instance.
    pub fn exc_text(&mut self, e: Value) -> String {
        let c = self.type_of(e);
        let mut s = self.class_name(c);
        // The exception's own `str` (an `OSError`'s `[Errno 2] ENOENT`, a class's `__str__`);
        // an error while printing it leaves the pending exception as it was.
        let pending = self.exc;
        let t = self.str_of(e).unwrap_or_default();
        self.exc = pending;
        if !t.is_empty() {
            let _ = write!(s, ": {t}");
        }
        s
    }

    /// How MicroPython prints an `OSError` whose argument is an errno its `errno` module names:
    /// `[Errno 2] ENOENT` (other numbers print as the bare number, as there). mpremote tells a
    /// missing file from other failures by that name.
    pub fn errno_text(&self, exc: Value, arg: Value) -> Option<String> {
        if !arg.is_int() || !self.is_subclass(self.type_of(exc), self.exc_class("OSError")) {
            return None;
        }
        let m = self.builtin_named("errno")?;
        let g = self.wv(m, 2);
        (0..self.dict_len(g)).find_map(|i| {
            let (k, v) = self.dict_entry(g, i);
            (v == arg).then(|| {
                let name = String::from_utf8_lossy(self.str_bytes(k).unwrap_or(b"?"));
                alloc::format!("[Errno {}] {name}", arg.as_int())
            })
        })
    }

    /// The traceback lines of the current exception, outermost first, MicroPython style.
    pub fn traceback_text(&self) -> String {
        let mut s = String::new();
        for (file, line, name) in self.traceback.iter().rev() {
            let f = String::from_utf8_lossy(self.str_bytes(*file).unwrap_or(b"?"));
            let n = String::from_utf8_lossy(self.str_bytes(*name).unwrap_or(b"?"));
            let _ = writeln!(s, "  File \"{f}\", line {line}, in {n}");
        }
        s
    }

    /// Prints an exception the way the REPL does.
    pub fn print_exception(&mut self, e: Value) {
        let t = self.exc_text(e);
        let tb = self.traceback_text();
        self.out.push_str("Traceback (most recent call last):\n");
        self.out.push_str(&tb);
        self.out.push_str(&t);
        self.out.push('\n');
    }

    /// Does exception `e` match class/tuple `c`?
    pub fn exception_match(&self, e: Value, c: Value) -> bool {
        if let Some(items) = self.seq_vec(c) {
            return items.iter().any(|x| self.exception_match(e, *x));
        }
        let t = if self.kind(e) == Some(Kind::CLASS) {
            e.0
        } else {
            self.type_of(e)
        };
        self.is_subclass(t, c.0)
    }
}
