//! Lua tables.

use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use moonbox_engine::Value as Raw;

use crate::conv::{FromLua, IntoLua};
use crate::error::{Error, Result};
use crate::lua::{Lua, StackGuard};
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
/// assert_eq!(t.get::<_, i32>("x")?, 1);
/// assert_eq!(t.get::<_, String>(1)?, "first");
/// assert_eq!(t.len()?, 1);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone)]
pub struct Table(pub(crate) Rc<Ref>);

impl Table {
    fn raw_table(&self, lua: &Lua) -> Result<moonbox_engine::gc::GcRef<moonbox_engine::object::Table>> {
        let raw = self.0.raw_for(&lua.inner)?;
        raw.as_table().ok_or(Error::MismatchedLua)
    }

    /// `t[key]`, with `__index`.
    pub fn get<K: IntoLua, V: FromLua>(&self, key: K) -> Result<V> {
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
    pub fn set<K: IntoLua, V: IntoLua>(&self, key: K, value: V) -> Result<()> {
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
    pub fn raw_get<K: IntoLua, V: FromLua>(&self, key: K) -> Result<V> {
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
    pub fn raw_set<K: IntoLua, V: IntoLua>(&self, key: K, value: V) -> Result<()> {
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

    /// Does `t[key]` (raw) hold a non-nil value?
    pub fn contains_key<K: IntoLua>(&self, key: K) -> Result<bool> {
        Ok(!self.raw_get::<K, Value>(key)?.is_nil())
    }

    /// Appends `value` at `#t + 1` (raw).
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let t = lua.create_table()?;
    /// t.push("a")?;
    /// t.push("b")?;
    /// assert_eq!(t.sequence_values::<String>().collect::<Result<Vec<_>, _>>()?, ["a", "b"]);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn push<V: IntoLua>(&self, value: V) -> Result<()> {
        let n = self.raw_len()?;
        self.raw_set(n as f64 + 1.0, value)
    }

    /// The length `#t`. Lua 5.1 tables have no `__len`, so this is the raw border:
    /// an `n` with `t[n] ~= nil` and `t[n + 1] == nil` (0 if `t[1]` is nil).
    pub fn len(&self) -> Result<usize> {
        self.raw_len()
    }

    /// The raw border (see [`len`](Table::len)).
    pub fn raw_len(&self) -> Result<usize> {
        let lua = self.0.lua()?;
        let t = self.raw_table(&lua)?;
        lua.inner.with_vm(|_| t.len())
    }

    /// Is the table empty (no keys at all)?
    pub fn is_empty(&self) -> Result<bool> {
        let lua = self.0.lua()?;
        let t = self.raw_table(&lua)?;
        lua.inner.with_vm(|_| matches!(t.next(Raw::NIL), Ok(None)))
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
    /// assert_eq!(t.get::<_, String>("hey")?, "hey!");
    /// assert!(t.get_metatable()?.is_some());
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
    pub fn get_metatable(&self) -> Result<Option<Table>> {
        let lua = self.0.lua()?;
        let t = self.raw_table(&lua)?;
        let inner = &lua.inner;
        inner.with_vm(|vm| t.meta().map(|mt| Table(inner.make_ref(vm, mt.to_value()))))
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
    pub fn pairs<K: FromLua, V: FromLua>(&self) -> TablePairs<K, V> {
        TablePairs { table: self.clone(), key: Some(Value::Nil), _p: PhantomData }
    }

    /// Iterates over `t[1], t[2], ...` up to the first nil (raw).
    pub fn sequence_values<V: FromLua>(&self) -> TableSequence<V> {
        TableSequence { table: self.clone(), index: 1, done: false, _p: PhantomData }
    }

    /// Calls `f` for every pair (raw).
    pub fn for_each<K: FromLua, V: FromLua>(&self, mut f: impl FnMut(K, V) -> Result<()>) -> Result<()> {
        for p in self.pairs::<K, V>() {
            let (k, v) = p?;
            f(k, v)?;
        }
        Ok(())
    }

    /// Removes every entry (raw), keeping the metatable.
    pub fn clear(&self) -> Result<()> {
        let lua = self.0.lua()?;
        let t = self.raw_table(&lua)?;
        lua.inner.with_vm(|_| t.clear())
    }
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Table({:?})", self.0)
    }
}

impl PartialEq for Table {
    /// Identity (raw equality).
    fn eq(&self, o: &Table) -> bool {
        self.0.lua_id == o.0.lua_id && self.0.raw == o.0.raw
    }
}

/// Iterator over a table's pairs (see [`Table::pairs`]).
pub struct TablePairs<K, V> {
    table: Table,
    /// The last key returned (anchored, so `next` can find it); `None` when done.
    key: Option<Value>,
    _p: PhantomData<(K, V)>,
}

impl<K: FromLua, V: FromLua> Iterator for TablePairs<K, V> {
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
pub struct TableSequence<V> {
    table: Table,
    index: u64,
    done: bool,
    _p: PhantomData<V>,
}

impl<V: FromLua> Iterator for TableSequence<V> {
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
