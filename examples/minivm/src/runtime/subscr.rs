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
            None => self.raise_msg("TypeError", "object isn't subscriptable"),
        }
    }

    /// `obj[index] = v`.
    pub fn store_subscr(&mut self, obj: Value, index: Value, v: Value) -> R<()> {
        match self.subscr_slot(obj, index, SubscrOp::Store(v))? {
            Some(_) => Ok(()),
            None => self.raise_msg("TypeError", "object doesn't support item assignment"),
        }
    }

    /// `del obj[index]`.
    pub fn delete_subscr(&mut self, obj: Value, index: Value) -> R<()> {
        match self.subscr_slot(obj, index, SubscrOp::Delete)? {
            Some(_) => Ok(()),
            None => self.raise_msg("TypeError", "object doesn't support item deletion"),
        }
    }
}
