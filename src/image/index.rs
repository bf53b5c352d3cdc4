//! The cross-batch content index: the objects of a region's earlier batches that a new batch may
//! reuse instead of freezing an equal copy (the dedup stage's `Earlier`, `src/dedup.rs`).
//!
//! Built when a freeze starts, from the chain the store has validated, and dropped when the
//! plan is made: nothing is kept between freezes, nothing is added to the image, and mount
//! does not pay for it.
//!
//! ```text
//! earlier batch: [header][flash objects …………][RAM][roots][pointer map][object map]
//!                          │ each object ≤ the largest candidate, of a kind the VM names
//!                          │ (ObjectModel::mergeable_frozen_kind of its bytes):
//!                          ▼
//! entries, sorted:  (hash of kind + bytes + reference-word offsets, region offset, size)
//! ```
//!
//! A lookup binary-searches the hash, then for each entry with it (lowest address first)
//! reads the object's bytes again and compares them, its kind and its reference words (from
//! its batch's pointer map) with the candidate's: a hash collision never merges.
//!
//! # Cost
//! - RAM, while a freeze runs: 12 bytes per indexed object (at most the configured
//!   [`crate::plan::Dedup::earlier_entries`]; the vector grows by doubling), the bytes of one
//!   object of at most the largest candidate's size, two 64-byte cursors;
//! - flash: none (the format is unchanged);
//! - time: one read of every earlier flash object up to that size, and of each batch's maps.
//!
//! The alternative, an index stored in each batch, costs flash for every batch whether or not
//! a later batch reuses anything (at 6–8 bytes per mergeable object about as much as the merges
//! save on real code) and a format version; this one costs RAM only while freezing.

use alloc::vec::Vec;
use core::cell::RefCell;

use zerocopy::FromBytes;

use super::format::{BatchHeader, HEADER_LEN, Input, ObjectMapDecoder, PointerMapDecoder};
use super::read::{BatchInfo, Source};
use crate::dedup::{Candidate, ContentHash, Earlier, Fold, full_hash};

/// One indexed object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// The low 32 bits of its [`full_hash`].
    hash: u32,
    /// Region offset of its first byte.
    offset: u32,
    size: u32,
}

/// The index over the earlier batches `batches` of a region read through `S`, mapped at
/// `region_address`. `H` is the content hash (tests substitute a weak one).
pub(crate) struct EarlierIndex<'a, S: Source, H = Fold> {
    src: RefCell<S>,
    batches: &'a [BatchInfo],
    region_address: u64,
    cap: usize,
    entries: Vec<Entry>,
    buf: Vec<u8>,
    peak: usize,
    error: Option<S::Error>,
    _hash: core::marker::PhantomData<H>,
}

/// A forward byte input over a range of the region (the map decoders' [`Input`]).
struct Cursor<'s, S: Source> {
    src: &'s RefCell<S>,
    pos: u32,
    end: u32,
    start: u32,
    buf: [u8; 64],
    have: usize,
    at: usize,
    failed: Option<S::Error>,
}

impl<'s, S: Source> Cursor<'s, S> {
    fn new(src: &'s RefCell<S>, start: u32, len: u32) -> Self {
        Self {
            src,
            pos: start,
            end: start.saturating_add(len),
            start,
            buf: [0; 64],
            have: 0,
            at: 0,
            failed: None,
        }
    }
}

impl<S: Source> Input for Cursor<'_, S> {
    fn next_byte(&mut self) -> Option<u8> {
        if self.at == self.have {
            if self.pos >= self.end || self.failed.is_some() {
                return None;
            }
            let n = ((self.end - self.pos) as usize).min(self.buf.len());
            if let Err(e) = self.src.borrow_mut().read(self.pos, &mut self.buf[..n]) {
                self.failed = Some(e);
                return None;
            }
            self.pos += n as u32;
            self.have = n;
            self.at = 0;
        }
        let b = self.buf[self.at];
        self.at += 1;
        Some(b)
    }

    fn consumed(&self) -> usize {
        (self.pos - self.start) as usize - (self.have - self.at)
    }

    fn is_done(&self) -> bool {
        self.at == self.have && self.pos >= self.end
    }
}

