// A cycle profiler for the emulated RP2040: every executed instruction's cycles are attributed to its
// address, calls are tracked on a shadow stack, and the addresses are mapped to functions through the
// firmware ELF's debug info (inlined functions included) and its symbol table.
//
// - Self cycles: per instruction address, summed per innermost (inlined or not) function.
// - Inclusive cycles: self cycles of every address whose inline chain holds the function, plus the
//   cycles of the calls made from those addresses (BL/BLX, tracked until the callee returns: the PC
//   reaches the return address with the SP of the call, or the SP moves above it). A call site's
//   time is counted once even when calls from it nest (recursion through the same site); a function
//   that recurses through different call sites (the interpreter) is counted once per level, so its
//   inclusive figure is an upper bound (capped at the window's total).
// - A focus (a regex on function names) restricts a window to the time spent inside the matching
//   functions and what they call: e.g. `::mount_frozen$` for the mount.
//
// The symbols come from `arm-none-eabi-addr2line -i -f -C` over every halfword of the firmware's code
// (binutils-arm-none-eabi, which littlefs's toolchain installs; a few seconds once per run), with the
// ELF's own symbol table (parsed here) for code without debug info. Off by default: `PROFILE=1`.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const FLASH_BASE = 0x1000_0000;
const FLASH_SPAN = 0x10_0000; // the firmware's 1 MiB of XIP flash
const SRAM_BASE = 0x2000_0000;
const SRAM_SPAN = 0x4_2000;
const ROM_SPAN = 0x4000;
const N_FLASH = FLASH_SPAN >> 1;
const N_SRAM = SRAM_SPAN >> 1;
const N_ROM = ROM_SPAN >> 1;
const IDX_OTHER = N_FLASH + N_SRAM + N_ROM;
const N_IDX = IDX_OTHER + 1;
const MAX_DEPTH = 4096;

/** Halfword index of a code address (flash, SRAM, boot ROM; anything else is one bucket). */
function indexOf(pc) {
  const f = pc - FLASH_BASE;
  if (f >= 0 && f < FLASH_SPAN) return f >>> 1;
  const s = pc - SRAM_BASE;
  if (s >= 0 && s < SRAM_SPAN) return N_FLASH + (s >>> 1);
  if (pc >= 0 && pc < ROM_SPAN) return N_FLASH + N_SRAM + (pc >>> 1);
  return IDX_OTHER;
}

/** The address of a halfword index. */
function addressOf(idx) {
  if (idx < N_FLASH) return FLASH_BASE + idx * 2;
  if (idx < N_FLASH + N_SRAM) return SRAM_BASE + (idx - N_FLASH) * 2;
  if (idx < IDX_OTHER) return (idx - N_FLASH - N_SRAM) * 2;
  return -1;
}

/** Rust's legacy symbol mangling (`_ZN…17h<hash>E`) decoded; other names as they are. */
export function demangle(sym) {
  const m = /^_ZN(.*)E$/.exec(sym);
  if (!m) return sym;
  const s = m[1];
  const parts = [];
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j < s.length && s[j] >= '0' && s[j] <= '9') j++;
    if (j === i) return sym;
    const n = Number(s.slice(i, j));
    parts.push(s.slice(j, j + n));
    i = j + n;
  }
  if (/^h[0-9a-f]{16}$/.test(parts.at(-1) ?? '')) parts.pop();
  const named = { LT: '<', GT: '>', RF: '&', BP: '*', C: ',', SP: '@', LP: '(', RP: ')' };
  return parts
    .map((p) =>
      p
        .replace(/^_\$/, '$')
        .replace(/\$([A-Z]{1,2})\$/g, (all, k) => named[k] ?? all)
        .replace(/\$u([0-9a-f]{2})\$/g, (_, h) => String.fromCharCode(Number.parseInt(h, 16)))
        .replace(/\.\./g, '::'),
    )
    .join('::');
}

