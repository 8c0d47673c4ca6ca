//! Arbitrary bytes as Lua source, run in a sandboxed state under a small instruction
//! budget and memory limit: must never panic, abort or hang, and the state must stay
//! usable afterwards.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moonbox_fuzz::run_limited;

fuzz_target!(|data: &[u8]| {
    run_limited(data);
});
