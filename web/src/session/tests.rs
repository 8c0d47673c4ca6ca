use std::cell::{Cell, RefCell};

use super::*;

/// A host with a fake clock that advances 1 ms per reading, and recorded flushes.
#[derive(Default)]
struct TestHost {
    now: Cell<f64>,
    flushed: RefCell<Vec<String>>,
    jit: RefCell<String>,
}

impl Host for TestHost {
    fn wall_ms(&self) -> f64 {
        1_700_000_000_000.0 + self.now.get()
    }
    fn mono_ms(&self) -> f64 {
        let t = self.now.get() + 1.0;
        self.now.set(t);
        t
    }
    fn flush(&self, text: &str) {
        self.flushed.borrow_mut().push(text.to_string());
    }
    fn jit_text(&self, text: &str) {
        self.jit.borrow_mut().push_str(text);
    }
}

fn session(opts: Options) -> Session<TestHost> {
    Session::new(TestHost::default(), opts)
}

fn run(code: &str) -> RunOutcome {
    session(Options::default()).run(code)
}

#[test]
fn print_and_io_write_are_captured() {
    let r = run("print('a', 1, nil) io.write('b', 2.5, '\\n') io.stdout:write('c')");
    assert_eq!(r.status, Status::Ok);
    assert_eq!(r.output, "a\t1\tnil\nb2.5\nc");
    assert_eq!(r.error, None);
}

#[test]
fn expression_values_are_shown() {
    let r = run("1 + 2, 'x', nil, true, setmetatable({}, {__tostring = function() return 'T' end})");
    assert_eq!(r.values, ["3", "x", "nil", "true", "T"]);
    let r = run("local t = {} for i = 1, 3 do t[i] = i * i end return table.concat(t, ',')");
    assert_eq!(r.values, ["1,4,9"]);
}

#[test]
fn runtime_error_has_line_and_traceback() {
    let r = run("local x = 1\nlocal y = nil\nprint('before')\nreturn x + y\n");
    assert_eq!(r.status, Status::RuntimeError);
    assert_eq!(r.error.as_deref(), Some("main.lua:4: attempt to perform arithmetic on local 'y' (a nil value)"));
    assert_eq!(r.line, Some(4));
    assert_eq!(r.output, "before\n");
    assert!(r.traceback.as_deref().is_some_and(|t| t.contains("stack traceback")), "{:?}", r.traceback);
}

#[test]
fn error_without_position_takes_the_line_from_the_traceback() {
    let r = run("local function f()\n  error({})\nend\nf()\n");
    assert_eq!(r.status, Status::RuntimeError);
    assert_eq!(r.line, Some(2), "{r:?}");
}

#[test]
fn syntax_error_has_line() {
    let r = run("print('ok')\nlocal = 3\n");
    assert_eq!(r.status, Status::SyntaxError);
    assert_eq!(r.error.as_deref(), Some("main.lua:2: '<name>' expected near '='"));
    assert_eq!(r.line, Some(2));
    assert_eq!(r.output, "");
}

#[test]
fn error_line_parsing() {
    assert_eq!(error_line("main.lua:12: boom"), Some(12));
    assert_eq!(error_line("[string \"x\"]:3: boom"), None);
    assert_eq!(error_line("main.lua:12 boom"), None);
    assert_eq!(error_line("main.lua:: boom"), None);
    assert_eq!(traceback_line("stack traceback:\n\t[C]: in function 'error'\n\tmain.lua:7: in main chunk"), Some(7));
}

#[test]
fn budget_stops_an_infinite_loop_and_the_state_survives() {
    let mut s = session(Options { budget: Some(100_000), ..Options::default() });
    let r = s.run("x = 0 while true do x = x + 1 end");
    assert_eq!(r.status, Status::BudgetExhausted);
    assert_eq!(r.error.as_deref(), Some("instruction budget exhausted (100000 calls and loop iterations)"));
    assert_eq!(r.budget_used, Some(100_000));
    // pcall cannot catch it.
    let r = s.run("pcall(function() while true do end end) print('escaped')");
    assert_eq!(r.status, Status::BudgetExhausted);
    assert_eq!(r.output, "");
    // The next run gets a fresh budget and sees the globals.
    let r = s.run("return x > 0");
    assert_eq!((r.status, r.values), (Status::Ok, vec!["true".to_string()]));
}

#[test]
fn time_limit_stops_a_loop() {
    // The fake clock advances 1 ms per reading, and it is read once per budget slice.
    let mut s = session(Options { time_limit_ms: Some(50.0), budget: None, ..Options::default() });
    let r = s.run("while true do end");
    assert_eq!(r.status, Status::Timeout);
    assert_eq!(r.error.as_deref(), Some("time limit of 50 ms exceeded"));
    assert_eq!(s.run("return 1").status, Status::Ok);
}

