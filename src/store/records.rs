//! Lifecycle records (format version 3): where each frozen module came from, which modules
//! were removed, and how a chain of batches resolves into the set of live modules.
//!
//! The records are roots-table entries of two kinds (see `docs/image-format.md`, "Lifecycle
//! records"), appended and committed with their batch like every root:
//!
//! ```text
//! kind 5 SOURCE   name = module NUL path NUL hash     address = the module's object
//! kind 4 REMOVED  name = module                       address = the removed module's object
//! ```
//!
//! Resolution walks the batches in chain order: a later `MODULE` root of the same name
//! supersedes an earlier one, a `REMOVED` record drops the module, a `SOURCE` record gives the
//! provenance of the module root it points at. [`resolve`] does it for validated roots,
//! [`refused_modules`] for the roots tables of a chain this firmware refuses (another
//! firmware id): the names and source paths stay readable so the modules can be re-frozen.

use alloc::string::String;
use alloc::vec::Vec;

use zerocopy::FromBytes;

use crate::image::ImageRoot;
use crate::image::format::{
    BATCH_MAGIC, BatchHeader, COMMIT_LEN, CommitRecord, ROOT_ENTRY_LEN, RootEntry,
};
use crate::plan::RootKind;

/// The separator inside a source record's name (it occurs in no module name or path).
const SEP: char = '\0';

/// The name of a source record: `module NUL path NUL hash`. `None` when a part holds a NUL.
pub fn source_name(module: &str, path: &str, hash: &str) -> Option<String> {
    if [module, path, hash].iter().any(|s| s.contains(SEP)) {
        return None;
    }
    let mut s = String::with_capacity(module.len() + path.len() + hash.len() + 2);
    s.push_str(module);
    s.push(SEP);
    s.push_str(path);
    s.push(SEP);
    s.push_str(hash);
    Some(s)
}

/// A source record's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Source {
    /// The source path the module was loaded from.
    pub path: String,
    /// The VM's content hash of what it loaded (minivm: `sha256:` and 64 hex digits).
    pub hash: String,
}

/// Splits a source record's name into (module, path, hash).
pub fn parse_source(name: &str) -> Option<(&str, &str, &str)> {
    // A byte loop over the module and path only (the hash, the longest part, is not searched):
    // `str::splitn`'s char searcher costs several times more per record on a Cortex-M0+, and
    // splitting at an ASCII NUL always falls on a char boundary.
    let m = first_nul(name.as_bytes())?;
    let (module, rest) = (name.get(..m)?, name.get(m + 1..)?);
    let p = first_nul(rest.as_bytes())?;
    Some((module, rest.get(..p)?, rest.get(p + 1..)?))
}

/// The (path, hash) of source record `record` if its module part is `module`: what
/// `parse_source(record)` gives when its module is `module`, in one pass over the module part.
fn source_of<'r>(record: &'r str, module: &str) -> Option<(&'r str, &'r str)> {
    let (b, m) = (record.as_bytes(), module.as_bytes());
    if b.get(m.len()) != Some(&(SEP as u8)) {
        return None;
    }
    // `module` itself, with no NUL in it (the module part ends at the first). Index loops here:
    // the iterator adapters cost about twice as much per byte on a Cortex-M0+.
    let mut i = 0;
    while i < m.len() {
        if b[i] != m[i] || b[i] == SEP as u8 {
            return None;
        }
        i += 1;
    }
    let rest = record.get(m.len() + 1..)?;
    let p = first_nul(rest.as_bytes())?;
    Some((rest.get(..p)?, rest.get(p + 1..)?))
}

/// Where the first NUL of `bytes` is.
fn first_nul(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == SEP as u8 {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// One live frozen module after resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrozenModule {
    /// Its name (as in `sys.modules`).
    pub name: String,
    /// The batch whose root is live (the latest that froze it).
    pub batch: u32,
    /// Address of its module object.
    pub address: u64,
    /// Where it was frozen from, if the VM said (a source record for this address).
    pub source: Option<Source>,
}

/// What a chain resolves to: the live modules, and the other live roots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolution {
    /// The live modules, in the order they were first frozen.
    pub modules: Vec<FrozenModule>,
    /// The live roots of other kinds (`QSTR_POOL`, `OTHER`, the VM's own): the last of each
    /// kind and name, with its batch.
    pub others: Vec<(RootKind, String, u64, u32)>,
    /// Module roots superseded by a later batch or removed (name, batch): what compaction
    /// drops.
    pub dead: Vec<(String, u32)>,
}

