//! Host functions granted to this tenant, seen by the script as globals (`kv.get`
//! becomes the field `get` of a global table `kv`), and C functions granted to its
//! FFI (named `ffi.C:<name>:<signature>`; `ffi.C.name` resolves them once the script
//! declares them with that signature: `moonbox_engine::ffi::grants`).
//!
//! The host serves them through four imports in the `moonbox` module. Every one of
//! them answers 0 for "not available", so under a WASI runtime that fills unknown
//! imports with default values the guest simply has no host functions.

use std::rc::Rc;

use moonbox_engine::ffi::grants::{grant_c_function, CValue, GrantFn};
use moonbox_engine::value::Value;
use moonbox_engine::vm::{LResult, Vm};

use crate::wire::{self, WireValue};

#[cfg(target_os = "wasi")]
mod imports {
    #[link(wasm_import_module = "moonbox")]
    unsafe extern "C" {
        /// How many functions the host granted.
        #[link_name = "host_count"]
        pub fn count() -> i32;
        /// Copies the name of function `index` into `buf` (at most `cap` bytes);
        /// returns its length, 0 if there is no such function.
        #[link_name = "host_name"]
        pub fn name(index: i32, buf: *mut u8, cap: i32) -> i32;
        /// Calls function `index` with encoded arguments; returns 1 + the length of
        /// the encoded result, which `host_result` then copies out; 0 if unavailable.
        #[link_name = "host_call"]
        pub fn call(index: i32, args: *const u8, len: i32) -> i32;
        /// Copies the pending result (exactly `len` bytes) into `buf`; 1 on success.
        #[link_name = "host_result"]
        pub fn result(buf: *mut u8, len: i32) -> i32;
        /// 1 + the length of the main chunk the host hands over; 0 if none.
        #[link_name = "script_len"]
        pub fn script_len() -> i32;
        /// Copies the main chunk (exactly `len` bytes) into `buf`; 1 on success.
        #[link_name = "script_read"]
        pub fn script_read(buf: *mut u8, len: i32) -> i32;
        /// Tells the host the message of the error that ends the run.
        #[link_name = "report_error"]
        pub fn report_error(msg: *const u8, len: i32);
    }
}

/// Safe wrappers over the imports (and stubs answering "not available" on other
/// targets, so the guest crate also builds natively).
mod ffi {
    pub fn count() -> usize {
        #[cfg(target_os = "wasi")]
        {
            // SAFETY: takes no pointers; the host (or a default-value stub) answers a number.
            let n = unsafe { super::imports::count() };
            return usize::try_from(n).unwrap_or(0);
        }
        #[allow(unreachable_code)]
        0
    }

    pub fn name(index: usize) -> Option<String> {
        let mut buf = vec![0u8; 1024];
        let _ = (&mut buf, index);
        #[cfg(target_os = "wasi")]
        {
            // SAFETY: `buf` is a live, writable allocation of `buf.len()` bytes; the host
            // writes at most that many bytes into it.
            let n = unsafe { super::imports::name(index as i32, buf.as_mut_ptr(), buf.len() as i32) };
            let n = usize::try_from(n).ok().filter(|&n| n > 0 && n <= buf.len())?;
            buf.truncate(n);
            return String::from_utf8(buf).ok();
        }
        #[allow(unreachable_code)]
        None
    }

    pub fn call(index: usize, args: &[u8]) -> Option<Vec<u8>> {
        let _ = (index, args);
        #[cfg(target_os = "wasi")]
        {
            // SAFETY: `args` is a live allocation of `args.len()` bytes that the host only reads.
            let n = unsafe { super::imports::call(index as i32, args.as_ptr(), args.len() as i32) };
            let len = usize::try_from(n).ok().filter(|&n| n > 0)? - 1;
            let mut out = Vec::new();
            out.try_reserve_exact(len).ok()?;
            out.resize(len, 0);
            // SAFETY: `out` is a live, writable allocation of `len` bytes; the host writes
            // exactly `len` bytes into it.
            let ok = unsafe { super::imports::result(out.as_mut_ptr(), len as i32) };
            return (ok == 1).then_some(out);
        }
        #[allow(unreachable_code)]
        None
    }

    pub fn script() -> Option<Vec<u8>> {
        #[cfg(target_os = "wasi")]
        {
            // SAFETY: takes no pointers.
            let n = unsafe { super::imports::script_len() };
            let len = usize::try_from(n).ok().filter(|&n| n > 0)? - 1;
            let mut out = Vec::new();
            out.try_reserve_exact(len).ok()?;
            out.resize(len, 0);
            // SAFETY: `out` is a live, writable allocation of `len` bytes; the host writes
            // exactly `len` bytes into it.
            let ok = unsafe { super::imports::script_read(out.as_mut_ptr(), len as i32) };
            return (ok == 1).then_some(out);
        }
        #[allow(unreachable_code)]
        None
    }

    pub fn report_error(msg: &[u8]) {
        let _ = msg;
        #[cfg(target_os = "wasi")]
        // SAFETY: `msg` is a live allocation of `msg.len()` bytes that the host only reads.
        unsafe {
            super::imports::report_error(msg.as_ptr(), msg.len() as i32)
        };
    }
}

