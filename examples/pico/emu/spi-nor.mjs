// A SPI-NOR flash chip behind the RP2040's SSI, for rp2040js (whose QSPI controller is a stub).
//
// installSpiNor(mcu) replaces, on one RP2040 instance and at run time, the SSI peripheral (0x18000000)
// and IO_QSPI (0x40018000) with models that let the boot ROM's flash routines (and boot2, and
// rp2040-flash's command reads) really erase and program `mcu.flash`. XIP reads keep coming straight
// from `mcu.flash`, as rp2040js already does.
//
// Chip select: forced by software through GPIO_QSPI_SS_CTRL.OUTOVER (IO_QSPI offset 0x0c: 2 = low,
// 3 = high), as the ROM does; otherwise driven by the SSI, which selects the chip from the first data
// write until the transfer is observed finished (a read of SR/RXFLR/TXFLR/DR, or SSIENR/CTRLR changes).
//
// Standard SPI frames (CTRLR0.SPI_FRF = 0): TMOD 0 (TX and RX) clocks one byte out and one in per DR
// write; TMOD 3 (EEPROM read) sends the written bytes, then clocks in CTRLR1.NDF + 1 frames. Quad
// frames (boot2 setting up XIP) do not reach the chip model; they only produce the frames the software
// waits for.
//
// Chip commands: 06/04 write enable/disable, 05/35 status 1/2 (never busy; QE set), 01 write status
// (ignored), 9F JEDEC ID (Winbond W25Q16JV: EF 40 15), 4B unique ID, 03/0B read, 02 page program (bits
// only go 1 -> 0, the address wraps inside the 256-byte page), 20/52/D8 erase 4/32/64 KiB, 60/C7 chip
// erase. Program and erase need write enable first, as on the real part. Anything else is ignored
// until chip select goes high (e.g. the 0xFF bytes that leave continuous-read mode).

import { BasePeripheral } from 'rp2040js';

const SSI_CTRLR0 = 0x00;
const SSI_CTRLR1 = 0x04;
const SSI_SSIENR = 0x08;
const SSI_TXFLR = 0x20;
const SSI_RXFLR = 0x24;
const SSI_SR = 0x28;
const SSI_DR0 = 0x60;
const SR_TFNF = 1 << 1;
const SR_TFE = 1 << 2;
const SR_RFNE = 1 << 3;

const QSPI_SS_CTRL = 0x0c;
const OUTOVER_LOW = 2;

export const JEDEC_ID = [0xef, 0x40, 0x15];
export const UNIQUE_ID = [0xf1, 0xa5, 0x4f, 0x2e, 0x20, 0x40, 0x01, 0x23];

/** The flash chip: a command state machine over `mcu.flash`, with counters of what it did. */
export class SpiNorChip {
  constructor(mcu, size) {
    this.mcu = mcu;
    this.size = size;
    this.selected = false;
    this.writeEnabled = false;
    this.programmed = 0; // bytes programmed by the current 02 command
    this.stats = { erases: 0, erasedBytes: 0, pagePrograms: 0, programmedBytes: 0, refused: 0, readBytes: 0, commands: {} };
    /** Called after each completed erase or page program with (kind 'erase' | 'program', flash offset). */
    this.onWrite = null;
    this.reset();
  }

  reset() {
    this.cmd = null;
    this.pos = 0; // bytes received since the command byte
    this.addr = 0;
    this.pageBase = 0;
  }

  select(on) {
    if (on === this.selected) return;
    this.selected = on;
    if (!on) this.finish();
    this.reset();
  }

