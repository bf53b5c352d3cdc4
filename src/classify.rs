//! Classify: decide where each reached heap object goes, and say why.
//!
//! | the VM says            | placement                                   |
//! |------------------------|---------------------------------------------|
//! | `Space::Static/Frozen` | kept: never reached by the traversal          |
//! | `Mutability::Immutable`| the flash section                            |
//! | `Mutability::Mutable`  | the frozen RAM section (path recorded)       |
//! | `Unfreezable(reason)`  | the whole plan fails with the path and reason|
//!
//! Paths are steps (object + slot index) rendered only when shown, through the VM's
//! [`ObjectModel::edge_label`]. The paths of RAM objects are kept as one prefix tree
//! ([`PathTree`]): a step shared by many paths is stored once, so a chain of n mutable objects
//! costs n nodes of 12 bytes (with 32-bit references), not n²/2 steps.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::error::FreezeError;
use crate::model::{Mutability, ObjectModel, Placement};
use crate::traverse::Step;

/// The path from a root to one object, kept for objects that stay in RAM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path<R> {
    /// Index of the root in the plan's roots.
    pub root: usize,
    /// The steps from the root (first) to the object (last).
    pub steps: Vec<Step<R>>,
}

impl<R: Copy> Path<R> {
    /// The object this path leads to.
    pub fn target(&self) -> Option<R> {
        self.steps.last().map(|s| s.obj)
    }
}

/// Render `root_name` followed by the VM's edge labels along `steps`.
pub fn render_path<M: ObjectModel + ?Sized>(
    vm: &M,
    root_name: &str,
    steps: &[Step<M::Ref>],
) -> String {
    let mut out = String::from(root_name);
    for pair in steps.windows(2) {
        // A label that fails to format is shown as the slot index instead.
        let mark = out.len();
        if vm.edge_label(pair[0].obj, pair[1].slot, &mut out).is_err() {
            out.truncate(mark);
            let _ = write!(out, "[{}]", pair[1].slot);
        }
    }
    out
}

/// Longest path a [`FreezeError::Unfreezable`] carries, in bytes. A longer path keeps its
/// first and last [`ERROR_PATH_END`] bytes (at character boundaries) and says how many steps
/// the whole path has: `mod.a.next.next…[1000000 steps]….next.next[0]`. A deep graph's error
/// stays small, and is rendered in time and memory independent of its depth.
pub const ERROR_PATH_MAX: usize = 256;
/// Bytes kept at each end of a path longer than [`ERROR_PATH_MAX`].
pub const ERROR_PATH_END: usize = 112;

/// A `fmt::Write` into a `String` that drops what would take it past `cap` bytes.
struct Capped<'s> {
    s: &'s mut String,
    cap: usize,
}

impl Write for Capped<'_> {
    fn write_str(&mut self, x: &str) -> core::fmt::Result {
        let mut n = self.cap.saturating_sub(self.s.len()).min(x.len());
        while !x.is_char_boundary(n) {
            n -= 1;
        }
        self.s.push_str(&x[..n]);
        Ok(())
    }
}

/// Write the label of edge `i` (from `steps[i]` to `steps[i + 1]`) into `out`, at most `cap`
/// bytes in all.
fn label<M: ObjectModel + ?Sized>(
    vm: &M,
    steps: &[Step<M::Ref>],
    i: usize,
    out: &mut String,
    cap: usize,
) {
    let (Some(parent), Some(child)) = (steps.get(i), steps.get(i + 1)) else {
        return;
    };
    let mark = out.len();
    if vm
        .edge_label(parent.obj, child.slot, &mut Capped { s: out, cap })
        .is_err()
    {
        out.truncate(mark);
        let _ = write!(Capped { s: out, cap }, "[{}]", child.slot);
    }
}

