//! The wasm-bindgen surface: the `Lua` class, its options and results as plain JS
//! objects.
//!
//! Nothing here can panic on input from JavaScript: options are read leniently (a
//! missing or mistyped field takes its default), and every run outcome is a value.
//! A panic elsewhere would trap the instance; the panic hook records its message so
//! that `lastPanic()` can say what happened before the worker is replaced.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect, Uint8Array, WebAssembly};
use moonbox_jit_wasm::{LinkError, TraceLinker, WasmBackend};
use wasm_bindgen::prelude::*;

use crate::session::{Host, Options, RunOutcome, Session};

/// Trace modules linked per state; past it, no more traces (the engine says so).
const MAX_TRACES: u32 = 1000;

/// Links trace modules into this module's own function table: compiled and
/// instantiated synchronously (the engine runs in a Worker), against the engine's
/// memory and table, their `trace` function put into a free slot of the table.
struct PageLinker {
    linked: u32,
    free: Vec<u32>,
}

impl PageLinker {
    fn try_link(&mut self, module: &[u8]) -> Result<u32, JsValue> {
        let bytes = Uint8Array::from(module);
        let module = WebAssembly::Module::new(&bytes.into())?;
        let env = Object::new();
        Reflect::set(&env, &"memory".into(), &wasm_bindgen::memory())?;
        let table: WebAssembly::Table = wasm_bindgen::function_table().dyn_into()?;
        Reflect::set(&env, &"table".into(), &table)?;
        let imports = Object::new();
        Reflect::set(&imports, &"env".into(), &env)?;
        let instance = WebAssembly::Instance::new(&module, &imports)?;
        let f: Function = Reflect::get(&instance.exports(), &"trace".into())?.dyn_into()?;
        let index = match self.free.pop() {
            Some(i) => i,
            None => table.grow(1)?,
        };
        table.set(index, &f)?;
        Ok(index)
    }
}

impl TraceLinker for PageLinker {
    fn link(&mut self, module: &[u8]) -> Result<u32, LinkError> {
        if self.linked >= MAX_TRACES {
            return Err(LinkError::Full);
        }
        let index = self.try_link(module).map_err(|_| LinkError::Refused)?;
        self.linked += 1;
        Ok(index)
    }

    fn release(&mut self, index: u32) {
        // The slot keeps its function until it is reused: nothing calls it (the
        // engine releases a trace only when no other trace links to it).
        self.free.push(index);
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Called once when the module starts: records panic messages.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        LAST_PANIC.with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                *p = Some(msg);
            }
        });
    }));
}

/// The message of the panic that trapped the module, if one did.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.try_borrow().ok().and_then(|p| p.clone()))
}

/// The engine's version string.
#[wasm_bindgen]
pub fn version() -> String {
    format!("moonbox {}", env!("CARGO_PKG_VERSION"))
}

struct BrowserHost {
    on_output: Option<Function>,
    on_jit: Option<Function>,
}

impl Host for BrowserHost {
    fn wall_ms(&self) -> f64 {
        date_now()
    }
    fn mono_ms(&self) -> f64 {
        performance_now()
    }
    fn flush(&self, text: &str) {
        if let Some(f) = &self.on_output {
            // An exception in the callback is the page's problem, not the script's.
            let _ = f.call1(&JsValue::NULL, &JsValue::from_str(text));
        }
    }
    fn jit_text(&self, text: &str) {
        if let Some(f) = &self.on_jit {
            let _ = f.call1(&JsValue::NULL, &JsValue::from_str(text));
        }
    }
}

/// A Lua state for JavaScript.
#[wasm_bindgen]
pub struct Lua {
    session: Session<BrowserHost>,
    on_output: Option<Function>,
    on_jit: Option<Function>,
}

