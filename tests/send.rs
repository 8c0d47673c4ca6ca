//! The `send` feature: the state and its handles are `Send + Sync`, and threads that
//! share a state take turns (a reentrant lock around it).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use moonbox::{
    AnyUserData, Function, Lua, Result, String as LuaString, Table, Thread, UserData, UserDataMethods, Value,
};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn state_and_handles_are_send_and_sync() {
    assert_send_sync::<Lua>();
    assert_send_sync::<moonbox::WeakLua>();
    assert_send_sync::<Table>();
    assert_send_sync::<Function>();
    assert_send_sync::<LuaString>();
    assert_send_sync::<Thread>();
    assert_send_sync::<AnyUserData>();
    assert_send_sync::<Value>();
    assert_send_sync::<moonbox::Error>();
    assert_send_sync::<moonbox::RegistryKey>();
}

struct Counter(AtomicUsize);

impl UserData for Counter {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("bump", |_, c, ()| Ok(c.0.fetch_add(1, Ordering::Relaxed) + 1));
    }
}

#[test]
fn threads_share_one_state() -> Result<()> {
    let lua = Lua::new();
    lua.globals().set("counter", Counter(AtomicUsize::new(0)))?;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let hit = lua.create_function(move |_, ()| {
        c.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })?;
    lua.globals().set("hit", hit)?;
    let f: Function =
        lua.load("function(n) local s = 0 for i = 1, n do hit() s = s + counter:bump() end return s end").eval()?;
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || f.call::<usize>(100))
        })
        .collect();
    for h in handles {
        h.join().unwrap()?;
    }
    assert_eq!(calls.load(Ordering::Relaxed), 400);
    assert_eq!(lua.load("counter:bump()").eval::<usize>()?, 401);
    // A state moved to another thread and dropped there.
    let t = std::thread::spawn(move || lua.load("1 + 1").eval::<i32>());
    assert_eq!(t.join().unwrap()?, 2);
    Ok(())
}

/// Calls from many threads at once: each pushes its function and arguments and
/// reads its results while holding the state (a call's steps never interleave with
/// another thread's).
#[test]
fn concurrent_calls_keep_their_arguments() -> Result<()> {
    let lua = Lua::new();
    let f: Function = lua.load("function(a, b) return a * 1000 + b, a end").eval()?;
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let f = f.clone();
            std::thread::spawn(move || -> Result<()> {
                for i in 0..20000 {
                    let (x, a): (i64, i64) = f.call((t, i))?;
                    assert_eq!((x, a), (t * 1000 + i, t), "thread {t}, call {i}");
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap()?;
    }
    Ok(())
}
