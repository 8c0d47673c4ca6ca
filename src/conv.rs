//! Conversions between Rust and Lua values.
//!
//! [`IntoLua`] / [`FromLua`] convert one value; [`IntoLuaMulti`] / [`FromLuaMulti`]
//! convert argument and result lists: a single value, `()` (no values), tuples (up to
//! 12 elements; the last one may itself be multi-valued, e.g. a [`Variadic`]), a
//! [`MultiValue`] or a [`Variadic`].
//!
//! The built-in conversions work on the engine stack directly (no handle is created
//! for a number or a `String`); user implementations only need `into_lua` / `from_lua`.
//!
//! | Rust | Lua |
//! | --- | --- |
//! These follow mlua 0.11 with its `luajit` feature (Lua numbers are doubles):
//!
//! | Rust | Lua |
//! | --- | --- |
//! | `bool` | boolean (from Lua: any value, by truthiness) |
//! | `i8` ... `i128`, `u8` ... `u128`, `isize`, `usize` | number (from Lua: a number, truncated toward zero, or a string holding one; "out of range" when it does not fit) |
//! | `f32`, `f64` | number (from Lua: a number, or a string holding one) |
//! | `String`, `&str`, `Box<str>`, `Cow<str>`, `CString`, `BString`, `char`, `PathBuf`, `OsString` | string (from Lua: a string or a number; `String` & co. must be UTF-8) |
//! | `Vec<T>`, `[T; N]`, `Box<[T]>` | sequence table |
//! | `HashMap<K, V>`, `BTreeMap<K, V>` | table |
//! | `HashSet<T>`, `BTreeSet<T>` | table of `key = true` (from Lua: the keys) |
//! | `Option<T>` | `nil` or the value |
//! | `Either<L, R>` | either (from Lua: `L` if it converts, else `R`) |
//! | [`Value`], [`Table`], [`Function`], [`LuaString`], [`Thread`], [`AnyUserData`], [`LightUserData`] | themselves |
//! | a type implementing [`UserData`] | a new userdata (to Lua only; from Lua with `UserDataRef<T>`) |

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::hash::{BuildHasher, Hash};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bstr::{BStr, BString};
use moonbox_engine::Value as Raw;

use crate::error::{Error, Result};
use crate::state::Lua;
use crate::types::{Either, Integer, LightUserData, MaybeSend, MaybeSync};
use crate::userdata::{AnyUserData, UserData, UserDataRef, UserDataRefMut};
use crate::value::{MultiValue, Value, Variadic};
use crate::{Function, String as LuaString, Table, Thread};

/// Converts a Rust value into a Lua value.
///
/// ```
/// use moonbox::{IntoLua, Lua, Result, Value};
///
/// struct Celsius(f64);
/// impl IntoLua for Celsius {
///     fn into_lua(self, lua: &Lua) -> Result<Value> {
///         self.0.into_lua(lua)
///     }
/// }
/// let lua = Lua::new();
/// lua.globals().set("t", Celsius(21.5))?;
/// assert_eq!(lua.load("t").eval::<f64>()?, 21.5);
/// # Ok::<(), moonbox::Error>(())
/// ```
pub trait IntoLua: Sized {
    /// Performs the conversion.
    fn into_lua(self, lua: &Lua) -> Result<Value>;

    /// Pushes the value on the engine stack (internal fast path).
    #[doc(hidden)]
    fn push_into_stack(self, lua: &Lua) -> Result<()> {
        let v = self.into_lua(lua)?;
        lua.push_value(&v)
    }
}

/// Converts a Lua value into a Rust value.
///
/// ```
/// use moonbox::{FromLua, Lua, Result, Value};
///
/// struct Point { x: f64, y: f64 }
/// impl FromLua for Point {
///     fn from_lua(v: Value, _lua: &Lua) -> Result<Self> {
///         let t = v.as_table().ok_or_else(|| moonbox::Error::runtime("point expected"))?;
///         Ok(Point { x: t.get("x")?, y: t.get("y")? })
///     }
/// }
/// let lua = Lua::new();
/// let p: Point = lua.load("{ x = 1, y = 2 }").eval()?;
/// assert_eq!(p.x + p.y, 3.0);
/// # Ok::<(), moonbox::Error>(())
/// ```
pub trait FromLua: Sized {
    /// Performs the conversion.
    fn from_lua(value: Value, lua: &Lua) -> Result<Self>;

