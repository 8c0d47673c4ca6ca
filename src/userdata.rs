//! Rust values inside Lua: full userdata with methods, fields and metamethods.
//!
//! A type opts in by implementing [`UserData`], registering its methods and fields in
//! `add_methods` / `add_fields` (mlua's shape). Each Rust type gets one metatable per
//! state, built the first time a value of the type is created. The value lives in an
//! `Arc<RwLock<Option<T>>>`: methods borrow it for the duration of the call (`&T` for
//! [`add_method`](UserDataMethods::add_method), `&mut T` for
//! [`add_method_mut`](UserDataMethods::add_method_mut)), a conflicting borrow is an
//! error ([`Error::UserDataBorrowError`], [`Error::UserDataBorrowMutError`]), never a
//! panic or a deadlock. [`UserDataRef`] and [`UserDataRefMut`] are owned borrows, so
//! they can be callback arguments and live across an `.await`. The value is dropped
//! when the Lua object is collected and no borrow of it is left.

use std::any::TypeId;
use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use moonbox_engine::gc::GcRef;
use moonbox_engine::object::Table as RawTable;
use moonbox_engine::vm::{LResult, Vm};
use moonbox_engine::Value as Raw;
use parking_lot::{ArcRwLockReadGuard, ArcRwLockWriteGuard, RawRwLock, RwLock};

use crate::conv::{bad_argument, FromLua, FromLuaMulti, IntoLua, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::lua::{CallbackFn, Inner, NoUnwind, StackGuard};
use crate::state::Lua;
use crate::sync::XRc;
use crate::types::{AnyBox, MaybeSend, MaybeSync, XRefCell};
use crate::value::{Ref, Value};
use crate::{Function, Table};

/// How a userdata's value is kept: shared with owned borrows, taken out by
/// [`AnyUserData::take`].
pub(crate) type UdCell<T> = Arc<RwLock<Option<T>>>;

/// A shared borrow of a userdata's value: a callback argument (`UserDataRef<T>`) or
/// what [`AnyUserData::borrow`] returns. While it lives, the value cannot be borrowed
/// mutably.
pub struct UserDataRef<T: 'static> {
    guard: ArcRwLockReadGuard<RawRwLock, Option<T>>,
}

impl<T: 'static> Deref for UserDataRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &*self.guard {
            Some(v) => v,
            None => unreachable!("a borrow is only made of a present value, which cannot be taken while borrowed"),
        }
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for UserDataRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: fmt::Display + 'static> fmt::Display for UserDataRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// A mutable borrow of a userdata's value (see [`UserDataRef`]).
pub struct UserDataRefMut<T: 'static> {
    guard: ArcRwLockWriteGuard<RawRwLock, Option<T>>,
}

impl<T: 'static> Deref for UserDataRefMut<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &*self.guard {
            Some(v) => v,
            None => unreachable!("a borrow is only made of a present value, which cannot be taken while borrowed"),
        }
    }
}

impl<T: 'static> DerefMut for UserDataRefMut<T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut *self.guard {
            Some(v) => v,
            None => unreachable!("a borrow is only made of a present value, which cannot be taken while borrowed"),
        }
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for UserDataRefMut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

fn borrow_cell<T: 'static>(cell: &UdCell<T>) -> Result<UserDataRef<T>> {
    let guard = cell.try_read_arc().ok_or(Error::UserDataBorrowError)?;
    if guard.is_none() {
        return Err(Error::UserDataDestructed);
    }
    Ok(UserDataRef { guard })
}

fn borrow_cell_mut<T: 'static>(cell: &UdCell<T>) -> Result<UserDataRefMut<T>> {
    let guard = cell.try_write_arc().ok_or(Error::UserDataBorrowMutError)?;
    if guard.is_none() {
        return Err(Error::UserDataDestructed);
    }
    Ok(UserDataRefMut { guard })
}

/// A Rust type that Lua code can hold and call methods on.
///
/// ```
/// use moonbox::{Lua, MetaMethod, UserData, UserDataFields, UserDataMethods};
///
/// struct Counter { n: i64 }
///
/// impl UserData for Counter {
///     fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
///         fields.add_field_method_get("n", |_, this| Ok(this.n));
///     }
///     fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
///         methods.add_method_mut("add", |_, this, k: i64| { this.n += k; Ok(this.n) });
///         methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(format!("Counter({})", this.n)));
///     }
/// }
///
/// let lua = Lua::new();
/// lua.globals().set("c", Counter { n: 1 })?;
/// let s: String = lua.load("c:add(41) return tostring(c) .. ' ' .. c.n").eval()?;
/// assert_eq!(s, "Counter(42) 42");
/// # Ok::<(), moonbox::Error>(())
/// ```
pub trait UserData: Sized {
    /// Registers fields (properties read and written as `ud.name`).
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        let _ = fields;
    }
    /// Registers methods (called as `ud:name(...)`) and metamethods.
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        let _ = methods;
    }
    /// Registers everything (by default: `add_fields`, then `add_methods`).
    fn register(registry: &mut UserDataRegistry<Self>)
    where
        Self: 'static,
    {
        Self::add_fields(registry);
        Self::add_methods(registry);
    }
}

