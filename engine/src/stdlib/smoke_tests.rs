//! Whole-engine tests small enough for Miri (`cargo +nightly miri test -p
//! moonbox-engine smoke`): Lua programs that drive every unsafe path of the heap and
//! the objects — table growth and rehash, weak tables, finalizers, coroutine
//! switches (thread state swaps), open and closed upvalues, library calls back into
//! Lua under a pin, collections at every kind of collection point — and check their
//! results (each program prints the same under `luajit`).

use crate::value::Value;

/// Runs `src` in a fresh state with a tiny GC step (so collections interleave with
/// everything) and returns its results as strings.
fn run(src: &str) -> Vec<String> {
    let mut vm = crate::stdlib::test_vm();
    vm.set_gc_stress(true);
    let f = match vm.load(src.as_bytes(), b"=smoke", None) {
        Ok(f) => f,
        Err(e) => panic!("load: {}", vm.error_to_string(&e)),
    };
    let r = match vm.call_value(f, &[], -1) {
        Ok(r) => r,
        Err(e) => panic!("run: {}", vm.error_to_string(&e)),
    };
    r.iter().map(|&v| text(&mut vm, v)).collect()
}

fn text(vm: &mut crate::vm::Vm, v: Value) -> String {
    String::from_utf8_lossy(&vm.tostring_basic(v)).into_owned()
}

#[test]
fn smoke_tables_grow_rehash_and_shrink() {
    let r = run(r#"
        local t = {}
        for i = 1, 100 do t[i] = i * 2 end
        for i = 1, 100, 3 do t[i] = nil end
        for i = 1, 50 do t["k" .. i] = i end
        t[1.5] = "x"; t[-1] = "y"; t[0] = "z"
        local n, s = 0, 0
        for k, v in pairs(t) do n = n + 1; if type(v) == "number" then s = s + v end end
        table.insert(t, 1, "first"); table.remove(t, 1)
        return n, s, #t >= 0, t.k50, t[0]
    "#);
    assert_eq!(r, ["119", "7941", "true", "50", "z"]);
}

#[test]
fn smoke_weak_tables_and_finalizers() {
    let r = run(r#"
        local weak = setmetatable({}, {__mode = "v"})
        local keep = {}
        for i = 1, 20 do
            local o = {i}
            weak[i] = o
            if i % 2 == 0 then keep[#keep + 1] = o end
        end
        local finalized = 0
        for i = 1, 5 do
            local p = newproxy(true)
            getmetatable(p).__gc = function() finalized = finalized + 1 end
        end
        collectgarbage(); collectgarbage()
        local alive = 0
        for _ in pairs(weak) do alive = alive + 1 end
        return alive, finalized
    "#);
    assert_eq!(r, ["10", "5"]);
}

#[test]
fn smoke_coroutines_and_upvalues() {
    let r = run(r#"
        local function counter()
            local n = 0
            return function() n = n + 1; return n end
        end
        local c = counter()
        local co = coroutine.wrap(function(a)
            local x = a
            local inc = function() x = x + 1 end
            for i = 1, 10 do inc(); coroutine.yield(x + c()) end
            return "done"
        end)
        local last
        for i = 1, 10 do last = co(i == 1 and 100 or nil) end
        local gen = coroutine.create(function() local t = {} for i = 1, 30 do t[i] = {i} coroutine.yield(#t) end end)
        local m = 0
        while coroutine.status(gen) ~= "dead" do local ok, v = coroutine.resume(gen); if v then m = v end end
        return last, co(), m
    "#);
    assert_eq!(r, ["120", "done", "30"]);
}

#[test]
fn smoke_library_calls_back_into_lua() {
    let r = run(r#"
        local t = {}
        for i = 1, 40 do t[i] = {v = (i * 7) % 40} end
        table.sort(t, function(a, b) local tmp = {a.v, b.v} return tmp[1] < tmp[2] end)
        local s = ("abc"):rep(20):gsub("b", function(c) return ({c})[1]:upper() end)
        local mt = {__tostring = function(o) return "obj" .. o[1] end}
        local parts = {}
        for i = 1, 10 do parts[i] = tostring(setmetatable({i}, mt)) end
        local ok, err = pcall(error, setmetatable({}, {__tostring = function() return "boom" end}))
        return t[1].v, t[40].v, #s, table.concat(parts, ","):sub(1, 14), tostring(err)
    "#);
    assert_eq!(r, ["0", "39", "60", "obj1,obj2,obj3", "boom"]);
}

#[test]
fn smoke_buffers_strings_and_errors() {
    let r = run(r#"
        local buf = require("string.buffer").new()
        for i = 1, 50 do buf:put(i, ",") end
        local enc = require("string.buffer").encode({1, 2, {x = "y"}})
        local dec = require("string.buffer").decode(enc)
        local ok, e = pcall(function() local x = nil; return x.y end)
        local ok2 = pcall(string.rep, "x", -1)
        return #buf:tostring(), dec[3].x, ok, (e:find("attempt to index")), ok2
    "#);
    assert_eq!(r, ["141", "y", "false", "10", "true"]);
}