    /// Converts the value at absolute stack slot `idx` (internal fast path).
    #[doc(hidden)]
    fn from_stack(idx: usize, lua: &Lua) -> Result<Self> {
        let v = lua.value_at(idx)?;
        Self::from_lua(v, lua)
    }
}

/// Converts a Rust value into any number of Lua values (call arguments or results).
pub trait IntoLuaMulti: Sized {
    /// Performs the conversion.
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue>;

    /// Pushes the values; returns how many (internal fast path).
    #[doc(hidden)]
    fn push_into_stack_multi(self, lua: &Lua) -> Result<usize> {
        let mv = self.into_lua_multi(lua)?;
        let n = mv.len();
        for v in mv.iter() {
            lua.push_value(v)?;
        }
        Ok(n)
    }
}

/// Converts any number of Lua values (call arguments or results) into a Rust value.
pub trait FromLuaMulti: Sized {
    /// Performs the conversion.
    fn from_lua_multi(values: MultiValue, lua: &Lua) -> Result<Self>;

    /// Converts the `n` values at `stack[base ..]` (internal fast path).
    #[doc(hidden)]
    fn from_stack_multi(base: usize, n: usize, lua: &Lua) -> Result<Self> {
        let mut mv = MultiValue::new();
        for i in 0..n {
            mv.push_back(lua.value_at(base + i)?);
        }
        Self::from_lua_multi(mv, lua)
    }

    /// Like `from_stack_multi` for a callback's arguments: errors name the argument
    /// position (`pos` is the position of the first value, 1-based).
    #[doc(hidden)]
    fn from_stack_args(base: usize, n: usize, pos: usize, lua: &Lua) -> Result<Self> {
        Self::from_stack_multi(base, n, lua).map_err(|e| bad_argument(pos, e))
    }
}

pub(crate) fn bad_argument(pos: usize, e: Error) -> Error {
    match e {
        e @ Error::BadArgument { .. } => e,
        e if e.is_uncatchable() => e,
        e => Error::BadArgument { to: None, pos, name: None, cause: Arc::new(e) },
    }
}

fn conv_err(raw: Raw, to: &str) -> Error {
    Error::from_lua_conversion(raw.type_name(), to, None)
}

// ----- Single values into multi -------------------------------------------------------

impl<T: IntoLua> IntoLuaMulti for T {
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
        Ok(MultiValue::from_vec(vec![self.into_lua(lua)?]))
    }
    #[inline]
    fn push_into_stack_multi(self, lua: &Lua) -> Result<usize> {
        self.push_into_stack(lua)?;
        Ok(1)
    }
}

impl<T: FromLua> FromLuaMulti for T {
    fn from_lua_multi(values: MultiValue, lua: &Lua) -> Result<Self> {
        T::from_lua(values.into_vec().into_iter().next().unwrap_or(Value::Nil), lua)
    }
    #[inline]
    fn from_stack_multi(base: usize, n: usize, lua: &Lua) -> Result<Self> {
        if n == 0 {
            T::from_lua(Value::Nil, lua)
        } else {
            T::from_stack(base, lua)
        }
    }
}

impl IntoLuaMulti for MultiValue {
    fn into_lua_multi(self, _lua: &Lua) -> Result<MultiValue> {
        Ok(self)
    }
}

impl IntoLuaMulti for &MultiValue {
    fn into_lua_multi(self, _lua: &Lua) -> Result<MultiValue> {
        Ok(self.clone())
    }
    fn push_into_stack_multi(self, lua: &Lua) -> Result<usize> {
        for v in self.iter() {
            lua.push_value(v)?;
        }
        Ok(self.len())
    }
}

impl FromLuaMulti for MultiValue {
    fn from_lua_multi(values: MultiValue, _lua: &Lua) -> Result<Self> {
        Ok(values)
    }
}

