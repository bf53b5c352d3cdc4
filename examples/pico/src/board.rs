//! Board commands: console lines starting with `%` (`%help`, `%info`, `%flash-test`, `%flash-verify`).

use core::fmt::Write as _;

use embedded_hal_nb::serial::{Read, Write};
use embedded_storage::nor_flash::NorFlash;
use rp2040_hal as hal;

use crate::console::Console;
use crate::flash::{ERASE_SIZE, RegionFlash, WRITE_SIZE};
use crate::layout::{self, FROZEN_RAM_LEN, IMAGE_LEN};
use crate::{ALLOCATOR, FROZEN_RAM};

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

/// What the board commands report on, besides the flash region.
pub struct Board<'a> {
    /// Addresses from the linker.
    pub linked: &'a layout::Linked,
    /// The boot's `image:` line (what the mount found).
    pub image_status: &'a str,
    /// The 1 MHz timer, for durations.
    pub timer: &'a hal::Timer,
}

impl Board<'_> {
    /// Runs the board command `cmd` (the console line without its `%`).
    pub fn command<S>(&self, con: &mut Console<S>, cmd: &str, region: &mut RegionFlash)
    where
        S: Read<u8> + Write<u8>,
    {
        match cmd {
            "help" => {
                let _ = writeln!(
                    con,
                    "board commands:\n  %help          this list\n  %info          memory map, heap and stack use, flash chip, what the boot mounted\n  %flash-test    erase the image region's last sector, program a pattern, verify via XIP\n  %flash-verify  check the pattern written by %flash-test is (still) there"
                );
            }
            "info" => {
                info(con, self.linked, region);
                let _ = writeln!(con, "{}", self.image_status);
            }
            "flash-test" => flash_test(con, region, self.timer),
            "flash-verify" => {
                let _ = match verify_pattern(region) {
                    Ok(()) => writeln!(
                        con,
                        "flash-verify: pattern intact at region {TEST_SECTOR:#x}"
                    ),
                    Err(at) => writeln!(
                        con,
                        "flash-verify: pattern absent (first difference at region {at:#x})"
                    ),
                };
            }
            other => {
                let _ = writeln!(con, "unknown board command: %{other} (try %help)");
            }
        }
    }
}

/// Prints the memory map as linked and the heap's use.
fn info<S>(con: &mut Console<S>, l: &layout::Linked, region: &mut RegionFlash)
where
    S: Read<u8> + Write<u8>,
{
    let frozen = &raw const FROZEN_RAM as u32;
    let _ = writeln!(
        con,
        "firmware:     flash 0x10000000..{:#x} ({} bytes incl. boot2), limit {:#x}",
        l.firmware_end,
        l.firmware_end - layout::XIP_BASE,
        layout::IMAGE_XIP
    );
    let _ = writeln!(
        con,
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
        con,
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
    let _ = writeln!(
        con,
        "frozen RAM:   {frozen:#x}..{:#x} ({} KiB)",
        frozen + FROZEN_RAM_LEN as u32,
        FROZEN_RAM_LEN / 1024
    );
    let _ = writeln!(
        con,
        "RAM:          stack {:#x}..{:#x} ({} KiB, at the bottom of SRAM; {} B used at most), .data/.bss {:#x}..{:#x}",
        l.stack_bottom,
        l.stack_top,
        (l.stack_top - l.stack_bottom) / 1024,
        layout::stack_high_water(l),
        l.ram_start,
        l.bss_end
    );
    let _ = writeln!(con, "flash chip:   JEDEC id {:06x}", region.jedec_id());
}

/// Erase the test sector, program the pattern (15 pages from RAM, 1 from flash), verify through XIP,
/// and check that misaligned and out-of-region requests are refused.
fn flash_test<S>(con: &mut Console<S>, region: &mut RegionFlash, timer: &hal::Timer)
where
    S: Read<u8> + Write<u8>,
{
    let t0 = timer.get_counter();
    if let Err(e) = region.erase(TEST_SECTOR, TEST_SECTOR + ERASE_SIZE as u32) {
        let _ = writeln!(con, "flash-test: FAILED: erase: {e}");
        return;
    }
    let sector = TEST_SECTOR as usize;
    if let Some(at) = region.as_slice()[sector..sector + ERASE_SIZE]
        .iter()
        .position(|&b| b != 0xFF)
    {
        let _ = writeln!(
            con,
            "flash-test: FAILED: byte {at:#x} of the sector not erased"
        );
        return;
    }
    let t1 = timer.get_counter();
    for page in 0..TEST_PAGES - 1 {
        let data = pattern_page(page);
        if let Err(e) = region.write(TEST_SECTOR + (page * WRITE_SIZE) as u32, &data) {
            let _ = writeln!(con, "flash-test: FAILED: program: {e}");
            return;
        }
    }
    if let Err(e) = region.write(
        TEST_SECTOR + ((TEST_PAGES - 1) * WRITE_SIZE) as u32,
        &LAST_TEST_PAGE,
    ) {
        let _ = writeln!(con, "flash-test: FAILED: program from flash: {e}");
        return;
    }
    let t2 = timer.get_counter();
    if let Err(at) = verify_pattern(region) {
        let _ = writeln!(
            con,
            "flash-test: FAILED: read back differs at region {at:#x}"
        );
        return;
    }
    let misaligned = region.write(TEST_SECTOR + 1, &[0; WRITE_SIZE]);
    let outside = region.erase(IMAGE_LEN, IMAGE_LEN + ERASE_SIZE as u32);
    match (misaligned, outside) {
        (Err(a), Err(b)) => {
            let _ = writeln!(con, "flash-test: refused: {a}\nflash-test: refused: {b}");
        }
        _ => {
            let _ = writeln!(
                con,
                "flash-test: FAILED: a misaligned or out-of-region request was accepted"
            );
            return;
        }
    }
    let _ = writeln!(
        con,
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
