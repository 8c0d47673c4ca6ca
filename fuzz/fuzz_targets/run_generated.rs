//! Syntactically valid programs built from the fuzz input (a small grammar: locals,
//! globals, arithmetic, strings, tables, closures, loops, pcall, metatables, coroutines
//! and calls into the string/table/math libraries), run as the `run` target runs them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moonbox_fuzz::{gen::Program, run_limited};

fuzz_target!(|prog: Program| {
    let src = prog.to_lua();
    run_limited(src.as_bytes());
});
