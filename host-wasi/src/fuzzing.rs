//! Drives every host import the guest can call with arbitrary arguments: the fuzz
//! target `wasm_imports` (`fuzz/`) and a short deterministic run in the tests
//! (`tests/imports_fuzz.rs`) use it. Not part of the supported API.
//!
//! The real guest cannot be made to call its imports with garbage, so a stand-in
//! does: a module generated here that imports exactly what the guest imports (read
//! from the compiled guest, so a new import is fuzzed as soon as the guest has it:
//! the `moonbox` module and WASI preview 1 with its directory grants), exports a
//! memory as the guest does, and exports one trampoline per import. Each input is
//! then a fresh tenant — a store with the sandbox's linker, limits, a read-write
//! grant on a scratch directory, granted host functions (one that panics among
//! them), a host-provided script — whose memory is filled from the input and whose
//! imports are called in the order, and with the arguments, the input says:
//! pointers and lengths past the memory's end, negative or huge sizes, bad encodings,
//! unknown descriptors.
//!
//! What must hold: the host never panics (a panic in the host escapes the call and
//! fails the fuzzer) and every call ends, with a value or with an error that ends
//! the tenant (a trap, `proc_exit`), within a bounded time.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection, MemorySection,
    MemoryType, Module as EncodedModule, RefType, TableSection, TableType, TypeSection, ValType as EncValType,
};
use wasmtime::{Config, Engine, ExternType, Func, InstancePre, Linker, Module, Store, Val, ValType};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::pipe::CappedPipe;
use crate::state::{Limiter, TenantState};
use crate::wire::HostValue;

/// Pages of the stand-in's memory (the host sees its size as the guest's).
const PAGES: u64 = 2;
/// The most import calls one input makes.
const MAX_CALLS: usize = 48;
/// A call that has not ended by then is abandoned (a WASI sleep, say).
const CALL_TIMEOUT: Duration = Duration::from_millis(200);

/// The import fuzzer: compile once, then [`ImportFuzzer::run`] per input.
pub struct ImportFuzzer {
    engine: Engine,
    pre: InstancePre<TenantState>,
    /// The parameter types of trampoline `i`.
    signatures: Vec<(String, Vec<ValType>, usize)>,
    runtime: tokio::runtime::Runtime,
    scratch: PathBuf,
    /// Calls made per import, in the order of [`ImportFuzzer::imports`].
    counts: Vec<AtomicU64>,
    /// Grant a host function that panics (the host must catch it). Off by default:
    /// libFuzzer's panic hook aborts on any panic, even a caught one.
    pub panicking_function: bool,
}

