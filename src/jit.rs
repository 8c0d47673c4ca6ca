//! Installs the trace JIT's native backend on a state whose capabilities allow it.

use moonbox_engine::vm::Vm;

/// The x86-64 backend on x86-64 hosts; elsewhere (and in Wasm builds) nothing: the
/// state interprets, and `jit.status()` is false.
pub(crate) fn install_native(vm: &mut Vm) {
    #[cfg(all(target_arch = "x86_64", not(target_family = "wasm")))]
    vm.jit_install(Box::new(moonbox_jit_native::X64Backend::new()));
    #[cfg(not(all(target_arch = "x86_64", not(target_family = "wasm"))))]
    let _ = vm;
}
