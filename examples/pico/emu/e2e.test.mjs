// End-to-end: the release firmware on an emulated RP2040 (rp2040js + the SPI-NOR model), driven over
// UART0 (and USB CDC). One board, one flash array, many power-ons; the steps run in order and share
// that state: board checks first, then the seed session of issue 5 on minivm.
//
// Needs: the firmware built (`cargo build --release` in examples/pico), llvm-tools, and the boot ROM
// (see pico.mjs BOOTROM_HOWTO). Without the boot ROM the suite is skipped locally, and fails under CI.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { FLASH_SIZE, firmwareElf, firmwareImage, IMAGE_LEN, IMAGE_OFFSET, loadBootrom, Pico, PROMPT } from './pico.mjs';
import { Profiler } from './profile.mjs';
import { JEDEC_ID } from './spi-nor.mjs';
import { decodeUf2Into, encodeUf2 } from './uf2.mjs';

const CI = process.env.CI === 'true' || process.env.CI === '1';

let bootrom = null;
let missing = null;
try {
  bootrom = loadBootrom();
} catch (e) {
  if (CI) throw e; // never skip under CI
  missing = 'boot ROM missing (see the message above)';
  console.error(`SKIPPING the emulated end-to-end test:\n${e.message}`);
}

/** Options of every test: skipped (locally) without the boot ROM. */
const needsRom = { skip: missing ?? false };

// PROFILE=1: the cycle profiler (profile.mjs) watches a few steps (boot, mount, imports, freeze) and
// the report at the end prints their top functions; PROFILE_OUT=file also writes them there.
const PROFILE = process.env.PROFILE === '1';
let profiler = null;
/** The profiled windows: { label, report, total, ...what `extra` measured }. */
const profiles = [];

/** Where the freeze's flash work is: the chip's erase and program calls, and its reads. */
const FLASH_WRITE = /^<flashfreeze_pico::vm::PicoChip as embedded_storage::nor_flash::NorFlash>::(erase|write)$/;
const FLASH_READ = /^<flashfreeze_pico::vm::PicoChip as embedded_storage::nor_flash::ReadNorFlash>::read$/;
/** The windows' focus functions. */
const FOCUS_MOUNT = /::mount_frozen$/;
const FOCUS_IMPORT = /ReplHost for minivm::vm::Vm<F>>::import$/;
const FOCUS_FREEZE = /^minivm::modules::freeze::import_modules$/;

/**
 * Runs `fn` on the current board as a profiled window `label` (only cycles inside functions
 * matching `focus` count; null: all) when PROFILE=1, else just runs it. Returns what `fn` returns.
 */
function profiled(label, focus, fn, extra = () => ({})) {
  if (!profiler) return fn();
  const c0 = pico.cycles;
  const result = pico.profiled(profiler, { focus }, fn);
  const elapsed = pico.cycles - c0;
  assert.ok(profiler.total > 0, `profile "${label}": no cycle inside ${focus} (a function renamed?)`);
  // Every cycle the board ran is accounted to an instruction (or to sleep), once.
  if (!focus) assert.equal(profiler.total, elapsed, `profile "${label}" accounts for every cycle`);
  assert.ok(profiler.total <= elapsed);
  profiles.push({ label, report: profiler.report(label), total: profiler.total, ...extra(profiler) });
  return result;
}

/** The flash-test pattern, as the firmware computes it (`pattern` in src/board.rs). */
const pattern = (i) => ((i * 31) ^ (i >> 8) ^ 0xa5) & 0xff;
const IMAGE_END = IMAGE_OFFSET + IMAGE_LEN;
const TEST_SECTOR = IMAGE_END - 4096; // flash offset of the region's last sector

