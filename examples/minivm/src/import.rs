//! Imports: `import a.b.c`, relative imports, `from m import x`, `from m import *`, packages and
//! namespace packages, against the module sources, the builtin modules and `sys.modules`.
//!
//! # Freeze as you import
//!
//! While `freeze.import_modules(...)` runs ([`FreezeImports`] is set), every module whose body
//! runs is frozen as soon as that body has returned and the dotted import that made it has
//! attached it to its parent package: deepest first, so the submodules a package's `__init__`
//! imports are frozen before the `__init__` goes on. Each freeze is one batch (its own commit
//! record: a power cut or an error loses at most the batch being written), and after it the
//! live fix-up and a collection give the module's heap back. The heap then holds the largest
//! module (or group, below) plus what the import chain above it has built so far.
//!
//! The rule for code that is still running. The import chain is the modules whose import is in
//! progress (bodies running, or done but not yet attached); their module objects, the value
//! stack of the frames running inside the call and the importers' `young` objects are the
//! *running set*. A batch never contains a heap object reachable from the running set. The
//! freezer marks what the running set reaches (the GC's mark bits, no extra memory) and
//! refuses a marked object; the module that reached it is not frozen then but *waits*: it is
//! frozen in the batch of the innermost module of the chain (its importer), when that one
//! completes, and the rule applies again there. The chain is empty at the top, so every
//! module is frozen by the end of the call. Hence:
//!
//! - no frozen object points into the heap: a batch holds everything its graph reaches, and
//!   what it may not take makes the whole group wait (the image validator would refuse a heap
//!   pointer anyway);
//! - no frozen namespace is one its module is still writing: a running module's globals are in
//!   the running set. A submodule doing `import pkg` or `from . import x` while `pkg/__init__`
//!   is half-way reaches `pkg`'s module (or its globals, through `x`'s functions), so it waits
//!   for `pkg` and is frozen with it (asyncio's `task` waits for `core`, which imports it);
//! - no mutable object is snapshotted while the import code that may still change it runs (a
//!   registry list or dict of `pkg` that a submodule appends to is frozen with `pkg`, with
//!   everything `pkg/__init__` added after);
//! - nothing a running frame holds moves (its function, code, globals, operands), so the Rust
//!   state of the interpreter and of the natives up the chain stays valid across the fix-up.
//!
//! Objects the running set merely shares without reaching them through the module (strings,
//! tuples, code of finished modules) are not affected: only reachability from the running set
//! counts.
//!
//! A module whose body raises is removed from `sys.modules` as always and leaves no batch; the
//! modules that waited for it wait for its importer instead (or, at the top, stay in the heap);
//! the batches committed before stay valid and mounted. A module that cannot be frozen (an
//! open file, a socket, a full image region) stays imported in the heap, the import goes on,
//! and `freeze.import_modules` raises the first such error when the name's import is over.

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::qstr::sq;
use crate::vm::{Batch, FreezeFailed, R, Vm};

/// A module whose import runs inside `freeze.import_modules`.
#[derive(Debug)]
struct Pending {
    /// Its dotted name (a qstr).
    key: Value,
    /// `young`'s length before its module object was made: the entries below are its
    /// importer's (in the running set), those above its own.
    young_base: usize,
    /// The live heap when its import started, when the freezer measures it.
    live_start: Option<u32>,
    /// Its body returned: it waits for the dotted import that made it to attach it and
    /// complete it.
    done: bool,
    /// Completed modules that reached what this one's import holds: frozen in its batch.
    waiting: Vec<Value>,
}

