//! Host functions as capabilities: a tenant sees exactly the functions granted to
//! it, and every call is checked on the boundary.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::{run, sandbox, stderr, stdout};
use moonbox_host_wasi::{HostValue, Outcome, Tenant, GUEST_WASM};

fn kv_tenant(store: Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>) -> Tenant {
    let (s1, s2) = (store.clone(), store);
    Tenant::new()
        .function("kv.get", move |args| {
            let key = args.first().and_then(HostValue::as_bytes).ok_or("kv.get: key must be a string")?;
            Ok(vec![s1.lock().unwrap().get(key).cloned().map_or(HostValue::Nil, HostValue::Str)])
        })
        .unwrap()
        .function("kv.set", move |args| match args {
            [HostValue::Str(k), HostValue::Str(v)] => {
                s2.lock().unwrap().insert(k.clone(), v.clone());
                Ok(vec![])
            }
            _ => Err("kv.set: expected two strings".into()),
        })
        .unwrap()
        .function("log", |args| Ok(vec![HostValue::Number(args.len() as f64)]))
        .unwrap()
        .max_call_bytes(4096)
}

#[test]
fn granted_functions_work() {
    let store = Arc::new(Mutex::new(HashMap::new()));
    let t = kv_tenant(store.clone());
    let r = run(&t, "kv.set('a', 'one') print(kv.get('a'), kv.get('zz'), log(1, true, nil, 'x'))");
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    assert_eq!(stdout(&r), "one\tnil\t4\n");
    // Tenants share what the host shares, nothing else.
    let r = run(&t, "print(kv.get('a'))");
    assert_eq!(stdout(&r), "one\n");
    assert_eq!(store.lock().unwrap().get(&b"a"[..]).map(Vec::as_slice), Some(&b"one"[..]));
}

#[test]
fn ungranted_functions_are_absent() {
    let r = run(&Tenant::new(), "print(kv, log, host)");
    assert_eq!(stdout(&r), "nil\tnil\tnil\n");
}

#[test]
fn boundary_checks() {
    let t = kv_tenant(Arc::new(Mutex::new(HashMap::new())));
    let r = run(
        &t,
        r#"
        print(pcall(kv.set, 'a', {}))
        print(pcall(kv.set, 'a'))
        print(pcall(kv.set, 'a', ('x'):rep(10000)))
        print(pcall(kv.get, print))
        print(pcall(kv.get, 1))
        "#,
    );
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    let out = stdout(&r);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("false\t") && lines[0].contains("got table"), "{}", lines[0]);
    assert!(lines[1].contains("kv.set: expected two strings"), "{}", lines[1]);
    assert!(lines[2].contains("too large"), "{}", lines[2]);
    assert!(lines[3].contains("got function"), "{}", lines[3]);
    assert!(lines[4].contains("key must be a string"), "{}", lines[4]);
}

#[test]
fn a_panicking_host_function_is_a_lua_error() {
    let t = Tenant::new().function("boom", |_| panic!("host bug")).unwrap();
    let r = run(&t, "print(pcall(boom)) print('after')");
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    assert!(stdout(&r).contains("host function 'boom' failed"), "{}", stdout(&r));
    assert!(stdout(&r).ends_with("after\n"));
}

#[test]
fn bad_names_are_refused() {
    for bad in ["", "1x", "a..b", "a.b-c", "a b"] {
        assert!(Tenant::new().function(bad, |_| Ok(vec![])).is_err(), "{bad}");
    }
}

