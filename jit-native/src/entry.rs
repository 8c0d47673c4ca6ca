//! Running a compiled trace: the one call into generated code.
//!
//! This file and `code_memory.rs` are the only ones in the crate with `unsafe`.

use moonbox_engine::jit::CompiledTrace;
use moonbox_engine::value::Value;

use crate::code_memory::ExecutableCode;
use crate::TraceCtx;

/// The signature every trace has (`x64::lower`).
type TraceFn = unsafe extern "sysv64" fn(*mut TraceCtx, *mut Value) -> u32;

/// A trace's machine code and what calling it requires.
pub struct NativeTrace {
    pub(crate) code: ExecutableCode,
    /// Slots the code reads or writes (from the base): `0..nslots`.
    pub(crate) nslots: usize,
    /// Snapshots (exit numbers `0..nsnaps`); the code reads `force[0..nsnaps]` when
    /// compiled with force checks.
    pub(crate) nsnaps: usize,
    pub(crate) force_checks: bool,
    pub(crate) listing: Option<String>,
}

impl CompiledTrace for NativeTrace {
    fn run(&self, budget: &mut i64, slots: &mut [Value], force: &[u8]) -> u32 {
        // What the code touches must exist; otherwise the trace does not run, and the
        // interpreter goes on where the trace would have started.
        if slots.len() < self.nslots || (self.force_checks && force.len() < self.nsnaps) {
            return u32::MAX;
        }
        let Ok(entry) = self.code.entry_ptr(0) else { return u32::MAX };
        let mut ctx = TraceCtx { budget: *budget, force: force.as_ptr() };
        // SAFETY: `entry` is the start of code that `x64::lower` generated for this
        // trace, a complete `extern "sysv64" fn(*mut TraceCtx, *mut Value) -> u32` that
        // keeps the ABI (callee-saved registers restored, stack balanced and aligned),
        // made executable and not patched or freed while `self` is borrowed here. The
        // code reads and writes only `ctx`'s fields, its own stack frame, its constant
        // pool, `slots[0..nslots]` (checked above to be inside `slots`), and, compiled
        // with force checks, `force[0..nsnaps]` (checked above); it stores only
        // values of the types its guards checked, or numbers, so every slot holds a
        // valid `Value` afterwards. `Value` is `repr(transparent)` over `u64`.
        let exit = unsafe {
            let f: TraceFn = std::mem::transmute::<*const u8, TraceFn>(entry);
            f(&mut ctx, slots.as_mut_ptr())
        };
        *budget = ctx.budget;
        exit
    }

    fn code_size(&self) -> usize {
        self.code.len()
    }

    fn listing(&self) -> Option<String> {
        self.listing.clone()
    }
}
