//! The frozen modules' lifecycle on the host's simulated chip, the sequence: freeze `a`
//! and `b`; change `a`'s source, see the stale warning, re-freeze `a`; reboot, the new `a` with
//! `b` intact; remove `b`; compact, the freed bytes reported and reclaimed; reboot, everything
//! left works from flash. Also the stale modes, the errors, and the re-freeze after a firmware
//! update.

mod common;

use std::path::{Path, PathBuf};

use common::run;
use minivm::Vm;
use minivm::freeze::SimChip;

const V1: &[u8] = include_bytes!("../py/tests/globalstate.mpy"); // a, first: bump()
const V2: &[u8] = include_bytes!("../py/counter.mpy"); // a, changed: NAME, incr()
const B: &[u8] = include_bytes!("../py/tests/spin.mpy"); // b: forever()

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("minivm-lifecycle-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn boot(chip: SimChip, d: &Path) -> Vm<SimChip> {
    common::boot(chip, Some(d))
}

fn reboot(vm: &Vm<SimChip>, d: &Path) -> Vm<SimChip> {
    common::reboot(vm, Some(d))
}

/// `freeze.info()[key]`.
fn info(vm: &mut Vm<SimChip>, key: &str) -> u64 {
    run(vm, &format!("freeze.info()['{key}']"))
        .trim()
        .parse()
        .unwrap()
}

/// `freeze.get_modules()` as (name, batch, stale), checking each has flash bytes.
fn mods(vm: &mut Vm<SimChip>) -> Vec<(String, u32, bool)> {
    let out = run(vm, "freeze.get_modules()");
    let body = out.trim().trim_start_matches('[').trim_end_matches(']');
    if body.is_empty() {
        return Vec::new();
    }
    body.trim_start_matches('(')
        .trim_end_matches(')')
        .split("), (")
        .map(|t| {
            let f: Vec<&str> = t.split(", ").collect();
            assert_eq!(f.len(), 5, "{out}");
            assert!(f[2].parse::<u64>().unwrap() > 0, "{out}");
            (
                f[0].trim_matches('\'').to_string(),
                f[1].parse().unwrap(),
                f[4] == "True",
            )
        })
        .collect()
}

fn m(name: &str, batch: u32, stale: bool) -> (String, u32, bool) {
    (name.to_string(), batch, stale)
}

/// The console line's error text (it must fail).
fn fails(vm: &mut Vm<SimChip>, line: &str) -> String {
    let r = vm.exec_line(line);
    let out = vm.take_output();
    assert!(r.is_err(), "{line} should fail: {out}");
    out
}