impl ImportFuzzer {
    /// Compiles the guest (or loads it from the cache) to learn its imports, and the
    /// stand-in that calls them.
    pub fn new() -> wasmtime::Result<ImportFuzzer> {
        let mut c = Config::new();
        c.consume_fuel(true);
        c.epoch_interruption(true);
        let engine = Engine::new(&c)?;
        let (guest, _) =
            crate::cache::load_or_compile(&engine, crate::GUEST_WASM, crate::cache::cache_dir().as_deref())?;
        let imports: Vec<(String, String, Vec<ValType>, Vec<ValType>)> = guest
            .imports()
            .filter_map(|i| match i.ty() {
                ExternType::Func(f) => {
                    Some((i.module().to_string(), i.name().to_string(), f.params().collect(), f.results().collect()))
                }
                _ => None,
            })
            .collect();
        let wasm = stand_in(&imports)?;
        let module = Module::new(&engine, &wasm)?;
        let mut linker: Linker<TenantState> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |t: &mut TenantState| &mut t.wasi)?;
        crate::imports::add_to_linker(&mut linker)?;
        let pre = linker.instantiate_pre(&module)?;
        let counts = (0..imports.len()).map(|_| AtomicU64::new(0)).collect();
        let signatures = imports.into_iter().map(|(m, n, p, r)| (format!("{m}.{n}"), p, r.len())).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
        let scratch = std::env::temp_dir().join(format!("moonbox-import-fuzz-{}", std::process::id()));
        Ok(ImportFuzzer { engine, pre, signatures, runtime, scratch, counts, panicking_function: false })
    }

    /// The imports the stand-in calls, as `module.name`.
    pub fn imports(&self) -> impl Iterator<Item = &str> {
        self.signatures.iter().map(|(n, _, _)| n.as_str())
    }

    /// How many calls each import got so far, as `(module.name, calls)`.
    pub fn calls_per_import(&self) -> Vec<(&str, u64)> {
        self.signatures.iter().zip(&self.counts).map(|((n, _, _), c)| (n.as_str(), c.load(Ordering::Relaxed))).collect()
    }

    /// One input: a fresh tenant, its memory filled from `data`, then the calls
    /// `data` describes. Returns how many calls were made.
    pub fn run(&self, data: &[u8]) -> usize {
        self.runtime.block_on(self.run_async(data))
    }

    async fn run_async(&self, data: &[u8]) -> usize {
        let mut input = Input(data);
        let _ = std::fs::remove_dir_all(&self.scratch);
        std::fs::create_dir_all(self.scratch.join("sub")).expect("scratch directory");
        let _ = std::fs::write(self.scratch.join("file.txt"), b"contents");

        let mut b = WasiCtxBuilder::new();
        let (out, err) = (CappedPipe::new(4096), CappedPipe::new(4096));
        b.args(&["moonbox", "--x"]).stdout(out).stderr(err);
        if b.preopened_dir(&self.scratch, "/scratch", FsPerms::ReadWrite).is_err() {
            return 0;
        }
        let max_call_bytes = [0, 16, 4096, 1 << 20][usize::from(input.byte() % 4)];
        let mut functions: Vec<(String, crate::HostFn)> = vec![
            ("echo".into(), Arc::new(|a: &[HostValue]| Ok(a.to_vec()))),
            ("fail".into(), Arc::new(|_: &[HostValue]| Err("no".to_string()))),
            ("big".into(), Arc::new(|_: &[HostValue]| Ok(vec![HostValue::Str(vec![b'x'; 70_000])]))),
        ];
        if self.panicking_function {
            functions
                .push(("panics".into(), Arc::new(|_: &[HostValue]| panic!("a host function panicked (on purpose)"))));
        }
        functions.truncate(usize::from(input.byte()) % (functions.len() + 1));
        let script_len = usize::from(input.byte() % 64);
        let script = (input.byte() % 4 != 0).then(|| Arc::from(input.take(script_len)));
        let state = TenantState {
            wasi: b.build_p1(),
            limiter: Limiter::new(4 << 20),
            functions,
            max_call_bytes,
            pending: Vec::new(),
            lua_error: None,
            script,
            jit: crate::jit::JitLinks {
                enabled: true,
                caps: crate::JitCaps { traces: 4, ..Default::default() },
                ..Default::default()
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.data_mut().limiter.instances = 5;
        store.limiter(|s| &mut s.limiter);
        let _ = store.set_fuel(10_000_000);
        store.set_epoch_deadline(u64::MAX / 2);
        let Ok(instance) = self.pre.instantiate_async(&mut store).await else { return 0 };
        let Some(memory) = instance.get_memory(&mut store, "memory") else { return 0 };
        // The memory: as much of the input as fits, then the calls.
        // At most half of what is left: the rest describes calls.
        let fill_len = (usize::from(input.byte()) * 4).min(input.0.len() / 2);
        let fill = input.take(fill_len);
        let _ = memory.write(&mut store, 0, fill);
        let mem_len = memory.data_size(&store);
        let mut calls = 0;
        while calls < MAX_CALLS && !input.is_empty() {
            let index = usize::from(input.byte()) % self.signatures.len();
            let (_, params, results) = &self.signatures[index];
            let args: Vec<Val> = params.iter().map(|t| input.value(t, mem_len)).collect();
            let Some(f) = instance.get_func(&mut store, &format!("t{index}")) else { break };
            calls += 1;
            let mut out = vec![Val::I32(0); *results];
            self.counts[index].fetch_add(1, Ordering::Relaxed);
            match tokio::time::timeout(CALL_TIMEOUT, call(&f, &mut store, &args, &mut out)).await {
                // A trap (a bad pointer makes WASI trap) or proc_exit would end a real
                // tenant; the instance stays usable, so go on calling.
                Ok(_) => {}
                // Abandoned (a sleep in poll_oneoff, say): this tenant is done.
                Err(_) => break,
            }
        }
        calls
    }
}

async fn call(f: &Func, store: &mut Store<TenantState>, args: &[Val], out: &mut [Val]) -> wasmtime::Result<()> {
    f.call_async(store, args, out).await
}

/// The fuzz input, read front to back; past its end, zeros.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for b in &mut out {
            *b = self.byte();
        }
        out
    }

    /// An argument of type `t`: raw bytes, or a value likely to hit an edge
    /// (zero, -1, small numbers such as descriptors, offsets near the memory's end,
    /// the extremes).
    fn value(&mut self, t: &ValType, mem_len: usize) -> Val {
        let sel = self.byte();
        let x: i64 = match sel % 8 {
            0 => i64::from_le_bytes(self.bytes::<8>()),
            1 => 0,
            2 => -1,
            3 => i64::from(self.byte() % 16),
            4 => mem_len as i64 - i64::from(self.byte()),
            5 => i64::from(u16::from_le_bytes(self.bytes::<2>())),
            6 => i64::from(i32::MAX) - i64::from(self.byte()),
            _ => i64::from(i32::MIN) + i64::from(self.byte()),
        };
        match t {
            ValType::I64 => Val::I64(x),
            ValType::F32 => Val::F32((x as f32).to_bits()),
            ValType::F64 => Val::F64((x as f64).to_bits()),
            _ => Val::I32(x as i32),
        }
    }
}

