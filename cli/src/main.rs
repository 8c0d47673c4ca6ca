//! The `moonbox` command-line interpreter, compatible with `luajit`'s basic use, plus
//! `--sandbox`, `--memory`, `--fuel` and `--timeout` for running untrusted scripts.
//!
//! The state is a facade [`Lua`] (so the sandbox profile and the limits are the ones
//! embedders get); the chunks run on its raw engine `Vm` through `Lua::with_raw_vm`, so
//! that messages and tracebacks are exactly the engine's.
//!
//! On Linux with glibc the program supplies the C `main` itself (`no_main`, see
//! [`main`]): std's entry point would first read `/proc/self/maps` for the main
//! thread's stack guard, set up an alternate signal stack with SIGSEGV/SIGBUS
//! handlers, poll descriptors 0-2 and ignore SIGPIPE. That was 0.1 ms of a 1.2 ms
//! `moonbox -e ''` (bench/README.md, "Startup").
#![cfg_attr(all(target_os = "linux", target_env = "gnu"), no_main)]

mod bcsave;
mod sandbox_cli;

#[cfg(not(target_family = "wasm"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use moonbox::engine::stdlib::base::read_source;
use moonbox::engine::value::Value;
use moonbox::engine::vm::{ErrorKind, LResult, LuaError, Vm};
use moonbox::{Error, Interrupt, Lua, LuaOptions};
use moonbox_units::{parse_count, parse_duration, parse_size};

const USAGE: &str = "usage: {prog} [options]... [script [args]...].
Available options are:
  -e chunk  Execute string 'chunk'.
  -l name   Require library 'name'.
  -b ...    Save or list bytecode (-b input output, -bl input; -b alone for help).
  -j cmd    Perform LuaJIT control command.
  -O[opt]   Control LuaJIT optimizations.
  -i        Enter interactive mode after executing 'script'.
  -v        Show version information.
  -E        Ignore environment variables.
  --sandbox      Run untrusted code in the WebAssembly sandbox (moonbox-sandbox):
                 sandboxed libraries, and unless given otherwise --memory 64M and
                 --timeout 10s; --allow-read DIR / --allow-write DIR grant files.
  --sandbox=native  The same profile and limits in this process, without Wasm.
  --memory SIZE  Limit the Lua heap to SIZE bytes (suffix K, M or G).
  --fuel N       Stop after N budget checks (one per call and loop iteration).
  --timeout T    Stop after T of wall-clock time (500ms, 2s, 1m; plain: seconds).
  --        Stop handling options.
  -         Execute stdin and stop handling options.";

/// `-jstats`: print the JIT's summary at exit.
static JIT_STATS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

const VERSION: &str = concat!(
    "moonbox ",
    env!("CARGO_PKG_VERSION"),
    " -- Copyright (C) 2026 the moonbox authors. A Lua 5.1 / LuaJIT 2.1-dialect engine."
);

/// Exit statuses (README, "The `moonbox` command").
const EXIT_ERROR: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_MEMORY: u8 = 3;
const EXIT_FUEL: u8 = 4;
const EXIT_TIMEOUT: u8 = 5;

/// What `--sandbox` sets unless the flags say otherwise.
const SANDBOX_MEMORY: usize = 64 << 20;
const SANDBOX_TIMEOUT: Duration = Duration::from_secs(10);

fn usage(prog: &str) -> String {
    USAGE.replace("{prog}", prog)
}

/// The Rust stack the interpreter wants. Native code that re-enters Lua (sort
/// comparators, metamethods called from library functions, `load` inside them) and
/// the parser recurse on it, within fixed depth limits (200 levels each, as in
/// LuaJIT); the hostile recursion scripts (tests/hostile/rec_*.lua) all pass in
/// 512 KiB in a release build. 8 MiB leaves room for unoptimised builds.
const MIN_MAIN_STACK: u64 = 8 << 20;

