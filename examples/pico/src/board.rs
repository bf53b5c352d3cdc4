//! Board commands: console lines starting with `%` (`%help`, `%info`, `%fs`, `%fs-format`,
//! `%flash-test`, `%flash-verify`, `%flash-guard`, `%crc`).

use core::fmt;

use embedded_storage::nor_flash::NorFlash;
use minivm::vfs::Root;
use rp2040_hal as hal;

use crate::flash::{ERASE_SIZE, RegionFlash, WRITE_SIZE};
use crate::fs::{BLOCK_SIZE, Lfs, MAX_FILES, SharedLfs};
use crate::layout::{self, FROZEN_RAM_LEN, FS_LEN, FS_OFFSET, IMAGE_LEN, IMAGE_OFFSET};
use crate::vm::PicoVm;
use crate::{ALLOCATOR, FROZEN_RAM};

/// A count of tenths, shown as a decimal (`123` → `12.3`).
struct Tenths(u64);

impl fmt::Display for Tenths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// Region-relative offset of the sector `flash-test` uses: the last one, far from an image's start.
const TEST_SECTOR: u32 = IMAGE_LEN - ERASE_SIZE as u32;
/// Pages of the test sector programmed from RAM; the last one is programmed from a flash constant.
const TEST_PAGES: usize = ERASE_SIZE / WRITE_SIZE;

/// Byte `i` of the `flash-test` pattern (`emu/e2e.test.mjs` computes the same function).
const fn pattern(i: usize) -> u8 {
    ((i * 31) ^ (i >> 8) ^ 0xA5) as u8
}

/// Page `page` of the test pattern.
const fn pattern_page(page: usize) -> [u8; WRITE_SIZE] {
    let mut out = [0u8; WRITE_SIZE];
    let mut i = 0;
    while i < WRITE_SIZE {
        out[i] = pattern(page * WRITE_SIZE + i);
        i += 1;
    }
    out
}

/// The last test page as a constant in flash: programming it exercises the adapter's RAM staging.
static LAST_TEST_PAGE: [u8; WRITE_SIZE] = pattern_page(TEST_PAGES - 1);

/// What the board commands report on and act on.
pub struct Board<'a> {
    /// Addresses from the linker.
    pub linked: &'a layout::Linked,
    /// What the last boot found.
    pub booted: &'a crate::vm::Booted,
    /// The filesystem.
    pub fs: &'a Lfs,
    /// The filesystem as the VM sees it (its open files).
    pub root: &'a Root,
    /// The 1 MHz timer, for durations.
    pub timer: &'a hal::Timer,
    /// The DMA sniffer's CRC, unless it failed its self-test at boot.
    pub crc: Option<&'a crate::crc::DmaCrc>,
}

