//! The source tree's layering, checked on the sources themselves: data flows down
//!
//! ```text
//! top       lib.rs, registry.rs, host.rs, session.rs, sources.rs, repl/, bin/   (anything below)
//! modules/  builtin modules                                          (types/, core)
//! types/    native types                                             (core)
//! core      vm, runtime/, interp, frame, objects, freeze, slots…     (core only)
//! ```
//!
//! A file may name (`crate::x`) only its own layer and the layers below. The core reaches the
//! types and modules only through the registry's slot tables, so it must not name them, and
//! since a method on `Vm` is callable without a path, the builtins add no methods to `Vm`
//! (the methods the top adds must not be called from the core either). Every type and module
//! declared is in the registry.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Core,
    Types,
    Modules,
    Top,
}

/// The layer of a top-level module of the crate (`crate::<name>`).
fn module_layer(name: &str) -> Layer {
    match name {
        "types" => Layer::Types,
        "modules" => Layer::Modules,
        "registry" | "host" | "session" | "sources" | "repl" => Layer::Top,
        _ => Layer::Core,
    }
}

/// The layer of a source file, from its path under `src/`.
fn file_layer(rel: &Path) -> Layer {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    let stem = first.trim_end_matches(".rs");
    match stem {
        "lib" | "bin" => Layer::Top,
        s => module_layer(s),
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments and string literals (so docs may name any module).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut s = String::new();
        let mut in_str = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_str {
                if c == '\\' {
                    chars.next();
                } else if c == '"' {
                    in_str = false;
                }
                continue;
            }
            if c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' {
                in_str = true;
                continue;
            }
            s.push(c);
        }
        out.push_str(&s);
        out.push('\n');
    }
    out
}

/// The top-level crate modules a file's code names: `crate::x…` and `crate::{x, y…}`.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name = ident(part.trim());
                if !name.is_empty() {
                    refs.insert(name);
                }
            }
        } else {
            refs.insert(ident(rest));
        }
    }
    refs
}

/// The names of the functions in the inherent `impl … Vm<…>` blocks of a file's code.
fn vm_methods(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut in_vm_impl_at: Option<usize> = None;
    for line in code.lines() {
        let t = line.trim_start();
        if in_vm_impl_at.is_none()
            && t.starts_with("impl")
            && t.contains("Vm<")
            && !t.contains(" for ")
        {
            in_vm_impl_at = Some(depth);
        }
        if let Some(d) = in_vm_impl_at
            && depth == d + 1
        {
            let t = t
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            if let Some(rest) = t.strip_prefix("fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
        depth += line.matches('{').count();
        depth = depth.saturating_sub(line.matches('}').count());
        if let Some(d) = in_vm_impl_at
            && depth <= d
            && line.contains('}')
        {
            in_vm_impl_at = None;
        }
    }
    names
}

struct File {
    rel: PathBuf,
    layer: Layer,
    code: String,
}

fn tree() -> Vec<File> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    sources(&src, &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_path_buf();
            File {
                layer: file_layer(&rel),
                code: code_of(&fs::read_to_string(&p).unwrap()),
                rel,
            }
        })
        .collect()
}

#[test]
fn files_name_only_their_layer_and_the_layers_below() {
    let files = tree();
    assert!(files.iter().any(|f| f.layer == Layer::Types));
    assert!(files.iter().any(|f| f.layer == Layer::Modules));
    let mut errors = Vec::new();
    for f in &files {
        for r in crate_refs(&f.code) {
            let target = module_layer(&r);
            if target > f.layer {
                errors.push(format!(
                    "{} ({:?}) names crate::{r} ({target:?})",
                    f.rel.display(),
                    f.layer
                ));
            }
        }
    }
    assert!(
        errors.is_empty(),
        "layering violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn builtins_add_no_methods_to_the_vm_and_the_core_calls_none_of_the_top() {
    let files = tree();
    let mut errors = Vec::new();
    let mut top_methods = Vec::new();
    for f in &files {
        let methods = vm_methods(&f.code);
        match f.layer {
            Layer::Types | Layer::Modules if !methods.is_empty() => errors.push(format!(
                "{} adds methods to Vm: {methods:?} (write free functions over `&mut Vm<F>`)",
                f.rel.display()
            )),
            Layer::Top => top_methods.extend(methods),
            _ => {}
        }
        if matches!(f.layer, Layer::Types | Layer::Modules) && f.code.contains("for Vm<") {
            errors.push(format!("{} implements a trait for Vm", f.rel.display()));
        }
    }
    assert!(top_methods.contains(&"new".to_string()), "{top_methods:?}");
    for f in files.iter().filter(|f| f.layer == Layer::Core) {
        for m in &top_methods {
            for pat in [
                format!(".{m}("),
                format!("Vm::{m}("),
                format!("Vm::<F>::{m}("),
            ] {
                if f.code.contains(&pat) {
                    errors.push(format!(
                        "{} (core) calls `{pat}`, defined above the core",
                        f.rel.display()
                    ));
                }
            }
        }
    }
    assert!(
        errors.is_empty(),
        "layering violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn every_declared_type_and_module_is_registered() {
    let files = tree();
    let registry = &files
        .iter()
        .find(|f| f.rel == Path::new("registry.rs"))
        .expect("src/registry.rs")
        .code;
    let mut missing = Vec::new();
    for f in files
        .iter()
        .filter(|f| matches!(f.layer, Layer::Types | Layer::Modules))
    {
        let module = f.rel.with_extension("");
        let path: Vec<String> = module
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .filter(|c| c != "mod")
            .collect();
        for decl in ["NativeType<F> for ", "NativeModule<F> for "] {
            for (i, _) in f.code.match_indices(decl) {
                let name: String = f.code[i + decl.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let full = format!("{}::{name}", path.join("::"));
                if !registry.contains(&full) {
                    missing.push(full);
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "declared but not in registry.rs: {missing:?}"
    );
}
