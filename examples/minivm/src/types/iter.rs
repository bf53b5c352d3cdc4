//! Iterators: `[hdr sub-kind|ITER][seq][index][extra]`, one kind for the sequence, range, str, dict, `enumerate`, `zip`, `map` and `reversed` iterators (sub-kinds in `obj::iter_kind`).

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `iterator` type.
pub struct Iter;

impl<F: FlashImage> NativeType<F> for Iter {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::ITER, "iterator");
}
