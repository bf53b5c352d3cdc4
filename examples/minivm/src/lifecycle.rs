//! The frozen modules' lifecycle in the VM: where each frozen module came from, stale
//! detection at import, and what a refused image (another firmware) named.
//!
//! At freeze, each module of the batch gets a source record (flashfreeze's format version 3,
//! `flashfreeze::store::records`): its source path and `sha256:` of the `.mpy` bytes it was
//! loaded from. At mount those records are read back into [`Lifecycle::sources`]. The first
//! `import m` of a boot that finds `m` frozen hashes `m`'s current source (the same search as
//! an import: `sys.path`, the filesystem, the bundled modules); if it differs the module is
//! **stale**, and [`Stale`] decides:
//!
//! | mode | what `import m` does |
//! |---|---|
//! | `'warn'` (default) | uses the frozen copy and prints one line: `warning: frozen module 'm' is stale …` |
//! | `'use'` | uses the frozen copy silently |
//! | `'reload'` | imports `m` from its source into the heap (the frozen copy stays in flash) |
//!
//! `freeze.stale('use'|'warn'|'reload')` sets the mode (and returns the previous one).
//! `freeze.import_modules('m')` on a stale module imports the new source and freezes it: the
//! new batch's root supersedes the old one at the next mount.

use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use sha2::Digest;

use crate::mem::FlashImage;
use crate::memmap::{Region, region_of};
use crate::obj::Value;
use crate::vm::{R, Vm};

/// What an import does with a stale frozen module (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stale {
    /// Use the frozen copy silently.
    Use,
    /// Use the frozen copy and print one warning line.
    #[default]
    Warn,
    /// Import the module from its source instead.
    Reload,
}

impl Stale {
    /// The mode named `s` (`'use'`, `'warn'`, `'reload'`).
    pub fn parse(s: &str) -> Option<Stale> {
        match s {
            "use" => Some(Stale::Use),
            "warn" => Some(Stale::Warn),
            "reload" => Some(Stale::Reload),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Stale::Use => "use",
            Stale::Warn => "warn",
            Stale::Reload => "reload",
        }
    }
}

/// A frozen module's source record, as mounted: its name, source path and hash, held as the
/// record is on flash (`name NUL path NUL hash`, `flashfreeze::store::records::source_name`) in
/// a text with the cuts between them. The records a mount reads share one text (one allocation
/// for all of them, see [`FrozenSource::mounted`]); a record made at a freeze has its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrozenSource {
    text: Rc<String>,
    /// Where the name starts in `text`, the two NULs after the name and the path, and where the
    /// hash ends.
    cuts: [usize; 4],
    /// Whether an import already checked it this boot.
    pub checked: bool,
}

impl FrozenSource {
    /// The record of module `name`, frozen from `path` with content hash `hash`.
    pub fn new(name: &str, path: &str, hash: &str, checked: bool) -> Self {
        let mut text = String::with_capacity(name.len() + path.len() + hash.len() + 2);
        for (i, part) in [name, path, hash].into_iter().enumerate() {
            if i > 0 {
                text.push('\0');
            }
            text.push_str(part);
        }
        let (n, p) = (name.len(), name.len() + 1 + path.len());
        FrozenSource {
            cuts: [0, n, p, text.len()],
            text: Rc::new(text),
            checked,
        }
    }

    /// The records a mount read, unchecked, sharing one text: each given as its whole name
    /// `record` (`name NUL path NUL hash`) and the lengths of its name and path. Three
    /// allocations whatever their number (the text, its `Rc` and the list), and one copy per
    /// record, placed in the text at the record's own alignment in the image: the boot ROM's
    /// `memcpy` (the Pico's) then copies words, not bytes.
    pub fn mounted<'r>(
        records: impl Iterator<Item = (&'r str, usize, usize)> + Clone,
    ) -> Vec<Self> {
        let (mut n, mut len) = (0, 0);
        for (record, _, _) in records.clone() {
            n += 1;
            // Up to 3 bytes before each to align it.
            len += record.len() + 3;
        }
        // Bytes before a record at `at` in the text (from `base`) that put it at the record's
        // alignment.
        let pad = |base: usize, at: usize, record: &str| {
            (record.as_ptr() as usize).wrapping_sub(base.wrapping_add(at)) % 4
        };
        let mut text = Rc::new(String::with_capacity(len));
        if let Some(t) = Rc::get_mut(&mut text) {
            // The text does not move: it was made with room for every record and its padding.
            let base = t.as_ptr() as usize;
            for (record, _, _) in records.clone() {
                for _ in 0..pad(base, t.len(), record) {
                    t.push('\0');
                }
                t.push_str(record);
            }
        }
        // The same places again, for the cuts.
        let base = text.as_ptr() as usize;
        let mut list = Vec::with_capacity(n);
        let mut at = 0;
        for (record, name, path) in records {
            at += pad(base, at, record);
            let end = at + record.len();
            // A record whose lengths do not fit gives empty parts (`get`), never a panic.
            let p = at
                .saturating_add(name)
                .saturating_add(1)
                .saturating_add(path);
            list.push(FrozenSource {
                text: Rc::clone(&text),
                cuts: [at, at.saturating_add(name), p, end],
                checked: false,
            });
            at = end;
        }
        list
    }

