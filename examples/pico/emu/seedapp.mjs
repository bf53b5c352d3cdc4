// The seed app of the README's demo, as the emulated board runs it: adafruit-circuitpython-asyncio
// 3.1.1 + microdot 2.7.0, fetched by tools/corpus (target/corpus/mpy), and our
// demo/app/seedapp.py compiled by demo/run-seed.sh (target/corpus/app). mpremote.test.mjs runs it
// and profile-run.mjs (step `app-mount`) profiles its mount; both take the files and names here.

import { existsSync } from 'node:fs';
import path from 'node:path';

import { REPO_ROOT } from './pico.mjs';

/** The corpus directory (`SEED_CORPUS`, default target/corpus). */
export const APP_CORPUS = process.env.SEED_CORPUS ?? path.join(REPO_ROOT, 'target', 'corpus');
/** The library files copied to /lib, relative to the corpus's mpy/ (seedapp.mpy comes from app/). */
export const APP_FILES = [
  ...['__init__', 'core', 'event', 'funcs', 'lock', 'stream', 'task', 'traceback'].map((m) => `asyncio/${m}.mpy`),
  'adafruit_ticks.mpy',
  ...['__init__', 'microdot', 'helpers', 'websocket', 'test_client'].map((m) => `microdot/${m}.mpy`),
];
/** The names `freeze.import_modules` is given. */
export const APP_MODULES = ['asyncio', 'asyncio.funcs', 'asyncio.event', 'asyncio.lock', 'asyncio.stream', 'microdot', 'microdot.test_client', 'seedapp'];
/** The app's import line. */
export const APP_IMPORT = `import ${APP_MODULES.join(', ')}`;

/** Whether every file of the app is in the corpus. */
export function appFetched() {
  return APP_FILES.every((f) => existsSync(path.join(APP_CORPUS, 'mpy', f))) && existsSync(path.join(APP_CORPUS, 'app', 'seedapp.mpy'));
}
