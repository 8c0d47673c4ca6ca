//! The base library: `print`, `pcall`, `setmetatable`, `tonumber`, `load`, ...

use crate::gc::{GcRef, Kind};
use crate::number::{str2number, tonumber_base};
use crate::object::table::SetError;
use crate::object::{LuaFunction, Table};
use crate::value::Value;
use crate::vm::load::ChunkSource;
use crate::vm::{ErrorKind, FrameFn, LResult, LuaError, MetaEvent, NativeFunction, Special, Vm};

pub fn open(vm: &mut Vm) {
    let g = vm.globals;
    let funcs: &[(&'static str, crate::vm::NativeFn)] = &[
        ("assert", assert),
        ("dofile", dofile),
        ("error", error),
        ("gcinfo", gcinfo),
        ("getfenv", getfenv),
        ("getmetatable", getmetatable),
        ("ipairs", ipairs),
        ("load", load),
        ("loadfile", loadfile),
        ("loadstring", loadstring),
        ("newproxy", newproxy),
        ("next", next),
        ("pairs", pairs),
        ("print", print),
        ("rawequal", rawequal),
        ("rawget", rawget),
        ("rawset", rawset),
        ("select", select),
        ("setfenv", setfenv),
        ("setmetatable", setmetatable),
        ("tonumber", tonumber),
        ("tostring", tostring),
        ("type", type_),
        ("unpack", unpack),
    ];
    // Reading chunk files needs file access: ambient, or through directory grants.
    let files = crate::stdlib::lib(vm).files.any();
    for &(n, f) in funcs {
        if matches!(n, "dofile" | "loadfile") && !files {
            continue;
        }
        let fv = vm.native(f, n);
        vm.set_field(g, n, fv);
    }
    for (n, f, sp) in [
        ("pcall", pcall as crate::vm::NativeFn, Special::Pcall),
        ("xpcall", xpcall, Special::Xpcall),
        ("collectgarbage", collectgarbage, Special::Collect),
    ] {
        let mut nf = NativeFunction::new(f, n, Box::new([]));
        nf.special = sp;
        vm.alloc_native(&mut nf);
        let fv = vm.heap.alloc(nf).to_value();
        vm.set_field(g, n, fv);
    }
    // `type` in a trace: the name of the argument's (guarded) type, a constant.
    vm.jit_builtin(type_, crate::jit::ir::IrOp::KBOX);
    vm.set_field(g, "_G", g.to_value());
    let ver = vm.str_value(b"Lua 5.1");
    vm.set_field(g, "_VERSION", ver);
    // ipairs' iterator is shared, as in LuaJIT.
    let aux = vm.native(ipairs_aux, "ipairs_aux");
    vm.roots.push(aux);
    let nx = vm.get_field(g, "next");
    vm.roots.push(nx);
    let ts = vm.get_field(g, "tostring");
    vm.roots.push(ts);
}

fn assert(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.check_any(base, nargs, 0)?;
    if v.truthy() {
        // Return all arguments.
        vm.top = base + nargs;
        return Ok(nargs);
    }
    if nargs < 2 {
        return Err(vm.rt_error("assertion failed!"));
    }
    let m = vm.stack[base + 1];
    if m.is_string() || m.is_number() {
        let s = vm.tostring_basic(m);
        return Err(vm.rt_error(&String::from_utf8_lossy(&s)));
    }
    Err(LuaError::new(ErrorKind::Runtime, m))
}

/// Never called: the interpreter runs `collectgarbage` itself (`Special::Collect`,
/// `Vm::collectgarbage`), because only there may a collection free memory.
fn collectgarbage(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    vm.collectgarbage(base, nargs)
}

fn gcinfo(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let kb = (vm.heap.total_bytes() / 1024) as f64;
    vm.push(Value::number(kb));
    Ok(1)
}

fn error(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.arg(base, nargs, 0);
    let level = vm.opt_int(base, nargs, 1, 1)?;
    if (v.is_string() || v.is_number()) && level > 0 {
        let prefix = vm.where_prefix(level as usize + 1);
        if !prefix.is_empty() {
            let mut b = prefix.into_bytes();
            crate::vm::meta::append_str_or_num(&mut b, v);
            let s = vm.str_value(&b);
            return Err(LuaError::new(ErrorKind::Runtime, s));
        }
    }
    Err(LuaError::new(ErrorKind::Runtime, v))
}

/// The function at user stack level `level` (1 = the caller of the native).
fn level_function(vm: &mut Vm, level: i64) -> LResult<Option<Value>> {
    if level < 0 {
        return Err(vm.arg_error(1, "level must be non-negative"));
    }
    if level == 0 {
        return Ok(None);
    }
    match vm.frame_at_level(level as usize + 1) {
        Some(f) => Ok(Some(vm.stack[f.func])),
        None => Err(vm.arg_error(1, "invalid level")),
    }
}

fn getfenv(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = vm.arg(base, nargs, 0);
    let f = if a.is_function() {
        Some(a)
    } else {
        let level = vm.opt_int(base, nargs, 0, 1)?;
        level_function(vm, level)?
    };
    let env = match f {
        None => vm.globals.to_value(),
        Some(f) => match f.func_kind() {
            Some(Kind::LuaFunction) => GcRef::<LuaFunction>::from_value_payload(f).env().to_value(),
            _ => {
                let nf: GcRef<NativeFunction> = GcRef::from_value_payload(f);
                nf.env().unwrap_or(vm.globals).to_value()
            }
        },
    };
    vm.push(env);
    Ok(1)
}

fn setfenv(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = vm.arg(base, nargs, 0);
    let t = vm.check_table(base, nargs, 1)?;
    let f = if a.is_function() {
        Some(a)
    } else {
        let level = vm.check_int(base, nargs, 0)?;
        level_function(vm, level)?
    };
    match f {
        None => {
            vm.globals = t;
            Ok(0)
        }
        Some(f) if f.func_kind() == Some(Kind::LuaFunction) => {
            let lf: GcRef<LuaFunction> = GcRef::from_value_payload(f);
            lf.set_env(t);
            vm.heap.barrier(lf);
            vm.push(f);
            Ok(1)
        }
        Some(_) => Err(vm.rt_error("'setfenv' cannot change environment of given object")),
    }
}

fn getmetatable(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.check_any(base, nargs, 0)?;
    let r = match vm.metatable(v) {
        None => Value::NIL,
        Some(mt) => {
            let p = mt.get_str(vm.mm_names[MetaEvent::Metatable as usize]);
            if p.is_nil() {
                mt.to_value()
            } else {
                p
            }
        }
    };
    vm.push(r);
    Ok(1)
}

fn setmetatable(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let mv = vm.arg(base, nargs, 1);
    let mt = if mv.is_nil() && nargs >= 2 {
        None
    } else if let Some(m) = mv.as_table() {
        Some(m)
    } else {
        return Err(vm.arg_error(2, "nil or table expected"));
    };
    if let Some(old) = t.meta() {
        if !old.get_str(vm.mm_names[MetaEvent::Metatable as usize]).is_nil() {
            return Err(vm.rt_error("cannot change a protected metatable"));
        }
    }
    t.set_meta(mt);
    vm.heap.barrier(t);
    vm.push(t.to_value());
    Ok(1)
}

fn ipairs_aux(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let i = vm.check_int(base, nargs, 1)? + 1;
    let v = t.get_int(i);
    if v.is_nil() {
        return Ok(0);
    }
    vm.push(Value::number(i as f64));
    vm.push(v);
    Ok(2)
}

fn ipairs(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    vm.check_any(base, nargs, 0)?;
    let t = vm.check_table(base, nargs, 0)?;
    let aux = vm.roots[0];
    vm.push(aux);
    vm.push(t.to_value());
    vm.push(Value::number(0.0));
    Ok(3)
}

fn next(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let k = vm.arg(base, nargs, 1);
    match t.next(k) {
        Ok(Some((k, v))) => {
            vm.push(k);
            vm.push(v);
            Ok(2)
        }
        Ok(None) => {
            vm.push(Value::NIL);
            Ok(1)
        }
        Err(()) => Err(vm.rt_error("invalid key to 'next'")),
    }
}

fn pairs(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    vm.check_any(base, nargs, 0)?;
    let t = vm.check_table(base, nargs, 0)?;
    let nx = vm.roots[1];
    vm.push(nx);
    vm.push(t.to_value());
    vm.push(Value::NIL);
    Ok(3)
}

fn print(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    // LuaJIT calls the global `tostring`, unless it is still the builtin.
    let g = vm.globals;
    let mut ts = vm.get_field(g, "tostring");
    if ts.is_nil() && g.meta().is_some() {
        let k = vm.str_value(b"tostring");
        ts = vm.index_value(g.to_value(), k)?;
    }
    let builtin = ts == vm.roots[2];
    // The line is built whole (one write, as LuaJIT's single fwrite per value would
    // not interleave differently), so it is checked against the memory limit as it
    // grows, and its bytes are charged.
    let size = |v: Value| v.as_string().map_or(64, |s| s.len()) + 1;
    let mut out = Vec::new();
    for i in 0..nargs {
        if i > 0 {
            out.push(b'\t');
        }
        let v = vm.stack[base + i];
        if builtin && (v.is_string() || v.is_number() || vm.metamethod(v, MetaEvent::Tostring).is_nil()) {
            crate::stdlib::string::reserve(vm, &mut out, size(v))?;
            crate::vm::meta::write_basic(&mut out, v);
        } else {
            let s = if builtin { vm.tostring(v)? } else { vm.call_value1(ts, &[v])? };
            if !s.is_string() && !s.is_number() {
                return Err(vm.rt_error("'tostring' must return a string to 'print'"));
            }
            crate::stdlib::string::reserve(vm, &mut out, size(s))?;
            crate::vm::meta::write_basic(&mut out, s);
        }
    }
    out.push(b'\n');
    vm.charge_bytes(out.len())?;
    vm.write_stdout(&out);
    Ok(0)
}

fn rawequal(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = vm.check_any(base, nargs, 0)?;
    let b = vm.check_any(base, nargs, 1)?;
    vm.push(Value::boolean(Vm::raw_equal(a, b)));
    Ok(1)
}

fn rawget(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let k = vm.check_any(base, nargs, 1)?;
    vm.push(t.get(k));
    Ok(1)
}

fn rawset(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let k = vm.check_any(base, nargs, 1)?;
    let v = vm.check_any(base, nargs, 2)?;
    let r = t.set(k, v, vm.heap.room());
    vm.heap.barrier(t);
    match r {
        Ok(grown) => vm.account(grown)?,
        Err(SetError::NoMemory) => return Err(vm.mem_error()),
        // LuaJIT raises this one without a position.
        Err(e) => return Err(vm.plain_error(e.message())),
    }
    vm.push(t.to_value());
    Ok(1)
}

fn select(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = vm.arg(base, nargs, 0);
    if let Some(s) = a.as_string() {
        if s.as_bytes().first() == Some(&b'#') {
            vm.push(Value::number(nargs.saturating_sub(1) as f64));
            return Ok(1);
        }
    }
    let n = vm.check_int(base, nargs, 0)?;
    let rest = nargs as i64 - 1;
    let start = if n < 0 {
        if -n > rest {
            return Err(vm.arg_error(1, "index out of range"));
        }
        rest + n
    } else if n == 0 {
        return Err(vm.arg_error(1, "index out of range"));
    } else {
        (n - 1).min(rest)
    };
    // Results are the arguments from `start` on: they already sit at the stack top.
    let cnt = (rest - start) as usize;
    vm.top = base + nargs;
    Ok(cnt)
}

fn tonumber(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.check_any(base, nargs, 0)?;
    let b = vm.arg(base, nargs, 1);
    let r = if b.is_nil() {
        if v.is_number() {
            v
        } else if let Some(s) = v.as_string() {
            str2number(s.as_bytes()).map(Value::number).unwrap_or(Value::NIL)
        } else if v.is_cdata() {
            crate::ffi::lib::tonumber(vm, v)?.map(Value::number).unwrap_or(Value::NIL)
        } else {
            Value::NIL
        }
    } else {
        let bn = vm.check_int(base, nargs, 1)?;
        if !(2..=36).contains(&bn) {
            return Err(vm.arg_error(2, "base out of range"));
        }
        let s = vm.check_str(base, nargs, 0)?;
        tonumber_base(s.as_bytes(), bn as u32).map(Value::number).unwrap_or(Value::NIL)
    };
    vm.push(r);
    Ok(1)
}

fn tostring(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.check_any(base, nargs, 0)?;
    let s = vm.tostring(v)?;
    vm.push(s);
    Ok(1)
}

fn type_(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.check_any(base, nargs, 0)?;
    let s = vm.type_names[v.lua_type() as usize].to_value();
    vm.push(s);
    Ok(1)
}

/// Most values `unpack` may return (LuaJIT's LUAI_MAXCSTACK).
const MAX_UNPACK: i64 = 8000;

fn unpack(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let i = vm.opt_int(base, nargs, 1, 1)?;
    let j = if vm.arg(base, nargs, 2).is_nil() { t.len() as i64 } else { vm.check_int(base, nargs, 2)? };
    if i > j {
        return Ok(0);
    }
    let n = j.saturating_sub(i).saturating_add(1);
    if n <= 0 || n >= MAX_UNPACK {
        return Err(vm.rt_error("too many results to unpack"));
    }
    vm.ensure_stack(vm.top + n as usize + crate::vm::EXTRA_STACK)?;
    for k in i..=j {
        let v = t.get_int(k);
        vm.push(v);
    }
    Ok(n as usize)
}

fn newproxy(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = vm.arg(base, nargs, 0);
    let u = vm.new_userdata(None);
    if a == Value::TRUE {
        let mt = vm.new_table(0, 0);
        u.set_meta(Some(mt));
    } else if let Some(other) = a.as_userdata() {
        u.set_meta(other.meta());
        vm.heap.barrier(u);
    } else if a.truthy() {
        return Err(vm.arg_error(1, "boolean or proxy expected"));
    }
    vm.push(u.to_value());
    Ok(1)
}

/// `pcall` when it cannot be handled by the dispatch loop (e.g. used as a
/// metamethod): a re-entrant protected call.
fn pcall(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    vm.check_any(base, nargs, 0)?;
    protected(vm, base, nargs - 1, None)
}

fn xpcall(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    vm.check_any(base, nargs, 0)?;
    vm.check_function(base, nargs, 1)?;
    let h = vm.stack[base + 1];
    vm.stack.copy_within(base + 2..base + nargs, base + 1);
    protected(vm, base, nargs - 2, Some(h))
}

fn protected(vm: &mut Vm, base: usize, nargs: usize, handler: Option<Value>) -> LResult<usize> {
    let f = vm.stack[base];
    let args: Vec<Value> = vm.stack[base + 1..base + 1 + nargs].to_vec();
    match vm.call_value(f, &args, -1) {
        Ok(vals) => {
            vm.push(Value::TRUE);
            let n = vals.len() + 1;
            for v in vals {
                vm.push(v);
            }
            Ok(n)
        }
        Err(e) if e.kind().catchable() => {
            let mut ev = e.value();
            if let Some(h) = handler {
                ev = match vm.call_value1(h, &[ev]) {
                    Ok(v) => v,
                    Err(e2) if !e2.kind().catchable() => return Err(e2),
                    Err(_) => vm.str_value(b"error in error handling"),
                };
            }
            vm.push(Value::FALSE);
            vm.push(ev);
            Ok(2)
        }
        Err(e) => Err(e),
    }
}

// ----- Loading --------------------------------------------------------------------

/// Pushes the result of a load: the function, or nil and the message.
fn push_load_result(vm: &mut Vm, r: LResult<Value>) -> LResult<usize> {
    match r {
        Ok(f) => {
            vm.push(f);
            Ok(1)
        }
        // As LuaJIT's `load`: any failure to load (a memory error too) is `nil, msg`.
        Err(e) if matches!(e.kind(), ErrorKind::Syntax | ErrorKind::Runtime | ErrorKind::Memory) => {
            vm.push(Value::NIL);
            vm.push(e.value());
            Ok(2)
        }
        Err(e) => Err(e),
    }
}

fn loadstring(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let name = vm.opt_str(base, nargs, 1)?.unwrap_or(s);
    // No copies: the strings are arguments (rooted), immutable, and nothing is freed
    // while a library function runs (a string source calls no Lua code).
    let r = vm.load(s.as_bytes(), name.as_bytes(), None);
    push_load_result(vm, r)
}

fn load(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = vm.arg(base, nargs, 0);
    let name_arg = vm.opt_str(base, nargs, 1)?;
    let mode = vm.opt_str(base, nargs, 2)?.map(|m| m.as_bytes().to_vec());
    let env = match vm.arg(base, nargs, 3) {
        v if v.is_nil() => None,
        v => match v.as_table() {
            Some(t) => Some(t),
            None => return Err(vm.type_arg_error(base, nargs, 3, "table")),
        },
    };
    let mode = mode.as_deref();
    let r = if let Some(s) = a.as_string() {
        let name = name_arg.unwrap_or(s);
        // No copies: as in `loadstring`.
        vm.load_chunk(ChunkSource::Bytes(s.as_bytes()), name.as_bytes(), mode, env)
    } else if a.is_function() {
        let name = name_arg.map(|n| n.as_bytes().to_vec()).unwrap_or_else(|| b"=(load)".to_vec());
        // The reader stays rooted in argument slot 0; each piece is copied out at once.
        let mut read = |vm: &mut Vm, buf: &mut Vec<u8>| -> LResult<bool> {
            let piece = vm.call_value1(a, &[])?;
            if let Some(p) = piece.as_string() {
                buf.extend_from_slice(p.as_bytes());
                Ok(!p.is_empty())
            } else if piece.is_number() {
                // LuaJIT takes a number as its string form.
                buf.extend_from_slice(&vm.tostring_basic(piece));
                Ok(true)
            } else if piece.is_nil() {
                Ok(false)
            } else {
                let m = vm.str_value(b"reader function must return a string");
                Err(LuaError::new(ErrorKind::Runtime, m))
            }
        };
        match vm.load_chunk(ChunkSource::Reader(&mut read), &name, mode, env) {
            // Whatever the reader raised (but a budget stop) is load's failure message.
            Err(e) if e.kind().catchable() => Err(LuaError::new(ErrorKind::Runtime, e.value())),
            r => r,
        }
    } else {
        return Err(vm.type_arg_error(base, nargs, 0, "function"));
    };
    push_load_result(vm, r)
}

/// Reads a source file as `loadfile` does (a first line starting with `#` is
/// skipped by the compiler).
pub fn read_source(path: Option<&str>) -> Result<Vec<u8>, String> {
    use std::io::Read;
    match path {
        Some(p) => std::fs::read(p).map_err(|e| format!("cannot open {p}: {}", io_error_text(&e))),
        None => {
            let mut b = Vec::new();
            std::io::stdin().read_to_end(&mut b).map_err(|e| format!("cannot read stdin: {}", io_error_text(&e)))?;
            Ok(b)
        }
    }
}

/// Reads a chunk file for `loadfile`, `dofile` and `require` through the state's file
/// access (`ambient` overrides it, for `require` with `package_paths`). `None` is
/// stdin, which only ambient access reaches.
pub fn read_chunk_file(vm: &Vm, path: Option<&str>, ambient: bool) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if ambient || crate::stdlib::lib_ref(vm).is_some_and(|l| l.files.is_ambient()) {
        return read_source(path);
    }
    let Some(p) = path else { return Err("cannot read stdin: Permission denied".to_string()) };
    let err = |e: std::io::Error| format!("cannot open {p}: {}", io_error_text(&e));
    let Some(l) = crate::stdlib::lib_ref(vm) else { return Err(err(std::io::ErrorKind::NotFound.into())) };
    let mut f = l.files.open(std::path::Path::new(p), crate::stdlib::fs::OpenFlags::read()).map_err(err)?;
    let mut b = Vec::new();
    f.read_to_end(&mut b).map_err(err)?;
    Ok(b)
}

