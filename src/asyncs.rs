//! async support (feature `async`): Rust callbacks that await, and Lua calls that
//! can be awaited.
//!
//! A Rust async function is a Lua function that polls its future; while the future
//! is pending, the Lua coroutine running it yields a marker
//! ([`Lua::poll_pending`]), and [`AsyncThread`] (what [`Function::call_async`]
//! drives) turns that marker into `Poll::Pending`. The waker of the task that polls
//! the `AsyncThread` is the one the future sees, so any executor works (tokio,
//! async-std, `futures::executor`). No engine support is needed: the yield is an
//! ordinary `coroutine.yield` made by a small Lua loop around the Rust poller, so
//! it crosses no Rust frame.
//!
//! ```
//! use std::time::Duration;
//! use moonbox::{Function, Lua};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> moonbox::Result<()> {
//! let lua = Lua::new();
//! let sleep = lua.create_async_function(|_lua, ms: u64| async move {
//!     tokio::time::sleep(Duration::from_millis(ms)).await;
//!     Ok(ms * 2)
//! })?;
//! lua.globals().set("sleep", sleep)?;
//! let f: Function = lua.load("function(n) return sleep(n) + sleep(n) end").eval()?;
//! assert_eq!(f.call_async::<u64>(5).await?, 20);
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_util::stream::Stream;

use crate::conv::{FromLuaMulti, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::state::Lua;
use crate::types::{LightUserData, MaybeSend};
use crate::userdata::UdCell;
use crate::value::{MultiValue, Value};
use crate::{AnyUserData, Function, Table, Thread, ThreadStatus};

#[cfg(not(feature = "send"))]
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = Result<MultiValue>>>>;
#[cfg(feature = "send")]
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = Result<MultiValue>> + Send>>;

/// An async callback as the facade keeps it: reads `nargs` arguments at
/// `stack[base ..]` and returns the future of its results.
#[cfg(not(feature = "send"))]
pub(crate) type AsyncCallbackFn = Box<dyn Fn(&Lua, usize, usize) -> Result<BoxFuture>>;
#[cfg(feature = "send")]
pub(crate) type AsyncCallbackFn = Box<dyn Fn(&Lua, usize, usize) -> Result<BoxFuture> + Send>;

/// The marker a coroutine yields while a Rust future is pending.
static POLL_PENDING: u8 = 0;

fn pending_marker() -> LightUserData {
    LightUserData(&POLL_PENDING as *const u8 as *mut std::ffi::c_void)
}

/// A future waiting in Lua (in a userdata) between two polls.
struct FutureSlot(parking_lot::Mutex<Option<BoxFuture>>);

/// The Lua loop around a Rust poller: calls `get_future`, then polls until ready,
/// yielding the pending marker in between. Tail calls keep the stack flat.
const WRAPPER: &str = r#"
local poll, yield, pending = ...
local function go(fut, ready, ...)
  if ready then return ... end
  yield(pending)
  return go(fut, poll(fut))
end
return function(get_future)
  return function(...)
    local fut = get_future(...)
    return go(fut, poll(fut))
  end
end
"#;

const FACTORY_KEY: &str = "moonbox.async_factory";

impl Lua {
    /// The light userdata a coroutine yields while a Rust future it awaits is pending
    /// (what [`AsyncThread`] recognises).
    pub fn poll_pending() -> LightUserData {
        pending_marker()
    }

    /// Wraps an async Rust function as a Lua function. Called from a coroutine driven
    /// by [`AsyncThread`] (e.g. through [`Function::call_async`]), it suspends the
    /// coroutine while its future is pending; called elsewhere, it works if the future
    /// is ready at once, and otherwise fails (a Lua coroutine cannot wait).
    pub fn create_async_function<F, A, FR, R>(&self, func: F) -> Result<Function>
    where
        F: Fn(Lua, A) -> FR + MaybeSend + 'static,
        A: FromLuaMulti,
        FR: Future<Output = Result<R>> + MaybeSend + 'static,
        R: IntoLuaMulti,
    {
        make_async_function(self, async_function(func))
    }

    fn async_factory(&self) -> Result<Function> {
        if let Some(f) = self.named_registry_value::<Option<Function>>(FACTORY_KEY)? {
            return Ok(f);
        }
        let poll = self.create_function(poll_future)?;
        let co: Table =
            self.globals().raw_get::<Option<Table>>("coroutine")?.map_or_else(|| self.create_table(), Ok)?;
        let yield_fn: Value = co.raw_get("yield")?;
        let factory: Function = self.load(WRAPPER).set_name("=[async]").set_mode(crate::ChunkMode::Text).call((
            poll,
            yield_fn,
            Value::LightUserData(pending_marker()),
        ))?;
        self.set_named_registry_value(FACTORY_KEY, &factory)?;
        Ok(factory)
    }
}

/// `poll(fut)`: polls the future once with the current task's waker; returns
/// `true, results...` when it is done, `false` while it is pending.
fn poll_future(lua: &Lua, ud: AnyUserData) -> Result<MultiValue> {
    let slot = ud.borrow::<FutureSlot>()?;
    let Some(mut fut) = slot.0.lock().take() else { return Err(Error::CallbackDestructed) };
    let waker = lua.inner.waker().unwrap_or_else(Waker::noop_clone);
    let mut cx = Context::from_waker(&waker);
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(mut values)) => {
            values.push_front(Value::Boolean(true));
            Ok(values)
        }
        Poll::Ready(Err(e)) => Err(e),
        Poll::Pending => {
            *slot.0.lock() = Some(fut);
            Ok(MultiValue::from_vec(vec![Value::Boolean(false)]))
        }
    }
}

