//! The sandbox: one wasmtime `Engine` with the guest compiled and pre-linked, and a
//! fresh `Store` + instance per run.
//!
//! Runs are asynchronous inside (wasmtime-wasi's async WASI, driven on the calling
//! thread by [`Sandbox::run`] or awaited with [`Sandbox::run_async`]), so that the
//! deadline bounds a run whatever the guest waits on. Epoch interruption stops Wasm
//! code, but a WASI call that blocks in the host (reading a FIFO inside a grant,
//! opening one, reading a stdin that never closes) runs no Wasm: there the guest
//! awaits a future (file operations run on tokio's blocking pool, stdin on
//! wasmtime-wasi's reader thread), and a tokio timeout around the whole call drops it
//! at the deadline. The blocked system call itself cannot be cancelled: its thread
//! stays in the blocking pool until the call returns (a writer opens the FIFO, the
//! stdin closes); the run, its instance and its memory are gone at the deadline.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, PoolingAllocationConfig, Store, Trap,
};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use crate::cache::CacheStatus;
use crate::outcome::{Outcome, RunResult};
use crate::pipe::CappedPipe;
use crate::state::{Limiter, TenantState};
use crate::tenant::{GrantError, Stdio, Tenant};

/// The guest: the engine built for `wasm32-wasip1` by `build.rs`.
pub static GUEST_WASM: &[u8] = include_bytes!(env!("MOONBOX_GUEST_WASM"));

/// Host-side failures (not the script's): a grant that cannot be opened, the pool
/// exhausted, the guest failing to compile.
pub type Error = wasmtime::Error;

/// How a [`Sandbox`] is built.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// How many tenants may run at once (the pooling allocator's slots). Runs past
    /// that fail with an error rather than wait.
    pub max_concurrent: u32,
    /// The largest memory cap any tenant may have (the size of a pool slot).
    pub max_memory: usize,
    /// Meter fuel (needed for [`Tenant::fuel`] and `fuel_used`). It costs speed:
    /// on `bench/`, the sandbox takes 1.54x native CPU time with deadlines (epochs)
    /// alone and 1.74x with fuel too (geometric means).
    pub fuel: bool,
    /// The epoch tick: wall-clock deadlines are checked with this precision.
    pub tick: Duration,
    /// The most trace modules any tenant may link in one run (each is an instance
    /// of the pool: it is sized for `max_concurrent × (1 + max_traces)`); a
    /// tenant's [`JitCaps::traces`](crate::JitCaps) is capped by it.
    pub max_traces: u32,
    /// The Wasm stack a run may use on the calling thread.
    pub max_wasm_stack: usize,
    /// Use the pooling allocator (fast instantiation); off, each run maps memory.
    pub pooling: bool,
    /// Where the compiled guest is cached ([`crate::cache`]); `None`: compile every
    /// time. By default the directory the environment names
    /// ([`cache::cache_dir`](crate::cache::cache_dir)). No tenant may be granted a
    /// directory that covers it.
    pub cache_dir: Option<PathBuf>,
}

impl Default for SandboxConfig {
    fn default() -> SandboxConfig {
        SandboxConfig {
            max_concurrent: 64,
            max_memory: 1 << 30,
            fuel: true,
            tick: Duration::from_millis(1),
            max_wasm_stack: 1 << 20,
            max_traces: crate::JitCaps::default().traces,
            pooling: true,
            cache_dir: crate::cache::cache_dir(),
        }
    }
}

