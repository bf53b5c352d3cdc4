#!/usr/bin/env bash
# Builds the Pico firmware and runs its end-to-end test on an emulated RP2040 (rp2040js).
#
# Works on a fresh machine with rustup and Node.js (>= 18): adds the thumbv6m target and llvm-tools,
# installs the emulator from the lockfile (npm ci), builds the release firmware, runs the test.
# Under CI (CI=true) a missing Node.js, npm package or boot ROM is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")"

fail_or_skip() {
    echo "run-e2e: $1" >&2
    if [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; then exit 1; fi
    echo "run-e2e: skipped (not under CI)" >&2
    exit 0
}

command -v node >/dev/null || fail_or_skip "Node.js not found (install Node.js >= 18 with npm)"
command -v npm >/dev/null || fail_or_skip "npm not found (install Node.js >= 18 with npm)"

# The crate has its own target dir (examples/pico/target), whatever the caller's environment says.
unset CARGO_TARGET_DIR
rustup target add thumbv6m-none-eabi >/dev/null
rustup component add llvm-tools >/dev/null
# Not --locked: minivm and the library are path dependencies whose own dependencies may change.
cargo build --release

# The host build of minivm, to check that the host freezes the same image as the device.
(cd ../.. && cargo build --quiet -p minivm --bin minivm)
export MINIVM_BIN="$(cd ../.. && pwd)/target/debug/minivm"

(cd emu && npm ci --no-audit --no-fund --loglevel=error)
cd emu && node --test e2e.test.mjs
