//! Golden images: the exact bytes a default-encoding freeze writes, pinned.
//!
//! Two batches (32-bit references) and one batch (64-bit references) of a small graph with
//! every kind of slot: references to flash objects, to the RAM section, to a static object, to
//! an earlier batch, and immediate integers. The bytes are checked in under `tests/golden/`;
//! any change to them is a change of the on-flash format or of the default reference encoding,
//! and must say so in the CHANGELOG. Regenerate with `FLASHFREEZE_BLESS=1` only then.

mod image_support;

use flashfreeze::testing::{Kind, TestHeap, Value};
use flashfreeze::{Root, RootKind};
use image_support::*;

const REGION_LEN: u32 = 4 * 4096;

/// The region after freezing the golden graph with `W`-byte references.
fn golden_region<const W: u32>() -> Vec<u8> {
    let mut heap = TestHeap::<W>::new();
    let stat = heap.alloc_with(Kind::Static, vec![], vec![0xAB; 8]);
    let name = heap.alloc_with(Kind::Immutable, vec![], b"golden".to_vec());
    let state = heap.alloc(Kind::Mutable, &[None, None]);
    heap.set_slot(state, 1, Value::Int(-7));
    let module = heap.alloc(Kind::Immutable, &[Some(name), Some(state), Some(stat)]);
    heap.set_slot(state, 0, Value::Ref(module));
    let mut store = new_store(REGION_LEN, W);
    freeze(
        &mut store,
        &heap,
        &[Root::new(RootKind::MODULE, "golden", module)],
    )
    .expect("first batch");
    if W == 4 {
        // A second batch that refers to the first, made by the VM continuing on its frozen copy.
        let first = region(store.flash(), REGION_LEN).to_vec();
        let mut vm = heap.clone();
        let frozen_module = load_frozen_root(&mut vm, &first, "golden");
        let extra = vm.alloc(Kind::Immutable, &[Some(frozen_module)]);
        freeze(
            &mut store,
            &vm,
            &[Root::new(RootKind::MODULE, "second", extra)],
        )
        .expect("second batch");
    }
    region(store.flash(), REGION_LEN).to_vec()
}

fn check(name: &str, bytes: &[u8]) {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("FLASHFREEZE_BLESS").is_some() {
        std::fs::write(&path, bytes).unwrap();
    }
    let golden = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(golden.len(), bytes.len(), "{name}: length");
    if let Some(i) = (0..bytes.len()).find(|&i| golden[i] != bytes[i]) {
        panic!(
            "{name}: first difference at region offset {i:#x}: golden {:#04x}, written {:#04x}",
            golden[i], bytes[i]
        );
    }
}

#[test]
fn default_encoding_32_bit_image_is_byte_identical() {
    check("default-32.bin", &golden_region::<4>());
}

#[test]
fn default_encoding_64_bit_image_is_byte_identical() {
    check("default-64.bin", &golden_region::<8>());
}
