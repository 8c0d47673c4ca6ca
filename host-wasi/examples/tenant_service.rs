//! A small multi-tenant service: three tenants, each with its own script, limits,
//! directory grants and host functions, serving a stream of requests on two worker
//! threads. Every request runs in a fresh sandboxed instance; a tenant's state lives
//! in its key-value store on the host, not in the instance.
//!
//! The host functions are where tenant data reaches the host, so they carry quotas:
//! `kv.set` bounds key and value sizes, the number of keys and the bytes a tenant
//! stores; `log` takes a few arguments, caps each line, escapes control characters
//! and invalid UTF-8 (no terminal escapes, no forged log lines) and rate-limits each
//! tenant. Whatever a script sends, the host's stderr and memory see bounded, plain
//! text. (`cargo test --example tenant_service` checks that.)
//!
//! ```sh
//! cargo run --release -p moonbox-host-wasi --example tenant_service
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moonbox_host_wasi::{HostValue, Sandbox, SandboxConfig, Script, Tenant};

/// What one tenant may put into the host.
#[derive(Clone, Copy, Debug)]
struct Quotas {
    /// Longest key of `kv.set`, in bytes.
    max_key: usize,
    /// Longest value of `kv.set`, in bytes.
    max_value: usize,
    /// Most keys in a tenant's store.
    max_keys: usize,
    /// Most bytes (keys + values) in a tenant's store.
    max_stored: usize,
    /// Most arguments to `log`.
    max_log_args: usize,
    /// Longest log line (after escaping), in bytes; longer ones are cut and say so.
    max_log_line: usize,
    /// Log lines a tenant may write at once (a token bucket) ...
    log_burst: u32,
    /// ... and per second after that; the rest are dropped and counted.
    log_per_second: u32,
}

impl Default for Quotas {
    fn default() -> Quotas {
        Quotas {
            max_key: 256,
            max_value: 64 << 10,
            max_keys: 1000,
            max_stored: 1 << 20,
            max_log_args: 8,
            max_log_line: 300,
            log_burst: 20,
            log_per_second: 10,
        }
    }
}

/// A tenant's store and its size.
#[derive(Default)]
struct Store {
    map: HashMap<Vec<u8>, Vec<u8>>,
    bytes: usize,
}

/// A tenant's log: where lines go, and its rate limit.
struct Log {
    tenant: &'static str,
    sink: Box<dyn Fn(&str) + Send + Sync>,
    tokens: f64,
    refilled: Instant,
    dropped: u64,
}

type Kv = Arc<Mutex<Store>>;

/// Tenant text made safe for a log line: invalid UTF-8, control characters
/// (newlines, escape sequences) and the other invisible ones are written as escapes,
/// and the line is cut at `max` bytes, saying how much was cut.
fn sanitize(parts: &[HostValue], max: usize) -> String {
    let mut out = String::new();
    let mut total = 0usize;
    for (i, v) in parts.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let text = match v {
            HostValue::Nil => "nil".to_string(),
            HostValue::Bool(b) => b.to_string(),
            HostValue::Number(n) => format!("{n}"),
            HostValue::Str(s) => {
                total += s.len();
                let mut t = String::new();
                for chunk in s.utf8_chunks() {
                    for c in chunk.valid().chars() {
                        if c.is_control()
                            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
                        {
                            let _ = write!(t, "\\u{{{:x}}}", c as u32);
                        } else {
                            t.push(c);
                        }
                    }
                    for b in chunk.invalid() {
                        let _ = write!(t, "\\x{b:02x}");
                    }
                    if t.len() > max {
                        break; // enough to fill the line
                    }
                }
                t
            }
        };
        out.push_str(&text);
        if out.len() > max {
            break;
        }
    }
    if out.len() > max {
        let mut cut = max;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        let _ = write!(out, "... (cut; {total} bytes of text in all)");
    }
    out
}

