//! The `table` library, as LuaJIT 2.1 (OpenResty's luajit2) defines it.
//!
//! - `concat`, `insert`, `maxn`, `sort` are LuaJIT's C functions: element access is
//!   raw, positions are 32-bit integers converted like `lj_num2int` (truncation;
//!   NaN and out-of-range values become -2^31).
//! - `remove`, `move`, `foreach`, `foreachi`, `getn` are Lua functions in LuaJIT: their
//!   position arguments are numbers (numeric strings coerced, fractions kept), and
//!   table indexing truncates the index like the `TGETR`/`TSETR` bytecodes.
//! - `sort` is the median-of-three quicksort of LuaJIT's `lib_table.c`, so comparator
//!   calls, their order and the result for non-strict comparators match; recursion on
//!   the smaller half is replaced by an explicit stack (depth O(log n)). An
//!   inconsistent comparator raises "invalid order function for sorting"; reads
//!   never leave `1..#t`.
//! - `table.new`, `table.clear` and OpenResty's `nkeys`, `isempty`, `isarray`, `clone`
//!   are not fields of `table` until required: they are `package.preload` entries
//!   ("table.new", ...) whose loader also stores the function into `table`, as
//!   LuaJIT's `lj_lib_postreg` does. If the package library is not open yet, the
//!   functions go straight into `package.loaded`.

use crate::gc::GcRef;
use crate::number::fmt_number;
use crate::object::Table;
use crate::value::{LuaType, Value};
use crate::vm::{LResult, MetaEvent, NativeFn, Vm};

pub fn open(vm: &mut Vm) {
    let t = super::register_lib(
        vm,
        "table",
        &[
            ("foreachi", foreachi),
            ("foreach", foreach),
            ("getn", getn),
            ("maxn", maxn),
            ("insert", insert),
            ("remove", remove),
            ("move", move_),
            ("concat", concat),
            ("sort", sort),
        ],
    );
    let g = vm.globals;
    let preload = vm.get_field(g, "package").as_table().and_then(|p| vm.get_field(p, "preload").as_table());
    let extra: [(&'static str, &str, NativeFn); 6] = [
        ("new", "table.new", new),
        ("clone", "table.clone", clone),
        ("isarray", "table.isarray", isarray),
        ("nkeys", "table.nkeys", nkeys),
        ("isempty", "table.isempty", isempty),
        ("clear", "table.clear", clear),
    ];
    for (short, full, f) in extra {
        let fv = vm.native(f, short);
        if let Some(p) = preload {
            let sv = vm.str_value(short.as_bytes());
            let loader = vm.native_closure(preload_loader, "loader", vec![fv, t.to_value(), sv]);
            vm.set_field(p, full, loader);
        } else if let Some(l) = crate::stdlib::lib(vm).loaded {
            vm.set_field(l, full, fv);
        }
    }
}

/// The `package.preload` loader of "table.<name>": stores the function into the
/// `table` library table and returns it.
fn preload_loader(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let f = vm.native_upval(0);
    if let (Some(t), Some(name)) = (vm.native_upval(1).as_table(), vm.native_upval(2).as_string()) {
        vm.raw_set(t, name.to_value(), f)?;
    }
    vm.push(f);
    Ok(1)
}

// ----- Helpers ------------------------------------------------------------------------

/// `lj_num2int`: C's `(int32_t)n` on x86 (truncation; NaN and out-of-range values
/// give -2^31).
pub fn num2int(n: f64) -> i32 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 {
        n as i32
    } else {
        i32::MIN
    }
}

