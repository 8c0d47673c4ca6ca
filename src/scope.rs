//! [`Lua::scope`]: callbacks that borrow from the Rust stack, for a while.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;

use parking_lot::ReentrantMutex;

use crate::conv::{FromLuaMulti, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::lua::CallbackFn;
use crate::state::Lua;
use crate::types::{MaybeSend, MaybeSync, XRefCell};
use crate::userdata::{AnyUserData, UserData};
use crate::Function;

/// A scoped callback: the closure, with its lifetime erased, until the scope ends.
/// (Reentrant: a scoped function may be called again from Lua while it runs.)
type Slot = Arc<ReentrantMutex<RefCell<Option<Box<CallbackFn>>>>>;

/// A scoped callback before its lifetime is erased.
#[cfg(not(feature = "send"))]
type ScopedFn<'a> = dyn Fn(&Lua, usize, usize) -> Result<usize> + 'a;
#[cfg(feature = "send")]
type ScopedFn<'a> = dyn Fn(&Lua, usize, usize) -> Result<usize> + Send + 'a;

/// What [`Lua::scope`] lends to its closure: functions and userdata made through it
/// may borrow from the Rust stack (`'env`), and stop working when the scope ends
/// (calling them then is [`Error::CallbackDestructed`]).
pub struct Scope<'scope, 'env: 'scope> {
    lua: Lua,
    state: ScopeState<'env>,
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

/// What the scope clears when it ends (a field with `Drop`, so that `Scope` itself has
/// none and may be borrowed for `'scope`).
struct ScopeState<'env> {
    slots: RefCell<Vec<Slot>>,
    destructors: RefCell<Vec<Box<dyn FnOnce() + 'env>>>,
}

impl<'scope, 'env: 'scope> Scope<'scope, 'env> {
    /// A Lua function calling `func`, which may borrow from the enclosing Rust frame.
    pub fn create_function<F, A, R>(&'scope self, func: F) -> Result<Function>
    where
        F: Fn(&Lua, A) -> Result<R> + MaybeSend + 'scope,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.create_scoped_callback(Box::new(move |lua, base, nargs| {
            let args = A::from_stack_args(base, nargs, 1, lua)?;
            func(lua, args)?.push_into_stack_multi(lua)
        }))
    }

    /// Like [`create_function`](Scope::create_function) for an `FnMut`.
    pub fn create_function_mut<F, A, R>(&'scope self, func: F) -> Result<Function>
    where
        F: FnMut(&Lua, A) -> Result<R> + MaybeSend + 'scope,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let func = XRefCell::new(func);
        self.create_function(move |lua, args| {
            let mut f = func.try_borrow_mut().ok_or(Error::RecursiveMutCallback)?;
            (*f)(lua, args)
        })
    }

    /// A userdata whose value is dropped when the scope ends (its methods then fail
    /// with [`Error::UserDataDestructed`]).
    pub fn create_userdata<T: UserData + MaybeSend + MaybeSync + 'static>(
        &'scope self,
        data: T,
    ) -> Result<AnyUserData> {
        let ud = self.lua.create_userdata(data)?;
        let u = ud.clone();
        self.add_destructor(move || drop(u.take::<T>()));
        Ok(ud)
    }

    /// Like [`create_userdata`](Scope::create_userdata) for any `'static` value.
    pub fn create_any_userdata<T: MaybeSend + MaybeSync + 'static>(&'scope self, data: T) -> Result<AnyUserData> {
        let ud = self.lua.create_any_userdata(data)?;
        let u = ud.clone();
        self.add_destructor(move || drop(u.take::<T>()));
        Ok(ud)
    }

    /// Runs `destructor` when the scope ends (after the scoped callbacks are gone).
    pub fn add_destructor(&'scope self, destructor: impl FnOnce() + 'env) {
        self.state.destructors.borrow_mut().push(Box::new(destructor));
    }

    fn create_scoped_callback(&'scope self, f: Box<ScopedFn<'scope>>) -> Result<Function> {
        // SAFETY: only the lifetime changes (same vtable and layout). The closure is
        // reachable only through `slot`, which `ScopeState::drop` empties when the
        // scope ends (before `'scope` does), also on unwinding; calls read the slot
        // under its lock and report `CallbackDestructed` once it is empty. So the
        // closure is never called, nor dropped, after what it borrows is gone.
        let f: Box<CallbackFn> = unsafe { std::mem::transmute::<Box<ScopedFn<'scope>>, Box<CallbackFn>>(f) };
        // An `Arc` in every build, so that the `send` build shares this code.
        #[allow(clippy::arc_with_non_send_sync)]
        let slot: Slot = Arc::new(ReentrantMutex::new(RefCell::new(Some(f))));
        self.state.slots.borrow_mut().push(slot.clone());
        self.lua.create_callback(Box::new(move |lua, base, nargs| {
            let g = slot.lock();
            let f = g.try_borrow().map_err(|_| Error::CallbackDestructed)?;
            match &*f {
                Some(f) => f(lua, base, nargs),
                None => Err(Error::CallbackDestructed),
            }
        }))
    }
}

impl Drop for ScopeState<'_> {
    fn drop(&mut self) {
        for slot in self.slots.get_mut().drain(..) {
            // Never contended: the scope ends in the frame that made it, after its
            // callbacks returned (another thread waits for the state's lock, held by
            // this one during the scope's calls).
            let g = slot.lock();
            let taken = match g.try_borrow_mut() {
                Ok(mut f) => f.take(),
                Err(_) => std::process::abort(),
            };
            drop(g);
            drop(taken);
        }
        for d in self.destructors.get_mut().drain(..) {
            d();
        }
    }
}

impl Lua {
    /// Runs `f` with a [`Scope`] whose functions and userdata may borrow from the
    /// current Rust frame; they stop working when `f` returns.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let mut total = 0;
    /// lua.scope(|scope| {
    ///     let add = scope.create_function_mut(|_, n: i32| { total += n; Ok(()) })?;
    ///     lua.globals().set("add", add)?;
    ///     lua.load("add(1) add(2) add(3)").exec()
    /// })?;
    /// assert_eq!(total, 6);
    /// assert!(lua.load("add(4)").exec().is_err());
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn scope<'env, R>(&self, f: impl for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> Result<R>) -> Result<R> {
        let scope = Scope {
            lua: self.clone(),
            state: ScopeState { slots: RefCell::new(Vec::new()), destructors: RefCell::new(Vec::new()) },
            _scope: PhantomData,
            _env: PhantomData,
        };
        f(&scope)
    }
}
