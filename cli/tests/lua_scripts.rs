//! Runs the Lua corpus in `tests/lua` and the error-message goldens in `tests/errors`
//! against the `moonbox` binary, and (when installed) against the reference `luajit`.
//!
//! See `tests/README.md` for the conventions. Environment variables:
//!
//! - `MOONBOX_BLESS=1`: rewrite `NAME.expected` / `NAME.stderr` from moonbox's output.
//! - `MOONBOX_SKIP_REFERENCE=1`: do not run the scripts on `luajit`.
//! - `MOONBOX_TEST_FILTER=substr`: only run scripts whose file name contains `substr`.
//! - `MOONBOX_TEST_TIMEOUT=secs`: per-script timeout (default 30).
//! - `MOONBOX_ARGS="-x -y"`: extra arguments passed to moonbox before the script path.
//! - `MOONBOX_REFERENCE=path`: the reference interpreter (default `luajit` on PATH).

use std::collections::VecDeque;
use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const MOONBOX: &str = env!("CARGO_BIN_EXE_moonbox");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

// ---------------------------------------------------------------------------------------------
// Running one process with a timeout

struct Outcome {
    /// `None` when killed by a signal (or by our timeout).
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    timed_out: bool,
    elapsed: Duration,
}

fn run_with_timeout(
    interp: Interp,
    program: &OsString,
    args: &[OsString],
    timeout: Duration,
) -> Result<Outcome, String> {
    let start = Instant::now();
    let mut cmd = Command::new(program);
    for (k, v) in interp.env() {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args(args)
        .current_dir(ROOT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C")
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.to_string_lossy()))?;

    // Drain both pipes on their own threads so that a chatty child cannot block on a full pipe.
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });

    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {
                if start.elapsed() >= timeout {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait().map_err(|e| format!("wait failed: {e}"))?;
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                let _ = child.kill();
                return Err(format!("wait failed: {e}"));
            }
        }
    };
    // If the child left a grandchild holding the pipes open, the readers could block; the
    // scripts here do not spawn processes, so joining is fine.
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Outcome { code: status.code(), stdout, stderr, timed_out, elapsed: start.elapsed() })
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[derive(Clone, Copy, PartialEq, Eq)]
enum Interp {
    Moonbox,
    /// moonbox collecting in tiny steps everywhere, checking the collector's
    /// tri-colour invariant after every mark phase (a missing write barrier fails).
    MoonboxGcStress,
    /// The trace JIT forced on every loop (`-Ohotloop=1`), the interpreter as oracle:
    /// the same output, exit status and first line of stderr.
    Jit,
    /// ... with every exit taken the first time its guard runs (each snapshot must
    /// resume exactly where the interpreter would be).
    JitExitsFirst,
    /// ... with exits forced at random (1 in 16).
    JitExitsRandom,
    /// ... under GC stress.
    JitGcStress,
    /// The reference IR evaluator as the backend (`-jeval`), exits forced first.
    JitEval,
    Reference,
}

impl Interp {
    fn name(self) -> &'static str {
        match self {
            Interp::Moonbox => "moonbox",
            Interp::MoonboxGcStress => "moonbox, MOONBOX_GC_STRESS=1",
            Interp::Jit => "moonbox -Ohotloop=1",
            Interp::JitExitsFirst => "moonbox -Ohotloop=1, MOONBOX_JIT_EXITS=first",
            Interp::JitExitsRandom => "moonbox -Ohotloop=1, MOONBOX_JIT_EXITS=random:12345",
            Interp::JitGcStress => "moonbox -Ohotloop=1, MOONBOX_GC_STRESS=1",
            Interp::JitEval => "moonbox -jeval -Ohotloop=1, MOONBOX_JIT_EXITS=first",
            Interp::Reference => "luajit",
        }
    }

    fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Interp::MoonboxGcStress | Interp::JitGcStress => &[("MOONBOX_GC_STRESS", "1")],
            Interp::JitExitsFirst | Interp::JitEval => &[("MOONBOX_JIT_EXITS", "first")],
            Interp::JitExitsRandom => &[("MOONBOX_JIT_EXITS", "random:12345")],
            _ => &[],
        }
    }

    /// Flags before the script.
    fn flags(self) -> &'static [&'static str] {
        match self {
            Interp::Jit | Interp::JitExitsFirst | Interp::JitExitsRandom | Interp::JitGcStress => {
                &["-Ohotloop=1,hotexit=1"]
            }
            Interp::JitEval => &["-jeval", "-Ohotloop=1,hotexit=1"],
            _ => &[],
        }
    }
}

