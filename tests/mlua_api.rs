//! mlua 0.11's API shapes on moonbox: each test is written as an mlua program would
//! be (through the prelude's `Lua*` names where mlua users do), and checks what mlua
//! 0.11 with its `luajit` feature does.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use moonbox::prelude::*;
use moonbox::{
    ChunkMode, Either, Error, HookTriggers, MetaMethod, ObjectLike, StdLib, UserDataRef, UserDataRefMut, Value, VmState,
};

#[test]
fn prelude_names_and_single_generic_calls() -> LuaResult<()> {
    let lua = Lua::new();
    let globals: LuaTable = lua.globals();
    globals.set("x", 21)?;
    assert_eq!(globals.get::<i64>("x")?, 21);
    let double: LuaFunction = lua.load("function(n) return n * 2 end").eval()?;
    assert_eq!(double.call::<i32>(21)?, 42);
    assert_eq!(lua.load("x * 2").eval::<LuaInteger>()?, 42);
    let co: LuaThread =
        lua.create_thread(lua.load("function(a) local b = coroutine.yield(a) return a + b end").eval()?)?;
    assert_eq!(co.resume::<i32>(1)?, 1);
    assert_eq!(co.resume::<i32>(2)?, 3);
    assert_eq!(co.status(), LuaThreadStatus::Finished);
    let s: LuaString = lua.create_string("hi")?;
    assert_eq!(s.to_str()?, "hi");
    let v: LuaValue = lua.load("nil").eval()?;
    assert!(v.is_nil());
    let mv: LuaMultiValue = lua.load("return 1, 2").eval()?;
    assert_eq!(mv.len(), 2);
    let n: LuaNumber = lua.load("0.5").eval()?;
    assert_eq!(n, 0.5);
    Ok(())
}

#[test]
fn lua_is_clone_and_weak() -> LuaResult<()> {
    let lua = Lua::new();
    let lua2 = lua.clone();
    lua2.globals().set("shared", true)?;
    assert!(lua.globals().get::<bool>("shared")?);
    let weak: WeakLua = lua.weak();
    assert!(weak.try_upgrade().is_some());
    let t = lua.create_table()?;
    drop(lua);
    drop(lua2);
    assert!(weak.try_upgrade().is_none());
    // A dropped state: handles fail cleanly, upgrade gives a closed state.
    assert!(matches!(t.get::<i32>(1), Err(Error::StateDropped)));
    let closed = weak.upgrade();
    assert!(matches!(closed.load("1").eval::<i32>(), Err(Error::StateDropped)));
    assert!(matches!(closed.create_table(), Err(Error::StateDropped)));
    Ok(())
}

#[test]
fn value_integer_and_helpers() -> LuaResult<()> {
    let lua = Lua::new();
    let v: Value = lua.load("10").eval()?;
    assert!(v.is_integer() && !v.is_number());
    assert_eq!((v.as_integer(), v.as_i32(), v.as_u64(), v.as_f64()), (Some(10), Some(10), Some(10), Some(10.0)));
    let v: Value = lua.load("10.25").eval()?;
    assert!(v.is_number());
    assert_eq!((v.as_integer(), v.as_number(), v.as_f32()), (None, Some(10.25), Some(10.25)));
    let v: Value = lua.load("'str'").eval()?;
    assert!(v.is_string());
    assert_eq!(v.as_str().as_deref(), Some("str"));
    assert_eq!(v.as_string_lossy().as_deref(), Some("str"));
    assert_eq!(v.type_name(), "string");
    assert!(lua.load("{}").eval::<Value>()?.is_table());
    assert!(lua.load("print").eval::<Value>()?.is_function());
    assert!(lua.load("coroutine.create(print)").eval::<Value>()?.is_thread());
    assert!(Value::NULL.is_null() && Value::NULL.is_light_userdata());
    assert_eq!(Value::Boolean(true).as_boolean(), Some(true));
    // to_string calls __tostring.
    let t: Value = lua.load("setmetatable({}, { __tostring = function() return 'T!' end })").eval()?;
    assert_eq!(t.to_string()?, "T!");
    assert!(!t.to_pointer().is_null());
    // equals calls __eq.
    let (a, b): (Value, Value) = lua
        .load("local mt = { __eq = function() return true end } return setmetatable({}, mt), setmetatable({}, mt)")
        .eval()?;
    assert!(a != b);
    assert!(a.equals(&b)?);
    Ok(())
}

