//! Lua functions (Lua closures and Rust callbacks alike).

use std::fmt;
use std::rc::Rc;

use moonbox_engine::vm::{LResult, Vm, EXTRA_STACK};
use moonbox_engine::Value as Raw;

use crate::conv::{FromLuaMulti, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::lua::StackGuard;
use crate::value::Ref;

/// A handle to a Lua function.
///
/// ```
/// use moonbox::{Function, Lua};
///
/// let lua = Lua::new();
/// let add: Function = lua.load("function(a, b) return a + b end").eval()?;
/// assert_eq!(add.call::<_, i32>((2, 3))?, 5);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone)]
pub struct Function(pub(crate) Rc<Ref>);

impl Function {
    /// Calls the function. Errors raised in Lua come back as [`Error`]s; the budget,
    /// cancellation and memory limits apply.
    ///
    /// ```
    /// use moonbox::{Function, Lua, Variadic};
    ///
    /// let lua = Lua::new();
    /// let f: Function = lua.load("function(...) return select('#', ...), ... end").eval()?;
    /// let (n, rest): (usize, Variadic<String>) = f.call(("a", "b"))?;
    /// assert_eq!((n, rest.len()), (2, 2));
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn call<A: IntoLuaMulti, R: FromLuaMulti>(&self, args: A) -> Result<R> {
        let lua = self.0.lua()?;
        let f = self.0.raw_for(&lua.inner)?;
        let inner = &lua.inner;
        let g = StackGuard::with_pushed(inner, f)?;
        let func = g.base();
        let nargs = args.push_into_stack_multi(&lua)?;
        let n = inner.try_vm(|vm| inner.call_at(vm, func, nargs))?;
        let r = R::from_stack_multi(func, n, &lua);
        drop(g);
        r
    }

    /// A new function that calls this one with `args` before its own arguments.
    ///
    /// ```
    /// use moonbox::{Function, Lua};
    ///
    /// let lua = Lua::new();
    /// let sub: Function = lua.load("function(a, b) return a - b end").eval()?;
    /// let ten_minus = sub.bind(10)?;
    /// assert_eq!(ten_minus.call::<_, i32>(3)?, 7);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn bind<A: IntoLuaMulti>(&self, args: A) -> Result<Function> {
        let lua = self.0.lua()?;
        let f = self.0.raw_for(&lua.inner)?;
        let inner = &lua.inner;
        let g = StackGuard::new(inner)?;
        let at = g.base();
        let n = args.push_into_stack_multi(&lua)?;
        inner.with_vm(|vm| {
            inner.check_memory(vm)?;
            let mut up = Vec::with_capacity(n + 2);
            up.push(Raw::number(n as f64));
            up.push(f);
            up.extend_from_slice(vm.slots(at..at + n));
            let b = vm.native_closure(bound_call, "?", up);
            Ok(Function(inner.make_ref(vm, b)))
        })?
    }

    /// Is this a Rust function (rather than a Lua closure)?
    pub fn is_rust(&self) -> bool {
        self.0.raw.func_kind() == Some(moonbox_engine::gc::Kind::NativeFunction)
    }
}

/// The native behind `bind`: upvalues are `[n, f, a1 .. an]`.
fn bound_call(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let n = vm.native_upval(0).as_number().unwrap_or(0.0) as usize;
    let f = vm.native_upval(1);
    let func = vm.top();
    vm.ensure_stack(func + 1 + n + nargs + EXTRA_STACK)?;
    vm.set_slot(func, f)?;
    for i in 0..n {
        let v = vm.native_upval(2 + i);
        vm.set_slot(func + 1 + i, v)?;
    }
    vm.copy_slots(base..base + nargs, func + 1 + n)?;
    vm.set_top(func + 1 + n + nargs);
    vm.call_at(func, n + nargs, -1)
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function({:?})", self.0)
    }
}

impl PartialEq for Function {
    /// Identity.
    fn eq(&self, o: &Function) -> bool {
        self.0.lua_id == o.0.lua_id && self.0.raw == o.0.raw
    }
}

#[allow(dead_code)]
fn _assert_error_is_send_sync() {
    fn f<T: Send + Sync>() {}
    f::<Error>();
}