/// Whether the main thread's stack may grow to [`MIN_MAIN_STACK`]: Linux grows it on
/// demand up to the soft `RLIMIT_STACK`.
#[cfg(target_os = "linux")]
fn main_stack_is_roomy() -> bool {
    use nix::sys::resource::{getrlimit, Resource};
    // RLIM_INFINITY is the largest value, so "unlimited" passes too. (`rlim_t` is
    // narrower than u64 on some targets.)
    #[allow(clippy::useless_conversion)]
    getrlimit(Resource::RLIMIT_STACK).is_ok_and(|(soft, _)| u64::from(soft) >= MIN_MAIN_STACK)
}

#[cfg(not(target_os = "linux"))]
fn main_stack_is_roomy() -> bool {
    false
}

/// The C entry point. `std::env::args` works without std's own entry: glibc passes
/// argc and argv to std's `.init_array` hook as well. SIGPIPE keeps its default
/// action, as under `luajit` and `lua`: `moonbox script.lua | head -1` ends quietly.
/// A panic (a bug) ends the process as one escaping std's `main` does, with status 101.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[no_mangle]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    std::panic::catch_unwind(entry).map_or(101, std::ffi::c_int::from)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(entry())
}

/// Runs the command line; the exit status, if it returns at all.
fn entry() -> u8 {
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = sandbox_cli::hand_over(&args) {
        return code;
    }
    // On the main thread when its stack is roomy (the usual 8 MiB), else on a thread
    // with a 256 MiB stack: spawning it costs some 0.2 ms of a 1 ms `-e ''`.
    // Either way the process ends right after the state is closed: tearing down the
    // thread's stack mapping and joining it cost more than the rest of `-e ''`.
    if main_stack_is_roomy() {
        run_and_exit(args)
    }
    let child = std::thread::Builder::new().stack_size(256 << 20).spawn(move || run_and_exit(args));
    // Reached only if the thread could not start or panicked.
    let _ = child.map(|h| h.join());
    eprintln!("moonbox: internal error");
    EXIT_ERROR
}

/// The limit flags, with their text as given (for the messages).
#[derive(Default)]
struct LimitFlags {
    sandbox: bool,
    memory: Option<(usize, String)>,
    fuel: Option<u64>,
    timeout: Option<(Duration, String)>,
}

impl LimitFlags {
    /// Handles `--flag value` / `--flag=value` at `argv[*i]`: `Ok(true)` if it was one.
    fn parse(&mut self, argv: &[String], i: &mut usize, prog: &str) -> Result<bool, String> {
        let a = argv[*i].as_str();
        // `--sandbox` alone hands the command line to the Wasm sandbox host before this
        // parser runs (sandbox_cli.rs); `--sandbox=native` is the same profile and
        // limits in this process.
        if a == "--sandbox" || a == "--sandbox=native" {
            self.sandbox = true;
            return Ok(true);
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (a, None),
        };
        if !matches!(name, "--memory" | "--fuel" | "--timeout") {
            return Ok(false);
        }
        let value = match inline {
            Some(v) => v,
            None => {
                *i += 1;
                argv.get(*i).cloned().ok_or_else(|| format!("{prog}: {name} needs a value"))?
            }
        };
        let bad = |what: &str| format!("{prog}: bad {name} value '{value}' ({what})");
        match name {
            "--memory" => {
                let n = parse_size(&value).ok_or_else(|| bad("expected a size such as 64M, 512K or 1G"))?;
                self.memory = Some((n, value));
            }
            "--fuel" => self.fuel = Some(parse_count(&value).ok_or_else(|| bad("expected a positive count"))?),
            _ => {
                let d = parse_duration(&value).ok_or_else(|| bad("expected a duration such as 500ms, 2s or 1m"))?;
                self.timeout = Some((d, value));
            }
        }
        Ok(true)
    }

