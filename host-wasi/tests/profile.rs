//! One profile, one definition: the tenant's Lua has exactly the globals and library
//! functions of the facade's `Lua::sandboxed()` (plus what its directory grants add,
//! the same natively as in the sandbox), and they behave as the profile says.

mod common;

use common::{run, stderr, stdout, TempDir};
use moonbox::{Capabilities, Lua};
use moonbox_host_wasi::{Outcome, Tenant};

/// Lists every global and, for each global table, its fields (one line each:
/// `name type`), sorted, as the chunk's one result. `arg` is left out: the sandbox's
/// command line sets it for the script, as the native CLI does, and an embedded
/// state has none.
const INVENTORY: &str = r#"
local lines = {}
local function add(name, v) lines[#lines + 1] = name .. " " .. type(v) end
for k, v in pairs(_G) do
  if type(k) == "string" and k ~= "arg" then
    add(k, v)
    if type(v) == "table" and v ~= _G then
      for f, fv in pairs(v) do add(k .. "." .. tostring(f), fv) end
    end
  end
end
for name in pairs(package.loaded) do add("package.loaded[" .. name .. "]", true) end
for i, l in ipairs(package.loaders) do add("package.loaders[" .. i .. "]", l) end
add("string metatable __index is string", getmetatable("").__index == string or nil)
table.sort(lines)
return table.concat(lines, "\n")
"#;

/// What the profile promises beyond names: no binary chunks, a coarse clock, a
/// guarded collector.
const BEHAVIOUR: &str = r#"
local out = {}
local ok, msg = load("\27LJ\2\0")
out[#out + 1] = "binary load: " .. tostring(ok) .. " " .. tostring(msg)
local c = os.clock() * 1000
out[#out + 1] = "clock whole ms: " .. tostring(c == math.floor(c))
out[#out + 1] = "gc stop: " .. tostring(select(2, pcall(collectgarbage, "stop")))
out[#out + 1] = "gc count: " .. type(collectgarbage("count"))
return table.concat(out, "\n")
"#;

fn native(caps: Capabilities, code: &str) -> String {
    let lua = Lua::with_capabilities(caps);
    lua.load(code).eval::<String>().expect("runs natively")
}

fn sandboxed(tenant: &Tenant, code: &str) -> String {
    let r = run(tenant, &format!("print((function() {code} end)())"));
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    stdout(&r).trim_end_matches('\n').to_string()
}

fn assert_same(what: &str, native: &str, sandbox: &str) {
    if native == sandbox {
        return;
    }
    let n: std::collections::BTreeSet<&str> = native.lines().collect();
    let s: std::collections::BTreeSet<&str> = sandbox.lines().collect();
    panic!(
        "{what}: the Wasm sandbox's Lua differs from Lua::sandboxed()\n  only in the sandbox: {:?}\n  only natively: {:?}",
        s.difference(&n).collect::<Vec<_>>(),
        n.difference(&s).collect::<Vec<_>>()
    );
}

#[test]
fn the_guest_has_exactly_the_sandboxed_profile() {
    let native_inv = native(Capabilities::sandboxed(), INVENTORY);
    let sandbox_inv = sandboxed(&Tenant::new(), INVENTORY);
    assert_same("without grants", &native_inv, &sandbox_inv);
    // Spot checks, so that the comparison cannot pass by both being empty or both
    // being the full set.
    for present in ["print function", "string.format function", "os.time function", "debug.traceback function"] {
        assert!(native_inv.lines().any(|l| l == present), "{present} missing:\n{native_inv}");
    }
    for absent in
        ["io ", "string.dump ", "dofile ", "loadfile ", "os.remove ", "os.rename ", "os.execute ", "debug.getinfo "]
    {
        assert!(!sandbox_inv.lines().any(|l| l.starts_with(absent)), "{absent}present in the sandbox:\n{sandbox_inv}");
    }
    assert_same("behaviour", &native(Capabilities::sandboxed(), BEHAVIOUR), &sandboxed(&Tenant::new(), BEHAVIOUR));
    let b = sandboxed(&Tenant::new(), BEHAVIOUR);
    assert!(b.contains("clock whole ms: true"), "{b}");
    assert!(b.contains("binary load: nil"), "{b}");
    assert!(b.contains("gc stop: collectgarbage option 'stop' is not allowed"), "{b}");
}

#[test]
fn grants_add_the_same_functions_natively_and_in_the_sandbox() {
    let d = TempDir::new("profile");
    let n = native(Capabilities::sandboxed().allow_read(d.path()), INVENTORY);
    let s = sandboxed(&Tenant::new().allow_read(d.path()).unwrap(), INVENTORY);
    assert_same("read grant", &n, &s);
    for present in ["io.open function", "io.lines function", "dofile function", "loadfile function"] {
        assert!(s.lines().any(|l| l == present), "{present} missing with a grant:\n{s}");
    }
    for absent in ["io.write ", "io.read ", "io.popen ", "io.stdin ", "os.remove ", "string.dump "] {
        assert!(!s.lines().any(|l| l.starts_with(absent)), "{absent}present with a grant:\n{s}");
    }
    let n = native(Capabilities::sandboxed().allow_write(d.path()), INVENTORY);
    let s = sandboxed(&Tenant::new().allow_write(d.path()).unwrap(), INVENTORY);
    assert_same("write grant", &n, &s);
}

/// The same grants mean the same thing: reading works, a read-only grant refuses
/// writes, and nothing outside the grant opens.
#[test]
fn grants_behave_the_same() {
    let d = TempDir::new("profile-io");
    std::fs::write(d.path().join("in.txt"), "hello").unwrap();
    let code = format!(
        r#"local out = {{}}
        out[1] = io.open("{0}/in.txt"):read("*a")
        out[2] = select(2, io.open("{0}/out.txt", "w"))
        out[3] = tostring(io.open("/etc/passwd"))
        return table.concat(out, "|")"#,
        d.lua()
    );
    let n = native(Capabilities::sandboxed().allow_read(d.path()), &code);
    let s = sandboxed(&Tenant::new().allow_read(d.path()).unwrap(), &code);
    assert_eq!(n, format!("hello|{}/out.txt: Permission denied|nil", d.lua()));
    assert_eq!(s, n);
}
