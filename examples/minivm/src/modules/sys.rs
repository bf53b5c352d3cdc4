//! `sys` (also `usys`), as MicroPython's `modsys.c`.
//!
//! - `stdin`, `stdout`, `stderr`: the console streams (`types::file`), firmware statics;
//!   `print(..., file=sys.stderr)` and `sys.stderr.write` go to the VM's error output.
//! - `print_exception(exc, file=sys.stdout)`, `exit([arg])` (raises `SystemExit`).
//! - `path`, `modules`, `argv`: the VM's heap objects (`Vm::sys_path`, `Vm::modules`,
//!   `Vm::sys_argv`), reached through the module's attribute hook; `sys.path = [...]` rebinds
//!   the list the importer searches (as MicroPython's attribute delegation allows); any other
//!   store raises `AttributeError`.
//! - `implementation` (an attribute tuple, printed `(name='micropython', version=…)`),
//!   `version_info` (a plain tuple, as in MicroPython 1.27), `version`, `platform`,
//!   `byteorder`, `maxsize`, `ps1`, `ps2`.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{Attr, AttrOp, Constant, ModuleDef, Native, NativeModule};
use crate::types::{file, namedtuple};
use crate::vm::{R, Vm};

/// The `sys` module.
pub struct Sys;

impl<F: FlashImage> NativeModule<F> for Sys {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["usys"],
        functions: &[
            Native::new("print_exception", print_exception),
            Native::new("exit", exit),
        ],
        constants: &[
            Constant::Str("version", "3.4.0; minivm"),
            Constant::Str("platform", "minivm"),
            Constant::Str("byteorder", "little"),
            Constant::Int("maxsize", SMALL_MAX),
            Constant::Str("ps1", ">>> "),
            Constant::Str("ps2", "... "),
        ],
        objects: Some(objects),
        attr: Some(attr),
        names: &[
            "modules",
            "path",
            "argv",
            "stdin",
            "stdout",
            "stderr",
            "implementation",
            "version_info",
            "micropython",
            "name",
            "_machine",
            "_mpy",
            "_build",
            "minivm",
        ],
        ..ModuleDef::new("sys")
    };
}

/// The MicroPython release whose behaviour minivm follows (the oracle's), as
/// `sys.implementation.version`.
pub const VERSION: [i32; 3] = [1, 27, 0];
/// `sys.implementation._mpy`: `.mpy` version 6, sub-version 3, no native architecture.
const MPY: i32 = 6 | (3 << 8);

/// The static objects: the console streams, `implementation`, `version_info`.
fn objects<F: FlashImage>(vm: &mut Vm<F>) -> Vec<(&'static str, Value)> {
    let [stdin, stdout, stderr] = file::console_streams(vm);
    let version_info = vm.static_tuple(&[Value::small(3), Value::small(4), Value::small(0)]);
    let implementation = implementation(vm);
    alloc::vec![
        ("stdin", stdin),
        ("stdout", stdout),
        ("stderr", stderr),
        ("implementation", implementation),
        ("version_info", version_info),
    ]
}

/// `sys.implementation`: a namedtuple instance of a nameless namedtuple class, so it prints
/// as MicroPython's attribute tuple, `(name='micropython', version=(1, 27, 0, ''), …)`:
///
/// ```text
/// class     [hdr NAMEDTUPLE|NATIVE_BASE|CLASS]['' ][(tuple,)][{'_fields': (names…)}]
/// instance  [hdr|INSTANCE][class][null][values tuple]
/// ```
fn implementation<F: FlashImage>(vm: &mut Vm<F>) -> Value {
    let [a, b, c] = VERSION.map(Value::small);
    let version = vm.static_tuple(&[a, b, c, Value::qstr(1)]);
    let name = vm.static_str("micropython");
    let machine = vm.static_str("minivm");
    namedtuple::static_attrtuple(
        vm,
        &["name", "version", "_machine", "_mpy", "_build"],
        &[name, version, machine, Value::small(MPY), machine],
    )
}

/// `sys.path` (load and store), `sys.modules`, `sys.argv`.
fn attr<F: FlashImage>(vm: &mut Vm<F>, name: Value, op: AttrOp) -> R<Attr> {
    let load = matches!(op, AttrOp::Load | AttrOp::Method);
    if vm.is_name(name, "path") {
        return Ok(match op {
            AttrOp::Store(v) => {
                vm.sys_path = v;
                Attr::Done
            }
            _ if load => Attr::Found(vm.sys_path),
            _ => Attr::Default,
        });
    }
    if load && vm.is_name(name, "modules") {
        return Ok(Attr::Found(vm.modules));
    }
    if load && vm.is_name(name, "argv") {
        return Ok(Attr::Found(vm.sys_argv));
    }
    Ok(Attr::Default)
}

/// `print_exception(exc, file=sys.stdout)`: `Traceback (most recent call last):` and the
/// exception's `Type: message` (a value that is no exception prints as itself, as in
/// MicroPython).
fn print_exception<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.need(args, 1, "print_exception")?;
    let e = args[0];
    let text = if vm.is_exception(e) {
        alloc::format!("Traceback (most recent call last):\n{}\n", vm.exc_text(e))
    } else {
        let mut s = vm.str_of(e)?;
        s.push('\n');
        s
    };
    match args.get(1).copied().or_else(|| vm.kwarg(kw, "file")) {
        Some(f) => file::stream_write(vm, f, &text)?,
        None => vm.out.push_str(&text),
    }
    Ok(vm.none())
}

/// `exit([arg])`: raises `SystemExit(arg)`.
fn exit<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 0, 1)?;
    vm.raise_args("SystemExit", args)
}
