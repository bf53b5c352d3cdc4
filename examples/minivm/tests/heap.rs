//! Heap and GC tests: the allocator's block accounting, collection of unreachable objects,
//! roots, and the `mem_info` format.

use minivm::mem::{HeapStats, Memory, RamFlash};
use minivm::memmap::{BLOCK, HEAP_BASE, HEAP_DEFAULT};
use minivm::obj::{COMPACT, Kind, Value, header, is_compact, payload_offset};
use minivm::{Vm, sources::Bundled};

#[test]
fn allocator_counts_blocks_and_reuses_freed_space() {
    let mut m = Memory::new(RamFlash::erased(), 1024);
    let s0 = m.stats();
    assert_eq!(
        s0,
        HeapStats {
            total: 1024,
            free: 1024,
            max_free: 64,
            ..HeapStats::default()
        }
    );
    let a = m.heap_alloc(10).expect("1 block");
    let b = m.heap_alloc(17).expect("2 blocks");
    let c = m.heap_alloc(16 * 5).expect("5 blocks");
    assert_eq!(a, HEAP_BASE);
    assert_eq!(b, HEAP_BASE + BLOCK);
    assert_eq!(c, HEAP_BASE + 3 * BLOCK);
    let s = m.stats();
    assert_eq!(
        (s.used, s.one_blocks, s.two_blocks, s.max_block),
        (8 * BLOCK, 1, 1, 5)
    );
    assert_eq!(m.alloc_size(c), 5 * BLOCK);
    // Mark a and c only: the sweep frees b's two blocks.
    assert!(m.mark(a));
    assert!(!m.mark(a), "already marked");
    assert!(m.mark(c));
    assert!(!m.mark(c + 4), "interior pointers are not heads");
    assert_eq!(m.sweep(), 2 * BLOCK);
    assert!(!m.is_heap_head(b));
    // The hole is reused by the next allocation that fits.
    assert_eq!(m.heap_alloc(20), Some(b));
    assert!(m.heap_alloc(2000).is_none(), "larger than the heap");
}

#[test]
fn writes_outside_heap_and_ram_section_are_refused() {
    let mut m = Memory::new(RamFlash::erased(), 1024);
    assert!(m.write_u32(minivm::memmap::IMAGE_BASE, 1).is_err());
    assert!(m.write_u32(0x3000_0000, 1).is_err());
    assert!(m.write_u32(minivm::memmap::RAM_SECTION_BASE, 7).is_ok());
    assert_eq!(m.read_u32(minivm::memmap::RAM_SECTION_BASE), 7);
    assert_eq!(m.read_u32(0x3000_0000), 0, "unmapped reads are null");
}

#[test]
fn collect_frees_unreachable_and_keeps_reachable() {
    let mut vm = Vm::new(RamFlash::erased(), HEAP_DEFAULT);
    vm.collect();
    let base = vm.heap_stats().used;
    vm.exec_line("keep = [1, 2, (3, 'four')]").expect("ok");
    vm.exec_line("junk = list(range(200)); junk = None")
        .expect("ok");
    let before = vm.heap_stats().used;
    let freed = vm.collect();
    let after = vm.heap_stats().used;
    assert!(
        freed > 200 * 4,
        "the 200-item list is garbage (freed {freed})"
    );
    assert_eq!(before - after, freed);
    assert!(after > base, "`keep` survives");
    vm.exec_line("keep[2][1]").expect("ok");
    assert_eq!(vm.take_output(), "'four'\n");
}

#[test]
fn gc_builtins_report_heap_figures() {
    let mut vm = Vm::new(RamFlash::erased(), HEAP_DEFAULT);
    vm.exec_line("import gc; import micropython; gc.collect()")
        .expect("ok");
    vm.exec_line("gc.mem_alloc() + gc.mem_free()").expect("ok");
    assert_eq!(vm.take_output(), format!("{}\n", HEAP_DEFAULT));
    vm.exec_line("micropython.mem_info()").expect("ok");
    let out = vm.take_output();
    let s = vm.heap_stats();
    let want = format!(
        "GC: total: {}, used: {}, free: {}\n No. of 1-blocks: {}, 2-blocks: {}, max blk sz: {}, max free sz: {}\n",
        s.total, s.used, s.free, s.one_blocks, s.two_blocks, s.max_block, s.max_free
    );
    assert_eq!(out, want);
}

