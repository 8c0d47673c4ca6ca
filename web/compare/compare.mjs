// Times bench/*.lua on moonbox's browser build, fengari and wasmoon in one headless
// Chromium, and on the native moonbox binary; prints a markdown table.
//
//   node web/compare/compare.mjs URL NATIVE_MOONBOX [runs]
//
// URL serves the repository root (web/compare/run.sh does all of it). Each cell is the
// best of `runs` (default 3) runs, in milliseconds, of the program alone (not engine
// start-up); outputs are checked against the native run's.

import { spawnSync } from "node:child_process";
import { chromium } from "playwright-core";

const [url, native, runsArg] = process.argv.slice(2);
const RUNS = Number(runsArg || 3);
// Sizes small enough for the slowest engine (fengari) to finish in seconds.
const BENCHES = [
  ["fib", 30], ["loops", 2000000], ["nbody", 100000], ["spectral_norm", 200], ["mandelbrot", 400],
  ["fannkuch_redux", 8], ["binary_trees", 12], ["json", 2000], ["patterns", 10000], ["strings", 100000],
];
const ENGINES = (process.env.ENGINES || "moonbox,wasmoon,fengari").split(",");

function nativeRun(name, size) {
  // Wall time of the process, less the start-up time of an empty script.
  const t0 = process.hrtime.bigint();
  const r = spawnSync(native, [`bench/${name}.lua`, String(size)], { encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) return { ms: null, output: "", error: r.stderr };
  return { ms, output: r.stdout };
}

const startup = Math.min(...Array.from({ length: 10 }, () => {
  const t0 = process.hrtime.bigint();
  spawnSync(native, ["-e", ""]);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
page.setDefaultTimeout(600_000);
await page.goto(new URL("web/compare/compare.html", url).href);
await page.waitForFunction(() => window.benchReady === true);
const version = await browser.version();

const rows = [];
for (const [name, size] of BENCHES) {
  const best = {};
  const ref = nativeRun(name, size);
  best.native = ref.ms == null ? null : Math.min(ref.ms, ...Array.from({ length: RUNS - 1 }, () => nativeRun(name, size).ms)) - startup;
  const notes = [];
  for (const engine of ENGINES) {
    let min = Infinity;
    for (let i = 0; i < RUNS; i++) {
      const r = await page.evaluate(([e, n, s]) => window.bench(e, n, s), [engine, name, size]);
      if (r.error || r.ms == null) {
        notes.push(`${engine}: ${(r.error || "failed").split("\n")[0]}`);
        min = null;
        break;
      }
      const ck = (o) => o.split("\n").filter((l) => l.startsWith("checksum")).join(" ");
      if (ck(r.output) !== ck(ref.output)) notes.push(`${engine}: checksum ${ck(r.output)} differs`);
      min = Math.min(min, r.ms);
    }
    best[engine] = min;
  }
  rows.push({ name, size, best, notes });
  process.stderr.write(`${name} ${JSON.stringify(best)}\n`);
}
await browser.close();

const f = (ms) => (ms == null ? "error" : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
const ratio = (a, b) => (a == null || b == null ? "–" : `${(a / b).toFixed(2)}×`);
console.log(`Chromium ${version}, best of ${RUNS}, milliseconds (native: process time minus ${startup.toFixed(1)} ms start-up)\n`);
console.log("| benchmark (size) | native moonbox | moonbox wasm | wasmoon (Lua 5.4, emscripten) | fengari (Lua 5.3 in JS) | wasm / native | wasmoon / moonbox wasm | fengari / moonbox wasm |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
const geo = { native: [], moonbox: [], wasmoon: [], fengari: [] };
for (const { name, size, best, notes } of rows) {
  console.log(`| ${name} (${size}) | ${f(best.native)} | ${f(best.moonbox)} | ${f(best.wasmoon)} | ${f(best.fengari)} | ${ratio(best.moonbox, best.native)} | ${ratio(best.wasmoon, best.moonbox)} | ${ratio(best.fengari, best.moonbox)} |`);
  if (Object.values(best).every((v) => v != null)) for (const k in geo) geo[k].push(best[k]);
}
const gm = (xs) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
if (geo.native.length) {
  console.log(`| geometric mean (${geo.native.length} all ran) | ${f(gm(geo.native))} | ${f(gm(geo.moonbox))} | ${f(gm(geo.wasmoon))} | ${f(gm(geo.fengari))} | ${ratio(gm(geo.moonbox), gm(geo.native))} | ${ratio(gm(geo.wasmoon), gm(geo.moonbox))} | ${ratio(gm(geo.fengari), gm(geo.moonbox))} |`);
}
const notes = rows.flatMap((r) => r.notes.map((n) => `- ${r.name}: ${n}`));
if (notes.length) console.log("\n" + [...new Set(notes)].join("\n"));
