//! Dedup: content-equal immutable objects frozen once.
//!
//! ```text
//! traverse ─► classify ─► dedup ─► relocate ─► plan
//!                          │ flash objects the VM lets merge (ObjectModel::may_merge):
//!                          │   equal to an earlier batch's object → its address
//!                          │   equal to one of this batch        → one copy, its address
//!                          └ the others                          → placed as before
//! ```
//!
//! Off unless the freeze asks for it ([`Dedup`]); with it off, or with a VM whose kinds never
//! merge (the default of [`ObjectModel::may_merge`]), images are byte for byte what they were.
//!
//! # Equal
//! Two heap objects merge when both are frozen to flash, the VM says both may merge, and they
//! have the same [`ObjectModel::kind_name`] (as text), the same frozen layout (size and
//! alignment), the same frozen bytes (reference words aside: the freezer writes those) and,
//! slot by slot, the same offsets, the same tags and **the same targets after forwarding**: the
//! same kept object (static, or of an earlier batch), the same heap object outside the merge
//! (a function, a RAM object…), or heap objects of one merged class. A hash only finds
//! candidates: every merge compares the bytes and the targets, so a collision never merges
//! objects that differ (the unit tests force a hash that always collides).
//!
//! # Order: hash-consing, children first
//! An object's targets must be settled before it can be compared, so the stage walks the
//! mergeable objects depth first and settles each one after its mergeable children
//! (post-order), looking it up in a content table of the objects settled so far:
//!
//! ```text
//! for each mergeable flash object, from the last in plan order, not yet settled:
//!   walk it: push its unsettled mergeable children, settle each after its own children;
//!   settle(x): earlier batch has an equal object E?  → x is E   (its targets are all kept)
//!              the table has an equal y?              → x is y's class
//!              else                                   → x is a class of its own (inserted)
//! ```
//!
//! One pass, and each mergeable object is settled once: a tuple of tuples of strings merges
//! with its equal in the same pass that merges the strings. The plan's order is the traversal's
//! pre-order, so the objects an object discovered come after it: walking from the end finds
//! them settled, and a walk goes deeper than one object only along references to objects
//! discovered earlier, elsewhere. An object merged with equal ones is frozen once, where the
//! last of them in plan order is (the first settled).
//!
//! **Cycles** of mergeable objects are not merged: an object whose child is still on the walk's
//! stack (a back edge) is settled as a class of its own and not inserted, so it merges with
//! nothing; its ancestors then see a settled child and merge normally. Partition refinement
//! (DFA minimisation) would also merge isomorphic cycles, but needs a class word per object per
//! round and several rounds over every candidate; hash-consing needs one pass and a stack. The
//! graphs this is for have no such cycles among mergeable kinds (a tuple cannot contain itself,
//! strings and bytes hold no references, a code object does not refer to its parent), and
//! leaving an object unmerged is always correct. The walk's stack is at most [`MAX_DEPTH`]
//! objects deep: an object at that depth with an unsettled child is settled as its own class
//! too (and the child is walked later from the outer loop). Only a chain of mergeable objects
//! each discovered *before* the one it refers to, more than [`MAX_DEPTH`] long, meets this; its
//! part above the stop then merges with nothing (`tests/dedup.rs` builds one).
//!
//! # Across batches
//! With [`Dedup::earlier_entries`], the store indexes the earlier batches' flash objects whose
//! kind may merge ([`ObjectModel::mergeable_frozen_kind`], from their bytes in flash; the index
//! is `image::index`, built when a freeze starts and freed when it ends). An object whose
//! targets are all kept (after forwarding) has its final frozen bytes now; if an earlier
//! object has the same kind, size, bytes and reference words (its batch's pointer map), the
//! object is forwarded to it and no copy is written. Its parents then see a kept target.
//!
//! # Memory (with 32-bit references)
//! - the objects' states live in the side table's forwarding word of each object (4 bytes per
//!   frozen object the plan already has): **nothing per object** but
//! - the set of merged objects, kept by the plan: 1 bit per flash object;
//! - the content table (`hashbrown::HashTable<u32>`), sized once for the mergeable objects and
//!   capped at [`Dedup::table_entries`]: 5 bytes per bucket, 1.14 to 2.29 buckets per entry
//!   (5.7–11.4 B per mergeable object, below the cap), never more;
//! - the walk: at most [`MAX_DEPTH`] frames and the pending children of the frames on it;
//! - two copies of the largest mergeable object and its slot list (the object settled and the
//!   candidate it is compared with);
//! - the cross-batch index: 12 bytes per indexed earlier object, capped at
//!   [`Dedup::earlier_entries`], and one earlier object's bytes.
//!
//! All of it is in [`crate::Stats::working_bytes`]. A content table that cannot be allocated
//! leaves the batch unmerged (it is an optimisation; nothing else changes).
//!
//! # Determinism
//! The walk's order is the plan's order and the VM's slot order; a lookup returns the one
//! settled object equal to the candidate (the table never holds two equal objects), whatever
//! the hash; the earlier index returns the equal object with the lowest address. The same
//! graph, with the same earlier batches, gives the same image byte for byte.
//!
//! # A VM that says "may merge" wrongly
//! Merging trusts that equal frozen bytes make equal objects for the VM. If they do not (the
//! VM keeps state outside the frozen copy, or a program compares identities), the objects
//! become one: every reference to either reads the one copy (see [`ObjectModel::may_merge`];
//! `tests/dedup.rs` shows it). The image stays valid either way.

