// A Raspberry Pi Pico on rp2040js: boot ROM, 2 MiB SPI-NOR flash (spi-nor.mjs), UART0 console, cycles.
//
// A `Pico` is one power-on of the board. The flash contents live in a `Uint8Array` owned by the test
// and handed to each power-on; `powerOff()` writes the emulated flash back into it, so a power cycle is
// `pico.powerOff(); pico = new Pico(flash, bootrom)`: a fresh RP2040 given the same flash array.

import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSetupPacket, DataDirection, RP2040, SetupRecipient, SetupType, USBCDC } from 'rp2040js';

import { installDmaModel } from './dma.mjs';
import { installSpiNor, PlainRegisters } from './spi-nor.mjs';

export const FLASH_SIZE = 2 * 1024 * 1024;
export const IMAGE_OFFSET = 0x10_0000;
export const IMAGE_LEN = 0x8_0000;
export const FS_OFFSET = 0x18_0000;
export const FS_LEN = 0x8_0000;
export const BOOTROM_SHA256 = '90b31e108faedfa6bbcfcc33ba05dac61e645108cfbbdc385f8dafc71fde44ae';
export const PROMPT = '>>> ';

const here = path.dirname(new URL(import.meta.url).pathname);
export const PICO_DIR = path.resolve(here, '..');
export const REPO_ROOT = path.resolve(PICO_DIR, '../..');

/** Where the boot ROM is expected, and how to get it: the message for a missing or wrong file. */
export function bootromPath() {
  return process.env.RP2040_BOOTROM ?? path.resolve(REPO_ROOT, '../shared/rp2040/bootrom-b1.bin');
}

export const BOOTROM_HOWTO = `The RP2040 boot ROM (revision B1, 16384 bytes, sha256 ${BOOTROM_SHA256}) is
not part of this repository. Put it at ../shared/rp2040/bootrom-b1.bin (next to the repository
checkout) or point RP2040_BOOTROM at it. It is raspberrypi/pico-bootrom's B1 build, as carried in
rp2040js's demo/bootrom.ts (convert that Uint32Array to little-endian bytes).`;

/** Reads and checks the boot ROM; throws with BOOTROM_HOWTO if it is missing or not the B1 ROM. */
export function loadBootrom(file = bootromPath()) {
  if (!existsSync(file)) throw new Error(`boot ROM not found at ${file}\n${BOOTROM_HOWTO}`);
  const bytes = readFileSync(file);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== 16384 || sha !== BOOTROM_SHA256) {
    throw new Error(`${file} is not the B1 boot ROM (size ${bytes.length}, sha256 ${sha})\n${BOOTROM_HOWTO}`);
  }
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4).slice();
}

/** llvm-objcopy from the Rust toolchain's llvm-tools component (the one `examples/pico` builds with). */
export function findObjcopy() {
  const sysroot = execFileSync('rustc', ['--print', 'sysroot'], { cwd: PICO_DIR, encoding: 'utf8' }).trim();
  const host = execFileSync('rustc', ['-vV'], { cwd: PICO_DIR, encoding: 'utf8' }).match(/^host: (.+)$/m)?.[1];
  const tool = path.join(sysroot, 'lib/rustlib', host ?? 'x86_64-unknown-linux-gnu', 'bin/llvm-objcopy');
  if (!existsSync(tool)) throw new Error(`${tool} missing: run \`rustup component add llvm-tools\``);
  return tool;
}

/** The firmware ELF the tests run (FIRMWARE_ELF overrides the release build). */
export function firmwareElf() {
  return process.env.FIRMWARE_ELF ?? path.join(PICO_DIR, 'target/thumbv6m-none-eabi/release/flashfreeze-pico');
}

