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
//! Every script is run twice:
//!
//! 1. by the `moonbox` binary as a child process: exit status and message must say the
//!    expected outcome, the child must end within [`MAX_WALL`] and its peak RSS
//!    (`VmHWM` from `/proc`, measured from outside the process) must stay under
//!    [`rss_bound`];
//! 2. in this process, through the facade `Lua` with the same limits: the outcome must
//!    match, and then the same state must still run a normal chunk correctly.
//!
//! Scripts that the engine cannot yet handle as expected are listed once, in
//! [`KNOWN_GAPS`], with the reason; they are run by the CLI (so the table shows their
//! numbers) but their failures are reported, not fatal, and they are skipped in
//! process (a memory bomb there would hit the test process itself). When the engine is
//! fixed, a known gap that passes is reported too: remove it from the list.
//!
//! `cargo test --release --test hostile -- --nocapture` prints a table of outcome, time
//! to stop and peak RSS per script.

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

/// Scripts whose expected outcome the engine does not reach yet, with the reason (none
/// since the engine accounts every allocation against its memory limit).
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// The peak RSS a script may reach: 4 × its memory limit (the `--sandbox` default
/// when none is given) + 64 MiB for the binary and the allocator's slack.
fn rss_bound(flags: &[String]) -> u64 {
    let limit = flag_value(flags, "--memory").map(|v| parse_size(&v)).unwrap_or(64 << 20);
    4 * limit + (64 << 20)
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
}

fn scripts() -> Vec<Script> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
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
        out.push(Script { name, path, expect, flags });
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

/// Runs the CLI on `script`, sampling the child's `VmHWM` (its peak RSS, which the
/// kernel keeps per address space) until it exits. (`wait4`'s `ru_maxrss` cannot be
/// used: a child inherits the RSS peak of the test process it was forked from.)
fn run_child(script: &Script) -> ChildRun {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = script.path.strip_prefix(root).unwrap_or(&script.path);
    let start = Instant::now();
    // The native sandbox profile: `--sandbox` alone runs the Wasm sandbox host
    // (host-wasi/tests/hostile.rs runs these scripts there).
    let flags = script.flags.iter().map(|f| if f == "--sandbox" { "--sandbox=native" } else { f.as_str() });
    let mut child = Command::new(MOONBOX)
        .args(flags)
        .arg(rel)
        .current_dir(root)
        .env("LC_ALL", "C")
        .env_remove("LUA_INIT")
        .env_remove("LUA_PATH")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn moonbox");
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
    let stderr = reader.join().unwrap();
    use std::os::unix::process::ExitStatusExt;
    ChildRun { code: status.code(), signal: status.signal(), stderr, wall, max_rss }
}

/// What is wrong with a child run (`None`: as expected).
fn check_child(script: &Script, run: &ChildRun) -> Option<String> {
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
    let bound = rss_bound(&script.flags);
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
    let chunkname = format!("@{}", script.path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().display());
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
    for (gap, _) in KNOWN_GAPS {
        assert!(scripts.iter().any(|s| s.name == *gap), "KNOWN_GAPS names a missing script: {gap}");
    }
    let mut table = String::new();
    let _ = writeln!(table, "{:<26} {:<44} {:>7} {:>9}  result", "script", "expect", "time", "peak RSS");
    let mut failures = Vec::new();
    let mut fixed = Vec::new();
    for s in &scripts {
        let gap = KNOWN_GAPS.iter().find(|(n, _)| *n == s.name);
        let run = run_child(s);
        let problem = check_child(s, &run);
        let expect = match &s.expect {
            Expect::Error(m) => format!("error: {m}"),
            e => format!("{e:?}").to_lowercase(),
        };
        let status = match (&problem, gap) {
            (None, None) => "ok".to_string(),
            (None, Some(_)) => {
                fixed.push(s.name.clone());
                "ok (listed as a known gap: remove it)".to_string()
            }
            (Some(p), Some(_)) => format!("KNOWN GAP: {p}"),
            (Some(p), None) => {
                failures.push(format!("{}: {p}", s.name));
                format!("FAIL: {p}")
            }
        };
        // A child that ends within the first 2 ms sampling interval has no sample, or
        // one taken before the binary was loaded.
        let rss = if run.max_rss < (1 << 20) { "-".to_string() } else { format!("{}", run.max_rss >> 20) };
        let _ = writeln!(
            table,
            "{:<26} {:<44} {:>6.2}s {:>6} MiB  {status}",
            s.name,
            expect.chars().take(44).collect::<String>(),
            run.wall.as_secs_f64(),
            rss,
        );
    }
    println!("\nhostile scripts through the CLI ({} scripts):\n{table}", scripts.len());
    println!("known gaps (skipped in process, not fatal here):");
    for (n, why) in KNOWN_GAPS {
        println!("  {n}: {why}");
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
            if KNOWN_GAPS.iter().any(|(n, _)| *n == s.name) {
                println!("skipped in process (known gap): {}", s.name);
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
