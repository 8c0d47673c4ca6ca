//! The engine's limits seen from outside: what `--memory`, `--fuel`, `--timeout` and the
//! embedding API's `set_memory_limit`, `set_budget`, `set_interrupt` and
//! `cancel_handle` stop, how the stop is reported, and where a script's text goes.
//! (The hostile scripts in `tests/hostile` cover the same holes through the CLI.)

use std::cell::RefCell;
use std::process::{Command, Output, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use moonbox::{Error, Interrupt, Lua};

const MOONBOX: &str = env!("CARGO_BIN_EXE_moonbox");

fn moonbox(args: &[&str]) -> Output {
    Command::new(MOONBOX).args(args).env_remove("LUA_INIT").stdin(Stdio::null()).output().expect("run moonbox")
}

/// A state whose output is captured.
fn captured() -> (Lua, Rc<RefCell<Vec<u8>>>) {
    let lua = Lua::new();
    let buf = Rc::new(RefCell::new(Vec::new()));
    let b = buf.clone();
    lua.set_output(move |bytes| b.borrow_mut().extend_from_slice(bytes)).unwrap();
    (lua, buf)
}

// ----- Errors in __gc finalizers -----------------------------------------------------------

const FAILING_FINALIZERS: &str = r#"
    for i = 1, 500 do
      local p = newproxy(true)
      getmetatable(p).__gc = function() error(("x"):rep(1000) .. i, 0) end
    end
    collectgarbage()
    collectgarbage()
"#;

/// Errors in finalizers go to the state's output, not to the process's stderr, and a
/// script cannot flood it: messages are cut, and only the first 100 are reported.
#[test]
fn finalizer_errors_go_to_the_output_capped() {
    let (lua, out) = captured();
    lua.load(FAILING_FINALIZERS).exec().unwrap();
    let text = String::from_utf8(out.borrow().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 101, "{text}");
    for l in &lines[..100] {
        assert!(l.starts_with("moonbox: error in __gc metamethod (xxxx"), "{l}");
        assert!(l.ends_with("...)") && l.len() < 400, "{l}");
    }
    assert_eq!(lines[100], "moonbox: further errors in __gc metamethods are not reported");
    // The state goes on, and reports nothing more.
    lua.load("collectgarbage()").exec().unwrap();
    assert_eq!(out.borrow().len(), text.len());
}

/// The CLI has no output sink: the same text goes to stderr, capped the same way.
#[test]
fn finalizer_errors_on_the_cli_go_to_stderr() {
    let o = moonbox(&["-e", FAILING_FINALIZERS]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 101, "{err}");
    assert!(err.starts_with("moonbox: error in __gc metamethod (xxx"), "{err}");
    let o = moonbox(&[
        "-e",
        "local p = newproxy(true) getmetatable(p).__gc = function() error('boom') end p = nil collectgarbage()",
    ]);
    assert_eq!(String::from_utf8_lossy(&o.stderr), "moonbox: error in __gc metamethod ((command line):1: boom)\n");
}

// ----- Limit stops inside an error object's __tostring --------------------------------------

const ENDLESS_TOSTRING: &str = "error(setmetatable({}, { __tostring = function() while true do end end }))";

/// A stop inside `__tostring` of the error object is the stop, not "(error object is
/// not a string)".
#[test]
fn limit_stops_in_error_tostring_are_reported_as_such() {
    let lua = Lua::new();
    lua.set_budget(Some(100_000));
    let r = lua.load(ENDLESS_TOSTRING).exec();
    assert!(matches!(r, Err(Error::BudgetExhausted)), "{r:?}");

    let lua = Lua::new();
    let deadline = Instant::now() + Duration::from_millis(100);
    lua.set_interrupt(move || if Instant::now() >= deadline { Interrupt::Stop } else { Interrupt::Continue });
    let r = lua.load(ENDLESS_TOSTRING).exec();
    assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");

    let lua = Lua::new();
    let cancel = lua.cancel_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        cancel.cancel();
    });
    let r = lua.load(ENDLESS_TOSTRING).exec();
    t.join().unwrap();
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");

    // A __tostring that fails normally still gives LuaJIT's fixed text.
    let lua = Lua::new();
    let r = lua.load("error(setmetatable({}, { __tostring = function() error('no') end }))").exec();
    match r {
        Err(Error::RuntimeError { message, .. }) => assert_eq!(message, "(error object is not a string)"),
        r => panic!("{r:?}"),
    }
}

#[test]
fn limit_stops_in_error_tostring_on_the_cli() {
    let o = moonbox(&["--fuel", "100000", "-e", ENDLESS_TOSTRING]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or(""),
        format!("{MOONBOX}: (command line): CPU budget exhausted (--fuel 100000)")
    );
    let o = moonbox(&["--timeout", "300ms", "-e", ENDLESS_TOSTRING]);
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    let o = moonbox(&["--sandbox=native", "--timeout", "300ms", "-e", ENDLESS_TOSTRING]);
    assert_eq!(o.status.code(), Some(5), "{o:?}");
}
