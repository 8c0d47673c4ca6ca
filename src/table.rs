//! Lua tables.

use std::collections::HashSet;
use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;

use moonbox_engine::Value as Raw;

use crate::conv::{FromLua, IntoLua};
use crate::error::{Error, Result};
use crate::lua::StackGuard;
use crate::state::Lua;
use crate::sync::XRc;
use crate::types::Integer;
use crate::value::{Ref, Value};

/// A handle to a Lua table.
///
/// `get` and `set` honour metamethods (`__index`, `__newindex`); the `raw_*` methods
/// do not.
///
/// ```
/// use moonbox::Lua;
///
/// let lua = Lua::new();
/// let t = lua.create_table()?;
/// t.set("x", 1)?;
/// t.set(1, "first")?;
/// assert_eq!(t.get::<i32>("x")?, 1);
/// assert_eq!(t.get::<String>(1)?, "first");
/// assert_eq!(t.len()?, 1);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone)]
pub struct Table(pub(crate) XRc<Ref>);

impl Table {
    fn raw_table(&self, lua: &Lua) -> Result<moonbox_engine::gc::GcRef<moonbox_engine::object::Table>> {
        let raw = self.0.raw_for(&lua.inner)?;
        raw.as_table().ok_or(Error::MismatchedLua)
    }

    /// `t[key]`, with `__index`.
    pub fn get<V: FromLua>(&self, key: impl IntoLua) -> Result<V> {
        let lua = self.0.lua()?;
        let traw = self.0.raw_for(&lua.inner)?;
        let g = StackGuard::new(&lua.inner)?;
        let at = g.base();
        key.push_into_stack(&lua)?;
        let inner = &lua.inner;
        inner.with_vm(|vm| {
            let k = vm.slot(at);
            match vm.index_value(traw, k) {
                Ok(v) => vm.set_slot(at, v).map_err(|e| inner.convert_error(vm, e)),
                Err(e) => Err(inner.convert_error(vm, e)),
            }
        })??;
        V::from_stack(at, &lua)
    }

    /// `t[key] = value`, with `__newindex`.
    pub fn set(&self, key: impl IntoLua, value: impl IntoLua) -> Result<()> {
        let lua = self.0.lua()?;
        let traw = self.0.raw_for(&lua.inner)?;
        let g = StackGuard::new(&lua.inner)?;
        let at = g.base();
        key.push_into_stack(&lua)?;
        value.push_into_stack(&lua)?;
        let inner = &lua.inner;
        inner.with_vm(|vm| {
            let (k, v) = (vm.slot(at), vm.slot(at + 1));
            vm.set_value(traw, k, v).map_err(|e| inner.convert_error(vm, e))
        })?
    }

    /// `t[key]` without metamethods.
    pub fn raw_get<V: FromLua>(&self, key: impl IntoLua) -> Result<V> {
        let lua = self.0.lua()?;
        let t = self.raw_table(&lua)?;
        let g = StackGuard::new(&lua.inner)?;
        let at = g.base();
        key.push_into_stack(&lua)?;
        lua.inner.with_vm(|vm| {
            let k = vm.slot(at);
            let _ = vm.set_slot(at, t.get(k));
        })?;
        V::from_stack(at, &lua)
    }

    /// `t[key] = value` without metamethods. Fails for a `nil` or NaN key.
    pub fn raw_set(&self, key: impl IntoLua, value: impl IntoLua) -> Result<()> {
        let lua = self.0.lua()?;
        let t = self.raw_table(&lua)?;
        let g = StackGuard::new(&lua.inner)?;
        let at = g.base();
        key.push_into_stack(&lua)?;
        value.push_into_stack(&lua)?;
        let inner = &lua.inner;
        inner.with_vm(|vm| {
            inner.check_memory(vm)?;
            let (k, v) = (vm.slot(at), vm.slot(at + 1));
            vm.raw_set(t, k, v).map_err(|e| inner.convert_error(vm, e))
        })?
    }

    /// Does `t[key]` (with `__index`) hold a non-nil value?
    pub fn contains_key(&self, key: impl IntoLua) -> Result<bool> {
        Ok(!self.get::<Value>(key)?.is_nil())
    }

