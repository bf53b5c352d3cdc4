//! Helpers shared by the fuzz targets: the simulated device and configs, and graphs built
//! from fuzz input.

use std::ops::Range;

use flashfreeze::RefEncoding;
use flashfreeze::image::Layout;
use flashfreeze::image::{BatchInfo, DecodeError, Image, PointerFault, ReadConfig, Section};
use flashfreeze::model::Placement;
use flashfreeze::mount::{MountError, mount};
use flashfreeze::store::StoreConfig;
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
use flashfreeze::unstable::format::{
    BatchHeader, ObjectMapDecoder, PointerMapDecoder, ROOT_ENTRY_LEN, START_GRAIN, START_WORD_BYTES,
};
use zerocopy::FromBytes;

/// Firmware id of every fuzz image.
pub const FW: &[u8] = b"fuzz-fw";
/// Where the region is mapped.
pub const REGION_ADDRESS: u64 = 0x1010_0000;
/// The frozen RAM area.
pub const RAM_ADDRESS: u64 = 0x2003_0000;
/// Its length.
pub const RAM_LEN: u64 = 8 * 1024;
/// Static ranges of the test heap.
#[allow(clippy::single_range_in_vec_init)] // a list of ranges that happens to hold one
pub const STATICS: &[Range<u64>] = &[0x0001_0000..0x0100_0000];
/// Region length used by the store targets.
pub const REGION_LEN: u32 = 16 * 4096;

/// The layout of the fuzz region.
pub fn layout() -> Layout<'static> {
    Layout::new(REGION_ADDRESS, 4096, RAM_ADDRESS, RAM_LEN, FW)
}

/// Reader configuration for 32-bit references.
pub fn read_cfg() -> ReadConfig<'static> {
    ReadConfig::new(layout(), RefEncoding::ADDRESS_32).with_statics(STATICS)
}

/// Store configuration: the region is the whole device, 32-bit references.
pub fn store_cfg() -> StoreConfig<'static> {
    StoreConfig::new(0, REGION_LEN, layout(), RefEncoding::ADDRESS_32).with_statics(STATICS)
}

/// Mount `region` with [`read_cfg`]; when it mounts, check what the mount promises under its
/// trust of the stored start bitmaps ([`assert_mount_sound`]), and that the general check
/// ([`Image::open`]) accepts a prefix of its batches with the promise of
/// [`assert_pointers_sound`], ending earlier only for what the mount trusts. Returns the number
/// of batches mounted.
pub fn mount_checked(region: &[u8]) -> Result<usize, MountError> {
    let cfg = read_cfg();
    let mut ram = vec![0u8; RAM_LEN as usize];
    let m = mount(region, &cfg, &mut ram)?;
    let offsets: Vec<u32> = m.batches().iter().map(|b| b.offset).collect();
    assert_mount_sound(region, &cfg, m.batches());
    let (general, refusal) = match Image::open(region, &cfg) {
        Ok(image) => (
            image.batches().iter().map(|b| b.offset()).collect(),
            image.tail().error().copied(),
        ),
        Err(e) => (Vec::new(), Some(e)),
    };
    assert!(
        offsets.starts_with(&general),
        "the mount refused what the general check accepts"
    );
    if general.len() < offsets.len() {
        let e = refusal.expect("the general check ends with a refusal");
        assert!(trusted_by_the_mount(&e), "the mount accepted past {e}");
    }
    if !general.is_empty() {
        assert_pointers_sound(region, &cfg);
    }
    Ok(offsets.len())
}

