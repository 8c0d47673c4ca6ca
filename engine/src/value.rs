//! `Value`: a Lua value in 64 bits (NaN-boxing).
//!
//! Numbers are stored as themselves. Every other type is a quiet NaN with the sign bit
//! set, a 4-bit type tag in bits 47..=50 and a payload (a GC pointer, 47 bits on 64-bit
//! hosts, 32 bits on wasm32) in bits 0..=46:
//!
//! ```text
//!   0xFFF8_0000_0000_0000 | tag << 47 | payload        tag in 1..=15
//! ```
//!
//! Tag 0 with the same prefix is the canonical negative NaN (x86's default NaN), so
//! every bit pattern below [`Value::FIRST_TAGGED`] is a number. Every NaN is
//! canonicalised (sign kept, payload cleared) when it is boxed, so none can fall into
//! the tagged space.
//!
//! The JIT backends load and store these 64 bits directly; the constants here are the
//! contract (see `vm::layout`).

use crate::gc::{GcObject, GcRef, Kind};

/// Type tags of boxed values (bits 47..=50).
pub mod tag {
    pub const NIL: u64 = 1;
    pub const FALSE: u64 = 2;
    pub const TRUE: u64 = 3;
    pub const LIGHTUD: u64 = 4;
    pub const STR: u64 = 5;
    pub const TABLE: u64 = 6;
    /// Lua closures. Native functions have their own tag, so that a call tells the
    /// two apart from the value alone; together they are the two highest tags, so
    /// that `is_function` is one comparison.
    pub const FUNC: u64 = 14;
    pub const NATIVE: u64 = 15;
    pub const UDATA: u64 = 8;
    pub const THREAD: u64 = 9;
    /// FFI C data (`type(x) == "cdata"`): 64-bit integers, structs, pointers, ...
    pub const CDATA: u64 = 11;
    /// Internal objects (prototypes, upvalues) never visible to Lua.
    pub const INTERNAL: u64 = 10;
}

/// A Lua value. `Copy`: GC references inside are kept alive by the collector's roots,
/// not by the `Value` itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Value(u64);

const PREFIX: u64 = 0xFFF8_0000_0000_0000;
pub(crate) const PAYLOAD_MASK: u64 = (1 << 47) - 1;

/// Lua's basic types, in the order `type()` names them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LuaType {
    Nil,
    Boolean,
    LightUserdata,
    Number,
    String,
    Table,
    Function,
    Userdata,
    Thread,
    /// FFI C data.
    CData,
    /// Internal objects only; never reaches Lua code.
    Proto,
}

impl LuaType {
    /// Every type, in declaration order (`ALL[t as usize] == t`).
    pub const ALL: [LuaType; 11] = [
        LuaType::Nil,
        LuaType::Boolean,
        LuaType::LightUserdata,
        LuaType::Number,
        LuaType::String,
        LuaType::Table,
        LuaType::Function,
        LuaType::Userdata,
        LuaType::Thread,
        LuaType::CData,
        LuaType::Proto,
    ];

    /// The name `type()` returns.
    pub fn name(self) -> &'static str {
        match self {
            LuaType::Nil => "nil",
            LuaType::Boolean => "boolean",
            LuaType::LightUserdata => "userdata",
            LuaType::Number => "number",
            LuaType::String => "string",
            LuaType::Table => "table",
            LuaType::Function => "function",
            LuaType::Userdata => "userdata",
            LuaType::Thread => "thread",
            LuaType::CData => "cdata",
            LuaType::Proto => "proto",
        }
    }
}

impl Value {
    /// The first bit pattern that is not a number.
    pub const FIRST_TAGGED: u64 = PREFIX | (1 << 47);
    pub const NIL: Value = Value(PREFIX | tag::NIL << 47);
    pub const FALSE: Value = Value(PREFIX | tag::FALSE << 47);
    pub const TRUE: Value = Value(PREFIX | tag::TRUE << 47);

