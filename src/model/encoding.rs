//! [`RefEncoding`]: how a frozen reference word encodes an address.

use core::fmt;

/// How a frozen reference word encodes an object's address.
///
/// ```text
/// word = ((address + interior − base) >> shift) | tag          written `width` bytes, little-endian
///
///  address ──+interior──► the word points into the object (e.g. past a header)
///          ──−base, >>shift──► compressed (e.g. 32-bit words for a heap above 4 GiB)
///          ──| tag──► tag bits (low tag bits, or NaN-boxing's high bits)
/// ```
///
/// Decoding is the inverse: the tag bits ([`RefEncoding::tag_mask`]) are dropped, the rest is
/// shifted back and rebased. The freezer encodes every reference it writes; the mount
/// validator, the store's check before commit and [`crate::image::read::rebase`] decode every
/// word the pointer map names, and check the address it decodes to. Objects are placed at
/// addresses the encoding can express: aligned to [`RefEncoding::granule`] (`1 << shift`).
///
/// The encoding is data, not code, so that boot-time validation runs no VM code and checks
/// exactly what the VM reads: `decode(encode(a)) == a` for every address the freezer assigns.
///
/// | VM | encoding |
/// |---|---|
/// | MicroPython (tag 0b00 pointers), 32-bit | [`RefEncoding::ADDRESS_32`] (the default) |
/// | native 64-bit pointers | [`RefEncoding::ADDRESS_64`] |
/// | pointers tagged `0b1` in the low bit | `ADDRESS_32.with_tag(0b1, 0b1)` |
/// | NaN-boxed values, pointers in 48 bits under a tag | [`RefEncoding::nan_boxed`]`(0xFFFC)` |
/// | 32-bit compressed references, 8-byte granule, heap above 4 GiB | `ADDRESS_32.compressed(base, 3)` |
/// | a reference points 8 bytes into the object (past a header) | `ADDRESS_32.interior(8)` |
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefEncoding {
    /// No tag, compression or interior offset: the word is the address (the fast path).
    plain: bool,
    width: u8,
    shift: u8,
    interior: u32,
    base: u64,
    tag_mask: u64,
    tag: u64,
}

impl RefEncoding {
    /// 4-byte words holding the object's address: MicroPython's tag-`0b00` pointers.
    pub const ADDRESS_32: Self = Self::address(4);
    /// 8-byte words holding the object's address: native 64-bit pointers.
    pub const ADDRESS_64: Self = Self::address(8);
    /// Largest [`RefEncoding::compressed`] shift: objects stay aligned when a rebase moves an
    /// image by a multiple of 4096.
    pub const MAX_SHIFT: u32 = 12;

    /// `width`-byte words (4 or 8; [`RefEncoding::check`] refuses others) holding the address.
    pub const fn address(width: u32) -> Self {
        Self {
            plain: true,
            width: width as u8,
            shift: 0,
            interior: 0,
            base: 0,
            tag_mask: 0,
            tag: 0,
        }
    }

    /// NaN-boxing: 8-byte words whose top 16 bits are `tag` and whose low 48 bits hold the
    /// address (so addresses below 2^48, as user-space and device addresses are).
    pub const fn nan_boxed(tag: u16) -> Self {
        Self::ADDRESS_64.with_tag(0xFFFF_0000_0000_0000, (tag as u64) << 48)
    }

    /// The same, with tag bits: `mask` says which bits of a word are tag bits, `tag` is the
    /// value they take by default (a slot may give another one: [`crate::Slot::tagged`]).
    pub const fn with_tag(self, mask: u64, tag: u64) -> Self {
        Self {
            tag_mask: mask,
            tag,
            ..self
        }
        .replan()
    }

    /// The same, compressed: the word holds `(address − base) >> shift`. Every object is then
    /// placed at a multiple of `1 << shift` from `base`.
    pub const fn compressed(self, base: u64, shift: u32) -> Self {
        Self {
            base,
            shift: shift as u8,
            ..self
        }
        .replan()
    }

