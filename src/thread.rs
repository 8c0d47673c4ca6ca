//! Coroutines.

use std::ffi::c_void;
use std::fmt;

use moonbox_engine::vm::CoStatus;

use crate::conv::{FromLuaMulti, IntoLua, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::lua::StackGuard;
use crate::sync::XRc;
use crate::value::Ref;
use crate::Function;

/// A coroutine's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Not started, or suspended in `coroutine.yield`: it can be resumed.
    Resumable,
    /// It is running (or it resumed another coroutine and waits for it).
    Running,
    /// It returned.
    Finished,
    /// It died with an error.
    Error,
}

/// A handle to a Lua coroutine (from [`Lua::create_thread`](crate::Lua::create_thread)
/// or from Lua's `coroutine.create`).
///
/// ```
/// use moonbox::{Lua, Thread};
///
/// let lua = Lua::new();
/// let co: Thread = lua.load("coroutine.create(function() for i = 1, 3 do coroutine.yield(i) end end)").eval()?;
/// let mut got = vec![];
/// while co.is_resumable() {
///     if let Some(i) = co.resume::<Option<i32>>(())? { got.push(i) }
/// }
/// assert_eq!(got, [1, 2, 3]);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone)]
pub struct Thread(pub(crate) XRc<Ref>, pub(crate) XRc<std::sync::atomic::AtomicBool>);

impl Thread {
    pub(crate) fn from_ref(r: XRc<Ref>) -> Thread {
        Thread(r, XRc::new(std::sync::atomic::AtomicBool::new(false)))
    }

    /// Resumes the coroutine with `args`; returns what it yields or, when it finishes,
    /// returns. An error inside the coroutine kills it and comes back as an `Err`;
    /// resuming a coroutine that is not suspended gives
    /// [`Error::CoroutineUnresumable`].
    pub fn resume<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> Result<R> {
        let lua = self.0.lua()?;
        let co = self.0.raw_for(&lua.inner)?;
        let inner = &lua.inner;
        let g = StackGuard::new(inner)?;
        let base = g.base();
        let nargs = args.push_into_stack_multi(&lua)?;
        let n = match inner.try_vm(|vm| inner.resume_at(vm, co, base, nargs)) {
            Ok(n) => n,
            Err(e) => {
                if !matches!(e, Error::CoroutineUnresumable) {
                    self.1.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                return Err(e);
            }
        };
        let r = R::from_stack_multi(base + nargs, n, &lua);
        drop(g);
        r
    }

    /// Resumes the coroutine by raising `error` where it is suspended (LuaJIT cannot
    /// do that: the coroutine is left as it is and the error is returned).
    pub fn resume_error<R: FromLuaMulti>(&self, error: impl IntoLua) -> Result<R> {
        let lua = self.0.lua()?;
        let v = error.into_lua(&lua)?;
        Err(Error::runtime(v.to_string()?))
    }

    /// The coroutine's status.
    pub fn status(&self) -> ThreadStatus {
        let Some(co) = self.0.raw.as_thread() else { return ThreadStatus::Finished };
        let Ok(lua) = self.0.lua() else { return ThreadStatus::Finished };
        let status = lua.inner.with_vm(|_| co.status()).unwrap_or(CoStatus::Running);
        match status {
            CoStatus::Suspended => ThreadStatus::Resumable,
            CoStatus::Running | CoStatus::Normal => ThreadStatus::Running,
            CoStatus::Dead if self.1.load(std::sync::atomic::Ordering::Relaxed) => ThreadStatus::Error,
            CoStatus::Dead => ThreadStatus::Finished,
        }
    }

    /// Can it be resumed?
    pub fn is_resumable(&self) -> bool {
        self.status() == ThreadStatus::Resumable
    }

    /// Is it running?
    pub fn is_running(&self) -> bool {
        self.status() == ThreadStatus::Running
    }

    /// Has it finished?
    pub fn is_finished(&self) -> bool {
        self.status() == ThreadStatus::Finished
    }

    /// Did it die with an error?
    pub fn is_error(&self) -> bool {
        self.status() == ThreadStatus::Error
    }

    /// Makes the finished coroutine run `func` afresh (not supported by LuaJIT's
    /// coroutines: fails unless the coroutine can be replaced, which it cannot).
    pub fn reset(&self, func: Function) -> Result<()> {
        let _ = func;
        Err(Error::runtime("cannot reset a coroutine in LuaJIT"))
    }

    /// The coroutine's address (for identity and printing).
    pub fn to_pointer(&self) -> *const c_void {
        self.0.to_pointer()
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Thread").field(&*self.0).finish()
    }
}

impl PartialEq for Thread {
    /// Identity.
    fn eq(&self, o: &Thread) -> bool {
        self.0.lua_id == o.0.lua_id && self.0.raw == o.0.raw
    }
}