/// Fill `buf` with the `size` bytes at region offset `offset`; `false` (and the error kept in
/// `error`) if they cannot be read or held.
fn read_into<S: Source>(
    src: &RefCell<S>,
    buf: &mut Vec<u8>,
    offset: u32,
    size: u32,
    error: &mut Option<S::Error>,
) -> bool {
    buf.clear();
    if buf.try_reserve_exact(size as usize).is_err() {
        return false;
    }
    buf.resize(size as usize, 0);
    match src.borrow_mut().read(offset, buf) {
        Ok(()) => true,
        Err(e) => {
            error.get_or_insert(e);
            false
        }
    }
}

/// A batch's layout, from its header (validated with the chain).
struct Layout {
    /// Region offset of the flash section, its length and object count.
    flash: (u32, u32, u32),
    /// Region offsets and lengths of the pointer map and the object map.
    pointer_map: (u32, u32),
    object_map: (u32, u32),
    /// Words the pointer map covers, and the reference width.
    words: u64,
    ref_bytes: u32,
}

impl<'a, S: Source, H: ContentHash> EarlierIndex<'a, S, H> {
    /// An index of at most `cap` objects of `batches` (the chain's valid batches).
    pub fn new(src: S, batches: &'a [BatchInfo], region_address: u64, cap: u32) -> Self {
        Self {
            src: RefCell::new(src),
            batches,
            region_address,
            cap: cap as usize,
            entries: Vec::new(),
            buf: Vec::new(),
            peak: 0,
            error: None,
            _hash: core::marker::PhantomData,
        }
    }

    /// The first read error met, if any (the index then holds what it read before).
    pub fn take_error(&mut self) -> Option<S::Error> {
        self.error.take()
    }

    /// Objects indexed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn layout(&mut self, b: &BatchInfo) -> Option<Layout> {
        let mut h = [0u8; HEADER_LEN];
        if let Err(e) = self.src.get_mut().read(b.offset, &mut h) {
            self.error.get_or_insert(e);
            return None;
        }
        let h = BatchHeader::read_from_bytes(&h).ok()?;
        let at = |o: u32| b.offset.checked_add(o);
        let (flash_words, ram_words) = h.pointer_words();
        Some(Layout {
            flash: (
                at(h.flash.offset.get())?,
                h.flash.len.get(),
                h.flash_objects.get(),
            ),
            pointer_map: (at(h.pointer_map.offset.get())?, h.pointer_map.len.get()),
            object_map: (at(h.object_map.offset.get())?, h.object_map.len.get()),
            words: flash_words + ram_words,
            ref_bytes: u32::from(h.ref_bytes.max(1)),
        })
    }

    fn read(&mut self, offset: u32, size: u32) -> bool {
        let ok = read_into(&self.src, &mut self.buf, offset, size, &mut self.error);
        self.peak = self.peak.max(self.heap_now());
        ok
    }

    fn heap_now(&self) -> usize {
        self.entries.capacity() * core::mem::size_of::<Entry>() + self.buf.capacity()
    }

    /// Index one batch's flash objects; `false` to stop (the cap, a read error).
    fn index_batch(
        &mut self,
        b: &BatchInfo,
        kind_of: &dyn Fn(&[u8]) -> Option<&'static str>,
        max_size: u32,
    ) -> bool {
        let Some(l) = self.layout(b) else {
            return self.error.is_none();
        };
        let (section, section_len, count) = l.flash;
        let rb = u64::from(l.ref_bytes);
        let mut refs: Vec<u32> = Vec::new();
        let mut go_on = true;
        // Objects and reference words are both in address order: one pass over each map.
        let mut objects = Cursor::new(&self.src, l.object_map.0, l.object_map.1);
        let mut pointers = Cursor::new(&self.src, l.pointer_map.0, l.pointer_map.1);
        {
            let objs = ObjectMapDecoder::with_input(&mut objects, count, u64::from(section_len));
            let mut words = PointerMapDecoder::with_input(&mut pointers, l.words).peekable();
            for object in objs {
                let Ok((start, size)) = object else { break };
                let (Ok(start32), Ok(size32)) = (u32::try_from(start), u32::try_from(size)) else {
                    break;
                };
                let end = start + size;
                let first = start.div_ceil(rb);
                while words
                    .next_if(|w| matches!(w, Ok(w) if *w < first))
                    .is_some()
                {}
                let wanted = size32 <= max_size;
                refs.clear();
                while let Some(Ok(w)) = words.next_if(|w| matches!(w, Ok(w) if w * rb + rb <= end))
                {
                    if wanted {
                        refs.push((w * rb - start) as u32);
                    }
                }
                if !wanted {
                    continue;
                }
                if self.entries.len() >= self.cap {
                    go_on = false;
                    break;
                }
                // Inside the validated region, but the sum is checked all the same.
                let Some(offset) = section.checked_add(start32) else {
                    break;
                };
                if !read_into(&self.src, &mut self.buf, offset, size32, &mut self.error) {
                    go_on = self.error.is_none();
                    break;
                }
                let Some(kind) = kind_of(&self.buf) else {
                    continue;
                };
                let hash = full_hash::<H>(kind, &self.buf, refs.iter().copied()) as u32;
                if self.entries.try_reserve(1).is_err() {
                    go_on = false;
                    break;
                }
                self.entries.push(Entry {
                    hash,
                    offset,
                    size: size32,
                });
                self.peak = self
                    .peak
                    .max(self.heap_now() + refs.capacity() * core::mem::size_of::<u32>());
            }
        }
        for e in [objects.failed, pointers.failed].into_iter().flatten() {
            self.error.get_or_insert(e);
            go_on = false;
        }
        go_on
    }

    /// Report the offsets (from the object's start) of the reference words of the object at
    /// section offset `start`, `size` bytes; `false` on a read error.
    fn refs_of(&mut self, l: &Layout, start: u32, size: u32, out: &mut dyn FnMut(u32)) -> bool {
        let rb = u64::from(l.ref_bytes);
        let first = u64::from(start).div_ceil(rb);
        let end = u64::from(start) + u64::from(size);
        let failed = {
            let mut cursor = Cursor::new(&self.src, l.pointer_map.0, l.pointer_map.1);
            for w in PointerMapDecoder::with_input(&mut cursor, l.words) {
                let Ok(w) = w else { break };
                if w < first {
                    continue;
                }
                if w * rb + rb > end {
                    break;
                }
                out((w * rb - u64::from(start)) as u32);
            }
            cursor.failed
        };
        match failed {
            None => true,
            Some(e) => {
                self.error.get_or_insert(e);
                false
            }
        }
    }
}