impl Resolution {
    /// The live module `name`.
    pub fn module(&self, name: &str) -> Option<&FrozenModule> {
        self.modules.iter().find(|m| m.name == name)
    }
}

/// One live frozen module after resolution, borrowed from the roots it was resolved from
/// (for [`Mounted`](crate::mount::Mounted), the mapped roots tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveModule<'a> {
    /// Its name (as in `sys.modules`).
    pub name: &'a str,
    /// The batch whose root is live (the latest that froze it).
    pub batch: u32,
    /// Address of its module object.
    pub address: u64,
    /// Where it was frozen from, if the VM said: (path, hash) of the source record for this
    /// address.
    pub source: Option<(&'a str, &'a str)>,
    /// That source record's whole name, `module NUL path NUL hash` ([`source_name`]): for a
    /// VM that keeps the three parts, one copy instead of three.
    pub source_record: Option<&'a str>,
}

/// What a chain resolves to, borrowed: the [`Resolution`] without a copy of any name (one
/// `Vec` per list, nothing allocated per root). [`LiveRoots::to_owned`] copies it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveRoots<'a> {
    /// The live modules, in the order of their live roots.
    pub modules: Vec<LiveModule<'a>>,
    /// The live roots of other kinds: the last of each kind and name, with its batch.
    pub others: Vec<(RootKind, &'a str, u64, u32)>,
    /// Module roots superseded by a later batch or removed (name, batch).
    pub dead: Vec<(&'a str, u32)>,
}

impl<'a> LiveRoots<'a> {
    /// The live module `name`.
    pub fn module(&self, name: &str) -> Option<&LiveModule<'a>> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// The address of the last live root of `kind` (not a module) named `name`.
    pub fn other(&self, kind: RootKind, name: &str) -> Option<u64> {
        self.others
            .iter()
            .rev()
            .find(|(k, n, _, _)| *k == kind && *n == name)
            .map(|&(_, _, a, _)| a)
    }

    /// The owned [`Resolution`] (every name, path and hash copied).
    pub fn to_owned(&self) -> Resolution {
        Resolution {
            modules: self
                .modules
                .iter()
                .map(|m| FrozenModule {
                    name: String::from(m.name),
                    batch: m.batch,
                    address: m.address,
                    source: m.source.map(|(path, hash)| Source {
                        path: String::from(path),
                        hash: String::from(hash),
                    }),
                })
                .collect(),
            others: self
                .others
                .iter()
                .map(|&(k, n, a, b)| (k, String::from(n), a, b))
                .collect(),
            dead: self
                .dead
                .iter()
                .map(|&(n, b)| (String::from(n), b))
                .collect(),
        }
    }
}

/// Resolve `(batch index, root)` pairs, in chain order, into an owned [`Resolution`]
/// ([`resolve_live`], then its names copied).
pub fn resolve<'a>(roots: impl IntoIterator<Item = (u32, ImageRoot<'a>)>) -> Resolution {
    resolve_live(roots).to_owned()
}

/// Resolve `(batch index, root)` pairs, in chain order, borrowing the roots' names: a later
/// `MODULE` root of a name supersedes an earlier one, a `REMOVED` record drops it, a `SOURCE`
/// record gives the provenance of the module root it points at (the last such record for
/// that name and address).
///
/// Nothing is allocated per root: the lists grow as `Vec`s (reserved from the iterator's
/// lower size bound), and source records are matched in place.
pub fn resolve_live<'a>(roots: impl IntoIterator<Item = (u32, ImageRoot<'a>)>) -> LiveRoots<'a> {
    let roots = roots.into_iter();
    let hint = roots.size_hint().0;
    resolve_reserved(roots, hint, hint, 0)
}