#[test]
fn either_and_user_data_refs_as_arguments() -> LuaResult<()> {
    #[derive(Debug)]
    struct Counter(i64);
    impl LuaUserData for Counter {}

    let lua = Lua::new();
    let f = lua.create_function(|_, v: Either<i64, String>| {
        Ok(match v {
            Either::Left(n) => format!("number {n}"),
            Either::Right(s) => format!("string {s}"),
        })
    })?;
    assert_eq!(f.call::<String>(5)?, "number 5");
    assert_eq!(f.call::<String>("x")?, "string x");

    let read = lua.create_function(|_, c: UserDataRef<Counter>| Ok(c.0))?;
    let bump = lua.create_function(|_, mut c: UserDataRefMut<Counter>| {
        c.0 += 1;
        Ok(())
    })?;
    let c = lua.create_userdata(Counter(41))?;
    bump.call::<()>(&c)?;
    assert_eq!(read.call::<i64>(&c)?, 42);
    // A borrow held from Rust makes a mutable one from Lua fail, without a deadlock.
    let held = c.borrow::<Counter>()?;
    let e = bump.call::<()>(&c).unwrap_err();
    assert!(e.to_string().contains("error mutably borrowing userdata"), "{e}");
    drop(held);
    bump.call::<()>(&c)?;
    assert_eq!(c.borrow::<Counter>()?.0, 43);
    assert!(read.call::<i64>(1).is_err());
    // take() leaves the userdata destructed.
    assert_eq!(c.take::<Counter>()?.0, 43);
    assert!(matches!(c.borrow::<Counter>(), Err(Error::UserDataDestructed)));
    Ok(())
}

#[test]
fn userdata_fields_meta_fields_and_meta_methods() -> LuaResult<()> {
    #[derive(Clone, Copy)]
    struct V2(f64, f64);
    impl LuaUserData for V2 {
        fn add_fields<F: LuaUserDataFields<Self>>(fields: &mut F) {
            fields.add_field("kind", "v2");
            fields.add_field_method_get("x", |_, v| Ok(v.0));
            fields.add_field_method_set("x", |_, v, x: f64| {
                v.0 = x;
                Ok(())
            });
            fields.add_field_function_get("len2", |_, ud: LuaAnyUserData| {
                let v = ud.borrow::<V2>()?;
                Ok(v.0 * v.0 + v.1 * v.1)
            });
            fields.add_meta_field(MetaMethod::Type, "V2");
            fields.add_meta_field_with("__answer", |_| Ok(42));
        }
        fn add_methods<M: LuaUserDataMethods<Self>>(methods: &mut M) {
            methods.add_method("dot", |_, a, b: LuaUserDataRef<V2>| Ok(a.0 * b.0 + a.1 * b.1));
            methods.add_function("new", |_, (x, y): (f64, f64)| Ok(V2(x, y)));
            methods.add_meta_function(MetaMethod::Add, |_, (a, b): (LuaUserDataRef<V2>, LuaUserDataRef<V2>)| {
                Ok(V2(a.0 + b.0, a.1 + b.1))
            });
            methods.add_meta_method(MetaMethod::ToString, |_, v, ()| Ok(format!("({}, {})", v.0, v.1)));
            methods.add_meta_method("__call", |_, v, k: f64| Ok(V2(v.0 * k, v.1 * k)));
            methods.add_meta_method(MetaMethod::Index, |_, _, k: String| Ok(format!("no {k}")));
        }
    }

    let lua = Lua::new();
    lua.globals().set("v", V2(3.0, 4.0))?;
    let s: String = lua.load("return tostring(v + v.new(1, 1)) .. ' ' .. v.kind .. ' ' .. v.x").eval()?;
    assert_eq!(s, "(4, 5) v2 3");
    assert_eq!(lua.load("v.len2").eval::<f64>()?, 25.0);
    assert_eq!(lua.load("v:dot(v)").eval::<f64>()?, 25.0);
    assert_eq!(lua.load("tostring(v(2))").eval::<String>()?, "(6, 8)");
    assert_eq!(lua.load("v.nothing").eval::<String>()?, "no nothing");
    lua.load("v.x = 10").exec()?;
    assert_eq!(lua.load("v.x").eval::<f64>()?, 10.0);
    let ud: LuaAnyUserData = lua.globals().get("v")?;
    assert_eq!(ud.type_name()?.as_deref(), Some("V2"));
    assert_eq!(ud.metatable()?.get::<i32>("__answer")?, 42);
    assert!(matches!(ud.metatable()?.set("__index", 1), Err(Error::MetaMethodRestricted(_))));
    // Debug of a userdata with __name, as mlua prints it.
    assert!(format!("{:#?}", Value::UserData(ud.clone())).starts_with("V2: 0x"));
    // ObjectLike.
    assert_eq!(ud.get::<f64>("x")?, 10.0);
    assert_eq!(ud.call_method::<f64>("dot", &ud)?, 116.0);
    Ok(())
}