/// The metamethods a userdata type can define (Lua 5.1's and LuaJIT's set; `__gc` is
/// the Rust value's `Drop`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetaMethod {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `a % b`
    Mod,
    /// `a ^ b`
    Pow,
    /// `-a`
    Unm,
    /// `a .. b`
    Concat,
    /// `#a`
    Len,
    /// `a == b` (both operands must be userdata with the same `__eq`)
    Eq,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a[k]` for keys that are neither methods nor fields
    Index,
    /// `a[k] = v` for keys that are not fields
    NewIndex,
    /// `a(...)`
    Call,
    /// `tostring(a)`
    ToString,
    /// The type name (`__name`), used by `Debug` and error messages.
    #[doc(hidden)]
    Type,
}

impl MetaMethod {
    /// The metatable key, e.g. `"__add"`.
    pub const fn name(self) -> &'static str {
        match self {
            MetaMethod::Add => "__add",
            MetaMethod::Sub => "__sub",
            MetaMethod::Mul => "__mul",
            MetaMethod::Div => "__div",
            MetaMethod::Mod => "__mod",
            MetaMethod::Pow => "__pow",
            MetaMethod::Unm => "__unm",
            MetaMethod::Concat => "__concat",
            MetaMethod::Len => "__len",
            MetaMethod::Eq => "__eq",
            MetaMethod::Lt => "__lt",
            MetaMethod::Le => "__le",
            MetaMethod::Index => "__index",
            MetaMethod::NewIndex => "__newindex",
            MetaMethod::Call => "__call",
            MetaMethod::ToString => "__tostring",
            MetaMethod::Type => "__name",
        }
    }

    /// Refuses the metatable keys the facade owns.
    fn validate(name: &str) -> Result<&str> {
        match name {
            "__gc" | "__metatable" => Err(Error::MetaMethodRestricted(name.to_string())),
            _ if name.starts_with("__moonbox") => Err(Error::MetaMethodRestricted(name.to_string())),
            _ => Ok(name),
        }
    }
}

impl fmt::Display for MetaMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<MetaMethod> for String {
    fn from(m: MetaMethod) -> String {
        m.name().to_string()
    }
}

impl AsRef<str> for MetaMethod {
    fn as_ref(&self) -> &str {
        self.name()
    }
}

impl PartialEq<MetaMethod> for &str {
    fn eq(&self, other: &MetaMethod) -> bool {
        *self == other.name()
    }
}

impl PartialEq<MetaMethod> for String {
    fn eq(&self, other: &MetaMethod) -> bool {
        self == other.name()
    }
}

impl IntoLua for MetaMethod {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        self.name().into_lua(lua)
    }
}

/// Registers the methods and metamethods of a [`UserData`] type.
///
/// In every method, `self` is argument 1 (what `ud:method(...)` passes); calling a
/// method on a value of another type is a "bad argument" error. For binary
/// metamethods whose userdata operand may come second (`2 * v`), use
/// [`add_meta_function`](UserDataMethods::add_meta_function) and take both operands.
pub trait UserDataMethods<T> {
    /// A method borrowing the value: `ud:name(args)`.
    fn add_method<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A method borrowing the value mutably.
    fn add_method_mut<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// An async method borrowing the value for as long as its future runs.
    #[cfg(feature = "async")]
    fn add_async_method<M, A, MR, R>(&mut self, name: impl Into<String>, method: M)
    where
        T: 'static,
        M: Fn(Lua, UserDataRef<T>, A) -> MR + MaybeSend + 'static,
        A: FromLuaMulti,
        MR: std::future::Future<Output = Result<R>> + MaybeSend + 'static,
        R: IntoLuaMulti;

    /// An async method borrowing the value mutably for as long as its future runs.
    #[cfg(feature = "async")]
    fn add_async_method_mut<M, A, MR, R>(&mut self, name: impl Into<String>, method: M)
    where
        T: 'static,
        M: Fn(Lua, UserDataRefMut<T>, A) -> MR + MaybeSend + 'static,
        A: FromLuaMulti,
        MR: std::future::Future<Output = Result<R>> + MaybeSend + 'static,
        R: IntoLuaMulti;

    /// A plain function stored with the methods: `ud.name(args)` (no `self`).
    fn add_function<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A plain `FnMut` stored with the methods.
    fn add_function_mut<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// An async function stored with the methods.
    #[cfg(feature = "async")]
    fn add_async_function<F, A, FR, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(Lua, A) -> FR + MaybeSend + 'static,
        A: FromLuaMulti,
        FR: std::future::Future<Output = Result<R>> + MaybeSend + 'static,
        R: IntoLuaMulti;

    /// A metamethod borrowing the value (which must be the first operand). `name` is
    /// a [`MetaMethod`] or a `"__name"` string.
    fn add_meta_method<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A metamethod borrowing the value mutably.
    fn add_meta_method_mut<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A metamethod taking all its operands as arguments.
    fn add_meta_function<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A metamethod `FnMut` taking all its operands as arguments.
    fn add_meta_function_mut<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
}

/// Registers the fields (properties) of a [`UserData`] type.
pub trait UserDataFields<T> {
    /// A constant field shared by all values of the type (`ud.name`).
    fn add_field<V>(&mut self, name: impl Into<String>, value: V)
    where
        V: IntoLua + 'static;

    /// A readable field: `ud.name` calls `getter`.
    fn add_field_method_get<M, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: Fn(&Lua, &T) -> Result<R> + MaybeSend + 'static,
        R: IntoLua;

    /// A writable field: `ud.name = v` calls `setter`.
    fn add_field_method_set<M, A>(&mut self, name: impl Into<String>, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<()> + MaybeSend + 'static,
        A: FromLua;

    /// A readable field whose getter gets the userdata handle.
    fn add_field_function_get<F, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(&Lua, AnyUserData) -> Result<R> + MaybeSend + 'static,
        R: IntoLua;

    /// A writable field whose setter gets the userdata handle.
    fn add_field_function_set<F, A>(&mut self, name: impl Into<String>, function: F)
    where
        F: FnMut(&Lua, AnyUserData, A) -> Result<()> + MaybeSend + 'static,
        A: FromLua;

    /// A metatable entry (`__name`, `__index` as a table, ...).
    fn add_meta_field<V>(&mut self, name: impl Into<String>, value: V)
    where
        V: IntoLua + 'static;

    /// A metatable entry computed when the metatable is built.
    fn add_meta_field_with<F, R>(&mut self, name: impl Into<String>, f: F)
    where
        F: FnOnce(&Lua) -> Result<R> + 'static,
        R: IntoLua;
}

type StaticField = Box<dyn FnOnce(&Lua) -> Result<Value>>;

/// Collects a type's registrations (what [`UserData::register`] fills); turned into a
/// metatable once per state.
pub struct UserDataRegistry<T> {
    methods: Vec<(String, Box<CallbackFn>)>,
    meta: Vec<(String, Box<CallbackFn>)>,
    getters: Vec<(String, Box<CallbackFn>)>,
    setters: Vec<(String, Box<CallbackFn>)>,
    statics: Vec<(String, StaticField)>,
    meta_fields: Vec<(String, StaticField)>,
    #[cfg(feature = "async")]
    async_methods: Vec<(String, crate::asyncs::AsyncCallbackFn)>,
    _p: PhantomData<fn(T)>,
}

impl<T> UserDataRegistry<T> {
    fn new() -> UserDataRegistry<T> {
        UserDataRegistry {
            methods: vec![],
            meta: vec![],
            getters: vec![],
            setters: vec![],
            statics: vec![],
            meta_fields: vec![],
            #[cfg(feature = "async")]
            async_methods: vec![],
            _p: PhantomData,
        }
    }
}

/// What a userdata object made by this facade carries.
pub(crate) struct UdPayload {
    /// A `UdCell<T>`.
    pub(crate) cell: AnyBox,
    type_id: TypeId,
    type_name: &'static str,
    /// Takes the value out of `cell` (for [`AnyUserData::destroy`]).
    take: fn(&AnyBox) -> Result<AnyBox>,
    /// Makes a serializer of the value (serializable userdata only).
    #[cfg(feature = "serde")]
    pub(crate) ser: Option<crate::serde::SerFn>,
}

fn take_any<T: MaybeSend + MaybeSync + 'static>(cell: &AnyBox) -> Result<AnyBox> {
    let cell = cell.downcast_ref::<UdCell<T>>().ok_or(Error::UserDataTypeMismatch)?;
    let v = cell.try_write().ok_or(Error::UserDataBorrowMutError)?.take().ok_or(Error::UserDataDestructed)?;
    Ok(Box::new(v))
}

fn with_payload<R>(raw: Raw, f: impl FnOnce(&UdPayload) -> R) -> Option<R> {
    let u = raw.as_userdata()?;
    let p = u.data()?.downcast_ref::<NoUnwind<UdPayload>>()?.get()?;
    Some(f(p))
}

/// The cell of a userdata of type `T` at `raw`.
fn cell_of<T: 'static>(raw: Raw) -> Result<UdCell<T>> {
    with_payload(raw, |p| p.cell.downcast_ref::<UdCell<T>>().cloned()).flatten().ok_or(Error::UserDataTypeMismatch)
}

/// The last part of a type's path (`Vec2` for `crate::geo::Vec2`).
fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let start = base.rfind("::").map(|i| i + 2).unwrap_or(0);
    &full[start..]
}

/// The value of `self` (argument 1) of a method.
fn self_cell<T: 'static>(lua: &Lua, base: usize, nargs: usize, method: &str) -> Result<UdCell<T>> {
    let found = if nargs == 0 {
        Err(Error::from_lua_conversion("nil", "userdata", None))
    } else {
        lua.inner.with_vm(|vm| {
            let raw = vm.slot(base);
            if raw.as_userdata().is_none() {
                return Err(Error::from_lua_conversion(raw.type_name(), "userdata", None));
            }
            cell_of::<T>(raw)
        })?
    };
    found.map_err(|e| Error::bad_self_argument(method, e))
}

fn method_callback<T: 'static, A: FromLuaMulti, R: IntoLuaMulti>(
    name: String,
    f: impl Fn(&Lua, &T, A) -> Result<R> + MaybeSend + 'static,
) -> Box<CallbackFn> {
    Box::new(move |lua, base, nargs| {
        let cell = self_cell::<T>(lua, base, nargs, &name)?;
        let args = A::from_stack_args(base + 1, nargs.saturating_sub(1), 2, lua)?;
        let this = cell.try_read().ok_or_else(|| Error::bad_self_argument(&name, Error::UserDataBorrowError))?;
        let Some(v) = this.as_ref() else {
            return Err(Error::bad_self_argument(&name, Error::UserDataDestructed));
        };
        let r = f(lua, v, args)?;
        drop(this);
        r.push_into_stack_multi(lua)
    })
}

fn method_mut_callback<T: 'static, A: FromLuaMulti, R: IntoLuaMulti>(
    name: String,
    f: impl FnMut(&Lua, &mut T, A) -> Result<R> + MaybeSend + 'static,
) -> Box<CallbackFn> {
    let f = XRefCell::new(f);
    Box::new(move |lua, base, nargs| {
        let cell = self_cell::<T>(lua, base, nargs, &name)?;
        let args = A::from_stack_args(base + 1, nargs.saturating_sub(1), 2, lua)?;
        let mut f = f.try_borrow_mut().ok_or(Error::RecursiveMutCallback)?;
        let mut this =
            cell.try_write().ok_or_else(|| Error::bad_self_argument(&name, Error::UserDataBorrowMutError))?;
        let Some(v) = this.as_mut() else {
            return Err(Error::bad_self_argument(&name, Error::UserDataDestructed));
        };
        let r = (*f)(lua, v, args)?;
        drop(this);
        r.push_into_stack_multi(lua)
    })
}

fn function_callback<A: FromLuaMulti, R: IntoLuaMulti>(
    f: impl Fn(&Lua, A) -> Result<R> + MaybeSend + 'static,
) -> Box<CallbackFn> {
    Box::new(move |lua, base, nargs| {
        let args = A::from_stack_args(base, nargs, 1, lua)?;
        f(lua, args)?.push_into_stack_multi(lua)
    })
}

fn function_mut_callback<A: FromLuaMulti, R: IntoLuaMulti>(
    f: impl FnMut(&Lua, A) -> Result<R> + MaybeSend + 'static,
) -> Box<CallbackFn> {
    let f = XRefCell::new(f);
    function_callback(move |lua, args| {
        let mut f = f.try_borrow_mut().ok_or(Error::RecursiveMutCallback)?;
        (*f)(lua, args)
    })
}

impl<T: 'static> UserDataMethods<T> for UserDataRegistry<T> {
    fn add_method<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.into();
        let full = format!("{}.{name}", short_type_name::<T>());
        self.methods.push((name, method_callback(full, method)));
    }

    fn add_method_mut<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.into();
        let full = format!("{}.{name}", short_type_name::<T>());
        self.methods.push((name, method_mut_callback(full, method)));
    }

    #[cfg(feature = "async")]
    fn add_async_method<M, A, MR, R>(&mut self, name: impl Into<String>, method: M)
    where
        T: 'static,
        M: Fn(Lua, UserDataRef<T>, A) -> MR + MaybeSend + 'static,
        A: FromLuaMulti,
        MR: std::future::Future<Output = Result<R>> + MaybeSend + 'static,
        R: IntoLuaMulti,
    {
        let name = name.into();
        let full = format!("{}.{name}", short_type_name::<T>());
        let f = crate::asyncs::async_method::<T, _, _, _, _>(full, move |lua, cell, args| {
            let this = borrow_cell(&cell);
            let fut = this.map(|this| method(lua, this, args));
            async move { fut?.await }
        });
        self.async_methods.push((name, f));
    }

    #[cfg(feature = "async")]
    fn add_async_method_mut<M, A, MR, R>(&mut self, name: impl Into<String>, method: M)
    where
        T: 'static,
        M: Fn(Lua, UserDataRefMut<T>, A) -> MR + MaybeSend + 'static,
        A: FromLuaMulti,
        MR: std::future::Future<Output = Result<R>> + MaybeSend + 'static,
        R: IntoLuaMulti,
    {
        let name = name.into();
        let full = format!("{}.{name}", short_type_name::<T>());
        let f = crate::asyncs::async_method::<T, _, _, _, _>(full, move |lua, cell, args| {
            let this = borrow_cell_mut(&cell);
            let fut = this.map(|this| method(lua, this, args));
            async move { fut?.await }
        });
        self.async_methods.push((name, f));
    }

    fn add_function<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.methods.push((name.into(), function_callback(function)));
    }

    fn add_function_mut<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.methods.push((name.into(), function_mut_callback(function)));
    }

    #[cfg(feature = "async")]
    fn add_async_function<F, A, FR, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(Lua, A) -> FR + MaybeSend + 'static,
        A: FromLuaMulti,
        FR: std::future::Future<Output = Result<R>> + MaybeSend + 'static,
        R: IntoLuaMulti,
    {
        self.async_methods.push((name.into(), crate::asyncs::async_function(function)));
    }

    fn add_meta_method<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.into();
        let full = format!("{}.{name}", short_type_name::<T>());
        self.meta.push((name, method_callback(full, method)));
    }

    fn add_meta_method_mut<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.into();
        let full = format!("{}.{name}", short_type_name::<T>());
        self.meta.push((name, method_mut_callback(full, method)));
    }

    fn add_meta_function<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.meta.push((name.into(), function_callback(function)));
    }

    fn add_meta_function_mut<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.meta.push((name.into(), function_mut_callback(function)));
    }
}

impl<T: 'static> UserDataFields<T> for UserDataRegistry<T> {
    fn add_field<V>(&mut self, name: impl Into<String>, value: V)
    where
        V: IntoLua + 'static,
    {
        self.statics.push((name.into(), Box::new(move |lua| value.into_lua(lua))));
    }

    fn add_field_method_get<M, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: Fn(&Lua, &T) -> Result<R> + MaybeSend + 'static,
        R: IntoLua,
    {
        let name = name.into();
        let full = format!("{}.{name}", short_type_name::<T>());
        self.getters.push((
            name,
            Box::new(move |lua, base, nargs| {
                let cell = self_cell::<T>(lua, base, nargs, &full)?;
                let this =
                    cell.try_read().ok_or_else(|| Error::bad_self_argument(&full, Error::UserDataBorrowError))?;
                let Some(v) = this.as_ref() else {
                    return Err(Error::bad_self_argument(&full, Error::UserDataDestructed));
                };
                let r = method(lua, v)?;
                drop(this);
                r.push_into_stack(lua)?;
                Ok(1)
            }),
        ));
    }

    fn add_field_method_set<M, A>(&mut self, name: impl Into<String>, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<()> + MaybeSend + 'static,
        A: FromLua,
    {
        let name = name.into();
        let full = format!("{}.{name}", short_type_name::<T>());
        let setter = XRefCell::new(method);
        self.setters.push((
            name,
            Box::new(move |lua, base, nargs| {
                let cell = self_cell::<T>(lua, base, nargs, &full)?;
                let v = if nargs >= 2 { A::from_stack(base + 1, lua) } else { A::from_lua(Value::Nil, lua) }
                    .map_err(|e| bad_argument(2, e))?;
                let mut f = setter.try_borrow_mut().ok_or(Error::RecursiveMutCallback)?;
                let mut this =
                    cell.try_write().ok_or_else(|| Error::bad_self_argument(&full, Error::UserDataBorrowMutError))?;
                let Some(this) = this.as_mut() else {
                    return Err(Error::bad_self_argument(&full, Error::UserDataDestructed));
                };
                (*f)(lua, this, v)?;
                Ok(0)
            }),
        ));
    }

    fn add_field_function_get<F, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(&Lua, AnyUserData) -> Result<R> + MaybeSend + 'static,
        R: IntoLua,
    {
        self.getters.push((
            name.into(),
            Box::new(move |lua, base, nargs| {
                let ud = if nargs >= 1 { AnyUserData::from_stack(base, lua) } else { Err(Error::UserDataTypeMismatch) }
                    .map_err(|e| bad_argument(1, e))?;
                function(lua, ud)?.push_into_stack(lua)?;
                Ok(1)
            }),
        ));
    }

    fn add_field_function_set<F, A>(&mut self, name: impl Into<String>, function: F)
    where
        F: FnMut(&Lua, AnyUserData, A) -> Result<()> + MaybeSend + 'static,
        A: FromLua,
    {
        let function = XRefCell::new(function);
        self.setters.push((
            name.into(),
            Box::new(move |lua, base, nargs| {
                let ud = if nargs >= 1 { AnyUserData::from_stack(base, lua) } else { Err(Error::UserDataTypeMismatch) }
                    .map_err(|e| bad_argument(1, e))?;
                let v = if nargs >= 2 { A::from_stack(base + 1, lua) } else { A::from_lua(Value::Nil, lua) }
                    .map_err(|e| bad_argument(2, e))?;
                let mut f = function.try_borrow_mut().ok_or(Error::RecursiveMutCallback)?;
                (*f)(lua, ud, v)?;
                Ok(0)
            }),
        ));
    }

    fn add_meta_field<V>(&mut self, name: impl Into<String>, value: V)
    where
        V: IntoLua + 'static,
    {
        self.meta_fields.push((name.into(), Box::new(move |lua| value.into_lua(lua))));
    }

    fn add_meta_field_with<F, R>(&mut self, name: impl Into<String>, f: F)
    where
        F: FnOnce(&Lua) -> Result<R> + 'static,
        R: IntoLua,
    {
        self.meta_fields.push((name.into(), Box::new(move |lua| f(lua)?.into_lua(lua))));
    }
}

/// `__index` of types with fields or an `__index` metamethod. Upvalues: the methods
/// table, the getters table (or nil), the fallback (a function, a table, or nil).
fn ud_index(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let obj = vm.arg(base, nargs, 0);
    let key = vm.arg(base, nargs, 1);
    if let Some(m) = vm.native_upval(0).as_table() {
        let v = m.get(key);
        if !v.is_nil() {
            vm.push(v);
            return Ok(1);
        }
    }
    if let Some(g) = vm.native_upval(1).as_table() {
        let getter = g.get(key);
        if getter.is_function() {
            let v = vm.call_value1(getter, &[obj])?;
            vm.push(v);
            return Ok(1);
        }
    }
    let fallback = vm.native_upval(2);
    if fallback.is_function() {
        let v = vm.call_value1(fallback, &[obj, key])?;
        vm.push(v);
        return Ok(1);
    }
    if let Some(t) = fallback.as_table() {
        let v = vm.index_value(t.to_value(), key)?;
        vm.push(v);
        return Ok(1);
    }
    vm.push(Raw::NIL);
    Ok(1)
}

/// `__newindex` of types with setters or a `__newindex` metamethod. Upvalues: the
/// setters table (or nil), the fallback (a function, a table, or nil).
fn ud_newindex(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let obj = vm.arg(base, nargs, 0);
    let key = vm.arg(base, nargs, 1);
    let val = vm.arg(base, nargs, 2);
    if let Some(s) = vm.native_upval(0).as_table() {
        let setter = s.get(key);
        if setter.is_function() {
            vm.call_value(setter, &[obj, val], 0)?;
            return Ok(0);
        }
    }
    let fallback = vm.native_upval(1);
    if fallback.is_function() {
        vm.call_value(fallback, &[obj, key, val], 0)?;
        return Ok(0);
    }
    if let Some(t) = fallback.as_table() {
        vm.set_value(t.to_value(), key, val)?;
        return Ok(0);
    }
    let k = vm.tostring_basic(key);
    Err(vm.rt_error(&format!("cannot set field '{}' of userdata", String::from_utf8_lossy(&k))))
}

impl Lua {
    /// Moves a [`UserData`] value into Lua.
    ///
    /// ```
    /// use moonbox::{Lua, UserData, UserDataMethods};
    ///
    /// struct Vec2(f64, f64);
    /// impl UserData for Vec2 {
    ///     fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
    ///         m.add_method("len", |_, v, ()| Ok((v.0 * v.0 + v.1 * v.1).sqrt()));
    ///     }
    /// }
    /// let lua = Lua::new();
    /// let ud = lua.create_userdata(Vec2(3.0, 4.0))?;
    /// lua.globals().set("v", &ud)?;
    /// assert_eq!(lua.load("v:len()").eval::<f64>()?, 5.0);
    /// ud.borrow_mut::<Vec2>()?.0 = 0.0;
    /// assert_eq!(lua.load("v:len()").eval::<f64>()?, 4.0);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_userdata<T: UserData + MaybeSend + MaybeSync + 'static>(&self, data: T) -> Result<AnyUserData> {
        let mt = self.userdata_metatable::<T>(T::register)?;
        self.new_userdata_with(data, mt, None)
    }

    /// Moves any `'static` Rust value into Lua as a userdata. It has the methods
    /// registered for `T` with [`register_userdata_type`](Lua::register_userdata_type),
    /// if any; else Lua code can only pass it around (Rust code reads it with
    /// [`AnyUserData::borrow`]).
    pub fn create_any_userdata<T: MaybeSend + MaybeSync + 'static>(&self, data: T) -> Result<AnyUserData> {
        let mt = self.userdata_metatable::<T>(|_| {})?;
        self.new_userdata_with(data, mt, None)
    }

    /// Registers the methods and fields of `T`, a type that does not implement
    /// [`UserData`] (e.g. a foreign one), for [`create_any_userdata`](Lua::create_any_userdata).
    ///
    /// ```
    /// use moonbox::{Lua, UserDataMethods};
    ///
    /// let lua = Lua::new();
    /// lua.register_userdata_type::<std::time::Duration>(|reg| {
    ///     reg.add_method("secs", |_, d, ()| Ok(d.as_secs()));
    /// })?;
    /// let d = lua.create_any_userdata(std::time::Duration::from_secs(90))?;
    /// assert_eq!(lua.load("local d = ... return d:secs()").call::<u64>(d)?, 90);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn register_userdata_type<T: 'static>(&self, f: impl FnOnce(&mut UserDataRegistry<T>)) -> Result<()> {
        // A replaced metatable stays rooted (values made with it keep working).
        let _l = self.inner.lock();
        let mt = self.build_userdata_metatable::<T>(f)?;
        self.inner.ud_types.borrow_mut().insert(TypeId::of::<T>(), mt);
        Ok(())
    }

    pub(crate) fn new_userdata_with<T: MaybeSend + MaybeSync + 'static>(
        &self,
        data: T,
        mt: GcRef<RawTable>,
        #[allow(unused_variables)] ser: Option<SerFnOpt>,
    ) -> Result<AnyUserData> {
        let cell: UdCell<T> = Arc::new(RwLock::new(Some(data)));
        let inner = &self.inner;
        inner.with_vm(|vm| {
            inner.check_memory(vm)?;
            let payload = UdPayload {
                cell: Box::new(cell),
                type_id: TypeId::of::<T>(),
                type_name: std::any::type_name::<T>(),
                take: take_any::<T>,
                #[cfg(feature = "serde")]
                ser,
            };
            let ud = vm.new_userdata(Some(Box::new(NoUnwind::new(payload))));
            ud.set_meta(Some(mt));
            vm.barrier(ud);
            Ok(AnyUserData { r: inner.make_ref(vm, ud.to_value()) })
        })?
    }

    /// The metatable for userdata of type `T`, built on first use.
    pub(crate) fn userdata_metatable<T: 'static>(
        &self,
        register: impl FnOnce(&mut UserDataRegistry<T>),
    ) -> Result<GcRef<RawTable>> {
        let _l = self.inner.lock();
        let tid = TypeId::of::<T>();
        if let Some(mt) = self.inner.ud_types.borrow().get(&tid) {
            return Ok(*mt);
        }
        // A type whose registration creates a value of itself (e.g. a constant field
        // holding a default instance) would recurse forever.
        if !self.inner.ud_building.borrow_mut().insert(tid) {
            return Err(Error::runtime(format!(
                "userdata type {} is used while its methods are being registered",
                std::any::type_name::<T>()
            )));
        }
        let r = self.build_userdata_metatable(register);
        self.inner.ud_building.borrow_mut().remove(&tid);
        let mt = r?;
        self.inner.ud_types.borrow_mut().insert(tid, mt);
        Ok(mt)
    }

    fn build_userdata_metatable<T: 'static>(
        &self,
        register: impl FnOnce(&mut UserDataRegistry<T>),
    ) -> Result<GcRef<RawTable>> {
        let mut reg = UserDataRegistry::<T>::new();
        register(&mut reg);
        let mut statics = Vec::with_capacity(reg.statics.len());
        for (name, f) in reg.statics {
            statics.push((name, f(self)?));
        }
        let mut meta_fields = Vec::with_capacity(reg.meta_fields.len());
        for (name, f) in reg.meta_fields {
            MetaMethod::validate(&name)?;
            meta_fields.push((name, f(self)?));
        }
        for (name, _) in &reg.meta {
            MetaMethod::validate(name)?;
        }
        #[cfg(feature = "async")]
        let mut async_fns = Vec::with_capacity(reg.async_methods.len());
        #[cfg(feature = "async")]
        for (name, f) in reg.async_methods {
            async_fns.push((name, crate::asyncs::make_async_function(self, f)?));
        }
        let inner = &self.inner;
        let g = StackGuard::new(inner)?;
        let base = g.base();
        // Push the values made so far, so they stay rooted while the tables are built.
        for (_, v) in statics.iter().chain(meta_fields.iter()) {
            self.push_value(v)?;
        }
        #[cfg(feature = "async")]
        for (_, f) in &async_fns {
            self.push_value(&Value::Function(f.clone()))?;
        }
        inner.try_vm(|vm| -> Result<GcRef<RawTable>> {
            let mt = vm.new_table(0, 8);
            vm.add_root(mt.to_value());
            let methods = vm.new_table(0, reg.methods.len() + statics.len());
            for (name, f) in reg.methods {
                let fv = inner.make_callback(vm, f);
                vm.set_field(methods, &name, fv);
            }
            let mut i = base;
            for (name, _) in &statics {
                let raw = vm.slot(i);
                i += 1;
                vm.set_field(methods, name, raw);
            }
            let mut index_fallback = Raw::NIL;
            let mut newindex_fallback = Raw::NIL;
            for (name, _) in &meta_fields {
                let raw = vm.slot(i);
                i += 1;
                match name.as_str() {
                    "__index" => index_fallback = raw,
                    "__newindex" => newindex_fallback = raw,
                    n => vm.set_field(mt, n, raw),
                }
            }
            #[cfg(feature = "async")]
            for (name, _) in &async_fns {
                let raw = vm.slot(i);
                i += 1;
                vm.set_field(methods, name, raw);
            }
            let getters = if reg.getters.is_empty() {
                Raw::NIL
            } else {
                let g = vm.new_table(0, reg.getters.len());
                for (name, f) in reg.getters {
                    let fv = inner.make_callback(vm, f);
                    vm.set_field(g, &name, fv);
                }
                g.to_value()
            };
            let setters = if reg.setters.is_empty() {
                Raw::NIL
            } else {
                let s = vm.new_table(0, reg.setters.len());
                for (name, f) in reg.setters {
                    let fv = inner.make_callback(vm, f);
                    vm.set_field(s, &name, fv);
                }
                s.to_value()
            };
            for (name, f) in reg.meta {
                let fv = inner.make_callback(vm, f);
                match name.as_str() {
                    "__index" => index_fallback = fv,
                    "__newindex" => newindex_fallback = fv,
                    n => vm.set_field(mt, n, fv),
                }
            }
            if getters.is_nil() && index_fallback.is_nil() {
                vm.set_field(mt, "__index", methods.to_value());
            } else {
                let f = vm.native_closure(ud_index, "__index", vec![methods.to_value(), getters, index_fallback]);
                vm.set_field(mt, "__index", f);
            }
            if !setters.is_nil() || !newindex_fallback.is_nil() {
                let f = vm.native_closure(ud_newindex, "__newindex", vec![setters, newindex_fallback]);
                vm.set_field(mt, "__newindex", f);
            }
            Ok(mt)
        })
    }
}

