//! The `moonbox` command's limit flags: `--sandbox`, `--memory`, `--fuel`, `--timeout`,
//! their messages and exit statuses (README, "The `moonbox` command").

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const MOONBOX: &str = env!("CARGO_BIN_EXE_moonbox");

fn moonbox(args: &[&str]) -> Output {
    Command::new(MOONBOX).args(args).env_remove("LUA_INIT").stdin(Stdio::null()).output().expect("run moonbox")
}

fn stderr_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or("").to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn fuel_stops_a_loop_with_status_4() {
    let o = moonbox(&["--fuel", "100000", "-e", "while true do end"]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert_eq!(stderr_line(&o), format!("{MOONBOX}: (command line): CPU budget exhausted (--fuel 100000)"));
}

#[test]
fn fuel_is_enough_for_a_short_script() {
    let o = moonbox(&["--fuel=100000", "-e", "local s = 0 for i = 1, 1000 do s = s + i end print(s)"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "500500\n");
}

#[test]
fn timeout_stops_a_loop_with_status_5() {
    let start = Instant::now();
    let o = moonbox(&["--timeout", "300ms", "-e", "local x = 0 while true do x = x + 1 end"]);
    let took = start.elapsed();
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    assert_eq!(stderr_line(&o), format!("{MOONBOX}: (command line): timeout after 300ms (--timeout)"));
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn timeout_covers_pcall_and_native_loops() {
    for src in [
        "while true do pcall(function() while true do end end) end",
        "print(string.find(string.rep('a', 1e5), '.-.-.-.-.-.-b'))",
    ] {
        let o = moonbox(&["--timeout=200ms", "-e", src]);
        assert_eq!(o.status.code(), Some(5), "{src}: {o:?}");
        assert!(!String::from_utf8_lossy(&o.stderr).contains("process killed"), "{src}: {o:?}");
    }
}

#[test]
fn memory_limit_stops_a_bomb_with_status_3() {
    let o = moonbox(&["--memory", "16M", "-e", "local t = {} while true do t[#t + 1] = {} end"]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    // A Lua error, as LuaJIT raises it (catchable by pcall), naming the limit.
    assert_eq!(stderr_line(&o), format!("{MOONBOX}: not enough memory (--memory 16M)"));
}

#[test]
fn uncaught_engine_memory_error_is_status_3() {
    // Past the maximum string length: the engine's own "not enough memory".
    let o = moonbox(&["-e", "local s = string.rep('x', 2^31 - 1)"]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert_eq!(stderr_line(&o), format!("{MOONBOX}: not enough memory"));
    // Caught, it is an ordinary error.
    let o = moonbox(&["-e", "print(pcall(string.rep, 'x', 2^31 - 1))"]);
    assert_eq!(stdout(&o), "false\tnot enough memory\n");
}

#[test]
fn sandbox_removes_io_and_os_escapes() {
    let o = moonbox(&["--sandbox=native", "-e", "print(io, os.execute, os.exit, loadfile, dofile, os.time ~= nil)"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "nil\tnil\tnil\tnil\tnil\ttrue\n");
    let o = moonbox(&["--sandbox=native", "-e", "io.open('/etc/passwd')"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(stderr_line(&o).ends_with("attempt to index global 'io' (a nil value)"), "{o:?}");
}

#[test]
fn sandbox_has_default_memory_and_timeout() {
    // 64M by default: a 100 MB table of tables is stopped.
    let o = moonbox(&["--sandbox=native", "-e", "local t = {} for i = 1, 1e7 do t[i] = {} end"]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(stderr_line(&o).ends_with("not enough memory (--memory 64M)"), "{o:?}");
    // An explicit flag wins over the default.
    let o = moonbox(&["--sandbox=native", "--timeout", "200ms", "-e", "while true do end"]);
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    assert!(stderr_line(&o).ends_with("timeout after 200ms (--timeout)"), "{o:?}");
}

#[test]
fn limits_without_sandbox_keep_the_trusted_libraries() {
    let o = moonbox(&["--memory", "32M", "--fuel", "1000000", "-e", "print(io ~= nil, os.execute ~= nil)"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "true\ttrue\n");
}

#[test]
fn limit_stops_are_not_catchable() {
    for src in [
        "print(pcall(function() while true do end end))",
        "print(xpcall(function() while true do end end, debug.traceback))",
        "print(pcall(coroutine.wrap(function() while true do end end)))",
    ] {
        let o = moonbox(&["--fuel", "50000", "-e", src]);
        assert_eq!(o.status.code(), Some(4), "{src}: {o:?}");
        assert_eq!(stdout(&o), "", "{src}: the catch ran");
    }
}

#[test]
fn script_arguments_and_name_in_messages() {
    let dir = std::env::temp_dir().join(format!("moonbox-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("spin.lua");
    std::fs::write(&script, "local n = ... for i = 1, n do end while true do end\n").unwrap();
    let path = script.to_str().unwrap();
    let o = moonbox(&["--sandbox=native", "--fuel", "20000", path, "10"]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert_eq!(stderr_line(&o), format!("{MOONBOX}: {path}: CPU budget exhausted (--fuel 20000)"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_flag_values_are_usage_errors() {
    for args in [
        &["--memory", "lots", "-e", "print(1)"][..],
        &["--memory", "0", "-e", "print(1)"],
        &["--fuel", "-5", "-e", "print(1)"],
        &["--fuel", "1.5", "-e", "print(1)"],
        &["--timeout", "soon", "-e", "print(1)"],
        &["--timeout", "0s", "-e", "print(1)"],
        &["--fuel"],
        &["--bogus"],
    ] {
        let o = moonbox(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
        assert_eq!(stdout(&o), "", "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("usage:"), "{args:?}: {o:?}");
    }
    let o = moonbox(&["--memory", "lots", "-e", "print(1)"]);
    assert_eq!(
        stderr_line(&o),
        format!("{MOONBOX}: bad --memory value 'lots' (expected a size such as 64M, 512K or 1G)")
    );
}

#[test]
fn size_and_duration_forms() {
    for (flag, value) in [
        ("--memory", "1048576"),
        ("--memory", "512K"),
        ("--memory", "8m"),
        ("--memory", "1G"),
        ("--timeout", "500ms"),
        ("--timeout", "2s"),
        ("--timeout", "1.5s"),
        ("--timeout", "1m"),
        ("--timeout", "3"),
    ] {
        let o = moonbox(&[flag, value, "-e", "print('ran')"]);
        assert_eq!(o.status.code(), Some(0), "{flag} {value}: {o:?}");
        assert_eq!(stdout(&o), "ran\n", "{flag} {value}");
    }
}

#[test]
fn usage_lists_the_limit_flags() {
    let o = moonbox(&["--bogus"]);
    let text = String::from_utf8_lossy(&o.stderr);
    for flag in ["--sandbox", "--memory SIZE", "--fuel N", "--timeout T"] {
        assert!(text.contains(flag), "usage lacks {flag}:\n{text}");
    }
}

#[test]
fn watchdog_ends_a_script_blocked_in_native_code() {
    // Reading a pipe that never delivers blocks in native code, where no budget check
    // runs: the watchdog ends the process a grace period (1 s here) after the deadline.
    let start = Instant::now();
    let mut child = Command::new(MOONBOX)
        .args(["--timeout", "300ms", "-e", "io.read() print('not reached')"])
        .env_remove("LUA_INIT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run moonbox");
    let stdin = child.stdin.take(); // held open: the read never returns
    let o = child.wait_with_output().expect("wait for moonbox");
    let took = start.elapsed();
    drop(stdin);
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    assert_eq!(
        stderr_line(&o),
        format!("{MOONBOX}: timeout after 300ms (--timeout): no check point reached, process killed")
    );
    assert_eq!(stdout(&o), "");
    assert!(took >= Duration::from_millis(1300) && took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn finalizers_run_when_the_state_closes() {
    // As at the end of `luajit`: every userdata with `__gc` still alive is finalized,
    // the newest first, also after an error ended the script.
    let src = "for i = 1, 3 do local p = newproxy(true); getmetatable(p).__gc = function() print('gc', i) end; _G['p' .. i] = p end";
    let o = moonbox(&["-e", src]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "gc\t3\ngc\t2\ngc\t1\n");
    let o = moonbox(&["-e", &format!("{src} error('stop')")]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(stdout(&o), "gc\t3\ngc\t2\ngc\t1\n");
}

#[test]
#[cfg(unix)]
fn a_closed_output_pipe_ends_the_process_quietly() {
    // As `luajit` and `lua` do: SIGPIPE keeps its default action, so `moonbox x.lua |
    // head -1` ends with the signal once the reader is gone, without a message.
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(MOONBOX)
        .args(["-e", "for i = 1, 1e7 do io.write(i, '\\n') end io.stderr:write('not reached')"])
        .env_remove("LUA_INIT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run moonbox");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("read a line");
    assert_eq!(first, "1\n");
    // The reader is dropped here; the next flush of a full buffer gets the signal.
    let o = child.wait_with_output().expect("wait for moonbox");
    assert_eq!(o.status.signal(), Some(13), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
}

/// `moonbox --sandbox` hands the run to `moonbox-sandbox` beside it (built with the
/// workspace: `cargo test --workspace`, as CI runs).
#[test]
fn moonbox_dash_dash_sandbox() {
    let native = std::path::Path::new(MOONBOX);
    let sandbox = native.with_file_name(format!("moonbox-sandbox{}", std::env::consts::EXE_SUFFIX));
    assert!(
        sandbox.exists(),
        "{} is not built: run `cargo build --release -p moonbox-host-wasi` (or `cargo test --workspace --release`)",
        sandbox.display()
    );
    let out = Command::new(native)
        .args(["--sandbox", "--timeout", "1s", "-e", "print(os.execute, io, 6 * 7)"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "nil\tnil\t42\n", "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        Command::new(native).args(["--timeout", "100ms", "--sandbox", "-e", "while true do end"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "moonbox: (command line): timeout after 100ms (--timeout)\n");
}

/// A program run through `dofile` (as test suites run their files) gets its garbage
/// freed by `collectgarbage()`: the library function's call into Lua does not pin the
/// heap for the whole program.
#[test]
fn dofile_programs_collect_their_garbage() {
    let dir = std::env::temp_dir().join(format!("moonbox-dofile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("inner.lua");
    std::fs::write(
        &file,
        "collectgarbage() local before = collectgarbage('count')
         do local t = {} for i = 1, 100000 do t[i] = { i } end end
         collectgarbage()
         local after = collectgarbage('count')
         assert(after < before + 1000, ('kept %d KiB'):format(after - before))
         print('freed')",
    )
    .unwrap();
    let code = format!("dofile({:?})", file.display().to_string());
    let out = moonbox(&["-e", &code]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "freed\n", "{}", String::from_utf8_lossy(&out.stderr));
}

// ----- The trace JIT -------------------------------------------------------------------

/// The JIT is a capability: on for the trusted command line (where a backend exists),
/// never for the sandbox profile, and `-joff` turns it off.
#[test]
fn jit_status_follows_the_capability() {
    let want_on = cfg!(target_arch = "x86_64");
    let o = moonbox(&["-e", "print((jit.status()))"]);
    assert_eq!(stdout(&o), format!("{want_on}\n"), "{o:?}");
    let o = moonbox(&["--sandbox=native", "-e", "print((jit.status()))"]);
    assert_eq!(stdout(&o), "false\n", "{o:?}");
    let o = moonbox(&["-joff", "-e", "print((jit.status()))"]);
    assert_eq!(stdout(&o), "false\n", "{o:?}");
    let o = moonbox(&["--sandbox=native", "-Ohotloop=1", "-jv", "-e", "local s = 0 for i = 1, 100 do s = s + i end"]);
    assert_eq!(String::from_utf8_lossy(&o.stderr), "", "a sandboxed state compiles nothing: {o:?}");
}

/// `-jv` prints LuaJIT's shapes for traces, side traces and aborts.
#[test]
#[cfg(target_arch = "x86_64")]
fn jit_verbose_reports_traces_and_aborts() {
    let src = "local s = 0\nfor i = 1, 300 do\n  if i % 3 == 0 then s = s + 1 else s = s - 1 end\nend\n\
               for i = 1, 100 do local f = function() end end\nprint(s)";
    let o = moonbox(&["-jv", "-e", src]);
    assert_eq!(stdout(&o), "-100\n", "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    // A root trace is named by its `for` line, as by luajit (`[TRACE   1 t.lua:2 loop]`).
    assert!(lines.contains(&"[TRACE   1 (command line):2 loop]"), "{err}");
    assert!(lines.iter().any(|l| l.starts_with("[TRACE   2 (1/") && l.ends_with(" -> 1]")), "{err}");
    assert!(lines.contains(&"[TRACE --- (command line):5 -- NYI: bytecode FNEW at (command line):5]"), "{err}");
    // It ends with the abort sites, most frequent first.
    let summary = lines.iter().position(|l| l.ends_with("sites; the most frequent:]")).expect("abort summary");
    assert!(lines[summary + 1].ends_with("x (command line):5 -- NYI: bytecode FNEW]"), "{err}");
}

/// The bad-trace rule: a loop whose trace leaves mid-iteration on most entries (a
/// branch whose side trace cannot compile, taken often) is flushed and left to the
/// interpreter; a loop that leaves its trace now and then keeps it.
#[test]
#[cfg(target_arch = "x86_64")]
fn jit_leaves_bad_traces_to_the_interpreter() {
    // The loop starts (and is recorded) in the part where the branch goes one way;
    // the other way concatenates, which no trace compiles yet.
    let bad = "local t, s = {0}, 0\nfor i = 1, 20000 do\n  if i % 1000 < 700 then s = s + 1 else t[1] = i .. '' end\nend\nprint(s, t[1])";
    let o = moonbox(&["-jv", "-jstats", "-e", bad]);
    assert_eq!(stdout(&o), "14000\t19999\n", "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines()
            .any(|l| l
                .starts_with("[TRACE --- (command line):3 -- bad trace 1: 1024 of 1024 entries left mid-iteration")),
        "{err}"
    );
    assert!(err.contains(" 1 blacklisted, 2048 entries,"), "no entries after the verdict: {err}");
    let good = "local t, s = {0}, 0\nfor i = 1, 300000 do\n  if i % 1000 < 990 then s = s + 1 else t[1] = i end\nend\nprint(s, t[1])";
    let o = moonbox(&["-jv", "-e", good]);
    assert_eq!(stdout(&o), "297000\t299999\n", "{o:?}");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("bad trace"), "{o:?}");
}

/// A traced loop charges the budget at the same instructions as the interpreter: the
/// smallest `--fuel` that lets a script finish is the same with and without the JIT,
/// and a stop gives the same message.
#[test]
fn jit_keeps_fuel_counts_exact() {
    let src = "local s, x = 0, 0\nfor i = 1, 3000 do\n  if i % 7 < 3 then s = s + i else s = s - 1 end\n  \
               local n = 0 while n < 3 do n = n + 1 end\nend\nrepeat x = x + 1 until x >= 500\n\
               local t, m = {1, 2}, math.max\nlocal function f(a) return a + t[2] end\n\
               for i = 1, 2000 do t[2] = f(i) % 5; s = s + m(i, 3) end\nprint(s, x, t[2])";
    let finishes = |fuel: u64, jit: &[&str]| {
        let fuel = fuel.to_string();
        let mut args: Vec<&str> = jit.to_vec();
        args.extend(["--fuel", &fuel, "-e", src]);
        moonbox(&args).status.code() == Some(0)
    };
    // The interpreter's exact need, by bisection.
    let (mut lo, mut hi) = (1u64, 1_000_000u64);
    assert!(finishes(hi, &["-joff"]));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if finishes(mid, &["-joff"]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    for jit in [&["-Ohotloop=1,hotexit=1"][..], &["-Ohotloop=3,hotexit=2"][..], &[][..]] {
        assert!(finishes(lo, jit), "{jit:?} with --fuel {lo}");
        assert!(!finishes(lo - 1, jit), "{jit:?} with --fuel {}", lo - 1);
    }
    let stop = |jit: &str| {
        let o = moonbox(&[jit, "--fuel", "2000", "-e", src]);
        (o.status.code(), stderr_line(&o))
    };
    assert_eq!(stop("-joff"), stop("-Ohotloop=1,hotexit=1"));
}

/// `--timeout` stops a compiled endless loop, and `pcall` cannot catch the stop.
#[test]
fn jit_loops_stop_at_the_timeout() {
    let o = moonbox(&[
        "-Ohotloop=1",
        "--timeout",
        "300ms",
        "-e",
        "print(pcall(function() local x = 0 while true do x = x + 1 end end))",
    ]);
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    assert!(stderr_line(&o).ends_with("timeout after 300ms (--timeout)"), "{o:?}");
}