/// [`resolve_live`] with its lists reserved for `module_roots` modules and `source_roots` source
/// records (the chain's counts of those kinds: neither list can grow past them).
pub(crate) fn resolve_reserved<'a>(
    roots: impl IntoIterator<Item = (u32, ImageRoot<'a>)>,
    module_roots: usize,
    source_roots: usize,
    other_roots: usize,
) -> LiveRoots<'a> {
    let mut modules: Vec<LiveModule<'a>> = Vec::with_capacity(module_roots);
    let mut others: Vec<(RootKind, &'a str, u64, u32)> = Vec::with_capacity(other_roots);
    let mut dead: Vec<(&'a str, u32)> = Vec::new();
    // (address, name) of every source record, parsed only when its address is a live module's.
    let mut sources: Vec<(u64, &'a str)> = Vec::with_capacity(source_roots);
    // Each live module's `name_key`, in step with `modules`: most names are told apart by it
    // alone (a scan of words, not of the names).
    let mut keys: Vec<u32> = Vec::with_capacity(module_roots);
    for (batch, root) in roots {
        match root.kind {
            RootKind::MODULE | RootKind::REMOVED => {
                let key = name_key(root.name);
                // An index loop: the iterator adapters cost several times as much per key on
                // a Cortex-M0+ (opt-level `s`).
                let mut found = None;
                let mut i = 0;
                while i < keys.len() {
                    if keys[i] == key
                        && modules.get(i).is_some_and(|m| same_name(m.name, root.name))
                    {
                        found = Some(i);
                        break;
                    }
                    i += 1;
                }
                if let Some(i) = found {
                    let old = modules.remove(i);
                    keys.remove(i);
                    dead.push((old.name, old.batch));
                }
                if root.kind == RootKind::MODULE {
                    keys.push(key);
                    modules.push(LiveModule {
                        name: root.name,
                        batch,
                        address: root.address,
                        source: None,
                        source_record: None,
                    });
                }
            }
            RootKind::SOURCE => sources.push((root.address, root.name)),
            kind => {
                // At most one of each kind and name is kept: the last, at the end of the list
                // (in place when it is there already: each batch's pool root replaces the one
                // before).
                let entry = (kind, root.name, root.address, batch);
                match others
                    .iter()
                    .position(|(k, n, _, _)| *k == kind && same_name(n, root.name))
                {
                    Some(i) if i + 1 == others.len() => others[i] = entry,
                    Some(i) => {
                        others.remove(i);
                        others.push(entry);
                    }
                    None => others.push(entry),
                }
            }
        }
    }
    // Each module's source: the last record (in chain order) of its address and name that
    // parses. The usual chain has its live modules and its records in ascending address order
    // (a batch's objects follow the earlier batches'): then one merge-like pass finds each
    // module's records; otherwise every record is searched for each module.
    let ascending = modules.windows(2).all(|w| w[0].address < w[1].address)
        && sources.windows(2).all(|w| w[0].0 <= w[1].0);
    let mut from = 0;
    for m in &mut modules {
        let of_address = if ascending {
            // Linear steps: the pass moves through the records once.
            let address = |i: usize| sources.get(i).map(|&(a, _)| a);
            let mut start = from;
            while address(start).is_some_and(|a| a < m.address) {
                start += 1;
            }
            let mut end = start;
            while address(end) == Some(m.address) {
                end += 1;
            }
            from = end;
            sources.get(start..end).unwrap_or(&[])
        } else {
            &sources[..]
        };
        // The address first: one compare rejects the other modules' records.
        let found = of_address
            .iter()
            .rev()
            .filter(|&&(a, _)| a == m.address)
            .find_map(|&(_, record)| {
                let (path, hash) = source_of(record, m.name)?;
                Some((record, path, hash))
            });
        if let Some((record, path, hash)) = found {
            m.source = Some((path, hash));
            m.source_record = Some(record);
        }
    }
    LiveRoots {
        modules,
        others,
        dead,
    }
}

/// A word of `name`: its length, last byte and middle byte (equal names have equal keys).
fn name_key(name: &str) -> u32 {
    let b = name.as_bytes();
    let at = |i: usize| u32::from(b.get(i).copied().unwrap_or(0));
    (b.len() as u32 & 0xFFFF) | at(b.len().wrapping_sub(1)) << 16 | at(b.len() / 2) << 24
}

/// `a == b`, compared from the end: the names a chain holds often share a prefix (a package's
/// modules), rarely an end.
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().rev().zip(b.bytes().rev()).all(|(x, y)| x == y)
}

/// The modules a chain names, read from its roots tables without validating its objects: for
/// a chain this firmware refuses (another firmware id, or format version 2).
///
/// Each batch's header (magic, CRC, offset in the region, place in the chain) and commit
/// record must be intact; the walk stops at the first that is not. Roots whose entry or name
/// lies outside the table, or whose name is not UTF-8, are skipped. Nothing here is trusted
/// as a pointer: the addresses are only for [`Resolution`]'s bookkeeping.
pub fn refused_modules(region: &[u8]) -> Resolution {
    let mut roots: Vec<(u32, RootKind, String, u64)> = Vec::new();
    let mut offset = 0usize;
    let mut prev = 0u32;
    let mut index = 0u32;
    while let Some(bytes) = region.get(offset..) {
        let Ok((h, _)) = BatchHeader::read_from_prefix(bytes) else {
            break;
        };
        let version = h.version.get();
        let ok = h.magic == BATCH_MAGIC
            && (2..=4).contains(&version)
            && h.compute_crc() == h.header_crc.get()
            && h.batch_offset.get() as usize == offset
            && h.batch_index.get() == index
            && h.prev_header_crc.get() == prev
            && h.span.get() > 0;
        if !ok {
            break;
        }
        let span = h.span.get() as usize;
        let Some(batch) = bytes.get(..span) else {
            break;
        };
        let c = h.commit_offset.get() as usize;
        let committed = batch
            .get(c..c.saturating_add(COMMIT_LEN))
            .and_then(|b| CommitRecord::read_from_bytes(b).ok())
            .is_some_and(|rec| rec.commits(&h));
        if !committed {
            break;
        }
        let t = h.roots_table;
        let (to, tl) = (t.offset.get() as usize, t.len.get() as usize);
        let table = batch.get(to..to.saturating_add(tl)).unwrap_or(&[]);
        for i in 0..h.roots.get() as usize {
            let Some(raw) = table.get(i * ROOT_ENTRY_LEN..(i + 1) * ROOT_ENTRY_LEN) else {
                break;
            };
            let Ok(e) = RootEntry::read_from_bytes(raw) else {
                break;
            };
            let (no, nl) = (e.name_offset.get() as usize, usize::from(e.name_len.get()));
            let Some(name) = table
                .get(no..no.saturating_add(nl))
                .and_then(|b| core::str::from_utf8(b).ok())
            else {
                continue;
            };
            roots.push((
                index,
                RootKind(e.kind.get()),
                String::from(name),
                e.address.get(),
            ));
        }
        prev = h.header_crc.get();
        index += 1;
        offset += span;
    }
    resolve(roots.iter().map(|(b, kind, name, address)| {
        (
            *b,
            ImageRoot {
                kind: *kind,
                name,
                address: *address,
            },
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(kind: RootKind, name: &str, address: u64) -> ImageRoot<'_> {
        ImageRoot {
            kind,
            name,
            address,
        }
    }

    #[test]
    fn later_batches_supersede_and_remove() {
        let sa = source_name("a", "/lib/a.mpy", "h1").unwrap();
        let sa2 = source_name("a", "/lib/a.mpy", "h2").unwrap();
        let r = resolve([
            (0, root(RootKind::MODULE, "a", 0x100)),
            (0, root(RootKind::SOURCE, &sa, 0x100)),
            (1, root(RootKind::MODULE, "b", 0x200)),
            (1, root(RootKind::QSTR_POOL, "qstrs", 0x210)),
            (2, root(RootKind::MODULE, "a", 0x300)),
            (2, root(RootKind::SOURCE, &sa2, 0x300)),
            (2, root(RootKind::QSTR_POOL, "qstrs", 0x310)),
            (3, root(RootKind::REMOVED, "b", 0x200)),
        ]);
        assert_eq!(r.modules.len(), 1);
        let a = r.module("a").unwrap();
        assert_eq!((a.batch, a.address), (2, 0x300));
        assert_eq!(a.source.as_ref().unwrap().hash, "h2");
        assert!(r.module("b").is_none());
        assert_eq!(r.others, [(RootKind::QSTR_POOL, "qstrs".into(), 0x310, 2)]);
        assert_eq!(r.dead, [("a".into(), 0), ("b".into(), 1)]);
    }

    #[test]
    fn live_roots_borrow_and_match_the_owned_resolution() {
        let sa = source_name("a", "/lib/a.mpy", "h1").unwrap();
        let sb = source_name("b", "/lib/b.mpy", "hb").unwrap();
        let roots = [
            (0, root(RootKind::MODULE, "a", 0x100)),
            (0, root(RootKind::SOURCE, &sa, 0x100)),
            (1, root(RootKind::MODULE, "b", 0x200)),
            // A source record for another address of `b` gives it no source.
            (1, root(RootKind::SOURCE, &sb, 0x999)),
            (1, root(RootKind::QSTR_POOL, "qstrs", 0x210)),
            (2, root(RootKind::QSTR_POOL, "qstrs", 0x310)),
            (2, root(RootKind::MODULE, "a", 0x300)),
        ];
        let live = resolve_live(roots);
        let names: Vec<_> = live.modules.iter().map(|m| (m.name, m.batch)).collect();
        assert_eq!(names, [("b", 1), ("a", 2)]);
        // The superseding root of `a` has no source record of its own.
        assert_eq!(live.module("a").unwrap().source, None);
        assert_eq!(live.module("b").unwrap().source, None);
        assert_eq!(live.other(RootKind::QSTR_POOL, "qstrs"), Some(0x310));
        assert_eq!(live.other(RootKind::OTHER, "qstrs"), None);
        assert_eq!(live.dead, [("a", 0)]);
        assert_eq!(live.to_owned(), resolve(roots));
        // A name with a separator in it is never another record's module part.
        let odd = source_name("x", "y", "h").unwrap();
        let nul = resolve_live([
            (0, root(RootKind::MODULE, "x\0y", 0x400)),
            (0, root(RootKind::SOURCE, &odd, 0x400)),
        ]);
        assert_eq!(nul.modules[0].source, None);
        let first = resolve_live(roots.into_iter().take(2));
        let a = first.module("a").unwrap();
        assert_eq!(a.source, Some(("/lib/a.mpy", "h1")));
        // The whole record, which the two parts are cut from.
        assert_eq!(a.source_record, Some(sa.as_str()));
        assert_eq!(live.module("b").unwrap().source_record, None);
    }

    /// The resolution as first written (a search of every record per module, `retain` for the
    /// other kinds): what the faster one must give, on chains in and out of address order.
    fn reference<'a>(roots: &[(u32, ImageRoot<'a>)]) -> LiveRoots<'a> {
        let mut live = LiveRoots::default();
        let mut sources = Vec::new();
        for &(batch, r) in roots {
            match r.kind {
                RootKind::MODULE | RootKind::REMOVED => {
                    if let Some(i) = live.modules.iter().position(|m| m.name == r.name) {
                        let old = live.modules.remove(i);
                        live.dead.push((old.name, old.batch));
                    }
                    if r.kind == RootKind::MODULE {
                        live.modules.push(LiveModule {
                            name: r.name,
                            batch,
                            address: r.address,
                            source: None,
                            source_record: None,
                        });
                    }
                }
                RootKind::SOURCE => {
                    if let Some((m, p, h)) = parse_source(r.name) {
                        sources.push((m, r.address, p, h, r.name));
                    }
                }
                kind => {
                    live.others
                        .retain(|(k, n, _, _)| !(*k == kind && *n == r.name));
                    live.others.push((kind, r.name, r.address, batch));
                }
            }
        }
        for m in &mut live.modules {
            if let Some(&(_, _, p, h, rec)) = sources
                .iter()
                .rev()
                .find(|(n, a, ..)| *a == m.address && *n == m.name)
            {
                m.source = Some((p, h));
                m.source_record = Some(rec);
            }
        }
        live
    }

    #[test]
    fn the_resolution_matches_its_reference_in_and_out_of_address_order() {
        let names = ["a", "b", "pkg.a", "pkg.b", "x\0y"];
        let records: Vec<String> = ["a", "b", "pkg.a", "pkg.b", "x"]
            .iter()
            .flat_map(|m| ["/p1", "/p2"].map(|p| source_name(m, p, "h").unwrap()))
            .chain(["a\0only-one-separator".into(), "x\0y\0h".into()])
            .collect();
        let mut x = 0x9e37_79b9u32;
        let mut next = |n: u32| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % n
        };
        let mut matched = [0; 2];
        for round in 0..400 {
            let mut roots = Vec::new();
            let mut address = 0x1000u64;
            let (mut last, mut last_address) = (0, address);
            for batch in 0..1 + next(6) {
                for _ in 0..1 + next(5) {
                    // Mostly ascending addresses, as a chain has them; every fourth round not.
                    address = if round % 4 == 0 {
                        0x1000 + u64::from(next(8)) * 0x10
                    } else {
                        address + u64::from(next(3)) * 0x10
                    };
                    let r = match next(8) {
                        0..=2 => {
                            last = next(5) as usize;
                            root(RootKind::MODULE, names[last], address)
                        }
                        // Mostly the record of the module just frozen, at its address.
                        3..=4 => {
                            let rec = &records[2 * last + next(2) as usize];
                            root(RootKind::SOURCE, rec, last_address)
                        }
                        5 => root(RootKind::SOURCE, &records[next(12) as usize], address),
                        6 => root(RootKind::REMOVED, names[next(5) as usize], address),
                        _ => root(RootKind::QSTR_POOL, "qstrs", address),
                    };
                    if r.kind == RootKind::MODULE {
                        last_address = address;
                    }
                    roots.push((batch, r));
                }
            }
            let live = resolve_live(roots.iter().copied());
            assert_eq!(live, reference(&roots), "{roots:?}");
            let found = live.modules.iter().filter(|m| m.source.is_some()).count();
            matched[usize::from(round % 4 == 0)] += found;
        }
        // Both paths found sources (not only the "none" answer).
        assert!(matched[0] > 50 && matched[1] > 50, "{matched:?}");
    }

    #[test]
    fn source_names_round_trip_and_refuse_nul() {
        let n = source_name("pkg.m", "/lib/pkg/m.py", "sha256:00").unwrap();
        assert_eq!(
            parse_source(&n),
            Some(("pkg.m", "/lib/pkg/m.py", "sha256:00"))
        );
        assert_eq!(source_name("a\0", "p", "h"), None);
        assert_eq!(parse_source("no-separator"), None);
        // The byte loop (`first_nul`) finds the first NUL wherever it lies.
        for len in 0..12 {
            for at in 0..=len {
                let mut b = alloc::vec![b'x'; len];
                if at < len {
                    b[at] = 0;
                    if at + 2 < len {
                        b[at + 2] = 0;
                    }
                }
                let want = (at < len).then_some(at);
                assert_eq!(first_nul(&b), want, "{len} {at}");
            }
        }
        assert_eq!(first_nul(&[0x80, 0x81, 0x01, 0xff, 0x7f, 0]), Some(5));
        // The module-aware split agrees with the plain one.
        for record in [
            "a\0p\0h",
            "a\0p",
            "ab\0p\0h\0",
            "a\0\0",
            "\0p\0h",
            "a",
            "x\0y\0h",
        ] {
            for module in ["a", "ab", "", "x", "x\0y", "a\0p"] {
                let want = parse_source(record)
                    .filter(|&(m, _, _)| m == module)
                    .map(|(_, p, h)| (p, h));
                assert_eq!(source_of(record, module), want, "{record:?} {module:?}");
            }
        }
    }
}
