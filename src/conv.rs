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
//! | `bool` | boolean (from Lua: any value, by truthiness) |
//! | `i8` ... `i64`, `u8` ... `u64`, `isize`, `usize` | number (from Lua: an integral number in range, or a string holding one) |
//! | `f32`, `f64` | number (from Lua: a number, or a string holding one) |
//! | `String`, `&str` | string (from Lua: a string or a number; must be UTF-8) |
//! | `Vec<T>`, `[T; N]` | sequence table |
//! | `HashMap<K, V>`, `BTreeMap<K, V>` | table |
//! | `Option<T>` | `nil` or the value |
//! | [`Value`], [`Table`], [`Function`], [`LuaString`], [`Thread`], [`AnyUserData`], [`LightUserData`] | themselves |
//! | a type implementing [`UserData`] | a new userdata (to Lua only) |

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use moonbox_engine::value::LuaType;
use moonbox_engine::Value as Raw;

use crate::error::{Error, Result};
use crate::lua::Lua;
use crate::userdata::{AnyUserData, UserData};
use crate::value::{LightUserData, MultiValue, Value, Variadic};
use crate::{Function, LuaString, Table, Thread};

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
            mv.push(lua.value_at(base + i)?);
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
        e => Error::BadArgument { to: None, pos, cause: Arc::new(e) },
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
                $(out.push($name.into_lua(lua)?);)*
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

impl_handle!(Table, Table, "table", is_table);
impl_handle!(Function, Function, "function", is_function);

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
            v => Err(Error::from_lua_conversion(v.type_name(), "thread", None)),
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
        match value {
            Value::String(s) => Ok(s),
            Value::Number(n) => lua.create_string(crate::string::number_to_string(n)),
            v => Err(Error::from_lua_conversion(v.type_name(), "string", None)),
        }
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
            v => Err(Error::from_lua_conversion(v.type_name(), "userdata", None)),
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
            v => Err(Error::from_lua_conversion(v.type_name(), "light userdata", None)),
        }
    }
}

impl<T: UserData> IntoLua for T {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::UserData(lua.create_userdata(self)?))
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

/// A number, or a string convertible to one (as Lua's arithmetic coerces).
#[inline]
fn raw_to_number(lua: &Lua, idx: usize, to: &'static str) -> Result<f64> {
    let raw = lua.raw_at(idx)?;
    if let Some(n) = raw.as_number() {
        return Ok(n);
    }
    match moonbox_engine::Vm::to_arith_number(raw) {
        Some(n) => Ok(n),
        None => Err(conv_err(raw, to)),
    }
}

fn value_to_number(lua: &Lua, v: &Value, to: &'static str) -> Result<f64> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::String(s) => {
            let raw = s.0.raw_for(&lua.inner)?;
            moonbox_engine::Vm::to_arith_number(raw).ok_or_else(|| Error::from_lua_conversion("string", to, None))
        }
        v => Err(Error::from_lua_conversion(v.type_name(), to, None)),
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

/// Largest integer magnitude a double holds exactly.
const EXACT: f64 = 9_007_199_254_740_992.0;

macro_rules! impl_int {
    ($($t:ty)*) => {$(
        impl IntoLua for $t {
            fn into_lua(self, _lua: &Lua) -> Result<Value> {
                Ok(Value::Number(int_to_f64(self, stringify!($t))?))
            }
            #[inline]
            fn push_into_stack(self, lua: &Lua) -> Result<()> {
                lua.push_raw(Raw::number(int_to_f64(self, stringify!($t))?))
            }
        }
        impl FromLua for $t {
            fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
                let n = value_to_number(lua, &value, stringify!($t))?;
                f64_to_int::<$t>(n, value.type_name(), stringify!($t))
            }
            #[inline]
            fn from_stack(idx: usize, lua: &Lua) -> Result<Self> {
                let n = raw_to_number(lua, idx, stringify!($t))?;
                f64_to_int::<$t>(n, "number", stringify!($t))
            }
        }
    )*};
}

