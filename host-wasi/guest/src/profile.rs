//! The Lua-level capabilities of a tenant: the sandboxed profile of the facade
//! (`Lua::sandboxed()`), except that files stay reachable, because here WASI decides
//! which ones exist: only the host's directory grants, read-only or read-write.
//!
//! Removed: `os.execute`, `os.exit`, `os.getenv`, `os.tmpname`, `io.popen`,
//! `package.loadlib`, the C loaders of `require`, every `debug` function but
//! `traceback`, binary chunks, and the `collectgarbage` options that would defeat the
//! memory limit.

use moonbox_engine::value::Value;
use moonbox_engine::vm::Vm;

const REMOVED_OS: &[&str] = &["execute", "exit", "getenv", "tmpname"];
const REMOVED_IO: &[&str] = &["popen"];
const REMOVED_PACKAGE: &[&str] = &["loadlib", "cpath"];

pub fn apply(vm: &mut Vm) {
    vm.set_allow_binary(false);
    let g = vm.globals();
    for (lib, names) in [("os", REMOVED_OS), ("io", REMOVED_IO), ("package", REMOVED_PACKAGE)] {
        if let Some(t) = vm.get_field(g, lib).as_table() {
            for name in names {
                vm.set_field(t, name, Value::NIL);
            }
        }
    }
    // require: the preload and Lua-file searchers only (files go through WASI).
    if let Some(pkg) = vm.get_field(g, "package").as_table() {
        if let Some(loaders) = vm.get_field(pkg, "loaders").as_table() {
            let only = vm.new_table(2, 0);
            let _ = vm.raw_set_int(only, 1, loaders.get_int(1));
            let _ = vm.raw_set_int(only, 2, loaders.get_int(2));
            vm.set_field(pkg, "loaders", only.to_value());
        }
    }
    // debug: only traceback.
    let traceback = vm.get_field(g, "debug").as_table().map(|d| vm.get_field(d, "traceback"));
    let dbg = vm.new_table(0, 1);
    if let Some(tb) = traceback {
        vm.set_field(dbg, "traceback", tb);
    }
    vm.set_field(g, "debug", dbg.to_value());
    if let Some(l) = moonbox_engine::stdlib::lib(vm).loaded {
        vm.set_field(l, "debug", dbg.to_value());
    }
    moonbox_engine::stdlib::base::guard_collectgarbage(vm);
}