#[test]
fn scope_lends_non_static_closures() -> LuaResult<()> {
    let lua = Lua::new();
    let mut calls = 0;
    let seen = AtomicI32::new(0);
    lua.scope(|scope| {
        lua.globals().set(
            "bump",
            scope.create_function_mut(|_, n: i32| {
                calls += n;
                Ok(())
            })?,
        )?;
        lua.globals().set("peek", scope.create_function(|_, ()| Ok(seen.fetch_add(1, Ordering::Relaxed) + 1))?)?;
        lua.load("bump(2) bump(3) peek()").exec()
    })?;
    assert_eq!(calls, 5);
    assert_eq!(seen.load(Ordering::Relaxed), 1);
    let e = lua.load("bump(1)").exec().unwrap_err();
    assert!(matches!(e.root_cause(), Error::CallbackDestructed), "{e:?}");
    Ok(())
}

#[test]
fn app_data() {
    let lua = Lua::new();
    assert!(lua.set_app_data(String::from("cfg")).is_none());
    assert_eq!(lua.set_app_data(String::from("cfg2")).as_deref(), Some("cfg"));
    assert_eq!(&*lua.app_data_ref::<String>().unwrap(), "cfg2");
    {
        let mut m = lua.app_data_mut::<String>().unwrap();
        m.push('!');
        // While it is mutably borrowed, a shared borrow is refused (no panic).
        assert!(lua.app_data_ref::<String>().is_none());
        assert!(lua.try_app_data_ref::<String>().is_err());
    }
    assert_eq!(&*lua.app_data_ref::<String>().unwrap(), "cfg2!");
    assert!(lua.app_data_ref::<u32>().is_none());
    assert_eq!(lua.remove_app_data::<String>().as_deref(), Some("cfg2!"));
    assert!(lua.app_data_ref::<String>().is_none());
}

