//! The `jit` library: LuaJIT's `jit.*` API over moonbox's trace JIT.
//!
//! - `jit.version` is `"LuaJIT 2.1.0-beta3 (moonbox x.y.z)"`: it starts the way scripts
//!   that sniff for LuaJIT 2.1 expect (`jit.version:match("^LuaJIT 2%.1")`, luarocks'
//!   `"LuaJIT%s+([^%s]+)"`), and says what is actually running. `jit.version_num` is
//!   LuaJIT 2.1's 20100.
//! - `jit.os` / `jit.arch` come from the build target (`"wasm32"` on WebAssembly).
//! - `jit.on`, `jit.off`, `jit.flush` check their arguments as LuaJIT does and act on
//!   the state's trace JIT (`crate::jit`): off flushes every trace; `jit.off(f)` keeps
//!   `f` (and with `true`, its children) from compiling; `jit.flush(n)` drops trace n.
//!   `jit.status()` is true when a backend is installed and the JIT is on (false for
//!   a sandboxed state, which has none), then the CPU and optimisation flags.
//! - `jit.opt.start` accepts exactly LuaJIT's levels (`"0"`..`"3"`), flags
//!   (`"+fold"`, `"-cse"`, `"nodce"`, ...) and parameters (`"hotloop=56"`, ...) and
//!   rejects anything else with LuaJIT's message; `hotloop`, `maxrecord`, `maxsnap`,
//!   `maxtrace`, `sizemcode` and `maxmcode` are used today.
//! - `jit.attach(f, event)` sets the handler of a VM event (one per event; `jit.attach(f)`
//!   removes `f` from every event): `"trace"` (`"start"`, `"stop"`, `"abort"`,
//!   `"flush"`), `"record"` and `"texit"` are sent with LuaJIT's arguments (see
//!   `crate::jit`, `Event`); `"bc"` is accepted and never sent.
//! - `jit.security` and OpenResty's `jit.prngstate` (the JIT's PRNG state) are present;
//!   `jit.util` is `require("jit.util")` (`jit_util.rs`); `jit.profile` is absent.

use crate::gc::GcRef;
use crate::gc::Kind;
use crate::object::Proto;
use crate::value::Value;
use crate::vm::{LResult, NativeFn, Vm};

