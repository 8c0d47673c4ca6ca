//! Measures the sandbox: tenant start latency (p50/p99), runs per second on every
//! core, and the memory an idle tenant costs.
//!
//! ```sh
//! cargo run --release -p moonbox-host-wasi --example start_latency
//! ```

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use moonbox_host_wasi::{Outcome, Sandbox, SandboxConfig, Script, Tenant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()))
        .map_or(0, |pages| pages * 4)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let idle_tenants = 50;
    let sandbox = Arc::new(Sandbox::with_config(SandboxConfig { max_concurrent: 64, ..SandboxConfig::default() })?);
    let tenant = Tenant::new().function("noop", |_| Ok(vec![]))?;
    let empty = Script::source("empty.lua", "");
    for _ in 0..200 {
        sandbox.run(&tenant, &empty, &[])?;
    }

    // Latency, one thread.
    let n = 5000;
    let (mut start, mut total) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let r = sandbox.run(&tenant, &empty, &[])?;
        assert_eq!(r.outcome, Outcome::Ok);
        start.push(r.start_time);
        total.push(r.wall_time);
    }
    start.sort();
    total.sort();
    println!(
        "fresh instance (Store + WASI + instantiate): p50 {:?}  p99 {:?}",
        percentile(&start, 0.5),
        percentile(&start, 0.99)
    );
    println!(
        "whole run of an empty script (instance + Lua state + run + teardown): p50 {:?}  p99 {:?}",
        percentile(&total, 0.5),
        percentile(&total, 0.99)
    );

    // Throughput, one thread per core.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let window = Duration::from_secs(2);
    let t0 = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (s, t, e) = (sandbox.clone(), tenant.clone(), empty.clone());
            std::thread::spawn(move || {
                let mut k = 0u64;
                while t0.elapsed() < window {
                    s.run(&t, &e, &[]).unwrap();
                    k += 1;
                }
                k
            })
        })
        .collect();
    let runs: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    println!("throughput: {:.0} tenant runs/s on {threads} threads", runs as f64 / t0.elapsed().as_secs_f64());

    // Idle tenants: each one's Lua state is up and blocked in a host call.
    let barrier = Arc::new(Barrier::new(idle_tenants + 1));
    let release = Arc::new(Barrier::new(idle_tenants + 1));
    let (b1, b2) = (barrier.clone(), release.clone());
    let idle = Tenant::new().function("wait", move |_| {
        b1.wait();
        b2.wait();
        Ok(vec![])
    })?;
    let before = rss_kib();
    let handles: Vec<_> = (0..idle_tenants)
        .map(|_| {
            let (s, t) = (sandbox.clone(), idle.clone());
            std::thread::spawn(move || s.run(&t, &Script::source("idle.lua", "wait()"), &[]).unwrap())
        })
        .collect();
    barrier.wait();
    let during = rss_kib();
    release.wait();
    let peak: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap().peak_memory).collect();
    println!(
        "idle tenant: {} KiB resident each ({idle_tenants} tenants, including their host threads); linear memory {} KiB",
        (during.saturating_sub(before)) / idle_tenants,
        peak[0] >> 10
    );
    Ok(())
}