fn env_flag(name: &str) -> bool {
    matches!(env::var(name).as_deref(), Ok(v) if !v.is_empty() && v != "0")
}

fn timeout() -> Duration {
    let secs = env::var("MOONBOX_TEST_TIMEOUT").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(30);
    Duration::from_secs(secs)
}

/// The reference interpreter, if it should be used and can be found.
/// Whether the reference runs take place: yes, unless MOONBOX_SKIP_REFERENCE=1 says
/// otherwise (then a line says they were skipped). Without a `luajit` they fail rather
/// than pass having checked nothing: `.ci/run` installs it (`apt-get install luajit2`).
fn reference_wanted() -> bool {
    if env_flag("MOONBOX_SKIP_REFERENCE") {
        eprintln!("reference luajit runs skipped (MOONBOX_SKIP_REFERENCE=1)");
        return false;
    }
    assert!(
        reference().is_some(),
        "the reference luajit is not on PATH (nor named by MOONBOX_REFERENCE): install it \
         (`apt-get install luajit2`, as .ci/run does) or set MOONBOX_SKIP_REFERENCE=1"
    );
    true
}

fn reference() -> Option<OsString> {
    if env_flag("MOONBOX_SKIP_REFERENCE") {
        return None;
    }
    if let Some(explicit) = env::var_os("MOONBOX_REFERENCE") {
        return Some(explicit);
    }
    let path = env::var_os("PATH")?;
    // Found on PATH: run it by its bare name, so that it prints "luajit: " before errors
    // (LuaJIT uses argv[0] as that prefix).
    env::split_paths(&path).any(|dir| dir.join("luajit").is_file()).then(|| OsString::from("luajit"))
}

fn command_for(interp: Interp, script_rel: &str) -> Option<(OsString, Vec<OsString>)> {
    match interp {
        Interp::Reference => reference().map(|r| (r, vec![script_rel.into()])),
        _ => {
            let mut args: Vec<OsString> =
                env::var("MOONBOX_ARGS").unwrap_or_default().split_whitespace().map(OsString::from).collect();
            args.extend(interp.flags().iter().map(OsString::from));
            args.push(script_rel.into());
            Some((MOONBOX.into(), args))
        }
    }
}

/// `tests/<dir>/*.lua`, sorted, filtered by `MOONBOX_TEST_FILTER`.
fn scripts(dir: &str) -> Vec<String> {
    let filter = env::var("MOONBOX_TEST_FILTER").unwrap_or_default();
    let abs = Path::new(ROOT).join("tests").join(dir);
    let mut names: Vec<String> = fs::read_dir(&abs)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", abs.display()))
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".lua") && name.contains(filter.as_str()))
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// Checking

/// Runs `check` on every item on a small thread pool and collects failure messages.
/// Runs `check` on every script of `tests/<dir>` and reports the failures as `what`.
fn check_dir<F>(dir: &str, what: &str, check: F)
where
    F: Fn(&str) -> Option<String> + Send + Sync + 'static,
{
    let names = scripts(dir);
    let total = names.len();
    report(what, total, run_all(names, check));
}

