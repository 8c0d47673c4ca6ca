//! The package library: `require`, `module`, `package.*`, as LuaJIT 2.1 has them
//! (Lua 5.1 semantics: `package.loaders`, `module`, `package.seeall`).
//!
//! - `package.path` / `package.cpath` come from `LUA_PATH` / `LUA_CPATH`, where `;;`
//!   stands for the default path. The defaults are LuaJIT's for a `/usr`-style install
//!   (`/usr/local` and `/usr` trees), without LuaJIT's own `share/luajit-2.1` directory
//!   (its `jit.*` Lua modules need LuaJIT internals).
//! - The loaders, `require` and `module` reach the package table through an upvalue
//!   (LuaJIT uses the functions' environment), so replacing the global `package` does
//!   not detach them.
//! - C modules cannot be loaded: the C searchers still search `package.cpath` (and
//!   list what they tried), but a module they find fails with "C modules are not
//!   supported", as does `package.loadlib`.
//! - `require` marks a module being loaded with a private sentinel, so a cycle (or a
//!   second `require` after a failed one) reports "loop or previous error loading
//!   module".

use crate::gc::GcRef;
use crate::object::Table;
use crate::value::Value;
use crate::vm::{FrameFn, LResult, NativeFn, Vm};

/// Why a found C module cannot be used.
const NO_C_MODULES: &str = "C modules are not supported by moonbox";

#[cfg(windows)]
const PATH_DEFAULT: &str = ".\\?.lua;!\\lua\\?.lua;!\\lua\\?\\init.lua;";
#[cfg(windows)]
const CPATH_DEFAULT: &str = ".\\?.dll;!\\?.dll;!\\loadall.dll";
#[cfg(not(windows))]
const PATH_DEFAULT: &str = "./?.lua;/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua;\
/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua";
#[cfg(not(windows))]
const CPATH_DEFAULT: &str =
    "./?.so;/usr/local/lib/lua/5.1/?.so;/usr/lib/lua/5.1/?.so;/usr/local/lib/lua/5.1/loadall.so";

const DIRSEP: &str = if cfg!(windows) { "\\" } else { "/" };

