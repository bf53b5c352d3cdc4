//! The console's [`BlockHost`] implementation: what compound statements at the REPL need from
//! the VM (truth, iteration, bytes, `in`/`is`, subscript stores, exceptions as values, Ctrl-C).
//!
//! It sits next to the [`ReplHost`](crate::repl::ReplHost) implementation in `host.rs` and uses
//! its conversion of a raised exception into a [`PyError`], which keeps the exception object so
//! that `except` can match its class and bind it.

use alloc::string::String;

use crate::host::PyError;
use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::ops::binop;
use crate::repl::{BinOp, BlockHost, TestOp};
use crate::vm::Vm;

impl<F: FlashImage> BlockHost for Vm<F> {
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
        let r = self.new_str_obj(Kind::Bytes, value);
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
        // The in-place codes follow `INPLACE_OR` in the order `| ^ & << >> + - *`.
        let o = match op {
            BinOp::Add => binop::INPLACE_OR + 5,
            BinOp::Sub => binop::INPLACE_OR + 6,
            BinOp::Mul => binop::INPLACE_OR + 7,
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
            Ok(()) => self.error("RuntimeError", "raise did not raise"),
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
        let is_class = |vm: &Self, c: Value| vm.kind(c) == Some(Kind::Class);
        let ok = match self.seq_vec(*class) {
            Some(items) if self.kind(*class) == Some(Kind::Tuple) => {
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