#[test]
fn freeze_stale_refreeze_remove_compact_reboot() {
    let d = dir("seq");
    std::fs::write(d.join("a.mpy"), V1).unwrap();
    std::fs::write(d.join("b.mpy"), B).unwrap();

    // 1. Freeze a and b.
    let mut vm = boot(SimChip::erased(), &d);
    run(&mut vm, "import freeze");
    run(&mut vm, "import a");
    run(&mut vm, "import b");
    let out = run(&mut vm, "freeze.import_modules('a', 'b')");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("froze ")).count(),
        2,
        "{out}"
    );
    assert_eq!(run(&mut vm, "a.bump()"), "1\n");
    assert_eq!(run(&mut vm, "freeze.isfrozen(a)"), "True\n");
    assert_eq!(run(&mut vm, "freeze.isfrozen(a.bump)"), "True\n");
    assert_eq!(run(&mut vm, "freeze.isfrozen([1])"), "False\n");
    assert_eq!(run(&mut vm, "freeze.isfrozen(1)"), "False\n");
    assert_eq!(mods(&mut vm), [m("a", 0, false), m("b", 1, false)]);

    // 2. Change a's source: the next boot warns once, and still runs the frozen copy.
    std::fs::write(d.join("a.mpy"), V2).unwrap();
    let mut vm = reboot(&vm, &d);
    run(&mut vm, "import freeze");
    let out = run(&mut vm, "import a");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("warning: frozen module 'a' is stale (") && out.contains("a.mpy changed"),
        "{out}"
    );
    assert_eq!(run(&mut vm, "import a"), "", "one warning per boot");
    assert_eq!(run(&mut vm, "a.bump()"), "1\n");
    assert_eq!(mods(&mut vm), [m("a", 0, true), m("b", 1, false)]);
    // ... and re-freeze it.
    let out = run(&mut vm, "freeze.import_modules('a')");
    assert!(out.starts_with("froze "), "{out}");
    // The name bound by the earlier import is the old module; importing again binds the new.
    assert_eq!(run(&mut vm, "a.bump()"), "2\n");
    run(&mut vm, "import a");
    assert_eq!(run(&mut vm, "a.NAME"), "'counter'\n");
    assert_eq!(run(&mut vm, "freeze.isfrozen(a)"), "True\n");

    // 3. Reboot: the new a, b intact, nothing stale.
    let mut vm = reboot(&vm, &d);
    run(&mut vm, "import freeze");
    assert_eq!(run(&mut vm, "import a"), "");
    run(&mut vm, "import b");
    assert_eq!(run(&mut vm, "a.NAME"), "'counter'\n");
    assert_eq!(run(&mut vm, "a.incr()"), "1\n");
    assert_eq!(run(&mut vm, "freeze.isfrozen(b.forever)"), "True\n");
    assert_eq!(mods(&mut vm), [m("b", 1, false), m("a", 2, false)]);
    assert_eq!(info(&mut vm, "batches"), 3);

    // 4. Remove b: it imports from its source again; removing it again is an error.
    run(&mut vm, "freeze.remove('b')");
    assert_eq!(info(&mut vm, "batches"), 4);
    run(&mut vm, "import b");
    assert_eq!(run(&mut vm, "freeze.isfrozen(b.forever)"), "False\n");
    let e = fails(&mut vm, "freeze.remove('b')");
    assert!(e.contains("ValueError: module 'b' is not frozen"), "{e}");
    let e = fails(&mut vm, "freeze.remove('nosuch')");
    assert!(e.contains("ValueError"), "{e}");
    assert_eq!(info(&mut vm, "batches"), 4, "nothing written on error");

    // 5. Compact: the reclaimable bytes are reported, then reclaimed.
    let used = info(&mut vm, "region_used");
    let reclaimable = info(&mut vm, "reclaimable");
    let ram_used = info(&mut vm, "ram_used");
    let reclaimable_ram = info(&mut vm, "reclaimable_ram");
    assert!(reclaimable >= 2 * 4096, "{reclaimable}");
    // These modules' state (lists, dicts) is frozen to flash copy-on-write, so their batches
    // take no RAM section: nothing of it to reclaim, and what is reported is what is used.
    assert!(
        reclaimable_ram <= ram_used,
        "{reclaimable_ram} of {ram_used}"
    );
    let out = fails(&mut vm, "freeze.compact()");
    assert!(out.contains("compacted 4 batches into 1"), "{out}");
    assert!(out.contains("SystemExit: soft reboot"), "{out}");
    assert!(vm.lifecycle.reboot_requested);

    // 6. Reboot (b's source gone too): everything left works from flash.
    std::fs::remove_file(d.join("b.mpy")).unwrap();
    let mut vm = reboot(&vm, &d);
    run(&mut vm, "import freeze");
    assert_eq!(info(&mut vm, "batches"), 1);
    assert_eq!(info(&mut vm, "region_used"), used - reclaimable);
    assert_eq!(info(&mut vm, "ram_used"), ram_used - reclaimable_ram);
    assert_eq!(info(&mut vm, "reclaimable"), 0);
    assert_eq!(run(&mut vm, "import a"), "");
    assert_eq!(run(&mut vm, "a.NAME"), "'counter'\n");
    assert_eq!(run(&mut vm, "a.incr()"), "1\n");
    assert_eq!(run(&mut vm, "freeze.isfrozen(a.incr)"), "True\n");
    assert_eq!(mods(&mut vm), [m("a", 0, false)]);
    let e = fails(&mut vm, "import b");
    assert!(e.contains("ImportError"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The source record is of the bytes the module was loaded from: a file changed between the
/// import and the freeze makes the frozen copy stale at the next boot.
#[test]
fn a_source_changed_after_the_import_and_before_the_freeze_is_stale() {
    let d = dir("late");
    std::fs::write(d.join("a.mpy"), V1).unwrap();
    let mut vm = boot(SimChip::erased(), &d);
    run(&mut vm, "import freeze");
    run(&mut vm, "import a");
    std::fs::write(d.join("a.mpy"), V2).unwrap();
    let out = run(&mut vm, "freeze.import_modules('a')");
    assert!(out.starts_with("froze "), "{out}");
    let mut vm = reboot(&vm, &d);
    run(&mut vm, "import freeze");
    let out = run(&mut vm, "import a");
    assert!(
        out.starts_with("warning: frozen module 'a' is stale (") && out.contains("a.mpy changed"),
        "{out}"
    );
    // The frozen copy is the first source's.
    assert_eq!(run(&mut vm, "a.bump()"), "1\n");
    assert_eq!(mods(&mut vm), [m("a", 0, true)]);
    // Written back as it was frozen from: not stale.
    std::fs::write(d.join("a.mpy"), V1).unwrap();
    let mut vm = reboot(&vm, &d);
    run(&mut vm, "import freeze");
    assert_eq!(run(&mut vm, "import a"), "");
    assert_eq!(mods(&mut vm), [m("a", 0, false)]);
}

#[test]
fn stale_modes() {
    let d = dir("modes");
    std::fs::write(d.join("a.mpy"), V1).unwrap();
    let mut vm = boot(SimChip::erased(), &d);
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('a')");
    std::fs::write(d.join("a.mpy"), V2).unwrap();
    // 'use': the frozen copy, silently.
    let mut vm = reboot(&vm, &d);
    run(&mut vm, "import freeze");
    assert_eq!(run(&mut vm, "freeze.stale('use')"), "'warn'\n");
    assert_eq!(run(&mut vm, "import a"), "");
    assert_eq!(run(&mut vm, "a.bump()"), "1\n");
    // 'reload': the source, into the heap.
    let mut vm = reboot(&vm, &d);
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.stale('reload')");
    assert_eq!(run(&mut vm, "import a"), "");
    assert_eq!(run(&mut vm, "a.NAME"), "'counter'\n");
    assert_eq!(run(&mut vm, "freeze.isfrozen(a)"), "False\n");
    let e = fails(&mut vm, "freeze.stale('sometimes')");
    assert!(e.contains("ValueError"), "{e}");
    // Compacting an empty image is an error.
    run(&mut vm, "freeze.clear()");
    let e = fails(&mut vm, "freeze.compact()");
    assert!(
        e.contains("ValueError") && e.contains("nothing to compact"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The flash as an older firmware would have left it: every batch of the chain carries
/// `fw` as its firmware id (headers and commit records re-sealed).
fn made_by_firmware(chip: &SimChip, fw: &[u8]) -> SimChip {
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    let mut bytes = chip.0.as_bytes().to_vec();
    let base = minivm::memmap::IMAGE_FLASH_OFFSET as usize;
    let mut at = base;
    let mut prev = 0u32;
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    while &bytes[at..at + 4] == b"FFZB" {
        let h = &mut bytes[at..at + 144];
        h[9] = fw.len() as u8;
        h[104..136].fill(0);
        h[104..104 + fw.len()].copy_from_slice(fw);
        h[16..20].copy_from_slice(&prev.to_le_bytes());
        let hc = crc.checksum(&h[..140]);
        prev = hc;
        h[140..144].copy_from_slice(&hc.to_le_bytes());
        let span = u32_at(h, 36) as usize;
        let c = at + u32_at(h, 96) as usize;
        bytes[c + 8..c + 12].copy_from_slice(&hc.to_le_bytes());
        let rc = crc.checksum(&bytes[c..c + 28]);
        bytes[c + 28..c + 32].copy_from_slice(&rc.to_le_bytes());
        at += span;
    }
    SimChip::from_bytes(&bytes)
}

#[test]
fn after_a_firmware_update_the_modules_are_refrozen_from_their_sources() {
    let d = dir("fwupdate");
    std::fs::write(d.join("a.mpy"), V1).unwrap();
    std::fs::write(d.join("b.mpy"), B).unwrap();
    std::fs::write(d.join("c.mpy"), V2).unwrap();
    let mut vm = boot(SimChip::erased(), &d);
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('a', 'b', 'c')");
    // b's source changes and c's goes away; then a firmware with another id boots.
    std::fs::write(d.join("b.mpy"), V2).unwrap();
    std::fs::remove_file(d.join("c.mpy")).unwrap();
    let old = made_by_firmware(&vm.mem.flash, b"minivm-old-firmware");
    let mut vm = boot(old, &d);
    // Refused by its firmware id, but its modules are named, with their sources.
    let names: Vec<_> = vm
        .lifecycle
        .refused
        .iter()
        .map(|(n, p, _)| {
            (
                n.as_str(),
                p.as_deref()
                    .is_some_and(|p| p.ends_with(&format!("{n}.mpy"))),
            )
        })
        .collect();
    assert_eq!(names, [("a", true), ("b", true), ("c", true)]);
    run(&mut vm, "import freeze");
    assert_eq!(mods(&mut vm), [], "nothing mounted");
    let out = run(&mut vm, "freeze.refreeze()");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("a: re-frozen (froze "), "{out}");
    assert!(
        lines[1].starts_with("b: not re-frozen (")
            && lines[1].ends_with("b.mpy changed since it was frozen)"),
        "{out}"
    );
    assert_eq!(lines[2], "c: not re-frozen (source missing)");
    assert_eq!(lines[3], "['a']");
    // The next boot mounts a (this firmware's image now).
    let mut vm = reboot(&vm, &d);
    run(&mut vm, "import freeze");
    assert!(vm.lifecycle.refused.is_empty());
    assert_eq!(mods(&mut vm), [m("a", 0, false)]);
    run(&mut vm, "import a");
    assert_eq!(run(&mut vm, "freeze.isfrozen(a.bump)"), "True\n");
    assert_eq!(run(&mut vm, "a.bump()"), "1\n");
    let _ = std::fs::remove_dir_all(&d);
}

/// A bundled module's stale check uses the hash `build.rs` computed, which must be the hash of
/// the bytes the firmware carries; and a file on the path that shadows a frozen bundled module
/// still makes it stale (the fast path answers only for the bundled bytes themselves).
#[test]
fn bundled_sources_hash_at_build_time_and_a_shadowing_file_is_stale() {
    use minivm::vm::ModuleSource as _;
    let mut n = 0;
    for name in minivm::sources::bundled_names() {
        let (bytes, _) = minivm::sources::Bundled.find(name).unwrap();
        let (path, hash) = minivm::sources::Bundled.hash_on(name, &[]).unwrap();
        assert_eq!(hash, minivm::lifecycle::source_hash(&bytes), "{path}");
        n += 1;
    }
    assert!(n > 0);
    let d = dir("bundled");
    let mut vm = boot(SimChip::erased(), &d);
    run(&mut vm, "import freeze");
    run(&mut vm, "freeze.import_modules('counter')");
    // Unchanged: the bundled copy is the one frozen, no warning.
    let mut vm = reboot(&vm, &d);
    assert_eq!(run(&mut vm, "import counter"), "");
    run(&mut vm, "import freeze");
    assert_eq!(mods(&mut vm), [m("counter", 0, false)]);
    // A different `counter.mpy` ahead of the bundled one on the path: stale.
    std::fs::write(d.join("counter.mpy"), V1).unwrap();
    let mut vm = reboot(&vm, &d);
    let out = run(&mut vm, "import counter");
    assert!(
        out.starts_with("warning: frozen module 'counter' is stale"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A compaction cut at each of its flash mutations: the next boot (mount, then the freezer's
/// attach, which recovers a cut move only when a sector starts with a committed staged copy)
/// runs both modules from flash, from the old image or the compacted one. A boot whose mount
/// found nothing is one with a move to finish: it finishes it and mounts.
#[test]
fn a_compaction_cut_anywhere_boots_with_both_modules() {
    let d = dir("cut");
    std::fs::write(d.join("a.mpy"), V1).unwrap();
    std::fs::write(d.join("b.mpy"), B).unwrap();
    let mut vm = boot(SimChip::erased(), &d);
    run(&mut vm, "import freeze");
    run(&mut vm, "import a");
    run(&mut vm, "import b");
    run(&mut vm, "freeze.import_modules('a', 'b')");
    let before = vm.mem.flash.0.as_bytes().to_vec();
    // The mutations a whole compaction makes.
    let mut vm = boot(SimChip::from_bytes(&before), &d);
    run(&mut vm, "import freeze");
    let m0 = vm.mem.flash.0.counters().mutations();
    let out = fails(&mut vm, "freeze.compact()");
    assert!(out.contains("compacted 2 batches into 1"), "{out}");
    let ops = vm.mem.flash.0.counters().mutations() - m0;
    assert!(ops > 4, "{ops} mutations");
    let (mut old, mut new, mut recovered) = (0, 0, 0);
    for i in 0..ops {
        let mut vm = boot(SimChip::from_bytes(&before), &d);
        run(&mut vm, "import freeze");
        vm.mem.flash.0.arm_power_cut(i, 0);
        let _ = vm.exec_line("freeze.compact()");
        vm.take_output();
        let mut chip = SimChip::from_bytes(vm.mem.flash.0.as_bytes());
        chip.0.reboot();
        let mut vm = Vm::new(chip, minivm::memmap::HEAP_DEFAULT);
        let mounted = vm.mount_frozen().ok().map(|m| m.batches);
        let after = minivm::freeze::FlashFreezer::attach(&mut vm).map(|m| m.map(|m| m.batches));
        vm.sources.push(Box::new(minivm::sources::Bundled));
        let batches = match (mounted, after) {
            (Some(n), None) => n,
            (None, Some(Ok(n))) => {
                recovered += 1;
                n
            }
            other => panic!("cut at mutation {i}: mount and recovery {other:?}"),
        };
        match batches {
            2 => old += 1,
            1 => new += 1,
            n => panic!("cut at mutation {i}: {n} batches"),
        }
        run(&mut vm, "import freeze");
        run(&mut vm, "import a");
        run(&mut vm, "import b");
        assert_eq!(
            run(&mut vm, "freeze.isfrozen(a.bump)"),
            "True\n",
            "cut at {i}"
        );
        assert_eq!(run(&mut vm, "freeze.isfrozen(b)"), "True\n", "cut at {i}");
        assert_eq!(run(&mut vm, "a.bump()"), "1\n", "cut at {i}");
    }
    assert!(
        old > 0 && new > 0 && recovered > 0,
        "old {old} new {new} recovered {recovered}"
    );
    let _ = std::fs::remove_dir_all(&d);
}
