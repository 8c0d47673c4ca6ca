#!/usr/bin/env bash
# Builds the cargo-fuzz targets (compile, run, run_binary, run_generated, wasm_imports). Needs a
# nightly toolchain and cargo-fuzz; installs cargo-fuzz if it is missing.
#
#   fuzz/build.sh                 # build every target
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
# (rust-toolchain.toml): building moonbox-host-wasi builds it (a no-op after the workspace's
# tests), and MOONBOX_GUEST_WASM hands it to the fuzz build.
cargo build --release -p moonbox-host-wasi --lib
export MOONBOX_GUEST_WASM="$PWD/target/guest-wasm/wasm32-wasip1/release/moonbox-guest.wasm"
test -f "$MOONBOX_GUEST_WASM"
cargo +nightly fuzz build
# The generator's own tests (every generated program compiles); without the `wasm` feature, which
# only the wasm_imports target needs (it would build wasmtime once more, uninstrumented).
cargo +nightly test --manifest-path fuzz/Cargo.toml --release --lib --no-default-features
