//! Capabilities: what a state gets, and directory grants that cannot be escaped.

use std::path::{Path, PathBuf};

use moonbox::{Capabilities, ClockResolution, DebugLevel, Lua};

/// A fresh directory tree for one test:
///
/// ```text
/// <root>/outside.txt            "secret"
/// <root>/grant/in.txt           "line1\nline2\n"
/// <root>/grant/sub/mod.lua      "return { answer = 42 }"
/// <root>/grant/up.lua           "return 'from file', ..."
/// <root>/grant/abs_link  -> <root>/outside.txt   (unix)
/// <root>/grant/rel_link  -> ../outside.txt       (unix)
/// <root>/grant/inner_link -> sub/mod.lua         (unix)
/// ```
struct Tree {
    root: PathBuf,
}

impl Tree {
    fn new(name: &str) -> Tree {
        let root = std::env::temp_dir().join(format!("moonbox-caps-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("grant/sub")).unwrap();
        std::fs::write(root.join("outside.txt"), "secret").unwrap();
        std::fs::write(root.join("grant/in.txt"), "line1\nline2\n").unwrap();
        std::fs::write(root.join("grant/sub/mod.lua"), "return { answer = 42 }").unwrap();
        std::fs::write(root.join("grant/up.lua"), "return 'from file', ...").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("outside.txt"), root.join("grant/abs_link")).unwrap();
            std::os::unix::fs::symlink("../outside.txt", root.join("grant/rel_link")).unwrap();
            std::os::unix::fs::symlink("sub/mod.lua", root.join("grant/inner_link")).unwrap();
        }
        Tree { root }
    }

    fn grant(&self) -> PathBuf {
        self.root.join("grant")
    }