    /// `--sandbox` defaults for what was not given.
    fn apply_defaults(&mut self) {
        if self.sandbox {
            self.memory.get_or_insert((SANDBOX_MEMORY, "64M".into()));
            self.timeout.get_or_insert((SANDBOX_TIMEOUT, "10s".into()));
        }
    }
}

struct Cli {
    lua: Lua,
    progname: String,
    limits: LimitFlags,
}

impl Drop for Cli {
    /// Closing the state runs the finalizers of the userdata still alive, as
    /// `lua_close` does at the end of `lua`/`luajit`.
    fn drop(&mut self) {
        let _ = self.raw(|vm| {
            if vm.jit().verbose {
                eprint!("{}", vm.jit().abort_summary(10));
            }
            if JIT_STATS.load(std::sync::atomic::Ordering::Relaxed) {
                eprintln!("{}", vm.jit().summary());
            }
            vm.close()
        });
    }
}

/// Why a chunk failed: the exit status to use.
type Status = u8;

fn run(argv: Vec<String>) -> u8 {
    let progname = argv.first().cloned().unwrap_or_else(|| "moonbox".into());
    let mut limits = LimitFlags::default();
    let mut i = 1;
    let mut interactive = false;
    let mut version = false;
    let mut no_env = false;
    let mut actions: Vec<(char, String)> = Vec::new();
    let mut script: Option<usize> = None;
    while i < argv.len() {
        let a = &argv[i];
        if !a.starts_with('-') {
            script = Some(i);
            break;
        }
        match limits.parse(&argv, &mut i, &progname) {
            Ok(true) => {
                i += 1;
                continue;
            }
            Ok(false) => {}
            Err(msg) => {
                eprintln!("{msg}");
                eprintln!("{}", usage(&progname));
                return EXIT_USAGE;
            }
        }
        match a.as_str() {
            "--" => {
                i += 1;
                if i < argv.len() {
                    script = Some(i);
                }
                break;
            }
            "-" => {
                script = Some(i);
                break;
            }
            "-i" => {
                interactive = true;
                version = true;
            }
            "-v" => version = true,
            "-E" => no_env = true,
            "-e" | "-l" | "-j" => {
                let Some(v) = argv.get(i + 1) else {
                    eprintln!("{}", usage(&progname));
                    return EXIT_USAGE;
                };
                actions.push((a.as_bytes()[1] as char, v.clone()));
                i += 1;
            }
            _ if a.starts_with("-b") => return bcsave::run(&progname, &argv[i..]),
            _ if a.starts_with("-e") => actions.push(('e', a[2..].to_string())),
            _ if a.starts_with("-l") => actions.push(('l', a[2..].to_string())),
            _ if a.starts_with("-j") => actions.push(('j', a[2..].to_string())),
            _ if a.starts_with("-O") => actions.push(('O', a[2..].to_string())),
            _ => {
                eprintln!("{}", usage(&progname));
                return EXIT_USAGE;
            }
        }
        i += 1;
    }
    limits.apply_defaults();
    let mut cli = Cli::new(progname, limits);
    let script_idx = script;
    if let Err(code) = cli.set_arg_table(&argv, script_idx.unwrap_or(argv.len())) {
        return code;
    }
    if version {
        println!("{VERSION}");
    }
    if no_env {
        // -E: LUA_PATH / LUA_CPATH do not apply either (the libraries read them
        // when the state was created).
        if let Err(code) = cli.exec("=(command line)", |vm| {
            moonbox::engine::stdlib::package::ignore_env_paths(vm);
            Ok(())
        }) {
            return code;
        }
    } else if let Err(code) = cli.lua_init() {
        return code;
    }
    for (kind, v) in &actions {
        let r = match kind {
            'e' => cli.do_string(v.as_bytes(), "=(command line)"),
            'l' => cli.require(v),
            'j' => cli.jit_command(v),
            'O' => cli.jit_opt(v),
            _ => Ok(()),
        };
        if let Err(code) = r {
            return code;
        }
    }
    if let Some(si) = script_idx {
        let path = &argv[si];
        let rest: Vec<String> = argv[si + 1..].to_vec();
        let r = if path == "-" { cli.do_file(None, &rest) } else { cli.do_file(Some(path), &rest) };
        if let Err(code) = r {
            return code;
        }
    }
    if interactive || (script_idx.is_none() && actions.is_empty() && !version) {
        if interactive || std::io::stdin().is_terminal() {
            if !interactive {
                println!("{VERSION}");
            }
            repl(&mut cli);
        } else if script_idx.is_none() && actions.is_empty() {
            return match cli.do_file(None, &[]) {
                Ok(()) => 0,
                Err(code) => code,
            };
        }
    }
    flush_stdout();
    0
}