/// The guest is a standard WASI command: under a runtime that answers its `moonbox`
/// imports with default values (zeros), it runs, without host functions and with
/// the trace JIT off (`jit_available` answers 0), loops still interpreted right.
#[test]
fn runs_under_a_plain_wasi_runtime() {
    use wasmtime::{Linker, Module, Store};
    use wasmtime_wasi::p1::WasiP1Ctx;
    use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

    let engine = wasmtime::Engine::default();
    let module = Module::new(&engine, GUEST_WASM).unwrap();
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c| c).unwrap();
    let out = MemoryOutputPipe::new(1 << 16);
    let ctx = wasmtime_wasi::WasiCtxBuilder::new()
        .args(&[
            "moonbox",
            "-e",
            "print(kv, 1 + 1, _VERSION, (jit.status())) local s = 0 for i = 1, 1000 do s = s + i end print(s)",
        ])
        .stdout(out.clone())
        .build_p1();
    let mut store = Store::new(&engine, ctx);
    linker.define_unknown_imports_as_default_values(&mut store, &module).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
    let r = start.call(&mut store, ());
    assert!(r.is_ok() || r.unwrap_err().downcast_ref::<wasmtime_wasi::I32Exit>().is_some_and(|e| e.0 == 0));
    assert_eq!(String::from_utf8_lossy(&out.contents()), "nil\t2\tLua 5.1\tfalse\n500500\n");
    let _ = sandbox();
}

/// C functions granted to the tenant's FFI: `ffi.C.name` reaches them once the
/// script declares them with the granted signature; arguments are converted and
/// checked by the FFI inside the sandbox, and no pointer crosses to the host.
#[test]
fn granted_c_functions_through_ffi() {
    let t = Tenant::new()
        .c_function("add", "int32_t(int32_t, int32_t)", |args| match args {
            [HostValue::Number(a), HostValue::Number(b)] => Ok(HostValue::Number(a + b)),
            _ => Err("add: two numbers".into()),
        })
        .unwrap()
        .c_function("shout", "string(string)", |args| match args {
            [HostValue::Str(s)] => Ok(HostValue::Str(s.to_ascii_uppercase())),
            _ => Err("shout: a string".into()),
        })
        .unwrap();
    let r = run(
        &t,
        r#"
        local ffi = require("ffi")
        ffi.cdef[[int add(int a, int b); const char *shout(const char *s); int abs(int);
                  double sub(double, double);]]
        print(ffi.C.add(40, 2), ffi.C.add(2.5, 1), ffi.C.shout("moon"))
        local buf = ffi.new("char[6]", "box")
        print(ffi.C.shout(buf))
        print(pcall(ffi.C.add, {}, 1))
        print(pcall(ffi.C.add, 1))
        print(pcall(function() return ffi.C.abs(-1) end))
        print(pcall(function() return ffi.C.sub end))
        -- A pointer forged by type punning reaches nothing the state does not own.
        local u = ffi.new("union { uint64_t i; const char *p; }")
        u.i = 0x10000
        print(pcall(ffi.C.shout, u.p))
        print(pcall(ffi.load, "c"))
        print(pcall(ffi.cast, "int *", 4096))
        "#,
    );
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    let out = stdout(&r);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "42\t3\tMOON");
    assert_eq!(lines[1], "BOX");
    assert!(lines[2].starts_with("false\t") && lines[2].contains("cannot convert 'table' to 'int'"), "{}", lines[2]);
    assert!(lines[3].contains("wrong number of arguments for function call"), "{}", lines[3]);
    assert!(lines[4].contains("C symbol 'abs' is not available: not granted"), "{}", lines[4]);
    assert!(lines[5].contains("not granted"), "{}", lines[5]);
    assert!(lines[6].starts_with("false\t") && lines[6].contains("outside of cdata objects"), "{}", lines[6]);
    assert!(lines[7].starts_with("false\t") && lines[7].contains("not allowed"), "{}", lines[7]);
    assert!(lines[8].starts_with("false\t") && lines[8].contains("not allowed"), "{}", lines[8]);
    // A declaration that differs from the grant is refused by name.
    let r = run(&t, "local ffi = require('ffi') ffi.cdef('double add(double, double);') print(pcall(function() return ffi.C.add end))");
    assert!(
        stdout(&r).contains(
            "C function 'add' is declared as double(double, double), but granted as int32_t(int32_t, int32_t)"
        ),
        "{}",
        stdout(&r)
    );
    for (name, sig) in [("1x", "int(int)"), ("a.b", "int(int)"), ("f", "int"), ("f", "int(int*)")] {
        assert!(Tenant::new().c_function(name, sig, |_| Ok(HostValue::Nil)).is_err(), "{name} {sig}");
    }
}