    /// The same, pointing `offset` bytes into the object (e.g. past a header the VM keeps
    /// before what its references point at).
    pub const fn interior(self, offset: u32) -> Self {
        Self {
            interior: offset,
            ..self
        }
        .replan()
    }

    const fn replan(self) -> Self {
        Self {
            plain: self.shift == 0 && self.interior == 0 && self.base == 0 && self.tag_mask == 0,
            ..self
        }
    }

    /// Width of a reference word in bytes: 4 or 8.
    pub const fn width(&self) -> u32 {
        self.width as u32
    }

    /// The tag bits of a word.
    pub const fn tag_mask(&self) -> u64 {
        self.tag_mask
    }

    /// The default tag.
    pub const fn tag(&self) -> u64 {
        self.tag
    }

    /// The alignment every frozen object gets so that its address is encodable (`1 << shift`).
    pub const fn granule(&self) -> u32 {
        1 << self.shift
    }

    /// The bits a word of this width has.
    const fn word_mask(&self) -> u64 {
        if self.width >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * self.width as u32)) - 1
        }
    }

    /// Whether this encoding can be used, and if not, why.
    pub const fn check(&self) -> Result<(), &'static str> {
        if self.width != 4 && self.width != 8 {
            return Err("the reference width is not 4 or 8 bytes");
        }
        if self.shift as u32 > Self::MAX_SHIFT {
            return Err("the compression shift is above 12");
        }
        if self.base % (1u64 << self.shift) != 0 {
            return Err("the compression base is not a multiple of the granule");
        }
        if self.tag & !self.tag_mask != 0 {
            return Err("the tag has bits outside the tag mask");
        }
        if self.tag_mask & !self.word_mask() != 0 {
            return Err("the tag mask has bits outside the word");
        }
        if self.tag_mask == self.word_mask() {
            return Err("the tag mask leaves no bits for the address");
        }
        Ok(())
    }

    /// The word for `address` with the default tag, or `None` when the encoding cannot express
    /// it (below the base, not on the granule, too large for the width, or overlapping the tag
    /// bits).
    pub const fn encode(&self, address: u64) -> Option<u64> {
        self.encode_tagged(address, self.tag)
    }

    /// The word for `address` with tag bits `tag` (`None` also when `tag` is not inside the
    /// tag mask).
    pub const fn encode_tagged(&self, address: u64, tag: u64) -> Option<u64> {
        if self.plain {
            return if tag == 0 && address & !self.word_mask() == 0 {
                Some(address)
            } else {
                None
            };
        }
        if tag & !self.tag_mask != 0 {
            return None;
        }
        let Some(at) = address.checked_add(self.interior as u64) else {
            return None;
        };
        let Some(rel) = at.checked_sub(self.base) else {
            return None;
        };
        if rel % (1u64 << self.shift) != 0 {
            return None;
        }
        let v = rel >> self.shift;
        if v & self.tag_mask != 0 || v & !self.word_mask() != 0 {
            return None;
        }
        Some(v | tag)
    }

    /// The address a word decodes to (its tag bits dropped), or `None` when it is wider than
    /// the encoding's width or decodes outside the address space.
    #[inline]
    pub const fn decode(&self, word: u64) -> Option<u64> {
        if word & !self.word_mask() != 0 {
            return None;
        }
        if self.plain {
            return Some(word);
        }
        let v = word & !self.tag_mask;
        // `v` fits the word (≤ 64 bits) and shift ≤ 12: check the shift loses nothing.
        if self.shift != 0 && v.leading_zeros() < self.shift as u32 {
            return None;
        }
        let Some(at) = (v << self.shift).checked_add(self.base) else {
            return None;
        };
        at.checked_sub(self.interior as u64)
    }
}

impl Default for RefEncoding {
    /// [`RefEncoding::ADDRESS_32`].
    fn default() -> Self {
        Self::ADDRESS_32
    }
}

