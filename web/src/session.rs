//! One playground session: a Lua state with captured output and limits, and the run
//! logic the bindings expose. Plain Rust, so it is tested natively.
//!
//! A run never panics and never leaves the state unusable: every outcome, including a
//! budget stop or a memory error, comes back as a [`RunOutcome`].

use std::cell::RefCell;
use std::rc::Rc;

use moonbox::{Error, Function, Interrupt, Lua, MultiValue, Value, Variadic};

/// The name scripts run under; error messages say `main.lua:LINE: ...`.
pub const CHUNK_NAME: &str = "@main.lua";
const SHORT_NAME: &str = "main.lua";

/// Output kept per run; past it the rest is dropped and the run says so.
pub const MAX_OUTPUT: usize = 1 << 20;

/// Host services a session needs from its embedder: clocks and an output sink.
pub trait Host {
    /// Milliseconds since the Unix epoch (for `os.time` and `os.date`).
    fn wall_ms(&self) -> f64;
    /// A monotonic clock in milliseconds (for `os.clock` and run-time checks).
    fn mono_ms(&self) -> f64;
    /// Called with output while a script runs, at most every `flush_interval_ms`
    /// (so a long script shows progress). The default keeps it until the run ends.
    fn flush(&self, _text: &str) {}
    /// With [`Options::jit_verbose`]: the trace JIT's `-jv` lines, as they happen.
    fn jit_text(&self, _text: &str) {}
}

/// Settings of a session.
#[derive(Clone, Debug)]
pub struct Options {
    /// The reduced library set of [`Lua::sandboxed`] (no `io`, a smaller `os`).
    pub sandboxed: bool,
    /// Memory limit in bytes (`None`: unlimited).
    pub memory_limit: Option<usize>,
    /// Budget per run, in the engine's budget checks (one per call and loop
    /// iteration); `None`: unlimited.
    pub budget: Option<u64>,
    /// Wall-clock limit per run in milliseconds; `None`: unlimited.
    pub time_limit_ms: Option<f64>,
    /// Replace `os.time`/`os.clock`/`os.date` with the host's clocks (the browser build
    /// has no clock of its own).
    pub host_clock: bool,
    /// Stream output through [`Host::flush`] at this interval (`None`: only at the end).
    pub flush_interval_ms: Option<f64>,
    /// The trace JIT on (when the state has a backend: see [`Session::install_jit`]).
    pub jit: bool,
    /// Report the JIT's `-jv` lines through [`Host::jit_text`], and each run's traces
    /// in [`RunOutcome::traces`].
    pub jit_verbose: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            sandboxed: false,
            memory_limit: Some(64 << 20),
            budget: Some(2_000_000_000),
            time_limit_ms: None,
            host_clock: false,
            flush_interval_ms: None,
            jit: true,
            jit_verbose: false,
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Ran to the end.
    Ok,
    /// The source did not compile.
    SyntaxError,
    /// A Lua error escaped the chunk.
    RuntimeError,
    /// The memory limit was reached.
    MemoryError,
    /// The budget ran out.
    BudgetExhausted,
    /// The time limit passed.
    Timeout,
    /// Anything else (should not happen; reported rather than hidden).
    Other,
}

impl Status {
    /// The name JavaScript sees.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::SyntaxError => "syntax",
            Status::RuntimeError => "runtime",
            Status::MemoryError => "memory",
            Status::BudgetExhausted => "budget",
            Status::Timeout => "timeout",
            Status::Other => "error",
        }
    }
}

/// The result of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// How it ended.
    pub status: Status,
    /// What `print` and `io.write` wrote (minus what was already flushed).
    pub output: String,
    /// The chunk's return values, as `tostring` shows them.
    pub values: Vec<String>,
    /// The error message, for every status but `Ok`.
    pub error: Option<String>,
    /// The Lua traceback of a runtime error.
    pub traceback: Option<String>,
    /// The line of `main.lua` the error points at, when it names one.
    pub line: Option<u32>,
    /// Bytes in use by the state after the run.
    pub used_memory: usize,
    /// Budget checks the run used (calls and loop iterations), when a budget is set.
    pub budget_used: Option<u64>,
    /// Wall-clock milliseconds of the run.
    pub elapsed_ms: f64,
    /// Output was cut at [`MAX_OUTPUT`] bytes.
    pub truncated: bool,
    /// With [`Options::jit_verbose`]: the traces the state has after the run.
    pub traces: Vec<TraceView>,
}

