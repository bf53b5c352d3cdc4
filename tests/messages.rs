//! The text of the error messages a user reads, pinned: each says what and where.

mod image_support;

use std::cell::Cell;
use std::fmt;

use flashfreeze::image::Section;
use flashfreeze::model::{FrozenLayout, Placement, SlotVisitor, Space};
use flashfreeze::sim::{SimError, SimFlash};
use flashfreeze::store::{Store, StoreError};
use flashfreeze::testing::{Kind, Obj, TestHeap};
use flashfreeze::unstable::StreamError;
use flashfreeze::{
    FreezeError, Mutability, ObjectModel, RefEncoding, Root, RootKind, Violation, plan,
};
use image_support::*;

/// The test heap, with one object that asks for an alignment of `align`, and layouts that grow
/// once `writing` is set.
struct Odd {
    heap: TestHeap,
    odd: Obj,
    align: u32,
    writing: Cell<bool>,
}

impl ObjectModel for Odd {
    type Ref = Obj;
    const ENCODING: RefEncoding = RefEncoding::ADDRESS_32;
    fn space(&self, obj: Obj) -> Space {
        self.heap.space(obj)
    }
    fn address(&self, obj: Obj) -> u64 {
        self.heap.address(obj)
    }
    fn mutability(&self, obj: Obj) -> Mutability {
        self.heap.mutability(obj)
    }
    fn frozen_layout(&self, obj: Obj) -> FrozenLayout {
        let l = self.heap.frozen_layout(obj);
        if obj != self.odd {
            return l;
        }
        let grow = if self.writing.get() { 4 } else { 0 };
        FrozenLayout::new(l.size + grow, self.align)
    }
    fn scan(&self, obj: Obj, visitor: &mut dyn SlotVisitor<Obj>) {
        self.heap.scan(obj, visitor)
    }
    fn write_frozen(&self, obj: Obj, placement: Placement, out: &mut [u8]) {
        self.heap.write_frozen(obj, placement, out)
    }
    fn heap_index(&self, obj: Obj) -> usize {
        self.heap.heap_index(obj)
    }
    fn heap_index_limit(&self) -> usize {
        self.heap.heap_index_limit()
    }
    fn kind_name(&self, obj: Obj) -> &'static str {
        self.heap.kind_name(obj)
    }
    fn edge_label(&self, obj: Obj, slot: u32, out: &mut dyn fmt::Write) -> fmt::Result {
        self.heap.edge_label(obj, slot, out)
    }
}

fn target() -> flashfreeze::Target {
    flashfreeze::Target {
        flash_base: 0x1010_0040,
        flash_capacity: 64 * 1024,
        ram_base: 0x2003_0000,
        ram_capacity: 8 * 1024,
    }
}

/// `m` → `m.config` → `m.config[1]` (the odd one).
fn odd(align: u32) -> (Odd, Obj) {
    let mut heap = TestHeap::<4>::new();
    let leaf = heap.alloc(Kind::Immutable, &[]);
    let odd = heap.alloc(Kind::Immutable, &[]);
    let config = heap.alloc(Kind::Immutable, &[Some(leaf), Some(odd)]);
    let module = heap.alloc_with(
        Kind::Immutable,
        vec![(
            Some("config".into()),
            flashfreeze::testing::Value::Ref(config),
        )],
        vec![],
    );
    let vm = Odd {
        heap,
        odd,
        align,
        writing: Cell::new(false),
    };
    (vm, module)
}

#[test]
fn alignments_say_what_is_wrong_with_them() {
    assert_eq!(
        Violation::AlignTooLarge(16384).to_string(),
        "alignment 16384 is above the largest, 4096"
    );
    assert_eq!(
        Violation::AlignNotPowerOfTwo(12).to_string(),
        "alignment 12 is not a power of two"
    );
}

#[test]
fn a_contract_error_found_while_walking_names_the_path_from_the_root() {
    let (vm, module) = odd(16384);
    let e = plan(&vm, &[Root::new(RootKind::MODULE, "m", module)], target()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "VM contract broken by immutable object at 0x20000010 (m.config[1]): alignment 16384 is above the largest, 4096"
    );
}

