//! moonbox in the browser.
//!
//! [`session`] is the run logic (a Lua state with captured output, limits, errors with
//! line numbers), plain Rust and tested natively. The `wasm32` build adds the
//! wasm-bindgen class `Lua` that JavaScript uses (see `www/worker.js`):
//!
//! ```js
//! const lua = new Lua({ memoryLimit: 64 << 20, budget: 1e9, onOutput: s => ... });
//! const r = lua.run("print('hi') return 1 + 1");
//! r.status      // "ok" | "syntax" | "runtime" | "memory" | "budget" | "timeout" | "error"
//! r.output      // "hi\n" (what was not streamed through onOutput)
//! r.values      // ["2"]
//! r.error, r.line, r.traceback, r.usedMemory, r.budgetUsed, r.elapsedMs
//! lua.reset();  // a fresh state with the same options
//! ```

pub mod session;

#[cfg(target_arch = "wasm32")]
mod bindings;
