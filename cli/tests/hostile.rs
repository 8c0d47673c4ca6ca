//! The hostile-script suite: `tests/hostile/*.lua`, scripts that try to hurt the host
//! (memory bombs, endless loops, deep recursion, catastrophic patterns, sandbox
//! escapes). Each script starts with its expected outcome and the `moonbox` flags:
//!
//! ```lua
//! -- What the script does.
//! -- expect: memory | fuel | timeout | ok | error: <substring of the message>
//! -- flags: --sandbox --memory 32M
//! ```
//!
//! Optional headers set a script's stage: `-- setup: fifo PATH` makes a FIFO there
//! (relative to the repository root) before the run; `-- stdin: open` hands the
//! script over on a stdin (`moonbox ... -`) that is never closed.
//!
//! Every script is run three times:
//!
//! 1. by the `moonbox` binary as a child process, once per sandbox: `--sandbox=native`
//!    (the profile and limits in the process itself) and `--sandbox` (the Wasm
//!    sandbox: `moonbox` hands over to `moonbox-sandbox`, built beside it). Exit
//!    status and message must say the expected outcome, the child must end within
//!    [`MAX_WALL`] and its peak RSS (`VmHWM` from `/proc`, measured from outside the
//!    process) must stay under [`rss_bound`];
//! 2. in this process, through the facade `Lua` with the same limits: the outcome must
//!    match, and then the same state must still run a normal chunk correctly.
//!
//! Scripts that a mode cannot yet handle as expected are listed in [`KNOWN_GAPS`] with
//! the mode and the reason; they are run (so the table shows their numbers) but their
//! failures are reported, not fatal, and a script with a native gap is skipped in
//! process (a memory bomb there would hit the test process itself). When the gap is
//! closed, a known gap that passes is reported too: remove it from the list.
//!
//! `cargo test --release --test hostile -- --nocapture` prints a table of outcome, time
//! to stop and peak RSS per script and mode.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use moonbox::{Error, Interrupt, Lua, LuaOptions};

/// The tests of this file run one at a time, so that their times and peak RSS are not
/// disturbed by each other (and the in-process memory use stays bounded).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const MOONBOX: &str = env!("CARGO_BIN_EXE_moonbox");

/// A script must be stopped within this wall time.
const MAX_WALL: Duration = Duration::from_secs(15);
/// A child still running after this is killed (and fails).
const KILL_AFTER: Duration = Duration::from_secs(30);

/// The two sandboxes a script runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// `--sandbox=native`: the sandboxed profile and the limits in the `moonbox` process.
    Native,
    /// `--sandbox`: the engine's Wasm build under wasmtime (`moonbox-sandbox`).
    Wasm,
}

impl Mode {
    const ALL: [Mode; 2] = [Mode::Native, Mode::Wasm];

    fn flag(self) -> &'static str {
        match self {
            Mode::Native => "--sandbox=native",
            Mode::Wasm => "--sandbox",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Native => "native",
            Mode::Wasm => "wasm",
        }
    }
}

/// Scripts whose expected outcome a mode does not reach yet, with the reason.
const KNOWN_GAPS: &[(&str, Mode, &str)] = &[
    (
        "block_fifo",
        Mode::Native,
        "the native CLI has no --allow-read (cli/src/main.rs: a usage error); and with a grant (Capabilities), the \
         engine opens files with a blocking open(2) on the interpreter's thread (engine/src/stdlib/fs.rs), so no \
         check point runs while a FIFO waits for a writer",
    ),
    (
        "block_stdin",
        Mode::Native,
        "the native CLI reads the script from stdin on the interpreter's thread (cli/src/main.rs), where no check \
         point runs: only the watchdog ends the process (status 5, 'process killed'), a grace period late",
    ),
];

fn known_gap(name: &str, mode: Mode) -> Option<&'static str> {
    KNOWN_GAPS.iter().find(|(n, m, _)| *n == name && *m == mode).map(|(_, _, why)| *why)
}

/// Scripts whose one bulk builtin may hold its input and a copy at once when the Wasm
/// sandbox's limit stops it (the issue's "bulk builtin caught mid-copy"): they get the
/// wider bound, 2 × the limit + 64 MiB.
const WASM_BULK: &[&str] = &[];