/// Runs the command line and ends the process with its status.
fn run_and_exit(args: Vec<String>) -> ! {
    let code = run(args);
    flush_stdout();
    std::process::exit(i32::from(code))
}

fn flush_stdout() {
    let _ = std::io::stdout().flush();
}

/// The chunk name as messages show it (`@file` → `file`, `=name` → `name`).
fn display_name(chunk: &str) -> &str {
    chunk.strip_prefix('@').or_else(|| chunk.strip_prefix('=')).unwrap_or(chunk)
}

impl Cli {
    fn new(progname: String, limits: LimitFlags) -> Cli {
        let lua = Lua::with_options(LuaOptions {
            sandboxed: limits.sandbox,
            memory_limit: limits.memory.as_ref().map(|m| m.0),
            instruction_limit: limits.fuel,
            ..LuaOptions::default()
        });
        // A debugging aid: collect in tiny steps everywhere and check the collector's
        // invariant after every mark phase (see ARCHITECTURE.md).
        if std::env::var_os("MOONBOX_GC_STRESS").is_some() {
            // SAFETY: the closure only sets a flag.
            let _ = unsafe { lua.with_raw_vm(|vm| vm.set_gc_stress(true)) };
        }
        // Test mode: force the trace JIT's exits (every exit the first time it is
        // reached, or at random), to check that every snapshot resumes exactly.
        if let Ok(mode) = std::env::var("MOONBOX_JIT_EXITS") {
            let force = match mode.as_str() {
                "first" => Some(moonbox::engine::jit::ForceExits::First),
                m => {
                    m.strip_prefix("random:").and_then(|s| s.parse().ok()).map(moonbox::engine::jit::ForceExits::Random)
                }
            };
            if let Some(force) = force {
                // SAFETY: the closure only changes a setting.
                let _ = unsafe { lua.with_raw_vm(|vm| vm.jit_settings(|j| j.force = force)) };
            }
        }
        if let Some((d, text)) = &limits.timeout {
            let deadline = Instant::now() + *d;
            // Checked by the budget hook (about every thousand calls or loop iterations,
            // and while long string matches run).
            lua.set_interrupt(move || if Instant::now() >= deadline { Interrupt::Stop } else { Interrupt::Continue });
            spawn_watchdog(&progname, *d, text);
        }
        Cli { lua, progname, limits }
    }

    /// The state's raw engine, for the command line's own uses (below).
    fn raw<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> moonbox::Result<R> {
        // SAFETY: every use in this file keeps the raw engine's contract: a chunk is
        // loaded and called at once (on the stack while it runs); results and errors
        // are used right after the call that made them (printed, converted to text,
        // or passed as the arguments of the next call, which puts them on the stack);
        // nothing is kept once `f` returns.
        unsafe { self.lua.with_raw_vm(f) }
    }

