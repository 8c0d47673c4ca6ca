//! Rust values inside Lua: full userdata with methods, fields and metamethods.
//!
//! A type opts in by implementing [`UserData`], registering its methods and fields in
//! `add_methods` / `add_fields` (the shape of mlua's `UserDataMethods`). Each Rust
//! type gets one metatable per state, built the first time a value of the type is
//! created. The value lives in an `Rc<RefCell<T>>`: methods borrow it for the duration
//! of the call (`&T` for [`add_method`](UserDataMethods::add_method), `&mut T` for
//! [`add_method_mut`](UserDataMethods::add_method_mut)), and a conflicting borrow is an
//! error, never a panic. The value is dropped when the Lua object is collected and no
//! [`AnyUserData`] handle refers to it any more.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use moonbox_engine::gc::GcRef;
use moonbox_engine::object::Table as RawTable;
use moonbox_engine::vm::{LResult, Vm};
use moonbox_engine::Value as Raw;

use crate::conv::{bad_argument, FromLua, FromLuaMulti, IntoLua, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::lua::{CallbackFn, Inner, Lua, NoUnwind};
use crate::value::{Ref, Value};

/// A shared borrow of a userdata's value (see [`AnyUserData::borrow`]).
pub type UserDataRef<'a, T> = std::cell::Ref<'a, T>;
/// A mutable borrow of a userdata's value (see [`AnyUserData::borrow_mut`]).
pub type UserDataRefMut<'a, T> = std::cell::RefMut<'a, T>;

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
pub trait UserData: Sized + 'static {
    /// Registers fields (properties read and written as `ud.name`).
    fn add_fields<F: UserDataFields<Self>>(_fields: &mut F) {}
    /// Registers methods (called as `ud:name(...)`) and metamethods.
    fn add_methods<M: UserDataMethods<Self>>(_methods: &mut M) {}
}

/// The metamethods a userdata type can define (Lua 5.1's set; `__gc` is the Rust
/// value's `Drop`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
}

impl MetaMethod {
    /// The metatable key, e.g. `"__add"`.
    pub fn name(self) -> &'static str {
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
        }
    }
}

