//! `micropython`: `mem_info` and `qstr_info` in MicroPython's format, `const`, `schedule`.

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::Value;
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::vm::{R, Vm};

/// The `micropython` module.
pub struct Micropython;

impl<F: FlashImage> NativeModule<F> for Micropython {
    const MODULE: ModuleDef<F> = ModuleDef {
        functions: &[
            Native::new("mem_info", mem_info),
            Native::new("const", const_),
            Native::new("qstr_info", qstr_info),
            Native::new("alloc_emergency_exception_buf", noop),
            Native::new("kbd_intr", noop),
            Native::new("schedule", schedule),
        ],
        ..ModuleDef::new("micropython")
    };
}

/// `micropython.mem_info()` text: the heap figures in MicroPython's two lines.
pub fn mem_info_text<F: FlashImage>(vm: &Vm<F>) -> String {
    let s = vm.heap_stats();
    let mut t = String::new();
    let _ = writeln!(
        t,
        "GC: total: {}, used: {}, free: {}",
        s.total, s.used, s.free
    );
    let _ = writeln!(
        t,
        " No. of 1-blocks: {}, 2-blocks: {}, max blk sz: {}, max free sz: {}",
        s.one_blocks, s.two_blocks, s.max_block, s.max_free
    );
    t
}

fn mem_info<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let t = mem_info_text(vm);
    vm.out.push_str(&t);
    Ok(vm.none())
}

fn const_<F: FlashImage>(_vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(arg(args, 0))
}

fn qstr_info<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let n_dyn = vm.next_qstr - vm.first_dyn_qstr;
    let t = alloc::format!(
        "qstr pool: n_total={}, n_dynamic={}\n",
        vm.next_qstr - 1,
        n_dyn
    );
    vm.out.push_str(&t);
    Ok(vm.none())
}

/// `alloc_emergency_exception_buf` and `kbd_intr`: nothing to set up on this port.
fn noop<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(vm.none())
}

/// `schedule(f, arg)`: there are no interrupts, so it calls `f(arg)` at once.
fn schedule<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.call(arg(args, 0), &[arg(args, 1)], &[])?;
    Ok(vm.none())
}
