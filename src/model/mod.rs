//! The VM-facing contract: what a VM tells the freezer about its objects.
//!
//! A VM implements [`ObjectModel`] once. The freezer only ever *asks*: where an object lives
//! ([`Space`]), whether it may change ([`Mutability`]), how big it is once frozen
//! ([`FrozenLayout`]), which words of it are references ([`ObjectModel::scan`]), and what its
//! frozen bytes are ([`ObjectModel::write_frozen`]). The freezer writes the reference words of
//! frozen objects itself, so a VM cannot produce a frozen pointer the freezer did not assign.
//!
//! Two optional capabilities extend it:
//! - [`InObjectForwarding`]: the VM can spare a header word, so the freezer keeps forwarding
//!   addresses in the objects and needs no side table (see [`mod@crate::plan`] for the memory cost);
//! - [`LiveHeap`]: the VM can enumerate its live references, so the freezer can redirect them to
//!   the frozen copies after the image is written ([`crate::Plan::fix_up_live`]).
//!
//! # Pointer representation
//! The freezer never dereferences a VM pointer. A reference is the VM's own [`ObjectModel::Ref`]
//! type (a `u32` address, an arena index, a NaN-boxed word…), and the VM's `scan` decodes its
//! slots into those (MMTk's `Slot::load`). A *frozen* reference word is written by the freezer,
//! in the VM's own encoding ([`ObjectModel::ENCODING`], a [`RefEncoding`]: the word's width, and
//! how an address becomes the word — tag bits, NaN-boxing, compression against a base, an offset
//! into the object), so the VM reads its frozen objects through its normal value path. The mount
//! validator decodes every frozen reference word with the same encoding and checks that it lands
//! on an object start, or in a declared static range. Addresses are carried as `u64`.
//!
//! # Per-freeze state
//! Every method takes `&self`, and the freezer only ever holds the value it was given. A VM that
//! wants state for the length of one freeze (caches of sizes it computes, a context for paths)
//! implements the model on a small *view* that borrows the VM and holds that state, and hands
//! the view to the freeze ([`crate::store::Store::freeze`] takes it by `&mut`, so the view can
//! hold `&mut Vm` and implement [`LiveHeap`] too). The state lives exactly as long as the freeze,
//! outside the VM.
//!
//! # What a wrong answer can break
//! Every method documents it. In short: the freezer re-checks what it can see (sizes, alignment,
//! slot offsets inside the object, heap indices inside the declared bound, answers that change
//! between two questions) and returns [`crate::FreezeError::Contract`] instead of panicking. What
//! it cannot see (e.g. an object claimed immutable that the VM later mutates, or non-reference
//! bytes that are wrong) can make the frozen copy behave wrongly in that VM, but can never make the
//! freezer write outside the image or write an unassigned pointer.

use core::fmt;

mod encoding;
pub use encoding::RefEncoding;

/// Where an object lives, as the VM sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Space {
    /// In the VM's heap: a candidate for freezing.
    Heap,
    /// Already permanent outside the heap (firmware statics, ROM): kept as it is.
    Static,
    /// Already frozen by an earlier batch: kept as it is.
    Frozen,
}

/// The VM's view of whether an object may change after it is frozen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mutability {
    /// Never written again: goes to flash.
    Immutable,
    /// May be written: goes to the frozen RAM section (its initial state is stored in flash).
    Mutable,
    /// Cannot be frozen at all (an open file, a native handle…), with the reason shown to the user.
    Unfreezable(&'static str),
}

/// Size and alignment of an object's frozen copy, in bytes.
///
/// The frozen layout may differ from the heap layout (a VM may drop a GC header, or inline
/// a separately allocated buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FrozenLayout {
    /// Size in bytes; non-zero, and every reference slot must fit inside it.
    pub size: u32,
    /// Alignment in bytes; a power of two, at most [`FrozenLayout::MAX_ALIGN`].
    pub align: u32,
}

impl FrozenLayout {
    /// The largest alignment an object may ask for: rebasing an image moves it by multiples of
    /// this, so every object stays aligned.
    pub const MAX_ALIGN: u32 = 4096;

    /// A layout of `size` bytes aligned to `align`.
    pub const fn new(size: u32, align: u32) -> Self {
        Self { size, align }
    }
}