/// The stand-in guest: imports `imports`, exports `memory` and `t<i>` calling import
/// `i` with its own arguments.
fn stand_in(imports: &[(String, String, Vec<ValType>, Vec<ValType>)]) -> wasmtime::Result<Vec<u8>> {
    let enc = |t: &ValType| -> wasmtime::Result<EncValType> {
        Ok(match t {
            ValType::I32 => EncValType::I32,
            ValType::I64 => EncValType::I64,
            ValType::F32 => EncValType::F32,
            ValType::F64 => EncValType::F64,
            other => return Err(wasmtime::format_err!("an import takes a {other:?} (not fuzzed)")),
        })
    };
    let mut types = TypeSection::new();
    let mut imps = ImportSection::new();
    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    let n = imports.len() as u32;
    for (i, (module, name, params, results)) in imports.iter().enumerate() {
        let p: Vec<EncValType> = params.iter().map(enc).collect::<Result<_, _>>()?;
        let r: Vec<EncValType> = results.iter().map(enc).collect::<Result<_, _>>()?;
        types.ty().function(p, r);
        imps.import(module, name, EntityType::Function(i as u32));
        funcs.function(i as u32);
        exports.export(&format!("t{i}"), ExportKind::Func, n + i as u32);
        let mut f = Function::new([]);
        let mut ins = f.instructions();
        for k in 0..params.len() as u32 {
            ins.local_get(k);
        }
        ins.call(i as u32).end();
        code.function(&f);
    }
    let mut mems = MemorySection::new();
    mems.memory(MemoryType {
        minimum: PAGES,
        maximum: Some(PAGES * 4),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    exports.export("memory", ExportKind::Memory, 0);
    // The function table, as the guest exports it (trace modules link into it).
    let mut tables = TableSection::new();
    tables.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: 1,
        maximum: None,
        shared: false,
    });
    exports.export("__indirect_function_table", ExportKind::Table, 0);
    let mut m = EncodedModule::new();
    m.section(&types).section(&imps).section(&funcs).section(&tables).section(&mems).section(&exports).section(&code);
    Ok(m.finish())
}

/// A stand-in guest for the trace-link import (`moonbox.jit_link`): it hands the
/// host whatever bytes, pointers and lengths a test chooses, and calls what the
/// host linked through its table, as the real guest does. Not part of the
/// supported API (`tests/jit_link.rs`).
pub struct LinkProbe {
    store: Store<TenantState>,
    instance: wasmtime::Instance,
    runtime: tokio::runtime::Runtime,
}

/// Where [`LinkProbe::link`] puts a module in the probe's memory.
const PROBE_AT: i32 = 4096;

