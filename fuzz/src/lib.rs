//! Helpers shared by the fuzz targets: the simulated device and configs, and graphs built
//! from fuzz input.

use std::ops::Range;

use flashfreeze::RefEncoding;
use flashfreeze::image::Layout;
use flashfreeze::image::{Image, ReadConfig};
use flashfreeze::model::Placement;
use flashfreeze::mount::{MountError, mount};
use flashfreeze::store::StoreConfig;
use flashfreeze::testing::{Kind, Obj, TestHeap, Value};

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

/// Mount `region` with [`read_cfg`]; when it mounts, check its pointers with
/// [`assert_pointers_sound`]. Returns the number of batches mounted.
pub fn mount_checked(region: &[u8]) -> Result<usize, MountError> {
    let cfg = read_cfg();
    let mut ram = vec![0u8; RAM_LEN as usize];
    let batches = mount(region, &cfg, &mut ram)?.batches().len();
    assert_pointers_sound(region, &cfg);
    Ok(batches)
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

/// Independent check of what a successful validation promises: every reference word of every
/// object holds an object start of the image or a static address.
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
