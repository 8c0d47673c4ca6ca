//! Linking the guest's trace modules (`moonbox-jit-wasm`): the `moonbox.jit_*`
//! imports' host side.
//!
//! The bytes come from the tenant, so they are untrusted: a script cannot reach the
//! import, but a tenant that ships its own `.wasm`, or a JIT bug, can hand over
//! anything. A module is linked only if it has exactly the shape the backend emits:
//! imports `env.memory` and optionally `env.table`, nothing else; one export,
//! `trace: (i32, i32) -> i32`; no start function, no segments, no memories, tables
//! or globals of its own. It is compiled by the tenant's own engine, so fuel and
//! epoch deadlines apply inside traces, and instantiated against the guest's memory
//! and function table, where its function takes a free slot. Per tenant, the
//! number of traces, their total bytes and the host time spent compiling them are
//! capped ([`JitCaps`]); past a cap the guest is told so once (-1) and stops
//! compiling. Anything wrong returns 0: nothing a tenant sends traps the host.

use std::time::{Duration, Instant};

use wasmtime::{Caller, Extern, ExternType, Func, Instance, Module, Ref, ValType};

use crate::state::TenantState;

/// The most bytes of one trace module.
pub const MAX_MODULE_BYTES: usize = 1 << 20;

/// Per-tenant caps on linked traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitCaps {
    /// Trace modules linked in one run (each keeps a small instance alive for the
    /// run: wasmtime frees instances only with their store).
    pub traces: u32,
    /// Their total size in bytes.
    pub bytes: usize,
    /// Host time spent compiling them (it is not fuel; it counts against the
    /// run's wall-clock deadline like any host call).
    pub compile_time: Duration,
}

impl Default for JitCaps {
    fn default() -> JitCaps {
        JitCaps { traces: 256, bytes: 8 << 20, compile_time: Duration::from_secs(1) }
    }
}

/// What one run has linked.
#[derive(Debug, Default)]
pub(crate) struct JitLinks {
    pub caps: JitCaps,
    /// Off: `jit_available` answers 0 (the guest interprets).
    pub enabled: bool,
    pub traces: u32,
    pub bytes: usize,
    pub compile_time: Duration,
    /// Table slots that hold linked traces, and released ones to reuse.
    pub live: Vec<u32>,
    pub free: Vec<u32>,
    /// Link times (compile + instantiate), for `RunResult::jit`.
    pub link_times: Vec<Duration>,
    pub refused: u32,
}

impl JitLinks {
    fn full(&self) -> bool {
        self.traces >= self.caps.traces || self.bytes >= self.caps.bytes || self.compile_time >= self.caps.compile_time
    }
}

/// The deepest block nesting a trace function may have: `jit-wasm` nests its code
/// in one block per snapshot (at most 128), a loop and two `if`s.
pub const MAX_NESTING: usize = 136;
/// The most locals it may declare (one per IR value, `maxrecord` bounds those).
pub const MAX_LOCALS: u64 = 1 << 16;

/// Checks the module's sections (only types, imports, one function, exports, code
/// and custom sections) and its function's shape. Compile time is host time
/// outside fuel, and Cranelift's is not linear in every shape: merging locals at
/// deeply nested blocks grows faster than the depth (measured: 400 nested blocks
/// over 400 locals, a 14 KB module, 5.3 s; 1000 blocks, 24 s; 128 blocks, 31 ms),
/// so the nesting depth and the locals are bounded before anything is compiled.
fn shape_ok(bytes: &[u8]) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    let mut functions = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(p) = payload else { return false };
        match p {
            Payload::Version { .. }
            | Payload::TypeSection(_)
            | Payload::ImportSection(_)
            | Payload::ExportSection(_)
            | Payload::CodeSectionStart { .. }
            | Payload::CustomSection(_)
            | Payload::End(_) => {}
            Payload::CodeSectionEntry(body) => {
                let Ok(locals) = body.get_locals_reader() else { return false };
                let mut n: u64 = 0;
                for l in locals {
                    let Ok((count, _)) = l else { return false };
                    n += u64::from(count);
                }
                if n > MAX_LOCALS {
                    return false;
                }
                let Ok(ops) = body.get_operators_reader() else { return false };
                let mut depth = 0usize;
                for op in ops {
                    match op {
                        Ok(Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. }) => {
                            depth += 1;
                            if depth > MAX_NESTING {
                                return false;
                            }
                        }
                        Ok(Operator::End) => depth = depth.saturating_sub(1),
                        Ok(_) => {}
                        Err(_) => return false,
                    }
                }
            }
            Payload::FunctionSection(f) => functions += f.count(),
            _ => return false,
        }
    }
    functions == 1
}