#[test]
fn hooks_and_stack_inspection() -> LuaResult<()> {
    let lua = Lua::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    lua.set_hook(HookTriggers::new().on_calls().every_line(), move |_, d| {
        ev.lock().unwrap().push(format!("{:?}:{:?}", d.event(), d.current_line()));
        Ok(VmState::Continue)
    })?;
    lua.load("local function f() return 1 end\nf()").exec()?;
    lua.remove_hook();
    let got = events.lock().unwrap().clone();
    assert!(got.contains(&"Line:Some(2)".to_string()), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("Call:")), "{got:?}");
    // After remove_hook nothing more is recorded.
    let n = got.len();
    lua.load("local x = 1").exec()?;
    assert_eq!(events.lock().unwrap().len(), n);

    // A hook error is raised in the Lua code.
    lua.set_hook(HookTriggers::EVERY_LINE, |_, _| Err(Error::runtime("stop here")))?;
    let e = lua.load("local x = 1").exec().unwrap_err();
    assert!(e.to_string().contains("stop here"), "{e}");
    lua.remove_hook();

    let info = lua.create_function(|lua, ()| {
        let (s, l) = lua
            .inspect_stack(1, |d| (d.source().short_src.map(|s| s.into_owned()), d.current_line()))
            .unwrap_or((None, None));
        Ok((s, l))
    })?;
    lua.globals().set("info", info)?;
    let (src, line): (Option<String>, Option<usize>) =
        lua.load("\nlocal s, l = info() return s, l").set_name("=here").eval()?;
    assert_eq!((src.as_deref(), line), (Some("here"), Some(2)));
    assert!(lua.inspect_stack(0, |_| ()).is_none());
    assert!(lua.traceback(Some("msg"), 0)?.starts_with("msg\nstack traceback:"));
    Ok(())
}

#[test]
fn table_methods() -> LuaResult<()> {
    let lua = Lua::new();
    let t = lua.create_sequence_from([1, 2, 3])?;
    assert_eq!(t.len()?, 3);
    assert_eq!(t.raw_len(), 3);
    t.push(4)?;
    assert_eq!(t.pop::<i32>()?, 4);
    t.raw_push(5)?;
    assert_eq!(t.raw_pop::<i32>()?, 5);
    t.raw_insert(1, 0)?;
    assert_eq!(t.sequence_values::<i32>().collect::<LuaResult<Vec<_>>>()?, [0, 1, 2, 3]);
    t.raw_remove(1)?;
    assert_eq!(t.sequence_values::<i32>().collect::<LuaResult<Vec<_>>>()?, [1, 2, 3]);
    let mut sum = 0;
    t.for_each(|_: i64, v: i64| {
        sum += v;
        Ok(())
    })?;
    assert_eq!(sum, 6);
    t.for_each_value(|v: i64| {
        sum += v;
        Ok(())
    })?;
    assert_eq!(sum, 12);
    assert!(t.metatable().is_none() && !t.has_metatable());
    t.set_metatable(Some(lua.create_table()?))?;
    assert!(t.metatable().is_some());
    assert!(!t.is_empty());
    t.clear()?;
    assert!(t.is_empty());
    assert_eq!(t.pop::<Option<i32>>()?, None);
    Ok(())
}

#[test]
fn debug_pretty_prints_tables_as_mlua() -> LuaResult<()> {
    let lua = Lua::new();
    let v: Value = lua.load("{ 1, 'two', { x = 1.5, ['a b'] = true }, }").eval()?;
    assert_eq!(format!("{v:#?}"), "{\n  1,\n  \"two\",\n  {\n    [\"a b\"] = true,\n    x = 1.5,\n  },\n}");
    let v: Value = lua.load("{ b = 2, a = 1 }").eval()?;
    assert_eq!(format!("{v:#?}"), "{\n  a = 1,\n  b = 2,\n}");
    let v: Value = lua.load("local t = {} t.self = t return t").eval()?;
    assert!(format!("{v:#?}").starts_with("{\n  self = table: 0x"));
    assert_eq!(format!("{:?}", Value::Integer(1)), "Integer(1)");
    assert_eq!(format!("{:#?}", lua.load("{}").eval::<Value>()?), "{}");
    Ok(())
}