fn check_i32(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<i32> {
    Ok(num2int(vm.check_number(base, nargs, i)?))
}

/// A table index as the `TGETR`/`TSETR` bytecodes see it.
fn tindex(n: f64) -> i64 {
    i64::from(num2int(n))
}

/// Raw `t[i] = v`.
fn seti(vm: &mut Vm, t: GcRef<Table>, i: i64, v: Value) -> LResult<()> {
    vm.raw_set(t, Value::number(i as f64), v)
}

/// `#t` as LuaJIT's C library functions read it (an `int32_t`).
fn len_i32(t: GcRef<Table>) -> i32 {
    t.len() as u32 as i32
}

/// Charges long-running loops to the instruction budget, so that a budget or a
/// cancellation can stop them.
fn tick(vm: &mut Vm, n: i64) -> LResult<()> {
    vm.budget -= n;
    if vm.budget < 0 {
        vm.budget_exhausted()?;
    }
    Ok(())
}

// ----- Functions ----------------------------------------------------------------------

fn concat(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let sep = vm.opt_str(base, nargs, 1)?;
    let i = if vm.arg(base, nargs, 2).is_nil() { 1 } else { check_i32(vm, base, nargs, 2)? };
    let e = if vm.arg(base, nargs, 3).is_nil() { len_i32(t) } else { check_i32(vm, base, nargs, 3)? };
    // Two passes: the size first (a number takes at most 32 bytes), checked against
    // the limits and charged before anything is built; then the string, in a buffer
    // of that size which becomes the string itself. No Lua code runs in between.
    let mut want = 0usize;
    if i <= e {
        let seplen = sep.map_or(0, |s| s.len());
        for k in i..=e {
            let v = t.get_int(i64::from(k));
            let n = match v.as_string() {
                Some(s) => s.len(),
                None if v.is_number() => 32,
                None => {
                    let msg = format!("invalid value ({}) at index {k} in table for 'concat'", v.type_name());
                    return Err(vm.rt_error(&msg));
                }
            };
            want = want.saturating_add(n).saturating_add(if k == e { 0 } else { seplen });
            if want >= crate::stdlib::string::MAX_STR {
                return Err(vm.mem_error());
            }
            if k & 0xfff == 0 {
                tick(vm, 4096)?;
            }
        }
    }
    vm.reserve_mem(want)?;
    vm.charge_bytes(want)?;
    let mut buf = Vec::new();
    crate::stdlib::string::reserve(vm, &mut buf, want)?;
    if i <= e {
        for k in i..=e {
            let v = t.get_int(i64::from(k));
            if let Some(s) = v.as_string() {
                buf.extend_from_slice(s.as_bytes());
            } else {
                fmt_number(v.num(), &mut buf);
            }
            if k != e {
                if let Some(s) = sep {
                    buf.extend_from_slice(s.as_bytes());
                }
            }
        }
    }
    let s = vm.str_value_owned(buf);
    vm.push(s);
    Ok(1)
}

fn insert(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let mut i = len_i32(t).wrapping_add(1);
    if nargs != 2 {
        if nargs != 3 {
            return Err(vm.rt_error("wrong number of arguments to 'insert'"));
        }
        let n = check_i32(vm, base, nargs, 1)?;
        shift_up(vm, t, n, i)?;
        i = n;
    }
    let v = vm.stack[base + nargs - 1];
    seti(vm, t, i64::from(i), v)?;
    Ok(0)
}

/// `for i = top, n+1, -1 do t[i] = t[i-1] end` (raw), without walking a huge
/// empty range one index at a time.
fn shift_up(vm: &mut Vm, t: GcRef<Table>, n: i32, top: i32) -> LResult<()> {
    let (n, top) = (i64::from(n), i64::from(top));
    if top <= n {
        return Ok(());
    }
    if n >= 1 && top - 1 <= t.arr_len() as i64 {
        // Everything below `top` is in the array part: one move.
        let v = t.get_int(top - 1);
        seti(vm, t, top, v)?;
        let (n, top) = (n as usize, top as usize);
        vm.heap.barrier(t);
        // arr[k-1] = arr[k-2] for k = top-1 down to n+1 (still all inside the array
        // part, which only grew).
        vm.charge_bytes((top - n) * 8)?;
        t.arr_copy_within(n - 1..top - 2, n);
        return Ok(());
    }
    let span = top - n;
    let size = t.count() as i64;
    if span <= 4096 || span <= 4 * size {
        let mut k = top;
        while k > n {
            let v = t.get_int(k - 1);
            seti(vm, t, k, v)?;
            k -= 1;
            if k & 0xfff == 0 {
                tick(vm, 4096)?;
            }
        }
        return Ok(());
    }
    // Sparse: only keys holding values in [n, top-1] and the slots just above them
    // change. Read everything first, then write.
    let mut keys: Vec<i64> = Vec::new();
    for j in 0..t.arr_len() {
        let k = j as i64 + 1;
        if t.arr_get(j).is_some_and(|v| !v.is_nil()) && k >= n && k < top {
            keys.push(k);
        }
    }
    for k in t.hash_keys() {
        if let Some(x) = k.as_number() {
            if x.fract() == 0.0 && x >= n as f64 && x < top as f64 {
                keys.push(x as i64);
            }
        }
    }
    keys.sort_unstable();
    let mut writes: Vec<(i64, Value)> = Vec::with_capacity(keys.len() * 2);
    for &k in &keys {
        writes.push((k + 1, t.get_int(k)));
        if k > n && keys.binary_search(&(k - 1)).is_err() {
            writes.push((k, Value::NIL));
        }
    }
    for (k, v) in writes {
        seti(vm, t, k, v)?;
    }
    Ok(())
}

fn remove(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if nargs == 0 {
        // As in LuaJIT, whose fast path pads the missing argument with nil.
        return Err(vm.arg_error(1, "table expected, got nil"));
    }
    let t = vm.check_table(base, nargs, 0)?;
    let len = t.len() as f64;
    if vm.arg(base, nargs, 1).is_nil() {
        if len != 0.0 {
            let old = t.get_int(tindex(len));
            seti(vm, t, tindex(len), Value::NIL)?;
            vm.push(old);
            return Ok(1);
        }
        return Ok(0);
    }
    let pos = vm.check_number(base, nargs, 1)?;
    if pos >= 1.0 && pos <= len {
        let old = t.get_int(tindex(pos));
        vm.push(old); // Keep it rooted while the table changes.
        if pos.fract() == 0.0 && len as usize <= t.arr_len() {
            // Within the array part: one move.
            let (p, l) = (pos as usize, len as usize);
            // arr[i-2] = arr[i-1] for i = p+1 ..= l.
            vm.charge_bytes((l - p) * 8)?;
            t.arr_copy_within(p..l, p - 1);
            vm.heap.barrier(t);
            seti(vm, t, tindex(len), Value::NIL)?;
            return Ok(1);
        }
        let mut i = pos + 1.0;
        while i <= len {
            let v = t.get_int(tindex(i));
            seti(vm, t, tindex(i - 1.0), v)?;
            i += 1.0;
            if i % 4096.0 == 0.0 {
                tick(vm, 4096)?;
            }
        }
        seti(vm, t, tindex(len), Value::NIL)?;
        return Ok(1);
    }
    Ok(0)
}

fn move_(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a1 = vm.check_table(base, nargs, 0)?;
    let f = vm.check_number(base, nargs, 1)?;
    let e = vm.check_number(base, nargs, 2)?;
    let to = vm.check_number(base, nargs, 3)?;
    let a2 = if vm.arg(base, nargs, 4).is_nil() { a1 } else { vm.check_table(base, nargs, 4)? };
    if e >= f {
        let d = to - f;
        let forward = to > e || to <= f || !vm.equals(a2.to_value(), a1.to_value())?;
        let mut n = 0u32;
        let mut i = if forward { f } else { e };
        while if forward { i <= e } else { i >= f } {
            let v = a1.get_int(tindex(i));
            seti(vm, a2, tindex(i + d), v)?;
            i += if forward { 1.0 } else { -1.0 };
            n = n.wrapping_add(1);
            if n & 0xfff == 0 {
                tick(vm, 4096)?;
            }
        }
    }
    vm.push(a2.to_value());
    Ok(1)
}

fn maxn(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let mut m = match t.arr_last_non_nil() {
        Some(j) => j as f64,
        None => 0.0,
    };
    for k in t.hash_keys() {
        if let Some(n) = k.as_number() {
            if n > m {
                m = n;
            }
        }
    }
    vm.push(Value::number(m));
    Ok(1)
}

fn getn(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    vm.push(Value::number(t.len() as f64));
    Ok(1)
}

fn foreachi(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let f = vm.check_function(base, nargs, 1)?;
    let n = t.len() as i64;
    for i in 1..=n {
        let v = t.get_int(i);
        let r = vm.call_value1(f, &[Value::number(i as f64), v])?;
        if !r.is_nil() {
            vm.push(r);
            return Ok(1);
        }
    }
    Ok(0)
}

fn foreach(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let f = vm.check_function(base, nargs, 1)?;
    // The current key lives in a stack slot so the collector sees it.
    let slot = vm.top;
    vm.push(Value::NIL);
    loop {
        let k = vm.stack[slot];
        // LuaJIT iterates by position and never fails here; a key that has gone
        // missing (the callback changed the table) just ends the traversal.
        let Ok(Some((k, v))) = t.next(k) else { break };
        vm.stack[slot] = k;
        let r = vm.call_value1(f, &[k, v])?;
        if !r.is_nil() {
            vm.top = slot;
            vm.push(r);
            return Ok(1);
        }
    }
    vm.top = slot;
    Ok(0)
}

// ----- sort ---------------------------------------------------------------------------

/// `a < b` as `lua_lessthan` in LuaJIT's 5.1 mode: numbers, strings, or an `__lt`
/// handler shared by both operands of the same type. Errors carry no position.
fn sort_less(vm: &mut Vm, a: Value, b: Value) -> LResult<bool> {
    if let Some(r) = Vm::compare_basic(a, b, false) {
        return Ok(r);
    }
    if a.lua_type() == b.lua_type() && a.lua_type() != LuaType::Number {
        let h = vm.metamethod(a, MetaEvent::Lt);
        let h2 = vm.metamethod(b, MetaEvent::Lt);
        if !h.is_nil() && Vm::raw_equal(h, h2) {
            return Ok(vm.call_value1(h, &[a, b])?.truthy());
        }
    }
    let (ta, tb) = (a.type_name(), b.type_name());
    let msg = if ta == tb {
        format!("attempt to compare two {ta} values")
    } else {
        format!("attempt to compare {ta} with {tb}")
    };
    Err(vm.plain_error(&msg))
}

/// The state of one `table.sort` call. Values that must survive comparator calls
/// (the pivot and the two elements being swapped) are kept in stack slots
/// `slots .. slots+3`, so they stay GC roots even if the comparator edits the table.
struct Sort {
    t: GcRef<Table>,
    comp: Value,
    slots: usize,
    calls: u32,
}

impl Sort {
    fn less(&mut self, vm: &mut Vm, a: Value, b: Value) -> LResult<bool> {
        self.calls = self.calls.wrapping_add(1);
        if self.calls & 0x3ff == 0 {
            tick(vm, 1024)?;
        }
        if self.comp.is_nil() {
            sort_less(vm, a, b)
        } else {
            Ok(vm.call_value1(self.comp, &[a, b])?.truthy())
        }
    }

    /// Reads `t[i]` into slot `s`.
    fn get(&self, vm: &mut Vm, i: i64, s: usize) -> Value {
        let v = self.t.get_int(i);
        vm.stack[self.slots + s] = v;
        v
    }

    fn set(&self, vm: &mut Vm, i: i64, v: Value) -> LResult<()> {
        seti(vm, self.t, i, v)
    }

    /// LuaJIT's `auxsort` on `t[lo..=hi]`.
    fn run(&mut self, vm: &mut Vm, lo: i64, hi: i64) -> LResult<()> {
        let (mut l, mut u) = (lo, hi);
        let mut pending: Vec<(i64, i64)> = Vec::new();
        loop {
            if l >= u {
                match pending.pop() {
                    Some((a, b)) => {
                        (l, u) = (a, b);
                        continue;
                    }
                    None => return Ok(()),
                }
            }
            // Order t[l], t[(l+u)/2], t[u].
            let al = self.get(vm, l, 1);
            let au = self.get(vm, u, 2);
            if self.less(vm, au, al)? {
                self.set(vm, l, au)?;
                self.set(vm, u, al)?;
            }
            if u - l == 1 {
                l = u;
                continue;
            }
            let mut i = (l + u) / 2;
            let ai = self.get(vm, i, 1);
            let al = self.get(vm, l, 2);
            if self.less(vm, ai, al)? {
                self.set(vm, i, al)?;
                self.set(vm, l, ai)?;
            } else {
                let au = self.get(vm, u, 2);
                if self.less(vm, au, ai)? {
                    self.set(vm, i, au)?;
                    self.set(vm, u, ai)?;
                }
            }
            if u - l == 2 {
                l = u;
                continue;
            }
            let p = self.get(vm, i, 0);
            let au1 = self.get(vm, u - 1, 1);
            self.set(vm, i, au1)?;
            self.set(vm, u - 1, p)?;
            // Invariant: t[l..=i] <= P <= t[j..=u].
            i = l;
            let mut j = u - 1;
            loop {
                let ai = loop {
                    i += 1;
                    let ai = self.get(vm, i, 1);
                    if !self.less(vm, ai, p)? {
                        break ai;
                    }
                    if i >= u {
                        return Err(vm.rt_error("invalid order function for sorting"));
                    }
                };
                let aj = loop {
                    j -= 1;
                    let aj = self.get(vm, j, 2);
                    if !self.less(vm, p, aj)? {
                        break aj;
                    }
                    if j <= l {
                        return Err(vm.rt_error("invalid order function for sorting"));
                    }
                };
                if j < i {
                    break;
                }
                self.set(vm, i, aj)?;
                self.set(vm, j, ai)?;
            }
            let au1 = self.get(vm, u - 1, 1);
            let ai = self.get(vm, i, 2);
            self.set(vm, u - 1, ai)?;
            self.set(vm, i, au1)?;
            // Sort the smaller part first (as LuaJIT's recursive call), the larger after.
            if i - l < u - i {
                pending.push((i + 1, u));
                u = i - 1;
            } else {
                pending.push((l, i - 1));
                l = i + 1;
            }
        }
    }
}

fn sort(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let n = i64::from(len_i32(t));
    let comp = vm.arg(base, nargs, 1);
    if !comp.is_nil() {
        vm.check_function(base, nargs, 1)?;
    }
    let slots = vm.top;
    for _ in 0..3 {
        vm.push(Value::NIL);
    }
    let mut s = Sort { t, comp, slots, calls: 0 };
    s.run(vm, 1, n)?;
    vm.top = slots;
    Ok(0)
}

// ----- LuaJIT / OpenResty extensions --------------------------------------------------

/// Most entries `table.new` preallocates (larger sizes are hints only).
const MAX_PREALLOC: usize = 1 << 16;

fn new(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = check_i32(vm, base, nargs, 0)?;
    let h = check_i32(vm, base, nargs, 1)?;
    // LuaJIT's limits: array part up to 2^27 + 1 slots, hash part up to 2^26 nodes.
    let asize: u64 = if a > 0 { a as u64 + 1 } else { 0 };
    let hbits = match h {
        0 => 0,
        1 => 1,
        _ => 1 + (32 - ((h as u32).wrapping_sub(1)).leading_zeros()),
    };
    if asize > (1 << 27) + 1 || hbits > 26 {
        return Err(vm.plain_error("table overflow"));
    }
    let narr = (a.max(0) as usize).min(MAX_PREALLOC);
    let nhash = (h.max(0) as usize).min(MAX_PREALLOC);
    let t = vm.new_table(narr, nhash);
    vm.push(t.to_value());
    Ok(1)
}

fn clear(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    t.clear();
    Ok(0)
}

fn clone(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let copy = match t.try_clone_contents(vm.heap.room()) {
        Ok(c) => c,
        Err(_) => return Err(vm.mem_error()),
    };
    let c = vm.heap.alloc(copy);
    vm.push(c.to_value());
    Ok(1)
}

fn nkeys(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    vm.push(Value::number(t.count() as f64));
    Ok(1)
}

fn isempty(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let empty = t.is_empty();
    vm.push(Value::boolean(empty));
    Ok(1)
}

/// OpenResty's `table.isarray`: every hash key is an integral number (the array
/// part always qualifies; holes are allowed).
fn isarray(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let t = vm.check_table(base, nargs, 0)?;
    let ok = t.hash_keys().into_iter().all(|k| k.as_number().is_some_and(|n| n.round_ties_even() == n));
    vm.push(Value::boolean(ok));
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::num2int;

    #[test]
    fn num2int_is_x86_truncation() {
        assert_eq!(num2int(1.9), 1);
        assert_eq!(num2int(-1.9), -1);
        assert_eq!(num2int(2147483647.5), i32::MAX);
        assert_eq!(num2int(2147483648.0), i32::MIN);
        assert_eq!(num2int(-2147483648.9), i32::MIN);
        assert_eq!(num2int(-2147483649.0), i32::MIN);
        assert_eq!(num2int(f64::NAN), i32::MIN);
        assert_eq!(num2int(f64::INFINITY), i32::MIN);
    }
}

/// The library natives driven through a real state (no compiler needed).
#[cfg(test)]
mod native_tests {
    use crate::value::Value;
    use crate::vm::{LResult, Vm};
    use std::cell::Cell;

    thread_local! {
        static CALLS: Cell<u32> = const { Cell::new(0) };
    }

    fn lib(vm: &mut Vm, lib: &str, name: &str) -> Value {
        let g = vm.globals;
        let t = vm.get_field(g, lib).as_table().expect("library table");
        vm.get_field(t, name)
    }

    /// A new array, kept alive by the state (the test holds it in a Rust local
    /// across calls that may collect).
    fn array(vm: &mut Vm, xs: &[f64]) -> Value {
        let t = vm.new_table(xs.len(), 0);
        for (i, &x) in xs.iter().enumerate() {
            vm.raw_set(t, Value::number((i + 1) as f64), Value::number(x)).unwrap();
        }
        vm.roots.push(t.to_value());
        t.to_value()
    }

    fn contents(t: Value, n: i64) -> Vec<f64> {
        let t = t.as_table().unwrap();
        (1..=n).map(|i| t.get_int(i).num()).collect()
    }

    fn err_text(vm: &mut Vm, r: LResult<Vec<Value>>) -> String {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => vm.error_to_string(&e),
        }
    }

    fn counting_lt(vm: &mut Vm, base: usize, _nargs: usize) -> LResult<usize> {
        CALLS.with(|c| c.set(c.get() + 1));
        let r = vm.stack[base].num() < vm.stack[base + 1].num();
        vm.push(Value::boolean(r));
        Ok(1)
    }

    fn le(vm: &mut Vm, base: usize, _nargs: usize) -> LResult<usize> {
        let r = vm.stack[base].num() <= vm.stack[base + 1].num();
        vm.push(Value::boolean(r));
        Ok(1)
    }

    fn always(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
        vm.push(Value::TRUE);
        Ok(1)
    }

    #[test]
    fn sort_matches_luajit() {
        let mut vm = crate::stdlib::test_vm();
        let sort = lib(&mut vm, "table", "sort");
        let xs: Vec<f64> = (1..=100).map(|i| f64::from((i * 7919) % 101)).collect();
        let t = array(&mut vm, &xs);
        let cmp = vm.native(counting_lt, "lt");
        CALLS.with(|c| c.set(0));
        vm.call_value(sort, &[t, cmp], 0).unwrap();
        assert_eq!(CALLS.with(|c| c.get()), 607);
        assert_eq!(contents(t, 100), (1..=100).map(f64::from).collect::<Vec<_>>());
        // Default comparator.
        let t = array(&mut vm, &[5.0, 3.0, 1.0, 4.0, 2.0]);
        vm.call_value(sort, &[t], 0).unwrap();
        assert_eq!(contents(t, 5), [1.0, 2.0, 3.0, 4.0, 5.0]);
        // Inconsistent comparators.
        let xs: Vec<f64> = (1..=20).map(|i| f64::from((i * 37) % 11)).collect();
        let t = array(&mut vm, &xs);
        let f = vm.native(le, "le");
        let r = vm.call_value(sort, &[t, f], 0);
        assert_eq!(err_text(&mut vm, r), "invalid order function for sorting");
        let want = [1, 2, 1, 2, 0, 3, 3, 4, 6, 10, 9, 4, 8, 5, 5, 9, 8, 6, 10, 7];
        assert_eq!(contents(t, 20), want.iter().map(|&x| f64::from(x)).collect::<Vec<_>>());
        let t = array(&mut vm, &[3.0, 2.0, 1.0, 5.0, 4.0]);
        let f = vm.native(always, "always");
        let r = vm.call_value(sort, &[t, f], 0);
        assert_eq!(err_text(&mut vm, r), "invalid order function for sorting");
        // Mixed types without a comparator.
        let t = vm.new_table(2, 0);
        let x = vm.str_value(b"x");
        vm.raw_set(t, Value::number(1.0), Value::number(1.0)).unwrap();
        vm.raw_set(t, Value::number(2.0), x).unwrap();
        let r = vm.call_value(sort, &[t.to_value()], 0);
        assert_eq!(err_text(&mut vm, r), "attempt to compare string with number");
        // A large input stays fast and correct.
        let xs: Vec<f64> = (1..=20000).map(|i| f64::from((i * 7919) % 20011)).collect();
        let t = array(&mut vm, &xs);
        vm.call_value(sort, &[t], 0).unwrap();
        let got = contents(t, 20000);
        assert!(got.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn insert_remove_concat() {
        let mut vm = crate::stdlib::test_vm();
        let insert = lib(&mut vm, "table", "insert");
        let remove = lib(&mut vm, "table", "remove");
        let concat = lib(&mut vm, "table", "concat");
        let t = array(&mut vm, &[1.0, 2.0, 3.0]);
        let x = vm.str_value(b"x");
        vm.call_value(insert, &[t, Value::number(1.0), x], 0).unwrap();
        let sep = vm.str_value(b",");
        let s = vm.call_value1(concat, &[t, sep]).unwrap();
        assert_eq!(s.as_string().unwrap().as_bytes(), b"x,1,2,3");
        let r = vm.call_value(remove, &[t], -1).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].num(), 3.0);
        let r = vm.call_value(remove, &[t, Value::number(4.0)], -1).unwrap();
        assert!(r.is_empty());
        let r = vm.call_value(insert, &[t, Value::number(1.0), x, x], 0);
        assert_eq!(err_text(&mut vm, r), "wrong number of arguments to 'insert'");
        let bad = vm.new_table(0, 0);
        vm.raw_set(bad, Value::number(1.0), Value::TRUE).unwrap();
        let r = vm.call_value(concat, &[bad.to_value()], 1);
        assert_eq!(err_text(&mut vm, r), "invalid value (boolean) at index 1 in table for 'concat'");
        // Sparse shift over a long empty range.
        let t = vm.new_table(0, 0);
        let a = vm.str_value(b"a");
        vm.raw_set(t, Value::number(-5.0), a).unwrap();
        vm.call_value(insert, &[t.to_value(), Value::number(-1e6), x], 0).unwrap();
        assert_eq!(t.get_int(-4), a);
        assert!(t.get_int(-5).is_nil());
        assert_eq!(t.get_int(-1_000_000), x);
    }

    #[test]
    fn extensions_are_preloaded() {
        let mut vm = crate::stdlib::test_vm();
        let g = vm.globals;
        let pkg = vm.get_field(g, "package").as_table().expect("package");
        let pre = vm.get_field(pkg, "preload").as_table().expect("preload");
        let loader = vm.get_field(pre, "table.nkeys");
        let f = vm.call_value1(loader, &[]).unwrap();
        let t = vm.get_field(g, "table").as_table().unwrap();
        assert_eq!(vm.get_field(t, "nkeys"), f);
        let arr = array(&mut vm, &[1.0, 2.0, 3.0]);
        assert_eq!(vm.call_value1(f, &[arr]).unwrap().num(), 3.0);
    }

    #[test]
    fn other_libraries() {
        let mut vm = crate::stdlib::test_vm();
        let seed = lib(&mut vm, "math", "randomseed");
        let random = lib(&mut vm, "math", "random");
        vm.call_value(seed, &[Value::number(42.0)], 0).unwrap();
        let got: Vec<f64> = (0..5)
            .map(|_| vm.call_value1(random, &[Value::number(1.0), Value::number(100.0)]).unwrap().num())
            .collect();
        assert_eq!(got, [96.0, 1.0, 54.0, 44.0, 72.0]);
        let tohex = lib(&mut vm, "bit", "tohex");
        let h = vm.call_value1(tohex, &[Value::number(255.0), Value::number(-4.0)]).unwrap();
        assert_eq!(h.as_string().unwrap().as_bytes(), b"00FF");
        let date = lib(&mut vm, "os", "date");
        let f = vm.str_value(b"!%Y-%m-%d %H:%M:%S");
        let d = vm.call_value1(date, &[f, Value::number(1e9)]).unwrap();
        assert_eq!(d.as_string().unwrap().as_bytes(), b"2001-09-09 01:46:40");
        let deg = lib(&mut vm, "math", "deg");
        let r = vm.call_value(deg, &[], 1);
        assert_eq!(err_text(&mut vm, r), "[builtin:deg]:0: attempt to perform arithmetic on a nil value");
    }
}