/// Runs Lua scripts, each in a fresh, isolated instance of the engine's Wasm build.
///
/// `Sandbox` is `Send + Sync`: share one (in an `Arc`) among the threads that serve
/// tenants. Each [`run`](Sandbox::run) happens on the calling thread, which needs
/// `max_wasm_stack` plus a little of free stack (the main thread's 8 MiB, or a
/// spawned thread's 2 MiB with the default 1 MiB Wasm stack).
pub struct Sandbox {
    engine: Engine,
    pre: InstancePre<TenantState>,
    config: SandboxConfig,
    ticker: Option<Ticker>,
    /// Drives runs and their WASI calls: timers for deadlines, the blocking pool for
    /// file operations.
    runtime: Option<tokio::runtime::Runtime>,
    cache: CacheStatus,
    /// The cache directory while the cache is in use: no grant may cover it.
    protected: Option<crate::cache::ProtectedDir>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Increments the engine's epoch every tick, so that deadlines fire.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Sandbox {
    /// A sandbox with the default configuration.
    pub fn new() -> Result<Sandbox, Error> {
        Sandbox::with_config(SandboxConfig::default())
    }

    /// A sandbox configured by `config`. Compiles the guest (or loads it from the
    /// compilation cache, see [`crate::cache`]).
    pub fn with_config(config: SandboxConfig) -> Result<Sandbox, Error> {
        let mut c = Config::new();
        c.consume_fuel(config.fuel);
        c.epoch_interruption(true);
        c.max_wasm_stack(config.max_wasm_stack);
        // Each run executes on a fiber (async wasmtime), whose stack holds the Wasm
        // stack and the host calls made from it.
        c.async_stack_size(config.max_wasm_stack + (512 << 10));
        if config.pooling {
            let mut pool = PoolingAllocationConfig::default();
            let instances = u64::from(config.max_concurrent) * (1 + u64::from(config.max_traces));
            pool.total_core_instances(u32::try_from(instances).unwrap_or(u32::MAX))
                .total_memories(config.max_concurrent)
                .total_tables(config.max_concurrent)
                .total_stacks(config.max_concurrent)
                .max_memory_size(config.max_memory)
                // Keep the first pages of a slot mapped between tenants: resetting
                // them is cheaper than faulting them in again.
                .linear_memory_keep_resident(2 << 20)
                .table_keep_resident(64 << 10);
            c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        // A debugging aid: `MOONBOX_PERFMAP=1` writes /tmp/perf-<pid>.map, so that
        // `perf report` names the guest's functions.
        if std::env::var_os("MOONBOX_PERFMAP").is_some() {
            c.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&c)?;
        let (module, cache) = crate::cache::load_or_compile(&engine, GUEST_WASM, config.cache_dir.as_deref())?;
        let protected = config.cache_dir.as_deref().and_then(crate::cache::ProtectedDir::new);
        let pre = Self::link(&engine, &module)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("moonbox-io")
            .enable_time()
            .build()?;
        let ticker = Self::start_ticker(&engine, config.tick)?;
        Ok(Sandbox { engine, pre, config, ticker: Some(ticker), runtime: Some(runtime), cache, protected })
    }

    fn link(engine: &Engine, module: &Module) -> Result<InstancePre<TenantState>, Error> {
        let mut linker: Linker<TenantState> = Linker::new(engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |t: &mut TenantState| &mut t.wasi)?;
        crate::imports::add_to_linker(&mut linker)?;
        linker.instantiate_pre(module)
    }

    fn start_ticker(engine: &Engine, tick: Duration) -> Result<Ticker, Error> {
        let stop = Arc::new(AtomicBool::new(false));
        let (e, s) = (engine.clone(), stop.clone());
        let thread = std::thread::Builder::new().name("moonbox-epoch".into()).spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::thread::park_timeout(tick);
                e.increment_epoch();
            }
        })?;
        Ok(Ticker { stop, thread: Some(thread) })
    }

    /// The wasmtime engine (for hosts that add their own modules to it).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Whether the guest came from the compilation cache.
    pub fn cache_status(&self) -> &CacheStatus {
        &self.cache
    }

    /// Checks `tenant`'s directory grants against what the host keeps from tenants:
    /// no grant may cover the compilation cache (see [`crate::cache`]).
    pub fn check_grants(&self, tenant: &Tenant) -> Result<(), GrantError> {
        let Some(cache) = &self.protected else { return Ok(()) };
        // A directory that does not exist is not refused here: opening it fails with
        // its own, truer message.
        let exists = |g: &&crate::tenant::DirGrant| std::fs::metadata(&g.host).is_ok();
        match tenant.dirs.iter().filter(exists).find(|g| cache.covered_by(&g.host)) {
            Some(g) => Err(GrantError::Reserved { path: g.host.clone(), reserved: cache.path().to_path_buf() }),
            None => Ok(()),
        }
    }

    /// Runs `script` with `args` (the script's `...` and `arg[1..]`) as `tenant`,
    /// in a fresh instance, on the calling thread. `Err` only for host-side
    /// failures (a refused grant among them); whatever the script does ends in an
    /// [`Outcome`]. Not from inside an async runtime: use [`Sandbox::run_async`].
    pub fn run(&self, tenant: &Tenant, script: &Script, args: &[&str]) -> Result<RunResult, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(wasmtime::format_err!("Sandbox::run called inside an async runtime: use run_async"));
        }
        let rt = self.runtime.as_ref().expect("the runtime lives as long as the sandbox");
        rt.block_on(self.run_async(tenant, script, args))
    }

    /// [`Sandbox::run`] as a future, for hosts that are async themselves. It must be
    /// polled inside a tokio runtime with timers enabled (WASI's file operations use
    /// its blocking pool).
    pub async fn run_async(&self, tenant: &Tenant, script: &Script, args: &[&str]) -> Result<RunResult, Error> {
        let t0 = Instant::now();
        self.check_grants(tenant)?;
        let memory_cap = tenant.hard_memory_cap().min(self.config.max_memory);

        // WASI: the arguments, the grants, the output pipes; nothing else.
        let mut argv: Vec<String> = vec!["moonbox".into()];
        if let Some(cwd) = &tenant.cwd {
            argv.extend(["--cwd".into(), cwd.clone()]);
        }
        argv.extend(["--memory".into(), tenant.lua_memory_limit().to_string()]);
        argv.extend(tenant.jit_flags.iter().cloned());
        for g in &tenant.dirs {
            argv.extend([if g.writable { "--grant-write" } else { "--grant-read" }.into(), g.guest.clone()]);
        }
        let mut main_chunk = None;
        match script {
            Script::File(path) => argv.extend(["--".into(), path.clone()]),
            Script::Eval(code) => argv.extend(["-e".into(), code.clone()]),
            Script::Source { name, code } => {
                argv.extend(["--host-script".into(), name.clone()]);
                main_chunk = Some(code.clone());
            }
        }
        argv.extend(args.iter().map(|a| a.to_string()));
        let mut b = WasiCtxBuilder::new();
        // File operations go to tokio's blocking pool (never block this thread), so
        // that the deadline below can abandon one that never returns.
        b.args(&argv).allow_blocking_current_thread(false);
        let pipes = match tenant.stdio {
            Stdio::Capture(cap) => {
                let (out, err) = (CappedPipe::new(cap), CappedPipe::new(cap));
                b.stdout(out.clone()).stderr(err.clone());
                Some((out, err))
            }
            Stdio::Inherit => {
                b.inherit_stdio();
                None
            }
        };
        for g in &tenant.dirs {
            let perms = if g.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            b.preopened_dir(&g.host, &g.guest, perms)?;
        }
        let wasi: WasiP1Ctx = b.build_p1();

        let state = TenantState {
            wasi,
            limiter: Limiter::new(memory_cap),
            functions: tenant.functions.clone(),
            max_call_bytes: tenant.max_call_bytes,
            pending: Vec::new(),
            lua_error: None,
            script: main_chunk,
            jit: crate::jit::JitLinks {
                caps: crate::JitCaps { traces: tenant.jit_caps.traces.min(self.config.max_traces), ..tenant.jit_caps },
                enabled: tenant.jit,
                ..Default::default()
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.data_mut().limiter.instances = 1 + store.data().jit.caps.traces as usize;
        store.limiter(|s| &mut s.limiter);
        let fuel = tenant.fuel.unwrap_or(u64::MAX);
        if self.config.fuel {
            store.set_fuel(fuel)?;
        }
        let ticks = match tenant.timeout {
            Some(d) => (d.as_nanos() / self.config.tick.as_nanos().max(1)) as u64 + 1,
            None => u64::MAX / 4,
        };
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();

        let instance = self.pre.instantiate_async(&mut store).await?;
        let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        let start_time = t0.elapsed();
        let r = match tenant.timeout {
            // The epoch deadline stops Wasm code; this one stops a run blocked in a
            // host call (it fires only while the guest awaits one).
            Some(d) => match tokio::time::timeout_at((t0 + d).into(), start.call_async(&mut store, ())).await {
                Ok(r) => r,
                Err(_) => Err(wasmtime::Error::from(Trap::Interrupt)),
            },
            None => start.call_async(&mut store, ()).await,
        };

        let fuel_used = if self.config.fuel { fuel - store.get_fuel().unwrap_or(0) } else { 0 };
        let state = store.into_data();
        let (stdout, stderr, output_full) = match pipes {
            Some((out, err)) => (out.contents(), err.contents(), out.overflowed() || err.overflowed()),
            None => (Vec::new(), Vec::new(), false),
        };
        let lua_error = state.lua_error.map(|m| String::from_utf8_lossy(&m).into_owned());
        let (outcome, exit_code) = classify(r, lua_error, state.limiter.denied, output_full);
        Ok(RunResult {
            outcome,
            exit_code,
            stdout,
            stderr,
            fuel_used,
            peak_memory: state.limiter.peak,
            wall_time: t0.elapsed(),
            start_time,
            jit_link_times: state.jit.link_times,
            jit_refused: state.jit.refused,
        })
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.ticker.take();
        // Do not wait for blocking-pool threads: one may be stuck for good in a
        // system call a timed-out run made (see the module documentation).
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The script a run executes.
#[derive(Debug, Clone)]
pub enum Script {
    /// A file inside the tenant's grants, by its path inside the sandbox.
    File(String),
    /// A chunk given on the command line (`-e`): named `=(command line)`.
    Eval(String),
    /// Source (or any bytes) handed over by the host; `name` is what `arg[0]` and
    /// error messages call it.
    Source {
        /// The chunk's name, like a script path (`main.lua`).
        name: String,
        /// The source text.
        code: Arc<[u8]>,
    },
}

impl Script {
    /// Source text named `name`.
    pub fn source(name: impl Into<String>, code: impl AsRef<[u8]>) -> Script {
        Script::Source { name: name.into(), code: Arc::from(code.as_ref()) }
    }

    /// A file inside the tenant's grants.
    pub fn file(path: impl Into<String>) -> Script {
        Script::File(path.into())
    }
}

/// The guest's exit status for a run its memory limit ended.
pub(crate) const GUEST_EXIT_MEMORY: i32 = 3;

/// Turns the end of `_start` into an outcome and an exit status.
fn classify(
    r: Result<(), wasmtime::Error>,
    lua_error: Option<String>,
    memory_denied: bool,
    output_full: bool,
) -> (Outcome, i32) {
    let e = match r {
        Ok(()) => return (Outcome::Ok, 0),
        Err(e) => e,
    };
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        let code = exit.0;
        if code == 0 {
            return (Outcome::Ok, 0);
        }
        let message = lua_error.unwrap_or_else(|| format!("exit status {code}"));
        // The guest exits with 3 when the engine's memory limit stopped the script
        // (a script's own error("not enough memory") exits with 1).
        let oom = code == GUEST_EXIT_MEMORY;
        return (if oom { Outcome::MemoryLimit } else { Outcome::LuaError { message } }, code);
    }
    let outcome = match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Outcome::OutOfFuel,
        Some(Trap::Interrupt) => Outcome::Timeout,
        _ if output_full => Outcome::OutputLimit,
        // An allocation failure the guest could not turn into a Lua error aborts it.
        _ if memory_denied => Outcome::MemoryLimit,
        _ => Outcome::Trap { message: format!("{e:#}") },
    };
    (outcome, -1)
}
