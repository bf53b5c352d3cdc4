//! `freeze`: `import_modules(*names)` freezes modules into the flash image as it imports them
//! (a stale frozen module is imported from its new source and frozen again), `remove(name)`
//! drops one, `compact()` reclaims what superseded and removed modules took, `clear()` erases
//! the image; `get_modules()`, `isfrozen(obj)` and `info()` inspect it; `stale(mode)` chooses
//! what an import does with a stale module (see [`crate::lifecycle`]); `refreeze()`
//! re-freezes, after a firmware update, the modules an image refused at boot named.
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
//! `crate::freeze`); without one attached these raise `RuntimeError` (`isfrozen` and `stale`
//! need none).

use alloc::boxed::Box;
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
            Native::new("remove", remove),
            Native::new("get_modules", get_modules),
            Native::new("isfrozen", isfrozen),
            Native::new("compact", compact),
            Native::new("stale", stale),
            Native::new("refreeze", refreeze),
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
    // A stale frozen module: import its new source (it then freezes as it imports).
    for name in &names {
        if vm.frozen_is_stale(name) == Some(true) {
            for src in vm.lifecycle.sources.iter_mut().filter(|s| s.name() == name) {
                src.checked = true;
            }
            if let Ok(key) = vm.intern(name.as_bytes()) {
                let _ = vm.dict_remove(vm.modules, key);
            }
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
            Ok(Batch::Frozen(_)) => vm.collect_after_batch(),
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
    let batches: &[Box<BatchLog>] = &vm.freeze_log[first.min(vm.freeze_log.len())..];
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

/// `info()`: a dict of the image's figures (`region_used`, `region_free`, `ram_used`,
/// `ram_free`, `batches`, `modules`, `reclaimable`, `reclaimable_ram`, `measured`: 1 when the
/// reclaimable bytes were measured by planning the compaction, 0 when estimated) and
/// `objects`, the objects frozen since boot.
fn info<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let figures = match vm.freezer.take() {
        Some(mut fz) => {
            let r = fz.info(vm);
            vm.freezer = Some(fz);
            match r {
                Ok(f) => f,
                Err(e) => return vm.raise_msg("OSError", &e),
            }
        }
        None => Vec::new(),
    };
    let d = vm.new_dict(figures.len() as u32 + 1)?;
    let objects = u64::from(vm.frozen_count);
    for (k, v) in figures.into_iter().chain([("objects", objects)]) {
        let key = vm.intern(k.as_bytes())?;
        let v = int(vm, v)?;
        vm.dict_store(d, key, v)?;
    }
    Ok(d)
}

fn int<F: FlashImage>(vm: &mut Vm<F>, n: u64) -> R<Value> {
    match i64::try_from(n).ok().and_then(Value::int) {
        Some(v) => Ok(v),
        None => vm.raise_msg("OverflowError", "figure too large"),
    }
}

fn name_arg<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], what: &str) -> R<String> {
    match args.first().and_then(|a| vm.str_bytes(*a)) {
        Some(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        None => vm.raise_msg("TypeError", &alloc::format!("{what}() takes a module name")),
    }
}

/// `remove(name)`: appends a remove record; the module then imports from its source again
/// (or fails with `ImportError`). `ValueError` when it is not frozen (nothing changes).
fn remove<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let name = name_arg(vm, args, "remove")?;
    let Some(mut fz) = vm.freezer.take() else {
        return vm.raise_msg("RuntimeError", "no flash image attached");
    };
    let r = fz.remove(vm, &name);
    vm.freezer = Some(fz);
    match r {
        Ok(()) => Ok(vm.none()),
        Err(e) if e.contains("not frozen") => vm.raise_msg("ValueError", &e),
        Err(e) => vm.raise_msg("OSError", &e),
    }
}

/// `get_modules()`: a list of `(name, batch, flash_bytes, ram_bytes, stale)` tuples, one per
/// live frozen module (bytes: what its root reaches; shared objects count in each).
fn get_modules<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let Some(mut fz) = vm.freezer.take() else {
        return vm.raise_msg("RuntimeError", "no flash image attached");
    };
    let r = fz.modules(vm);
    vm.freezer = Some(fz);
    let list = match r {
        Ok(l) => l,
        Err(e) => return vm.raise_msg("OSError", &e),
    };
    let mut items = Vec::with_capacity(list.len());
    for (name, batch, flash, ram) in list {
        let stale = vm.frozen_is_stale(&name) == Some(true);
        let n = vm.new_str(name.as_bytes())?;
        let b = int(vm, u64::from(batch))?;
        let f = int(vm, flash)?;
        let r = int(vm, ram)?;
        let s = vm.bool_val(stale);
        items.push(vm.new_tuple(&[n, b, f, r, s])?);
    }
    vm.new_list(&items)
}

/// `isfrozen(obj)`: whether `obj` lives in the flash image or the frozen RAM section.
fn isfrozen<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    use crate::memmap::{Region, region_of};
    let v = args.first().copied().unwrap_or(Value::NULL);
    let frozen = v.is_ptr() && matches!(region_of(v.0), Some(Region::Image | Region::RamSection));
    Ok(vm.bool_val(frozen))
}

/// `compact()`: copies what the live modules reach into one batch (power-safe), prints what it
/// reclaimed, and asks for a soft reboot: the frozen objects moved, so the program stops here
/// (`SystemExit`) and the console reboots onto the compacted image.
fn compact<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let Some(mut fz) = vm.freezer.take() else {
        return vm.raise_msg("RuntimeError", "no flash image attached");
    };
    let r = fz.compact(vm);
    vm.freezer = Some(fz);
    match r {
        Ok(line) => {
            vm.out.push_str(&line);
            vm.out.push('\n');
            vm.raise_msg("SystemExit", "soft reboot: the frozen image was compacted")
        }
        Err(e) if e.contains("nothing to compact") => vm.raise_msg("ValueError", &e),
        Err(e) => vm.raise_msg("OSError", &e),
    }
}

/// `stale([mode])`: what an import does with a stale frozen module: `'warn'` (default: the
/// frozen copy, and one warning line), `'use'` (the frozen copy, silently), `'reload'` (the
/// source). Returns the previous mode.
fn stale<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    use crate::lifecycle::Stale;
    let old = vm.lifecycle.stale;
    if let Some(a) = args.first() {
        let mode = vm
            .str_bytes(*a)
            .and_then(|b| core::str::from_utf8(b).ok())
            .and_then(Stale::parse);
        match mode {
            Some(m) => vm.lifecycle.stale = m,
            None => {
                return vm.raise_msg("ValueError", "stale mode must be 'use', 'warn' or 'reload'");
            }
        }
    }
    vm.new_str(old.name().as_bytes())
}

/// `refreeze()`: after a firmware update refused the image at boot, clear it and freeze again
/// the modules it named, from their sources ([`Vm::refreeze_refused`]). Prints one line per
/// module (`re-frozen`, or why not: source missing, source changed since it was frozen, the
/// freeze failed) and returns the list of module names re-frozen.
fn refreeze<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let (done, lines) = match vm.refreeze_refused() {
        Ok(r) => r,
        Err(e) => return vm.raise_msg("OSError", &e),
    };
    for l in lines {
        vm.out.push_str(&l);
        vm.out.push('\n');
    }
    let mut items = Vec::with_capacity(done.len());
    for n in done {
        items.push(vm.new_str(n.as_bytes())?);
    }
    vm.new_list(&items)
}
