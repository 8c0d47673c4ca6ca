// End-to-end tests of the playground in Debian's Chromium, headless, through
// playwright-core. Run by web/e2e.sh, which builds the page and serves it; the page's
// address is in PLAYGROUND_URL.
//
//   PLAYGROUND_URL=http://127.0.0.1:8000/ node --test web/tests/

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const URL_ = process.env.PLAYGROUND_URL;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = path.join(here, "..", "test-artifacts");
const expected = (name) => fs.readFileSync(path.join(here, "expected", `${name}.txt`), "utf8");

let browser, page;
const pageErrors = [];

before(async () => {
  assert.ok(URL_, "PLAYGROUND_URL is not set (run web/e2e.sh)");
  // playwright launches every browser with a fresh temporary profile (its own
  // --user-data-dir), removed on close.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
});

after(async () => {
  await browser?.close();
});

// Clicks Run (or presses it another way) and waits for the run to finish; returns what
// the page shows.
async function runAndRead(trigger = () => page.click("#run")) {
  const runs = Number((await page.getAttribute("body", "data-runs")) || 0);
  await trigger();
  await page.waitForFunction((n) => Number(document.body.dataset.runs || 0) > n, runs, { timeout: 60_000 });
  return readResult();
}

async function readResult() {
  return page.evaluate(() => ({
    status: document.getElementById("status").dataset.state,
    label: document.getElementById("status").textContent,
    output: document.getElementById("output").textContent,
    values: document.getElementById("values").hidden ? null : document.getElementById("values").textContent,
    error: document.getElementById("error").hidden ? null : document.querySelector("#error .message").textContent,
    errLine: document.getElementById("errline").hidden ? null : Number(document.getElementById("errline").dataset.line),
    gutterErr: document.querySelector("#gutter .err")?.textContent ?? null,
    time: document.getElementById("stat-time").textContent,
    mem: document.getElementById("stat-mem").textContent,
  }));
}

// Sets a limit through the Limits menu, as a user would.
async function setLimit(id, value) {
  if (!(await page.$eval("#limits-menu", (d) => d.open))) await page.click("#limits-menu summary");
  await page.selectOption(`#${id}`, value);
  await page.click("#limits-menu summary");
}

async function setCode(code) {
  await page.fill("#code", code);
}

test("the page loads and runs its first program", async () => {
  const t0 = Date.now();
  await page.goto(URL_);
  await page.waitForSelector('#status[data-state="ready"]', { timeout: 30_000 });
  const readyMs = Date.now() - t0;
  const r = await runAndRead();
  const firstRunMs = Date.now() - t0;
  console.log(`page load to engine ready: ${readyMs} ms; to first run done: ${firstRunMs} ms`);
  assert.equal(r.status, "ok");
  assert.equal(r.output, expected("hello"));
  assert.equal(r.values, "→ 42");
  assert.match(r.time, /^\d+(\.\d+)? (ms|s)$/);
  assert.match(r.mem, /^\d+(\.\d)? (B|KiB|MiB)$/);
  assert.match(await page.textContent("#version"), /^moonbox \d+\.\d+\.\d+$/);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, "playground.png") });
});

for (const name of ["fib", "nbody", "json", "patterns", "coroutines", "oop"]) {
  test(`example ${name} prints its expected output`, async () => {
    await page.selectOption("#examples", name);
    await page.waitForFunction((n) => document.getElementById("filename").textContent === `${n}.lua`, name);
    const r = await runAndRead();
    assert.equal(r.status, "ok", r.error ?? "");
    assert.equal(r.output, expected(name));
    assert.equal(r.error, null);
  });
}

