#!/usr/bin/env bash
# The playground's browser tests: builds the page, installs the test dependencies
# (package-lock.json: playwright-core, binaryen) into web/node_modules, serves web/www on a free port of
# 127.0.0.1 and runs web/tests/*.test.mjs in Debian's headless Chromium.
#
#   web/e2e.sh
#
# Needs node/npm and /usr/bin/chromium (installed with apt-get when missing and
# possible). Leaves screenshots in web/test-artifacts/.
set -euo pipefail
web=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$web"
t0=$SECONDS

if [[ ! -x /usr/bin/chromium ]]; then
  echo "--- installing chromium"
  sudo=()
  if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then sudo=(sudo -n); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version

./build.sh
echo "--- build done at $((SECONDS - t0)) s"

# build.sh installed package-lock.json's packages if node_modules lacked wasm-opt.
[[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund --loglevel=error

log=$(mktemp)
python3 serve.py --port 0 --quiet >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  grep -q '^serving ' "$log" && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^serving //p' "$log")
[[ -n $url ]] || { echo "e2e.sh: the server did not start" >&2; cat "$log"; exit 1; }
echo "--- testing $url"

PLAYGROUND_URL=$url node --test --test-concurrency=1 tests/
echo "--- browser e2e done in $((SECONDS - t0)) s"