/// The peak RSS a script may reach in `mode`, with its memory limit M (`--memory`, or
/// the sandbox's default 64 MiB). The Wasm sandbox: 1.5 × M + 32 MiB, the whole
/// process (wasmtime, the compiled guest, the instance's linear memory; 2 × M + 64 MiB
/// for [`WASM_BULK`]). Natively: 4 × M + 64 MiB for the binary and the allocator's
/// slack (what the engine's own accounting achieves today).
fn rss_bound(name: &str, flags: &[String], mode: Mode) -> u64 {
    let limit = flag_value(flags, "--memory").map(|v| parse_size(&v)).unwrap_or(64 << 20);
    match mode {
        Mode::Wasm if WASM_BULK.contains(&name) => 2 * limit + (64 << 20),
        Mode::Wasm => limit + limit / 2 + (32 << 20),
        Mode::Native => 4 * limit + (64 << 20),
    }
}

/// The `moonbox-sandbox` binary that `moonbox --sandbox` hands over to: beside
/// `moonbox`, as `cargo build --workspace` and `cargo test --workspace` leave it. A
/// missing or stale one fails the test (the Wasm half of the suite must run).
fn sandbox_binary() -> PathBuf {
    let native = Path::new(MOONBOX);
    let exe = native.with_file_name(format!("moonbox-sandbox{}", std::env::consts::EXE_SUFFIX));
    let how = "build it with `cargo build --release -p moonbox-host-wasi` (or run `cargo test --workspace --release`)";
    let built = std::fs::metadata(&exe)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{} is missing ({e}): {how}", exe.display()));
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    for dir in ["engine/src", "host-wasi/src", "host-wasi/guest/src"] {
        if let Some(newer) = newest_file(&root.join(dir)).filter(|(t, _)| *t > built) {
            panic!("{} is older than {}: {how}", exe.display(), newer.1.display());
        }
    }
    exe
}

fn newest_file(dir: &Path) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let cand = if p.is_dir() { newest_file(&p) } else { e.metadata().ok()?.modified().ok().map(|t| (t, p)) };
        if let Some(c) = cand {
            if newest.as_ref().is_none_or(|n| c.0 > n.0) {
                newest = Some(c);
            }
        }
    }
    newest
}

#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Ok,
    Memory,
    Fuel,
    Timeout,
    Error(String),
}

struct Script {
    name: String,
    path: PathBuf,
    expect: Expect,
    flags: Vec<String>,
    /// `-- setup: fifo PATH`: a FIFO to make before the run.
    fifo: Option<PathBuf>,
    /// `-- stdin: open`: the script comes on a stdin that is never closed.
    stdin_open: bool,
}

fn scripts() -> Vec<Script> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("tests/hostile");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/hostile exists") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("lua") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let header = |key: &str| text.lines().find_map(|l| l.strip_prefix(key)).map(str::trim).map(str::to_owned);
        let expect = match header("-- expect:").unwrap_or_else(|| panic!("{name}: no '-- expect:' line")).as_str() {
            "ok" => Expect::Ok,
            "memory" => Expect::Memory,
            "fuel" => Expect::Fuel,
            "timeout" => Expect::Timeout,
            e => match e.strip_prefix("error:") {
                Some(m) => Expect::Error(m.trim().to_string()),
                None => panic!("{name}: unknown expectation '{e}'"),
            },
        };
        let flags = header("-- flags:").unwrap_or_default().split_whitespace().map(str::to_owned).collect();
        let fifo = header("-- setup:").map(|s| match s.strip_prefix("fifo ") {
            Some(p) => Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(p.trim()),
            None => panic!("{name}: unknown setup '{s}'"),
        });
        let stdin_open = match header("-- stdin:").as_deref() {
            None => false,
            Some("open") => true,
            Some(other) => panic!("{name}: unknown stdin '{other}'"),
        };
        out.push(Script { name, path, expect, flags, fifo, stdin_open });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn flag_value(flags: &[String], name: &str) -> Option<String> {
    flags.iter().position(|f| f == name).and_then(|i| flags.get(i + 1)).cloned()
}

