//! 10,000 sequential tenants keep the host's memory flat.

mod common;

use common::run;
use moonbox_host_wasi::{HostValue, Outcome, Tenant};

/// Resident set size in bytes (Linux); `None` elsewhere.
fn rss() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn ten_thousand_tenants_do_not_leak() {
    let t =
        Tenant::new().function("echo", |a| Ok(a.to_vec())).unwrap().timeout(Some(std::time::Duration::from_secs(5)));
    let code = "local t = {} for i = 1, 50 do t[i] = tostring(i) end print(echo(#t))";
    for _ in 0..500 {
        assert_eq!(run(&t, code).outcome, Outcome::Ok);
    }
    let before = rss();
    let t0 = std::time::Instant::now();
    for i in 0..10_000 {
        let r = run(&t, code);
        assert_eq!(r.outcome, Outcome::Ok, "run {i}");
        assert_eq!(r.stdout, b"50\n");
    }
    let elapsed = t0.elapsed();
    let after = rss();
    let _ = HostValue::Nil;
    eprintln!("10,000 runs in {elapsed:?}; RSS {before:?} -> {after:?}");
    if let (Some(b), Some(a)) = (before, after) {
        assert!(a < b + (8 << 20), "RSS grew from {b} to {a}");
    }
}
