//! Owned Lua values and the handle machinery behind them.
//!
//! A handle ([`Table`], [`Function`], [`LuaString`], [`Thread`], [`AnyUserData`]) keeps
//! its Lua object alive: it owns a slot in an anchor table that the state roots, and
//! frees it when the last clone of the handle is dropped. Handles hold only a weak
//! reference to the state, so a handle captured by a Rust callback does not keep the
//! whole state alive; once the last `Lua` is dropped, operations on a handle return
//! [`Error::StateDropped`].

use std::cmp::Ordering;
use std::collections::HashSet;
use std::ffi::c_void;
use std::fmt;

use moonbox_engine::value::LuaType;
use moonbox_engine::Value as Raw;

use crate::error::{Error, Result};
use crate::lua::Inner;
use crate::state::Lua;
use crate::sync::{XRc, XWeak};
use crate::thread::Thread;
use crate::types::{Integer, LightUserData, Number};
use crate::userdata::AnyUserData;
use crate::{BorrowedStr, Function, String as LuaString, Table};

pub use crate::multi::{MultiValue, Variadic};

/// The shared core of every handle: an anchor slot and the raw value it keeps alive.
pub(crate) struct Ref {
    pub(crate) inner: XWeak<Inner>,
    pub(crate) lua_id: u64,
    pub(crate) slot: u32,
    /// The object; alive while the anchor slot holds it (and the state lives).
    pub(crate) raw: Raw,
}

#[cfg(feature = "send")]
// SAFETY: `raw` is only used under the state's lock (every facade operation takes
// it), never dereferenced outside it; the rest is `Send + Sync`.
unsafe impl Send for Ref {}
#[cfg(feature = "send")]
// SAFETY: as above.
unsafe impl Sync for Ref {}

impl Ref {
    /// The state, or `StateDropped`.
    #[inline]
    pub(crate) fn lua(&self) -> Result<Lua> {
        match self.inner.upgrade() {
            Some(inner) => Ok(Lua::from_inner(inner)),
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

    /// The object's address, for identity and printing.
    pub(crate) fn to_pointer(&self) -> *const c_void {
        self.raw.addr() as *const c_void
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
        write!(f, "Ref({:p})", self.to_pointer())
    }
}

/// A Lua value owned by Rust.
///
/// Reference types are handles that keep their object alive (see the module docs).
/// LuaJIT's numbers are doubles; one with an exact `i64` value comes to Rust as
/// [`Value::Integer`], any other as [`Value::Number`] (as mlua's `luajit` feature
/// does); both go back to Lua as the same double.
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
/// assert_eq!(lua.load("7").eval::<Value>()?, Value::Integer(7));
/// assert_eq!(lua.load("7.5").eval::<Value>()?, Value::Number(7.5));
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
    /// A number with an exact integer value.
    Integer(Integer),
    /// Any other number.
    Number(Number),
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
    /// An [`Error`] as a Lua value (a userdata whose `tostring` is the message).
    Error(Box<Error>),
    /// Any other value: an FFI C data object (`1LL`, a struct, a pointer), as mlua
    /// with LuaJIT shows one. Opaque to Rust: pass it back to Lua, or convert it
    /// there (`tonumber`, `tostring`).
    Other(CData),
}

/// A handle to an FFI cdata object (`type(x) == "cdata"`), the payload of
/// [`Value::Other`].
#[derive(Clone, Debug)]
pub struct CData(pub(crate) XRc<Ref>);

pub use self::Value::Nil;

impl Value {
    /// A light userdata holding a null pointer: a `nil` that tables can hold (used as
    /// JSON's `null` by the serde support).
    pub const NULL: Value = Value::LightUserData(LightUserData(std::ptr::null_mut()));