impl<T: IntoLua> IntoLuaMulti for Variadic<T> {
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
        self.into_iter().map(|v| v.into_lua(lua)).collect()
    }
    fn push_into_stack_multi(self, lua: &Lua) -> Result<usize> {
        let n = self.len();
        for v in self {
            v.push_into_stack(lua)?;
        }
        Ok(n)
    }
}

impl<T: FromLua> FromLuaMulti for Variadic<T> {
    fn from_lua_multi(values: MultiValue, lua: &Lua) -> Result<Self> {
        values.into_iter().map(|v| T::from_lua(v, lua)).collect()
    }
    fn from_stack_multi(base: usize, n: usize, lua: &Lua) -> Result<Self> {
        (0..n).map(|i| T::from_stack(base + i, lua)).collect()
    }
    fn from_stack_args(base: usize, n: usize, pos: usize, lua: &Lua) -> Result<Self> {
        (0..n).map(|i| T::from_stack(base + i, lua).map_err(|e| bad_argument(pos + i, e))).collect()
    }
}

macro_rules! impl_tuple {
    () => {
        impl IntoLuaMulti for () {
            fn into_lua_multi(self, _lua: &Lua) -> Result<MultiValue> {
                Ok(MultiValue::new())
            }
            #[inline]
            fn push_into_stack_multi(self, _lua: &Lua) -> Result<usize> {
                Ok(0)
            }
        }
        impl FromLuaMulti for () {
            fn from_lua_multi(_values: MultiValue, _lua: &Lua) -> Result<Self> {
                Ok(())
            }
            #[inline]
            fn from_stack_multi(_base: usize, _n: usize, _lua: &Lua) -> Result<Self> {
                Ok(())
            }
        }
    };
    ($($name:ident)* ; $last:ident) => {
        impl<$($name: IntoLua,)* $last: IntoLuaMulti> IntoLuaMulti for ($($name,)* $last,) {
            #[allow(non_snake_case)]
            fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
                let ($($name,)* $last,) = self;
                let mut out = MultiValue::new();
                $(out.push_back($name.into_lua(lua)?);)*
                out.extend($last.into_lua_multi(lua)?.into_vec());
                Ok(out)
            }
            #[allow(non_snake_case, unused_mut)]
            #[inline]
            fn push_into_stack_multi(self, lua: &Lua) -> Result<usize> {
                let ($($name,)* $last,) = self;
                let mut n = 0usize;
                $($name.push_into_stack(lua)?; n += 1;)*
                Ok(n + $last.push_into_stack_multi(lua)?)
            }
        }

        impl<$($name: FromLua,)* $last: FromLuaMulti> FromLuaMulti for ($($name,)* $last,) {
            #[allow(non_snake_case, unused_mut)]
            fn from_lua_multi(values: MultiValue, lua: &Lua) -> Result<Self> {
                let mut it = values.into_vec().into_iter();
                $(let $name = $name::from_lua(it.next().unwrap_or(Value::Nil), lua)?;)*
                let $last = $last::from_lua_multi(it.collect(), lua)?;
                Ok(($($name,)* $last,))
            }
            #[allow(non_snake_case, unused_mut, unused_assignments)]
            #[inline]
            fn from_stack_multi(base: usize, n: usize, lua: &Lua) -> Result<Self> {
                let mut i = 0usize;
                $(
                    let $name = if i < n { $name::from_stack(base + i, lua)? } else { $name::from_lua(Value::Nil, lua)? };
                    i += 1;
                )*
                let $last = $last::from_stack_multi(base + i.min(n), n.saturating_sub(i), lua)?;
                Ok(($($name,)* $last,))
            }
            #[allow(non_snake_case, unused_mut, unused_assignments)]
            #[inline]
            fn from_stack_args(base: usize, n: usize, pos: usize, lua: &Lua) -> Result<Self> {
                let mut i = 0usize;
                $(
                    let $name = if i < n { $name::from_stack(base + i, lua) } else { $name::from_lua(Value::Nil, lua) }
                        .map_err(|e| bad_argument(pos + i, e))?;
                    i += 1;
                )*
                let $last = $last::from_stack_args(base + i.min(n), n.saturating_sub(i), pos + i, lua)?;
                Ok(($($name,)* $last,))
            }
        }
    };
}

