//! Each way an image can be wrong gives its own error, naming what and where; none panics.

mod image_support;

use flashfreeze::image::Section;
use flashfreeze::image::{DecodeError, FirmwareId, Image, PointerFault, ReadConfig};
use flashfreeze::model::Placement;
use flashfreeze::mount::MountError;
use flashfreeze::sim::SimFlash;
use flashfreeze::store::Store;
use flashfreeze::testing::TestHeap;
use flashfreeze::unstable::reseal_batch;
use flashfreeze::{Root, RootKind};
use image_support::*;

const REGION_LEN: u32 = 4 * 4096;

/// A region holding one committed batch.
fn image() -> Vec<u8> {
    let mut heap = TestHeap::<4>::new();
    let g = random_graph(&mut heap, &mut Rng(5), 50);
    frozen_region(
        &heap,
        &[&[Root::new(RootKind::MODULE, "m", g[0])]],
        REGION_LEN,
    )
}

fn mount_err_with(region: &[u8], cfg: &ReadConfig<'_>) -> MountError {
    mount_with(region, cfg).0.expect_err("mount must fail")
}

fn mount_err(region: &[u8]) -> MountError {
    mount_err_with(region, &read_cfg(4))
}

fn decode_err(region: &[u8]) -> DecodeError {
    match mount_err(region) {
        MountError::Invalid(e) => e,
        e => panic!("expected a decode error, got {e}"),
    }
}

/// Region offset of the first pointer word in the flash section, and its value.
fn first_pointer(region: &[u8]) -> (usize, u64) {
    let image = Image::open(region, &read_cfg(4)).unwrap();
    let b = &image.batches()[0];
    let h = b.header();
    for o in b.objects() {
        if o.placement == Placement::Flash {
            if let Some(&(off, value)) = o.refs.first() {
                let at = b.offset() as usize
                    + h.flash.offset.get() as usize
                    + (o.address - h.flash_base.get()) as usize
                    + off as usize;
                return (at, value);
            }
        }
    }
    panic!("no pointer");
}

fn set_word(region: &mut [u8], at: usize, v: u32) {
    region[at..at + 4].copy_from_slice(&v.to_le_bytes());
    reseal_batch(&mut region[..4096]).unwrap();
}

#[test]
fn firmware_id_mismatch() {
    let region = image();
    let mut cfg = read_cfg(4);
    cfg.layout.firmware_id = b"another-build";
    let e = mount_err_with(&region, &cfg);
    assert_eq!(
        e,
        MountError::Invalid(DecodeError::FirmwareId {
            batch: 0,
            offset: 0,
            found: FirmwareId::new(FW),
            expected: FirmwareId::new(b"another-build"),
        })
    );
    assert_eq!(
        e.to_string(),
        "mount: image refused: batch 0 at 0x0: made by another firmware build (firmware id \"flashfreeze-test-fw-1\", this firmware is \"another-build\")"
    );
}

#[test]
fn format_version_mismatch() {
    let mut region = image();
    region[4] = 5; // version 5, header re-sealed so only the version differs
    reseal_batch(&mut region[..4096]).unwrap();
    let e = decode_err(&region);
    assert_eq!(
        e,
        DecodeError::Version {
            batch: 0,
            offset: 0,
            found: 5
        }
    );
    assert!(e.to_string().contains("format version 5"));
}

/// An image of an earlier format (`version`, the same header) is refused by name, with the fix
/// (re-freeze); its module names stay readable for it.
fn an_earlier_version_is_refused_with_the_reason(version: u8) {
    let mut region = image();
    region[4] = version;
    reseal_batch(&mut region[..4096]).unwrap();
    let e = decode_err(&region);
    assert_eq!(
        e,
        DecodeError::Version {
            batch: 0,
            offset: 0,
            found: u16::from(version)
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "format version {version}, this firmware reads version 4"
        )) && msg.contains("re-freeze"),
        "{msg}"
    );
    let names = flashfreeze::store::records::refused_modules(&region);
    assert_eq!(names.modules.len(), 1);
    assert_eq!(names.modules[0].name, "m");
}

/// Version 3: no start bitmap.
#[test]
fn a_version_3_image_is_refused_with_the_reason() {
    an_earlier_version_is_refused_with_the_reason(3);
}

/// Version 2: no lifecycle records either.
#[test]
fn a_version_2_image_is_refused_with_the_reason() {
    an_earlier_version_is_refused_with_the_reason(2);
}

