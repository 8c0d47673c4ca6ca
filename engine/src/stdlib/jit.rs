//! The `jit` library: LuaJIT's `jit.*` API over an engine that has no trace compiler
//! yet.
//!
//! - `jit.version` is `"LuaJIT 2.1.0-beta3 (moonbox x.y.z)"`: it starts the way scripts
//!   that sniff for LuaJIT 2.1 expect (`jit.version:match("^LuaJIT 2%.1")`, luarocks'
//!   `"LuaJIT%s+([^%s]+)"`), and says what is actually running. `jit.version_num` is
//!   LuaJIT 2.1's 20100.
//! - `jit.os` / `jit.arch` come from the build target (`"wasm32"` on WebAssembly).
//! - `jit.on`, `jit.off`, `jit.flush` check their arguments as LuaJIT does and record
//!   the requested state; `jit.status()` returns that recorded state (true unless
//!   `jit.off()` was called), without LuaJIT's list of CPU/optimisation flags. Nothing
//!   is compiled yet: the state is for the trace JIT to honour when it lands.
//! - `jit.opt.start` accepts exactly LuaJIT's levels (`"0"`..`"3"`), flags
//!   (`"+fold"`, `"-cse"`, `"nodce"`, ...) and parameters (`"hotloop=56"`, ...) and
//!   rejects anything else with LuaJIT's message; the values are recorded in
//!   [`JitState`] for the future trace recorder.
//! - `jit.security`, `jit.attach` (no VM events exist: a no-op after its checks) and
//!   OpenResty's `jit.prngstate` are present; `jit.util` and `jit.profile` are absent.

use crate::gc::GcRef;
use crate::gc::Kind;
use crate::object::Userdata;
use crate::value::Value;
use crate::vm::{LResult, NativeFn, Vm};

/// LuaJIT's optimisation flag names, in flag-bit order (`JIT_F_OPTSTRING`).
const OPT_FLAGS: [&str; 11] = ["fold", "cse", "dce", "fwd", "dse", "narrow", "loop", "abc", "sink", "fuse", "fma"];
/// Flags of optimisation levels 1, 2, 3 (3 is the default; `fma` is never default).
const OPT_1: u32 = 0b111;
const OPT_2: u32 = OPT_1 | (1 << 5) | (1 << 6);
const OPT_3: u32 = OPT_2 | (1 << 3) | (1 << 4) | (1 << 7) | (1 << 8) | (1 << 9);

/// LuaJIT's tunable parameters and their defaults (`JIT_PARAMDEF`).
pub const PARAMS: [(&str, i32); 16] = [
    ("maxtrace", 8000),
    ("maxrecord", 16000),
    ("maxirconst", 500),
    ("maxside", 100),
    ("maxsnap", 500),
    ("minstitch", 3),
    ("hotloop", 56),
    ("hotexit", 10),
    ("tryside", 4),
    ("instunroll", 4),
    ("loopunroll", 15),
    ("callunroll", 3),
    ("recunroll", 2),
    ("sizemcode", 64),
    ("maxmcode", 40960),
    // Padding slot so the array size stays fixed if a parameter is added.
    ("", 0),
];

/// What scripts asked of the JIT through `jit.on/off` and `jit.opt.start`.
#[derive(Clone, Debug)]
pub struct JitState {
    /// `jit.on()` / `jit.off()` for the whole engine.
    pub on: bool,
    /// Optimisation flags, bit i = `OPT_FLAGS[i]`.
    pub opt_flags: u32,
    /// Parameter values, indexed like [`PARAMS`].
    pub params: [i32; 16],
}

impl Default for JitState {
    fn default() -> Self {
        JitState { on: true, opt_flags: OPT_3, params: PARAMS.map(|(_, v)| v) }
    }
}

/// The registry key under which the state's userdata lives.
const STATE_KEY: &str = "moonbox.jit";

/// The recorded JIT state of `vm` (defaults if the library is not open).
pub fn state(vm: &mut Vm) -> JitState {
    let reg = vm.registry;
    let v = vm.get_field(reg, STATE_KEY);
    with_state(v, |s| s.clone()).unwrap_or_default()
}

fn with_state<R>(v: Value, f: impl FnOnce(&mut JitState) -> R) -> Option<R> {
    let u: GcRef<Userdata> = v.as_userdata()?;
    let cell = u.data()?.downcast_ref::<std::cell::RefCell<JitState>>()?;
    let mut s = cell.try_borrow_mut().ok()?;
    Some(f(&mut s))
}

fn update(vm: &mut Vm, f: impl FnOnce(&mut JitState)) {
    let reg = vm.registry;
    let v = vm.get_field(reg, STATE_KEY);
    with_state(v, f);
}

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
    let u = vm.new_userdata(Some(Box::new(std::cell::RefCell::new(JitState::default()))));
    let reg = vm.registry;
    vm.set_field(reg, STATE_KEY, u.to_value());
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

