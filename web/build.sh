#!/usr/bin/env bash
# Builds the playground into web/www/pkg: the engine for wasm32-unknown-unknown, then
# its JavaScript bindings with the wasm-bindgen CLI of exactly the version that
# Cargo.lock pins for the wasm-bindgen crate (installed on first use).
#
#   web/build.sh            # then serve web/www (web/serve does both)
#
# Then binaryen's wasm-opt shrinks the module (-15% raw, -10% gzipped, same speed):
# the version package-lock.json pins, installed into web/node_modules with npm. A
# system wasm-opt is never used: Debian's (108) breaks wasm-bindgen's externref table.
# Without npm the unoptimised module is complete too.
#
# Environment: MOONBOX_TOOLS (default ~/.cache/moonbox-tools) holds the CLI, one
# folder per version; CARGO_TARGET_DIR as usual; MOONBOX_WASM_OPT=0 skips wasm-opt.
set -euo pipefail
web=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$web")
cd "$root"

ver=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
[[ -n $ver ]] || { echo "build.sh: no wasm-bindgen in Cargo.lock" >&2; exit 1; }
tools=${MOONBOX_TOOLS:-$HOME/.cache/moonbox-tools}/wasm-bindgen-$ver
bindgen=$tools/bin/wasm-bindgen
if [[ ! -x $bindgen ]] || [[ $("$bindgen" --version) != "wasm-bindgen $ver" ]]; then
  echo "--- installing wasm-bindgen-cli $ver into $tools"
  t0=$SECONDS
  # --locked first; the CLI's own lock file may name a crate version that has since
  # been yanked (0.2.130 pins webpki-roots 1.0.11), and then only a fresh resolution
  # of its dependencies installs (the CLI itself is still exactly $ver).
  cargo install wasm-bindgen-cli --version "=$ver" --locked --root "$tools" ||
    cargo install wasm-bindgen-cli --version "=$ver" --root "$tools"
  echo "--- wasm-bindgen-cli installed in $((SECONDS - t0)) s"
fi

if command -v rustup >/dev/null 2>&1; then
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
fi

# The `wasm` profile (root Cargo.toml): release minus debug info, with abort on panic
# and whole-program optimisation, which the browser build wants and the native one not.
echo "--- cargo build -p moonbox-web --target wasm32-unknown-unknown --profile wasm"
cargo build -p moonbox-web --target wasm32-unknown-unknown --profile wasm
target=${CARGO_TARGET_DIR:-$root/target}
wasm=$target/wasm32-unknown-unknown/wasm/moonbox_web.wasm

out=$web/www/pkg
# Nothing to redo when the module is the one pkg/ was made from (wasm-opt takes ~25 s).
stamp() {
  local opt=none
  [[ ${MOONBOX_WASM_OPT:-1} == 0 || ! -x $web/node_modules/.bin/wasm-opt ]] || opt=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
  echo "$(sha256sum "$wasm" | cut -d' ' -f1) $ver $opt"
}
if [[ -f $out/.stamp && $(cat "$out/.stamp") == "$(stamp)" ]]; then
  bg=$out/moonbox_web_bg.wasm
  echo "--- $bg: up to date, $(stat -c %s "$bg") bytes, $(gzip -9 -c "$bg" | wc -c) gzipped"
  exit 0
fi
rm -rf "$out"
"$bindgen" --target web --no-typescript --out-dir "$out" "$wasm"

bg=$out/moonbox_web_bg.wasm
if [[ ${MOONBOX_WASM_OPT:-1} != 0 ]]; then
  wasm_opt=$web/node_modules/.bin/wasm-opt
  if [[ ! -x $wasm_opt ]] && command -v npm >/dev/null 2>&1; then
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [[ -x $wasm_opt ]]; then
    echo "--- $("$wasm_opt" --version)"
    # The features rustc's wasm32-unknown-unknown emits (Rust 1.82+), named one by one:
    # --all-features would let binaryen use ones browsers lack.
    "$wasm_opt" -O3 --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
      --enable-mutable-globals --enable-reference-types --enable-multivalue "$bg" -o "$bg.opt"
    mv "$bg.opt" "$bg"
  else
    echo "--- no npm: skipping wasm-opt"
  fi
fi
raw=$(stat -c %s "$bg")
gz=$(gzip -9 -c "$bg" | wc -c)
echo "--- $bg: $raw bytes, $gz gzipped"
stamp >"$out/.stamp"
