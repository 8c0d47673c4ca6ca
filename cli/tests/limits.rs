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
        Err(Error::RuntimeError(message)) => {
            assert!(message.starts_with("(error object is not a string)"), "{message}")
        }
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

// ----- Native stack depth --------------------------------------------------------------

/// Every way a script can make the engine recurse on the native stack. Each one
/// counts its levels in the global `n`, and must end in a Lua error.
const RECURSION_SHAPES: &[(&str, &str)] = &[
    ("tostring", "local t = setmetatable({}, {__tostring = function(s) n = n + 1 return tostring(s) end}) return tostring(t)"),
    ("format %s", "local t = setmetatable({}, {__tostring = function(s) n = n + 1 return string.format('%s', s) end}) return string.format('%s', t)"),
    ("print", "local t = setmetatable({}, {__tostring = function(s) n = n + 1 print(s) return '' end}) print(t)"),
    ("sort comparator", "local function f() n = n + 1 table.sort({3, 2, 1}, function(a, b) f() return a < b end) end f()"),
    ("sort __lt", "local mt = {} mt.__lt = function(a, b) n = n + 1 table.sort({setmetatable({}, mt), setmetatable({}, mt)}) return true end table.sort({setmetatable({}, mt), setmetatable({}, mt)})"),
    ("xpcall handler", "local function f() n = n + 1 return xpcall(error, function(m) local ok, m2 = f() return m2 end) end local ok, m = f() error(m, 0)"),
    ("error __tostring", "local e = setmetatable({}, {__tostring = function(s) n = n + 1 return tostring(s) end}) error(e)"),
    ("coroutine.wrap", "local function f() n = n + 1 return coroutine.wrap(f)() end f()"),
    ("coroutine.resume", "local function f() n = n + 1 local ok, m = coroutine.resume(coroutine.create(f)) if not ok then error(m, 0) end end f()"),
    ("gsub callback", "local function f() n = n + 1 return (string.gsub('x', 'x', f)) end f()"),
    ("pcall chain", "local function f() n = n + 1 local ok, m = pcall(string.gsub, 'x', 'x', f) if not ok then error(m, 0) end return m end f()"),
    ("load reader", "local function f() n = n + 1 local fn, m = load(function() f() return nil end) if not fn then error(m, 0) end end f()"),
    ("nested syntax in readers", r#"
        local function mk()
          local i = 0
          return function()
            i = i + 1
            if i == 1 then return "return " .. string.rep("(", 190) end
            if i == 2 then n = n + 1 local f, m = load(mk()) if not f then error(m, 0) end return "nil" end
            if i == 3 then return string.rep(")", 190) end
          end
        end
        local f, m = load(mk()) if not f then error(m, 0) end"#),
    ("deep syntax", "n = 300 local f, m = load('return ' .. string.rep('(', 300) .. '1' .. string.rep(')', 300)) if not f then error(m, 0) end"),
    ("require", "package.preload.x = function(name) n = n + 1 package.loaded.x = nil return require('x') end require('x')"),
    ("__index from native", "local t = setmetatable({}, {__index = function(t, k) n = n + 1 return table.concat({tostring(t)}) end}) local mt = getmetatable(t) mt.__tostring = function(s) return s.x end return tostring(t)"),
    ("__gc", "local function mk() local p = newproxy(true) getmetatable(p).__gc = function() n = n + 1 mk() collectgarbage() end end mk() collectgarbage() collectgarbage() error('stack overflow (finalizers ran ' .. n .. ')', 0)"),
    ("mixed", r#"
        local f
        local routes = {
          function(k) return tostring(setmetatable({}, {__tostring = function() f(k) return '' end})) end,
          function(k) table.sort({1, 2}, function(a, b) f(k) return a < b end) end,
          function(k) return coroutine.wrap(function() f(k) end)() end,
          function(k) string.gsub('x', 'x', function() f(k) end) end,
          function(k) load(function() f(k) return nil end) end,
          function(k) local ok, m = xpcall(error, function() f(k) end) end,
        }
        f = function(k) n = n + 1 return routes[n % #routes + 1](k) end
        f(1) error('stack overflow (mixed ran ' .. n .. ')', 0)"#),
];

/// Runs every shape in a fresh state on a thread with `stack` bytes of stack, with the
/// engine's native stack limit set to `limit` (`None`: the default); returns each
/// shape's levels reached and error message.
fn run_shapes(stack: usize, limit: Option<usize>, sandboxed: bool) -> Vec<(&'static str, i64, String)> {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let mut out = Vec::new();
            for (name, src) in RECURSION_SHAPES {
                let lua = if sandboxed { Lua::sandboxed() } else { Lua::new() };
                if let Some(l) = limit {
                    lua.set_native_stack_limit(l);
                }
                lua.set_output(|_| {}).unwrap();
                lua.globals().set("n", 0).unwrap();
                let r = lua.load(*src).set_name(*name).exec();
                let n: i64 = lua.globals().get("n").unwrap();
                let msg = match r {
                    Ok(()) => "no error".to_string(),
                    Err(e) => e.to_string(),
                };
                // The state is still usable.
                assert_eq!(lua.load("return 6 * 7").eval::<i32>().unwrap(), 42, "{name}");
                out.push((*name, n, msg));
            }
            out
        })
        .unwrap()
        .join()
        .expect("the thread survived")
}

fn is_depth_error(msg: &str) -> bool {
    // An error object whose `__tostring` overflows is shown as LuaJIT shows it.
    ["stack overflow", "too many syntax levels", "error in error handling", "(error object is not a string)"]
        .iter()
        .any(|m| msg.contains(m))
}

/// A 2 MiB thread (Rust's default) embedding a state survives every recursion shape,
/// each ending in a Lua error, with the default limit, trusted and sandboxed.
#[test]
fn every_recursion_shape_ends_in_a_lua_error_on_a_2mib_thread() {
    for sandboxed in [false, true] {
        for (name, n, msg) in run_shapes(2 << 20, None, sandboxed) {
            assert!(is_depth_error(&msg), "{name} (sandboxed: {sandboxed}): {n} levels, {msg}");
            assert!(n >= 3, "{name}: only {n} levels");
        }
    }
}

/// Smaller threads survive too, with the limit lowered to what they have less the
/// slack; and the stack each level takes, measured (printed with --nocapture).
#[test]
fn small_threads_with_a_lowered_limit_survive() {
    let slack = moonbox::engine::vm::NATIVE_STACK_SLACK;
    for (stack, limit) in
        [(16usize << 20, 512usize << 10), (256 << 10, (256 << 10) - slack), (512 << 10, (512 << 10) - slack)]
    {
        let runs = run_shapes(stack, Some(limit), false);
        for (name, n, msg) in &runs {
            assert!(is_depth_error(msg), "{name} on a {} KiB thread: {n} levels, {msg}", stack >> 10);
            println!(
                "{:>5} KiB thread, limit {:>4} KiB: {name:<26} {n:>5} levels, {:>6} bytes/level",
                stack >> 10,
                limit >> 10,
                limit / (*n).max(1) as usize
            );
        }
    }
}

// ----- Work done by builtins -----------------------------------------------------------

/// Scripts whose time goes into single builtin calls (each a few budget checks before).
const BUILTIN_WORK: &[(&str, &str)] = &[
    ("plain find", "local h = string.rep('a', 4e6) local n = string.rep('a', 1e6) .. 'b' return h:find(n, 1, true)"),
    ("upper", "local s = string.rep('x', 16e6) for i = 1, 1e4 do s:upper() end"),
    ("long class", "local c = '[' .. string.rep('b', 1e5) .. 'a]' return string.find(string.rep('a', 1e5), c .. 'c')"),
    ("collectgarbage", "local t = {} for i = 1, 2e5 do t[i] = {i} end for i = 1, 1e5 do collectgarbage() end"),
    ("labels", "local p = {'do'} for i = 1, 2e4 do p[#p+1] = 'goto l' .. i end for i = 1, 2e4 do p[#p+1] = '::l' .. i .. '::' end p[#p+1] = 'end' for i = 1, 100 do load(table.concat(p, ' ')) end"),
    ("concat", "local t = {} for i = 1, 1e5 do t[i] = '0123456789' end for i = 1, 1e5 do table.concat(t) end"),
    ("rep", "for i = 1, 1e5 do string.rep('ab', 1e6) end"),
];

/// Each one stops through the embedding API too: the instruction budget, a deadline in
/// the interrupt hook, and a cancel handle, within the limit plus a fraction of a second.
#[test]
fn builtin_work_meets_budget_deadline_and_cancel() {
    for (name, src) in BUILTIN_WORK {
        let lua = Lua::sandboxed();
        lua.set_budget(Some(10_000_000));
        let start = Instant::now();
        let r = lua.load(*src).exec();
        assert!(matches!(r, Err(Error::BudgetExhausted)), "{name} under a budget: {r:?}");
        assert!(start.elapsed() < Duration::from_secs(2), "{name}: the budget took {:?}", start.elapsed());

        let lua = Lua::sandboxed();
        let start = Instant::now();
        let deadline = start + Duration::from_millis(300);
        lua.set_interrupt(move || if Instant::now() >= deadline { Interrupt::Stop } else { Interrupt::Continue });
        let r = lua.load(*src).exec();
        assert!(matches!(r, Err(Error::Interrupted)), "{name} with a deadline: {r:?}");
        assert!(start.elapsed() < Duration::from_millis(1300), "{name}: the deadline took {:?}", start.elapsed());

        let lua = Lua::sandboxed();
        let cancel = lua.cancel_handle();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.cancel();
        });
        let start = Instant::now();
        let r = lua.load(*src).exec();
        t.join().unwrap();
        assert!(matches!(r, Err(Error::Cancelled)), "{name} cancelled: {r:?}");
        assert!(start.elapsed() < Duration::from_millis(1300), "{name}: the cancel took {:?}", start.elapsed());
    }
}

