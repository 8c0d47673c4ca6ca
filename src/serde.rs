//! serde support (feature `serde`): [`LuaSerdeExt`] converts between Rust values and
//! Lua values through serde, [`Value`] implements `Serialize` (so a Lua table can be
//! written as JSON), and serializable userdata carry their Rust value's `Serialize`.
//!
//! The shapes follow mlua 0.11: Rust sequences become tables marked with
//! [`array_metatable`](LuaSerdeExt::array_metatable), `None` and `()` become
//! [`null`](LuaSerdeExt::null), structs and maps become tables, enum variants follow
//! serde's externally tagged form (`"Variant"` or `{ Variant = ... }`).
//!
//! ```
//! use moonbox::{Lua, LuaSerdeExt};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Point { x: i32, y: i32 }
//!
//! let lua = Lua::new();
//! let v = lua.to_value(&Point { x: 1, y: 2 })?;
//! lua.globals().set("p", v)?;
//! let p: Point = lua.from_value(lua.load("{ x = p.y, y = p.x }").eval()?)?;
//! assert_eq!(p, Point { x: 2, y: 1 });
//! # Ok::<(), moonbox::Error>(())
//! ```

use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::c_void;
use std::rc::Rc;

use serde::de::{self, DeserializeOwned, Visitor};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq};

use crate::error::{Error, Result};
use crate::state::Lua;
use crate::types::{AnyBox, MaybeSend};
use crate::userdata::{UdCell, UserData};
use crate::value::Value;
use crate::{AnyUserData, String as LuaString, Table};

/// Makes a serializer of a userdata's value (see `UdPayload::ser`).
pub(crate) type SerFn = fn(&AnyBox) -> Option<Box<dyn erased_serde::Serialize>>;

/// A userdata's value, serialized under its lock.
struct SerCell<T: 'static>(UdCell<T>);

impl<T: Serialize + 'static> Serialize for SerCell<T> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let g = self.0.try_read().ok_or_else(|| ser::Error::custom(Error::UserDataBorrowError))?;
        match &*g {
            Some(v) => v.serialize(s),
            None => Err(ser::Error::custom(Error::UserDataDestructed)),
        }
    }
}

fn ser_fn<T: Serialize + 'static>(cell: &AnyBox) -> Option<Box<dyn erased_serde::Serialize>> {
    let c = cell.downcast_ref::<UdCell<T>>()?;
    Some(Box::new(SerCell(c.clone())))
}

mod private {
    pub trait Sealed {}
    impl Sealed for crate::Lua {}
}

/// serde conversions on a [`Lua`] state, as mlua's `LuaSerdeExt`.
pub trait LuaSerdeExt: private::Sealed {
    /// The value that stands for `null` (a null light userdata, [`Value::NULL`]).
    fn null(&self) -> Value;

    /// The metatable that marks a table as an array (so an empty one serializes as
    /// `[]`).
    fn array_metatable(&self) -> Table;

    /// Converts a `Serialize` value to a Lua value.
    fn to_value<T: Serialize + ?Sized>(&self, t: &T) -> Result<Value>;

    /// Like [`to_value`](LuaSerdeExt::to_value) with options.
    fn to_value_with<T: Serialize + ?Sized>(&self, t: &T, options: SerializeOptions) -> Result<Value>;

    /// Converts a Lua value to a `Deserialize` value.
    #[allow(clippy::wrong_self_convention)] // mlua's name
    fn from_value<T: DeserializeOwned>(&self, value: Value) -> Result<T>;

    /// Like [`from_value`](LuaSerdeExt::from_value) with options.
    #[allow(clippy::wrong_self_convention)] // mlua's name
    fn from_value_with<T: DeserializeOwned>(&self, value: Value, options: DeserializeOptions) -> Result<T>;
}

impl LuaSerdeExt for Lua {
    fn null(&self) -> Value {
        Value::NULL
    }

    fn array_metatable(&self) -> Table {
        match self.array_mt() {
            Ok(t) => t,
            // Only when the state is busy or gone: a fresh table marks nothing.
            Err(_) => self.globals(),
        }
    }