use alloc::vec::Vec;
use core::hash::{BuildHasher, Hasher};
use core::mem::size_of;

use hashbrown::HashTable;

use crate::classify::ChunkList;
use crate::error::{FreezeError, Violation, contract};
use crate::forward::{Forwarded, SideTable, sealed::Table};
use crate::model::{FrozenLayout, ObjectModel, Placement, Slot, Space};
use crate::traverse::{check_slot, checked_layout};

/// Whether a freeze gives content-equal immutable objects one frozen copy, and how much memory
/// it may spend finding them (see `src/dedup.rs` for what is merged and how).
///
/// Only kinds the VM allows merge ([`ObjectModel::may_merge`]; across batches also
/// [`ObjectModel::mergeable_frozen_kind`]). Dedup needs the library's side table ([`crate::plan()`],
/// [`crate::store::Store`]); [`crate::plan_in_object`] never merges.
///
/// ```
/// use flashfreeze::plan::Dedup;
/// assert_eq!(Dedup::default(), Dedup::OFF);
/// let on = Dedup::new(2048, 1024);
/// assert!(on.is_on() && !Dedup::OFF.is_on());
/// ```
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Dedup {
    /// Objects of this batch the content table holds at most (0: nothing merges within the
    /// batch). The table takes 5.7–11.4 bytes per entry; beyond the cap, objects are still
    /// looked up but no more are added.
    pub table_entries: u32,
    /// Objects of earlier batches the cross-batch index holds at most (0: a batch never reuses
    /// an earlier batch's object). 12 bytes per entry, while a freeze runs.
    pub earlier_entries: u32,
}

impl Dedup {
    /// No merging: the default.
    pub const OFF: Self = Self::new(0, 0);
    /// Bounds that fit a small device: 2,048 table entries (at most 23 KiB) and 1,024 earlier
    /// objects (12 KiB).
    pub const ON: Self = Self::new(2048, 1024);

    /// Merging with a content table of at most `table_entries` objects and an index of at most
    /// `earlier_entries` objects of earlier batches.
    pub const fn new(table_entries: u32, earlier_entries: u32) -> Self {
        Self {
            table_entries,
            earlier_entries,
        }
    }

    /// Whether anything may merge.
    pub const fn is_on(&self) -> bool {
        self.table_entries > 0 || self.earlier_entries > 0
    }
}

/// Deepest walk of mergeable objects (see the module docs).
pub const MAX_DEPTH: usize = 64;

// The states of flash objects during the stage, in their side-table words (before relocation
// overwrites them with addresses). The earlier-batch state is `Forwarded::Earlier`'s own
// encoding, so it is already the final word.
/// Not in the merge: a RAM object, or one whose kind does not merge (the table's "unset").
const OUTSIDE: u32 = u32::MAX;
const STATE: u32 = 3 << 30;
const INDEX: u32 = !STATE;
/// `00` + class: settled; the class is the plan position of the class's frozen copy.
const CLASS: u32 = 0;
/// `01` + own position: mergeable, not walked yet.
const OPEN: u32 = 1 << 30;
/// `10` + own position: on the walk's stack.
const ACTIVE: u32 = 2 << 30;
/// `11` + distance below the flash base: merged into an earlier batch's object.
const EARLIER: u32 = 3 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Outside,
    Open(u32),
    Active(u32),
    Class(u32),
    Earlier(u32),
}

