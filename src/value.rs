//! Owned Lua values and the handle machinery behind them.
//!
//! A handle ([`Table`], [`Function`], [`LuaString`], [`Thread`], [`AnyUserData`]) keeps
//! its Lua object alive: it owns a slot in an anchor table that the state roots, and
//! frees it when the last clone of the handle is dropped. Handles hold only a weak
//! reference to the state, so a handle captured by a Rust callback does not keep the
//! whole state alive; once the `Lua` is dropped, operations on a handle return
//! [`Error::StateDropped`].

use std::ffi::c_void;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::rc::{Rc, Weak};

use moonbox_engine::value::LuaType;
use moonbox_engine::Value as Raw;

use crate::error::{Error, Result};
use crate::lua::{Inner, Lua};
use crate::thread::Thread;
use crate::userdata::AnyUserData;
use crate::{Function, LuaString, Table};

/// The shared core of every handle: an anchor slot and the raw value it keeps alive.
pub(crate) struct Ref {
    pub(crate) inner: Weak<Inner>,
    pub(crate) lua_id: u64,
    pub(crate) slot: u32,
    /// The object; alive while the anchor slot holds it (and the state lives).
    pub(crate) raw: Raw,
}

impl Ref {
    /// The state, or `StateDropped`.
    pub(crate) fn lua(&self) -> Result<Lua> {
        match self.inner.upgrade() {
            Some(inner) => Ok(Lua { inner }),
            None => Err(Error::StateDropped),
        }
    }

    /// The raw value for use in `inner`'s VM, checking the handle belongs to it.
    #[inline]
    pub(crate) fn raw_for(&self, inner: &Inner) -> Result<Raw> {
        if self.lua_id == inner.id {
            Ok(self.raw)
        } else {
            Err(Error::MismatchedLua)
        }
    }
}

impl Drop for Ref {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.release_slot(self.slot);
        }
    }
}

impl fmt::Debug for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:#x}", self.raw.type_name(), self.raw.addr())
    }
}

/// A light userdata: an opaque pointer-sized value that Lua stores but never
/// dereferences (only the low 47 bits survive the round trip).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LightUserData(pub *mut c_void);

/// A Lua value owned by Rust.
///
/// Reference types are handles that keep their object alive (see the module docs).
/// Numbers are `f64`, as in Lua 5.1 and LuaJIT (there is no integer subtype; the
/// integer conversions check that a number is integral and in range).
///
/// ```
/// use moonbox::{Lua, Value};
///
/// let lua = Lua::new();
/// let v: Value = lua.load("{ 1, 2, 3 }").eval()?;
/// match v {
///     Value::Table(t) => assert_eq!(t.len()?, 3),
///     other => panic!("expected a table, got {}", other.type_name()),
/// }
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone, Default)]
pub enum Value {
    /// `nil`.
    #[default]
    Nil,
    /// `true` or `false`.
    Boolean(bool),
    /// A light userdata.
    LightUserData(LightUserData),
    /// A number (an IEEE double).
    Number(f64),
    /// A string (arbitrary bytes).
    String(LuaString),
    /// A table.
    Table(Table),
    /// A Lua or Rust function.
    Function(Function),
    /// A coroutine.
    Thread(Thread),
    /// A full userdata.
    UserData(AnyUserData),
    /// An FFI C data object (`1LL`, a struct, a pointer): an opaque handle, which
    /// Rust can hold and pass back to Lua.
    CData(CData),
}

/// A handle to an FFI cdata object (`type(x) == "cdata"`). Opaque to Rust: pass it
/// back to Lua, or convert it there (`tonumber`, `tostring`).
#[derive(Clone, Debug)]
pub struct CData(pub(crate) Rc<Ref>);

impl Value {
    /// The name Lua's `type()` gives this value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Boolean(_) => "boolean",
            Value::LightUserData(_) => "userdata",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Table(_) => "table",
            Value::Function(_) => "function",
            Value::Thread(_) => "thread",
            Value::UserData(_) => "userdata",
            Value::CData(_) => "cdata",
        }
    }

    /// Is it `nil`?
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The boolean, if it is one.
    pub fn as_boolean(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if it is one.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The string, if it is one.
    pub fn as_string(&self) -> Option<&LuaString> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The table, if it is one.
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The function, if it is one.
    pub fn as_function(&self) -> Option<&Function> {
        match self {
            Value::Function(f) => Some(f),
            _ => None,
        }
    }

    /// The userdata, if it is one.
    pub fn as_userdata(&self) -> Option<&AnyUserData> {
        match self {
            Value::UserData(u) => Some(u),
            _ => None,
        }
    }

    /// The coroutine, if it is one.
    pub fn as_thread(&self) -> Option<&Thread> {
        match self {
            Value::Thread(t) => Some(t),
            _ => None,
        }
    }

    /// Lua truthiness: everything but `nil` and `false` is true.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Boolean(false))
    }

    /// The handle core of a reference value.
    pub(crate) fn as_ref_core(&self) -> Option<&Ref> {
        match self {
            Value::String(s) => Some(&s.0),
            Value::Table(t) => Some(&t.0),
            Value::Function(f) => Some(&f.0),
            Value::Thread(t) => Some(&t.0),
            Value::UserData(u) => Some(&u.r),
            Value::CData(c) => Some(&c.0),
            _ => None,
        }
    }

    /// The raw engine value, for the VM of `inner`.
    pub(crate) fn to_raw(&self, inner: &Inner) -> Result<Raw> {
        Ok(match self {
            Value::Nil => Raw::NIL,
            Value::Boolean(b) => Raw::boolean(*b),
            Value::LightUserData(p) => Raw::light_userdata(p.0 as usize as u64),
            Value::Number(n) => Raw::number(*n),
            _ => match self.as_ref_core() {
                Some(r) => r.raw_for(inner)?,
                None => Raw::NIL,
            },
        })
    }
}

