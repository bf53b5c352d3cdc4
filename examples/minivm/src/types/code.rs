//! Raw code: `[hdr|RAW_CODE][bytecode BYTES][children CONST_ARRAY or null][scope flags]`, a compiled function body (its prelude and bytecode) and the codes nested in it.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{NativeType, TypeSlots};

/// The `code` type.
pub struct Code;

impl<F: FlashImage> NativeType<F> for Code {
    const TYPE: TypeSlots<F> = TypeSlots::new(Kind::RAW_CODE, "code");
}