#[cfg(feature = "serde")]
pub(crate) type SerFnOpt = crate::serde::SerFn;
#[cfg(not(feature = "serde"))]
pub(crate) type SerFnOpt = std::convert::Infallible;

/// A handle to a full userdata (made by Rust or not).
///
/// ```
/// use moonbox::{AnyUserData, Lua};
///
/// let lua = Lua::new();
/// let ud = lua.create_any_userdata(vec![1u8, 2, 3])?;
/// lua.globals().set("blob", &ud)?;
/// let back: AnyUserData = lua.globals().get("blob")?;
/// assert_eq!(back.borrow::<Vec<u8>>()?.len(), 3);
/// assert!(back.borrow::<String>().is_err());
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone)]
pub struct AnyUserData {
    pub(crate) r: XRc<Ref>,
}

impl AnyUserData {
    pub(crate) fn from_raw(inner: &XRc<Inner>, vm: &mut Vm, raw: Raw) -> AnyUserData {
        AnyUserData { r: inner.make_ref(vm, raw) }
    }

    fn from_stack(idx: usize, lua: &Lua) -> Result<AnyUserData> {
        lua.inner.with_vm(|vm| {
            let raw = vm.slot(idx);
            if raw.as_userdata().is_some() {
                Ok(AnyUserData::from_raw(&lua.inner, vm, raw))
            } else {
                Err(Error::from_lua_conversion(raw.type_name(), "userdata", None))
            }
        })?
    }

