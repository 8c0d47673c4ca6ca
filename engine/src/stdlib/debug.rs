//! The debug library, as LuaJIT 2.1 has it (without 5.2 compatibility).
//!
//! Stack levels count as in LuaJIT: level 0 is the running debug function itself,
//! level 1 its caller, and so on; for another coroutine level 0 is its top frame
//! (the `yield` it is suspended in). Functions taking a thread argument briefly swap
//! that thread's stack and frames into the `Vm` to inspect them (no Lua code runs
//! meanwhile).
//!
//! `pcall`/`xpcall` called from Lua run no frame of their own in this VM, but count as
//! a level (a builtin) below the function they protect, as in LuaJIT (`Vm::level`).
//! The bottom `[C]` frame of the main thread (the host's call) exists only in
//! tracebacks, as in the interpreter's own error tracebacks; `getinfo` stops at the
//! main chunk.
//!
//! Hooks: `debug.sethook` stores the hook in the registry and arms the interpreter
//! through `Vm::hooks` (see `vm/hook.rs`): "call", "return", "line" and "count"
//! events fire. Hooks are per state (as in LuaJIT, where they are global): a thread
//! argument is accepted and ignored.

use crate::bytecode::Op;
use crate::compiler::chunk_id;
use crate::gc::{GcRef, Kind};
use crate::object::{LuaFunction, Thread};
use crate::value::Value;
use crate::vm::debug::{slot_name, Level};
use crate::vm::{Frame, FrameFn, LResult, NativeFunction, Vm};

pub fn open(vm: &mut Vm) {
    let full = crate::stdlib::lib(vm).caps.debug == super::caps::DebugLevel::Full;
    super::register_lib_granted(
        vm,
        "debug",
        &[
            ("debug", debug),
            ("getfenv", getfenv),
            ("gethook", gethook),
            ("getinfo", getinfo),
            ("getlocal", getlocal),
            ("getmetatable", getmetatable),
            ("getregistry", getregistry),
            ("getupvalue", getupvalue),
            ("setfenv", setfenv),
            ("sethook", sethook),
            ("setlocal", setlocal),
            ("setmetatable", setmetatable),
            ("setupvalue", setupvalue),
            ("traceback", traceback),
            ("upvalueid", upvalueid),
            ("upvaluejoin", upvaluejoin),
        ],
        |n| full || n == "traceback",
    );
}

/// A function value, by kind.
enum Func {
    Lua(GcRef<LuaFunction>),
    Native(GcRef<NativeFunction>),
    /// A builtin whose value is not available.
    Unknown,
}

fn as_func(v: Value) -> Option<Func> {
    match v.func_kind()? {
        Kind::LuaFunction => Some(Func::Lua(GcRef::from_value_payload(v))),
        Kind::NativeFunction => Some(Func::Native(GcRef::from_value_payload(v))),
        _ => None,
    }
}

/// An optional leading thread argument: (another thread to inspect, index of the
/// next argument). The running thread counts as no thread.
fn thread_arg(vm: &Vm, base: usize, nargs: usize) -> (Option<GcRef<Thread>>, usize) {
    match vm.arg(base, nargs, 0).as_thread() {
        Some(t) if t == vm.cur_thread => (None, 1),
        Some(t) => (Some(t), 1),
        None => (None, 0),
    }
}

fn swap_thread(vm: &mut Vm, co: GcRef<Thread>) {
    co.swap_state(vm.thread_state());
}

/// Runs `f` with `co`'s stack and frames in place of the running thread's. `f` must
/// not call Lua or push values.
fn with_thread<R>(vm: &mut Vm, co: Option<GcRef<Thread>>, f: impl FnOnce(&mut Vm) -> R) -> R {
    match co {
        None => f(vm),
        Some(co) => {
            swap_thread(vm, co);
            let r = f(vm);
            swap_thread(vm, co);
            r
        }
    }
}

/// What stack level `level` (0 = top) is: a frame, or the `pcall`/`xpcall` below a
/// protected frame (which LuaJIT counts as a level of its own).
fn level_at(vm: &Vm, level: i64) -> Option<Level> {
    vm.level(usize::try_from(level).ok()?.checked_add(1)?)
}