impl Board<'_> {
    /// Runs the board command `cmd` (the console line without its `%`).
    pub fn command(&self, out: &mut dyn fmt::Write, cmd: &str, vm: &mut PicoVm) {
        match cmd {
            "help" => {
                let _ = writeln!(
                    out,
                    "board commands:\n  %help          this list\n  %info          memory map, heap and stack use, flash chip, filesystem, what the boot mounted\n  %fs            filesystem use and state\n  %fs-format     close every file, format the filesystem (all files are lost)\n  %flash-test    erase the image region's last sector, program a pattern, verify via XIP\n  %flash-verify  check the pattern written by %flash-test is (still) there\n  %flash-guard   ask the flash adapters for writes outside their regions: all are refused\n  %crc           CRC-32 of 64 KiB of flash by the DMA sniffer and by the table: same value, and how fast"
                );
                return;
            }
            "fs" => return self.fs_info(out),
            "fs-format" => {
                let _ = self.root.close_all();
                let t0 = self.timer.get_counter();
                let r = self.fs.format();
                let us = (self.timer.get_counter() - t0).to_micros();
                let _ = match r {
                    Ok(()) => writeln!(
                        out,
                        "fs-format: formatted {} blocks in {us} us",
                        self.fs.blocks()
                    ),
                    Err(e) => writeln!(out, "fs-format: FAILED: {e}"),
                };
                return;
            }
            "flash-guard" => return flash_guard(out, self.linked, vm, self.fs),
            "crc" => return self.crc_test(out),
            _ => {}
        }
        let Some(region) = vm.mem.flash.region() else {
            let _ = writeln!(out, "the image region is lent out");
            return;
        };
        match cmd {
            "info" => {
                info(out, self.linked, region, self.booted.ram_returned);
                let _ = writeln!(
                    out,
                    "crc:          {}",
                    match self.crc {
                        Some(_) => "CRC-32 by the DMA sniffer (channel 0), self-test passed",
                        None => "CRC-32 by the table (the DMA sniffer failed its self-test)",
                    }
                );
                self.fs_info(out);
                let _ = writeln!(out, "{}", self.booted.image_status);
            }
            "flash-test" => flash_test(out, region, self.timer),
            "flash-verify" => {
                let _ = match verify_pattern(region) {
                    Ok(()) => writeln!(
                        out,
                        "flash-verify: pattern intact at region {TEST_SECTOR:#x}"
                    ),
                    Err(at) => writeln!(
                        out,
                        "flash-verify: pattern absent (first difference at region {at:#x})"
                    ),
                };
            }
            other => {
                let _ = writeln!(out, "unknown board command: %{other} (try %help)");
            }
        }
    }

    /// `%crc`: the CRC-32 of the first 64 KiB of flash (boot2 and the firmware), by the DMA sniffer
    /// and by the table, with their times (cycles at 125 MHz).
    fn crc_test(&self, out: &mut dyn fmt::Write) {
        const LEN: usize = 64 * 1024;
        // SAFETY: the first 64 KiB of XIP flash hold boot2 and the firmware's code, which nothing
        // writes while it runs.
        let bytes = unsafe { core::slice::from_raw_parts(layout::XIP_BASE as *const u8, LEN) };
        let timed = |f: &dyn Fn() -> u32| {
            let t0 = self.timer.get_counter();
            let crc = f();
            (crc, (self.timer.get_counter() - t0).to_micros())
        };
        let (table, table_us) = timed(&|| crate::crc::software(0, bytes));
        // Cycles per byte in tenths, at 125 cycles per microsecond (no float formatting linked in).
        let per_byte = |us: u64| {
            let tenths = us * 1250 / LEN as u64;
            Tenths(tenths)
        };
        let Some(engine) = self.crc else {
            let _ = writeln!(
                out,
                "crc: table only (the DMA sniffer failed its self-test at boot): {LEN} B of flash {table:#010x} in {table_us} us ({} cycles/B)",
                per_byte(table_us)
            );
            return;
        };
        let (dma, dma_us) = timed(&|| engine.update(0, bytes));
        let _ = writeln!(
            out,
            "crc: {LEN} B of flash: DMA sniffer {dma:#010x} in {dma_us} us ({} cycles/B), table {table:#010x} in {table_us} us ({} cycles/B): {}",
            per_byte(dma_us),
            per_byte(table_us),
            if dma == table { "same" } else { "DIFFERENT" }
        );
    }

    fn fs_info(&self, out: &mut dyn fmt::Write) {
        let usage = SharedLfs::statvfs_of(self.fs);
        let _ = write!(
            out,
            "filesystem:   flash {FS_OFFSET:#x}..{:#x} = XIP {:#x}..{:#x} ({} KiB, {} blocks of {BLOCK_SIZE} B): {}",
            FS_OFFSET + FS_LEN,
            self.linked.fs_start,
            self.linked.fs_end,
            FS_LEN / 1024,
            self.fs.blocks(),
            self.fs.status()
        );
        if let Ok(s) = usage {
            let _ = write!(
                out,
                "; {} blocks used, {} free; {} of {MAX_FILES} files open",
                s.blocks - s.free,
                s.free,
                self.fs.open_files()
            );
        }
        let _ = writeln!(out);
    }
}