/** The firmware (`elf`, default the release build) as a raw flash image (loaded at flash offset 0 = 0x10000000). */
export function firmwareImage(elf = firmwareElf()) {
  if (!existsSync(elf)) {
    throw new Error(`firmware ELF ${elf} missing: build it with \`cd examples/pico && cargo build --release\``);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'pico-fw-'));
  try {
    const bin = path.join(dir, 'firmware.bin');
    execFileSync(findObjcopy(), ['-O', 'binary', elf, bin]);
    return new Uint8Array(readFileSync(bin));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A logger that keeps rp2040js's messages instead of printing them (EMU_VERBOSE=1 prints them). */
class QuietLogger {
  constructor() {
    this.messages = [];
  }
  log(level, component, message) {
    const line = `${level} ${component}: ${message}`;
    this.messages.push(line);
    if (this.messages.length > 1000) this.messages.shift();
    if (process.env.EMU_VERBOSE) console.error(line);
  }
  debug(c, m) {
    this.log('debug', c, m);
  }
  info(c, m) {
    this.log('info', c, m);
  }
  warn(c, m) {
    this.log('warn', c, m);
  }
  error(c, m) {
    this.log('error', c, m);
  }
}

/** The answer to `line` in console `text` (from the typed line to the next prompt): without the
 * echo and the prompt, `\r\n` as `\n`. */
function answer(text, line) {
  const echo = `${line}\r\n`;
  const output = (text.startsWith(echo) ? text.slice(echo.length) : text).replace(/\r\n/g, '\n');
  return output.slice(0, -PROMPT.length);
}

export class Pico {
  /**
   * Powers on a board whose flash holds `flash` (a FLASH_SIZE Uint8Array, kept by the caller).
   * The core starts in the boot ROM, which loads boot2 from flash over the SPI-NOR model.
   */
  constructor(flash, bootrom) {
    this.flashArray = flash;
    const mcu = new RP2040();
    mcu.logger = new QuietLogger();
    mcu.loadBootrom(bootrom); // resets the chip, which fills flash with 0xFF: restore it after
    mcu.flash.set(flash);
    this.chip = installSpiNor(mcu, FLASH_SIZE);
    // The DMA sniffer (the firmware's hardware CRC-32) and real transfer timing (dma.mjs).
    this.sniffer = installDmaModel(mcu);
    // Cold boot through the ROM also needs: the chip-reset register reading 0 (no debug/PSM restart)...
    mcu.peripherals[0x40064] = new PlainRegisters(mcu, 'VREG_AND_CHIP_RESET');
    // ...XIP_CTRL registers to exist (the ROM flushes/enables the cache)...
    mcu.peripherals[0x14000] = new PlainRegisters(mcu, 'XIP_CTRL');
    // ...and QSPI CSn reading high (BOOTSEL not pressed) in SIO GPIO_HI_IN, so the ROM boots from flash.
    // rp2040js does not implement UARTRSR (offset 4, receive status): it reads 0 after reset, not all ones
    // (which the HAL would take for a sticky overrun error on every poll).
    const uartRead = mcu.uart[0].readUint32.bind(mcu.uart[0]);
    mcu.uart[0].readUint32 = (offset) => (offset === 0x4 ? 0 : uartRead(offset));
    const uartWrite = mcu.uart[0].writeUint32.bind(mcu.uart[0]);
    mcu.uart[0].writeUint32 = (offset, value) => (offset === 0x4 ? undefined : uartWrite(offset, value));
    const sioRead = mcu.sio.readUint32.bind(mcu.sio);
    mcu.sio.readUint32 = (offset) => (offset === 0x008 ? sioRead(offset) | 0x2 : sioRead(offset));

    this.mcu = mcu;
    /** A `Profiler` (profile.mjs) accounting every instruction while its window is open, or null. */
    this.profiler = null;
    this.out = '';
    this.input = [];
    this.cycles = 0;
    mcu.uart[0].onByte = (b) => {
      this.out += String.fromCharCode(b);
      if (this.link === 'uart') this.tx.push(b);
    };
    // A pty bridge (`attach`): which console it speaks to, and the bytes for it not yet sent.
    this.link = null;
    this.tx = [];
    // A USB host with a CDC driver on the USB port: `usbOut` collects what the device sends.
    this.usbOut = '';
    this.usbConnected = false;
    this.cdc = new USBCDC(mcu.usbCtrl);
    this.cdc.onDeviceConnected = () => {
      this.usbConnected = true;
    };
    // Status stages (zero-length packets on EP0 IN) the device has sent: how the host knows a
    // control request without data was accepted (`openUsbTerminal` waits for one).
    this.ep0Acks = 0;
    const cdcWrite = mcu.usbCtrl.onEndpointWrite;
    mcu.usbCtrl.onEndpointWrite = (endpoint, buffer) => {
      if (endpoint === 0 && buffer.length === 0) this.ep0Acks++;
      cdcWrite(endpoint, buffer);
    };
    this.cdc.onSerialData = (buffer) => {
      this.usbOut += Buffer.from(buffer).toString('latin1');
      if (this.link === 'usb') this.tx.push(...buffer);
    };
    // Like a real host, answer the device's OUT (host-to-device) reads only when there is data, and
    // remember reads armed before enumeration told rp2040js's CDC host which endpoint is the OUT one.
    this.usbIn = [];
    this.pendingOut = new Map(); // endpoint -> size of the armed OUT buffer
    mcu.usbCtrl.onEndpointRead = (endpoint, size) => {
      this.pendingOut.set(endpoint, size);
      this.feedUsb();
    };
    // A host that stops reading (`pauseUsbHost`): an IN transfer the device arms on the CDC data
    // endpoint is not started (its buffer stays AVAILABLE, as with a host that sends no IN token)
    // until `resumeUsbHost`.
    this.usbHostPaused = false;
    this.heldIn = null; // the buffer-control offset of the held transfer
    const ctrl = mcu.usbCtrl;
    const dpramUpdated = ctrl.DPRAMUpdated.bind(ctrl);
    ctrl.DPRAMUpdated = (offset, value) => {
      // (Checked only while paused: this runs on every DPRAM write.) EPn_IN_BUFFER_CONTROL, AVAILABLE:
      if (this.usbHostPaused && offset === 0x80 + 8 * this.cdc.inEndpoint && value & (1 << 10)) {
        this.heldIn = offset;
      } else {
        dpramUpdated(offset, value);
      }
    };
    this.releaseIn = () => {
      if (this.heldIn === null) return;
      const offset = this.heldIn;
      this.heldIn = null;
      dpramUpdated(offset, mcu.usbDPRAMView.getUint32(offset, true));
    };
  }

  /** The USB host stops taking the device's output (a terminal that is not read), DTR still set. */
  pauseUsbHost() {
    this.usbHostPaused = true;
  }

  /** The USB host reads again: the held IN transfer starts. */
  resumeUsbHost() {
    this.usbHostPaused = false;
    this.releaseIn();
  }

  /** Copies the emulated flash into the caller's array (the board keeps running). */
  syncFlash() {
    if (!this.off) this.flashArray.set(this.mcu.flash.subarray(0, FLASH_SIZE));
  }

  /** Saves the flash into the caller's array and stops this board for good (idempotent). */
  powerOff() {
    this.syncFlash();
    this.off = true;
  }

  /** Executes until `done()` holds, at most `maxCycles` more cycles; returns the cycles spent. */
  run(done, maxCycles = 500_000_000) {
    const { mcu } = this;
    const { core, clock } = mcu;
    const uart = mcu.uart[0];
    const start = this.cycles;
    if (this.off) throw new Error('this board is powered off');
    while (!done()) {
      if (this.cycles - start > maxCycles) {
        throw new Error(
          `no progress after ${maxCycles} cycles (PC=0x${core.PC.toString(16)}); output so far:\n${this.out.slice(-2000)}`,
        );
      }
      const prof = this.profiler?.active ? this.profiler : null;
      for (let i = 0; i < 2000; i++) {
        if (prof) {
          // The same step, with every instruction's cycles accounted to its address.
          const pc = core.PC;
          if (core.waiting) {
            const nanos = clock.nanosToNextAlarm;
            if (!(nanos > 0)) throw new Error(`core asleep with nothing to wake it (PC=0x${pc.toString(16)})`);
            clock.tick(nanos);
            const c = Math.ceil((nanos * mcu.clkSys) / 1e9);
            this.cycles += c;
            prof.sleep(pc, c);
          } else {
            prof.lastPc = pc;
            const c = core.executeInstruction();
            this.cycles += c;
            clock.tick((c * 1e9) / mcu.clkSys);
            prof.step(pc, c, core);
          }
          continue;
        }
        if (core.waiting) {
          const nanos = clock.nanosToNextAlarm;
          if (!(nanos > 0)) {
            throw new Error(
              `core asleep with nothing to wake it (PC=0x${core.PC.toString(16)}); output so far:\n${this.out.slice(-1000)}`,
            );
          }
          clock.tick(nanos);
          this.cycles += Math.ceil((nanos * mcu.clkSys) / 1e9);
        } else {
          const c = core.executeInstruction();
          this.cycles += c;
          clock.tick((c * 1e9) / mcu.clkSys);
        }
      }
      while (this.input.length && !uart.rxFIFO.full) uart.feedByte(this.input.shift());
    }
    return this.cycles - start;
  }

  /**
   * Executes until `done()` holds, in slices of `slice` cycles between which the event loop runs
   * (a pty bridge and child processes get their turn) and the console output goes to the bridge.
   */
  async runAsync(done, { slice = 400_000, maxCycles = 20e9 } = {}) {
    const start = this.cycles;
    while (!done()) {
      if (this.off) return this.cycles - start;
      if (this.cycles - start > maxCycles) throw new Error(`no end after ${maxCycles} cycles`);
      const end = this.cycles + slice;
      this.run(() => this.cycles >= end || done(), slice + 10_000);
      this.flushLink();
      await new Promise((r) => setImmediate(r));
    }
    this.flushLink();
    return this.cycles - start;
  }

  /**
   * Runs `fn()` with `profiler` (profile.mjs) accounting every instruction of this board; `opts` as
   * for `Profiler.start` (a focus). Returns what `fn` returns.
   */
  profiled(profiler, opts, fn) {
    this.profiler = profiler;
    profiler.start(this.mcu.core, opts);
    try {
      return fn();
    } finally {
      profiler.stop();
    }
  }

  /** Sends the console output collected for the bridge. */
  flushLink() {
    if (this.tx.length && this.bridge) this.bridge.send(Uint8Array.from(this.tx.splice(0)));
  }

  /** Receives bytes from the bridge on the attached console (UART RX or a USB OUT transfer). */
  receive(bytes) {
    this.received = (this.received ?? 0) + bytes.length;
    if (this.link === 'usb') {
      this.usbIn.push(...bytes);
      this.feedUsb();
    } else {
      this.input.push(...bytes);
    }
  }

  /** Executes about `cycles` more cycles. */
  runFor(cycles) {
    const end = this.cycles + cycles;
    return this.run(() => this.cycles >= end, cycles + 10_000);
  }

  /** Runs until the output (from `from` on) contains `text` (string or RegExp). */
  waitFor(text, { from = 0, maxCycles } = {}) {
    const hit = () => (typeof text === 'string' ? this.out.indexOf(text, from) >= 0 : text.test(this.out.slice(from)));
    return this.run(hit, maxCycles);
  }

  /**
   * What a terminal program does when it opens the port: SET_CONTROL_LINE_STATE(DTR | RTS), sent
   * again (as a host's stack retries a control transfer) until the device acknowledges it. A SETUP
   * the device has not read yet is overwritten by the next one (rp2040js's own CDC host sends one
   * right after enumeration, addressed so that the CDC class does not take it), so one request is
   * not enough on every build's timing.
   */
  openUsbTerminal() {
    for (let attempt = 0; attempt < 5; attempt++) {
      const acks = this.ep0Acks;
      this.mcu.usbCtrl.sendSetupPacket(
        createSetupPacket({
          dataDirection: DataDirection.HostToDevice,
          type: SetupType.Class,
          recipient: SetupRecipient.Interface,
          bRequest: 0x22,
          wValue: 0x3,
          wIndex: 0, // the CDC communication interface
          wLength: 0,
        }),
      );
      // Let the device take the request (its status stage arrives 10 µs after it answers).
      const end = this.cycles + 2_000_000;
      this.run(() => this.ep0Acks > acks || this.cycles >= end, 2_010_000);
      if (this.ep0Acks > acks) return attempt;
    }
    throw new Error('the device never acknowledged SET_CONTROL_LINE_STATE');
  }

  /** Completes a pending OUT read of the CDC data endpoint with queued host bytes, if any. */
  feedUsb() {
    const out = this.cdc.outEndpoint;
    const size = this.pendingOut.get(out);
    if (out < 0 || size === undefined || !this.usbIn.length) return;
    this.pendingOut.delete(out);
    this.mcu.usbCtrl.endpointReadDone(out, Uint8Array.from(this.usbIn.splice(0, size)));
  }

  /** Types `line` + Enter on the USB CDC port, runs until the next prompt there; returns its output. */
  usbCommand(line, opts = {}) {
    const from = this.usbOut.length;
    this.usbIn.push(...Buffer.from(`${line}\r`));
    this.feedUsb();
    const cycles = this.run(() => this.usbOut.indexOf(`\n${PROMPT}`, from) >= 0, opts.maxCycles);
    return { output: answer(this.usbOut.slice(from), line), cycles };
  }

  /** Boots to the first prompt; returns { banner, cycles }. */
  boot() {
    const cycles = this.waitFor(PROMPT);
    return { banner: this.out, cycles };
  }

  /** Types `line` + Enter, runs until the next prompt; returns { output, cycles } (output without echo). */
  command(line, opts = {}) {
    const from = this.out.length;
    this.input.push(...Buffer.from(`${line}\r`));
    const cycles = this.waitFor(`\n${PROMPT}`, { from, ...opts });
    return { output: answer(this.out.slice(from), line), cycles };
  }
}

/**
 * A pseudo-terminal (pty-bridge.py) whose other end is the board's console: a client such as
 * mpremote opens `path`; `attach` connects it to the UART (or the USB CDC port) of a board, again
 * after every power cycle.
 */
export class PtyBridge {
  static async open(python = 'python3') {
    const child = spawn(python, [path.join(here, 'pty-bridge.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    const bridge = new PtyBridge(child);
    bridge.path = await new Promise((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
        const m = err.match(/^(\/dev\/\S+)\n/);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`pty-bridge.py exited (${code}): ${err}`)));
    });
    return bridge;
  }

  constructor(child) {
    this.child = child;
    this.board = null;
    child.stdout.on('data', (buf) => this.board?.receive(buf));
  }

  /** Connects the pty to `pico`'s console `link` ('uart' or 'usb'). */
  attach(pico, link = 'uart') {
    if (this.board && this.board !== pico) this.board.bridge = null;
    this.board = pico;
    pico.link = link;
    pico.tx = [];
    pico.bridge = this;
  }

  send(bytes) {
    this.child.stdin.write(bytes);
  }

  close() {
    this.child.stdin.end();
    this.child.kill();
  }
}

/**
 * Runs `command` (an argv array) while `pico` runs, until it exits (or `timeoutMs` of wall time);
 * returns { code, stdout, stderr, cycles }.
 */
export async function runWhileEmulating(pico, command, { timeoutMs = 120_000, env = process.env, until } = {}) {
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  let closed = null;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.on('close', (code, signal) => (closed = { code, signal }));
  const t0 = Date.now();
  let timedOut = false;
  let stopped = false;
  const cycles = await pico.runAsync(() => {
    if (closed) return true;
    if (until?.()) return (stopped = true);
    if (Date.now() - t0 > timeoutMs) return (timedOut = true);
    return false;
  });
  if (!closed) {
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
  }
  if (timedOut) {
    // What the client saw on a USB link, and where the board is, for a hang seen only under CI.
    const usb = pico.link === 'usb' ? `\n--- USB (to the host):\n${JSON.stringify(pico.usbOut.slice(-600))}` : '';
    const state = `\n--- board: PC=0x${pico.mcu.core.PC.toString(16)}, ${pico.cycles} cycles, ${pico.received ?? 0} bytes received, ${pico.usbIn.length} USB bytes queued (OUT read armed: ${pico.pendingOut.has(pico.cdc.outEndpoint)})`;
    throw new Error(`${command.join(' ')}: no end after ${timeoutMs} ms\n${stdout}\n${stderr}\n--- UART:\n${pico.out.slice(-1500)}${usb}${state}`);
  }
  return { code: closed?.code ?? null, stdout, stderr, cycles, stopped };
}
