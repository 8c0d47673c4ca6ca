//! The guarded `collectgarbage` of states without [`gc_control`] or with a memory
//! limit. (What else a sandboxed state lacks is never registered: see
//! [`Capabilities`](crate::Capabilities).)
//!
//! [`gc_control`]: crate::Capabilities::gc_control

use moonbox_engine::vm::{LResult, Vm};
use moonbox_engine::Value as Raw;

/// `collectgarbage` options refused in a sandbox or under a memory limit.
pub const REFUSED_GC_OPTIONS: &[&str] = &["stop", "setpause", "setstepmul"];

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
