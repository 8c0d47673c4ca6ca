//! Lua functions (Lua closures and Rust callbacks alike).

use std::ffi::c_void;
use std::fmt;

use moonbox_engine::vm::{LResult, Vm, EXTRA_STACK};
use moonbox_engine::Value as Raw;

use crate::conv::{FromLuaMulti, IntoLua, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::lua::StackGuard;
use crate::state::Lua;
use crate::sync::XRc;
use crate::types::MaybeSend;
use crate::value::{Ref, Value};
use crate::Table;

/// A handle to a Lua function.
///
/// ```
/// use moonbox::{Function, Lua};
///
/// let lua = Lua::new();
/// let add: Function = lua.load("function(a, b) return a + b end").eval()?;
/// assert_eq!(add.call::<i32>((2, 3))?, 5);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone)]
pub struct Function(pub(crate) XRc<Ref>);

/// What the debug interface knows about a function (see [`Function::info`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FunctionInfo {
    /// A name for the function, when one is known (never, for a function value).
    pub name: Option<String>,
    /// What `name` is (`global`, `local`, `method`, `field`, ...).
    pub name_what: Option<&'static str>,
    /// `"Lua"`, `"C"` (a Rust or builtin function) or `"main"` (a chunk).
    pub what: &'static str,
    /// The chunk name the function was defined in.
    pub source: Option<String>,
    /// A printable form of `source`.
    pub short_src: Option<String>,
    /// The line where the definition starts.
    pub line_defined: Option<usize>,
    /// The line where the definition ends.
    pub last_line_defined: Option<usize>,
    /// The number of upvalues.
    pub num_upvalues: u8,
}

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
    pub fn call<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> Result<R> {
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
    /// assert_eq!(ten_minus.call::<i32>(3)?, 7);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn bind(&self, args: impl IntoLuaMulti) -> Result<Function> {
        let lua = self.0.lua()?;
        let f = self.0.raw_for(&lua.inner)?;
        let inner = &lua.inner;
        let g = StackGuard::new(inner)?;
        let at = g.base();
        let n = args.push_into_stack_multi(&lua)?;
        if n > 250 {
            return Err(Error::BindError);
        }
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

    /// The environment of a Lua function (`getfenv(f)`); `None` for a Rust function.
    pub fn environment(&self) -> Option<Table> {
        let lua = self.0.lua().ok()?;
        let f = self.0.raw_for(&lua.inner).ok()?.as_lua_function()?;
        let inner = &lua.inner;
        inner.with_vm(|vm| Table(inner.make_ref(vm, f.env().to_value()))).ok()
    }

    /// Sets the environment of a Lua function (`setfenv(f, env)`); false for a Rust
    /// function, which has none.
    pub fn set_environment(&self, env: Table) -> Result<bool> {
        let lua = self.0.lua()?;
        let Some(f) = self.0.raw_for(&lua.inner)?.as_lua_function() else { return Ok(false) };
        let t = env.0.raw_for(&lua.inner)?.as_table().ok_or(Error::MismatchedLua)?;
        lua.inner.with_vm(|vm| {
            f.set_env(t);
            vm.barrier(f);
            true
        })
    }

    /// What the debug interface knows about the function.
    ///
    /// ```
    /// use moonbox::{Function, Lua};
    ///
    /// let lua = Lua::new();
    /// let f: Function = lua.load("\n\nreturn function() end").set_name("=demo").eval()?;
    /// let info = f.info();
    /// assert_eq!((info.what, info.line_defined), ("Lua", Some(3)));
    /// assert_eq!(info.short_src.as_deref(), Some("demo"));
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn info(&self) -> FunctionInfo {
        let mut info = FunctionInfo {
            name: None,
            name_what: None,
            what: "C",
            source: None,
            short_src: Some("[C]".to_string()),
            line_defined: None,
            last_line_defined: None,
            num_upvalues: 0,
        };
        let Ok(lua) = self.0.lua() else { return info };
        let Ok(raw) = self.0.raw_for(&lua.inner) else { return info };
        let _ = lua.inner.with_vm(|_| {
            if let Some(f) = raw.as_lua_function() {
                let p = f.proto;
                let src = p.chunkname.as_bytes();
                info.what = if p.linedefined == 0 { "main" } else { "Lua" };
                info.source = Some(String::from_utf8_lossy(src).into_owned());
                info.short_src = Some(moonbox_engine::compiler::chunk_id(src));
                info.line_defined = (p.linedefined != 0).then_some(p.linedefined as usize);
                info.last_line_defined = (p.linedefined != 0).then_some(p.lastlinedefined as usize);
                info.num_upvalues = f.nupvals().min(255) as u8;
            }
        });
        info
    }

    /// The function as a binary chunk (moonbox's format, which `load` verifies);
    /// empty for a Rust function.
    pub fn dump(&self, strip: bool) -> Vec<u8> {
        let Ok(lua) = self.0.lua() else { return Vec::new() };
        let Ok(raw) = self.0.raw_for(&lua.inner) else { return Vec::new() };
        lua.inner.with_vm(|vm| vm.dump_function(raw, strip).unwrap_or_default()).unwrap_or_default()
    }

    /// The function's address (for identity and printing).
    pub fn to_pointer(&self) -> *const c_void {
        self.0.to_pointer()
    }

    /// Is this a Rust function (rather than a Lua closure)?
    pub fn is_rust(&self) -> bool {
        self.0.raw.func_kind() == Some(moonbox_engine::gc::Kind::NativeFunction)
    }

    /// Wraps a Rust function taking its arguments directly (`|a: i32, b: i32| Ok(a + b)`)
    /// as something that converts into a Lua function.
    ///
    /// ```
    /// use moonbox::{Function, Lua};
    ///
    /// let lua = Lua::new();
    /// lua.globals().set("add", Function::wrap(|a: i32, b: i32| Ok(a + b)))?;
    /// assert_eq!(lua.load("add(2, 3)").eval::<i32>()?, 5);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn wrap<F, A, R>(func: F) -> impl IntoLua
    where
        F: LuaNativeFn<A, Output = Result<R>> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        WrappedFunction(move |lua: &Lua| lua.create_function(move |_, args: A| func.call(args)))
    }

    /// Like [`wrap`](Function::wrap) for an `FnMut`.
    pub fn wrap_mut<F, A, R>(func: F) -> impl IntoLua
    where
        F: LuaNativeFnMut<A, Output = Result<R>> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let mut func = func;
        WrappedFunction(move |lua: &Lua| lua.create_function_mut(move |_, args: A| func.call(args)))
    }

    /// Like [`wrap`](Function::wrap), but the function's `Result` becomes Lua values
    /// (`value` or `nil, message`) instead of an error.
    pub fn wrap_raw<F, A>(func: F) -> impl IntoLua
    where
        F: LuaNativeFn<A> + MaybeSend + 'static,
        A: FromLuaMulti,
        F::Output: IntoLuaMulti,
    {
        WrappedFunction(move |lua: &Lua| lua.create_function(move |_, args: A| Ok(func.call(args))))
    }
}