fn get(o: &JsValue, key: &str) -> JsValue {
    if o.is_object() {
        Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// A non-negative number field; `null` means "no limit", absent means `default`.
fn limit(o: &JsValue, key: &str, default: Option<f64>) -> Option<f64> {
    let v = get(o, key);
    if v.is_null() {
        return None;
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Some(n),
        Some(_) => None,
        None => default,
    }
}

fn options(o: &JsValue) -> Options {
    let d = Options::default();
    Options {
        sandboxed: get(o, "sandboxed").as_bool().unwrap_or(false),
        memory_limit: limit(o, "memoryLimit", d.memory_limit.map(|m| m as f64)).map(|m| m as usize),
        budget: limit(o, "budget", d.budget.map(|b| b as f64)).map(|b| b as u64),
        time_limit_ms: limit(o, "timeLimitMs", None),
        host_clock: true,
        flush_interval_ms: limit(o, "flushIntervalMs", Some(100.0)),
        jit: get(o, "jit").as_bool().unwrap_or(true),
        jit_verbose: get(o, "onJit").is_function(),
    }
}

fn set(o: &Object, key: &str, v: impl Into<JsValue>) {
    let _ = Reflect::set(o, &JsValue::from_str(key), &v.into());
}

fn opt_num(v: Option<f64>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_f64)
}

fn to_js(r: RunOutcome) -> JsValue {
    let o = Object::new();
    set(&o, "status", r.status.name());
    set(&o, "ok", r.status == crate::session::Status::Ok);
    set(&o, "output", r.output);
    let values: Array = r.values.into_iter().map(JsValue::from).collect();
    set(&o, "values", values);
    set(&o, "error", r.error.map_or(JsValue::NULL, JsValue::from));
    set(&o, "traceback", r.traceback.map_or(JsValue::NULL, JsValue::from));
    set(&o, "line", opt_num(r.line.map(f64::from)));
    set(&o, "usedMemory", r.used_memory as f64);
    set(&o, "budgetUsed", opt_num(r.budget_used.map(|b| b as f64)));
    set(&o, "elapsedMs", r.elapsed_ms);
    set(&o, "truncated", r.truncated);
    let traces: Array = r
        .traces
        .into_iter()
        .map(|t| {
            let v = Object::new();
            set(&v, "number", t.number);
            set(&v, "title", t.title);
            set(&v, "ir", t.ir);
            let wasm = t.code.and_then(|c| wasmprinter::print_bytes(c).ok());
            set(&v, "wasm", wasm.map_or(JsValue::NULL, JsValue::from));
            JsValue::from(v)
        })
        .collect();
    set(&o, "traces", traces);
    o.into()
}

#[wasm_bindgen]
impl Lua {
    /// `new Lua(options)`: `sandboxed` (bool), `memoryLimit` (bytes), `budget` (calls
    /// and loop iterations per run), `timeLimitMs`, `flushIntervalMs`, `onOutput`
    /// (a function given output while a script runs), `jit` (bool, default true: the
    /// Wasm trace JIT), `onJit` (a function given the JIT's `-jv` lines as they
    /// happen; with it, results carry `traces`: `{number, title, ir, wasm}`). `null`
    /// disables a limit.
    #[wasm_bindgen(constructor)]
    pub fn new(opts: JsValue) -> Lua {
        let on_output = get(&opts, "onOutput").dyn_into::<Function>().ok();
        let on_jit = get(&opts, "onJit").dyn_into::<Function>().ok();
        let host = BrowserHost { on_output: on_output.clone(), on_jit: on_jit.clone() };
        let lua = Lua { session: Session::new(host, options(&opts)), on_output, on_jit };
        lua.install_jit();
        lua
    }

    /// The Wasm trace JIT: traces linked into this module's table.
    fn install_jit(&self) {
        let linker = PageLinker { linked: 0, free: Vec::new() };
        self.session.install_jit(Box::new(WasmBackend::new(Rc::new(RefCell::new(linker)))));
    }

    /// Runs a chunk; returns `{status, ok, output, values, error, line, traceback,
    /// usedMemory, budgetUsed, elapsedMs, truncated}`.
    pub fn run(&mut self, code: &str) -> JsValue {
        to_js(self.session.run(code))
    }

    /// Changes the limits for later runs (`null`: no limit).
    #[wasm_bindgen(js_name = setLimits)]
    pub fn set_limits(&mut self, memory_limit: Option<f64>, budget: Option<f64>, time_limit_ms: Option<f64>) {
        let ok = |v: Option<f64>| v.filter(|n| n.is_finite() && *n >= 0.0);
        self.session.set_limits(ok(memory_limit).map(|m| m as usize), ok(budget).map(|b| b as u64), ok(time_limit_ms));
    }

    /// Bytes the state uses now.
    #[wasm_bindgen(js_name = usedMemory)]
    pub fn used_memory(&self) -> f64 {
        self.session.used_memory() as f64
    }

    /// Replaces the state with a fresh one (same options and output callback).
    pub fn reset(&mut self) {
        let opts = self.session.options().clone();
        let host = BrowserHost { on_output: self.on_output.clone(), on_jit: self.on_jit.clone() };
        self.session = Session::new(host, opts);
        self.install_jit();
    }
}