/// Prints the memory map as linked and the heap's use.
fn info(out: &mut dyn fmt::Write, l: &layout::Linked, region: &mut RegionFlash, returned: usize) {
    let frozen = &raw const FROZEN_RAM as u32;
    let _ = writeln!(
        out,
        "firmware:     flash 0x10000000..{:#x} ({} bytes incl. boot2), limit {:#x}",
        l.firmware_end,
        l.firmware_end - layout::XIP_BASE,
        layout::IMAGE_XIP
    );
    let _ = writeln!(
        out,
        "image region: flash {:#x}..{:#x} = XIP {:#x}..{:#x} ({} KiB), erase {} B, write {} B",
        region.flash_offset(),
        region.flash_offset() + IMAGE_LEN,
        l.image_start,
        l.image_end,
        IMAGE_LEN / 1024,
        ERASE_SIZE,
        WRITE_SIZE
    );
    let _ = writeln!(
        out,
        "heap:         {:#x}..{:#x} + {:#x}..{:#x} ({} KiB; the VM's GC heap is {} KiB of it), used {} B, free {} B, peak {} B",
        l.heap_start,
        l.heap_end,
        l.heap2_start,
        l.heap2_end,
        (l.heap_end - l.heap_start + l.heap2_end - l.heap2_start) / 1024,
        layout::VM_HEAP_LEN / 1024,
        ALLOCATOR.used(),
        ALLOCATOR.free(),
        ALLOCATOR.peak()
    );
    critical_section::with(|cs| {
        let log = crate::vm::WORK.borrow_ref(cs);
        let _ = write!(
            out,
            "freezer:      {} batches since power-on; working memory per batch (B over live / objects / flash B / planned B / largest object B):",
            log.0
        );
        for b in log.1.iter().take(log.0) {
            let _ = write!(
                out,
                " {}/{}/{}/{}/{}",
                b.work, b.objects, b.flash_bytes, b.planned, b.largest
            );
        }
        let _ = writeln!(out);
    });
    let _ = writeln!(
        out,
        "frozen RAM:   {frozen:#x}..{:#x} ({} KiB, the VM's RAM section in place; {returned} B of heap returned)",
        frozen + FROZEN_RAM_LEN as u32,
        FROZEN_RAM_LEN / 1024
    );
    let _ = writeln!(
        out,
        "RAM:          stack {:#x}..{:#x} ({} KiB, at the bottom of SRAM; {} B used at most), .data/.bss {:#x}..{:#x}",
        l.stack_bottom,
        l.stack_top,
        (l.stack_top - l.stack_bottom) / 1024,
        layout::stack_high_water(l),
        l.ram_start,
        l.bss_end
    );
    let _ = writeln!(out, "flash chip:   JEDEC id {:06x}", region.jedec_id());
}

/// Erase the test sector, program the pattern (15 pages from RAM, 1 from flash), verify through XIP,
/// and check that misaligned and out-of-region requests are refused.
fn flash_test(out: &mut dyn fmt::Write, region: &mut RegionFlash, timer: &hal::Timer) {
    let t0 = timer.get_counter();
    if let Err(e) = region.erase(TEST_SECTOR, TEST_SECTOR + ERASE_SIZE as u32) {
        let _ = writeln!(out, "flash-test: FAILED: erase: {e}");
        return;
    }
    let sector = TEST_SECTOR as usize;
    if let Some(at) = region.as_slice()[sector..sector + ERASE_SIZE]
        .iter()
        .position(|&b| b != 0xFF)
    {
        let _ = writeln!(
            out,
            "flash-test: FAILED: byte {at:#x} of the sector not erased"
        );
        return;
    }
    let t1 = timer.get_counter();
    for page in 0..TEST_PAGES - 1 {
        let data = pattern_page(page);
        if let Err(e) = region.write(TEST_SECTOR + (page * WRITE_SIZE) as u32, &data) {
            let _ = writeln!(out, "flash-test: FAILED: program: {e}");
            return;
        }
    }
    if let Err(e) = region.write(
        TEST_SECTOR + ((TEST_PAGES - 1) * WRITE_SIZE) as u32,
        &LAST_TEST_PAGE,
    ) {
        let _ = writeln!(out, "flash-test: FAILED: program from flash: {e}");
        return;
    }
    let t2 = timer.get_counter();
    if let Err(at) = verify_pattern(region) {
        let _ = writeln!(
            out,
            "flash-test: FAILED: read back differs at region {at:#x}"
        );
        return;
    }
    let misaligned = region.write(TEST_SECTOR + 1, &[0; WRITE_SIZE]);
    let outside = region.erase(IMAGE_LEN, IMAGE_LEN + ERASE_SIZE as u32);
    match (misaligned, outside) {
        (Err(a), Err(b)) => {
            let _ = writeln!(out, "flash-test: refused: {a}\nflash-test: refused: {b}");
        }
        _ => {
            let _ = writeln!(
                out,
                "flash-test: FAILED: a misaligned or out-of-region request was accepted"
            );
            return;
        }
    }
    let _ = writeln!(
        out,
        "flash-test: ok: erased sector {:#x} (XIP {:#x}) in {} us, programmed {} pages in {} us, verified via XIP",
        region.flash_offset() + TEST_SECTOR,
        region.xip_addr() + TEST_SECTOR,
        (t1 - t0).to_micros(),
        TEST_PAGES,
        (t2 - t1).to_micros()
    );
}