fn jit_on(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if check_mode_args(vm, base, nargs)? {
        update(vm, |s| s.on = true);
    }
    Ok(0)
}

fn jit_off(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if check_mode_args(vm, base, nargs)? {
        update(vm, |s| s.on = false);
    }
    Ok(0)
}

fn jit_flush(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if vm.arg(base, nargs, 0).is_number() {
        vm.check_int(base, nargs, 0)?; // jit.flush(traceno)
        return Ok(0);
    }
    check_mode_args(vm, base, nargs)?;
    Ok(0)
}

/// The recorded on/off state (true by default, as in LuaJIT). LuaJIT also returns
/// its CPU and optimisation flags; there is no compiler to describe yet.
fn jit_status(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let on = state(vm).on;
    vm.push(Value::boolean(on));
    Ok(1)
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
    vm.check_function(base, nargs, 0)?;
    vm.opt_str(base, nargs, 1)?;
    Ok(0)
}

/// OpenResty's `jit.prngstate([state])`: the JIT's PRNG state as 8 32-bit integers.
/// There is no trace PRNG yet: the old state reads as zeros; a new one is checked
/// and ignored.
fn jit_prngstate(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    const MSG: &str = "PRNG state must be an array with up to 8 integers or an integer";
    let a = vm.arg(base, nargs, 0);
    let is_u32 = |v: Value| v.as_number().is_some_and(|n| n >= 0.0 && n <= u32::MAX as f64 && n.fract() == 0.0);
    if let Some(n) = a.as_number() {
        if !is_u32(Value::number(n)) {
            return Err(vm.arg_error(1, MSG));
        }
    } else if !a.is_nil() {
        let t = vm.check_table(base, nargs, 0)?;
        let len = t.len();
        if len > 8 || (1..=len as i64).any(|i| !is_u32(t.get_int(i))) {
            return Err(vm.arg_error(1, MSG));
        }
    }
    let cur = vm.new_table(8, 0);
    for i in 1..=8 {
        vm.raw_set(cur, Value::number(i as f64), Value::number(0.0))?;
    }
    vm.push(cur.to_value());
    Ok(1)
}

/// `jit.opt.start(...)`.
fn opt_start(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if nargs == 0 {
        update(vm, |s| s.opt_flags = (s.opt_flags & (1 << 10)) | OPT_3);
        return Ok(0);
    }
    for i in 0..nargs {
        let s = vm.check_str(base, nargs, i)?;
        let arg = s.as_bytes().to_vec();
        let mut st = state(vm);
        if !(opt_level(&mut st, &arg) || opt_flag(&mut st, &arg) || opt_param(&mut st, &arg)) {
            let a = String::from_utf8_lossy(&arg).into_owned();
            return Err(vm.rt_error(&format!("unknown or malformed optimization flag '{a}'")));
        }
        update(vm, |s| *s = st);
    }
    Ok(0)
}

fn opt_level(s: &mut JitState, a: &[u8]) -> bool {
    match a {
        [d @ b'0'..=b'9'] => {
            let flags = match d {
                b'0' => 0,
                b'1' => OPT_1,
                b'2' => OPT_2,
                _ => OPT_3,
            };
            s.opt_flags = flags | (s.opt_flags & !0x7ff);
            true
        }
        _ => false,
    }
}

fn opt_flag(s: &mut JitState, a: &[u8]) -> bool {
    let (name, set) = if let Some(r) = a.strip_prefix(b"+") {
        (r, true)
    } else if let Some(r) = a.strip_prefix(b"-") {
        (r, false)
    } else if let Some(r) = a.strip_prefix(b"no") {
        (r.strip_prefix(b"-").unwrap_or(r), false)
    } else {
        (a, true)
    };
    match OPT_FLAGS.iter().position(|f| f.as_bytes() == name) {
        Some(i) => {
            if set {
                s.opt_flags |= 1 << i;
            } else {
                s.opt_flags &= !(1 << i);
            }
            true
        }
        None => false,
    }
}

fn opt_param(s: &mut JitState, a: &[u8]) -> bool {
    for (i, (name, _)) in PARAMS.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        let Some(rest) = a.strip_prefix(name.as_bytes()).and_then(|r| r.strip_prefix(b"=")) else { continue };
        if !rest.iter().all(u8::is_ascii_digit) {
            return false;
        }
        // LuaJIT accumulates in an int32 with wrap-around.
        let n = rest.iter().fold(0i32, |n, &d| n.wrapping_mul(10).wrapping_add(i32::from(d - b'0')));
        s.params[i] = n;
        return true;
    }
    false
}
