//! The compilation cache of the guest.
//!
//! Compiling the engine's Wasm build with Cranelift takes seconds; a command-line
//! run must not pay that each time. The compiled code is kept in
//! `$MOONBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/moonbox`, else `~/.cache/moonbox`,
//! under a name that hashes the Wasm bytes, the wasmtime version and the engine's
//! compatibility settings. `MOONBOX_CACHE_DIR=off` disables it.
//!
//! Loading a cached file is the one `unsafe` operation of this crate (wasmtime runs
//! the machine code in it): see the SAFETY comment in [`load_or_compile`].

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;

use wasmtime::{Engine, Module};

/// The cache directory, if there is one.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("MOONBOX_CACHE_DIR") {
        Some(d) if d == "off" => return None,
        Some(d) if !d.is_empty() => return Some(PathBuf::from(d)),
        _ => {}
    }
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("moonbox"));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cache/moonbox"))
}

/// The guest compiled for `engine`: from the cache when it holds it, else compiled
/// now (and stored, best effort).
pub fn load_or_compile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Module> {
    let Some(dir) = cache_dir() else { return Module::new(engine, wasm) };
    let mut h = DefaultHasher::new();
    wasm.hash(&mut h);
    engine.precompile_compatibility_hash().hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    let file = dir.join(format!("guest-{:016x}.cwasm", h.finish()));
    if file.is_file() {
        // SAFETY: wasmtime requires that the file hold code that `Module::serialize`
        // produced (it checks the header, the wasmtime version and the engine
        // settings, but trusts the machine code). The file is ours: it is named by
        // the hash of exactly this Wasm and these settings, and is only ever written
        // below, by `serialize` of a module compiled from those bytes, into a
        // temporary file renamed into place whole. The directory is the user's own
        // cache directory, which only the user (who can already run any code) writes.
        if let Ok(m) = unsafe { Module::deserialize_file(engine, &file) } {
            return Ok(m);
        }
    }
    let module = Module::new(engine, wasm)?;
    if let Ok(bytes) = module.serialize() {
        let tmp = dir.join(format!(".guest-{}-{:?}.tmp", std::process::id(), std::thread::current().id()));
        let stored = std::fs::create_dir_all(&dir).is_ok()
            && std::fs::write(&tmp, &bytes).is_ok()
            && std::fs::rename(&tmp, &file).is_ok();
        if !stored {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Ok(module)
}
