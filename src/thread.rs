//! Coroutines.

use std::fmt;
use std::rc::Rc;

use moonbox_engine::vm::CoStatus;

use crate::conv::{FromLuaMulti, IntoLuaMulti};
use crate::error::Result;
use crate::lua::StackGuard;
use crate::value::Ref;

/// A coroutine's state, as `coroutine.status` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Not started, or suspended in `coroutine.yield`: it can be resumed.
    Resumable,
    /// It is the running coroutine.
    Running,
    /// It resumed another coroutine and waits for it.
    Normal,
    /// It returned or died with an error.
    Finished,
}

/// A handle to a Lua coroutine (from [`Lua::create_thread`](crate::Lua::create_thread)
/// or from Lua's `coroutine.create`).
///
/// A Rust callback cannot yield; Lua code in a coroutine can call Rust callbacks
/// freely between yields.
///
/// ```
/// use moonbox::{Lua, Thread};
///
/// let lua = Lua::new();
/// let co: Thread = lua.load("coroutine.create(function() for i = 1, 3 do coroutine.yield(i) end end)").eval()?;
/// let mut got = vec![];
/// while co.is_resumable() {
///     if let Some(i) = co.resume::<_, Option<i32>>(())? { got.push(i) }
/// }
/// assert_eq!(got, [1, 2, 3]);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone)]
pub struct Thread(pub(crate) Rc<Ref>);

impl Thread {
    /// Resumes the coroutine with `args`; returns what it yields or, when it finishes,
    /// returns. An error inside the coroutine kills it and comes back as an `Err`;
    /// resuming a coroutine that is not suspended gives
    /// [`Error::CoroutineUnresumable`](crate::Error::CoroutineUnresumable).
    pub fn resume<A: IntoLuaMulti, R: FromLuaMulti>(&self, args: A) -> Result<R> {
        let lua = self.0.lua()?;
        let co = self.0.raw_for(&lua.inner)?;
        let inner = &lua.inner;
        let g = StackGuard::new(inner)?;
        let base = g.base();
        let nargs = args.push_into_stack_multi(&lua)?;
        let n = inner.with_vm(|vm| inner.resume_at(vm, co, base, nargs))??;
        let r = R::from_stack_multi(base + nargs, n, &lua);
        drop(g);
        r
    }

    /// The coroutine's status.
    pub fn status(&self) -> ThreadStatus {
        let Some(co) = self.0.raw.as_thread() else { return ThreadStatus::Finished };
        let Ok(lua) = self.0.lua() else { return ThreadStatus::Finished };
        let status = lua.inner.with_vm(|_| co.status()).unwrap_or(CoStatus::Running);
        match status {
            CoStatus::Suspended => ThreadStatus::Resumable,
            CoStatus::Running => ThreadStatus::Running,
            CoStatus::Normal => ThreadStatus::Normal,
            CoStatus::Dead => ThreadStatus::Finished,
        }
    }

    /// Can it be resumed?
    pub fn is_resumable(&self) -> bool {
        self.status() == ThreadStatus::Resumable
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thread({:?})", self.0)
    }
}

impl PartialEq for Thread {
    /// Identity.
    fn eq(&self, o: &Thread) -> bool {
        self.0.lua_id == o.0.lua_id && self.0.raw == o.0.raw
    }
}