#[test]
fn errors_have_mlua_variants() {
    let lua = Lua::new();
    match lua.load("error('boom')").set_name("=c").exec() {
        Err(Error::RuntimeError(m)) => assert!(m.starts_with("c:1: boom\nstack traceback:"), "{m}"),
        r => panic!("{r:?}"),
    }
    let f = lua.create_function(|_, ()| -> LuaResult<()> { Err(Error::runtime("inner")) }).unwrap();
    match f.call::<()>(()) {
        Err(Error::CallbackError { cause, traceback }) => {
            assert!(matches!(&*cause, Error::RuntimeError(m) if m == "inner"));
            assert!(traceback.starts_with("stack traceback:"), "{traceback}");
        }
        r => panic!("{r:?}"),
    }
    match lua.load("x = ").exec() {
        Err(Error::SyntaxError { incomplete_input: true, .. }) => {}
        r => panic!("{r:?}"),
    }
    let e = Error::external(std::io::Error::other("disk")).context("reading");
    assert_eq!(e.to_string(), "reading\ndisk");
    assert!(e.downcast_ref::<std::io::Error>().is_some());
    let io: Error = std::io::Error::other("x").into();
    assert!(matches!(io, Error::ExternalError(_)));
}

#[test]
fn panics_resume_when_control_leaves_lua() {
    let lua = Lua::new();
    let f = lua.create_function(|_, ()| -> LuaResult<()> { panic!("test panic") }).unwrap();
    lua.globals().set("rust_func", f).unwrap();
    // Lua's pcall sees an error whose tostring is the panic message.
    let msg: String = lua.load("local ok, e = pcall(rust_func) return tostring(e)").eval().unwrap();
    assert_eq!(msg, "test panic");
    // Propagated out of Lua, the panic resumes in Rust with its payload.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lua.load("local ok, e = pcall(rust_func) error(e)").exec()
    }));
    assert_eq!(r.unwrap_err().downcast_ref::<&str>(), Some(&"test panic"));
    // Through nested callbacks too.
    let outer = lua.create_function(|lua, ()| lua.load("rust_func()").exec()).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| outer.call::<()>(())));
    assert!(r.is_err());
    // The state is usable afterwards.
    assert_eq!(lua.load("1 + 1").eval::<i32>().unwrap(), 2);
}

#[test]
fn new_with_stdlib_and_options() -> LuaResult<()> {
    let lua = Lua::new_with(StdLib::MATH | StdLib::TABLE, LuaOptions::new().catch_rust_panics(true))?;
    assert!(lua.load("math ~= nil and table ~= nil and string == nil and io == nil and os == nil").eval::<bool>()?);
    let lua = Lua::new_with(StdLib::ALL_SAFE, LuaOptions::default())?;
    assert!(lua.load("io ~= nil and os ~= nil and string ~= nil and debug == nil").eval::<bool>()?);
    // moonbox's additions keep their signatures.
    let lua = Lua::with_capabilities(LuaCapabilities::sandboxed());
    assert!(lua.load("io == nil").eval::<bool>()?);
    Ok(())
}

#[test]
fn memory_limit_and_gc() -> LuaResult<()> {
    let lua = Lua::new();
    // mlua's form: usize, 0 = none, returns the previous limit.
    assert_eq!(lua.set_memory_limit(8 << 20)?, 0);
    assert_eq!(lua.set_memory_limit(0)?, 8 << 20);
    // moonbox's form.
    assert_eq!(lua.set_memory_limit(Some(4 << 20)), None);
    assert_eq!(lua.set_memory_limit(None), Some(4 << 20));
    let before = lua.used_memory();
    lua.load("junk = {} for i = 1, 10000 do junk[i] = {} end").exec()?;
    assert!(lua.used_memory() > before);
    lua.load("junk = nil").exec()?;
    lua.gc_collect()?;
    assert!(lua.gc_is_running());
    lua.gc_stop();
    assert!(!lua.gc_is_running());
    lua.gc_restart();
    assert!(lua.gc_is_running());
    let old = lua.gc_set_pause(150);
    assert!(old > 0);
    lua.gc_step()?;
    assert_eq!(lua.gc_inc(200, 0, 0), moonbox::GCMode::Incremental);
    Ok(())
}

