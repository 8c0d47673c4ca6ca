//! Shared code of the fuzz targets: running a chunk under limits, and the program
//! generator of `run_generated`.

pub mod gen;

use moonbox::{Lua, LuaOptions};

/// Budget checks (calls and loop iterations) a fuzz input may use.
pub const FUEL: u64 = 200_000;
/// Heap limit of a fuzz input's state.
pub const MEMORY: usize = 16 << 20;

/// Runs `src` in a sandboxed state with a small budget and memory limit; whatever the
/// script does, the state must then still run a plain chunk correctly.
pub fn run_limited(src: &[u8]) {
    run_limited_with(src, |_| {});
}

/// [`run_limited`] with `setup` applied to the state's engine `Vm` first.
pub fn run_limited_with(src: &[u8], setup: impl FnOnce(&mut moonbox_engine::vm::Vm)) {
    let lua = Lua::with_options(LuaOptions {
        sandboxed: true,
        memory_limit: Some(MEMORY),
        instruction_limit: Some(FUEL),
        ..Default::default()
    });
    lua.set_output(|_| {}).expect("a fresh state is not busy");
    // SAFETY: `setup` only changes the engine's settings (stress modes, limits); it keeps no
    // handle past the call and leaves the stack as it found it.
    unsafe { lua.with_raw_vm(setup) }.expect("a fresh state is not busy");
    let _ = lua.load(src).set_name("=fuzz").exec();
    // The state stays usable after any error or stop.
    lua.set_budget(Some(10_000));
    lua.set_memory_limit(None);
    let two = lua.load("local a, b = ... return a + b").call::<f64>((1, 1));
    assert_eq!(two.as_ref().ok(), Some(&2.0), "the state is unusable after the script: {two:?}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_chunks_run() {
        super::run_limited(b"");
        super::run_limited(b"while true do end");
        super::run_limited(b"local s = 'x' while true do s = s .. s end");
    }
}