fn parse_size(s: &str) -> u64 {
    let (n, m) = match s.as_bytes().last() {
        Some(b'K') => (&s[..s.len() - 1], 1 << 10),
        Some(b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    n.parse::<u64>().expect("a size") * m
}

fn parse_duration(s: &str) -> Duration {
    if let Some(ms) = s.strip_suffix("ms") {
        Duration::from_millis(ms.parse().unwrap())
    } else {
        Duration::from_secs_f64(s.trim_end_matches('s').parse().unwrap())
    }
}

// ----- The child-process run -----------------------------------------------------------

struct ChildRun {
    code: Option<i32>,
    signal: Option<i32>,
    stderr: String,
    wall: Duration,
    max_rss: u64,
}

/// Makes the FIFO a script's `-- setup:` asks for (a FIFO cannot be committed).
fn setup(script: &Script) {
    if let Some(fifo) = &script.fifo {
        let _ = std::fs::remove_file(fifo);
        let st = Command::new("mkfifo").arg(fifo).status().expect("mkfifo (coreutils) is needed by the hostile suite");
        assert!(st.success(), "{}: mkfifo {} failed", script.name, fifo.display());
    }
}

/// Runs the CLI on `script` in `mode`, sampling the child's `VmHWM` (its peak RSS,
/// which the kernel keeps per address space) until it exits. (`wait4`'s `ru_maxrss`
/// cannot be used: a child inherits the RSS peak of the test process it was forked
/// from.) With `--sandbox`, `moonbox` execs `moonbox-sandbox` in the same process, so
/// the samples follow the sandbox host.
fn run_child(script: &Script, mode: Mode) -> ChildRun {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let rel = script.path.strip_prefix(root).unwrap_or(&script.path);
    setup(script);
    let start = Instant::now();
    let flags = script.flags.iter().map(|f| if f == "--sandbox" { mode.flag() } else { f.as_str() });
    let mut cmd = Command::new(MOONBOX);
    cmd.args(flags);
    if script.stdin_open {
        cmd.arg("-").stdin(Stdio::piped());
    } else {
        cmd.arg(rel).stdin(Stdio::null());
    }
    let mut child = cmd
        .current_dir(root)
        .env("LC_ALL", "C")
        .env_remove("LUA_INIT")
        .env_remove("LUA_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn moonbox");
    // The script, then silence: the pipe stays open until the child is gone.
    let mut stdin = child.stdin.take();
    if let Some(w) = stdin.as_mut() {
        use std::io::Write;
        let _ = w.write_all(&std::fs::read(&script.path).unwrap());
    }
    let mut err_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut max_rss = 0u64;
    let mut killed = false;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            if let Some(kb) = hwm {
                max_rss = max_rss.max(kb * 1024);
            }
        }
        if let Some(st) = child.try_wait().expect("wait for moonbox") {
            break st;
        }
        if !killed && start.elapsed() > KILL_AFTER {
            let _ = child.kill();
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = start.elapsed();
    drop(stdin);
    let stderr = reader.join().unwrap();
    use std::os::unix::process::ExitStatusExt;
    ChildRun { code: status.code(), signal: status.signal(), stderr, wall, max_rss }
}

/// What is wrong with a child run (`None`: as expected).
fn check_child(script: &Script, mode: Mode, run: &ChildRun) -> Option<String> {
    let first = run.stderr.lines().next().unwrap_or("");
    let (code, needle) = match &script.expect {
        Expect::Ok => (0, None),
        Expect::Error(m) => (1, Some(m.as_str())),
        Expect::Memory => (3, Some("not enough memory")),
        Expect::Fuel => (4, Some("CPU budget exhausted")),
        Expect::Timeout => (5, Some("timeout after")),
    };
    if run.code != Some(code) {
        return Some(format!("exit status {:?} (signal {:?}), expected {code}; stderr: {first}", run.code, run.signal));
    }
    if let Some(n) = needle {
        if !first.contains(n) {
            return Some(format!("stderr does not say '{n}': {first}"));
        }
    }
    if run.stderr.contains("process killed") {
        return Some(format!("stopped by the watchdog, not by a check point: {first}"));
    }
    if run.wall > MAX_WALL {
        return Some(format!("took {:.1} s (max {} s)", run.wall.as_secs_f64(), MAX_WALL.as_secs()));
    }
    let bound = rss_bound(&script.name, &script.flags, mode);
    if run.max_rss > bound {
        return Some(format!("peak RSS {} MiB > {} MiB", run.max_rss >> 20, bound >> 20));
    }
    None
}

// ----- The in-process run ----------------------------------------------------------------

/// Runs the script through the facade under the script's limits, then checks that the
/// same state still works. `None`: as expected.
fn run_in_process(script: &Script) -> Option<String> {
    let sandboxed = script.flags.iter().any(|f| f == "--sandbox");
    let memory =
        flag_value(&script.flags, "--memory").map(|v| parse_size(&v) as usize).or(sandboxed.then_some(64 << 20));
    let fuel: Option<u64> = flag_value(&script.flags, "--fuel").map(|v| v.parse().unwrap());
    let timeout = flag_value(&script.flags, "--timeout")
        .map(|v| parse_duration(&v))
        .or(sandboxed.then_some(Duration::from_secs(10)));
    let src = std::fs::read(&script.path).unwrap();
    let chunkname =
        format!("@{}", script.path.strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).unwrap().display());
    let lua = Lua::with_options(LuaOptions {
        sandboxed,
        memory_limit: memory,
        instruction_limit: fuel,
        ..LuaOptions::default()
    });
    lua.set_output(|_| {}).unwrap();
    let arm_deadline = |lua: &Lua| {
        if let Some(t) = timeout {
            let deadline = Instant::now() + t;
            lua.set_interrupt(move || if Instant::now() >= deadline { Interrupt::Stop } else { Interrupt::Continue });
        }
    };
    arm_deadline(&lua);
    let start = Instant::now();
    let r = lua.load(&src[..]).set_name(chunkname).exec();
    let wall = start.elapsed();
    let outcome_ok = match (&script.expect, &r) {
        (Expect::Ok, Ok(())) => true,
        (Expect::Memory, Err(Error::MemoryError(_))) => true,
        (Expect::Fuel, Err(Error::BudgetExhausted)) => true,
        (Expect::Timeout, Err(Error::Interrupted)) => true,
        (Expect::Error(m), Err(Error::RuntimeError(message))) => message.contains(m.as_str()),
        (Expect::Error(m), Err(Error::SyntaxError { message, .. })) => message.contains(m.as_str()),
        _ => false,
    };
    if !outcome_ok {
        return Some(format!("in process: got {r:?}, expected {:?}", script.expect));
    }
    if wall > MAX_WALL {
        return Some(format!("in process: took {:.1} s", wall.as_secs_f64()));
    }
    // The same state, with a fresh budget and deadline, runs a normal chunk.
    lua.set_budget(fuel);
    arm_deadline(&lua);
    let after = lua.load("local t = {} for i = 1, 1000 do t[i] = i * 2 end return #t, t[1000], ('ok'):rep(2)").eval::<(
        i64,
        i64,
        String,
    )>();
    match after {
        Ok((1000, 2000, s)) if s == "okok" || script.name == "sb_string_metatable" => {}
        other => return Some(format!("in process: the state is not usable afterwards: {other:?}")),
    }
    if sandboxed && !lua.load("return io == nil and os.execute == nil").eval::<bool>().unwrap_or(false) {
        return Some("in process: the sandbox no longer holds afterwards".into());
    }
    None
}

/// Runs `f` on a thread with a stack as roomy as the CLI's main thread.
fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(256 << 20).spawn(f).unwrap().join().unwrap()
}

