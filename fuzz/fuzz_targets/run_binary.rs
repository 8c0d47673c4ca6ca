//! Arbitrary bytes as a binary chunk: what the loader accepts (after `verify`) runs in
//! a sandboxed state that, unlike the sandbox profile, accepts binary chunks (as a
//! trusted state does), under the limits of `run`. Malformed bytecode that passes the
//! verifier must not panic, abort or hang the interpreter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moonbox_engine::compiler::dump;
use moonbox_fuzz::run_limited_with;

fuzz_target!(|data: &[u8]| {
    if !dump::is_binary(data) {
        return;
    }
    run_limited_with(data, |vm| vm.set_allow_binary(true));
});
