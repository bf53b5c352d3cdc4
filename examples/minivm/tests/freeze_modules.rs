//! Freezing what the builtin modules make (`py/tests/modstate.py`, whose output is also
//! compared with real MicroPython by `tools/difftest --only modstate`): the same results
//! before freezing, frozen, and after a reboot from the image, and each object where the
//! minivm README's placement table puts it.
//!
//! | object | placement |
//! |---|---|
//! | compiled regex and its program | flash |
//! | match object and its captures | flash |
//! | `StringIO`, `BytesIO` (their bytearray and its bytes) | RAM section, writable |
//! | a hash in progress (`hashlib.sha256`: its state inline) | RAM section, writable |
//! | a `deque`, an `OrderedDict`, a list in module globals | RAM section, writable |
//! | a socket | refused, with its path |
//! | an open file | refused, with its path (`tests/fs.rs`) |

mod common;

use common::{global, run, size};
use minivm::Vm;
use minivm::freeze::SimChip;
use minivm::memmap::{Region, region_of};
use minivm::obj::Kind;

fn boot(chip: SimChip) -> Vm<SimChip> {
    common::boot(chip, None)
}

/// One run: the snapshot, two rounds of writes to every mutable object, then the digest.
fn session(vm: &mut Vm<SimChip>) -> Vec<String> {
    let mut out = vec![run(vm, "s.snapshot()"), run(vm, "s.mutate()")];
    vm.collect();
    out.push(run(vm, "s.mutate()"));
    out.push(run(vm, "s.finish()"));
    out
}

#[test]
fn module_objects_behave_the_same_before_after_freezing_and_after_reboot() {
    let expected = common::same_frozen_and_rebooted("tests.modstate", session);
    assert!(expected[2].contains("tick 2"), "{}", expected[2]);
}

#[test]
fn module_objects_are_placed_as_the_readme_says() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import tests.modstate as s");
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.modstate')");
    let image = Some(Region::Image);
    let ram = Some(Region::RamSection);

    // A compiled regex never changes: flash, with its program (a compact bytes object).
    let word = global(&mut vm, "tests.modstate", "WORD");
    assert_eq!(region_of(word.0), image);
    let prog = vm.wv(word, 1);
    assert_eq!(vm.kind(prog), Some(Kind::BYTES));
    assert_eq!(region_of(prog.0), image);
    let re_bytes = size(&vm, word) + size(&vm, prog);
    // A match object: flash too, with its captures (and its subject, a str).
    let first = global(&mut vm, "tests.modstate", "FIRST");
    assert_eq!(region_of(first.0), image);
    assert_eq!(region_of(vm.wv(first, 2).0), image);
    let match_bytes = size(&vm, first) + size(&vm, vm.wv(first, 2));

    // A StringIO is written at run time: RAM section, with its bytearray and its store.
    let log = global(&mut vm, "tests.modstate", "LOG");
    assert_eq!(region_of(log.0), ram);
    let ba = vm.wv(log, 1);
    assert_eq!(region_of(ba.0), ram);
    let store = vm.wv(ba, 1);
    assert_eq!(region_of(store.0), ram);
    let sio_bytes = size(&vm, log) + size(&vm, ba) + size(&vm, store);
    assert_eq!(region_of(global(&mut vm, "tests.modstate", "RAW").0), ram);

    // A hash in progress: RAM section, its state inline (raw bytes, no references).
    let digest = global(&mut vm, "tests.modstate", "DIGEST");
    assert_eq!(region_of(digest.0), ram);
    let hash_bytes = size(&vm, digest);
    assert_eq!(hash_bytes, 108);

    // A deque changes on every use: RAM section. An OrderedDict (a dict) and a plain list (the
    // heap heapq keeps): flash, copy-on-write (`src/mem.rs`).
    assert_eq!(region_of(global(&mut vm, "tests.modstate", "QUEUE").0), ram);
    assert_eq!(
        region_of(global(&mut vm, "tests.modstate", "ORDER").0),
        image
    );
    assert_eq!(
        region_of(global(&mut vm, "tests.modstate", "HEAP").0),
        image
    );

    println!(
        "frozen sizes: regex {re_bytes} B (object + program), match {match_bytes} B, \
         StringIO {sio_bytes} B ('boot\\n'), sha256 {hash_bytes} B"
    );

    // Written in place after freezing: the stream grows in the heap, the RAM copy keeps
    // working, and a reboot restores the frozen state.
    run(&mut vm, "s.LOG.write('after\\n')");
    assert_eq!(run(&mut vm, "s.LOG.getvalue()"), "'boot\\nafter\\n'\n");
    let mut vm2 = common::reboot(&vm, None);
    run(&mut vm2, "import tests.modstate as s");
    assert_eq!(run(&mut vm2, "s.LOG.getvalue()"), "'boot\\n'\n");
    assert_eq!(run(&mut vm2, "s.WORD.match('ok!').group(0)"), "'ok'\n");
}

#[test]
fn a_socket_in_module_state_is_refused_with_its_path() {
    let mut vm = boot(SimChip::erased());
    run(&mut vm, "import freeze");
    let chip_before = vm.mem.flash.0.as_bytes().to_vec();
    let r = vm.exec_line("freeze.import_modules('tests.unfreezable')");
    let _ = vm.take_output();
    let e = r.expect_err("a socket can't be frozen");
    assert_eq!(
        e,
        "TypeError: cannot freeze tests.unfreezable.SERVER.sock (socket): a socket (its \
         connection does not survive a reboot)"
    );
    assert_eq!(vm.mem.flash.0.as_bytes(), chip_before.as_slice());
}