fn int_to_f64<T: TryInto<i128> + Copy + std::fmt::Display>(x: T, name: &str) -> Result<f64> {
    let wide: i128 = x.try_into().unwrap_or(i128::MAX);
    let f = wide as f64;
    if f.abs() > EXACT || f as i128 != wide {
        return Err(Error::to_lua_conversion(name, "number", Some(format!("{x} cannot be represented exactly"))));
    }
    Ok(f)
}

fn f64_to_int<T: TryFrom<i64>>(n: f64, from: &'static str, to: &'static str) -> Result<T> {
    if n.fract() != 0.0 || !n.is_finite() {
        return Err(Error::from_lua_conversion(from, to, Some(format!("{n} is not an integer"))));
    }
    if n.abs() > EXACT {
        return Err(Error::from_lua_conversion(from, to, Some("out of range".to_string())));
    }
    T::try_from(n as i64).map_err(|_| Error::from_lua_conversion(from, to, Some("out of range".to_string())))
}

impl_int!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

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

impl FromLua for String {
    /// A string (which must be valid UTF-8) or a number (formatted as Lua does).
    fn from_lua(value: Value, _lua: &Lua) -> Result<Self> {
        match value {
            Value::String(s) => s.to_str().map(|s| s.to_string()),
            Value::Number(n) => Ok(crate::string::number_to_string(n)),
            v => Err(Error::from_lua_conversion(v.type_name(), "String", None)),
        }
    }
    #[inline]
    fn from_stack(idx: usize, lua: &Lua) -> Result<Self> {
        lua.inner.with_vm(|vm| {
            let raw = vm.slot(idx);
            if let Some(s) = raw.as_string() {
                return std::str::from_utf8(s.as_bytes())
                    .map(str::to_owned)
                    .map_err(|e| Error::from_lua_conversion("string", "String", Some(e.to_string())));
            }
            if let Some(n) = raw.as_number() {
                return Ok(crate::string::number_to_string(n));
            }
            Err(conv_err(raw, "String"))
        })?
    }
}

// ----- Option ----------------------------------------------------------------------------

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

// ----- Collections -----------------------------------------------------------------------

impl<T: IntoLua> IntoLua for Vec<T> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_sequence_from(self)?))
    }
}

impl<T: IntoLua, const N: usize> IntoLua for [T; N] {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_sequence_from(self)?))
    }
}

impl<T: FromLua> FromLua for Vec<T> {
    /// A table's sequence part `t[1] .. t[#t]` (raw access).
    fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
        match value {
            Value::Table(t) => {
                let n = t.raw_len()?;
                let mut out = Vec::with_capacity(n.min(1 << 16));
                for i in 1..=n {
                    out.push(t.raw_get::<_, T>(i as f64).map_err(|e| index_error(e, i))?);
                }
                let _ = lua;
                Ok(out)
            }
            v => Err(Error::from_lua_conversion(v.type_name(), "Vec", Some("expected a table".to_string()))),
        }
    }
}

fn index_error(e: Error, i: usize) -> Error {
    match e {
        Error::FromLuaConversionError { from, to, message } => Error::FromLuaConversionError {
            from,
            to,
            message: Some(match message {
                Some(m) => format!("element {i}: {m}"),
                None => format!("element {i}"),
            }),
        },
        e => e,
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
            v => Err(Error::from_lua_conversion(v.type_name(), "HashMap", Some("expected a table".to_string()))),
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
            v => Err(Error::from_lua_conversion(v.type_name(), "BTreeMap", Some("expected a table".to_string()))),
        }
    }
}

/// Is the raw value of this Lua type a number?
#[allow(dead_code)]
pub(crate) fn is_number(raw: Raw) -> bool {
    raw.lua_type() == LuaType::Number
}
