//! Cells: `[hdr|CELL][value]`, a variable closed over by an inner function (written at run
//! time: frozen to the RAM section).

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{Freeze, NativeType, TypeSlots};

/// The `cell` type.
pub struct Cell;

impl<F: FlashImage> NativeType<F> for Cell {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::Ram,
        ..TypeSlots::new(Kind::CELL, "cell")
    };
}