    /// Module name.
    pub fn name(&self) -> &str {
        self.text.get(self.cuts[0]..self.cuts[1]).unwrap_or("")
    }

    /// Source path it was frozen from.
    pub fn path(&self) -> &str {
        self.text
            .get(self.cuts[1].saturating_add(1)..self.cuts[2])
            .unwrap_or("")
    }

    /// `sha256:` and the hex digest of the bytes it was frozen from.
    pub fn hash(&self) -> &str {
        self.text
            .get(self.cuts[2].saturating_add(1)..self.cuts[3])
            .unwrap_or("")
    }
}

/// The VM's lifecycle state (a field of [`Vm`]).
#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    /// What an import does with a stale module.
    pub stale: Stale,
    /// The mounted modules' source records.
    pub sources: Vec<FrozenSource>,
    /// Modules named by an image this firmware refused at boot (another firmware id or
    /// format version): name and source path, for `freeze.refreeze()`.
    pub refused: Vec<(String, Option<String>, Option<String>)>,
    /// Set by `freeze.compact()`: the frozen objects moved, the VM must soft-reboot before it
    /// runs on (the console hosts do it after the line).
    pub reboot_requested: bool,
}

/// `sha256:` and the hex digest of `bytes`: the content hash of a source record.
pub fn source_hash(bytes: &[u8]) -> String {
    source_hash_of(sha2::Sha256::new_with_prefix(bytes))
}

/// [`source_hash`] of the bytes `read` gives chunk by chunk (into a 256-byte buffer, until it
/// returns 0): a file hashed without holding it. `None` if `read` fails.
pub fn source_hash_read(mut read: impl FnMut(&mut [u8]) -> Option<usize>) -> Option<String> {
    let mut h = sha2::Sha256::new();
    let mut chunk = [0u8; 256];
    loop {
        let n = read(&mut chunk)?;
        if n == 0 {
            return Some(source_hash_of(h));
        }
        h.update(&chunk[..n.min(chunk.len())]);
    }
}