impl Inner {
    /// Makes an owned value from a raw one (anchoring reference types).
    pub(crate) fn value_from_raw(self: &Rc<Self>, vm: &mut moonbox_engine::Vm, raw: Raw) -> Value {
        match raw.lua_type() {
            LuaType::Nil | LuaType::Proto => Value::Nil,
            LuaType::Boolean => Value::Boolean(raw.truthy()),
            LuaType::Number => Value::Number(raw.num()),
            LuaType::LightUserdata => Value::LightUserData(LightUserData(raw.addr() as *mut c_void)),
            LuaType::String => Value::String(LuaString::from_ref(self.make_ref(vm, raw))),
            LuaType::Table => Value::Table(Table(self.make_ref(vm, raw))),
            LuaType::Function => Value::Function(Function(self.make_ref(vm, raw))),
            LuaType::Thread => Value::Thread(Thread(self.make_ref(vm, raw))),
            LuaType::Userdata => Value::UserData(AnyUserData::from_raw(self, vm, raw)),
            LuaType::CData => Value::CData(CData(self.make_ref(vm, raw))),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::LightUserData(p) => write!(f, "userdata: {:p}", p.0),
            Value::Number(n) => write!(f, "{n}"),
            Value::String(s) => write!(f, "{:?}", String::from_utf8_lossy(&s.as_bytes())),
            Value::Table(t) => write!(f, "{:?}", t.0),
            Value::Function(x) => write!(f, "{:?}", x.0),
            Value::Thread(t) => write!(f, "{:?}", t.0),
            Value::UserData(u) => write!(f, "{:?}", u.r),
            Value::CData(c) => write!(f, "{:?}", c.0),
        }
    }
}

impl PartialEq for Value {
    /// Raw equality: primitives by value, strings by contents, other reference types
    /// by identity (no `__eq`).
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::LightUserData(a), Value::LightUserData(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            _ => match (self.as_ref_core(), other.as_ref_core()) {
                (Some(a), Some(b)) => a.lua_id == b.lua_id && a.raw == b.raw,
                _ => false,
            },
        }
    }
}

/// Several values: the arguments or results of a call.
///
/// ```
/// use moonbox::{Lua, MultiValue};
///
/// let lua = Lua::new();
/// let r: MultiValue = lua.load("return 1, 'two', nil").eval()?;
/// assert_eq!(r.len(), 3);
/// assert_eq!(r[0].as_number(), Some(1.0));
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MultiValue(Vec<Value>);

impl MultiValue {
    /// No values.
    pub fn new() -> MultiValue {
        MultiValue(Vec::new())
    }
    /// From a vector, first value first.
    pub fn from_vec(v: Vec<Value>) -> MultiValue {
        MultiValue(v)
    }
    /// The values, first value first.
    pub fn into_vec(self) -> Vec<Value> {
        self.0
    }
}

impl Deref for MultiValue {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl DerefMut for MultiValue {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

impl FromIterator<Value> for MultiValue {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        MultiValue(iter.into_iter().collect())
    }
}

impl IntoIterator for MultiValue {
    type Item = Value;
    type IntoIter = std::vec::IntoIter<Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Any number of values of one type, as the last argument or result of a call.
///
/// ```
/// use moonbox::{Lua, Variadic};
///
/// let lua = Lua::new();
/// let sum = lua.create_function(|_, xs: Variadic<f64>| Ok(xs.iter().sum::<f64>()))?;
/// assert_eq!(sum.call::<_, f64>((1, 2, 3.5))?, 6.5);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Variadic<T>(Vec<T>);

impl<T> Variadic<T> {
    /// No values.
    pub fn new() -> Variadic<T> {
        Variadic(Vec::new())
    }
}

impl<T> From<Vec<T>> for Variadic<T> {
    fn from(v: Vec<T>) -> Self {
        Variadic(v)
    }
}

impl<T> From<Variadic<T>> for Vec<T> {
    fn from(v: Variadic<T>) -> Self {
        v.0
    }
}

impl<T> FromIterator<T> for Variadic<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Variadic(iter.into_iter().collect())
    }
}

impl<T> IntoIterator for Variadic<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<T> Deref for Variadic<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T> DerefMut for Variadic<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}
