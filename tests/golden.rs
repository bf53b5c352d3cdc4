//! Golden images: the exact bytes a default-encoding freeze writes, pinned.
//!
//! Two batches (32-bit references) and one batch (64-bit references) of a small graph with
//! every kind of slot: references to flash objects, to the RAM section, to a static object, to
//! an earlier batch, and immediate integers. The bytes are checked in under `tests/golden/`;
//! any change to them is a change of the on-flash format or of the default reference encoding,
//! and must say so in the CHANGELOG. Regenerate with `FLASHFREEZE_BLESS=1` only then.

mod image_support;

use flashfreeze::testing::{Kind, Obj, TestHeap, Value};
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

/// A graph with many flash objects of several sizes, references in every slot position, RAM
/// objects between them and a static: the store's `freeze` (which makes the flash section's
/// maps while the plan traverses) must write the bytes `plan` + `append` (a measuring walk over
/// every object) write.
fn mixed_graph<const W: u32>() -> (TestHeap<W>, Obj) {
    let mut heap = TestHeap::<W>::new();
    let stat = heap.alloc_with(Kind::Static, vec![], vec![0xAB; 8]);
    let mut prev: Option<Obj> = None;
    let mut kept = Vec::new();
    for i in 0..60u32 {
        let bytes = vec![i as u8; (i % 7) as usize * 3];
        let slots = match i % 5 {
            0 => vec![prev, Some(stat)],
            1 => vec![None, prev, None, None],
            2 => vec![],
            3 => vec![prev; 9],
            _ => vec![Some(stat), None, prev],
        };
        let kind = if i % 11 == 4 {
            Kind::Mutable
        } else {
            Kind::Immutable
        };
        let slots = (slots.into_iter())
            .map(|r: Option<Obj>| (None, r.map_or(Value::Int(0), Value::Ref)))
            .collect();
        let o = heap.alloc_with(kind, slots, bytes);
        if i % 3 == 0 && i % 5 != 2 {
            heap.set_slot(o, 0, Value::Int(i as i32));
        }
        kept.push(o);
        prev = Some(o);
    }
    let module = heap.alloc(
        Kind::Immutable,
        &kept.iter().map(|&o| Some(o)).collect::<Vec<_>>(),
    );
    (heap, module)
}

fn store_freeze_matches_plan_and_append<const W: u32>() {
    let roots = |m| [Root::new(RootKind::MODULE, "mixed", m)];
    let (heap, module) = mixed_graph::<W>();
    let mut appended = new_store(REGION_LEN, W);
    freeze(&mut appended, &heap, &roots(module)).expect("plan + append");
    let (mut live, module) = mixed_graph::<W>();
    live.ram_area = vec![0; RAM_LEN as usize];
    let mut frozen = new_store(REGION_LEN, W);
    frozen
        .freeze(&mut live, &roots(module))
        .expect("store freeze");
    let (a, b) = (
        region(appended.flash(), REGION_LEN),
        region(frozen.flash(), REGION_LEN),
    );
    assert_eq!(a.len(), b.len());
    if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
        panic!("first difference at region offset {i:#x}");
    }
}

#[test]
fn store_freeze_writes_the_bytes_of_plan_and_append_32() {
    store_freeze_matches_plan_and_append::<4>();
}

#[test]
fn store_freeze_writes_the_bytes_of_plan_and_append_64() {
    store_freeze_matches_plan_and_append::<8>();
}