/** The ELF's sections and function symbols (ELF32, little-endian). */
export function readElf(file) {
  const b = readFileSync(file);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 1 || b[5] !== 1) throw new Error(`${file}: not an ELF32 LE file`);
  const shoff = dv.getUint32(0x20, true);
  const shentsize = dv.getUint16(0x2e, true);
  const shnum = dv.getUint16(0x30, true);
  const shstrndx = dv.getUint16(0x32, true);
  const sh = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sh.push({
      name: dv.getUint32(o, true),
      type: dv.getUint32(o + 4, true),
      flags: dv.getUint32(o + 8, true),
      addr: dv.getUint32(o + 12, true),
      offset: dv.getUint32(o + 16, true),
      size: dv.getUint32(o + 20, true),
      link: dv.getUint32(o + 24, true),
      entsize: dv.getUint32(o + 36, true),
    });
  }
  const str = (sec, off) => {
    const start = sh[sec].offset + off;
    let end = start;
    while (b[end] !== 0) end++;
    return b.toString('latin1', start, end);
  };
  for (const s of sh) s.label = str(shstrndx, s.name);
  const functions = [];
  for (const s of sh) {
    if (s.type !== 2) continue; // SHT_SYMTAB
    for (let o = s.offset; o < s.offset + s.size; o += s.entsize) {
      const info = b[o + 12];
      if ((info & 0xf) !== 2) continue; // STT_FUNC
      const value = dv.getUint32(o + 4, true) & ~1;
      const size = dv.getUint32(o + 8, true);
      functions.push({ name: demangle(str(s.link, dv.getUint32(o, true))), start: value, end: value + Math.max(size, 2) });
    }
  }
  functions.sort((x, y) => x.start - y.start);
  const SHF_ALLOC = 2;
  const SHF_EXECINSTR = 4;
  const code = sh.filter((s) => s.flags & SHF_EXECINSTR && s.flags & SHF_ALLOC && s.size > 0 && s.type === 1);
  return { sections: sh, functions, code };
}

/**
 * Inline chains of code addresses: `arm-none-eabi-addr2line -i -f -C -a` over `addrs`.
 * Returns one array per address of { fn, line } frames, innermost first ('??' where unknown).
 */