fn state(word: u32) -> State {
    if word == OUTSIDE {
        return State::Outside;
    }
    let i = word & INDEX;
    match word & STATE {
        CLASS => State::Class(i),
        OPEN => State::Open(i),
        ACTIVE => State::Active(i),
        _ => State::Earlier(i),
    }
}

/// A 64-bit content hash, fixed (no seed: the same content always gives the same hash).
/// Merging never depends on its value beyond speed; tests substitute a weak one.
pub(crate) trait ContentHash: Default {
    /// Feed bytes.
    fn bytes(&mut self, b: &[u8]);
    /// Feed a word.
    fn word(&mut self, w: u64);
    /// The hash.
    fn finish(&self) -> u64;
}

/// foldhash's fast hasher — hashbrown's own default — with a fixed seed instead of a random
/// one, so the same content gives the same hash in every freeze.
#[derive(Clone)]
pub(crate) struct Fold(foldhash::fast::FoldHasher<'static>);

impl Default for Fold {
    fn default() -> Self {
        Self(foldhash::fast::FixedState::with_seed(0x5eed_f1a5).build_hasher())
    }
}

impl ContentHash for Fold {
    fn bytes(&mut self, b: &[u8]) {
        self.0.write(b);
    }

    fn word(&mut self, w: u64) {
        self.0.write_u64(w);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// The hash of an object's complete frozen copy — kind, bytes and the offsets of its reference
/// words — as the cross-batch index computes it from flash and the stage from a candidate.
pub(crate) fn full_hash<H: ContentHash>(
    kind: &str,
    bytes: &[u8],
    refs: impl Iterator<Item = u32>,
) -> u64 {
    let mut h = H::default();
    h.bytes(kind.as_bytes());
    h.word(bytes.len() as u64);
    h.bytes(bytes);
    for r in refs {
        h.word(u64::from(r));
    }
    h.finish()
}

/// An object of this batch with its final frozen bytes, looked up in the earlier batches.
#[derive(Debug)]
pub(crate) struct Candidate<'a> {
    /// Its kind name.
    pub kind: &'static str,
    /// Its complete frozen bytes (reference words written).
    pub bytes: &'a [u8],
    /// The offsets of its reference words, increasing.
    pub refs: &'a [u32],
    /// [`full_hash`] of the above.
    pub hash: u64,
}

/// The earlier batches' objects, as the dedup stage asks for them (`image::index`).
pub(crate) trait Earlier {
    /// Index the earlier objects of at most `max_size` bytes whose kind `kind_of` names
    /// (called once, before the first [`Earlier::find`]).
    fn build(&mut self, kind_of: &dyn Fn(&[u8]) -> Option<&'static str>, max_size: u32);
    /// The address of an earlier object equal to `c` (kind, bytes and reference words), the
    /// lowest if several are.
    fn find(
        &mut self,
        kind_of: &dyn Fn(&[u8]) -> Option<&'static str>,
        c: &Candidate<'_>,
    ) -> Option<u64>;
    /// Peak bytes it held.
    fn heap_bytes(&self) -> usize;
}

/// What the stage merged.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    /// Bit `i`: the `i`-th flash object of the plan is frozen as another object's copy.
    dups: Vec<u64>,
    /// Objects merged, and their frozen bytes.
    pub count: u32,
    pub bytes: u64,
    /// Of which into an earlier batch's object.
    pub earlier: u32,
    /// Per kind: merged objects and their bytes.
    pub kinds: Vec<(&'static str, u32, u64)>,
    /// Interned strings the merged objects held (counted once, by their copy).
    pub qstrs: u32,
    /// Peak bytes of the stage (the set above included).
    pub peak_bytes: usize,
}

impl Merged {
    /// Whether the `i`-th flash object is merged into another.
    pub fn contains(&self, i: usize) -> bool {
        self.dups
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Bytes held by the set.
    pub fn heap_bytes(&self) -> usize {
        self.dups.capacity() * 8 + self.kinds.capacity() * size_of::<(&str, u32, u64)>()
    }

    fn add(&mut self, i: usize, kind: &'static str, size: u32, earlier: bool) {
        if let Some(w) = self.dups.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
        self.count += 1;
        self.bytes += u64::from(size);
        self.earlier += u32::from(earlier);
        match self.kinds.iter_mut().find(|k| k.0 == kind) {
            Some(k) => {
                k.1 += 1;
                k.2 += u64::from(size);
            }
            None => self.kinds.push((kind, 1, u64::from(size))),
        }
    }
}

/// What a reference slot points to, after forwarding, for the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    /// A kept object, or an earlier batch's object an object was merged into.
    Address(u64),
    /// A heap object outside the merge, by its heap index.
    Heap(usize),
    /// A settled merge class.
    Class(u32),
}

/// An object's content, as compared: its frozen bytes with the reference words zeroed, and its
/// reference slots, each as a short record in `slots` (so a table of 100 slots takes some
/// 500 bytes, not 100 tokens of 32):
///
/// ```text
/// slot:  varint offset · kind byte (0 address, 1 heap index, 2 class; +0x80: a tag follows)
///        · varint value · [varint tag]
/// ```
#[derive(Debug, Default)]
struct Content {
    kind: &'static str,
    layout: Option<FrozenLayout>,
    bytes: Vec<u8>,
    slots: Vec<u8>,
    /// Whether every target is an address (kept, or an earlier batch's).
    all_kept: bool,
}

const TAGGED: u8 = 0x80;

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&b) = bytes.get(*at) {
        *at += 1;
        v |= u64::from(b & 0x7F) << shift;
        shift += 7;
        if b & 0x80 == 0 || shift >= 64 {
            break;
        }
    }
    v
}

impl Content {
    fn push_slot(&mut self, offset: u32, tag: u64, default_tag: u64, token: Token) {
        let (kind, value) = match token {
            Token::Address(a) => (0, a),
            Token::Heap(i) => (1, i as u64),
            Token::Class(c) => (2, u64::from(c)),
        };
        self.all_kept &= kind == 0;
        put_varint(u64::from(offset), &mut self.slots);
        let tagged = tag != default_tag;
        self.slots.push(kind | if tagged { TAGGED } else { 0 });
        put_varint(value, &mut self.slots);
        if tagged {
            put_varint(tag, &mut self.slots);
        }
    }

    /// The slots whose targets are all addresses: (offset, tag, address) each.
    fn kept_slots(&self, default_tag: u64) -> impl Iterator<Item = (u32, u64, u64)> + '_ {
        let mut at = 0;
        core::iter::from_fn(move || {
            if at >= self.slots.len() {
                return None;
            }
            let offset = get_varint(&self.slots, &mut at) as u32;
            let kind = *self.slots.get(at)?;
            at += 1;
            let value = get_varint(&self.slots, &mut at);
            let tag = if kind & TAGGED != 0 {
                get_varint(&self.slots, &mut at)
            } else {
                default_tag
            };
            Some((offset, tag, value))
        })
    }

    fn same(&self, other: &Content) -> bool {
        self.kind == other.kind
            && self.layout == other.layout
            && self.bytes == other.bytes
            && self.slots == other.slots
    }

    fn hash<H: ContentHash>(&self) -> u64 {
        let mut h = H::default();
        h.bytes(self.kind.as_bytes());
        if let Some(l) = self.layout {
            h.word(u64::from(l.size) << 32 | u64::from(l.align));
        }
        h.bytes(&self.bytes);
        h.bytes(&self.slots);
        h.finish()
    }

    fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.slots.capacity()
    }
}