fn run_all<F>(items: Vec<String>, check: F) -> Vec<String>
where
    F: Fn(&str) -> Option<String> + Send + Sync + 'static,
{
    let queue = Arc::new(Mutex::new(items.into_iter().collect::<VecDeque<_>>()));
    let failures = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let check = Arc::new(check);
    let workers = thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let queue = Arc::clone(&queue);
            let failures = Arc::clone(&failures);
            let check = Arc::clone(&check);
            thread::spawn(move || loop {
                let Some(item) = queue.lock().unwrap().pop_front() else {
                    break;
                };
                if let Some(msg) = check(&item) {
                    failures.lock().unwrap().push((item, msg));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker thread panicked");
    }
    let mut failures = Arc::try_unwrap(failures).ok().unwrap().into_inner().unwrap();
    failures.sort();
    failures.into_iter().map(|(_, msg)| msg).collect()
}

fn report(what: &str, total: usize, failures: Vec<String>) {
    assert!(total > 0 || env::var_os("MOONBOX_TEST_FILTER").is_some(), "{what}: no scripts found");
    if failures.is_empty() {
        eprintln!("{what}: {total} passed");
        return;
    }
    let mut msg = format!("{what}: {} of {total} failed\n", failures.len());
    for f in &failures {
        msg.push('\n');
        msg.push_str(f);
        if !f.ends_with('\n') {
            msg.push('\n');
        }
    }
    panic!("{msg}");
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The last lines of a process's stderr, indented, for failure messages.
fn tail(bytes: &[u8], max_lines: usize) -> String {
    let text = lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    let mut out = String::new();
    if start > 0 {
        out.push_str("    ...\n");
    }
    for l in &lines[start..] {
        let _ = writeln!(out, "    {l}");
    }
    if out.is_empty() {
        out.push_str("    (empty)\n");
    }
    out
}

fn describe_exit(o: &Outcome) -> String {
    if o.timed_out {
        format!("timed out after {:.1}s (killed)", o.elapsed.as_secs_f64())
    } else {
        match o.code {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        }
    }
}

/// A small line diff (LCS based) in unified style: `-` expected, `+` actual.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.split_inclusive('\n').collect();
    let b: Vec<&str> = actual.split_inclusive('\n').collect();
    const MAX: usize = 3000;
    let mut out = String::from("    --- expected\n    +++ actual\n");
    if a.len() > MAX || b.len() > MAX {
        // Too big for the quadratic table: show the first differing line.
        let i = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        let _ = writeln!(out, "    (first difference at line {})", i + 1);
        let _ = writeln!(out, "    -{}", a.get(i).map(|s| s.trim_end_matches('\n')).unwrap_or("<end of output>"));
        let _ = writeln!(out, "    +{}", b.get(i).map(|s| s.trim_end_matches('\n')).unwrap_or("<end of output>"));
        return out;
    }
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    // Walk the table, keeping up to 2 lines of context around changes.
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let near_change = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 2).min(ops.len() - 1);
        (lo..=hi).any(|x| ops[x].0 != ' ')
    };
    let mut skipped = false;
    let mut shown = 0;
    for (k, (op, line)) in ops.iter().enumerate() {
        if !near_change(k) {
            skipped = true;
            continue;
        }
        if skipped {
            out.push_str("    @@\n");
            skipped = false;
        }
        shown += 1;
        if shown > 200 {
            out.push_str("    (diff truncated)\n");
            break;
        }
        let text = line.strip_suffix('\n');
        let no_newline = text.is_none();
        let _ = writeln!(out, "    {op}{}", text.unwrap_or(line).escape_debug());
        if no_newline {
            out.push_str("    \\ no newline at end\n");
        }
    }
    out
}

/// The first line of stderr, without the line terminator.
fn first_line(bytes: &[u8]) -> String {
    let text = lossy(bytes);
    text.lines().next().unwrap_or("").trim_end_matches('\r').to_string()
}

/// Reads an expected first-line file: its first line, ignoring a trailing newline.
fn read_first_line(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    Some(text.lines().next().unwrap_or("").trim_end_matches('\r').to_string())
}

// ---------------------------------------------------------------------------------------------
// tests/lua