/// `kv.get`, `kv.set` (over the tenant's own store, with quotas) and `log` (capped,
/// escaped, rate-limited), writing log lines to `sink`.
fn with_host_functions(
    t: Tenant,
    name: &'static str,
    kv: Kv,
    q: Quotas,
    sink: Box<dyn Fn(&str) + Send + Sync>,
) -> Tenant {
    let (k1, k2) = (kv.clone(), kv);
    let log = Arc::new(Mutex::new(Log {
        tenant: name,
        sink,
        tokens: q.log_burst.into(),
        refilled: Instant::now(),
        dropped: 0,
    }));
    t.function("kv.get", move |a| {
        let key = a.first().and_then(HostValue::as_bytes).ok_or("kv.get(key) takes a string")?;
        let store = k1.lock().unwrap_or_else(|e| e.into_inner());
        Ok(vec![store.map.get(key).cloned().map_or(HostValue::Nil, HostValue::Str)])
    })
    .and_then(|t| {
        t.function("kv.set", move |a| {
            let [HostValue::Str(k), HostValue::Str(v)] = a else {
                return Err("kv.set(key, value) takes two strings".into());
            };
            if k.is_empty() || k.len() > q.max_key {
                return Err(format!("kv.set: key of {} bytes (1 to {} allowed)", k.len(), q.max_key));
            }
            if v.len() > q.max_value {
                return Err(format!("kv.set: value of {} bytes (at most {} allowed)", v.len(), q.max_value));
            }
            let mut store = k2.lock().unwrap_or_else(|e| e.into_inner());
            let old = store.map.get(k).map(|o| k.len() + o.len());
            if old.is_none() && store.map.len() >= q.max_keys {
                return Err(format!("kv.set: store full ({} keys)", q.max_keys));
            }
            let bytes = store.bytes - old.unwrap_or(0) + k.len() + v.len();
            if bytes > q.max_stored {
                return Err(format!("kv.set: store full ({} bytes)", q.max_stored));
            }
            store.bytes = bytes;
            store.map.insert(k.clone(), v.clone());
            Ok(vec![])
        })
    })
    .and_then(|t| {
        t.function("log", move |a| {
            if a.len() > q.max_log_args {
                return Err(format!("log takes at most {} arguments", q.max_log_args));
            }
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let refill = now.duration_since(log.refilled).as_secs_f64() * f64::from(q.log_per_second);
            log.tokens = (log.tokens + refill).min(q.log_burst.into());
            log.refilled = now;
            if log.tokens < 1.0 {
                log.dropped += 1;
                return Ok(vec![HostValue::Bool(false)]);
            }
            log.tokens -= 1.0;
            let mut line = format!("[{} log] {}", log.tenant, sanitize(a, q.max_log_line));
            if log.dropped > 0 {
                let _ = write!(line, " ({} lines dropped by the rate limit)", log.dropped);
                log.dropped = 0;
            }
            (log.sink)(&line);
            Ok(vec![HostValue::Bool(true)])
        })
    })
    .expect("valid names")
}

