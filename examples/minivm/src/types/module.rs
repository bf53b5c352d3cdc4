//! Modules: `[hdr|MODULE][name qstr][globals dict]`; attributes are the globals (with the
//! overlay of globals a frozen module's own code rebound, see `Vm::store_global`), then a
//! module-level `__getattr__(name)` (PEP 562). A builtin module (a firmware static, its
//! registry index + 1 in the header's aux) asks its definition's `attr` hook first, and
//! refuses other stores with `AttributeError`, as MicroPython's read-only module dicts.

use alloc::string::String;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::qstr::sq;
use crate::slots::{Attr, AttrOp, NativeType, PrintKind, TypeSlots};
use crate::vm::{R, Vm};

/// The `module` type.
pub struct Module;

impl<F: FlashImage> NativeType<F> for Module {
    const TYPE: TypeSlots<F> = TypeSlots {
        print: Some(print),
        attr: Some(attr),
        names: &["__getattr__", "__dict__"],
        ..TypeSlots::new(Kind::MODULE, "module")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let n = vm.str_string(vm.wv(v, 1));
    let _ = write!(s, "<module '{n}'>");
    Ok(())
}

fn attr<F: FlashImage>(vm: &mut Vm<F>, m: Value, name: Value, op: AttrOp) -> R<Attr> {
    let g = vm.wv(m, 2);
    // A builtin module: its own hook first (`sys.path`); its dict is read-only, so a store
    // the hook does not take is refused as MicroPython refuses it.
    if let Some(def) = vm.module_def(m) {
        if let Some(hook) = def.attr {
            match hook(vm, name, op)? {
                Attr::Default => {}
                a => return Ok(a),
            }
        }
        if matches!(op, AttrOp::Store(_) | AttrOp::Delete) {
            let n = vm.str_string(name);
            let msg = alloc::format!("'module' object has no attribute '{n}'");
            return vm.raise_msg("AttributeError", &msg);
        }
    }
    match op {
        AttrOp::Load | AttrOp::Method => {
            if let Some(v) = vm.overlay_get(g, name) {
                return Ok(Attr::Found(v));
            }
            if let Some(v) = vm.dict_get_q(g, name) {
                return Ok(Attr::Found(v));
            }
            // A submodule imported after its package was frozen is not an attribute of the
            // (read-only) package: find it in sys.modules.
            let mut full = vm.str_bytes(vm.wv(m, 1)).unwrap_or(b"").to_vec();
            full.push(b'.');
            full.extend_from_slice(vm.str_bytes(name).unwrap_or(b""));
            if let Some(q) = vm.find_qstr(&full)
                && let Some(v) = vm.dict_get_q(vm.modules, Value::qstr(q))
            {
                return Ok(Attr::Found(v));
            }
            if vm.is_name(name, "__dict__") {
                return Ok(Attr::Found(g));
            }
            // PEP 562: the module's own `__getattr__(name)` answers (or raises) last.
            let ga = sq!("__getattr__");
            let f = vm.overlay_get(g, ga).or_else(|| vm.dict_get_q(g, ga));
            match f {
                Some(f) if name != ga => Ok(Attr::Found(vm.call(f, &[name], &[])?)),
                _ => Ok(Attr::Missing),
            }
        }
        // A frozen module takes new bindings in its heap overlay, as its own `global x; x = …`
        // does (real code patches modules: `umqtt.simple.socket = fake`); they last until
        // reboot.
        AttrOp::Store(v) => vm.store_global(g, name, v).map(|()| Attr::Done),
        AttrOp::Delete => vm.delete_from(g, name),
    }
}