const OS_NAME: &str = if cfg!(target_os = "windows") {
    "Windows"
} else if cfg!(target_os = "linux") {
    "Linux"
} else if cfg!(any(target_os = "macos", target_os = "ios")) {
    "OSX"
} else if cfg!(any(target_os = "freebsd", target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly")) {
    "BSD"
} else if cfg!(unix) {
    "POSIX"
} else {
    "Other"
};

const ARCH_NAME: &str = if cfg!(target_arch = "x86_64") {
    "x64"
} else if cfg!(target_arch = "x86") {
    "x86"
} else if cfg!(target_arch = "aarch64") {
    "arm64"
} else if cfg!(target_arch = "arm") {
    "arm"
} else if cfg!(any(target_arch = "wasm32", target_arch = "wasm64")) {
    "wasm32"
} else {
    std::env::consts::ARCH
};

pub fn open(vm: &mut Vm) {
    let funcs: &[(&'static str, NativeFn)] = &[
        ("on", jit_on),
        ("off", jit_off),
        ("flush", jit_flush),
        ("status", jit_status),
        ("security", jit_security),
        ("attach", jit_attach),
        ("prngstate", jit_prngstate),
    ];
    let t = super::register_lib(vm, "jit", funcs);
    let v = vm.str_value(format!("LuaJIT 2.1.0-beta3 (moonbox {})", env!("CARGO_PKG_VERSION")).as_bytes());
    vm.set_field(t, "version", v);
    vm.set_field(t, "version_num", Value::number(20100.0));
    let v = vm.str_value(OS_NAME.as_bytes());
    vm.set_field(t, "os", v);
    let v = vm.str_value(ARCH_NAME.as_bytes());
    vm.set_field(t, "arch", v);
    // jit.opt, also as package.loaded["jit.opt"].
    let opt = vm.new_table(0, 1);
    let f = vm.native(opt_start, "start");
    vm.set_field(opt, "start", f);
    vm.set_field(t, "opt", opt.to_value());
    if let Some(l) = crate::stdlib::lib(vm).loaded {
        vm.set_field(l, "jit.opt", opt.to_value());
    }
}

/// `setjitmode`: the argument checks of `jit.on/off/flush`. Returns true for the
/// whole-engine form.
fn check_mode_args(vm: &mut Vm, base: usize, nargs: usize) -> LResult<bool> {
    let a = vm.arg(base, nargs, 0);
    if a.is_nil() {
        return Ok(true);
    }
    // jit.on(func) applies to a Lua function; LuaJIT rejects builtins with this
    // (odd but exact) message.
    if a.func_kind() == Some(Kind::LuaFunction) || a == Value::TRUE {
        return Ok(false);
    }
    Err(vm.type_arg_error(base, nargs, 0, "function"))
}

/// `jit.on(f)` / `jit.off(f)` / `jit.flush(f)`: the function's prototype (and, with
/// `recursive` = true as second argument, its children's).
fn func_protos(vm: &mut Vm, base: usize, nargs: usize) -> Vec<GcRef<Proto>> {
    let Some(f) = vm.arg(base, nargs, 0).as_lua_function() else { return Vec::new() };
    let mut out = vec![f.proto];
    if vm.arg(base, nargs, 1) == Value::TRUE {
        let mut i = 0;
        while let Some(&p) = out.get(i) {
            out.extend(p.protos.iter().copied());
            i += 1;
        }
    }
    out
}

fn jit_on(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if check_mode_args(vm, base, nargs)? {
        vm.jit_settings(|j| j.on = true);
    } else {
        for p in func_protos(vm, base, nargs) {
            p.jit_flags.set(p.jit_flags.get() & !crate::jit::PROTO_OFF);
        }
    }
    Ok(0)
}

fn jit_off(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if check_mode_args(vm, base, nargs)? {
        vm.jit_settings(|j| j.on = false);
    } else {
        // LuaJIT flushes the function's traces and keeps it from compiling.
        for p in func_protos(vm, base, nargs) {
            p.jit_flags.set(p.jit_flags.get() | crate::jit::PROTO_OFF);
        }
        vm.jit_flush();
    }
    Ok(0)
}

fn jit_flush(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if vm.arg(base, nargs, 0).is_number() {
        let n = vm.check_int(base, nargs, 0)?; // jit.flush(traceno)
        if let Ok(n) = u32::try_from(n) {
            vm.jit_flush_trace(n);
        }
        return Ok(0);
    }
    check_mode_args(vm, base, nargs)?;
    vm.jit_flush();
    vm.jit_send_events()?;
    Ok(0)
}

/// True when the JIT exists on this state (a backend is installed) and is on, then
/// LuaJIT's CPU and optimisation flag names.
fn jit_status(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let j = vm.jit();
    let on = j.active();
    // As LuaJIT: the status, then the CPU features the backend uses and the
    // optimisation flags, whether on or off.
    let mut names: Vec<&str> = Vec::new();
    if cfg!(target_arch = "x86_64") {
        names.extend(["SSE3", "SSE4.1"]);
    }
    for (i, f) in crate::jit::OPT_FLAGS.iter().enumerate() {
        if j.opt_flags & (1 << i) != 0 {
            names.push(f);
        }
    }
    vm.push(Value::boolean(on));
    for n in &names {
        let v = vm.str_value(n.as_bytes());
        vm.push(v);
    }
    Ok(1 + names.len())
}

fn jit_security(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let v = match s.as_bytes() {
        b"prng" | b"strhash" | b"strid" | b"mcode" => 1.0,
        other => {
            let o = String::from_utf8_lossy(other).into_owned();
            return Err(vm.arg_error(1, &format!("invalid option '{o}'")));
        }
    };
    vm.push(Value::number(v));
    Ok(1)
}

fn jit_attach(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let f = vm.check_function(base, nargs, 0)?;
    let ev = vm.opt_str(base, nargs, 1)?;
    let reg = vm.registry;
    let handlers = match vm.get_field(reg, crate::jit::EVENTS_KEY).as_table() {
        Some(t) => t,
        None => {
            let t = vm.new_table(0, 4);
            vm.set_field(reg, crate::jit::EVENTS_KEY, t.to_value());
            t
        }
    };
    match ev {
        Some(name) => {
            let k = name.to_value();
            vm.raw_set(handlers, k, f)?;
        }
        None => {
            // Detach `f` from every event.
            let mut k = Value::NIL;
            while let Ok(Some((key, v))) = handlers.next(k) {
                if v == f {
                    vm.raw_set(handlers, key, Value::NIL)?;
                }
                k = key;
            }
        }
    }
    let mut mask = 0;
    let mut k = Value::NIL;
    while let Ok(Some((key, v))) = handlers.next(k) {
        if v.is_function() {
            mask |= key.as_string().map_or(0, |s| crate::jit::event_bit(s.as_bytes()));
        }
        k = key;
    }
    vm.jit_settings(|j| j.events = mask);
    Ok(0)
}

/// OpenResty's `jit.prngstate([state])`: the JIT's PRNG state as 8 32-bit integers.
/// There is no trace PRNG yet: the old state reads as zeros; a new one is checked
/// and ignored.
fn jit_prngstate(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    const MSG: &str = "PRNG state must be an array with up to 8 integers or an integer";
    let a = vm.arg(base, nargs, 0);
    let as_u32 =
        |v: Value| v.as_number().filter(|&n| n >= 0.0 && n <= u32::MAX as f64 && n.fract() == 0.0).map(|n| n as u32);
    let mut new: Option<[u32; 8]> = None;
    if let Some(n) = a.as_number() {
        // An integer: LuaJIT's older form, the first word.
        let Some(w) = as_u32(Value::number(n)) else { return Err(vm.arg_error(1, MSG)) };
        new = Some([w, 0, 0, 0, 0, 0, 0, 0]);
    } else if !a.is_nil() {
        let t = vm.check_table(base, nargs, 0)?;
        let len = t.len();
        let mut st = [0u32; 8];
        if len > 8 {
            return Err(vm.arg_error(1, MSG));
        }
        for (i, w) in st.iter_mut().enumerate().take(len) {
            let Some(x) = as_u32(t.get_int(i as i64 + 1)) else { return Err(vm.arg_error(1, MSG)) };
            *w = x;
        }
        new = Some(st);
    }
    let old = vm.jit().prng;
    if let Some(st) = new {
        vm.jit_settings(|j| j.prng = st);
    }
    let cur = vm.new_table(8, 0);
    for (i, w) in old.iter().enumerate() {
        // As LuaJIT shows them: signed 32-bit words.
        vm.raw_set(cur, Value::number((i + 1) as f64), Value::number(f64::from(*w as i32)))?;
    }
    vm.push(cur.to_value());
    Ok(1)
}

/// `jit.opt.start(...)`.
fn opt_start(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if nargs == 0 {
        vm.jit_settings(|j| j.opt_flags = (j.opt_flags & (1 << 10)) | crate::jit::OPT_3);
        return Ok(0);
    }
    for i in 0..nargs {
        let s = vm.check_str(base, nargs, i)?;
        let arg = s.as_bytes().to_vec();
        let mut ok = false;
        vm.jit_settings(|j| ok = j.opt(&arg));
        if !ok {
            let a = String::from_utf8_lossy(&arg).into_owned();
            return Err(vm.rt_error(&format!("unknown or malformed optimization flag '{a}'")));
        }
    }
    Ok(0)
}
