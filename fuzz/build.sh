#!/usr/bin/env bash
# Builds the cargo-fuzz targets (compile, run, run_binary, run_generated). Needs a nightly toolchain
# and cargo-fuzz; installs cargo-fuzz if it is missing.
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
cargo +nightly fuzz build
# The generator's own tests (every generated program compiles).
cargo +nightly test --manifest-path fuzz/Cargo.toml --release --lib