/// One reference slot of an object, reported by [`ObjectModel::scan`].
///
/// A slot is a word of the frozen copy that may hold a reference. `target` is `None` when the
/// slot currently holds no reference (a tagged small integer, an interned-string id, a boxed
/// double, null): the freezer then leaves the bytes that [`ObjectModel::write_frozen`] wrote
/// untouched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Slot<R> {
    /// Byte offset of the word inside the frozen copy. Must be a multiple of the reference
    /// width ([`RefEncoding::width`]) and the whole word must lie inside [`FrozenLayout::size`].
    pub offset: u32,
    /// The referenced object, if the slot holds a reference (MMTk's `Slot::load`).
    pub target: Option<R>,
    /// The tag bits the frozen word carries, when they depend on the slot (e.g. a NaN-boxed VM
    /// that tags string pointers apart from other pointers); `None` for the encoding's default
    /// tag. Must lie inside [`RefEncoding::tag_mask`].
    pub tag: Option<u64>,
}

impl<R> Slot<R> {
    /// A slot at `offset` holding `target`, frozen with the encoding's default tag.
    pub const fn new(offset: u32, target: Option<R>) -> Self {
        Self {
            offset,
            target,
            tag: None,
        }
    }

    /// A slot at `offset` holding `target`, frozen with tag bits `tag` (inside the encoding's
    /// [`RefEncoding::tag_mask`]).
    pub const fn tagged(offset: u32, target: Option<R>, tag: u64) -> Self {
        Self {
            offset,
            target,
            tag: Some(tag),
        }
    }

    /// The referenced object, if any.
    pub fn load(&self) -> Option<&R> {
        self.target.as_ref()
    }
}

/// Receives the slots of one object, in the object's own (stable) order.
///
/// Implemented for every `FnMut(Slot<R>)`, so a VM's `scan` can be fed a closure.
pub trait SlotVisitor<R> {
    /// Called once per slot, in order.
    fn visit(&mut self, slot: Slot<R>);
}

impl<R, F: FnMut(Slot<R>)> SlotVisitor<R> for F {
    fn visit(&mut self, slot: Slot<R>) {
        self(slot)
    }
}

/// Where a frozen object is placed; passed to [`ObjectModel::write_frozen`] so the VM can set a
/// "frozen" flag or clear GC bits in the copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placement {
    /// The flash section (read-only once written).
    Flash,
    /// The frozen RAM section (writable, scanned by the VM's GC as a root).
    Ram,
}

/// A VM's object model, as the freezer needs it.
///
/// All methods take `&self`: a test VM is a plain value, and the freezer never mutates the heap
/// while planning (in-object forwarding, if used, goes through [`InObjectForwarding`]).
pub trait ObjectModel {
    /// The VM's reference to an object. `Ord` gives the freezer a deterministic tie-break.
    type Ref: Copy + Eq + Ord + fmt::Debug;

    /// How a reference word of a frozen object encodes an address: its width (4 or 8 bytes)
    /// and its tag, compression or interior offset. The one place the reference width is
    /// given: the store, the image header and the mount validator all take it from here.
    ///
    /// Wrong answer: an encoding that [`RefEncoding::check`] refuses is a contract error; one
    /// that is not the VM's own makes frozen words the VM reads wrongly (the mount validator
    /// decodes them the same way, so they still land on object starts: a wrong object for this
    /// VM, never a wild pointer). Bind the encoding into the firmware id, as the frozen layouts.
    const ENCODING: RefEncoding;

    /// Where `obj` lives.
    ///
    /// Wrong answer: calling a heap object `Static` keeps a pointer into the heap in the image
    /// (the image validator of the VM's static ranges rejects it at mount time); calling a static
    /// object `Heap` copies it (harmless but wasteful).
    fn space(&self, obj: Self::Ref) -> Space;

    /// The address of `obj`'s start (before [`ObjectModel::ENCODING`] makes it a word). For
    /// `Static` and `Frozen` objects this is the address kept in the image.
    ///
    /// Wrong answer: only kept objects' addresses are written; a wrong one is a wrong pointer the
    /// mount-time validator rejects if it falls outside the VM's declared static ranges.
    fn address(&self, obj: Self::Ref) -> u64;

    /// Whether a heap object may change after freezing.
    ///
    /// Wrong answer: an object called `Immutable` that the VM later writes will fault or be
    /// refused by the VM's frozen-write check; the freezer itself cannot see this.
    fn mutability(&self, obj: Self::Ref) -> Mutability;

    /// Size and alignment of the frozen copy of a heap object.
    ///
    /// Wrong answer: zero size, a non-power-of-two alignment, or a slot outside the size is a
    /// contract error. The freezer asks again when it writes and refuses a different answer.
    fn frozen_layout(&self, obj: Self::Ref) -> FrozenLayout;