    pub(crate) fn cell<T: 'static>(&self) -> Result<UdCell<T>> {
        let lua = self.r.lua()?;
        let raw = self.r.raw_for(&lua.inner)?;
        lua.inner.with_vm(|_| cell_of::<T>(raw))?
    }

    /// Does it hold a `T`?
    pub fn is<T: 'static>(&self) -> bool {
        self.type_id() == Some(TypeId::of::<T>())
    }

    /// Borrows the `T` inside. Fails if it holds another type or is mutably borrowed
    /// (by a method running further up the call stack, or by another borrow).
    pub fn borrow<T: 'static>(&self) -> Result<UserDataRef<T>> {
        borrow_cell(&self.cell::<T>()?)
    }

    /// Borrows the `T` inside for the duration of `f`.
    pub fn borrow_scoped<T: 'static, R>(&self, f: impl FnOnce(&T) -> R) -> Result<R> {
        let r = self.borrow::<T>()?;
        Ok(f(&r))
    }

    /// Borrows the `T` inside mutably.
    pub fn borrow_mut<T: 'static>(&self) -> Result<UserDataRefMut<T>> {
        borrow_cell_mut(&self.cell::<T>()?)
    }

    /// Borrows the `T` inside mutably for the duration of `f`.
    pub fn borrow_mut_scoped<T: 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        let mut r = self.borrow_mut::<T>()?;
        Ok(f(&mut r))
    }

    /// Takes the `T` out; the userdata is left destructed (its methods then fail
    /// with [`Error::UserDataDestructed`]).
    pub fn take<T: 'static>(&self) -> Result<T> {
        let cell = self.cell::<T>()?;
        let mut g = cell.try_write().ok_or(Error::UserDataBorrowMutError)?;
        g.take().ok_or(Error::UserDataDestructed)
    }

    /// Drops the value inside now (of whatever type); the userdata is left destructed.
    pub fn destroy(&self) -> Result<()> {
        let lua = self.r.lua()?;
        let raw = self.r.raw_for(&lua.inner)?;
        let taken = lua.inner.with_vm(|_| with_payload(raw, |p| (p.take)(&p.cell)))?;
        // Dropped here, outside the engine.
        taken.ok_or(Error::UserDataTypeMismatch)?.map(drop)
    }

    /// Sets user value 1 (`set_nth_user_value(1, v)`).
    pub fn set_user_value(&self, v: impl IntoLua) -> Result<()> {
        self.set_nth_user_value(1, v)
    }

    /// User value 1.
    pub fn user_value<V: FromLua>(&self) -> Result<V> {
        self.nth_user_value(1)
    }

    /// Sets the `n`th user value (kept in the userdata's environment table).
    pub fn set_nth_user_value(&self, n: usize, v: impl IntoLua) -> Result<()> {
        self.user_values(true)?.raw_set(n as f64, v)
    }

    /// The `n`th user value (nil if unset).
    pub fn nth_user_value<V: FromLua>(&self, n: usize) -> Result<V> {
        let lua = self.r.lua()?;
        match self.user_values(false)? {
            t if t.is_empty() => V::from_lua(Value::Nil, &lua),
            t => t.raw_get(n as f64),
        }
    }

    /// Sets a named user value.
    pub fn set_named_user_value(&self, name: &str, v: impl IntoLua) -> Result<()> {
        self.user_values(true)?.raw_set(name, v)
    }

    /// A named user value (nil if unset).
    pub fn named_user_value<V: FromLua>(&self, name: &str) -> Result<V> {
        self.user_values(false)?.raw_get(name)
    }

    /// The table of user values (the userdata's environment), made on demand.
    fn user_values(&self, create: bool) -> Result<Table> {
        let lua = self.r.lua()?;
        let u = self.r.raw_for(&lua.inner)?.as_userdata().ok_or(Error::UserDataTypeMismatch)?;
        let inner = &lua.inner;
        inner.with_vm(|vm| {
            let t = match u.env() {
                Some(t) => t,
                None => {
                    let t = vm.new_table(0, 0);
                    if create {
                        u.set_env(Some(t));
                        vm.barrier(u);
                    }
                    t
                }
            };
            Table(inner.make_ref(vm, t.to_value()))
        })
    }

    /// The userdata's metatable.
    pub fn metatable(&self) -> Result<UserDataMetatable> {
        self.raw_metatable()?.map(UserDataMetatable).ok_or(Error::UserDataTypeMismatch)
    }

    fn raw_metatable(&self) -> Result<Option<Table>> {
        let lua = self.r.lua()?;
        let u = self.r.raw_for(&lua.inner)?.as_userdata().ok_or(Error::UserDataTypeMismatch)?;
        let inner = &lua.inner;
        inner.with_vm(|vm| u.meta().map(|mt| Table(inner.make_ref(vm, mt.to_value()))))
    }

    /// The userdata's address (for identity and printing).
    pub fn to_pointer(&self) -> *const c_void {
        self.r.to_pointer()
    }

    /// The Rust type inside, for userdata made by this facade.
    pub fn type_id(&self) -> Option<TypeId> {
        let lua = self.r.lua().ok()?;
        let raw = self.r.raw_for(&lua.inner).ok()?;
        lua.inner.with_vm(|_| with_payload(raw, |p| p.type_id)).ok().flatten()
    }

    /// The type name from the metatable's `__name`, if any (as mlua).
    pub fn type_name(&self) -> Result<Option<String>> {
        match self.raw_metatable()? {
            Some(mt) => mt.raw_get::<Option<String>>("__name"),
            None => Ok(None),
        }
    }

    /// The Rust type name of the value inside, for userdata made by this facade.
    pub fn rust_type_name(&self) -> Option<&'static str> {
        let lua = self.r.lua().ok()?;
        let raw = self.r.raw_for(&lua.inner).ok()?;
        lua.inner.with_vm(|_| with_payload(raw, |p| p.type_name)).ok().flatten()
    }

    /// `self == other`, with `__eq`.
    pub fn equals(&self, other: &AnyUserData) -> Result<bool> {
        if self == other {
            return Ok(true);
        }
        let mt = self.raw_metatable()?;
        if mt.is_none() || mt != other.raw_metatable()? {
            return Ok(false);
        }
        match mt.map(|m| m.raw_get::<Option<Function>>("__eq")) {
            Some(Ok(Some(eq))) => eq.call((self, other)),
            _ => Ok(false),
        }
    }

    /// Wraps a value as something that converts into a userdata (see
    /// [`Lua::create_any_userdata`]).
    pub fn wrap<T: MaybeSend + MaybeSync + 'static>(data: T) -> impl IntoLua {
        WrappedUserData(move |lua: &Lua| lua.create_any_userdata(data))
    }

    /// Wraps a serializable value as something that converts into a userdata.
    #[cfg(feature = "serde")]
    pub fn wrap_ser<T: serde::Serialize + MaybeSend + MaybeSync + 'static>(data: T) -> impl IntoLua {
        WrappedUserData(move |lua: &Lua| lua.create_ser_any_userdata(data))
    }

    /// A serializer of the value, for serializable userdata.
    #[cfg(feature = "serde")]
    pub(crate) fn serializer(&self) -> Result<Option<Box<dyn erased_serde::Serialize>>> {
        let lua = self.r.lua()?;
        let raw = self.r.raw_for(&lua.inner)?;
        Ok(lua.inner.with_vm(|_| with_payload(raw, |p| p.ser.and_then(|f| f(&p.cell))))?.flatten())
    }
}

