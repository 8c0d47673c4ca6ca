//! The `async` feature: Rust callbacks that await suspend the Lua coroutine, and Lua
//! calls are futures (tested with tokio; nothing in moonbox depends on it).

use std::time::Duration;

use futures_util::StreamExt;
use moonbox::{AsyncThread, Function, Lua, Result, Thread, UserData, UserDataMethods};

#[tokio::test(flavor = "current_thread")]
async fn async_functions_suspend_the_coroutine() -> Result<()> {
    let lua = Lua::new();
    let sleep = lua.create_async_function(|_, ms: u64| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(ms)
    })?;
    lua.globals().set("sleep", sleep)?;
    let f: Function = lua.load("function(a, b) return sleep(a) + sleep(b), 'done' end").eval()?;
    let (sum, tag): (u64, String) = f.call_async((3, 4)).await?;
    assert_eq!((sum, tag.as_str()), (7, "done"));

    // Two Lua calls run concurrently on one thread.
    let start = std::time::Instant::now();
    let g: Function = lua.load("function(ms) return sleep(ms) end").eval()?;
    let (a, b) = tokio::join!(g.call_async::<u64>(50), g.call_async::<u64>(50));
    assert_eq!((a?, b?), (50, 50));
    assert!(start.elapsed() < Duration::from_millis(95), "{:?}", start.elapsed());

    // A ready future works from a synchronous call too.
    let ready = lua.create_async_function(|_, x: i32| async move { Ok(x + 1) })?;
    assert_eq!(ready.call::<i32>(1)?, 2);
    // A pending one cannot wait outside a coroutine: an error, not a hang.
    assert!(g.call::<u64>(1).is_err());
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn async_errors_and_chunks() -> Result<()> {
    let lua = Lua::new();
    let fail = lua.create_async_function(|_, ()| async move {
        tokio::task::yield_now().await;
        Err::<(), _>(moonbox::Error::runtime("async nope"))
    })?;
    lua.globals().set("fail", fail)?;
    let e = lua.load("fail()").exec_async().await.unwrap_err();
    assert!(e.to_string().contains("async nope"), "{e}");
    // pcall in Lua catches it across the suspension.
    let ok: bool = lua.load("return (pcall(fail))").eval_async().await?;
    assert!(!ok);
    assert_eq!(lua.load("return ...").call_async::<i32>(5).await?, 5);
    Ok(())
}

struct Acc(u64);

impl UserData for Acc {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_async_method("get", |_, this, ()| async move {
            tokio::task::yield_now().await;
            Ok(this.0)
        });
        m.add_async_method_mut("add", |_, mut this, n: u64| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            this.0 += n;
            Ok(this.0)
        });
        m.add_async_function("twice", |_, n: u64| async move { Ok(n * 2) });
    }
}

#[tokio::test(flavor = "current_thread")]
async fn async_methods_hold_borrows_across_awaits() -> Result<()> {
    let lua = Lua::new();
    lua.globals().set("acc", Acc(1))?;
    let n: u64 = lua.load("acc:add(2) acc:add(3) return acc:get() + acc.twice(10)").eval_async().await?;
    assert_eq!(n, 26);
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn async_threads_are_streams() -> Result<()> {
    let lua = Lua::new();
    let sleep = lua.create_async_function(|_, ()| async move {
        tokio::task::yield_now().await;
        Ok(())
    })?;
    lua.globals().set("sleep", sleep)?;
    let co: Thread =
        lua.load("coroutine.create(function() for i = 1, 3 do sleep() coroutine.yield(i) end return 4 end)").eval()?;
    let s: AsyncThread<i64> = co.into_async(())?;
    let got: Vec<i64> = s.map(|r| r.unwrap()).collect().await;
    assert_eq!(got, [1, 2, 3, 4]);
    Ok(())
}