impl<S: Source, H: ContentHash> Earlier for EarlierIndex<'_, S, H> {
    fn build(&mut self, kind_of: &dyn Fn(&[u8]) -> Option<&'static str>, max_size: u32) {
        for b in self.batches {
            if !self.index_batch(b, kind_of, max_size) {
                break;
            }
        }
        self.entries.sort_unstable();
    }

    fn find(
        &mut self,
        kind_of: &dyn Fn(&[u8]) -> Option<&'static str>,
        c: &Candidate<'_>,
    ) -> Option<u64> {
        let hash = c.hash as u32;
        let from = self.entries.partition_point(|e| e.hash < hash);
        let mut i = from;
        while let Some(&e) = self.entries.get(i) {
            i += 1;
            if e.hash != hash {
                break;
            }
            if e.size as usize != c.bytes.len() || !self.read(e.offset, e.size) {
                continue;
            }
            if self.buf != c.bytes || kind_of(&self.buf) != Some(c.kind) {
                continue;
            }
            // Its reference words, from its batch's pointer map.
            let k = self.batches.partition_point(|b| b.end_offset() <= e.offset);
            let Some(b) = self.batches.get(k) else {
                continue;
            };
            let Some(l) = self.layout(b) else { continue };
            let Some(start) = e.offset.checked_sub(l.flash.0) else {
                continue;
            };
            let mut same = true;
            let mut n = 0usize;
            let read = self.refs_of(&l, start, e.size, &mut |r| {
                same &= c.refs.get(n) == Some(&r);
                n += 1;
            });
            if read && same && n == c.refs.len() {
                return Some(self.region_address + u64::from(e.offset));
            }
        }
        None
    }

    fn heap_bytes(&self) -> usize {
        self.peak.max(self.heap_now()) + 2 * core::mem::size_of::<Cursor<'_, S>>()
    }
}
