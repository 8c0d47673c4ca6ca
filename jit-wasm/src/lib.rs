//! moonbox-jit-wasm: the Wasm trace backend.
//!
//! Each trace becomes one small Wasm module ([`emit::emit`]) that imports the guest's
//! memory (and, when it calls helpers, the guest's function table) and exports one
//! function, `trace: (ctx: i32, base: i32) -> i32`, with the exit protocol of the
//! native backend: it runs until a guard fails, writes that snapshot's slots and
//! returns its [`exit_code`](moonbox_engine::jit::exit_code). A [`TraceLinker`] (the
//! sandbox host's `moonbox.jit_link` import in `host-wasi/guest`, the page in `web`)
//! compiles and instantiates the module next to the running engine and puts its
//! function into the engine's table; the engine then calls it through that table
//! index.
//!
//! # File map
//!
//! | file | what |
//! | --- | --- |
//! | `src/emit.rs` | trace IR → a Wasm module (wasm-encoder): one local per IR value, one block per exit, the loop |
//! | `src/call.rs` | the one `unsafe` call: a table index → the trace function (wasm32 only) |
//! | `tests/emit.rs` | every trace the `tests/lua` scripts compile, emitted and validated by wasmparser; Wasm-text goldens |
//!
//! # Memory safety
//!
//! Whatever a trace module does stays inside the guest's own memory and table: Wasm
//! checks every access, and the host accepts only modules with exactly these imports.
//! Inside the guest, the module keeps the native backend's contract (the IR's types
//! are checked by [`TraceIr::check_types`] first; the heap is read at
//! `moonbox_engine::vm::layout`'s offsets, only through addresses a guard checked),
//! so a trace never corrupts the engine's heap either.
//!
//! # No panics
//!
//! Nothing here panics on any IR: what cannot be emitted is an error, and the trace
//! is not compiled.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod call;
pub mod emit;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use moonbox_engine::jit::ir::TraceIr;
use moonbox_engine::jit::{can_enter, CompileOptions, CompiledTrace, TraceBackend, TraceEnv};
use moonbox_engine::value::Value;

/// What a trace reads besides its frame (its offsets are `emit::CTX_*`). Addresses
/// are 32-bit guest addresses, so the layout is the same on every target.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct WasmCtx {
    /// The instruction budget, copied in and back out.
    pub budget: i64,
    /// The frame's closure (a boxed Lua function value).
    pub func: u64,
    /// The force bytes (forced-exit test mode): one per snapshot.
    pub force: u32,
    /// Non-zero while the collector marks.
    pub marking: u32,
    /// The stack's first slot, the frame's base index in it, the running thread.
    pub stack: u32,
    pub base: u32,
    pub thread: u32,
    pub _pad: u32,
}

/// Where trace modules go: compiled and instantiated beside the engine, their
/// `trace` function put into the engine's function table.
pub trait TraceLinker {
    /// Links a module; its table index, or why not.
    fn link(&mut self, module: &[u8]) -> Result<u32, LinkError>;
    /// Frees table index `index` (from [`TraceLinker::link`]) for reuse.
    fn release(&mut self, index: u32);
}

/// Why a module was not linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Refused (invalid, too large, or it failed to compile).
    Refused,
    /// A per-tenant cap on traces, bytes or compile time is reached: no more traces.
    Full,
}

/// The table indices of `moonbox_engine::jit::helpers`' entry points, which trace
/// modules call with `call_indirect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelperIndices {
    pub len: u32,
    pub slot: u32,
    pub rawget: u32,
    pub byte: u32,
}

impl HelperIndices {
    /// The running guest's: a function's address is its table index on wasm32.
    #[cfg(target_arch = "wasm32")]
    pub fn current() -> HelperIndices {
        use moonbox_engine::jit::helpers;
        let len: unsafe extern "C" fn(u64) -> f64 = helpers::len;
        let slot: unsafe extern "C" fn(u64, u64) -> u64 = helpers::slot;
        let rawget: unsafe extern "C" fn(u64, u64) -> u64 = helpers::rawget;
        let byte: unsafe extern "C" fn(u64, f64) -> f64 = helpers::byte;
        HelperIndices {
            len: len as usize as u32,
            slot: slot as usize as u32,
            rawget: rawget as usize as u32,
            byte: byte as usize as u32,
        }
    }

    /// Elsewhere modules are only emitted and checked, never run: fixed stand-ins.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn current() -> HelperIndices {
        HelperIndices { len: 1, slot: 2, rawget: 3, byte: 4 }
    }
}

/// The Wasm trace backend.
pub struct WasmBackend {
    linker: Rc<RefCell<dyn TraceLinker>>,
    /// Set once the linker says no more: later traces are not even emitted.
    full: bool,
}

impl WasmBackend {
    pub fn new(linker: Rc<RefCell<dyn TraceLinker>>) -> WasmBackend {
        WasmBackend { linker, full: false }
    }
}

