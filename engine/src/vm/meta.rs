//! Metamethods and the slow paths of operators.
//!
//! The interpreter's fast paths handle numbers and plain tables inline; everything
//! else comes here. Functions that may need to call a metamethod do not call it
//! themselves: they return what to call, and the caller either pushes a continuation
//! frame (the interpreter, so Lua calls never recurse on the Rust stack and coroutines
//! can yield inside metamethods) or calls it re-entrantly (native library code).

use crate::gc::GcRef;
use crate::number::{fmt_number, str2number};
use crate::object::Table;
use crate::value::Value;
use crate::vm::{LResult, Vm};

macro_rules! meta_events {
    ($($name:ident = $s:literal,)*) => {
        /// Metamethod events. The first 32 are cached as "absent" bits in `Table::nomm`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum MetaEvent { $($name,)* }
        impl MetaEvent {
            pub const ALL: &'static [MetaEvent] = &[$(MetaEvent::$name,)*];
            /// The metamethod's name, e.g. `"__index"`.
            pub fn name(self) -> &'static str {
                match self { $(MetaEvent::$name => $s,)* }
            }
        }
    };
}

meta_events! {
    Index = "__index",
    NewIndex = "__newindex",
    Gc = "__gc",
    Mode = "__mode",
    Eq = "__eq",
    Len = "__len",
    Lt = "__lt",
    Le = "__le",
    Concat = "__concat",
    Call = "__call",
    Add = "__add",
    Sub = "__sub",
    Mul = "__mul",
    Div = "__div",
    Mod = "__mod",
    Pow = "__pow",
    Unm = "__unm",
    Tostring = "__tostring",
    Metatable = "__metatable",
    Pairs = "__pairs",
    Ipairs = "__ipairs",
}

/// The arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Unm,
}

impl Arith {
    pub fn event(self) -> MetaEvent {
        match self {
            Arith::Add => MetaEvent::Add,
            Arith::Sub => MetaEvent::Sub,
            Arith::Mul => MetaEvent::Mul,
            Arith::Div => MetaEvent::Div,
            Arith::Mod => MetaEvent::Mod,
            Arith::Pow => MetaEvent::Pow,
            Arith::Unm => MetaEvent::Unm,
        }
    }

    /// Applies the operator to two number values' numbers, boxing the result.
    ///
    /// `+ - * /` and negation skip `Value::number`'s NaN test. Every number value's
    /// NaN is the preferred NaN (of either sign): `Value::number`, the only way to
    /// make a number value, canonicalises them. Rust's float semantics (RFC 3514)
    /// then make these operations' NaN results preferred NaNs of either sign too,
    /// which are already canonical. `lua_mod` and `pow` call into libm, so their
    /// results are boxed the checked way.
    #[inline(always)]
    pub fn apply_value(self, a: f64, b: f64) -> Value {
        match self {
            Arith::Add | Arith::Sub | Arith::Mul | Arith::Div | Arith::Unm => Value::from_basic_arith(self.apply(a, b)),
            Arith::Mod | Arith::Pow => Value::number(self.apply(a, b)),
        }
    }

    /// Applies the operator to numbers.
    #[inline]
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
            Arith::Mod => lua_mod(a, b),
            Arith::Pow => pow(a, b),
            Arith::Unm => -a,
        }
    }
}

pub use crate::number::{fast_floor, lua_mod};

/// `a ^ b`.
#[inline]
pub fn pow(a: f64, b: f64) -> f64 {
    a.powf(b)
}

/// What an index operation needs next.
pub enum IndexStep {
    /// The value was found (possibly nil).
    Value(Value),
    /// Call this `__index` function (`.0`) with (object `.1`, key); its first
    /// result is the value.
    Call(Value, Value),
}

/// What an assignment needs next.
pub enum SetStep {
    Done,
    /// Call this `__newindex` function with (object, key, value).
    Call(Value),
}

/// Most `__index` / `__newindex` chain links followed before "loop in gettable".
pub const MAX_META_CHAIN: usize = 100;