test("hot loops run as linked Wasm traces, and the JIT view shows them", async () => {
  await setCode("local s = 0\nfor i = 1, 100000 do\n  s = s + i % 7\nend\nprint(s)");
  const r = await runAndRead();
  assert.equal(r.status, "ok", r.error ?? "");
  assert.equal(r.output, "300000\n");
  await page.click("#jit-view summary");
  const view = await page.evaluate(() => ({
    log: document.getElementById("jit-log").textContent,
    summary: document.getElementById("jit-summary").textContent,
    options: [...document.getElementById("jit-trace").options].map((o) => o.textContent),
    ir: document.getElementById("jit-ir").textContent,
    wasm: document.getElementById("jit-wasm").textContent,
  }));
  // The -jv line as the program ran: the trace compiled to a module, linked into the
  // engine's own (growable, exported) table after wasm-opt.
  assert.equal(view.log, "[TRACE   1 main.lua:2 loop]\n");
  assert.equal(view.summary, "· 1 trace");
  assert.deepEqual(view.options, ["TRACE 1: main.lua:2 loop"]);
  assert.match(view.ir, /SLOAD/);
  assert.match(view.ir, /LOOP/);
  assert.match(view.wasm, /^\(module/);
  assert.match(view.wasm, /\(export "trace" \(func \$trace_1\)\)/);
  await page.screenshot({ path: path.join(ARTIFACTS, "jit-view.png") });
  // With the JIT off (Limits menu) the same result, no traces.
  if (!(await page.$eval("#limits-menu", (d) => d.open))) await page.click("#limits-menu summary");
  await page.uncheck("#jit");
  await page.click("#limits-menu summary");
  const off = await runAndRead();
  assert.equal(off.output, "300000\n");
  assert.equal(await page.textContent("#jit-summary"), "· no traces");
  if (!(await page.$eval("#limits-menu", (d) => d.open))) await page.click("#limits-menu summary");
  await page.check("#jit");
  await page.click("#limits-menu summary");
  await page.click("#jit-view summary");
});

test("the budget stops an infinite loop, even inside pcall", async () => {
  await page.selectOption("#examples", "limits");
  await page.waitForFunction(() => document.getElementById("filename").textContent === "limits.lua");
  await setLimit("budget", "10000000");
  const t0 = Date.now();
  const r = await runAndRead();
  console.log(`10M budget checks ran out after ${Date.now() - t0} ms`);
  assert.equal(r.status, "error");
  assert.equal(r.label, "budget exhausted");
  assert.equal(r.output, "counting forever...\n");
  assert.equal(r.error, "instruction budget exhausted (10000000 calls and loop iterations)");
  await setLimit("budget", "100000000");
});

test("the memory limit stops a growing table", async () => {
  await page.selectOption("#examples", "memory");
  await page.waitForFunction(() => document.getElementById("filename").textContent === "memory.lua");
  await setLimit("memory", "16777216");
  const r = await runAndRead();
  assert.equal(r.label, "memory limit");
  assert.match(r.error, /^not enough memory \(memory limit of 16777216 bytes exceeded, \d+ in use\)$/);
  assert.match(r.output, /^100000 strings, \d+ KiB\n/);
  await setLimit("memory", "67108864");
});

test("Stop ends an unbounded loop and the page stays responsive", async () => {
  await setLimit("budget", ""); // unlimited: only Stop can end it
  await setCode("print('spinning')\nlocal i = 0\nwhile true do i = i + 1 end\n");
  await page.click("#run");
  await page.waitForSelector('#status[data-state="running"]');
  // Streamed output arrives while the script runs.
  await page.waitForFunction(() => document.getElementById("output").textContent === "spinning\n");
  // The main thread is free: an evaluation round-trips quickly while the worker spins.
  const t0 = Date.now();
  assert.equal(await page.evaluate(() => 6 * 7), 42);
  await page.fill("#code", "print('typed while running')"); // the editor still works
  assert.ok(Date.now() - t0 < 2000, `page blocked for ${Date.now() - t0} ms`);
  await page.waitForTimeout(300);
  assert.equal(await page.getAttribute("#status", "data-state"), "running");
  const r = await runAndRead(() => page.click("#stop"));
  assert.equal(r.status, "stopped");
  assert.equal(r.error, "stopped by the user");
  assert.equal(r.output, "spinning\n");
  // A fresh worker runs the next script.
  const next = await runAndRead();
  assert.equal(next.status, "ok");
  assert.equal(next.output, "typed while running\n");
  await setLimit("budget", "100000000");
});

test("a trap of the wasm module is contained: the worker is replaced", async () => {
  // 1.5 GiB in one string is past what a 32-bit engine can address; today the engine
  // traps on it (an infallible allocation), later it may raise "not enough memory".
  // Either way the page reports it and the next run works.
  await setCode("local s = string.rep('x', 2^29)\nreturn #(s .. s .. s)\n");
  const r = await runAndRead();
  assert.equal(r.status, "error");
  assert.match(r.error, /^(the engine crashed and was restarted: RuntimeError: unreachable .*capacity overflow\)|.*not enough memory.*)$/s);
  await setCode("print('still here')");
  const next = await runAndRead();
  assert.equal(next.status, "ok");
  assert.equal(next.output, "still here\n");
});