    fn to_value<T: Serialize + ?Sized>(&self, t: &T) -> Result<Value> {
        t.serialize(Serializer { lua: self, options: SerializeOptions::new() })
    }

    fn to_value_with<T: Serialize + ?Sized>(&self, t: &T, options: SerializeOptions) -> Result<Value> {
        t.serialize(Serializer { lua: self, options })
    }

    fn from_value<T: DeserializeOwned>(&self, value: Value) -> Result<T> {
        T::deserialize(Deserializer::new(value, DeserializeOptions::new()))
    }

    fn from_value_with<T: DeserializeOwned>(&self, value: Value, options: DeserializeOptions) -> Result<T> {
        T::deserialize(Deserializer::new(value, options))
    }
}

const ARRAY_MT_KEY: &str = "moonbox.array_mt";

impl Lua {
    fn array_mt(&self) -> Result<Table> {
        if let Some(t) = self.named_registry_value::<Option<Table>>(ARRAY_MT_KEY)? {
            return Ok(t);
        }
        let t = self.create_table()?;
        self.set_named_registry_value(ARRAY_MT_KEY, &t)?;
        Ok(t)
    }

    /// Moves a [`UserData`] value that is also `Serialize` into Lua: serializing the
    /// userdata (e.g. inside a table written as JSON) serializes the value.
    pub fn create_ser_userdata<T>(&self, data: T) -> Result<crate::AnyUserData>
    where
        T: UserData + Serialize + MaybeSend + crate::types::MaybeSync + 'static,
    {
        let mt = self.userdata_metatable::<T>(T::register)?;
        self.new_userdata_with(data, mt, Some(ser_fn::<T> as SerFn))
    }

    /// Like [`create_ser_userdata`](Lua::create_ser_userdata) for any `Serialize` value.
    pub fn create_ser_any_userdata<T>(&self, data: T) -> Result<crate::AnyUserData>
    where
        T: Serialize + MaybeSend + crate::types::MaybeSync + 'static,
    {
        let mt = self.userdata_metatable::<T>(|_| {})?;
        self.new_userdata_with(data, mt, Some(ser_fn::<T> as SerFn))
    }
}

// ----- Rust -> Lua ----------------------------------------------------------------------

/// Options for [`LuaSerdeExt::to_value_with`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct SerializeOptions {
    /// Mark tables made from sequences with the array metatable (default true).
    pub set_array_metatable: bool,
    /// `None` becomes `null` rather than `nil` (default true).
    pub serialize_none_to_null: bool,
    /// `()` and unit structs become `null` rather than `nil` (default true).
    pub serialize_unit_to_null: bool,
    /// Read serde_json's arbitrary-precision numbers as numbers (default false).
    pub detect_serde_json_arbitrary_precision: bool,
}

impl Default for SerializeOptions {
    fn default() -> Self {
        SerializeOptions::new()
    }
}

impl SerializeOptions {
    /// The defaults.
    pub const fn new() -> SerializeOptions {
        SerializeOptions {
            set_array_metatable: true,
            serialize_none_to_null: true,
            serialize_unit_to_null: true,
            detect_serde_json_arbitrary_precision: false,
        }
    }
    /// Sets [`set_array_metatable`](SerializeOptions::set_array_metatable).
    #[must_use]
    pub const fn set_array_metatable(mut self, enabled: bool) -> Self {
        self.set_array_metatable = enabled;
        self
    }
    /// Sets [`serialize_none_to_null`](SerializeOptions::serialize_none_to_null).
    #[must_use]
    pub const fn serialize_none_to_null(mut self, enabled: bool) -> Self {
        self.serialize_none_to_null = enabled;
        self
    }
    /// Sets [`serialize_unit_to_null`](SerializeOptions::serialize_unit_to_null).
    #[must_use]
    pub const fn serialize_unit_to_null(mut self, enabled: bool) -> Self {
        self.serialize_unit_to_null = enabled;
        self
    }
    /// Sets [`detect_serde_json_arbitrary_precision`](SerializeOptions::detect_serde_json_arbitrary_precision).
    #[must_use]
    pub const fn detect_serde_json_arbitrary_precision(mut self, enabled: bool) -> Self {
        self.detect_serde_json_arbitrary_precision = enabled;
        self
    }
}

