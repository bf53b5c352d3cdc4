// Profiles one step of the seed session on the emulated board, for working on a hot spot:
//
//   node profile-run.mjs <step> [focus-regex] [rows]
//
// step: `boot` (cold boot, empty image region), `import` (import tinysched from bytecode),
// `freeze` (freeze.import_modules('tinysched', 'counter'), both imported), `mount` (the boot
// after that freeze), `frozen-import` (import tinysched from the image), `app-mount` (the seed app
// of mpremote.test.mjs copied to /lib with mpremote, frozen as it imports on a fresh power-up with
// `freeze.import_modules(...)`, then the boot after that: its `mount_frozen`). The focus (default: the
// step's own, as in e2e.test.mjs) restricts the tables to one function and what it calls, e.g.
// `'^flashfreeze::image::write::walk$'`. CALLERS=regex also lists who calls the functions it
// matches (e.g. CALLERS='ctz32'); PARTS='re;re' prints the inclusive cycles of each. Needs the
// release firmware and the boot ROM, as the e2e;
// `app-mount` also needs the fetched seed app (seedapp.mjs) and mpremote (MPREMOTE_PYTHON, default
// emu/.venv/bin/python as run-e2e.sh installs it). APP_FLASH=file keeps its flash after the freeze
// there, and a later run boots that flash (the current firmware written over the old one) instead
// of freezing again, as long as its image still mounts.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { FLASH_SIZE, firmwareElf, firmwareImage, IMAGE_OFFSET, loadBootrom, Pico, PtyBridge, runWhileEmulating } from './pico.mjs';
import { Profiler } from './profile.mjs';
import { APP_CORPUS, APP_FILES, APP_MODULES, appFetched } from './seedapp.mjs';

const [step = 'freeze', focusArg, rowsArg] = process.argv.slice(2);
const defaults = {
  boot: null,
  import: 'ReplHost for minivm::vm::Vm<F>>::import$',
  freeze: '^minivm::modules::freeze::import_modules$',
  mount: '::mount_frozen$',
  'frozen-import': 'ReplHost for minivm::vm::Vm<F>>::import$',
  'app-mount': '::mount_frozen$',
};
if (!(step in defaults)) {
  console.error(`unknown step ${step}: one of ${Object.keys(defaults).join(', ')}`);
  process.exit(2);
}
const focusText = focusArg ?? defaults[step];
const focus = focusText ? new RegExp(focusText) : null;
const rows = Number(rowsArg ?? 30);

const bootrom = loadBootrom();
const profiler = new Profiler(firmwareElf(), bootrom);
const flash = new Uint8Array(FLASH_SIZE).fill(0xff);
flash.set(firmwareImage());
// The first power-on formats the filesystem region: done before any measured step.
let pico = new Pico(flash, bootrom);
pico.boot();
const callers = process.env.CALLERS ? new RegExp(process.env.CALLERS) : null;
// PARTS='regex;regex;...': the inclusive cycles of each (Profiler.inclusiveOf), after the tables.
const parts = (process.env.PARTS ?? '').split(';').filter(Boolean).map((t) => [t, new RegExp(t)]);
const measure = (label, fn) => {
  pico.profiled(profiler, { focus }, fn);
  console.log(profiler.report(label, { n: rows, lines: rows }));
  for (const [name, re] of parts) console.log(`  ${profiler.inclusiveOf(re).toLocaleString('en-US').padStart(9)}  ${name}`);
  if (callers) {
    console.log(`callers of ${callers}:`);
    for (const [name, c] of profiler.callersOf(callers)) console.log(`  ${c.toLocaleString('en-US')}  ${name}`);
  }
};
const powerCycle = () => {
  pico.powerOff();
  pico = new Pico(flash, bootrom);
};
const run = (line) => pico.command(line, { maxCycles: 2e9 });

/** The image line of a boot banner. */
const imageLine = (banner) => banner.split('\n').find((l) => l.startsWith('image:'))?.trimEnd() ?? '(no image line)';