/// One compiled trace, for the JIT view.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceView {
    pub number: u32,
    /// Where it starts and what it is: `main.lua:3 loop`, `main.lua:5 (1/2) -> 1`.
    pub title: String,
    /// Its IR and snapshots, as `-jdump` prints them.
    pub ir: String,
    /// Its code: a Wasm module in the browser, machine code natively.
    pub code: Option<Vec<u8>>,
}

/// Captured output: bytes until the next flush or the end of the run.
#[derive(Default)]
struct OutBuf {
    pending: Vec<u8>,
    total: usize,
    truncated: bool,
}

/// A Lua state for the playground.
pub struct Session<H: Host + 'static> {
    lua: Lua,
    opts: Options,
    host: Rc<H>,
    out: Rc<RefCell<OutBuf>>,
    /// When the current run must stop (monotonic ms), and when output was last flushed.
    clock: Rc<RefCell<RunClock>>,
}

#[derive(Default)]
struct RunClock {
    deadline: Option<f64>,
    timed_out: bool,
    last_flush: f64,
}

impl<H: Host + 'static> Session<H> {
    /// A fresh state with `opts`.
    pub fn new(host: H, opts: Options) -> Session<H> {
        let host = Rc::new(host);
        let lua = if opts.sandboxed { Lua::sandboxed() } else { Lua::new() };
        lua.set_memory_limit(opts.memory_limit);
        let out: Rc<RefCell<OutBuf>> = Rc::default();
        let clock: Rc<RefCell<RunClock>> = Rc::default();
        let s = Session { lua, opts, host, out, clock };
        s.install_output();
        s.install_interrupt();
        s.install_jit_settings();
        if s.opts.host_clock {
            // Failure here leaves the engine's own (zero) clocks: not worth failing for.
            let _ = s.install_clock();
        }
        s
    }

    /// Installs a trace compiler (the browser's Wasm backend), replacing the one the
    /// state came with.
    pub fn install_jit(&self, backend: Box<dyn moonbox::engine::jit::TraceBackend>) {
        // SAFETY: the closure only installs the backend; it keeps no reference into
        // the state.
        let _ = unsafe { self.lua.with_raw_vm(|vm| vm.jit_install(backend)) };
    }

    fn install_jit_settings(&self) {
        let on = self.opts.jit;
        let sink: Option<moonbox::engine::jit::JitSink> = self.opts.jit_verbose.then(|| {
            let host = self.host.clone();
            Rc::new(move |text: &str| host.jit_text(text)) as moonbox::engine::jit::JitSink
        });
        // SAFETY: the closure only changes settings; the sink it installs holds the
        // host, not the state.
        let _ = unsafe {
            self.lua.with_raw_vm(|vm| {
                vm.jit_settings(|j| {
                    j.on = on;
                    j.verbose = sink.is_some();
                    j.sink = sink;
                })
            })
        };
    }

    /// The state's traces, for the JIT view.
    fn traces(&self) -> Vec<TraceView> {
        // SAFETY: the closure reads the JIT's traces and copies what it needs.
        let r = unsafe {
            self.lua.with_raw_vm(|vm| {
                vm.jit()
                    .traces()
                    .map(|t| {
                        // Named as `-jv` names it: a root trace by its loop's line.
                        let pc = if t.parent.is_some() { t.first_pc } else { t.anchor_pc };
                        let at = format!("{}:{}", moonbox::engine::jit::short_src(&t.proto), t.proto.line_at(pc));
                        let title = match t.parent {
                            Some((p, e)) => format!("{at} ({p}/{e}) -> {}", t.link_to),
                            None => format!("{at} loop"),
                        };
                        let mut ir = String::new();
                        t.ir.dump(&mut ir);
                        TraceView { number: t.number, title, ir, code: t.code.mcode() }
                    })
                    .collect()
            })
        };
        r.unwrap_or_default()
    }

    /// The options this session was made with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Changes the limits for later runs.
    pub fn set_limits(&mut self, memory_limit: Option<usize>, budget: Option<u64>, time_limit_ms: Option<f64>) {
        self.opts.memory_limit = memory_limit;
        self.opts.budget = budget;
        self.opts.time_limit_ms = time_limit_ms;
        self.lua.set_memory_limit(memory_limit);
    }

    /// Bytes the state uses now.
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }

    fn install_output(&self) {
        let out = self.out.clone();
        let host = self.host.clone();
        let clock = self.clock.clone();
        let interval = self.opts.flush_interval_ms;
        let res = self.lua.set_output(move |bytes| {
            let mut o = out.borrow_mut();
            let room = MAX_OUTPUT.saturating_sub(o.total);
            if bytes.len() > room {
                o.truncated = true;
            }
            let take = bytes.len().min(room);
            o.pending.extend_from_slice(&bytes[..take]);
            o.total += take;
            // Big output is flushed at once: the page shows it and the buffer stays small.
            if interval.is_some() && o.pending.len() >= 64 << 10 {
                flush_pending(&mut o, &*host);
                if let Ok(mut c) = clock.try_borrow_mut() {
                    c.last_flush = host.mono_ms();
                }
            }
        });
        debug_assert!(res.is_ok());
    }

    fn install_interrupt(&self) {
        let out = self.out.clone();
        let host = self.host.clone();
        let clock = self.clock.clone();
        let interval = self.opts.flush_interval_ms;
        self.lua.set_interrupt(move || {
            let Ok(mut c) = clock.try_borrow_mut() else { return Interrupt::Continue };
            if c.deadline.is_none() && interval.is_none() {
                return Interrupt::Continue;
            }
            let now = host.mono_ms();
            if let Some(every) = interval {
                if now - c.last_flush >= every {
                    c.last_flush = now;
                    if let Ok(mut o) = out.try_borrow_mut() {
                        flush_pending(&mut o, &*host);
                    }
                }
            }
            if c.deadline.is_some_and(|d| now >= d) {
                c.timed_out = true;
                return Interrupt::Stop;
            }
            Interrupt::Continue
        });
    }

    /// `os.time()`, `os.clock()` and `os.date(fmt)` from the host's clocks; the forms
    /// with arguments go to the engine's functions (calendar arithmetic needs no clock).
    fn install_clock(&self) -> moonbox::Result<()> {
        let Ok(os) = self.lua.globals().get::<moonbox::Table>("os") else { return Ok(()) };
        let host = self.host.clone();
        let start = host.mono_ms();
        let h = host.clone();
        os.set("clock", self.lua.create_function(move |_, ()| Ok((h.mono_ms() - start) / 1000.0))?)?;

        let time: Function = os.get("time")?;
        let h = host.clone();
        let f = self.lua.create_function(move |_, args: Variadic<Value>| {
            if args.is_empty() || args[0].is_nil() {
                return Ok(Value::Number((h.wall_ms() / 1000.0).floor()));
            }
            time.call::<Value>(args)
        })?;
        os.set("time", f)?;

        let date: Function = os.get("date")?;
        let h = host;
        let f = self.lua.create_function(move |_, mut args: Variadic<Value>| {
            if args.len() < 2 || args[1].is_nil() {
                args.resize(2, Value::Nil);
                args[1] = Value::Number((h.wall_ms() / 1000.0).floor());
            }
            date.call::<MultiValue>(args)
        })?;
        os.set("date", f)
    }

    /// Runs `source` as the chunk `main.lua` (an expression's value is returned, as in
    /// the REPL).
    pub fn run(&mut self, source: &str) -> RunOutcome {
        {
            let mut o = self.out.borrow_mut();
            *o = OutBuf::default();
        }
        let start = self.host.mono_ms();
        {
            let mut c = self.clock.borrow_mut();
            c.deadline = self.opts.time_limit_ms.map(|t| start + t);
            c.timed_out = false;
            c.last_flush = start;
        }
        self.lua.set_budget(self.opts.budget);

        let result = self.lua.load(source).set_name(CHUNK_NAME).eval::<MultiValue>();
        let values = match &result {
            Ok(vals) => self.show_values(vals),
            Err(_) => Vec::new(),
        };
        let budget_used = self.opts.budget.map(|b| b - self.lua.remaining_budget().unwrap_or(0).min(b));
        // No budget between runs: the session's own calls must not be stopped.
        self.lua.set_budget(None);
        let elapsed_ms = self.host.mono_ms() - start;
        let timed_out = {
            let mut c = self.clock.borrow_mut();
            c.deadline = None;
            c.timed_out
        };

        let (output, truncated) = {
            let mut o = self.out.borrow_mut();
            let text = String::from_utf8_lossy(&o.pending).into_owned();
            o.pending.clear();
            (text, o.truncated)
        };
        let mut outcome = RunOutcome {
            status: Status::Ok,
            output,
            values,
            error: None,
            traceback: None,
            line: None,
            used_memory: self.lua.used_memory(),
            budget_used,
            elapsed_ms,
            truncated,
            traces: if self.opts.jit_verbose { self.traces() } else { Vec::new() },
        };
        if let Err(e) = result {
            let (status, message, traceback) = describe(e, timed_out, &self.opts);
            outcome.line = error_line(&message).or_else(|| traceback.as_deref().and_then(traceback_line));
            outcome.status = status;
            outcome.error = Some(message);
            outcome.traceback = traceback;
        }
        outcome
    }

    /// The values as `tostring` shows them (a failing `__tostring` shows its error).
    fn show_values(&self, vals: &MultiValue) -> Vec<String> {
        let tostring: Option<Function> = self.lua.globals().get("tostring").ok();
        vals.iter()
            .map(|v| match (v, &tostring) {
                (Value::String(s), _) => s.to_string_lossy(),
                (_, Some(ts)) => match ts.call::<moonbox::LuaString>(v.clone()) {
                    Ok(s) => s.to_string_lossy(),
                    Err(e) => format!("<{}>", e),
                },
                (_, None) => format!("<{}>", v.type_name()),
            })
            .collect()
    }
}