    /// Appends `value` at `#t + 1` (with `__newindex`).
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let t = lua.create_table()?;
    /// t.push("a")?;
    /// t.push("b")?;
    /// assert_eq!(t.sequence_values::<String>().collect::<Result<Vec<_>, _>>()?, ["a", "b"]);
    /// assert_eq!(t.pop::<String>()?, "b");
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn push(&self, value: impl IntoLua) -> Result<()> {
        let n = self.len()?;
        self.set(n + 1, value)
    }

    /// Removes and returns `t[#t]` (with metamethods); nil for an empty table.
    pub fn pop<V: FromLua>(&self) -> Result<V> {
        let n = self.len()?;
        if n == 0 {
            let lua = self.0.lua()?;
            return V::from_lua(Value::Nil, &lua);
        }
        let v: Value = self.get(n)?;
        self.set(n, Value::Nil)?;
        let lua = self.0.lua()?;
        V::from_lua(v, &lua)
    }

    /// `self == other`, with `__eq`.
    pub fn equals(&self, other: &Table) -> Result<bool> {
        if self == other {
            return Ok(true);
        }
        let (Some(mt1), Some(mt2)) = (self.metatable(), other.metatable()) else { return Ok(false) };
        let eq1: Value = mt1.raw_get("__eq")?;
        let eq2: Value = mt2.raw_get("__eq")?;
        match (eq1, eq2) {
            (Value::Function(f), e2) if Value::Function(f.clone()) == e2 => f.call((self, other)),
            _ => Ok(false),
        }
    }

    /// Inserts `value` at `idx` (1-based), shifting later elements up (raw), as
    /// `table.insert(t, idx, value)`.
    pub fn raw_insert(&self, idx: Integer, value: impl IntoLua) -> Result<()> {
        let n = self.raw_len() as Integer;
        if idx < 1 || idx > n + 1 {
            return Err(Error::runtime("index out of bounds"));
        }
        let mut i = n;
        while i >= idx {
            let v: Value = self.raw_get(i)?;
            self.raw_set(i + 1, v)?;
            i -= 1;
        }
        self.raw_set(idx, value)
    }

    /// Appends `value` at `#t + 1` (raw).
    pub fn raw_push(&self, value: impl IntoLua) -> Result<()> {
        let n = self.raw_len();
        self.raw_set(n as f64 + 1.0, value)
    }

    /// Removes and returns `t[#t]` (raw).
    pub fn raw_pop<V: FromLua>(&self) -> Result<V> {
        let n = self.raw_len();
        let v: Value = if n == 0 { Value::Nil } else { self.raw_get(n as f64)? };
        if n > 0 {
            self.raw_set(n as f64, Value::Nil)?;
        }
        let lua = self.0.lua()?;
        V::from_lua(v, &lua)
    }

    /// Removes `t[key]` (raw); an integer key inside the sequence shifts later
    /// elements down, as `table.remove(t, key)`.
    pub fn raw_remove(&self, key: impl IntoLua) -> Result<()> {
        let lua = self.0.lua()?;
        let key = key.into_lua(&lua)?;
        let n = self.raw_len() as Integer;
        match key.as_integer() {
            Some(idx) if idx >= 1 && idx <= n => {
                for i in idx..n {
                    let v: Value = self.raw_get(i + 1)?;
                    self.raw_set(i, v)?;
                }
                self.raw_set(n, Value::Nil)
            }
            _ => self.raw_set(key, Value::Nil),
        }
    }

    /// The length `#t`. Lua 5.1 tables have no `__len`, so this is the raw border:
    /// an `n` with `t[n] ~= nil` and `t[n + 1] == nil` (0 if `t[1]` is nil).
    pub fn len(&self) -> Result<Integer> {
        let lua = self.0.lua()?;
        let t = self.raw_table(&lua)?;
        lua.inner.with_vm(|_| t.len() as Integer)
    }

    /// The raw border (see [`len`](Table::len)); 0 once the state is gone.
    pub fn raw_len(&self) -> usize {
        let Ok(lua) = self.0.lua() else { return 0 };
        let Ok(t) = self.raw_table(&lua) else { return 0 };
        lua.inner.with_vm(|_| t.len()).unwrap_or(0)
    }

    /// Is the table empty (no keys at all)?
    pub fn is_empty(&self) -> bool {
        let Ok(lua) = self.0.lua() else { return true };
        let Ok(t) = self.raw_table(&lua) else { return true };
        lua.inner.with_vm(|_| matches!(t.next(Raw::NIL), Ok(None))).unwrap_or(true)
    }

