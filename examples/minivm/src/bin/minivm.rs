//! Host front-end: runs console statements from a script file or stdin against minivm.
//!
//! `minivm [--flash PATH] [--path DIR]... [--heap BYTES] [--echo] [-v] [SCRIPT]`
//!
//! The flash image lives in a file (default `minivm.flash`, a 2 MiB erased NOR chip), so a
//! second run sees what the first one froze: a soft reboot. `-v` reports the mount at boot and,
//! at exit, what each batch frozen in this run put in flash and RAM, by kind.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use minivm::Vm;
use minivm::freeze::{FlashFreezer, SimChip};
use minivm::memmap::{FLASH_SIZE, HEAP_DEFAULT};
use minivm::sources::DirSource;

fn usage() -> ! {
    eprintln!("usage: minivm [--flash PATH] [--path DIR]... [--heap BYTES] [--echo] [-v] [SCRIPT]");
    std::process::exit(2)
}

fn main() {
    let mut flash_path = PathBuf::from("minivm.flash");
    let mut dirs = Vec::new();
    let mut heap = HEAP_DEFAULT;
    let mut echo = false;
    let mut verbose = false;
    let mut stress = false;
    let mut script = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--flash" => flash_path = args.next().map(PathBuf::from).unwrap_or_else(|| usage()),
            "--path" => dirs.push(args.next().map(PathBuf::from).unwrap_or_else(|| usage())),
            "--heap" => {
                heap = args
                    .next()
                    .and_then(|h| h.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--echo" => echo = true,
            "-v" | "--verbose" => verbose = true,
            "--gc-stress" => stress = true,
            "-h" | "--help" => usage(),
            s => script = Some(PathBuf::from(s)),
        }
    }
    // The flash file holds the whole 2 MiB chip; the image region is mapped into the VM. A
    // missing file is a new, erased chip; a file that cannot be read as a chip is left as it is.
    let chip = match std::fs::read(&flash_path) {
        Ok(b) if b.len() == FLASH_SIZE as usize => SimChip::from_bytes(&b),
        Ok(b) => {
            eprintln!(
                "minivm: {} is {} bytes, not a {FLASH_SIZE}-byte flash chip; left as it is (use another --flash file)",
                flash_path.display(),
                b.len()
            );
            std::process::exit(1)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => SimChip::erased(),
        Err(e) => {
            eprintln!("minivm: can't read {}: {e}", flash_path.display());
            std::process::exit(1)
        }
    };
    let mut vm = Vm::new(chip, heap);
    vm.gc_stress = stress;
    vm.mem.poison = stress;
    match vm.mount_frozen() {
        Ok(info) => {
            if verbose {
                eprintln!(
                    "minivm: mounted {} batches: {}",
                    info.batches,
                    info.modules.join(", ")
                );
            }
        }
        Err(e) => {
            if verbose {
                eprintln!("minivm: no frozen image mounted: {e}");
            }
        }
    }
    FlashFreezer::attach(&mut vm);
    for d in dirs {
        vm.sources.push(Box::new(DirSource(d)));
    }
    vm.sources.push(Box::new(minivm::sources::Bundled));
    let lines: Vec<String> = match &script {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => t.lines().map(String::from).collect(),
            Err(e) => {
                eprintln!("minivm: can't read {}: {e}", p.display());
                std::process::exit(1)
            }
        },
        None => std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .collect(),
    };
    let started = std::time::Instant::now();
    let mut out = std::io::stdout().lock();
    for line in lines {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if echo {
            let _ = writeln!(out, ">>> {line}");
        }
        vm.ticks_ms = started.elapsed().as_millis() as u32;
        let _ = vm.exec_line(&line);
        let _ = out.write_all(vm.take_output().as_bytes());
    }
    let _ = out.flush();
    if verbose {
        // What each batch frozen in this run put in flash, by kind (image density reports).
        for (i, st) in vm.freeze_log.iter().enumerate() {
            eprintln!(
                "minivm: batch {i}: {} flash bytes, {} ram bytes, {} objects",
                st.flash_bytes, st.ram_bytes, st.objects
            );
            for k in &st.kinds {
                eprintln!(
                    "minivm:   {:12} {:?} {:5} objects {:7} bytes",
                    k.kind, k.placement, k.count, k.bytes
                );
            }
        }
    }
    // Persist the chip (the image region may have been written by freeze).
    if let Err(e) = std::fs::write(&flash_path, vm.mem.flash.0.as_bytes()) {
        eprintln!("minivm: can't write {}: {e}", flash_path.display());
    }
}
