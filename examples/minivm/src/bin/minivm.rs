//! Host front-end: runs console statements from a script file or stdin against minivm, or
//! serves the board's console on a pseudo-terminal.
//!
//! `minivm [--flash PATH] [--fs DIR] [--path DIR]... [--heap BYTES] [--echo] [-v] [--refreeze] [--pty | SCRIPT]`
//! `minivm inspect [--flash PATH] [--fs DIR] [--path DIR]... [--layout] [--dot]`
//!
//! `inspect` prints what the flash file's image holds: its batches, the live modules (batch,
//! size, source path, whether the source changed since), `freeze.info()`'s figures, and with
//! `--layout` / `--dot` the library's layout dump and DOT graph; an image of another firmware
//! is reported with the reason and the modules it names. `--refreeze` is the boot option after
//! a firmware update: when the image is refused (another firmware id), clear it and freeze the
//! modules it named again from their sources, and report what was re-frozen and what not.
//! `freeze.compact()` ends the line with a soft reboot onto the compacted image.
//!
//! The flash image lives in a file (default `minivm.flash`, a 2 MiB erased NOR chip), so a
//! second run sees what the first one froze: a soft reboot. `-v` reports the mount at boot and,
//! at exit, what each batch frozen in this run put in flash and RAM, by kind. `--fs DIR` gives
//! the VM a filesystem (`open()`, `os`, imports from `['', '/lib']` on it) in a host directory
//! of the Pico's filesystem size. `--pty` prints `minivm: console on /dev/pts/N` and serves the
//! Pico's console there (friendly prompt, raw REPL, raw paste, Ctrl-D soft reboot): `mpremote
//! connect /dev/pts/N fs cp mymod.mpy :` works against it; the flash file is saved whenever it
//! changed. It runs until killed.

#[path = "minivm/pty.rs"]
mod pty;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::rc::Rc;

use minivm::Vm;
use minivm::freeze::{FlashFreezer, SimChip};
use minivm::memmap::{FLASH_SIZE, HEAP_DEFAULT};
use minivm::repl::console::Console;
use minivm::session::{Session, Step, close_files};
use minivm::sources::DirSource;
use minivm::vfs::{HostDir, Root, SYS_PATH};

/// Capacity of the `--fs` directory: the Pico's filesystem region.
const FS_BYTES: u64 = 512 * 1024;
/// Longest program the pty console takes.
const PROGRAM_LIMIT: usize = 1 << 20;

fn usage() -> ! {
    eprintln!(
        "usage: minivm [--flash PATH] [--fs DIR] [--path DIR]... [--heap BYTES] [--echo] [-v] [--refreeze] [--pty | SCRIPT]\n       minivm inspect [--flash PATH] [--fs DIR] [--path DIR]... [--layout] [--dot]"
    );
    std::process::exit(2)
}

/// How to build a VM (again, at a soft reboot).
struct Boot {
    heap: u32,
    stress: bool,
    verbose: bool,
    refreeze: bool,
    dirs: Vec<PathBuf>,
    root: Option<Rc<Root>>,
}

impl Boot {
    fn vm(&self, chip: SimChip) -> Vm<SimChip> {
        let mut vm = Vm::new(chip, self.heap);
        vm.gc_stress = self.stress;
        vm.mem.poison = self.stress;
        match vm.mount_frozen() {
            Ok(info) if self.verbose => eprintln!(
                "minivm: mounted {} batches: {}",
                info.batches,
                info.modules_joined(", ")
            ),
            Err(e) if self.verbose => eprintln!("minivm: no frozen image mounted: {e}"),
            _ => {}
        }
        FlashFreezer::attach(&mut vm);
        for d in &self.dirs {
            vm.sources.push(Box::new(DirSource(d.clone())));
        }
        vm.sources.push(Box::new(minivm::sources::Bundled));
        if let Some(r) = &self.root {
            minivm::vfs::mount(&mut vm, r.clone(), SYS_PATH);
        }
        if !vm.lifecycle.refused.is_empty() {
            let names: Vec<&str> = vm.lifecycle.refused.iter().map(|m| m.0.as_str()).collect();
            eprintln!(
                "minivm: the frozen image was made by another firmware; it names {} ({})",
                names.join(", "),
                if self.refreeze {
                    "re-freezing them"
                } else {
                    "--refreeze or freeze.refreeze() freezes them again"
                }
            );
            if self.refreeze {
                match vm.refreeze_refused() {
                    Ok((_, lines)) => {
                        for l in lines {
                            eprintln!("minivm: {l}");
                        }
                    }
                    Err(e) => eprintln!("minivm: re-freeze failed: {e}"),
                }
                vm.young.clear();
            }
        }
        vm
    }
}

/// Saves the chip to `path` (the image region may have been written by freeze).
fn save(path: &PathBuf, vm: &Vm<SimChip>) {
    if let Err(e) = std::fs::write(path, vm.mem.flash.0.as_bytes()) {
        eprintln!("minivm: can't write {}: {e}", path.display());
    }
}

