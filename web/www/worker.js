// The engine's Web Worker: runs one script at a time, off the page's thread.
//
// page -> worker: {type: "init", module}            a compiled WebAssembly.Module
//                 {type: "run", id, code, options}  options: sandboxed, budget, memoryLimit, jit
// worker -> page: {type: "ready", version, initMs}
//                 {type: "output", id, text}        output while the script runs
//                 {type: "jit", id, text}           the trace JIT's -jv lines as they happen
//                 {type: "done", id, result}        see Lua.run in src/bindings.rs
//                 {type: "fatal", id, error}        the module trapped: replace this worker
//
// Each run gets a fresh Lua state, so runs do not see each other's globals. The page
// stops a script that runs too long by terminating this worker.

import init, { Lua, lastPanic, version } from "./pkg/moonbox_web.js";

let ready = null;

self.onmessage = async (e) => {
  const msg = e.data;
  if (msg.type === "init") {
    const t0 = performance.now();
    ready = init({ module_or_path: msg.module }).then(() => {
      self.postMessage({ type: "ready", version: version(), initMs: performance.now() - t0 });
    });
    ready.catch((err) => self.postMessage({ type: "fatal", id: null, error: String(err) }));
  } else if (msg.type === "run") {
    await ready;
    const { id, code, options } = msg;
    let lua;
    try {
      lua = new Lua({
        sandboxed: !!options.sandboxed,
        budget: options.budget,
        memoryLimit: options.memoryLimit,
        flushIntervalMs: 50,
        jit: options.jit !== false,
        onOutput: (text) => self.postMessage({ type: "output", id, text }),
        onJit: (text) => self.postMessage({ type: "jit", id, text }),
      });
      const result = lua.run(code);
      self.postMessage({ type: "done", id, result });
    } catch (err) {
      // Only a trap of the module gets here (out of wasm memory, a bug). Its memory
      // may be inconsistent now, so the page replaces this worker.
      self.postMessage({ type: "fatal", id, error: String(err), panic: lastPanic() ?? null });
    } finally {
      try {
        lua?.free();
      } catch {
        // The module is unusable after a trap; the worker is about to go.
      }
    }
  }
};
