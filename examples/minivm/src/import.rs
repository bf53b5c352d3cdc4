//! Imports: `import a.b.c`, relative imports, `from m import x`, `from m import *`, packages and
//! namespace packages, against the module sources, the builtin modules and `sys.modules`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::qstr::sq;
use crate::vm::{R, Vm};

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
        let mut parent = Value::NULL;
        let mut path = String::new();
        let mut m = Value::NULL;
        for part in full.split('.') {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(part);
            m = self.import_one(&path)?;
            if parent.is_ptr() && self.mem.is_writable(self.wv(parent, 2).0) {
                let pq = self.intern(part.as_bytes())?;
                let g = self.wv(parent, 2);
                if self.dict_get_q(g, pq).is_none() {
                    self.dict_store(g, pq, m)?;
                }
            }
            parent = m;
        }
        Ok(m)
    }

    /// Imports one module by full dotted name (its parent is already imported).
    pub fn import_one(&mut self, path: &str) -> R<Value> {
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
        for s in &self.sources {
            if let Some(x) = s.find_on(path, &dirs) {
                found = Some(x);
                break;
            }
        }
        let Some((bytes, is_pkg)) = found else {
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
        let (m, g) = self.new_module(key, 8, is_pkg)?;
        let top = match self.load_mpy(&bytes, g) {
            Ok(f) => f,
            Err(e) => {
                let _ = self.dict_remove(self.modules, key);
                let msg = alloc::format!("{path}: {e}");
                return self.raise_msg("ValueError", &msg);
            }
        };
        if let Err(t) = self.run_module_code(top, g) {
            let _ = self.dict_remove(self.modules, key);
            return Err(t);
        }
        Ok(m)
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
        if self.kind(m) == Some(Kind::MODULE) {
            let mut p = self.str_string(self.wv(m, 1));
            p.push('.');
            p.push_str(&self.str_string(q));
            if let Ok(v) = self.import_dotted(&p) {
                return Ok(v);
            }
            self.exc = Value::NULL;
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
