//! `sys`: `print_exception`, `exit`, and the platform constants.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::{SMALL_MAX, Value};
use crate::slots::{Constant, ModuleDef, Native, NativeModule};
use crate::vm::{R, Vm};

/// The `sys` module.
pub struct Sys;

impl<F: FlashImage> NativeModule<F> for Sys {
    const MODULE: ModuleDef<F> = ModuleDef {
        functions: &[
            Native::new("print_exception", print_exception),
            Native::new("exit", exit),
        ],
        constants: &[
            Constant::Str("version", "3.4.0; minivm"),
            Constant::Str("platform", "minivm"),
            Constant::Str("byteorder", "little"),
            Constant::Int("maxsize", SMALL_MAX),
        ],
        names: &["modules", "path", "implementation", "minivm"],
        ..ModuleDef::new("sys")
    };
}

fn print_exception<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let t = vm.exc_text(arg(args, 0));
    vm.out.push_str("Traceback (most recent call last):\n");
    vm.out.push_str(&t);
    vm.out.push('\n');
    Ok(vm.none())
}

fn exit<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.raise_args("SystemExit", args)
}