/// Freeze-as-you-import, for the length of one `freeze.import_modules` call (see the module
/// docs).
#[derive(Debug)]
pub struct FreezeImports {
    /// The value stack's top when the call began: the frames above run inside it.
    stack_base: usize,
    /// `young`'s length when the call began.
    young_base: usize,
    /// The import chain, outermost first.
    chain: Vec<Pending>,
    /// The innermost module whose body raised, with the exception (the one that escapes the
    /// call names it).
    pub failed: Option<(Value, Value)>,
    /// The first module that could not be frozen and why (raised at the end of the name).
    pub error: Option<FreezeFailed>,
    /// Batches committed during this call.
    pub batches: usize,
    /// Modules that waited, not yet frozen, with the path to the first object of the
    /// running set they reached (moved to [`BatchLog::waited`](crate::vm::BatchLog) with
    /// their batch).
    pub waited: Vec<(String, String)>,
    /// Packages not frozen when their import completes, because a later name of the call is
    /// below them (`freeze.import_modules('pkg', 'pkg.lazy')`): frozen at the end of the call
    /// with every submodule attached, so `import pkg.lazy` after a reboot costs no heap.
    pub hold: Vec<String>,
}

impl FreezeImports {
    /// The state for a call that starts now.
    pub fn new<F: FlashImage>(vm: &Vm<F>) -> FreezeImports {
        FreezeImports {
            stack_base: vm.stack_top,
            young_base: vm.young.len(),
            chain: Vec::new(),
            failed: None,
            error: None,
            batches: 0,
            waited: Vec::new(),
            hold: Vec::new(),
        }
    }
}

impl<F: FlashImage> Vm<F> {
    /// `__import__(name, fromlist, level)` against `globals` of the importing module.
    pub fn import_name(
        &mut self,
        globals: Value,
        q: Value,
        fromlist: Value,
        level: u32,
    ) -> R<Value> {
        let name = self.str_string(q);
        let full = if level > 0 {
            let nq = sq!("__name__");
            let pq = self.q("__path__");
            let cur = self
                .dict_get_q(globals, nq)
                .map(|v| self.str_string(v))
                .unwrap_or_default();
            let is_pkg = self.dict_get_q(globals, pq).is_some();
            let mut parts: Vec<&str> = cur.split('.').collect();
            if !is_pkg {
                parts.pop();
            }
            for _ in 1..level {
                parts.pop();
            }
            if parts.is_empty() || parts == [""] {
                return self.raise_msg("ImportError", "can't perform relative import");
            }
            let mut p = parts.join(".");
            if !name.is_empty() {
                p.push('.');
                p.push_str(&name);
            }
            p
        } else {
            name.clone()
        };
        let leaf = self.import_dotted(&full)?;
        let from_empty = fromlist.0 == self.st.none || fromlist.is_null();
        if from_empty && level == 0 {
            let top = full.split('.').next().unwrap_or("");
            return self.import_dotted(top);
        }
        Ok(leaf)
    }

    /// Imports `a.b.c` step by step; returns the leaf module.
    pub fn import_dotted(&mut self, full: &str) -> R<Value> {
        let Some(depth) = self.freeze_imports.as_ref().map(|f| f.chain.len()) else {
            return self.import_parts(full);
        };
        let r = self.import_parts(full);
        // The modules this import ran are done and attached: freeze them, innermost first
        // (also when a later part failed: those before it completed).
        self.complete_imports(depth);
        let m = r?;
        // The leaf may have been frozen: its reference from `sys.modules`.
        let key = self.intern(full.as_bytes())?;
        match self.dict_get_q(self.modules, key) {
            Some(v) => Ok(v),
            None if self.kind(m) == Some(Kind::MODULE) => Ok(m),
            None => {
                let msg = alloc::format!("module '{full}' left sys.modules while importing");
                self.raise_msg("ImportError", &msg)
            }
        }
    }