trait NoopWaker {
    fn noop_clone() -> Waker;
}

impl NoopWaker for Waker {
    fn noop_clone() -> Waker {
        Waker::noop().clone()
    }
}

/// An async callback from an async function.
pub(crate) fn async_function<F, A, FR, R>(func: F) -> AsyncCallbackFn
where
    F: Fn(Lua, A) -> FR + MaybeSend + 'static,
    A: FromLuaMulti,
    FR: Future<Output = Result<R>> + MaybeSend + 'static,
    R: IntoLuaMulti,
{
    Box::new(move |lua, base, nargs| {
        let args = A::from_stack_args(base, nargs, 1, lua)?;
        let fut = func(lua.clone(), args);
        let lua = lua.clone();
        Ok(Box::pin(async move { fut.await?.into_lua_multi(&lua) }))
    })
}

/// An async callback from an async method of `T` (`self` is argument 1).
pub(crate) fn async_method<T, F, A, FR, R>(name: String, func: F) -> AsyncCallbackFn
where
    T: 'static,
    F: Fn(Lua, UdCell<T>, A) -> FR + MaybeSend + 'static,
    A: FromLuaMulti,
    FR: Future<Output = Result<R>> + MaybeSend + 'static,
    R: IntoLuaMulti,
{
    Box::new(move |lua, base, nargs| {
        let ud =
            if nargs >= 1 { crate::conv::FromLua::from_stack(base, lua) } else { Err(Error::UserDataTypeMismatch) };
        let ud: AnyUserData = ud.map_err(|e| Error::bad_self_argument(&name, e))?;
        let cell = ud.cell::<T>().map_err(|e| Error::bad_self_argument(&name, e))?;
        let args = A::from_stack_args(base + 1, nargs.saturating_sub(1), 2, lua)?;
        let fut = func(lua.clone(), cell, args);
        let lua = lua.clone();
        Ok(Box::pin(async move { fut.await?.into_lua_multi(&lua) }))
    })
}

/// The Lua function for an async callback.
pub(crate) fn make_async_function(lua: &Lua, cb: AsyncCallbackFn) -> Result<Function> {
    let get_future = lua.create_callback(Box::new(move |lua, base, nargs| {
        let fut = cb(lua, base, nargs)?;
        let ud = lua.create_any_userdata(FutureSlot(parking_lot::Mutex::new(Some(fut))))?;
        lua.push_value(&Value::UserData(ud))?;
        Ok(1)
    }))?;
    lua.async_factory()?.call(get_future)
}

/// A trait for async functions that take their Lua arguments directly (see
/// [`Function::wrap_async`]).
pub trait LuaNativeAsyncFn<A: FromLuaMulti> {
    /// The future it returns.
    type Output: Future;
    /// Calls it.
    fn call(&self, args: A) -> Self::Output;
}

macro_rules! impl_native_async_fn {
    ($($a:ident)*) => {
        impl<FN, $($a,)* Fut> LuaNativeAsyncFn<($($a,)*)> for FN
        where
            FN: Fn($($a),*) -> Fut,
            ($($a,)*): FromLuaMulti,
            Fut: Future,
        {
            type Output = Fut;
            #[allow(non_snake_case)]
            fn call(&self, args: ($($a,)*)) -> Fut {
                let ($($a,)*) = args;
                self($($a),*)
            }
        }
    };
}

impl_native_async_fn!();
impl_native_async_fn!(A);
impl_native_async_fn!(A B);
impl_native_async_fn!(A B C);
impl_native_async_fn!(A B C D);
impl_native_async_fn!(A B C D E);
impl_native_async_fn!(A B C D E F);

impl Function {
    /// Calls the function in a new coroutine as a future: awaiting it runs the Lua
    /// code, which may call async Rust functions (whose pending futures suspend it).
    pub fn call_async<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> AsyncCallFuture<R> {
        let r = (|| {
            let lua = self.0.lua()?;
            let co = lua.create_thread(self.clone())?;
            co.into_async(args)
        })();
        AsyncCallFuture(r)
    }

