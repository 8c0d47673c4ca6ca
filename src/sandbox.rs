//! The sandboxed library set (see [`Lua::sandboxed`](crate::Lua::sandboxed) for the
//! list of what is removed).

use moonbox_engine::vm::{LResult, Vm};
use moonbox_engine::Value as Raw;

/// `os` functions removed in a sandbox.
pub const REMOVED_OS: &[&str] = &["execute", "exit", "remove", "rename", "tmpname", "getenv"];
/// Globals removed in a sandbox.
pub const REMOVED_GLOBALS: &[&str] = &["io", "dofile", "loadfile"];
/// `package` fields removed in a sandbox.
pub const REMOVED_PACKAGE: &[&str] = &["loadlib", "searchpath"];
/// `collectgarbage` options refused in a sandbox or under a memory limit.
pub const REFUSED_GC_OPTIONS: &[&str] = &["stop", "setpause", "setstepmul"];

/// Restricts a freshly opened state to the sandboxed set.
pub(crate) fn apply(vm: &mut Vm) {
    vm.allow_binary = false;
    let g = vm.globals;
    let loaded = vm.lib_state.loaded;
    for name in REMOVED_GLOBALS {
        vm.set_field(g, name, Raw::NIL);
    }
    if let Some(l) = loaded {
        vm.set_field(l, "io", Raw::NIL);
    }
    if let Some(os) = vm.get_field(g, "os").as_table() {
        for name in REMOVED_OS {
            vm.set_field(os, name, Raw::NIL);
        }
    }
    // debug: only traceback.
    let traceback = vm.get_field(g, "debug").as_table().map(|d| vm.get_field(d, "traceback"));
    let dbg = vm.new_table(0, 1);
    if let Some(tb) = traceback {
        vm.set_field(dbg, "traceback", tb);
    }
    vm.set_field(g, "debug", dbg.to_value());
    if let Some(l) = loaded {
        vm.set_field(l, "debug", dbg.to_value());
    }
    // package: keep only the preload searcher.
    if let Some(pkg) = vm.get_field(g, "package").as_table() {
        for name in REMOVED_PACKAGE {
            vm.set_field(pkg, name, Raw::NIL);
        }
        if let Some(loaders) = vm.get_field(pkg, "loaders").as_table() {
            let preload = loaders.get_int(1);
            let only = vm.new_table(1, 0);
            only.get_mut().set_int(1, preload);
            vm.set_field(pkg, "loaders", only.to_value());
        }
    }
}

/// Replaces `collectgarbage` with a version that refuses the options that would stop
/// or slow the collector (the memory limit is checked after collections).
pub(crate) fn guard_collectgarbage(vm: &mut Vm) {
    let g = vm.globals;
    let orig = vm.get_field(g, "collectgarbage");
    if !orig.is_function() {
        return;
    }
    let f = vm.native_closure(guarded_collectgarbage, "collectgarbage", vec![orig]);
    vm.set_field(g, "collectgarbage", f);
}

fn guarded_collectgarbage(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if let Some(opt) = vm.arg(base, nargs, 0).as_string() {
        let o = opt.as_bytes();
        if let Some(bad) = REFUSED_GC_OPTIONS.iter().find(|r| r.as_bytes() == o) {
            return Err(vm.rt_error(&format!("collectgarbage option '{bad}' is not allowed in this state")));
        }
    }
    let orig = vm.native_upval(0);
    let args: Vec<Raw> = vm.stack[base..base + nargs].to_vec();
    let r = vm.call_value(orig, &args, -1)?;
    for v in &r {
        vm.push(*v);
    }
    Ok(r.len())
}
