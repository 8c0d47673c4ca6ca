//! Evaluating untrusted configuration in a sandboxed state with limits.
//!
//! Each configuration file runs in a fresh sandboxed state with a memory limit and an
//! instruction budget; a watchdog can cancel it from another thread. The result is
//! read back into a Rust struct. Run with `cargo run --example sandbox_config`.

use std::time::Duration;

use moonbox::{Error, Lua, LuaOptions, Result, Table};

#[derive(Debug)]
#[allow(dead_code)] // read through `Debug`
struct ServerConfig {
    host: String,
    port: u16,
    workers: u32,
    routes: Vec<String>,
}

fn read_config(t: &Table) -> Result<ServerConfig> {
    Ok(ServerConfig {
        host: t.get::<Option<String>>("host")?.unwrap_or_else(|| "127.0.0.1".into()),
        port: t.get("port")?,
        workers: t.get::<Option<u32>>("workers")?.unwrap_or(1),
        routes: t.get::<Option<Vec<String>>>("routes")?.unwrap_or_default(),
    })
}

/// Runs one untrusted configuration source and returns its `config` table.
fn evaluate(name: &str, source: &str) -> Result<ServerConfig> {
    let lua = Lua::with_options(LuaOptions {
        sandboxed: true,
        memory_limit: Some(8 << 20),        // 8 MiB of live Lua heap
        instruction_limit: Some(2_000_000), // loop iterations and calls
        ..LuaOptions::default()
    });
    // Capture `print` instead of letting it reach our stdout.
    let tag = name.to_string();
    lua.set_output(move |bytes| print!("  [{tag} says] {}", String::from_utf8_lossy(bytes)))?;

    // A helper the configuration may call.
    let env = lua.create_function(|_, (key, default): (String, String)| {
        // Only whitelisted, fake "environment" values: the sandbox has no os.getenv.
        Ok(match key.as_str() {
            "REGION" => "eu-west".to_string(),
            _ => default,
        })
    })?;
    lua.globals().set("env", env)?;

    // A watchdog: whatever the budget says, stop after 2 seconds of wall time.
    let cancel = lua.cancel_handle();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(Duration::from_secs(2)).is_err() {
            cancel.cancel();
        }
    });

    let result = lua.load(source).set_name(format!("@{name}")).exec();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    result?;

    let config: Table = lua.globals().get("config")?;
    read_config(&config)
}

fn main() {
    let configs = [
        (
            "good.lua",
            r#"
            local base = 8000
            config = {
                host = "0.0.0.0",
                port = base + 80,
                workers = 4,
                routes = {},
            }
            for _, r in ipairs({ "/", "/api", "/health" }) do
                table.insert(config.routes, r)
            end
            print("configured for region " .. env("REGION", "none"))
            "#,
        ),
        ("typo.lua", "config = { port = 80, workers = 'many' }"),
        ("syntax.lua", "config = { port = 80"),
        ("spin.lua", "while true do end"),
        ("hog.lua", "local t = {} for i = 1, 1e9 do t[i] = { i } end"),
        ("escape.lua", "config = { port = 1 } os.execute('rm -rf /')"),
        ("files.lua", "config = { port = 1 } local f = io.open('/etc/passwd')"),
        ("sneaky.lua", "config = { port = 1 } pcall(function() while true do end end) print('still here')"),
    ];
    for (name, source) in configs {
        println!("{name}:");
        match evaluate(name, source) {
            Ok(cfg) => println!("  ok: {cfg:?}"),
            Err(Error::BudgetExhausted) => println!("  rejected: used up its instruction budget"),
            Err(Error::MemoryError(m)) => println!("  rejected: {m}"),
            Err(Error::Cancelled) => println!("  rejected: took too long"),
            Err(Error::SyntaxError { message, .. }) => println!("  rejected: syntax error: {message}"),
            Err(e) => println!("  rejected: {e}"),
        }
    }
}