  /** Clocks one byte in (MOSI) and returns the byte clocked out (MISO). */
  transfer(mosi) {
    if (!this.selected) return 0xff;
    if (this.cmd === null) {
      this.cmd = mosi;
      this.pos = 0;
      const name = mosi.toString(16).padStart(2, '0');
      this.stats.commands[name] = (this.stats.commands[name] ?? 0) + 1;
      if (mosi === 0x06) this.writeEnabled = true;
      if (mosi === 0x04) this.writeEnabled = false;
      return 0xff;
    }
    const i = this.pos++;
    const flash = this.mcu.flash;
    switch (this.cmd) {
      case 0x05:
        return this.writeEnabled ? 0x02 : 0x00; // WEL, never BUSY
      case 0x35:
        return 0x02; // QE set, so boot2 does not rewrite the status register
      case 0x9f:
        return i < JEDEC_ID.length ? JEDEC_ID[i] : 0xff;
      case 0x4b:
        return i >= 4 && i - 4 < UNIQUE_ID.length ? UNIQUE_ID[i - 4] : 0xff;
      case 0x03:
      case 0x0b: {
        if (i < 3) {
          this.addr = (this.addr << 8) | mosi;
          return 0xff;
        }
        if (this.cmd === 0x0b && i === 3) return 0xff; // dummy byte
        const value = flash[this.addr % this.size];
        this.stats.readBytes++;
        this.addr = (this.addr + 1) % this.size;
        return value;
      }
      case 0x02: {
        if (i < 3) {
          this.addr = (this.addr << 8) | mosi;
          if (i === 2) this.pageBase = this.addr & ~0xff;
          return 0xff;
        }
        if (this.writeEnabled && this.pageBase < this.size) {
          const at = this.pageBase + ((this.addr + (i - 3)) & 0xff);
          flash[at] &= mosi;
          this.programmed = (this.programmed ?? 0) + 1;
        }
        return 0xff;
      }
      case 0x20:
      case 0x52:
      case 0xd8:
        if (i < 3) this.addr = (this.addr << 8) | mosi;
        return 0xff;
      default:
        return 0xff;
    }
  }

  /** Chip select went high: commit erases, count programs, drop write enable after a write. */
  finish() {
    const { cmd } = this;
    const isWrite = [0x02, 0x20, 0x52, 0xd8, 0x60, 0xc7, 0x01].includes(cmd);
    if (!isWrite) return;
    if (!this.writeEnabled) {
      this.stats.refused++;
      return;
    }
    const eraseLen = { 0x20: 4096, 0x52: 32768, 0xd8: 65536 }[cmd];
    if (eraseLen && this.pos >= 3) {
      const start = (this.addr & ~(eraseLen - 1)) % this.size;
      this.mcu.flash.fill(0xff, start, start + eraseLen);
      this.stats.erases++;
      this.stats.erasedBytes += eraseLen;
      this.onWrite?.('erase', start);
    } else if (cmd === 0x60 || cmd === 0xc7) {
      this.mcu.flash.fill(0xff, 0, this.size);
      this.stats.erases++;
      this.stats.erasedBytes += this.size;
    } else if (cmd === 0x02 && this.programmed) {
      this.stats.pagePrograms++;
      this.stats.programmedBytes += this.programmed;
      this.onWrite?.('program', this.pageBase);
    }
    this.programmed = 0;
    this.writeEnabled = false;
  }
}

/** The SSI (synchronous serial interface) in front of the chip. */
class SsiModel extends BasePeripheral {
  constructor(mcu, chip, qspi) {
    super(mcu, 'SSI');
    this.chip = chip;
    this.qspi = qspi;
    this.regs = new Map();
    this.rx = [];
    this.autoSelected = false; // chip selected by the SSI itself (CS not forced)
  }

  get ctrlr0() {
    return this.regs.get(SSI_CTRLR0) ?? 0;
  }
  get tmod() {
    return (this.ctrlr0 >> 8) & 3;
  }
  get standardFrames() {
    return ((this.ctrlr0 >> 21) & 3) === 0;
  }

