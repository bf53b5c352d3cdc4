//! The console's [`ReplHost`] implementation: statements and blocks typed at the REPL (or sent
//! by `mpremote` through the raw REPL) run against `__main__`'s globals.
//!
//! A raised exception becomes a [`PyError`] that keeps the exception object (alive on the
//! young list until the console line ends), so `except` can match its class and bind it.

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::repl::{self, BinOp, LineError, ReplHost, TestOp, UnaryOp};
use crate::slots::binop;
use crate::vm::{R, Thrown, Vm};

/// A raised Python exception, rendered as MicroPython's REPL prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyError {
    /// The exception object (kept alive as a young object until the console line ends).
    pub value: Value,
    /// `Type: message`.
    pub text: String,
    /// The `  File "…", line N, in f` lines, outermost first.
    pub traceback: String,
}

impl core::fmt::Display for PyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.text)
    }
}

impl<F: FlashImage> Vm<F> {
    fn wrap<T>(&mut self, r: R<T>) -> Result<T, PyError> {
        r.map_err(|Thrown| {
            let e = self.take_exc();
            self.young.push(e.0);
            let traceback = self.traceback_text();
            self.traceback.clear();
            PyError {
                value: e,
                text: self.exc_text(e),
                traceback,
            }
        })
    }

    /// Runs one console line; prints results and exceptions to the output buffer.
    /// Returns the error text if the line failed.
    pub fn exec_line(&mut self, line: &str) -> Result<(), String> {
        self.young.clear();
        let r = repl::run_line(self, line);
        self.young.clear();
        match r {
            Ok(()) => Ok(()),
            Err(LineError::Syntax(e)) => {
                let t = alloc::format!("{e}");
                self.out.push_str(&t);
                self.out.push('\n');
                Err(t)
            }
            Err(LineError::Raised(e)) => {
                self.out.push_str("Traceback (most recent call last):\n");
                self.out
                    .push_str("  File \"<stdin>\", line 1, in <module>\n");
                self.out.push_str(&e.traceback);
                self.out.push_str(&e.text);
                self.out.push('\n');
                Err(e.text)
            }
        }
    }
}

impl<F: FlashImage> ReplHost for Vm<F> {
    type Value = Value;
    type Error = PyError;

    fn import(&mut self, name: &str) -> Result<Value, PyError> {
        let r = self.import_dotted(name);
        self.wrap(r)
    }
    fn import_star(&mut self, module: &Value) -> Result<(), PyError> {
        let g = self.wv(*module, 2);
        let n = self.dict_len(g);
        let mg = self.main_globals;
        let mut r = Ok(());
        for i in 0..n {
            let (k, v) = self.dict_entry(g, i);
            if self.str_bytes(k).is_some_and(|b| !b.starts_with(b"_")) {
                r = self.dict_store(mg, k, v);
                if r.is_err() {
                    break;
                }
            }
        }
        self.wrap(r)
    }
    fn load_name(&mut self, name: &str) -> Result<Value, PyError> {
        let r = self
            .intern(name.as_bytes())
            .and_then(|q| self.load_global(self.main_globals, q));
        self.wrap(r)
    }
    fn store_name(&mut self, name: &str, value: Value) -> Result<(), PyError> {
        let r = self
            .intern(name.as_bytes())
            .and_then(|q| self.dict_store(self.main_globals, q, value));
        self.wrap(r)
    }
    fn getattr(&mut self, obj: &Value, name: &str) -> Result<Value, PyError> {
        let r = self
            .intern(name.as_bytes())
            .and_then(|q| self.load_attr(*obj, q));
        self.wrap(r)
    }
    fn setattr(&mut self, obj: &Value, name: &str, value: Value) -> Result<(), PyError> {
        let r = self
            .intern(name.as_bytes())
            .and_then(|q| self.store_attr(*obj, q, value));
        self.wrap(r)
    }
    fn subscript(&mut self, obj: &Value, index: &Value) -> Result<Value, PyError> {
        let r = self.subscr(*obj, *index);
        self.wrap(r)
    }
    fn slice(&mut self, start: Value, stop: Value, step: Value) -> Result<Value, PyError> {
        let r = self.alloc_obj(Kind::SLICE, 0, &[start, stop, step]);
        self.wrap(r)
    }
    fn call(
        &mut self,
        callee: &Value,
        args: &[Value],
        kwargs: &[(&str, Value)],
    ) -> Result<Value, PyError> {
        let mut kw = Vec::new();
        for (k, v) in kwargs {
            match self.intern(k.as_bytes()) {
                Ok(q) => {
                    kw.push(q);
                    kw.push(*v);
                }
                Err(t) => return self.wrap(Err(t)),
            }
        }
        let r = Vm::call(self, *callee, args, &kw);
        self.wrap(r)
    }
    fn binary_op(&mut self, op: BinOp, lhs: &Value, rhs: &Value) -> Result<Value, PyError> {
        let o = match op {
            BinOp::Add => binop::ADD,
            BinOp::Sub => binop::SUBTRACT,
            BinOp::Mul => binop::MULTIPLY,
            BinOp::Eq => binop::EQUAL,
            BinOp::Ne => binop::NOT_EQUAL,
            BinOp::Lt => binop::LESS,
            BinOp::Le => binop::LESS_EQUAL,
            BinOp::Gt => binop::MORE,
            BinOp::Ge => binop::MORE_EQUAL,
        };
        let r = Vm::binary_op(self, o, *lhs, *rhs);
        self.wrap(r)
    }
    fn unary_op(&mut self, op: UnaryOp, operand: &Value) -> Result<Value, PyError> {
        let o = match op {
            UnaryOp::Neg => 1,
            _ => 3,
        };
        let r = Vm::unary_op(self, o, *operand);
        self.wrap(r)
    }
    fn int(&mut self, value: i64) -> Result<Value, PyError> {
        let r = self.int_val(value);
        self.wrap(r)
    }
    fn float(&mut self, value: f64) -> Result<Value, PyError> {
        let r = self.new_float(value);
        self.wrap(r)
    }
    fn str(&mut self, value: &str) -> Result<Value, PyError> {
        let r = self.new_str(value.as_bytes());
        self.wrap(r)
    }
    fn none(&mut self) -> Value {
        Vm::none(self)
    }
    fn bool(&mut self, value: bool) -> Value {
        self.bool_val(value)
    }
    fn tuple(&mut self, items: Vec<Value>) -> Result<Value, PyError> {
        let r = self.new_tuple(&items);
        self.wrap(r)
    }
    fn list(&mut self, items: Vec<Value>) -> Result<Value, PyError> {
        let r = self.new_list(&items);
        self.wrap(r)
    }
    fn dict(&mut self, pairs: Vec<(Value, Value)>) -> Result<Value, PyError> {
        let r = (|| {
            let d = self.new_dict(pairs.len() as u32)?;
            for (k, v) in &pairs {
                self.dict_store(d, *k, *v)?;
            }
            Ok(d)
        })();
        self.wrap(r)
    }
    fn is_none(&self, value: &Value) -> bool {
        value.0 == self.st.none
    }
    fn print_repr(&mut self, value: &Value) -> Result<(), PyError> {
        let r = self.repr_of(*value);
        let s = self.wrap(r)?;
        self.out.push_str(&s);
        self.out.push('\n');
        Ok(())
    }