/// Memory a script makes a builtin hold is counted: string.buffer contents, encoded
/// graphs, formatted strings, compiled chunks.
#[test]
fn builtin_memory_meets_the_limit_through_the_facade() {
    let scripts = [
        ("buffers", "local b = require('string.buffer') local t = {} for i = 1, 100 do t[i] = b.new():put(string.rep('x', 4e6)) end"),
        ("encode", "local t = {string.rep('x', 1000)} for i = 1, 40 do t = {t, t} end return require('string.buffer').encode(t)"),
        ("format", "local s = string.rep('x', 4e6) return string.format(string.rep('%s', 100), unpack((function() local t = {} for i = 1, 100 do t[i] = s end return t end)()))"),
        ("compile", "local f, e = load('return {' .. string.rep('{1},', 4e5) .. '}') error(e, 0)"),
    ];
    for (name, src) in scripts {
        let lua = Lua::sandboxed();
        lua.set_memory_limit(Some(32 << 20));
        let r = lua.load(src).exec();
        let ok = match &r {
            Err(Error::MemoryError(_)) => true,
            Err(Error::RuntimeError(message)) => message.contains("not enough memory"),
            _ => false,
        };
        assert!(ok, "{name}: {r:?}");
        assert!(lua.used_memory() < 40 << 20, "{name}: {} bytes in use", lua.used_memory());
        assert_eq!(lua.load("return 1 + 1").eval::<i32>().unwrap(), 2);
    }
}