    /// Runs `body` on the VM as the chunk `chunk`; an error is reported and gives the
    /// exit status.
    fn exec(&self, chunk: &str, body: impl FnOnce(&mut Vm) -> LResult<()>) -> Result<(), Status> {
        let r = self.raw(|vm| match body(vm) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.report(vm, chunk, e)),
        });
        match r {
            Ok(r) => r,
            // A limit hit before the chunk could start.
            Err(e) => Err(self.report_limit(chunk, &e, None)),
        }
    }

    /// Prints an error as the standalone interpreter does: `argv[0]: message` and
    /// the traceback; an error object that is neither a string, a number nor has
    /// `__tostring` gets a fixed text and no traceback. A stop by a limit says which.
    fn report(&self, vm: &mut Vm, chunk: &str, e: LuaError) -> Status {
        flush_stdout();
        if !e.kind().catchable() {
            let tb = e.traceback().map(str::to_owned);
            let err = self.lua.error_from_raw(vm, e);
            return self.report_limit(chunk, &err, tb.as_deref());
        }
        let status = if e.kind() == ErrorKind::Memory { EXIT_MEMORY } else { EXIT_ERROR };
        let v = e.value();
        if v.is_nil() {
            // `error(nil)`: luajit reports nothing, but still fails.
            return status;
        }
        let printable =
            v.is_string() || v.is_number() || !vm.metamethod(v, moonbox::engine::vm::MetaEvent::Tostring).is_nil();
        let mut msg = match vm.error_text(&e) {
            Ok(m) => m,
            // The error object's `__tostring` ran into a limit: that stops the script.
            Err(stop) => return self.report(vm, chunk, stop),
        };
        if e.kind() == ErrorKind::Memory {
            // Say which limit it was (the message itself is LuaJIT's).
            if let Some(m) = &self.limits.memory {
                msg.push_str(&format!(" (--memory {})", m.1));
            }
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}: {}", self.progname, msg);
        if printable {
            if let Some(tb) = e.traceback() {
                let _ = writeln!(err, "{tb}");
            }
        }
        let _ = err.flush();
        status
    }

    /// Reports a stop by a limit (or an error of the facade itself).
    fn report_limit(&self, chunk: &str, e: &Error, traceback: Option<&str>) -> Status {
        flush_stdout();
        let name = display_name(chunk);
        let (status, msg) = match e {
            Error::BudgetExhausted => {
                let fuel = self.limits.fuel.map(|n| format!(" (--fuel {n})")).unwrap_or_default();
                (EXIT_FUEL, format!("{name}: CPU budget exhausted{fuel}"))
            }
            Error::Interrupted if self.limits.timeout.is_some() => {
                let t = self.limits.timeout.as_ref().map(|t| t.1.as_str()).unwrap_or("");
                (EXIT_TIMEOUT, format!("{name}: timeout after {t} (--timeout)"))
            }
            Error::MemoryError(_) => {
                let m = self.limits.memory.as_ref().map(|m| format!(" (--memory {})", m.1)).unwrap_or_default();
                (EXIT_MEMORY, format!("{name}: not enough memory{m}"))
            }
            e => (EXIT_ERROR, format!("{name}: {e}")),
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}: {msg}", self.progname);
        if let Some(tb) = traceback {
            let _ = writeln!(err, "{tb}");
        }
        let _ = err.flush();
        status
    }

    fn set_arg_table(&self, argv: &[String], script: usize) -> Result<(), Status> {
        self.exec("=(command line)", |vm| {
            let t = vm.new_table(argv.len(), 2);
            for (i, a) in argv.iter().enumerate() {
                let idx = i as i64 - script as i64;
                let v = vm.str_value(a.as_bytes());
                vm.raw_set_int(t, idx, v)?;
            }
            let g = vm.globals();
            vm.set_field(g, "arg", t.to_value());
            Ok(())
        })
    }

    /// `-j cmd[=arg]`: LuaJIT's `-jon`, `-joff`, `-jflush`, `-jv`, `-jdump`; and
    /// moonbox's `-jeval` (the reference IR evaluator as the backend: a test mode).
    fn jit_command(&self, cmd: &str) -> Result<(), Status> {
        let name = cmd.split_once('=').map_or(cmd, |(n, _)| n);
        let sandboxed = self.limits.sandbox;
        let r = self.raw(|vm| match name {
            "on" => {
                vm.jit_settings(|j| j.on = true);
                true
            }
            "off" => {
                vm.jit_settings(|j| j.on = false);
                true
            }
            "flush" => {
                vm.jit_flush();
                true
            }
            "v" => {
                vm.jit_settings(|j| j.verbose = true);
                true
            }
            "dump" => {
                let flags = cmd.split_once('=').map_or("", |(_, f)| f);
                let flags = moonbox::engine::jit::DumpFlags::parse(flags.split(',').next().unwrap_or(""));
                vm.jit_settings(|j| {
                    j.dump = true;
                    j.dump_flags = flags;
                });
                true
            }
            "stats" => {
                // Printed when the state closes (moonbox's own, not LuaJIT's).
                JIT_STATS.store(true, std::sync::atomic::Ordering::Relaxed);
                true
            }
            "eval" => {
                // Never in the sandbox profile: its states run no trace code.
                if !sandboxed {
                    vm.jit_install(Box::new(moonbox::engine::jit::eval::Evaluator));
                }
                true
            }
            _ => false,
        });
        match r {
            Ok(true) => Ok(()),
            _ => {
                eprintln!("{}: unknown luaJIT command or jit.* modules not installed", self.progname);
                Err(EXIT_ERROR)
            }
        }
    }

    /// `-O[opt,...]`: what `jit.opt.start` does with each comma-separated option
    /// (`-O` alone is level 3), without running any Lua (so no budget is charged).
    fn jit_opt(&self, opts: &str) -> Result<(), Status> {
        let opts = if opts.is_empty() { "3" } else { opts };
        for o in opts.split(',') {
            let mut ok = false;
            let _ = self.raw(|vm| vm.jit_settings(|j| ok = j.opt(o.as_bytes())));
            if !ok {
                eprintln!("{}: unknown or malformed optimization flag '{o}'", self.progname);
                return Err(EXIT_ERROR);
            }
        }
        Ok(())
    }

    fn do_string(&self, src: &[u8], name: &str) -> Result<(), Status> {
        self.exec(name, |vm| {
            let f = vm.load(src, name.as_bytes(), None)?;
            vm.call_value(f, &[], 0).map(drop)
        })
    }

    fn do_file(&self, path: Option<&str>, args: &[String]) -> Result<(), Status> {
        let src = match read_source(path) {
            Ok(s) => s,
            Err(m) => {
                eprintln!("{}: {m}", self.progname);
                return Err(EXIT_ERROR);
            }
        };
        let name = match path {
            Some(p) => format!("@{p}"),
            None => "=stdin".to_string(),
        };
        let r = self.exec(&name, |vm| {
            let f = vm.load(&src, name.as_bytes(), None)?;
            let argv: Vec<Value> = args.iter().map(|a| vm.str_value(a.as_bytes())).collect();
            vm.call_value(f, &argv, 0).map(drop)
        });
        flush_stdout();
        r
    }

    fn require(&self, name: &str) -> Result<(), Status> {
        self.exec("=(command line)", |vm| {
            let g = vm.globals();
            let req = vm.get_field(g, "require");
            let n = vm.str_value(name.as_bytes());
            let v = vm.call_value(req, &[n], 1)?;
            let val = v.first().copied().unwrap_or(Value::NIL);
            vm.set_field(g, name, val);
            Ok(())
        })
    }

    fn lua_init(&self) -> Result<(), Status> {
        let Ok(init) = std::env::var("LUA_INIT") else { return Ok(()) };
        if let Some(path) = init.strip_prefix('@') {
            self.do_file(Some(path), &[])
        } else {
            self.do_string(init.as_bytes(), "=LUA_INIT")
        }
    }
}

