// What rp2040js's DMA lacks for the firmware's hardware CRC: the sniffer, and transfer timing.
//
// - The sniffer (RP2040 datasheet, DMA, "Sniffer"): SNIFF_CTRL (0x434: EN bit 0, DMACH bits 1..4,
//   CALC bits 5..8, BSWAP bit 9, OUT_REV bit 10, OUT_INV bit 11) and SNIFF_DATA (0x438: the
//   accumulator; OUT_REV / OUT_INV transform it as it is read, not as it is computed). It sees the
//   data of every transfer of channel DMACH while that channel's CTRL.SNIFF_EN (bit 23) is set, in
//   the transfer's size. CALC 0x0: CRC-32 (IEEE 802.3 polynomial, data MSB first); 0x1: the same
//   on bit-reversed data (so, with OUT_REV and OUT_INV and a seed of all ones, the CRC-32 of zlib
//   over the bytes in memory order); 0xe: XOR reduction; 0xf: 32-bit sum. The CRC-16 modes are
//   not modelled: selecting one throws, so nothing silently relies on them.
// - Timing: rp2040js runs a whole transfer sequence paced by TREQ_PERMANENT at once (every
//   transfer is an alarm due "now", and the clock runs them all in one tick), so DMA would take no
//   time at all. The real DMA does at most one transfer per system clock cycle: here each such
//   transfer takes one cycle of emulated time, and a CPU waiting for the channel sees it so.
//
// Installed on an `RP2040` instance at power-on (the package is not modified).

const SNIFF_CTRL = 0x434;
const SNIFF_DATA = 0x438;
const TREQ_PERMANENT = 0x3f;
const CTRL_SNIFF_EN = 1 << 23;
const CTRL_BSWAP = 1 << 22;
const POLY = 0x04c11db7;

/** `v`'s low `bits` bits in reverse order. */
function reverse(v, bits) {
  let r = 0;
  for (let i = 0; i < bits; i++) r = (r << 1) | ((v >>> i) & 1);
  return r >>> 0;
}

/** Byte-reverses a value of `size` bytes. */
function byteSwap(v, size) {
  if (size === 4) return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
  if (size === 2) return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
  return v;
}

/** Installs the sniffer and the transfer timing on `mcu`'s DMA; returns the sniffer's state. */
export function installDmaModel(mcu) {
  const { dma } = mcu;
  const sniff = { ctrl: 0, data: 0, transfers: 0 };

  const feed = (channel, value, size) => {
    if (!(sniff.ctrl & 1) || ((sniff.ctrl >>> 1) & 0xf) !== channel.index || !(channel.ctrl & CTRL_SNIFF_EN)) return;
    sniff.transfers++;
    const bits = size * 8;
    // The read master has already applied the channel's own BSWAP; the sniffer's BSWAP is local.
    let d = (sniff.ctrl & (1 << 9) ? byteSwap(value, size) : value) >>> 0;
    const calc = (sniff.ctrl >>> 5) & 0xf;
    let a = sniff.data >>> 0;
    switch (calc) {
      case 0x1:
        d = reverse(d, bits);
      // falls through: the CRC of the reversed data
      case 0x0:
        for (let i = bits - 1; i >= 0; i--) {
          const top = ((a >>> 31) ^ (d >>> i)) & 1;
          a = ((a << 1) ^ (top ? POLY : 0)) >>> 0;
        }
        break;
      case 0xe: {
        let x = d;
        x ^= x >>> 16;
        x ^= x >>> 8;
        x ^= x >>> 4;
        x ^= x >>> 2;
        x ^= x >>> 1;
        a = (a ^ (x & 1)) >>> 0;
        break;
      }
      case 0xf:
        a = (a + d) >>> 0;
        break;
      default:
        throw new Error(`DMA sniffer: CALC ${calc.toString(16)} (CRC-16) is not modelled`);
    }
    sniff.data = a;
  };

  for (const ch of dma.channels) {
    const { rp2040 } = ch;
    ch.transfer8 = () => {
      const v = rp2040.readUint8(ch.readAddr);
      rp2040.writeUint8(ch.writeAddr, v);
      feed(ch, v, 1);
    };
    ch.transfer16 = () => {
      const v = rp2040.readUint16(ch.readAddr);
      rp2040.writeUint16(ch.writeAddr, v);
      feed(ch, v, 2);
    };
    ch.transferSwap16 = () => {
      const v = byteSwap(rp2040.readUint16(ch.readAddr), 2);
      rp2040.writeUint16(ch.writeAddr, v);
      feed(ch, v, 2);
    };
    ch.transfer32 = () => {
      const v = rp2040.readUint32(ch.readAddr) >>> 0;
      rp2040.writeUint32(ch.writeAddr, v);
      feed(ch, v, 4);
    };
    ch.transferSwap32 = () => {
      const v = byteSwap(rp2040.readUint32(ch.readAddr) >>> 0, 4);
      rp2040.writeUint32(ch.writeAddr, v);
      feed(ch, v, 4);
    };
    // CTRL picks transferFn among the properties above when it is written; the reset's CTRL write
    // picked the originals.
    const swap = ch.ctrl & CTRL_BSWAP;
    if (ch.dataSize === 4) ch.transferFn = swap ? ch.transferSwap32 : ch.transfer32;
    else if (ch.dataSize === 2) ch.transferFn = swap ? ch.transferSwap16 : ch.transfer16;
    else ch.transferFn = ch.transfer8;
    const schedule = ch.scheduleTransfer.bind(ch);
    ch.scheduleTransfer = () => {
      if (ch.treqValue === TREQ_PERMANENT) ch.transferAlarm.schedule(1e9 / mcu.clkSys);
      else schedule();
    };
  }

  const read = dma.readUint32.bind(dma);
  dma.readUint32 = (offset) => {
    if (offset === SNIFF_CTRL) return sniff.ctrl;
    if (offset === SNIFF_DATA) {
      let v = sniff.data >>> 0;
      if (sniff.ctrl & (1 << 10)) v = reverse(v, 32);
      if (sniff.ctrl & (1 << 11)) v = ~v >>> 0;
      return v;
    }
    return read(offset);
  };
  const write = dma.writeUint32.bind(dma);
  dma.writeUint32 = (offset, value) => {
    if (offset === SNIFF_CTRL) sniff.ctrl = value & 0xfff;
    else if (offset === SNIFF_DATA) sniff.data = value >>> 0;
    else write(offset, value);
  };
  return sniff;
}
