//! Arbitrary bytes into the compiler and the binary-chunk loader: neither may panic.
//! A chunk that compiles must survive a dump → undump → verify round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moonbox_engine::compiler::{compile, dump};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = compile(data, b"=fuzz") {
        for strip in [false, true] {
            let bytes = dump::dump(&p, strip);
            let back = dump::undump(&bytes).expect("a dumped chunk loads back");
            dump::verify(&back).expect("a dumped chunk verifies");
        }
    }
    // The loader of untrusted binary chunks (trusted states accept them).
    if let Ok(p) = dump::undump(data) {
        let _ = dump::verify(&p);
    }
});