/// The console on a pty, until killed.
fn serve_pty(boot: &Boot, chip: SimChip, flash_path: &PathBuf) -> ! {
    let pty = match pty::Pty::open() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("minivm: can't open a pty: {e}");
            std::process::exit(1)
        }
    };
    eprintln!("minivm: console on {}", pty.path);
    let banner = format!(
        "minivm {} on the host (flash {}); Ctrl-D: soft reboot\nType %help for board commands.",
        env!("CARGO_PKG_VERSION"),
        flash_path.display()
    );
    let mut session = Session::new(pty, Console::new(&banner, PROGRAM_LIMIT));
    let mut vm = Some(boot.vm(chip));
    let mut saved = 0;
    session.ready();
    while let Some(v) = vm.as_mut() {
        let step = match session.step(v) {
            // `freeze.compact()` moved the frozen objects: reboot onto the compacted image.
            None if v.lifecycle.reboot_requested => Some(Step::Reboot),
            s => s,
        };
        match step {
            None => {}
            Some(Step::Reboot) => {
                let Some(old) = vm.take() else { break };
                close_files(&old);
                save(flash_path, &old);
                let chip = SimChip::from_bytes(old.mem.flash.0.as_bytes());
                drop(old);
                session.rebooted();
                vm = Some(boot.vm(chip));
                saved = 0;
                session.ready();
            }
            Some(Step::Command(c)) => {
                use std::fmt::Write as _;
                let text = match c.as_str() {
                    "help" => String::from(
                        "board commands:\n  %help   this list\n  %info   flash file, filesystem, heap",
                    ),
                    "info" => {
                        let v = vm.as_mut().map(|v| {
                            v.collect();
                            v.heap_stats()
                        });
                        format!(
                            "flash file:  {}\nfilesystem:  {}\nheap:        {} of {} bytes used",
                            flash_path.display(),
                            boot.root
                                .as_ref()
                                .map_or("none (use --fs DIR)", |_| "a host directory (--fs)"),
                            v.map_or(0, |s| s.used),
                            v.map_or(0, |s| s.total)
                        )
                    }
                    other => format!("unknown board command: %{other} (try %help)"),
                };
                let _ = writeln!(session.out(), "{text}");
                session.prompt();
            }
            Some(Step::Closed) => break,
        }
        if let Some(v) = vm.as_ref() {
            let m = v.mem.flash.0.counters().mutations();
            if m != saved {
                save(flash_path, v);
                saved = m;
            }
        }
    }
    std::process::exit(0)
}

fn main() {
    let mut flash_path = PathBuf::from("minivm.flash");
    let mut dirs = Vec::new();
    let mut heap = HEAP_DEFAULT;
    let mut echo = false;
    let mut verbose = false;
    let mut stress = false;
    let mut script = None;
    let mut fs_dir = None;
    let mut use_pty = false;
    let mut refreeze = false;
    let mut inspect = None;
    let mut args = std::env::args().skip(1).peekable();
    if args.next_if(|a| a == "inspect").is_some() {
        inspect = Some(minivm::inspect::Show::default());
    }
    while let Some(a) = args.next() {
        match a.as_str() {
            "--refreeze" => refreeze = true,
            "--layout" if inspect.is_some() => inspect.iter_mut().for_each(|s| s.layout = true),
            "--dot" if inspect.is_some() => inspect.iter_mut().for_each(|s| s.dot = true),
            "--flash" => flash_path = args.next().map(PathBuf::from).unwrap_or_else(|| usage()),
            "--path" => dirs.push(args.next().map(PathBuf::from).unwrap_or_else(|| usage())),
            "--fs" => fs_dir = Some(args.next().map(PathBuf::from).unwrap_or_else(|| usage())),
            "--pty" => use_pty = true,
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
    let root = match &fs_dir {
        Some(d) => match HostDir::new(d, FS_BYTES) {
            Ok(h) => Some(Root::new(Box::new(h))),
            Err(e) => {
                eprintln!("minivm: can't use {} as the filesystem: {e}", d.display());
                std::process::exit(1)
            }
        },
        None => None,
    };
    let boot = Boot {
        heap,
        stress,
        verbose,
        refreeze,
        dirs,
        root,
    };
    if let Some(show) = inspect {
        if !flash_path.exists() {
            eprintln!("minivm: no flash file {}", flash_path.display());
            std::process::exit(1)
        }
        let mut vm = boot.vm(chip);
        print!("{}", minivm::inspect::report(&mut vm, show));
        return;
    }
    if use_pty {
        serve_pty(&boot, chip, &flash_path);
    }
    let mut vm = boot.vm(chip);
    // The host keeps sys.stderr apart: it goes to this process's stderr.
    vm.err = Some(String::new());
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
        if vm.lifecycle.reboot_requested {
            // `freeze.compact()` moved the frozen objects: a soft reboot onto the new image.
            let _ = out.write_all(b"MPY: soft reboot\n");
            close_files(&vm);
            let chip = SimChip::from_bytes(vm.mem.flash.0.as_bytes());
            vm = boot.vm(chip);
            vm.err = Some(String::new());
        }
        if let Some(err) = vm.err.as_mut().filter(|e| !e.is_empty()) {
            let _ = out.flush();
            eprint!("{}", core::mem::take(err));
        }
    }
    let _ = out.flush();
    if verbose {
        // What each batch frozen in this run put in flash, by kind (image density reports).
        for (i, b) in vm.freeze_log.iter().enumerate() {
            let st = &b.stats;
            eprintln!(
                "minivm: batch {i} ({}): {} flash bytes, {} ram bytes, {} objects",
                b.modules.join(", "),
                st.flash_bytes,
                st.ram_bytes,
                st.objects
            );
            for (m, why) in &b.waited {
                eprintln!("minivm:   {m} waited: it reached {why}");
            }
            for k in &st.kinds {
                eprintln!(
                    "minivm:   {:12} {:?} {:5} objects {:7} bytes",
                    k.kind, k.placement, k.count, k.bytes
                );
            }
        }
    }
    save(&flash_path, &vm);
}