impl_tuple!();
impl_tuple!(; A);
impl_tuple!(A; B);
impl_tuple!(A B; C);
impl_tuple!(A B C; D);
impl_tuple!(A B C D; E);
impl_tuple!(A B C D E; F);
impl_tuple!(A B C D E F; G);
impl_tuple!(A B C D E F G; H);
impl_tuple!(A B C D E F G H; I);
impl_tuple!(A B C D E F G H I; J);
impl_tuple!(A B C D E F G H I J; K);
impl_tuple!(A B C D E F G H I J K; L);

// ----- Values and handles ---------------------------------------------------------------

impl IntoLua for Value {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(self)
    }
}

impl IntoLua for &Value {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(self.clone())
    }
    fn push_into_stack(self, lua: &Lua) -> Result<()> {
        lua.push_value(self)
    }
}

impl FromLua for Value {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        Ok(value)
    }
}

macro_rules! impl_handle {
    ($ty:ident, $variant:ident, $lua_name:literal, $check:ident) => {
        impl IntoLua for $ty {
            fn into_lua(self, _lua: &Lua) -> Result<Value> {
                Ok(Value::$variant(self))
            }
            #[inline]
            fn push_into_stack(self, lua: &Lua) -> Result<()> {
                let raw = self.0.raw_for(&lua.inner)?;
                lua.push_raw(raw)
            }
        }
        impl IntoLua for &$ty {
            fn into_lua(self, _lua: &Lua) -> Result<Value> {
                Ok(Value::$variant(self.clone()))
            }
            #[inline]
            fn push_into_stack(self, lua: &Lua) -> Result<()> {
                let raw = self.0.raw_for(&lua.inner)?;
                lua.push_raw(raw)
            }
        }
        impl FromLua for $ty {
            fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
                match value {
                    Value::$variant(x) => Ok(x),
                    v => Err(Error::from_lua_conversion(v.type_name(), $lua_name, None)),
                }
            }
            #[inline]
            fn from_stack(idx: usize, lua: &Lua) -> Result<Self> {
                lua.inner.with_vm(|vm| {
                    let raw = vm.slot(idx);
                    if raw.$check() {
                        Ok($ty(lua.inner.make_ref(vm, raw)))
                    } else {
                        Err(conv_err(raw, $lua_name))
                    }
                })?
            }
        }
    };
}

impl_handle!(Table, Table, "Table", is_table);
impl_handle!(Function, Function, "Function", is_function);

impl IntoLua for Thread {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(Value::Thread(self))
    }
}

impl IntoLua for &Thread {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(Value::Thread(self.clone()))
    }
}

impl FromLua for Thread {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::Thread(t) => Ok(t),
            v => Err(Error::from_lua_conversion(v.type_name(), "Thread", None)),
        }
    }
}

impl IntoLua for LuaString {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(Value::String(self))
    }
}

impl IntoLua for &LuaString {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(Value::String(self.clone()))
    }
}

impl FromLua for LuaString {
    /// Strings, and numbers converted to strings as Lua does.
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        let ty = value.type_name();
        lua.coerce_string(value)?
            .ok_or_else(|| Error::from_lua_conversion(ty, "String", Some("expected string or number".to_string())))
    }
}

impl IntoLua for AnyUserData {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(Value::UserData(self))
    }
}

impl IntoLua for &AnyUserData {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(Value::UserData(self.clone()))
    }
}

impl FromLua for AnyUserData {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::UserData(u) => Ok(u),
            v => Err(Error::from_lua_conversion(v.type_name(), "AnyUserData", None)),
        }
    }
}

impl IntoLua for LightUserData {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(Value::LightUserData(self))
    }
}

impl FromLua for LightUserData {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::LightUserData(p) => Ok(p),
            v => Err(Error::from_lua_conversion(v.type_name(), "LightUserData", None)),
        }
    }
}

impl<T: UserData + MaybeSend + MaybeSync + 'static> IntoLua for T {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::UserData(lua.create_userdata(self)?))
    }
}

impl<T: 'static> FromLua for UserDataRef<T> {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::UserData(u) => u.borrow::<T>(),
            v => Err(Error::from_lua_conversion(v.type_name(), "userdata", None)),
        }
    }
}