/// A frame of the walk.
struct Frame<R> {
    obj: R,
    at: u32,
    /// Where its pending children start in the walk's list.
    pending: usize,
    /// A child on the stack (a cycle) or past the depth limit: settled as its own class.
    blocked: bool,
}

/// Read access to the objects' states.
#[derive(Clone, Copy)]
struct Ctx<'a, M: ObjectModel + ?Sized> {
    vm: &'a M,
    table: &'a SideTable,
    flash_base: u64,
}

impl<M: ObjectModel + ?Sized> Ctx<'_, M> {
    fn state_of(&self, obj: M::Ref) -> State {
        state(self.table.word(self.vm, obj).unwrap_or(OUTSIDE))
    }

    /// The token of a reference to `target`; `None` while `target` is not settled.
    fn token(&self, target: M::Ref) -> Option<Token> {
        if self.vm.space(target) != Space::Heap {
            return Some(Token::Address(self.vm.address(target)));
        }
        match self.state_of(target) {
            State::Outside => Some(Token::Heap(self.vm.heap_index(target))),
            State::Class(c) => Some(Token::Class(c)),
            State::Earlier(d) => Some(Token::Address(self.flash_base.saturating_sub(u64::from(d)))),
            State::Open(_) | State::Active(_) => None,
        }
    }

    /// Push `obj`'s unwalked mergeable children onto `pending`; `true` if one is on the stack.
    fn expand(&self, obj: M::Ref, pending: &mut Vec<(M::Ref, u32)>) -> Result<bool, FreezeError> {
        let vm = self.vm;
        let size = checked_layout(vm, obj)?.size;
        let mut failed = None;
        let mut cycle = false;
        vm.scan(obj, &mut |slot: Slot<M::Ref>| {
            if failed.is_some() {
                return;
            }
            if let Err(e) = check_slot(vm, obj, size, &slot) {
                failed = Some(e);
                return;
            }
            let Some(t) = slot.target else { return };
            if vm.space(t) != Space::Heap {
                return;
            }
            match self.state_of(t) {
                State::Open(j) => pending.push((t, j)),
                State::Active(_) => cycle = true,
                _ => {}
            }
        });
        failed.map_or(Ok(cycle), Err)
    }

    /// `obj`'s content into `out`; `false` if a target is not settled.
    fn content_of(&self, obj: M::Ref, out: &mut Content) -> Result<bool, FreezeError> {
        let vm = self.vm;
        let layout = checked_layout(vm, obj)?;
        out.kind = vm.kind_name(obj);
        out.layout = Some(layout);
        out.bytes.clear();
        out.bytes.resize(layout.size as usize, 0);
        vm.write_frozen(obj, Placement::Flash, &mut out.bytes);
        out.slots.clear();
        out.all_kept = true;
        let width = M::ENCODING.width() as usize;
        let default_tag = M::ENCODING.tag();
        let mut failed = None;
        let mut settled = true;
        vm.scan(obj, &mut |slot: Slot<M::Ref>| {
            if failed.is_some() {
                return;
            }
            if let Err(e) = check_slot(vm, obj, layout.size, &slot) {
                failed = Some(e);
                return;
            }
            let Some(t) = slot.target else { return };
            let at = slot.offset as usize;
            // check_slot proved `at + width <= size`.
            out.bytes[at..at + width].fill(0);
            match self.token(t) {
                Some(token) => {
                    let tag = slot.tag.unwrap_or(default_tag);
                    out.push_slot(slot.offset, tag, default_tag, token);
                }
                None => settled = false,
            }
        });
        failed.map_or(Ok(settled), Err)
    }
}

