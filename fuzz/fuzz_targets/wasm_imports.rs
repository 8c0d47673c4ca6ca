//! Arbitrary bytes to every host import the sandbox's guest can call (the `moonbox`
//! module: host functions, the script, error reports; and WASI preview 1 with a
//! read-write directory grant): the host never panics, and every call ends. See
//! `moonbox_host_wasi::fuzzing` for how the input becomes calls.
//!
//! Starting compiles the guest once to learn its imports (instrumented Cranelift is
//! slow: a minute or more), then keeps it in the compiled-guest cache; that happens
//! in `init`, before the first input and its timeout.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use moonbox_host_wasi::fuzzing::ImportFuzzer;

static FUZZER: LazyLock<ImportFuzzer> = LazyLock::new(|| ImportFuzzer::new().expect("the import fuzzer starts"));

fuzz_target!(
    init: {
        LazyLock::force(&FUZZER);
    },
    |data: &[u8]| {
        FUZZER.run(data);
    }
);