/// serde's `Serializer` producing a Lua [`Value`].
struct Serializer<'a> {
    lua: &'a Lua,
    options: SerializeOptions,
}

impl Serializer<'_> {
    fn unit(&self) -> Value {
        if self.options.serialize_unit_to_null {
            Value::NULL
        } else {
            Value::Nil
        }
    }

    fn array(&self, len: Option<usize>) -> Result<Table> {
        let t = self.lua.create_table_with_capacity(len.unwrap_or(0), 0)?;
        if self.options.set_array_metatable {
            t.set_metatable(Some(self.lua.array_mt()?))?;
        }
        Ok(t)
    }

    /// `{ variant = value }`.
    fn variant(&self, variant: &str, value: Value) -> Result<Value> {
        let t = self.lua.create_table_with_capacity(0, 1)?;
        t.raw_set(variant, value)?;
        Ok(Value::Table(t))
    }
}

/// A sequence being built.
struct SeqBuilder<'a> {
    ser: Serializer<'a>,
    table: Table,
    n: usize,
    /// For tuple variants: the variant's name.
    variant: Option<&'static str>,
}

impl SeqBuilder<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        let v = v.serialize(Serializer { lua: self.ser.lua, options: self.ser.options })?;
        self.n += 1;
        self.table.raw_set(self.n as f64, v)
    }

    fn finish(self) -> Result<Value> {
        match self.variant {
            Some(name) => self.ser.variant(name, Value::Table(self.table)),
            None => Ok(Value::Table(self.table)),
        }
    }
}

