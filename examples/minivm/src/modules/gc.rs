//! `gc`: the collector's controls and heap figures.
//!
//! `collect()` runs a full mark-sweep (see `vm::collect`); `mem_alloc`/`mem_free` are the
//! heap bytes in use and free; `enable`/`disable` switch collecting when an allocation fails.

use crate::mem::FlashImage;
use crate::obj::Value;
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::vm::{R, Vm};

/// The `gc` module.
pub struct Gc;

impl<F: FlashImage> NativeModule<F> for Gc {
    const MODULE: ModuleDef<F> = ModuleDef {
        functions: &[
            Native::new("collect", collect),
            Native::new("mem_alloc", mem_alloc),
            Native::new("mem_free", mem_free),
            Native::new("enable", enable),
            Native::new("disable", disable),
            Native::new("threshold", threshold),
        ],
        ..ModuleDef::new("gc")
    };
}

fn collect<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.collect();
    Ok(vm.none())
}

fn mem_alloc<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(Value::small(vm.heap_stats().used as i32))
}

fn mem_free<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(Value::small(vm.heap_stats().free as i32))
}

fn enable<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.gc_enabled = true;
    Ok(vm.none())
}

fn disable<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.gc_enabled = false;
    Ok(vm.none())
}

/// No allocation threshold on this port: always -1, as MicroPython reports when none is set.
fn threshold<F: FlashImage>(_vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(Value::small(-1))
}
