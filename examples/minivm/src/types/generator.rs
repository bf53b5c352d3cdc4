//! Generators: `[hdr state|GENERATOR][func][frame ARRAY][ip][sp][exc_sp][pending throw]`,
//! resumed by `Vm::gen_resume` (see `frame`), with `send`, `throw`, `close`, `pend_throw`.

use alloc::string::String;
use core::fmt::Write as _;

use flashfreeze::Mutability;

use crate::frame::GenOut;
use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::{Freeze, Native, NativeType, PrintKind, TypeSlots};
use crate::types::iter;
use crate::vm::{R, Vm};

/// The generator type.
pub struct Generator;

impl<F: FlashImage> NativeType<F> for Generator {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::By(placement),
        print: Some(print),
        getiter: Some(iter::getiter),
        iternext: Some(iternext),
        methods: &[
            Native::new("send", send),
            Native::args("throw", throw, 2, 4),
            Native::new("close", close),
            Native::new("pend_throw", pend_throw),
        ],
        ..TypeSlots::new(Kind::GENERATOR, "generator")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.func_name(vm.wv(v, 1));
    let _ = write!(s, "<generator object {n} at 0x{:08x}>", v.0);
    Ok(())
}

fn iternext<F: FlashImage>(vm: &mut Vm<F>, g: Value) -> R<Option<Value>> {
    vm.gen_next(g)
}

/// Resumes with `send` or `throw`; a return becomes `StopIteration(value)` (no args for
/// None, as MicroPython).
fn resume<F: FlashImage>(vm: &mut Vm<F>, g: Value, send: Value, throw: Value) -> R<Value> {
    match vm.gen_resume(g, send, throw)? {
        GenOut::Yield(v) => Ok(v),
        GenOut::Return(v) if v.0 == vm.st.none => vm.raise_empty("StopIteration"),
        GenOut::Return(v) => vm.raise_args("StopIteration", &[v]),
    }
}

fn send<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    resume(vm, arg(args, 0), arg(args, 1), Value::NULL)
}

/// `g.throw(exc)`, `g.throw(type, value[, traceback])`: as MicroPython, a `value` other than
/// None is what is raised (the exception instance `contextlib` passes), else `type`.
fn throw<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let none = vm.none();
    let exc = match args.get(2) {
        Some(&v) if v != none => v,
        _ => arg(args, 1),
    };
    resume(vm, arg(args, 0), none, exc)
}

/// Throws `GeneratorExit` into a suspended generator; it must not yield again.
fn close<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let g = arg(args, 0);
    let none = vm.none();
    if vm.aux(g) == gen_state::SUSPENDED {
        let ge = Value(vm.exc_class("GeneratorExit"));
        match vm.gen_resume(g, none, ge) {
            Ok(GenOut::Yield(_)) => {
                return vm.raise_msg("RuntimeError", "generator ignored GeneratorExit");
            }
            Ok(_) => {}
            Err(t) => {
                let e = vm.exc;
                if !vm.exception_match(e, ge) {
                    return Err(t);
                }
                vm.exc = Value::NULL;
            }
        }
    }
    let _ = vm.set_w(g, 0, header(Kind::GENERATOR, gen_state::DONE));
    Ok(none)
}

/// `g.pend_throw(exc)`: `exc` is thrown at the next resume; returns the one it replaces.
fn pend_throw<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let g = arg(args, 0);
    let prev = vm.wv(g, 6);
    vm.set_w(g, 6, arg(args, 1).0)?;
    Ok(if prev.is_null() { vm.none() } else { prev })
}

/// A suspended generator freezes to the RAM section with its whole frame; a running one's
/// state is on the Rust stack, outside the object graph.
fn placement<F: FlashImage>(vm: &Vm<F>, g: Value) -> Mutability {
    if vm.aux(g) == gen_state::RUNNING {
        Mutability::Unfreezable("a running generator")
    } else {
        Mutability::Mutable
    }
}