impl<T: 'static> FromLua for UserDataRefMut<T> {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::UserData(u) => u.borrow_mut::<T>(),
            v => Err(Error::from_lua_conversion(v.type_name(), "userdata", None)),
        }
    }
}

impl IntoLua for Error {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(Value::Error(Box::new(self)))
    }
}

impl FromLua for Error {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        match value {
            Value::Error(e) => Ok(*e),
            v => Ok(Error::runtime(
                lua.coerce_string(v.clone())?
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_else(|| v.to_string().unwrap_or_else(|_| format!("{} error", v.type_name()))),
            )),
        }
    }
}

// ----- Primitives -----------------------------------------------------------------------

impl IntoLua for bool {
    fn into_lua(self, _lua: &Lua) -> Result<Value> {
        Ok(Value::Boolean(self))
    }
    #[inline]
    fn push_into_stack(self, lua: &Lua) -> Result<()> {
        lua.push_raw(Raw::boolean(self))
    }
}

impl FromLua for bool {
    /// Lua truthiness: `nil` and `false` are false, everything else is true.
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        Ok(value.is_truthy())
    }
    #[inline]
    fn from_stack(idx: usize, lua: &Lua) -> Result<Self> {
        Ok(lua.raw_at(idx)?.truthy())
    }
}

const NOT_A_NUMBER: &str = "expected number or string coercible to number";

/// `n` as an integer when it holds an exact `i64` value (not -0.0): what becomes a
/// [`Value::Integer`].
#[inline]
pub(crate) fn f64_to_integer_exact(n: f64) -> Option<Integer> {
    // The range test first: `as` saturates.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        let i = n as i64;
        if (i as f64).to_bits() == n.to_bits() {
            return Some(i);
        }
    }
    None
}

/// `n` as an integer when it is integral (as LuaJIT's `lua_tointegerx` decides).
pub(crate) fn f64_to_integer(n: f64) -> Option<Integer> {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        let i = n as i64;
        if (n - i as f64).abs() < f64::EPSILON {
            return Some(i);
        }
    }
    None
}

/// A number truncated toward zero into an integer type (`None`: NaN or out of range).
#[inline]
fn trunc_cast<T: TryFrom<i128>>(n: f64) -> Option<T> {
    let t = n.trunc();
    if !(-1.7014118346046923e38..1.7014118346046923e38).contains(&t) {
        return None;
    }
    T::try_from(t as i128).ok()
}

/// A number, or a string convertible to one (as Lua's arithmetic coerces), at a stack slot.
#[inline]
fn raw_to_number(lua: &Lua, idx: usize, to: &'static str) -> Result<f64> {
    let raw = lua.raw_at(idx)?;
    if let Some(n) = raw.as_number() {
        return Ok(n);
    }
    match moonbox_engine::Vm::to_arith_number(raw) {
        Some(n) => Ok(n),
        None => Err(Error::from_lua_conversion(value_type_name(raw), to, Some(NOT_A_NUMBER.to_string()))),
    }
}

/// mlua's type name of a raw value.
fn value_type_name(raw: Raw) -> &'static str {
    match raw.lua_type() {
        moonbox_engine::value::LuaType::LightUserdata => "lightuserdata",
        moonbox_engine::value::LuaType::Number => "number",
        _ => raw.type_name(),
    }
}

fn value_to_number(lua: &Lua, v: &Value, to: &'static str) -> Result<f64> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Number(n) => Ok(*n),
        Value::String(_) => match lua.coerce_number(v.clone())? {
            Some(n) => Ok(n),
            None => Err(Error::from_lua_conversion("string", to, Some(NOT_A_NUMBER.to_string()))),
        },
        v => Err(Error::from_lua_conversion(v.type_name(), to, Some(NOT_A_NUMBER.to_string()))),
    }
}

macro_rules! impl_float {
    ($($t:ty)*) => {$(
        impl IntoLua for $t {
            fn into_lua(self, _lua: &Lua) -> Result<Value> {
                Ok(Value::Number(self as f64))
            }
            #[inline]
            fn push_into_stack(self, lua: &Lua) -> Result<()> {
                lua.push_raw(Raw::number(self as f64))
            }
        }
        impl FromLua for $t {
            fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
                Ok(value_to_number(lua, &value, stringify!($t))? as $t)
            }
            #[inline]
            fn from_stack(idx: usize, lua: &Lua) -> Result<Self> {
                Ok(raw_to_number(lua, idx, stringify!($t))? as $t)
            }
        }
    )*};
}

