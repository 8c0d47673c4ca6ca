//! Hostile scripts: each is stopped with the right outcome, and a tenant that traps,
//! loops or exhausts its memory does not disturb tenants running beside it.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{run, sandbox, stderr, stdout};
use moonbox_host_wasi::{Outcome, Sandbox, SandboxConfig, Script, Tenant};

const LOOP: &str = "while true do end";
/// The issue's bomb. Equal strings are interned, so it grows by one table slot per
/// megabyte copied: slow to reach any cap, but a deadline stops it.
const SLOW_BOMB: &str = r#"local t = {} while true do t[#t + 1] = ("x"):rep(1e6) end"#;
/// The same with distinct strings: a megabyte per iteration.
const MEMORY_BOMB: &str = r#"local t = {} while true do t[#t + 1] = ("x"):rep(1e6) .. #t end"#;
const REP_BOMB: &str = "local s = string.rep('x', 2^30) print(#s)";
const RECURSION: &str = "local function f(n) return f(n + 1) + 1 end f(1)";
/// Deep enough to exhaust a small Wasm stack in the parser (which recurses, within
/// its nesting limit).
fn deep_parse() -> String {
    format!("return {}1{}", "(".repeat(180), ")".repeat(180))
}

fn limited() -> Tenant {
    Tenant::new().memory(16 << 20).timeout(Some(Duration::from_millis(300)))
}

#[test]
fn infinite_loop_times_out() {
    let t0 = Instant::now();
    let r = run(&limited(), LOOP);
    assert_eq!(r.outcome, Outcome::Timeout);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert!(r.wall_time >= Duration::from_millis(290), "{:?}", r.wall_time);
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let r = run(&limited().fuel(Some(5_000_000)), LOOP);
    assert_eq!(r.outcome, Outcome::OutOfFuel);
    assert_eq!(r.fuel_used, 5_000_000);
}

#[test]
fn memory_bomb_hits_the_cap() {
    let r = run(&limited(), MEMORY_BOMB);
    assert_eq!(r.outcome, Outcome::MemoryLimit, "{}", stderr(&r));
    assert!(r.peak_memory <= limited().hard_memory_cap(), "{}", r.peak_memory);
}

#[test]
fn interned_bomb_is_stopped() {
    let r = run(&limited(), SLOW_BOMB);
    assert!(matches!(r.outcome, Outcome::Timeout | Outcome::MemoryLimit), "{:?}", r.outcome);
}

#[test]
fn string_rep_bomb_hits_the_cap() {
    let r = run(&limited(), REP_BOMB);
    assert_eq!(r.outcome, Outcome::MemoryLimit, "{}", stderr(&r));
}

#[test]
fn memory_error_is_catchable_and_the_state_goes_on() {
    let r =
        run(&limited(), &format!("print(pcall(function() {MEMORY_BOMB} end)) collectgarbage() print('still here')"));
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    assert_eq!(stdout(&r), "false\tnot enough memory\nstill here\n");
}

#[test]
fn deep_recursion_is_a_lua_error() {
    let r = run(&limited(), RECURSION);
    match &r.outcome {
        Outcome::LuaError { message } => assert!(message.contains("stack overflow"), "{message}"),
        o => panic!("{o:?}: {}", stderr(&r)),
    }
    assert!(stderr(&r).starts_with("moonbox: test.lua:1: stack overflow"), "{}", stderr(&r));
    assert!(stderr(&r).contains("stack traceback:"), "{}", stderr(&r));
    assert_eq!(r.exit_code, 1);
}

#[test]
fn output_flood_is_cut() {
    let r =
        run(&limited().stdio(moonbox_host_wasi::Stdio::Capture(64 << 10)), "while true do print(('x'):rep(1000)) end");
    assert_eq!(r.outcome, Outcome::OutputLimit, "{}", stderr(&r));
    assert!(r.stdout.len() <= 64 << 10);
}