#[test]
fn hostile_scripts() {
    let _serial = serial();
    let scripts = scripts();
    assert!(scripts.len() >= 30, "the suite has {} scripts", scripts.len());
    for (gap, _, _) in KNOWN_GAPS {
        assert!(scripts.iter().any(|s| s.name == *gap), "KNOWN_GAPS names a missing script: {gap}");
    }
    for name in WASM_BULK {
        assert!(scripts.iter().any(|s| s.name == *name), "WASM_BULK names a missing script: {name}");
    }
    sandbox_binary();
    let suite_start = Instant::now();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<26} {:<30} {:>7} {:>8} {:>9} {:>8}  result",
        "script", "expect", "native", "RSS", "wasm", "RSS"
    );
    let mut failures = Vec::new();
    let mut fixed = Vec::new();
    let mut mode_time = [Duration::ZERO; 2];
    for s in &scripts {
        let expect = match &s.expect {
            Expect::Error(m) => format!("error: {m}"),
            e => format!("{e:?}").to_lowercase(),
        };
        let mut cells = Vec::new();
        let mut results = Vec::new();
        for (k, mode) in Mode::ALL.into_iter().enumerate() {
            let gap = known_gap(&s.name, mode);
            let run = run_child(s, mode);
            mode_time[k] += run.wall;
            let problem = check_child(s, mode, &run);
            let m = mode.name();
            match (&problem, gap) {
                (None, None) => {}
                (None, Some(_)) => {
                    fixed.push(format!("{} ({m})", s.name));
                    results.push(format!("{m}: ok, listed as a known gap: remove it"));
                }
                (Some(p), Some(_)) => results.push(format!("{m}: KNOWN GAP: {p}")),
                (Some(p), None) => {
                    failures.push(format!("{} ({m}): {p}", s.name));
                    results.push(format!("{m}: FAIL: {p}"));
                }
            }
            // A child that ends within the first 2 ms sampling interval has no
            // sample, or one taken before the binary was loaded.
            let rss = if run.max_rss < (1 << 20) { "-".to_string() } else { format!("{}", run.max_rss >> 20) };
            cells.push(format!("{:>6.2}s {:>4} MiB", run.wall.as_secs_f64(), rss));
        }
        let result = if results.is_empty() { "ok".to_string() } else { results.join("; ") };
        let _ = writeln!(
            table,
            "{:<26} {:<30} {} {}  {result}",
            s.name,
            expect.chars().take(30).collect::<String>(),
            cells[0],
            cells[1],
        );
    }
    println!(
        "\nhostile scripts through the CLI ({} scripts, native {:.1} s, wasm {:.1} s, {:.1} s in all):\n{table}",
        scripts.len(),
        mode_time[0].as_secs_f64(),
        mode_time[1].as_secs_f64(),
        suite_start.elapsed().as_secs_f64()
    );
    println!("known gaps (not fatal here; a script with a native gap is skipped in process):");
    for (n, mode, why) in KNOWN_GAPS {
        println!("  {n} ({}): {why}", mode.name());
    }
    if !fixed.is_empty() {
        println!("known gaps that now pass (remove them from KNOWN_GAPS): {fixed:?}");
    }
    assert!(failures.is_empty(), "hostile scripts failed:\n  {}", failures.join("\n  "));
}

