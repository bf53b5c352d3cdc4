//! Qstr pools: the chain of interned-string tables (see `qstr`). Internal.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `qstr_pool` type.
pub struct QstrPool;

impl<F: FlashImage> NativeType<F> for QstrPool {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::QSTR_POOL, "qstr_pool");
}
