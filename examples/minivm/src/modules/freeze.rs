//! `freeze`: `import_modules(*names)` freezes modules into the flash image, `clear()` erases
//! it, `info()` counts the frozen objects.
//!
//! The work is the embedder's [`crate::vm::Freezer`] (the flashfreeze binding in
//! `crate::freeze`); without one attached these raise `RuntimeError`.

use alloc::string::String;

use crate::mem::FlashImage;
use crate::obj::Value;
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::vm::{R, Vm};

/// The `freeze` module.
pub struct Freeze;

impl<F: FlashImage> NativeModule<F> for Freeze {
    const MODULE: ModuleDef<F> = ModuleDef {
        functions: &[
            Native::new("import_modules", import_modules),
            Native::new("clear", clear),
            Native::new("info", info),
        ],
        ..ModuleDef::new("freeze")
    };
}

/// Imports each name, then freezes it (one batch each), printing the freezer's line.
fn import_modules<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let Some(mut fz) = vm.freezer.take() else {
        return vm.raise_msg("RuntimeError", "no flash image attached");
    };
    let mut result = Ok(vm.none());
    for a in args {
        let name = match vm.str_bytes(*a) {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => {
                result = vm.raise_msg("TypeError", "module names must be str");
                break;
            }
        };
        if let Err(t) = vm.import_dotted(&name) {
            result = Err(t);
            break;
        }
        match fz.freeze_module(vm, &name) {
            Ok(line) => {
                vm.out.push_str(&line);
                vm.out.push('\n');
            }
            Err(e) => {
                result = vm.raise_msg("TypeError", &e);
                break;
            }
        }
    }
    vm.freezer = Some(fz);
    result
}

fn clear<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let Some(mut fz) = vm.freezer.take() else {
        return vm.raise_msg("RuntimeError", "no flash image attached");
    };
    let r = fz.clear(vm);
    vm.freezer = Some(fz);
    match r {
        Ok(()) => Ok(vm.none()),
        Err(e) => vm.raise_msg("OSError", &e),
    }
}

fn info<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let t = alloc::format!("frozen objects: {}\n", vm.frozen_count);
    vm.out.push_str(&t);
    Ok(vm.none())
}