#[test]
fn hostile_scripts_in_process() {
    let _serial = serial();
    let failures = with_big_stack(|| {
        let mut failures = Vec::new();
        for s in scripts() {
            if known_gap(&s.name, Mode::Native).is_some() {
                println!("skipped in process (known native gap): {}", s.name);
                continue;
            }
            if s.stdin_open || s.fifo.is_some() {
                // What these test is the host's I/O, which a facade state has not.
                println!("skipped in process (a CLI stage): {}", s.name);
                continue;
            }
            if let Some(p) = run_in_process(&s) {
                failures.push(format!("{}: {p}", s.name));
            }
        }
        failures
    });
    assert!(failures.is_empty(), "hostile scripts failed in process:\n  {}", failures.join("\n  "));
}

/// A script that tampers with the string metatable changes its own state only.
#[test]
fn string_metatable_tampering_stays_in_its_state() {
    let _serial = serial();
    let a = Lua::sandboxed();
    let b = Lua::sandboxed();
    a.load(
        r#"local mt = getmetatable("")
        mt.__index = function() return function() return "pwned" end end
        mt.__add = function() return "pwned" end
        string.upper = function() return "pwned" end"#,
    )
    .exec()
    .unwrap();
    assert_eq!(a.load(r#"return ("x"):upper()"#).eval::<String>().unwrap(), "pwned");
    assert_eq!(b.load(r#"return ("x"):upper()"#).eval::<String>().unwrap(), "X");
    assert_eq!(b.load(r#"return string.upper("y")"#).eval::<String>().unwrap(), "Y");
    let err = b.load(r#"return "a" + {}"#).exec().unwrap_err();
    assert!(matches!(err, Error::RuntimeError { .. }), "{err:?}");
    // A fresh state made after the tampering is not affected either.
    let c = Lua::new();
    assert_eq!(c.load(r#"return ("z"):upper()"#).eval::<String>().unwrap(), "Z");
}

/// Budget and timeout stops pass through every way Lua has to catch an error.
#[test]
fn limit_stops_cannot_be_caught() {
    let _serial = serial();
    let catchers = [
        "pcall(function() while true do end end)",
        "xpcall(function() while true do end end, function(m) return m end)",
        "coroutine.wrap(function() pcall(function() while true do end end) end)()",
        "print(select(2, coroutine.resume(coroutine.create(function() while true do end end))))",
        "local p = newproxy(true) getmetatable(p).__gc = function() while true do end end p = nil collectgarbage()",
        "pcall(table.sort, {3, 2, 1}, function(a, b) while true do end end)",
        "pcall(string.gsub, 'xxx', '.', function() while true do end end)",
        "pcall(string.find, string.rep('a', 1e5), '.-.-.-.-.-.-b')",
    ];
    for src in catchers {
        let script = format!("{src}\nreturn 'caught'");
        // The instruction budget.
        let lua = Lua::sandboxed();
        lua.set_budget(Some(200_000));
        let r = lua.load(&script).eval::<String>();
        assert!(matches!(r, Err(Error::BudgetExhausted)), "budget through `{src}`: {r:?}");
        // A deadline through the interrupt hook.
        let lua = Lua::sandboxed();
        let deadline = Instant::now() + Duration::from_millis(100);
        lua.set_interrupt(move || if Instant::now() >= deadline { Interrupt::Stop } else { Interrupt::Continue });
        let r = lua.load(&script).eval::<String>();
        assert!(matches!(r, Err(Error::Interrupted)), "deadline through `{src}`: {r:?}");
        lua.remove_interrupt();
        assert_eq!(lua.load("return 1 + 1").eval::<i32>().unwrap(), 2);
    }
}
