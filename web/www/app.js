// The playground page: examples, the engine worker, run/stop, output, share links.

import { Editor } from "./editor.js";

const EXAMPLES = [
  ["hello", "Hello, moonbox"],
  ["fib", "Fibonacci"],
  ["nbody", "N-body simulation"],
  ["json", "JSON encode/decode"],
  ["patterns", "String patterns"],
  ["coroutines", "Coroutines"],
  ["oop", "OOP with metatables"],
  ["limits", "Sandbox: budget stops a loop"],
  ["memory", "Sandbox: memory limit"],
];

const $ = (id) => document.getElementById(id);

// ----- The engine: a worker that can always be stopped ----------------------------------

class Engine {
  constructor({ onOutput, onJit, onState }) {
    this.onOutput = onOutput;
    this.onJit = onJit;
    this.onState = onState;
    this.module = this.compile();
    this.pending = null; // {id, resolve}
    this.nextId = 1;
    this.version = null;
    this.spawn();
  }

  // Compiles the .wasm once; every worker gets the compiled module.
  async compile() {
    const url = new URL("pkg/moonbox_web_bg.wasm", import.meta.url);
    try {
      return await WebAssembly.compileStreaming(fetch(url));
    } catch {
      // A server without the application/wasm MIME type: compile from bytes.
      const bytes = await (await fetch(url)).arrayBuffer();
      return WebAssembly.compile(bytes);
    }
  }

  spawn() {
    this.worker = new Worker(new URL("worker.js", import.meta.url), { type: "module" });
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (e) => this.message(e.data, resolve, reject);
      this.worker.onerror = (e) => reject(new Error(e.message || "the worker failed to start"));
    });
    this.module.then((module) => this.worker.postMessage({ type: "init", module }));
    this.ready.catch((err) => this.onState("fatal", String(err)));
  }

  message(msg, resolve, reject) {
    if (msg.type === "ready") {
      this.version = msg.version;
      resolve(msg);
    } else if (msg.type === "output") {
      if (this.pending && this.pending.id === msg.id) this.onOutput(msg.text);
    } else if (msg.type === "jit") {
      if (this.pending && this.pending.id === msg.id) this.onJit(msg.text);
    } else if (msg.type === "done") {
      this.finish(msg.id, msg.result);
    } else if (msg.type === "fatal") {
      const detail = msg.panic ? `${msg.error} (${msg.panic})` : msg.error;
      if (msg.id === null) reject(new Error(detail));
      this.finish(msg.id, failed("error", `the engine crashed and was restarted: ${detail}`));
      this.restart();
    }
  }

  finish(id, result) {
    if (this.pending && this.pending.id === id) {
      const { resolve } = this.pending;
      this.pending = null;
      resolve(result);
    }
  }

  // Runs code; resolves with the run's result (never rejects for script errors).
  async run(code, options) {
    if (this.pending) this.stop();
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending = { id, resolve };
      this.worker.postMessage({ type: "run", id, code, options });
    });
  }

  get running() {
    return this.pending !== null;
  }

  restart() {
    this.worker.terminate();
    this.spawn();
  }

  // Terminates the worker (whatever it is doing) and starts a fresh one.
  stop() {
    const p = this.pending;
    this.pending = null;
    this.restart();
    if (p) p.resolve(failed("stopped", "stopped by the user"));
  }
}

function failed(status, error) {
  return { status, ok: false, output: "", values: [], error, line: null, traceback: null, usedMemory: null, budgetUsed: null, elapsedMs: null };
}

// ----- Formatting --------------------------------------------------------------------

