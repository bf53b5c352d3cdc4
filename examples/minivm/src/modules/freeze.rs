//! `freeze`: `import_modules(*names)` freezes modules into the flash image as it imports them,
//! `clear()` erases it, `info()` counts the frozen objects.
//!
//! `import_modules` imports each name with freeze-as-you-import on (`crate::import`: every
//! module is frozen, one batch each, as soon as its body has finished), then freezes what is
//! left of the name's tree in the heap (a module imported before the call, a parent package),
//! and prints one line per name in the seed's format, the sum of its batches:
//! `froze N flash bytes, M ram bytes, K objects, Q qstrs`. When a module's body raises, the
//! exception propagates as from `import` after a line that names the module (`freeze: importing
//! 'pkg' failed in 'pkg.bad' …`); the batches committed before it stay valid and mounted.
//!
//! The work is the embedder's [`crate::vm::Freezer`] (the flashfreeze binding in
//! `crate::freeze`); without one attached these raise `RuntimeError`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::import::FreezeImports;
use crate::mem::FlashImage;
use crate::obj::Value;
use crate::slots::{ModuleDef, Native, NativeModule};
use crate::vm::{Batch, BatchLog, FreezeFailed, R, Vm};

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

/// Imports each name, freezing every module as it completes (see the module docs).
fn import_modules<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    if vm.freezer.is_none() {
        return vm.raise_msg("RuntimeError", "no flash image attached");
    }
    if vm.freeze_imports.is_some() {
        return vm.raise_msg("RuntimeError", "freeze.import_modules is already running");
    }
    let mut names = Vec::new();
    for a in args {
        match vm.str_bytes(*a) {
            Some(b) => names.push(String::from_utf8_lossy(b).into_owned()),
            None => return vm.raise_msg("TypeError", "module names must be str"),
        }
    }
    for (i, name) in names.iter().enumerate() {
        let first = vm.freeze_log.len();
        let mut fi = FreezeImports::new(vm);
        // The packages of the names still to come wait for them (`FreezeImports::hold`).
        for later in &names[i + 1..] {
            for (at, _) in later.match_indices('.') {
                fi.hold.push(String::from(&later[..at]));
            }
        }
        let in_tree = |n: &str| {
            let below =
                |a: &str, b: &str| a.starts_with(b) && a.as_bytes().get(b.len()) == Some(&b'.');
            n == name || below(n, name) || below(name, n)
        };
        let held = fi.hold.iter().any(|h| in_tree(h));
        vm.freeze_imports = Some(fi);
        let imported = vm.import_dotted(name);
        let fi = vm.freeze_imports.take();
        if let Err(t) = imported {
            report(vm, first, None);
            let n = vm.freeze_log.len() - first;
            let batches = match n {
                1 => String::from("1 batch"),
                n => alloc::format!("{n} batches"),
            };
            let line = match fi.and_then(|f| f.failed) {
                Some((key, exc)) if exc == vm.exc => alloc::format!(
                    "freeze: importing '{name}' failed in '{}', which is not frozen; {batches} committed before it stay\n",
                    vm.str_string(key)
                ),
                _ => alloc::format!(
                    "freeze: importing '{name}' failed; {batches} committed before it stay\n"
                ),
            };
            vm.out.push_str(&line);
            return Err(t);
        }
        if let Some(e) = fi.and_then(|f| f.error) {
            report(vm, first, None);
            return raise(vm, &e);
        }
        // What the call found already in the heap: the name imported before, its parents.
        let tree = match vm.freezer.take() {
            Some(fz) if held => {
                vm.freezer = Some(fz);
                Ok(Batch::Nothing)
            }
            Some(mut fz) => {
                let r = fz.freeze_tree(vm, name);
                vm.freezer = Some(fz);
                r
            }
            None => Ok(Batch::Nothing),
        };
        match tree {
            Ok(Batch::Frozen(_)) => {
                vm.collect();
                let live = vm.heap_stats().used;
                if let Some(log) = vm.freeze_log.last_mut().filter(|l| l.live_before.is_some()) {
                    log.live_after = Some(live);
                }
            }
            Ok(Batch::Nothing | Batch::Waits(_)) => {}
            Err(e) => {
                report(vm, first, None);
                return raise(vm, &e);
            }
        }
        report(vm, first, Some(name));
    }
    Ok(vm.none())
}

/// Prints the sum of the batches from `first` on in the seed's format; with `name`, says so
/// when there were none.
fn report<F: FlashImage>(vm: &mut Vm<F>, first: usize, name: Option<&str>) {
    let batches: &[BatchLog] = &vm.freeze_log[first.min(vm.freeze_log.len())..];
    let line = if batches.is_empty() {
        match name {
            Some(n) => alloc::format!("{n}: nothing to freeze (already frozen or builtin)\n"),
            None => return,
        }
    } else {
        let (mut flash, mut ram, mut objects, mut qstrs) = (0, 0, 0, 0);
        for b in batches {
            flash += b.stats.flash_bytes;
            ram += b.stats.ram_bytes;
            objects += b.stats.objects;
            qstrs += b.stats.qstrs;
        }
        alloc::format!(
            "froze {flash} flash bytes, {ram} ram bytes, {objects} objects, {qstrs} qstrs\n"
        )
    };
    vm.out.push_str(&line);
}

fn raise<F: FlashImage>(vm: &mut Vm<F>, e: &FreezeFailed) -> R<Value> {
    vm.raise_msg(e.exc, &e.msg)
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
