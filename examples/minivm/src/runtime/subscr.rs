//! Subscripts: `obj[index]` loads, stores and deletes, through the type's `subscr` slot.

use crate::mem::FlashImage;
use crate::obj::Value;
use crate::slots::SubscrOp;
use crate::vm::{R, Vm};

impl<F: FlashImage> Vm<F> {
    /// Asks `obj`'s type; `None` when it has no `subscr` slot or does not support `op`.
    fn subscr_slot(&mut self, obj: Value, index: Value, op: SubscrOp) -> R<Option<Value>> {
        match self.slots(obj).and_then(|t| t.subscr) {
            Some(f) => f(self, obj, index, op),
            None => Ok(None),
        }
    }

    /// `obj[index]`.
    pub fn subscr(&mut self, obj: Value, index: Value) -> R<Value> {
        match self.subscr_slot(obj, index, SubscrOp::Load)? {
            Some(v) => Ok(v),
            None => self.subscr_error(obj, "isn't subscriptable"),
        }
    }

    /// `obj[index] = v`.
    pub fn store_subscr(&mut self, obj: Value, index: Value, v: Value) -> R<()> {
        match self.subscr_slot(obj, index, SubscrOp::Store(v))? {
            Some(_) => Ok(()),
            None => self.subscr_error(obj, "doesn't support item assignment"),
        }
    }

    /// `del obj[index]`.
    pub fn delete_subscr(&mut self, obj: Value, index: Value) -> R<()> {
        match self.subscr_slot(obj, index, SubscrOp::Delete)? {
            Some(_) => Ok(()),
            None => self.subscr_error(obj, "doesn't support item deletion"),
        }
    }

    /// `TypeError: 'tuple' object doesn't support item assignment` and the like.
    fn subscr_error<T>(&mut self, obj: Value, what: &str) -> R<T> {
        let t = self.class_name(self.type_of(obj));
        let msg = alloc::format!("'{t}' object {what}");
        self.raise_msg("TypeError", &msg)
    }
}
