//! Real third-party modules: micropython-uasyncio 3.1.1 (+ uasyncio.core 2.3),
//! micropython-collections and micropython-functools, fetched and compiled at run time by
//! `tools/fetch-uasyncio DIR` (never committed). Set `MINIVM_CORPUS=DIR/mpy` to run; without
//! it the test only says it was skipped.
//!
//! Prints the heap before, after importing, after freezing, and after a reboot from flash.

mod common;

use common::{boot, reboot, run, used};
use minivm::freeze::SimChip;

const MODULES: &[&str] = &["uasyncio", "collections", "functools"];

#[test]
fn uasyncio_imports_freezes_and_imports_from_flash_after_reboot() {
    let Some(dir) = std::env::var_os("MINIVM_CORPUS") else {
        eprintln!("corpus test skipped: set MINIVM_CORPUS (see tools/fetch-uasyncio)");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut vm = boot(SimChip::erased(), Some(&dir));
    let base = used(&mut vm);
    run(&mut vm, "import uasyncio");
    let uasyncio = used(&mut vm);
    for m in &MODULES[1..] {
        run(&mut vm, &format!("import {m}"));
    }
    let all = used(&mut vm);
    run(&mut vm, "import freeze");
    let quoted: Vec<String> = MODULES.iter().map(|m| format!("'{m}'")).collect();
    let froze = run(
        &mut vm,
        &format!("freeze.import_modules({})", quoted.join(", ")),
    );
    let frozen = used(&mut vm);
    let mut vm2 = reboot(&vm, Some(&dir));
    let base2 = used(&mut vm2);
    for m in MODULES {
        run(&mut vm2, &format!("import {m}"));
    }
    let rebooted = used(&mut vm2);
    eprintln!("heap at boot:                  {base} B");
    eprintln!(
        "after import uasyncio:         {uasyncio} B (cost {} B; MicroPython 32-bit: 14400 B)",
        uasyncio - base
    );
    eprintln!("after importing all three:     {all} B");
    eprint!("{froze}");
    eprintln!("after freeze + gc.collect():   {frozen} B");
    eprintln!("after reboot + import from flash: {rebooted} B (boot: {base2} B)");
    // Image density: flash-object bytes per heap byte the freeze gave back (target <= 0.80,
    // MicroPython's frozen modules 0.895; per-kind breakdown: tests/density.rs).
    let flash: u64 = vm.freeze_log.iter().map(|b| b.stats.flash_bytes).sum();
    let density = flash as f64 / f64::from(all - frozen);
    eprintln!(
        "image density: {flash} flash B / {} heap B freed = {density:.3}",
        all - frozen
    );
    assert!(density <= 0.80, "image density {density:.3} above 0.80");
    assert!(uasyncio - base > 5_000 && uasyncio - base < 30_000);
    assert_eq!(frozen, base, "heap back at baseline after freezing");
    assert_eq!(rebooted, base2, "frozen imports cost no heap");
    assert_eq!(run(&mut vm2, "uasyncio.core"), "<module 'uasyncio.core'>\n");
}

#[test]
fn uasyncio_event_loop_runs_the_same_before_after_freezing_and_after_reboot() {
    let Some(dir) = std::env::var_os("MINIVM_CORPUS") else {
        eprintln!("corpus test skipped: set MINIVM_CORPUS (see tools/fetch-uasyncio)");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut vm = boot(SimChip::erased(), Some(&dir));
    run(&mut vm, "import tests.asyncdemo as demo");
    let before = run(&mut vm, "demo.run()");
    assert_eq!(
        before,
        "[('a', 0), ('b', 0), ('a', 1), ('b', 1), ('a', 2), ('main got', 'b')]\n"
    );
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('tests.asyncdemo')");
    assert_eq!(run(&mut vm, "demo.run()"), before, "same process, frozen");
    let mut vm2 = reboot(&vm, Some(&dir));
    let base = used(&mut vm2);
    run(&mut vm2, "import tests.asyncdemo as demo");
    assert_eq!(used(&mut vm2), base, "imports from flash");
    assert_eq!(run(&mut vm2, "demo.run()"), before, "after reboot");
}
