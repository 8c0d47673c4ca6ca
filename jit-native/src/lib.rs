//! moonbox-jit-native: the native trace backend's foundation, x86-64 first.
//!
//! An assembler and W^X executable memory, each tested on its own, and on them the
//! x86-64 trace backend ([`X64Backend`], the engine's `TraceBackend`): `x64::lower`
//! (register allocation, lowering, exit stubs) and `entry.rs` (the call).
//!
//! # File map
//!
//! | file | what |
//! | --- | --- |
//! | `src/x64/regs.rs` | [`x64::Gpr`], [`x64::Xmm`], [`x64::Cond`]: registers and condition codes by hardware number |
//! | `src/x64/asm.rs` | [`x64::Assembler`]: one method per instruction form, [`x64::Mem`] operands, labels, rel8/rel32 fixups, constant pool; errors as [`x64::AsmError`] values |
//! | `src/code_memory.rs` | [`code_memory::CodeMemory`] → [`code_memory::CodeBuffer`] (RW) → [`code_memory::ExecutableCode`] (RX): `region` areas, the `maxmcode` budget, RX→RW→RX patching |
//! | `src/x64/lower.rs` | trace IR → machine code: linear-scan homes, guards, snapshot stores, exit stubs |
//! | `src/entry.rs` | [`entry::NativeTrace`]: the `unsafe` call into a trace, with its preconditions checked |
//! | `src/disasm.rs` | `disassemble(code, base_addr)` listings in `-jdump` style (feature `disasm`, iced-x86) |
//! | `tests/asm_iced.rs` | every assembler form over its operand space, checked by iced-x86's decoder; labels; the golden listing `tests/golden/x64_asm.txt` (`MOONBOX_BLESS=1` re-blesses) |
//!
//! # Features
//!
//! - `disasm` (off by default): `disasm::disassemble` listings through iced-x86's formatter, for
//!   `-jdump`-style machine-code dumps. The tests always build it (a dev-dependency on the
//!   crate itself turns it on), so the golden listing is printed by the dump code.
//!
//! # Unsafe policy
//!
//! `unsafe` is allowed only in `src/code_memory.rs` and (later) `src/entry.rs`, the two places
//! where raw code pointers are unavoidable; every other module starts with
//! `#![forbid(unsafe_code)]`. Every `unsafe` block carries a `// SAFETY:` comment naming the
//! invariant it relies on (enforced by `clippy::undocumented_unsafe_blocks`), and every
//! `unsafe fn` a `# Safety` section. Jumping into generated code is always an `unsafe` call
//! whose caller states why the code is a valid function of that signature.
//!
//! # No panics
//!
//! Nothing in this crate panics on any input: invalid operands are unrepresentable or errors,
//! label misuse and memory exhaustion are error values. Outside tests, clippy denies
//! `unwrap`, `expect`, `panic!`, indexing that can fail, `unreachable!`, `todo!` and
//! `unimplemented!`.
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc, unsafe_op_in_unsafe_fn)]
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

pub mod code_memory;
#[cfg(feature = "disasm")]
pub mod disasm;
mod entry;
pub mod x64;

#[cfg(feature = "disasm")]
pub use disasm::disassemble;

use moonbox_engine::jit::ir::TraceIr;
use moonbox_engine::jit::{CompileOptions, CompiledTrace, TraceBackend};
use moonbox_engine::value::Value;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use code_memory::{CodeLimits, CodeMemory};

/// What generated code gets from the engine at each entry (its offsets are
/// `x64::lower::CTX_*`).
#[repr(C)]
pub struct TraceCtx {
    /// The instruction budget, copied in and back out.
    pub budget: i64,
    /// One byte per exit in the forced-exit test mode (non-zero: take it).
    pub force: *const u8,
    /// The frame's closure (a boxed Lua function value).
    pub func: u64,
    /// Non-zero while the collector marks (a store into a black table exits).
    pub marking: u64,
    /// The stack's first slot, the frame's base index in it, and the running
    /// thread's address: an open upvalue of this thread below the base is
    /// `stack[slot]`.
    pub stack: *mut Value,
    pub base: u64,
    pub thread: u64,
}

/// The x86-64 trace backend.
pub struct X64Backend {
    memory: Option<CodeMemory>,
    sse41: bool,
}

impl X64Backend {
    pub fn new() -> X64Backend {
        #[cfg(target_arch = "x86_64")]
        let sse41 = std::arch::is_x86_feature_detected!("sse4.1");
        #[cfg(not(target_arch = "x86_64"))]
        let sse41 = false;
        X64Backend { memory: None, sse41 }
    }

    /// Whether generated code can run on this machine (an x86-64 host).
    pub fn supported() -> bool {
        cfg!(target_arch = "x86_64")
    }
}

impl Default for X64Backend {
    fn default() -> X64Backend {
        X64Backend::new()
    }
}

impl TraceBackend for X64Backend {
    fn name(&self) -> &'static str {
        "x64"
    }

    fn compile(
        &mut self,
        ir: &TraceIr,
        opts: &CompileOptions,
        link_to: Option<&dyn CompiledTrace>,
    ) -> Result<Box<dyn CompiledTrace>, String> {
        if !X64Backend::supported() {
            return Err("NYI: no native backend for this machine".into());
        }
        // Links only outside the forced-exit test mode (a linked trace would read
        // another trace's force bytes).
        let target = match link_to {
            Some(t) if !opts.force_checks => {
                t.as_any().downcast_ref::<entry::NativeTrace>().filter(|t| !t.force_checks).map(|t| Rc::clone(&t.tc))
            }
            _ => None,
        };
        let exit_links: Box<[Cell<u64>]> = (0..ir.snaps.len()).map(|_| Cell::new(0)).collect();
        let lopts = x64::lower::LowerOptions {
            force_checks: opts.force_checks,
            sse41: self.sse41,
            number: opts.number,
            exit_links: (!opts.force_checks).then_some(exit_links.as_ptr() as u64),
            link_to: target.as_ref().and_then(|t| t.inner_addr()),
        };
        let lowered = x64::lower::lower(ir, lopts).map_err(|e| e.to_string())?;
        let limits = CodeLimits { area_size: 4096, max_total: opts.maxmcode.max(4096) };
        if self.memory.as_ref().is_none_or(|m| m.limits() != limits) {
            self.memory = Some(CodeMemory::new(limits).map_err(|e| e.to_string())?);
        }
        let Some(mem) = self.memory.as_ref() else { return Err("failed to allocate mcode memory".into()) };
        let code = mem.install(&lowered.bytes).map_err(|e| format!("failed to allocate mcode memory: {e}"))?;
        #[cfg(feature = "disasm")]
        let listing = opts.listing.then(|| disasm::disassemble(&lowered.bytes, code.base_addr() as u64));
        #[cfg(not(feature = "disasm"))]
        let listing = None;
        let tc = entry::TraceCode {
            code,
            inner_entry: lowered.inner_entry,
            exit_links,
            links: RefCell::new(Vec::new()),
            _link_to: target,
        };
        Ok(Box::new(entry::NativeTrace {
            tc: Rc::new(tc),
            nsnaps: ir.snaps.len(),
            force_checks: opts.force_checks,
            listing,
        }))
    }
}