/// [`render_path`] bounded to [`ERROR_PATH_MAX`] bytes, for error messages.
pub fn render_error_path<M: ObjectModel + ?Sized>(
    vm: &M,
    root_name: &str,
    steps: &[Step<M::Ref>],
) -> String {
    let edges = steps.len().saturating_sub(1);
    let over = ERROR_PATH_MAX + 1;
    let mut head = String::new();
    let _ = Capped {
        s: &mut head,
        cap: over,
    }
    .write_str(root_name);
    let mut i = 0;
    while i < edges && head.len() <= ERROR_PATH_MAX {
        label(vm, steps, i, &mut head, over);
        i += 1;
    }
    if i == edges && head.len() <= ERROR_PATH_MAX {
        return head;
    }
    let mut cut = ERROR_PATH_END.min(head.len());
    while !head.is_char_boundary(cut) {
        cut -= 1;
    }
    head.truncate(cut);
    // The tail, rendered backwards one label at a time until it is long enough.
    let mut tail = String::new();
    let mut j = edges;
    while j > 0 && tail.len() < ERROR_PATH_END {
        j -= 1;
        let mut l = String::new();
        label(vm, steps, j, &mut l, ERROR_PATH_END);
        l.push_str(&tail);
        tail = l;
    }
    let mut from = tail.len().saturating_sub(ERROR_PATH_END);
    while !tail.is_char_boundary(from) {
        from += 1;
    }
    let _ = write!(head, "…[{edges} steps]…{}", &tail[from..]);
    head
}

/// Per-kind counts of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KindStats {
    /// The VM's kind name.
    pub kind: &'static str,
    /// Where these objects go.
    pub placement: Placement,
    /// How many objects.
    pub count: u32,
    /// Their frozen bytes, padding excluded.
    pub bytes: u64,
    /// Objects of this kind frozen as an equal object's copy (dedup), not in `count`.
    pub merged: u32,
    /// Their frozen bytes: the flash the merges saved.
    pub merged_bytes: u64,
}

impl KindStats {
    /// Count one object of `bytes` frozen bytes, `merged` when it is frozen as an equal
    /// object's copy.
    fn count_one(&mut self, bytes: u32, merged: bool) {
        let bytes = u64::from(bytes);
        if merged {
            self.merged += 1;
            self.merged_bytes += bytes;
        } else {
            self.count += 1;
            self.bytes += bytes;
        }
    }
}

/// An append-only list in fixed chunks: growing it never copies or doubles, so it holds at most
/// one partly filled chunk more than it needs (a `Vec` can hold twice its length, and three
/// times while it reallocates — on a nearly full heap that is the difference that matters).
#[derive(Debug)]
pub struct ChunkList<R> {
    chunks: Vec<Vec<R>>,
    len: usize,
}

/// A position in a [`ChunkList`], from its start ([`ChunkList::next_at`]).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ChunkCursor {
    chunk: usize,
    at: usize,
}

impl<R: Copy> ChunkList<R> {
    /// Entries of the largest chunks: 2 KiB of 32-bit references.
    pub const CHUNK: usize = 512;
    /// Entries of the first chunk; each next chunk doubles until `CHUNK`.
    const FIRST: usize = 16;
    /// Entries held by the growing chunks (16 + 32 + … + 256).
    const RAMP: usize = Self::CHUNK - Self::FIRST;
    /// Number of growing chunks.
    const RAMP_CHUNKS: usize = (Self::CHUNK / Self::FIRST).ilog2() as usize;

