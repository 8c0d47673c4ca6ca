//! Tables: an array part for keys `1..=n` and an open-addressing hash part.
//!
//! The array part holds `t[1] .. t[arr.len()]` (`arr[i]` is `t[i+1]`); an integer key
//! is never stored in the hash part while it is inside the array range. Assigning to
//! `t[#arr + 1]` appends to the array part (pulling any following keys out of the hash
//! part), so sequences built in order never touch the hash part. When the hash part is
//! full, a rehash recounts integer keys and resizes both parts the way Lua 5.1 does
//! (the largest power-of-two array size that is more than half used).
//!
//! The hash part uses linear probing over a power-of-two node array. A key stays in its
//! node when its value is set to nil (a dead node), so traversal with `next` can go on
//! while fields are cleared; dead nodes are dropped at the next rehash. Dead keys are
//! only ever compared by bits, never dereferenced, so the collector may free them.

use crate::gc::{GcHeader, GcObject, GcRef, Heap, Kind, Marker};
use crate::value::{tag, Value};

/// One hash node. An empty node has a nil key.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Node {
    pub key: Value,
    pub val: Value,
}

const EMPTY: Node = Node { key: Value::NIL, val: Value::NIL };

/// The most hash entries [`Table::new`] preallocates room for.
pub const MAX_HASH_HINT: usize = 1 << 20;

/// A Lua table.
#[repr(C)]
pub struct Table {
    hdr: GcHeader,
    /// Metamethod-absence cache: bit `e` set means the metamethod for event `e` is
    /// known to be absent from this table (when it is used as a metatable). Cleared on
    /// every store of a string key.
    pub nomm: u32,
    pub meta: Option<GcRef<Table>>,
    pub arr: Vec<Value>,
    nodes: Vec<Node>,
    /// Nodes with a non-nil key (live or dead).
    used: usize,
    /// The hash size Lua 5.1 / LuaJIT would have (0 or a power of two). A rehash
    /// happens when `used` reaches it, exactly when theirs would fill up, so keys move
    /// between the parts at the same moments and `#` finds the same borders. The node
    /// array itself is twice as large, keeping linear probing short.
    hcap: usize,
}

/// Why a store failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    Nil,
    NaN,
}

impl KeyError {
    pub fn message(self) -> &'static str {
        match self {
            KeyError::Nil => "table index is nil",
            KeyError::NaN => "table index is NaN",
        }
    }
}

#[inline(always)]
fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// The node hash of a (normalised) key.
#[inline(always)]
fn key_hash(k: Value) -> usize {
    if let Some(s) = k.as_string() {
        s.hash() as usize
    } else {
        mix64(k.to_bits()) as usize
    }
}

/// `n` as an `i32`, if it is an integer in that range. Runs on every `t[i]`, so it
/// avoids Rust's saturating float-to-int conversion (some 25 instructions on x86-64
/// for `as usize`): adding 2^52 + 2^51 leaves `n` rounded to an integer in the low
/// bits of the sum (exact for |n| < 2^51), and that integer is the answer when it
/// converts back to `n`. NaN, infinities and larger numbers fail the comparison.
#[inline(always)]
pub(crate) fn exact_i32(n: f64) -> Option<i32> {
    let i = (n + 6755399441055744.0).to_bits() as u32 as i32;
    (f64::from(i) == n).then_some(i)
}

/// Array index for a number key, if it is an integer from 1 below 2^31 (an array
/// part is never longer).
#[inline(always)]
fn array_index(n: f64) -> Option<usize> {
    match exact_i32(n) {
        Some(i) if i >= 1 => Some(i as usize),
        _ => None,
    }
}

impl Table {
    /// A new table with an array part of `narr` slots (`t[1] .. t[narr]`, all nil,
    /// as Lua preallocates them: a constructor's positional items all land in the
    /// array part, so `#` sees them even with nil holes) and room for `nhash` hash
    /// entries.
    ///
    /// `nhash` is only a hint, capped at [`MAX_HASH_HINT`]: a `TNEW` of a binary chunk
    /// may ask for 2^31 nodes, and the hash part grows on demand anyway.
    pub fn new(narr: usize, nhash: usize) -> Table {
        let nhash = nhash.min(MAX_HASH_HINT);
        let mut t = Table {
            hdr: Heap::new_header::<Table>(),
            nomm: 0,
            meta: None,
            arr: vec![Value::NIL; narr],
            nodes: Vec::new(),
            used: 0,
            hcap: 0,
        };
        if nhash > 0 {
            t.hcap = nhash.next_power_of_two();
            t.nodes = vec![EMPTY; capacity_for(t.hcap)];
        }
        t
    }