impl_float!(f32 f64);

macro_rules! impl_int {
    ($($t:ty)*) => {$(
        impl IntoLua for $t {
            fn into_lua(self, _lua: &Lua) -> Result<Value> {
                Ok(match i64::try_from(self) {
                    Ok(i) => Value::Integer(i),
                    Err(_) => Value::Number(self as f64),
                })
            }
            #[inline]
            fn push_into_stack(self, lua: &Lua) -> Result<()> {
                lua.push_raw(Raw::number(self as f64))
            }
        }
        impl FromLua for $t {
            fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
                let ty = value.type_name();
                let r = match &value {
                    Value::Integer(i) => <$t>::try_from(*i).ok(),
                    _ => trunc_cast::<$t>(value_to_number(lua, &value, stringify!($t))?),
                };
                r.ok_or_else(|| Error::from_lua_conversion(ty, stringify!($t), Some("out of range".to_string())))
            }
            #[inline]
            fn from_stack(idx: usize, lua: &Lua) -> Result<Self> {
                let n = raw_to_number(lua, idx, stringify!($t))?;
                trunc_cast::<$t>(n).ok_or_else(|| {
                    let from = if f64_to_integer(n).is_some() { "integer" } else { "number" };
                    Error::from_lua_conversion(from, stringify!($t), Some("out of range".to_string()))
                })
            }
        }
    )*};
}

impl_int!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize);

// ----- Strings ---------------------------------------------------------------------------

impl IntoLua for &str {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self)?))
    }
    #[inline]
    fn push_into_stack(self, lua: &Lua) -> Result<()> {
        push_str(lua, self.as_bytes())
    }
}

impl IntoLua for String {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        self.as_str().into_lua(lua)
    }
    #[inline]
    fn push_into_stack(self, lua: &Lua) -> Result<()> {
        push_str(lua, self.as_bytes())
    }
}

impl IntoLua for &String {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        self.as_str().into_lua(lua)
    }
    #[inline]
    fn push_into_stack(self, lua: &Lua) -> Result<()> {
        push_str(lua, self.as_bytes())
    }
}

fn push_str(lua: &Lua, b: &[u8]) -> Result<()> {
    lua.inner.with_vm(|vm| {
        lua.inner.check_memory(vm)?;
        let s = vm.str_value(b);
        crate::lua::push_checked(vm, &[s])
    })?
}

/// A value as a Lua string (strings, and numbers formatted as Lua does).
fn string_bytes(value: Value, lua: &Lua, to: &'static str) -> Result<LuaString> {
    let ty = value.type_name();
    lua.coerce_string(value)?
        .ok_or_else(|| Error::from_lua_conversion(ty, to, Some("expected string or number".to_string())))
}

impl FromLua for String {
    /// A string (which must be valid UTF-8) or a number (formatted as Lua does).
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        Ok(string_bytes(value, lua, "String")?.to_str()?.to_owned())
    }
    #[inline]
    fn from_stack(idx: usize, lua: &Lua) -> Result<Self> {
        lua.inner.with_vm(|vm| {
            let raw = vm.slot(idx);
            if let Some(s) = raw.as_string() {
                return std::str::from_utf8(s.as_bytes())
                    .map(str::to_owned)
                    .map_err(|e| Error::from_lua_conversion("string", "&str", Some(e.to_string())));
            }
            if let Some(n) = raw.as_number() {
                return Ok(crate::string::number_to_string(n));
            }
            Err(Error::from_lua_conversion(
                value_type_name(raw),
                "String",
                Some("expected string or number".to_string()),
            ))
        })?
    }
}

macro_rules! impl_via_string {
    ($($t:ty),*) => {$(
        impl IntoLua for $t {
            fn into_lua(self, lua: &Lua) -> Result<Value> {
                let s: &str = &self;
                s.into_lua(lua)
            }
        }
        impl FromLua for $t {
            fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
                Ok(<$t>::from(String::from_lua(value, lua)?))
            }
        }
    )*};
}