/// Compares the test sector with the pattern through XIP; the region offset of the first difference.
fn verify_pattern(region: &RegionFlash) -> Result<(), u32> {
    let sector = TEST_SECTOR as usize;
    match region.as_slice()[sector..sector + ERASE_SIZE]
        .iter()
        .enumerate()
        .position(|(i, &b)| b != pattern(i))
    {
        None => Ok(()),
        Some(i) => Err(TEST_SECTOR + i as u32),
    }
}

/// Every way the freezer's and the filesystem's flash adapters could reach each other's region or
/// the firmware, asked for: each must come back refused, with its typed error (nothing is written).
fn flash_guard(out: &mut dyn fmt::Write, l: &layout::Linked, vm: &mut PicoVm, fs: &Lfs) {
    use embedded_storage::nor_flash::NorFlash as _;
    let firmware_end = l.firmware_end - layout::XIP_BASE;
    let mut refused = 0;
    let mut accepted = 0;
    let mut report = |out: &mut dyn fmt::Write, what: &str, r: Result<(), &dyn fmt::Display>| {
        let _ = match r {
            Err(e) => {
                refused += 1;
                writeln!(out, "flash-guard: {what}: refused: {e}")
            }
            Ok(()) => {
                accepted += 1;
                writeln!(out, "flash-guard: {what}: ACCEPTED")
            }
        };
    };
    // A second claim on either region, or any on the firmware.
    for (what, offset, len) in [
        ("claim the image region", IMAGE_OFFSET, ERASE_SIZE as u32),
        (
            "claim the filesystem region",
            FS_OFFSET + FS_LEN - ERASE_SIZE as u32,
            ERASE_SIZE as u32,
        ),
        ("claim boot2", 0, ERASE_SIZE as u32),
        (
            "claim the firmware's last sector",
            firmware_end / ERASE_SIZE as u32 * ERASE_SIZE as u32,
            ERASE_SIZE as u32,
        ),
    ] {
        // SAFETY: core 1 is parked and no DMA reads flash (as for the board's own regions); a claim
        // that were accepted here would be dropped at once, without touching flash.
        let r = unsafe { RegionFlash::claim(offset, len, firmware_end) };
        match r {
            Err(e) => report(out, what, Err(&e)),
            Ok(_) => report(out, what, Ok(())),
        }
    }
    // The freezer's chip view (chip offsets): the filesystem's sectors and the firmware's.
    let page = [0u8; WRITE_SIZE];
    let chip = &mut vm.mem.flash;
    match chip.write(FS_OFFSET, &page) {
        Err(e) => report(
            out,
            "image adapter: program the filesystem's first page",
            Err(&e),
        ),
        Ok(()) => report(
            out,
            "image adapter: program the filesystem's first page",
            Ok(()),
        ),
    }
    match chip.erase(FS_OFFSET, FS_OFFSET + ERASE_SIZE as u32) {
        Err(e) => report(
            out,
            "image adapter: erase the filesystem's first sector",
            Err(&e),
        ),
        Ok(()) => report(
            out,
            "image adapter: erase the filesystem's first sector",
            Ok(()),
        ),
    }
    match chip.erase(0, ERASE_SIZE as u32) {
        Err(e) => report(out, "image adapter: erase boot2", Err(&e)),
        Ok(()) => report(out, "image adapter: erase boot2", Ok(())),
    }
    // The filesystem's region adapter (region offsets start at the filesystem): past its end.
    let [erase, program] = fs.probe_past_end();
    match erase {
        Err(e) => report(out, "filesystem adapter: erase past the region", Err(&e)),
        Ok(()) => report(out, "filesystem adapter: erase past the region", Ok(())),
    }
    match program {
        Err(e) => report(out, "filesystem adapter: program past the region", Err(&e)),
        Ok(()) => report(out, "filesystem adapter: program past the region", Ok(())),
    }
    let _ = if accepted == 0 {
        writeln!(
            out,
            "flash-guard: ok: {refused} requests refused, nothing written"
        )
    } else {
        writeln!(out, "flash-guard: FAILED: {accepted} requests accepted")
    };
}