  /** Completes an SSI-driven transfer: EEPROM mode reads its frames, then CS goes high. */
  settle() {
    if (!this.autoSelected) return;
    if (this.tmod === 3) {
      const frames = ((this.regs.get(SSI_CTRLR1) ?? 0) & 0xffff) + 1;
      for (let i = 0; i < frames; i++) this.rx.push(this.standardFrames ? this.chip.transfer(0) : 0);
    }
    this.autoSelected = false;
    if (!this.qspi.csForcedLow) this.chip.select(false);
  }

  readUint32(offset) {
    switch (offset) {
      case SSI_SR:
        this.settle();
        return SR_TFNF | SR_TFE | (this.rx.length ? SR_RFNE : 0);
      case SSI_RXFLR:
        this.settle();
        return this.rx.length;
      case SSI_TXFLR:
        this.settle();
        return 0;
      case SSI_DR0:
        this.settle();
        return this.rx.length ? this.rx.shift() : 0;
      case 0x58:
        return 0x51535049; // IDR
      case 0x5c:
        return 0x3430312a; // SSI_COMP_VERSION
      default:
        return this.regs.get(offset) ?? 0;
    }
  }

  writeUint32(offset, value) {
    if (offset >= SSI_DR0 && offset < SSI_DR0 + 0x90) {
      this.writeData(value & 0xff);
      return;
    }
    if (offset === SSI_SSIENR || offset === SSI_CTRLR0 || offset === SSI_CTRLR1) {
      this.settle();
      if (offset === SSI_SSIENR && !(value & 1)) this.rx = []; // disabling clears the FIFOs
    }
    this.regs.set(offset, value >>> 0);
  }

  writeData(byte) {
    if (!((this.regs.get(SSI_SSIENR) ?? 0) & 1)) return;
    const forced = this.qspi.csForcedLow;
    if (!forced && !this.autoSelected) {
      this.autoSelected = true;
      this.chip.select(true);
    }
    if (!this.standardFrames) return; // quad XIP setup: not a chip command we model
    const miso = this.chip.transfer(byte);
    if (this.tmod === 0 || this.tmod === 1) this.rx.push(miso);
  }
}

/** IO_QSPI: stores its registers; chip select follows SS_CTRL.OUTOVER. */
class IoQspiModel extends BasePeripheral {
  constructor(mcu, chip) {
    super(mcu, 'IO_QSPI');
    this.chip = chip;
    this.regs = new Map();
    this.ssi = null;
  }

  get csForcedLow() {
    return (((this.regs.get(QSPI_SS_CTRL) ?? 0) >> 8) & 3) === OUTOVER_LOW;
  }

  readUint32(offset) {
    return this.regs.get(offset) ?? 0;
  }

  writeUint32(offset, value) {
    const wasLow = this.csForcedLow;
    this.regs.set(offset, value >>> 0);
    if (offset !== QSPI_SS_CTRL) return;
    const low = this.csForcedLow;
    if (low && !wasLow) {
      this.ssi?.settle();
      this.chip.select(true);
    } else if (!low && wasLow) {
      this.chip.select(false);
    }
  }
}

/** A peripheral whose registers read back what was written, 0 by default. */
export class PlainRegisters extends BasePeripheral {
  constructor(mcu, name) {
    super(mcu, name);
    this.regs = new Map();
  }
  readUint32(offset) {
    return this.regs.get(offset) ?? 0;
  }
  writeUint32(offset, value) {
    this.regs.set(offset, value >>> 0);
  }
}

/**
 * Installs the SPI-NOR model on `mcu` (a flash of `size` bytes, default 2 MiB) and returns the chip,
 * whose `stats` count erases and page programs.
 */
export function installSpiNor(mcu, size = 2 * 1024 * 1024) {
  const chip = new SpiNorChip(mcu, size);
  const qspi = new IoQspiModel(mcu, chip);
  const ssi = new SsiModel(mcu, chip, qspi);
  qspi.ssi = ssi;
  // rp2040js looks peripherals up by (address >>> 14) << 2.
  mcu.peripherals[0x18000] = ssi;
  mcu.peripherals[0x40018] = qspi;
  return chip;
}