/// An image of format version 1 (144-byte header with the contents' CRCs at 96..108, a 16-byte
/// commit record) is refused by name, not misread.
#[test]
fn a_version_1_image_is_refused_with_the_reason() {
    use flashfreeze::unstable::format::CRC;
    let mut region = vec![0xFF; 4096];
    let mut h = [0u8; 144];
    h[..4].copy_from_slice(b"FFZB");
    h[4..6].copy_from_slice(&1u16.to_le_bytes());
    h[6..8].copy_from_slice(&144u16.to_le_bytes());
    h[8] = 4;
    h[9] = FW.len() as u8;
    h[92..96].copy_from_slice(&4096u32.to_le_bytes());
    h[108..108 + FW.len()].copy_from_slice(FW);
    let crc = CRC.checksum(&h[..140]);
    h[140..].copy_from_slice(&crc.to_le_bytes());
    region[..144].copy_from_slice(&h);
    let e = decode_err(&region);
    assert_eq!(
        e,
        DecodeError::Version {
            batch: 0,
            offset: 0,
            found: 1
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("format version 1, this firmware reads version 4")
            && msg.contains("re-freeze"),
        "{msg}"
    );
}

#[test]
fn truncated_image() {
    let region = image();
    let e = decode_err(&region[..3000]);
    assert!(
        matches!(
            e,
            DecodeError::Truncated {
                batch: 0,
                offset: 0,
                span: 4096,
                available: 3000
            }
        ),
        "{e}"
    );
}

#[test]
fn crc_flip_in_each_section() {
    let region = image();
    let image = Image::open(&region, &read_cfg(4)).unwrap();
    let h = *image.batches()[0].header();
    for (section, at) in [
        (Section::Flash, h.flash.offset.get() + 5),
        (Section::Ram, h.ram.offset.get()),
        (Section::Roots, h.roots_table.offset.get() + 1),
        (Section::Roots, h.object_map.offset.get()),
    ] {
        let mut bad = region.clone();
        bad[at as usize] ^= 0x10;
        let e = decode_err(&bad);
        assert!(
            matches!(e, DecodeError::Crc { section: s, .. } if s == section),
            "{e}"
        );
        assert!(e.to_string().contains("CRC mismatch"));
    }
}

#[test]
fn header_flip_reads_as_an_interrupted_write() {
    let mut region = image();
    region[40] ^= 1;
    assert!(matches!(
        mount_err(&region),
        MountError::NoCommittedBatch { .. }
    ));
}

#[test]
fn pointer_out_of_range() {
    let mut region = image();
    let (at, _) = first_pointer(&region);
    set_word(&mut region, at, 0x0900_0000);
    let e = decode_err(&region);
    assert_eq!(
        e,
        DecodeError::Pointer {
            batch: 0,
            section: Section::Flash,
            offset: at as u64,
            value: 0x0900_0000,
            address: 0x0900_0000,
            fault: PointerFault::OutOfRange
        }
    );
    assert_eq!(
        e.to_string(),
        format!(
            "batch 0, flash section: pointer word at region offset {at:#x} holds 0x9000000 and points outside the image and the static ranges"
        )
    );
}

#[test]
fn pointer_not_at_an_object_start() {
    let mut region = image();
    let (at, value) = first_pointer(&region);
    // Every test object is at least 8 bytes: 4 bytes in is inside the same object. A pointer
    // into a static range is kept, so pick one that points into the image.
    let target = if (0x0001_0000..0x0100_0000).contains(&value) {
        layout().region_address + 144 + 4
    } else {
        value + 4
    };
    set_word(&mut region, at, target as u32);
    let e = decode_err(&region);
    assert!(
        matches!(
            e,
            DecodeError::Pointer {
                fault: PointerFault::NotObjectStart,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn image_for_another_address_must_be_rebased() {
    let region = image();
    let mut cfg = read_cfg(4);
    cfg.layout.region_address += 0x1000;
    let e = mount_err_with(&region, &cfg);
    assert!(
        matches!(e, MountError::Invalid(DecodeError::Misplaced { .. })),
        "{e}"
    );
}

#[test]
fn reference_width_mismatch() {
    let region = image();
    let e = mount_err_with(&region, &read_cfg(8));
    assert!(
        matches!(
            e,
            MountError::Invalid(DecodeError::RefBytes {
                found: 4,
                expected: 8,
                ..
            })
        ),
        "{e}"
    );
}

#[test]
fn ram_area_too_small_for_the_image() {
    let region = image();
    let mut cfg = read_cfg(4);
    cfg.layout.ram_len = 8;
    let e = mount_err_with(&region, &cfg);
    assert!(
        matches!(e, MountError::Invalid(DecodeError::RamRange { .. })),
        "{e}"
    );
}

#[test]
fn empty_region() {
    let e = mount_err(&[0xFF; 8192]);
    assert!(matches!(e, MountError::NoCommittedBatch { .. }));
    assert!(e.to_string().contains("no committed batch"));
}

/// A VM that reports its reference slots empty from its `honest_scans + 1`-th scan on (a bug
/// the writer must catch), and counts how often it is asked for frozen bytes.
struct Flaky {
    heap: TestHeap<4>,
    honest_scans: u32,
    scans: std::cell::Cell<u32>,
    writes: std::cell::Cell<u32>,
}

impl Flaky {
    /// A module with one reference to a string.
    fn new(honest_scans: u32) -> (Self, flashfreeze::testing::Obj) {
        use flashfreeze::testing::Kind;
        let mut heap = TestHeap::<4>::new();
        let s = heap.alloc_with(Kind::Immutable, vec![], b"payload".to_vec());
        let m = heap.alloc(Kind::Immutable, &[Some(s)]);
        let vm = Self {
            heap,
            honest_scans,
            scans: std::cell::Cell::new(0),
            writes: std::cell::Cell::new(0),
        };
        (vm, m)
    }
}

impl flashfreeze::ObjectModel for Flaky {
    type Ref = flashfreeze::testing::Obj;
    const ENCODING: flashfreeze::RefEncoding = flashfreeze::RefEncoding::ADDRESS_32;
    fn space(&self, obj: Self::Ref) -> flashfreeze::Space {
        self.heap.space(obj)
    }
    fn address(&self, obj: Self::Ref) -> u64 {
        self.heap.address(obj)
    }
    fn mutability(&self, obj: Self::Ref) -> flashfreeze::Mutability {
        self.heap.mutability(obj)
    }
    fn frozen_layout(&self, obj: Self::Ref) -> flashfreeze::FrozenLayout {
        self.heap.frozen_layout(obj)
    }
    fn scan(&self, obj: Self::Ref, visitor: &mut dyn flashfreeze::SlotVisitor<Self::Ref>) {
        self.scans.set(self.scans.get() + 1);
        let honest = self.scans.get() <= self.honest_scans;
        self.heap
            .scan(obj, &mut |slot: flashfreeze::Slot<Self::Ref>| {
                let target = slot.load().copied().filter(|_| honest);
                visitor.visit(flashfreeze::Slot::new(slot.offset, target));
            });
    }
    fn write_frozen(&self, obj: Self::Ref, placement: Placement, out: &mut [u8]) {
        self.writes.set(self.writes.get() + 1);
        self.heap.write_frozen(obj, placement, out);
    }
    fn heap_index(&self, obj: Self::Ref) -> usize {
        self.heap.heap_index(obj)
    }
    fn heap_index_limit(&self) -> usize {
        self.heap.heap_index_limit()
    }
}

fn flaky_append(
    vm: &Flaky,
    m: flashfreeze::testing::Obj,
) -> (
    Store<'static, SimFlash<1, 4, 4096>>,
    Result<
        flashfreeze::store::Appended,
        flashfreeze::store::StoreError<flashfreeze::sim::SimError>,
    >,
) {
    let mut store = new_store(REGION_LEN, 4);
    let plan = flashfreeze::plan(
        vm,
        &[Root::new(RootKind::MODULE, "m", m)],
        store.target().unwrap(),
    )
    .unwrap();
    let appended = store.append(&plan, vm);
    (store, appended)
}

#[test]
fn an_append_asks_the_vm_for_each_objects_frozen_bytes_once() {
    let (vm, m) = Flaky::new(u32::MAX);
    let (store, appended) = flaky_append(&vm, m);
    let appended = appended.unwrap();
    assert_eq!(vm.writes.get(), 2, "two objects, each written once");
    let image = Image::open(region(store.flash(), REGION_LEN), &read_cfg(4)).unwrap();
    assert_eq!(image.batches().len(), 1);
    assert_eq!(appended.index, 0);
}

#[test]
fn a_vm_answering_differently_on_another_pass_is_not_committed() {
    use flashfreeze::image::ImageError;
    use flashfreeze::store::StoreError;
    // Scans: the plan's traversal (2 objects), `measure` (2, which keeps the maps it makes);
    // the pass that writes the bytes then sees no references, so the words it rewrites are not
    // the ones the kept pointer map names.
    let (vm, m) = Flaky::new(4);
    let (store, appended) = flaky_append(&vm, m);
    let err = appended.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Image(ImageError::Nondeterministic {
                section: Section::PointerMap
            })
        ),
        "{err}"
    );
    assert!(matches!(
        mount_err(region(store.flash(), REGION_LEN)),
        MountError::NoCommittedBatch { .. }
    ));
}

#[test]
fn a_header_whose_ram_range_overflows_is_refused_without_a_panic() {
    let mut region = image();
    let ram_len = u32::from_le_bytes(region[68..72].try_into().unwrap());
    assert!(ram_len > 0, "the image has a RAM section");
    // ram_base (header offset 48) so high that ram_base + len overflows; header and commit
    // record re-sealed, so the chain scan takes the batch as committed.
    region[48..56].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
    reseal_batch(&mut region[..4096]).unwrap();
    let mut device = vec![0xFF; REGION_OFFSET as usize];
    device.extend_from_slice(&region);
    let store = Store::open(
        SimFlash::<1, 4, 4096>::from_bytes(&device),
        store_cfg(REGION_LEN, 4),
    );
    // The store validates as mount does: no valid batch, and the refused one is named.
    let store = store.unwrap();
    assert_eq!(store.batches(), 0);
    assert!(
        matches!(
            store.tail().and_then(|t| t.error().copied()),
            Some(DecodeError::RamRange { batch: 0, .. })
        ),
        "{:?}",
        store.tail()
    );
    assert!(matches!(
        mount_err(&region),
        MountError::Invalid(DecodeError::RamRange { .. })
    ));
}
