//! The one call into a linked trace. The only `unsafe` code of the crate.

use moonbox_engine::value::Value;

use crate::WasmCtx;

/// Runs the trace function at table index `index`; its exit code, or `u32::MAX`
/// (it did not run) where there is no Wasm table (native builds, which only emit).
#[cfg(target_arch = "wasm32")]
pub(crate) fn call(index: u32, ctx: &mut WasmCtx, base: *mut Value) -> u32 {
    type TraceFn = unsafe extern "C" fn(*mut WasmCtx, *mut Value) -> u32;
    if index == 0 {
        return u32::MAX;
    }
    // SAFETY: on wasm32 a function pointer is an index into the module's function
    // table, and a call through one is a `call_indirect` that checks the callee's
    // type at run time (a mismatch traps; it is never undefined behaviour). `index`
    // is what the linker put there: the `trace: (i32, i32) -> i32` export of a module
    // that `emit` generated for this trace (the host checks that type). The function
    // reads and writes `ctx`, the frame's slots `base[0..MAX_SLOTS]` (the caller
    // checked they are in `stack`), and the heap under the native backend's
    // contract (see `jit-native/src/entry.rs`): it only dereferences addresses its
    // guards checked, stores only valid values, and calls only the engine's JIT
    // helpers while no Rust reference to a table is live.
    unsafe {
        let f = std::mem::transmute::<usize, TraceFn>(index as usize);
        f(ctx, base)
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn call(_index: u32, _ctx: &mut WasmCtx, _base: *mut Value) -> u32 {
    u32::MAX
}
