// UF2 for the RP2040 bootloader's USB drive: encode a raw flash image, and decode one back.
//
// A UF2 file is a list of 512-byte blocks, each carrying 256 bytes for one flash address:
//
//   0  magic 0x0A324655   4  magic 0x9E5D5157   8  flags (0x2000: family id present)
//  12  target address    16  payload size (256) 20  block number   24  number of blocks
//  28  family id (RP2040: 0xE48BFF56)           32  payload (476 bytes, 256 used)   508  magic 0x0AB16F30
//
// Usage: node uf2.mjs [FIRMWARE.uf2]   (default: ../target/thumbv6m-none-eabi/release/flashfreeze-pico.uf2)

import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const RP2040_FAMILY = 0xe48bff56;
const MAGIC0 = 0x0a324655;
const MAGIC1 = 0x9e5d5157;
const MAGIC_END = 0x0ab16f30;
const FLAG_FAMILY = 0x2000;
const PAYLOAD = 256;

/** UF2 blocks for `image` placed at `base` (0x10000000 = flash offset 0). */
export function encodeUf2(image, base = 0x1000_0000) {
  const count = Math.ceil(image.length / PAYLOAD);
  const out = new Uint8Array(count * 512);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const o = i * 512;
    const words = [MAGIC0, MAGIC1, FLAG_FAMILY, base + i * PAYLOAD, PAYLOAD, i, count, RP2040_FAMILY];
    words.forEach((w, k) => view.setUint32(o + 4 * k, w >>> 0, true));
    out.set(image.subarray(i * PAYLOAD, (i + 1) * PAYLOAD), o + 32);
    view.setUint32(o + 508, MAGIC_END, true);
  }
  return out;
}

/** Writes the blocks of `uf2` into `flash` (indexed by flash offset), as the bootloader would. */
export function decodeUf2Into(uf2, flash, base = 0x1000_0000) {
  const view = new DataView(uf2.buffer, uf2.byteOffset, uf2.byteLength);
  if (uf2.length % 512 !== 0) throw new Error(`UF2 length ${uf2.length} is not a multiple of 512`);
  let blocks = 0;
  for (let o = 0; o < uf2.length; o += 512) {
    const word = (k) => view.getUint32(o + 4 * k, true);
    if (word(0) !== MAGIC0 || word(1) !== MAGIC1 || view.getUint32(o + 508, true) !== MAGIC_END) {
      throw new Error(`UF2 block at ${o}: bad magic`);
    }
    if (word(2) & FLAG_FAMILY && word(7) !== RP2040_FAMILY) throw new Error(`UF2 block at ${o}: not RP2040`);
    const addr = word(3);
    const size = word(4);
    if (addr < base || size > 476 || addr - base + size > flash.length) {
      throw new Error(`UF2 block at ${o}: ${size} bytes at 0x${addr.toString(16)} outside flash`);
    }
    flash.set(uf2.subarray(o + 32, o + 32 + size), addr - base);
    blocks++;
  }
  return blocks;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const { firmwareImage, PICO_DIR } = await import('./pico.mjs');
  const file =
    process.argv[2] ?? path.join(PICO_DIR, 'target/thumbv6m-none-eabi/release/flashfreeze-pico.uf2');
  const image = firmwareImage();
  writeFileSync(file, encodeUf2(image));
  console.log(`${file}: ${image.length} bytes of firmware in ${Math.ceil(image.length / PAYLOAD)} UF2 blocks`);
}
