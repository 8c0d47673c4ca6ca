//! [`ObjectLike`]: what tables and userdata share (indexing, calling, methods).

use crate::conv::{FromLua, FromLuaMulti, IntoLua, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::lua::StackGuard;
use crate::value::{Ref, Value};
use crate::{AnyUserData, Function, Table};

mod private {
    pub trait Sealed {}
    impl Sealed for crate::Table {}
    impl Sealed for crate::AnyUserData {}
}

/// Operations on a table or a userdata as a Lua object: `obj[key]`, `obj[key] = v`,
/// `obj(...)`, `obj:name(...)`, `obj.name(...)`, `tostring(obj)`.
///
/// ```
/// use moonbox::{Lua, ObjectLike, Table};
///
/// let lua = Lua::new();
/// let obj: Table = lua.load("{ n = 1, add = function(self, k) self.n = self.n + k return self.n end }").eval()?;
/// assert_eq!(obj.call_method::<i32>("add", 41)?, 42);
/// # Ok::<(), moonbox::Error>(())
/// ```
pub trait ObjectLike: private::Sealed {
    /// `obj[key]` (with metamethods).
    fn get<V: FromLua>(&self, key: impl IntoLua) -> Result<V>;
    /// `obj[key] = value` (with metamethods).
    fn set(&self, key: impl IntoLua, value: impl IntoLua) -> Result<()>;
    /// `obj(args...)` (through `__call`).
    fn call<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> Result<R>;
    /// `obj:name(args...)`.
    fn call_method<R: FromLuaMulti>(&self, name: &str, args: impl IntoLuaMulti) -> Result<R>;
    /// `obj.name(args...)`.
    fn call_function<R: FromLuaMulti>(&self, name: &str, args: impl IntoLuaMulti) -> Result<R>;
    /// `tostring(obj)`.
    fn to_string(&self) -> Result<String>;
    /// The object as a [`Value`].
    fn to_value(&self) -> Value;
}

/// `obj[key]` for any reference value.
pub(crate) fn index_get<V: FromLua>(r: &Ref, key: impl IntoLua) -> Result<V> {
    let lua = r.lua()?;
    let obj = r.raw_for(&lua.inner)?;
    let g = StackGuard::new(&lua.inner)?;
    let at = g.base();
    key.push_into_stack(&lua)?;
    let inner = &lua.inner;
    inner.try_vm(|vm| {
        let k = vm.slot(at);
        match vm.index_value(obj, k) {
            Ok(v) => vm.set_slot(at, v).map_err(|e| inner.convert_error(vm, e)),
            Err(e) => Err(inner.convert_error(vm, e)),
        }
    })?;
    V::from_stack(at, &lua)
}

/// `obj[key] = value` for any reference value.
pub(crate) fn index_set(r: &Ref, key: impl IntoLua, value: impl IntoLua) -> Result<()> {
    let lua = r.lua()?;
    let obj = r.raw_for(&lua.inner)?;
    let g = StackGuard::new(&lua.inner)?;
    let at = g.base();
    key.push_into_stack(&lua)?;
    value.push_into_stack(&lua)?;
    let inner = &lua.inner;
    inner.try_vm(|vm| {
        let (k, v) = (vm.slot(at), vm.slot(at + 1));
        vm.set_value(obj, k, v).map_err(|e| inner.convert_error(vm, e))
    })
}

/// Calls any value (through `__call` for tables and userdata).
fn call_value<R: FromLuaMulti>(r: &Ref, args: impl IntoLuaMulti) -> Result<R> {
    let lua = r.lua()?;
    let v = lua.inner.with_vm(|vm| lua.inner.value_from_raw(vm, r.raw))?;
    match v {
        Value::Function(f) => f.call(args),
        other => {
            let mt_call: Option<Function> = match &other {
                Value::Table(t) => t.metatable().map(|m| m.raw_get("__call")).transpose()?.flatten(),
                Value::UserData(u) => u.metatable().ok().map(|m| m.get("__call")).transpose()?.flatten(),
                _ => None,
            };
            let f = mt_call.ok_or_else(|| Error::runtime(format!("attempt to call a {} value", other.type_name())))?;
            let mut mv = args.into_lua_multi(&lua)?;
            mv.push_front(other);
            f.call(mv)
        }
    }
}

macro_rules! impl_object_like {
    ($t:ty, $field:tt, $variant:ident) => {
        impl ObjectLike for $t {
            fn get<V: FromLua>(&self, key: impl IntoLua) -> Result<V> {
                index_get(&self.$field, key)
            }
            fn set(&self, key: impl IntoLua, value: impl IntoLua) -> Result<()> {
                index_set(&self.$field, key, value)
            }
            fn call<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> Result<R> {
                call_value(&self.$field, args)
            }
            fn call_method<R: FromLuaMulti>(&self, name: &str, args: impl IntoLuaMulti) -> Result<R> {
                let f: Function = index_get(&self.$field, name)?;
                let lua = self.$field.lua()?;
                let mut mv = args.into_lua_multi(&lua)?;
                mv.push_front(Value::$variant(self.clone()));
                f.call(mv)
            }
            fn call_function<R: FromLuaMulti>(&self, name: &str, args: impl IntoLuaMulti) -> Result<R> {
                let f: Function = index_get(&self.$field, name)?;
                f.call(args)
            }
            fn to_string(&self) -> Result<String> {
                Value::$variant(self.clone()).to_string()
            }
            fn to_value(&self) -> Value {
                Value::$variant(self.clone())
            }
        }
    };
}

impl_object_like!(Table, 0, Table);
impl_object_like!(AnyUserData, r, UserData);