    /// Visit every reference slot of a heap object, in a stable order.
    ///
    /// Wrong answer: a slot not reported is frozen as the bytes `write_frozen` wrote (a dangling
    /// pointer the mount validator refuses only if it falls outside every known range); a slot
    /// out of bounds or misaligned is a contract error; a different slot list at write time is a
    /// contract error.
    fn scan(&self, obj: Self::Ref, visitor: &mut dyn SlotVisitor<Self::Ref>);

    /// Write the frozen copy of a heap object into `out` (exactly `frozen_layout(obj).size`
    /// bytes, zeroed). Reference slots may be left as anything: the freezer overwrites each one
    /// with the assigned address after this call.
    ///
    /// Wrong answer: wrong non-reference bytes make a wrong frozen object for this VM; they cannot
    /// create a pointer.
    fn write_frozen(&self, obj: Self::Ref, placement: Placement, out: &mut [u8]);

    /// A dense index of a heap object, below [`ObjectModel::heap_index_limit`], used by the
    /// freezer's side table (one bit per index, and a rank directory). For a heap of fixed-size
    /// blocks this is `(address - heap_start) / block_size`.
    ///
    /// Wrong answer: an index at or above the limit is a contract error; two objects sharing an
    /// index are taken for one (the second is frozen as the first: wrong but memory-safe).
    fn heap_index(&self, obj: Self::Ref) -> usize;

    /// One past the largest [`ObjectModel::heap_index`].
    fn heap_index_limit(&self) -> usize;

    /// A short name of the object's kind for stats, dumps and paths (`"str"`, `"function"`…).
    fn kind_name(&self, obj: Self::Ref) -> &'static str {
        let _ = obj;
        "object"
    }

    /// How many interned strings the object holds, for the stats' qstr count: 1 for an
    /// interned string object, `n` for a pool that packs `n` strings' texts inline, 0 otherwise.
    fn interned_strs(&self, obj: Self::Ref) -> u32 {
        let _ = obj;
        0
    }

    /// Whether the immutable heap object `obj` may share one frozen copy with the other objects
    /// equal to it, when a freeze deduplicates ([`crate::plan::Dedup`]). Equal means: the same
    /// [`ObjectModel::kind_name`], the same frozen layout, the same frozen bytes (reference words
    /// aside) and, slot by slot, the same tags and the same targets once forwarded — so a tuple
    /// of two equal strings equals another such tuple once its strings are merged.
    ///
    /// Answer per kind, from the VM's semantics: `true` for a kind whose equal objects a program
    /// cannot tell apart (MicroPython gives immutable constants — str, bytes, tuples, floats, big
    /// ints — no identity guarantee); `false` for a kind with identity a program can see
    /// (functions, classes, modules, instances: `is`, attributes). The default is `false`:
    /// nothing merges, and images are as without deduplication.
    ///
    /// Wrong answer: `true` for a kind whose equal frozen bytes do not make equal objects for the
    /// VM (state kept outside the frozen copy, identity a program compares) turns such objects
    /// into one after the freeze: every reference to either reads the one copy, `is` between
    /// them is true, and a VM that later tells them apart by address sees one object. The
    /// freezer cannot see this; the image stays valid (merging only ever gives a reference the
    /// address of an object it wrote, or of an equal object of an earlier batch).
    fn may_merge(&self, obj: Self::Ref) -> bool {
        let _ = obj;
        false
    }

    /// For an object frozen by an earlier batch, given its frozen bytes as they lie in flash:
    /// the [`ObjectModel::kind_name`] it had if [`ObjectModel::may_merge`] says its kind may
    /// merge, else `None`. With it a new batch reuses an equal object of an earlier batch
    /// instead of freezing another copy ([`crate::plan::Dedup::earlier_entries`]); the default,
    /// `None`, keeps merging within each batch.
    ///
    /// The freezer compares an earlier object with a heap object by this kind, the size, every
    /// byte and the positions of the reference words (from the earlier batch's pointer map).
    ///
    /// Wrong answer: a name other than the heap objects' for the same kind prevents merges; the
    /// name of a mergeable kind for an object of another kind lets objects of two kinds with
    /// equal bytes share a copy (as a wrong [`ObjectModel::may_merge`] does).
    fn mergeable_frozen_kind(&self, frozen: &[u8]) -> Option<&'static str> {
        let _ = frozen;
        None
    }

    /// Write the label of the edge through the `slot_index`-th slot of `obj` (0-based, in
    /// [`ObjectModel::scan`] order), as it should appear in a path from a root:
    /// `.name` for an attribute or a dict entry, `[3]` for an item, `.<defaults>` for an internal
    /// field. The default is `[slot_index]`.
    fn edge_label(&self, obj: Self::Ref, slot_index: u32, out: &mut dyn fmt::Write) -> fmt::Result {
        let _ = obj;
        write!(out, "[{slot_index}]")
    }
}

