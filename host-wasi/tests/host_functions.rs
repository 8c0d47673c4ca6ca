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
/// imports with default values (zeros), it runs, without host functions.
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
        .args(&["moonbox", "-e", "print(kv, 1 + 1, _VERSION)"])
        .stdout(out.clone())
        .build_p1();
    let mut store = Store::new(&engine, ctx);
    linker.define_unknown_imports_as_default_values(&mut store, &module).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
    let r = start.call(&mut store, ());
    assert!(r.is_ok() || r.unwrap_err().downcast_ref::<wasmtime_wasi::I32Exit>().is_some_and(|e| e.0 == 0));
    assert_eq!(String::from_utf8_lossy(&out.contents()), "nil\t2\tLua 5.1\n");
    let _ = sandbox();
}