impl_via_string!(Box<str>, std::rc::Rc<str>, Arc<str>);

impl IntoLua for Cow<'_, str> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        (&*self).into_lua(lua)
    }
}

impl FromLua for Cow<'_, str> {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        Ok(Cow::Owned(String::from_lua(value, lua)?))
    }
}

impl IntoLua for BString {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(&self)?))
    }
}

impl IntoLua for &BStr {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self)?))
    }
}

impl FromLua for BString {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        Ok(BString::from(string_bytes(value, lua, "BString")?.as_bytes().to_vec()))
    }
}

impl IntoLua for CString {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self.as_bytes())?))
    }
}

impl IntoLua for &CStr {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self.to_bytes())?))
    }
}

impl FromLua for CString {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        let s = string_bytes(value, lua, "CString")?;
        CString::new(s.as_bytes().to_vec())
            .map_err(|e| Error::from_lua_conversion("string", "CString", Some(e.to_string())))
    }
}

impl IntoLua for char {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        let mut buf = [0u8; 4];
        Ok(Value::String(lua.create_string(self.encode_utf8(&mut buf).as_bytes())?))
    }
}

impl FromLua for char {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        let ty = value.type_name();
        match &value {
            Value::Integer(i) => {
                return u32::try_from(*i).ok().and_then(char::from_u32).ok_or_else(|| {
                    Error::from_lua_conversion(ty, "char", Some("integer out of range when converting to char".into()))
                })
            }
            Value::String(s) => {
                let s = s.to_str()?;
                let mut it = s.chars();
                if let (Some(c), None) = (it.next(), it.next()) {
                    return Ok(c);
                }
                return Err(Error::from_lua_conversion(
                    ty,
                    "char",
                    Some("expected string to have exactly one char".into()),
                ));
            }
            _ => {}
        }
        let _ = lua;
        Err(Error::from_lua_conversion(ty, "char", Some("expected string or integer".into())))
    }
}

impl IntoLua for &Path {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        self.as_os_str().into_lua(lua)
    }
}

impl IntoLua for PathBuf {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        self.as_os_str().into_lua(lua)
    }
}

impl FromLua for PathBuf {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        Ok(PathBuf::from(OsString::from_lua(value, lua)?))
    }
}

impl IntoLua for &OsStr {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self.as_encoded_bytes())?))
    }
}

impl IntoLua for OsString {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        self.as_os_str().into_lua(lua)
    }
}

impl FromLua for OsString {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        Ok(OsString::from(String::from_lua(value, lua)?))
    }
}

// ----- Option, Either, Box ----------------------------------------------------------------

impl<T: IntoLua> IntoLua for Option<T> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        match self {
            Some(v) => v.into_lua(lua),
            None => Ok(Value::Nil),
        }
    }
    #[inline]
    fn push_into_stack(self, lua: &Lua) -> Result<()> {
        match self {
            Some(v) => v.push_into_stack(lua),
            None => lua.push_raw(Raw::NIL),
        }
    }
}

impl<T: FromLua> FromLua for Option<T> {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        match value {
            Value::Nil => Ok(None),
            v => T::from_lua(v, lua).map(Some),
        }
    }
    #[inline]
    fn from_stack(idx: usize, lua: &Lua) -> Result<Self> {
        if lua.raw_at(idx)?.is_nil() {
            Ok(None)
        } else {
            T::from_stack(idx, lua).map(Some)
        }
    }
}

impl<L: IntoLua, R: IntoLua> IntoLua for Either<L, R> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        match self {
            Either::Left(l) => l.into_lua(lua),
            Either::Right(r) => r.into_lua(lua),
        }
    }
    fn push_into_stack(self, lua: &Lua) -> Result<()> {
        match self {
            Either::Left(l) => l.push_into_stack(lua),
            Either::Right(r) => r.push_into_stack(lua),
        }
    }
}

