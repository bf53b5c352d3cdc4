//! Cells: `[hdr|CELL][value]`, a variable closed over by an inner function.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `cell` type.
pub struct Cell;

impl<F: FlashImage> NativeType<F> for Cell {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::CELL, "cell");
}