    /// The name Lua's `type()` gives this value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Boolean(_) => "boolean",
            Value::LightUserData(_) => "lightuserdata",
            Value::Integer(_) => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Table(_) => "table",
            Value::Function(_) => "function",
            Value::Thread(_) => "thread",
            Value::UserData(_) => "userdata",
            Value::Other(_) => "cdata",
            Value::Error(_) => "error",
        }
    }

    /// Compares with `==`, calling `__eq` for tables and userdata.
    pub fn equals(&self, other: &Value) -> Result<bool> {
        match (self, other) {
            (Value::Table(a), Value::Table(b)) => a.equals(b),
            (Value::UserData(a), Value::UserData(b)) => a.equals(b),
            (a, b) => Ok(a == b),
        }
    }

    /// The address of a reference value (null for other values).
    pub fn to_pointer(&self) -> *const c_void {
        match self {
            Value::LightUserData(p) => p.0,
            _ => match self.as_ref_core() {
                Some(r) => r.to_pointer(),
                None => std::ptr::null(),
            },
        }
    }

    /// The value as Lua's `tostring` shows it (calling `__tostring`).
    pub fn to_string(&self) -> Result<String> {
        match self {
            Value::Nil => Ok("nil".to_string()),
            Value::Boolean(b) => Ok(b.to_string()),
            Value::LightUserData(p) if p.0.is_null() => Ok("null".to_string()),
            Value::LightUserData(p) => Ok(format!("lightuserdata: {:p}", p.0)),
            Value::Integer(i) => Ok(i.to_string()),
            Value::Number(n) => Ok(n.to_string()),
            Value::String(s) => Ok(s.to_str()?.to_string()),
            Value::Error(e) => Ok(e.to_string()),
            _ => {
                let Some(r) = self.as_ref_core() else { return Ok(String::new()) };
                let lua = r.lua()?;
                let raw = r.raw_for(&lua.inner)?;
                let inner = &lua.inner;
                inner.try_vm(|vm| match vm.tostring(raw) {
                    Ok(v) => Ok(String::from_utf8_lossy(&vm.tostring_basic(v)).into_owned()),
                    Err(e) => Err(inner.convert_error(vm, e)),
                })
            }
        }
    }

    /// Is it `nil`?
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Is it [`Value::NULL`]?
    pub fn is_null(&self) -> bool {
        matches!(self, Value::LightUserData(p) if p.0.is_null())
    }

    /// Is it a boolean?
    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Boolean(_))
    }

    /// The boolean, if it is one.
    pub fn as_boolean(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// Is it a light userdata?
    pub fn is_light_userdata(&self) -> bool {
        matches!(self, Value::LightUserData(_))
    }

    /// The light userdata, if it is one.
    pub fn as_light_userdata(&self) -> Option<LightUserData> {
        match self {
            Value::LightUserData(p) => Some(*p),
            _ => None,
        }
    }

    /// Is it an integer?
    pub fn is_integer(&self) -> bool {
        matches!(self, Value::Integer(_))
    }

    /// The integer, if it is one.
    pub fn as_integer(&self) -> Option<Integer> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The integer as `i32`, if it is one and fits.
    pub fn as_i32(&self) -> Option<i32> {
        self.as_integer().and_then(|i| i32::try_from(i).ok())
    }

    /// The integer as `u32`, if it is one and fits.
    pub fn as_u32(&self) -> Option<u32> {
        self.as_integer().and_then(|i| u32::try_from(i).ok())
    }

    /// The integer as `i64`, if it is one.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_integer()
    }

    /// The integer as `u64`, if it is one and fits.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_integer().and_then(|i| u64::try_from(i).ok())
    }

    /// The integer as `isize`, if it is one and fits.
    pub fn as_isize(&self) -> Option<isize> {
        self.as_integer().and_then(|i| isize::try_from(i).ok())
    }

    /// The integer as `usize`, if it is one and fits.
    pub fn as_usize(&self) -> Option<usize> {
        self.as_integer().and_then(|i| usize::try_from(i).ok())
    }

    /// Is it a (non-integer) number?
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }

    /// The number, if it is one (integers included).
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Integer(i) => Some(*i as Number),
            _ => None,
        }
    }

    /// The number as `f32`, if it is one.
    pub fn as_f32(&self) -> Option<f32> {
        self.as_number().map(|n| n as f32)
    }

    /// The number as `f64`, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number()
    }

    /// Is it a string?
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// The string, if it is one.
    pub fn as_string(&self) -> Option<&LuaString> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The string as `&str`, if it is a UTF-8 string.
    pub fn as_str(&self) -> Option<BorrowedStr<'_>> {
        self.as_string().and_then(|s| s.to_str().ok())
    }

    /// The string, with invalid UTF-8 replaced, if it is one.
    pub fn as_string_lossy(&self) -> Option<String> {
        self.as_string().map(|s| s.to_string_lossy())
    }

    /// Is it a table?
    pub fn is_table(&self) -> bool {
        matches!(self, Value::Table(_))
    }

    /// The table, if it is one.
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// Is it a coroutine?
    pub fn is_thread(&self) -> bool {
        matches!(self, Value::Thread(_))
    }

    /// The coroutine, if it is one.
    pub fn as_thread(&self) -> Option<&Thread> {
        match self {
            Value::Thread(t) => Some(t),
            _ => None,
        }
    }

    /// Is it a function?
    pub fn is_function(&self) -> bool {
        matches!(self, Value::Function(_))
    }

    /// The function, if it is one.
    pub fn as_function(&self) -> Option<&Function> {
        match self {
            Value::Function(f) => Some(f),
            _ => None,
        }
    }

    /// Is it a full userdata?
    pub fn is_userdata(&self) -> bool {
        matches!(self, Value::UserData(_))
    }

    /// The userdata, if it is one.
    pub fn as_userdata(&self) -> Option<&AnyUserData> {
        match self {
            Value::UserData(u) => Some(u),
            _ => None,
        }
    }

    /// Is it an error?
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }

    /// The error, if it is one.
    pub fn as_error(&self) -> Option<&Error> {
        match self {
            Value::Error(e) => Some(e),
            _ => None,
        }
    }

    /// Lua truthiness: everything but `nil` and `false` is true.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Boolean(false))
    }

    /// A wrapper that serializes this value with options (see [`SerializableValue`]).
    #[cfg(feature = "serde")]
    pub fn to_serializable(&self) -> crate::serde::SerializableValue<'_> {
        crate::serde::SerializableValue::new(self)
    }

    /// The handle core of a reference value.
    pub(crate) fn as_ref_core(&self) -> Option<&Ref> {
        match self {
            Value::String(s) => Some(&s.0),
            Value::Table(t) => Some(&t.0),
            Value::Function(f) => Some(&f.0),
            Value::Thread(t) => Some(&t.0),
            Value::UserData(u) => Some(&u.r),
            Value::Other(c) => Some(&c.0),
            _ => None,
        }
    }

    /// The raw engine value, for the VM of `inner` (an [`Value::Error`] must be
    /// pushed with `Lua::push_value`, which makes its userdata).
    pub(crate) fn to_raw(&self, inner: &Inner) -> Result<Raw> {
        Ok(match self {
            Value::Nil => Raw::NIL,
            Value::Boolean(b) => Raw::boolean(*b),
            Value::LightUserData(p) => Raw::light_userdata(p.0 as usize as u64),
            Value::Integer(i) => Raw::number(*i as f64),
            Value::Number(n) => Raw::number(*n),
            Value::Error(_) => return Err(Error::runtime("an error value cannot be used here")),
            _ => match self.as_ref_core() {
                Some(r) => r.raw_for(inner)?,
                None => Raw::NIL,
            },
        })
    }

    /// Orders values for printing tables (as mlua: nil, booleans, numbers, strings,
    /// then the rest by address).
    pub(crate) fn sort_cmp(&self, other: &Value) -> Ordering {
        fn cmp_num(a: f64, b: f64) -> Ordering {
            a.partial_cmp(&b).unwrap_or(Ordering::Equal)
        }
        match (self, other) {
            (Value::Nil, Value::Nil) => Ordering::Equal,
            (Value::Nil, _) => Ordering::Less,
            (_, Value::Nil) => Ordering::Greater,
            (Value::LightUserData(a), Value::LightUserData(b)) if a == b => Ordering::Equal,
            (Value::LightUserData(a), _) if a.0.is_null() => Ordering::Less,
            (_, Value::LightUserData(b)) if b.0.is_null() => Ordering::Greater,
            (Value::Boolean(a), Value::Boolean(b)) => a.cmp(b),
            (Value::Boolean(_), _) => Ordering::Less,
            (_, Value::Boolean(_)) => Ordering::Greater,
            (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
            (Value::Integer(a), Value::Number(b)) => cmp_num(*a as f64, *b),
            (Value::Number(a), Value::Integer(b)) => cmp_num(*a, *b as f64),
            (Value::Number(a), Value::Number(b)) => cmp_num(*a, *b),
            (Value::Integer(_) | Value::Number(_), _) => Ordering::Less,
            (_, Value::Integer(_) | Value::Number(_)) => Ordering::Greater,
            (Value::String(a), Value::String(b)) => a.as_bytes().cmp(&b.as_bytes()),
            (Value::String(_), _) => Ordering::Less,
            (_, Value::String(_)) => Ordering::Greater,
            (a, b) => a.to_pointer().cmp(&b.to_pointer()),
        }
    }

    pub(crate) fn fmt_pretty(
        &self,
        f: &mut fmt::Formatter<'_>,
        recursive: bool,
        indent: usize,
        visited: &mut HashSet<*const c_void>,
    ) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::LightUserData(p) if p.0.is_null() => write!(f, "null"),
            Value::LightUserData(p) => write!(f, "lightuserdata: {:?}", p.0),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Table(t) if recursive && !visited.contains(&t.to_pointer()) => t.fmt_pretty(f, indent, visited),
            t @ Value::Table(_) => write!(f, "table: {:?}", t.to_pointer()),
            v @ Value::Function(_) => write!(f, "function: {:?}", v.to_pointer()),
            v @ Value::Thread(_) => write!(f, "thread: {:?}", v.to_pointer()),
            v @ Value::UserData(ud) => {
                let s = ud
                    .type_name()
                    .ok()
                    .flatten()
                    .map(|name| format!("{name}: {:?}", v.to_pointer()))
                    .or_else(|| v.to_string().ok())
                    .unwrap_or_else(|| format!("userdata: {:?}", v.to_pointer()));
                write!(f, "{s}")
            }
            Value::Error(e) if recursive => write!(f, "{e:?}"),
            Value::Error(_) => write!(f, "error"),
            v @ Value::Other(_) => write!(f, "cdata: {:?}", v.to_pointer()),
        }
    }
}

