#!/usr/bin/env bash
# moonbox's browser build against fengari and wasmoon (and native moonbox) on the
# bench/ programs, in one headless Chromium. Not part of CI: it takes minutes.
#
#   web/compare/run.sh [runs]     # prints a markdown table
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
web/build.sh >&2
cargo build --release -p moonbox >&2
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
log=$(mktemp)
python3 web/serve.py --root "$root" --port 0 --quiet >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q '^serving ' "$log" && break; sleep 0.1; done
url=$(sed -n 's/^serving //p' "$log")
node "$here/compare.mjs" "$url" "${CARGO_TARGET_DIR:-$root/target}/release/moonbox" "${1:-3}"
