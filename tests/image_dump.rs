//! Snapshot tests of the layout dump and the DOT export for a few representative graphs.

mod image_support;

use flashfreeze::image::dump;
use flashfreeze::image::{Image, ImageObject};
use flashfreeze::testing::{Kind, TestHeap, Value};
use flashfreeze::{Root, RootKind};
use image_support::*;

const REGION_LEN: u32 = 4 * 4096;

/// Names an object of the reference model from its frozen tag word.
fn kind(o: &ImageObject<'_>) -> &'static str {
    let tag = o
        .bytes
        .get(..4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    match tag & 0xFF {
        1 => "immutable",
        2 => "mutable",
        _ => "?",
    }
}

/// A module with a docstring, a function (code blob, constants tuple, a static type), a
/// mutable globals dict that points back at the module, and a qstr pool root.
fn module_graph<const W: u32>(
    heap: &mut TestHeap<W>,
) -> Vec<Root<'static, flashfreeze::testing::Obj>> {
    let ty = heap.alloc_with(Kind::Static, vec![], vec![0; 8]);
    let doc = heap.alloc_with(
        Kind::Immutable,
        vec![(None, Value::Ref(ty))],
        b"Demo module.".to_vec(),
    );
    let code = heap.alloc_with(Kind::Immutable, vec![], vec![0x51, 0x63, 0x00, 0x12, 0x34]);
    let name = heap.alloc_with(Kind::Immutable, vec![], b"qgreet".to_vec());
    let consts = heap.alloc(Kind::Immutable, &[Some(name), Some(doc)]);
    let func = heap.alloc_with(
        Kind::Immutable,
        vec![
            (None, Value::Ref(ty)),
            (None, Value::Ref(code)),
            (None, Value::Ref(consts)),
            (None, Value::Int(2)),
        ],
        vec![],
    );
    let globals = heap.alloc_with(
        Kind::Mutable,
        vec![(None, Value::Ref(name)), (None, Value::Ref(func))],
        vec![],
    );
    let module = heap.alloc(Kind::Immutable, &[Some(ty), Some(doc), Some(globals)]);
    heap.push_slot(globals, Some("__module__"), Value::Ref(module));
    let pool = heap.alloc(Kind::Immutable, &[Some(name)]);
    vec![
        Root::new(RootKind::MODULE, "demo", module),
        Root::new(RootKind::QSTR_POOL, "qstrs", pool),
    ]
}

#[test]
fn dump_module_graph() {
    let mut heap = TestHeap::<4>::new();
    let roots = module_graph(&mut heap);
    let region = frozen_region(&heap, &[&roots], REGION_LEN);
    let image = Image::open(&region, &read_cfg(4)).unwrap();
    insta::assert_snapshot!("module_graph_layout", dump::layout(&image, &kind));
    insta::assert_snapshot!("module_graph_dot", dump::dot(&image, &kind));
}

#[test]
fn dump_module_graph_64_bit() {
    let mut heap = TestHeap::<8>::new();
    let roots = module_graph(&mut heap);
    let region = frozen_region(&heap, &[&roots], REGION_LEN);
    let image = Image::open(&region, &read_cfg(8)).unwrap();
    insta::assert_snapshot!("module_graph_64_layout", dump::layout(&image, &kind));
}

#[test]
fn dump_two_batches() {
    let mut heap = TestHeap::<4>::new();
    let first = module_graph(&mut heap);
    let mut store = new_store(REGION_LEN, 4);
    freeze(&mut store, &heap, &first).unwrap();
    let demo = load_frozen_root(&mut heap, region(store.flash(), REGION_LEN), "demo");
    // A second module importing the first, with a mutable counter.
    let counter = heap.alloc(Kind::Mutable, &[None]);
    let app = heap.alloc(Kind::Immutable, &[Some(demo), Some(counter)]);
    freeze(
        &mut store,
        &heap,
        &[Root::new(RootKind::MODULE, "app", app)],
    )
    .unwrap();
    let region = region(store.flash(), REGION_LEN).to_vec();
    let image = Image::open(&region, &read_cfg(4)).unwrap();
    insta::assert_snapshot!("two_batches_layout", dump::layout(&image, &kind));
}

#[test]
fn dump_chain_without_kinds() {
    let mut heap = TestHeap::<4>::new();
    let head = chain(&mut heap, 6, 3);
    let region = frozen_region(
        &heap,
        &[&[Root::new(RootKind::OTHER, "chain", head)]],
        REGION_LEN,
    );
    let image = Image::open(&region, &read_cfg(4)).unwrap();
    insta::assert_snapshot!("chain_layout", dump::layout(&image, &dump::no_kinds));
}