impl ser::SerializeSeq for SeqBuilder<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.push(v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqBuilder<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.push(v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqBuilder<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.push(v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqBuilder<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.push(v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

/// A map or struct being built.
struct MapBuilder<'a> {
    ser: Serializer<'a>,
    table: Table,
    key: Option<Value>,
    variant: Option<&'static str>,
    /// serde_json's arbitrary-precision number, when detected.
    number: Option<Value>,
}

impl MapBuilder<'_> {
    fn value<T: Serialize + ?Sized>(&self, v: &T) -> Result<Value> {
        v.serialize(Serializer { lua: self.ser.lua, options: self.ser.options })
    }

    fn finish(self) -> Result<Value> {
        if let Some(n) = self.number {
            return Ok(n);
        }
        match self.variant {
            Some(name) => self.ser.variant(name, Value::Table(self.table)),
            None => Ok(Value::Table(self.table)),
        }
    }
}

impl ser::SerializeMap for MapBuilder<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<()> {
        self.key = Some(self.value(k)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        let k = self.key.take().ok_or_else(|| Error::SerializeError("value without a key".to_string()))?;
        let v = self.value(v)?;
        self.table.raw_set(k, v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

const JSON_NUMBER: &str = "$serde_json::private::Number";

impl ser::SerializeStruct for MapBuilder<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        let v = self.value(v)?;
        if key == JSON_NUMBER && self.ser.options.detect_serde_json_arbitrary_precision {
            let n = v.as_str().and_then(|s| s.parse::<f64>().ok()).unwrap_or(f64::NAN);
            self.number = Some(crate::value::number_value(n));
            return Ok(());
        }
        self.table.raw_set(key, v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for MapBuilder<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        let v = self.value(v)?;
        self.table.raw_set(key, v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl<'a> ser::Serializer for Serializer<'a> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqBuilder<'a>;
    type SerializeTuple = SeqBuilder<'a>;
    type SerializeTupleStruct = SeqBuilder<'a>;
    type SerializeTupleVariant = SeqBuilder<'a>;
    type SerializeMap = MapBuilder<'a>;
    type SerializeStruct = MapBuilder<'a>;
    type SerializeStructVariant = MapBuilder<'a>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Boolean(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value> {
        Ok(Value::Integer(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value> {
        Ok(i64::try_from(v).map(Value::Integer).unwrap_or(Value::Number(v as f64)))
    }
    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value> {
        Ok(i64::try_from(v).map(Value::Integer).unwrap_or(Value::Number(v as f64)))
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        Ok(i64::try_from(v).map(Value::Integer).unwrap_or(Value::Number(v as f64)))
    }
    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Value::Number(v))
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        let mut b = [0; 4];
        self.lua.create_string(v.encode_utf8(&mut b)).map(Value::String)
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        self.lua.create_string(v).map(Value::String)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        self.lua.create_string(v).map(Value::String)
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(if self.options.serialize_none_to_null { Value::NULL } else { Value::Nil })
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Value> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(self.unit())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(self.unit())
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<Value> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, v: &T) -> Result<Value> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Value> {
        let inner = v.serialize(Serializer { lua: self.lua, options: self.options })?;
        self.variant(variant, inner)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder<'a>> {
        let table = self.array(len)?;
        Ok(SeqBuilder { ser: self, table, n: 0, variant: None })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder<'a>> {
        let table = self.array(Some(len))?;
        Ok(SeqBuilder { ser: self, table, n: 0, variant: Some(variant) })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder<'a>> {
        let table = self.lua.create_table_with_capacity(0, len.unwrap_or(0))?;
        Ok(MapBuilder { ser: self, table, key: None, variant: None, number: None })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapBuilder<'a>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapBuilder<'a>> {
        let table = self.lua.create_table_with_capacity(0, len)?;
        Ok(MapBuilder { ser: self, table, key: None, variant: Some(variant), number: None })
    }
}

// ----- Lua -> Rust ----------------------------------------------------------------------

/// Options for [`LuaSerdeExt::from_value_with`] and for serializing Lua values
/// ([`Value::to_serializable`]).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct DeserializeOptions {
    /// Fail on functions, coroutines, non-serializable userdata (default true; else
    /// they are skipped).
    pub deny_unsupported_types: bool,
    /// Fail on a table that contains itself (default true; else it is skipped).
    pub deny_recursive_tables: bool,
    /// Write map keys in order (default false: table order).
    pub sort_keys: bool,
    /// An empty table without the array metatable is an array (default false: a map).
    pub encode_empty_tables_as_array: bool,
    /// Treat a table whose keys are all positive integers as an array, with holes
    /// (default false: only the sequence part decides).
    pub detect_mixed_tables: bool,
}

impl Default for DeserializeOptions {
    fn default() -> Self {
        DeserializeOptions::new()
    }
}

impl DeserializeOptions {
    /// The defaults.
    pub const fn new() -> DeserializeOptions {
        DeserializeOptions {
            deny_unsupported_types: true,
            deny_recursive_tables: true,
            sort_keys: false,
            encode_empty_tables_as_array: false,
            detect_mixed_tables: false,
        }
    }
    /// Sets [`deny_unsupported_types`](DeserializeOptions::deny_unsupported_types).
    #[must_use]
    pub const fn deny_unsupported_types(mut self, enabled: bool) -> Self {
        self.deny_unsupported_types = enabled;
        self
    }
    /// Sets [`deny_recursive_tables`](DeserializeOptions::deny_recursive_tables).
    #[must_use]
    pub const fn deny_recursive_tables(mut self, enabled: bool) -> Self {
        self.deny_recursive_tables = enabled;
        self
    }
    /// Sets [`sort_keys`](DeserializeOptions::sort_keys).
    #[must_use]
    pub const fn sort_keys(mut self, enabled: bool) -> Self {
        self.sort_keys = enabled;
        self
    }
    /// Sets [`encode_empty_tables_as_array`](DeserializeOptions::encode_empty_tables_as_array).
    #[must_use]
    pub const fn encode_empty_tables_as_array(mut self, enabled: bool) -> Self {
        self.encode_empty_tables_as_array = enabled;
        self
    }
    /// Sets [`detect_mixed_tables`](DeserializeOptions::detect_mixed_tables).
    #[must_use]
    pub const fn detect_mixed_tables(mut self, enabled: bool) -> Self {
        self.detect_mixed_tables = enabled;
        self
    }
}

type Visited = Rc<RefCell<HashSet<*const c_void>>>;

impl Table {
    fn has_array_metatable(&self) -> bool {
        let Some(mt) = self.metatable() else { return false };
        let Ok(lua) = self.0.lua() else { return false };
        matches!(lua.named_registry_value::<Option<Table>>(ARRAY_MT_KEY), Ok(Some(a)) if a == mt)
    }

    /// The length to write the table as an array with, or `None` for a map.
    fn array_len(&self, options: DeserializeOptions) -> Option<usize> {
        if options.detect_mixed_tables {
            let (mut count, mut max) = (0usize, 0usize);
            for kv in self.pairs::<Value, Value>() {
                let (k, _) = kv.ok()?;
                let n = k.as_number()?;
                if n.fract() != 0.0 || n < 1.0 {
                    return None;
                }
                max = max.max(n as usize);
                count += 1;
            }
            if count < 10 || count * 2 >= max {
                return Some(max);
            }
            return None;
        }
        let len = self.raw_len();
        if len > 0 || self.has_array_metatable() {
            return Some(len);
        }
        if options.encode_empty_tables_as_array && self.is_empty() {
            return Some(0);
        }
        None
    }
}

fn de_err(msg: &str) -> Error {
    Error::DeserializeError(msg.to_string())
}

/// Skips (or refuses) values that cannot be written.
#[allow(clippy::collapsible_match)]
fn check_skip(v: &Value, options: DeserializeOptions, visited: &Visited) -> std::result::Result<bool, &'static str> {
    match v {
        Value::Table(t) => {
            if visited.borrow().contains(&t.to_pointer()) {
                if options.deny_recursive_tables {
                    return Err("recursive table detected");
                }
                return Ok(true);
            }
        }
        Value::UserData(u) if u.serializer().ok().flatten().is_some() => {}
        Value::LightUserData(p) if p.0.is_null() => {}
        Value::Function(_) | Value::Thread(_) | Value::UserData(_) | Value::LightUserData(_) | Value::Error(_)
            if !options.deny_unsupported_types =>
        {
            return Ok(true)
        }
        _ => {}
    }
    Ok(false)
}

/// A Lua value with the options to serialize it with (see [`Value::to_serializable`]).
pub struct SerializableValue<'a> {
    value: &'a Value,
    options: DeserializeOptions,
    visited: Visited,
}

impl<'a> SerializableValue<'a> {
    pub(crate) fn new(value: &'a Value) -> SerializableValue<'a> {
        SerializableValue { value, options: DeserializeOptions::new(), visited: Visited::default() }
    }

    fn with(value: &'a Value, options: DeserializeOptions, visited: &Visited) -> SerializableValue<'a> {
        SerializableValue { value, options, visited: visited.clone() }
    }

    /// See [`DeserializeOptions::deny_unsupported_types`].
    #[must_use]
    pub fn deny_unsupported_types(mut self, enabled: bool) -> Self {
        self.options.deny_unsupported_types = enabled;
        self
    }
    /// See [`DeserializeOptions::deny_recursive_tables`].
    #[must_use]
    pub fn deny_recursive_tables(mut self, enabled: bool) -> Self {
        self.options.deny_recursive_tables = enabled;
        self
    }
    /// See [`DeserializeOptions::sort_keys`].
    #[must_use]
    pub fn sort_keys(mut self, enabled: bool) -> Self {
        self.options.sort_keys = enabled;
        self
    }
    /// See [`DeserializeOptions::encode_empty_tables_as_array`].
    #[must_use]
    pub fn encode_empty_tables_as_array(mut self, enabled: bool) -> Self {
        self.options.encode_empty_tables_as_array = enabled;
        self
    }
    /// See [`DeserializeOptions::detect_mixed_tables`].
    #[must_use]
    pub fn detect_mixed_tables(mut self, enabled: bool) -> Self {
        self.options.detect_mixed_tables = enabled;
        self
    }
}

impl Serialize for Value {
    /// Writes the value as serde data: tables as sequences or maps (see
    /// [`DeserializeOptions`] for the defaults), `null` as none.
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        SerializableValue::new(self).serialize(s)
    }
}

impl Serialize for SerializableValue<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.value {
            Value::Nil => s.serialize_unit(),
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Integer(i) => s.serialize_i64(*i),
            Value::Number(n) => s.serialize_f64(*n),
            Value::String(st) => st.serialize(s),
            Value::Table(t) => serialize_table(t, self.options, &self.visited, s),
            Value::LightUserData(p) if p.0.is_null() => s.serialize_none(),
            Value::UserData(u) => match u.serializer().map_err(ser::Error::custom)? {
                Some(inner) => erased_serde::serialize(&*inner, s),
                None if self.options.deny_unsupported_types => Err(ser::Error::custom("cannot serialize <userdata>")),
                None => s.serialize_unit(),
            },
            v => {
                if self.options.deny_unsupported_types {
                    Err(ser::Error::custom(format!("cannot serialize <{}>", v.type_name())))
                } else {
                    s.serialize_unit()
                }
            }
        }
    }
}

fn serialize_table<S: ser::Serializer>(
    t: &Table,
    options: DeserializeOptions,
    visited: &Visited,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    let ptr = t.to_pointer();
    visited.borrow_mut().insert(ptr);
    let r = (|| {
        if let Some(len) = t.array_len(options) {
            let mut seq = s.serialize_seq(Some(len))?;
            for i in 1..=len {
                let v: Value = t.raw_get(i as f64).map_err(ser::Error::custom)?;
                if check_skip(&v, options, visited).map_err(ser::Error::custom)? {
                    continue;
                }
                seq.serialize_element(&SerializableValue::with(&v, options, visited))?;
            }
            return seq.end();
        }
        let mut pairs: Vec<(Value, Value)> =
            t.pairs::<Value, Value>().collect::<Result<_>>().map_err(ser::Error::custom)?;
        if options.sort_keys {
            pairs.sort_by(|(a, _), (b, _)| a.sort_cmp(b));
        }
        let mut map = s.serialize_map(Some(pairs.len()))?;
        for (k, v) in &pairs {
            if check_skip(k, options, visited).map_err(ser::Error::custom)?
                || check_skip(v, options, visited).map_err(ser::Error::custom)?
            {
                continue;
            }
            map.serialize_entry(
                &SerializableValue::with(k, options, visited),
                &SerializableValue::with(v, options, visited),
            )?;
        }
        map.end()
    })();
    visited.borrow_mut().remove(&ptr);
    r
}

impl Serialize for LuaString {
    /// UTF-8 contents as a string, others as bytes.
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.to_str() {
            Ok(st) => s.serialize_str(&st),
            Err(_) => s.serialize_bytes(&self.as_bytes()),
        }
    }
}

impl Serialize for Table {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        serialize_table(self, DeserializeOptions::new(), &Visited::default(), s)
    }
}

impl Serialize for AnyUserData {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.serializer().map_err(ser::Error::custom)? {
            Some(inner) => erased_serde::serialize(&*inner, s),
            None => Err(ser::Error::custom("cannot serialize <userdata>")),
        }
    }
}