#[test]
fn a_contract_error_found_while_writing_names_the_path_too() {
    let (vm, module) = odd(4);
    let made = plan(&vm, &[Root::new(RootKind::MODULE, "m", module)], target()).unwrap();
    vm.writing.set(true);
    let e = made
        .objects(&vm)
        .find_map(Result::err)
        .expect("the grown layout is refused");
    assert!(matches!(
        e,
        FreezeError::Contract {
            violation: Violation::LayoutChanged,
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "VM contract broken by immutable object at 0x20000010 (m.config[1]): frozen layout changed after planning"
    );
}

#[test]
fn a_reference_the_encoding_cannot_express_is_named() {
    assert_eq!(
        Violation::Unencodable {
            address: 0x1_0000_0000
        }
        .to_string(),
        "address 0x100000000 cannot be expressed in the VM's reference encoding"
    );
    assert_eq!(
        Violation::SlotMisaligned {
            offset: 6,
            width: 8
        }
        .to_string(),
        "reference slot at offset 6 is not a multiple of the 8-byte reference width"
    );
}

#[test]
fn a_device_error_is_shown_with_its_own_message() {
    let mut heap = TestHeap::<4>::new();
    let module = heap.alloc(Kind::Immutable, &[]);
    let mut store = new_store(4 * 4096, 4);
    store.flash_mut().arm_power_cut(0, 0);
    let plan = store
        .plan(&heap, &[Root::new(RootKind::MODULE, "m", module)])
        .unwrap();
    let e = store.append(&plan, &heap).unwrap_err();
    assert_eq!(
        e.to_string(),
        "store: flash erase at device offset 0x2000 failed: flash: power lost"
    );
}

#[test]
fn a_store_of_another_encoding_says_both() {
    let mut heap = TestHeap::<8>::new();
    let module = heap.alloc(Kind::Immutable, &[]);
    let mut store = new_store(4 * 4096, 4);
    let e = store
        .plan(&heap, &[Root::new(RootKind::MODULE, "m", module)])
        .unwrap_err();
    assert!(matches!(e, StoreError::Encoding { .. }));
    assert_eq!(
        e.to_string(),
        "store: opened for 4-byte references, the VM uses 8-byte references; nothing written"
    );
}

#[test]
fn a_plan_refused_by_the_store_says_nothing_was_written() {
    let mut heap = TestHeap::<4>::new();
    let bad = heap.alloc(Kind::Unfreezable, &[]);
    let module = heap.alloc(Kind::Immutable, &[Some(bad)]);
    let mut flash = SimFlash::<1, 4, 4096>::new((REGION_OFFSET + 4 * 4096) as usize);
    let mut store = Store::open(&mut flash, store_cfg(4 * 4096, 4)).unwrap();
    heap.ram_area = vec![0; RAM_LEN as usize];
    let e = store
        .freeze(&mut heap, &[Root::new(RootKind::MODULE, "m", module)])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "store: cannot freeze m[0] (unfreezable): holds a native handle; nothing written"
    );
}

#[test]
fn stream_errors_display_their_cause() {
    let sink: StreamError<SimError> = StreamError::Sink(SimError::PowerLost);
    assert_eq!(
        sink.to_string(),
        "image: the output failed: flash: power lost"
    );
    let image: StreamError<SimError> =
        StreamError::Image(flashfreeze::image::ImageError::Nondeterministic {
            section: Section::PointerMap,
        });
    assert!(
        image
            .to_string()
            .starts_with("image: the VM answered differently")
    );
}

/// Every error type is a `core::error::Error` without `std` (the library builds for
/// thumbv6m-none-eabi, where the same impls exist: they are not feature-gated).
#[test]
fn every_error_type_is_an_error() {
    fn is_error<E: core::error::Error>() {}
    is_error::<FreezeError>();
    is_error::<flashfreeze::image::DecodeError>();
    is_error::<flashfreeze::image::ImageError>();
    is_error::<flashfreeze::mount::MountError>();
    is_error::<StoreError<SimError>>();
    is_error::<StreamError<SimError>>();
    is_error::<SimError>();
}
