//! The `moonbox` import module: the guest's only non-WASI imports (granted host
//! functions, the host-provided main chunk, the final error message). The guest side
//! is `guest/src/host.rs`.
//!
//! Everything that crosses is checked here: pointers and lengths against the guest's
//! memory (wasmtime's `Memory::read`/`write` bounds-check), sizes against the
//! tenant's `max_call_bytes`, encodings by the decoder. A malformed call is answered
//! with an error the script sees as a Lua error; it never reaches the host function
//! and never panics the host.

use std::panic::{catch_unwind, AssertUnwindSafe};

use wasmtime::{Caller, Extern, Linker, Memory};

use crate::state::TenantState;
use crate::wire::{self, HostValue};

/// The most arguments a host call may pass.
const MAX_ARGS: usize = 64;
/// The most bytes of an error message the guest may report.
const MAX_ERROR_BYTES: usize = 64 << 10;

fn memory(caller: &mut Caller<'_, TenantState>) -> Option<Memory> {
    caller.get_export("memory").and_then(Extern::into_memory)
}

pub(crate) fn read(caller: &mut Caller<'_, TenantState>, ptr: i32, len: i32, max: usize) -> Result<Vec<u8>, String> {
    let len = usize::try_from(len).map_err(|_| "negative length".to_string())?;
    if len > max {
        return Err(format!("host call too large ({len} bytes, limit {max})"));
    }
    let mem = memory(caller).ok_or("guest exports no memory")?;
    let mut buf = vec![0; len];
    mem.read(&*caller, ptr as u32 as usize, &mut buf).map_err(|_| "bad pointer".to_string())?;
    Ok(buf)
}

fn write(caller: &mut Caller<'_, TenantState>, ptr: i32, data: &[u8]) -> bool {
    match memory(caller) {
        Some(mem) => mem.write(&mut *caller, ptr as u32 as usize, data).is_ok(),
        None => false,
    }
}

fn error_result(msg: &str) -> Vec<u8> {
    let mut out = vec![1];
    wire::encode(&[HostValue::from(msg)], &mut out);
    out
}

/// Calls granted function `index` with the guest's encoded arguments; the encoded
/// result (status byte + values).
fn call(caller: &mut Caller<'_, TenantState>, index: i32, ptr: i32, len: i32) -> Vec<u8> {
    let max = caller.data().max_call_bytes;
    let bytes = match read(caller, ptr, len, max) {
        Ok(b) => b,
        Err(m) => return error_result(&m),
    };
    let args = match wire::decode_at_most(&bytes, MAX_ARGS) {
        Ok(a) => a,
        Err(wire::DecodeError::TooMany) => {
            return error_result(&format!("too many arguments to a host function (limit {MAX_ARGS})"))
        }
        Err(wire::DecodeError::Malformed) => return error_result("malformed host call"),
    };
    let Some((name, f)) = usize::try_from(index).ok().and_then(|i| caller.data().functions.get(i)).cloned() else {
        return error_result("no such host function");
    };
    let values = match catch_unwind(AssertUnwindSafe(|| f(&args))) {
        Ok(Ok(v)) => v,
        Ok(Err(m)) => return error_result(&m),
        Err(_) => return error_result(&format!("host function '{name}' failed")),
    };
    let mut out = vec![0];
    wire::encode(&values, &mut out);
    if out.len() > max {
        return error_result(&format!("result of host function '{name}' too large ({} bytes, limit {max})", out.len()));
    }
    out
}

pub(crate) fn add_to_linker(linker: &mut Linker<TenantState>) -> wasmtime::Result<()> {
    linker.func_wrap("moonbox", "host_count", |caller: Caller<'_, TenantState>| -> i32 {
        caller.data().functions.len() as i32
    })?;
    linker.func_wrap(
        "moonbox",
        "host_name",
        |mut caller: Caller<'_, TenantState>, index: i32, buf: i32, cap: i32| -> i32 {
            let Some(name) = usize::try_from(index).ok().and_then(|i| caller.data().functions.get(i)) else {
                return 0;
            };
            let name = name.0.clone().into_bytes();
            if name.len() > cap.max(0) as usize || !write(&mut caller, buf, &name) {
                return 0;
            }
            name.len() as i32
        },
    )?;
    linker.func_wrap(
        "moonbox",
        "host_call",
        |mut caller: Caller<'_, TenantState>, index: i32, ptr: i32, len: i32| -> i32 {
            let mut out = call(&mut caller, index, ptr, len);
            // 1 + the length must be an i32 (a host's `max_call_bytes` may be larger).
            if i32::try_from(out.len() + 1).is_err() {
                out = error_result("host function result too large");
            }
            let n = out.len() as i32 + 1;
            caller.data_mut().pending = out;
            n
        },
    )?;
    linker.func_wrap("moonbox", "host_result", |mut caller: Caller<'_, TenantState>, buf: i32, len: i32| -> i32 {
        let pending = std::mem::take(&mut caller.data_mut().pending);
        i32::from(pending.len() == len.max(0) as usize && write(&mut caller, buf, &pending))
    })?;
    linker.func_wrap("moonbox", "script_len", |caller: Caller<'_, TenantState>| -> i32 {
        // 1 + the length, so that an empty script is not "no script".
        caller.data().script.as_ref().map_or(0, |s| i32::try_from(s.len() + 1).unwrap_or(0))
    })?;
    linker.func_wrap("moonbox", "script_read", |mut caller: Caller<'_, TenantState>, buf: i32, len: i32| -> i32 {
        let Some(s) = caller.data().script.clone() else { return 0 };
        i32::from(s.len() == len.max(0) as usize && write(&mut caller, buf, &s))
    })?;
    linker.func_wrap("moonbox", "jit_available", |caller: Caller<'_, TenantState>| -> i32 {
        i32::from(caller.data().jit.enabled)
    })?;
    linker.func_wrap_async("moonbox", "jit_link", |mut caller: Caller<'_, TenantState>, (ptr, len): (i32, i32)| {
        Box::new(async move { crate::jit::link(&mut caller, ptr, len).await })
    })?;
    linker.func_wrap("moonbox", "jit_release", |mut caller: Caller<'_, TenantState>, index: i32| {
        crate::jit::release(&mut caller, index)
    })?;
    linker.func_wrap("moonbox", "report_error", |mut caller: Caller<'_, TenantState>, ptr: i32, len: i32| {
        let len = len.clamp(0, MAX_ERROR_BYTES as i32);
        if let Ok(msg) = read(&mut caller, ptr, len, MAX_ERROR_BYTES) {
            caller.data_mut().lua_error = Some(msg);
        }
    })?;
    Ok(())
}