#[test]
fn chunk_modes_names_and_environments() -> LuaResult<()> {
    let lua = Lua::new();
    let chunk = lua.load("return 1");
    assert_eq!(chunk.mode(), ChunkMode::Text);
    assert!(chunk.name().starts_with("@tests/mlua_api.rs:"), "{}", chunk.name());
    assert!(lua.load("return 1").set_mode(ChunkMode::Binary).exec().is_err());
    let f: LuaFunction = lua.load("return 6 * 7").into_function()?;
    let bin = f.dump(false);
    let c = lua.load(bin);
    assert_eq!(c.mode(), ChunkMode::Binary);
    assert_eq!(c.eval::<i32>()?, 42);
    assert!(lua.load(f.dump(true)).set_mode(ChunkMode::Text).exec().is_err());
    let env = lua.create_table()?;
    env.set("y", 2)?;
    assert_eq!(lua.load("y * 3").set_environment(env).eval::<i32>()?, 6);
    // A default chunk name is the caller's position, as in mlua.
    let e = lua.load("error('here')").exec().unwrap_err();
    assert!(e.to_string().contains("tests/mlua_api.rs:"), "{e}");
    Ok(())
}

#[test]
fn registry_and_modules() -> LuaResult<()> {
    let lua = Lua::new();
    let mut key: LuaRegistryKey = lua.create_registry_value("a")?;
    assert_eq!(lua.registry_value::<String>(&key)?, "a");
    lua.replace_registry_value(&mut key, "b")?;
    assert_eq!(lua.registry_value::<String>(&key)?, "b");
    assert!(lua.owns_registry_value(&key));
    lua.set_named_registry_value("mine", 5)?;
    assert_eq!(lua.named_registry_value::<i32>("mine")?, 5);
    lua.unset_named_registry_value("mine")?;
    assert_eq!(lua.named_registry_value::<Option<i32>>("mine")?, None);
    lua.register_module("greet", lua.create_function(|_, n: String| Ok(format!("hi {n}")))?)?;
    assert_eq!(lua.load("require('greet')('bob')").eval::<String>()?, "hi bob");
    lua.unload_module("greet")?;
    assert!(lua.load("require('greet')").exec().is_err());
    let loader: LuaFunction = lua.load("function(name) return { name = name } end").eval()?;
    let m: LuaTable = lua.load_from_function("mymod", loader)?;
    assert_eq!(m.get::<String>("name")?, "mymod");
    Ok(())
}

#[test]
fn function_helpers() -> LuaResult<()> {
    let lua = Lua::new();
    lua.globals().set("add", LuaFunction::wrap(|a: i32, b: i32| Ok(a + b)))?;
    assert_eq!(lua.load("add(1, 2)").eval::<i32>()?, 3);
    let f: LuaFunction = lua.load("function() return x end").eval()?;
    let env = lua.create_table()?;
    env.set("x", 9)?;
    assert!(f.set_environment(env)?);
    assert_eq!(f.call::<i32>(())?, 9);
    assert_eq!(f.environment().unwrap().get::<i32>("x")?, 9);
    let info = f.info();
    assert_eq!(info.what, "Lua");
    let counter = Arc::new(AtomicI32::new(0));
    let c = counter.clone();
    let g = lua.create_function(move |_, ()| {
        c.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })?;
    g.call::<()>(())?;
    assert_eq!(counter.load(Ordering::Relaxed), 1);
    assert!(g.environment().is_none());
    Ok(())
}

#[test]
fn coroutine_errors_carry_their_traceback() {
    let lua = Lua::new();
    let co: LuaThread = lua
        .load("coroutine.create(function() local function inner() error('deep') end inner() end)")
        .set_name("=co")
        .eval()
        .unwrap();
    match co.resume::<()>(()) {
        Err(Error::RuntimeError(m)) => {
            assert!(m.starts_with("co:1: deep\nstack traceback:"), "{m}");
            assert!(m.contains("in function 'inner'"), "{m}");
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(co.status(), LuaThreadStatus::Error);
}
