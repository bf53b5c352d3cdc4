// Profiles one step of the seed session on the emulated board, for working on a hot spot:
//
//   node profile-run.mjs <step> [focus-regex] [rows]
//
// step: `boot` (cold boot, empty image region), `import` (import tinysched from bytecode),
// `freeze` (freeze.import_modules('tinysched', 'counter'), both imported), `mount` (the boot
// after that freeze), `frozen-import` (import tinysched from the image). The focus (default: the
// step's own, as in e2e.test.mjs) restricts the tables to one function and what it calls, e.g.
// `'^flashfreeze::image::write::walk$'`. CALLERS=regex also lists who calls the functions it
// matches (e.g. CALLERS='ctz32'). Needs the release firmware and the boot ROM, as the e2e.

import { FLASH_SIZE, firmwareElf, firmwareImage, loadBootrom, Pico } from './pico.mjs';
import { Profiler } from './profile.mjs';

const [step = 'freeze', focusArg, rowsArg] = process.argv.slice(2);
const defaults = {
  boot: null,
  import: 'ReplHost for minivm::vm::Vm<F>>::import$',
  freeze: '^minivm::modules::freeze::import_modules$',
  mount: '::mount_frozen$',
  'frozen-import': 'ReplHost for minivm::vm::Vm<F>>::import$',
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
const measure = (label, fn) => {
  pico.profiled(profiler, { focus }, fn);
  console.log(profiler.report(label, { n: rows, lines: rows }));
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

if (step === 'boot') {
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
