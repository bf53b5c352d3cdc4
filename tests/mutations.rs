//! A bounded, deterministic stand-in for the fuzz targets, run natively and under Miri on a
//! 32-bit target (`.ci/run`, `i686-unknown-linux-gnu`, overflow checks on): a valid two-batch
//! image, mutated — bit flips, bytes, and words near `u32::MAX` in the headers, maps and root
//! entries — re-sealed so every CRC passes, then mounted. Never a panic, and a mount that
//! succeeds hands out no wild pointer.

mod image_support;

use std::collections::BTreeSet;

use flashfreeze::image::{DecodeError, Image, Tail};
use flashfreeze::testing::TestHeap;
use flashfreeze::unstable::{Mapped, Reader, reseal_batch, scan_chain};
use flashfreeze::{Root, RootKind};
use image_support::*;

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
    let (mut mounted, mut refused) = (0, 0);
    for _ in 0..n {
        let mut region = base.clone();
        for _ in 0..1 + rng.below(3) {
            // Mostly the first 256 bytes of a batch: header, roots, maps of small batches.
            let batch = rng.below(2) as usize * 4096;
            let within = if rng.below(4) == 0 { 4096 } else { 256 };
            let at = batch + rng.below(within) as usize;
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
    }
    assert!(
        mounted > 0 && refused > 0,
        "mounted {mounted}, refused {refused}"
    );
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
