//! A bounded, deterministic stand-in for the fuzz targets, run natively and under Miri on a
//! 32-bit target (`.ci/run`, `i686-unknown-linux-gnu`, overflow checks on): a valid two-batch
//! image, mutated — bit flips, bytes, and words near `u32::MAX` in the headers, maps, start
//! bitmaps and root entries — re-sealed so every CRC passes, then mounted. Never a panic; the
//! general check (the store's before it commits, the tools') hands out no wild pointer; and the
//! mount, which trusts each batch's stored start bitmap as written (`docs/image-format.md`,
//! "Start bitmap"), accepts every batch the general check does, more only where that check
//! refuses what the mount documents it trusts, and never a target outside a section.

mod image_support;

use std::collections::BTreeSet;

use flashfreeze::image::{DecodeError, Image, PointerFault, Section, Tail};
use flashfreeze::mount::MountError;
use flashfreeze::testing::TestHeap;
use flashfreeze::unstable::format::{
    BatchHeader, ObjectMapDecoder, PointerMapDecoder, ROOT_ENTRY_LEN, START_GRAIN, START_WORD_BYTES,
};
use flashfreeze::unstable::{Mapped, Reader, reseal_batch, scan_chain};
use flashfreeze::{Root, RootKind};
use image_support::*;
use zerocopy::FromBytes;

const REGION_LEN: u32 = 4 * 4096;

fn two_batches() -> Vec<u8> {
    let mut heap = TestHeap::<4>::new();
    let mut rng = Rng(77);
    let a = random_graph(&mut heap, &mut rng, 20);
    let mut store = new_store(REGION_LEN, 4);
    freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "a", a[0])]).unwrap();
    let fa = load_frozen_root(&mut heap, region(store.flash(), REGION_LEN), "a");
    let b = random_graph(&mut heap, &mut rng, 20);
    heap.push_slot(b[0], Some("a"), flashfreeze::testing::Value::Ref(fa));
    freeze(&mut store, &heap, &[Root::new(RootKind::MODULE, "b", b[0])]).unwrap();
    region(store.flash(), REGION_LEN).to_vec()
}

/// What a successful validation promises, checked independently.
fn assert_sound(region: &[u8]) {
    let cfg = read_cfg(4);
    let Ok(image) = Image::open(region, &cfg) else {
        return;
    };
    let mut starts = BTreeSet::new();
    let objects: Vec<_> = image.batches().iter().map(|b| b.objects()).collect();
    for o in objects.iter().flatten() {
        starts.insert(o.address);
    }
    let known = |a: u64| starts.contains(&a) || cfg.statics.iter().any(|r| r.contains(&a));
    for o in objects.iter().flatten() {
        for &(_, to) in &o.refs {
            assert!(known(to), "wild pointer {to:#x} in a validated image");
        }
    }
    for b in image.batches() {
        for r in b.roots() {
            assert!(known(r.address));
        }
    }
}

/// What a validation found: the batches' offsets and the tail, or the first batch's refusal.
type Verdict = Result<(Vec<u32>, Tail), DecodeError>;

/// The validator's four paths — through buffered cursors (any [`Source`]) or in place (a
/// mapped region), with the bitmap of object starts or the object map's checkpoints only —
/// find the same batches and end the chain the same way, with the same error.
fn assert_paths_agree(region: &[u8]) {
    let cfg = read_cfg(4);
    let mut verdicts: Vec<(&str, Verdict)> = Vec::new();
    for (name, limit) in [("bitmap", usize::MAX), ("checkpoints", 0)] {
        let cfg = cfg.with_start_bitmap_limit(limit);
        let (index, tail) = match scan_chain(&Reader::new(Mapped(region)), &cfg) {
            Ok(x) => x,
            Err(never) => match never {},
        };
        let offsets: Vec<u32> = index.batches().iter().map(|b| b.offset).collect();
        let cursor = match (offsets.is_empty(), tail) {
            (true, Tail::Invalid { error, .. }) => Err(error),
            _ => Ok((offsets, tail)),
        };
        verdicts.push((name, cursor));
        let mapped = Image::open(region, &cfg).map(|image| {
            (
                image.batches().iter().map(|b| b.offset()).collect(),
                image.tail(),
            )
        });
        verdicts.push((name, mapped));
    }
    for (name, v) in &verdicts[1..] {
        assert_eq!(
            v, &verdicts[0].1,
            "{name}: another verdict than the cursor path with the bitmap"
        );
    }
}

/// The batches a verdict accepted, and the refusal that ends them (if any).
fn accepted(v: &Verdict) -> (Vec<u32>, Option<DecodeError>) {
    match v {
        Ok((offsets, tail)) => (offsets.clone(), tail.error().copied()),
        Err(e) => (Vec::new(), Some(*e)),
    }
}