pub fn open(vm: &mut Vm) {
    let loaded = match crate::stdlib::lib(vm).loaded {
        Some(l) => l,
        None => {
            let l = vm.new_table(0, 16);
            crate::stdlib::lib(vm).loaded = Some(l);
            l
        }
    };
    let pkg = vm.new_table(0, 10);
    let p = pkg.to_value();
    let sentinel = vm.new_userdata(None).to_value();
    // Lua modules from files: anywhere with `package_paths`, else through the state's
    // file access (ambient with `io`, or directory grants). C modules (which cannot
    // load anyway) are searched only with `package_paths`.
    let c_modules = crate::stdlib::lib(vm).caps.package_paths;
    let lua_files = c_modules || crate::stdlib::lib(vm).files.any();
    let with_pkg: &[(&'static str, NativeFn)] = &[("loadlib", loadlib), ("searchpath", searchpath), ("seeall", seeall)];
    let granted = |n: &str| match n {
        "loadlib" | "loader_c" | "loader_croot" => c_modules,
        "searchpath" | "loader_lua" => lua_files,
        _ => true,
    };
    for &(n, f) in with_pkg.iter().filter(|(n, _)| granted(n)) {
        let fv = vm.native(f, n);
        vm.set_field(pkg, n, fv);
    }
    let loaders = vm.new_table(4, 0);
    let lfuns: [(&'static str, NativeFn); 4] = [
        ("loader_preload", loader_preload),
        ("loader_lua", loader_lua),
        ("loader_c", loader_c),
        ("loader_croot", loader_croot),
    ];
    for (i, (n, f)) in lfuns.into_iter().filter(|(n, _)| granted(n)).enumerate() {
        let fv = vm.native_closure(f, n, vec![p]);
        let _ = vm.raw_set(loaders, Value::number((i + 1) as f64), fv);
    }
    vm.set_field(pkg, "loaders", loaders.to_value());
    // As in LuaJIT, a true `LUA_NOENV` in the registry means: ignore the environment.
    let reg = vm.registry;
    let noenv = vm.get_field(reg, "LUA_NOENV").truthy() || !crate::stdlib::lib(vm).caps.os;
    set_paths(vm, pkg, noenv);
    let v = vm.str_value(format!("{DIRSEP}\n;\n?\n!\n-\n").as_bytes());
    vm.set_field(pkg, "config", v);
    vm.set_field(pkg, "loaded", loaded.to_value());
    let preload = vm.new_table(0, 4);
    vm.set_field(pkg, "preload", preload.to_value());
    let reg = vm.registry;
    vm.set_field(reg, "_LOADED", loaded.to_value());
    vm.set_field(reg, "_PRELOAD", preload.to_value());
    let g = vm.globals;
    let req = vm.native_closure(require, "require", vec![p, sentinel]);
    vm.set_field(g, "require", req);
    let m = vm.native(module, "module");
    vm.set_field(g, "module", m);
    vm.set_field(g, "package", p);
    vm.set_field(loaded, "package", p);
    vm.set_field(loaded, "_G", g.to_value());
}

fn set_paths(vm: &mut Vm, pkg: GcRef<Table>, noenv: bool) {
    for (field, var, default) in [("path", "LUA_PATH", PATH_DEFAULT), ("cpath", "LUA_CPATH", CPATH_DEFAULT)] {
        let p = if noenv { set_progdir(default.to_string()) } else { env_path(var, default) };
        let v = vm.str_value(p.as_bytes());
        vm.set_field(pkg, field, v);
    }
}

/// Resets `package.path` and `package.cpath` to the built-in defaults, ignoring
/// `LUA_PATH` / `LUA_CPATH` (for the CLI's `-E`, which runs after the libraries are
/// opened).
pub fn ignore_env_paths(vm: &mut Vm) {
    let Some(loaded) = crate::stdlib::lib(vm).loaded else { return };
    if let Some(pkg) = vm.get_field(loaded, "package").as_table() {
        set_paths(vm, pkg, true);
    }
}

/// `package.path` from an environment variable: `;;` is replaced by the default.
fn env_path(var: &str, default: &str) -> String {
    let path = match std::env::var_os(var) {
        Some(v) => v.to_string_lossy().replace(";;", ";\u{1};").replace('\u{1}', default),
        None => default.to_string(),
    };
    set_progdir(path)
}

/// On Windows, `!` in a path stands for the executable's directory (as in LuaJIT).
fn set_progdir(path: String) -> String {
    if !cfg!(windows) {
        return path;
    }
    match std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.to_string_lossy().into_owned())) {
        Some(dir) => path.replace('!', &dir),
        None => path,
    }
}

/// The package table (upvalue 0 of the running loader / `require`).
fn pkg_table(vm: &mut Vm) -> LResult<GcRef<Table>> {
    match vm.native_upval(0).as_table() {
        Some(t) => Ok(t),
        None => Err(vm.rt_error("package table missing")),
    }
}

/// Tries each template of `path` (separated by `;`) with `?` replaced by `name`
/// (after replacing `sep` by `rep` in it). Returns the first readable file, or the
/// "\n\tno file '...'" list.
fn search_path(vm: &Vm, name: &[u8], path: &[u8], sep: &[u8], rep: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let name = if sep.is_empty() { name.to_vec() } else { replace(name, sep, rep) };
    let mut msg = Vec::new();
    for template in path.split(|&c| c == b';').filter(|t| !t.is_empty()) {
        let filename = replace(template, b"?", &name);
        if readable(vm, &filename) {
            return Ok(filename);
        }
        msg.extend_from_slice(b"\n\tno file '");
        msg.extend_from_slice(&filename);
        msg.push(b'\'');
    }
    Err(msg)
}

fn replace(s: &[u8], pat: &[u8], rep: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(pat) {
            out.extend_from_slice(rep);
            i += pat.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Whether `filename` opens for reading: anywhere with `package_paths`, else through
/// the state's file access.
fn readable(vm: &Vm, filename: &[u8]) -> bool {
    let path = String::from_utf8_lossy(filename);
    let Some(l) = crate::stdlib::lib_ref(vm) else { return false };
    if l.caps.package_paths {
        std::fs::File::open(path.as_ref()).is_ok()
    } else {
        l.files.open(std::path::Path::new(path.as_ref()), super::fs::OpenFlags::read()).is_ok()
    }
}

/// `package.<field>` as a string (numbers converted), or the LuaJIT error.
fn path_field(vm: &mut Vm, field: &str) -> LResult<Vec<u8>> {
    let pkg = pkg_table(vm)?;
    let key = vm.str_value(field.as_bytes());
    let v = vm.index_value(pkg.to_value(), key)?;
    if v.is_string() || v.is_number() {
        return Ok(vm.tostring_basic(v));
    }
    Err(vm.rt_error(&format!("'package.{field}' must be a string")))
}

fn load_error(vm: &mut Vm, name: &[u8], filename: &[u8], msg: &str) -> crate::vm::LuaError {
    let (n, f) = (String::from_utf8_lossy(name), String::from_utf8_lossy(filename));
    let m = format!("error loading module '{n}' from file '{f}':\n\t{msg}");
    vm.rt_error(&m)
}

fn push_bytes(vm: &mut Vm, b: &[u8]) -> usize {
    let v = vm.str_value(b);
    vm.push(v);
    1
}

fn loader_preload(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let name = vm.check_str(base, nargs, 0)?;
    let pkg = pkg_table(vm)?;
    let key = vm.str_value(b"preload");
    let preload = vm.index_value(pkg.to_value(), key)?;
    if !preload.is_table() {
        return Err(vm.rt_error("'package.preload' must be a table"));
    }
    let v = vm.index_value(preload, name.to_value())?;
    if v.is_nil() {
        let msg = format!("\n\tno field package.preload['{}']", name.to_str_lossy());
        return Ok(push_bytes(vm, msg.as_bytes()));
    }
    vm.push(v);
    Ok(1)
}

fn loader_lua(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let name = vm.check_str(base, nargs, 0)?.as_bytes().to_vec();
    let path = path_field(vm, "path")?;
    let filename = match search_path(vm, &name, &path, b".", DIRSEP.as_bytes()) {
        Ok(f) => f,
        Err(msg) => return Ok(push_bytes(vm, &msg)),
    };
    let fname = String::from_utf8_lossy(&filename).into_owned();
    let ambient = crate::stdlib::lib(vm).caps.package_paths;
    let r = match crate::stdlib::base::read_chunk_file(vm, Some(&fname), ambient) {
        Ok(src) => {
            let mut chunk = b"@".to_vec();
            chunk.extend_from_slice(&filename);
            vm.load(&src, &chunk, None)
        }
        Err(m) => Err(vm.plain_error(&m)),
    };
    match r {
        Ok(f) => {
            vm.push(f);
            Ok(1)
        }
        Err(e) if e.kind().catchable() => {
            let msg = vm.error_to_string(&e);
            Err(load_error(vm, &name, &filename, &msg))
        }
        Err(e) => Err(e),
    }
}

fn loader_c(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let name = vm.check_str(base, nargs, 0)?.as_bytes().to_vec();
    let cpath = path_field(vm, "cpath")?;
    match search_path(vm, &name, &cpath, b".", DIRSEP.as_bytes()) {
        Ok(filename) => Err(load_error(vm, &name, &filename, NO_C_MODULES)),
        Err(msg) => Ok(push_bytes(vm, &msg)),
    }
}

fn loader_croot(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let name = vm.check_str(base, nargs, 0)?.as_bytes().to_vec();
    let Some(dot) = name.iter().position(|&c| c == b'.') else { return Ok(0) };
    let cpath = path_field(vm, "cpath")?;
    match search_path(vm, &name[..dot], &cpath, b".", DIRSEP.as_bytes()) {
        Ok(filename) => Err(load_error(vm, &name, &filename, NO_C_MODULES)),
        Err(msg) => Ok(push_bytes(vm, &msg)),
    }
}

fn searchpath(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    // LuaJIT (built by GCC) checks these arguments last to first.
    let rep = vm.opt_str(base, nargs, 3)?.map_or(DIRSEP.as_bytes().to_vec(), |s| s.as_bytes().to_vec());
    let sep = vm.opt_str(base, nargs, 2)?.map_or(b".".to_vec(), |s| s.as_bytes().to_vec());
    let path = vm.check_str(base, nargs, 1)?.as_bytes().to_vec();
    let name = vm.check_str(base, nargs, 0)?.as_bytes().to_vec();
    match search_path(vm, &name, &path, &sep, &rep) {
        Ok(f) => Ok(push_bytes(vm, &f)),
        Err(msg) => {
            vm.push(Value::NIL);
            push_bytes(vm, &msg);
            Ok(2)
        }
    }
}

fn loadlib(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    vm.check_str(base, nargs, 0)?;
    vm.check_str(base, nargs, 1)?;
    vm.push(Value::NIL);
    push_bytes(vm, NO_C_MODULES.as_bytes());
    push_bytes(vm, b"open");
    Ok(3)
}

fn seeall(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let mt = match t.meta() {
        Some(mt) => mt,
        None => {
            let mt = vm.new_table(0, 1);
            t.set_meta(Some(mt));
            vm.heap.barrier(t);
            mt
        }
    };
    let g = vm.globals;
    vm.set_field(mt, "__index", g.to_value());
    Ok(0)
}

fn require(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let name = vm.check_str(base, nargs, 0)?;
    let sentinel = vm.native_upval(1);
    let Some(loaded) = crate::stdlib::lib(vm).loaded else { return Err(vm.rt_error("package.loaded missing")) };
    let lv = loaded.to_value();
    let nv = name.to_value();
    let v = vm.index_value(lv, nv)?;
    if v.truthy() {
        if v == sentinel {
            let m = format!("loop or previous error loading module '{}'", name.to_str_lossy());
            return Err(vm.rt_error(&m));
        }
        vm.push(v);
        return Ok(1);
    }
    let pkg = pkg_table(vm)?;
    let key = vm.str_value(b"loaders");
    let loaders = vm.index_value(pkg.to_value(), key)?;
    let Some(loaders) = loaders.as_table() else {
        return Err(vm.rt_error("'package.loaders' must be a table"));
    };
    // Keep the loaders table reachable while the searchers run.
    vm.push(loaders.to_value());
    let mut msg = Vec::new();
    let mut i = 1;
    let module_fn = loop {
        let loader = loaders.get_int(i);
        if loader.is_nil() {
            let m = format!("module '{}' not found:{}", name.to_str_lossy(), String::from_utf8_lossy(&msg));
            return Err(vm.rt_error(&m));
        }
        let r = vm.call_value(loader, &[nv], 1)?;
        let r = r.first().copied().unwrap_or(Value::NIL);
        if r.is_function() {
            break r;
        }
        if r.is_string() || r.is_number() {
            msg.extend_from_slice(&vm.tostring_basic(r));
        }
        i += 1;
    };
    vm.push(module_fn);
    vm.set_value(lv, nv, sentinel)?;
    let r = vm.call_value(module_fn, &[nv], 1)?;
    let r = r.first().copied().unwrap_or(Value::NIL);
    if !r.is_nil() {
        vm.set_value(lv, nv, r)?;
    }
    let mut v = vm.index_value(lv, nv)?;
    if v == sentinel {
        v = Value::TRUE;
        vm.set_value(lv, nv, v)?;
    }
    vm.push(v);
    Ok(1)
}

/// `luaL_findtable(_G, "a.b.c")`: walks (creating) nested tables; `Err(())` when a
/// component holds a non-table value.
fn find_table(vm: &mut Vm, root: GcRef<Table>, path: &[u8]) -> LResult<Result<GcRef<Table>, ()>> {
    let mut t = root;
    for part in path.split(|&c| c == b'.') {
        let k = vm.str_value(part);
        let v = t.get(k);
        t = if v.is_nil() {
            let n = vm.new_table(0, 1);
            vm.raw_set(t, k, n.to_value())?;
            n
        } else if let Some(n) = v.as_table() {
            n
        } else {
            return Ok(Err(()));
        };
    }
    Ok(Ok(t))
}

fn module(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let name = vm.check_str(base, nargs, 0)?;
    let modname = name.as_bytes().to_vec();
    let Some(loaded) = crate::stdlib::lib(vm).loaded else { return Err(vm.rt_error("package.loaded missing")) };
    let nv = name.to_value();
    let existing = vm.index_value(loaded.to_value(), nv)?;
    let m = match existing.as_table() {
        Some(t) => t,
        None => {
            let g = vm.globals;
            match find_table(vm, g, &modname)? {
                Ok(t) => {
                    vm.set_value(loaded.to_value(), nv, t.to_value())?;
                    t
                }
                Err(()) => {
                    let msg = format!("name conflict for module '{}'", name.to_str_lossy());
                    return Err(vm.rt_error(&msg));
                }
            }
        }
    };
    // Keep the module reachable while options run.
    vm.push(m.to_value());
    let k = vm.str_value(b"_NAME");
    if vm.index_value(m.to_value(), k)?.is_nil() {
        vm.set_field(m, "_M", m.to_value());
        vm.set_field(m, "_NAME", nv);
        let cut = modname.iter().rposition(|&c| c == b'.').map_or(0, |i| i + 1);
        let pkgname = vm.str_value(&modname[..cut]);
        vm.set_field(m, "_PACKAGE", pkgname);
    }
    // setfenv(caller, module): the caller is the frame below this native one.
    let n = vm.frames.len();
    match n.checked_sub(2).and_then(|i| vm.frames.get(i)).map(|f| f.fun) {
        Some(FrameFn::Lua(c, _)) => {
            c.set_env(m);
            vm.heap.barrier(c);
        }
        _ => return Err(vm.rt_error("'module' not called from a Lua function")),
    }
    for i in 1..nargs {
        let opt = vm.stack[base + i];
        vm.call_value(opt, &[m.to_value()], 0)?;
    }
    Ok(0)
}