impl fmt::Display for RefEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-byte references", self.width)?;
        if self.tag_mask != 0 {
            write!(f, ", tag {:#x} under {:#x}", self.tag, self.tag_mask)?;
        }
        if self.shift != 0 || self.base != 0 {
            write!(f, ", compressed from {:#x} >> {}", self.base, self.shift)?;
        }
        if self.interior != 0 {
            write!(f, ", {} bytes into the object", self.interior)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn the_default_is_the_bare_address() {
        let e = RefEncoding::default();
        assert_eq!(e.check(), Ok(()));
        assert_eq!(e.encode(0x1010_0040), Some(0x1010_0040));
        assert_eq!(e.encode(0x1_0000_0000), None, "does not fit 32 bits");
        assert_eq!(e.decode(0x2003_0000), Some(0x2003_0000));
        assert_eq!(e.decode(0x1_0000_0000), None);
        assert_eq!(RefEncoding::ADDRESS_64.encode(u64::MAX), Some(u64::MAX));
    }

    #[test]
    fn nan_boxing_round_trips_and_refuses_addresses_above_48_bits() {
        let e = RefEncoding::nan_boxed(0xFFFC);
        assert_eq!(e.check(), Ok(()));
        let w = e.encode(0x0000_6000_0000_1230).unwrap();
        assert_eq!(w, 0xFFFC_6000_0000_1230);
        assert_eq!(e.decode(w), Some(0x6000_0000_1230));
        // Another tag under the mask decodes to the same address.
        assert_eq!(e.decode(0xFFFD_6000_0000_1230), Some(0x6000_0000_1230));
        assert_eq!(
            e.encode_tagged(0x10, 0xFFFD << 48),
            Some(0xFFFD_0000_0000_0010)
        );
        assert_eq!(e.encode_tagged(0x10, 1), None, "tag outside the mask");
        assert_eq!(e.encode(1 << 48), None);
    }

    #[test]
    fn compressed_references_reach_above_4_gib() {
        let base = 0x7f00_0000_0000;
        let e = RefEncoding::ADDRESS_32.compressed(base, 3);
        assert_eq!(e.check(), Ok(()));
        assert_eq!(e.granule(), 8);
        let a = base + 8 * 0xFFFF_FFF0;
        let w = e.encode(a).unwrap();
        assert_eq!(w, 0xFFFF_FFF0);
        assert_eq!(e.decode(w), Some(a));
        assert_eq!(e.encode(base + 4), None, "off the granule");
        assert_eq!(e.encode(base - 8), None, "below the base");
        assert_eq!(e.encode(base + 8 * (1 << 32)), None, "past 32 bits");
    }

    #[test]
    fn low_tags_and_interior_offsets() {
        let e = RefEncoding::ADDRESS_32.with_tag(0b1, 0b1).interior(8);
        assert_eq!(e.check(), Ok(()));
        assert_eq!(e.encode(0x2000_0010), Some(0x2000_0019));
        assert_eq!(e.decode(0x2000_0019), Some(0x2000_0010));
        assert_eq!(e.encode(0x2000_0011), None, "would set the tag bit");
        assert_eq!(e.decode(0x3), None, "decodes below 0");
    }

    #[test]
    fn bad_encodings_are_refused_with_the_reason() {
        assert!(RefEncoding::address(2).check().is_err());
        assert!(RefEncoding::ADDRESS_32.compressed(0, 13).check().is_err());
        assert!(RefEncoding::ADDRESS_32.compressed(4, 3).check().is_err());
        assert!(RefEncoding::ADDRESS_32.with_tag(0, 1).check().is_err());
        assert!(
            RefEncoding::ADDRESS_32
                .with_tag(1 << 40, 0)
                .check()
                .is_err()
        );
        assert!(
            RefEncoding::ADDRESS_32
                .with_tag(u32::MAX as u64, 0)
                .check()
                .is_err()
        );
    }

    #[test]
    fn display_names_every_part() {
        let e = RefEncoding::ADDRESS_32.compressed(0x1000, 3).interior(4);
        assert_eq!(
            e.to_string(),
            "4-byte references, compressed from 0x1000 >> 3, 4 bytes into the object"
        );
        assert_eq!(
            RefEncoding::nan_boxed(0xFFFC).to_string(),
            "8-byte references, tag 0xfffc000000000000 under 0xffff000000000000"
        );
    }
}