    /// The steps of [`Vm::import_dotted`]: each part imported, then attached to its parent.
    fn import_parts(&mut self, full: &str) -> R<Value> {
        let mut parent: Option<Value> = None;
        let mut path = String::new();
        let mut m = Value::NULL;
        for part in full.split('.') {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(part);
            m = self.import_one(&path)?;
            if let Some(pk) = parent {
                // The parent's reference again: a freeze while the child ran may have moved it.
                let p = self.dict_get_q(self.modules, pk).unwrap_or(Value::NULL);
                if self.kind(p) == Some(Kind::MODULE) {
                    let pq = self.intern(part.as_bytes())?;
                    let g = self.wv(p, 2);
                    if self.dict_get_q(g, pq).is_none() && self.overlay_get(g, pq).is_none() {
                        // A frozen parent takes the attribute in its overlay (as its own
                        // code's rebinding would): `pkg.sub` works until the next reboot.
                        self.store_global(g, pq, m)?;
                    }
                }
            }
            parent = Some(self.intern(path.as_bytes())?);
        }
        Ok(m)
    }

    /// Completes the modules above `depth` on the import chain (done and attached), innermost
    /// first: each is frozen with the modules waiting for it, or waits for its importer (see
    /// the module docs). A module that cannot be frozen is recorded, not raised: the import
    /// goes on, and `freeze.import_modules` raises it when the name is done.
    fn complete_imports(&mut self, depth: usize) {
        loop {
            let Some(fi) = self.freeze_imports.as_mut() else {
                return;
            };
            if fi.chain.len() <= depth {
                return;
            }
            let Some(p) = fi.chain.pop() else {
                return;
            };
            debug_assert!(p.done, "an import above this one is still running");
            // Its own young objects are in `sys.modules` (and about to be frozen): the
            // collection after its batch takes the rest.
            self.young.truncate(p.young_base);
            if p.waiting.is_empty() {
                let name = self.str_string(p.key);
                if self
                    .freeze_imports
                    .as_ref()
                    .is_some_and(|f| f.hold.contains(&name))
                {
                    continue;
                }
            }
            let mut group = alloc::vec![p.key];
            group.extend(p.waiting);
            let outcome = self.freeze_group(&group, p.young_base, p.live_start);
            match outcome {
                Ok(Batch::Frozen(_)) | Ok(Batch::Nothing) => {}
                Ok(Batch::Waits(why)) => {
                    let name = self.str_string(p.key);
                    let Some(fi) = self.freeze_imports.as_mut() else {
                        return;
                    };
                    fi.waited.push((name, why));
                    match fi.chain.last_mut() {
                        Some(importer) => importer.waiting.extend(group),
                        // Nothing runs at the top: a group cannot wait there.
                        None => {
                            fi.error.get_or_insert(FreezeFailed {
                                exc: "RuntimeError",
                                msg: String::from("a module still waits at the top of the import"),
                            });
                        }
                    }
                }
                Err(e) => {
                    if let Some(fi) = self.freeze_imports.as_mut() {
                        fi.error.get_or_insert(e);
                    }
                }
            }
        }
    }

    /// Freezes `group` (module keys, the first the one that completed) as one batch unless it
    /// reaches the running set, whose `young` part ends at `young_end`. A committed batch is
    /// followed by a collection.
    fn freeze_group(
        &mut self,
        group: &[Value],
        young_end: usize,
        live_start: Option<u32>,
    ) -> Result<Batch, FreezeFailed> {
        let Some(fi) = self.freeze_imports.as_ref() else {
            return Ok(Batch::Nothing);
        };
        if fi.error.is_some() && fi.error.as_ref().is_some_and(|e| e.exc == "OSError") {
            // The image region failed (full, or the flash): no more batches in this call.
            return Ok(Batch::Nothing);
        }
        // The running set: the frames above the call, the importers' young objects and the
        // chain's modules (none at the top: nothing runs there).
        let mut running: Vec<u32> = Vec::new();
        if !fi.chain.is_empty() {
            let top = self.stack_top.min(self.stack.len());
            let base = fi.stack_base.min(top);
            running.extend_from_slice(&self.stack[base..top]);
            let yend = young_end.min(self.young.len());
            let ybase = fi.young_base.min(yend);
            running.extend_from_slice(&self.young[ybase..yend]);
            for p in &fi.chain {
                if let Some(m) = self.dict_get_q(self.modules, p.key) {
                    running.push(m.0);
                }
            }
        }
        let names: Vec<String> = group.iter().map(|k| self.str_string(*k)).collect();
        let Some(mut fz) = self.freezer.take() else {
            return Err(FreezeFailed {
                exc: "RuntimeError",
                msg: String::from("no flash image attached"),
            });
        };
        let r = fz.freeze_modules(self, &names, &running);
        self.freezer = Some(fz);
        if let Ok(Batch::Frozen(_)) = &r {
            if let Some(fi) = self.freeze_imports.as_mut() {
                fi.batches += 1;
                let (mine, rest) = core::mem::take(&mut fi.waited)
                    .into_iter()
                    .partition(|(n, _)| names.contains(n));
                fi.waited = rest;
                if let Some(log) = self.freeze_log.last_mut() {
                    log.waited = mine;
                    log.live_start = live_start;
                }
            }
            self.collect_after_batch();
        }
        r
    }