    fn lua(&self, caps: Capabilities) -> Lua {
        let lua = Lua::with_capabilities(caps);
        let s = |p: &Path| p.to_str().unwrap().to_string();
        lua.globals().set("ROOT", s(&self.root)).unwrap();
        lua.globals().set("G", s(&self.grant())).unwrap();
        lua
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Runs `code` (which sees `ROOT`, `G` and a helper `fails(path, mode)` returning
/// `io.open`'s three results joined by `|`) and expects it to return true.
fn check(lua: &Lua, code: &str) {
    let prelude = r#"
        function fails(path, mode)
            local f, msg, code = io.open(path, mode)
            assert(f == nil, "opened " .. path)
            return msg .. "|" .. tostring(code)
        end
    "#;
    let full = format!("{prelude}\n{code}\nreturn true");
    match lua.load(full.as_str()).set_name("=check").eval::<bool>() {
        Ok(true) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn read_grant_reads_inside_only() {
    let t = Tree::new("read");
    let lua = t.lua(Capabilities::sandboxed().allow_read(t.grant()));
    check(
        &lua,
        r#"
        local f = assert(io.open(G .. "/in.txt"))
        assert(f:read("*l") == "line1" and f:read("*a") == "line2\n")
        assert(f:close() == true and io.type(f) == "closed file")
        assert(io.open(G .. "/./sub/../in.txt"):read("*a") == "line1\nline2\n", "inner .. is fine")
        local n = 0
        for l in io.lines(G .. "/in.txt") do n = n + 1 end
        assert(n == 2)
        -- Outside the grant: ../, an absolute path, the grant's parent.
        assert(fails(G .. "/../outside.txt") == G .. "/../outside.txt: Permission denied|13")
        assert(fails(ROOT .. "/outside.txt") == ROOT .. "/outside.txt: Permission denied|13")
        assert(fails(ROOT) == ROOT .. ": Permission denied|13")
        assert(fails("/etc/passwd") == "/etc/passwd: Permission denied|13")
        -- Missing files inside the grant are the usual error.
        assert(fails(G .. "/missing.txt") == G .. "/missing.txt: No such file or directory|2")
        -- Read-only: every writing mode is refused, and the file is untouched.
        for _, mode in ipairs({"w", "a", "r+", "w+", "a+", "wb"}) do
            assert(fails(G .. "/in.txt", mode) == G .. "/in.txt: Permission denied|13", mode)
        end
        assert(fails(G .. "/new.txt", "w") == G .. "/new.txt: Permission denied|13")
        assert(io.open(G .. "/in.txt"):read("*a") == "line1\nline2\n")
        -- io.lines outside: the argument error LuaJIT gives for a file it cannot open.
        local ok, e = pcall(io.lines, ROOT .. "/outside.txt")
        assert(not ok and e == "bad argument #1 to '?' (" .. ROOT .. "/outside.txt: Permission denied)", e)
        -- No standard streams or default files without the io capability.
        assert(io.read == nil and io.write == nil and io.stdout == nil and io.popen == nil)
        assert(io.input == nil and io.output == nil and io.tmpfile == nil)
        assert(not pcall(io.lines))
        assert(os.remove == nil and os.rename == nil)
    "#,
    );
}

#[cfg(unix)]
#[test]
fn symlinks_cannot_leave_a_grant() {
    let t = Tree::new("links");
    let lua = t.lua(Capabilities::sandboxed().allow_write(t.grant()));
    check(
        &lua,
        r#"
        assert(fails(G .. "/abs_link") == G .. "/abs_link: Permission denied|13")
        assert(fails(G .. "/rel_link") == G .. "/rel_link: Permission denied|13")
        assert(fails(G .. "/rel_link", "w") == G .. "/rel_link: Permission denied|13")
        assert(fails(G .. "/abs_link", "a") == G .. "/abs_link: Permission denied|13")
        assert(io.open(G .. "/inner_link"):read("*a") == "return { answer = 42 }", "a link inside is fine")
        local f, e = loadfile(G .. "/abs_link")
        assert(f == nil and e == "cannot open " .. G .. "/abs_link: Permission denied", e)
    "#,
    );
    assert_eq!(std::fs::read_to_string(t.root.join("outside.txt")).unwrap(), "secret");
}

#[test]
fn write_grant_creates_and_appends() {
    let t = Tree::new("write");
    let lua = t.lua(Capabilities::sandboxed().allow_read(t.root.clone()).allow_write(t.grant()));
    check(
        &lua,
        r#"
        local f = assert(io.open(G .. "/out.txt", "w"))
        assert(f:write("a", 1, "\n") == true)
        f:close()
        f = assert(io.open(G .. "/out.txt", "a"))
        f:write("b\n")
        f:close()
        assert(io.open(G .. "/out.txt"):read("*a") == "a1\nb\n")
        -- The read-only grant of the parent still refuses writes outside the nested
        -- writable one, but reads there.
        assert(io.open(ROOT .. "/outside.txt"):read("*a") == "secret")
        assert(fails(ROOT .. "/outside.txt", "w") == ROOT .. "/outside.txt: Permission denied|13")
    "#,
    );
    assert_eq!(std::fs::read_to_string(t.grant().join("out.txt")).unwrap(), "a1\nb\n");
}

#[test]
fn chunk_files_and_require_go_through_grants() {
    let t = Tree::new("require");
    let lua = t.lua(Capabilities::sandboxed().allow_read(t.grant()));
    check(
        &lua,
        r#"
        local f = assert(loadfile(G .. "/up.lua"))
        local a, b = f(5)
        assert(a == "from file" and b == 5)
        assert(dofile(G .. "/up.lua") == "from file")
        local g, e = loadfile(ROOT .. "/outside.txt")
        assert(g == nil and e == "cannot open " .. ROOT .. "/outside.txt: Permission denied", e)
        local ok, e2 = pcall(dofile, G .. "/../outside.txt")
        assert(not ok and e2 == "cannot open " .. G .. "/../outside.txt: Permission denied", e2)
        -- stdin is not granted.
        local h, e3 = loadfile()
        assert(h == nil and e3 == "cannot read stdin: Permission denied", e3)
        package.path = G .. "/?.lua;" .. ROOT .. "/?.txt"
        assert(require("sub.mod").answer == 42)
        assert(package.searchpath("sub.mod", package.path) == G .. "/sub/mod.lua")
        -- A module outside the grant is "not found", like a file that is not there.
        local ok2, e4 = pcall(require, "outside")
        assert(not ok2 and e4:find("no file '" .. ROOT .. "/outside.txt'", 1, true), e4)
        assert(package.loadlib == nil and #package.loaders == 2)
    "#,
    );
}

#[test]
fn relative_paths_resolve_against_the_working_directory() {
    // cargo runs integration tests in the package root.
    let lua = Lua::with_capabilities(Capabilities::sandboxed().allow_read("tests/lua/data"));
    check(
        &lua,
        r#"
        assert(fails("tests/lua/../../Cargo.toml") == "tests/lua/../../Cargo.toml: Permission denied|13")
        assert(fails("Cargo.toml") == "Cargo.toml: Permission denied|13")
        assert(fails("./tests/lua/data/../basic.lua") == "./tests/lua/data/../basic.lua: Permission denied|13")
    "#,
    );
    let any: String = lua
        .load("for _, n in ipairs(...) do local f = io.open(n) if f then f:close() return n end end return ''")
        .call(data_files())
        .unwrap();
    assert!(!any.is_empty(), "no file of tests/lua/data opened through a relative grant");
}

/// Some relative names of files in tests/lua/data.
fn data_files() -> Vec<String> {
    std::fs::read_dir("tests/lua/data")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|e| format!("tests/lua/data/{}", e.file_name().to_string_lossy()))
        .collect()
}

#[test]
fn sandboxed_state_has_no_outside_world() {
    let lua = Lua::sandboxed();
    check(
        &lua,
        r#"
        assert(io == nil and package.loaded.io == nil)
        assert(os.execute == nil and os.exit == nil and os.getenv == nil)
        assert(os.remove == nil and os.rename == nil and os.tmpname == nil)
        assert(dofile == nil and loadfile == nil)
        assert(string.dump == nil)
        local f, e = load("\27LJ\129 precompiled")
        assert(f == nil and e == '[string "..."]: binary chunks are not allowed', e)
        f, e = loadstring("\27LJ\129", "=bin")
        assert(f == nil and e == "bin: binary chunks are not allowed", e)
        assert(debug.getinfo == nil and debug.sethook == nil and debug.getlocal == nil)
        assert(debug.getregistry == nil and debug.setupvalue == nil and debug.debug == nil)
        assert(type(debug.traceback()) == "string")
        assert(package.loadlib == nil and package.searchpath == nil and #package.loaders == 1)
        -- What stays.
        assert(type(print) == "function" and string.rep("ab", 2) == "abab")
        assert(table.concat({1, 2}, ",") == "1,2" and math.floor(2.5) == 2)
        assert(type(os.time()) == "number" and os.date("!%Y", 0) == "1970")
        local c = os.clock()
        assert(type(c) == "number" and math.abs(c * 1000 - math.floor(c * 1000 + 0.5)) < 1e-6, "coarse clock")
        assert(bit.band(6, 3) == 2 and coroutine.wrap(function() return 1 end)() == 1)
        assert(load("return 1 + 1")() == 2)
    "#,
    );
}

#[test]
fn full_state_and_single_capabilities() {
    let lua = Lua::new();
    check(
        &lua,
        r#"
        assert(io.popen and io.write and os.execute and os.getenv and string.dump and debug.getinfo)
        assert(loadfile and dofile and package.loadlib and #package.loaders == 4)
        assert(load(string.dump(function() return 3 end))() == 3)
    "#,
    );
    let lua = Lua::with_capabilities(Capabilities::full().popen(false).os(false).debug(DebugLevel::Traceback));
    check(
        &lua,
        r#"
        assert(io.popen == nil and io.write and io.open)
        assert(os.execute == nil and os.time and debug.getinfo == nil and debug.traceback)
    "#,
    );
    let lua =
        Lua::with_capabilities(Capabilities::sandboxed().io(true).clock(ClockResolution::Precise).gc_control(true));
    check(
        &lua,
        r#"
        assert(io.write and io.popen == nil and loadfile and os.execute == nil)
        assert(collectgarbage("stop") == 0 and collectgarbage("restart") == 0)
    "#,
    );
    let caps = Capabilities::sandboxed().allow_read("/a").allow_write("/b");
    assert_eq!(caps.grants().collect::<Vec<_>>(), vec![(Path::new("/a"), false), (Path::new("/b"), true)]);
}

// ----- The FFI -----------------------------------------------------------------------

/// Runs `code` in a state with `caps` and returns its result as a string.
fn ffi_eval(caps: Capabilities, code: &str) -> String {
    let lua = Lua::with_capabilities(caps);
    lua.load(code).eval::<String>().unwrap_or_else(|e| format!("error: {e}"))
}

/// The error `code` raises inside `pcall`, or "ok".
fn ffi_err(caps: Capabilities, code: &str) -> String {
    let wrapped = format!(
        "local ffi = require('ffi') local ok, e = pcall(function() {code} end) return ok and 'ok' or tostring(e)"
    );
    ffi_eval(caps, &wrapped)
}

#[test]
fn ffi_levels_by_profile() {
    use moonbox::FfiLevel;
    assert_eq!(Capabilities::full().as_engine().ffi, FfiLevel::Calls);
    assert_eq!(Capabilities::sandboxed().as_engine().ffi, FfiLevel::Data);
    // Off: no module, no cdata operations.
    let off = Capabilities::sandboxed().ffi(FfiLevel::Off);
    let r = ffi_eval(off.clone(), "return tostring(pcall(require, 'ffi'))");
    assert_eq!(r, "false");
    let r = ffi_eval(off, "return (select(2, pcall(function() return 1LL + 1 end)))");
    assert!(r.contains("attempt to perform arithmetic on a cdata value"), "{r}");
}

/// Calling a NULL function pointer is an error (LuaJIT crashes on it, so this lives
/// here rather than in tests/lua, whose scripts also run on luajit).
#[test]
fn ffi_null_function_pointer_is_an_error() {
    let e = ffi_err(Capabilities::full(), "return ffi.new('int (*)(int)')(1)");
    assert!(e.ends_with("attempt to call a NULL function pointer"), "{e}");
}

#[test]
fn ffi_data_level_has_data_but_no_process_access() {
    let sb = Capabilities::sandboxed;
    // Data works: structs, buffers, 64-bit integers, metatypes, pointers into cdata.
    let r = ffi_eval(
        sb(),
        "local ffi = require('ffi')
         ffi.cdef('typedef struct { int x, y; } pt;')
         local p = ffi.new('pt', 3, 4)
         local buf = ffi.new('uint8_t[?]', 16)
         ffi.copy(buf, 'hello')
         local q = ffi.cast('uint8_t *', buf) + 1
         return table.concat({ p.x + p.y, ffi.string(buf), q[0], tostring(2LL^40), ffi.sizeof(p) }, ',')",
    );
    assert_eq!(r, "7,hello,101,1099511627776LL,8");
    // ffi.C of an ungranted (here: any) function, ffi.load, number-to-pointer casts.
    let e = ffi_err(sb(), "ffi.cdef('int abs(int);') return ffi.C.abs(-1)");
    assert!(e.contains("C symbol 'abs' is not available") && e.contains("not granted"), "{e}");
    let e = ffi_err(sb(), "return ffi.load('c')");
    assert!(e.contains("loading C libraries is not allowed in this state"), "{e}");
    let e = ffi_err(sb(), "return ffi.cast('int *', 4096)");
    assert!(e.contains("cannot convert a number to a pointer: not allowed in this state"), "{e}");
    let e = ffi_err(sb(), "return ffi.cast('void *', 12345LL)");
    assert!(e.contains("not allowed in this state"), "{e}");
    // Enum constants through ffi.C need no symbol: they work.
    let r =
        ffi_eval(sb(), "local ffi = require('ffi') ffi.cdef('enum { ANSWER = 42 };') return tostring(ffi.C.ANSWER)");
    assert_eq!(r, "42");
}

#[test]
fn ffi_data_level_pointers_reach_only_live_cdata() {
    let sb = Capabilities::sandboxed;
    // Past the end of a buffer, through pointer arithmetic.
    let e = ffi_err(sb(), "local b = ffi.new('uint8_t[4]') local p = ffi.cast('uint8_t *', b) return p[4]");
    assert!(e.contains("outside of cdata objects"), "{e}");
    let e = ffi_err(sb(), "local b = ffi.new('uint8_t[4]') local p = ffi.cast('uint8_t *', b) - 1 return p[0]");
    assert!(e.contains("outside of cdata objects"), "{e}");
    // A pointer forged by type punning points nowhere the state owns.
    let e = ffi_err(sb(), "local u = ffi.new('union { uint64_t i; int *p; }') u.i = 0x7fff0000 return u.p[0]");
    assert!(e.contains("outside of cdata objects"), "{e}");
    let e = ffi_err(sb(), "local u = ffi.new('union { uint64_t i; char *p; }') u.i = 8 return ffi.string(u.p)");
    assert!(e.contains("NULL pointer") || e.contains("outside of cdata objects"), "{e}");
    // ffi.copy and ffi.fill are bounded the same way.
    let e = ffi_err(sb(), "local b = ffi.new('uint8_t[4]') ffi.fill(b, 5)");
    assert!(e.contains("outside of cdata objects"), "{e}");
    let e = ffi_err(sb(), "local a, b = ffi.new('uint8_t[4]'), ffi.new('uint8_t[8]') ffi.copy(b, a, 8)");
    assert!(e.contains("outside of cdata objects"), "{e}");
    // A pointer into another live object, stored in a struct and read back, works.
    let r = ffi_eval(
        sb(),
        "local ffi = require('ffi')
         ffi.cdef('typedef struct node { int v; struct node *next; } node;')
         local a, b = ffi.new('node', 1), ffi.new('node', 2)
         a.next = b
         return tostring(a.next.v)",
    );
    assert_eq!(r, "2");
    // Tables, strings and the engine's own memory are never cdata.
    let e = ffi_err(sb(), "return ffi.cast('const char *', 'abc')[0]");
    assert!(e.contains("outside of cdata objects"), "{e}");
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn ffi_calls_level_calls_c() {
    let r = ffi_eval(
        Capabilities::full(),
        "local ffi = require('ffi')
         ffi.cdef('int abs(int); size_t strlen(const char *);')
         return ffi.C.abs(-5) .. ',' .. tostring(ffi.C.strlen('hello'))",
    );
    assert_eq!(r, "5,5ULL");
}

/// The trace JIT is a capability: a sandboxed state never gets one, and a trusted
/// state can be made without it.
#[test]
fn jit_is_a_capability() {
    let native = cfg!(all(target_arch = "x86_64", not(target_family = "wasm")));
    let lua = Lua::new();
    assert_eq!(lua.jit_enabled(), native);
    assert_eq!(lua.load("return (jit.status())").eval::<bool>().unwrap(), native);
    lua.set_jit_enabled(false);
    assert!(!lua.jit_enabled());
    assert!(!lua.load("return (jit.status())").eval::<bool>().unwrap());
    let sandboxed = Lua::sandboxed();
    assert!(!sandboxed.jit_enabled());
    sandboxed.set_jit_enabled(true);
    assert!(!sandboxed.jit_enabled(), "no backend: turning it on does nothing");
    let without = Lua::with_capabilities(moonbox::Capabilities::full().jit(false));
    assert!(!without.jit_enabled());
    // Compiled or not, the same results; the settings are LuaJIT's.
    let lua = Lua::new();
    lua.set_jit_option("hotloop=1").unwrap();
    assert!(lua.set_jit_option("nonsense").is_err());
    let src = "local s = 0 for i = 1, 1000 do if i % 3 == 0 then s = s + i / 4 else s = s - 1 end end return s";
    let a: f64 = lua.load(src).eval().unwrap();
    let b: f64 = without.load(src).eval().unwrap();
    assert_eq!(a.to_bits(), b.to_bits());
}

/// Granted C functions at the data level: resolved by `ffi.C` when the script's
/// declaration matches the grant, called with LuaJIT's argument conversions.
#[test]
fn ffi_granted_c_functions() {
    use moonbox::CValue;
    let lua = Lua::with_capabilities(Capabilities::sandboxed());
    lua.grant_c_function("add", "int32_t(int32_t, int32_t)", |args| match args {
        [CValue::Num(a), CValue::Num(b)] => Ok(CValue::Num(a + b)),
        _ => Err("add: bad arguments".into()),
    })
    .unwrap();
    lua.grant_c_function("greet", "string(string, bool)", |args| match args {
        [CValue::Str(s), CValue::Bool(loud)] => {
            let t = format!("hello, {}", String::from_utf8_lossy(s));
            Ok(CValue::Str(if *loud { t.to_uppercase() } else { t }.into_bytes()))
        }
        _ => Err("greet: bad arguments".into()),
    })
    .unwrap();
    lua.grant_c_function("big", "uint64_t(void)", |_| Ok(CValue::Num(2f64.powi(40)))).unwrap();
    lua.grant_c_function("fail", "void(double)", |_| Err("the host says no".into())).unwrap();
    assert!(lua.grant_c_function("bad name", "void()", |_| Ok(CValue::Void)).is_err());
    assert!(lua.grant_c_function("x", "int(char *)", |_| Ok(CValue::Void)).is_err());
    let run = |code: &str| -> String {
        let wrapped = format!(
            "local ffi = require('ffi') local ok, e = pcall(function() {code} end) return ok and tostring(e) or 'error: ' .. tostring(e)"
        );
        lua.load(&wrapped).eval::<String>().unwrap_or_else(|e| format!("host error: {e}"))
    };
    run("ffi.cdef[[int add(int, int); const char *greet(const char *who, bool loud); \
         unsigned long long big(void); void fail(double); double add2(double, double); int ungranted(int);]]");
    assert_eq!(run("return ffi.C.add(2, 3)"), "5");
    assert_eq!(run("return ffi.C.add(2.9, -1)"), "1", "number to int32_t truncates, as LuaJIT");
    assert_eq!(run("return type(ffi.C.add)"), "function");
    assert_eq!(run("return ffi.C.greet('moon', false)"), "hello, moon");
    let buf = "local b = ffi.new('char[8]') ffi.copy(b, 'box') return ffi.C.greet(b, true)";
    assert_eq!(run(buf), "HELLO, BOX", "a char array passes its C string");
    assert_eq!(run("return tostring(ffi.C.big())"), "1099511627776ULL");
    assert_eq!(run("return ffi.C.fail(1)"), "error: the host says no");
    assert_eq!(run("return ffi.C.add(1)"), "error: wrong number of arguments for function call");
    let e = run("return ffi.C.add({}, 1)");
    assert!(e.starts_with("error: ") && e.contains("cannot convert 'table' to 'int'"), "{e}");
    // The declaration must match the grant; ungranted functions stay capability errors.
    let e = run("ffi.cdef('double sub(double, double);') return ffi.C.sub");
    assert!(e.contains("not granted"), "{e}");
    let e = run("return ffi.C.ungranted(1)");
    assert!(e.contains("C symbol 'ungranted' is not available: not granted"), "{e}");
    let other = Lua::with_capabilities(Capabilities::sandboxed());
    other.grant_c_function("add", "int32_t(int32_t, int32_t)", |_| Ok(CValue::Num(0.0))).unwrap();
    let e = other
        .load("local ffi = require('ffi') ffi.cdef('double add(double, double);') return ffi.C.add(1, 2)")
        .exec()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("C function 'add' is declared as double(double, double), but granted as int32_t(int32_t, int32_t)"),
        "{e}"
    );
}