/// The C library's text for an I/O error, as LuaJIT prints it.
pub fn io_error_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "No such file or directory".into(),
        K::PermissionDenied => "Permission denied".into(),
        K::AlreadyExists => "File exists".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

fn loadfile(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let path = vm.opt_str(base, nargs, 0)?.map(|s| s.to_str_lossy().into_owned());
    let r = match read_chunk_file(vm, path.as_deref(), false) {
        Ok(src) => {
            let name = match &path {
                Some(p) => format!("@{p}"),
                None => "=stdin".to_string(),
            };
            vm.load(&src, name.as_bytes(), None)
        }
        Err(m) => {
            let v = vm.str_value(m.as_bytes());
            Err(LuaError::new(ErrorKind::Runtime, v))
        }
    };
    push_load_result(vm, r)
}

fn dofile(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let path = vm.opt_str(base, nargs, 0)?.map(|s| s.to_str_lossy().into_owned());
    let src = match read_chunk_file(vm, path.as_deref(), false) {
        Ok(s) => s,
        Err(m) => return Err(vm.rt_error(&m)),
    };
    let name = match &path {
        Some(p) => format!("@{p}"),
        None => "=stdin".to_string(),
    };
    let f = vm.load(&src, name.as_bytes(), None)?;
    let func = vm.top;
    vm.push(f);
    // Unpinned: a whole program may run in here (test suites run their files through
    // `dofile`), and under a pin nothing it drops would be freed until it returns.
    // SAFETY: from here on this function uses no GC reference (the chunk is a stack
    // slot; `path` and `src` are Rust data); the frames below it are the interpreter's
    // (rooted) or pin on their own.
    let n = unsafe { vm.call_at_unpinned(func, 0, -1) }?;
    // Results are at stack[func .. func+n]: exactly the top `n` values.
    vm.top = func + n;
    Ok(n)
}

/// The globals table of the running function's environment (for libraries).
pub fn current_env(vm: &Vm) -> GcRef<Table> {
    for f in vm.frames.iter().rev() {
        if let FrameFn::Lua(c, _) = f.fun {
            return c.env();
        }
    }
    vm.globals
}

// ----- The guarded collectgarbage of untrusted states --------------------------------

/// Makes `collectgarbage` refuse the options that would stop or slow the collector
/// ([`REFUSED_GC_OPTIONS`](crate::vm::REFUSED_GC_OPTIONS)), for states whose code may
/// not control it: sandboxes, tenants.
pub fn guard_collectgarbage(vm: &mut Vm) {
    vm.gc_control = false;
}