function fmtTime(ms) {
  if (ms == null) return "–";
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function fmtBytes(b) {
  if (b == null) return "–";
  if (b < 1024) return `${b} B`;
  if (b < 1 << 20) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / (1 << 20)).toFixed(1)} MiB`;
}

function fmtCount(n) {
  if (n == null) return "–";
  if (n < 1e3) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

// ----- Share links: the code, deflated, in the URL hash --------------------------------

function b64url(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

async function encodeCode(code) {
  const raw = new TextEncoder().encode(code);
  if (typeof CompressionStream === "function") return "code=" + b64url(await pipe(raw, new CompressionStream("deflate-raw")));
  return "src=" + b64url(raw);
}

async function decodeHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  if (params.has("code")) return new TextDecoder().decode(await pipe(unb64url(params.get("code")), new DecompressionStream("deflate-raw")));
  if (params.has("src")) return new TextDecoder().decode(unb64url(params.get("src")));
  if (params.has("example")) return { example: params.get("example") };
  return null;
}

// ----- The page ------------------------------------------------------------------------

const ui = {
  status: $("status"),
  output: $("output"),
  values: $("values"),
  error: $("error"),
  run: $("run"),
  stop: $("stop"),
  examples: $("examples"),
};

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

const editor = new Editor({
  textarea: $("code"),
  pre: $("highlight"),
  gutter: $("gutter"),
  errline: $("errline"),
  onRun: () => run(),
});

let outputLen = 0;
function appendOutput(text) {
  // Keep the page light: past 1 MB show only the end.
  outputLen += text.length;
  ui.output.append(text);
  if (outputLen > 1 << 20) {
    ui.output.textContent = ui.output.textContent.slice(-(1 << 19));
    outputLen = ui.output.textContent.length;
  }
  const box = $("output-box");
  box.scrollTop = box.scrollHeight;
}

// ----- The JIT view: -jv lines as the program runs, then each trace's IR and Wasm ----------

const jit = { log: $("jit-log"), pick: $("jit-trace"), ir: $("jit-ir"), wasm: $("jit-wasm"), traces: [] };

function jitReset() {
  jit.log.textContent = "";
  jit.traces = [];
  jit.pick.replaceChildren();
  jit.ir.textContent = "";
  jit.wasm.textContent = "";
  $("jit-summary").textContent = "· running…";
}

function jitShow(traces) {
  jit.traces = traces || [];
  jit.pick.replaceChildren(...jit.traces.map((t, i) => new Option(`TRACE ${t.number}: ${t.title}`, String(i))));
  const n = jit.traces.length;
  $("jit-summary").textContent = n ? `· ${n} trace${n === 1 ? "" : "s"}` : "· no traces";
  jitPick();
}

function jitPick() {
  const t = jit.traces[Number(jit.pick.value)];
  jit.ir.textContent = t ? t.ir : "";
  jit.wasm.textContent = t ? t.wasm || "" : "";
}
jit.pick.addEventListener("change", jitPick);

const engine = new Engine({
  onOutput: appendOutput,
  onJit: (text) => jit.log.append(text),
  onState: (state, msg) => setStatus("error", `engine failed to load: ${msg}`),
});

function options() {
  const num = (id) => ($(id).value === "" ? null : Number($(id).value));
  return { budget: num("budget"), memoryLimit: num("memory"), sandboxed: $("sandboxed").checked, jit: $("jit").checked };
}

async function run() {
  const code = editor.value;
  ui.output.textContent = "";
  outputLen = 0;
  ui.values.hidden = true;
  ui.error.hidden = true;
  jitReset();
  editor.markError(null);
  ui.run.disabled = true;
  ui.stop.disabled = false;
  setStatus("running", "running…");
  const t0 = performance.now();
  const r = await engine.run(code, options());
  show(r, performance.now() - t0);
}

function show(r, totalMs) {
  ui.run.disabled = false;
  ui.stop.disabled = true;
  if (r.output) appendOutput(r.output);
  jitShow(r.traces);
  if (r.truncated) appendOutput("\n[output truncated]\n");
  if (r.values && r.values.length) {
    ui.values.textContent = "→ " + r.values.join("\t");
    ui.values.hidden = false;
  }
  const labels = {
    ok: "done",
    syntax: "syntax error",
    runtime: "runtime error",
    memory: "memory limit",
    budget: "budget exhausted",
    timeout: "time limit",
    stopped: "stopped",
    error: "error",
  };
  setStatus(r.ok ? "ok" : r.status === "stopped" ? "stopped" : "error", labels[r.status] || r.status);
  if (!r.ok) {
    ui.error.replaceChildren();
    const msg = document.createElement("div");
    msg.className = "message";
    msg.textContent = r.error;
    ui.error.append(msg);
    if (r.line) {
      const go = document.createElement("button");
      go.className = "goto";
      go.textContent = `go to line ${r.line}`;
      go.onclick = () => editor.goTo(r.line);
      ui.error.append(go);
      editor.markError(r.line);
    }
    if (r.traceback) {
      const tb = document.createElement("details");
      tb.innerHTML = "<summary>traceback</summary>";
      const pre = document.createElement("pre");
      pre.textContent = r.traceback;
      tb.append(pre);
      ui.error.append(tb);
    }
    ui.error.hidden = false;
  }
  $("stat-time").textContent = fmtTime(r.elapsedMs ?? totalMs);
  $("stat-mem").textContent = fmtBytes(r.usedMemory);
  $("stat-budget").textContent = fmtCount(r.budgetUsed);
  document.body.dataset.runs = String(Number(document.body.dataset.runs || 0) + 1);
}

async function loadExample(id) {
  const res = await fetch(new URL(`examples/${id}.lua`, import.meta.url));
  if (!res.ok) throw new Error(`no example ${id}`);
  editor.value = await res.text();
  ui.examples.value = id;
  $("filename").textContent = `${id}.lua`;
}

for (const [id, title] of EXAMPLES) ui.examples.add(new Option(title, id));
ui.examples.addEventListener("change", async () => {
  await loadExample(ui.examples.value);
  history.replaceState(null, "", `#example=${ui.examples.value}`);
});
ui.run.addEventListener("click", () => run());
ui.stop.addEventListener("click", () => engine.stop());
$("share").addEventListener("click", async () => {
  const hash = await encodeCode(editor.value);
  history.replaceState(null, "", "#" + hash);
  const link = location.href;
  try {
    await navigator.clipboard.writeText(link);
    flash($("share"), "Link copied");
  } catch {
    flash($("share"), "Link in the address bar");
  }
});

function flash(btn, text) {
  const old = btn.textContent;
  btn.textContent = text;
  setTimeout(() => (btn.textContent = old), 1500);
}

async function loadFromHash() {
  let got = null;
  try {
    got = await decodeHash(location.hash);
  } catch {
    setStatus("error", "could not read the code in the link");
  }
  if (typeof got === "string") {
    editor.value = got;
    ui.examples.value = "";
    $("filename").textContent = "main.lua";
  } else {
    await loadExample(got && EXAMPLES.some(([id]) => id === got.example) ? got.example : "hello");
  }
}

window.addEventListener("hashchange", loadFromHash);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && engine.running) engine.stop();
});

const loaded = loadFromHash();
const ready = engine.ready.then((m) => {
  $("version").textContent = `${m.version}`;
  if (!engine.running) setStatus("ready", "ready");
  performance.mark("engine-ready");
  return m;
});

// For the browser tests and the console.
window.playground = { editor, engine, run, ready: Promise.all([loaded, ready]), loadExample, encodeCode, decodeHash };