/// What the mount trusts and the general check does not (`docs/image-format.md`, "Start
/// bitmap").
pub fn trusted_by_the_mount(e: &DecodeError) -> bool {
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

/// What a mount that succeeds promises: every pointer word its batches' pointer maps name, and
/// every root, decodes to a static address or into a section of a mounted batch, at a grain its
/// stored start bitmap marks (off the grain: an object start of its object map).
pub fn assert_mount_sound(region: &[u8], cfg: &ReadConfig<'_>, mounted: &[BatchInfo]) {
    let batches: Vec<(usize, BatchHeader, [Range<u64>; 2])> = mounted
        .iter()
        .map(|b| {
            let h = BatchHeader::read_from_prefix(&region[b.offset as usize..])
                .unwrap()
                .0;
            (b.offset as usize, h, [b.flash.clone(), b.ram.clone()])
        })
        .collect();
    let word = |at: usize| u32::from_le_bytes(region[at..at + 4].try_into().unwrap());
    let marked = |a: u64| {
        cfg.statics.iter().any(|r| r.contains(&a))
            || batches.iter().any(|(off, h, sections)| {
                let bitmap = off + h.start_bitmap().unwrap().offset.get() as usize;
                let flash_words = h.flash.len.get().div_ceil(START_WORD_BYTES);
                sections.iter().enumerate().any(|(s, range)| {
                    if !range.contains(&a) {
                        return false;
                    }
                    let rel = (a - range.start) as u32;
                    if rel % START_GRAIN != 0 {
                        let map = &region[off + h.object_map.offset.get() as usize..]
                            [..h.object_map.len.get() as usize];
                        let mut flash =
                            ObjectMapDecoder::new(map, 0, h.flash_objects.get(), u64::MAX);
                        flash.by_ref().for_each(drop);
                        let (pos, n, len) = match s {
                            0 => (0, h.flash_objects.get(), h.flash.len.get()),
                            _ => (flash.position(), h.ram_objects.get(), h.ram.len.get()),
                        };
                        return ObjectMapDecoder::new(map, pos, n, u64::from(len))
                            .any(|o| o.is_ok_and(|(start, _)| start == u64::from(rel)));
                    }
                    let w0 = if s == 0 { 0 } else { flash_words };
                    let bit = rel / START_GRAIN;
                    word(bitmap + 4 * (w0 + bit / 32) as usize) >> (bit % 32) & 1 == 1
                })
            })
    };
    for (off, h, _) in &batches {
        let batch = &region[*off..];
        let (fw, rw) = h.pointer_words();
        let ptrs =
            &batch[h.pointer_map.offset.get() as usize..][..h.pointer_map.len.get() as usize];
        for w in PointerMapDecoder::new(ptrs, fw + rw) {
            let w = w.expect("a mounted batch's pointer map decodes");
            let at = match w < fw {
                true => h.flash.offset.get() as usize + 4 * w as usize,
                false => h.ram.offset.get() as usize + 4 * (w - fw) as usize,
            };
            let to = u64::from(word(off + at));
            assert!(marked(to), "mounted pointer {to:#x}");
        }
        let table = &batch[h.roots_table.offset.get() as usize..];
        for i in 0..h.roots.get() as usize {
            let e = &table[i * ROOT_ENTRY_LEN..];
            assert!(
                marked(u64::from_le_bytes(e[..8].try_into().unwrap())),
                "mounted root"
            );
        }
    }
}

/// A graph of up to 64 objects shaped by `bytes`; returns a root.
pub fn graph(heap: &mut TestHeap<4>, bytes: &[u8]) -> Obj {
    let stat = heap.alloc_with(Kind::Static, vec![], vec![7; 4]);
    let n = (bytes.first().copied().unwrap_or(1) as usize % 64) + 1;
    let mut objs = Vec::new();
    for i in 0..n {
        let b = bytes.get(1 + i).copied().unwrap_or(i as u8);
        let kind = if b % 5 == 0 {
            Kind::Mutable
        } else {
            Kind::Immutable
        };
        objs.push(heap.alloc_with(kind, vec![], vec![b; usize::from(b % 13)]));
    }
    for i in 0..n {
        let b = bytes.get(1 + n + i).copied().unwrap_or(0);
        let v = match b % 4 {
            0 => Value::Int(i32::from(b)),
            1 => Value::Ref(stat),
            _ => Value::Ref(objs[usize::from(b) % n]),
        };
        heap.push_slot(objs[i], None, v);
        if i + 1 < n {
            heap.push_slot(objs[i], None, Value::Ref(objs[i + 1]));
        }
    }
    objs[0]
}

/// Independent check of what a successful general validation promises: every reference word
/// of every object holds an object start of the image or a static address.
pub fn assert_pointers_sound(region: &[u8], cfg: &ReadConfig<'_>) {
    let Ok(image) = Image::open(region, cfg) else {
        panic!("validated once, refused the second time");
    };
    // Each batch's objects, decoded once.
    let batches: Vec<_> = image.batches().iter().map(|b| (b, b.objects())).collect();
    let mut starts = std::collections::BTreeSet::new();
    for (b, objects) in &batches {
        for o in objects {
            starts.insert(o.address);
            if o.placement == Placement::Ram {
                assert!(b.ram_range().contains(&o.address));
            }
        }
    }
    let known = |a: u64| starts.contains(&a) || cfg.statics.iter().any(|r| r.contains(&a));
    for (b, objects) in &batches {
        for o in objects {
            for &(_, to) in &o.refs {
                assert!(known(to), "wild pointer {to:#x} in a validated image");
            }
        }
        for r in b.roots() {
            assert!(known(r.address));
        }
    }
}
