//! Measures the incremental collector's pauses on a large heap.
//!
//! ```sh
//! cargo run --release --example gc_pauses -- 1024   # heap size in MiB (default 1024)
//! ```
//!
//! Builds a heap of the given size out of small tables and strings (a tree of
//! records, as a cache or a session store would hold), then keeps replacing a share
//! of it while the collector runs in steps, and prints the distribution of the time
//! spent in each collector step: the pauses a script sees.

use std::time::Instant;

const SCRIPT: &str = r#"
local target_kb = ...
local store, n = {}, 0
-- Fill: records of a table, two strings and a number, in buckets of 1000.
while collectgarbage("count") < target_kb do
  local bucket = {}
  for i = 1, 1000 do
    n = n + 1
    bucket[i] = { id = n, name = "user" .. n, tags = { "a" .. (n % 97), "b" } }
  end
  store[#store + 1] = bucket
end
local filled = collectgarbage("count")
-- Churn: replace buckets for a while, so the collector has garbage to find.
for round = 1, 3 * #store do
  local k = (round * 7919) % #store + 1
  local bucket = {}
  for i = 1, 1000 do
    bucket[i] = { id = i, name = "user" .. i .. "-" .. round, tags = { "c", "d" } }
  end
  store[k] = bucket
end
return filled, #store
"#;

fn main() {
    let mib: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1024);
    // SAFETY: the state lives for all of `main`; the only values held across calls
    // are the loaded function (a root while it runs) and the results, read at once.
    let mut vm = unsafe { moonbox::engine::stdlib::new_state() };
    vm.measure_gc_pauses(true);
    let start = Instant::now();
    let f = match vm.load(SCRIPT.as_bytes(), b"=gc_pauses", None) {
        Ok(f) => f,
        Err(e) => panic!("load: {}", vm.error_to_string(&e)),
    };
    let r = vm.call_value(f, &[moonbox::engine::Value::number((mib * 1024) as f64)], 2);
    let elapsed = start.elapsed();
    let r = match r {
        Ok(r) => r,
        Err(e) => panic!("run: {}", vm.error_to_string(&e)),
    };
    let mut p = vm.take_gc_pauses();
    p.sort_unstable();
    let pct = |q: f64| p.get(((p.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0) as f64 / 1e6;
    let total: u64 = p.iter().sum();
    println!(
        "heap filled to {:.0} MiB ({} buckets of 1000 records), run {:.1} s",
        r[0].num() / 1024.0,
        r[1].num(),
        elapsed.as_secs_f64()
    );
    println!(
        "{} collector steps, {:.1} s in total; pause p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
        p.len(),
        total as f64 / 1e9,
        pct(0.5),
        pct(0.99),
        pct(0.999),
        pct(1.0)
    );
}
