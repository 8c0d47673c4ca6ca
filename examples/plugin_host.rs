//! A plugin host: loads several scripts, each in its own environment table, gives them
//! a small host API, and dispatches events to them.
//!
//! Run with `cargo run --example plugin_host`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use moonbox::{Function, Lua, Result, Table, Value};

/// One loaded plugin.
struct Plugin {
    name: String,
    env: Table,
    handlers: BTreeMap<String, Function>,
}

struct Host {
    lua: Lua,
    plugins: Vec<Plugin>,
    log: Rc<RefCell<Vec<String>>>,
}

impl Host {
    fn new() -> Result<Host> {
        let lua = Lua::sandboxed();
        lua.set_memory_limit(Some(32 << 20));
        let log = Rc::new(RefCell::new(Vec::new()));

        // The host API, shared by all plugins: host.log(msg), host.version.
        let api = lua.create_table()?;
        let l = log.clone();
        api.set(
            "log",
            lua.create_function(move |lua, msg: String| {
                let plugin: String = lua.globals().get::<Option<String>>("__current_plugin")?.unwrap_or_default();
                l.borrow_mut().push(format!("[{plugin}] {msg}"));
                Ok(())
            })?,
        )?;
        api.set("version", "1.0")?;
        lua.globals().set("host", api)?;
        Ok(Host { lua, plugins: Vec::new(), log })
    }

    /// Loads a plugin: runs its source in a fresh environment whose lookups fall back
    /// to the globals, then collects the `on_<event>` functions it defined.
    fn load(&mut self, name: &str, source: &str) -> Result<()> {
        let lua = &self.lua;
        let env = lua.create_table()?;
        let meta = lua.create_table()?;
        meta.set("__index", lua.globals())?;
        env.set_metatable(Some(meta))?;
        lua.globals().set("__current_plugin", name)?;
        lua.set_budget(Some(1_000_000));
        lua.load(source).set_name(format!("@plugins/{name}.lua")).set_environment(env.clone()).exec()?;
        let mut handlers = BTreeMap::new();
        for pair in env.pairs::<String, Value>() {
            let (k, v) = pair?;
            if let (Some(event), Value::Function(f)) = (k.strip_prefix("on_"), v) {
                handlers.insert(event.to_string(), f);
            }
        }
        self.plugins.push(Plugin { name: name.to_string(), env, handlers });
        Ok(())
    }

    /// Sends an event to every plugin that handles it; a failing plugin is reported
    /// and skipped.
    fn dispatch(&self, event: &str, payload: &str) -> Vec<(String, String)> {
        let mut replies = Vec::new();
        for p in &self.plugins {
            let Some(h) = p.handlers.get(event) else { continue };
            let _ = self.lua.globals().set("__current_plugin", p.name.as_str());
            self.lua.set_budget(Some(100_000));
            match h.call::<Option<String>>(payload) {
                Ok(Some(reply)) => replies.push((p.name.clone(), reply)),
                Ok(None) => {}
                Err(e) => replies.push((p.name.clone(), format!("failed: {e}"))),
            }
        }
        replies
    }
}

fn main() -> Result<()> {
    let mut host = Host::new()?;
    let plugins = [
        (
            "greeter",
            r#"
            local count = 0
            function on_message(text)
                count = count + 1
                host.log("greeting #" .. count)
                return "hello, " .. text
            end
            "#,
        ),
        (
            "shouter",
            r#"
            function on_message(text) return string.upper(text) .. "!" end
            function on_shutdown() host.log("bye from shouter (host " .. host.version .. ")") end
            "#,
        ),
        (
            "counter",
            r#"
            local words = 0
            function on_message(text)
                for _ in text:gmatch("%S+") do words = words + 1 end
                return "words so far: " .. words
            end
            "#,
        ),
        ("broken", "function on_message(text) return text .. nil end"),
        ("looping", "function on_message() while true do end end"),
    ];
    for (name, src) in plugins {
        host.load(name, src)?;
        println!("loaded {name}");
    }
    // A plugin that fails to load does not take the host down.
    if let Err(e) = host.load("bad_syntax", "function on_message(") {
        println!("could not load bad_syntax: {e}");
    }

    for msg in ["world", "moonbox plugins"] {
        println!("message {msg:?}:");
        for (plugin, reply) in host.dispatch("message", msg) {
            println!("  {plugin}: {reply}");
        }
    }
    host.dispatch("shutdown", "");
    println!("host log:");
    for line in host.log.borrow().iter() {
        println!("  {line}");
    }
    // The plugins' environments are separate.
    let counter = host.plugins.iter().find(|p| p.name == "counter").map(|p| p.env.clone());
    if let Some(env) = counter {
        println!("counter env has on_message: {}", env.contains_key("on_message")?);
        println!("globals have on_message: {}", host.lua.globals().contains_key("on_message")?);
    }
    Ok(())
}