/** Where `a` and `b` differ in `start..end`: the first offset (-1 if none) and how many bytes. */
function diff(a, b, start = 0, end = a.length) {
  let first = -1;
  let count = 0;
  for (let i = start; i < end; i++) {
    if (a[i] !== b[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { first, count };
}

/** CRC-32 (ISO-HDLC, zlib's), bit by bit. */
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (c & 1 ? 0xedb88320 : 0);
  }
  return ~c >>> 0;
}

const flash = new Uint8Array(FLASH_SIZE).fill(0xff);
let firmware = null;
let pico = null;
const perf = {};

/** Asserts that the flash still holds the firmware as flashed. */
function assertFirmwareIntact() {
  assert.deepEqual(diff(flash, firmware, 0, firmware.length), { first: -1, count: 0 }, 'firmware intact');
}

/** The deepest stack use seen by `%info` on any boot so far (bytes). */
let stackHighWater = 0;

/**
 * Saves the flash, powers on a fresh RP2040 with it and boots to the prompt (a power cycle);
 * `window` ({ label, focus }) profiles the boot.
 */
function powerCycle(window = null) {
  if (pico && !pico.off) {
    const used = Number(pico.command('%info').output.match(/(\d+) B used at most/)?.[1] ?? 0);
    stackHighWater = Math.max(stackHighWater, used);
  }
  pico?.powerOff();
  pico = new Pico(flash, bootrom);
  return window ? profiled(window.label, window.focus, () => pico.boot()) : pico.boot();
}

test('the UF2 of the firmware, flashed, cold-boots through the ROM and prints the banner', needsRom, () => {
  if (PROFILE) profiler = new Profiler(firmwareElf(), bootrom);
  firmware = firmwareImage();
  assert.ok(firmware.length > 1024 && firmware.length < IMAGE_OFFSET, `firmware is ${firmware.length} bytes`);
  // What the USB bootloader does with the .uf2 a user copies to RPI-RP2.
  const blocks = decodeUf2Into(encodeUf2(firmware), flash);
  assert.equal(blocks, Math.ceil(firmware.length / 256));
  assertFirmwareIntact();
  const { banner, cycles } = powerCycle();
  perf.bootCycles = cycles;
  assert.match(banner, /flashfreeze pico \d+\.\d+\.\d+ \(rp2040, 125 MHz\)/);
  assert.match(banner, /image region: 512 KiB at flash 0x100000 \(XIP 0x10100000\)/);
  assert.match(banner, /filesystem: 512 KiB at flash 0x180000 \(XIP 0x10180000\): mounted \(erased region, formatted\)/);
  assert.match(banner, /minivm ready/);
  assert.doesNotMatch(banner, /layout error/);
  // The ROM read boot2 (256 bytes) from the chip model with 03 before executing anything from flash.
  assert.ok(pico.chip.stats.commands['03'] >= 1, 'the ROM loaded boot2 with READ (03)');
  assert.ok(pico.chip.stats.readBytes >= 256);
});

test('info shows the memory map and the flash chip', needsRom, () => {
  const { output } = pico.command('%info');
  const end = Number.parseInt(output.match(/firmware: +flash 0x10000000\.\.(0x[0-9a-f]+)/)[1], 16);
  assert.equal(end - 0x1000_0000, firmware.length, 'firmware end matches the binary size');
  assert.ok(end <= 0x1010_0000, 'firmware below the image region');
  assert.match(output, /image region: flash 0x100000\.\.0x180000 = XIP 0x10100000\.\.0x10180000 \(512 KiB\), erase 4096 B, write 256 B/);
  assert.match(output, /filesystem: +flash 0x180000\.\.0x200000 = XIP 0x10180000\.\.0x10200000 \(512 KiB, 128 blocks of 4096 B\): mounted/);
  assert.match(output, /heap: +0x2[0-9a-f]+\.\.0x20030000 \+ 0x20032000\.\.0x20042000 \(\d+ KiB; the VM's GC heap is 96 KiB of it\)/);
  assert.match(output, /stack 0x20000000\.\.0x20008000 \(32 KiB, at the bottom of SRAM; \d+ B used at most\)/);
  const returned = output.match(/frozen RAM: +0x20030000\.\.0x20032000 \(8 KiB, the VM's RAM section in place; (\d+) B of heap returned\)/);
  assert.ok(returned, 'frozen RAM line');
  perf.ramReturned = Number(returned[1]);
  assert.equal(perf.ramReturned, 8192, 'the RAM section no longer takes a heap buffer');
  const id = JEDEC_ID.map((b) => b.toString(16).padStart(2, '0')).join('');
  assert.match(output, new RegExp(`JEDEC id ${id}`), 'JEDEC id read through the SSI EEPROM-read mode');
  assert.match(output, /^image: not mounted: mount: no committed batch/m, 'what the boot mounted');
});

test('flash-test erases and programs the image region, and nothing else', needsRom, () => {
  pico.syncFlash();
  const before = flash.slice();
  const stats0 = { ...pico.chip.stats };
  const { output, cycles } = pico.command('%flash-test');
  perf.flashTestCycles = cycles;
  assert.match(output, /flash-test: ok: erased sector 0x17f000 \(XIP 0x1017f000\)/);
  assert.match(output, /refused: flash region: 256 bytes at offset 0x7f001 not aligned to 256 bytes/);
  assert.match(output, /refused: flash region: 4096 bytes at offset 0x80000 outside the region/);
  pico.syncFlash();
  // The flash array itself changed: the sector now holds the pattern...
  for (let i = 0; i < 4096; i++) {
    assert.equal(flash[TEST_SECTOR + i], pattern(i), `flash[${(TEST_SECTOR + i).toString(16)}]`);
  }
  // ...and every other byte, the firmware included, is as it was.
  assert.deepEqual(diff(flash, before, 0, TEST_SECTOR), { first: -1, count: 0 });
  assertFirmwareIntact();
  const s = pico.chip.stats;
  assert.equal(s.erases - stats0.erases, 1, 'one sector erase');
  assert.equal(s.pagePrograms - stats0.pagePrograms, 16, 'sixteen page programs');
  assert.equal(s.refused, 0, 'no program/erase without write enable');
});

test('flash-guard: the image and filesystem adapters refuse each other\'s sectors and the firmware', needsRom, () => {
  pico.syncFlash();
  const before = flash.slice();
  const stats0 = { ...pico.chip.stats };
  const { output } = pico.command('%flash-guard');
  const fwEnd = `0x${firmware.length.toString(16)}`;
  for (const want of [
    'claim the image region: refused: flash claim: 0x1000 bytes at 0x100000 overlap the region 0x100000..0x180000',
    'claim the filesystem region: refused: flash claim: 0x1000 bytes at 0x1ff000 overlap the region 0x180000..0x200000',
    `claim boot2: refused: flash claim: 0x1000 bytes at 0x0 cover the firmware (flash 0..${fwEnd})`,
    `claim the firmware's last sector: refused: flash claim: 0x1000 bytes at 0x${((firmware.length >> 12) << 12).toString(16)} cover the firmware (flash 0..${fwEnd})`,
    "image adapter: program the filesystem's first page: refused: flash region: 256 bytes at offset 0x80000 outside the region of 0x80000 bytes (region at chip offset 0x100000)",
    "image adapter: erase the filesystem's first sector: refused: flash region: 4096 bytes at offset 0x80000 outside the region",
    'image adapter: erase boot2: refused: flash chip: 4096 bytes at 0x0 are outside the image region 0x100000..0x180000',
    'filesystem adapter: erase past the region: refused: flash region: 4096 bytes at offset 0x80000 outside the region of 0x80000 bytes',
    'filesystem adapter: program past the region: refused: flash region: 256 bytes at offset 0x80000 outside the region of 0x80000 bytes',
  ]) {
    assert.ok(output.includes(`flash-guard: ${want}`), `missing: ${want}\n${output}`);
  }
  assert.match(output, /^flash-guard: ok: 9 requests refused, nothing written$/m);
  pico.syncFlash();
  assert.deepEqual(diff(flash, before), { first: -1, count: 0 }, 'not a byte of flash changed');
  assert.equal(pico.chip.stats.erases, stats0.erases);
  assert.equal(pico.chip.stats.pagePrograms, stats0.pagePrograms);
});

test('the DMA sniffer computes the CRC-32 the table does, at a word per cycle', needsRom, () => {
  assert.match(pico.command('%info').output, /^crc: +CRC-32 by the DMA sniffer \(channel 0\), self-test passed$/m);
  const sniffed = pico.sniffer.transfers;
  const { output } = pico.command('%crc');
  const m = output.match(/^crc: 65536 B of flash: DMA sniffer (0x[0-9a-f]{8}) in (\d+) us \(([\d.]+) cycles\/B\), table (0x[0-9a-f]{8}) in (\d+) us \(([\d.]+) cycles\/B\): same$/m);
  assert.ok(m, output);
  // zlib's CRC-32 of the first 64 KiB of the flash array (boot2 and the firmware).
  assert.equal(Number(m[1]), crc32(flash.subarray(0, 65536)));
  assert.equal(m[1], m[4]);
  assert.equal(pico.sniffer.transfers - sniffed, 65536 / 4, 'one 32-bit transfer per word, all sniffed');
  perf.crc = { dma: Number(m[3]), table: Number(m[6]) };
  assert.ok(perf.crc.dma < 1 && perf.crc.table > 10 * perf.crc.dma, output);
});

test('a power cycle keeps the written data', needsRom, () => {
  const { banner, cycles } = powerCycle();
  perf.rebootCycles = cycles;
  assert.match(banner, /flashfreeze pico/);
  assert.match(pico.command('%flash-verify').output, /flash-verify: pattern intact at region 0x7f000/);
});

test('the firmware reads the real flash array: a flipped byte is seen after a power cycle', needsRom, () => {
  pico.powerOff();
  flash[TEST_SECTOR + 0x123] ^= 0x40;
  powerCycle();
  assert.match(pico.command('%flash-verify').output, /pattern absent \(first difference at region 0x7f123\)/);
  // flash-test repairs it (erase + program again).
  assert.match(pico.command('%flash-test').output, /flash-test: ok/);
  assert.match(pico.command('%flash-verify').output, /pattern intact/);
});

test('unknown board commands are answered, the console keeps working', needsRom, () => {
  assert.match(pico.command('%frobnicate').output, /unknown board command: %frobnicate \(try %help\)/);
  assert.match(pico.command('%help').output, /%flash-test/);
});

test('a USB host enumerates the CDC console; lines typed over USB are answered on USB and UART', needsRom, () => {
  pico.run(() => pico.usbConnected, 100e6);
  // Enumerated, but no terminal has the port open (DTR clear): output goes to the UART only.
  assert.equal(pico.command('6 * 7').output, '42\n');
  assert.equal(pico.usbOut, '', 'nothing sent over USB before a terminal opened the port');
  pico.openUsbTerminal();
  const uartFrom = pico.out.length;
  const { output } = pico.usbCommand('%flash-verify');
  assert.match(output, /^flash-verify: pattern intact at region 0x7f000\n$/);
  assert.equal(pico.usbCommand('6 * 7').output, '42\n');
  assert.match(pico.out.slice(uartFrom), /%flash-verify\r\nflash-verify: pattern intact.*\r\n>>> 6 \* 7\r\n42\r\n>>> $/s);
  // The UART console still works with USB attached.
  assert.equal(pico.command('6 * 7').output, '42\n');
});

test('a USB host that stops reading for 300 ms loses no output', needsRom, () => {
  // A long line while the host takes nothing: the device waits for it (up to the port's timeout)
  // instead of dropping bytes (the UART copy waits with it).
  pico.runFor(1e6); // the USB copy of the last UART answer goes out first
  const from = pico.usbOut.length;
  pico.usbIn.push(...Buffer.from("print('start:' + 'x' * 600 + ':end')\r"));
  pico.feedUsb();
  pico.pauseUsbHost();
  pico.runFor(125e6 * 0.3); // 300 ms of the board
  const stalled = pico.usbOut.length - from;
  pico.resumeUsbHost();
  // Until the answer and the next prompt are in (bounded: with holes they may never be).
  for (let i = 0; i < 50 && pico.usbOut.indexOf(`:end\r\n${PROMPT}`, from) < 0; i++) pico.runFor(1e6);
  const output = pico.usbOut.slice(from);
  assert.ok(output.includes(`start:${'x'.repeat(600)}:end\r\n`), `USB output has holes: ${JSON.stringify(output)}`);
  // The pause held the device back (it was not all sent before the host read again).
  assert.ok(stalled < output.length, `the host received all ${stalled} bytes while paused`);
  assert.equal(pico.usbCommand('6 * 7').output, '42\n');
});

// ---- The seed session on minivm over the UART (issue 5).

/** Cycles taken by the last `py` line. */
let lastCycles = 0;

/** Runs a Python line; fails on a traceback unless `raises` is given. Returns the output. */
function py(line, { raises = false, maxCycles } = {}) {
  const { output, cycles } = pico.command(line, { maxCycles });
  lastCycles = cycles;
  if (!raises) assert.doesNotMatch(output, /^Traceback|^\w*Error: /m, `${line} raised:\n${output}`);
  return output.trimEnd();
}

/** `micropython.mem_info()` parsed: { total, used, free }. */
function memInfo() {
  py('gc.collect()');
  const out = py('micropython.mem_info()');
  const m = out.match(/^GC: total: (\d+), used: (\d+), free: (\d+)$/m);
  assert.ok(m, `mem_info output:\n${out}`);
  assert.match(out, /No\. of 1-blocks: \d+, 2-blocks: \d+, max blk sz: \d+, max free sz: \d+/);
  const [total, used, free] = m.slice(1).map(Number);
  assert.equal(total, used + free);
  return { total, used, free };
}

const seed = {};
const SELFTEST = 'tinysched.selftest()';
const COUNTER_SELFTEST = /^\(1, 6, 8, \(1, 6, 8\), 'LimitError: counter over 1000', 3, True\)$/;

/** The host build of minivm (run-e2e.sh builds it; MINIVM_BIN overrides). */
const MINIVM_BIN =
  process.env.MINIVM_BIN ??
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'target', 'debug', 'minivm');

/** Runs `lines` on the host minivm with a fresh flash file; returns the whole 2 MiB chip. */
function hostFlash(lines) {
  const dir = mkdtempSync(path.join(tmpdir(), 'pico-e2e-host-'));
  try {
    const file = path.join(dir, 'host.flash');
    execFileSync(MINIVM_BIN, ['--flash', file], { input: `${lines.join('\n')}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Power-cycles (the boot profiled as `window`, if given) and returns the boot banner's `image:` line. */
function bootImage(window = null) {
  const { banner, cycles } = powerCycle(window);
  const line = banner.match(/^image: .*$/m)?.[0];
  assert.ok(line, `no image line in the banner:\n${banner}`);
  return { line, cycles };
}

test('seed 1: fresh boot, baseline heap, importing the demo modules costs heap', needsRom, () => {
  // Start from a flash with only the firmware: the board tests above wrote a pattern in the region.
  pico.powerOff();
  flash.fill(0xff, IMAGE_OFFSET, IMAGE_END);
  const { line, cycles } = bootImage({ label: 'cold boot to the prompt, empty image region', focus: null });
  perf.bootEmptyCycles = cycles;
  assert.equal(line, 'image: not mounted: mount: no committed batch (erased from 0x0)');
  py('import gc');
  py('import micropython');
  seed.baseline = memInfo();
  assert.equal(seed.baseline.total, 96 * 1024, 'the VM heap is 96 KiB');
  profiled('import tinysched from bytecode (.mpy)', FOCUS_IMPORT, () => py('import tinysched'));
  perf.importCycles = lastCycles;
  py('import counter');
  perf.importCounterCycles = lastCycles;
  seed.imported = memInfo();
  seed.importCost = seed.imported.used - seed.baseline.used;
  assert.ok(seed.importCost > 8 * 1024, `importing tinysched + counter costs ${seed.importCost} B of heap`);
  assert.equal(py("tinysched.calculate('base * 2 + 1', base=20)"), '41');
  seed.selftest = py(SELFTEST);
  assert.match(seed.selftest, /^\(\(0, 3, 1\), /);
  assert.equal(py('counter.incr()'), '1');
  assert.equal(py('counter.incr(by=5)'), '6');
  assert.equal(py('counter.value()'), '6');
  assert.match(py('counter.selftest()'), COUNTER_SELFTEST);
});

test('the console survives Python errors', needsRom, () => {
  assert.match(py('1 +', { raises: true }), /SyntaxError/);
  assert.match(py('nosuchname', { raises: true }), /NameError/);
  assert.match(py('import nosuchmodule', { raises: true }), /ImportError/);
  assert.equal(py('6 * 7'), '42');
});

test('seed 2: freeze.import_modules writes the image region only; the heap is back at the baseline', needsRom, () => {
  bootImage();
  const session = ['import gc', 'import micropython', 'import freeze', "freeze.import_modules('tinysched', 'counter')"];
  for (const line of session.slice(0, -1)) py(line);
  pico.syncFlash();
  const before = flash.slice();
  const chip0 = { ...pico.chip.stats };
  const out = py(session.at(-1), { maxCycles: 2e9 });
  perf.freezeCycles = lastCycles;
  perf.freezeErases = pico.chip.stats.erases - chip0.erases;
  perf.freezePages = pico.chip.stats.pagePrograms - chip0.pagePrograms;
  assert.equal(pico.chip.stats.refused, 0, 'no program/erase without write enable');
  const lines = out.split('\n');
  assert.equal(lines.length, 2, out);
  let flashBytes = 0;
  for (const l of lines) {
    // A firmware built with the feature `dedup` also says what it merged.
    const m = l.match(/^froze (\d+) flash bytes, (\d+) ram bytes, (\d+) objects, (\d+) qstrs(?:, \d+ merged \(\d+ bytes\))?$/);
    assert.ok(m, `freeze output: ${l}`);
    assert.ok(Number(m[1]) > 0 && Number(m[3]) > 0);
    flashBytes += Number(m[1]);
  }
  seed.frozenFlashBytes = flashBytes;
  // The Rust allocator's peak (reset after the VM's setup at boot) shows the freezer's working memory.
  const heap = pico.command('%info').output.match(/used (\d+) B, free (\d+) B, peak (\d+) B/);
  assert.ok(heap, 'heap line in %info');
  const [used, free, peak] = heap.slice(1).map(Number);
  perf.rustHeap = { used, free, peak, total: used + free };
  assert.ok(peak < used + free, 'the freeze fit in the allocator');
  pico.syncFlash();
  // Only the image region changed; the firmware (and the rest of the first MiB) is intact.
  assert.deepEqual(diff(flash, before, 0, IMAGE_OFFSET), { first: -1, count: 0 }, 'flash below the region untouched');
  assertFirmwareIntact();
  const changed = diff(flash, before, IMAGE_OFFSET, IMAGE_END);
  assert.equal(changed.first, IMAGE_OFFSET, 'the image starts at the region start');
  assert.ok(changed.count >= flashBytes / 2, `${changed.count} bytes of the region changed`);
  // The same session on the host freezes the same image, byte for byte: host tests tell the truth
  // about the device (32-bit modelled addresses, the RP2040's flash geometry in the host's simulator).
  const host = hostFlash(session);
  assert.deepEqual(diff(flash, host, IMAGE_OFFSET, IMAGE_END), { first: -1, count: 0 }, 'host and Pico images are byte-identical');
  py('import tinysched');
  py('import counter');
  seed.frozen = memInfo();
  assert.ok(
    seed.frozen.used <= seed.baseline.used + 1024,
    `heap after freezing ${seed.frozen.used} B, baseline ${seed.baseline.used} B`,
  );
  assert.equal(py(SELFTEST), seed.selftest, 'same results as before freezing');
  assert.equal(py('counter.incr()'), '1');
  assert.equal(py('counter.incr(by=5)'), '6');
  assert.equal(py('counter.history'), '[1, 6]');
  assert.equal(py('counter.state()'), '(6, 2, 2, 0)');
});

test('seed 3: after a power cycle the boot mounts the image; frozen modules import and run', needsRom, () => {
  const { line, cycles } = bootImage({ label: 'mount (the boot\'s mount_frozen)', focus: FOCUS_MOUNT });
  perf.bootMountedCycles = cycles;
  perf.mountLine = line;
  // Freeze as you import: tinysched's four submodules and the package, then counter.
  assert.match(line, /^image: mounted 6 batches in \d+ us: .*tinysched.*counter.*; RAM section 0x20030000\.\.0x2003[0-9a-f]{4}$/);
  // The firmware times vm.mount_frozen() with the RP2040 timer: 1 us = 125 cycles.
  perf.mountUs = Number(line.match(/in (\d+) us/)[1]);
  const mountProfile = profiles.at(-1);
  if (mountProfile?.label.startsWith('mount')) {
    // The profiler's time inside mount_frozen (and its callees) is what the firmware's timer saw.
    const timed = perf.mountUs * 125;
    assert.ok(Math.abs(mountProfile.total - timed) <= timed * 0.01 + 250, `mount: profiled ${mountProfile.total}, timed ${timed}`);
  }
  py('import gc');
  py('import micropython');
  const boot = memInfo();
  profiled('import tinysched from the image', FOCUS_IMPORT, () => py('import tinysched'));
  perf.frozenImportCycles = lastCycles;
  py('import counter');
  perf.frozenImportCounterCycles = lastCycles;
  const after = memInfo();
  assert.ok(after.used - boot.used < 256, `importing frozen modules cost ${after.used - boot.used} B of heap`);
  assert.ok(after.used <= seed.baseline.used + 1024);
  // The lifecycle's inspection (issue 17): the modules are frozen, listed with their batch and
  // sizes, not stale; the image's figures.
  py('import freeze');
  assert.equal(py('freeze.isfrozen(counter)'), 'True');
  assert.equal(py('freeze.isfrozen(counter.incr)'), 'True');
  assert.equal(py('freeze.isfrozen([1])'), 'False');
  // get_modules() and info() read the image in place (the mapped region; reach marks of a bit
  // per 4 bytes of sections): they answer on the board, their extra heap bounded by the marks.
  const heapLine = () => pico.command('%info').output.match(/used (\d+) B, free \d+ B, peak (\d+) B/);
  const [, usedBefore, peakBefore] = heapLine().map(Number);
  // Freeze as you import: one batch per module, the submodules first.
  const LISTED = /^\[\('tinysched\.errors', 0, \d+, 0, False\), .*\('tinysched', 4, [1-9]\d+, \d+, False\), \('counter', 5, [1-9]\d+, \d+, False\)\]$/;
  const mods = pico.command('freeze.get_modules()', { maxCycles: 2e9 }).output.trim();
  assert.match(mods, LISTED);
  perf.getModules = mods.split('\n').at(-1);
  const info = pico.command("freeze.info()", { maxCycles: 2e9 }).output.trim();
  assert.match(info, /'batches': 6, 'modules': 6\b/);
  perf.info = info;
  const [, , peakAfter] = heapLine().map(Number);
  // What the two calls took beyond the heap in use before them (the peak since boot otherwise).
  perf.inspectHeapBytes = Math.max(0, peakAfter - Math.max(peakBefore, usedBefore));
  perf.inspectPeakAbove = peakAfter - usedBefore;
  assert.ok(perf.inspectPeakAbove < 16 * 1024, `get_modules()/info() peak ${perf.inspectPeakAbove} B above the heap in use`);
  assert.equal(py('6 * 7'), '42');
  // Mutable module state starts again from the state captured when freezing.
  assert.equal(py('counter.value()'), '0');
  assert.equal(py('counter.incr(by=2)'), '2');
  assert.equal(py('counter.state()'), '(2, 1, 1, 0)');
  assert.match(py('counter.selftest()'), COUNTER_SELFTEST);
  assert.equal(py(SELFTEST), seed.selftest, 'same results as before freezing');
  // A frozen class refuses writes with an exception; a module attribute set from outside takes
  // the heap overlay (as on real MicroPython), until the next boot.
  assert.match(py('tinysched.core.Scheduler.extra = 1', { raises: true }), /TypeError: can't modify frozen object/);
  const name = py('tinysched.NAME');
  py("tinysched.NAME = 'changed'");
  assert.equal(py('tinysched.NAME'), "'changed'");
  assert.notEqual(name, "'changed'");
});

test('seed 4: freeze.clear() erases the image; the next boot has none', needsRom, () => {
  py('import freeze');
  py('freeze.clear()');
  pico.syncFlash();
  assert.ok(flash.subarray(IMAGE_OFFSET, IMAGE_END).every((b) => b === 0xff), 'image region erased');
  assertFirmwareIntact();
  const { line } = bootImage();
  assert.equal(line, 'image: not mounted: mount: no committed batch (erased from 0x0)');
  py('import counter');
  assert.equal(py('counter.incr()'), '1');
});

test('a corrupted image is refused at boot with a reason, and the console still works', needsRom, () => {
  py('import freeze');
  // Both modules are imported already (counter by seed 4): this call's cycles are the freeze's alone.
  py('import tinysched');
  const chip0 = { ...pico.chip.stats };
  profiled(
    "freeze alone: freeze.import_modules('tinysched', 'counter'), both imported",
    FOCUS_FREEZE,
    () => py("freeze.import_modules('tinysched', 'counter')", { maxCycles: 2e9 }),
    (p) => ({ flashWrite: p.inclusiveOf(FLASH_WRITE), flashRead: p.inclusiveOf(FLASH_READ) }),
  );
  perf.freezeOnlyCycles = lastCycles;
  perf.freezeOnlyErases = pico.chip.stats.erases - chip0.erases;
  perf.freezeOnlyPages = pico.chip.stats.pagePrograms - chip0.pagePrograms;
  assert.match(bootImage().line, /^image: mounted 2 batches/);
  pico.powerOff();
  const at = IMAGE_OFFSET + 0x400; // inside the first batch's objects
  flash[at] ^= 0x5a;
  flash[at + 1] ^= 0xa5;
  const { line } = bootImage();
  assert.match(line, /^image: not mounted: \S.{10,}/);
  assert.doesNotMatch(line, /no committed batch \(erased/);
  seed.corruptLine = line;
  // The console works, and the modules import from bytecode again.
  assert.equal(py('6 * 7'), '42');
  py('import tinysched');
  assert.equal(py("tinysched.calculate('base * 2 + 1', base=20)"), '41');
});

test('a power cut while a batch is being programmed leaves the earlier batches mounted', needsRom, () => {
  pico.powerOff();
  flash.fill(0xff, IMAGE_OFFSET, IMAGE_END); // start from an empty region
  assert.match(bootImage().line, /no committed batch/);
  py('import freeze');
  assert.match(py("freeze.import_modules('tinysched')", { maxCycles: 2e9 }), /^froze \d+ flash bytes/);
  py('import counter');
  // Start freezing `counter`, and cut the power right after the chip programmed its second page.
  const pages0 = pico.chip.stats.pagePrograms;
  pico.input.push(...Buffer.from("freeze.import_modules('counter')\r"));
  pico.run(() => pico.chip.stats.pagePrograms >= pages0 + 2, 2e9);
  pico.powerOff();
  const { line } = bootImage();
  assert.match(line, /^image: mounted 5 batches in \d+ us: tinysched\..*; RAM section/);
  assert.doesNotMatch(line, /counter/);
  // The interrupted module imports from bytecode, and can be frozen again over the torn batch.
  py('import freeze');
  py('import counter');
  assert.equal(py('counter.incr()'), '1');
  assert.match(py("freeze.import_modules('counter')", { maxCycles: 2e9 }), /^froze \d+ flash bytes/);
  assert.match(bootImage().line, /^image: mounted 6 batches .*counter/);
  py('import counter');
  assert.equal(py('counter.value()'), '1', 'the frozen initial state is the state at freezing time');
});

test('the stack stayed within its region on every boot', needsRom, () => {
  const { output } = pico.command('%info');
  const used = Math.max(stackHighWater, Number(output.match(/(\d+) B used at most/)[1]));
  perf.stackHighWater = used;
  assert.ok(used > 0 && used < 28 * 1024, `stack high-water ${used} B of 32 KiB`);
});

after(() => {
  if (!Object.keys(perf).length) return;
  const fmt = (n) => (n === undefined || Number.isNaN(n) ? '?' : Math.round(n).toLocaleString('en-US'));
  const bytes = seed.frozenFlashBytes ?? Number.NaN;
  const perByte = (c) => (c / bytes).toFixed(1);
  const ms = (c) => `${(c / 125e3).toFixed(1)} ms`;
  const mount = perf.mountUs * 125;
  const bootDiff = perf.bootMountedCycles - perf.bootEmptyCycles;
  // A real W25Q16JV, typical: 45 ms per 4 KiB sector erase, 0.4 ms per 256-byte page program.
  const chipMs = (erases, pages) => `${Math.round(erases * 45 + pages * 0.4)} ms`;
  const appFrozen = perf.bootMountedCycles + perf.frozenImportCycles + perf.frozenImportCounterCycles;
  const appMpy = perf.bootEmptyCycles + perf.importCycles + perf.importCounterCycles;
  const freezeProfile = profiles.find((p) => p.flashWrite !== undefined);
  const lines = [
    `emulated cycles (rp2040js, 125 MHz); image: ${fmt(bytes)} B of frozen objects (seed: tinysched + counter)`,
    `  cold boot to prompt, board only ${fmt(perf.bootCycles)}; no image ${fmt(perf.bootEmptyCycles)}; with image ${fmt(perf.bootMountedCycles)}`,
    `  mount (vm.mount_frozen, the boot's timer): ${fmt(mount)} = ${perByte(mount)} cycles/B; ` +
      `boot with image - boot without: ${fmt(bootDiff)} = ${perByte(bootDiff)} cycles/B`,
    `  freeze alone (both imported): ${fmt(perf.freezeOnlyCycles)} = ${perByte(perf.freezeOnlyCycles)} cycles/B (${ms(perf.freezeOnlyCycles)}); ` +
      `${perf.freezeOnlyErases} sector erases, ${perf.freezeOnlyPages} page programs (real chip + ${chipMs(perf.freezeOnlyErases, perf.freezeOnlyPages)})`,
  ];
  if (freezeProfile) {
    const cpu = freezeProfile.total - freezeProfile.flashWrite - freezeProfile.flashRead;
    lines.push(
      `    of which flash erase + program calls ${fmt(freezeProfile.flashWrite)}, flash reads ${fmt(freezeProfile.flashRead)}; ` +
        `CPU: ${fmt(cpu)} = ${perByte(cpu)} cycles/B`,
    );
  }
  lines.push(
    `  boot to a running app: frozen ${fmt(appFrozen)} (${ms(appFrozen)}: boot + mount + import tinysched ${fmt(perf.frozenImportCycles)} + counter ${fmt(perf.frozenImportCounterCycles)}); ` +
      `from .mpy ${fmt(appMpy)} (${ms(appMpy)}: boot + import ${fmt(perf.importCycles)} + ${fmt(perf.importCounterCycles)}); ${(appMpy / appFrozen).toFixed(1)}x faster frozen`,
    `  time to first freeze (fresh boot: freeze.import_modules('tinysched', 'counter') imports both, then freezes): ` +
      `${fmt(perf.freezeCycles)} (${ms(perf.freezeCycles)}; real chip + ${chipMs(perf.freezeErases, perf.freezePages)} for ${perf.freezeErases} erases, ${perf.freezePages} programs)`,
    `  %flash-test (erase 4 KiB + program 16 pages + verify): ${fmt(perf.flashTestCycles)}`,
    `  CRC-32 of 64 KiB of flash: DMA sniffer ${perf.crc?.dma} cycles/B, table ${perf.crc?.table} cycles/B`,
    `heap: baseline ${seed.baseline?.used} B, after import ${seed.imported?.used} B, after freeze ${seed.frozen?.used} B`,
    `Rust allocator: ${fmt(perf.rustHeap?.total)} B, peak ${fmt(perf.rustHeap?.peak)} B during boot 2 (freeze), ${fmt(perf.rustHeap?.free)} B free after`,
    `RAM section at 0x2003_0000: ${perf.ramReturned} B of the allocator's heap returned (no heap copy)`,
    `stack high-water ${perf.stackHighWater} B; ${perf.mountLine}; corrupted: ${seed.corruptLine}`,
    `freeze.get_modules() + freeze.info() (image read in place): allocator peak ${fmt(perf.inspectPeakAbove)} B above the heap in use, ${fmt(perf.inspectHeapBytes)} B above the boot's peak; ${perf.info}`,
  );
  console.log(lines.join('\n'));
  if (profiles.length) {
    const text = [
      `cycle profiles (PROFILE=1; symbols of ${path.basename(firmwareElf())} in ${profiler.symbolizeMs} ms):`,
      '',
      ...profiles.map((p) => p.report),
    ].join('\n');
    console.log(text);
    if (process.env.PROFILE_OUT) writeFileSync(process.env.PROFILE_OUT, `${lines.join('\n')}\n\n${text}\n`);
  }
});