    /// The value whose bits are `bits` (what generated code hands back).
    ///
    /// # Safety
    /// `bits` are the bits of a value ([`Value::to_bits`]) whose object, if it is
    /// a GC type, is still alive.
    #[inline(always)]
    #[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
    pub(crate) const unsafe fn from_bits_unchecked(bits: u64) -> Value {
        Value(bits)
    }

    /// The raw bits (what the JIT sees).
    #[inline(always)]
    pub const fn to_bits(self) -> u64 {
        self.0
    }

    /// Boxes a number.
    #[inline(always)]
    pub fn number(n: f64) -> Value {
        // Tested as a float (no 64-bit constant, which the dispatch loop would keep
        // in a register): every NaN is canonicalised, keeping its sign (LuaJIT
        // prints "-nan" for one), so that no payload reaches our tag space.
        if n.is_nan() {
            return Value::canonical_nan(n);
        }
        Value(n.to_bits())
    }

    /// Boxes the result of `+ - * /` or negation applied to number values, whose
    /// NaNs are already canonical (see `Arith::apply_value`; checked in debug
    /// builds).
    #[inline(always)]
    pub(crate) fn from_basic_arith(n: f64) -> Value {
        debug_assert!(!n.is_nan() || n.to_bits() & !(1 << 63) == 0x7FF8_0000_0000_0000);
        Value(n.to_bits())
    }

    #[cold]
    #[inline(never)]
    fn canonical_nan(n: f64) -> Value {
        Value((n.to_bits() & (1 << 63)) | 0x7FF8_0000_0000_0000)
    }

    #[inline(always)]
    pub fn boolean(b: bool) -> Value {
        if b {
            Value::TRUE
        } else {
            Value::FALSE
        }
    }

    /// A light userdata: an opaque 47-bit integer (never dereferenced).
    pub fn light_userdata(p: u64) -> Value {
        Value(PREFIX | tag::LIGHTUD << 47 | (p & PAYLOAD_MASK))
    }

    #[inline(always)]
    pub(crate) fn from_gc(tag: u64, addr: usize) -> Value {
        debug_assert!((addr as u64) <= PAYLOAD_MASK);
        Value(PREFIX | tag << 47 | addr as u64)
    }

    #[inline(always)]
    pub const fn tag(self) -> u64 {
        if self.0 < Self::FIRST_TAGGED {
            0
        } else {
            (self.0 >> 47) & 0xF
        }
    }

    #[inline(always)]
    pub(crate) const fn payload(self) -> usize {
        (self.0 & PAYLOAD_MASK) as usize
    }

    #[inline(always)]
    pub const fn is_number(self) -> bool {
        self.0 < Self::FIRST_TAGGED
    }
    #[inline(always)]
    pub const fn is_nil(self) -> bool {
        self.0 == Self::NIL.0
    }
    /// False for `nil` and `false`, true for everything else.
    #[inline(always)]
    pub const fn truthy(self) -> bool {
        !(self.0 == Self::NIL.0 || self.0 == Self::FALSE.0)
    }
    #[inline(always)]
    pub const fn is_falsy(self) -> bool {
        !self.truthy()
    }
    #[inline(always)]
    pub fn as_number(self) -> Option<f64> {
        if self.is_number() {
            Some(f64::from_bits(self.0))
        } else {
            None
        }
    }
    /// The number, assuming `is_number()`; garbage otherwise (but never UB).
    #[inline(always)]
    pub fn num(self) -> f64 {
        f64::from_bits(self.0)
    }
    #[inline(always)]
    pub fn is_string(self) -> bool {
        self.has_gc_tag(tag::STR)
    }
    #[inline(always)]
    pub fn is_cdata(self) -> bool {
        self.has_gc_tag(tag::CDATA)
    }
    #[inline(always)]
    pub fn is_table(self) -> bool {
        self.has_gc_tag(tag::TABLE)
    }
    #[inline(always)]
    pub fn is_function(self) -> bool {
        // FUNC and NATIVE are the two highest tags: one comparison of the bits.
        self.0 >= PREFIX | tag::FUNC << 47
    }
    /// True for GC-managed values.
    #[inline(always)]
    pub fn is_gc(self) -> bool {
        // Every tag from STR up is a GC object's.
        self.0 >= PREFIX | tag::STR << 47
    }