impl Vm {
    /// The metamethod `e` of a metatable, using and filling the absence cache.
    #[inline]
    pub fn mt_get(&self, mt: GcRef<Table>, e: MetaEvent) -> Value {
        let bit = 1u32 << (e as u32);
        if mt.nomm() & bit != 0 {
            return Value::NIL;
        }
        let v = mt.get_str(self.mm_names[e as usize]);
        if v.is_nil() {
            mt.add_nomm(bit);
        }
        v
    }

    /// The metamethod `e` of any value (nil if none).
    #[inline]
    pub fn metamethod(&self, v: Value, e: MetaEvent) -> Value {
        match self.metatable(v) {
            Some(mt) => self.mt_get(mt, e),
            None => Value::NIL,
        }
    }

    /// One step of `obj[key]`: raw lookup, then `__index`.
    pub fn index_step(&mut self, obj: Value, key: Value) -> LResult<IndexStep> {
        self.index_chain(obj, key, 0)
    }

    /// `index_step` from link `depth` of an `__index` chain, at `cur` (the
    /// interpreter's fallback has done link 0's raw lookup itself).
    pub(crate) fn index_chain(&mut self, mut cur: Value, key: Value, depth: usize) -> LResult<IndexStep> {
        for _ in depth..MAX_META_CHAIN {
            let h = if let Some(t) = cur.as_table() {
                let v = t.get(key);
                if !v.is_nil() {
                    return Ok(IndexStep::Value(v));
                }
                match t.meta() {
                    None => return Ok(IndexStep::Value(Value::NIL)),
                    Some(mt) => {
                        let h = self.mt_get(mt, MetaEvent::Index);
                        if h.is_nil() {
                            return Ok(IndexStep::Value(Value::NIL));
                        }
                        h
                    }
                }
            } else {
                let h = self.metamethod(cur, MetaEvent::Index);
                if h.is_nil() {
                    return Err(self.type_error(cur, "index", None));
                }
                h
            };
            if h.is_function() {
                return Ok(IndexStep::Call(h, cur));
            }
            cur = h;
        }
        Err(self.rt_error("loop in gettable"))
    }

    /// One step of `obj[key] = val`: raw store, or `__newindex`. On success returns
    /// `Done`; a function handler comes back as `Call` for the caller to invoke with
    /// the object it was found on (returned through `target`).
    pub fn set_step(&mut self, obj: Value, key: Value, val: Value, target: &mut Value) -> LResult<SetStep> {
        let mut cur = obj;
        for _ in 0..MAX_META_CHAIN {
            let h = if let Some(t) = cur.as_table() {
                let existing = t.get(key);
                let h = match t.meta() {
                    Some(mt) if existing.is_nil() => self.mt_get(mt, MetaEvent::NewIndex),
                    _ => Value::NIL,
                };
                if h.is_nil() {
                    self.raw_set(t, key, val)?;
                    return Ok(SetStep::Done);
                }
                h
            } else {
                let h = self.metamethod(cur, MetaEvent::NewIndex);
                if h.is_nil() {
                    return Err(self.type_error(cur, "index", None));
                }
                h
            };
            if h.is_function() {
                *target = cur;
                return Ok(SetStep::Call(h));
            }
            cur = h;
        }
        Err(self.rt_error("loop in settable"))
    }

    /// `obj[key]` with metamethods, calling `__index` functions re-entrantly (for
    /// library code).
    pub fn index_value(&mut self, obj: Value, key: Value) -> LResult<Value> {
        match self.index_step(obj, key)? {
            IndexStep::Value(v) => Ok(v),
            IndexStep::Call(h, o) => self.call_value1(h, &[o, key]),
        }
    }

    /// `obj[key] = val` with metamethods (for library code).
    pub fn set_value(&mut self, obj: Value, key: Value, val: Value) -> LResult<()> {
        let mut target = obj;
        match self.set_step(obj, key, val, &mut target)? {
            SetStep::Done => Ok(()),
            SetStep::Call(h) => {
                self.call_value(h, &[target, key, val], 0)?;
                Ok(())
            }
        }
    }

    /// Raw equality (`rawequal`).
    #[inline]
    pub fn raw_equal(a: Value, b: Value) -> bool {
        if a.is_number() && b.is_number() {
            a.num() == b.num()
        } else {
            a == b
        }
    }