/// The stage's working state.
struct Stage<'a, M: ObjectModel + ?Sized> {
    vm: &'a M,
    table: &'a mut SideTable,
    flash: &'a ChunkList<M::Ref>,
    flash_base: u64,
    /// The content of the object being settled, and of the candidate it is compared with.
    content: Content,
    other: Content,
    /// The settled object's complete bytes and reference offsets (cross-batch lookups).
    full: Vec<u8>,
    refs: Vec<u32>,
}

impl<M: ObjectModel + ?Sized> Stage<'_, M> {
    fn ctx(&self) -> Ctx<'_, M> {
        Ctx {
            vm: self.vm,
            table: self.table,
            flash_base: self.flash_base,
        }
    }

    fn set(&mut self, obj: M::Ref, word: u32) {
        self.table.set_word(self.vm, obj, word);
    }

    /// With every target of `self.content` kept: its complete frozen bytes and reference
    /// offsets into `self.full` / `self.refs`; `false` if a target is in this batch or an
    /// address cannot be encoded.
    fn complete(&mut self) -> bool {
        if !self.content.all_kept {
            return false;
        }
        let width = M::ENCODING.width() as usize;
        self.full.clear();
        self.full.extend_from_slice(&self.content.bytes);
        self.refs.clear();
        for (offset, tag, addr) in self.content.kept_slots(M::ENCODING.tag()) {
            let Some(word) = M::ENCODING.encode_tagged(addr, tag) else {
                return false;
            };
            let at = offset as usize;
            self.full[at..at + width].copy_from_slice(&word.to_le_bytes()[..width]);
            self.refs.push(offset);
        }
        // The VM may report slots in any order; the pointer map lists words in order.
        self.refs.sort_unstable();
        true
    }

    fn heap_bytes(&self) -> usize {
        self.content.heap_bytes()
            + self.other.heap_bytes()
            + self.full.capacity()
            + self.refs.capacity() * 4
    }
}