    /// An empty list.
    pub const fn new() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }

    fn chunk_cap(k: usize) -> usize {
        Self::FIRST << k.min(Self::RAMP_CHUNKS)
    }

    /// Append `item`.
    pub fn push(&mut self, item: R) {
        let k = self.chunks.len();
        match self.chunks.last_mut() {
            Some(last) if last.len() < Self::chunk_cap(k - 1) => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(Self::chunk_cap(k));
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    /// Give back the last chunk's unused room (the list is complete; a later push still
    /// works, growing that chunk again).
    pub(crate) fn shrink_last(&mut self) {
        if let Some(last) = self.chunks.last_mut() {
            last.shrink_to_fit();
        }
        self.chunks.shrink_to_fit();
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    #[cfg_attr(not(feature = "unstable"), allow(dead_code))]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `index`-th entry.
    pub fn get(&self, index: usize) -> Option<R> {
        let (k, at) = if index < Self::RAMP {
            // Chunk k starts at FIRST * (2^k - 1): k is ilog2(q), counted by comparisons (a
            // Cortex-M0+ has no count-leading-zeros instruction and calls a routine for it).
            let q = index / Self::FIRST + 1;
            let mut k = 0;
            while k + 1 < Self::RAMP_CHUNKS && q >> (k + 1) != 0 {
                k += 1;
            }
            (k, index - Self::FIRST * ((1 << k) - 1))
        } else {
            let rest = index - Self::RAMP;
            (Self::RAMP_CHUNKS + rest / Self::CHUNK, rest % Self::CHUNK)
        };
        self.chunks.get(k)?.get(at).copied()
    }

    /// The entry at `cursor`, which then moves to the next one (a walk in order without
    /// [`ChunkList::get`]'s search for the chunk of each index).
    #[inline]
    pub(crate) fn next_at(&self, cursor: &mut ChunkCursor) -> Option<R> {
        loop {
            let chunk = self.chunks.get(cursor.chunk)?;
            if let Some(&r) = chunk.get(cursor.at) {
                cursor.at += 1;
                return Some(r);
            }
            cursor.chunk += 1;
            cursor.at = 0;
        }
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = R> + '_ {
        self.chunks.iter().flatten().copied()
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * core::mem::size_of::<Vec<R>>()
            + self
                .chunks
                .iter()
                .map(|c| c.capacity() * core::mem::size_of::<R>())
                .sum::<usize>()
    }
}

impl<R: Copy> Default for ChunkList<R> {
    fn default() -> Self {
        Self::new()
    }
}

/// The paths of RAM objects as one prefix tree: each node is a step and its parent node, so
/// paths that share ancestors share their nodes (a chain of n mutable objects costs n nodes, not
/// n²/2 steps).
#[derive(Debug)]
pub struct PathTree<R> {
    /// (parent node or `ROOT | root index`, step).
    nodes: ChunkList<(u32, Step<R>)>,
}

impl<R: Copy> PathTree<R> {
    const ROOT: u32 = 1 << 31;

    /// The path ending at `node`.
    pub fn path(&self, mut node: u32) -> Path<R> {
        let mut steps = Vec::new();
        let mut root = 0;
        while let Some((parent, step)) = self.nodes.get(node as usize) {
            steps.push(step);
            if parent & Self::ROOT != 0 {
                root = (parent & !Self::ROOT) as usize;
                break;
            }
            node = parent;
        }
        steps.reverse();
        Path { root, steps }
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.heap_bytes()
    }
}

/// The classifier's running result.
#[derive(Debug)]
pub(crate) struct Classified<R> {
    pub flash: ChunkList<R>,
    pub ram: ChunkList<R>,
    /// Per RAM object, its node in `tree`.
    pub in_ram: ChunkList<u32>,
    pub tree: PathTree<R>,
    /// Node of each level of the current ancestry, when made (a prefix is made).
    levels: Vec<u32>,
    made: usize,
    pub qstrs: u32,
    /// Frozen bytes of the largest object entered.
    pub largest: u32,
}

impl<R: Copy> Classified<R> {
    pub fn new() -> Self {
        Self {
            flash: ChunkList::new(),
            ram: ChunkList::new(),
            in_ram: ChunkList::new(),
            tree: PathTree {
                nodes: ChunkList::new(),
            },
            levels: Vec::new(),
            made: 0,
            qstrs: 0,
            largest: 0,
        }
    }

    /// The traversal is over: the lists' last chunks give back their unused room (up to half
    /// a chunk each) before the image is written.
    pub fn shrink(&mut self) {
        self.flash.shrink_last();
        self.ram.shrink_last();
        self.in_ram.shrink_last();
        self.tree.nodes.shrink_last();
        self.levels = Vec::new();
    }

    /// Bytes of the ancestry's node stack (as deep as the traversal went).
    pub fn levels_bytes(&self) -> usize {
        self.levels.capacity() * core::mem::size_of::<u32>()
    }

    /// Place the object at the end of `path`.
    pub fn enter<M: ObjectModel<Ref = R> + ?Sized>(
        &mut self,
        vm: &M,
        root_index: usize,
        root_name: &str,
        path: &[Step<R>],
    ) -> Result<(), FreezeError> {
        let Some(step) = path.last() else {
            return Ok(());
        };
        let obj = step.obj;
        // The ancestry changed only above `path.len() - 1` since the last call.
        let depth = path.len() - 1;
        self.levels.truncate(depth);
        self.levels.push(u32::MAX);
        self.made = self.made.min(depth);
        let placement = match vm.mutability(obj) {
            Mutability::Immutable => Placement::Flash,
            Mutability::Mutable => Placement::Ram,
            Mutability::Unfreezable(reason) => {
                return Err(FreezeError::Unfreezable {
                    path: render_error_path(vm, root_name, path),
                    kind: vm.kind_name(obj),
                    reason,
                });
            }
        };
        match placement {
            Placement::Flash => self.flash.push(obj),
            Placement::Ram => {
                self.ram.push(obj);
                // Make the nodes of the ancestry levels not made yet, then this object's.
                for (level, step) in path.iter().enumerate().skip(self.made) {
                    let parent = match level {
                        0 => PathTree::<R>::ROOT | root_index as u32,
                        _ => self.levels[level - 1],
                    };
                    self.levels[level] = self.tree.nodes.len() as u32;
                    self.tree.nodes.push((parent, *step));
                }
                self.made = path.len();
                self.in_ram.push(self.levels[path.len() - 1]);
            }
        }
        self.qstrs = self.qstrs.saturating_add(vm.interned_strs(obj));
        self.largest = self.largest.max(vm.frozen_layout(obj).size);
        Ok(())
    }
}

/// The per-kind tally made while the plan assigns addresses (`relocate::assign` sees every
/// placed object once, in section order, with the layout it just asked): held by the plan in a
/// fixed array (no heap, so nothing at the freeze's peak), and turned into
/// [`crate::plan::Stats::kinds`] at the end without asking the VM again. Given up (`None` from
/// [`EarlyTally::into_kinds`]) past [`EarlyTally::MAX`] distinct kinds or when the plan merged
/// objects (their sizes are not assigned): [`KindTally::of`] then counts after the write.
#[derive(Clone, Debug)]
pub(crate) struct EarlyTally {
    entries: [EarlyKind; Self::MAX],
    len: usize,
    complete: bool,
}

/// One (kind, placement) of an [`EarlyTally`].
#[derive(Clone, Copy, Debug)]
struct EarlyKind {
    kind: &'static str,
    placement: Placement,
    count: u32,
    bytes: u32,
}

impl Default for EarlyTally {
    fn default() -> Self {
        let empty = EarlyKind {
            kind: "",
            placement: Placement::Flash,
            count: 0,
            bytes: 0,
        };
        Self {
            entries: [empty; Self::MAX],
            len: 0,
            complete: true,
        }
    }
}

impl EarlyTally {
    /// Distinct (kind, placement) pairs held (a batch of the seed has about ten).
    pub const MAX: usize = 16;

    /// Count one object of `kind` of `bytes` frozen bytes in `placement`, in section order.
    pub fn add(&mut self, kind: &'static str, placement: Placement, bytes: u32) {
        if !self.complete {
            return;
        }
        // The same identity as `KindTally::add`: the name's address, then `merge_kinds`.
        let known = self.entries[..self.len]
            .iter_mut()
            .find(|k| core::ptr::eq(k.kind, kind) && k.placement == placement);
        let k = match known {
            Some(k) => k,
            None if self.len < Self::MAX => {
                self.entries[self.len] = EarlyKind {
                    kind,
                    placement,
                    count: 0,
                    bytes: 0,
                };
                self.len += 1;
                &mut self.entries[self.len - 1]
            }
            None => {
                self.complete = false;
                return;
            }
        };
        match k.bytes.checked_add(bytes) {
            Some(b) => {
                k.bytes = b;
                k.count += 1;
            }
            None => self.complete = false,
        }
    }

    /// Forget the tally: the plan's objects are not all counted (merged ones).
    pub fn give_up(&mut self) {
        self.complete = false;
    }

    /// The kinds as [`KindTally::of`] lists them (each first seen in section order, the flash
    /// section's before the RAM section's, equal names merged), in a list made exactly once;
    /// `None` when the tally was given up.
    pub fn into_kinds(self) -> Option<Vec<KindStats>> {
        if !self.complete {
            return None;
        }
        let mut kinds = Vec::new();
        kinds.reserve_exact(self.len);
        kinds.extend(self.entries[..self.len].iter().map(|k| KindStats {
            kind: k.kind,
            placement: k.placement,
            count: k.count,
            bytes: u64::from(k.bytes),
            merged: 0,
            merged_bytes: 0,
        }));
        let mut tally = KindTally { kinds };
        tally.merge_kinds();
        Some(tally.kinds)
    }
}

/// Counts objects per kind and placement, for [`crate::plan::Stats::kinds`]: made after the
/// plan's addresses are assigned and, in a store's freeze, after the batch is written, so the
/// list is never live at the freeze's peak.
#[derive(Debug, Default)]
pub(crate) struct KindTally {
    pub kinds: Vec<KindStats>,
}

impl KindTally {
    /// Entries the kind list grows by, past the count it was made with.
    const KINDS_STEP: usize = 4;

    /// Distinct (kind, placement) entries [`KindTally::of`] sums on the stack before its
    /// list is made; more go to the list as they come.
    const ON_STACK: usize = 32;

    /// The tally of `objects` (each with its placement and whether it is merged), in one pass:
    /// each object's kind and size are asked once. The first [`KindTally::ON_STACK`] entries
    /// are summed on the stack and the list is made with room for exactly those there are (a
    /// list grown as it fills holds the old and the new copy while it moves).
    pub fn of<M: ObjectModel + ?Sized>(
        vm: &M,
        objects: impl Iterator<Item = (M::Ref, Placement, bool)>,
    ) -> Self {
        let empty = KindStats {
            kind: "",
            placement: Placement::Flash,
            count: 0,
            bytes: 0,
            merged: 0,
            merged_bytes: 0,
        };
        let mut first: [KindStats; Self::ON_STACK] = core::array::from_fn(|_| empty.clone());
        let mut n = 0;
        let mut more = Self::default();
        for (obj, placement, merged) in objects {
            let kind = vm.kind_name(obj);
            let bytes = vm.frozen_layout(obj).size;
            // The same identity as `add`: the name's address.
            let known = first[..n]
                .iter_mut()
                .find(|k| core::ptr::eq(k.kind, kind) && k.placement == placement);
            let k = match known {
                Some(k) => k,
                None if n < Self::ON_STACK => {
                    first[n].kind = kind;
                    first[n].placement = placement;
                    n += 1;
                    &mut first[n - 1]
                }
                None => {
                    more.add(kind, placement, bytes, merged);
                    continue;
                }
            };
            k.count_one(bytes, merged);
        }
        let mut kinds = Vec::new();
        kinds.reserve_exact(n + more.kinds.len());
        kinds.extend(first.into_iter().take(n));
        kinds.append(&mut more.kinds);
        Self { kinds }
    }

    /// Count one object of `kind` of `bytes` frozen bytes in `placement`, `merged` when it is
    /// frozen as an equal object's copy.
    pub fn add(&mut self, kind: &'static str, placement: Placement, bytes: u32, merged: bool) {
        // Kinds are few (a VM has tens): a linear scan beats a map here and stays deterministic.
        // A VM returns the same `&'static str` for a kind, so the address settles it without
        // comparing text for every entry; equal names at two addresses meet in `merge_kinds`.
        let k = match self
            .kinds
            .iter_mut()
            .position(|k| core::ptr::eq(k.kind, kind) && k.placement == placement)
        {
            Some(i) => &mut self.kinds[i],
            None => {
                // Grown four entries at a time, not doubled: a plan with 17 kinds holds 20
                // entries, not 32 (an entry is 40 bytes on a 32-bit target).
                if self.kinds.len() == self.kinds.capacity() {
                    self.kinds.reserve_exact(Self::KINDS_STEP);
                }
                self.kinds.push(KindStats {
                    kind,
                    placement,
                    count: 0,
                    bytes: 0,
                    merged: 0,
                    merged_bytes: 0,
                });
                let last = self.kinds.len() - 1;
                &mut self.kinds[last]
            }
        };
        k.count_one(bytes, merged);
    }

    /// Merge kind entries whose names are equal text at different addresses (first seen wins).
    pub fn merge_kinds(&mut self) {
        let mut i = 0;
        while i < self.kinds.len() {
            let (kind, placement) = (self.kinds[i].kind, self.kinds[i].placement);
            let mut j = i + 1;
            while j < self.kinds.len() {
                if self.kinds[j].kind == kind && self.kinds[j].placement == placement {
                    let dup = self.kinds.remove(j);
                    self.kinds[i].count += dup.count;
                    self.kinds[i].bytes += dup.bytes;
                    self.kinds[i].merged += dup.merged;
                    self.kinds[i].merged_bytes += dup.merged_bytes;
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_list_get_finds_every_entry() {
        let mut list = ChunkList::new();
        for i in 0..2000u32 {
            list.push(i);
        }
        for (i, v) in list.iter().enumerate() {
            assert_eq!(list.get(i), Some(v));
            assert_eq!(v as usize, i);
        }
        let mut cursor = ChunkCursor::default();
        for i in 0..2000u32 {
            assert_eq!(list.next_at(&mut cursor), Some(i));
        }
        assert_eq!(list.next_at(&mut cursor), None);
        assert_eq!(list.get(2000), None);
    }

    /// "str" inside a static of other bytes: the same text as the literal, at another address.
    static OTHER_STR: [u8; 4] = *b"-str";

    fn stats(kind: &'static str, placement: Placement, count: u32) -> KindStats {
        KindStats {
            kind,
            placement,
            count,
            bytes: 8 * u64::from(count),
            merged: 0,
            merged_bytes: 0,
        }
    }

    #[test]
    fn equal_kind_names_at_two_addresses_are_merged() {
        // The same text at another address, as a VM built from several crates may return.
        // Bytes that differ from the literal's, so that no optimiser can merge the two (a static
        // of exactly "str" was merged with the literal in release builds).
        let other: &'static str = core::str::from_utf8(&OTHER_STR[1..]).unwrap();
        assert!(!core::ptr::eq(other, "str"));
        let mut c = KindTally {
            kinds: alloc::vec![
                stats("str", Placement::Flash, 2),
                stats("tuple", Placement::Flash, 1),
                stats(other, Placement::Flash, 3),
                stats(other, Placement::Ram, 4),
            ],
        };
        c.merge_kinds();
        let got: Vec<_> = c
            .kinds
            .iter()
            .map(|k| (k.kind, k.placement, k.count, k.bytes))
            .collect();
        assert_eq!(
            got,
            [
                ("str", Placement::Flash, 5, 40),
                ("tuple", Placement::Flash, 1, 8),
                ("str", Placement::Ram, 4, 32),
            ]
        );
    }

    /// Up to `MAX` kinds the early tally lists them as [`KindTally::of`] would (equal names at
    /// two addresses merged); past it, it gives up.
    #[test]
    fn early_tally_gives_up_past_its_room() {
        let other: &'static str = core::str::from_utf8(&OTHER_STR[1..]).unwrap();
        let mut early = EarlyTally::default();
        let mut tally = KindTally::default();
        for (kind, placement, bytes) in [
            ("str", Placement::Flash, 8),
            (other, Placement::Flash, 12),
            ("tuple", Placement::Ram, 16),
            ("str", Placement::Flash, 4),
            ("str", Placement::Ram, 4),
        ] {
            early.add(kind, placement, bytes);
            tally.add(kind, placement, bytes, false);
        }
        tally.merge_kinds();
        assert_eq!(early.clone().into_kinds(), Some(tally.kinds));
        static NAMES: [&str; EarlyTally::MAX + 1] = [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
        ];
        for name in NAMES {
            early.add(name, Placement::Flash, 4);
        }
        assert_eq!(early.into_kinds(), None);
    }
}