    /// Sets (or, with `None`, removes) the metatable. Raw: ignores `__metatable`.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let t = lua.create_table()?;
    /// let mt = lua.load("{ __index = function(_, k) return k .. '!' end }").eval()?;
    /// t.set_metatable(Some(mt))?;
    /// assert_eq!(t.get::<String>("hey")?, "hey!");
    /// assert!(t.metatable().is_some());
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_metatable(&self, metatable: Option<Table>) -> Result<()> {
        let lua = self.0.lua()?;
        let t = self.raw_table(&lua)?;
        let mt = match &metatable {
            Some(m) => Some(m.raw_table(&lua)?),
            None => None,
        };
        lua.inner.with_vm(|vm| {
            t.set_meta(mt);
            vm.barrier(t);
        })
    }

    /// The metatable, if any (raw: ignores `__metatable`).
    pub fn metatable(&self) -> Option<Table> {
        let lua = self.0.lua().ok()?;
        let t = self.raw_table(&lua).ok()?;
        let inner = &lua.inner;
        inner.with_vm(|vm| t.meta().map(|mt| Table(inner.make_ref(vm, mt.to_value())))).ok().flatten()
    }

    /// The metatable, if any (moonbox's older name for [`metatable`](Table::metatable)).
    pub fn get_metatable(&self) -> Result<Option<Table>> {
        self.0.lua()?;
        Ok(self.metatable())
    }

    /// Does the table have a metatable?
    pub fn has_metatable(&self) -> bool {
        self.metatable().is_some()
    }

    /// The table's address (for identity and printing).
    pub fn to_pointer(&self) -> *const c_void {
        self.0.to_pointer()
    }

    /// Iterates over all key/value pairs (raw, in `next` order). Modifying the table
    /// while iterating is allowed for existing keys (as with Lua's `next`).
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let t = lua.load("{ a = 1, b = 2, c = 3 }").eval::<moonbox::Table>()?;
    /// let mut sum = 0;
    /// for pair in t.pairs::<String, i32>() {
    ///     let (_k, v) = pair?;
    ///     sum += v;
    /// }
    /// assert_eq!(sum, 6);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn pairs<K: FromLua, V: FromLua>(&self) -> TablePairs<'_, K, V> {
        TablePairs { table: self.clone(), key: Some(Value::Nil), _p: PhantomData }
    }

    /// Calls `f` for every pair (raw).
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let t = lua.load("{ 10, 20, 30 }").eval::<moonbox::Table>()?;
    /// let mut sum = 0;
    /// t.for_each(|_: i64, v: i64| { sum += v; Ok(()) })?;
    /// assert_eq!(sum, 60);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn for_each<K: FromLua, V: FromLua>(&self, mut f: impl FnMut(K, V) -> Result<()>) -> Result<()> {
        for p in self.pairs::<K, V>() {
            let (k, v) = p?;
            f(k, v)?;
        }
        Ok(())
    }

    /// Iterates over `t[1], t[2], ...` up to the first nil (raw).
    pub fn sequence_values<V: FromLua>(&self) -> TableSequence<'_, V> {
        TableSequence { table: self.clone(), index: 1, done: false, _p: PhantomData }
    }

    /// Calls `f` for `t[1], t[2], ...` up to the first nil (raw).
    pub fn for_each_value<V: FromLua>(&self, mut f: impl FnMut(V) -> Result<()>) -> Result<()> {
        for v in self.sequence_values::<V>() {
            f(v?)?;
        }
        Ok(())
    }

    /// `t[idx] = value` (raw), `idx` 1-based.
    pub fn raw_seti(&self, idx: usize, value: impl IntoLua) -> Result<()> {
        self.raw_set(idx as f64, value)
    }

    /// Removes every entry (raw), keeping the metatable.
    pub fn clear(&self) -> Result<()> {
        let lua = self.0.lua()?;
        let t = self.raw_table(&lua)?;
        lua.inner.with_vm(|_| t.clear())
    }

    pub(crate) fn fmt_pretty(
        &self,
        f: &mut fmt::Formatter<'_>,
        indent: usize,
        visited: &mut HashSet<*const c_void>,
    ) -> fmt::Result {
        visited.insert(self.to_pointer());
        let mut pairs = self.pairs::<Value, Value>().flatten().collect::<Vec<_>>();
        pairs.sort_by(|(a, _), (b, _)| a.sort_cmp(b));
        if pairs.is_empty() {
            return write!(f, "{{}}");
        }
        let is_sequence =
            pairs.iter().enumerate().all(|(i, (k, _))| matches!(k, Value::Integer(n) if *n == (i + 1) as Integer));
        writeln!(f, "{{")?;
        let pad = " ".repeat(indent + 2);
        if is_sequence {
            for (_, v) in pairs {
                write!(f, "{pad}")?;
                v.fmt_pretty(f, true, indent + 2, visited)?;
                writeln!(f, ",")?;
            }
        } else {
            fn is_simple_key(k: &[u8]) -> bool {
                k.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                    && k.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
            }
            for (k, v) in pairs {
                match &k {
                    Value::String(s) if is_simple_key(&s.as_bytes()) => {
                        write!(f, "{pad}{} = ", s.to_string_lossy())?;
                    }
                    _ => {
                        write!(f, "{pad}[")?;
                        k.fmt_pretty(f, false, indent + 2, visited)?;
                        write!(f, "] = ")?;
                    }
                }
                v.fmt_pretty(f, true, indent + 2, visited)?;
                writeln!(f, ",")?;
            }
        }
        write!(f, "{}}}", " ".repeat(indent))
    }
}