/// Merge the equal mergeable objects of `flash` (the plan's flash objects, in order), keeping
/// their states in `table`'s words; `earlier` finds equal objects of earlier batches.
/// Relocation then places only the objects not merged, and [`forward_merged`] forwards the
/// rest.
pub(crate) fn run<M, H>(
    vm: &M,
    table: &mut SideTable,
    flash: &ChunkList<M::Ref>,
    flash_base: u64,
    cfg: Dedup,
    mut earlier: Option<&mut (dyn Earlier + '_)>,
) -> Result<Merged, FreezeError>
where
    M: ObjectModel + ?Sized,
    H: ContentHash,
{
    let n = flash.len();
    let mut merged = Merged::default();
    if !cfg.is_on() || n == 0 || n > INDEX as usize {
        return Ok(merged);
    }
    if cfg.earlier_entries == 0 {
        earlier = None;
    }
    // Mark the mergeable objects, and find the largest (the earlier index needs no larger).
    let mut mergeable = 0usize;
    let mut max_size = 0u32;
    for (i, obj) in flash.iter().enumerate() {
        if vm.may_merge(obj) {
            table.set_word(vm, obj, OPEN | i as u32);
            mergeable += 1;
            max_size = max_size.max(checked_layout(vm, obj)?.size);
        }
    }
    if mergeable == 0 {
        return Ok(merged);
    }
    let cap = mergeable.min(cfg.table_entries as usize);
    let mut classes: HashTable<u32> = HashTable::new();
    if cap > 0 && classes.try_reserve(cap, |_| 0).is_err() {
        // No room for the table: this batch stays unmerged (relocation overwrites the states).
        return Ok(merged);
    }
    merged.dups = alloc::vec![0; n.div_ceil(64)];
    let kind_of = |b: &[u8]| vm.mergeable_frozen_kind(b);
    if let Some(e) = earlier.as_deref_mut() {
        e.build(&kind_of, max_size);
    }

    let mut stage = Stage {
        vm,
        table,
        flash,
        flash_base,
        content: Content::default(),
        other: Content::default(),
        full: Vec::new(),
        refs: Vec::new(),
    };
    let mut stack: Vec<Frame<M::Ref>> = Vec::new();
    let mut pending: Vec<(M::Ref, u32)> = Vec::new();
    let mut walk_peak = 0usize;
    // From the end: the plan is the traversal's pre-order, so an object's descendants by
    // first discovery come after it, and are settled by the time it is walked.
    for i in (0..n).rev() {
        let Some(root) = flash.get(i) else { continue };
        let i = i as u32;
        if stage.ctx().state_of(root) != State::Open(i) {
            continue;
        }
        stage.set(root, ACTIVE | i);
        let blocked = stage.ctx().expand(root, &mut pending)?;
        stack.push(Frame {
            obj: root,
            at: i,
            pending: 0,
            blocked,
        });
        loop {
            let depth = stack.len();
            let Some(top) = stack.last_mut() else { break };
            if pending.len() > top.pending {
                let Some((child, j)) = pending.pop() else {
                    break;
                };
                let enter = match stage.ctx().state_of(child) {
                    State::Open(_) if depth < MAX_DEPTH => true,
                    // Too deep (walked later, from the outer loop), or on the stack (a cycle).
                    State::Open(_) | State::Active(_) => {
                        top.blocked = true;
                        false
                    }
                    // Settled since it was pushed (reached twice).
                    _ => false,
                };
                if enter {
                    stage.set(child, ACTIVE | j);
                    let mark = pending.len();
                    let blocked = stage.ctx().expand(child, &mut pending)?;
                    stack.push(Frame {
                        obj: child,
                        at: j,
                        pending: mark,
                        blocked,
                    });
                }
                continue;
            }
            walk_peak = walk_peak.max(
                stack.capacity() * size_of::<Frame<M::Ref>>()
                    + pending.capacity() * size_of::<(M::Ref, u32)>(),
            );
            let Some(frame) = stack.pop() else { break };
            settle::<M, H>(
                &mut stage,
                &mut classes,
                cap,
                earlier.as_deref_mut(),
                &kind_of,
                frame,
                &mut merged,
            )?;
        }
    }
    merged.peak_bytes = walk_peak
        + stage.heap_bytes()
        + classes.allocation_size()
        + merged.heap_bytes()
        + earlier.map_or(0, |e| e.heap_bytes());
    Ok(merged)
}

/// Settle the object of `frame`: its children are settled, or the frame is blocked.
fn settle<M, H>(
    stage: &mut Stage<'_, M>,
    classes: &mut HashTable<u32>,
    cap: usize,
    earlier: Option<&mut (dyn Earlier + '_)>,
    kind_of: &dyn Fn(&[u8]) -> Option<&'static str>,
    frame: Frame<M::Ref>,
    merged: &mut Merged,
) -> Result<(), FreezeError>
where
    M: ObjectModel + ?Sized,
    H: ContentHash,
{
    let (obj, at) = (frame.obj, frame.at);
    let settled = !frame.blocked && {
        let ctx = Ctx {
            vm: stage.vm,
            table: &*stage.table,
            flash_base: stage.flash_base,
        };
        ctx.content_of(obj, &mut stage.content)?
    };
    if !settled {
        stage.set(obj, CLASS | at);
        return Ok(());
    }
    let size = stage.content.layout.map_or(0, |l| l.size);
    let kind = stage.content.kind;
    // An equal object of an earlier batch, when every target is kept.
    if let Some(e) = earlier {
        if stage.complete() {
            let c = Candidate {
                kind,
                bytes: &stage.full,
                refs: &stage.refs,
                hash: full_hash::<H>(kind, &stage.full, stage.refs.iter().copied()),
            };
            let distance = e
                .find(kind_of, &c)
                .and_then(|addr| stage.flash_base.checked_sub(addr))
                .and_then(|d| u32::try_from(d).ok())
                .filter(|&d| d > 0 && d <= Forwarded::MAX_EARLIER);
            if let Some(d) = distance {
                stage.set(obj, EARLIER | d);
                merged.qstrs = merged.qstrs.saturating_add(stage.vm.interned_strs(obj));
                merged.add(at as usize, kind, size, true);
                return Ok(());
            }
        }
    }
    // An equal object of this batch.
    let hash = stage.content.hash::<H>();
    let ctx = Ctx {
        vm: stage.vm,
        table: &*stage.table,
        flash_base: stage.flash_base,
    };
    let (content, other, flash) = (&stage.content, &mut stage.other, stage.flash);
    let mut failed = None;
    let found = classes
        .find(hash, |&c| {
            let Some(candidate) = flash.get(c as usize) else {
                return false;
            };
            match ctx.content_of(candidate, other) {
                Ok(settled) => settled && other.same(content),
                Err(e) => {
                    failed.get_or_insert(e);
                    false
                }
            }
        })
        .copied();
    if let Some(e) = failed {
        return Err(e);
    }
    match found {
        Some(c) => {
            stage.set(obj, CLASS | c);
            merged.qstrs = merged.qstrs.saturating_add(stage.vm.interned_strs(obj));
            merged.add(at as usize, kind, size, false);
        }
        None => {
            stage.set(obj, CLASS | at);
            if classes.len() < cap && classes.len() < classes.capacity() {
                // Reserved in advance: it never grows, so the hasher is never called.
                classes.insert_unique(hash, at, |_| 0);
            }
        }
    }
    Ok(())
}

/// After relocation: give each merged object the place of its class's copy (an object merged
/// into an earlier batch's has its place already).
pub(crate) fn forward_merged<M>(
    vm: &M,
    table: &mut SideTable,
    flash: &ChunkList<M::Ref>,
    merged: &Merged,
) -> Result<(), FreezeError>
where
    M: ObjectModel + ?Sized,
{
    if merged.count == 0 {
        return Ok(());
    }
    for (i, obj) in flash.iter().enumerate() {
        if !merged.contains(i) {
            continue;
        }
        if let State::Class(c) = state(table.word(vm, obj).unwrap_or(OUTSIDE)) {
            let copy = flash.get(c as usize);
            let at = copy.and_then(|copy| Table::<M>::get(&*table, vm, copy));
            let Some(at) = at else {
                return Err(contract(vm, obj, Violation::NotPlanned));
            };
            Table::<M>::set(table, vm, obj, at)?;
        }
    }
    Ok(())
}

#[cfg(all(test, feature = "testing", feature = "sim"))]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::forward::SideTable;
    use crate::image::Layout;
    use crate::image::index::EarlierIndex;
    use crate::image::read::{Mapped, ReadConfig, Reader, scan_chain};
    use crate::plan::{Root, RootKind, make_hashed};
    use crate::relocate::Target;
    use crate::sim::SimFlash;
    use crate::store::{Store, StoreConfig};
    use crate::testing::{Kind, Obj, TestHeap, Value};

    /// The weakest hash: every object collides with every other.
    #[derive(Default)]
    struct Collide;

    impl ContentHash for Collide {
        fn bytes(&mut self, _: &[u8]) {}
        fn word(&mut self, _: u64) {}
        fn finish(&self) -> u64 {
            0
        }
    }

    const REGION: u64 = 0x1010_0000;

    fn target() -> Target {
        Target {
            flash_base: REGION + 144,
            flash_capacity: 1 << 16,
            ram_base: 0x2003_0000,
            ram_capacity: 1024,
        }
    }

    /// Constants of one size with eight payloads, each payload three times, in tuples.
    fn graph(heap: &mut TestHeap<4>, salt: u8) -> Obj {
        let mut slots = Vec::new();
        for round in 0..3u8 {
            for p in 0..8u8 {
                let s = heap.alloc_with(Kind::Constant, vec![], vec![p ^ salt; 6]);
                let t = heap.alloc_with(
                    Kind::Constant,
                    vec![(None, Value::Ref(s)), (None, Value::Int(i32::from(p)))],
                    vec![],
                );
                slots.push((None, Value::Ref(if round == 1 { s } else { t })));
            }
        }
        heap.alloc_with(Kind::Immutable, slots, vec![])
    }

    /// Where each reachable object of `module`'s plan goes, for hash `H`.
    fn addresses<H: ContentHash>(heap: &TestHeap<4>, module: Obj) -> Vec<Option<u64>> {
        let roots = [Root::new(RootKind::MODULE, "m", module)];
        let table = SideTable::new(heap);
        let dedup = Dedup::new(1000, 0);
        let p = make_hashed::<_, _, H>(heap, &roots, target(), table, None, dedup, None, None)
            .expect("plan");
        // Per payload: three strings and the two reachable tuples; two strings and a tuple merge.
        assert_eq!(p.stats().merged, 8 * 3);
        (0..heap.len() as u32)
            .map(|i| p.frozen_address(heap, Obj(i)))
            .collect()
    }

    #[test]
    fn a_hash_that_always_collides_merges_exactly_the_same_objects() {
        let mut heap = TestHeap::<4>::new();
        let module = graph(&mut heap, 0);
        assert_eq!(
            addresses::<Collide>(&heap, module),
            addresses::<Fold>(&heap, module)
        );
    }

    #[test]
    fn the_earlier_index_compares_bytes_behind_a_colliding_hash() {
        // Batch 0: eight strings of one size. Batch 1 (planned with an index whose hash always
        // collides): the same strings, salted but for one, which must find its own equal.
        let mut heap = TestHeap::<4>::new();
        let first = graph(&mut heap, 0);
        let layout = Layout::new(REGION, 4096, 0x2003_0000, 4096, b"fw");
        let cfg = StoreConfig::for_model::<TestHeap<4>>(0, 0x2_0000, layout);
        let mut store = Store::open(SimFlash::<1, 4, 4096>::new(0x2_0000), cfg).expect("open");
        let p0 = store
            .plan(&heap, &[Root::new(RootKind::MODULE, "a", first)])
            .expect("plan");
        store.append(&p0, &heap).expect("append");
        let region = store.flash().as_bytes();
        let read = ReadConfig::for_model::<TestHeap<4>>(layout);
        let (chain, _) = match scan_chain(&Reader::new(Mapped(region)), &read) {
            Ok(x) => x,
            Err(never) => match never {},
        };
        let target = store.target().expect("target");
        let s = heap.alloc_with(Kind::Constant, vec![], vec![5; 6]);
        let other = heap.alloc_with(Kind::Constant, vec![], vec![0x55; 6]);
        let second = heap.alloc(Kind::Immutable, &[Some(s), Some(other)]);
        let mut index =
            EarlierIndex::<_, Collide>::new(Mapped(region), chain.batches(), REGION, 1000);
        let table = SideTable::new(&heap);
        let dedup = Dedup::new(1000, 1000);
        let roots = [Root::new(RootKind::MODULE, "b", second)];
        let p1 = make_hashed::<_, _, Collide>(
            &heap,
            &roots,
            target,
            table,
            None,
            dedup,
            Some(&mut index),
            None,
        )
        .expect("plan");
        assert!(index.len() >= 16, "strings and tuples of batch 0 indexed");
        // The string with payload 5 of batch 0 (its first round's).
        let equal = (0..heap.len() as u32)
            .map(Obj)
            .find(|&o| heap.get(o).payload == vec![5; 6])
            .expect("in batch 0");
        assert_eq!(p1.frozen_address(&heap, s), p0.frozen_address(&heap, equal));
        assert_eq!((p1.stats().merged, p1.stats().merged_earlier), (1, 1));
        let at = p1.frozen_address(&heap, other).expect("placed");
        assert!(at >= target.flash_base, "a new copy for the unequal one");
    }
}