    pub fn as_bool(self) -> Option<bool> {
        match self {
            Value::TRUE => Some(true),
            Value::FALSE => Some(false),
            _ => None,
        }
    }

    /// The basic type.
    pub fn lua_type(self) -> LuaType {
        match self.tag() {
            0 => LuaType::Number,
            tag::NIL => LuaType::Nil,
            tag::FALSE | tag::TRUE => LuaType::Boolean,
            tag::LIGHTUD => LuaType::LightUserdata,
            tag::STR => LuaType::String,
            tag::TABLE => LuaType::Table,
            tag::FUNC | tag::NATIVE => LuaType::Function,
            tag::UDATA => LuaType::Userdata,
            tag::THREAD => LuaType::Thread,
            tag::CDATA => LuaType::CData,
            _ => LuaType::Proto,
        }
    }

    /// The name `type()` returns.
    pub fn type_name(self) -> &'static str {
        self.lua_type().name()
    }

    /// For function values: the object kind (Lua closure or native function).
    #[inline(always)]
    pub fn func_kind(self) -> Option<Kind> {
        match self.tag() {
            tag::FUNC => Some(Kind::LuaFunction),
            tag::NATIVE => Some(Kind::NativeFunction),
            _ => None,
        }
    }

    /// The object of a value holding a `T`, found with one comparison of the high
    /// bits (no separate "is it a number" test). The typed accessors (`as_table`,
    /// `as_string`, ...) live beside their types, on the floors above.
    #[inline(always)]
    pub fn as_gc<T: GcObject>(self) -> Option<GcRef<T>> {
        self.has_gc_tag(T::TAG).then(|| GcRef::from_value_payload(self))
    }

    /// Whether this value carries GC tag `t`: one comparison of the high bits (a
    /// number's are never all ones up to the tag).
    #[inline(always)]
    fn has_gc_tag(self, t: u64) -> bool {
        self.0 >> 47 == (PREFIX | t << 47) >> 47
    }

    /// An address for `tostring` / `%p`-style printing of reference types.
    pub fn addr(self) -> usize {
        self.payload()
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::number(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::boolean(b)
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.lua_type() {
            LuaType::Nil => write!(f, "nil"),
            LuaType::Boolean => write!(f, "{}", self.truthy()),
            LuaType::Number => write!(f, "{}", self.num()),
            LuaType::String => match self.as_string() {
                Some(s) => write!(f, "{:?}", String::from_utf8_lossy(s.as_bytes())),
                None => write!(f, "string"),
            },
            t => write!(f, "{}: {:#x}", t.name(), self.payload()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_type_table_is_in_order() {
        for (i, t) in LuaType::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
    }

    #[test]
    fn numbers_round_trip() {
        for x in [0.0, -0.0, 1.5, -1e300, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE] {
            let v = Value::number(x);
            assert!(v.is_number());
            assert_eq!(v.num().to_bits(), x.to_bits());
        }
        let nan = Value::number(f64::NAN);
        assert!(nan.is_number() && nan.num().is_nan());
        let neg_nan = Value::number(-f64::NAN);
        assert!(neg_nan.is_number() && neg_nan.num().is_nan());
        // A NaN with a payload in the tag space is canonicalised.
        let evil = f64::from_bits(Value::NIL.to_bits());
        assert!(Value::number(evil).is_number());
    }

    #[test]
    fn truthiness() {
        assert!(!Value::NIL.truthy());
        assert!(!Value::FALSE.truthy());
        assert!(Value::TRUE.truthy());
        assert!(Value::number(0.0).truthy());
        assert_eq!(Value::NIL.type_name(), "nil");
        assert_eq!(Value::TRUE.type_name(), "boolean");
        assert_eq!(Value::number(1.0).type_name(), "number");
    }
}