/// Compiles and instantiates the module, checking its imports and export; its
/// `trace` function.
async fn instantiate(caller: &mut Caller<'_, TenantState>, bytes: &[u8]) -> Option<Func> {
    if !shape_ok(bytes) {
        return None;
    }
    let module = Module::new(caller.engine(), bytes).ok()?;
    let memory = caller.get_export("memory")?;
    let table = caller.get_export("__indirect_function_table")?;
    let mut imports = Vec::new();
    for imp in module.imports() {
        match (imp.module(), imp.name(), imp.ty()) {
            ("env", "memory", ExternType::Memory(_)) => imports.push(memory.clone()),
            ("env", "table", ExternType::Table(_)) => imports.push(table.clone()),
            _ => return None,
        }
    }
    let mut exports = module.exports();
    let export = exports.next()?;
    let ExternType::Func(ft) = export.ty() else { return None };
    let params: Vec<ValType> = ft.params().collect();
    let results: Vec<ValType> = ft.results().collect();
    let sig_ok =
        matches!(params.as_slice(), [ValType::I32, ValType::I32]) && matches!(results.as_slice(), [ValType::I32]);
    if export.name() != "trace" || !sig_ok || exports.next().is_some() {
        return None;
    }
    let instance = Instance::new_async(&mut *caller, &module, &imports).await.ok()?;
    instance.get_func(&mut *caller, "trace")
}

/// `jit_link(ptr, len)`: the new function's table index; 0 refused; -1 full.
pub(crate) async fn link(caller: &mut Caller<'_, TenantState>, ptr: i32, len: i32) -> i32 {
    let links = &caller.data().jit;
    if !links.enabled {
        return 0;
    }
    if links.full() {
        return -1;
    }
    let Some(len) = usize::try_from(len).ok().filter(|&l| l <= MAX_MODULE_BYTES) else {
        caller.data_mut().jit.refused += 1;
        return 0;
    };
    let Ok(bytes) = crate::imports::read(caller, ptr, len as i32, MAX_MODULE_BYTES) else {
        caller.data_mut().jit.refused += 1;
        return 0;
    };
    let t0 = Instant::now();
    let func = instantiate(caller, &bytes).await;
    let spent = t0.elapsed();
    let Some(table) = caller.get_export("__indirect_function_table").and_then(Extern::into_table) else { return 0 };
    let links = &mut caller.data_mut().jit;
    links.compile_time += spent;
    links.bytes += bytes.len();
    let Some(func) = func else {
        links.refused += 1;
        return 0;
    };
    let reuse = links.free.pop();
    let index = match reuse {
        Some(i) => table.set(&mut *caller, u64::from(i), Ref::Func(Some(func))).ok().map(|_| u64::from(i)),
        None => table.grow(&mut *caller, 1, Ref::Func(Some(func))).ok(),
    };
    let links = &mut caller.data_mut().jit;
    let Some(index) = index.and_then(|i| u32::try_from(i).ok()).filter(|&i| i > 0 && i <= i32::MAX as u32) else {
        links.refused += 1;
        return 0;
    };
    links.traces += 1;
    links.live.push(index);
    links.link_times.push(spent);
    index as i32
}

/// `jit_release(index)`: empties a slot `jit_link` filled; other indexes are
/// ignored (the guest's own functions stay where they are).
pub(crate) fn release(caller: &mut Caller<'_, TenantState>, index: i32) {
    let Ok(index) = u32::try_from(index) else { return };
    let links = &mut caller.data_mut().jit;
    let Some(at) = links.live.iter().position(|&i| i == index) else { return };
    links.live.swap_remove(at);
    let Some(table) = caller.get_export("__indirect_function_table").and_then(Extern::into_table) else { return };
    if table.set(&mut *caller, u64::from(index), Ref::Func(None)).is_ok() {
        caller.data_mut().jit.free.push(index);
    }
}