impl<L: FromLua, R: FromLua> FromLua for Either<L, R> {
    /// `L` if the value converts to it, else `R`.
    ///
    /// ```
    /// use moonbox::{Either, Lua};
    ///
    /// let lua = Lua::new();
    /// let v: Either<i32, String> = lua.load("'x'").eval()?;
    /// assert_eq!(v, Either::Right("x".to_string()));
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        let ty = value.type_name();
        match L::from_lua(value.clone(), lua) {
            Ok(l) => Ok(Either::Left(l)),
            Err(_) => match R::from_lua(value, lua) {
                Ok(r) => Ok(Either::Right(r)),
                Err(_) => Err(Error::from_lua_conversion(
                    ty,
                    format!("Either<{}, {}>", std::any::type_name::<L>(), std::any::type_name::<R>()),
                    None,
                )),
            },
        }
    }
}

impl<T: FromLua> FromLua for Box<T> {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        T::from_lua(value, lua).map(Box::new)
    }
}

// ----- Collections -----------------------------------------------------------------------

impl<T: IntoLua> IntoLua for Vec<T> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_sequence_from(self)?))
    }
}

impl<T: IntoLua + Clone> IntoLua for &[T] {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_sequence_from(self.iter().cloned())?))
    }
}

impl<T: IntoLua, const N: usize> IntoLua for [T; N] {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_sequence_from(self)?))
    }
}

impl<T: IntoLua> IntoLua for Box<[T]> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_sequence_from(self.into_vec())?))
    }
}

impl<T: FromLua> FromLua for Vec<T> {
    /// A table's sequence `t[1], t[2], ...` up to the first nil (raw access).
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::Table(t) => t.sequence_values::<T>().collect(),
            v => Err(Error::from_lua_conversion(v.type_name(), "Vec", Some("expected table".to_string()))),
        }
    }
}

impl<T: FromLua> FromLua for Box<[T]> {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        Vec::<T>::from_lua(value, lua).map(Vec::into_boxed_slice)
    }
}

impl<T: FromLua, const N: usize> FromLua for [T; N] {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        let ty = value.type_name();
        let v = match value {
            Value::Table(_) => Vec::<T>::from_lua(value, lua)?,
            _ => return Err(Error::from_lua_conversion(ty, "Array", Some("expected table".to_string()))),
        };
        let n = v.len();
        v.try_into().map_err(|_| {
            Error::from_lua_conversion("table", "Array", Some(format!("expected table of length {N}, got {n}")))
        })
    }
}

impl<K: IntoLua, V: IntoLua, S> IntoLua for HashMap<K, V, S> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_table_from(self)?))
    }
}

impl<K: FromLua + Eq + Hash, V: FromLua, S: BuildHasher + Default> FromLua for HashMap<K, V, S> {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::Table(t) => t.pairs::<K, V>().collect(),
            v => Err(Error::from_lua_conversion(v.type_name(), "HashMap", Some("expected table".to_string()))),
        }
    }
}

impl<K: IntoLua, V: IntoLua> IntoLua for BTreeMap<K, V> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_table_from(self)?))
    }
}

impl<K: FromLua + Ord, V: FromLua> FromLua for BTreeMap<K, V> {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::Table(t) => t.pairs::<K, V>().collect(),
            v => Err(Error::from_lua_conversion(v.type_name(), "BTreeMap", Some("expected table".to_string()))),
        }
    }
}

impl<T: IntoLua, S> IntoLua for HashSet<T, S> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_table_from(self.into_iter().map(|k| (k, true)))?))
    }
}

impl<T: FromLua + Eq + Hash, S: BuildHasher + Default> FromLua for HashSet<T, S> {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::Table(t) => t.pairs::<T, Value>().map(|kv| kv.map(|(k, _)| k)).collect(),
            v => Err(Error::from_lua_conversion(v.type_name(), "HashSet", Some("expected table".to_string()))),
        }
    }
}

impl<T: IntoLua> IntoLua for BTreeSet<T> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_table_from(self.into_iter().map(|k| (k, true)))?))
    }
}

impl<T: FromLua + Ord> FromLua for BTreeSet<T> {
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::Table(t) => t.pairs::<T, Value>().map(|kv| kv.map(|(k, _)| k)).collect(),
            v => Err(Error::from_lua_conversion(v.type_name(), "BTreeSet", Some("expected table".to_string()))),
        }
    }
}