#[test]
fn escapes_to_the_system_are_absent() {
    let r = run(&limited(), "os.execute('echo pwned')");
    match &r.outcome {
        Outcome::LuaError { message } => assert!(message.contains("attempt to call field 'execute'"), "{message}"),
        o => panic!("{o:?}"),
    }
    let r = run(&limited(), "io.open('/etc/passwd'):read('*a')");
    assert!(matches!(r.outcome, Outcome::LuaError { .. }), "{:?}", r.outcome);
}

#[test]
fn lua_errors_and_exit_codes() {
    let r = run(&limited(), "error('boom')");
    assert_eq!(r.outcome, Outcome::LuaError { message: "test.lua:1: boom".into() });
    let r = run(&limited(), "x = = 1");
    assert!(
        matches!(&r.outcome, Outcome::LuaError { message } if message.contains("unexpected symbol")),
        "{:?}",
        r.outcome
    );
    let r = run(&limited(), "print(...)");
    assert_eq!(r.outcome, Outcome::Ok);
    assert_eq!(r.exit_code, 0);
}

/// A sandbox whose Wasm stack is too small for deep parsing: a reliable way to make
/// a tenant trap.
fn small_stack_sandbox() -> Sandbox {
    Sandbox::with_config(SandboxConfig { max_wasm_stack: 64 << 10, max_concurrent: 8, ..SandboxConfig::default() })
        .unwrap()
}

#[test]
fn a_trap_is_reported() {
    let s = small_stack_sandbox();
    let r = s.run(&limited(), &Script::source("deep.lua", deep_parse()), &[]).unwrap();
    assert!(matches!(r.outcome, Outcome::Trap { .. }), "{:?} {}", r.outcome, stderr(&r));
    // The same sandbox goes on serving.
    let r = s.run(&limited(), &Script::source("ok.lua", "print(1)"), &[]).unwrap();
    assert_eq!(r.outcome, Outcome::Ok);
}

/// Bad tenants on four threads, a good one on a fifth checking its answers all along.
#[test]
fn bad_tenants_do_not_disturb_good_ones() {
    let trap_box = Arc::new(small_stack_sandbox());
    let big = |f: Box<dyn FnOnce() -> Vec<Outcome> + Send>| {
        std::thread::Builder::new().stack_size(16 << 20).spawn(f).unwrap()
    };
    let bad: Vec<(Outcome, std::thread::JoinHandle<Vec<Outcome>>)> = vec![
        (Outcome::Timeout, big(Box::new(|| (0..3).map(|_| run(&limited(), LOOP).outcome).collect()))),
        (Outcome::MemoryLimit, big(Box::new(|| (0..3).map(|_| run(&limited(), MEMORY_BOMB).outcome).collect()))),
        (
            Outcome::OutOfFuel,
            big(Box::new(|| (0..3).map(|_| run(&limited().fuel(Some(20_000_000)), LOOP).outcome).collect())),
        ),
        (Outcome::Trap { message: String::new() }, {
            let s = trap_box.clone();
            big(Box::new(move || {
                (0..20)
                    .map(|_| s.run(&limited(), &Script::source("deep.lua", deep_parse()), &[]).unwrap().outcome)
                    .collect()
            }))
        }),
    ];
    let good = big(Box::new(|| {
        let t0 = Instant::now();
        let mut outcomes = Vec::new();
        while t0.elapsed() < Duration::from_millis(900) {
            let r = run(&limited(), "local s = 0 for i = 1, 100000 do s = s + i % 7 end print(s)");
            assert_eq!(stdout(&r), "300000\n");
            outcomes.push(r.outcome);
        }
        outcomes
    }));
    for (want, h) in bad {
        for got in h.join().unwrap() {
            match (&want, &got) {
                (Outcome::Trap { .. }, Outcome::Trap { .. }) => {}
                _ => assert_eq!(want, got),
            }
        }
    }
    let good = good.join().unwrap();
    assert!(good.len() > 3, "{}", good.len());
    assert!(good.iter().all(Outcome::is_ok));
    let _ = sandbox();
}