impl Inner {
    /// Makes an owned value from a raw one (anchoring reference types).
    pub(crate) fn value_from_raw(self: &XRc<Self>, vm: &mut moonbox_engine::Vm, raw: Raw) -> Value {
        match raw.lua_type() {
            LuaType::Nil | LuaType::Proto => Value::Nil,
            LuaType::Boolean => Value::Boolean(raw.truthy()),
            LuaType::Number => number_value(raw.num()),
            LuaType::LightUserdata => Value::LightUserData(LightUserData(raw.addr() as *mut c_void)),
            LuaType::String => Value::String(LuaString::from_ref(self.make_ref(vm, raw))),
            LuaType::Table => Value::Table(Table(self.make_ref(vm, raw))),
            LuaType::Function => Value::Function(Function(self.make_ref(vm, raw))),
            LuaType::Thread => Value::Thread(Thread::from_ref(self.make_ref(vm, raw))),
            LuaType::Userdata => match crate::userdata::wrapped_error(raw) {
                Some(e) => Value::Error(Box::new(e)),
                None => Value::UserData(AnyUserData::from_raw(self, vm, raw)),
            },
            LuaType::CData => Value::Other(CData(self.make_ref(vm, raw))),
        }
    }
}

/// A Lua number as a value: [`Value::Integer`] when it holds an exact `i64`.
#[inline]
pub(crate) fn number_value(n: f64) -> Value {
    match crate::conv::f64_to_integer_exact(n) {
        Some(i) => Value::Integer(i),
        None => Value::Number(n),
    }
}

