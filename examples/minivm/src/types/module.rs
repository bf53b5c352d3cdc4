//! Modules: `[hdr|MODULE][name qstr][globals dict]`.

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `module` type.
pub struct Module;

impl<F: FlashImage> NativeType<F> for Module {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        ..TypeSlots::new(Kind::MODULE, "module")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.str_string(vm.wv(v, 1));
    let _ = write!(s, "<module '{n}'>");
    Ok(())
}