    /// `t[k]` without metamethods.
    #[inline]
    pub fn get(&self, k: Value) -> Value {
        if k.is_number() {
            let n = k.num();
            if let Some(i) = array_index(n) {
                if i <= self.arr.len() {
                    return self.arr[i - 1];
                }
            }
            // -0 and 0 are the same key.
            let k = if n == 0.0 { Value::number(0.0) } else { k };
            return self.get_hash(k);
        }
        if k.is_nil() {
            return Value::NIL;
        }
        self.get_hash(k)
    }

    /// `t[i]` for an integer key.
    #[inline]
    pub fn get_int(&self, i: i64) -> Value {
        if i >= 1 && (i as u64) <= self.arr.len() as u64 {
            return self.arr[i as usize - 1];
        }
        self.get_hash(Value::number(i as f64))
    }

    /// `t[s]` for a string key.
    #[inline]
    pub fn get_str(&self, s: GcRef<crate::gc::LuaString>) -> Value {
        match self.find_str(s) {
            Some(i) => self.nodes[i].val,
            None => Value::NIL,
        }
    }

    /// The node holding the string key `s` (its value may be nil).
    #[inline(always)]
    fn find_str(&self, s: GcRef<crate::gc::LuaString>) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let k = s.to_value();
        let mask = self.nodes.len() - 1;
        let mut i = s.hash() as usize & mask;
        loop {
            let n = &self.nodes[i];
            if n.key == k {
                return Some(i);
            }
            if n.key.is_nil() {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn find_node(&self, k: Value) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mask = self.nodes.len() - 1;
        let mut i = key_hash(k) & mask;
        loop {
            let n = &self.nodes[i];
            if n.key == k {
                return Some(i);
            }
            if n.key.is_nil() {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn get_hash(&self, k: Value) -> Value {
        match self.find_node(k) {
            Some(i) => self.nodes[i].val,
            None => Value::NIL,
        }
    }

    /// `t[k] = v` without metamethods. Returns the bytes the table grew by (for GC
    /// accounting) or why the key is invalid.
    pub fn set(&mut self, k: Value, v: Value) -> Result<usize, KeyError> {
        if k.is_number() {
            let n = k.num();
            if n.is_nan() {
                return Err(KeyError::NaN);
            }
            if let Some(i) = array_index(n) {
                if i <= self.arr.len() {
                    self.arr[i - 1] = v;
                    return Ok(0);
                }
                if i == self.arr.len() + 1 && !v.is_nil() {
                    return Ok(self.append(v));
                }
            }
            let k = if n == 0.0 { Value::number(0.0) } else { k };
            return Ok(self.set_hash(k, v));
        }
        if k.is_nil() {
            return Err(KeyError::Nil);
        }
        if k.tag() == tag::STR {
            self.nomm = 0;
        }
        Ok(self.set_hash(k, v))
    }

    /// `t[i] = v` for an integer key.
    pub fn set_int(&mut self, i: i64, v: Value) -> usize {
        if i >= 1 && (i as u64) <= self.arr.len() as u64 {
            self.arr[i as usize - 1] = v;
            return 0;
        }
        match self.set(Value::number(i as f64), v) {
            Ok(n) => n,
            Err(_) => 0,
        }
    }

    /// `t[s] = v` when the string `s` is already a key (its node may hold nil):
    /// the store that never grows the table. False when `s` is not a key.
    #[inline]
    pub fn replace_str(&mut self, s: GcRef<crate::gc::LuaString>, v: Value) -> bool {
        let Some(i) = self.find_str(s) else { return false };
        self.nodes[i].val = v;
        // The key may name a metamethod of this table: forget what absent ones were
        // cached.
        self.nomm = 0;
        true
    }

    /// `t[s] = v` for a string key.
    pub fn set_str(&mut self, s: GcRef<crate::gc::LuaString>, v: Value) -> usize {
        self.nomm = 0;
        self.set_hash(s.to_value(), v)
    }

    fn append(&mut self, v: Value) -> usize {
        let cap = self.arr.capacity();
        if self.used > 0 {
            // The key may already live in the hash part (it was beyond the array part
            // when it was stored): it moves, it must not exist twice.
            let k = Value::number((self.arr.len() + 1) as f64);
            if let Some(i) = self.find_node(k) {
                self.nodes[i].val = Value::NIL;
            }
        }
        self.arr.push(v);
        // Pull the following integer keys out of the hash part.
        if self.used > 0 {
            loop {
                let next = Value::number((self.arr.len() + 1) as f64);
                match self.find_node(next) {
                    Some(i) if !self.nodes[i].val.is_nil() => {
                        let val = self.nodes[i].val;
                        self.nodes[i].val = Value::NIL;
                        self.arr.push(val);
                    }
                    _ => break,
                }
            }
        }
        (self.arr.capacity() - cap) * 8
    }

    fn set_hash(&mut self, k: Value, v: Value) -> usize {
        if let Some(i) = self.find_node(k) {
            self.nodes[i].val = v;
            return 0;
        }
        if v.is_nil() {
            return 0;
        }
        let mut grown = 0;
        if self.used >= self.hcap {
            grown = self.rehash(k);
            // The rehash may have made room in the array part for this key.
            if let Some(i) = k.as_number().and_then(array_index) {
                if i <= self.arr.len() {
                    self.arr[i - 1] = v;
                    return grown;
                }
                if i == self.arr.len() + 1 {
                    return grown + self.append(v);
                }
            }
        }
        self.insert_new(k, v);
        grown
    }

    /// Inserts a key known to be absent, with room available.
    fn insert_new(&mut self, k: Value, v: Value) {
        let mask = self.nodes.len() - 1;
        let mut i = key_hash(k) & mask;
        while !self.nodes[i].key.is_nil() {
            i = (i + 1) & mask;
        }
        self.nodes[i] = Node { key: k, val: v };
        self.used += 1;
    }

    /// Resizes both parts to fit the live keys plus `extra`; returns bytes grown.
    fn rehash(&mut self, extra: Value) -> usize {
        let before = self.mem();
        // counts[b] = number of integer keys k with 2^(b-1) < k <= 2^b.
        let mut counts = [0usize; 64];
        let mut total_int = 0usize;
        let count_key = |i: usize, counts: &mut [usize; 64]| {
            let b = usize::BITS as usize - (i - 1).leading_zeros() as usize;
            counts[b.min(63)] += 1;
        };
        for (j, v) in self.arr.iter().enumerate() {
            if !v.is_nil() {
                count_key(j + 1, &mut counts);
                total_int += 1;
            }
        }
        let mut live_hash = 0usize;
        for n in &self.nodes {
            if !n.key.is_nil() && !n.val.is_nil() {
                live_hash += 1;
                if let Some(i) = n.key.as_number().and_then(array_index) {
                    count_key(i, &mut counts);
                    total_int += 1;
                }
            }
        }
        live_hash += 1;
        if let Some(i) = extra.as_number().and_then(array_index) {
            count_key(i, &mut counts);
            total_int += 1;
        }
        // Largest n = 2^b with more than n/2 integer keys in 1..=n.
        let mut acc = 0usize;
        let mut new_asize = 0usize;
        let mut in_array = 0usize;
        for (b, &c) in counts.iter().enumerate() {
            let twob = 1usize << b;
            acc += c;
            if acc > twob / 2 {
                new_asize = twob;
                in_array = acc;
            }
            if acc == total_int || twob > usize::MAX / 4 {
                break;
            }
        }
        // The array part never shrinks (appends keep it dense in practice).
        let new_asize = new_asize.max(self.arr.len());
        let _ = in_array;

        let old_nodes = std::mem::take(&mut self.nodes);
        let mut moved: Vec<Node> = Vec::with_capacity(live_hash);
        for n in old_nodes {
            if !n.key.is_nil() && !n.val.is_nil() {
                moved.push(n);
            }
        }
        if new_asize > self.arr.len() {
            self.arr.resize(new_asize, Value::NIL);
        }
        let mut rest: Vec<Node> = Vec::with_capacity(moved.len());
        for n in moved {
            match n.key.as_number().and_then(array_index) {
                Some(i) if i <= self.arr.len() => self.arr[i - 1] = n.val,
                _ => rest.push(n),
            }
        }
        // Room for the live keys plus the one being inserted (unless it went to the
        // array part), rounded up as Lua sizes its hash part.
        let new_in_hash = match extra.as_number().and_then(array_index) {
            Some(i) if i <= self.arr.len() + 1 => 0,
            _ => 1,
        };
        let need = rest.len() + new_in_hash;
        self.hcap = if need == 0 { 0 } else { need.next_power_of_two() };
        self.nodes = if self.hcap == 0 { Vec::new() } else { vec![EMPTY; capacity_for(self.hcap)] };
        self.used = 0;
        for n in rest {
            self.insert_new(n.key, n.val);
        }
        self.mem().saturating_sub(before)
    }

    /// The border `#t`, as Lua 5.1 / LuaJIT compute it.
    pub fn len(&self) -> usize {
        let n = self.arr.len();
        if n > 0 && self.arr[n - 1].is_nil() {
            // Binary search for a border inside the array part.
            let (mut i, mut j) = (0usize, n);
            while j - i > 1 {
                let m = (i + j) / 2;
                if self.arr[m - 1].is_nil() {
                    j = m;
                } else {
                    i = m;
                }
            }
            return i;
        }
        if self.used == 0 {
            return n;
        }
        // Unbound search in the hash part.
        let mut i = n;
        let mut j = n + 1;
        while !self.get_int(j as i64).is_nil() {
            i = j;
            if j > usize::MAX / 4 {
                // Pathological: linear search.
                let mut k = 1;
                while !self.get_int(k).is_nil() {
                    k += 1;
                }
                return (k - 1) as usize;
            }
            j *= 2;
        }
        while j - i > 1 {
            let m = (i + j) / 2;
            if self.get_int(m as i64).is_nil() {
                j = m;
            } else {
                i = m;
            }
        }
        i
    }

    /// True if the table has no hash part entries at all.
    #[inline]
    pub fn hash_is_empty(&self) -> bool {
        self.used == 0
    }

    /// Traversal: the entry after `k` (`nil` to start). `Err` for a key not in the
    /// table ("invalid key to 'next'").
    ///
    /// Order: `t[0]` first (LuaJIT keeps index 0 in its array part, and code exists
    /// that relies on seeing it first), then the array part, then the hash part.
    pub fn next(&self, k: Value) -> Result<Option<(Value, Value)>, ()> {
        let zero = Value::number(0.0);
        let is_zero = |v: Value| v.is_number() && v.num() == 0.0;
        let mut pos = if k.is_nil() {
            let v = if self.used > 0 { self.get_hash(zero) } else { Value::NIL };
            if !v.is_nil() {
                return Ok(Some((zero, v)));
            }
            0
        } else if is_zero(k) {
            if self.used == 0 || self.get_hash(zero).is_nil() && self.find_node(zero).is_none() {
                return Err(());
            }
            0
        } else {
            let mut p = None;
            if let Some(i) = k.as_number().and_then(array_index) {
                if i <= self.arr.len() {
                    p = Some(i);
                }
            }
            match p {
                Some(p) => p,
                None => {
                    let k = match k.as_number() {
                        Some(n) if n == 0.0 => Value::number(0.0),
                        _ => k,
                    };
                    match self.find_node(k) {
                        Some(i) => self.arr.len() + i + 1,
                        None => return Err(()),
                    }
                }
            }
        };
        while pos < self.arr.len() {
            let v = self.arr[pos];
            if !v.is_nil() {
                return Ok(Some((Value::number((pos + 1) as f64), v)));
            }
            pos += 1;
        }
        let mut i = pos - self.arr.len();
        while i < self.nodes.len() {
            let n = self.nodes[i];
            if !n.key.is_nil() && !n.val.is_nil() && n.key != zero {
                return Ok(Some((n.key, n.val)));
            }
            i += 1;
        }
        Ok(None)
    }

    /// Number of non-nil entries (OpenResty's `table.nkeys`).
    pub fn count(&self) -> usize {
        self.arr.iter().filter(|v| !v.is_nil()).count()
            + self.nodes.iter().filter(|n| !n.key.is_nil() && !n.val.is_nil()).count()
    }

    /// Removes every entry, keeping the allocated sizes (`table.clear`).
    pub fn clear(&mut self) {
        for v in &mut self.arr {
            *v = Value::NIL;
        }
        for n in &mut self.nodes {
            *n = EMPTY;
        }
        self.used = 0;
    }

    /// A shallow copy (`table.clone`), metatable excluded.
    pub fn clone_contents(&self) -> Table {
        let mut t = Table::new(0, 0);
        t.arr = self.arr.clone();
        t.nodes = self.nodes.clone();
        t.used = self.used;
        t.hcap = self.hcap;
        t
    }

    /// Clears entries whose weak key or value is no longer alive.
    pub fn clear_weak(
        &mut self,
        weak_keys: bool,
        weak_values: bool,
        key_alive: &dyn Fn(Value) -> bool,
        val_alive: &dyn Fn(Value) -> bool,
    ) {
        if weak_values {
            for v in &mut self.arr {
                if !val_alive(*v) {
                    *v = Value::NIL;
                }
            }
        }
        for n in &mut self.nodes {
            if n.key.is_nil() || n.val.is_nil() {
                continue;
            }
            if (weak_keys && !key_alive(n.key)) || (weak_values && !val_alive(n.val)) {
                n.val = Value::NIL;
            }
        }
    }

    fn mem(&self) -> usize {
        std::mem::size_of::<Table>()
            + self.arr.capacity() * std::mem::size_of::<Value>()
            + self.nodes.len() * std::mem::size_of::<Node>()
    }

    /// Iterates live hash entries (for tracing and library code).
    pub fn hash_entries(&self) -> impl Iterator<Item = (Value, Value)> + '_ {
        self.nodes.iter().filter(|n| !n.key.is_nil() && !n.val.is_nil()).map(|n| (n.key, n.val))
    }
}

/// Node count for a Lua-equivalent hash size `n`.
fn capacity_for(n: usize) -> usize {
    // Twice the Lua-equivalent size: the load factor stays at or below 1/2.
    n.saturating_mul(2).next_power_of_two().max(4)
}

impl GcObject for Table {
    const KIND: Kind = Kind::Table;
    const TAG: u64 = tag::TABLE;

    fn trace(&self, m: &mut Marker) {
        let (mut wk, mut wv) = (false, false);
        if let Some(mt) = self.meta {
            m.mark(mt);
            if let Some(mode) = mt.get(m.mode_key).as_string() {
                wk = mode.as_bytes().contains(&b'k');
                wv = mode.as_bytes().contains(&b'v');
            }
        }
        if wk || wv {
            m.push_weak(Value::from_gc(tag::TABLE, self as *const Table as usize), wk, wv);
        }
        // Strings are values, not objects, for weakness (as in Lua 5.1): a weak
        // table never loses them, so they are marked like strong references.
        for &v in &self.arr {
            if !wv || v.is_string() {
                m.mark_value(v);
            }
        }
        for n in &self.nodes {
            if n.key.is_nil() || n.val.is_nil() {
                continue;
            }
            if !wk || n.key.is_string() {
                m.mark_value(n.key);
            }
            if !wv || n.val.is_string() {
                m.mark_value(n.val);
            }
        }
    }

    fn size(&self) -> usize {
        self.mem()
    }

    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Random stores (integer keys around the array boundary, nils included) checked
    /// against a map model: lookups agree, and `next` visits every live key once.
    #[test]
    fn matches_a_map_model() {
        let mut seed = 12345u64;
        let mut rnd = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for round in 0..300 {
            let mut t = Table::new((round % 3) as usize, (round % 4) as usize);
            let mut model: HashMap<i64, f64> = HashMap::new();
            for step in 0..200 {
                let k = rnd(24) as i64 - 2;
                if rnd(4) == 0 {
                    t.set(Value::number(k as f64), Value::NIL).expect("valid key");
                    model.remove(&k);
                } else {
                    let v = step as f64;
                    t.set(Value::number(k as f64), Value::number(v)).expect("valid key");
                    model.insert(k, v);
                }
                for k in -2..22i64 {
                    let got = t.get(Value::number(k as f64));
                    match model.get(&k) {
                        Some(&v) => assert_eq!(got.as_number(), Some(v), "round {round} step {step} key {k}"),
                        None => assert!(got.is_nil(), "round {round} step {step} key {k}"),
                    }
                }
                let mut seen = 0;
                let mut key = Value::NIL;
                while let Ok(Some((k, _))) = t.next(key) {
                    seen += 1;
                    assert!(seen <= model.len(), "next visits a key twice (round {round} step {step})");
                    key = k;
                }
                assert_eq!(seen, model.len());
            }
        }
    }
}