#[test]
fn import_then_delete_gives_heap_back() {
    let mut vm = Vm::new(RamFlash::erased(), HEAP_DEFAULT);
    vm.sources.push(Box::new(Bundled));
    vm.collect();
    let base = vm.heap_stats().used;
    vm.exec_line("import tinysched").expect("import");
    vm.collect();
    let loaded = vm.heap_stats().used;
    assert!(
        loaded > base + 10_000,
        "a large package costs heap ({loaded} B)"
    );
    // Drop every reference: sys.modules and the REPL binding.
    let key = vm.intern(b"tinysched").expect("q");
    let mods = vm.modules;
    let _ = vm.dict_remove(mods, key);
    for sub in [
        "tinysched.errors",
        "tinysched.core",
        "tinysched.calc",
        "tinysched.jobs",
    ] {
        let k = vm.intern(sub.as_bytes()).expect("q");
        let _ = vm.dict_remove(mods, k);
    }
    let g = vm.main_globals;
    let _ = vm.dict_remove(g, key);
    vm.collect();
    let after = vm.heap_stats().used;
    // Interned names stay (qstrs are never freed, as in MicroPython).
    assert!(
        after < base + (loaded - base) / 4,
        "heap back near baseline: {after} vs {base}"
    );
}

#[test]
fn memory_error_when_heap_is_exhausted_and_vm_recovers() {
    let mut vm = Vm::new(RamFlash::erased(), 8 * 1024);
    let r = vm.exec_line("x = list(range(5000))");
    assert_eq!(r, Err("MemoryError".to_string()));
    vm.take_output();
    vm.exec_line("x = 1; x").expect("still works");
    assert_eq!(vm.take_output(), "1\n");
}

#[test]
fn object_kinds_round_trip_through_header() {
    for b in 0u8..=255 {
        if let Some(k) = Kind::from_u8(b) {
            // A frozen compact object decodes to its kind; every other byte is the kind.
            let compact = matches!(
                k,
                Kind::STR
                    | Kind::BYTES
                    | Kind::FUNC
                    | Kind::RAW_CODE
                    | Kind::INSTANCE
                    | Kind::QSTR_POOL
            );
            let expected = if compact { b & !COMPACT } else { b };
            assert_eq!(k.id(), expected, "kind byte {b:#04x}");
            assert_eq!(is_compact(b as u32), b != expected, "kind byte {b:#04x}");
        }
    }
    for k in [
        Kind::STR,
        Kind::BYTES,
        Kind::FUNC,
        Kind::RAW_CODE,
        Kind::INSTANCE,
        Kind::QSTR_POOL,
    ] {
        assert_eq!(Kind::from_u8(k.id() | COMPACT), Some(k));
    }
    for k in [Kind::STR, Kind::BYTES] {
        assert_eq!(payload_offset(header(k, 5)), 8);
        assert_eq!(payload_offset(header(k, 5) | COMPACT as u32), 4);
    }
    assert!(!is_compact(header(Kind::FORWARD, 0)));
    assert_eq!(Value::int(-5).map(|v| v.as_int()), Some(-5));
    assert!(Value::int(1 << 30).is_none());
    assert!(Value::qstr(7).is_qstr() && !Value::qstr(7).is_ptr());
}

#[test]
fn statics_are_deterministic_and_fit_their_region() {
    let a = Vm::new(RamFlash::erased(), HEAP_DEFAULT);
    let b = Vm::new(RamFlash::erased(), 16 * 1024);
    // Same bytes whatever the heap size: images made by one boot are valid for the next.
    assert_eq!(a.mem.statics, b.mem.statics);
    assert!(a.mem.statics.len() < minivm::memmap::STATICS_MAX as usize);
    assert_eq!(
        minivm::freeze::firmware_id(&a),
        minivm::freeze::firmware_id(&b)
    );
    eprintln!("statics: {} bytes", a.mem.statics.len());
}