/// The backstop of `--timeout`: the budget hook stops a script at its next check, but
/// native code between checks (one huge allocation, a library call that does not
/// charge the budget) could outlast the deadline. If the script is still running a
/// grace period after the deadline, the process exits with the timeout status, saying
/// that the script was killed rather than stopped.
fn spawn_watchdog(progname: &str, timeout: Duration, text: &str) {
    let grace = (timeout / 2).clamp(Duration::from_secs(1), Duration::from_secs(5));
    let msg = format!("{progname}: timeout after {text} (--timeout): no check point reached, process killed");
    let _ = std::thread::Builder::new().name("moonbox-watchdog".into()).spawn(move || {
        std::thread::sleep(timeout + grace);
        eprintln!("{msg}");
        std::process::exit(i32::from(EXIT_TIMEOUT));
    });
}

/// Reads REPL lines: with line editing and history on a terminal (rustyline).
struct LineReader {
    #[cfg(not(target_family = "wasm"))]
    editor: Option<rustyline::DefaultEditor>,
}

impl LineReader {
    fn new() -> LineReader {
        LineReader {
            #[cfg(not(target_family = "wasm"))]
            editor: if std::io::stdin().is_terminal() { rustyline::DefaultEditor::new().ok() } else { None },
        }
    }

    /// The next line without its newline; `None` at end of input.
    fn read(&mut self, prompt: &str) -> Option<String> {
        #[cfg(not(target_family = "wasm"))]
        if let Some(ed) = self.editor.as_mut() {
            return match ed.readline(prompt) {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = ed.add_history_entry(line.as_str());
                    }
                    Some(line)
                }
                // Ctrl-C abandons the current input, like lua.c; Ctrl-D ends.
                Err(rustyline::error::ReadlineError::Interrupted) => Some(String::new()),
                Err(_) => None,
            };
        }
        print!("{prompt}");
        flush_stdout();
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
        }
    }
}