    /// The `__eq` handler for `a == b`, when both are tables or both userdata with
    /// the same handler (LuaJIT's rule); nil otherwise.
    pub fn eq_handler(&self, a: Value, b: Value) -> Value {
        let same_kind = (a.is_table() && b.is_table()) || (a.as_userdata().is_some() && b.as_userdata().is_some());
        if !same_kind {
            // cdata compare with anything through the FFI's `__eq` (`1LL == 1`,
            // `p == nil`), as in LuaJIT.
            if a.is_cdata() || b.is_cdata() {
                return self.cdata_handler(MetaEvent::Eq);
            }
            return Value::NIL;
        }
        let (Some(ma), Some(mb)) = (self.metatable(a), self.metatable(b)) else { return Value::NIL };
        let ha = self.mt_get(ma, MetaEvent::Eq);
        if ha.is_nil() {
            return Value::NIL;
        }
        if ma == mb {
            return ha;
        }
        let hb = self.mt_get(mb, MetaEvent::Eq);
        if Vm::raw_equal(ha, hb) {
            ha
        } else {
            Value::NIL
        }
    }

    /// Ordering of numbers and strings: `Some(a < b)` (or `a <= b` if `le`), `None`
    /// if a metamethod is needed.
    #[inline]
    pub fn compare_basic(a: Value, b: Value, le: bool) -> Option<bool> {
        if a.is_number() && b.is_number() {
            return Some(if le { a.num() <= b.num() } else { a.num() < b.num() });
        }
        if let (Some(x), Some(y)) = (a.as_string(), b.as_string()) {
            let o = x.as_bytes().cmp(y.as_bytes());
            return Some(if le { o.is_le() } else { o.is_lt() });
        }
        None
    }

    /// The comparison handler for `a < b` (`event` Lt) or `a <= b` (Le): the first
    /// operand's, else the second's; both operands must have the same type.
    pub fn compare_handler(&mut self, a: Value, b: Value, e: MetaEvent) -> Value {
        if a.lua_type() != b.lua_type() {
            // cdata compare with numbers (`1LL < 2`) through the FFI's handlers.
            if a.is_cdata() || b.is_cdata() {
                return self.cdata_handler(e);
            }
            return Value::NIL;
        }
        let h = self.metamethod(a, e);
        if h.is_nil() || !Vm::raw_equal(h, self.metamethod(b, e)) {
            return Value::NIL;
        }
        h
    }

    /// The FFI's metamethod `e` for cdata (nil without the FFI).
    #[cold]
    pub fn cdata_handler(&self, e: MetaEvent) -> Value {
        match self.cdata_meta() {
            Some(mt) => self.mt_get(mt, e),
            None => Value::NIL,
        }
    }

    /// The error for a failed comparison.
    #[cold]
    pub fn compare_error(&mut self, a: Value, b: Value) -> crate::vm::LuaError {
        let (ta, tb) = (a.type_name(), b.type_name());
        if ta == tb {
            self.rt_error(&format!("attempt to compare two {ta} values"))
        } else {
            self.rt_error(&format!("attempt to compare {ta} with {tb}"))
        }
    }

    /// `a < b` / `a <= b` with metamethods, called re-entrantly (library code, e.g.
    /// `table.sort` without a comparator).
    pub fn less_than(&mut self, a: Value, b: Value) -> LResult<bool> {
        if let Some(r) = Vm::compare_basic(a, b, false) {
            return Ok(r);
        }
        let h = self.compare_handler(a, b, MetaEvent::Lt);
        if h.is_nil() {
            return Err(self.compare_error(a, b));
        }
        Ok(self.call_value1(h, &[a, b])?.truthy())
    }

    /// `a == b` with `__eq`, re-entrantly.
    pub fn equals(&mut self, a: Value, b: Value) -> LResult<bool> {
        if Vm::raw_equal(a, b) {
            return Ok(true);
        }
        let h = self.eq_handler(a, b);
        if h.is_nil() {
            return Ok(false);
        }
        Ok(self.call_value1(h, &[a, b])?.truthy())
    }