/// The frame index of stack level `level`, if it is a real frame.
fn level_index(vm: &Vm, level: i64) -> Option<Option<usize>> {
    match level_at(vm, level)? {
        Level::Frame(i) => Some(Some(i)),
        Level::Pcall(_) => Some(None),
    }
}

/// The `pcall` / `xpcall` function below protected frame `i`, and its name at its
/// call site.
fn pcall_level(vm: &Vm, i: usize) -> (Value, Option<(&'static str, Vec<u8>)>) {
    let f = vm.frames[i];
    let func = if f.handler.is_none() {
        vm.stack.get(f.func.wrapping_sub(1)).copied().unwrap_or(Value::NIL)
    } else {
        // xpcall's slot now holds the handler; its own value is gone.
        Value::NIL
    };
    let name = i.checked_sub(1).and_then(|c| vm.frames.get(c)).and_then(|caller| {
        let FrameFn::Lua(c, _) = caller.fun else { return None };
        let pc = caller.pc.checked_sub(1)?;
        let ins = c.proto.ins(pc)?;
        match ins.op()? {
            Op::CALL | Op::CALLT => slot_name(&c.proto, pc, ins.a()),
            _ => None,
        }
    });
    (func, name)
}

/// A level argument as `lua_isnumber` / `lua_tointeger` see it.
fn level_of(v: Value) -> Option<i64> {
    let n = v.as_number().or_else(|| v.as_string().and_then(|s| crate::number::str2number(s.as_bytes())))?;
    Some(crate::stdlib::num_to_int(n))
}

/// The function value running in frame `f`.
fn frame_func(vm: &Vm, f: &Frame) -> Value {
    match f.fun {
        FrameFn::Lua(c, _) => c.to_value(),
        FrameFn::Native => vm.stack.get(f.func).copied().unwrap_or(Value::NIL),
    }
}

/// The line frame `f` is executing (-1 for native frames).
fn frame_line(f: &Frame) -> i64 {
    match f.fun {
        FrameFn::Lua(c, _) => i64::from(c.proto.line_at(f.pc.saturating_sub(1))),
        FrameFn::Native => -1,
    }
}

/// Everything `getinfo` needs from a frame, gathered while its thread is swapped in.
struct FrameInfo {
    func: Value,
    line: i64,
    name: Option<(&'static str, Vec<u8>)>,
}

fn getinfo(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let (co, arg) = thread_arg(vm, base, nargs);
    let opts = vm.opt_str(base, nargs, arg + 1)?.map_or(b"flnSu".to_vec(), |s| s.as_bytes().to_vec());
    let a = vm.arg(base, nargs, arg);
    let info = if let Some(level) = level_of(a) {
        let fi = with_thread(vm, co, |vm| match level_at(vm, level)? {
            Level::Frame(idx) => {
                let f = vm.frames[idx];
                Some(FrameInfo { func: frame_func(vm, &f), line: frame_line(&f), name: vm.frame_call_name(idx) })
            }
            Level::Pcall(i) => {
                let (func, name) = pcall_level(vm, i);
                Some(FrameInfo { func, line: -1, name })
            }
        });
        match fi {
            Some(fi) => fi,
            None => {
                vm.push(Value::NIL);
                return Ok(1);
            }
        }
    } else if a.is_function() {
        FrameInfo { func: a, line: -1, name: None }
    } else {
        return Err(vm.arg_error(arg + 1, "function or level expected"));
    };
    if opts.iter().any(|c| !b"SlunfL".contains(c)) {
        return Err(vm.arg_error(arg + 2, "invalid option"));
    }
    // (Only xpcall's own level has no function value left: describe it as a builtin.)
    let func = as_func(info.func).unwrap_or(Func::Unknown);
    let t = vm.new_table(0, 16);
    vm.push(t.to_value());
    let num = |n: i64| Value::number(n as f64);
    for &o in &opts {
        match o {
            b'S' => {
                let (src, short, first, last, what) = match &func {
                    Func::Lua(c) => {
                        let p = c.proto;
                        let last = if p.linedefined == 0 {
                            p.lineinfo.iter().copied().max().unwrap_or(0)
                        } else {
                            p.lastlinedefined
                        };
                        let what = if p.linedefined == 0 { "main" } else { "Lua" };
                        let short = chunk_id(p.chunkname.as_bytes());
                        (p.chunkname.to_value(), short, i64::from(p.linedefined), i64::from(last), what)
                    }
                    _ => (vm.str_value(b"=[C]"), "[C]".to_string(), -1, -1, "C"),
                };
                vm.set_field(t, "source", src);
                let v = vm.str_value(short.as_bytes());
                vm.set_field(t, "short_src", v);
                vm.set_field(t, "linedefined", num(first));
                vm.set_field(t, "lastlinedefined", num(last));
                let v = vm.str_value(what.as_bytes());
                vm.set_field(t, "what", v);
            }
            b'l' => vm.set_field(t, "currentline", num(info.line)),
            b'u' => {
                let (nups, nparams, vararg) = match &func {
                    Func::Lua(c) => (c.nupvals(), usize::from(c.proto.numparams), c.proto.is_vararg),
                    Func::Native(nf) => (nf.nupvals(), 0, true),
                    Func::Unknown => (0, 0, true),
                };
                vm.set_field(t, "nups", num(nups as i64));
                vm.set_field(t, "nparams", num(nparams as i64));
                vm.set_field(t, "isvararg", Value::boolean(vararg));
            }
            b'n' => {
                let (what, name) = match &info.name {
                    Some((w, n)) => (*w, vm.str_value(n)),
                    None => ("", Value::NIL),
                };
                vm.set_field(t, "name", name);
                let v = vm.str_value(what.as_bytes());
                vm.set_field(t, "namewhat", v);
            }
            _ => {}
        }
    }
    if opts.contains(&b'L') {
        let lines = match &func {
            Func::Lua(c) => {
                let lt = vm.new_table(0, 8);
                for &l in c.proto.lineinfo.iter() {
                    vm.raw_set(lt, Value::number(f64::from(l)), Value::TRUE)?;
                }
                lt.to_value()
            }
            _ => Value::NIL,
        };
        vm.set_field(t, "activelines", lines);
    }
    if opts.contains(&b'f') {
        vm.set_field(t, "func", info.func);
    }
    Ok(1)
}

/// The name and stack slot of local `n` of frame `idx` (`lua_getlocal`): the n-th
/// active local variable, else a temporary slot of the frame, and for n < 0 the
/// n-th vararg.
fn local_slot(vm: &Vm, idx: usize, n: i64) -> Option<(Vec<u8>, usize)> {
    let f = vm.frames[idx];
    let limit = vm.frames.get(idx + 1).map_or(vm.top, |nf| nf.func);
    if let FrameFn::Lua(c, _) = f.fun {
        let p = c.proto;
        if n < 0 {
            let slot =
                (f.func + 1 + usize::from(p.numparams)).checked_add(usize::try_from(n.checked_neg()? - 1).ok()?)?;
            return (p.is_vararg && slot < f.base).then(|| (b"(*vararg)".to_vec(), slot));
        }
        let pc = f.pc.saturating_sub(1);
        let mut k = n;
        for l in p.locals.iter() {
            if (l.startpc as usize) <= pc && pc < l.endpc as usize {
                k -= 1;
                if k == 0 {
                    return Some((l.name.to_vec(), f.base + usize::from(l.reg)));
                }
            }
        }
    }
    let slot = f.base.checked_add(usize::try_from(n.checked_sub(1)?).ok()?)?;
    (n > 0 && slot < limit).then(|| (b"(*temporary)".to_vec(), slot))
}

fn getlocal(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let (co, arg) = thread_arg(vm, base, nargs);
    let n = vm.check_int(base, nargs, arg + 1)?;
    let a = vm.arg(base, nargs, arg);
    if a.is_function() {
        // Parameter names of a function (the locals active at its start).
        let name = match as_func(a) {
            Some(Func::Lua(c)) => c
                .proto
                .locals
                .iter()
                .filter(|l| l.startpc == 0 && l.endpc > 0)
                .nth(n.checked_sub(1).and_then(|i| usize::try_from(i).ok()).unwrap_or(usize::MAX))
                .map(|l| vm.str_value(&l.name)),
            _ => None,
        };
        vm.push(name.unwrap_or(Value::NIL));
        return Ok(1);
    }
    let level = vm.check_int(base, nargs, arg)?;
    let r = with_thread(vm, co, |vm| {
        let idx = level_index(vm, level)?;
        let local = idx.and_then(|idx| local_slot(vm, idx, n));
        Some(local.map(|(name, slot)| (name, vm.stack.get(slot).copied().unwrap_or(Value::NIL))))
    });
    match r {
        None => Err(vm.arg_error(arg + 1, "level out of range")),
        Some(Some((name, v))) => {
            let s = vm.str_value(&name);
            vm.push(s);
            vm.push(v);
            Ok(2)
        }
        Some(None) => {
            vm.push(Value::NIL);
            Ok(1)
        }
    }
}

fn setlocal(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let (co, arg) = thread_arg(vm, base, nargs);
    let level = vm.check_int(base, nargs, arg)?;
    if with_thread(vm, co, |vm| level_index(vm, level)).is_none() {
        return Err(vm.arg_error(arg + 1, "level out of range"));
    }
    let v = vm.check_any(base, nargs, arg + 2)?;
    let n = vm.check_int(base, nargs, arg + 1)?;
    let name = with_thread(vm, co, |vm| {
        let idx = level_index(vm, level)??;
        let (name, slot) = local_slot(vm, idx, n)?;
        if let Some(s) = vm.stack.get_mut(slot) {
            *s = v;
        }
        Some(name)
    });
    let r = match name {
        Some(n) => vm.str_value(&n),
        None => Value::NIL,
    };
    vm.push(r);
    Ok(1)
}

/// Checks `(f, n)` arguments at `i`, `i+1` for the upvalue functions.
fn upvalue_args(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<(Func, i64)> {
    let n = vm.check_int(base, nargs, i + 1)?;
    let f = vm.check_function(base, nargs, i)?;
    match as_func(f) {
        Some(func) => Ok((func, n)),
        None => Err(vm.type_arg_error(base, nargs, i, "function")),
    }
}

/// The 0-based upvalue index for `n` if `f` has that upvalue.
fn upvalue_index(f: &Func, n: i64) -> Option<usize> {
    let len = match f {
        Func::Lua(c) => c.nupvals(),
        Func::Native(nf) => nf.nupvals(),
        Func::Unknown => 0,
    };
    usize::try_from(n.checked_sub(1)?).ok().filter(|&i| i < len)
}

fn upvalue_name(f: &Func, i: usize) -> Vec<u8> {
    match f {
        Func::Lua(c) => c.proto.upval_names.get(i).map_or(Vec::new(), |n| n.to_vec()),
        _ => Vec::new(),
    }
}

fn getupvalue(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let (f, n) = upvalue_args(vm, base, nargs, 0)?;
    let Some(i) = upvalue_index(&f, n) else { return Ok(0) };
    let v = match &f {
        Func::Lua(c) => c.upval(i).map_or(Value::NIL, |u| vm.upval_get(u)),
        Func::Native(nf) => nf.upval(i),
        Func::Unknown => Value::NIL,
    };
    let name = vm.str_value(&upvalue_name(&f, i));
    vm.push(name);
    vm.push(v);
    Ok(2)
}

fn setupvalue(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.check_any(base, nargs, 2)?;
    let (f, n) = upvalue_args(vm, base, nargs, 0)?;
    let Some(i) = upvalue_index(&f, n) else { return Ok(0) };
    match &f {
        Func::Lua(c) => {
            if let Some(u) = c.upval(i) {
                vm.upval_set(u, v);
            }
        }
        Func::Native(nf) => {
            nf.set_upval(i, v);
            vm.heap.barrier(*nf);
        }
        Func::Unknown => {}
    }
    let name = vm.str_value(&upvalue_name(&f, i));
    vm.push(name);
    Ok(1)
}

fn upvalueid(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let f = vm.check_function(base, nargs, 0)?;
    let n = vm.check_int(base, nargs, 1)?;
    let Some(func) = as_func(f) else { return Err(vm.type_arg_error(base, nargs, 0, "function")) };
    let Some(i) = upvalue_index(&func, n) else { return Err(vm.arg_error(2, "index out of range")) };
    let id = match &func {
        Func::Lua(c) => c.upval(i).map_or(0, |u| u.addr() as u64),
        // A native closure's upvalues live in the function object itself.
        Func::Native(nf) => (nf.addr() + std::mem::size_of::<NativeFunction>() + 8 * i) as u64,
        Func::Unknown => 0,
    };
    vm.push(Value::light_userdata(id));
    Ok(1)
}

fn upvaluejoin(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let mut sel = Vec::with_capacity(2);
    for k in 0..2 {
        let f = vm.check_function(base, nargs, 2 * k)?;
        let Some(Func::Lua(c)) = as_func(f) else { return Err(vm.arg_error(2 * k + 1, "Lua function expected")) };
        let n = vm.check_int(base, nargs, 2 * k + 1)?;
        let Some(i) = upvalue_index(&Func::Lua(c), n) else {
            return Err(vm.arg_error(2 * k + 2, "index out of range"));
        };
        sel.push((c, i));
    }
    let (f1, i1) = sel[0];
    let (f2, i2) = sel[1];
    if let Some(u) = f2.upval(i2) {
        f1.set_upval(i1, u);
        vm.heap.barrier(f1);
    }
    Ok(0)
}

fn getmetatable(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.check_any(base, nargs, 0)?;
    let mt = vm.metatable(v).map_or(Value::NIL, |t| t.to_value());
    vm.push(mt);
    Ok(1)
}

fn setmetatable(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.arg(base, nargs, 0);
    let m = vm.arg(base, nargs, 1);
    let mt = match m.as_table() {
        Some(t) => Some(t),
        None if m.is_nil() && nargs >= 2 => None,
        None => return Err(vm.arg_error(2, "nil or table expected")),
    };
    if let Some(t) = v.as_table() {
        t.set_meta(mt);
        vm.heap.barrier(t);
    } else if let Some(u) = v.as_userdata() {
        u.set_meta(mt);
        vm.heap.barrier(u);
    } else {
        vm.type_meta[crate::vm::type_slot(v.lua_type())] = mt;
    }
    vm.push(Value::TRUE);
    Ok(1)
}

fn getregistry(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    vm.push(vm.registry.to_value());
    Ok(1)
}

fn getfenv(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.check_any(base, nargs, 0)?;
    let env = match as_func(v) {
        Some(Func::Lua(c)) => Some(c.env()),
        Some(Func::Native(nf)) => Some(nf.env().unwrap_or(vm.globals)),
        _ => {
            if let Some(u) = v.as_userdata() {
                Some(u.env().unwrap_or(vm.globals))
            } else if let Some(t) = v.as_thread() {
                Some(if t == vm.cur_thread { vm.globals } else { t.env().unwrap_or(vm.globals) })
            } else {
                None
            }
        }
    };
    vm.push(env.map_or(Value::NIL, |t| t.to_value()));
    Ok(1)
}

fn setfenv(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 1)?;
    let v = vm.arg(base, nargs, 0);
    match as_func(v) {
        Some(Func::Lua(c)) => {
            c.set_env(t);
            vm.heap.barrier(c);
        }
        Some(Func::Native(nf)) => {
            nf.set_env(Some(t));
            vm.heap.barrier(nf);
        }
        _ => {
            if let Some(u) = v.as_userdata() {
                u.set_env(Some(t));
                vm.heap.barrier(u);
            } else if let Some(th) = v.as_thread() {
                if th == vm.cur_thread {
                    vm.globals = t;
                } else {
                    th.set_env(Some(t));
                }
            } else {
                return Err(vm.rt_error("'setfenv' cannot change environment of given object"));
            }
        }
    }
    vm.push(v);
    Ok(1)
}

use crate::vm::hook::{HOOK_KEY, MASK_CALL, MASK_COUNT, MASK_LINE, MASK_RET};
/// Registry key of the hook mask string and count (for `gethook`).
const HOOK_MASK_KEY: &str = "moonbox.hookmask";
const HOOK_COUNT_KEY: &str = "moonbox.hookcount";

fn sethook(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let (_, arg) = thread_arg(vm, base, nargs);
    let (f, mask, count) = if vm.arg(base, nargs, arg).is_nil() {
        (Value::NIL, String::new(), 0)
    } else {
        let smask = vm.check_str(base, nargs, arg + 1)?.as_bytes().to_vec();
        let f = vm.check_function(base, nargs, arg)?;
        let count = vm.opt_int(base, nargs, arg + 2, 0)?;
        let mask: String = [b'c', b'r', b'l'].iter().filter(|c| smask.contains(c)).map(|&c| c as char).collect();
        (f, mask, count)
    };
    let mut bits = 0;
    for (c, b) in [('c', MASK_CALL), ('r', MASK_RET), ('l', MASK_LINE)] {
        if mask.contains(c) {
            bits |= b;
        }
    }
    if count > 0 {
        bits |= MASK_COUNT;
    }
    vm.hooks.set(if f.is_nil() { 0 } else { bits }, count);
    let reg = vm.registry;
    vm.set_field(reg, HOOK_KEY, f);
    let m = vm.str_value(mask.as_bytes());
    vm.set_field(reg, HOOK_MASK_KEY, m);
    vm.set_field(reg, HOOK_COUNT_KEY, Value::number(count as f64));
    Ok(0)
}

fn gethook(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let reg = vm.registry;
    let f = vm.get_field(reg, HOOK_KEY);
    let mut mask = vm.get_field(reg, HOOK_MASK_KEY);
    if mask.is_nil() || f.is_nil() {
        mask = vm.str_value(b"");
    }
    let count = vm.get_field(reg, HOOK_COUNT_KEY);
    vm.push(f);
    vm.push(mask);
    vm.push(if count.is_nil() { Value::number(0.0) } else { count });
    Ok(3)
}

fn traceback(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let (co, arg) = thread_arg(vm, base, nargs);
    let m = vm.arg(base, nargs, arg);
    let msg = if m.is_string() || m.is_number() { Some(vm.tostring_basic(m)) } else { None };
    if msg.is_none() && nargs > arg {
        vm.push(m);
        return Ok(1);
    }
    let same = co.is_none();
    let def = if same { 1 } else { 0 };
    let level = vm.opt_int(base, nargs, arg + 1, def)?;
    // The main thread's bottom frame is the host's call, shown as LuaJIT shows its
    // C entry frame.
    let on_main = match co {
        Some(t) => t == vm.main_thread,
        None => vm.cur_thread == vm.main_thread,
    };
    let level = usize::try_from(level).unwrap_or(usize::MAX);
    let text = with_thread(vm, co, |vm| vm.traceback_text(level, on_main));
    let mut out = Vec::new();
    if let Some(m) = msg {
        out.extend_from_slice(&m);
        out.push(b'\n');
    }
    out.extend_from_slice(text.as_bytes());
    let s = vm.str_value(&out);
    vm.push(s);
    Ok(1)
}

/// `debug.debug()`: reads and runs lines from stdin until `cont` or end of input.
fn debug(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    use std::io::{BufRead, Write};
    loop {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().write_all(b"lua_debug> ");
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => return Ok(0),
            Ok(_) => {}
        }
        if line == "cont\n" || line == "cont" {
            return Ok(0);
        }
        let r = match vm.load(line.as_bytes(), b"=(debug command)", None) {
            Ok(f) => vm.call_value(f, &[], 0).map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            if !e.kind().catchable() {
                return Err(e);
            }
            let m = vm.error_to_string(&e);
            let _ = std::io::stderr().write_all(format!("{m}\n").as_bytes());
        }
    }
}