#[test]
fn memory_limit_stops_a_growing_table() {
    let mut s = session(Options { memory_limit: Some(8 << 20), ..Options::default() });
    let r = s.run("local t = {} for i = 1, 1e8 do t[i] = {i} end");
    assert_eq!(r.status, Status::MemoryError, "{r:?}");
    assert!(r.error.as_deref().is_some_and(|e| e.contains("not enough memory")), "{:?}", r.error);
    let r = s.run("collectgarbage() return 'alive'");
    assert_eq!(r.values, ["alive"]);
    assert!(r.used_memory < 8 << 20, "{}", r.used_memory);
}

#[test]
fn output_is_capped() {
    let r = run("local s = string.rep('x', 1000) for i = 1, 2000 do io.write(s) end print('end')");
    assert_eq!(r.status, Status::Ok);
    assert!(r.truncated);
    assert_eq!(r.output.len(), MAX_OUTPUT);
}

#[test]
fn output_streams_through_the_host() {
    let mut s = session(Options { flush_interval_ms: Some(5.0), ..Options::default() });
    let r = s.run("for i = 1, 5 do print(i) for j = 1, 20000 do end end");
    assert_eq!(r.status, Status::Ok);
    let streamed = s.host.flushed.borrow().concat();
    assert!(!streamed.is_empty());
    assert_eq!(streamed + &r.output, "1\n2\n3\n4\n5\n");
}

#[test]
fn host_clock_feeds_os_time_clock_and_date() {
    let mut s = session(Options { host_clock: true, ..Options::default() });
    let r = s.run("return os.time(), os.time{year=2000, month=1, day=1, hour=12}, os.clock() > 0, os.date('!%Y')");
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert_eq!(r.values[0], "1700000000");
    assert_eq!(r.values[2], "true");
    assert_eq!(r.values[3], "2023");
    let r = s.run("return os.date('!%Y-%m-%d', 0)");
    assert_eq!(r.values, ["1970-01-01"]);
}

#[test]
fn sandboxed_session_has_no_io() {
    let r = session(Options { sandboxed: true, ..Options::default() }).run("return io, os.execute, type(print)");
    assert_eq!(r.values, ["nil", "nil", "function"]);
}

#[test]
fn used_memory_is_reported() {
    let r = run("big = {} for i = 1, 100000 do big[i] = i end");
    assert!(r.used_memory > 800_000, "{}", r.used_memory);
    assert!(r.elapsed_ms > 0.0);
}

/// The playground's examples (`www/examples/*.lua`) print what `tests/expected/*.txt`
/// holds; the browser tests check the same files. `MOONBOX_BLESS=1` rewrites them.
#[test]
fn examples_print_the_expected_output() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("MOONBOX_BLESS").is_some();
    let mut checked = 0;
    for name in ["hello", "fib", "nbody", "json", "patterns", "coroutines", "oop", "limits", "memory"] {
        let src = std::fs::read_to_string(dir.join(format!("www/examples/{name}.lua"))).expect("example");
        let r = session(Options { budget: Some(50_000_000), ..Options::default() }).run(&src);
        match name {
            "limits" => {
                assert_eq!(r.status, Status::BudgetExhausted, "{r:?}");
                assert_eq!(r.output, "counting forever...\n");
                continue;
            }
            "memory" => {
                assert_eq!(r.status, Status::MemoryError, "{r:?}");
                assert!(r.output.starts_with("100000 strings, "), "{}", r.output);
                continue;
            }
            _ => assert_eq!(r.status, Status::Ok, "{name}: {r:?}"),
        }
        let path = dir.join(format!("tests/expected/{name}.txt"));
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &r.output).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(r.output, want, "{name}: output differs from {}", path.display());
        if name == "hello" {
            assert_eq!(r.values, ["42"]);
        }
        checked += 1;
    }
    assert_eq!(checked, 7);
}

/// The JIT view: `-jv` lines reach the host as they happen, and the run reports its
/// traces with their IR and code (natively the x86-64 backend's; in the browser the
/// Wasm one is installed instead).
#[test]
fn jit_view_reports_lines_and_traces() {
    let mut s = session(Options { jit_verbose: true, ..Options::default() });
    let r = s.run("local x = 0\nfor i = 1, 1000 do x = x + i end\nreturn x");
    assert_eq!(r.values, ["500500"]);
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    assert_eq!(s.host.jit.borrow().as_str(), "[TRACE   1 main.lua:2 loop]\n");
    assert_eq!(r.traces.len(), 1);
    let t = &r.traces[0];
    assert_eq!((t.number, t.title.as_str()), (1, "main.lua:2 loop"));
    assert!(t.ir.contains("SLOAD") && t.ir.contains("LOOP"), "{}", t.ir);
    assert!(t.code.as_ref().is_some_and(|c| !c.is_empty()));
    // Off: no traces, no lines, the same result.
    let mut s = session(Options { jit: false, jit_verbose: true, ..Options::default() });
    let r = s.run("local x = 0\nfor i = 1, 1000 do x = x + i end\nreturn x");
    assert_eq!((r.values.as_slice(), r.traces.len(), s.host.jit.borrow().len()), (&["500500".to_string()][..], 0, 0));
}