    /// A value as a number for arithmetic: numbers, and strings that convert.
    #[inline]
    pub fn to_arith_number(v: Value) -> Option<f64> {
        if v.is_number() {
            return Some(v.num());
        }
        let s = v.as_string()?;
        str2number(s.as_bytes())
    }

    /// Arithmetic on values that are not both numbers: string coercion, else the
    /// handler to call (`Err` names the offending operand).
    pub fn arith_slow(&mut self, op: Arith, a: Value, b: Value) -> Result<Value, ArithFail> {
        if let (Some(x), Some(y)) = (Vm::to_arith_number(a), Vm::to_arith_number(b)) {
            return Ok(Value::number(op.apply(x, y)));
        }
        let e = op.event();
        let mut h = self.metamethod(a, e);
        if h.is_nil() {
            h = self.metamethod(b, e);
        }
        if h.is_nil() {
            // LuaJIT blames the second operand when the first one is a number or a
            // numeric string.
            let bad_is_b = Vm::to_arith_number(a).is_some();
            return Err(ArithFail::NoHandler { bad_is_b });
        }
        Err(ArithFail::Call(h))
    }

    /// `a .. b` for strings and numbers only.
    pub fn concat_basic(&mut self, a: Value, b: Value) -> Option<Value> {
        if !(a.is_string() || a.is_number()) || !(b.is_string() || b.is_number()) {
            return None;
        }
        let mut buf = Vec::new();
        append_str_or_num(&mut buf, a);
        append_str_or_num(&mut buf, b);
        Some(self.str_value(&buf))
    }

    /// `tostring` without metamethods.
    pub fn tostring_basic(&mut self, v: Value) -> Vec<u8> {
        let mut out = Vec::new();
        write_basic(&mut out, v);
        out
    }

    /// `tostring(v)` with `__tostring` (re-entrant).
    pub fn tostring(&mut self, v: Value) -> LResult<Value> {
        if v.is_string() {
            return Ok(v);
        }
        let h = self.metamethod(v, MetaEvent::Tostring);
        if !h.is_nil() {
            // LuaJIT passes whatever `__tostring` returns through.
            return self.call_value1(h, &[v]);
        }
        let b = self.tostring_basic(v);
        Ok(self.str_value(&b))
    }

    /// `#v` for strings and tables (no `__len` for tables, as LuaJIT without 5.2
    /// compatibility); `None` if a `__len` handler or an error is needed.
    #[inline]
    pub fn len_basic(v: Value) -> Option<f64> {
        if let Some(s) = v.as_string() {
            return Some(s.len() as f64);
        }
        if let Some(t) = v.as_table() {
            return Some(t.len() as f64);
        }
        None
    }
}

/// Why arithmetic could not complete.
pub enum ArithFail {
    /// Call this handler with (a, b).
    Call(Value),
    /// No handler: an error naming operand b (else a).
    NoHandler { bad_is_b: bool },
}

/// Appends a string or number as `..` does.
pub fn append_str_or_num(buf: &mut Vec<u8>, v: Value) {
    if let Some(s) = v.as_string() {
        buf.extend_from_slice(s.as_bytes());
    } else {
        fmt_number(v.num(), buf);
    }
}

/// `tostring` without metamethods.
pub fn write_basic(out: &mut Vec<u8>, v: Value) {
    use crate::value::LuaType;
    match v.lua_type() {
        LuaType::Nil => out.extend_from_slice(b"nil"),
        LuaType::Boolean => out.extend_from_slice(if v.truthy() { b"true" } else { b"false" }),
        LuaType::Number => fmt_number(v.num(), out),
        LuaType::String => {
            if let Some(s) = v.as_string() {
                out.extend_from_slice(s.as_bytes())
            }
        }
        LuaType::Function if v.func_kind() == Some(crate::gc::Kind::NativeFunction) => {
            let nf: crate::gc::GcRef<crate::vm::NativeFunction> = crate::gc::GcRef::from_value_payload(v);
            out.extend_from_slice(format!("function: builtin#{}", nf.id).as_bytes());
        }
        t => out.extend_from_slice(format!("{}: {:#x}", t.name(), v.addr()).as_bytes()),
    }
}