/// Registers the methods and metamethods of a [`UserData`] type.
///
/// In every method, `self` is argument 1 (what `ud:method(...)` passes); calling a
/// method on a value of another type is a "bad argument #1" error. For binary
/// metamethods whose userdata operand may come second (`2 * v`), use
/// [`add_meta_function`](UserDataMethods::add_meta_function) and take both operands.
pub trait UserDataMethods<T> {
    /// A method borrowing the value: `ud:name(args)`.
    fn add_method<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A method borrowing the value mutably.
    fn add_method_mut<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A plain function stored with the methods: `ud.name(args)` (no `self`).
    fn add_function<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A metamethod borrowing the value (which must be the first operand).
    fn add_meta_method<M, A, R>(&mut self, meta: MetaMethod, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A metamethod borrowing the value mutably.
    fn add_meta_method_mut<M, A, R>(&mut self, meta: MetaMethod, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;

    /// A metamethod taking all its operands as arguments.
    fn add_meta_function<F, A, R>(&mut self, meta: MetaMethod, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
}

/// Registers the fields (properties) of a [`UserData`] type.
pub trait UserDataFields<T> {
    /// A readable field: `ud.name` calls `getter`.
    fn add_field_method_get<M, R>(&mut self, name: impl Into<String>, getter: M)
    where
        M: Fn(&Lua, &T) -> Result<R> + 'static,
        R: IntoLua;

    /// A writable field: `ud.name = v` calls `setter`.
    fn add_field_method_set<M, A>(&mut self, name: impl Into<String>, setter: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<()> + 'static,
        A: FromLua;

    /// A constant field shared by all values of the type (`ud.name`).
    fn add_field<V: IntoLua + 'static>(&mut self, name: impl Into<String>, value: V);
}

type StaticField = Box<dyn FnOnce(&Lua) -> Result<Value>>;

/// Collects a type's registrations; turned into a metatable once per state.
pub(crate) struct Registry<T> {
    methods: Vec<(String, Box<CallbackFn>)>,
    meta: Vec<(MetaMethod, Box<CallbackFn>)>,
    getters: Vec<(String, Box<CallbackFn>)>,
    setters: Vec<(String, Box<CallbackFn>)>,
    statics: Vec<(String, StaticField)>,
    _p: PhantomData<fn(T)>,
}

impl<T> Registry<T> {
    fn new() -> Registry<T> {
        Registry { methods: vec![], meta: vec![], getters: vec![], setters: vec![], statics: vec![], _p: PhantomData }
    }
}

/// What a userdata object made by this facade carries.
struct UdPayload {
    /// An `Rc<RefCell<T>>`.
    cell: Rc<dyn Any>,
    type_name: &'static str,
}

fn payload_cell(raw: Raw) -> Option<(Rc<dyn Any>, &'static str)> {
    let u = raw.as_userdata()?;
    let p = u.data()?.downcast_ref::<NoUnwind<UdPayload>>()?.get()?;
    Some((p.cell.clone(), p.type_name))
}

/// The value of `self` (argument 1) of a method.
fn self_cell<T: 'static>(lua: &Lua, base: usize, nargs: usize) -> Result<Rc<RefCell<T>>> {
    let found = if nargs == 0 {
        Err(Error::from_lua_conversion("no value", std::any::type_name::<T>(), None))
    } else {
        lua.inner.with_vm(|vm| {
            let raw = vm.slot(base);
            payload_cell(raw)
                .ok_or_else(|| Error::from_lua_conversion(raw.type_name(), std::any::type_name::<T>(), None))
        })?
    };
    let (cell, _) = found.map_err(|e| bad_argument(1, e))?;
    cell.downcast::<RefCell<T>>().map_err(|_| bad_argument(1, Error::UserDataTypeMismatch))
}

fn method_callback<T: 'static, A: FromLuaMulti, R: IntoLuaMulti>(
    f: impl Fn(&Lua, &T, A) -> Result<R> + 'static,
) -> Box<CallbackFn> {
    Box::new(move |lua, base, nargs| {
        let cell = self_cell::<T>(lua, base, nargs)?;
        let args = A::from_stack_args(base + 1, nargs.saturating_sub(1), 2, lua)?;
        let this = cell.try_borrow().map_err(|_| Error::UserDataBorrowError)?;
        let r = f(lua, &this, args)?;
        drop(this);
        r.push_into_stack_multi(lua)
    })
}

fn method_mut_callback<T: 'static, A: FromLuaMulti, R: IntoLuaMulti>(
    f: impl FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
) -> Box<CallbackFn> {
    let f = RefCell::new(f);
    Box::new(move |lua, base, nargs| {
        let cell = self_cell::<T>(lua, base, nargs)?;
        let args = A::from_stack_args(base + 1, nargs.saturating_sub(1), 2, lua)?;
        let mut f = f.try_borrow_mut().map_err(|_| Error::RecursiveMutCallback)?;
        let mut this = cell.try_borrow_mut().map_err(|_| Error::UserDataBorrowMutError)?;
        let r = f(lua, &mut this, args)?;
        drop(this);
        r.push_into_stack_multi(lua)
    })
}

fn function_callback<A: FromLuaMulti, R: IntoLuaMulti>(f: impl Fn(&Lua, A) -> Result<R> + 'static) -> Box<CallbackFn> {
    Box::new(move |lua, base, nargs| {
        let args = A::from_stack_args(base, nargs, 1, lua)?;
        f(lua, args)?.push_into_stack_multi(lua)
    })
}

impl<T: 'static> UserDataMethods<T> for Registry<T> {
    fn add_method<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.methods.push((name.into(), method_callback(method)));
    }

    fn add_method_mut<M, A, R>(&mut self, name: impl Into<String>, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.methods.push((name.into(), method_mut_callback(method)));
    }

    fn add_function<F, A, R>(&mut self, name: impl Into<String>, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.methods.push((name.into(), function_callback(function)));
    }

    fn add_meta_method<M, A, R>(&mut self, meta: MetaMethod, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.meta.push((meta, method_callback(method)));
    }

    fn add_meta_method_mut<M, A, R>(&mut self, meta: MetaMethod, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.meta.push((meta, method_mut_callback(method)));
    }

    fn add_meta_function<F, A, R>(&mut self, meta: MetaMethod, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.meta.push((meta, function_callback(function)));
    }
}

