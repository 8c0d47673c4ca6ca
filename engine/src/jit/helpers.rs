//! The functions generated code calls (`ALEN`, ...): each one reads what a guard
//! of the trace has checked, and none allocates, runs the collector or calls Lua.
//!
//! The entry points take and return raw bits, so each is `unsafe`: its caller
//! promises what the bits are. They use the `sysv64` ABI on x86-64 hosts (the
//! native backend calls them by address) and the C ABI on wasm32 (Wasm traces call
//! them through the guest's function table, `call_indirect`, with the types
//! `jit-wasm` declares: `u64` is `i64`, `f64` is `f64`). Safe Rust has no reason to
//! call them. The evaluator calls the safe function each one wraps.

use crate::value::Value;

/// Defines a helper's entry point for each target that has a JIT backend: the same
/// body, with the ABI generated code calls it with.
macro_rules! entry {
    ($(#[$m:meta])* fn $name:ident($($a:ident: $t:ty),*) -> $r:ty $body:block) => {
        $(#[$m])*
        #[cfg(target_arch = "x86_64")]
        pub unsafe extern "sysv64" fn $name($($a: $t),*) -> $r $body
        $(#[$m])*
        #[cfg(target_arch = "wasm32")]
        pub unsafe extern "C" fn $name($($a: $t),*) -> $r $body
    };
}

/// `#v` for a table or a string: the interpreter's length (`Vm::len_basic`), as
/// a number.
pub fn len_of(v: Value) -> f64 {
    crate::vm::Vm::len_basic(v).unwrap_or(0.0)
}

entry! {
    /// [`len_of`] for the value whose bits are `bits`.
    ///
    /// # Safety
    /// `bits` is a value (a table or a string: a guard checked its tag) made from a
    /// live object, and no Rust reference to that table's parts is live (a trace runs
    /// no Rust code but its helpers, one at a time).
    fn len(bits: u64) -> f64 {
        // SAFETY: the caller passes the bits of a value made from a live object.
        len_of(unsafe { Value::from_bits_unchecked(bits) })
    }
}

/// The address of `t[k]`'s value slot (`Table::slot_addr`), or 0 when `k` is not
/// in `t`.
pub fn slot_of(t: Value, k: Value) -> usize {
    t.as_table().and_then(|t| t.slot_addr(k)).unwrap_or(0)
}

entry! {
    /// [`slot_of`] for the values whose bits are `t` and `k`.
    ///
    /// # Safety
    /// `t` is a table value (a guard checked its tag) made from a live table, `k` any
    /// value made from a live object if a GC type, and no Rust reference to the
    /// table's parts is live.
    fn slot(t: u64, k: u64) -> u64 {
        // SAFETY: the caller passes the bits of values made from live objects.
        let (t, k) = unsafe { (Value::from_bits_unchecked(t), Value::from_bits_unchecked(k)) };
        slot_of(t, k) as u64
    }
}

/// The raw value of `t[k]` (nil when `k` is not in `t`).
pub fn rawget_of(t: Value, k: Value) -> Value {
    t.as_table().map_or(Value::NIL, |t| t.get(k))
}

entry! {
    /// [`rawget_of`] for the values whose bits are `t` and `k`; the value's bits.
    ///
    /// # Safety
    /// As for [`slot`].
    fn rawget(t: u64, k: u64) -> u64 {
        // SAFETY: the caller passes the bits of values made from live objects.
        let (t, k) = unsafe { (Value::from_bits_unchecked(t), Value::from_bits_unchecked(k)) };
        rawget_of(t, k).to_bits()
    }
}

/// `string.byte(s, i)` when it is one byte: that byte; -1 otherwise (no byte at
/// `i`, or `i` not an integer: the interpreter does those).
pub fn byte_of(s: Value, i: f64) -> f64 {
    let Some(s) = s.as_string() else { return -1.0 };
    let Some(i) = crate::object::table::exact_i32(i) else { return -1.0 };
    let len = s.len() as i64;
    let p = if i < 0 { len + i64::from(i) + 1 } else { i64::from(i) };
    match usize::try_from(p - 1).ok().and_then(|p| s.as_bytes().get(p)) {
        Some(&b) if p >= 1 => f64::from(b),
        _ => -1.0,
    }
}

entry! {
    /// [`byte_of`] for the string whose bits are `s`.
    ///
    /// # Safety
    /// `s` is a string value (a guard checked its tag) made from a live string.
    fn byte(s: u64, i: f64) -> f64 {
        // SAFETY: the caller passes the bits of a value made from a live string.
        byte_of(unsafe { Value::from_bits_unchecked(s) }, i)
    }
}