struct WrappedUserData<F>(F);

impl<F: FnOnce(&Lua) -> Result<AnyUserData>> IntoLua for WrappedUserData<F> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        (self.0)(lua).map(Value::UserData)
    }
}

impl fmt::Debug for AnyUserData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AnyUserData").field(&*self.r).finish()
    }
}

impl PartialEq for AnyUserData {
    /// Identity.
    fn eq(&self, o: &AnyUserData) -> bool {
        self.r.lua_id == o.r.lua_id && self.r.raw == o.r.raw
    }
}

/// A userdata type's metatable (see [`AnyUserData::metatable`]).
#[derive(Clone, Debug)]
pub struct UserDataMetatable(pub(crate) Table);

impl UserDataMetatable {
    /// The metatable entry `key` (raw).
    pub fn get<V: FromLua>(&self, key: impl AsRef<str>) -> Result<V> {
        self.0.raw_get(MetaMethod::validate(key.as_ref())?)
    }

    /// Sets the metatable entry `key`; `__index` and `__newindex` cannot be changed.
    pub fn set(&self, key: impl AsRef<str>, value: impl IntoLua) -> Result<()> {
        let key = MetaMethod::validate(key.as_ref())?;
        if key == "__index" || key == "__newindex" {
            return Err(Error::MetaMethodRestricted(key.to_string()));
        }
        self.0.raw_set(key, value)
    }