impl<T: 'static> UserDataFields<T> for Registry<T> {
    fn add_field_method_get<M, R>(&mut self, name: impl Into<String>, getter: M)
    where
        M: Fn(&Lua, &T) -> Result<R> + 'static,
        R: IntoLua,
    {
        self.getters.push((
            name.into(),
            Box::new(move |lua, base, nargs| {
                let cell = self_cell::<T>(lua, base, nargs)?;
                let this = cell.try_borrow().map_err(|_| Error::UserDataBorrowError)?;
                let r = getter(lua, &this)?;
                drop(this);
                r.push_into_stack(lua)?;
                Ok(1)
            }),
        ));
    }

    fn add_field_method_set<M, A>(&mut self, name: impl Into<String>, setter: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<()> + 'static,
        A: FromLua,
    {
        let setter = RefCell::new(setter);
        self.setters.push((
            name.into(),
            Box::new(move |lua, base, nargs| {
                let cell = self_cell::<T>(lua, base, nargs)?;
                let v = if nargs >= 2 { A::from_stack(base + 1, lua) } else { A::from_lua(Value::Nil, lua) }
                    .map_err(|e| bad_argument(2, e))?;
                let mut f = setter.try_borrow_mut().map_err(|_| Error::RecursiveMutCallback)?;
                let mut this = cell.try_borrow_mut().map_err(|_| Error::UserDataBorrowMutError)?;
                f(lua, &mut this, v)?;
                Ok(0)
            }),
        ));
    }

    fn add_field<V: IntoLua + 'static>(&mut self, name: impl Into<String>, value: V) {
        self.statics.push((name.into(), Box::new(move |lua| value.into_lua(lua))));
    }
}

/// `__index` of types with fields or an `__index` metamethod. Upvalues: the methods
/// table, the getters table (or nil), the fallback (or nil).
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
    vm.push(Raw::NIL);
    Ok(1)
}