fn to_stderr() -> Box<dyn Fn(&str) + Send + Sync> {
    Box::new(|line| eprintln!("  {line}"))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Arc::new(Sandbox::with_config(SandboxConfig { max_concurrent: 8, ..SandboxConfig::default() })?);
    let static_dir = std::env::temp_dir().join(format!("moonbox-example-{}", std::process::id()));
    std::fs::create_dir_all(&static_dir)?;
    std::fs::write(static_dir.join("greeting.txt"), "Hello")?;
    let q = Quotas::default();

    // Tenant "counter": counts hits per path in its store.
    let counter = with_host_functions(
        Tenant::new().memory(16 << 20).timeout(Some(Duration::from_millis(100))),
        "counter",
        Kv::default(),
        q,
        to_stderr(),
    );
    let counter_src = Script::source(
        "counter.lua",
        r#"local path = ...
           local n = tonumber(kv.get(path) or "0") + 1
           kv.set(path, tostring(n))
           print(path .. " seen " .. n .. " times")"#,
    );
    // Tenant "greeter": reads a template from its read-only directory grant.
    let greeter = with_host_functions(
        Tenant::new().memory(16 << 20).allow_read(&static_dir)?,
        "greeter",
        Kv::default(),
        q,
        to_stderr(),
    );
    let greeter_src = Script::source(
        "greeter.lua",
        format!(
            r#"local who = ...
               local t0 = os.clock()
               local g = assert(io.open("{}/greeting.txt")):read("*a")
               log("greeting", who, os.clock() - t0)
               print(g .. ", " .. who .. "!")"#,
            static_dir.display()
        ),
    );
    // Tenant "greedy": sometimes loops, sometimes allocates without end, sometimes
    // floods the host with text; fuel, the memory cap and the quotas stop it without
    // anyone else noticing.
    let greedy = with_host_functions(
        Tenant::new().memory(4 << 20).fuel(Some(200_000_000)),
        "greedy",
        Kv::default(),
        q,
        to_stderr(),
    );
    let greedy_src = Script::source(
        "greedy.lua",
        r#"local mode = ...
           if mode == "spin" then while true do end
           elseif mode == "hog" then local t = {} while true do t[#t + 1] = ("x"):rep(1e5) .. #t end
           elseif mode == "flood" then
             for i = 1, 1000 do log("\27[2J\27[Hfake line\n[counter log] forged", ("x"):rep(1e5)) end
             for i = 1, 1e6 do kv.set("k" .. i, ("v"):rep(1000)) end
           else print("greedy behaved") end"#,
    );
    let tenants = Arc::new(vec![
        ("counter", counter, counter_src),
        ("greeter", greeter, greeter_src),
        ("greedy", greedy, greedy_src),
    ]);

    let requests: Vec<(usize, &str)> = vec![
        (0, "/"),
        (1, "Ada"),
        (2, "spin"),
        (0, "/about"),
        (0, "/"),
        (2, "hog"),
        (2, "flood"),
        (1, "Grace"),
        (2, "nice"),
        (0, "/"),
    ];
    let (tx, rx) = mpsc::channel::<(usize, usize, String)>();
    let rx = Arc::new(Mutex::new(rx));
    let (done_tx, done_rx) = mpsc::channel();
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let (rx, done_tx, sandbox, tenants) = (rx.clone(), done_tx.clone(), sandbox.clone(), tenants.clone());
            std::thread::spawn(move || loop {
                let Ok((id, t, arg)) = rx.lock().unwrap().recv() else { break };
                let (name, tenant, script) = &tenants[t];
                let r = sandbox.run(tenant, script, &[arg.as_str()]).expect("host ok");
                let _ = done_tx.send((id, w, *name, arg, r));
            })
        })
        .collect();
    drop(done_tx);
    for (id, (t, arg)) in requests.iter().enumerate() {
        tx.send((id, *t, arg.to_string()))?;
    }
    drop(tx);
    let mut results: Vec<_> = done_rx.iter().collect();
    results.sort_by_key(|r| r.0);
    for (id, worker, name, arg, r) in results {
        // The outcome may carry tenant text (an error message): escaped and capped too.
        let outcome = sanitize(&[HostValue::from(r.outcome.to_string())], 200);
        let out = sanitize(&[HostValue::from(r.stdout.clone())], 200);
        println!(
            "#{id} worker {worker} {name:8} {arg:7} -> {outcome} {out:?} (start {:?}, total {:?}, fuel {}, peak {} KiB)",
            r.start_time,
            r.wall_time,
            r.fuel_used,
            r.peak_memory >> 10,
        );
    }
    for w in workers {
        let _ = w.join();
    }
    let _ = std::fs::remove_dir_all(&static_dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use moonbox_host_wasi::Outcome;

    fn tenant(q: Quotas) -> (Tenant, Kv, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        let kv = Kv::default();
        let t = with_host_functions(
            Tenant::new().memory(32 << 20).timeout(Some(Duration::from_secs(20))),
            "t",
            kv.clone(),
            q,
            Box::new(move |s| l.lock().unwrap().push(s.to_string())),
        );
        (t, kv, lines)
    }

    fn run(t: &Tenant, code: &str) -> (Outcome, String) {
        static SANDBOX: std::sync::OnceLock<Sandbox> = std::sync::OnceLock::new();
        let s = SANDBOX.get_or_init(|| {
            Sandbox::with_config(SandboxConfig { max_concurrent: 4, ..SandboxConfig::default() }).unwrap()
        });
        let r = s.run(t, &Script::source("t.lua", code), &[]).unwrap();
        (r.outcome, String::from_utf8_lossy(&r.stdout).into_owned())
    }

    #[test]
    fn log_lines_are_escaped_capped_and_rate_limited() {
        let q = Quotas::default();
        let (t, _, lines) = tenant(q);
        let (o, out) = run(
            &t,
            r#"print(log("\27[2J\27[Hhi\n[other log] forged\r", "\255\254 ok", 1.5, true, nil))
               print(log(("x"):rep(1e6)))
               print(pcall(log, 1, 2, 3, 4, 5, 6, 7, 8, 9))
               local sent = 0
               for i = 1, 100 do if log("line", i) then sent = sent + 1 end end
               print(sent)"#,
        );
        assert_eq!(o, Outcome::Ok);
        let out: Vec<&str> = out.lines().collect();
        assert_eq!(out[0], "true");
        assert_eq!(out[1], "true");
        assert!(out[2].starts_with("false\tlog takes at most 8 arguments"), "{}", out[2]);
        // The burst, less the two lines already written; the loop is far faster than
        // the refill.
        let sent: u32 = out[3].parse().unwrap();
        assert!(sent >= q.log_burst - 2 && sent <= q.log_burst, "{sent}");
        let lines = lines.lock().unwrap();
        assert_eq!(lines[0], "[t log] \\u{1b}[2J\\u{1b}[Hhi\\u{a}[other log] forged\\u{d} \\xff\\xfe ok 1.5 true nil");
        assert!(lines[1].starts_with("[t log] xxxx"), "{}", lines[1]);
        assert!(lines[1].ends_with("... (cut; 1000000 bytes of text in all)"), "{}", lines[1]);
        for l in lines.iter() {
            assert!(l.len() <= q.max_log_line + 100, "{}", l.len());
            assert!(!l.chars().any(char::is_control), "{l:?}");
        }
    }

    #[test]
    fn kv_set_has_quotas() {
        let q = Quotas { max_keys: 5, max_stored: 4000, ..Quotas::default() };
        let (t, kv, _) = tenant(q);
        let (o, out) = run(
            &t,
            r#"print(pcall(kv.set, ("k"):rep(300), "v"))
               print(pcall(kv.set, "", "v"))
               print(pcall(kv.set, "k", ("v"):rep(70000)))
               print(pcall(kv.set, "k", 1))
               for i = 1, 5 do kv.set("k" .. i, "v") end
               print(pcall(kv.set, "k6", "v"))
               kv.set("k1", "replaced")
               print(pcall(kv.set, "k2", ("v"):rep(3990)))
               print(kv.get("k1"))"#,
        );
        assert_eq!(o, Outcome::Ok);
        assert_eq!(
            out,
            "false\tkv.set: key of 300 bytes (1 to 256 allowed)\n\
             false\tkv.set: key of 0 bytes (1 to 256 allowed)\n\
             false\tkv.set: value of 70000 bytes (at most 65536 allowed)\n\
             false\tkv.set(key, value) takes two strings\n\
             false\tkv.set: store full (5 keys)\n\
             false\tkv.set: store full (4000 bytes)\n\
             replaced\n"
        );
        let store = kv.lock().unwrap();
        assert_eq!(store.map.len(), 5);
        assert_eq!(store.bytes, store.map.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>());
    }
}
