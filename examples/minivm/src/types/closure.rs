//! Closures: `[hdr n|CLOSURE][func][cell0]…[cell n-1]`, a function with the cells it closes
//! over (passed ahead of the arguments when it is called).

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};
use crate::types::func;

/// The `closure` type.
pub struct Closure;

impl<F: FlashImage> NativeType<F> for Closure {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(func::print),
        binds_self: true,
        attr: Some(func::attr),
        call: Some(func::call),
        ..TypeSlots::new(Kind::CLOSURE, "closure")
    };
}
