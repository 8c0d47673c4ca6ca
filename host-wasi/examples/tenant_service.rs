//! A small multi-tenant service: three tenants, each with its own script, limits,
//! directory grants and host functions, serving a stream of requests on two worker
//! threads. Every request runs in a fresh sandboxed instance; a tenant's state lives
//! in its key-value store on the host, not in the instance.
//!
//! ```sh
//! cargo run --release -p moonbox-host-wasi --example tenant_service
//! ```

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moonbox_host_wasi::{HostValue, Sandbox, SandboxConfig, Script, Tenant};

type Kv = Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>;

/// `kv.get`, `kv.set` (over the tenant's own store) and `log`.
fn with_kv(t: Tenant, name: &'static str, kv: Kv) -> Tenant {
    let (k1, k2) = (kv.clone(), kv);
    t.function("kv.get", move |a| {
        let key = a.first().and_then(HostValue::as_bytes).ok_or("kv.get(key)")?;
        Ok(vec![k1.lock().unwrap().get(key).cloned().map_or(HostValue::Nil, HostValue::Str)])
    })
    .and_then(|t| {
        t.function("kv.set", move |a| match a {
            [HostValue::Str(k), HostValue::Str(v)] => {
                k2.lock().unwrap().insert(k.clone(), v.clone());
                Ok(vec![])
            }
            _ => Err("kv.set(key, value) takes two strings".into()),
        })
    })
    .and_then(|t| {
        t.function("log", move |a| {
            let text: Vec<String> =
                a.iter().map(|v| v.as_str().map_or_else(|| format!("{v:?}"), str::to_string)).collect();
            eprintln!("  [{name} log] {}", text.join(" "));
            Ok(vec![])
        })
    })
    .expect("valid names")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Arc::new(Sandbox::with_config(SandboxConfig { max_concurrent: 8, ..SandboxConfig::default() })?);
    let static_dir = std::env::temp_dir().join(format!("moonbox-example-{}", std::process::id()));
    std::fs::create_dir_all(&static_dir)?;
    std::fs::write(static_dir.join("greeting.txt"), "Hello")?;

    // Tenant "counter": counts hits per path in its store.
    let counter =
        with_kv(Tenant::new().memory(16 << 20).timeout(Some(Duration::from_millis(100))), "counter", Kv::default());
    let counter_src = Script::source(
        "counter.lua",
        r#"local path = ...
           local n = tonumber(kv.get(path) or "0") + 1
           kv.set(path, tostring(n))
           print(path .. " seen " .. n .. " times")"#,
    );
    // Tenant "greeter": reads a template from its read-only directory grant.
    let greeter = with_kv(Tenant::new().memory(16 << 20).allow_read(&static_dir)?, "greeter", Kv::default());
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
    // Tenant "greedy": sometimes loops, sometimes allocates without end; a small
    // fuel budget and memory cap stop it without anyone else noticing.
    let greedy = with_kv(Tenant::new().memory(4 << 20).fuel(Some(200_000_000)), "greedy", Kv::default());
    let greedy_src = Script::source(
        "greedy.lua",
        r#"local mode = ...
           if mode == "spin" then while true do end
           elseif mode == "hog" then local t = {} while true do t[#t + 1] = ("x"):rep(1e5) .. #t end
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
        println!(
            "#{id} worker {worker} {name:8} {arg:7} -> {:?} {:?} (start {:?}, total {:?}, fuel {}, peak {} KiB)",
            r.outcome,
            String::from_utf8_lossy(&r.stdout).trim_end(),
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