fn source_hash_of(h: sha2::Sha256) -> String {
    let d = h.finalize();
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl<F: FlashImage> Vm<F> {
    /// After a firmware update refused the image at boot ([`Lifecycle::refused`]): clear the
    /// region and freeze the modules it named again, from their sources. A module whose source
    /// is missing, or differs from the one it was frozen from, is not re-frozen. Returns the
    /// modules re-frozen and one report line per module. `Err` when no freezer is attached or
    /// the clear failed (the list is kept then).
    pub fn refreeze_refused(&mut self) -> Result<(Vec<String>, Vec<String>), String> {
        let refused = core::mem::take(&mut self.lifecycle.refused);
        if refused.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let Some(mut fz) = self.freezer.take() else {
            self.lifecycle.refused = refused;
            return Err(String::from("no flash image attached"));
        };
        let cleared = fz.clear(self);
        self.freezer = Some(fz);
        if let Err(e) = cleared {
            self.lifecycle.refused = refused;
            return Err(e);
        }
        let (mut done, mut lines) = (Vec::new(), Vec::new());
        for (name, _path, hash) in refused {
            let line = match (self.module_source_hash(&name), hash) {
                (None, _) => format!("{name}: not re-frozen (source missing)"),
                (Some((path, now)), Some(h)) if now != h => {
                    format!("{name}: not re-frozen ({path} changed since it was frozen)")
                }
                (Some(_), _) => match self.import_dotted(&name) {
                    Err(_) => {
                        let e = self.take_exc();
                        let t = self.exc_text(e);
                        format!("{name}: not re-frozen (import failed: {t})")
                    }
                    Ok(_) => {
                        let Some(mut fz) = self.freezer.take() else {
                            break;
                        };
                        let r = fz.freeze_tree(self, &name);
                        self.freezer = Some(fz);
                        match r {
                            Ok(crate::vm::Batch::Frozen(stats)) => {
                                done.push(name.clone());
                                format!("{name}: re-frozen ({stats})")
                            }
                            Ok(crate::vm::Batch::Waits(path)) => {
                                format!("{name}: not re-frozen (it reaches running code: {path})")
                            }
                            Ok(crate::vm::Batch::Nothing) => {
                                format!("{name}: not re-frozen (nothing of it in the heap)")
                            }
                            Err(e) => format!("{name}: not re-frozen ({})", e.msg),
                        }
                    }
                },
            };
            lines.push(line);
        }
        Ok((done, lines))
    }

    /// Module `name`'s source as an import would find it now: (path, bytes).
    pub fn module_source(&self, name: &str) -> Option<(String, Vec<u8>)> {
        let dirs = self.sys_path_dirs();
        for s in &self.sources {
            if let Some((bytes, _)) = s.find_on(name, &dirs) {
                let path = s.path_on(name, &dirs).unwrap_or_else(|| String::from(name));
                return Some((path, bytes));
            }
        }
        None
    }

    /// Module `name`'s source as an import would find it now: (path, [`source_hash`]), by
    /// [`crate::vm::ModuleSource::hash_on`] (a bundled module's hash is the build's, not
    /// recomputed).
    pub fn module_source_hash(&self, name: &str) -> Option<(String, String)> {
        let dirs = self.sys_path_dirs();
        self.sources.iter().find_map(|s| s.hash_on(name, &dirs))
    }

    /// Whether frozen module `name` is stale: its source exists and differs from what was
    /// frozen. `None` when no source record names it.
    pub fn frozen_is_stale(&self, name: &str) -> Option<bool> {
        let rec = self.lifecycle.sources.iter().find(|s| s.name() == name)?;
        Some(
            self.module_source_hash(name)
                .is_some_and(|(_, h)| h != rec.hash()),
        )
    }

    /// Called by the importer when `sys.modules` has `m` for `name`: on the first import of a
    /// frozen module this boot, check its source. Returns whether to import it from source
    /// instead ([`Stale::Reload`] on a stale module).
    pub(crate) fn stale_check(&mut self, name: &str, m: Value) -> R<bool> {
        if region_of(m.0) != Some(Region::Image) {
            return Ok(false);
        }
        let Some(i) = self
            .lifecycle
            .sources
            .iter()
            .position(|s| s.name() == name && !s.checked)
        else {
            return Ok(false);
        };
        self.lifecycle.sources[i].checked = true;
        // 'use' takes the frozen copy whatever the source says: no search, no hash.
        if self.lifecycle.stale == Stale::Use || self.frozen_is_stale(name) != Some(true) {
            return Ok(false);
        }
        match self.lifecycle.stale {
            Stale::Use => Ok(false),
            Stale::Warn => {
                let path = String::from(self.lifecycle.sources[i].path());
                let line = format!(
                    "warning: frozen module '{name}' is stale ({path} changed since it was frozen); using the frozen copy (freeze.import_modules('{name}') re-freezes it)\n"
                );
                self.out.push_str(&line);
                Ok(false)
            }
            Stale::Reload => Ok(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounted_records_keep_their_parts_at_every_alignment() {
        // One buffer, the records at each offset mod 4, as they lie in a roots table.
        let image = "\0\0\0a\0/lib/a.mpy\0sha256:00\0pkg.b\0/b.py\0h\0c\0\0\0d\0p\0";
        let records: Vec<(&str, usize, usize)> =
            [(3, 1, 10, 9), (26, 5, 5, 1), (40, 1, 0, 0), (44, 1, 1, 0)]
                .iter()
                .map(|&(at, name, path, hash)| {
                    (&image[at..at + name + path + hash + 2], name, path)
                })
                .collect();
        let list = FrozenSource::mounted(records.iter().copied());
        let parts: Vec<_> = list
            .iter()
            .map(|s| (s.name(), s.path(), s.hash(), s.checked))
            .collect();
        assert_eq!(
            parts,
            [
                ("a", "/lib/a.mpy", "sha256:00", false),
                ("pkg.b", "/b.py", "h", false),
                ("c", "", "", false),
                ("d", "p", "", false),
            ]
        );
        // One text for all, each record at its own alignment in it.
        assert!(list.iter().all(|s| Rc::ptr_eq(&s.text, &list[0].text)));
        for (s, (r, _, _)) in list.iter().zip(&records) {
            assert_eq!(
                s.text.as_ptr().wrapping_add(s.cuts[0]) as usize % 4,
                r.as_ptr() as usize % 4
            );
        }
        // Lengths that do not fit the record give empty parts, no panic.
        let odd = FrozenSource::mounted([("ab", 5, 9)].into_iter());
        assert_eq!((odd[0].name(), odd[0].path(), odd[0].hash()), ("", "", ""));
        // A record made at a freeze reads the same as a mounted one.
        let new = FrozenSource::new("pkg.b", "/b.py", "h", true);
        assert_eq!(
            (new.name(), new.path(), new.hash(), new.checked),
            ("pkg.b", "/b.py", "h", true)
        );
    }
}