/// The interactive loop: `=expr` prints values, incomplete statements continue.
fn repl(cli: &mut Cli) {
    let mut reader = LineReader::new();
    let mut buf = String::new();
    loop {
        // `_PROMPT` / `_PROMPT2` override the prompts, as in lua.c.
        let (var, default) = if buf.is_empty() { ("_PROMPT", "> ") } else { ("_PROMPT2", ">> ") };
        let prompt = cli
            .raw(|vm| {
                let g = vm.globals();
                let pv = vm.get_field(g, var);
                (pv.is_string() || pv.is_number()).then(|| String::from_utf8_lossy(&vm.tostring_basic(pv)).into_owned())
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| default.to_string());
        let Some(line) = reader.read(&prompt) else {
            println!();
            return;
        };
        let line = line.as_str();
        if buf.is_empty() {
            if let Some(expr) = line.strip_prefix('=') {
                buf = format!("return {expr}");
            } else {
                buf = line.to_string();
            }
        } else {
            buf.push('\n');
            buf.push_str(line);
        }
        let mut incomplete = false;
        let _ = cli.exec("=stdin", |vm| {
            // Try as an expression first, then as statements.
            let as_expr = format!("return {buf}");
            let f = match vm.load(as_expr.as_bytes(), b"=stdin", None) {
                Ok(f) => f,
                Err(_) => match vm.load(buf.as_bytes(), b"=stdin", None) {
                    Ok(f) => f,
                    Err(e) => {
                        let msg = vm.error_to_string(&e);
                        if e.kind() == ErrorKind::Syntax && msg.ends_with("'<eof>'") {
                            incomplete = true; // read more lines
                            return Ok(());
                        }
                        return Err(e);
                    }
                },
            };
            let vals = vm.call_value(f, &[], -1)?;
            if !vals.is_empty() {
                let g = vm.globals();
                let print = vm.get_field(g, "print");
                vm.call_value(print, &vals, 0)?;
            }
            Ok(())
        });
        if !incomplete {
            buf.clear();
        }
    }
}