pub use ffi::{report_error, script};

/// Host grants of C functions are named `ffi.C:<name>:<signature>`.
const C_GRANT: &str = "ffi.C:";

/// Makes every granted function reachable from Lua: dotted names as globals, C
/// functions through `ffi.C` (once the script declares them with a matching type).
pub fn install(vm: &mut Vm) {
    for index in 0..ffi::count() {
        let Some(name) = ffi::name(index) else { continue };
        if let Some(c) = name.strip_prefix(C_GRANT) {
            if let Some((cname, sig)) = c.split_once(':') {
                let f: GrantFn = Rc::new(move |_vm: &mut Vm, args: &[CValue]| call_c_grant(index, args));
                // A grant the engine refuses (a malformed name or signature) is left out.
                let _ = grant_c_function(vm, cname, sig, f);
            }
            continue;
        }
        let parts: Vec<&str> = name.split('.').collect();
        let (last, path) = parts.split_last().expect("split yields at least one part");
        // Walk (or create) the tables on the path from the globals.
        let mut t = vm.globals();
        let mut ok = true;
        for p in path {
            let v = vm.get_field(t, p);
            t = match v.as_table() {
                Some(sub) => sub,
                None if v.is_nil() => {
                    let sub = vm.new_table(0, 4);
                    vm.set_field(t, p, sub.to_value());
                    sub
                }
                None => {
                    ok = false;
                    break;
                }
            };
        }
        if !ok {
            continue;
        }
        // The engine names natives with a static string; a tenant process grants a
        // handful of functions once, so leaking their names is bounded.
        let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
        let f = vm.native_closure(call_host, static_name, vec![Value::number(index as f64)]);
        vm.set_field(t, last, f);
    }
}

/// A granted C function: the converted arguments go over the wire as values, and
/// its one result comes back (none for `void`).
fn call_c_grant(index: usize, args: &[CValue]) -> Result<CValue, String> {
    let wire_args: Vec<WireValue> = args
        .iter()
        .map(|a| match a {
            CValue::Void => WireValue::Nil,
            CValue::Bool(b) => WireValue::Bool(*b),
            CValue::Num(n) => WireValue::Number(*n),
            CValue::Str(s) => WireValue::Str(s.clone()),
        })
        .collect();
    let mut bytes = Vec::new();
    wire::encode(&wire_args, &mut bytes);
    drop(wire_args);
    let result = ffi::call(index, &bytes).ok_or_else(|| "host function not available".to_string())?;
    let (status, rest) = result.split_first().map(|(s, r)| (*s, r)).unwrap_or((1, &[]));
    let values = wire::decode(rest).ok_or_else(|| "malformed host function result".to_string())?;
    if status != 0 {
        return Err(match values.first() {
            Some(WireValue::Str(s)) => String::from_utf8_lossy(s).into_owned(),
            _ => "host function failed".to_string(),
        });
    }
    Ok(match values.into_iter().next() {
        None | Some(WireValue::Nil) => CValue::Void,
        Some(WireValue::Bool(b)) => CValue::Bool(b),
        Some(WireValue::Number(n)) => CValue::Num(n),
        Some(WireValue::Str(s)) => CValue::Str(s),
    })
}

/// The Lua side of a granted function: encode the arguments, call, decode.
fn call_host(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let index = vm.native_upval(0).num() as usize;
    let mut args = Vec::with_capacity(nargs);
    for i in 0..nargs {
        let v = vm.arg(base, nargs, i);
        args.push(if v.is_nil() {
            WireValue::Nil
        } else if let Some(b) = v.as_bool() {
            WireValue::Bool(b)
        } else if let Some(n) = v.as_number() {
            WireValue::Number(n)
        } else if let Some(s) = v.as_string() {
            WireValue::Str(s.as_bytes().to_vec())
        } else {
            let msg = format!(
                "bad argument #{} to host function (nil, boolean, number or string expected, got {})",
                i + 1,
                v.type_name()
            );
            return Err(vm.rt_error(&msg));
        });
    }
    let mut bytes = Vec::new();
    wire::encode(&args, &mut bytes);
    drop(args);
    let Some(result) = ffi::call(index, &bytes) else {
        return Err(vm.rt_error("host function not available"));
    };
    let (status, rest) = result.split_first().map(|(s, r)| (*s, r)).unwrap_or((1, &[]));
    let Some(values) = wire::decode(rest) else {
        return Err(vm.rt_error("malformed host function result"));
    };
    if status != 0 {
        let msg = match values.first() {
            Some(WireValue::Str(s)) => String::from_utf8_lossy(s).into_owned(),
            _ => "host function failed".to_string(),
        };
        return Err(vm.rt_error(&msg));
    }
    let n = values.len();
    for v in values {
        let lv = match v {
            WireValue::Nil => Value::NIL,
            WireValue::Bool(b) => Value::boolean(b),
            WireValue::Number(x) => Value::number(x),
            WireValue::Str(s) => vm.str_value(&s),
        };
        vm.push(lv);
    }
    Ok(n)
}