    /// The collection after a committed batch gives its heap back; a measuring freezer's log
    /// entry also gets the heap in use after it (a pass over the block table, so only then).
    pub(crate) fn collect_after_batch(&mut self) {
        self.collect();
        if self
            .freeze_log
            .last()
            .is_some_and(|l| l.live_before.is_some())
        {
            let live = self.heap_stats().used;
            if let Some(log) = self.freeze_log.last_mut() {
                log.live_after = Some(live);
            }
        }
    }

    /// Imports one module by full dotted name (its parent is already imported).
    fn import_one(&mut self, path: &str) -> R<Value> {
        let key = self.intern(path.as_bytes())?;
        if let Some(m) = self.dict_get_q(self.modules, key) {
            // A frozen module whose source changed: warn, or import the source instead.
            if !self.stale_check(path, m)? {
                return Ok(m);
            }
            self.dict_remove(self.modules, key)?;
        }
        if let Some(m) = self.builtin_module(path) {
            return Ok(m);
        }
        let dirs = self.sys_path_dirs();
        let mut found = None;
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(x) = s.find_on(path, &dirs) {
                found = Some((x, i));
                break;
            }
        }
        // A module loaded again has a new source: the old record goes whatever happens next.
        self.origins.retain(|(n, _, _)| n != path);
        let Some(((bytes, is_pkg), source)) = found else {
            if let Some(m) = self.builtin_alias(path) {
                return Ok(m);
            }
            if self
                .sources
                .iter()
                .any(|s| s.is_package_dir_on(path, &dirs))
            {
                // A namespace package: a directory of modules without `__init__`.
                return Ok(self.new_module(key, 4, true)?.0);
            }
            let msg = alloc::format!("no module named '{path}'");
            return self.raise_msg("ImportError", &msg);
        };
        let live_start = match (&self.freeze_imports, &self.freezer) {
            (Some(_), Some(fz)) if fz.measures() => {
                self.collect();
                Some(self.heap_stats().used)
            }
            _ => None,
        };
        // The source record a freeze gives it, from the bytes in hand: a freeze would otherwise
        // read and hash the file again (and a file changed since would give the record of
        // bytes the module was not loaded from).
        let origin = match self.freezer {
            Some(_) => self
                .sources
                .get(source)
                .and_then(|s| s.hash_found(path, &dirs, &bytes)),
            None => None,
        };
        if let Some((p, h)) = origin {
            self.origins.push((String::from(path), p, h));
        }
        let young_base = self.young.len();
        let (m, g) = self.new_module(key, 8, is_pkg)?;
        let top = match self.load_mpy(&bytes, g) {
            Ok(f) => f,
            Err(e) => {
                let _ = self.dict_remove(self.modules, key);
                if e == crate::mpy::LoadError::OutOfMemory {
                    // As MicroPython: the heap ran out, whatever was being made.
                    self.exc = Value(self.st.memory_error);
                    return Err(crate::vm::Thrown);
                }
                let msg = alloc::format!("{path}: {e}");
                return self.raise_msg("ValueError", &msg);
            }
        };
        // The file's bytes are in the heap objects now: not held while the body runs. Of
        // what loading made, the module (in `sys.modules`) and its code (`top`) reach
        // everything but the interned strings, which their pool holds: rooting only those
        // two lets a frozen pool's heap strings go while the body runs.
        drop(bytes);
        self.young.truncate(young_base);
        self.young.push(m.0);
        self.young.push(top.0);
        let tracked = match self.freeze_imports.as_mut() {
            Some(fi) => {
                fi.chain.push(Pending {
                    key,
                    young_base,
                    live_start,
                    done: false,
                    waiting: Vec::new(),
                });
                true
            }
            None => false,
        };
        if let Err(t) = self.run_module_code(top, g) {
            let _ = self.dict_remove(self.modules, key);
            if tracked {
                self.import_failed(key);
            }
            return Err(t);
        }
        if let Some(p) = self
            .freeze_imports
            .as_mut()
            .and_then(|f| f.chain.last_mut())
        {
            p.done = true;
        }
        Ok(m)
    }

    /// The body of `key` raised: it leaves the chain without a batch, the modules waiting for
    /// it wait for its importer, and the failure is recorded (innermost first: an exception
    /// passing through its importers keeps the name of the module that raised it).
    fn import_failed(&mut self, key: Value) {
        let exc = self.exc;
        let Some(fi) = self.freeze_imports.as_mut() else {
            return;
        };
        let Some(p) = fi.chain.pop() else {
            return;
        };
        debug_assert!(p.key == key);
        if let Some(importer) = fi.chain.last_mut() {
            importer.waiting.extend(p.waiting);
        }
        match fi.failed {
            Some((_, e)) if e == exc => {}
            _ => fi.failed = Some((key, exc)),
        }
    }

    /// The directories of `sys.path` (its str items; `sys.path` may be rebound to any list).
    pub fn sys_path_dirs(&self) -> Vec<String> {
        self.seq_vec(self.sys_path)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| {
                self.str_bytes(v)
                    .map(|b| String::from_utf8_lossy(b).into_owned())
            })
            .collect()
    }

    /// A new module `key` (globals of `cap` entries with `__name__`, and `__path__` for a
    /// package) registered in `sys.modules`: (module, globals).
    fn new_module(&mut self, key: Value, cap: u32, is_pkg: bool) -> R<(Value, Value)> {
        let g = self.new_namespace(cap)?;
        let nq = sq!("__name__");
        self.dict_store(g, nq, key)?;
        if is_pkg {
            let pq = self.q("__path__");
            self.dict_store(g, pq, key)?;
        }
        let m = self.alloc_obj(Kind::MODULE, 0, &[key, g])?;
        self.dict_store(self.modules, key, m)?;
        Ok((m, g))
    }

    pub(crate) fn import_from(&mut self, m: Value, q: Value) -> R<Value> {
        if let Some(v) = self.try_load_attr(m, q)? {
            return Ok(v);
        }
        // A package's submodule, as MicroPython's `mp_import_from`: its import's errors (a
        // missing module, an exception in its body) propagate.
        if self.kind(m) == Some(Kind::MODULE) {
            let pq = self.q("__path__");
            if self.dict_get_q(self.wv(m, 2), pq).is_some() {
                let mut p = self.str_string(self.wv(m, 1));
                p.push('.');
                p.push_str(&self.str_string(q));
                return self.import_dotted(&p);
            }
        }
        let n = self.str_string(q);
        let msg = alloc::format!("can't import name {n}");
        self.raise_msg("ImportError", &msg)
    }

    pub(crate) fn import_star(&mut self, m: Value, dest: Value) -> R<()> {
        let g = self.wv(m, 2);
        let n = self.dict_len(g);
        for i in 0..n {
            let (k, v) = self.dict_entry(g, i);
            if self.str_bytes(k).is_some_and(|b| !b.starts_with(b"_")) {
                self.dict_store(dest, k, v)?;
            }
        }
        Ok(())
    }
}