fn flush_pending<H: Host>(o: &mut OutBuf, host: &H) {
    if o.pending.is_empty() {
        return;
    }
    // Cut at a UTF-8 boundary so that a character split across writes is not mangled.
    let cut = match std::str::from_utf8(&o.pending) {
        Ok(_) => o.pending.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => o.pending.len(),
    };
    let rest = o.pending.split_off(cut);
    let text = String::from_utf8_lossy(&o.pending).into_owned();
    o.pending = rest;
    host.flush(&text);
}

/// Status, message and traceback of a failed run.
fn describe(e: Error, timed_out: bool, opts: &Options) -> (Status, String, Option<String>) {
    match e {
        Error::SyntaxError { message, .. } => (Status::SyntaxError, message, None),
        Error::RuntimeError(message) => {
            // The message is followed by the traceback when the error left the outermost call.
            match message.split_once("\nstack traceback:") {
                Some((m, tb)) => (Status::RuntimeError, m.to_string(), Some(format!("stack traceback:{tb}"))),
                None => (Status::RuntimeError, message, None),
            }
        }
        Error::MemoryError(m) => (Status::MemoryError, m, None),
        Error::BudgetExhausted => {
            let n = opts.budget.unwrap_or(0);
            (Status::BudgetExhausted, format!("instruction budget exhausted ({n} calls and loop iterations)"), None)
        }
        Error::Interrupted if timed_out => {
            let t = opts.time_limit_ms.unwrap_or(0.0);
            (Status::Timeout, format!("time limit of {t} ms exceeded"), None)
        }
        Error::CallbackError { traceback, cause } => (Status::RuntimeError, cause.to_string(), Some(traceback)),
        e => (Status::Other, e.to_string(), None),
    }
}

/// The line in `main.lua:LINE: message` (also inside a syntax error's text).
pub fn error_line(message: &str) -> Option<u32> {
    let prefix = format!("{SHORT_NAME}:");
    let i = message.find(&prefix)?;
    let rest = &message[i + prefix.len()..];
    let digits: &str = &rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())];
    if digits.is_empty() || !rest[digits.len()..].starts_with(':') {
        return None;
    }
    digits.parse().ok()
}

/// The first `main.lua:LINE:` frame of a traceback (for errors raised with level 0 or
/// a non-string value).
fn traceback_line(tb: &str) -> Option<u32> {
    tb.lines().find_map(|l| error_line(l.trim_start()))
}

#[cfg(test)]
mod tests;