/// The engine's own depth limits (C-call nesting, parser levels, pattern
/// complexity, Lua stack) end in Lua errors well inside the default 1 MiB Wasm stack
/// and the guest's 1 MiB shadow stack.
#[test]
fn bounded_recursion_fits_the_default_stacks() {
    let r = run(&limited(), DEPTHS);
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    let out = stdout(&r);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("C stack overflow"), "{}", lines[0]);
    assert!(lines[1].contains("too many syntax levels"), "{}", lines[1]);
    assert_eq!(lines[2], "1");
    assert!(lines[3].starts_with("true\ttable: "), "{}", lines[3]);
    assert!(lines[4].starts_with("false\t") || lines[4].starts_with("true"), "{}", lines[4]);
    assert!(lines[5].contains("stack overflow"), "{}", lines[5]);
    assert!(lines[6].starts_with("true\tyyy"), "{}", lines[6]);
}

const DEPTHS: &str = r#"
local function f(n)
  if n == 0 then return 0 end
  local r
  table.sort({2, 1}, function(a, b) r = f(n - 1) return a < b end)
  return r
end
print(pcall(f, 250))
print(pcall(load, "return " .. ("("):rep(250) .. "1" .. (")"):rep(250)))
print(load("return " .. ("("):rep(190) .. "1" .. (")"):rep(190))())
print(pcall(load("return " .. ("{"):rep(190) .. ("}"):rep(190))))
print(pcall(string.find, ("a"):rep(300000), ("a?"):rep(5000) .. ("a"):rep(5000)))
local t = setmetatable({}, {__index = function(t, k) return t[k + 1] end})
print(pcall(function() return t[1] end))
print(pcall(string.gsub, ("x"):rep(1000), "x", function()
  return tostring(setmetatable({}, {__tostring = function() return "y" end}))
end))
"#;

/// More tenants at once than the pool has slots: the extra run is refused with a
/// host error, and the pool serves again once a slot is free.
#[test]
fn a_full_pool_refuses_instead_of_waiting() {
    use std::sync::Barrier;
    let s = Arc::new(Sandbox::with_config(SandboxConfig { max_concurrent: 1, ..SandboxConfig::default() }).unwrap());
    let (entered, release) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let (e, r) = (entered.clone(), release.clone());
    let blocking = Tenant::new()
        .function("block", move |_| {
            e.wait();
            r.wait();
            Ok(vec![])
        })
        .unwrap();
    let s2 = s.clone();
    let h = std::thread::spawn(move || s2.run(&blocking, &Script::source("b.lua", "block()"), &[]).unwrap().outcome);
    entered.wait();
    assert!(s.run(&limited(), &Script::source("x.lua", "print(1)"), &[]).is_err());
    release.wait();
    assert_eq!(h.join().unwrap(), Outcome::Ok);
    assert_eq!(s.run(&limited(), &Script::source("x.lua", "print(1)"), &[]).unwrap().outcome, Outcome::Ok);
}

/// `Tenant::memory` bounds the whole instance, allocator overhead included: 1.5 × the
/// limit + 8 MiB of linear memory at most (the old cap, twice the limit + 4 MiB, let a
/// run reach 2x), and a heap of small objects, the allocator's worst case, still gets
/// the catchable "not enough memory" before the cap refuses anything.
#[test]
fn memory_bounds_the_whole_tenant() {
    const M: usize = 64 << 20;
    let bound = M + M / 2 + (8 << 20);
    let t = Tenant::new().memory(M).timeout(Some(Duration::from_secs(30)));
    assert_eq!(t.hard_memory_cap(), bound);
    // Small objects: a Lua error, caught; the state goes on.
    let r = run(
        &t,
        "local t, i = {}, 0
         print(pcall(function() while true do i = i + 1 t[i] = { i, 'k' .. i } end end))
         t = nil collectgarbage() print(i > 100000, 'after')",
    );
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    assert_eq!(stdout(&r), "false\tnot enough memory\ntrue\tafter\n");
    assert!(r.peak_memory <= bound, "{} MiB", r.peak_memory >> 20);
    // Coroutines, which the engine accounts short: the cap stops them, at the bound.
    let r = run(&t, "local t = {} for i = 1, 1e8 do t[i] = coroutine.create(function() end) end");
    assert_eq!(r.outcome, Outcome::MemoryLimit, "{}", stderr(&r));
    assert!(r.peak_memory <= bound, "{} MiB", r.peak_memory >> 20);
}