fn check_lua_script(interp: Interp, name: &str, bless: bool) -> Option<String> {
    let rel = format!("tests/lua/{name}");
    let expected_path = Path::new(ROOT).join("tests/lua").join(format!("{}.expected", name.trim_end_matches(".lua")));
    let Some((program, args)) = command_for(interp, &rel) else {
        return Some(format!("{rel} [{}]: no interpreter to run it", interp.name()));
    };
    let o = match run_with_timeout(interp, &program, &args, timeout()) {
        Ok(o) => o,
        Err(e) => return Some(format!("{rel} [{}]: {e}", interp.name())),
    };
    let mut problems = String::new();
    if o.timed_out || o.code != Some(0) {
        let _ = writeln!(problems, "  {} (expected exit status 0); stderr:", describe_exit(&o));
        problems.push_str(&tail(&o.stderr, 15));
    }
    let expected = fs::read(&expected_path).ok();
    // Bless only the output of a successful run.
    if bless
        && interp == Interp::Moonbox
        && o.code == Some(0)
        && !o.timed_out
        && (expected.is_some() || !o.stdout.is_empty())
    {
        if expected.as_deref() != Some(&o.stdout[..]) {
            if let Err(e) = fs::write(&expected_path, &o.stdout) {
                let _ = writeln!(problems, "  cannot bless {}: {e}", expected_path.display());
            } else {
                eprintln!("blessed {}", expected_path.display());
            }
        }
    } else {
        match &expected {
            Some(want) if *want != o.stdout => {
                let _ = writeln!(
                    problems,
                    "  stdout differs from {}:",
                    expected_path.file_name().unwrap().to_string_lossy()
                );
                problems.push_str(&diff(&lossy(want), &lossy(&o.stdout)));
            }
            // Every script has its expected output (self-checking ones end with
            // `print("ok")`), so a run that silently did nothing cannot pass.
            None => {
                let _ = writeln!(problems, "  has no .expected file (MOONBOX_BLESS=1 creates one); stdout:");
                problems.push_str(&tail(&o.stdout, 10));
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!("{rel} [{}]:\n{problems}", interp.name()))
    }
}

// ---------------------------------------------------------------------------------------------
// tests/errors

fn check_error_script(interp: Interp, name: &str, bless: bool) -> Option<String> {
    let rel = format!("tests/errors/{name}");
    let expected_path = Path::new(ROOT).join("tests/errors").join(format!("{}.stderr", name.trim_end_matches(".lua")));
    let Some((program, args)) = command_for(interp, &rel) else {
        return Some(format!("{rel} [{}]: no interpreter to run it", interp.name()));
    };
    let o = match run_with_timeout(interp, &program, &args, timeout()) {
        Ok(o) => o,
        Err(e) => return Some(format!("{rel} [{}]: {e}", interp.name())),
    };
    let mut problems = String::new();
    if o.timed_out {
        let _ = writeln!(problems, "  {}", describe_exit(&o));
    } else if o.code == Some(0) {
        let _ = writeln!(problems, "  exited with status 0, expected an uncaught error");
    } else if o.code.is_none() {
        // A crash (signal) is never an acceptable way to report a Lua error.
        let _ = writeln!(problems, "  killed by a signal, expected an error exit; stderr:");
        problems.push_str(&tail(&o.stderr, 15));
    }
    let mut actual = first_line(&o.stderr);
    {
        // Both interpreters print their argv[0] as the prefix ("luajit: ",
        // "/path/to/moonbox: "); goldens say "moonbox: ".
        let given = format!("{}: ", program.to_string_lossy());
        if let Some(rest) = actual
            .strip_prefix(given.as_str())
            .or_else(|| actual.strip_prefix("luajit: "))
            .or_else(|| actual.strip_prefix("moonbox: "))
        {
            actual = format!("moonbox: {rest}");
        }
    }
    if o.timed_out {
        // Nothing useful to compare.
    } else if bless && interp == Interp::Moonbox && o.code.is_some_and(|c| c != 0) {
        if read_first_line(&expected_path).as_deref() != Some(actual.as_str()) {
            let content = if actual.is_empty() { String::new() } else { format!("{actual}\n") };
            match fs::write(&expected_path, content) {
                Ok(()) => eprintln!("blessed {}", expected_path.display()),
                Err(e) => {
                    let _ = writeln!(problems, "  cannot bless {}: {e}", expected_path.display());
                }
            }
        }
    } else {
        match read_first_line(&expected_path) {
            None => {
                let _ = writeln!(
                    problems,
                    "  missing {} (MOONBOX_BLESS=1 creates it); first stderr line was:\n    {actual}",
                    expected_path.file_name().unwrap().to_string_lossy()
                );
            }
            Some(want) if want != actual => {
                let _ = writeln!(problems, "  first stderr line differs:");
                let _ = writeln!(problems, "    - {want}");
                let _ = writeln!(problems, "    + {actual}");
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!("{rel} [{}]:\n{problems}", interp.name()))
    }
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn lua_scripts() {
    let bless = env_flag("MOONBOX_BLESS");
    let names = scripts("lua");
    assert!(!names.is_empty() || env::var("MOONBOX_TEST_FILTER").is_ok(), "no scripts in tests/lua");
    let total = names.len();
    let failures = run_all(names, move |n| check_lua_script(Interp::Moonbox, n, bless));
    report("tests/lua on moonbox", total, failures);
}

#[test]
fn error_messages() {
    let bless = env_flag("MOONBOX_BLESS");
    let names = scripts("errors");
    assert!(!names.is_empty() || env::var("MOONBOX_TEST_FILTER").is_ok(), "no scripts in tests/errors");
    let total = names.len();
    let failures = run_all(names, move |n| check_error_script(Interp::Moonbox, n, bless));
    report("tests/errors on moonbox", total, failures);
}

/// The same scripts with the collector stepping at every safe point and checking
/// its invariant: finds missing write barriers.
#[test]
fn lua_scripts_under_gc_stress() {
    check_dir("lua", "tests/lua on moonbox under GC stress", |n| check_lua_script(Interp::MoonboxGcStress, n, false));
}

/// The trace JIT's oracle runs: every script and error golden with every loop
/// compiled, with forced exits, under GC stress and through the IR evaluator, must
/// give the interpreter's output (the same `.expected` / `.stderr` files).
#[test]
fn lua_scripts_under_jit() {
    for interp in [Interp::Jit, Interp::JitExitsFirst, Interp::JitExitsRandom, Interp::JitGcStress, Interp::JitEval] {
        check_dir("lua", &format!("tests/lua on {}", interp.name()), move |n| check_lua_script(interp, n, false));
    }
}

#[test]
fn error_messages_under_jit() {
    for interp in [Interp::Jit, Interp::JitExitsFirst, Interp::JitEval] {
        check_dir("errors", &format!("tests/errors on {}", interp.name()), move |n| {
            check_error_script(interp, n, false)
        });
    }
}

/// IR goldens: `tests/jit/*.lua` with `-jdump=bi` (bytecode recorded, IR and
/// snapshots), compared with `tests/jit/*.dump`; `MOONBOX_BLESS=1` re-blesses.
#[test]
fn jit_dumps() {
    let bless = env_flag("MOONBOX_BLESS");
    check_dir("jit", "tests/jit -jdump goldens", move |name| {
        let rel = format!("tests/jit/{name}");
        let golden = Path::new(ROOT).join("tests/jit").join(format!("{}.dump", name.trim_end_matches(".lua")));
        let args: Vec<OsString> = ["-jdump=bi", "-Ohotloop=2,hotexit=2", &rel].iter().map(OsString::from).collect();
        let o = match run_with_timeout(Interp::Moonbox, &MOONBOX.into(), &args, timeout()) {
            Ok(o) => o,
            Err(e) => return Some(format!("{rel}: {e}")),
        };
        if o.code != Some(0) {
            return Some(format!("{rel}: {}; stderr:\n{}", describe_exit(&o), tail(&o.stderr, 15)));
        }
        let got = lossy(&o.stderr);
        if bless {
            if fs::read_to_string(&golden).ok().as_deref() != Some(got.as_str()) {
                if let Err(e) = fs::write(&golden, &got) {
                    return Some(format!("{rel}: cannot bless {}: {e}", golden.display()));
                }
                eprintln!("blessed {}", golden.display());
            }
            return None;
        }
        match fs::read_to_string(&golden) {
            Ok(want) if want == got => None,
            Ok(want) => Some(format!("{rel}: -jdump differs from {}:\n{}", golden.display(), diff(&want, &got))),
            Err(_) => Some(format!("{rel}: no {} (MOONBOX_BLESS=1 creates it); got:\n{got}", golden.display())),
        }
    });
}

/// A script that fails on the reference LuaJIT is a wrong test, not an engine bug.
#[test]
fn lua_scripts_on_reference_luajit() {
    if !reference_wanted() {
        return;
    }
    check_dir("lua", "tests/lua on the reference luajit (a failure here is a wrong test)", |n| {
        check_lua_script(Interp::Reference, n, false)
    });
}

#[test]
fn error_messages_on_reference_luajit() {
    if !reference_wanted() {
        return;
    }
    check_dir("errors", "tests/errors on the reference luajit (a failure here is a wrong golden file)", |n| {
        check_error_script(Interp::Reference, n, false)
    });
}
