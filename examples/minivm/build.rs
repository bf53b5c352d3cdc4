//! Embeds every `py/**/*.mpy` as a bundled module: `a/b.mpy` → `a.b`, `a/__init__.mpy` → package `a`.

use std::fmt::Write as _;

use sha2::Digest as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "mpy") {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir")).join("py");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut src = String::from(
        "/// (dotted name, is package, .mpy bytes, `sha256:` of the bytes) of each bundled module.\npub static BUNDLED: &[(&str, bool, &[u8], &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).expect("under py/").with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let pkg = parts.last().is_some_and(|l| l == "__init__");
        if pkg {
            parts.pop();
        }
        if parts.is_empty() {
            continue;
        }
        let name = parts.join(".");
        // The source record's hash (`lifecycle::source_hash`), so that the stale check at
        // import never hashes a bundled module on the device.
        let bytes = std::fs::read(f).expect("read bundled .mpy");
        let mut hash = String::from("sha256:");
        for b in sha2::Sha256::digest(&bytes) {
            let _ = write!(hash, "{b:02x}");
        }
        let _ = writeln!(
            src,
            "    ({name:?}, {pkg}, include_bytes!({:?}), {hash:?}),",
            f.display().to_string()
        );
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("bundled.rs");
    std::fs::write(out, src).expect("write bundled.rs");
}