impl<T: IntoLua, E: std::fmt::Display> IntoLuaMulti for std::result::Result<T, E> {
    /// `Ok(v)` is `v`; `Err(e)` is `nil, tostring(e)` (the convention of Lua's
    /// libraries), as mlua does.
    fn into_lua_multi(self, lua: &Lua) -> Result<crate::MultiValue> {
        match self {
            Ok(v) => Ok(crate::MultiValue::from_vec(vec![v.into_lua(lua)?])),
            Err(e) => Ok(crate::MultiValue::from_vec(vec![Value::Nil, e.to_string().into_lua(lua)?])),
        }
    }
}

struct WrappedFunction<F>(F);

impl<F: FnOnce(&Lua) -> Result<Function>> IntoLua for WrappedFunction<F> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        (self.0)(lua).map(Value::Function)
    }
}

/// A Rust function that takes its Lua arguments directly (see [`Function::wrap`]).
pub trait LuaNativeFn<A: FromLuaMulti> {
    /// What it returns.
    type Output;
    /// Calls it.
    fn call(&self, args: A) -> Self::Output;
}

/// An `FnMut` that takes its Lua arguments directly (see [`Function::wrap_mut`]).
pub trait LuaNativeFnMut<A: FromLuaMulti> {
    /// What it returns.
    type Output;
    /// Calls it.
    fn call(&mut self, args: A) -> Self::Output;
}

macro_rules! impl_native_fn {
    ($($a:ident)*) => {
        impl<FN, $($a,)* R> LuaNativeFn<($($a,)*)> for FN
        where
            FN: Fn($($a),*) -> R,
            ($($a,)*): FromLuaMulti,
        {
            type Output = R;
            #[allow(non_snake_case)]
            fn call(&self, args: ($($a,)*)) -> R {
                let ($($a,)*) = args;
                self($($a),*)
            }
        }
        impl<FN, $($a,)* R> LuaNativeFnMut<($($a,)*)> for FN
        where
            FN: FnMut($($a),*) -> R,
            ($($a,)*): FromLuaMulti,
        {
            type Output = R;
            #[allow(non_snake_case)]
            fn call(&mut self, args: ($($a,)*)) -> R {
                let ($($a,)*) = args;
                self($($a),*)
            }
        }
    };
}

impl_native_fn!();
impl_native_fn!(A);
impl_native_fn!(A B);
impl_native_fn!(A B C);
impl_native_fn!(A B C D);
impl_native_fn!(A B C D E);
impl_native_fn!(A B C D E F);
impl_native_fn!(A B C D E F G);
impl_native_fn!(A B C D E F G H);

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
        f.debug_tuple("Function").field(&*self.0).finish()
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