    /// Wraps an async Rust function taking its arguments directly as something that
    /// converts into a Lua function.
    pub fn wrap_async<F, A, R>(func: F) -> impl crate::IntoLua
    where
        F: LuaNativeAsyncFn<A> + MaybeSend + 'static,
        F::Output: Future<Output = Result<R>> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        WrappedAsync(move |lua: &Lua| lua.create_async_function(move |_, args: A| func.call(args)))
    }
}

struct WrappedAsync<F>(F);

impl<F: FnOnce(&Lua) -> Result<Function>> crate::IntoLua for WrappedAsync<F> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        (self.0)(lua).map(Value::Function)
    }
}

/// The future of [`Function::call_async`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct AsyncCallFuture<R: FromLuaMulti>(Result<AsyncThread<R>>);

impl<R: FromLuaMulti> Future for AsyncCallFuture<R> {
    type Output = Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        // SAFETY-free: `AsyncCallFuture` is `Unpin` (its fields are).
        let this = self.get_mut();
        match &mut this.0 {
            Ok(t) => Pin::new(t).poll(cx),
            Err(e) => Poll::Ready(Err(e.clone())),
        }
    }
}

/// A coroutine driven as a future (its final results) or a stream (each value it
/// yields), from [`Thread::into_async`] or [`Function::call_async`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct AsyncThread<R> {
    thread: Thread,
    /// The arguments of the first resume.
    args: Option<Result<MultiValue>>,
    _r: PhantomData<fn() -> R>,
}

impl<R> Unpin for AsyncThread<R> {}

impl Thread {
    /// The coroutine as an [`AsyncThread`], resumed first with `args`.
    pub fn into_async<R: FromLuaMulti>(self, args: impl IntoLuaMulti) -> Result<AsyncThread<R>> {
        let lua = self.0.lua()?;
        let args = args.into_lua_multi(&lua);
        Ok(AsyncThread { thread: self, args: Some(args), _r: PhantomData })
    }
}

/// Installs the waker of the polling task for the duration of a resume.
struct WakerGuard<'a> {
    lua: &'a Lua,
    old: Option<Waker>,
}

impl<'a> WakerGuard<'a> {
    fn new(lua: &'a Lua, waker: &Waker) -> WakerGuard<'a> {
        let old = lua.inner.set_waker(Some(waker.clone()));
        WakerGuard { lua, old }
    }
}

impl Drop for WakerGuard<'_> {
    fn drop(&mut self) {
        self.lua.inner.set_waker(self.old.take());
    }
}

impl<R> AsyncThread<R> {
    /// Resumes the coroutine once: `Ok(None)` if it is waiting for a Rust future.
    fn step(&mut self, cx: &mut Context<'_>) -> Result<Option<MultiValue>> {
        let lua = self.thread.0.lua()?;
        let args = match self.args.take() {
            Some(a) => a?,
            None => MultiValue::new(),
        };
        let _g = WakerGuard::new(&lua, cx.waker());
        let values: MultiValue = self.thread.resume(args)?;
        if values.len() == 1 && matches!(values[0], Value::LightUserData(p) if p == pending_marker()) {
            return Ok(None);
        }
        Ok(Some(values))
    }
}

impl<R: FromLuaMulti> Future for AsyncThread<R> {
    type Output = Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        let this = self.get_mut();
        if this.args.is_none() && this.thread.status() != ThreadStatus::Resumable {
            return Poll::Ready(Err(Error::CoroutineUnresumable));
        }
        match this.step(cx) {
            Err(e) => Poll::Ready(Err(e)),
            Ok(None) => Poll::Pending,
            Ok(Some(values)) => {
                if this.thread.status() == ThreadStatus::Resumable {
                    // It yielded values of its own: a future only wants the end.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                let lua = match this.thread.0.lua() {
                    Ok(l) => l,
                    Err(e) => return Poll::Ready(Err(e)),
                };
                Poll::Ready(R::from_lua_multi(values, &lua))
            }
        }
    }
}

impl<R: FromLuaMulti> Stream for AsyncThread<R> {
    type Item = Result<R>;

    /// Each value the coroutine yields (and then what it returns), until it ends.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<R>>> {
        let this = self.get_mut();
        if this.args.is_none() && this.thread.status() != ThreadStatus::Resumable {
            return Poll::Ready(None);
        }
        match this.step(cx) {
            Err(e) => Poll::Ready(Some(Err(e))),
            Ok(None) => Poll::Pending,
            Ok(Some(values)) => {
                let lua = match this.thread.0.lua() {
                    Ok(l) => l,
                    Err(e) => return Poll::Ready(Some(Err(e))),
                };
                Poll::Ready(Some(R::from_lua_multi(values, &lua)))
            }
        }
    }
}