    fn truthy(&mut self, value: &Value) -> Result<bool, PyError> {
        let r = Vm::truthy(self, *value);
        self.wrap(r)
    }
    fn iter(&mut self, value: &Value) -> Result<Value, PyError> {
        let r = self.get_iter(*value);
        self.wrap(r)
    }
    fn next(&mut self, it: &Value) -> Result<Option<Value>, PyError> {
        let r = self.iter_next(*it);
        self.wrap(r)
    }
    fn bytes(&mut self, value: &[u8]) -> Result<Value, PyError> {
        let r = self.new_str_obj(Kind::BYTES, value);
        self.wrap(r)
    }
    fn test_op(&mut self, op: TestOp, lhs: &Value, rhs: &Value) -> Result<Value, PyError> {
        let o = match op {
            TestOp::In => binop::IN,
            TestOp::NotIn => binop::NOT_IN,
            TestOp::Is => binop::IS,
            TestOp::IsNot => binop::IS_NOT,
        };
        let r = Vm::binary_op(self, o, *lhs, *rhs);
        self.wrap(r)
    }
    fn inplace_op(&mut self, op: BinOp, lhs: &Value, rhs: &Value) -> Result<Value, PyError> {
        let o = match op {
            BinOp::Add => binop::INPLACE_ADD,
            BinOp::Sub => binop::INPLACE_SUBTRACT,
            BinOp::Mul => binop::INPLACE_MULTIPLY,
            _ => {
                let r = self.raise_msg("SyntaxError", "invalid augmented assignment");
                return self.wrap(r);
            }
        };
        let r = Vm::binary_op(self, o, *lhs, *rhs);
        self.wrap(r)
    }
    fn store_subscript(&mut self, obj: &Value, index: &Value, value: Value) -> Result<(), PyError> {
        let r = self.store_subscr(*obj, *index, value);
        self.wrap(r)
    }
    fn raise(&mut self, value: &Value) -> PyError {
        let r = Vm::raise::<()>(self, *value);
        match self.wrap(r) {
            Err(e) => e,
            // `Vm::raise` always raises.
            Ok(()) => ReplHost::error(self, "RuntimeError", "raise did not raise"),
        }
    }
    fn error(&mut self, class: &str, msg: &str) -> PyError {
        let r = self.raise_msg::<()>(class, msg);
        match self.wrap(r) {
            Err(e) => e,
            Ok(()) => PyError {
                value: Value::NULL,
                text: String::from(class),
                traceback: String::new(),
            },
        }
    }
    fn error_matches(&mut self, err: &PyError, class: &Value) -> Result<bool, PyError> {
        let is_class = |vm: &Self, c: Value| vm.kind(c) == Some(Kind::CLASS);
        let ok = match self.seq_vec(*class) {
            Some(items) if self.kind(*class) == Some(Kind::TUPLE) => {
                items.iter().all(|c| is_class(self, *c))
            }
            _ => is_class(self, *class),
        };
        if !ok {
            let r = self.raise_msg(
                "TypeError",
                "catching classes that do not inherit from BaseException is not allowed",
            );
            return self.wrap(r);
        }
        Ok(!err.value.is_null() && self.exception_match(err.value, *class))
    }
    fn error_value(&mut self, err: &PyError) -> Value {
        if err.value.is_null() {
            Vm::none(self)
        } else {
            err.value
        }
    }
    fn poll(&mut self) -> Result<(), PyError> {
        let r = self.poll_now();
        self.wrap(r)
    }
    // The console's values stay alive as young objects until its line ends; a loop iteration's
    // are dropped at its end (what they reached is rooted by the globals).
    fn mark_temporaries(&mut self) -> usize {
        self.young.len()
    }
    fn drop_temporaries(&mut self, mark: usize) {
        self.young.truncate(mark);
    }
}
