//! Calling Lua from Rust and Rust from Lua.
//!
//! Run with `cargo run --example call_lua`.

use moonbox::{Function, Lua, Result, Table, Variadic};

fn main() -> Result<()> {
    let lua = Lua::new();

    // Rust -> Lua: define Lua functions, fetch them, call them with typed arguments.
    lua.load(
        r#"
        function fib(n)
            if n < 2 then return n end
            return fib(n - 1) + fib(n - 2)
        end

        function stats(xs)
            local sum, min, max = 0, math.huge, -math.huge
            for _, x in ipairs(xs) do
                sum = sum + x
                min = math.min(min, x)
                max = math.max(max, x)
            end
            return sum / #xs, min, max
        end
        "#,
    )
    .set_name("=lib")
    .exec()?;

    let fib: Function = lua.globals().get("fib")?;
    println!("fib(20) = {}", fib.call::<u32>(20)?);

    let stats: Function = lua.globals().get("stats")?;
    let (mean, min, max): (f64, f64, f64) = stats.call(vec![3.0, 1.0, 4.0, 1.0, 5.0])?;
    println!("mean {mean}, min {min}, max {max}");

    // Lua -> Rust: expose Rust closures. Arguments and results are converted; the
    // closure gets `&Lua` and may use it (create tables, call back into Lua).
    let word_count = lua.create_function(|lua, text: String| {
        let counts = lua.create_table()?;
        for w in text.split_whitespace() {
            let n: u32 = counts.get::<Option<u32>>(w)?.unwrap_or(0);
            counts.set(w, n + 1)?;
        }
        Ok(counts)
    })?;
    lua.globals().set("word_count", word_count)?;

    let join = lua.create_function(|_, (sep, parts): (String, Variadic<String>)| Ok(parts.join(&sep)))?;
    lua.globals().set("join", join)?;

    let apply_twice = lua.create_function(|_, (f, x): (Function, f64)| {
        let once: f64 = f.call(x)?;
        f.call::<f64>(once)
    })?;
    lua.globals().set("apply_twice", apply_twice)?;

    let report: String = lua
        .load(
            r#"
            local c = word_count("the cat saw the other cat and the dog")
            local keys = {}
            for k in pairs(c) do keys[#keys + 1] = k end
            table.sort(keys)
            local parts = {}
            for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. c[k] end
            return join(", ", unpack(parts)) .. " | " .. apply_twice(function(x) return x * x end, 3)
            "#,
        )
        .set_name("=report")
        .eval()?;
    println!("{report}");

    // Errors cross the boundary both ways.
    let checked_div = lua.create_function(|_, (a, b): (f64, f64)| {
        if b == 0.0 {
            return Err(moonbox::Error::runtime("division by zero"));
        }
        Ok(a / b)
    })?;
    lua.globals().set("checked_div", checked_div)?;
    let caught: String = lua
        .load("local ok, err = pcall(function() return checked_div(1, 0) end) return err")
        .set_name("=div")
        .eval()?;
    println!("Lua caught: {caught}");
    match lua.load("checked_div(1, 0)").set_name("=uncaught").exec() {
        Err(e) => println!("Rust got: {e}"),
        Ok(()) => unreachable!(),
    }

    // Tables go both ways as handles.
    let config: Table = lua.load("{ name = 'moonbox', tags = { 'lua', 'rust' } }").eval()?;
    let tags: Vec<String> = config.get("tags")?;
    println!("{} tagged {:?}", config.get::<String>("name")?, tags);
    Ok(())
}