impl fmt::Debug for Table {
    /// `{:?}`: `Table(Ref(0x..))`; `{:#?}`: the contents, as mlua prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return self.fmt_pretty(f, 0, &mut HashSet::new());
        }
        f.debug_tuple("Table").field(&*self.0).finish()
    }
}

impl PartialEq for Table {
    /// Identity (raw equality).
    fn eq(&self, o: &Table) -> bool {
        self.0.lua_id == o.0.lua_id && self.0.raw == o.0.raw
    }
}

/// Iterator over a table's pairs (see [`Table::pairs`]).
pub struct TablePairs<'a, K, V> {
    table: Table,
    /// The last key returned (anchored, so `next` can find it); `None` when done.
    key: Option<Value>,
    _p: PhantomData<(&'a (), K, V)>,
}

impl<K: FromLua, V: FromLua> Iterator for TablePairs<'_, K, V> {
    type Item = Result<(K, V)>;

    fn next(&mut self) -> Option<Self::Item> {
        let prev = self.key.take()?;
        let r = (|| -> Result<Option<(K, V)>> {
            let lua = self.table.0.lua()?;
            let t = self.table.raw_table(&lua)?;
            let g = StackGuard::new(&lua.inner)?;
            let at = g.base();
            let prev_raw = prev.to_raw(&lua.inner)?;
            let inner = &lua.inner;
            let (found, key) = inner.with_vm(|vm| -> Result<(bool, Value)> {
                match t.next(prev_raw) {
                    Ok(Some((k, v))) => {
                        crate::lua::push_checked(vm, &[k, v])?;
                        Ok((true, inner.value_from_raw(vm, k)))
                    }
                    Ok(None) => Ok((false, Value::Nil)),
                    Err(()) => Err(Error::runtime("invalid key to 'next'")),
                }
            })??;
            if !found {
                return Ok(None);
            }
            self.key = Some(key);
            let k = K::from_stack(at, &lua)?;
            let v = V::from_stack(at + 1, &lua)?;
            Ok(Some((k, v)))
        })();
        match r {
            Ok(Some(kv)) => Some(Ok(kv)),
            Ok(None) => None,
            Err(e) => {
                self.key = None;
                Some(Err(e))
            }
        }
    }
}

/// Iterator over a table's sequence (see [`Table::sequence_values`]).
pub struct TableSequence<'a, V> {
    table: Table,
    index: u64,
    done: bool,
    _p: PhantomData<(&'a (), V)>,
}

impl<V: FromLua> Iterator for TableSequence<'_, V> {
    type Item = Result<V>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = (|| -> Result<Option<V>> {
            let lua = self.table.0.lua()?;
            let t = self.table.raw_table(&lua)?;
            let g = StackGuard::new(&lua.inner)?;
            let at = g.base();
            let i = self.index as i64;
            let present = lua.inner.with_vm(|vm| {
                let v = t.get_int(i);
                if v.is_nil() {
                    return Ok(false);
                }
                crate::lua::push_checked(vm, &[v]).map(|_| true)
            })??;
            if !present {
                return Ok(None);
            }
            V::from_stack(at, &lua).map(Some)
        })();
        match r {
            Ok(Some(v)) => {
                self.index += 1;
                Some(Ok(v))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