impl TraceBackend for WasmBackend {
    fn name(&self) -> &'static str {
        "wasm"
    }

    fn compile(
        &mut self,
        ir: &TraceIr,
        opts: &CompileOptions,
        link_to: Option<&dyn CompiledTrace>,
    ) -> Result<Box<dyn CompiledTrace>, String> {
        if self.full {
            return Err("TRACECAP: the host's trace cap is reached".into());
        }
        // Links only outside the forced-exit test mode (a linked trace would read
        // another trace's force bytes).
        let target = match link_to {
            Some(t) if !opts.force_checks => {
                t.as_any().downcast_ref::<WasmTrace>().filter(|t| !t.force_checks).map(|t| Rc::clone(&t.tc))
            }
            _ => None,
        };
        let exit_links: Box<[Cell<u32>]> = (0..ir.snaps.len()).map(|_| Cell::new(0)).collect();
        let eopts = emit::EmitOptions {
            number: opts.number,
            force_checks: opts.force_checks,
            helpers: HelperIndices::current(),
            exit_links: (!opts.force_checks).then_some(exit_links.as_ptr() as usize as u32),
            link_to: target.as_ref().map(|t| t.index),
        };
        let module = emit::emit(ir, &eopts).map_err(|e| e.to_string())?;
        let index = match self.linker.borrow_mut().link(&module) {
            Ok(i) => i,
            Err(LinkError::Full) => {
                self.full = true;
                return Err("TRACECAP: the host's trace cap is reached".into());
            }
            Err(LinkError::Refused) => return Err("the host refused the trace module".into()),
        };
        let tc = TraceCode {
            index,
            linker: Rc::clone(&self.linker),
            exit_links,
            links: RefCell::new(Vec::new()),
            _link_to: target,
        };
        Ok(Box::new(WasmTrace { tc: Rc::new(tc), nsnaps: ir.snaps.len(), force_checks: opts.force_checks, module }))
    }
}

/// A linked trace's table slot and the memory its code reads. Links: an exit of a
/// trace tail-calls the table index in its exit link table (when not zero), and a
/// side trace's end tail-calls the trace it goes on in. Whatever a trace may call
/// is kept alive (its slot not released, its link table not freed) by an `Rc` per
/// link, so no call ever lands in a released or reused slot. Dropping a
/// [`WasmTrace`] zeroes its link table and lets go of its links, which also breaks
/// the cycles links form.
struct TraceCode {
    index: u32,
    linker: Rc<RefCell<dyn TraceLinker>>,
    /// One table index per snapshot, 0 when the exit returns to the engine: read by
    /// the code (its address is in the module).
    exit_links: Box<[Cell<u32>]>,
    /// The code each non-zero entry of `exit_links` calls.
    links: RefCell<Vec<Option<Rc<TraceCode>>>>,
    /// The trace a side trace's end calls (held only to keep it alive).
    _link_to: Option<Rc<TraceCode>>,
}

impl Drop for TraceCode {
    fn drop(&mut self) {
        if let Ok(mut l) = self.linker.try_borrow_mut() {
            l.release(self.index);
        }
    }
}

/// A linked trace.
pub struct WasmTrace {
    tc: Rc<TraceCode>,
    nsnaps: usize,
    force_checks: bool,
    /// The module's bytes (`jit.util.tracemc`, the playground's Wasm view).
    module: Vec<u8>,
}

impl Drop for WasmTrace {
    fn drop(&mut self) {
        for l in self.tc.exit_links.iter() {
            l.set(0);
        }
        self.tc.links.borrow_mut().clear();
    }
}

impl CompiledTrace for WasmTrace {
    fn run(&self, budget: &mut i64, stack: &mut [Value], base: usize, force: &[u8], env: TraceEnv) -> u32 {
        // What the code touches must exist; otherwise nothing runs, and the
        // interpreter goes on where the trace would have started.
        if !can_enter(stack, base, force, self.nsnaps, self.force_checks, &env) {
            return u32::MAX;
        }
        let stack_ptr = stack.as_mut_ptr();
        let mut ctx = WasmCtx {
            budget: *budget,
            func: env.func.to_bits(),
            force: force.as_ptr() as usize as u32,
            marking: u32::from(env.marking),
            stack: stack_ptr as usize as u32,
            base: base as u32,
            thread: env.thread as u32,
            _pad: 0,
        };
        let exit = call::call(self.tc.index, &mut ctx, stack_ptr.wrapping_add(base));
        *budget = ctx.budget;
        exit
    }

    fn attach(&self, exit: u32, side: &dyn CompiledTrace) -> bool {
        let Some(side) = side.as_any().downcast_ref::<WasmTrace>() else { return false };
        if self.force_checks || side.force_checks {
            return false;
        }
        let Some(slot) = self.tc.exit_links.get(exit as usize) else { return false };
        let mut links = self.tc.links.borrow_mut();
        if links.len() < self.tc.exit_links.len() {
            links.resize(self.tc.exit_links.len(), None);
        }
        // Keep the target alive first, then publish its index.
        if let Some(l) = links.get_mut(exit as usize) {
            *l = Some(Rc::clone(&side.tc));
            slot.set(side.tc.index);
            return true;
        }
        false
    }

    fn detach(&self, exit: u32) {
        if let Some(slot) = self.tc.exit_links.get(exit as usize) {
            slot.set(0);
        }
        if let Some(l) = self.tc.links.borrow_mut().get_mut(exit as usize) {
            *l = None;
        }
    }

    fn code_size(&self) -> usize {
        self.module.len()
    }

    fn mcode(&self) -> Option<Vec<u8>> {
        Some(self.module.clone())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