test("a runtime error shows its message and highlights its line", async () => {
  await setCode("local t = {}\nprint('before')\n\nlocal n = t.missing + 1\nprint('after')\n");
  // Ctrl+Enter in the editor runs, as the Run button does.
  const r = await runAndRead(async () => {
    await page.focus("#code");
    await page.keyboard.press("Control+Enter");
  });
  assert.equal(r.status, "error");
  assert.equal(r.label, "runtime error");
  assert.equal(r.output, "before\n");
  assert.equal(r.error, "main.lua:4: attempt to perform arithmetic on field 'missing' (a nil value)");
  assert.equal(r.errLine, 4);
  assert.equal(r.gutterErr, "4");
  // The marker sits on line 4 of the editor.
  const box = await page.evaluate(() => {
    const m = document.getElementById("errline").getBoundingClientRect();
    const ta = document.getElementById("code");
    const top = ta.getBoundingClientRect().top + parseFloat(getComputedStyle(ta).paddingTop);
    return { offset: m.top - top, height: m.height, lh: parseFloat(getComputedStyle(ta).lineHeight) };
  });
  assert.equal(Math.round(box.offset), Math.round(3 * box.lh));
  assert.equal(Math.round(box.height), Math.round(box.lh));
  // "go to line" puts the caret there; editing clears the marker.
  await page.click("#error .goto");
  const caret = await page.evaluate(() => {
    const ta = document.getElementById("code");
    return ta.value.slice(0, ta.selectionStart).split("\n").length;
  });
  assert.equal(caret, 4);
  await page.keyboard.type("-- ");
  assert.equal((await readResult()).errLine, null);
});

test("a syntax error shows its line", async () => {
  await setCode("print('a')\nif x then\n  print('b')\nprint('c')\n");
  const r = await runAndRead();
  assert.equal(r.label, "syntax error");
  assert.equal(r.error, "main.lua:5: 'end' expected (to close 'if' at line 2) near '<eof>'");
  assert.equal(r.errLine, 5);
  assert.equal(r.output, "");
});

test("share links carry the code", async () => {
  const code = "-- shared\nprint(('é'):rep(3), #'é')\n";
  await setCode(code);
  await page.click("#share");
  await page.waitForFunction(() => location.hash.startsWith("#code="));
  const link = await page.evaluate(() => location.href);
  const other = await browser.newPage();
  await other.goto(link);
  await other.waitForSelector('#status[data-state="ready"]');
  assert.equal(await other.inputValue("#code"), code);
  await other.click("#run");
  await other.waitForSelector('#status[data-state="ok"]');
  assert.equal(await other.textContent("#output"), "ééé\t2\n");
  await other.close();
});

test("the browser has clocks: os.time and os.clock", async () => {
  await setCode("local t0 = os.clock()\nfor i = 1, 1e6 do end\nreturn os.time() > 1.7e9, os.clock() >= t0, os.date('%Y') + 0 >= 2024");
  const r = await runAndRead();
  assert.equal(r.values, "→ true\ttrue\ttrue");
});

test("highlighting colours Lua tokens", async () => {
  await setCode("local s = [[long\nstring]] -- note\nprint(0x1F, 'q', nil)");
  const spans = await page.evaluate(() => [...document.querySelectorAll("#highlight span")].map((s) => `${s.className}:${s.textContent}`));
  assert.deepEqual(spans, [
    "t-keyword:local", "t-op:=", "t-string:[[long\nstring]]", "t-comment:-- note",
    "t-builtin:print", "t-op:(", "t-number:0x1F", "t-op:,", "t-string:'q'", "t-op:,", "t-constant:nil", "t-op:)",
  ]);
  assert.equal(await page.$$eval("#gutter span", (g) => g.length), 3);
});

test("the layout fits a phone", async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(URL_ + "#example=fib");
  await phone.waitForSelector('#status[data-state="ready"]');
  const widths = await phone.evaluate(() => ({ doc: document.documentElement.scrollWidth, win: innerWidth }));
  assert.ok(widths.doc <= widths.win, `page is ${widths.doc}px wide in a ${widths.win}px window`);
  await phone.tap("#run");
  await phone.waitForSelector('#status[data-state="ok"]');
  assert.equal(await phone.textContent("#output"), expected("fib"));
  await phone.screenshot({ path: path.join(ARTIFACTS, "playground-phone.png"), fullPage: true });
  await phone.close();
});

test("no errors in the page's console", () => {
  assert.deepEqual(pageErrors, []);
});