/** `app-mount`: the seed app frozen (or its kept flash), then the boot that mounts it, profiled. */
async function appMount() {
  if (!appFetched()) throw new Error(`the seed app is not in ${APP_CORPUS} (bash examples/minivm/demo/run-seed.sh)`);
  const keep = process.env.APP_FLASH;
  if (keep && existsSync(keep)) {
    // The kept flash, the current firmware over the old one (erased first: it may be shorter).
    pico.powerOff();
    flash.set(readFileSync(keep));
    flash.fill(0xff, 0, IMAGE_OFFSET);
    flash.set(firmwareImage());
    pico = new Pico(flash, bootrom);
    const line = imageLine(pico.boot().banner);
    if (/^image: mounted .*seedapp/.test(line)) return measureAppBoot();
    console.log(`${keep}: ${line}; freezing again`);
    pico.powerOff();
    flash.fill(0xff);
    flash.set(firmwareImage());
    pico = new Pico(flash, bootrom);
    pico.boot();
  }
  const python = process.env.MPREMOTE_PYTHON ?? path.join(import.meta.dirname, '.venv', 'bin', 'python');
  const bridge = await PtyBridge.open(python);
  const mpremote = async (...args) => {
    bridge.attach(pico);
    const r = await runWhileEmulating(pico, [python, '-m', 'mpremote', 'connect', bridge.path, ...args], { timeoutMs: 900_000 });
    if (r.code !== 0) throw new Error(`mpremote ${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
    return r.stdout.replace(/\r\n/g, '\n');
  };
  try {
    // As mpremote.test.mjs: the files to /lib, then the freeze as the first thing after a power-up.
    const dirs = [...new Set(APP_FILES.filter((f) => f.includes('/')).map((f) => f.split('/')[0]))];
    const cp = (from, to) => ['+', 'fs', 'cp', from, to];
    await mpremote(
      'fs', 'mkdir', ':lib',
      ...dirs.flatMap((d) => ['+', 'fs', 'mkdir', `:lib/${d}`]),
      ...APP_FILES.flatMap((f) => cp(path.join(APP_CORPUS, 'mpy', f), `:lib/${f}`)),
      ...cp(path.join(APP_CORPUS, 'app', 'seedapp.mpy'), ':lib/seedapp.mpy'),
    );
    powerCycle();
    pico.boot();
    const out = await mpremote('exec', `import freeze\nfreeze.import_modules(${APP_MODULES.map((m) => `'${m}'`).join(', ')})`);
    console.log(out.trimEnd());
  } finally {
    bridge.close();
  }
  pico.syncFlash();
  if (keep) writeFileSync(keep, flash);
  return measureAppBoot();
}

function measureAppBoot() {
  powerCycle();
  let banner = '';
  measure('boot with the seed app\'s image', () => ({ banner } = pico.boot()));
  const line = imageLine(banner);
  const us = Number(line.match(/ in (\d+) us/)?.[1]);
  console.log(`${line}\n(the firmware's timer: ${(us * 125).toLocaleString('en-US')} cycles)`);
}

if (step === 'app-mount') {
  await appMount();
} else if (step === 'boot') {
  powerCycle();
  measure('cold boot, empty image region', () => pico.boot());
} else {
  powerCycle();
  pico.boot();
  run('import freeze');
  if (step === 'import') {
    measure('import tinysched from bytecode', () => run('import tinysched'));
  } else {
    run('import tinysched');
    run('import counter');
    const freeze = () => run("freeze.import_modules('tinysched', 'counter')");
    if (step === 'freeze') {
      measure("freeze.import_modules('tinysched', 'counter')", freeze);
    } else {
      freeze();
      powerCycle();
      if (step === 'mount') {
        measure('boot with the image', () => pico.boot());
      } else {
        pico.boot();
        measure('import tinysched from the image', () => run('import tinysched'));
      }
    }
  }
}
