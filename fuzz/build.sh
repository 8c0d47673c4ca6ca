#!/usr/bin/env bash
# Builds the cargo-fuzz targets (compile, run, run_binary, run_generated, wasm_imports). Needs a
# nightly toolchain and cargo-fuzz; installs cargo-fuzz if it is missing.
#
#   fuzz/build.sh                 # build every target
#   fuzz/build.sh --quick         # CI: build the engine's targets; type-check wasm_imports
#                                 # (an instrumented wasmtime takes some 15 minutes to build;
#                                 # host-wasi/tests/imports_fuzz.rs runs its logic every CI run)
#   (running them: fuzz/README.md)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz/build.sh: no nightly toolchain (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  # --locked first; if its lock file names a version the registry no longer has
  # (yanked), resolve afresh.
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi
# wasm_imports embeds the sandbox's guest (a wasm32-wasip1 build of the engine). The nightly
# toolchain need not have that target, so the guest comes from the project's own toolchain
# (rust-toolchain.toml), built by moonbox-host-wasi's build script; after the workspace's tests
# (CI) it is there and current, else it is built here. MOONBOX_GUEST_WASM hands it over.
guest="$PWD/target/guest-wasm/wasm32-wasip1/release/moonbox-guest.wasm"
if [[ ! -f $guest || -n $(find engine/src engine/Cargo.toml host-wasi/guest Cargo.lock -newer "$guest" -print -quit) ]]; then
  cargo build --release -p moonbox-host-wasi --lib
fi
test -f "$guest"
export MOONBOX_GUEST_WASM="$guest"
if [[ ${1-} == --quick ]]; then
  # Without the `wasm` feature, so the engine's targets do not build wasmtime under ASan.
  for t in compile run run_binary run_generated; do cargo +nightly fuzz build --no-default-features "$t"; done
  cargo +nightly fuzz check wasm_imports
else
  cargo +nightly fuzz build
fi
# The generator's own tests (every generated program compiles); without the `wasm` feature, which
# only the wasm_imports target needs (it would build wasmtime once more, uninstrumented).
cargo +nightly test --manifest-path fuzz/Cargo.toml --release --lib --no-default-features