impl LinkProbe {
    /// A fresh probe: a tenant with `caps`, `fuel` units of fuel, the sandbox's
    /// imports.
    pub fn new(caps: crate::JitCaps, fuel: u64) -> wasmtime::Result<LinkProbe> {
        let mut c = Config::new();
        c.consume_fuel(true);
        let engine = Engine::new(&c)?;
        // link(ptr, len) -> i32; release(i); call(index, ctx, base) -> i32.
        let mut types = TypeSection::new();
        types.ty().function([EncValType::I32, EncValType::I32], [EncValType::I32]);
        types.ty().function([EncValType::I32], []);
        types.ty().function([EncValType::I32, EncValType::I32, EncValType::I32], [EncValType::I32]);
        let mut imps = ImportSection::new();
        imps.import("moonbox", "jit_link", EntityType::Function(0));
        imps.import("moonbox", "jit_release", EntityType::Function(1));
        let mut funcs = FunctionSection::new();
        funcs.function(0).function(1).function(2);
        let mut tables = TableSection::new();
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: 1,
            maximum: None,
            shared: false,
        });
        let mut mems = MemorySection::new();
        mems.memory(MemoryType { minimum: 40, maximum: None, memory64: false, shared: false, page_size_log2: None });
        let mut exports = ExportSection::new();
        exports
            .export("memory", ExportKind::Memory, 0)
            .export("__indirect_function_table", ExportKind::Table, 0)
            .export("link", ExportKind::Func, 2)
            .export("release", ExportKind::Func, 3)
            .export("call", ExportKind::Func, 4);
        let mut code = CodeSection::new();
        let mut f = Function::new([]);
        f.instructions().local_get(0).local_get(1).call(0).end();
        code.function(&f);
        let mut f = Function::new([]);
        f.instructions().local_get(0).call(1).end();
        code.function(&f);
        let mut f = Function::new([]);
        f.instructions().local_get(1).local_get(2).local_get(0).call_indirect(0, 0).end();
        code.function(&f);
        let mut m = EncodedModule::new();
        m.section(&types)
            .section(&imps)
            .section(&funcs)
            .section(&tables)
            .section(&mems)
            .section(&exports)
            .section(&code);
        let module = Module::new(&engine, m.finish())?;
        let mut linker: Linker<TenantState> = Linker::new(&engine);
        crate::imports::add_to_linker(&mut linker)?;
        let state = TenantState {
            wasi: WasiCtxBuilder::new().build_p1(),
            limiter: Limiter::new(64 << 20),
            functions: Vec::new(),
            max_call_bytes: 1 << 20,
            pending: Vec::new(),
            lua_error: None,
            script: None,
            jit: crate::jit::JitLinks { enabled: true, caps, ..Default::default() },
        };
        let mut store = Store::new(&engine, state);
        store.data_mut().limiter.instances = 1 + caps.traces as usize;
        store.limiter(|s| &mut s.limiter);
        store.set_fuel(fuel)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
        let instance = runtime.block_on(linker.instantiate_async(&mut store, &module))?;
        Ok(LinkProbe { store, instance, runtime })
    }

    fn call_export(&mut self, name: &str, args: &[Val], results: usize) -> wasmtime::Result<Option<i32>> {
        let f = self.instance.get_func(&mut self.store, name).ok_or_else(|| wasmtime::format_err!("no {name}"))?;
        let mut out = vec![Val::I32(0); results];
        self.runtime.block_on(f.call_async(&mut self.store, args, &mut out))?;
        Ok(out.first().and_then(Val::i32))
    }

    /// Hands `module` to the host (copied into the probe's memory first): what
    /// `jit_link` answered.
    pub fn link(&mut self, module: &[u8]) -> wasmtime::Result<i32> {
        let mem = self.instance.get_memory(&mut self.store, "memory").ok_or_else(|| wasmtime::format_err!("memory"))?;
        mem.write(&mut self.store, PROBE_AT as usize, module)?;
        self.link_raw(PROBE_AT, module.len() as i32)
    }

    /// `jit_link(ptr, len)` as given.
    pub fn link_raw(&mut self, ptr: i32, len: i32) -> wasmtime::Result<i32> {
        Ok(self.call_export("link", &[Val::I32(ptr), Val::I32(len)], 1)?.unwrap_or(0))
    }

    /// `jit_release(index)`.
    pub fn release(&mut self, index: i32) -> wasmtime::Result<()> {
        self.call_export("release", &[Val::I32(index)], 0).map(|_| ())
    }

    /// Calls table slot `index` as a trace, `(ctx, base) -> i32`.
    pub fn call(&mut self, index: i32, ctx: i32, base: i32) -> wasmtime::Result<i32> {
        Ok(self.call_export("call", &[Val::I32(index), Val::I32(ctx), Val::I32(base)], 1)?.unwrap_or(0))
    }

    /// Trace modules refused so far.
    pub fn refused(&self) -> u32 {
        self.store.data().jit.refused
    }
}

impl Drop for ImportFuzzer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}