/// What the mount trusts and the general check does not (`docs/image-format.md`, "Start
/// bitmap"): only a refusal of one of these may end the general check's chain before the
/// mount's.
fn trusted_by_the_mount(e: &DecodeError) -> bool {
    matches!(
        e,
        DecodeError::Map {
            section: Section::StartBitmap | Section::ObjectMap,
            ..
        } | DecodeError::Pointer {
            fault: PointerFault::WordOutsideObject,
            ..
        } | DecodeError::Layout {
            section: Section::Header,
            what: "all_starts differs from the object map",
            ..
        }
    )
}

/// The mount against the general check: it accepts every batch the general check accepts
/// (the same first batches), and a batch more only when the general check refuses it for what
/// the mount trusts; with the same batches, it ends the chain with the same error.
/// Whether the mount went further.
fn assert_mount_extends_the_general_check(region: &[u8]) -> bool {
    let cfg = read_cfg(4);
    let general: Verdict = Image::open(region, &cfg).map(|image| {
        (
            image.batches().iter().map(|b| b.offset()).collect(),
            image.tail(),
        )
    });
    let mount: Verdict = match mount_region(region, 4).0 {
        Ok(m) => Ok((m.batches().iter().map(|b| b.offset).collect(), m.tail())),
        Err(MountError::Invalid(e)) => Err(e),
        // No committed batch: nothing accepted, no refusal.
        Err(_) => Ok((Vec::new(), Tail::RegionEnd)),
    };
    let ((g, g_err), (m, m_err)) = (accepted(&general), accepted(&mount));
    assert!(
        m.starts_with(&g),
        "the mount refused a batch the general check accepts: {general:?} / {mount:?}"
    );
    if m.len() > g.len() {
        let e = g_err.expect("the general check ends its chain with a refusal");
        assert!(trusted_by_the_mount(&e), "mount accepted past {e}");
        return true;
    }
    assert_eq!(m_err, g_err, "the same batches, another refusal");
    false
}

/// What a mount that succeeds promises under its trust: every pointer word its batches' pointer
/// maps name, and every root, decodes to a static address or into a section of one of its
/// batches, at a grain whose bit that batch's stored start bitmap sets (or, off the grain, at
/// an object start of its object map: such a target is checked the general way).
fn assert_mount_sound(region: &[u8]) {
    let cfg = read_cfg(4);
    let Ok(m) = mount_region(region, 4).0 else {
        return;
    };
    type Mounted = (u32, BatchHeader, [core::ops::Range<u64>; 2]);
    let headers: Vec<Mounted> = m
        .batches()
        .iter()
        .map(|b| {
            let h = BatchHeader::read_from_prefix(&region[b.offset as usize..])
                .unwrap()
                .0;
            (b.offset, h, [b.flash.clone(), b.ram.clone()])
        })
        .collect();
    let word = |at: usize| u32::from_le_bytes(region[at..at + 4].try_into().unwrap());
    let marked = |a: u64| {
        if cfg.statics.iter().any(|r| r.contains(&a)) {
            return true;
        }
        headers.iter().any(|(off, h, [flash, ram])| {
            let bitmap = h.start_bitmap().unwrap();
            let flash_words = h.flash.len.get().div_ceil(START_WORD_BYTES);
            let sections = [
                (flash.clone(), 0, 0),
                (ram.clone(), flash_words, h.flash_objects.get()),
            ];
            sections
                .into_iter()
                .enumerate()
                .any(|(s, (range, w0, skip))| {
                    if !range.contains(&a) {
                        return false;
                    }
                    let rel = (a - range.start) as u32;
                    if rel % START_GRAIN != 0 {
                        let map = &region[*off as usize..][h.object_map.offset.get() as usize..]
                            [..h.object_map.len.get() as usize];
                        let mut pos = 0;
                        let mut flash = ObjectMapDecoder::new(map, 0, skip, u64::MAX);
                        flash.by_ref().for_each(drop);
                        pos += flash.position();
                        let (n, len) = match s {
                            0 => (h.flash_objects.get(), h.flash.len.get()),
                            _ => (h.ram_objects.get(), h.ram.len.get()),
                        };
                        return ObjectMapDecoder::new(map, pos, n, u64::from(len))
                            .any(|o| o.is_ok_and(|(start, _)| start == u64::from(rel)));
                    }
                    let bit = rel / START_GRAIN;
                    let at =
                        *off as usize + bitmap.offset.get() as usize + 4 * (w0 + bit / 32) as usize;
                    word(at) >> (bit % 32) & 1 == 1
                })
        })
    };
    for (off, h, _) in &headers {
        let batch = &region[*off as usize..];
        let (fw, rw) = h.pointer_words();
        let ptrs =
            &batch[h.pointer_map.offset.get() as usize..][..h.pointer_map.len.get() as usize];
        for w in PointerMapDecoder::new(ptrs, fw + rw) {
            let w = w.expect("a mounted batch's pointer map decodes");
            let at = match w < fw {
                true => h.flash.offset.get() as usize + 4 * w as usize,
                false => h.ram.offset.get() as usize + 4 * (w - fw) as usize,
            };
            let to = u64::from(word(*off as usize + at));
            assert!(
                marked(to),
                "mounted pointer {to:#x} at {at:#x} of batch {off:#x}"
            );
        }
        let table = &batch[h.roots_table.offset.get() as usize..];
        for i in 0..h.roots.get() as usize {
            let e = &table[i * ROOT_ENTRY_LEN..];
            let to = u64::from_le_bytes(e[..8].try_into().unwrap());
            assert!(marked(to), "mounted root {to:#x}");
        }
    }
}