/// `__newindex` of types with setters or a `__newindex` metamethod. Upvalues: the
/// setters table (or nil), the fallback (or nil).
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
    pub fn create_userdata<T: UserData>(&self, data: T) -> Result<AnyUserData> {
        let mt = self.userdata_metatable::<T>(|reg| {
            T::add_fields(reg);
            T::add_methods(reg);
        })?;
        self.new_userdata_with(data, mt)
    }

    /// Moves any `'static` Rust value into Lua as a userdata without methods (Lua code
    /// can only pass it around; Rust code reads it with [`AnyUserData::borrow`]).
    pub fn create_any_userdata<T: 'static>(&self, data: T) -> Result<AnyUserData> {
        let mt = self.userdata_metatable::<T>(|_| {})?;
        self.new_userdata_with(data, mt)
    }

    fn new_userdata_with<T: 'static>(&self, data: T, mt: GcRef<RawTable>) -> Result<AnyUserData> {
        let cell: Rc<dyn Any> = Rc::new(RefCell::new(data));
        let inner = &self.inner;
        inner.with_vm(|vm| {
            inner.check_memory(vm)?;
            let payload = UdPayload { cell: cell.clone(), type_name: std::any::type_name::<T>() };
            let ud = vm.new_userdata(Some(Box::new(NoUnwind::new(payload))));
            ud.set_meta(Some(mt));
            vm.barrier(ud);
            Ok(AnyUserData { r: inner.make_ref(vm, ud.to_value()), cell: Some(cell) })
        })?
    }

    /// The metatable for userdata of type `T`, built on first use.
    fn userdata_metatable<T: 'static>(&self, register: impl FnOnce(&mut Registry<T>)) -> Result<GcRef<RawTable>> {
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

    fn build_userdata_metatable<T: 'static>(&self, register: impl FnOnce(&mut Registry<T>)) -> Result<GcRef<RawTable>> {
        let mut reg = Registry::<T>::new();
        register(&mut reg);
        let mut statics = Vec::with_capacity(reg.statics.len());
        for (name, f) in reg.statics {
            statics.push((name, f(self)?));
        }
        let inner = &self.inner;
        inner.try_vm(|vm| -> Result<GcRef<RawTable>> {
            let mt = vm.new_table(0, 8);
            vm.add_root(mt.to_value());
            let methods = vm.new_table(0, reg.methods.len() + statics.len());
            for (name, f) in reg.methods {
                let fv = inner.make_callback(vm, f);
                vm.set_field(methods, &name, fv);
            }
            for (name, v) in &statics {
                let raw = v.to_raw(inner)?;
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
            let mut index_fallback = Raw::NIL;
            let mut newindex_fallback = Raw::NIL;
            for (m, f) in reg.meta {
                let fv = inner.make_callback(vm, f);
                match m {
                    MetaMethod::Index => index_fallback = fv,
                    MetaMethod::NewIndex => newindex_fallback = fv,
                    m => vm.set_field(mt, m.name(), fv),
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
            let name = vm.str_value(std::any::type_name::<T>().as_bytes());
            vm.set_field(mt, "__name", name);
            Ok(mt)
        })
    }
}

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
    pub(crate) r: Rc<Ref>,
    /// The Rust value (`Rc<RefCell<T>>`), for userdata made by this facade.
    cell: Option<Rc<dyn Any>>,
}

impl AnyUserData {
    pub(crate) fn from_raw(inner: &Rc<Inner>, vm: &mut Vm, raw: Raw) -> AnyUserData {
        let cell = payload_cell(raw).map(|(c, _)| c);
        AnyUserData { r: inner.make_ref(vm, raw), cell }
    }

    fn cell<T: 'static>(&self) -> Result<&RefCell<T>> {
        self.cell.as_ref().and_then(|c| c.downcast_ref::<RefCell<T>>()).ok_or(Error::UserDataTypeMismatch)
    }

    /// Does it hold a `T`?
    pub fn is<T: 'static>(&self) -> bool {
        self.cell::<T>().is_ok()
    }

    /// Borrows the `T` inside. Fails if it holds another type or is mutably borrowed
    /// (by a method running further up the call stack, or by another borrow).
    pub fn borrow<T: 'static>(&self) -> Result<UserDataRef<'_, T>> {
        self.cell::<T>()?.try_borrow().map_err(|_| Error::UserDataBorrowError)
    }

    /// Borrows the `T` inside mutably.
    pub fn borrow_mut<T: 'static>(&self) -> Result<UserDataRefMut<'_, T>> {
        self.cell::<T>()?.try_borrow_mut().map_err(|_| Error::UserDataBorrowMutError)
    }

    /// The Rust type name of the value inside, for userdata made by this facade.
    pub fn type_name(&self) -> Option<&'static str> {
        let lua = self.r.lua().ok()?;
        lua.inner.with_vm(|_| payload_cell(self.r.raw).map(|(_, n)| n)).ok().flatten()
    }
}

impl fmt::Debug for AnyUserData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnyUserData({:?})", self.r)
    }
}

impl PartialEq for AnyUserData {
    /// Identity.
    fn eq(&self, o: &AnyUserData) -> bool {
        self.r.lua_id == o.r.lua_id && self.r.raw == o.r.raw
    }
}
