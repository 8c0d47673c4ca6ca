//! The cost of crossing the Rust/Lua boundary.
//!
//! - `rust_to_lua`: `Function::call` of `function(a, b) return a + b end` with two
//!   numbers, returning a number.
//! - `lua_to_rust`: a Lua loop making 1000 calls of a Rust `add(a, b)`; reported per
//!   loop (divide by 1000 for one call; `lua_to_lua` is the same loop calling a Lua
//!   function, for the loop's own cost).
//! - `lua_to_rust_string`: the same with a string argument and result.
//!
//! Run with `cargo bench --bench calls`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use moonbox::{Function, Lua};

fn calls(c: &mut Criterion) {
    let lua = Lua::new();
    let add_lua: Function = lua.load("function(a, b) return a + b end").eval().unwrap();
    c.bench_function("rust_to_lua", |b| b.iter(|| add_lua.call::<f64>(black_box((1.0, 2.0))).unwrap()));

    let add = lua.create_function(|_, (a, b): (f64, f64)| Ok(a + b)).unwrap();
    lua.globals().set("add", add).unwrap();
    lua.globals().set("add_lua", &add_lua).unwrap();
    let upper = lua.create_function(|_, s: String| Ok(s.len())).unwrap();
    lua.globals().set("len", upper).unwrap();

    let loop_rust: Function =
        lua.load("function() local s = 0 for i = 1, 1000 do s = add(s, i) end return s end").eval().unwrap();
    let loop_lua: Function =
        lua.load("function() local s = 0 for i = 1, 1000 do s = add_lua(s, i) end return s end").eval().unwrap();
    let loop_str: Function =
        lua.load("function() local s = 0 for i = 1, 1000 do s = s + len('hello') end return s end").eval().unwrap();
    c.bench_function("lua_to_rust_x1000", |b| b.iter(|| loop_rust.call::<f64>(()).unwrap()));
    c.bench_function("lua_to_lua_x1000", |b| b.iter(|| loop_lua.call::<f64>(()).unwrap()));
    c.bench_function("lua_to_rust_string_x1000", |b| b.iter(|| loop_str.call::<f64>(()).unwrap()));
}

criterion_group!(benches, calls);
criterion_main!(benches);