#[test]
fn mutated_and_resealed_images_never_panic_and_never_validate_a_wild_pointer() {
    let base = two_batches();
    let n = if cfg!(miri) { 40 } else { 3000 };
    let mut rng = Rng(0x5EED);
    // Values that overflow 32-bit sums of offsets and lengths.
    let nasty = [
        u32::MAX,
        u32::MAX - 1,
        u32::MAX - 15,
        0x8000_0000,
        0x7FFF_FFFF,
        4096,
        0,
    ];
    let (mut mounted, mut refused, mut trusted) = (0, 0, 0);
    for _ in 0..n {
        let mut region = base.clone();
        for _ in 0..1 + rng.below(3) {
            // Mostly the first 256 bytes of a batch: header, roots, maps of small batches.
            let batch = rng.below(2) as usize * 4096;
            let within = if rng.below(4) == 0 { 4096 } else { 256 };
            let mut at = batch + rng.below(within) as usize;
            if rng.below(4) == 0 {
                // The start bitmap and the object map before it (what the mount trusts).
                let h = BatchHeader::read_from_prefix(&base[batch..]).unwrap().0;
                let from = batch + h.object_map.offset.get() as usize;
                let len = h.meta_end().unwrap() as usize + batch - from;
                at = from + rng.below(len as u64) as usize;
            }
            match rng.below(3) {
                0 => region[at] ^= 1 << rng.below(8),
                1 => region[at] = rng.next() as u8,
                _ => {
                    let at = at & !3;
                    let v = nasty[rng.below(nasty.len() as u64) as usize];
                    region[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        if rng.below(4) != 0 {
            for b in region.chunks_mut(4096) {
                let _ = reseal_batch(b);
            }
        }
        match mount_region(&region, 4).0 {
            Ok(_) => mounted += 1,
            Err(_) => refused += 1,
        }
        assert_sound(&region);
        assert_paths_agree(&region);
        trusted += usize::from(assert_mount_extends_the_general_check(&region));
        assert_mount_sound(&region);
    }
    assert!(
        mounted > 0 && refused > 0,
        "mounted {mounted}, refused {refused}"
    );
    // Mutations the mount trusts (a start bit set or cleared, an object map it does not
    // decode) do occur, and were checked above.
    assert!(
        cfg!(miri) || trusted > 0,
        "no mount went past the general check"
    );
    eprintln!("mounted {mounted}, refused {refused}, past the general check {trusted}");
}

/// The case found under Miri on i686: a CRC-valid root entry whose name offset is near
/// `u32::MAX` (its end overflows a 32-bit `usize`).
#[test]
fn a_root_name_offset_near_u32_max_is_refused_without_a_panic() {
    use flashfreeze::mount::MountError;
    let mut region = two_batches();
    let roots_off = u32::from_le_bytes(region[72..76].try_into().unwrap()) as usize;
    region[roots_off + 12..roots_off + 16].copy_from_slice(&(u32::MAX - 2).to_le_bytes());
    reseal_batch(&mut region[..4096]).unwrap();
    let e = mount_region(&region, 4).0.unwrap_err();
    assert_eq!(
        e,
        MountError::Invalid(DecodeError::Root {
            batch: 0,
            index: 0,
            what: "name outside the table"
        })
    );
}

/// A region whose sectors after a valid batch all hold crafted headers that chain by the
/// counted fields alone (magic, region offset, index, span) and claim sections of 4 GiB: the
/// mount's reservation from that count stays within the index's bounds, and the same batch
/// mounts as without them.
#[test]
fn crafted_headers_reserve_within_the_bounds_and_mount_nothing_more() {
    use flashfreeze::unstable::format::{BatchHeader, HEADER_LEN};
    use zerocopy::FromBytes;
    const SECTORS: u32 = 16;
    let mut heap = TestHeap::<4>::new();
    let a = random_graph(&mut heap, &mut Rng(5), 20);
    let clean = frozen_region(
        &heap,
        &[&[Root::new(RootKind::MODULE, "a", a[0])]],
        SECTORS * 4096,
    );
    let (m, _) = mount_region(&clean, 4);
    let m = m.expect("mount");
    let (batches, clean_heap) = (m.batches().len(), m.heap_bytes());
    let span = m.batches()[0].span;
    let mut region = clean.clone();
    let mut at = span;
    while at < SECTORS * 4096 {
        let header: Vec<u8> = clean[..HEADER_LEN].to_vec();
        let dst = &mut region[at as usize..at as usize + HEADER_LEN];
        dst.copy_from_slice(&header);
        let (h, _) = BatchHeader::mut_from_prefix(dst).unwrap();
        h.batch_offset.set(at);
        h.batch_index.set(at / 4096);
        h.span.set(4096);
        h.flash.len.set(u32::MAX);
        h.ram.len.set(u32::MAX);
        at += 4096;
    }
    let (m, _) = mount_region(&region, 4);
    let m = m.expect("mount");
    assert_eq!(
        m.batches().len(),
        batches,
        "the crafted headers mount nothing"
    );
    // The index's bound for this region: one entry per sector, the checkpoints, and the
    // bitmaps of starts (a bit per 4 bytes of region, a word more per section) with the list of
    // their chunks.
    let (len, max_batches) = (SECTORS as usize * 4096, SECTORS as usize);
    let bound = max_batches * flashfreeze::image::BatchInfo::HEAP_BYTES
        + (len / 512 + 2 * max_batches) * 8
        + (len / 128 + 2 * max_batches) * 4
        + 4 * core::mem::size_of::<Vec<u32>>();
    assert!(
        m.heap_bytes() <= bound,
        "{} heap bytes, bound {bound} (clean {clean_heap})",
        m.heap_bytes()
    );
}

/// The mount's documented trust, exactly: a start bit set at a grain inside an object (not an
/// object start), in a batch re-sealed so that every CRC passes, and a pointer word moved to
/// that grain, pass the mount (the bitmap is trusted as written, and the target lies in the
/// batch's section); the general check (the store's before it commits, the tools') refuses the
/// batch because its bitmap differs from its object map. A bit past the section's end, which
/// would let a pointer leave the section, the mount refuses itself.
#[test]
fn a_resealed_inconsistent_start_bitmap_passes_the_mount_and_fails_the_general_check() {
    let base = two_batches();
    let b1 = 4096usize;
    let h = BatchHeader::read_from_prefix(&base[b1..]).unwrap().0;
    let bitmap = b1 + h.start_bitmap().unwrap().offset.get() as usize;
    let mut region = base.clone();
    let word = reseal_fake_start(&mut region, b1);

    let m = mount_region(&region, 4)
        .0
        .expect("the mount trusts the bitmap");
    assert_eq!(m.batches().len(), 2, "{}", m.tail());
    let expected = DecodeError::Map {
        batch: 1,
        section: Section::StartBitmap,
        offset: word as u64,
        what: "the start bitmap differs from the object map",
    };
    let image = Image::open(&region, &read_cfg(4)).unwrap();
    assert_eq!(image.batches().len(), 1);
    assert_eq!(image.tail().error(), Some(&expected));
    let (index, tail) = match scan_chain(&Reader::new(Mapped(&region)), &read_cfg(4)) {
        Ok(x) => x,
        Err(never) => match never {},
    };
    assert_eq!((index.batches().len(), tail.error()), (1, Some(&expected)));

    // A bit past the flash section's end (inside its bitmap's last word): refused by the mount.
    let len = h.flash.len.get();
    if len % START_WORD_BYTES != 0 {
        let mut region = base.clone();
        let last = len.div_ceil(START_WORD_BYTES) - 1;
        let word = bitmap + 4 * last as usize;
        region[word + 3] |= 0x80;
        reseal_batch(&mut region[b1..]).unwrap();
        let m = mount_region(&region, 4).0.unwrap();
        assert_eq!(m.batches().len(), 1);
        assert_eq!(
            m.tail().error(),
            Some(&DecodeError::Map {
                batch: 1,
                section: Section::StartBitmap,
                offset: word as u64,
                what: "a start bit past its section's end",
            })
        );
    }
}