impl fmt::Debug for Value {
    /// `{:?}` shows the variant (`Integer(1)`, `String("a")`, `Table(Ref(0x..))`);
    /// `{:#?}` pretty-prints values, tables with their contents, as mlua does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return self.fmt_pretty(f, true, 0, &mut HashSet::new());
        }
        match self {
            Value::Nil => write!(f, "Nil"),
            Value::Boolean(b) => write!(f, "Boolean({b})"),
            Value::LightUserData(p) => write!(f, "{p:?}"),
            Value::Integer(i) => write!(f, "Integer({i})"),
            Value::Number(n) => write!(f, "Number({n})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Table(t) => write!(f, "{t:?}"),
            Value::Function(x) => write!(f, "{x:?}"),
            Value::Thread(t) => write!(f, "{t:?}"),
            Value::UserData(u) => write!(f, "{u:?}"),
            Value::Error(e) => write!(f, "Error({e:?})"),
            Value::Other(c) => write!(f, "Other({:?})", c.0),
        }
    }
}

impl PartialEq for Value {
    /// Raw equality: primitives by value (an integer equals the same number), strings
    /// by contents, other reference types by identity (no `__eq`).
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::LightUserData(a), Value::LightUserData(b)) => a == b,
            (Value::Integer(a), Value::Integer(b)) => a == b,
            (Value::Integer(a), Value::Number(b)) => *a as f64 == *b,
            (Value::Number(a), Value::Integer(b)) => *a == *b as f64,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            _ => match (self.as_ref_core(), other.as_ref_core()) {
                (Some(a), Some(b)) => a.lua_id == b.lua_id && a.raw == b.raw,
                _ => false,
            },
        }
    }
}

impl AsRef<Value> for Value {
    fn as_ref(&self) -> &Value {
        self
    }
}