function addr2line(elf, addrs) {
  const input = addrs.map((a) => `0x${a.toString(16)}`).join('\n');
  const r = spawnSync('arm-none-eabi-addr2line', ['-e', elf, '-i', '-f', '-C', '-a'], {
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.error || r.status !== 0) {
    throw new Error(`arm-none-eabi-addr2line failed (${r.error?.message ?? r.stderr}); install binutils-arm-none-eabi`);
  }
  const out = [];
  let cur = null;
  const lines = r.stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^0x[0-9a-f]+$/.test(l)) {
      cur = [];
      out.push(cur);
    } else if (cur && l !== '') {
      const line = lines[++i] ?? '??:0';
      cur.push({ fn: l, line: line.replace(/^.*\/src\//, 'src/').replace(/ \(discriminator \d+\)$/, '') });
    }
  }
  if (out.length !== addrs.length) throw new Error(`addr2line answered ${out.length} of ${addrs.length} addresses`);
  return out;
}

/** Formats a cycle count with thousands separators. */
const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** The boot ROM's public functions (its function table at 0x14, and the soft-float tables). */
const ROM_NAMES = {
  P3: 'popcount32', R3: 'reverse32', L3: 'clz32', T3: 'ctz32', MS: 'memset', S4: 'memset4',
  MC: 'memcpy', C4: 'memcpy44', UB: 'reset_to_usb_boot', DT: 'debug_trampoline',
  DE: 'debug_trampoline_end', WV: 'wait_for_vector', IF: 'connect_internal_flash',
  EX: 'flash_exit_xip', RE: 'flash_range_erase', RP: 'flash_range_program',
  FC: 'flash_flush_cache', CX: 'flash_enter_cmd_xip',
};

/** Entry points of the boot ROM (`rom`: its 16 KiB as a Uint32Array), sorted by address. */
function romEntries(rom) {
  if (!rom) return [];
  const b = Buffer.from(rom.buffer, rom.byteOffset, rom.byteLength);
  const h = (a) => b.readUInt16LE(a);
  const out = [];
  for (let t = h(0x14); t + 4 <= b.length && h(t); t += 4) {
    const code = String.fromCharCode(h(t) & 0xff, h(t) >> 8);
    out.push({ start: h(t + 2) & ~1, name: `[boot ROM] ${ROM_NAMES[code] ?? code}` });
  }
  for (let t = h(0x16); t + 4 <= b.length && h(t); t += 4) {
    const code = String.fromCharCode(h(t) & 0xff, h(t) >> 8);
    if (code !== 'SF' && code !== 'SD') continue;
    // A table of function pointers (soft float or double).
    for (let i = 0, p = h(t + 2); i < 32 && p + 4 <= b.length; i++, p += 4) {
      const f = b.readUInt32LE(p);
      if (f === 0 || f >= ROM_SPAN) break;
      out.push({ start: f & ~1, name: `[boot ROM] soft ${code === 'SF' ? 'float' : 'double'} #${i}` });
    }
  }
  return out.sort((x, y) => x.start - y.start);
}

export class Profiler {
  /** Loads the symbols of `elf` (the firmware the board runs) and, given, the boot ROM's. */
  constructor(elf, bootrom = null) {
    this.elf = elf;
    this.rom = romEntries(bootrom);
    const { functions, code } = readElf(elf);
    this.functions = functions;
    // Names and chains, interned: fnNames[id], chains[chainId] = [fn ids, innermost first].
    this.fnNames = [];
    this.fnIds = new Map();
    this.chains = [[]];
    this.chainIds = new Map([['', 0]]);
    this.lineNames = ['?'];
    this.lineIds = new Map([['?', 0]]);
    this.chainOf = new Int32Array(N_IDX); // 0: unknown (named from the symbol table when reported)
    this.lineOf = new Int32Array(N_IDX);
    const addrs = [];
    for (const s of code) for (let a = s.addr; a < s.addr + s.size; a += 2) addrs.push(a);
    // Functions linked to run from SRAM (rp2040-flash's) live in .data, which is not marked executable.
    for (const f of functions) {
      if (f.start >= SRAM_BASE && f.start < SRAM_BASE + SRAM_SPAN) for (let a = f.start; a < f.end; a += 2) addrs.push(a);
    }
    const t0 = Date.now();
    const frames = addr2line(elf, addrs);
    this.symbolizeMs = Date.now() - t0;
    for (let i = 0; i < addrs.length; i++) {
      const fr = frames[i].filter((f) => f.fn !== '??');
      const idx = indexOf(addrs[i]);
      if (!fr.length) continue;
      const ids = fr.map((f) => this.fnId(f.fn));
      const key = ids.join(',');
      let c = this.chainIds.get(key);
      if (c === undefined) {
        c = this.chains.length;
        this.chains.push(ids);
        this.chainIds.set(key, c);
      }
      this.chainOf[idx] = c;
      let l = this.lineIds.get(fr[0].line);
      if (l === undefined) {
        l = this.lineNames.length;
        this.lineNames.push(fr[0].line);
        this.lineIds.set(fr[0].line, l);
      }
      this.lineOf[idx] = l;
    }
    // The symbol-table function of each address (index + 1; 0: none): a BL from a function into its
    // own body is a far branch (LLVM's Thumb-1 long jump), not a call.
    this.funcOf = new Int32Array(N_IDX);
    this.functions.forEach((f, i) => {
      for (let a = f.start; a < f.end; a += 2) {
        const idx = indexOf(a);
        if (idx !== IDX_OTHER) this.funcOf[idx] = i + 1;
      }
    });
    this.self = new Float64Array(N_IDX);
    this.child = new Float64Array(N_IDX);
    this.siteDepth = new Uint32Array(N_IDX);
    // The callee of each call site (its last call): for `callersOf`.
    this.siteTarget = new Int32Array(N_IDX);
    this.focusAt = new Uint8Array(N_IDX);
    this.ret = new Uint32Array(MAX_DEPTH);
    this.sp = new Uint32Array(MAX_DEPTH);
    this.site = new Int32Array(MAX_DEPTH);
    this.t = new Float64Array(MAX_DEPTH);
    this.inFocus = new Uint8Array(MAX_DEPTH);
    this.active = false;
  }

  fnId(name) {
    let id = this.fnIds.get(name);
    if (id === undefined) {
      id = this.fnNames.length;
      this.fnNames.push(name);
      this.fnIds.set(name, id);
    }
    return id;
  }

  /** The symbol-table function containing `addr`, for code without debug info. */
  symbolAt(addr) {
    const fs = this.functions;
    let lo = 0;
    let hi = fs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (fs[mid].start <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    const f = fs[hi];
    if (f && addr < f.end) return f.name;
    if (addr >= 0 && addr < ROM_SPAN) {
      // Named after the table entry just before it when close (the table's functions are
      // small); else by its 256-byte block (internal code: the flash routines' helpers, USB).
      let near = null;
      for (const e of this.rom) if (e.start <= addr) near = e;
      if (near && addr - near.start < 0x80) return near.name;
      return `[boot ROM] code at 0x${(addr & ~0xff).toString(16).padStart(4, '0')}`;
    }
    if (addr >= 0x2004_1f00 && addr < 0x2004_2000) return '[boot2, in SRAM]';
    if (addr >= SRAM_BASE && addr < SRAM_BASE + SRAM_SPAN) return `[SRAM code ${(addr & ~0xff).toString(16)}]`;
    return addr < 0 ? '[elsewhere]' : `[${addr.toString(16)}]`;
  }

  /** The inline chain of the address of `idx` as names, innermost first. */
  chainNames(idx) {
    const c = this.chainOf[idx];
    if (c) return this.chains[c].map((id) => this.fnNames[id]);
    return [this.symbolAt(addressOf(idx))];
  }

  /** The inline chain of `idx` inside the window: cut at the focus function (its callers are outside). */
  windowChain(idx) {
    const names = this.chainNames(idx);
    if (!this.focus) return names;
    let outer = -1;
    for (let k = 0; k < names.length; k++) if (this.focus.test(names[k])) outer = k;
    return outer >= 0 ? names.slice(0, outer + 1) : names;
  }

  /**
   * Inclusive cycles of the functions whose names match `re`: the cycles of every address whose
   * inline chain holds a match, and of the calls made from there. (A matching function called
   * out of line from another match would count twice: choose `re` so that it does not happen.)
   */
  inclusiveOf(re) {
    let sum = 0;
    for (let i = 0; i < N_IDX; i++) {
      const c = this.self[i] + this.child[i];
      if (c !== 0 && this.windowChain(i).some((n) => re.test(n))) sum += c;
    }
    return Math.min(sum, this.total);
  }

  /**
   * The call sites whose callee's name (innermost at its entry) matches `re`, with the cycles of
   * their calls, by the calling function: who calls a hot leaf (a ROM routine, a builtin).
   */
  callersOf(re, n = 12) {
    const by = new Map();
    for (let i = 0; i < N_IDX; i++) {
      const t = this.siteTarget[i];
      if (t < 0 || this.child[i] === 0 || !re.test(this.chainNames(t)[0])) continue;
      const caller = this.chainNames(i)[0];
      by.set(caller, (by.get(caller) ?? 0) + this.child[i]);
    }
    return [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  }

  /**
   * Starts a window on `core` (the board's CortexM0Core): counters reset. `focus`: a RegExp on
   * function names; only cycles inside a matching function (inlined or not) and its callees count.
   */
  start(core, { focus = null } = {}) {
    this.self.fill(0);
    this.child.fill(0);
    this.siteDepth.fill(0);
    this.siteTarget.fill(-1);
    this.focusAt.fill(focus ? 0 : 1);
    if (focus) {
      const hit = new Uint8Array(this.chains.length);
      for (let c = 1; c < this.chains.length; c++) hit[c] = this.chains[c].some((id) => focus.test(this.fnNames[id]));
      for (let i = 0; i < N_IDX; i++) if (hit[this.chainOf[i]]) this.focusAt[i] = 1;
    }
    this.focus = focus;
    this.top = -1;
    this.depthInFocus = 0;
    this.now = 0;
    this.total = 0;
    this.calls = 0;
    this.farBranches = 0;
    this.lost = 0;
    this.pending = false;
    this.core = core;
    core.blTaken = (c) => this.onCall(c);
    this.active = true;
  }

  /** Ends the window (the core runs on unprofiled). */
  stop() {
    if (this.core) this.core.blTaken = () => {};
    this.active = false;
  }

  onCall(core) {
    const ret = core.registers[14] & ~1;
    // BL is 4 bytes, BLX (register) 2: the call site is the instruction before the return address.
    const siteIdx = indexOf(this.lastPc);
    const target = core.registers[15];
    const fn = this.funcOf[siteIdx];
    if (fn !== 0 && fn === this.funcOf[indexOf(target)] && this.functions[fn - 1].start !== target) {
      this.farBranches++;
      return;
    }
    if (this.top + 1 >= MAX_DEPTH) {
      // Lost track (should not happen: every frame is popped by its return or by the SP): start over.
      this.lost++;
      for (let i = 0; i <= this.top; i++) this.siteDepth[this.site[i]] = 0;
      this.top = -1;
      this.depthInFocus = 0;
    }
    this.siteTarget[siteIdx] = indexOf(target);
    const top = ++this.top;
    this.ret[top] = ret;
    this.sp[top] = core.registers[13];
    this.site[top] = siteIdx;
    this.siteDepth[siteIdx]++;
    const f = this.depthInFocus > 0 || this.focusAt[siteIdx] === 1 ? 1 : 0;
    this.inFocus[top] = f;
    this.depthInFocus += f;
    this.pending = true;
    this.calls++;
  }

  /** Accounts one executed instruction at `pc` that took `cycles`; `core` after it. */
  step(pc, cycles, core) {
    const idx = indexOf(pc);
    if (this.depthInFocus > 0 || this.focusAt[idx] === 1) {
      this.self[idx] += cycles;
      this.total += cycles;
    }
    this.now += cycles;
    if (this.pending) {
      this.t[this.top] = this.now;
      this.pending = false;
    }
    const sp = core.registers[13];
    const npc = core.registers[15];
    let top = this.top;
    while (top >= 0 && (sp > this.sp[top] || (npc === this.ret[top] && sp === this.sp[top]))) {
      const s = this.site[top];
      const d = this.now - this.t[top];
      if (--this.siteDepth[s] === 0 && this.inFocus[top]) this.child[s] += d;
      this.depthInFocus -= this.inFocus[top];
      top--;
    }
    this.top = top;
  }

  /** Accounts `cycles` of the core waiting for an interrupt at `pc`. */
  sleep(pc, cycles) {
    this.step(pc, cycles, this.core);
  }

  /**
   * The window's report: total cycles (in the focus), top functions by self and by inclusive
   * cycles, the hottest source lines. `n`: rows per table.
   */
  report(title, { n = 20, lines = 12 } = {}) {
    const selfBy = new Map();
    const inclBy = new Map();
    const lineBy = new Map();
    const selfIdx = [];
    for (let i = 0; i < N_IDX; i++) {
      const s = this.self[i];
      const c = this.child[i];
      if (s === 0 && c === 0) continue;
      const names = this.windowChain(i);
      if (s) {
        selfBy.set(names[0], (selfBy.get(names[0]) ?? 0) + s);
        const ln = this.chainOf[i] ? this.lineNames[this.lineOf[i]] : names[0];
        lineBy.set(ln, (lineBy.get(ln) ?? { c: 0, fn: names[0] }));
        lineBy.get(ln).c += s;
        selfIdx.push(i);
      }
      for (const name of new Set(names)) inclBy.set(name, (inclBy.get(name) ?? 0) + s + c);
    }
    const total = this.total;
    const pct = (x) => `${((100 * x) / Math.max(total, 1)).toFixed(1)} %`;
    const top = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
    const short = (name) => (name.length > 110 ? `${name.slice(0, 107)}...` : name);
    const out = [];
    out.push(`### ${title}: ${fmt(total)} cycles${this.focus ? ` inside ${this.focus}` : ''}`);
    out.push('');
    out.push('| self cycles | % | function (innermost, inlined or not) |');
    out.push('| ---: | ---: | --- |');
    for (const [name, c] of top(selfBy)) out.push(`| ${fmt(c)} | ${pct(c)} | \`${short(name)}\` |`);
    out.push('');
    out.push('| inclusive cycles | % | function (with what it inlines and calls) |');
    out.push('| ---: | ---: | --- |');
    for (const [name, c] of top(inclBy)) out.push(`| ${fmt(Math.min(c, total))} | ${pct(Math.min(c, total))} | \`${short(name)}\` |`);
    if (lines) {
      out.push('');
      out.push('| self cycles | % | source line | function |');
      out.push('| ---: | ---: | --- | --- |');
      const hot = [...lineBy.entries()].sort((a, b) => b[1].c - a[1].c).slice(0, lines);
      for (const [ln, { c, fn }] of hot) out.push(`| ${fmt(c)} | ${pct(c)} | ${ln} | \`${short(fn)}\` |`);
    }
    out.push('');
    out.push(
      `(${fmt(this.calls)} calls tracked, ${fmt(this.farBranches)} far branches (BL within a function) not counted as calls${this.lost ? `, ${this.lost} stack resets` : ''})`,
    );
    return out.join('\n');
  }
}
