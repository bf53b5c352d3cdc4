//! Qstr pools: the chain of interned-string tables (see `qstr`). Internal.
//!
//! A heap pool is `[hdr cap|QSTR_POOL][prev][first id][n][→ STR]…`; frozen compact (when its
//! texts fit u16 offsets), `[hdr w|QSTR_POOL+COMPACT][prev][first id][n][u16 offsets…][texts…]`:
//! no STR objects at all, so per string no pointer, header, hash or padding, and no spare
//! capacity (see `obj`; readers go through `Vm::pool_text`).

use crate::freeze::copy_heap;
use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{Frozen, NativeType, TypeSlots};
use crate::vm::Vm;

/// The `qstr_pool` type.
pub struct QstrPool;

impl<F: FlashImage> NativeType<F> for QstrPool {
    const TYPE: TypeSlots<F> = TypeSlots {
        frozen: Some(Frozen {
            size: frozen_size,
            values: Some(frozen_values),
            write: write_frozen,
        }),
        ..TypeSlots::new(Kind::QSTR_POOL, "qstr_pool")
    };
}

fn frozen_size<F: FlashImage>(vm: &Vm<F>, p: Value) -> u32 {
    vm.pool_frozen_size(p, vm.compact_pool(p))
}

fn frozen_values<F: FlashImage>(vm: &Vm<F>, p: Value) -> (u32, u32) {
    vm.pool_frozen_values(p, vm.compact_pool(p))
}

fn write_frozen<F: FlashImage>(vm: &Vm<F>, p: Value, out: &mut [u8]) {
    if vm.compact_pool(p).is_some() {
        vm.write_compact_pool(p, out);
    } else {
        copy_heap(vm, p, out);
    }
}