    /// Does the metatable have the entry `key`?
    pub fn contains(&self, key: impl AsRef<str>) -> Result<bool> {
        self.0.contains_key(MetaMethod::validate(key.as_ref())?)
    }

    /// The entries (keys are strings).
    pub fn pairs<V: FromLua>(&self) -> crate::TablePairs<'_, String, V> {
        self.0.pairs()
    }
}

// ----- Errors as values --------------------------------------------------------------

/// The payload of a userdata that carries an [`Error`] (a [`Value::Error`] in Lua).
struct WrappedError(Error);

/// The error carried by a userdata, if it is one made for a [`Value::Error`].
pub(crate) fn wrapped_error(raw: Raw) -> Option<Error> {
    let u = raw.as_userdata()?;
    u.data()?.downcast_ref::<NoUnwind<WrappedError>>()?.get().map(|w| w.0.clone())
}

/// `__tostring` of error values.
fn error_tostring(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.arg(base, nargs, 0);
    let text = wrapped_error(v).map(|e| e.to_string()).unwrap_or_else(|| "error".to_string());
    let s = vm.str_value(text.as_bytes());
    vm.push(s);
    Ok(1)
}

/// Makes the userdata for an error value.
pub(crate) fn error_userdata(vm: &mut Vm, e: &Error) -> Raw {
    let reg = vm.registry();
    let mut mt = vm.get_field(reg, "moonbox.error_mt").as_table();
    if mt.is_none() {
        let t = vm.new_table(0, 2);
        let f = vm.native(error_tostring, "__tostring");
        vm.set_field(t, "__tostring", f);
        vm.set_field(reg, "moonbox.error_mt", t.to_value());
        mt = Some(t);
    }
    let ud = vm.new_userdata(Some(Box::new(NoUnwind::new(WrappedError(e.clone())))));
    ud.set_meta(mt);
    vm.barrier(ud);
    ud.to_value()
}

impl fmt::Debug for UdPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UdPayload({})", self.type_name)
    }
}
