//! Micro-benchmarks of the interpreter's hot paths, each a Lua loop of 1000 steps
//! (divide by 1000 for one step) unless its name says otherwise.
//!
//! - `table_*`: array-part reads and writes (`TGETV`/`TSETV`), string-key fields
//!   (`TGETS`/`TSETS`), globals (`GGET`/`GSET`), and the Rust API's `Table::get`/`set`
//!   (one call each).
//! - `call_*`: Lua-to-Lua calls, tail calls, method calls through an `__index` chain,
//!   closure creation (`FNEW`) with one upvalue.
//! - `intern_*`: building strings that are new each time (`"k" .. i`) or already
//!   interned, and `Lua::create_string` (one call).
//! - `state_new` / `state_sandboxed`: creating a state with its libraries (one each;
//!   the drop is not timed), and `state_new_drop`: creating and dropping one.
//!
//! Run with `cargo bench --bench vm`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use moonbox::{Function, Lua, Table};

fn lua_fn(lua: &Lua, src: &str) -> Function {
    lua.load(src).eval().unwrap()
}

fn tables(c: &mut Criterion) {
    let lua = Lua::new();
    let arr = lua_fn(
        &lua,
        "function() local t = {} for i = 1, 1000 do t[i] = i end local s = 0 for i = 1, 1000 do s = s + t[i] end return s end",
    );
    let fields = lua_fn(
        &lua,
        "function() local p = {x = 0, y = 0} for i = 1, 1000 do p.x = p.x + i p.y = p.x end return p.y end",
    );
    let globals =
        lua_fn(&lua, "function() counter = 0 for i = 1, 1000 do counter = counter + i end return counter end");
    c.bench_function("table_array_set_get_x1000", |b| b.iter(|| arr.call::<f64>(()).unwrap()));
    c.bench_function("table_field_get_set_x1000", |b| b.iter(|| fields.call::<f64>(()).unwrap()));
    c.bench_function("table_global_get_set_x1000", |b| b.iter(|| globals.call::<f64>(()).unwrap()));

    let t: Table = lua.create_table().unwrap();
    t.set("key", 1.0).unwrap();
    c.bench_function("table_api_set", |b| b.iter(|| t.set(black_box("key"), black_box(2.0)).unwrap()));
    c.bench_function("table_api_get", |b| b.iter(|| t.get::<f64>(black_box("key")).unwrap()));
}

fn calls(c: &mut Criterion) {
    let lua = Lua::new();
    let direct = lua_fn(
        &lua,
        "function() local function f(a, b) return a + b end local s = 0 for i = 1, 1000 do s = f(s, i) end return s end",
    );
    let tail = lua_fn(
        &lua,
        "function() local function g(a) return a end local function f(a) return g(a + 1) end \
         local s = 0 for i = 1, 1000 do s = f(s) end return s end",
    );
    let method = lua_fn(
        &lua,
        "function() \
           local Base = {} Base.__index = Base function Base:get() return self.v end \
           local Derived = setmetatable({}, Base) Derived.__index = Derived \
           local o = setmetatable({v = 1}, Derived) \
           local s = 0 for i = 1, 1000 do s = s + o:get() end return s end",
    );
    let closure = lua_fn(
        &lua,
        "function() local s = 0 for i = 1, 1000 do local f = function() return i end s = s + f() end return s end",
    );
    c.bench_function("call_lua_x1000", |b| b.iter(|| direct.call::<f64>(()).unwrap()));
    c.bench_function("call_tail_x1000", |b| b.iter(|| tail.call::<f64>(()).unwrap()));
    c.bench_function("call_method_index_chain_x1000", |b| b.iter(|| method.call::<f64>(()).unwrap()));
    c.bench_function("call_closure_new_x1000", |b| b.iter(|| closure.call::<f64>(()).unwrap()));
}

fn strings(c: &mut Criterion) {
    let lua = Lua::new();
    let fresh =
        lua_fn(&lua, "function() local n = 0 for i = 1, 1000 do local s = 'k' .. i n = n + #s end return n end");
    let same =
        lua_fn(&lua, "function() local n = 0 for i = 1, 1000 do local s = 'k' .. 'v' n = n + #s end return n end");
    c.bench_function("intern_concat_new_x1000", |b| b.iter(|| fresh.call::<f64>(()).unwrap()));
    c.bench_function("intern_concat_existing_x1000", |b| b.iter(|| same.call::<f64>(()).unwrap()));
    c.bench_function("intern_create_string", |b| b.iter(|| lua.create_string(black_box("hello world")).unwrap()));
}

fn states(c: &mut Criterion) {
    c.bench_function("state_new", |b| b.iter_with_large_drop(Lua::new));
    c.bench_function("state_sandboxed", |b| b.iter_with_large_drop(Lua::sandboxed));
    c.bench_function("state_new_drop", |b| b.iter(Lua::new));
}

criterion_group!(benches, tables, calls, strings, states);
criterion_main!(benches);
