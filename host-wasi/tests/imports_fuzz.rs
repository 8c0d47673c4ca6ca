//! A short, deterministic run of the import fuzzer (the fuzz target `wasm_imports`
//! runs it for as long as one likes): thousands of tenants calling every host import
//! with garbage; the host must not panic, and must go on serving real tenants.

mod common;

use moonbox_host_wasi::fuzzing::ImportFuzzer;
use moonbox_host_wasi::{Outcome, Tenant};

/// xorshift64*: inputs that are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn every_import_survives_garbage() {
    // The granted function that panics on purpose (caught by the host) would print
    // each time; keep other panics' messages.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload().downcast_ref::<&str>().is_some_and(|m| m.contains("on purpose")) {
            default_hook(info);
        }
    }));
    let mut f = ImportFuzzer::new().expect("the fuzzer starts");
    f.panicking_function = true;
    let names: Vec<&str> = f.imports().collect();
    for must in
        ["moonbox.host_call", "moonbox.host_result", "moonbox.script_read", "moonbox.report_error", "moonbox.jit_link"]
    {
        assert!(names.contains(&must), "{must} not among the guest's imports: {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("wasi_snapshot_preview1.path_open")), "{names:?}");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut calls = 0;
    for _ in 0..1500 {
        let len = (rng.next() % 400) as usize;
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        calls += f.run(&data);
    }
    assert!(calls > 10_000, "only {calls} calls made");
    for (name, n) in f.calls_per_import() {
        assert!(n >= 50, "{name} called only {n} times");
    }
    // Real tenants still run.
    let r = common::run(&Tenant::new(), "print(1 + 1)");
    assert_eq!(r.outcome, Outcome::Ok);
}