/// The forwarding state the freezer keeps in an object header (see [`InObjectForwarding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Forwarding {
    /// Not seen by the freezer (the header's normal state).
    Unmarked,
    /// Reached by the traversal; no address assigned yet.
    Marked,
    /// The address of the frozen copy.
    Forwarded(u64),
}

/// Optional capability: the VM keeps the freezer's forwarding state in each heap object, so the
/// freezer needs no side table.
///
/// Uses interior mutability (`&self`): the header word is VM memory the freezer does not own.
/// The freezer restores every object it marked to [`Forwarding::Unmarked`] when a plan is
/// dropped through [`crate::Plan::release`], succeeds or fails.
pub trait InObjectForwarding: ObjectModel {
    /// The state stored in `obj`'s header.
    ///
    /// Wrong answer: reporting `Marked` for an object never marked makes the freezer skip it (a
    /// contract error at write time, when its address is missing).
    fn forwarding(&self, obj: Self::Ref) -> Forwarding;

    /// Store `state` in `obj`'s header.
    fn set_forwarding(&self, obj: Self::Ref, state: Forwarding);
}

/// The freezer's answer to "where did this object go?", lent to [`LiveHeap::rewrite_live_refs`].
pub type Forward<'a, M> =
    dyn FnMut(&M, <M as ObjectModel>::Ref) -> Option<<M as ObjectModel>::Ref> + 'a;

/// Optional capability: the VM can enumerate and rewrite its live references, so that after an
/// image is written the VM continues on the frozen copies and the originals become garbage.
///
/// [`crate::store::Store::freeze`] uses it after the batch is committed: it copies the new RAM
/// section's initial state into [`LiveHeap::ram_area`], then calls
/// [`LiveHeap::rewrite_live_refs`] once.
pub trait LiveHeap: ObjectModel {
    /// Visit every live reference of the VM and call `forward(self, target)` on it; when it
    /// returns `Some(new)`, store `new` in that slot. Visit:
    ///
    /// - the VM's own roots: the module table, globals, interned-string tables, the stacks and
    ///   frames of every thread or coroutine, native handles' references, caches;
    /// - every heap object's reference slots (garbage may be visited too: it is harmless). An
    ///   object for which `forward` itself answers `Some` (an original this freeze placed) may
    ///   be skipped: once every other slot is rewritten nothing live points at it, so its
    ///   slots are garbage's;
    /// - **every object in the frozen RAM area** — earlier batches' RAM-section objects too:
    ///   they are live and mutable, and may have been made to point at heap objects since they
    ///   were frozen (the new batch's RAM objects already hold frozen addresses; visiting them
    ///   is harmless);
    ///
    /// and nothing in flash (frozen immutable objects never point into the heap).
    ///
    /// `forward` takes `&Self` so the VM can lend itself between reading a slot and writing it.
    /// It returns `Some` only for heap objects the freeze placed; calling it on anything else
    /// (an immediate the VM cannot tell from a reference, a static) returns `None`.
    ///
    /// Wrong answer: a slot not visited keeps pointing at the original (a leak, not a fault:
    /// the original stays alive and equal to the frozen copy at freeze time — but a mutable
    /// original and its RAM-section copy then diverge, so visit every slot).
    fn rewrite_live_refs(&mut self, forward: &mut Forward<'_, Self>);

    /// The reference to the frozen object at `address` (in the image just written and mounted).
    fn frozen_ref(&self, address: u64) -> Self::Ref;

    /// The frozen RAM area as the VM holds it: [`crate::image::Layout::ram_len`] bytes at
    /// [`crate::image::Layout::ram_address`] (on a device, the RAM at that address; on a host,
    /// the buffer that models it). [`crate::store::Store::freeze`] copies the new batch's RAM
    /// section into it, as [`crate::mount::mount`] does at boot.
    fn ram_area(&mut self) -> &mut [u8];
}