/// serde's `Deserializer` over a Lua [`Value`].
struct Deserializer {
    value: Value,
    options: DeserializeOptions,
    visited: Visited,
}

impl Deserializer {
    fn new(value: Value, options: DeserializeOptions) -> Deserializer {
        Deserializer { value, options, visited: Visited::default() }
    }

    fn child(&self, value: Value) -> Deserializer {
        Deserializer { value, options: self.options, visited: self.visited.clone() }
    }
}

/// Removes a table from the visited set when its contents are done.
struct VisitGuard(Visited, *const c_void);

impl Drop for VisitGuard {
    fn drop(&mut self) {
        self.0.borrow_mut().remove(&self.1);
    }
}

impl<'de> de::Deserializer<'de> for Deserializer {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.value {
            Value::Nil => visitor.visit_unit(),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Number(n) => visitor.visit_f64(*n),
            Value::String(s) => match s.to_str() {
                Ok(st) => visitor.visit_str(&st),
                Err(_) => visitor.visit_bytes(&s.as_bytes()),
            },
            Value::LightUserData(p) if p.0.is_null() => visitor.visit_none(),
            Value::Table(t) => {
                let ptr = t.to_pointer();
                if !self.visited.borrow_mut().insert(ptr) {
                    return Err(de::Error::custom("recursive table detected"));
                }
                let _g = VisitGuard(self.visited.clone(), ptr);
                match t.array_len(self.options) {
                    Some(len) => {
                        let mut seq = SeqAccess { de: &self, table: t.clone(), i: 0, len };
                        let v = visitor.visit_seq(&mut seq)?;
                        Ok(v)
                    }
                    None => {
                        let pairs: Vec<(Value, Value)> = t.pairs::<Value, Value>().collect::<Result<_>>()?;
                        let mut map = MapAccess { de: &self, pairs: pairs.into_iter(), value: None };
                        visitor.visit_map(&mut map)
                    }
                }
            }
            Value::UserData(u) if u.serializer()?.is_some() => {
                // A serializable userdata: its value, through Lua's representation of it.
                let lua = u.r.lua()?;
                let v = lua.to_value(&*u.serializer()?.ok_or(Error::UserDataTypeMismatch)?)?;
                self.child(v).deserialize_any(visitor)
            }
            v => Err(de::Error::custom(format!("unsupported value type `{}`", v.type_name()))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.value {
            Value::Nil => visitor.visit_none(),
            Value::LightUserData(p) if p.0.is_null() => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match &self.value {
            Value::String(s) => {
                visitor.visit_enum(de::value::StringDeserializer::<Error>::new(s.to_str()?.to_string()))
            }
            Value::Table(t) => {
                let mut it = t.pairs::<String, Value>();
                let (variant, value) = match (it.next(), it.next()) {
                    (Some(kv), None) => kv?,
                    _ => return Err(de::Error::custom("expected a table with a single key (an enum variant)")),
                };
                visitor.visit_enum(EnumAccess { de: self.child(value), variant })
            }
            v => Err(de::Error::custom(format!("expected an enum variant, got `{}`", v.type_name()))),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.value {
            Value::LightUserData(p) if p.0.is_null() => visitor.visit_unit(),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct SeqAccess<'a> {
    de: &'a Deserializer,
    table: Table,
    i: usize,
    len: usize,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        loop {
            if self.i >= self.len {
                return Ok(None);
            }
            self.i += 1;
            let v: Value = self.table.raw_get(self.i as f64)?;
            if check_skip(&v, self.de.options, &self.de.visited).map_err(de_err)? {
                continue;
            }
            return seed.deserialize(self.de.child(v)).map(Some);
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len - self.i)
    }
}

struct MapAccess<'a> {
    de: &'a Deserializer,
    pairs: std::vec::IntoIter<(Value, Value)>,
    value: Option<Value>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        for (k, v) in self.pairs.by_ref() {
            let skip = check_skip(&k, self.de.options, &self.de.visited).map_err(de_err)?
                || check_skip(&v, self.de.options, &self.de.visited).map_err(de_err)?;
            if skip {
                continue;
            }
            self.value = Some(v);
            return seed.deserialize(self.de.child(k)).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some(v) => seed.deserialize(self.de.child(v)),
            None => Err(de::Error::custom("value is missing")),
        }
    }
}

struct EnumAccess {
    de: Deserializer,
    variant: String,
}

impl<'de> de::EnumAccess<'de> for EnumAccess {
    type Error = Error;
    type Variant = Deserializer;

    fn variant_seed<V: de::DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Deserializer)> {
        let v = seed.deserialize(de::value::StringDeserializer::<Error>::new(self.variant))?;
        Ok((v, self.de))
    }
}

impl<'de> de::VariantAccess<'de> for Deserializer {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}
