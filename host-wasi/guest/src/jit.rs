//! The trace JIT inside the sandbox: traces are Wasm modules (`moonbox-jit-wasm`)
//! that the host compiles and links into this instance's function table, through
//! three imports of the `moonbox` module. Under a WASI runtime that fills unknown
//! imports with default values, `jit_available` answers 0 and the JIT stays off:
//! the same `.wasm` runs, interpreted.

use std::cell::RefCell;
use std::rc::Rc;

use moonbox_engine::jit::{DumpFlags, ForceExits};
use moonbox_engine::vm::Vm;
use moonbox_jit_wasm::{LinkError, TraceLinker, WasmBackend};

#[cfg(target_os = "wasi")]
mod imports {
    #[link(wasm_import_module = "moonbox")]
    unsafe extern "C" {
        /// 1 if the host links trace modules.
        #[link_name = "jit_available"]
        pub fn available() -> i32;
        /// Compiles the module in `ptr[0..len]` and puts its `trace` function into
        /// the function table: its index (> 0); 0 if refused; -1 once a cap is
        /// reached.
        #[link_name = "jit_link"]
        pub fn link(ptr: *const u8, len: i32) -> i32;
        /// Frees a table index `jit_link` returned.
        #[link_name = "jit_release"]
        pub fn release(index: i32);
    }
}

/// Links through the host's imports.
struct HostLinker;

impl TraceLinker for HostLinker {
    fn link(&mut self, module: &[u8]) -> Result<u32, LinkError> {
        let _ = module;
        #[cfg(target_os = "wasi")]
        {
            let len = i32::try_from(module.len()).map_err(|_| LinkError::Refused)?;
            // SAFETY: `module` is a live allocation of `len` bytes; the host only
            // reads it.
            let r = unsafe { imports::link(module.as_ptr(), len) };
            return match r {
                r if r > 0 => Ok(r as u32),
                -1 => Err(LinkError::Full),
                _ => Err(LinkError::Refused),
            };
        }
        #[allow(unreachable_code)]
        Err(LinkError::Refused)
    }

    fn release(&mut self, index: u32) {
        let _ = index;
        #[cfg(target_os = "wasi")]
        // SAFETY: takes no pointers; the host ignores an index it did not hand out.
        unsafe {
            imports::release(index as i32)
        };
    }
}

/// Whether the host links traces.
fn available() -> bool {
    #[cfg(target_os = "wasi")]
    {
        // SAFETY: takes no pointers; the host (or a default-value stub) answers a number.
        return unsafe { imports::available() } == 1;
    }
    #[allow(unreachable_code)]
    false
}

/// Installs the Wasm trace backend if the host links traces.
pub fn install(vm: &mut Vm) {
    if available() {
        vm.jit_install(Box::new(WasmBackend::new(Rc::new(RefCell::new(HostLinker)))));
    }
}

/// Applies one `-j`/`-O`/`--jit-exits=` argument, as the native CLI does.
pub fn apply(vm: &mut Vm, arg: &str) -> Result<(), String> {
    if let Some(opts) = arg.strip_prefix("-O") {
        let opts = if opts.is_empty() { "3" } else { opts };
        for o in opts.split(',') {
            let mut ok = false;
            vm.jit_settings(|j| ok = j.opt(o.as_bytes()));
            if !ok {
                return Err(format!("unknown or malformed optimization flag '{o}'"));
            }
        }
        return Ok(());
    }
    if arg == "--gc-stress" {
        // The collector in small steps everywhere, its invariant checked after every
        // mark (MOONBOX_GC_STRESS natively): traces' write-barrier guards see the
        // mark phase all the time.
        vm.set_gc_stress(true);
        return Ok(());
    }
    if let Some(mode) = arg.strip_prefix("--jit-exits=") {
        let force = match mode {
            "first" => Some(ForceExits::First),
            m => m.strip_prefix("random:").and_then(|s| s.parse().ok()).map(ForceExits::Random),
        };
        let Some(force) = force else { return Err(format!("bad --jit-exits mode '{mode}'")) };
        vm.jit_settings(|j| j.force = force);
        return Ok(());
    }
    let cmd = arg.strip_prefix("-j").unwrap_or(arg);
    let (name, flags) = cmd.split_once('=').unwrap_or((cmd, ""));
    match name {
        "on" => vm.jit_settings(|j| j.on = true),
        "off" => vm.jit_settings(|j| j.on = false),
        "flush" => vm.jit_flush(),
        "v" => vm.jit_settings(|j| j.verbose = true),
        "dump" => {
            let flags = DumpFlags::parse(flags.split(',').next().unwrap_or(""));
            vm.jit_settings(|j| {
                j.dump = true;
                j.dump_flags = flags;
            });
        }
        _ => return Err("unknown luaJIT command or jit.* modules not installed".into()),
    }
    Ok(())
}

/// At the end of a run: `-jv`'s summary of abort sites, as natively.
pub fn finish(vm: &Vm) {
    if vm.jit().verbose {
        eprint!("{}", vm.jit().abort_summary(10));
    }
}
